package tally_test

import (
	"math"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

func TestFormatCount(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1.000"}, {20001, "20.001"}, {1234567, "1.234.567"},
		{-1500, "-1.500"}, {math.MaxInt64, "9.223.372.036.854.775.807"}, {math.MinInt64, "-9.223.372.036.854.775.808"}} {
		if got := tally.FormatCount(tt.n); got != tt.want {
			t.Errorf("FormatCount(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// The exclusion lines are exactly what Denominator subtracts: convened
// minus their counts is D, for each congress type.
func TestExclusionLinesAddUpToD(t *testing.T) {
	ex := tally.Exclusions{TemporaryElsewhere: 2, ExemptAbsent: 1, SuspendedOrDetained: 3, AbsentWithLeave: 4}
	dx := tally.Exclusions{CommitteeAbsent: 5, DelegatesAbsentUnreplaced: 6}
	for _, e := range []tally.Electorate{
		{Congress: tally.CongressMembers, Convened: 100, Exclusions: ex},
		{Congress: tally.CongressDelegates, Convened: 200, Exclusions: dx},
		{Congress: tally.CongressBody, Convened: 15},
	} {
		c := &tally.Contest{Electorate: e}
		d := e.Convened
		for _, x := range e.ExclusionLines() {
			if x.Vietnamese == "" || x.Field == "" {
				t.Errorf("%s: unnamed exclusion %+v", e.Congress, x)
			}
			d -= x.Count
		}
		if got := c.Denominator(); d != got {
			t.Errorf("%s: convened less the lines = %d, Denominator = %d", e.Congress, d, got)
		}
	}
}

func TestCompositionLines(t *testing.T) {
	cands := []tally.Candidate{
		{ID: "A", Name: "Nguyễn Văn A", Gender: tally.GenderFemale, BirthDate: "1990-01-01", EthnicMinority: yes(), Incumbent: no()},
		{ID: "B", Name: "Nguyễn Văn B", Gender: tally.GenderMale, BirthDate: "1960-01-01", EthnicMinority: no(), Incumbent: yes()},
		{ID: "C", Name: "Nguyễn Văn C"},
	}
	res := compositionOf(t, refApril2025, defaultPercent, cands, "A", "B", "C")
	var labels []string
	for _, l := range res.Composition.Lines(refApril2025) {
		labels = append(labels, l.Label)
	}
	want := []string{"Nữ", "Cán bộ trẻ (dưới 40 tuổi)", "Dân tộc thiểu số", "Tái cử",
		"Dưới 40 tuổi", "Từ 40 đến 50 tuổi", "Trên 50 tuổi", "Không rõ năm sinh"}
	if len(labels) != len(want) {
		t.Fatalf("labels = %q, want %q", labels, want)
	}
	for i := range want {
		if labels[i] != want[i] {
			t.Errorf("label %d = %q, want %q", i, labels[i], want[i])
		}
	}
}
