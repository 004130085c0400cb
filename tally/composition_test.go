package tally_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/tally"
)

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

// compositionOf elects exactly the candidates in elect (every ballot agrees
// with them and disagrees with the others) and returns the report.
func compositionOf(t testing.TB, policy tally.CompositionPolicy, percent tally.PercentPolicy, cands []tally.Candidate, elect ...string) *tally.Result {
	t.Helper()
	const voters = 9
	c := newContest(t, len(cands), voters, cands, func(c *tally.Contest) {
		c.Composition = policy
		c.Percent = percent
	})
	agree, disagree := map[string]int{}, map[string]int{}
	for _, cd := range cands {
		disagree[cd.ID] = voters
	}
	for _, id := range elect {
		agree[id], disagree[id] = voters, 0
	}
	res := resultOf(t, c, approveBallots(voters, agree, disagree))
	if got, want := len(res.Elected), len(elect); got != want {
		t.Fatalf("fixture: %d elected, want %d", got, want)
	}
	return res
}

var (
	defaultPercent = tally.PercentPolicy{Places: 2, Rounding: tally.RoundHalfUp}
	refApril2025   = tally.CompositionPolicy{ReferenceDate: "2025-04-30", YoungUnder: 40, AgeBands: []int{40, 50}}
)

// Ages are whole years at the reference date: a birthday on the reference
// day counts. Bands: under 40, 40 to 50 inclusive, over 50.
func TestCompositionAgeBoundaries(t *testing.T) {
	person := func(id, birth string) tally.Candidate {
		return tally.Candidate{ID: id, Name: "Nguyễn Văn " + id, Gender: tally.GenderMale, BirthDate: birth,
			EthnicMinority: no(), Incumbent: no()}
	}
	cands := []tally.Candidate{
		person("A", "1985-04-30"), // 40 on the day: not young, 40-50
		person("B", "1985-05-01"), // 39: young, <40
		person("C", "1975-04-30"), // 50 on the day: 40-50
		person("D", "1974-04-30"), // 51: >50
		person("E", "1975-05-01"), // 49: 40-50
		person("F", "1974-05-01"), // 50: 40-50
		person("G", "2000-01-01"), // not elected
	}
	res := compositionOf(t, refApril2025, defaultPercent, cands, "A", "B", "C", "D", "E", "F")
	assertJSONEqual(t, res.Composition, `{"elected": 6,
		"women": {"count": 0, "percent": "0.00", "percent_text": "0,00%"},
		"young": {"count": 1, "percent": "16.67", "percent_text": "16,67%"},
		"ethnic_minority": {"count": 0, "percent": "0.00", "percent_text": "0,00%"},
		"incumbent": {"count": 0, "percent": "0.00", "percent_text": "0,00%"},
		"age_bands": [
			{"label": "<40", "count": 1, "percent": "16.67", "percent_text": "16,67%"},
			{"label": "40-50", "count": 4, "percent": "66.67", "percent_text": "66,67%"},
			{"label": ">50", "count": 1, "percent": "16.67", "percent_text": "16,67%"}]}`)
}

// A missing attribute is counted as unknown, never as "no"; unknown ages
// form a last band labelled "unknown", so the bands add up to the elected.
func TestCompositionUnknowns(t *testing.T) {
	cands := []tally.Candidate{
		{ID: "A", Name: "Lê Thị A", Gender: tally.GenderFemale, BirthDate: "1990-01-01", EthnicMinority: yes(), Incumbent: no()},
		{ID: "B", Name: "Lê Văn B", BirthDate: "1960-01-01", EthnicMinority: no(), Incumbent: yes()},       // gender unknown
		{ID: "C", Name: "Lê Thị C", Gender: tally.GenderFemale, BirthDate: "1980-01-01", Incumbent: yes()}, // ethnicity unknown
		{ID: "D", Name: "Lê Văn D", Gender: tally.GenderMale, EthnicMinority: no()},                        // age and incumbency unknown
	}
	res := compositionOf(t, refApril2025, defaultPercent, cands, "A", "B", "C", "D")
	assertJSONEqual(t, res.Composition, `{"elected": 4,
		"women": {"count": 2, "percent": "50.00", "percent_text": "50,00%", "unknown": 1},
		"young": {"count": 1, "percent": "25.00", "percent_text": "25,00%", "unknown": 1},
		"ethnic_minority": {"count": 1, "percent": "25.00", "percent_text": "25,00%", "unknown": 1},
		"incumbent": {"count": 2, "percent": "50.00", "percent_text": "50,00%", "unknown": 1},
		"age_bands": [
			{"label": "<40", "count": 1, "percent": "25.00", "percent_text": "25,00%"},
			{"label": "40-50", "count": 1, "percent": "25.00", "percent_text": "25,00%"},
			{"label": ">50", "count": 1, "percent": "25.00", "percent_text": "25,00%"},
			{"label": "unknown", "count": 1, "percent": "25.00", "percent_text": "25,00%"}]}`)
	sum := 0
	for _, b := range res.Composition.AgeBands {
		sum += b.Count
	}
	if got, want := sum, res.Composition.Elected; got != want {
		t.Errorf("age bands add up to %d, want %d", got, want)
	}
	if got, want := res.Composition.AgeBands[3].Label, tally.UnknownBand; got != want {
		t.Errorf("last band = %q, want %q", got, want)
	}
}

// Without a reference date there are no ages: young and age_bands are left out.
func TestCompositionWithoutReferenceDate(t *testing.T) {
	cands := []tally.Candidate{
		{ID: "A", Name: "Lê Thị A", Gender: tally.GenderFemale, BirthDate: "1990-01-01", EthnicMinority: no(), Incumbent: yes()},
		{ID: "B", Name: "Lê Văn B", Gender: tally.GenderMale, BirthDate: "1960-01-01", EthnicMinority: no(), Incumbent: no()},
	}
	policy := tally.CompositionPolicy{YoungUnder: 40, AgeBands: []int{40, 50}}
	res := compositionOf(t, policy, defaultPercent, cands, "A", "B")
	if res.Composition.Young != nil || res.Composition.AgeBands != nil {
		t.Errorf("young %v, age bands %v: want both omitted", res.Composition.Young, res.Composition.AgeBands)
	}
	assertJSONEqual(t, res.Composition, `{"elected": 2,
		"women": {"count": 1, "percent": "50.00", "percent_text": "50,00%"},
		"ethnic_minority": {"count": 0, "percent": "0.00", "percent_text": "0,00%"},
		"incumbent": {"count": 1, "percent": "50.00", "percent_text": "50,00%"}}`)
}

// Nobody elected: no composition object at all.
func TestCompositionNobodyElected(t *testing.T) {
	cands := []tally.Candidate{{ID: "A", Name: "Lê Thị A", Gender: tally.GenderFemale}, {ID: "B", Name: "Lê Văn B"}}
	res := compositionOf(t, refApril2025, defaultPercent, cands)
	if res.Composition != nil {
		t.Errorf("composition = %+v, want nil", res.Composition)
	}
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), `"composition"`) {
		t.Errorf("composition in the JSON: %s", out)
	}
}

// The policy's bounds label the bands; the percent policy rounds the shares;
// only the elected count.
func TestCompositionPolicy(t *testing.T) {
	cands := []tally.Candidate{
		{ID: "A", Name: "Lê Thị A", Gender: tally.GenderFemale, BirthDate: "1991-04-30", EthnicMinority: no(), Incumbent: no()}, // 34
		{ID: "B", Name: "Lê Thị B", Gender: tally.GenderFemale, BirthDate: "1990-04-30", EthnicMinority: no(), Incumbent: no()}, // 35
		{ID: "C", Name: "Lê Văn C", Gender: tally.GenderMale, BirthDate: "1979-05-01", EthnicMinority: no(), Incumbent: no()},   // 45
		{ID: "D", Name: "Lê Thị D", Gender: tally.GenderFemale, BirthDate: "1995-01-01", EthnicMinority: yes(), Incumbent: yes()},
	}
	policy := tally.CompositionPolicy{ReferenceDate: "2025-04-30", YoungUnder: 35, AgeBands: []int{35, 45}}
	res := compositionOf(t, policy, tally.PercentPolicy{Places: 1, Rounding: tally.RoundTruncate}, cands, "A", "B", "C")
	assertJSONEqual(t, res.Composition, `{"elected": 3,
		"women": {"count": 2, "percent": "66.6", "percent_text": "66,6%"},
		"young": {"count": 1, "percent": "33.3", "percent_text": "33,3%"},
		"ethnic_minority": {"count": 0, "percent": "0.0", "percent_text": "0,0%"},
		"incumbent": {"count": 0, "percent": "0.0", "percent_text": "0,0%"},
		"age_bands": [
			{"label": "<35", "count": 1, "percent": "33.3", "percent_text": "33,3%"},
			{"label": "35-45", "count": 2, "percent": "66.6", "percent_text": "66,6%"},
			{"label": ">45", "count": 0, "percent": "0.0", "percent_text": "0,0%"}]}`)
}

func TestAgeAt(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		birth, ref string
		want       int
	}{
		{"1985-04-30", "2025-04-30", 40}, // the birthday itself counts
		{"1985-05-01", "2025-04-30", 39},
		{"1985-04-29", "2025-04-30", 40},
		{"1985-12-31", "2025-01-01", 39},
		{"1985-01-01", "2025-12-31", 40},
		// Born on a leap day: in a common year the year of age ends on 28
		// February, the month's last day (Bộ luật Dân sự Điều 148.1).
		{"2000-02-29", "2025-02-28", 25},
		{"1984-02-29", "2025-02-28", 41}, // the audit's case B14
		{"1984-02-29", "2025-02-27", 40},
		{"2000-02-29", "2024-02-28", 23}, // a leap year has its 29th
		{"2000-02-29", "2025-03-01", 25},
		{"2000-02-29", "2024-02-29", 24},
		{"2025-04-30", "2025-04-30", 0},
	}
	for _, tt := range tests {
		if got := tally.AgeAt(day(tt.birth), day(tt.ref)); got != tt.want {
			t.Errorf("AgeAt(%s, %s) = %d, want %d", tt.birth, tt.ref, got, tt.want)
		}
	}
}
