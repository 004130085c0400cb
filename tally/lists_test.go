package tally_test

import (
	"slices"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// B4 (audit case 20): the sole nominee for branch secretary fails (10 of
// D = 21); the congress adds a second name. The ballot is chosen after the
// addition: two names for one seat are a strike ballot, not a refused
// approve ballot.
func TestNextRoundWithAddChoosesTheBallotAfter(t *testing.T) {
	c := newContest(t, 1, 21, []tally.Candidate{cand("c1", "Nguyễn Văn An")}, func(c *tally.Contest) {
		c.ID, c.Kind = "bi-thu", tally.KindSecretary
	})
	res := resultOf(t, c, approveBallots(20, map[string]int{"c1": 10}, map[string]int{"c1": 10}))
	if res.Vacant != 1 {
		t.Fatalf("vacant = %d, want 1", res.Vacant)
	}
	next, err := tally.NextRoundWith(c, res, tally.ListEdit{Add: []tally.Candidate{{ID: "c2", Name: "Trần Thị  Bình", Nominated: tally.NominatedFloor}}})
	if err != nil {
		t.Fatalf("NextRoundWith: %v", err)
	}
	if got, want := [3]any{next.Seats, next.Ballot, next.Round}, [3]any{1, tally.StyleStrike, 2}; got != want {
		t.Errorf("seats, ballot, round = %v, want %v", got, want)
	}
	if got, want := idsOf(next.Candidates), []string{"c1", "c2"}; !slices.Equal(got, want) {
		t.Errorf("candidates = %v, want %v (ballot order: An before Bình)", got, want)
	}
	if got, want := next.Candidates[1].Name, "Trần Thị Bình"; got != want {
		t.Errorf("added name = %q, want it normalized to %q", got, want)
	}
	if got, want := next.Denominator(), 21; got != want {
		t.Errorf("D = %d, want the same %d", got, want)
	}
}

// B5 (audit case 21): 3 seats, 2 names, both elected, 1 vacant. A further
// round is made once a name is added: one name for one seat, approve.
func TestNextRoundWithAddWhenEveryoneWasElected(t *testing.T) {
	c := newContest(t, 3, 10, lettered(2), func(c *tally.Contest) { c.ID, c.Kind = "ubkt", tally.KindInspectionCommittee })
	res := resultOf(t, c, approveBallots(10, map[string]int{"A": 10, "B": 10}, nil))
	next, err := tally.NextRoundWith(c, res, tally.ListEdit{Add: []tally.Candidate{cand("C", "Nguyễn Văn C")}})
	if err != nil {
		t.Fatalf("NextRoundWith: %v", err)
	}
	if got, want := [3]any{next.Seats, next.Ballot, idsOf(next.Candidates)[0]}, [3]any{1, tally.StyleApprove, "C"}; got != want || len(next.Candidates) != 1 {
		t.Errorf("seats, ballot, candidate = %v (%d names), want %v", got, len(next.Candidates), want)
	}
}

func TestNextRoundWithWithdraw(t *testing.T) {
	t.Run("further round: the list and the ballot follow", func(t *testing.T) {
		// 2 seats, 4 names; A and B elected... only A passes: 1 vacant,
		// B, C, D carried. C withdraws: B and D for 1 seat, strike.
		c := newContest(t, 2, 10, lettered(4), nil)
		res := resultOf(t, c, strikeBallots(t, c, 10, map[string]int{"A": 8, "B": 5, "C": 4, "D": 3}))
		if res.Vacant != 1 {
			t.Fatalf("vacant = %d, want 1 (%+v)", res.Vacant, res)
		}
		next, err := tally.NextRoundWith(c, res, tally.ListEdit{Withdraw: []string{"C"}})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := idsOf(next.Candidates), []string{"B", "D"}; !slices.Equal(got, want) || next.Ballot != tally.StyleStrike {
			t.Errorf("candidates = %v (%s), want %v on a strike ballot", got, next.Ballot, want)
		}
		next, err = tally.NextRoundWith(c, res, tally.ListEdit{Withdraw: []string{"C", "D"}})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := idsOf(next.Candidates), []string{"B"}; !slices.Equal(got, want) || next.Ballot != tally.StyleApprove {
			t.Errorf("candidates = %v (%s), want %v on an approve ballot", got, next.Ballot, want)
		}
	})
	t.Run("re-vote: a tied candidate withdraws, no name is added", func(t *testing.T) {
		c, res := ex3(t) // E and F tied for 1 seat
		next, err := tally.NextRoundWith(c, res, tally.ListEdit{Withdraw: []string{"F"}})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := [3]any{idsOf(next.Candidates)[0], next.Seats, next.Ballot}, [3]any{"E", 1, tally.StyleApprove}; got != want || len(next.Candidates) != 1 {
			t.Errorf("candidate, seats, ballot = %v, want %v", got, want)
		}
	})
}

func TestNextRoundWithRefused(t *testing.T) {
	c, res := ex3(t) // a re-vote between E and F
	vc := newContest(t, 2, 10, lettered(4), nil)
	vres := resultOf(t, vc, strikeBallots(t, vc, 10, map[string]int{"A": 8, "B": 5, "C": 4, "D": 3}))
	for _, tt := range []struct {
		name   string
		c      *tally.Contest
		r      *tally.Result
		edit   tally.ListEdit
		fields []string
	}{
		{"add to a re-vote", c, res, tally.ListEdit{Add: []tally.Candidate{cand("H", "Nguyễn Văn H")}}, []string{"add"}},
		{"withdraw someone not tied", c, res, tally.ListEdit{Withdraw: []string{"A"}}, []string{"withdraw[0]"}},
		{"withdraw every tied", c, res, tally.ListEdit{Withdraw: []string{"E", "F"}}, []string{"withdraw"}},
		{"withdraw the elected", vc, vres, tally.ListEdit{Withdraw: []string{"B", "A"}}, []string{"withdraw[1]"}},
		{"withdraw twice", vc, vres, tally.ListEdit{Withdraw: []string{"B", "B"}}, []string{"withdraw[1]"}},
		{"withdraw unknown", vc, vres, tally.ListEdit{Withdraw: []string{"Z"}}, []string{"withdraw[0]"}},
		{"withdraw everyone, add nobody", vc, vres, tally.ListEdit{Withdraw: []string{"B", "C", "D"}}, []string{"add"}},
		{"add an id of the election", vc, vres, tally.ListEdit{Add: []tally.Candidate{cand("A", "Trùng Mã")}}, []string{"add[0].id"}},
		{"add without a name", vc, vres, tally.ListEdit{Add: []tally.Candidate{cand("E", "Nguyễn Văn E"), cand("F", " ")}}, []string{"add[1].name"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			next, err := tally.NextRoundWith(tt.c, tt.r, tt.edit)
			if err == nil {
				t.Fatalf("accepted: %+v", next)
			}
			if got := problemFields(err); !slices.Equal(got, tt.fields) {
				t.Errorf("fields = %v (%v), want %v", got, err, tt.fields)
			}
			if k := tally.ErrorKind(err); k != tally.Invalid {
				t.Errorf("kind = %s, want invalid", k)
			}
		})
	}
}

func TestWithdrawAndNominateOnADraft(t *testing.T) {
	// A committee of 5 seats from 6 names (surplus 1, the most a body of
	// 3–5 allows).
	c := newContest(t, 5, 25, lettered(6), func(c *tally.Contest) { c.Kind = tally.KindCommittee })

	t.Run("a withdrawal that breaks the surplus is refused", func(t *testing.T) {
		_, _, err := tally.WithdrawCandidate(c, "B")
		if got, want := problemFields(err), []string{"candidates"}; !slices.Equal(got, want) {
			t.Errorf("fields = %v (%v), want %v", got, err, want)
		}
	})
	t.Run("a nomination that breaks the surplus is refused", func(t *testing.T) {
		_, _, err := tally.NominateCandidate(c, cand("G", "Nguyễn Văn G"), tally.NominatedFloor)
		if got, want := problemFields(err), []string{"candidates"}; !slices.Equal(got, want) {
			t.Errorf("fields = %v (%v), want %v", got, err, want)
		}
	})
	t.Run("nominate then withdraw, 7 seats", func(t *testing.T) {
		// 7 seats allow a surplus of 2 (30% of 7, rounded down): 8 names
		// take a nominee, and that nominee may withdraw again.
		c7 := newContest(t, 7, 25, lettered(8), func(c *tally.Contest) { c.Kind = tally.KindCommittee })
		next, added, err := tally.NominateCandidate(c7, cand(" I ", "Nguyễn  Văn I"), tally.NominatedSelf)
		if err != nil {
			t.Fatal(err)
		}
		if added.ID != "I" || added.Name != "Nguyễn Văn I" || added.Nominated != tally.NominatedSelf {
			t.Errorf("added = %+v", added)
		}
		if next.Ballot != tally.StyleStrike || len(next.Candidates) != 9 || len(c7.Candidates) != 8 {
			t.Errorf("ballot %s, %d names (the original keeps %d)", next.Ballot, len(next.Candidates), len(c7.Candidates))
		}
		after, gone, err := tally.WithdrawCandidate(next, "I")
		if err != nil {
			t.Fatal(err)
		}
		if gone.ID != "I" || !slices.Equal(idsOf(after.Candidates), idsOf(c7.Candidates)) {
			t.Errorf("gone %+v, left %v", gone, idsOf(after.Candidates))
		}
		if _, _, err := tally.WithdrawCandidate(c7, "A"); err == nil {
			t.Error("7 names for 7 committee seats accepted")
		}
	})
	t.Run("a secretary list: two names become one, the ballot follows", func(t *testing.T) {
		s := newContest(t, 1, 21, lettered(2), func(c *tally.Contest) { c.Kind = tally.KindSecretary })
		next, gone, err := tally.WithdrawCandidate(s, "A")
		if err != nil {
			t.Fatal(err)
		}
		if gone.ID != "A" || next.Ballot != tally.StyleApprove || idsOf(next.Candidates)[0] != "B" || len(s.Candidates) != 2 {
			t.Errorf("gone %+v, next %s %v, original %d names", gone, next.Ballot, idsOf(next.Candidates), len(s.Candidates))
		}
	})
	for _, tt := range []struct {
		name   string
		err    func() error
		fields []string
	}{
		{"withdraw unknown", func() error { _, _, err := tally.WithdrawCandidate(c, "Z"); return err }, []string{"candidate"}},
		{"nominate with a taken id", func() error {
			_, _, err := tally.NominateCandidate(c, cand("A", "Nguyễn Văn G"), tally.NominatedFloor)
			return err
		}, []string{"candidate.id", "candidates"}},
		{"nominate without a name", func() error {
			_, _, err := tally.NominateCandidate(c, cand("G", ""), tally.NominatedFloor)
			return err
		}, []string{"candidate.name", "candidates"}},
		{"a nominee of an unknown source in the definition", func() error {
			bad := tally.Candidate{ID: "G", Name: "Nguyễn Văn G", Nominated: "cousin"}
			x := newContest(t, 2, 5, []tally.Candidate{cand("A", "Nguyễn Văn A")}, nil)
			x.Candidates = append(x.Candidates, bad)
			return x.Validate()
		}, []string{"candidates[1].nominated"}},
		{"nominate from nowhere", func() error {
			_, _, err := tally.NominateCandidate(c, cand("G", "Nguyễn Văn G"), "committee")
			return err
		}, []string{"source"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := problemFields(tt.err()); !slices.Equal(got, tt.fields) {
				t.Errorf("fields = %v, want %v", got, tt.fields)
			}
		})
	}
}

func TestNextCandidateID(t *testing.T) {
	c := newContest(t, 1, 5, []tally.Candidate{cand("c2", "Nguyễn Văn An"), cand("c3", "Trần Văn Bình")}, nil)
	if got, want := tally.NextCandidateID(c), "c4"; got != want {
		t.Errorf("NextCandidateID = %q, want %q", got, want)
	}
	if got, want := tally.NextCandidateID(c, "c4", "c1"), "c5"; got != want {
		t.Errorf("NextCandidateID with c4 withdrawn = %q, want %q", got, want)
	}
}
