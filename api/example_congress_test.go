package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/tally"
)

// examples/ex20-ward-congress is a whole ward congress, from the first
// show-of-hands vote to the first meeting's last election (issue 12): its
// steps.jsonl is what the secretary does, in order, through the API; each
// round's folder holds the definition, the ballots and the result written
// from the story's figures (examples/README.md). The same steps run on
// both stores.
const wardCongress = "../examples/ex20-ward-congress"

// congressStep is one line of steps.jsonl.
type congressStep struct {
	Note     string          `json:"note"`
	Do       string          `json:"do"` // an HTTP method, "count", "definition" or "page"
	Path     string          `json:"path"`
	Body     json.RawMessage `json:"body"`
	BodyFile string          `json:"body_file"`
	Status   int             `json:"status"`
	// Expect: fields the answer must carry with these values.
	Expect map[string]any `json:"expect"`
	// count and definition: the round's id and its folder.
	Contest string `json:"contest"`
	Round   string `json:"round"`
	Issued  int    `json:"issued"`
	// page: text the page must contain, and text it must not.
	Contains []string `json:"contains"`
	Absent   []string `json:"absent"`
}

func TestExampleWardCongress(t *testing.T) {
	steps := readCongressSteps(t)
	for _, st := range []struct {
		name string
		srv  func(t *testing.T) *api.Server
	}{
		{"bolt", func(t *testing.T) *api.Server { return newHarness(t).srv }},
		{"redis", redisServer},
	} {
		t.Run(st.name, func(t *testing.T) {
			srv := st.srv(t)
			for i, s := range steps {
				if !runCongressStep(t, srv, s) {
					t.Fatalf("step %d (%s %s %s): stopped", i+1, s.Do, s.Path+s.Contest, s.Note)
				}
			}
		})
	}
}

func readCongressSteps(t *testing.T) []congressStep {
	t.Helper()
	f, err := os.Open(filepath.Join(wardCongress, "steps.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var steps []congressStep
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s congressStep
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("steps.jsonl line %d: %v", len(steps)+1, err)
		}
		steps = append(steps, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return steps
}

func wardFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(wardCongress, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// runCongressStep runs one step and reports whether the congress can go
// on (a failed request stops it; a wrong figure is reported and it goes on).
func runCongressStep(t *testing.T, srv *api.Server, s congressStep) bool {
	t.Helper()
	switch s.Do {
	case "count":
		return countExampleRound(t, srv, s)
	case "definition":
		r := doApp(t, srv, "GET", "/api/v1/contests/"+s.Contest, nil, asAdmin)
		var got struct{ Contest json.RawMessage }
		decode(t, r, &got)
		want, err := tally.ParseContest(wardFile(t, s.Round+"/contest.json"))
		if err != nil {
			t.Fatalf("%s/contest.json: %v", s.Round, err)
		}
		var stored tally.Contest
		if err := json.Unmarshal(got.Contest, &stored); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&stored, want) {
			w, _ := json.Marshal(want)
			t.Errorf("%s: the stored definition is not %s/contest.json:\n got %s\nwant %s", s.Contest, s.Round, got.Contest, w)
		}
		return true
	case "page":
		r := doApp(t, srv, "GET", s.Path, nil, asAdmin)
		if r.status != http.StatusOK {
			t.Errorf("%s: %d %s", s.Path, r.status, r.body)
			return false
		}
		for _, want := range s.Contains {
			if !strings.Contains(string(r.body), want) {
				t.Errorf("%s (%s): no %q", s.Path, s.Note, want)
			}
		}
		for _, not := range s.Absent {
			if strings.Contains(string(r.body), not) {
				t.Errorf("%s (%s): %q", s.Path, s.Note, not)
			}
		}
		return true
	}
	var body any
	switch {
	case s.BodyFile != "":
		body = json.RawMessage(wardFile(t, s.BodyFile))
	case len(s.Body) > 0:
		body = s.Body
	}
	r := doApp(t, srv, s.Do, s.Path, body, asAdmin)
	if r.status != s.Status {
		t.Errorf("%s %s (%s): %d, want %d: %s", s.Do, s.Path, s.Note, r.status, s.Status, r.body)
		return false
	}
	if len(s.Expect) > 0 {
		var got map[string]any
		decode(t, r, &got)
		for k, want := range s.Expect {
			if !reflect.DeepEqual(got[k], want) {
				t.Errorf("%s %s (%s): %s = %v, want %v", s.Do, s.Path, s.Note, k, got[k], want)
			}
		}
	}
	return true
}

// countExampleRound opens a round, keys its ballots, closes it with the
// ballots issued, certifies it, and compares the result with result.json.
func countExampleRound(t *testing.T, srv *api.Server, s congressStep) bool {
	t.Helper()
	base := "/api/v1/contests/" + s.Contest
	if r := doApp(t, srv, "POST", base+"/open", nil, asAdmin); r.status != http.StatusOK {
		t.Errorf("open %s: %d %s", s.Contest, r.status, r.body)
		return false
	}
	for _, line := range bytes.Split(bytes.TrimSpace(wardFile(t, s.Round+"/ballots.jsonl")), []byte("\n")) {
		if r := doApp(t, srv, "POST", base+"/ballots", json.RawMessage(line), asAdmin); r.status != http.StatusCreated {
			t.Errorf("%s: ballot %s: %d %s", s.Contest, line, r.status, r.body)
			return false
		}
	}
	for _, step := range []struct {
		verb string
		body any
	}{{"close", map[string]int{"issued": s.Issued}}, {"certify", nil}} {
		if r := doApp(t, srv, "POST", base+"/"+step.verb, step.body, asAdmin); r.status != http.StatusOK {
			t.Errorf("%s %s: %d %s", step.verb, s.Contest, r.status, r.body)
			return false
		}
	}
	r := doApp(t, srv, "GET", base+"/result", nil, asAdmin)
	got := withoutVersion(t, r.body)
	var want map[string]any
	if err := json.Unmarshal(wardFile(t, s.Round+"/result.json"), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		t.Errorf("%s: the result is not %s/result.json (%s):\n got %s", s.Contest, s.Round, s.Note, g)
	}
	return true
}

// The steps file is what the README tells: every round folder is used.
func TestExampleWardCongressUsesEveryRound(t *testing.T) {
	used := map[string]bool{}
	for _, s := range readCongressSteps(t) {
		if s.Do == "count" {
			used[s.Round] = true
		}
	}
	entries, err := os.ReadDir(filepath.Join(wardCongress, "rounds"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !used["rounds/"+e.Name()] {
			t.Errorf("rounds/%s is counted by no step", e.Name())
		}
	}
	if len(entries) == 0 {
		t.Fatal(fmt.Sprintf("no rounds in %s", wardCongress))
	}
}
