package tally_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// A show of hands passes when more than half of D approve — D of the
// contest it names or of the congress, never those present (Charter Điều
// 9.5; Quy định 294-QĐ/TW §9.3; rules audit A1/B1) — decided on integers;
// the shares are of D. Without D it is figures only: passed is null and the
// shares are of those present.
func TestShowOfHandsResult(t *testing.T) {
	tests := []struct {
		name                                string
		d                                   int // 0: no D known
		present, approve, disapprove, other int
		passed                              *bool
		unanimous                           bool
		approveText                         string
	}{
		// Audit case B1: D = 21, 17 present, the list approved by 10. The
		// old rule (of those present) said passed at 58,82%; 10 ≤ 10.5.
		{name: "B1 10 of D=21 with 17 present", d: 21, present: 17, approve: 10, disapprove: 5, other: 2, passed: no(), approveText: "47,62%"},
		{name: "11 of D=21", d: 21, present: 17, approve: 11, disapprove: 6, passed: yes(), approveText: "52,38%"},
		// Unanimous among those present is not 100% of D, and need not pass.
		{name: "unanimous, 10 of D=21", d: 21, present: 10, approve: 10, passed: no(), unanimous: true, approveText: "47,62%"},
		{name: "unanimous, all of D", d: 21, present: 21, approve: 21, passed: yes(), unanimous: true, approveText: "100,00%"},
		{name: "exactly half of D fails", d: 100, present: 100, approve: 50, disapprove: 50, passed: no(), approveText: "50,00%"},
		{name: "half of an odd D", d: 99, present: 99, approve: 50, disapprove: 49, passed: yes(), approveText: "50,51%"},
		{name: "D=20001 at 50,00%", d: 20001, present: 20001, approve: 10001, passed: yes(), approveText: "50,00%"},
		{name: "D=1", d: 1, present: 1, approve: 1, passed: yes(), unanimous: true, approveText: "100,00%"},
		{name: "nobody approves", d: 10, present: 10, disapprove: 10, passed: no(), approveText: "0,00%"},
		// Without D: figures only, shares of those present.
		{name: "no D", present: 17, approve: 10, disapprove: 5, other: 2, approveText: "58,82%"},
		{name: "no D, unanimous", present: 9, approve: 9, unanimous: true, approveText: "100,00%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tally.ShowOfHands{Subject: tally.SubjectList, Contest: "bch", Present: tt.present, Approve: tt.approve, Disapprove: tt.disapprove, Other: tt.other}
			if err := v.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			var d *int
			base := tt.present
			if tt.d > 0 {
				d, base = &tt.d, tt.d
				if err := v.CheckBase(tt.d); err != nil {
					t.Fatalf("CheckBase: %v", err)
				}
			}
			r := v.Result(d, defaultPercent)
			if got, want := fmtBool(r.Passed), fmtBool(tt.passed); got != want {
				t.Errorf("passed = %s, want %s", got, want)
			}
			if (r.Denominator == nil) != (d == nil) || d != nil && *r.Denominator != *d {
				t.Errorf("denominator = %v, want %v", r.Denominator, d)
			}
			if got, want := r.Unanimous, tt.unanimous; got != want {
				t.Errorf("unanimous = %v, want %v", got, want)
			}
			if got, want := r.ApproveShare.Text, tt.approveText; got != want {
				t.Errorf("approve share = %q, want %q", got, want)
			}
			if got, want := r.DisapproveShare.Percent, refPercent(int64(tt.disapprove), int64(base), 2, false); got != want {
				t.Errorf("disapprove share = %q, want %q", got, want)
			}
			if got, want := r.OtherShare.Percent, refPercent(int64(tt.other), int64(base), 2, false); got != want {
				t.Errorf("other share = %q, want %q", got, want)
			}
		})
	}
}

func fmtBool(b *bool) string {
	if b == nil {
		return "null"
	}
	return fmt.Sprint(*b)
}

// The JSON of a result without D says so: "passed": null, "denominator": null.
func TestShowOfHandsResultJSON(t *testing.T) {
	v := tally.ShowOfHands{Subject: tally.SubjectCountingCommittee, Present: 17, Approve: 10}
	data, err := json.Marshal(v.Result(nil, defaultPercent))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"passed":null`, `"denominator":null`, `"unanimous":false`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %s", data, want)
		}
	}
	d := 21
	data, _ = json.Marshal(v.Result(&d, defaultPercent))
	for _, want := range []string{`"passed":false`, `"denominator":21`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %s", data, want)
		}
	}
}

// Present may not exceed D: those present are among the members D counts.
func TestShowOfHandsCheckBase(t *testing.T) {
	v := tally.ShowOfHands{Subject: tally.SubjectList, Contest: "bch", Present: 22, Approve: 12}
	if got, want := problemFields(v.CheckBase(21)), []string{"present"}; !slices.Equal(got, want) {
		t.Errorf("22 present of D = 21: fields %q, want %q", got, want)
	}
	if err := v.CheckBase(22); err != nil {
		t.Errorf("22 present of D = 22: %v", err)
	}
}

func TestShowOfHandsValidation(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		fields []string
	}{
		{"valid", `{"subject": "seats", "contest": "bch", "present": 20, "approve": 20}`, nil},
		{"presidium", `{"subject": "presidium", "present": 20, "approve": 20}`, nil},
		{"secretariat", `{"subject": "secretariat", "present": 20, "approve": 19, "other": 1}`, nil},
		{"credentials committee", `{"subject": "credentials_committee", "present": 20, "approve": 20}`, nil},
		{"withdrawal", `{"subject": "withdrawal", "contest": "bch", "candidate": "c3", "present": 20, "approve": 15}`, nil},
		{"another round", `{"subject": "another_round", "contest": "bch", "present": 20, "approve": 15}`, nil},
		{"seats without contest", `{"subject": "seats", "present": 20, "approve": 20}`, []string{"contest"}},
		{"list without contest", `{"subject": "list", "present": 20, "approve": 20}`, []string{"contest"}},
		{"another round without contest", `{"subject": "another_round", "present": 20, "approve": 20}`, []string{"contest"}},
		{"withdrawal without contest and candidate", `{"subject": "withdrawal", "present": 20, "approve": 20}`, []string{"contest", "candidate"}},
		{"withdrawal without candidate", `{"subject": "withdrawal", "contest": "bch", "present": 20, "approve": 20}`, []string{"candidate"}},
		{"candidate on another subject", `{"subject": "list", "contest": "bch", "candidate": "c1", "present": 20, "approve": 20}`, []string{"candidate"}},
		{"bad contest id", `{"subject": "list", "contest": "b c/h", "present": 20, "approve": 20}`, []string{"contest"}},
		{"bad vote id", `{"id": "v 1", "subject": "presidium", "present": 20, "approve": 20}`, []string{"id"}},
		{"other with a title", `{"subject": "other", "title": "Cho rút tên", "present": 20, "approve": 15, "disapprove": 5}`, nil},
		{"sum = present", `{"subject": "list", "contest": "bch", "present": 20, "approve": 10, "disapprove": 6, "other": 4}`, nil},
		{"sum over present", `{"subject": "list", "contest": "bch", "present": 20, "approve": 15, "disapprove": 6}`, []string{"present"}},
		{"negative approve", `{"subject": "list", "contest": "bch", "present": 20, "approve": -1}`, []string{"approve"}},
		{"negative disapprove", `{"subject": "list", "contest": "bch", "present": 20, "disapprove": -2}`, []string{"disapprove"}},
		{"negative other", `{"subject": "list", "contest": "bch", "present": 20, "other": -3}`, []string{"other"}},
		{"nobody present", `{"subject": "list", "contest": "bch", "present": 0}`, []string{"present"}},
		{"other without a title", `{"subject": "other", "present": 20, "approve": 15}`, []string{"title"}},
		{"other with a blank title", `{"subject": "other", "title": "   ", "present": 20, "approve": 15}`, []string{"title"}},
		{"unknown subject", `{"subject": "budget", "present": 20, "approve": 15}`, []string{"subject"}},
		{"no subject", `{"present": 20, "approve": 15}`, []string{"subject"}},
		{"several at once", `{"subject": "other", "present": 0, "approve": -1}`, []string{"title", "present", "approve"}},
		{"unknown field", `{"subject": "list", "present": 20, "abstain": 1}`, []string{"abstain"}},
		{"count as a string", `{"subject": "list", "present": "20"}`, []string{"present"}},
		{"trailing data", `{"subject": "list", "present": 20} 1`, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tally.ParseShowOfHands([]byte(tt.input))
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("ParseShowOfHands: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseShowOfHands accepted %s as %+v", tt.input, v)
			}
			if got, want := problemFields(err), tt.fields; !slices.Equal(got, want) {
				t.Errorf("fields = %q, want %q (%v)", got, want, err)
			}
		})
	}
	v, err := tally.ParseShowOfHands([]byte(`{"subject": "other", "title": " Cho  rút tên ", "present": 3, "approve": 2}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.Title, "Cho rút tên"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
}
