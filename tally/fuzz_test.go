package tally_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// contestSeeds are contest definitions from DESIGN §5.1 and domain-rules §11,
// and a few broken ones.
var contestSeeds = []string{
	designContest,
	`{"id": "bt", "title": "Bầu Bí thư", "kind": "secretary", "seats": 1, "ballot": "approve",
	  "electorate": {"congress": "members", "convened": 21},
	  "candidates": [{"id": "a", "name": "Nguyễn Văn An"}]}`,
	`{"id": "ubkt", "title": "Bầu Ủy ban Kiểm tra", "kind": "inspection_committee", "seats": 3, "ballot": "approve",
	  "electorate": {"congress": "body", "convened": 15}, "percent": {"places": 0, "rounding": "truncate"},
	  "candidates": [{"id": "x", "name": "Lê Văn X"}, {"id": "y", "name": "Lê Thị Y", "gender": "female"},
	                 {"id": "z", "name": "Lê Văn Z", "incumbent": false}]}`,
	`{"id": "dbi-r2", "title": "Bầu đại biểu, lần 2", "kind": "delegates", "round": 2, "seats": 1, "ballot": "strike",
	  "electorate": {"congress": "delegates", "convened": 200, "exclusions": {"committee_absent": 3, "delegates_absent_unreplaced": 2}},
	  "visibility": "live", "composition": {"reference_date": "2025-06-30", "young_under": 35, "age_bands": [35, 55]},
	  "candidates": [{"id": "c10", "name": "Trần  Văn Mười", "birth_date": "1990-02-28", "ethnic_minority": true},
	                 {"id": "c11", "name": "Ngô Ơn"}, {"id": "c12", "name": "Bùi Ôn"}]}`,
	`{"id": "yk", "title": "Xin ý kiến", "kind": "opinion", "seats": 2, "ballot": "approve",
	  "electorate": {"congress": "delegates", "convened": 125, "present": 120},
	  "candidates": [{"id": "h", "name": "Trần Thị Hải"}, {"id": "k", "name": "Lê Minh Khánh"}]}`,
	`{"id": "gt", "title": "Giới thiệu", "kind": "introduction", "seats": 1, "ballot": "name",
	  "electorate": {"congress": "body", "convened": 9},
	  "candidates": [{"id": "a", "name": "Nguyễn Văn An"}, {"id": "b", "name": "Trần Thị Bình"}]}`,
	`{"id": "x", "seats": "5"}`,
	`{"id": "x", "seat": 5}`,
	`{"id": "x"} {}`,
	`[]`,
	``,
}

// ParseContest never panics; what it accepts validates and survives a
// round trip through json.Marshal unchanged.
func FuzzParseContest(f *testing.F) {
	for _, s := range contestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := tally.ParseContest(data)
		if err != nil {
			checkProblems(t, err)
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted contest does not validate: %v\n%s", err, data)
		}
		if d := c.Denominator(); d < 1 {
			t.Fatalf("accepted contest has D = %d", d)
		}
		sorted := slices.Clone(c.Candidates)
		tally.SortBallotOrder(sorted)
		if !slices.Equal(sorted, c.Candidates) {
			t.Fatalf("candidates not in ballot order: %v", idsOf(c.Candidates))
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		c2, err := tally.ParseContest(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if !reflect.DeepEqual(c, c2) {
			out2, _ := json.Marshal(c2)
			t.Fatalf("round trip changed the contest:\n%s\n%s", out, out2)
		}
	})
}

// ballotSeeds are the ballot lines of DESIGN §5.2 and variants.
var ballotSeeds = []string{
	`{"id": "b-0001", "struck": ["c2", "c5"]}`,
	`{"id": "b-0002", "marks": {"c1": "agree", "c2": "disagree", "c3": "both"}}`,
	`{"id": "b-0003", "invalid": "write_in", "note": "ghi thêm tên"}`,
	`{"id": "b-0004", "struck": []}`,
	`{"id": "b-0005", "marks": {}}`,
	`{"id": "b-0006", "invalid": "other", "note": " rách  đôi "}`,
	`{"id": "b-0007", "struck": ["c1", "c1"]}`,
	`{"id": "b-0008", "marks": {"c1": "none", "zz": "agree"}}`,
	`{"id":"b","struck":null}`,
	`{"id": "b", "struck": []}}`,
	`{"id": "b", "marks": {"c1": "yes"}}`,
	`{"ID": "b", "Struck": ["c3"]}`,
	`{"id": "b-0009", "named": ["c1", "c3"]}`,
	`{"id": "b-0010", "named": []}`,
	`{"id": "b-0011", "named": ["c1"], "marks": {}}`,
}

// ParseBallot never panics; what it accepts validates and survives a round
// trip through json.Marshal unchanged; resolving it against a contest of
// either style never panics.
func FuzzParseBallot(f *testing.F) {
	for _, s := range ballotSeeds {
		f.Add([]byte(s))
	}
	strike := newContest(f, 2, 5, []tally.Candidate{cand("c1", "A An"), cand("c2", "B Bình"), cand("c3", "C Cúc"), cand("c5", "D Dũng")}, nil)
	approve := newContest(f, 3, 5, []tally.Candidate{cand("c1", "A An"), cand("c2", "B Bình"), cand("c3", "C Cúc")}, nil)
	named := newContest(f, 2, 5, []tally.Candidate{cand("c1", "A An"), cand("c2", "B Bình"), cand("c3", "C Cúc")}, func(c *tally.Contest) {
		c.Kind, c.Ballot = tally.KindIntroduction, tally.StyleName
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := tally.ParseBallot(data)
		if err != nil {
			checkProblems(t, err)
			return
		}
		if err := b.Validate(); err != nil {
			t.Fatalf("accepted ballot does not validate: %v", err)
		}
		out, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		b2, err := tally.ParseBallot(out)
		if err != nil {
			t.Fatalf("re-parse of %s (from %s): %v", out, data, err)
		}
		if !reflect.DeepEqual(b, b2) {
			t.Fatalf("round trip changed the ballot: %#v → %s → %#v", b, out, b2)
		}
		for _, c := range []*tally.Contest{strike, approve, named} {
			m, err := c.Mark(b, c.Index())
			if err != nil {
				checkProblems(t, err)
				continue
			}
			cnt := tally.NewCount(c)
			r := cnt.Add(m)
			if b.Invalid != tally.Valid && r != b.Invalid {
				t.Fatalf("ruling %q counted as %q", b.Invalid, r)
			}
			res := cnt.Result()
			if res.Ballots.Total != 1 || res.Ballots.Valid+res.Ballots.Invalid != 1 {
				t.Fatalf("one ballot counted as %+v", res.Ballots)
			}
		}
	})
}

// checkProblems asserts that a refusal is a list of *Errors of kind
// Invalid, each with a message.
func checkProblems(t *testing.T, err error) {
	t.Helper()
	ps := tally.Problems(err)
	if len(ps) == 0 {
		t.Fatalf("error without problems: %v", err)
	}
	for _, p := range ps {
		if p.Kind != tally.Invalid || strings.TrimSpace(p.Message) == "" {
			t.Fatalf("problem %#v: want kind invalid with a message (%v)", p, err)
		}
	}
}

// Decide keeps its invariants on any vote vector: see checkDecision.
func FuzzDecide(f *testing.F) {
	add := func(seats, d int, votes ...int) {
		b := make([]byte, len(votes))
		for i, v := range votes {
			b[i] = byte(v * 255 / d)
		}
		f.Add(uint8(seats-1), uint16(d-1), b)
	}
	add(5, 40, 35, 33, 30, 28, 26, 26, 19) // Ex 3
	add(3, 30, 25, 22, 20, 18)             // Ex 2
	add(3, 15, 13, 9, 7)                   // Ex 6
	add(1, 20, 10)                         // Ex 8
	add(3, 20, 15, 12, 12, 11)
	add(1, 10, 8, 8, 2)
	add(2, 10, 5, 5, 5)
	f.Fuzz(func(t *testing.T, seats8 uint8, d16 uint16, raw []byte) {
		seats := 1 + int(seats8)%32
		d := 1 + int(d16)%1000
		if len(raw) > 64 {
			raw = raw[:64]
		}
		votes := make([]int, len(raw))
		for i, b := range raw {
			votes[i] = int(b) * (d + 1) / 256 // 0 … d
		}
		dec := tally.Decide(seats, d, votes)
		checkDecision(t, seats, d, votes, dec)
		// The decision depends on the votes alone, not on where they sit:
		// reversing the ballot order elects the same people.
		rev := slices.Clone(votes)
		slices.Reverse(rev)
		drev := tally.Decide(seats, d, rev)
		n := len(votes)
		for i := range votes {
			if dec.Status[i] != drev.Status[n-1-i] {
				t.Fatalf("status of %d changes with ballot order: %q vs %q", i, dec.Status[i], drev.Status[n-1-i])
			}
		}
		if dec.RevoteSeats != drev.RevoteSeats || dec.Vacant != drev.Vacant {
			t.Fatalf("revote/vacant change with ballot order")
		}
	})
}
