package tally_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// The worked examples of domain-rules §11 live in examples/<name>/ (see
// examples/README.md). Each folder holds a contest.json and either
//   - ballots.jsonl and result.json: counting the ballots must give exactly
//     result.json (the §5.3 result without "version"), whose numbers were
//     written from the example's text, not from this engine;
//   - error.txt: ParseContest must refuse the contest, with every line of
//     error.txt somewhere in the error text;
//   - nothing else: the contest must be accepted.
const examplesDir = "../examples"

func TestExamples(t *testing.T) {
	dirs := exampleDirs(t)
	if len(dirs) == 0 {
		t.Fatalf("no examples found in %s", examplesDir)
	}
	for _, name := range dirs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(examplesDir, name)
			data := exReadFile(t, dir, "contest.json")
			c, err := tally.ParseContest(data)
			if want, ok := exOptionalFile(t, dir, "error.txt"); ok {
				exCheckRefusal(t, name, err, string(want))
				return
			}
			if err != nil {
				t.Fatalf("%s: contest.json refused: %v", name, err)
			}
			ballots, hasBallots := exOptionalFile(t, dir, "ballots.jsonl")
			want, hasResult := exOptionalFile(t, dir, "result.json")
			switch {
			case !hasBallots && !hasResult:
				return // a contest that must only validate
			case hasBallots != hasResult:
				t.Fatalf("%s: ballots.jsonl and result.json go together", name)
			}
			got := exCount(t, name, c, ballots)
			exCompareResult(t, name, got, want)
		})
	}
}

// exampleNextRounds pairs each example of a later round with the round it follows:
// tally.NextRoundWith on the earlier contest, its expected result and the
// later round's list-edit.json (the names the congress added or let
// withdraw; none when the file is absent) must give the later contest.
var exampleNextRounds = []struct{ next, prev string }{
	{"ex03-revote", "ex03-tie-at-cutoff"},
	{"ex03b-revote-tied-again", "ex03-tie-at-cutoff"},
	{"ex03c-revote-not-over-half", "ex03-tie-at-cutoff"},
	{"ex04-delegate-congress-r2", "ex04-delegate-congress-r1"},
	{"ex09-delegates-r2", "ex09-delegates-r1"},
	{"b4-secretary-r2-added-nominee", "ex05b-secretary-not-elected"},
	{"b5-inspection-vacant-r2", "b5-inspection-vacant-r1"},
}

func TestExamplesNextRound(t *testing.T) {
	for _, nr := range exampleNextRounds {
		t.Run(nr.next, func(t *testing.T) {
			prevDir := filepath.Join(examplesDir, nr.prev)
			prev, err := tally.ParseContest(exReadFile(t, prevDir, "contest.json"))
			if err != nil {
				t.Fatalf("%s: %v", nr.prev, err)
			}
			// The expected result, not the engine's count: NextRound is
			// checked on its own.
			var res tally.Result
			if err := json.Unmarshal(exReadFile(t, prevDir, "result.json"), &res); err != nil {
				t.Fatalf("%s/result.json: %v", nr.prev, err)
			}
			want, err := tally.ParseContest(exReadFile(t, filepath.Join(examplesDir, nr.next), "contest.json"))
			if err != nil {
				t.Fatalf("%s: %v", nr.next, err)
			}
			var edit tally.ListEdit
			if data, ok := exOptionalFile(t, filepath.Join(examplesDir, nr.next), "list-edit.json"); ok {
				if err := tally.DecodeJSON(data, &edit, "list edit"); err != nil {
					t.Fatalf("%s/list-edit.json: %v", nr.next, err)
				}
			}
			got, err := tally.NextRoundWith(prev, &res, edit)
			if err != nil {
				t.Fatalf("NextRound(%s): %v", nr.prev, err)
			}
			check := func(field string, got, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("NextRound(%s).%s = %v, want %v (as in %s/contest.json)", nr.prev, field, got, want, nr.next)
				}
			}
			check("Round", got.Round, want.Round)
			check("Kind", got.Kind, want.Kind)
			check("Seats", got.Seats, want.Seats)
			check("Denominator()", got.Denominator(), want.Denominator())
			check("Ballot", got.Ballot, want.Ballot)
			check("candidate ids", exCandidateIDs(got), exCandidateIDs(want))
			check("Candidates", got.Candidates, want.Candidates)
			check("Electorate", got.Electorate, want.Electorate)
			check("Percent", got.Percent, want.Percent)
			check("Visibility", got.Visibility, want.Visibility)
			check("Composition", got.Composition, want.Composition)
		})
	}
}

func exampleDirs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(examplesDir)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(examplesDir, e.Name(), "contest.json")); err == nil {
			dirs = append(dirs, e.Name())
			continue
		}
		// A whole congress (ex20) keeps each of its rounds under rounds/.
		rounds, err := os.ReadDir(filepath.Join(examplesDir, e.Name(), "rounds"))
		if err != nil {
			continue
		}
		for _, r := range rounds {
			if r.IsDir() {
				dirs = append(dirs, e.Name()+"/rounds/"+r.Name())
			}
		}
	}
	return dirs
}

func exReadFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func exOptionalFile(t *testing.T, dir, name string) ([]byte, bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return data, true
}

func exCheckRefusal(t *testing.T, name string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: contest.json was accepted; want it refused with:\n%s", name, want)
	}
	if kind := tally.ErrorKind(err); kind != tally.Invalid {
		t.Errorf("%s: error kind %q, want %q", name, kind, tally.Invalid)
	}
	for _, line := range strings.Split(want, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.Contains(err.Error(), line) {
			t.Errorf("%s: the error does not contain %q; it is:\n%v", name, line, err)
		}
	}
}

// exCount counts the ballots line by line, as `kiemphieu recount` does.
func exCount(t *testing.T, name string, c *tally.Contest, ballots []byte) *tally.Result {
	t.Helper()
	count := tally.NewCount(c)
	index := c.Index()
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(ballots))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		b, err := tally.ParseBallot(line)
		if err != nil {
			t.Fatalf("%s/ballots.jsonl:%d: %v", name, n, err)
		}
		if first, dup := seen[b.ID]; dup {
			t.Fatalf("%s/ballots.jsonl:%d: ballot id %q already used on line %d", name, n, b.ID, first)
		}
		seen[b.ID] = n
		m, err := c.Mark(b, index)
		if err != nil {
			t.Fatalf("%s/ballots.jsonl:%d: %v", name, n, err)
		}
		count.Add(m)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s/ballots.jsonl: %v", name, err)
	}
	return count.Result()
}

// exCompareResult compares the result with result.json as parsed JSON and
// reports every differing field by its path.
func exCompareResult(t *testing.T, name string, got *tally.Result, wantJSON []byte) {
	t.Helper()
	gotJSON, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	want, err := exDecodeJSON(wantJSON)
	if err != nil {
		t.Fatalf("%s/result.json: %v", name, err)
	}
	if m, ok := want.(map[string]any); ok {
		if _, ok := m["version"]; ok {
			t.Fatalf(`%s/result.json: carries "version", which the offline result has not`, name)
		}
	}
	have, err := exDecodeJSON(gotJSON)
	if err != nil {
		t.Fatal(err)
	}
	if diffs := exDiffJSON("", want, have); len(diffs) > 0 {
		t.Errorf("%s: the result differs from result.json (want → got):\n  %s\ngot: %s",
			name, strings.Join(diffs, "\n  "), gotJSON)
	}
}

func exDecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// exDiffJSON lists the differences between two decoded JSON values, each as
// "path: want → got". Array elements that are objects with an "id" are
// named by it: candidates[2](F).votes.
func exDiffJSON(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %s → %s", exOrRoot(path), exShow(want), exShow(got))}
		}
		var diffs []string
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range w {
				if !yield(k) {
					return
				}
			}
			for k := range g {
				if _, both := w[k]; !both && !yield(k) {
					return
				}
			}
		})
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inG:
				diffs = append(diffs, fmt.Sprintf("%s: %s → (missing)", p, exShow(wv)))
			case !inW:
				diffs = append(diffs, fmt.Sprintf("%s: (absent) → %s", p, exShow(gv)))
			default:
				diffs = append(diffs, exDiffJSON(p, wv, gv)...)
			}
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %s → %s", exOrRoot(path), exShow(want), exShow(got))}
		}
		var diffs []string
		if len(w) != len(g) {
			diffs = append(diffs, fmt.Sprintf("%s: %d elements → %d: %s → %s", exOrRoot(path), len(w), len(g), exShow(w), exShow(g)))
		}
		for i := range min(len(w), len(g)) {
			p := fmt.Sprintf("%s[%d]", path, i)
			if obj, ok := w[i].(map[string]any); ok {
				if id, ok := obj["id"].(string); ok {
					p += "(" + id + ")"
				}
			}
			diffs = append(diffs, exDiffJSON(p, w[i], g[i])...)
		}
		return diffs
	default:
		if !reflect.DeepEqual(want, got) {
			return []string{fmt.Sprintf("%s: %s → %s", exOrRoot(path), exShow(want), exShow(got))}
		}
		return nil
	}
}

func exOrRoot(path string) string {
	if path == "" {
		return "(result)"
	}
	return path
}

func exShow(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func exCandidateIDs(c *tally.Contest) []string {
	ids := make([]string, len(c.Candidates))
	for i, cand := range c.Candidates {
		ids[i] = cand.ID
	}
	return ids
}
