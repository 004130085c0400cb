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
	if got := c.VotesFor("", "bch"); len(got) != 2 || got[0].Subject != SubjectSeats {
		t.Errorf("VotesFor(bch) = %+v", got)
	}
	if got := c.VotesFor("", "other"); len(got) != 1 || got[0].Subject != SubjectCountingCommittee {
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
		{"bad electorate type", `{"id":"x","organization":"a","name":"b","electorate":{"congress":"party","convened":21}}`, "electorate.congress"},
		{"electorate exclusion of another type", `{"id":"x","organization":"a","name":"b","electorate":{"congress":"delegates","convened":21,"exclusions":{"absent_with_leave":1}}}`, "electorate.exclusions.absent_with_leave"},
		{"electorate with present", `{"id":"x","organization":"a","name":"b","electorate":{"congress":"members","convened":21,"present":17}}`, "electorate.present"},
		{"electorate excluding everyone", `{"id":"x","organization":"a","name":"b","electorate":{"congress":"members","convened":2,"exclusions":{"absent_with_leave":2}}}`, "electorate.exclusions"},
		{"present over the congress's D", `{"id":"x","organization":"a","name":"b","electorate":{"congress":"members","convened":21,"exclusions":{"absent_with_leave":1}},"votes":[{"subject":"presidium","present":21,"approve":21}]}`, "votes[0].present"},
		{"two votes with one id", `{"id":"x","organization":"a","name":"b","votes":[{"id":"v1","subject":"presidium","present":3,"approve":3},{"id":"v1","subject":"secretariat","present":3,"approve":3}]}`, "votes[1].id"},
		{"withdrawal without candidate", `{"id":"x","organization":"a","name":"b","votes":[{"subject":"withdrawal","contest":"bch","present":3,"approve":3}]}`, "votes[0].candidate"},
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

// The congress's own D decides its votes that name no contest; a vote
// naming a contest takes that contest's D, and never falls back to the
// congress's (another body may vote on it); without either, figures only.
func TestCongressDecide(t *testing.T) {
	c, err := ParseCongress([]byte(`{"id":"dh","organization":"Chi bộ 3","name":"Đại hội Chi bộ 3",
	  "electorate":{"congress":"members","convened":23,"exclusions":{"absent_with_leave":2}},
	  "votes":[{"subject":"presidium","present":17,"approve":10,"disapprove":7}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := c.Denominator(); !ok || d != 21 {
		t.Fatalf("Denominator = %d, %v; want 21", d, ok)
	}
	contestD := func(id string) (int, bool) {
		if id == "bch" {
			return 30, true
		}
		return 0, false
	}
	policy := PercentPolicy{Places: 2, Rounding: RoundHalfUp}
	tests := []struct {
		name   string
		v      ShowOfHands
		d      int // 0: null
		passed string
	}{
		{"congress's D", ShowOfHands{Subject: SubjectPresidium, Present: 17, Approve: 10}, 21, "false"},
		{"congress's D, passed", ShowOfHands{Subject: SubjectPresidium, Present: 17, Approve: 11}, 21, "true"},
		{"contest's D", ShowOfHands{Subject: SubjectList, Contest: "bch", Present: 17, Approve: 15}, 30, "false"},
		{"contest's D, passed", ShowOfHands{Subject: SubjectList, Contest: "bch", Present: 17, Approve: 16}, 30, "true"},
		{"unknown contest: no D", ShowOfHands{Subject: SubjectList, Contest: "gone", Present: 17, Approve: 16}, 0, "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Decide(tt.v, contestD, policy)
			got := "null"
			if r.Passed != nil {
				got = map[bool]string{true: "true", false: "false"}[*r.Passed]
			}
			if got != tt.passed {
				t.Errorf("passed = %s, want %s", got, tt.passed)
			}
			if tt.d == 0 && r.Denominator != nil || tt.d != 0 && (r.Denominator == nil || *r.Denominator != tt.d) {
				t.Errorf("denominator = %v, want %d", r.Denominator, tt.d)
			}
		})
	}
	none := &CongressRecord{ID: "x"}
	if r := none.Decide(ShowOfHands{Subject: SubjectPresidium, Present: 17, Approve: 10}, nil, policy); r.Passed != nil || r.ApproveShare.Text != "58,82%" {
		t.Errorf("without D: passed %v, share %s; want null and the share of those present", r.Passed, r.ApproveShare.Text)
	}
}

// A certified round's minutes print the votes recorded up to its
// certification; a vote without a time was recorded before any.
func TestVotesForUntil(t *testing.T) {
	c := &CongressRecord{Votes: []ShowOfHands{
		{ID: "v1", Subject: SubjectCountingCommittee, Recorded: "2025-05-20T08:00:00Z"},
		{ID: "v2", Subject: SubjectSeats, Contest: "bch", Recorded: "2025-05-20T08:05:00Z"},
		{ID: "v3", Subject: SubjectOther, Title: "old"},
		{ID: "v4", Subject: SubjectAnotherRound, Contest: "bch", Recorded: "2025-05-20T10:00:01Z"},
		{ID: "v5", Subject: SubjectSecretariat, Recorded: "2025-05-20T10:00:00Z"},
		{ID: "v6", Subject: SubjectList, Contest: "ubkt", Recorded: "2025-05-20T08:06:00Z"},
	}}
	ids := func(vs []ShowOfHands) string {
		var out []string
		for _, v := range vs {
			out = append(out, v.ID)
		}
		return strings.Join(out, " ")
	}
	if got, want := ids(c.VotesFor("", "bch")), "v2 v4 v1 v3 v5"; got != want {
		t.Errorf("VotesFor(bch) = %s, want %s", got, want)
	}
	if got, want := ids(c.VotesFor("2025-05-20T10:00:00Z", "bch")), "v2 v1 v3 v5"; got != want {
		t.Errorf("VotesFor(until 10:00, bch) = %s, want %s", got, want)
	}
}

func TestNextVoteID(t *testing.T) {
	for _, tt := range []struct {
		ids  []string
		want string
	}{{nil, "v1"}, {[]string{"v1", "v2"}, "v3"}, {[]string{"v9", "", "x12", "v10"}, "v11"}, {[]string{"v01"}, "v1"}} {
		c := &CongressRecord{}
		for _, id := range tt.ids {
			c.Votes = append(c.Votes, ShowOfHands{ID: id})
		}
		if got := c.NextVoteID(); got != tt.want {
			t.Errorf("NextVoteID(%q) = %s, want %s", tt.ids, got, tt.want)
		}
	}
	// An id once given is not given again, even when its vote is gone.
	c := &CongressRecord{}
	c.Votes = []ShowOfHands{{ID: c.NextVoteID()}, {ID: c.NextVoteID()}}
	c.Votes = c.Votes[:1]
	if got := c.NextVoteID(); got != "v3" {
		t.Errorf("after v2 was deleted, NextVoteID = %s, want v3", got)
	}
}
