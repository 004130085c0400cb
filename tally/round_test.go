package tally_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// ex3 is domain-rules Ex 3 counted: A–D elected, E and F tied at 26 for the
// last seat, G not elected; D = 40 from a members' congress.
func ex3(t testing.TB) (*tally.Contest, *tally.Result) {
	t.Helper()
	c := newContest(t, 5, 0, lettered(7), func(c *tally.Contest) {
		c.ID = "bch-p4-2025"
		c.Electorate = tally.Electorate{Congress: tally.CongressMembers, Convened: 43,
			Exclusions: tally.Exclusions{TemporaryElsewhere: 1, AbsentWithLeave: 2}}
		c.Percent = tally.PercentPolicy{Places: 3, Rounding: tally.RoundTruncate}
		c.Visibility = tally.VisibilityLive
		c.Composition = tally.CompositionPolicy{ReferenceDate: "2025-04-30", YoungUnder: 35, AgeBands: []int{35, 55}}
	})
	votes := map[string]int{"A": 35, "B": 33, "C": 30, "D": 28, "E": 26, "F": 26, "G": 19}
	return c, resultOf(t, c, strikeBallots(t, c, 40, votes))
}

// A tie at the cut-off leads to a re-vote among the tied for the seats they
// tied over: same D and policies, a strike ballot, id "<id>-r2".
func TestNextRoundRevote(t *testing.T) {
	c, res := ex3(t)
	orig := *c
	orig.Candidates = slices.Clone(c.Candidates)
	orig.Composition.AgeBands = slices.Clone(c.Composition.AgeBands)

	next, err := tally.NextRound(c, res)
	if err != nil {
		t.Fatalf("NextRound: %v", err)
	}
	if got, want := next.ID, "bch-p4-2025-r2"; got != want {
		t.Errorf("id = %q, want %q", got, want)
	}
	if got, want := next.Round, 2; got != want {
		t.Errorf("round = %d, want %d", got, want)
	}
	if got, want := next.Seats, 1; got != want {
		t.Errorf("seats = %d, want %d", got, want)
	}
	if got, want := next.Ballot, tally.StyleStrike; got != want {
		t.Errorf("ballot = %q, want %q", got, want)
	}
	if got, want := idsOf(next.Candidates), []string{"E", "F"}; !slices.Equal(got, want) {
		t.Errorf("candidates = %v, want %v", got, want)
	}
	if got, want := next.Denominator(), 40; got != want {
		t.Errorf("D = %d, want %d", got, want)
	}
	if !reflect.DeepEqual(next.Electorate, c.Electorate) || next.Percent != c.Percent || next.Visibility != c.Visibility ||
		!reflect.DeepEqual(next.Composition, c.Composition) || next.Kind != c.Kind || next.Title != c.Title {
		t.Errorf("policies not carried over:\n got %+v\nfrom %+v", next, c)
	}
	if err := next.Validate(); err != nil {
		t.Errorf("next round does not validate: %v", err)
	}
	// The closed round is untouched, and shares nothing the next may change.
	next.Composition.AgeBands[0] = 1
	next.Candidates[0].Name = "changed"
	if !reflect.DeepEqual(*c, orig) {
		t.Errorf("NextRound changed its input")
	}

	// The re-vote: 40 ballots, one strikes both (invalid), E 22 and F 17.
	ballots := strikeBallots(t, next, 39, map[string]int{"E": 22, "F": 17})
	ballots = append(ballots, tally.Ballot{ID: "both", Struck: []string{"E", "F"}})
	next.Candidates[0].Name = "Nguyễn Văn E"
	res2 := resultOf(t, next, ballots)
	if got, want := res2.Elected, []string{"E"}; !slices.Equal(got, want) {
		t.Errorf("re-vote elected = %v, want %v", got, want)
	}
	if got, want := res2.Ballots.InvalidByReason, map[string]int{"no_vote": 1}; !mapsEqual(got, want) {
		t.Errorf("invalid_by_reason = %v, want %v", got, want)
	}
	if got, want := candidateResult(t, res2, "E").Text, "55,000%"; got != want {
		t.Errorf("E: %q, want %q", got, want)
	}
	// Every seat is filled: no round 3.
	if _, err := tally.NextRound(next, res2); tally.ErrorKind(err) != tally.Conflict {
		t.Errorf("NextRound of a full round: err = %v, want a conflict", err)
	}
}

// Ex 3c: the re-vote leader is not over half; the seat stays open and a
// further round among the not elected follows, "-r3" not "-r2-r3".
func TestNextRoundAfterFailedRevote(t *testing.T) {
	c, res := ex3(t)
	r2, err := tally.NextRound(c, res)
	if err != nil {
		t.Fatal(err)
	}
	ballots := strikeBallots(t, r2, 39, map[string]int{"E": 20, "F": 19})
	ballots = append(ballots, tally.Ballot{ID: "both", Struck: []string{"E", "F"}})
	res2 := resultOf(t, r2, ballots)
	if got, want := [3]int{len(res2.Elected), len(res2.Tied), res2.Vacant}, [3]int{0, 0, 1}; got != want {
		t.Fatalf("elected, tied, vacant = %v, want %v", got, want)
	}
	r3, err := tally.NextRound(r2, res2)
	if err != nil {
		t.Fatalf("NextRound: %v", err)
	}
	if got, want := r3.ID, "bch-p4-2025-r3"; got != want {
		t.Errorf("id = %q, want %q", got, want)
	}
	if got, want := r3.Round, 3; got != want {
		t.Errorf("round = %d, want %d", got, want)
	}
	if got, want := idsOf(r3.Candidates), []string{"E", "F"}; !slices.Equal(got, want) {
		t.Errorf("candidates = %v, want %v", got, want)
	}
	if got, want := r3.Seats, 1; got != want {
		t.Errorf("seats = %d, want %d", got, want)
	}
}

// Ex 4: 13 of 15 elected; round 2 among the 5 not elected for 2 seats, D
// still 195; P and Q elected; then nothing is left to elect.
func TestNextRoundVacantSeatsEx4(t *testing.T) {
	c, res := ex4Round1(t)
	next, err := tally.NextRound(c, res)
	if err != nil {
		t.Fatalf("NextRound: %v", err)
	}
	if got, want := next.ID, "bch-2025-r2"; got != want {
		t.Errorf("id = %q, want %q", got, want)
	}
	if got, want := [3]int{next.Round, next.Seats, next.Denominator()}, [3]int{2, 2, 195}; got != want {
		t.Errorf("round, seats, D = %v, want %v", got, want)
	}
	if got, want := next.Ballot, tally.StyleStrike; got != want {
		t.Errorf("ballot = %q, want %q", got, want)
	}
	if got, want := next.Kind, tally.KindCommittee; got != want {
		t.Errorf("kind = %q, want %q", got, want)
	}
	// The five not elected, in ballot order (the round-1 order is kept).
	var wantIDs []string
	for _, cd := range c.Candidates {
		if slices.Contains([]string{"k14", "k15", "k16", "k17", "k18"}, cd.ID) {
			wantIDs = append(wantIDs, cd.ID)
		}
	}
	if got := idsOf(next.Candidates); !slices.Equal(got, wantIDs) {
		t.Errorf("candidates = %v, want %v", got, wantIDs)
	}
	// Round 2: valid 190; P 120 (61,54%), Q 101 (51,79%), R 70, S 50, T 30.
	votes := map[string]int{"k14": 120, "k15": 101, "k16": 70, "k17": 50, "k18": 30}
	res2 := resultOf(t, next, strikeBallots(t, next, 190, votes))
	if got, want := res2.Elected, []string{"k14", "k15"}; !slices.Equal(got, want) {
		t.Errorf("elected = %v, want %v", got, want)
	}
	if got, want := res2.Threshold, 98; got != want {
		t.Errorf("threshold = %d, want %d", got, want)
	}
	for id, want := range map[string]string{"k14": "61,54%", "k15": "51,79%"} {
		if got := candidateResult(t, res2, id).Text; got != want {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
	_, err = tally.NextRound(next, res2)
	if got, want := tally.ErrorKind(err), tally.Conflict; got != want {
		t.Errorf("NextRound of a full round: kind %q (%v), want %q", got, err, want)
	}
}

// When the names left are no more than the seats, the next round uses an
// approve ballot: Ex 6 (Z alone for 1 seat) and Ex 5b (a single candidate).
func TestNextRoundApproveBallot(t *testing.T) {
	t.Run("Ex 6", func(t *testing.T) {
		c := newContest(t, 3, 15, []tally.Candidate{cand("X", "Lê Văn X"), cand("Y", "Lê Văn Y"), cand("Z", "Lê Văn Z")},
			func(c *tally.Contest) { c.ID = "ubkt"; c.Kind = tally.KindInspectionCommittee })
		res := resultOf(t, c, approveBallots(15, map[string]int{"X": 13, "Y": 9, "Z": 7}, map[string]int{"X": 1, "Y": 5, "Z": 7}))
		next, err := tally.NextRound(c, res)
		if err != nil {
			t.Fatalf("NextRound: %v", err)
		}
		if got, want := idsOf(next.Candidates), []string{"Z"}; !slices.Equal(got, want) {
			t.Errorf("candidates = %v, want %v", got, want)
		}
		if got, want := [2]any{next.Seats, next.Ballot}, [2]any{1, tally.StyleApprove}; got != want {
			t.Errorf("seats, ballot = %v, want %v", got, want)
		}
		if got, want := next.ID, "ubkt-r2"; got != want {
			t.Errorf("id = %q, want %q", got, want)
		}
	})
	t.Run("Ex 5b", func(t *testing.T) {
		c := newContest(t, 1, 21, []tally.Candidate{cand("A", "Nguyễn Văn An")}, func(c *tally.Contest) {
			c.ID = "bi-thu"
			c.Kind = tally.KindSecretary
		})
		res := resultOf(t, c, approveBallots(20, map[string]int{"A": 10}, map[string]int{"A": 10}))
		if got, want := res.Vacant, 1; got != want {
			t.Fatalf("vacant = %d, want %d", got, want)
		}
		next, err := tally.NextRound(c, res)
		if err != nil {
			t.Fatalf("NextRound: %v", err)
		}
		if got, want := [4]any{next.ID, next.Round, next.Seats, next.Ballot}, [4]any{"bi-thu-r2", 2, 1, tally.StyleApprove}; got != want {
			t.Errorf("id, round, seats, ballot = %v, want %v", got, want)
		}
	})
}

func TestNextRoundRefused(t *testing.T) {
	t.Run("every seat filled", func(t *testing.T) {
		c := mustParseContest(t, designContest)
		res := resultOf(t, c, designBallots(t, c))
		next, err := tally.NextRound(c, res)
		if err == nil {
			t.Fatalf("NextRound of a full round = %+v", next)
		}
		if got, want := tally.ErrorKind(err), tally.Conflict; got != want {
			t.Errorf("kind = %q, want %q", got, want)
		}
	})
	t.Run("seats vacant but everyone elected", func(t *testing.T) {
		// An approve list shorter than the seats: both elected, 1 vacant,
		// nobody left to vote on until the congress adds names.
		c := newContest(t, 3, 10, lettered(2), nil)
		res := resultOf(t, c, approveBallots(10, map[string]int{"A": 10, "B": 10}, nil))
		if got, want := res.Vacant, 1; got != want {
			t.Fatalf("vacant = %d, want %d", got, want)
		}
		// Without names added there is nobody to vote on: the refusal
		// names "add", which is what the congress must give (B5).
		_, err := tally.NextRound(c, res)
		if got, want := tally.ErrorKind(err), tally.Invalid; got != want {
			t.Errorf("kind = %q (%v), want %q", got, err, want)
		}
		if got, want := problemFields(err), []string{"add"}; !slices.Equal(got, want) {
			t.Errorf("fields = %v, want %v", got, want)
		}
	})
}

// The round suffix is replaced, never stacked.
func TestNextRoundIDs(t *testing.T) {
	for _, tt := range []struct {
		id    string
		round int
		want  string
	}{
		{"bch", 1, "bch-r2"},
		{"bch-r2", 2, "bch-r3"},
		{"bch-r9", 9, "bch-r10"},
		{"bch-r10", 10, "bch-r11"},
		{"bch-2025", 1, "bch-2025-r2"},
		{"bchr2", 1, "bchr2-r2"},
	} {
		c := newContest(t, 1, 10, lettered(2), func(c *tally.Contest) { c.ID, c.Round = tt.id, tt.round })
		res := resultOf(t, c, strikeBallots(t, c, 10, map[string]int{"A": 5, "B": 5})) // nobody over half
		next, err := tally.NextRound(c, res)
		if err != nil {
			t.Fatalf("%s: NextRound: %v", tt.id, err)
		}
		if got := next.ID; got != tt.want {
			t.Errorf("NextRound of %q (round %d): id %q, want %q", tt.id, tt.round, got, tt.want)
		}
		if got, want := next.Round, tt.round+1; got != want {
			t.Errorf("round = %d, want %d", got, want)
		}
	}
}
