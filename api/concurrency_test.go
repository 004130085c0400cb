package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/tally"
)

// TestConcurrentDesks: 8 desks key 50 ballots each into one round, retrying
// at random (at once, and later each other's ballots, as a desk whose
// answer was lost would), and each voids one ballot twice. Every ballot is
// in the log once, the counters equal the replay, and the round closes with
// issued = the ballots collected.
func TestConcurrentDesks(t *testing.T) {
	t.Parallel()
	const (
		desks   = 8
		perDesk = 50
		id      = "conc"
	)
	h := newHarness(t)
	def := contestDef(id)
	h.openContest(def)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)

	ballotOf := func(d, i int) tally.Ballot {
		b := tally.Ballot{ID: fmt.Sprintf("d%d-%d", d, i)}
		switch i % 7 {
		case 0:
			b.Struck = []string{} // over_vote
		case 1:
			b.Invalid, b.Note = tally.ReasonOther, "rách"
		default:
			b.Struck = []string{[]string{"c1", "c2", "c3", "c4"}[(d+i)%4]}
		}
		return b
	}

	var (
		mu      sync.Mutex
		created = map[string]int{}    // 201s per ballot id
		bodies  = map[string]string{} // the one receipt per ballot id
	)
	post := func(path string, body any) {
		req := newRequest(t, "POST", "http://kp"+path, body, asAdmin)
		resp, err := h.srv.App().Test(req, -1)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return
		}
		defer resp.Body.Close()
		var rc receipt
		if err := json.NewDecoder(resp.Body).Decode(&rc); err != nil {
			t.Errorf("%s: %v", path, err)
			return
		}
		key := path
		if b, ok := body.(tally.Ballot); ok {
			key = b.ID
		}
		mu.Lock()
		defer mu.Unlock()
		switch resp.StatusCode {
		case http.StatusCreated:
			created[key]++
		case http.StatusOK:
		default:
			t.Errorf("%s %v: status %d", path, body, resp.StatusCode)
			return
		}
		got := fmt.Sprintf("%+v", rc)
		if prev, ok := bodies[key]; ok && prev != got {
			t.Errorf("%s: receipt %s, earlier %s", key, got, prev)
		}
		bodies[key] = got
	}

	var wg sync.WaitGroup
	for d := range desks {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(d)))
			ballots := "/api/v1/contests/" + id + "/ballots"
			for i := range perDesk {
				b := ballotOf(d, i)
				post(ballots, b)
				if rng.IntN(3) == 0 {
					post(ballots, b) // the answer was lost: again at once
				}
				if rng.IntN(4) == 0 {
					// Another desk's ballot, perhaps not yet keyed there.
					post(ballots, ballotOf(rng.IntN(desks), rng.IntN(perDesk)))
				}
			}
			void := fmt.Sprintf("/api/v1/contests/%s/ballots/d%d-3/void", id, d)
			post(void, map[string]string{"reason": "nhập nhầm"})
			post(void, map[string]string{"reason": "nhập nhầm"})
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	for k, n := range created {
		if n != 1 {
			t.Errorf("%s was created %d times", k, n)
		}
	}
	if got, want := len(created), desks*perDesk+desks; got != want {
		t.Errorf("%d entries created, want %d", got, want)
	}

	ctx := context.Background()
	entries, err := h.store.Entries(ctx, id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(entries), desks*perDesk+desks; got != want {
		t.Fatalf("log length = %d, want %d", got, want)
	}
	seen := map[string]int{}
	for _, e := range entries {
		if e.Ballot != nil {
			seen[e.Ballot.ID]++
		}
	}
	for d := range desks {
		for i := range perDesk {
			if n := seen[fmt.Sprintf("d%d-%d", d, i)]; n != 1 {
				t.Errorf("ballot d%d-%d is in the log %d times", d, i, n)
			}
		}
	}
	head, err := tally.VerifyChain(entries)
	if err != nil {
		t.Fatalf("VerifyChain: %v", err)
	}

	data, _ := json.Marshal(def)
	contest, err := tally.ParseContest(data)
	if err != nil {
		t.Fatal(err)
	}
	count, err := tally.Replay(contest, entries)
	if err != nil {
		t.Fatal(err)
	}
	counters, version, err := h.store.Counters(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := counters, count.Counters(); !maps.Equal(got, want) {
		t.Errorf("counters = %v, want the replay's %v", got, want)
	}
	if got, want := version, int64(len(entries)); got != want {
		t.Errorf("version = %d, want %d", got, want)
	}
	replayed, _ := json.Marshal(count.Result())
	r := h.do("GET", "/api/v1/contests/"+id+"/result", nil, asAdmin)
	if got, want := withoutVersion(t, r.body), withoutVersion(t, replayed); !reflect.DeepEqual(got, want) {
		t.Errorf("result:\n got %s\nreplay %s", r.body, replayed)
	}

	collected := desks*perDesk - desks
	mustError(t, h.do("POST", "/api/v1/contests/"+id+"/close", map[string]int{"issued": collected - 1}, asAdmin), http.StatusConflict, "issued")
	rec := h.transition(id, "close", map[string]int{"issued": collected})
	if got, want := rec.Head, head; got != want {
		t.Errorf("head = %s, want %s", got, want)
	}
	if got, want := rec.Version, int64(len(entries)); got != want {
		t.Errorf("closed at version %d, want %d", got, want)
	}
}
