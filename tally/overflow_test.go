package tally_test

import (
	"math"
	"slices"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Counts near the top of int must not wrap around: a validation that adds
// them up must still refuse too many, and a decision must still be right.
func TestNoOverflow(t *testing.T) {
	t.Run("exclusions that wrap around", func(t *testing.T) {
		m := contestMap(t)
		m["electorate"] = map[string]any{"congress": "members", "convened": 10,
			"exclusions": map[string]any{"temporary_elsewhere": math.MaxInt, "exempt_absent": math.MaxInt}}
		c, err := tally.ParseContest(mustMarshal(t, m))
		if err == nil {
			t.Fatalf("accepted, with D = %d of 10 convened", c.Denominator())
		}
		if got, want := problemFields(err), []string{"electorate.exclusions"}; !slices.Equal(got, want) {
			t.Errorf("fields = %q, want %q (%v)", got, want, err)
		}
	})
	t.Run("show of hands that wraps around", func(t *testing.T) {
		v := tally.ShowOfHands{Subject: tally.SubjectList, Contest: "bch", Present: 10, Approve: math.MaxInt, Disapprove: 1}
		if got, want := problemFields(v.Validate()), []string{"present"}; !slices.Equal(got, want) {
			t.Errorf("fields = %q, want %q", got, want)
		}
	})
	t.Run("huge show of hands", func(t *testing.T) {
		v := tally.ShowOfHands{Subject: tally.SubjectList, Contest: "bch", Present: math.MaxInt, Approve: math.MaxInt}
		if err := v.Validate(); err != nil {
			t.Fatal(err)
		}
		d := math.MaxInt
		r := v.Result(&d, defaultPercent)
		if r.Passed == nil || !*r.Passed || !r.Unanimous || r.ApproveShare.Percent != "100.00" {
			t.Errorf("everyone of %d approved: passed %v, unanimous %v, share %q", v.Present, r.Passed, r.Unanimous, r.ApproveShare.Percent)
		}
		v.Approve = math.MaxInt / 2 // exactly half, rounded down
		r = v.Result(&d, defaultPercent)
		if r.Passed == nil || *r.Passed || r.ApproveShare.Percent != "50.00" {
			t.Errorf("half of %d approved: passed %v, share %q", v.Present, r.Passed, r.ApproveShare.Percent)
		}
	})
	t.Run("OverHalf at the top of int", func(t *testing.T) {
		for _, tt := range []struct {
			votes, d int
			want     bool
		}{
			{math.MaxInt, math.MaxInt, true},
			{math.MaxInt/2 + 1, math.MaxInt, true},
			{math.MaxInt / 2, math.MaxInt, false},
			{math.MaxInt / 2, math.MaxInt - 1, false},
			{math.MaxInt/2 + 1, math.MaxInt - 1, true},
		} {
			if got := tally.OverHalf(tt.votes, tt.d); got != tt.want {
				t.Errorf("OverHalf(%d, %d) = %v, want %v", tt.votes, tt.d, got, tt.want)
			}
		}
		if got, want := tally.Threshold(math.MaxInt), math.MaxInt/2+1; got != want {
			t.Errorf("Threshold(MaxInt) = %d, want %d", got, want)
		}
	})
}
