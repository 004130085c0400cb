package tally_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// rollupRound is a round of a committee of seats, filed under congress,
// with the given state; a certified one elects the first elected names.
func rollupRound(t testing.TB, congress, id string, round, seats, elected int, state tally.State, percent tally.PercentPolicy) tally.RollupRound {
	t.Helper()
	c := &tally.Contest{ID: id, Title: "Bầu Ban Chấp hành", Kind: tally.KindCommittee, Round: round, Seats: seats,
		Percent: percent, Composition: tally.CompositionPolicy{ReferenceDate: "2025-04-30", YoungUnder: 40, AgeBands: []int{40, 50}}}
	res := &tally.Result{Contest: id, Round: round, Seats: seats, Elected: []string{}}
	for i := range seats + 1 {
		cand := tally.Candidate{ID: fmt.Sprintf("c%d", i+1), Name: fmt.Sprintf("Người %d", i+1), Gender: tally.GenderFemale, BirthDate: "1990-01-01"}
		if i%2 == 1 {
			cand.Gender, cand.BirthDate = tally.GenderMale, "1960-01-01"
		}
		c.Candidates = append(c.Candidates, cand)
		res.Candidates = append(res.Candidates, tally.CandidateResult{ID: cand.ID, Name: cand.Name})
		if i < elected {
			res.Elected = append(res.Elected, cand.ID)
		}
	}
	res.Vacant = seats - elected
	rec := &tally.Record{Contest: c, State: state, Congress: congress}
	if state == tally.StateCertified || state == tally.StateClosed {
		rec.Head = strings.Repeat(fmt.Sprintf("%x", len(id)%16), 64)
	}
	if state != tally.StateCertified {
		res = nil
	}
	return tally.RollupRound{Record: rec, Result: res}
}

var halfUp2 = tally.PercentPolicy{Places: 2, Rounding: tally.RoundHalfUp}

// TestTermKey: the ways people write one term are one term; other terms
// stay apart.
func TestTermKey(t *testing.T) {
	cases := []struct {
		a, b string
		same bool
	}{
		{"2025-2030", "2025–2030", true},
		{"2025 - 2030", "2025–2030", true},
		{"2025—2030", "2025 −2030", true},
		{"Nhiệm kỳ 2025–2030", "2025-2030", true},
		{" 2025 –  2030 ", "2025--2030", true},
		{"2020–2025", "2025–2030", false},
		{"2025–2030", "20252030", false},
		{"khóa XII", "Khóa  XII", true},
	}
	for _, tc := range cases {
		if got := tally.TermKey(tc.a) == tally.TermKey(tc.b); got != tc.same {
			t.Errorf("TermKey(%q) = %q, TermKey(%q) = %q: same = %v, want %v", tc.a, tally.TermKey(tc.a), tc.b, tally.TermKey(tc.b), got, tc.same)
		}
	}
}

func TestRollupRules(t *testing.T) {
	cg := func(id, org, sup, term string) *tally.CongressRecord {
		return &tally.CongressRecord{ID: id, Organization: org, Superior: sup, Name: "Đại hội " + org, Term: term}
	}
	congresses := []*tally.CongressRecord{
		cg("a", "Đảng bộ A", "", "2025–2030"),
		cg("b", "Chi bộ B", "đảng bộ  a", "2025-2030"), // matched after NFC, spaces and case; the term's dash typed as a hyphen
		cg("c", "Chi bộ C", "Chi bộ B", "nhiệm kỳ 2025 - 2030"),
		cg("loop", "Đảng bộ A", "Chi bộ C", "2025–2030"), // a cycle back to the root
		cg("old", "Chi bộ B", "Đảng bộ A", "2020–2025"),
	}
	linked := func(rr tally.RollupRound, prev, next string) tally.RollupRound {
		rr.Record.Previous, rr.Record.Next = prev, next
		return rr
	}
	failed := rollupRound(t, "b", "imp", 1, 3, 0, tally.StateOpen, halfUp2)
	failed.Record.Imported, failed.Record.ImportFailed = "2025-05-21T00:00:00Z", "entry 2 rebuilt here differs"
	truncate := tally.PercentPolicy{Places: 1, Rounding: tally.RoundTruncate}
	rounds := []tally.RollupRound{
		rollupRound(t, "a", "a1", 1, 3, 3, tally.StateCertified, halfUp2),
		linked(rollupRound(t, "b", "b1", 1, 3, 2, tally.StateCertified, halfUp2), "", "b1-r2"),
		linked(rollupRound(t, "b", "b1-r2", 2, 1, 1, tally.StateCertified, halfUp2), "b1", ""),
		linked(rollupRound(t, "c", "c1", 1, 3, 1, tally.StateCertified, truncate), "", "c1-r2"), // c1-r2 not here
		rollupRound(t, "c", "c2", 1, 3, 2, tally.StateCertified, halfUp2),                       // fell short
		rollupRound(t, "loop", "l1", 1, 3, 3, tally.StateClosed, halfUp2),                       // not counted
		failed,
		rollupRound(t, "old", "o1", 1, 3, 3, tally.StateCertified, halfUp2),
	}
	r, err := tally.ComputeRollup(tally.RollupInput{Organization: " đảng bộ a ", Term: "2025–2030", Congresses: congresses, Rounds: rounds})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	outcome := map[string]tally.ElectionOutcome{}
	for _, c := range r.Congresses {
		order = append(order, fmt.Sprintf("%s@%d", c.ID, c.Depth))
		for _, e := range c.Elections {
			outcome[e.ID] = e.Outcome
		}
	}
	if got, want := strings.Join(order, " "), "a@0 loop@0 b@1 c@2"; got != want {
		t.Errorf("tree %s, want %s (the old term left out, the cycle walked once)", got, want)
	}
	if r.Organization != "Đảng bộ A" {
		t.Errorf("organization %q", r.Organization)
	}
	for id, want := range map[string]tally.ElectionOutcome{"a1": tally.OutcomeFilledFirstRound, "b1": tally.OutcomeFilledLaterRound,
		"c1": tally.OutcomePending, "c2": tally.OutcomeFellShort, "l1": tally.OutcomePending} {
		if outcome[id] != want {
			t.Errorf("%s: %s, want %s", id, outcome[id], want)
		}
	}
	if _, ok := outcome["imp"]; ok {
		t.Error("a failed import is in the roll-up")
	}
	tot := r.Totals[0]
	// Five elections: a1, b1 (two rounds), c1 (its round 2 not here), c2, l1
	// (closed, not certified); the failed import is none of them.
	if tot.Elections != 5 || tot.FilledFirstRound != 1 || tot.FilledLaterRound != 1 || tot.FellShort != 1 || tot.Pending != 2 ||
		tot.Seats != 15 || tot.Elected != 3+3+1+2 || tot.Vacant != 1 || tot.Undecided != 2+3 || len(tot.Sources) != 5 {
		t.Errorf("totals %+v", tot)
	}
	// Elected: a1 3, b1 2+1, c1 1, c2 2 = 9; women are the odd places.
	comp := r.Composition[0]
	if !comp.Policy.Mixed || comp.Policy.Percent != halfUp2 || comp.Report.Elected != 9 {
		t.Errorf("composition policy %+v of %d", comp.Policy, comp.Report.Elected)
	}
	if w := comp.Report.Women; w.Count != 6 || w.Percent != "66.67" {
		t.Errorf("women %+v, want 6 of 9, 66.67", w)
	}
	if y := comp.Report.Young; y == nil || y.Count != 6 || comp.Report.AgeBands[2].Count != 3 {
		t.Errorf("young %+v, bands %+v", y, comp.Report.AgeBands)
	}
	if r.Counted != 5 || r.NotCertified != 1 {
		t.Errorf("counted %d, not certified %d", r.Counted, r.NotCertified)
	}
}

func TestRollupInputErrors(t *testing.T) {
	for _, tc := range []struct {
		org, term string
		kind      tally.Kind
		field     string
	}{
		{"", "", tally.Invalid, "organization"},
		{"   ", "", tally.Invalid, "organization"},
		{strings.Repeat("Đ", 301), "", tally.Invalid, "organization"},
		{"Đảng bộ A", strings.Repeat("x", 301), tally.Invalid, "term"},
		{"Đảng bộ Z", "", tally.NotFound, "organization"},
	} {
		_, err := tally.ComputeRollup(tally.RollupInput{Organization: tc.org, Term: tc.term,
			Congresses: []*tally.CongressRecord{{ID: "a", Organization: "Đảng bộ A", Name: "Đại hội"}}})
		p := tally.Problems(err)
		if len(p) != 1 || p[0].Kind != tc.kind || p[0].Field != tc.field {
			t.Errorf("%.20q %.20q: %v, want %s on %s", tc.org, tc.term, err, tc.kind, tc.field)
		}
	}
	// A certified round without its result is the caller's error, not a panic.
	rr := rollupRound(t, "a", "a1", 1, 3, 3, tally.StateCertified, halfUp2)
	rr.Result = nil
	if _, err := tally.ComputeRollup(tally.RollupInput{Organization: "Đảng bộ A", Rounds: []tally.RollupRound{rr},
		Congresses: []*tally.CongressRecord{{ID: "a", Organization: "Đảng bộ A", Name: "Đại hội"}}}); err == nil {
		t.Error("a certified round without a result was accepted")
	}
}

// BenchmarkRollup: a province of 1,000 congresses (a root, 40 districts, 959
// cells), each with a committee of 2 certified rounds.
//
//	go test -run='^$' -bench=Rollup -benchmem ./tally/
func BenchmarkRollup(b *testing.B) {
	in := tally.RollupInput{Organization: "Đảng bộ Tỉnh"}
	in.Congresses = append(in.Congresses, &tally.CongressRecord{ID: "root", Organization: "Đảng bộ Tỉnh", Name: "Đại hội"})
	for i := range 999 {
		org, sup := fmt.Sprintf("Đảng bộ Huyện %d", i), "Đảng bộ Tỉnh"
		if i >= 40 {
			org, sup = fmt.Sprintf("Chi bộ %d", i), fmt.Sprintf("Đảng bộ Huyện %d", i%40)
		}
		id := fmt.Sprintf("cg%d", i)
		in.Congresses = append(in.Congresses, &tally.CongressRecord{ID: id, Organization: org, Superior: sup, Name: "Đại hội " + org})
		r1 := rollupRound(b, id, id+"-bch", 1, 9, 8, tally.StateCertified, halfUp2)
		r2 := rollupRound(b, id, id+"-bch-r2", 2, 1, 1, tally.StateCertified, halfUp2)
		r1.Record.Next, r2.Record.Previous = r2.Record.Contest.ID, r1.Record.Contest.ID
		in.Rounds = append(in.Rounds, r1, r2)
	}
	b.ReportAllocs()
	for b.Loop() {
		r, err := tally.ComputeRollup(in)
		if err != nil || len(r.Congresses) != 1000 || r.Totals[0].FilledLaterRound != 999 {
			b.Fatalf("%v %+v", err, r.Totals)
		}
	}
}
