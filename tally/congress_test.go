package tally

import (
	"strings"
	"testing"
)

func TestParseCongress(t *testing.T) {
	good := `{"id":"dh-p4","organization":"Đảng bộ Phường 4","superior":"Đảng bộ Quận 3",
	  "name":"Đại hội đại biểu Đảng bộ Phường 4","ordinal":12,"term":"2025–2030","place":"Hội trường UBND Phường 4",
	  "date":"2025-05-20","counting_committee":[{"name":"Trần Thị Bình","role":"head"},{"name":"Lê Văn Cường","role":"member"}],
	  "votes":[{"subject":"seats","contest":"bch","present":48,"approve":48,"disapprove":0,"other":0},
	           {"subject":"counting_committee","present":48,"approve":47,"disapprove":1,"other":0}]}`
	c, err := ParseCongress([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := c.Head(); !ok || h.Name != "Trần Thị Bình" {
		t.Errorf("Head = %v, %v", h, ok)
	}
	if got := c.VotesFor("bch"); len(got) != 2 || got[0].Subject != SubjectSeats {
		t.Errorf("VotesFor(bch) = %+v", got)
	}
	if got := c.VotesFor("other"); len(got) != 1 || got[0].Subject != SubjectCountingCommittee {
		t.Errorf("VotesFor(other) = %+v", got)
	}
	tests := []struct {
		name, body, field string
	}{
		{"no id", `{"organization":"a","name":"b"}`, "id"},
		{"no organization", `{"id":"x","name":"b"}`, "organization"},
		{"bad date", `{"id":"x","organization":"a","name":"b","date":"20/5/2025"}`, "date"},
		{"two heads", `{"id":"x","organization":"a","name":"b","counting_committee":[{"name":"A","role":"head"},{"name":"B","role":"head"}]}`, "counting_committee"},
		{"bad role", `{"id":"x","organization":"a","name":"b","counting_committee":[{"name":"A","role":"boss"}]}`, "counting_committee[0].role"},
		{"seats without contest", `{"id":"x","organization":"a","name":"b","votes":[{"subject":"seats","present":3,"approve":3,"disapprove":0,"other":0}]}`, "votes[0].contest"},
		{"vote over present", `{"id":"x","organization":"a","name":"b","votes":[{"subject":"list","contest":"c","present":3,"approve":3,"disapprove":1,"other":0}]}`, "votes[0].present"},
		{"unknown field", `{"id":"x","organization":"a","name":"b","motto":"?"}`, "motto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCongress([]byte(tt.body))
			if err == nil {
				t.Fatal("accepted")
			}
			found := false
			for _, e := range Problems(err) {
				found = found || e.Field == tt.field
			}
			if !found {
				t.Errorf("problems %v do not name %q", err, tt.field)
			}
		})
	}
}

func TestRomanOrdinal(t *testing.T) {
	for n, want := range map[int]string{0: "", 1: "I", 4: "IV", 9: "IX", 12: "XII", 14: "XIV", 40: "XL", 99: "XCIX"} {
		if got := RomanOrdinal(n); got != want {
			t.Errorf("RomanOrdinal(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseRoundNotes(t *testing.T) {
	n, err := ParseRoundNotes([]byte(`{"present":48,"collected":47,"complaints":"  Không có khiếu nại. "}`))
	if err != nil || *n.Present != 48 || *n.Collected != 47 || n.Complaints != "Không có khiếu nại." {
		t.Fatalf("ParseRoundNotes = %+v, %v", n, err)
	}
	if _, err := ParseRoundNotes([]byte(`{"present":-1}`)); err == nil || !strings.Contains(err.Error(), "present") {
		t.Fatalf("negative present: %v", err)
	}
}
