package tally_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// A show of hands passes when more than half of those present approve
// (domain-rules §1.3, Q12), decided on integers.
func TestShowOfHandsResult(t *testing.T) {
	tests := []struct {
		present, approve, disapprove, other int
		passed, unanimous                   bool
		approveText                         string
	}{
		{present: 100, approve: 51, disapprove: 49, passed: true, approveText: "51,00%"},
		{present: 100, approve: 50, disapprove: 50, passed: false, approveText: "50,00%"}, // exactly half fails
		{present: 99, approve: 50, disapprove: 49, passed: true, approveText: "50,51%"},
		{present: 100, approve: 100, passed: true, unanimous: true, approveText: "100,00%"},
		{present: 1, approve: 1, passed: true, unanimous: true, approveText: "100,00%"},
		{present: 120, approve: 60, disapprove: 10, other: 5, passed: false, approveText: "50,00%"}, // abstainers count as present
		{present: 20001, approve: 10001, passed: true, approveText: "50,00%"},
		{present: 10, approve: 0, disapprove: 10, passed: false, approveText: "0,00%"},
		{present: 10, approve: 9, other: 1, passed: true, approveText: "90,00%"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d of %d", tt.approve, tt.present), func(t *testing.T) {
			v := tally.ShowOfHands{Subject: tally.SubjectList, Present: tt.present, Approve: tt.approve, Disapprove: tt.disapprove, Other: tt.other}
			if err := v.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			r := v.Result(defaultPercent)
			if got, want := r.Passed, tt.passed; got != want {
				t.Errorf("passed = %v, want %v", got, want)
			}
			if got, want := r.Unanimous, tt.unanimous; got != want {
				t.Errorf("unanimous = %v, want %v", got, want)
			}
			if got, want := r.ApproveShare.Text, tt.approveText; got != want {
				t.Errorf("approve share = %q, want %q", got, want)
			}
			if got, want := r.DisapproveShare.Percent, refPercent(int64(tt.disapprove), int64(tt.present), 2, false); got != want {
				t.Errorf("disapprove share = %q, want %q", got, want)
			}
			if got, want := r.OtherShare.Percent, refPercent(int64(tt.other), int64(tt.present), 2, false); got != want {
				t.Errorf("other share = %q, want %q", got, want)
			}
		})
	}
}

func TestShowOfHandsValidation(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		fields []string
	}{
		{"valid", `{"subject": "seats", "present": 20, "approve": 20}`, nil},
		{"other with a title", `{"subject": "other", "title": "Cho rút tên", "present": 20, "approve": 15, "disapprove": 5}`, nil},
		{"sum = present", `{"subject": "list", "present": 20, "approve": 10, "disapprove": 6, "other": 4}`, nil},
		{"sum over present", `{"subject": "list", "present": 20, "approve": 15, "disapprove": 6}`, []string{"present"}},
		{"negative approve", `{"subject": "list", "present": 20, "approve": -1}`, []string{"approve"}},
		{"negative disapprove", `{"subject": "list", "present": 20, "disapprove": -2}`, []string{"disapprove"}},
		{"negative other", `{"subject": "list", "present": 20, "other": -3}`, []string{"other"}},
		{"nobody present", `{"subject": "list", "present": 0}`, []string{"present"}},
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
