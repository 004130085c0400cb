package tally_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Shared fixtures and helpers of the tally tests. Names are specific enough
// not to clash with the other _test files of package tally_test.

// cand is a candidate with only an id and a name.
func cand(id, name string) tally.Candidate { return tally.Candidate{ID: id, Name: name} }

// lettered returns candidates with ids "A", "B", … and names whose given
// name is that letter, so that ballot order is the order of the letters.
func lettered(n int) []tally.Candidate {
	out := make([]tally.Candidate, n)
	for i := range out {
		l := string(rune('A' + i))
		out[i] = cand(l, "Nguyễn Văn "+l)
	}
	return out
}

// newContest returns a normalized, validated contest in ballot order of kind "delegates"
// (no surplus rule) voted by a body of d members (so D = d), with the
// ballot style the list calls for; mod may change anything before
// normalization and validation.
func newContest(t testing.TB, seats, d int, cands []tally.Candidate, mod func(*tally.Contest)) *tally.Contest {
	t.Helper()
	c := &tally.Contest{
		ID:          "test",
		Title:       "Bầu thử",
		Kind:        tally.KindDelegates,
		Round:       1,
		Seats:       seats,
		Ballot:      tally.StyleStrike,
		Electorate:  tally.Electorate{Congress: tally.CongressBody, Convened: d},
		Percent:     tally.PercentPolicy{Places: 2, Rounding: tally.RoundHalfUp},
		Visibility:  tally.VisibilityCertified,
		Composition: tally.CompositionPolicy{YoungUnder: 40, AgeBands: []int{40, 50}},
		Candidates:  slices.Clone(cands),
	}
	if len(cands) <= seats {
		c.Ballot = tally.StyleApprove
	}
	if mod != nil {
		mod(c)
	}
	c.Normalize()
	if err := c.Validate(); err != nil {
		t.Fatalf("fixture contest does not validate: %v", err)
	}
	tally.SortBallotOrder(c.Candidates)
	return c
}

// mustParseContest parses a contest definition that must be valid.
func mustParseContest(t testing.TB, js string) *tally.Contest {
	t.Helper()
	c, err := tally.ParseContest([]byte(js))
	if err != nil {
		t.Fatalf("ParseContest: %v\n%s", err, js)
	}
	return c
}

// strikeBallots makes `valid` valid strike ballots that give each candidate
// exactly votes[id] votes: the kept names are dealt round-robin, so a
// candidate is kept at most once a ballot (votes ≤ valid) and every ballot
// keeps between ⌊Σ/valid⌋ and ⌈Σ/valid⌉ names. The fixture must keep every
// ballot valid (1 ≤ kept ≤ seats).
func strikeBallots(t testing.TB, c *tally.Contest, valid int, votes map[string]int) []tally.Ballot {
	t.Helper()
	kept := make([]map[string]bool, valid)
	for k := range kept {
		kept[k] = map[string]bool{}
	}
	slot := 0
	for id, v := range sortedMap(votes) {
		if v > valid {
			t.Fatalf("fixture: %s has %d votes of %d valid ballots", id, v, valid)
		}
		for range v {
			kept[slot%valid][id] = true
			slot++
		}
	}
	out := make([]tally.Ballot, valid)
	for k := range out {
		if n := len(kept[k]); n < 1 || n > c.Seats {
			t.Fatalf("fixture: ballot %d keeps %d names, not 1..%d", k, n, c.Seats)
		}
		b := tally.Ballot{ID: fmt.Sprintf("v%04d", k), Struck: []string{}}
		for _, cd := range c.Candidates {
			if !kept[k][cd.ID] {
				b.Struck = append(b.Struck, cd.ID)
			}
		}
		out[k] = b
	}
	return out
}

// sortedMap iterates a map in key order, so fixtures are deterministic.
func sortedMap(m map[string]int) func(func(string, int) bool) {
	return func(yield func(string, int) bool) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !yield(k, m[k]) {
				return
			}
		}
	}
}

// approveBallots makes n approve ballots; ballot k marks candidate id
// "agree" if k < agree[id], "disagree" if agree[id] ≤ k < agree[id]+disagree[id],
// and leaves the row empty otherwise.
func approveBallots(n int, agree, disagree map[string]int) []tally.Ballot {
	out := make([]tally.Ballot, n)
	for k := range out {
		b := tally.Ballot{ID: fmt.Sprintf("a%04d", k), Marks: map[string]tally.Mark{}}
		for id, a := range agree {
			if k < a {
				b.Marks[id] = tally.MarkAgree
			}
		}
		for id, d := range disagree {
			if a := agree[id]; k >= a && k < a+d {
				b.Marks[id] = tally.MarkDisagree
			}
		}
		out[k] = b
	}
	return out
}

// invalidBallot is a ballot the committee ruled invalid on sight.
func invalidBallot(id string, r tally.Reason) tally.Ballot {
	b := tally.Ballot{ID: id, Invalid: r}
	if r == tally.ReasonOther {
		b.Note = "rách"
	}
	return b
}

// countAll resolves and counts ballots, failing on any that does not
// resolve, and returns the count.
func countAll(t testing.TB, c *tally.Contest, ballots []tally.Ballot) *tally.Count {
	t.Helper()
	idx := c.Index()
	cnt := tally.NewCount(c)
	for _, b := range ballots {
		m, err := c.Mark(b, idx)
		if err != nil {
			t.Fatalf("ballot %s: %v", b.ID, err)
		}
		cnt.Add(m)
	}
	return cnt
}

// resultOf counts ballots and returns the result.
func resultOf(t testing.TB, c *tally.Contest, ballots []tally.Ballot) *tally.Result {
	t.Helper()
	return countAll(t, c, ballots).Result()
}

// candidateResult returns the row of id in a result.
func candidateResult(t testing.TB, r *tally.Result, id string) tally.CandidateResult {
	t.Helper()
	for _, cr := range r.Candidates {
		if cr.ID == id {
			return cr
		}
	}
	t.Fatalf("no candidate %q in the result", id)
	return tally.CandidateResult{}
}

// candidateIDs lists the ids of candidates in order.
func idsOf(cs []tally.Candidate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// assertJSONEqual compares got (marshalled) with the JSON text want,
// ignoring layout and key order.
func assertJSONEqual(t testing.TB, got any, want string) {
	t.Helper()
	gotJSON, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var g, w any
	if err := json.Unmarshal(gotJSON, &g); err != nil {
		t.Fatalf("unmarshal got: %v", err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("unmarshal want: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		var gi, wi bytes.Buffer
		_ = json.Indent(&gi, gotJSON, "", "  ")
		_ = json.Indent(&wi, []byte(want), "", "  ")
		t.Errorf("JSON differs\ngot:\n%s\nwant:\n%s", gi.String(), wi.String())
	}
}

// problemFields lists the fields of the problems in err.
func problemFields(err error) []string {
	var out []string
	for _, p := range tally.Problems(err) {
		out = append(out, p.Field)
	}
	return out
}

// refPercent is an independent, pure-integer n × 100 / d at places
// decimals, half up or truncated, formatted like Percentage.Percent.
func refPercent(n, d int64, places int, truncate bool) string {
	scale := int64(1)
	for range places {
		scale *= 10
	}
	num := n * 100 * scale
	q, r := num/d, num%d
	if !truncate && 2*r >= d {
		q++
	}
	if places == 0 {
		return fmt.Sprint(q)
	}
	return fmt.Sprintf("%d.%0*d", q/scale, places, q%scale)
}

// refText is the Vietnamese display of a refPercent value.
func refText(p string) string { return strings.Replace(p, ".", ",", 1) + "%" }

// mustParseContestMap marshals a contest map and parses it.
func mustParseContestMap(t testing.TB, m map[string]any) *tally.Contest {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return mustParseContest(t, string(data))
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
