package tally_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// propertySeed fixes the random contests; every failure names it and the
// case, and case i is rebuilt from rand.NewPCG(propertySeed, i) alone.
const propertySeed uint64 = 0x6b69656d70686965

// Two thousand random contests and ballots, each counted three ways (as
// given, ballots shuffled, candidates typed in another order), checked
// against the rules and against an independent recount.
func TestPropertiesRandomContests(t *testing.T) {
	cases := 2000
	if testing.Short() {
		cases = 300
	}
	for i := range cases {
		rng := rand.New(rand.NewPCG(propertySeed, uint64(i)))
		cands, contest, ballots := randomElection(t, rng)
		desc := func() string {
			return fmt.Sprintf("seed %#x, case %d: %s %s, %d candidates, %d seats, D=%d, %d ballots",
				propertySeed, i, contest.Kind, contest.Ballot, len(cands), contest.Seats, contest.Denominator(), len(ballots))
		}
		res := resultOf(t, contest, ballots)
		checkResult(t, contest, ballots, res)
		if t.Failed() {
			t.Fatalf("%s", desc())
		}
		want := marshalResult(t, res)

		// The ballots in another order.
		shuffled := slices.Clone(ballots)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := marshalResult(t, resultOf(t, contest, shuffled)); got != want {
			t.Fatalf("%s: result changes when the ballots are shuffled:\n got %s\nwant %s", desc(), got, want)
		}

		// The candidates typed in another order: the ballot order, and so
		// the result, is the same.
		perm := slices.Clone(cands)
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		other := *contest
		other.Candidates = perm
		other.Normalize()
		if err := other.Validate(); err != nil {
			t.Fatalf("%s: permuted contest: %v", desc(), err)
		}
		tally.SortBallotOrder(other.Candidates)
		if got, want := idsOf(other.Candidates), idsOf(contest.Candidates); !slices.Equal(got, want) {
			t.Fatalf("%s: ballot order depends on input order: %v vs %v", desc(), got, want)
		}
		if got := marshalResult(t, resultOf(t, &other, ballots)); got != want {
			t.Fatalf("%s: result changes with the candidates' input order:\n got %s\nwant %s", desc(), got, want)
		}
	}
}

func marshalResult(t testing.TB, r *tally.Result) string {
	t.Helper()
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// Syllables for random names: few enough that given names, family names
// and whole names collide.
var (
	families = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Đỗ", "Đinh", "Dương", "Ngô", "Bùi", "Hồ"}
	middles  = []string{"", "Văn", "Thị", "Đức", "Thị Thu", "Ngọc"}
	givens   = []string{"An", "Anh", "Ánh", "Ân", "Bình", "Dung", "Đức", "Hà", "Hải", "Ôn", "Ơn", "Ưng", "Uyên"}
)

// randomElection returns a validated contest in ballot order, its
// candidates in the order they were typed, and random ballots, some invalid.
func randomElection(t testing.TB, rng *rand.Rand) ([]tally.Candidate, *tally.Contest, []tally.Ballot) {
	t.Helper()
	c := &tally.Contest{
		ID:          fmt.Sprintf("p%d", rng.IntN(1000)),
		Title:       "Bầu ngẫu nhiên",
		Kind:        tally.KindDelegates,
		Round:       1 + rng.IntN(3),
		Percent:     tally.PercentPolicy{Places: rng.IntN(5), Rounding: []tally.Rounding{tally.RoundHalfUp, tally.RoundTruncate}[rng.IntN(2)]},
		Visibility:  tally.VisibilityCertified,
		Composition: tally.CompositionPolicy{YoungUnder: 30 + rng.IntN(20), AgeBands: []int{40, 50}},
	}
	if rng.IntN(2) == 0 {
		c.Composition.ReferenceDate = "2025-04-30"
	}
	var n int
	if rng.IntN(5) < 3 {
		c.Ballot = tally.StyleStrike
		n = 2 + rng.IntN(11)
		if rng.IntN(10) == 0 {
			n = 2 + rng.IntN(40)
		}
		c.Seats = 1 + rng.IntN(n-1)
	} else {
		c.Ballot = tally.StyleApprove
		n = 1 + rng.IntN(8)
		c.Seats = n
		if rng.IntN(4) == 0 {
			c.Seats += 1 + rng.IntN(2)
		}
	}
	switch k := rng.IntN(4); {
	case k == 0 && c.Ballot == tally.StyleStrike && n-c.Seats <= tally.SurplusLimit(c.Seats):
		c.Kind = tally.KindCommittee
	case k == 1:
		c.Kind = tally.KindOther
	case k == 2 && c.Round > 1:
		c.Kind = tally.KindStandingCommittee // no surplus rule after round 1
	}
	// The electorate: small D, so that ties and exact halves are common.
	convened := 1 + rng.IntN(40)
	switch rng.IntN(10) {
	case 0:
		convened = 1 + rng.IntN(400)
	case 1, 2, 3:
		convened = 1 + rng.IntN(8) // tiny: equal counts everywhere
	}
	take := func() int { // an exclusion that leaves at least one
		if convened <= 1 || rng.IntN(3) > 0 {
			return 0
		}
		x := rng.IntN(max(1, convened/4))
		convened -= x
		return x
	}
	e := tally.Electorate{Convened: convened}
	switch rng.IntN(3) {
	case 0:
		e.Congress = tally.CongressMembers
		e.Exclusions = tally.Exclusions{TemporaryElsewhere: take(), ExemptAbsent: take(), SuspendedOrDetained: take(), AbsentWithLeave: take()}
	case 1:
		e.Congress = tally.CongressDelegates
		e.Exclusions = tally.Exclusions{CommitteeAbsent: take(), DelegatesAbsentUnreplaced: take()}
	default:
		e.Congress = tally.CongressBody
	}
	// take() lowered convened to D; add the exclusions back.
	ex := e.Exclusions
	e.Convened = convened + ex.TemporaryElsewhere + ex.ExemptAbsent + ex.SuspendedOrDetained + ex.AbsentWithLeave + ex.CommitteeAbsent + ex.DelegatesAbsentUnreplaced
	c.Electorate = e
	d := convened

	cands := make([]tally.Candidate, n)
	for i := range cands {
		name := families[rng.IntN(len(families))] + " " + middles[rng.IntN(len(middles))] + " " + givens[rng.IntN(len(givens))]
		cd := tally.Candidate{ID: fmt.Sprintf("c%d", i), Name: name}
		if rng.IntN(4) > 0 {
			cd.Gender = []tally.Gender{tally.GenderMale, tally.GenderFemale}[rng.IntN(2)]
		}
		if rng.IntN(4) > 0 {
			cd.BirthDate = fmt.Sprintf("%d-%02d-%02d", 1955+rng.IntN(50), 1+rng.IntN(12), 1+rng.IntN(28))
		}
		if rng.IntN(4) > 0 {
			v := rng.IntN(5) == 0
			cd.EthnicMinority = &v
		}
		if rng.IntN(4) > 0 {
			v := rng.IntN(2) == 0
			cd.Incumbent = &v
		}
		cands[i] = cd
	}
	c.Candidates = slices.Clone(cands)
	c.Normalize()
	if err := c.Validate(); err != nil {
		t.Fatalf("seed %#x: random contest does not validate: %v", propertySeed, err)
	}
	tally.SortBallotOrder(c.Candidates)

	// Ballots: each candidate has a popularity; some contests have blocs of
	// equal popularity, which makes ties at the cut-off likely. Turnout is
	// mostly high, so that candidates pass the threshold.
	// About as many favourites as seats are popular; the rest are not.
	favourites := max(0, c.Seats+rng.IntN(3)-1)
	pop := make([]float64, n)
	for i := range pop {
		switch {
		case i > 0 && rng.IntN(3) == 0:
			pop[i] = pop[i-1]
		case rng.IntN(n) < favourites:
			pop[i] = 0.7 + 0.3*rng.Float64()
		default:
			pop[i] = 0.6 * rng.Float64()
		}
	}
	noise := 0.5 * rng.Float64() // how much the voters disagree
	tieMode := c.Ballot == tally.StyleStrike && c.Seats >= 2 && c.Seats+1 < n && rng.IntN(2) == 0
	if tieMode {
		// A contest for ties: seats + 1 or + 2 equal favourites and
		// nobody else, split at random among the ballots.
		f := c.Seats + 1 + rng.IntN(min(2, n-c.Seats-1))
		for i := range pop {
			pop[i] = 0
			if i < f {
				pop[i] = 1
			}
		}
		noise = 0.01
	}
	voters := d - rng.IntN(d/5+1)
	switch {
	case tieMode:
		voters = d
	case rng.IntN(5) == 0:
		voters = rng.IntN(d + 1)
	}
	ballots := make([]tally.Ballot, voters)
	for k := range ballots {
		b := tally.Ballot{ID: fmt.Sprintf("b%d", k)}
		switch r := rng.IntN(100); {
		case r < 5:
			b.Invalid = []tally.Reason{tally.ReasonNotIssued, tally.ReasonWriteIn, tally.ReasonIdentifyingMark, tally.ReasonOther}[rng.IntN(4)]
			if b.Invalid == tally.ReasonOther {
				b.Note = "rách"
			}
		case c.Ballot == tally.StyleStrike:
			// Keep the k names that rank highest on popularity × chance;
			// mostly a valid number of them, sometimes any number.
			keep := c.Seats
			switch rng.IntN(10) {
			case 0:
				keep = rng.IntN(n + 1)
			case 1, 2:
				keep -= rng.IntN(c.Seats)
			}
			order := make([]int, n)
			score := make([]float64, n)
			for i := range order {
				order[i], score[i] = i, pop[i]+noise*rng.Float64()
			}
			slices.SortFunc(order, func(a, b int) int {
				switch {
				case score[a] > score[b]:
					return -1
				case score[a] < score[b]:
					return 1
				}
				return a - b
			})
			b.Struck = []string{}
			for _, i := range order[keep:] {
				b.Struck = append(b.Struck, cands[i].ID)
			}
			rng.Shuffle(len(b.Struck), func(i, j int) { b.Struck[i], b.Struck[j] = b.Struck[j], b.Struck[i] })
		default:
			b.Marks = map[string]tally.Mark{}
			for i, cd := range cands {
				switch x := rng.Float64(); {
				case x < pop[i]*0.95:
					b.Marks[cd.ID] = tally.MarkAgree
				case x < 0.96:
					b.Marks[cd.ID] = tally.MarkDisagree
				case x < 0.98:
					b.Marks[cd.ID] = tally.MarkBoth
				case rng.IntN(2) == 0:
					b.Marks[cd.ID] = tally.MarkNone
				}
			}
		}
		ballots[k] = b
	}
	return cands, c, ballots
}

// checkResult checks a result against the rules and against a recount of
// the raw ballots done here from scratch.
func checkResult(t testing.TB, c *tally.Contest, ballots []tally.Ballot, res *tally.Result) {
	t.Helper()
	n, d := len(c.Candidates), c.Denominator()

	// The recount: validity and votes by id, straight from the ballots.
	valid, invalid := 0, map[string]int{}
	votes, agree, disagree := map[string]int{}, map[string]int{}, map[string]int{}
	for _, b := range ballots {
		reason := tally.Valid
		switch {
		case b.Invalid != tally.Valid:
			reason = b.Invalid
		case c.Ballot == tally.StyleStrike:
			switch kept := n - len(b.Struck); {
			case kept == 0:
				reason = tally.ReasonNoVote
			case kept > c.Seats:
				reason = tally.ReasonOverVote
			}
		default:
			agreed := 0
			for _, m := range b.Marks {
				if m == tally.MarkAgree {
					agreed++
				}
			}
			if m := b.Marks[c.Candidates[0].ID]; n == 1 && m != tally.MarkAgree && m != tally.MarkDisagree {
				reason = tally.ReasonAmbiguousSingle
			} else if agreed > c.Seats {
				reason = tally.ReasonOverVote
			} else if n > 1 && agreed == 0 {
				reason = tally.ReasonNoVote // 244 Điều 17.2: a multi-name ballot for nobody
			}
		}
		if reason != tally.Valid {
			invalid[reason.String()]++
			continue
		}
		valid++
		if c.Ballot == tally.StyleStrike {
			struck := map[string]bool{}
			for _, id := range b.Struck {
				struck[id] = true
			}
			for _, cd := range c.Candidates {
				if !struck[cd.ID] {
					votes[cd.ID]++
				}
			}
			continue
		}
		for id, m := range b.Marks {
			switch m {
			case tally.MarkAgree:
				agree[id]++
				votes[id]++
			case tally.MarkDisagree:
				disagree[id]++
			}
		}
	}

	bc := res.Ballots
	if bc.Total != len(ballots) || bc.Valid != valid || bc.Valid+bc.Invalid != bc.Total {
		t.Errorf("ballots %+v; want total %d, valid %d", bc, len(ballots), valid)
	}
	if !mapsEqual(bc.InvalidByReason, invalid) {
		t.Errorf("invalid_by_reason = %v, want %v", bc.InvalidByReason, invalid)
	}
	if res.Denominator != d || res.Threshold != tally.Threshold(d) || res.Seats != c.Seats || res.Contest != c.ID || res.Round != c.Round {
		t.Errorf("header %s/%d seats %d D %d threshold %d; want %s/%d seats %d D %d", res.Contest, res.Round, res.Seats, res.Denominator, res.Threshold, c.ID, c.Round, c.Seats, d)
	}
	if len(res.Candidates) != n {
		t.Fatalf("%d candidate rows for %d candidates", len(res.Candidates), n)
	}

	vs := make([]int, n)
	sum := 0
	index := map[string]int{}
	for i, cr := range res.Candidates {
		index[cr.ID] = i
		vs[i] = cr.Votes
		sum += cr.Votes
		if cr.ID != c.Candidates[i].ID || cr.Name != c.Candidates[i].Name {
			t.Errorf("row %d is %s %q, want %s %q: not in ballot order", i, cr.ID, cr.Name, c.Candidates[i].ID, c.Candidates[i].Name)
		}
		if cr.Votes != votes[cr.ID] {
			t.Errorf("%s: %d votes, recount says %d", cr.ID, cr.Votes, votes[cr.ID])
		}
		if cr.Votes > valid {
			t.Errorf("%s: %d votes from %d valid ballots", cr.ID, cr.Votes, valid)
		}
		if cr.OverHalf != (2*cr.Votes > d) {
			t.Errorf("%s: over_half %v with %d votes of D=%d", cr.ID, cr.OverHalf, cr.Votes, d)
		}
		truncate := c.Percent.Rounding == tally.RoundTruncate
		if p := refPercent(int64(cr.Votes), int64(d), c.Percent.Places, truncate); cr.Percent != p || cr.Text != refText(p) {
			t.Errorf("%s: percent %q / %q, want %q", cr.ID, cr.Percent, cr.Text, p)
		}
		if c.Ballot == tally.StyleApprove {
			if cr.Agree == nil || cr.Disagree == nil || cr.Unmarked == nil {
				t.Fatalf("%s: approve counts missing", cr.ID)
			}
			if *cr.Agree+*cr.Disagree+*cr.Unmarked != valid || *cr.Unmarked < 0 {
				t.Errorf("%s: agree %d + disagree %d + unmarked %d ≠ valid %d", cr.ID, *cr.Agree, *cr.Disagree, *cr.Unmarked, valid)
			}
			if *cr.Agree != agree[cr.ID] || *cr.Disagree != disagree[cr.ID] || cr.Votes != *cr.Agree {
				t.Errorf("%s: agree %d disagree %d votes %d; recount says %d, %d", cr.ID, *cr.Agree, *cr.Disagree, cr.Votes, agree[cr.ID], disagree[cr.ID])
			}
		} else if cr.Agree != nil || cr.Disagree != nil || cr.Unmarked != nil {
			t.Errorf("%s: approve counts on a strike contest", cr.ID)
		}
	}
	if sum > valid*c.Seats {
		t.Errorf("Σ votes %d > valid %d × seats %d", sum, valid, c.Seats)
	}

	// The decision, read back from the result, keeps every invariant, and
	// is Decide's.
	dec := tally.Decision{Status: make([]tally.Status, n), Elected: []int{}, Tied: []int{}, RevoteSeats: res.RevoteSeats, Vacant: res.Vacant}
	for i, cr := range res.Candidates {
		dec.Status[i] = cr.Status
	}
	for _, id := range res.Elected {
		i, ok := index[id]
		if !ok {
			t.Fatalf("elected %q is not a candidate", id)
		}
		dec.Elected = append(dec.Elected, i)
	}
	for _, id := range res.Tied {
		i, ok := index[id]
		if !ok {
			t.Fatalf("tied %q is not a candidate", id)
		}
		dec.Tied = append(dec.Tied, i)
	}
	checkDecision(t, c.Seats, d, vs, dec)
	want := tally.Decide(c.Seats, d, vs)
	if !slices.Equal(dec.Elected, want.Elected) || !slices.Equal(dec.Tied, want.Tied) || dec.RevoteSeats != want.RevoteSeats || dec.Vacant != want.Vacant {
		t.Errorf("result's decision %+v differs from Decide's %+v", dec, want)
	}

	// The composition covers exactly the elected.
	comp := res.Composition
	if len(res.Elected) == 0 {
		if comp != nil {
			t.Errorf("composition with nobody elected")
		}
		return
	}
	if comp == nil {
		t.Fatalf("no composition for %d elected", len(res.Elected))
	}
	e := len(res.Elected)
	if comp.Elected != e {
		t.Errorf("composition of %d, %d elected", comp.Elected, e)
	}
	for name, s := range map[string]tally.Share{"women": comp.Women, "ethnic_minority": comp.EthnicMinority, "incumbent": comp.Incumbent} {
		if s.Count < 0 || s.Unknown < 0 || s.Count+s.Unknown > e {
			t.Errorf("%s: count %d + unknown %d of %d elected", name, s.Count, s.Unknown, e)
		}
	}
	if (c.Composition.ReferenceDate == "") != (comp.Young == nil) || (comp.Young == nil) != (comp.AgeBands == nil) {
		t.Errorf("reference date %q, young %v, age bands %v", c.Composition.ReferenceDate, comp.Young, comp.AgeBands)
	}
	if comp.AgeBands != nil {
		total := 0
		for _, b := range comp.AgeBands {
			total += b.Count
		}
		if total != e {
			t.Errorf("age bands add up to %d of %d elected", total, e)
		}
	}
}
