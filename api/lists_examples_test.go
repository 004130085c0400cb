package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// The worked examples of the rules audit's B4 and B5 run through the API
// as a secretary would: round 1 counted, POST …/next with the names the
// congress added (examples/<round 2>/list-edit.json) and the vote that
// decided it, round 2 counted. Round 2 must be the example's contest.json
// and count to its result.json.
func TestListExamples(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, r1, r2 string }{
		// B4: the sole nominee for branch secretary fails (10 of 21); the
		// congress adds a second. Before issue 12: 400, approve ballot.
		{"B4 secretary: a second nominee added", "ex05b-secretary-not-elected", "b4-secretary-r2-added-nominee"},
		// B5: 3 seats, 2 names, both elected; a name is added for the
		// vacant seat. Before issue 12: 409 with or without add.
		{"B5 inspection committee: everyone elected, a seat vacant", "b5-inspection-vacant-r1", "b5-inspection-vacant-r2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.listCongress("cg")
			r1 := exampleContest(t, tt.r1)
			id := r1.ID
			mustStatus(t, h.do("POST", "/api/v1/contests?congress=cg", r1, asAdmin), http.StatusCreated)
			h.transition(id, "open", nil)
			n := h.postExampleBallots(id, tt.r1)
			h.transition(id, "close", map[string]int{"issued": n})
			if got := h.getList(id).NextRound; got != "further" {
				t.Fatalf("next_round = %q, want further", got)
			}

			// Without the name the congress added there is nobody to vote on
			// (B5), or only the one who failed (B4, which a plain …/next
			// still allows).
			var edit tally.ListEdit
			if err := json.Unmarshal(exampleFile(t, tt.r2, "list-edit.json"), &edit); err != nil {
				t.Fatal(err)
			}
			r := h.do("POST", "/api/v1/contests/"+id+"/next", map[string]any{"add": edit.Add, "vote": "v2", "reason": "Đại hội biểu quyết bổ sung"}, asAdmin)
			mustStatus(t, r, http.StatusCreated)
			want := exampleContest(t, tt.r2)
			got := h.getList(want.ID)
			for _, f := range []struct {
				field     string
				got, want any
			}{
				{"round", got.Contest.Round, want.Round}, {"seats", got.Contest.Seats, want.Seats},
				{"ballot", got.Contest.Ballot, want.Ballot}, {"candidates", got.Contest.Candidates, want.Candidates},
				{"electorate", got.Contest.Electorate, want.Electorate}, {"previous", got.Previous, id},
			} {
				if !reflect.DeepEqual(f.got, f.want) {
					t.Errorf("round 2 %s = %v, want %v", f.field, f.got, f.want)
				}
			}
			if len(got.Changes) != len(edit.Add) || got.Changes[0].Action != tally.ChangeAdd || got.Changes[0].Vote != "v2" {
				t.Errorf("round 2 changes = %+v", got.Changes)
			}

			h.transition(want.ID, "open", nil)
			n = h.postExampleBallots(want.ID, tt.r2)
			h.transition(want.ID, "close", map[string]int{"issued": n})
			res := h.do("GET", "/api/v1/contests/"+want.ID+"/result", nil, asAdmin)
			mustStatus(t, res, http.StatusOK)
			if g, w := withoutVersion(t, res.body), withoutVersion(t, exampleFile(t, tt.r2, "result.json")); !reflect.DeepEqual(g, w) {
				t.Errorf("round 2 result:\n got %v\nwant %v", g, w)
			}
		})
	}

	t.Run("B5 without add", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		r1 := exampleContest(t, "b5-inspection-vacant-r1")
		h.createContest(mapOf(t, r1))
		h.transition(r1.ID, "open", nil)
		n := h.postExampleBallots(r1.ID, "b5-inspection-vacant-r1")
		h.transition(r1.ID, "close", map[string]int{"issued": n})
		mustError(t, h.do("POST", "/api/v1/contests/"+r1.ID+"/next", nil, asAdmin), http.StatusBadRequest, "add")
	})
}

func exampleFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func exampleContest(t *testing.T, dir string) *tally.Contest {
	t.Helper()
	c, err := tally.ParseContest(exampleFile(t, dir, "contest.json"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mapOf(t *testing.T, v any) map[string]any {
	t.Helper()
	data, _ := json.Marshal(v)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// postExampleBallots posts an example's ballots.jsonl and returns how many.
func (h *harness) postExampleBallots(contest, dir string) int {
	h.t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(exampleFile(h.t, dir, "ballots.jsonl")))
	n := 0
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var b map[string]any
		if err := json.Unmarshal(sc.Bytes(), &b); err != nil {
			h.t.Fatal(err)
		}
		mustStatus(h.t, h.postBallot(contest, b), http.StatusCreated)
		n++
	}
	return n
}
