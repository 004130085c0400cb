package tally_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// domain-rules §5.1 and Ex 8: elected means 2·votes > D, decided on integers.
func TestThresholdAndOverHalf(t *testing.T) {
	tests := []struct {
		d, votes  int
		threshold int
		over      bool
		text      string
	}{
		{d: 20, votes: 10, threshold: 11, over: false, text: "50,00%"}, // exactly half
		{d: 20, votes: 11, threshold: 11, over: true, text: "55,00%"},
		{d: 21, votes: 10, threshold: 11, over: false, text: "47,62%"}, // Ex 1: F
		{d: 21, votes: 11, threshold: 11, over: true, text: "52,38%"},  // Ex 1: E
		{d: 301, votes: 151, threshold: 151, over: true, text: "50,17%"},
		{d: 301, votes: 150, threshold: 151, over: false, text: "49,83%"},
		{d: 195, votes: 98, threshold: 98, over: true, text: "50,26%"}, // Ex 4
		{d: 195, votes: 97, threshold: 98, over: false, text: "49,74%"},
		{d: 20001, votes: 10001, threshold: 10001, over: true, text: "50,00%"}, // shows 50,00% yet elected
		{d: 20001, votes: 10000, threshold: 10001, over: false, text: "50,00%"},
		{d: 1, votes: 1, threshold: 1, over: true, text: "100,00%"},
		{d: 1, votes: 0, threshold: 1, over: false, text: "0,00%"},
		{d: 2, votes: 1, threshold: 2, over: false, text: "50,00%"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("D=%d/votes=%d", tt.d, tt.votes), func(t *testing.T) {
			if got, want := tally.Threshold(tt.d), tt.threshold; got != want {
				t.Errorf("Threshold(%d) = %d, want %d", tt.d, got, want)
			}
			if got, want := tally.OverHalf(tt.votes, tt.d), tt.over; got != want {
				t.Errorf("OverHalf(%d, %d) = %v, want %v", tt.votes, tt.d, got, want)
			}
			// The same through a whole count: a single candidate on an
			// approve ballot, votes "agree" ballots out of D.
			c := newContest(t, 1, tt.d, lettered(1), nil)
			ballots := approveBallots(tt.d, map[string]int{"A": tt.votes}, map[string]int{"A": tt.d - tt.votes})
			res := resultOf(t, c, ballots)
			cr := candidateResult(t, res, "A")
			if got, want := res.Threshold, tt.threshold; got != want {
				t.Errorf("result threshold = %d, want %d", got, want)
			}
			if got, want := cr.Votes, tt.votes; got != want {
				t.Errorf("votes = %d, want %d", got, want)
			}
			if got, want := cr.OverHalf, tt.over; got != want {
				t.Errorf("over_half = %v, want %v", got, want)
			}
			if got, want := cr.Text, tt.text; got != want {
				t.Errorf("percent_text = %q, want %q", got, want)
			}
			wantStatus, wantElected, wantVacant := tally.StatusNotElected, []string{}, 1
			if tt.over {
				wantStatus, wantElected, wantVacant = tally.StatusElected, []string{"A"}, 0
			}
			if got, want := cr.Status, wantStatus; got != want {
				t.Errorf("status = %q, want %q", got, want)
			}
			if got, want := res.Elected, wantElected; !slices.Equal(got, want) {
				t.Errorf("elected = %v, want %v", got, want)
			}
			if got, want := res.Vacant, wantVacant; got != want {
				t.Errorf("vacant = %d, want %d", got, want)
			}
		})
	}
}

func TestThresholdIsLeastOverHalf(t *testing.T) {
	for d := 1; d <= 5000; d++ {
		th := tally.Threshold(d)
		if !tally.OverHalf(th, d) || tally.OverHalf(th-1, d) {
			t.Fatalf("D=%d: threshold %d is not the least v with 2v > D", d, th)
		}
		if d%2 == 0 && tally.OverHalf(d/2, d) {
			t.Fatalf("D=%d: exactly half (%d) counted as over half", d, d/2)
		}
	}
}

func TestPercentOf(t *testing.T) {
	tests := []struct {
		n, d     int
		places   int
		rounding tally.Rounding
		percent  string
		text     string
	}{
		{5, 41, 2, tally.RoundHalfUp, "12.20", "12,20%"},
		{5, 41, 2, tally.RoundTruncate, "12.19", "12,19%"},
		{17, 21, 2, tally.RoundHalfUp, "80.95", "80,95%"},
		{17, 21, 0, tally.RoundHalfUp, "81", "81%"},
		{17, 21, 1, tally.RoundHalfUp, "81.0", "81,0%"},
		{17, 21, 3, tally.RoundHalfUp, "80.952", "80,952%"},
		{17, 21, 4, tally.RoundHalfUp, "80.9524", "80,9524%"},
		{17, 21, 0, tally.RoundTruncate, "80", "80%"},
		{17, 21, 1, tally.RoundTruncate, "80.9", "80,9%"},
		{17, 21, 2, tally.RoundTruncate, "80.95", "80,95%"},
		{17, 21, 3, tally.RoundTruncate, "80.952", "80,952%"},
		{17, 21, 4, tally.RoundTruncate, "80.9523", "80,9523%"},
		{22566, 100000, 2, tally.RoundHalfUp, "22.57", "22,57%"}, // the state-election rule's example
		{22566, 100000, 2, tally.RoundTruncate, "22.56", "22,56%"},
		{1, 8, 0, tally.RoundHalfUp, "13", "13%"}, // 12.5: half goes up
		{1, 8, 0, tally.RoundTruncate, "12", "12%"},
		{1, 16, 1, tally.RoundHalfUp, "6.3", "6,3%"}, // 6.25
		{10001, 20001, 2, tally.RoundHalfUp, "50.00", "50,00%"},
		{0, 7, 2, tally.RoundHalfUp, "0.00", "0,00%"},
		{0, 7, 0, tally.RoundTruncate, "0", "0%"},
		{7, 7, 2, tally.RoundHalfUp, "100.00", "100,00%"},
		{7, 7, 4, tally.RoundTruncate, "100.0000", "100,0000%"},
		{2, 3, 2, tally.RoundHalfUp, "66.67", "66,67%"},
		{2, 3, 2, tally.RoundTruncate, "66.66", "66,66%"},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%d/%d,%d,%s", tt.n, tt.d, tt.places, tt.rounding)
		t.Run(name, func(t *testing.T) {
			got := tally.PercentPolicy{Places: tt.places, Rounding: tt.rounding}.Of(tt.n, tt.d)
			if got, want := got.Percent, tt.percent; got != want {
				t.Errorf("percent = %q, want %q", got, want)
			}
			if got, want := got.Text, tt.text; got != want {
				t.Errorf("percent_text = %q, want %q", got, want)
			}
		})
	}
}

// PercentPolicy.Of against an independent pure-integer implementation.
func TestPercentOfMatchesIntegerArithmetic(t *testing.T) {
	const seed = 20251121
	rng := rand.New(rand.NewPCG(seed, 1))
	n := 4000
	if testing.Short() {
		n = 500
	}
	for i := range n {
		// Denominators of every magnitude a congress has, and beyond.
		d := int64(1 + rng.IntN([]int{10, 100, 1000, 100000, 10000000}[i%5]))
		v := rng.Int64N(d + 1)
		if i%7 == 0 {
			v = d / 2 // exact halves and their neighbours are where rounding goes wrong
			v += rng.Int64N(3) - 1
			v = max(0, min(d, v))
		}
		for places := 0; places <= 4; places++ {
			for _, r := range []tally.Rounding{tally.RoundHalfUp, tally.RoundTruncate} {
				got := tally.PercentPolicy{Places: places, Rounding: r}.Of(int(v), int(d))
				want := refPercent(v, d, places, r == tally.RoundTruncate)
				if got.Percent != want || got.Text != refText(want) {
					t.Fatalf("seed %d: Of(%d, %d) places %d %s = %+v, want %q / %q", seed, v, d, places, r, got, want, refText(want))
				}
				if strings.Contains(got.Text, ".") || strings.Contains(got.Percent, ",") || !strings.HasSuffix(got.Text, "%") {
					t.Fatalf("Of(%d, %d): separators wrong in %+v", v, d, got)
				}
			}
		}
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name        string
		seats, d    int
		votes       []int
		elected     []int
		tied        []int
		revoteSeats int
		vacant      int
	}{
		{
			name:  "Ex 3: tie at the cut-off",
			seats: 5, d: 40, votes: []int{35, 33, 30, 28, 26, 26, 19},
			elected: []int{0, 1, 2, 3}, tied: []int{4, 5}, revoteSeats: 1,
		},
		{
			name:  "Ex 3 re-vote: E 22, F 17",
			seats: 1, d: 40, votes: []int{22, 17},
			elected: []int{0}, tied: []int{},
		},
		{
			name:  "Ex 3b: re-vote ties again below the threshold",
			seats: 1, d: 40, votes: []int{19, 19},
			elected: []int{}, tied: []int{}, vacant: 1,
		},
		{
			name:  "Ex 3c: leader not over half of D",
			seats: 1, d: 40, votes: []int{20, 19},
			elected: []int{}, tied: []int{}, vacant: 1,
		},
		{
			name:  "Ex 2: more passers than seats",
			seats: 3, d: 30, votes: []int{25, 22, 20, 18},
			elected: []int{0, 1, 2}, tied: []int{},
		},
		{
			name:  "Ex 6: too few passers",
			seats: 3, d: 15, votes: []int{13, 9, 7},
			elected: []int{0, 1}, tied: []int{}, vacant: 1,
		},
		{
			name:  "Ex 4 round 1: 13 of 15",
			seats: 15, d: 195,
			votes:   []int{180, 175, 170, 166, 160, 155, 150, 140, 132, 120, 110, 104, 98, 97, 90, 75, 60, 41},
			elected: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, tied: []int{}, vacant: 2,
		},
		{
			name:  "Ex 9: 9 of 10 delegates",
			seats: 10, d: 150,
			votes:   []int{140, 135, 130, 128, 120, 110, 100, 95, 80, 70, 66, 40},
			elected: []int{0, 1, 2, 3, 4, 5, 6, 7, 8}, tied: []int{}, vacant: 1,
		},
		{
			name:  "nobody passes",
			seats: 2, d: 10, votes: []int{5, 5, 5},
			elected: []int{}, tied: []int{}, vacant: 2,
		},
		{
			name:  "tie that fits exactly: two tied at the last two seats",
			seats: 3, d: 20, votes: []int{15, 12, 12, 11},
			elected: []int{0, 1, 2}, tied: []int{},
		},
		{
			name:  "all tied and all fit",
			seats: 3, d: 20, votes: []int{12, 12, 12},
			elected: []int{0, 1, 2}, tied: []int{},
		},
		{
			name:  "tie below the threshold is irrelevant",
			seats: 3, d: 20, votes: []int{15, 14, 9, 9, 9},
			elected: []int{0, 1}, tied: []int{}, vacant: 1,
		},
		{
			name:  "tie below the cut is irrelevant",
			seats: 2, d: 20, votes: []int{15, 14, 12, 12},
			elected: []int{0, 1}, tied: []int{},
		},
		{
			name:  "tie at the only seat",
			seats: 1, d: 10, votes: []int{8, 8, 2},
			elected: []int{}, tied: []int{0, 1}, revoteSeats: 1,
		},
		{
			name:  "three tied for two seats",
			seats: 3, d: 20, votes: []int{20, 15, 3, 15, 15},
			elected: []int{0}, tied: []int{1, 3, 4}, revoteSeats: 2,
		},
		{
			name:  "tied group straddles the cut, in ballot order",
			seats: 4, d: 20, votes: []int{11, 18, 11, 11, 17, 2},
			elected: []int{1, 4}, tied: []int{0, 2, 3}, revoteSeats: 2,
		},
		{
			name:  "elected by votes descending, equal votes in ballot order",
			seats: 4, d: 10, votes: []int{6, 9, 6, 9, 2},
			elected: []int{1, 3, 0, 2}, tied: []int{},
		},
		{
			name:  "elected order with a non-passer in between",
			seats: 3, d: 11, votes: []int{7, 3, 10, 7, 5},
			elected: []int{2, 0, 3}, tied: []int{},
		},
		{
			name:  "no candidates",
			seats: 2, d: 10, votes: []int{},
			elected: []int{}, tied: []int{}, vacant: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := tally.Decide(tt.seats, tt.d, tt.votes)
			if got, want := dec.Elected, tt.elected; !slices.Equal(got, want) {
				t.Errorf("elected = %v, want %v", got, want)
			}
			if got, want := dec.Tied, tt.tied; !slices.Equal(got, want) {
				t.Errorf("tied = %v, want %v", got, want)
			}
			if got, want := dec.RevoteSeats, tt.revoteSeats; got != want {
				t.Errorf("revote seats = %d, want %d", got, want)
			}
			if got, want := dec.Vacant, tt.vacant; got != want {
				t.Errorf("vacant = %d, want %d", got, want)
			}
			if dec.Elected == nil || dec.Tied == nil {
				t.Errorf("Elected and Tied must be empty, not nil (they marshal as [])")
			}
			want := make([]tally.Status, len(tt.votes))
			for i := range want {
				want[i] = tally.StatusNotElected
			}
			for _, i := range tt.elected {
				want[i] = tally.StatusElected
			}
			for _, i := range tt.tied {
				want[i] = tally.StatusTie
			}
			if got := dec.Status; !slices.Equal(got, want) {
				t.Errorf("status = %v, want %v", got, want)
			}
			checkDecision(t, tt.seats, tt.d, tt.votes, dec)
		})
	}
}

// Ex 3 through ballots: the result says who is elected, who ties and how
// many seats the re-vote decides.
func TestResultTieAtCutOff(t *testing.T) {
	c := newContest(t, 5, 40, lettered(7), nil)
	votes := map[string]int{"A": 35, "B": 33, "C": 30, "D": 28, "E": 26, "F": 26, "G": 19}
	res := resultOf(t, c, strikeBallots(t, c, 40, votes))
	if got, want := res.Elected, []string{"A", "B", "C", "D"}; !slices.Equal(got, want) {
		t.Errorf("elected = %v, want %v", got, want)
	}
	if got, want := res.Tied, []string{"E", "F"}; !slices.Equal(got, want) {
		t.Errorf("tied = %v, want %v", got, want)
	}
	if got, want := res.RevoteSeats, 1; got != want {
		t.Errorf("revote_seats = %d, want %d", got, want)
	}
	if got, want := res.Vacant, 0; got != want {
		t.Errorf("vacant = %d, want %d", got, want)
	}
	for _, tt := range []struct {
		id     string
		status tally.Status
		text   string
	}{
		{"A", tally.StatusElected, "87,50%"},
		{"D", tally.StatusElected, "70,00%"},
		{"E", tally.StatusTie, "65,00%"},
		{"F", tally.StatusTie, "65,00%"},
		{"G", tally.StatusNotElected, "47,50%"},
	} {
		cr := candidateResult(t, res, tt.id)
		if got, want := cr.Status, tt.status; got != want {
			t.Errorf("%s: status = %q, want %q", tt.id, got, want)
		}
		if got, want := cr.Text, tt.text; got != want {
			t.Errorf("%s: percent_text = %q, want %q", tt.id, got, want)
		}
	}
}

// checkDecision asserts the invariants every decision keeps (also used by
// the property and fuzz tests).
func checkDecision(t testing.TB, seats, d int, votes []int, dec tally.Decision) {
	t.Helper()
	if len(dec.Status) != len(votes) {
		t.Fatalf("%d statuses for %d candidates", len(dec.Status), len(votes))
	}
	if len(dec.Elected) > seats {
		t.Errorf("%d elected for %d seats", len(dec.Elected), seats)
	}
	if got := len(dec.Elected) + dec.RevoteSeats + dec.Vacant; got != seats {
		t.Errorf("elected %d + revote %d + vacant %d = %d, want the %d seats", len(dec.Elected), dec.RevoteSeats, dec.Vacant, got, seats)
	}
	in := map[int]tally.Status{}
	minElected := -1
	for k, i := range dec.Elected {
		if i < 0 || i >= len(votes) {
			t.Fatalf("elected index %d out of range", i)
		}
		if _, dup := in[i]; dup {
			t.Errorf("candidate %d listed twice", i)
		}
		in[i] = tally.StatusElected
		if !tally.OverHalf(votes[i], d) {
			t.Errorf("candidate %d elected with %d votes of D=%d", i, votes[i], d)
		}
		if k > 0 {
			p := dec.Elected[k-1]
			if votes[p] < votes[i] || votes[p] == votes[i] && p > i {
				t.Errorf("elected out of order: %d (%d votes) before %d (%d votes)", p, votes[p], i, votes[i])
			}
		}
		minElected = votes[i]
	}
	for k, i := range dec.Tied {
		if i < 0 || i >= len(votes) {
			t.Fatalf("tied index %d out of range", i)
		}
		if _, dup := in[i]; dup {
			t.Errorf("candidate %d listed twice", i)
		}
		in[i] = tally.StatusTie
		if !tally.OverHalf(votes[i], d) {
			t.Errorf("tied candidate %d has %d votes, not over half of D=%d", i, votes[i], d)
		}
		if votes[i] != votes[dec.Tied[0]] {
			t.Errorf("tied candidates have different votes: %d and %d", votes[i], votes[dec.Tied[0]])
		}
		if k > 0 && dec.Tied[k-1] >= i {
			t.Errorf("tied not in ballot order: %v", dec.Tied)
		}
		if minElected >= 0 && votes[i] >= minElected {
			t.Errorf("tied candidate %d (%d votes) not below every elected (%d)", i, votes[i], minElected)
		}
	}
	switch {
	case len(dec.Tied) > 0:
		if dec.RevoteSeats < 1 || dec.RevoteSeats >= len(dec.Tied) {
			t.Errorf("%d tied for %d re-vote seats: a tie that fits is no tie", len(dec.Tied), dec.RevoteSeats)
		}
		if dec.Vacant != 0 {
			t.Errorf("a tie and %d vacant seats at once", dec.Vacant)
		}
	case dec.RevoteSeats != 0:
		t.Errorf("revote seats %d without a tie", dec.RevoteSeats)
	}
	passers := 0
	for i, v := range votes {
		if tally.OverHalf(v, d) {
			passers++
		}
		want, ok := in[i]
		if !ok {
			want = tally.StatusNotElected
			// Nobody left out has as many votes as someone elected or tied.
			if minElected >= 0 && v >= minElected {
				t.Errorf("candidate %d has %d votes, not elected, yet %d votes elect", i, v, minElected)
			}
			if len(dec.Tied) > 0 && v >= votes[dec.Tied[0]] {
				t.Errorf("candidate %d has %d votes, not tied, yet %d votes tie", i, v, votes[dec.Tied[0]])
			}
		}
		if dec.Status[i] != want {
			t.Errorf("candidate %d: status %q, want %q", i, dec.Status[i], want)
		}
	}
	if dec.Vacant > 0 && passers != len(dec.Elected) {
		t.Errorf("%d seats vacant though %d passed and %d are elected", dec.Vacant, passers, len(dec.Elected))
	}
	if dec.Vacant == 0 && len(dec.Tied) == 0 && len(dec.Elected) != seats {
		t.Errorf("no vacancy and no tie, yet %d elected for %d seats", len(dec.Elected), seats)
	}
}
