package tally_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/kiemphieu/kiemphieu/tally"
)

// contestMap is designContest as a map, for tests to break one rule at a time.
func contestMap(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(designContest), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func subMap(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }

// withCandidates sets n plain candidates c1 … cn.
func withCandidates(m map[string]any, n int) {
	cs := make([]any, n)
	for i := range cs {
		cs[i] = map[string]any{"id": fmt.Sprintf("c%d", i+1), "name": fmt.Sprintf("Nguyễn Văn Số%d", i+1)}
	}
	m["candidates"] = cs
}

// withList sets kind, seats, ballot style and n candidates.
func withList(kind string, seats int, ballot string, n int) func(map[string]any) {
	return func(m map[string]any) {
		m["kind"], m["seats"], m["ballot"] = kind, seats, ballot
		withCandidates(m, n)
	}
}

func mutations(fs ...func(map[string]any)) func(map[string]any) {
	return func(m map[string]any) {
		for _, f := range fs {
			f(m)
		}
	}
}

func TestContestValidation(t *testing.T) {
	set := func(key string, v any) func(map[string]any) { return func(m map[string]any) { m[key] = v } }
	del := func(key string) func(map[string]any) { return func(m map[string]any) { delete(m, key) } }
	setIn := func(obj, key string, v any) func(map[string]any) {
		return func(m map[string]any) { subMap(m, obj)[key] = v }
	}
	exclusions := func(ex map[string]any) func(map[string]any) {
		return func(m map[string]any) { subMap(m, "electorate")["exclusions"] = ex }
	}
	congress := func(c string, convened int, ex map[string]any) func(map[string]any) {
		return func(m map[string]any) {
			m["electorate"] = map[string]any{"congress": c, "convened": convened, "exclusions": ex}
		}
	}
	candidate := func(i int, key string, v any) func(map[string]any) {
		return func(m map[string]any) { m["candidates"].([]any)[i].(map[string]any)[key] = v }
	}
	tests := []struct {
		name   string
		mutate func(map[string]any)
		fields []string // nil: valid
	}{
		{"the DESIGN example", nil, nil},

		{"bad id", set("id", "bad id!"), []string{"id"}},
		{"empty id", set("id", ""), []string{"id"}},
		{"id starting with a dash", set("id", "-x"), []string{"id"}},
		{"id too long", set("id", strings.Repeat("x", 65)), []string{"id"}},
		{"id of 64", set("id", strings.Repeat("x", 64)), nil},
		{"id with surrounding space", set("id", " bch.p4_2025 "), nil},
		{"missing title", del("title"), []string{"title"}},
		{"blank title", set("title", " \t "), []string{"title"}},
		{"title too long", set("title", strings.Repeat("ằ", 301)), []string{"title"}},
		{"bad kind", set("kind", "president"), []string{"kind"}},
		{"kind in capitals", set("kind", "Committee"), []string{"kind"}},
		{"round 0", set("round", 0), []string{"round"}},
		{"seats 0", set("seats", 0), []string{"seats"}},
		{"seats negative", set("seats", -5), []string{"seats"}},
		{"bad ballot", set("ballot", "rank"), []string{"ballot"}},

		{"strike with candidates = seats", withList("delegates", 6, "strike", 6), []string{"ballot"}},
		{"strike with candidates < seats", withList("delegates", 7, "strike", 6), []string{"ballot"}},
		{"approve with candidates > seats", withList("delegates", 5, "approve", 6), []string{"ballot"}},
		{"approve with candidates = seats", withList("delegates", 6, "approve", 6), nil},
		{"approve with candidates < seats", withList("delegates", 7, "approve", 6), nil},
		{"delegates with a large surplus", withList("delegates", 5, "strike", 12), nil},

		{"committee 15 seats, 19 names", withList("committee", 15, "strike", 19), nil},
		{"committee 15 seats, 20 names", withList("committee", 15, "strike", 20), []string{"candidates"}},
		{"committee 11 seats, 14 names", withList("committee", 11, "strike", 14), nil},
		{"committee 11 seats, 15 names", withList("committee", 11, "strike", 15), []string{"candidates"}},
		{"committee 5 seats, 6 names", withList("committee", 5, "strike", 6), nil},
		{"committee 5 seats, 7 names", withList("committee", 5, "strike", 7), []string{"candidates"}},
		{"committee 3 seats, 4 names", withList("committee", 3, "strike", 4), nil},
		{"committee 3 seats, 5 names", withList("committee", 3, "strike", 5), []string{"candidates"}},
		{"standing committee 5 seats, 7 names", withList("standing_committee", 5, "strike", 7), []string{"candidates"}},
		{"committee 6 seats, 7 names", withList("committee", 6, "strike", 7), nil},
		{"committee 6 seats, 8 names", withList("committee", 6, "strike", 8), []string{"candidates"}},
		{"committee without surplus, round 1", withList("committee", 5, "approve", 5), []string{"candidates"}},
		{"standing committee without surplus, round 1", withList("standing_committee", 5, "approve", 5), []string{"candidates"}},
		{"committee without surplus, round 2", mutations(withList("committee", 5, "approve", 5), set("round", 2)), nil},
		{"committee round 2, any surplus", mutations(withList("committee", 2, "strike", 5), set("round", 2)), nil},
		{"secretary, single name", withList("secretary", 1, "approve", 1), nil},
		{"inspection committee without surplus", withList("inspection_committee", 3, "approve", 3), nil},

		{"duplicate candidate ids", candidate(3, "id", "c1"), []string{"candidates[3].id"}},
		{"bad candidate id", candidate(0, "id", "c 1"), []string{"candidates[0].id"}},
		{"blank candidate name", candidate(2, "name", "   "), []string{"candidates[2].name"}},
		{"candidate name too long", candidate(2, "name", strings.Repeat("ư", 201)), []string{"candidates[2].name"}},
		{"bad gender", candidate(1, "gender", "other"), []string{"candidates[1].gender"}},
		{"bad birth date", candidate(1, "birth_date", "1975-13-01"), []string{"candidates[1].birth_date"}},
		{"birth date in another format", candidate(1, "birth_date", "02/03/1975"), []string{"candidates[1].birth_date"}},
		{"born after the reference date", candidate(1, "birth_date", "2025-05-01"), []string{"candidates[1].birth_date"}},
		{"born on the reference date", candidate(1, "birth_date", "2025-04-30"), nil},
		{"no candidates", set("candidates", []any{}), []string{"candidates"}},
		{"candidates null", set("candidates", nil), []string{"candidates"}},

		{"members' congress, a delegates' exclusion", exclusions(map[string]any{"committee_absent": 1}), []string{"electorate.exclusions.committee_absent"}},
		{"members' congress, the other delegates' exclusion", exclusions(map[string]any{"delegates_absent_unreplaced": 2}), []string{"electorate.exclusions.delegates_absent_unreplaced"}},
		{"delegates' congress, a members' exclusion", congress("delegates", 200, map[string]any{"committee_absent": 3, "temporary_elsewhere": 1}), []string{"electorate.exclusions.temporary_elsewhere"}},
		{"body, an exclusion", congress("body", 15, map[string]any{"absent_with_leave": 1}), []string{"electorate.exclusions.absent_with_leave"}},
		{"body, a delegates' exclusion", congress("body", 15, map[string]any{"committee_absent": 1}), []string{"electorate.exclusions.committee_absent"}},
		{"delegates' congress, members' exclusions at zero", congress("delegates", 200, map[string]any{
			"temporary_elsewhere": 0, "exempt_absent": 0, "suspended_or_detained": 0, "absent_with_leave": 0,
			"committee_absent": 3, "delegates_absent_unreplaced": 2}), nil},
		{"body, every exclusion at zero", congress("body", 15, map[string]any{
			"temporary_elsewhere": 0, "exempt_absent": 0, "suspended_or_detained": 0, "absent_with_leave": 0,
			"committee_absent": 0, "delegates_absent_unreplaced": 0}), nil},
		{"negative exclusion", exclusions(map[string]any{"exempt_absent": -1}), []string{"electorate.exclusions.exempt_absent"}},
		{"negative exclusion of the other type", exclusions(map[string]any{"committee_absent": -1}), []string{"electorate.exclusions.committee_absent"}},
		{"exclusions eat all of D", congress("members", 4, map[string]any{"temporary_elsewhere": 2, "exempt_absent": 1, "absent_with_leave": 1}), []string{"electorate.exclusions"}},
		{"exclusions exceed D", congress("delegates", 4, map[string]any{"committee_absent": 3, "delegates_absent_unreplaced": 2}), []string{"electorate.exclusions"}},
		{"exclusions leave D = 1", congress("members", 5, map[string]any{"temporary_elsewhere": 2, "exempt_absent": 1, "absent_with_leave": 1}), nil},
		{"nobody convened", setIn("electorate", "convened", 0), []string{"electorate.convened"}},
		{"bad congress", setIn("electorate", "congress", "party"), []string{"electorate.congress"}},

		{"percent places 4", setIn("percent", "places", 4), nil},
		{"percent places 0", setIn("percent", "places", 0), nil},
		{"percent places 5", setIn("percent", "places", 5), []string{"percent.places"}},
		{"percent places -1", setIn("percent", "places", -1), []string{"percent.places"}},
		{"percent rounding", setIn("percent", "rounding", "bankers"), []string{"percent.rounding"}},
		{"truncate", setIn("percent", "rounding", "truncate"), nil},
		{"visibility", set("visibility", "public"), []string{"visibility"}},
		{"visibility live", set("visibility", "live"), nil},
		{"reference date", setIn("composition", "reference_date", "30/04/2025"), []string{"composition.reference_date"}},
		{"no reference date", setIn("composition", "reference_date", ""), nil},
		{"young_under 0", setIn("composition", "young_under", 0), []string{"composition.young_under"}},
		{"age bands decreasing", setIn("composition", "age_bands", []int{50, 40}), []string{"composition.age_bands"}},
		{"age bands equal", setIn("composition", "age_bands", []int{40, 40}), []string{"composition.age_bands"}},
		{"one age band", setIn("composition", "age_bands", []int{40}), []string{"composition.age_bands"}},
		{"age bands null", setIn("composition", "age_bands", nil), []string{"composition.age_bands"}},

		{"every problem at once", mutations(set("id", "?"), del("title"), set("seats", 0), setIn("percent", "places", 9)),
			[]string{"id", "title", "seats", "percent.places"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := contestMap(t)
			if tt.mutate != nil {
				tt.mutate(m)
			}
			data, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			c, err := tally.ParseContest(data)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("ParseContest: %v", err)
				}
				if err := c.Validate(); err != nil {
					t.Errorf("a parsed contest does not validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseContest accepted %s", data)
			}
			if got, want := problemFields(err), tt.fields; !slices.Equal(got, want) {
				t.Errorf("fields = %q, want %q\n%v", got, want, err)
			}
			for _, p := range tally.Problems(err) {
				if p.Kind != tally.Invalid || p.Message == "" {
					t.Errorf("problem %+v: want kind invalid and a message", p)
				}
			}
			if got, want := tally.ErrorKind(err), tally.Invalid; got != want {
				t.Errorf("kind = %q, want %q", got, want)
			}
		})
	}
}

// Errors in the JSON itself name the field and say what was expected.
func TestParseContestJSONErrors(t *testing.T) {
	base := strings.TrimSuffix(strings.TrimSpace(designContest), "}")
	tests := []struct {
		name    string
		input   string
		field   func(string) bool
		message string // a part of the message
	}{
		{"unknown field", base + `, "seat": 5}`, fieldIs("seat"), "unknown field"},
		{"unknown nested field", strings.Replace(designContest, `"convened": 25`, `"convened": 25, "attending": 20`, 1), fieldHasSuffix("attending"), "unknown field"},
		{"seats as a string", strings.Replace(designContest, `"seats": 5`, `"seats": "5"`, 1), fieldIs("seats"), "expected a whole number, got JSON string"},
		{"seats as a fraction", strings.Replace(designContest, `"seats": 5`, `"seats": 5.5`, 1), fieldIs("seats"), "whole number"},
		{"convened as a string", strings.Replace(designContest, `"convened": 25`, `"convened": "25"`, 1), fieldIs("electorate.convened"), "expected a whole number, got JSON string"},
		{"exclusion as a bool", strings.Replace(designContest, `"committee_absent": 0`, `"committee_absent": false`, 1), fieldIs("electorate.exclusions.committee_absent"), "whole number"},
		{"electorate as a number", strings.Replace(designContest, `"electorate": {`, `"electorate": 5, "x": {`, 1), fieldIs("electorate"), "expected an object, got JSON number"},
		{"kind as a number", strings.Replace(designContest, `"kind": "committee"`, `"kind": 1`, 1), fieldIs("kind"), "expected a string, got JSON number"},
		{"candidates as an object", strings.Replace(designContest, `"candidates": [`, `"candidates": {"x": [`, 1) + "}", fieldIs("candidates"), "expected a list"},
		{"incumbent as a string", strings.Replace(designContest, `"incumbent": true}`, `"incumbent": "yes"}`, 1), fieldAll(fieldHasPrefix("candidates"), fieldHasSuffix(".incumbent")), "true or false"},
		{"age bands as a string", strings.Replace(designContest, `"age_bands": [40, 50]`, `"age_bands": "40-50"`, 1), fieldIs("composition.age_bands"), "expected a list"},
		{"trailing object", designContest + ` {}`, fieldIs(""), "after the contest"},
		{"trailing brace", designContest + `}`, fieldIs(""), "after the contest"},
		{"truncated", designContest[:100], fieldIs(""), ""},
		{"malformed", `{"id": "x",}`, fieldIs(""), "malformed JSON"},
		{"empty", ``, fieldIs(""), "empty"},
		{"not an object", `[]`, fieldIs("(value)"), "an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tally.ParseContest([]byte(tt.input))
			if err == nil {
				t.Fatalf("ParseContest accepted %s", tt.input)
			}
			ps := tally.Problems(err)
			if len(ps) != 1 {
				t.Fatalf("want one problem, got %d: %v", len(ps), err)
			}
			if !tt.field(ps[0].Field) {
				t.Errorf("field = %q (%v)", ps[0].Field, err)
			}
			if !strings.Contains(ps[0].Message, tt.message) {
				t.Errorf("message %q does not say %q", ps[0].Message, tt.message)
			}
			if got, want := ps[0].Kind, tally.Invalid; got != want {
				t.Errorf("kind = %q, want %q", got, want)
			}
		})
	}
	// Trailing white space is not data.
	if _, err := tally.ParseContest([]byte(designContest + "\n\t \r\n")); err != nil {
		t.Errorf("trailing white space refused: %v", err)
	}
}

func fieldIs(want string) func(string) bool { return func(s string) bool { return s == want } }
func fieldHasSuffix(suffix string) func(string) bool {
	return func(s string) bool { return strings.HasSuffix(s, suffix) }
}
func fieldHasPrefix(prefix string) func(string) bool {
	return func(s string) bool { return strings.HasPrefix(s, prefix) }
}
func fieldAll(fs ...func(string) bool) func(string) bool {
	return func(s string) bool {
		for _, f := range fs {
			if !f(s) {
				return false
			}
		}
		return true
	}
}

// domain-rules §5.2–5.4: D is those convened less the exclusions of the
// congress type; never the ballots.
func TestDenominator(t *testing.T) {
	tests := []struct {
		name       string
		electorate string
		want       int
	}{
		{"Ex 1: members' congress", `{"congress": "members", "convened": 25,
			"exclusions": {"temporary_elsewhere": 2, "exempt_absent": 1, "absent_with_leave": 1}}`, 21},
		{"members' congress, suspended", `{"congress": "members", "convened": 30,
			"exclusions": {"suspended_or_detained": 2}}`, 28},
		{"Ex 4: delegates' congress", `{"congress": "delegates", "convened": 200,
			"exclusions": {"committee_absent": 3, "delegates_absent_unreplaced": 2}}`, 195},
		{"Ex 9: delegates' congress, nobody absent", `{"congress": "delegates", "convened": 150}`, 150},
		{"Ex 6: committee meeting", `{"congress": "body", "convened": 15}`, 15},
		// Audit B8: a committee meeting excludes a member suspended or
		// detained (Quy định 24-QĐ/TW §9.3.3 [U], the documented default).
		{"committee meeting, one detained", `{"congress": "body", "convened": 16,
			"exclusions": {"suspended_or_detained": 1}}`, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := strings.Replace(designContest, designElectorate, tt.electorate, 1)
			if js == designContest {
				t.Fatal("fixture: electorate not replaced")
			}
			c := mustParseContest(t, js)
			if got, want := c.Denominator(), tt.want; got != want {
				t.Errorf("D = %d, want %d", got, want)
			}
		})
	}
}

const designElectorate = `{
    "congress": "members",
    "convened": 25,
    "exclusions": {"temporary_elsewhere": 2, "exempt_absent": 1, "suspended_or_detained": 0,
                   "absent_with_leave": 1, "committee_absent": 0, "delegates_absent_unreplaced": 0}
  }`

func TestSurplusLimit(t *testing.T) {
	// domain-rules §3.1 and Ex 11: floor(30%), except 1 for 3–5 seats.
	for seats, want := range map[int]int{1: 0, 2: 0, 3: 1, 4: 1, 5: 1, 6: 1, 7: 2, 9: 2, 10: 3, 11: 3, 15: 4, 17: 5, 20: 6, 61: 18} {
		if got := tally.SurplusLimit(seats); got != want {
			t.Errorf("SurplusLimit(%d) = %d, want %d", seats, got, want)
		}
	}
}

func TestParseContestDefaults(t *testing.T) {
	c := mustParseContest(t, `{"id": "bt", "title": "Bầu Bí thư", "kind": "secretary", "seats": 1, "ballot": "approve",
		"electorate": {"congress": "members", "convened": 21},
		"candidates": [{"id": "a", "name": "Nguyễn Văn An"}]}`)
	if got, want := c.Round, 1; got != want {
		t.Errorf("round = %d, want %d", got, want)
	}
	if got, want := c.Percent, (tally.PercentPolicy{Places: 2, Rounding: tally.RoundHalfUp}); got != want {
		t.Errorf("percent = %+v, want %+v", got, want)
	}
	if got, want := c.Visibility, tally.VisibilityCertified; got != want {
		t.Errorf("visibility = %q, want %q", got, want)
	}
	if got, want := c.Composition.YoungUnder, 40; got != want {
		t.Errorf("young_under = %d, want %d", got, want)
	}
	if got, want := c.Composition.AgeBands, []int{40, 50}; !slices.Equal(got, want) {
		t.Errorf("age_bands = %v, want %v", got, want)
	}
	if got := c.Composition.ReferenceDate; got != "" {
		t.Errorf("reference_date = %q, want none", got)
	}
	// Giving only the places keeps the default rounding.
	c = mustParseContest(t, strings.Replace(designContest, `"percent": {"places": 2, "rounding": "half_up"}`, `"percent": {"places": 3}`, 1))
	if got, want := c.Percent, (tally.PercentPolicy{Places: 3, Rounding: tally.RoundHalfUp}); got != want {
		t.Errorf("percent = %+v, want %+v", got, want)
	}
}

// Text is NFC on input, with runs of white space collapsed.
func TestParseContestNormalizesText(t *testing.T) {
	nfd := func(s string) string { return norm.NFD.String(s) }
	js := strings.NewReplacer(
		`"Bầu Ban Chấp hành Đảng bộ Phường 4, nhiệm kỳ 2025–2030"`, `"  `+nfd("Bầu Ban Chấp hành")+`   Đảng bộ Phường 4,\tnhiệm kỳ 2025–2030 "`,
		`"Nguyễn Văn An"`, `"`+nfd("Nguyễn  Văn An")+`"`,
		`"Trần Thị Bình"`, `" Trần Thị\u00a0Bình"`,
		`"id": "c3"`, `"id": " c3 "`,
		`"birth_date": "1976-05-01"`, `"birth_date": " 1976-05-01 "`,
	).Replace(designContest)
	if js == designContest {
		t.Fatal("fixture: nothing replaced")
	}
	if nfd("Nguyễn") == "Nguyễn" {
		t.Fatal("fixture: NFD is the same as NFC")
	}
	c := mustParseContest(t, js)
	if got, want := c.Title, "Bầu Ban Chấp hành Đảng bộ Phường 4, nhiệm kỳ 2025–2030"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
	names := map[string]string{}
	for _, cd := range c.Candidates {
		names[cd.ID] = cd.Name
		if !norm.NFC.IsNormalString(cd.Name) {
			t.Errorf("%s: name %q is not NFC", cd.ID, cd.Name)
		}
	}
	if got, want := names["c1"], "Nguyễn Văn An"; got != want {
		t.Errorf("c1 name = %q (% x), want %q", got, got, want)
	}
	if got, want := names["c2"], "Trần Thị Bình"; got != want {
		t.Errorf("c2 name = %q, want %q", got, want)
	}
	if _, ok := names["c3"]; !ok {
		t.Errorf("candidate id not trimmed: %v", names)
	}
	// The ballot order is by the normalized names: the same as the DESIGN file's.
	if got, want := idsOf(c.Candidates), idsOf(mustParseContest(t, designContest).Candidates); !slices.Equal(got, want) {
		t.Errorf("ballot order = %v, want %v", got, want)
	}
	// Normalize is idempotent.
	before := *c
	before.Candidates = slices.Clone(c.Candidates)
	c.Normalize()
	if got, want := c.Title, before.Title; got != want {
		t.Errorf("Normalize changed the title: %q → %q", want, got)
	}
	if !slices.Equal(c.Candidates, before.Candidates) {
		t.Errorf("Normalize changed the candidates")
	}
}
