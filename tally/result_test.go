package tally_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// designContest is the contest of DESIGN §5.1 with the six names of
// domain-rules Ex 1 (A–F in ballot order) and attributes chosen so that the
// five elected have the composition printed in DESIGN §5.3. F, not elected,
// has every attribute that would change the report if counted.
const designContest = `{
  "id": "bch-p4-2025",
  "title": "Bầu Ban Chấp hành Đảng bộ Phường 4, nhiệm kỳ 2025–2030",
  "kind": "committee",
  "round": 1,
  "seats": 5,
  "ballot": "strike",
  "electorate": {
    "congress": "members",
    "convened": 25,
    "exclusions": {"temporary_elsewhere": 2, "exempt_absent": 1, "suspended_or_detained": 0,
                   "absent_with_leave": 1, "committee_absent": 0, "delegates_absent_unreplaced": 0}
  },
  "percent": {"places": 2, "rounding": "half_up"},
  "visibility": "certified",
  "composition": {"reference_date": "2025-04-30", "young_under": 40, "age_bands": [40, 50]},
  "candidates": [
    {"id": "c6", "name": "Võ Thị Hạnh", "gender": "female", "birth_date": "1995-01-01",
     "ethnic_minority": true, "incumbent": true},
    {"id": "c1", "name": "Nguyễn Văn An", "gender": "male", "birth_date": "1990-01-01",
     "ethnic_minority": false, "incumbent": true},
    {"id": "c2", "name": "Trần Thị Bình", "gender": "female", "birth_date": "1980-06-15",
     "ethnic_minority": false, "incumbent": true},
    {"id": "c3", "name": "Lê Văn Cường", "gender": "male", "birth_date": "1976-05-01",
     "ethnic_minority": false, "incumbent": true},
    {"id": "c4", "name": "Phạm Thị Dung", "gender": "female", "birth_date": "1970-02-02",
     "ethnic_minority": false, "incumbent": false},
    {"id": "c5", "name": "Hoàng Văn Đức", "gender": "male", "birth_date": "1965-04-30",
     "ethnic_minority": false, "incumbent": false}
  ]
}`

// designBallots are Ex 1's 20 ballots: 18 valid giving A 17, B 15, C 14,
// D 12, E 11, F 10; one untouched (over-vote) and one with a name written in.
func designBallots(t testing.TB, c *tally.Contest) []tally.Ballot {
	t.Helper()
	ballots := strikeBallots(t, c, 18, map[string]int{"c1": 17, "c2": 15, "c3": 14, "c4": 12, "c5": 11, "c6": 10})
	return append(ballots,
		tally.Ballot{ID: "untouched", Struck: []string{}},
		tally.Ballot{ID: "written", Invalid: tally.ReasonWriteIn, Note: "ghi thêm tên"},
	)
}

// The §5.3 example, field for field: Ex 1's count of the §5.1 contest.
func TestResultMatchesDesignExample(t *testing.T) {
	c := mustParseContest(t, designContest)
	if got, want := c.Denominator(), 21; got != want {
		t.Fatalf("D = %d, want %d", got, want)
	}
	res := resultOf(t, c, designBallots(t, c))
	version := int64(20)
	res.Version = &version
	assertJSONEqual(t, res, `{
  "contest": "bch-p4-2025", "round": 1, "seats": 5,
  "denominator": 21, "threshold": 11,
  "ballots": {"total": 20, "valid": 18, "invalid": 2,
              "invalid_by_reason": {"over_vote": 1, "write_in": 1}},
  "candidates": [
    {"id": "c1", "name": "Nguyễn Văn An", "votes": 17, "percent": "80.95", "percent_text": "80,95%",
     "over_half": true, "status": "elected"},
    {"id": "c2", "name": "Trần Thị Bình", "votes": 15, "percent": "71.43", "percent_text": "71,43%",
     "over_half": true, "status": "elected"},
    {"id": "c3", "name": "Lê Văn Cường", "votes": 14, "percent": "66.67", "percent_text": "66,67%",
     "over_half": true, "status": "elected"},
    {"id": "c4", "name": "Phạm Thị Dung", "votes": 12, "percent": "57.14", "percent_text": "57,14%",
     "over_half": true, "status": "elected"},
    {"id": "c5", "name": "Hoàng Văn Đức", "votes": 11, "percent": "52.38", "percent_text": "52,38%",
     "over_half": true, "status": "elected"},
    {"id": "c6", "name": "Võ Thị Hạnh", "votes": 10, "percent": "47.62", "percent_text": "47,62%",
     "over_half": false, "status": "not_elected"}
  ],
  "elected": ["c1", "c2", "c3", "c4", "c5"],
  "tied": [],
  "revote_seats": 0,
  "vacant": 0,
  "rank_ties": [],
  "composition": {"elected": 5,
                  "women": {"count": 2, "percent": "40.00", "percent_text": "40,00%"},
                  "young": {"count": 1, "percent": "20.00", "percent_text": "20,00%"},
                  "ethnic_minority": {"count": 0, "percent": "0.00", "percent_text": "0,00%"},
                  "incumbent": {"count": 3, "percent": "60.00", "percent_text": "60,00%"},
                  "age_bands": [{"label": "<40", "count": 1, "percent": "20.00", "percent_text": "20,00%"},
                                {"label": "40-50", "count": 2, "percent": "40.00", "percent_text": "40,00%"},
                                {"label": ">50", "count": 2, "percent": "40.00", "percent_text": "40,00%"}]},
  "version": 20
}`)
	// Offline (CLI) results carry no version.
	res.Version = nil
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["version"]; ok {
		t.Errorf("version present in an offline result: %s", out)
	}
}

// Count.Add returns each ballot's verdict; Votes follows the valid ones only.
func TestCountAddVerdicts(t *testing.T) {
	c := mustParseContest(t, designContest)
	idx := c.Index()
	cnt := tally.NewCount(c)
	for _, tt := range []struct {
		b    tally.Ballot
		want tally.Reason
	}{
		{tally.Ballot{ID: "1", Struck: []string{"c6"}}, tally.Valid},
		{tally.Ballot{ID: "2", Struck: []string{}}, tally.ReasonOverVote},
		{tally.Ballot{ID: "3", Struck: []string{"c1", "c2", "c3", "c4", "c5", "c6"}}, tally.ReasonNoVote},
		{tally.Ballot{ID: "4", Invalid: tally.ReasonNotIssued}, tally.ReasonNotIssued},
		{tally.Ballot{ID: "5", Struck: []string{"c1", "c2", "c3", "c4", "c5"}}, tally.Valid},
	} {
		m, err := c.Mark(tt.b, idx)
		if err != nil {
			t.Fatalf("ballot %s: %v", tt.b.ID, err)
		}
		if got, want := cnt.Add(m), tt.want; got != want {
			t.Errorf("ballot %s: Add = %q, want %q", tt.b.ID, got, want)
		}
	}
	// Ballot order: c1 … c6. Ballot 1 keeps c1–c5; ballot 5 keeps c6.
	if got, want := cnt.Votes(), []int{1, 1, 1, 1, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("votes = %v, want %v", got, want)
	}
	b := cnt.Result().Ballots
	if got, want := [3]int{b.Total, b.Valid, b.Invalid}, [3]int{5, 2, 3}; got != want {
		t.Errorf("total, valid, invalid = %v, want %v", got, want)
	}
	if got, want := b.InvalidByReason, map[string]int{"over_vote": 1, "no_vote": 1, "not_issued": 1}; !mapsEqual(got, want) {
		t.Errorf("invalid_by_reason = %v, want %v", got, want)
	}
}

// An empty count is a valid result: nothing elected, every seat vacant,
// invalid_by_reason an empty object, no composition.
func TestResultEmptyCount(t *testing.T) {
	c := mustParseContest(t, designContest)
	res := tally.NewCount(c).Result()
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["composition"]; ok {
		t.Errorf("composition present with nobody elected: %s", out)
	}
	assertJSONEqual(t, m["ballots"], `{"total": 0, "valid": 0, "invalid": 0, "invalid_by_reason": {}}`)
	assertJSONEqual(t, m["elected"], `[]`)
	assertJSONEqual(t, m["tied"], `[]`)
	if got, want := res.Vacant, 5; got != want {
		t.Errorf("vacant = %d, want %d", got, want)
	}
}

// Ex 4, round 1: a delegates' congress, D = 195; 13 pass, 2 seats vacant.
func TestResultEx4Round1(t *testing.T) {
	c, res := ex4Round1(t)
	if got, want := c.Denominator(), 195; got != want {
		t.Fatalf("D = %d, want %d", got, want)
	}
	if got, want := res.Threshold, 98; got != want {
		t.Errorf("threshold = %d, want %d", got, want)
	}
	if got, want := [3]int{res.Ballots.Total, res.Ballots.Valid, res.Ballots.Invalid}, [3]int{195, 192, 3}; got != want {
		t.Errorf("total, valid, invalid = %v, want %v", got, want)
	}
	if got, want := len(res.Elected), 13; got != want {
		t.Errorf("%d elected, want %d", got, want)
	}
	if got, want := res.Vacant, 2; got != want {
		t.Errorf("vacant = %d, want %d", got, want)
	}
	if got, want := candidateResult(t, res, "k13").Text, "50,26%"; got != want {
		t.Errorf("98 votes: %q, want %q", got, want)
	}
	if got, want := candidateResult(t, res, "k14").Text, "49,74%"; got != want {
		t.Errorf("97 votes: %q, want %q", got, want)
	}
	if got, want := candidateResult(t, res, "k14").Status, tally.StatusNotElected; got != want {
		t.Errorf("97 votes: status %q, want %q", got, want)
	}
}

// ex4Votes are Ex 4's round-1 votes of k01 … k18.
var ex4Votes = []int{180, 175, 170, 166, 160, 155, 150, 140, 132, 120, 110, 104, 98, 97, 90, 75, 60, 41}

func ex4Round1(t testing.TB) (*tally.Contest, *tally.Result) {
	t.Helper()
	var cands []tally.Candidate
	votes := map[string]int{}
	// Names in reverse alphabetical order of the given name, so that ballot
	// order is not vote order.
	given := []string{"Yến", "Xuân", "Vinh", "Uyên", "Tâm", "Sơn", "Quang", "Phúc", "Oanh", "Nga", "Minh", "Lan", "Khoa", "Hùng", "Giang", "Đạt", "Cúc", "Bảo"}
	for i, v := range ex4Votes {
		id := "k" + string(rune('0'+(i+1)/10)) + string(rune('0'+(i+1)%10))
		cands = append(cands, cand(id, "Nguyễn Văn "+given[i]))
		votes[id] = v
	}
	c := newContest(t, 15, 0, cands, func(c *tally.Contest) {
		c.ID = "bch-2025"
		c.Kind = tally.KindCommittee // 18 names for 15 seats: surplus 3 ≤ 4
		c.Electorate = tally.Electorate{Congress: tally.CongressDelegates, Convened: 200,
			Exclusions: tally.Exclusions{CommitteeAbsent: 3, DelegatesAbsentUnreplaced: 2}}
	})
	ballots := strikeBallots(t, c, 192, votes)
	ballots = append(ballots,
		tally.Ballot{ID: "x1", Struck: []string{}},
		tally.Ballot{ID: "x2", Struck: idsOf(c.Candidates)},
		tally.Ballot{ID: "x3", Invalid: tally.ReasonNotIssued},
	)
	return c, resultOf(t, c, ballots)
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
