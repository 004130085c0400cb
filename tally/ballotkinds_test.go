package tally_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// opinionContest is an opinion ballot on n lettered nominees with present
// of those convened present.
func opinionContest(t testing.TB, n, convened, present int) *tally.Contest {
	t.Helper()
	return newContest(t, n, convened, lettered(n), func(c *tally.Contest) {
		c.Kind, c.Ballot = tally.KindOpinion, tally.StyleApprove
		c.Electorate.Present = present
	})
}

// introductionContest is an introduction ballot for seats places among n
// lettered members of a body of d.
func introductionContest(t testing.TB, seats, n, d int) *tally.Contest {
	t.Helper()
	return newContest(t, seats, d, lettered(n), func(c *tally.Contest) {
		c.Kind, c.Ballot = tally.KindIntroduction, tally.StyleName
	})
}

func TestOpinionThreshold(t *testing.T) {
	// 10·v > 3·present, brute force against the closed form.
	for present := 1; present <= 2000; present++ {
		want := 0
		for 10*want <= 3*present {
			want++
		}
		if got := tally.OpinionThreshold(present); got != want {
			t.Fatalf("OpinionThreshold(%d) = %d, want %d", present, got, want)
		}
	}
	for _, tc := range []struct {
		agree, present int
		want           bool
	}{
		{36, 120, false}, // Ex 10: exactly 30% is not "more than 30%"
		{37, 120, true},  // 30,83%
		{3, 10, false},
		{4, 10, true},
		{0, 1, false},
		{1, 1, true},
	} {
		if got := tally.Admitted(tc.agree, tc.present); got != tc.want {
			t.Errorf("Admitted(%d, %d) = %v, want %v", tc.agree, tc.present, got, tc.want)
		}
	}
}

func TestOpinionResult(t *testing.T) {
	// Ex 10 on 3 nominees: the base is those present (120), not D (125).
	c := opinionContest(t, 3, 125, 120)
	ballots := approveBallots(120, map[string]int{"A": 36, "B": 37, "C": 90}, map[string]int{"A": 80, "B": 83, "C": 30})
	// A ballot that says không đồng ý to every nominee is a valid opinion.
	ballots = append(ballots, tally.Ballot{ID: "all-no", Marks: map[string]tally.Mark{"A": tally.MarkDisagree, "B": tally.MarkDisagree, "C": tally.MarkDisagree}})
	// One that agrees to all three is no over-vote.
	ballots = append(ballots, tally.Ballot{ID: "all-yes", Marks: map[string]tally.Mark{"A": tally.MarkAgree, "B": tally.MarkAgree, "C": tally.MarkAgree}})
	r := resultOf(t, c, ballots)
	if r.Denominator != 120 || r.Threshold != 37 {
		t.Errorf("denominator %d, threshold %d; want 120 and 37", r.Denominator, r.Threshold)
	}
	if r.Ballots.Invalid != 0 || r.Ballots.Valid != 122 {
		t.Errorf("ballots %+v: every opinion ballot above is valid", r.Ballots)
	}
	want := map[string]struct {
		votes  int
		status tally.Status
	}{"A": {37, tally.StatusAdmitted}, "B": {38, tally.StatusAdmitted}, "C": {91, tally.StatusAdmitted}}
	for id, w := range want {
		cr := candidateResult(t, r, id)
		if cr.Votes != w.votes || cr.Status != w.status {
			t.Errorf("%s: %d votes %s, want %d %s", id, cr.Votes, cr.Status, w.votes, w.status)
		}
	}
	if !slices.Equal(r.Elected, []string{"C", "B", "A"}) {
		t.Errorf("elected %v, want the admitted by votes [C B A]", r.Elected)
	}
	if r.Composition != nil {
		t.Errorf("an opinion ballot elects nobody: composition %+v, want none", r.Composition)
	}
	// Without the two extra ballots A has 36 of 120: not admitted.
	r = resultOf(t, c, ballots[:120])
	if cr := candidateResult(t, r, "A"); cr.Status != tally.StatusNotAdmitted || cr.Percent != "30.00" {
		t.Errorf("A with 36 of 120: %s %s, want not_admitted 30.00", cr.Status, cr.Percent)
	}
}

func TestOpinionSingleNominee(t *testing.T) {
	// One nominee: one box exactly, as any single-name approve ballot.
	c := opinionContest(t, 1, 20, 18)
	r := resultOf(t, c, []tally.Ballot{
		{ID: "1", Marks: map[string]tally.Mark{"A": tally.MarkAgree}},
		{ID: "2", Marks: map[string]tally.Mark{"A": tally.MarkBoth}},
		{ID: "3", Marks: map[string]tally.Mark{}},
	})
	if got := r.Ballots.InvalidByReason["ambiguous_single"]; got != 2 {
		t.Errorf("ambiguous_single %d, want 2", got)
	}
}

func TestDecideIntroduction(t *testing.T) {
	tests := []struct {
		name    string
		seats   int
		votes   []int
		elected []int
		tied    []int
		revote  int
		vacant  int
	}{
		{"clear top", 1, []int{4, 2, 1, 0}, []int{0}, nil, 0, 0},
		{"by votes, not ballot order", 2, []int{1, 5, 3, 0}, []int{1, 2}, nil, 0, 0},
		{"tie at the cut-off", 2, []int{7, 4, 4, 2}, []int{0}, []int{1, 2}, 1, 0},
		{"tie for the only place", 1, []int{3, 3, 1}, nil, []int{0, 1}, 1, 0},
		{"tie that fits", 2, []int{5, 5, 1}, []int{0, 1}, nil, 0, 0},
		{"no vote never introduced", 3, []int{4, 0, 2, 0}, []int{0, 2}, nil, 0, 1},
		{"nobody named", 1, []int{0, 0}, nil, nil, 0, 1},
		{"over half is not needed", 1, []int{1, 0, 0}, []int{0}, nil, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dec := tally.DecideIntroduction(tc.seats, tc.votes)
			if !slices.Equal(dec.Elected, orEmpty(tc.elected)) || !slices.Equal(dec.Tied, orEmpty(tc.tied)) ||
				dec.RevoteSeats != tc.revote || dec.Vacant != tc.vacant {
				t.Fatalf("DecideIntroduction(%d, %v) = elected %v tied %v revote %d vacant %d; want %v %v %d %d",
					tc.seats, tc.votes, dec.Elected, dec.Tied, dec.RevoteSeats, dec.Vacant, tc.elected, tc.tied, tc.revote, tc.vacant)
			}
			for i, s := range dec.Status {
				want := tally.StatusNotIntroduced
				switch {
				case slices.Contains(tc.elected, i):
					want = tally.StatusIntroduced
				case slices.Contains(tc.tied, i):
					want = tally.StatusTie
				}
				if s != want {
					t.Errorf("status[%d] = %s, want %s", i, s, want)
				}
			}
		})
	}
}

func orEmpty(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

func TestIntroductionBallots(t *testing.T) {
	c := introductionContest(t, 2, 4, 9)
	tests := []struct {
		named []string
		want  tally.Reason
	}{
		{[]string{"A"}, tally.Valid},
		{[]string{"B", "A"}, tally.Valid},
		{[]string{"A", "B", "C"}, tally.ReasonOverVote},
		{[]string{}, tally.ReasonNoVote},
	}
	index := c.Index()
	for _, tc := range tests {
		m, err := c.Mark(tally.Ballot{ID: "b", Named: tc.named}, index)
		if err != nil {
			t.Fatalf("Mark(named %v): %v", tc.named, err)
		}
		if got := c.Classify(m); got != tc.want {
			t.Errorf("named %v: %v, want %v", tc.named, got, tc.want)
		}
	}
	r := resultOf(t, c, []tally.Ballot{
		{ID: "1", Named: []string{"A", "B"}}, {ID: "2", Named: []string{"A"}}, {ID: "3", Named: []string{"C", "A"}},
		{ID: "4", Named: []string{}}, {ID: "5", Invalid: tally.ReasonWriteIn},
	})
	if r.Ballots.Valid != 3 || r.Ballots.InvalidByReason["no_vote"] != 1 || r.Ballots.InvalidByReason["write_in"] != 1 {
		t.Errorf("ballots %+v", r.Ballots)
	}
	if !slices.Equal(r.Elected, []string{"A"}) || !slices.Equal(r.Tied, []string{"B", "C"}) || r.RevoteSeats != 1 {
		t.Errorf("elected %v tied %v revote %d; want [A] [B C] 1", r.Elected, r.Tied, r.RevoteSeats)
	}
	// D is the electorate's; 3 of 9 is introduced without being over half.
	if a := candidateResult(t, r, "A"); r.Denominator != 9 || a.Votes != 3 || a.OverHalf || a.Percent != "33.33" {
		t.Errorf("D %d, A %+v; want D 9, A 3 votes, 33.33, not over half", r.Denominator, a)
	}
	if r.Composition != nil {
		t.Errorf("an introduction ballot elects nobody: composition %+v", r.Composition)
	}
	if _, err := tally.NextRound(c, r); tally.ErrorKind(err) != tally.Conflict {
		t.Errorf("NextRound of an introduction ballot: %v, want a conflict", err)
	}
}

func TestNamedBallotRefusals(t *testing.T) {
	intro := introductionContest(t, 2, 3, 9)
	strike := newContest(t, 2, 9, lettered(3), nil)
	tests := []struct {
		name    string
		contest *tally.Contest
		line    string
		field   string
	}{
		{"named and struck", intro, `{"id":"b","named":["A"],"struck":[]}`, "named"},
		{"named and marks", intro, `{"id":"b","named":["A"],"marks":{}}`, "named"},
		{"invalid with named", intro, `{"id":"b","named":["A"],"invalid":"write_in"}`, "invalid"},
		{"unknown named", intro, `{"id":"b","named":["A","Q"]}`, "named[1]"},
		{"named twice", intro, `{"id":"b","named":["B","A","B"]}`, "named[2]"},
		{"struck on an introduction", intro, `{"id":"b","struck":["A"]}`, "struck"},
		{"named on a strike ballot", strike, `{"id":"b","named":["A"]}`, "named"},
		{"named as a string", intro, `{"id":"b","named":"A"}`, "named"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tally.ParseBallot([]byte(tc.line))
			if err == nil {
				_, err = tc.contest.Mark(b, tc.contest.Index())
			}
			if err == nil {
				t.Fatalf("%s accepted", tc.line)
			}
			if got := problemFields(err); !slices.Contains(got, tc.field) {
				t.Errorf("%s: fields %v, want %q (%v)", tc.line, got, tc.field, err)
			}
			// The decoder refuses the same lines.
			if _, _, err := tally.NewBallotDecoder(tc.contest).Decode([]byte(tc.line)); err == nil {
				t.Errorf("BallotDecoder accepted %s", tc.line)
			}
		})
	}
}

func TestNamedCanonicalAndCounters(t *testing.T) {
	c := introductionContest(t, 2, 3, 9)
	b := tally.Ballot{ID: "b1", Named: []string{"C", "A"}}
	got, _ := json.Marshal(b)
	if string(got) != `{"id":"b1","named":["C","A"]}` {
		t.Errorf("canonical %s", got)
	}
	empty, _ := json.Marshal(tally.Ballot{ID: "b2", Named: []string{}})
	if string(empty) != `{"id":"b2","named":[]}` {
		t.Errorf("an empty named list must survive (no_vote): %s", empty)
	}
	back, err := tally.ParseBallot(empty)
	if err != nil || back.Named == nil {
		t.Errorf("round trip of %s: %+v, %v", empty, back, err)
	}
	// The verified body puts the named in ballot order.
	body, err := c.Body(tally.Ballot{Named: []string{"C", "A"}}, 1, 1, c.Index())
	if err != nil || !slices.Equal(body.Named, []string{"A", "C"}) {
		t.Errorf("Body: %+v, %v", body, err)
	}
	// Counters rebuild the same count.
	ballots := []tally.Ballot{b, {ID: "b2", Named: []string{}}, {ID: "b3", Named: []string{"B"}}}
	count := countAll(t, c, ballots)
	back2, err := tally.CountFromCounters(c, count.Counters())
	if err != nil {
		t.Fatal(err)
	}
	assertJSONEqual(t, back2.Result(), string(mustMarshal(t, count.Result())))
	m, _ := c.Mark(b, c.Index())
	_, keys := c.Effect(m)
	if !slices.Contains(keys, "named:A") || !slices.Contains(keys, "named:C") {
		t.Errorf("Effect keys %v", keys)
	}
	if _, err := tally.CountFromCounters(c, map[string]int64{"total": 1, "valid": 1, "struck:A": 1}); err == nil {
		t.Error("a struck counter on an introduction contest was accepted")
	}
}

func TestBallotKindValidation(t *testing.T) {
	base := func(kind tally.ContestKind, style tally.BallotStyle, seats, n, present int) map[string]any {
		cands := make([]map[string]any, n)
		for i := range cands {
			cands[i] = map[string]any{"id": fmt.Sprint("c", i+1), "name": fmt.Sprint("Nguyễn Văn ", string(rune('A'+i)))}
		}
		e := map[string]any{"congress": "delegates", "convened": 100}
		if present != 0 {
			e["present"] = present
		}
		return map[string]any{"id": "x", "title": "T", "kind": kind, "seats": seats, "ballot": style,
			"electorate": e, "candidates": cands}
	}
	tests := []struct {
		name  string
		m     map[string]any
		field string // "" when accepted
	}{
		{"opinion", base(tally.KindOpinion, tally.StyleApprove, 2, 2, 90), ""},
		{"opinion without present", base(tally.KindOpinion, tally.StyleApprove, 2, 2, 0), "electorate.present"},
		{"opinion present over convened", base(tally.KindOpinion, tally.StyleApprove, 2, 2, 101), "electorate.present"},
		{"opinion negative present", base(tally.KindOpinion, tally.StyleApprove, 2, 2, -1), "electorate.present"},
		{"opinion seats not the nominees", base(tally.KindOpinion, tally.StyleApprove, 3, 2, 90), "seats"},
		{"opinion on a strike ballot", base(tally.KindOpinion, tally.StyleStrike, 1, 2, 90), "ballot"},
		{"introduction", base(tally.KindIntroduction, tally.StyleName, 1, 9, 0), ""},
		{"introduction naming all", base(tally.KindIntroduction, tally.StyleName, 3, 3, 0), ""},
		{"introduction on a strike ballot", base(tally.KindIntroduction, tally.StyleStrike, 1, 9, 0), "ballot"},
		{"introduction seats over the body", base(tally.KindIntroduction, tally.StyleName, 4, 3, 0), "seats"},
		{"introduction with present", base(tally.KindIntroduction, tally.StyleName, 1, 3, 50), "electorate.present"},
		{"election with present", base(tally.KindDelegates, tally.StyleStrike, 1, 3, 50), "electorate.present"},
		{"election on a name ballot", base(tally.KindDelegates, tally.StyleName, 1, 3, 0), "ballot"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tally.ParseContest(mustMarshal(t, tc.m))
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field != "" && !slices.Contains(problemFields(err), tc.field):
				t.Fatalf("error %v; want a problem on %q", err, tc.field)
			}
		})
	}
	// D of an opinion ballot is those present.
	c := mustParseContestMap(t, base(tally.KindOpinion, tally.StyleApprove, 2, 2, 90))
	if c.Denominator() != 90 {
		t.Errorf("D = %d, want the 90 present", c.Denominator())
	}
	if tally.KindOpinion.Elects() || tally.KindIntroduction.Elects() || !tally.KindCommittee.Elects() {
		t.Error("Elects: opinion and introduction elect nobody; a committee does")
	}
	if !strings.Contains(tally.KindIntroduction.StatusVietnamese(tally.StatusTie), "quyết định") {
		t.Error("an introduction tie is decided by the congress, not re-voted")
	}
}

// Opinion and introduction ballots are not elections: the roll-up leaves
// them out, even certified.
func TestRollupLeavesOutBallotKinds(t *testing.T) {
	rounds := []tally.RollupRound{rollupRound(t, "a", "bch", 1, 3, 3, tally.StateCertified, halfUp2)}
	for _, k := range []tally.ContestKind{tally.KindOpinion, tally.KindIntroduction} {
		rr := rollupRound(t, "a", string(k), 1, 3, 3, tally.StateCertified, halfUp2)
		rr.Record.Contest.Kind = k
		rounds = append(rounds, rr)
	}
	cg := &tally.CongressRecord{ID: "a", Organization: "Đảng bộ A", Name: "Đại hội", Term: "2025–2030"}
	r, err := tally.ComputeRollup(tally.RollupInput{Organization: "Đảng bộ A", Term: "2025–2030", Congresses: []*tally.CongressRecord{cg}, Rounds: rounds})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r.Congresses[0].Elections); n != 1 || r.Congresses[0].Elections[0].ID != "bch" {
		t.Errorf("elections %+v; want only bch", r.Congresses[0].Elections)
	}
	if len(r.Totals) != 1 || r.Totals[0].Kind != tally.KindCommittee || r.Totals[0].Elected != 3 {
		t.Errorf("totals %+v; want the committee's alone", r.Totals)
	}
}
