package tally_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

func warningCodes(ws []tally.Warning) []tally.WarningCode {
	out := []tally.WarningCode{}
	for _, w := range ws {
		out = append(out, w.Code)
	}
	return out
}

// Deliverable 6: warnings name what to check; none is an error.
func TestListWarnings(t *testing.T) {
	two := []tally.Candidate{cand("a", "Nguyễn Văn An"), cand("b", "Trần Thị Bình"), cand("c", "nguyễn văn  an")}
	tests := []struct {
		name      string
		cands     []tally.Candidate
		committee []tally.CommitteeMember
		want      []tally.WarningCode
		inMessage string
	}{
		{"distinct names", lettered(3), nil, []tally.WarningCode{}, ""},
		// Same full name, whatever the case and spacing (audit B14).
		{"same full name", two, nil, []tally.WarningCode{tally.WarnDuplicateName}, "2 candidates are named"},
		// 190-QĐ/TW Điều 8.1: counting-committee members are not on the list.
		{"counting member on the list", lettered(3),
			[]tally.CommitteeMember{{Name: "Nguyễn Văn X", Role: tally.RoleMember}, {Name: "Nguyễn  Văn B", Role: tally.RoleHead}},
			[]tally.WarningCode{tally.WarnCountingMemberOnList}, "Nguyễn Văn B is on the counting committee"},
		{"counting committee off the list", lettered(3),
			[]tally.CommitteeMember{{Name: "Nguyễn Văn X", Role: tally.RoleHead}}, []tally.WarningCode{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newContest(t, 2, 21, tt.cands, nil)
			ws := c.ListWarnings(tt.committee)
			if got := warningCodes(ws); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("codes = %v, want %v", got, tt.want)
			}
			if tt.inMessage != "" && !strings.Contains(ws[0].Message, tt.inMessage) {
				t.Errorf("message %q does not name %q", ws[0].Message, tt.inMessage)
			}
		})
	}
}

func TestResultWarnings(t *testing.T) {
	three := lettered(3)
	tests := []struct {
		name  string
		d     int
		valid int
		votes map[string]int
		want  []tally.WarningCode
	}{
		{"within D", 21, 18, map[string]int{"A": 17, "B": 12, "C": 5}, []tally.WarningCode{}},
		{"valid equal to D", 18, 18, map[string]int{"A": 17, "B": 12, "C": 5}, []tally.WarningCode{}},
		// Audit B10: 15 valid for D = 10 printed 150% without a word.
		{"valid over D", 10, 15, map[string]int{"A": 15, "B": 9, "C": 6},
			[]tally.WarningCode{tally.WarnCollectedOverD, tally.WarnValidOverD, tally.WarnVotesOverD}},
		{"ballots over D, votes within", 10, 12, map[string]int{"A": 9, "B": 8, "C": 7},
			[]tally.WarningCode{tally.WarnCollectedOverD, tally.WarnValidOverD}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newContest(t, 2, tt.d, three, nil)
			res := resultOf(t, c, strikeBallots(t, c, tt.valid, tt.votes))
			if got := warningCodes(tally.ResultWarnings(res)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("codes = %v, want %v", got, tt.want)
			}
		})
	}
	// Ballots collected over D while the valid are within it: invalid
	// ballots count among those collected (HD 01-HD/TW 2016 §13.2, B3).
	c := newContest(t, 2, 10, three, nil)
	ballots := strikeBallots(t, c, 10, map[string]int{"A": 9, "B": 8, "C": 2})
	ballots = append(ballots, invalidBallot("x1", tally.ReasonWriteIn), invalidBallot("x2", tally.ReasonNotIssued))
	if got, want := warningCodes(tally.ResultWarnings(resultOf(t, c, ballots))), []tally.WarningCode{tally.WarnCollectedOverD}; !reflect.DeepEqual(got, want) {
		t.Errorf("collected 12, valid 10, D 10: codes = %v, want %v", got, want)
	}
}

// The wire shape is {"code", "message"} and the arguments a page's script
// words the warning with.
func TestWarningJSON(t *testing.T) {
	w := tally.Warning{Code: tally.WarnValidOverD, Message: "m", Args: []string{"15", "10"}}
	data, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), `{"code":"valid_over_d","message":"m","args":["15","10"]}`; got != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
}

// Audit B2: alternates with equal votes share a rank; the engine never
// orders them by name.
func TestRankTies(t *testing.T) {
	four := []tally.Candidate{cand("x", "Lê Thị Xuân"), cand("a", "Nguyễn Văn An"), cand("d", "Trần Văn Đông"), cand("m", "Phạm Thị Mai")}
	tests := []struct {
		name  string
		kind  tally.ContestKind
		seats int
		votes map[string]int
		want  [][]string
	}{
		{"alternates, tie inside the seats", tally.KindAlternates, 3, map[string]int{"d": 100, "a": 90, "x": 90, "m": 60}, [][]string{{"a", "x"}}},
		// A tie inside the seats beside a tie at the cut-off: the first
		// shares a rank, the second goes to a re-vote (tied).
		{"alternates, tie at the top and at the cut-off", tally.KindAlternates, 3, map[string]int{"d": 100, "a": 100, "x": 90, "m": 90}, [][]string{{"a", "d"}}},
		{"alternates, no tie", tally.KindAlternates, 3, map[string]int{"d": 100, "a": 95, "x": 90, "m": 60}, [][]string{}},
		// The tie is among the elected only: one elected and one not
		// (below the threshold) share no rank.
		{"alternates, tie of elected and not elected", tally.KindAlternates, 3, map[string]int{"d": 100, "a": 90, "x": 70, "m": 70}, [][]string{}},
		// The order of delegates' elected is no decision: no rank ties.
		{"delegates, same votes", tally.KindDelegates, 3, map[string]int{"d": 100, "a": 90, "x": 90, "m": 60}, [][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newContest(t, tt.seats, 150, four, func(c *tally.Contest) { c.Kind = tt.kind })
			res := resultOf(t, c, strikeBallots(t, c, 149, tt.votes))
			if !reflect.DeepEqual(res.RankTies, tt.want) {
				t.Errorf("rank_ties = %v, want %v", res.RankTies, tt.want)
			}
		})
	}
}

// Audit B8: only "suspended_or_detained" applies to a committee meeting.
func TestBodyExclusions(t *testing.T) {
	for _, tt := range []struct {
		exclusions string
		field      string // the refused field, or "" when accepted
	}{
		{`{"suspended_or_detained": 1}`, ""},
		{`{"absent_with_leave": 1}`, "electorate.exclusions.absent_with_leave"},
		{`{"committee_absent": 1}`, "electorate.exclusions.committee_absent"},
		{`{"suspended_or_detained": 16}`, "electorate.exclusions"},
	} {
		js := strings.Replace(designContest, designElectorate, `{"congress": "body", "convened": 16, "exclusions": `+tt.exclusions+`}`, 1)
		_, err := tally.ParseContest([]byte(js))
		got := problemFields(err)
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%s: refused: %v", tt.exclusions, err)
		case tt.field != "" && !reflect.DeepEqual(got, []string{tt.field}):
			t.Errorf("%s: fields %v, want [%s]", tt.exclusions, got, tt.field)
		}
	}
}

// Audit B11: each share is exact under the policy; the report says when
// the shown shares do not add up.
func TestBandsSumTo100(t *testing.T) {
	band := func(p string) tally.Band {
		return tally.Band{Share: tally.Share{Percentage: tally.Percentage{Percent: p}}}
	}
	for _, tt := range []struct {
		bands []tally.Band
		want  bool
	}{
		{[]tally.Band{band("33.33"), band("33.33"), band("33.33")}, false},
		{[]tally.Band{band("20.00"), band("40.00"), band("40.00")}, true},
		{[]tally.Band{band("33.34"), band("33.33"), band("33.34")}, false},
		{nil, true},
	} {
		r := &tally.CompositionReport{AgeBands: tt.bands}
		if got := r.BandsSumTo100(); got != tt.want {
			t.Errorf("BandsSumTo100(%v) = %v, want %v", tt.bands, got, tt.want)
		}
	}
}

// Audit B9: delegates after round 1 "bầu tiếp" (244-QĐ/TW Điều 20.2).
func TestVacancyVietnamese(t *testing.T) {
	for _, tt := range []struct {
		kind  tally.ContestKind
		round int
		want  string
	}{
		{tally.KindDelegates, 1, "bầu tiếp (Quy định 244-QĐ/TW, Điều 20.2)"},
		{tally.KindAlternates, 1, "bầu tiếp (Quy định 244-QĐ/TW, Điều 20.2)"},
		{tally.KindDelegates, 2, "đại hội quyết định bầu tiếp hay không"},
		{tally.KindCommittee, 1, "đại hội quyết định bầu tiếp hay không"},
	} {
		got := tally.VacancyVietnamese(tt.kind, tt.round, "1 đồng chí")
		if !strings.Contains(got, tt.want) {
			t.Errorf("%s round %d: %q, want it to say %q", tt.kind, tt.round, got, tt.want)
		}
		if tt.round == 1 && tt.kind == tally.KindDelegates && strings.Contains(got, "hay không") {
			t.Errorf("delegates round 1: %q still leaves it to the congress", got)
		}
	}
}
