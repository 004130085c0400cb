package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/tally"
)

// verifiedDef is a committee contest keyed in triple entry: 3 seats, 4
// names, D = 12 (convened 13, one absent with leave).
func verifiedDef(id, mode string) map[string]any {
	return with(contestDef(id), "entry", mode, "electorate", map[string]any{
		"congress": "members", "convened": 13, "exclusions": map[string]any{"absent_with_leave": 1},
	})
}

// keyingAnswer is the answer to a keying.
type keyingAnswer struct {
	Status   string   `json:"status"`
	Keyed    int      `json:"keyed"`
	Required int      `json:"required"`
	BallotID string   `json:"ballot_id"`
	Valid    bool     `json:"valid"`
	Receipt  *receipt `json:"receipt"`
}

// keyingBody is what a desk sends: a client id, the stack, the position and
// the ballot as keyed (no id).
func keyingBody(id string, stack, pos int, b tally.Ballot) map[string]any {
	b.ID = ""
	return map[string]any{"id": id, "stack": stack, "position": pos, "ballot": b}
}

// deskTokens issues n counter tokens named "bàn 1" … "bàn n".
func deskTokens(c client, n int) []string {
	c.t.Helper()
	tokens := make([]string, n)
	for d := range tokens {
		r := c.do("POST", "/api/v1/tokens", map[string]string{"role": "counter", "name": fmt.Sprintf("bàn %d", d+1)}, asAdmin)
		mustStatus(c.t, r, http.StatusCreated)
		var tok struct{ Token string }
		decode(c.t, r, &tok)
		tokens[d] = tok.Token
	}
	return tokens
}

// tryDo is doApp for goroutines: it reports with Errorf and returns nil on
// a transport error.
func tryDo(t *testing.T, srv *api.Server, method, path string, body any, opts ...opt) *response {
	req := newRequest(t, method, "http://kp"+path, body, opts...)
	resp, err := srv.App().Test(req, -1)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return nil
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}
}

// TestVerifiedThreeDesks is issue 6's test of verified entry, on both
// stores: three desks key the same two stacks concurrently, through the
// HTTP API, with typos injected at three positions; a retried keying is
// sent twice. Only agreed positions are counted while the disputes are
// open; every disagreement is listed with the differing entries; closing is
// refused until the committee decides each, with a reason; the decisions
// are in the journal, and the certified result equals the count of the
// true ballots.
func TestVerifiedThreeDesks(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			testVerifiedThreeDesks(t, b.open(t).store)
		})
	}
}

func testVerifiedThreeDesks(t *testing.T, st api.Store) {
	clock := &fakeClock{now: time.Date(2025, 5, 20, 2, 30, 0, 0, time.UTC)}
	srv := api.New(st, api.Config{AdminToken: adminToken, Now: clock.Now})
	c := client{t: t, srv: srv}
	const id = "bch-tam"
	def := verifiedDef(id, "triple")
	mustStatus(t, c.do("POST", "/api/v1/contests", def, asAdmin), http.StatusCreated)

	// The papers: two stacks (tệp) of 6 and 5, of every kind of ballot.
	sizes := map[int]int{1: 6, 2: 5}
	truth := map[string]tally.Ballot{}
	kinds := []tally.Ballot{
		{Struck: []string{"c4"}}, {Struck: []string{"c3"}}, {Struck: []string{"c2", "c4"}},
		{Struck: []string{}},                             // untouched: over_vote
		{Struck: []string{"c1", "c2", "c3", "c4"}},       // no_vote
		{Invalid: tally.ReasonWriteIn, Note: "ghi thêm"}, // ruled on sight
		{Struck: []string{"c1"}},
	}
	i := 0
	for s := 1; s <= 2; s++ {
		for k := 1; k <= sizes[s]; k++ {
			b := kinds[i%len(kinds)]
			b.ID = tally.PositionID(s, k)
			truth[b.ID] = b
			i++
		}
		mustStatus(t, c.do("PUT", fmt.Sprintf("/api/v1/contests/%s/stacks/%d", id, s), map[string]int{"ballots": sizes[s]}, asAdmin), http.StatusOK)
	}
	mustStatus(t, c.do("PUT", "/api/v1/contests/"+id+"/notes", map[string]any{"collected": 11}, asAdmin), http.StatusOK)
	mustStatus(t, c.do("POST", "/api/v1/contests/"+id+"/open", nil, asAdmin), http.StatusOK)

	desks := deskTokens(c, 3)

	// The typos: desk → position → what it keys instead of the paper.
	typos := map[int]map[string]tally.Ballot{
		1: {"t1-3": {Struck: []string{"c2"}}},                       // one name missed
		2: {"t2-2": {Struck: []string{"c3", "c4"}}},                 // a name too many
		0: {"t2-5": {Invalid: tally.ReasonOther, Note: "rách góc"}}, // ruled instead of keyed
	}
	disputed := map[string]bool{"t1-3": true, "t2-2": true, "t2-5": true}
	retried := map[string]bool{"t1-2": true, "t2-4": true} // each desk sends these twice

	// Phase 1: the three desks key every paper concurrently, each in its
	// own shuffled order.
	var wg sync.WaitGroup
	for d := range desks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var order []string
			for pid := range truth {
				order = append(order, pid)
			}
			sort.Strings(order)
			rand.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
			for _, pid := range order {
				s, k, _ := tally.ParsePositionID(pid)
				b := truth[pid]
				if typo, ok := typos[d][pid]; ok {
					b = typo
				}
				kid := fmt.Sprintf("d%d-%s", d, pid)
				sends := 1
				if retried[pid] {
					sends = 2
				}
				for n := range sends {
					r := tryDo(t, srv, "POST", "/api/v1/contests/"+id+"/keyings", keyingBody(kid, s, k, b), bearer(desks[d]))
					if r == nil {
						return
					}
					switch {
					case r.status == http.StatusCreated && n == 0, r.status == http.StatusOK && n == 1:
						var a keyingAnswer
						if err := json.Unmarshal(r.body, &a); err != nil {
							t.Errorf("desk %d %s: %v", d, pid, err)
						}
						if a.BallotID != pid || a.Required != 3 {
							t.Errorf("desk %d %s: answer %s", d, pid, r.body)
						}
						if a.Status == "accepted" && (a.Receipt == nil || a.Receipt.Seq < 1) {
							t.Errorf("desk %d %s: accepted without a receipt: %s", d, pid, r.body)
						}
					default:
						t.Errorf("desk %d %s (send %d): %s", d, pid, n+1, r)
					}
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Only the agreed positions are counted.
	agreed := func(skip map[string]bool) []tally.Ballot {
		var out []tally.Ballot
		for pid, b := range truth {
			if !skip[pid] {
				out = append(out, b)
			}
		}
		return out
	}
	r := c.do("GET", "/api/v1/contests/"+id+"/result", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	if got, want := withoutVersion(t, r.body), withoutVersion(t, expectedResult(t, def, agreed(disputed), nil)); !reflect.DeepEqual(got, want) {
		t.Errorf("while disputes are open the result is\n%v\nwant the agreed ballots only\n%v", got, want)
	}

	// Every disagreement is surfaced with the differing entries.
	var disputes struct {
		Disputes []struct {
			Stack    int            `json:"stack"`
			Position int            `json:"position"`
			BallotID string         `json:"ballot_id"`
			Entries  []tally.Keying `json:"entries"`
		} `json:"disputes"`
	}
	r = c.do("GET", "/api/v1/contests/"+id+"/disputes", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	decode(t, r, &disputes)
	if len(disputes.Disputes) != len(disputed) {
		t.Fatalf("%d disputes, want %d: %s", len(disputes.Disputes), len(disputed), r.body)
	}
	for _, dp := range disputes.Disputes {
		if !disputed[dp.BallotID] {
			t.Errorf("dispute at %s, which every desk keyed alike", dp.BallotID)
		}
		sawTypo, sawTruth := false, false
		for _, e := range dp.Entries {
			want := truth[dp.BallotID]
			if tally.BallotDigest(&e.Ballot) == tally.BallotDigest(&want) {
				sawTruth = true
			} else {
				sawTypo = true
			}
		}
		if !sawTypo || !sawTruth || len(dp.Entries) != 3 {
			t.Errorf("dispute %s does not show the differing entries side by side: %+v", dp.BallotID, dp.Entries)
		}
	}

	// Closing is refused while positions are open.
	e := mustError(t, c.do("POST", "/api/v1/contests/"+id+"/close", map[string]int{"issued": 11}, asAdmin), http.StatusConflict, "disputes")
	t.Logf("close refused: %s", e.Message)

	// A counter cannot decide; a decision needs a reason.
	decision := func(pid string) string {
		s, k, _ := tally.ParsePositionID(pid)
		return fmt.Sprintf("/api/v1/contests/%s/positions/%d/%d/decision", id, s, k)
	}
	body := func(pid, reason string) map[string]any {
		b := truth[pid]
		b.ID = ""
		return map[string]any{"ballot": b, "reason": reason}
	}
	mustError(t, c.do("POST", decision("t1-3"), body("t1-3", "xem phiếu gốc"), bearer(desks[0])), http.StatusForbidden, "")
	mustError(t, c.do("POST", decision("t1-3"), body("t1-3", "  "), asAdmin), http.StatusBadRequest, "reason")
	mustError(t, c.do("POST", decision("t1-1"), body("t1-1", "không lệch"), asAdmin), http.StatusConflict, "position")
	reasons := map[string]string{}
	for pid := range disputed {
		reasons[pid] = "Ban kiểm phiếu xem lại phiếu gốc " + pid + ": bàn nhập lệch nhập sai"
		r := c.do("POST", decision(pid), body(pid, reasons[pid]), asAdmin)
		mustStatus(t, r, http.StatusCreated)
		// The same decision again is a retry.
		mustStatus(t, c.do("POST", decision(pid), body(pid, reasons[pid]), asAdmin), http.StatusOK)
	}
	mustError(t, c.do("POST", decision("t1-3"), body("t1-1", "đổi ý"), asAdmin), http.StatusConflict, "position")
	// A decided position takes no more keyings.
	mustError(t, c.do("POST", "/api/v1/contests/"+id+"/keyings", keyingBody("late", 1, 3, truth["t1-3"]), bearer(desks[0])), http.StatusConflict, "position")

	// The journal: every keying once, each decision with its reason.
	var journal struct {
		Keyings   []tally.Keying            `json:"keyings"`
		Decisions []tally.CommitteeDecision `json:"decisions"`
	}
	r = c.do("GET", "/api/v1/contests/"+id+"/journal", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	decode(t, r, &journal)
	perDesk := map[string]int{}
	for _, k := range journal.Keyings {
		perDesk[k.Desk+" "+tally.PositionID(k.Stack, k.Position)]++
		if k.Time == "" || k.Desk == "" || k.DeskID == "" {
			t.Errorf("keying without desk or time: %+v", k)
		}
	}
	// Every desk's first keying is recorded, also of a position two other
	// desks had already disputed: the committee sees all three readings.
	if want := 3 * len(truth); len(journal.Keyings) != want {
		t.Errorf("%d keyings in the journal, want %d (3 desks × %d papers)", len(journal.Keyings), want, len(truth))
	}
	for key, n := range perDesk {
		if n != 1 {
			t.Errorf("%s: %d keyings in the journal, want 1 (retries are recorded once)", key, n)
		}
	}
	if len(journal.Decisions) != len(disputed) {
		t.Errorf("%d decisions in the journal, want %d", len(journal.Decisions), len(disputed))
	}
	for _, d := range journal.Decisions {
		pid := tally.PositionID(d.Stack, d.Position)
		if d.Reason != reasons[pid] || d.By != "admin" || d.Seq == 0 || len(d.Entries) < 2 {
			t.Errorf("decision on %s: %+v", pid, d)
		}
	}

	// Close, certify: the result is the count of the true ballots.
	mustStatus(t, c.do("POST", "/api/v1/contests/"+id+"/close", map[string]int{"issued": 11}, asAdmin), http.StatusOK)
	mustStatus(t, c.do("POST", "/api/v1/contests/"+id+"/certify", nil, asAdmin), http.StatusOK)
	r = c.do("GET", "/api/v1/contests/"+id+"/result", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	if got, want := withoutVersion(t, r.body), withoutVersion(t, expectedResult(t, def, agreed(nil), nil)); !reflect.DeepEqual(got, want) {
		t.Errorf("certified result\n%v\nwant the true ballots' count\n%v", got, want)
	}
	// The log: one entry per paper, under its position's id, with the
	// agreeing desks or the committee as its desk.
	r = c.do("GET", "/api/v1/contests/"+id+"/log", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	entries := readLog(t, r.body)
	if len(entries) != len(truth) {
		t.Fatalf("%d log entries, want %d", len(entries), len(truth))
	}
	for _, e := range entries {
		want := truth[e.Ballot.ID]
		if tally.BallotDigest(e.Ballot) != tally.BallotDigest(&want) && !equalBallots(t, def, *e.Ballot, want) {
			t.Errorf("log %s = %+v, want %+v", e.Ballot.ID, e.Ballot, want)
		}
		switch {
		case disputed[e.Ballot.ID] && e.Desk != "ban kiểm phiếu (admin)":
			t.Errorf("log %s: desk %q, want the committee", e.Ballot.ID, e.Desk)
		case !disputed[e.Ballot.ID] && e.Desk != "bàn 1 + bàn 2 + bàn 3":
			t.Errorf("log %s: desk %q, want the three desks", e.Ballot.ID, e.Desk)
		}
	}
	// The minutes state the mode and the decisions, and print the journal.
	r = c.do("GET", "/contests/"+id+"/minutes", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	for _, want := range []string{"nhập ba", "Số lần nhập lệch giữa các bàn đã được Ban Kiểm phiếu giải quyết: 3", "NHẬT KÝ NHẬP PHIẾU", reasons["t2-2"]} {
		if !bytes.Contains(r.body, []byte(want)) {
			t.Errorf("the minutes lack %q", want)
		}
	}
	mustStatus(t, c.do("GET", "/contests/"+id+"/minutes.pdf", nil, asAdmin), http.StatusOK)
	// Once closed, viewers may read the journal.
	r = c.do("POST", "/api/v1/tokens", map[string]string{"role": "viewer", "name": "thư ký"}, asAdmin)
	var tok struct{ Token string }
	decode(t, r, &tok)
	mustStatus(t, c.do("GET", "/api/v1/contests/"+id+"/journal", nil, bearer(tok.Token)), http.StatusOK)
}

// equalBallots compares two ballots by what they mean (struck names in
// any order).
func equalBallots(t *testing.T, def map[string]any, a, b tally.Ballot) bool {
	data, _ := json.Marshal(def)
	c, err := tally.ParseContest(data)
	if err != nil {
		t.Fatal(err)
	}
	x, err1 := c.Body(a, 1, 1, c.Index())
	y, err2 := c.Body(b, 1, 1, c.Index())
	return err1 == nil && err2 == nil && tally.BallotDigest(&x) == tally.BallotDigest(&y)
}

// readLog decodes a JSONL log.
func readLog(t *testing.T, data []byte) []tally.Entry {
	t.Helper()
	var out []tally.Entry
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var e tally.Entry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("log line %s: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

// TestVerifiedRules: bad input names its field; a retry is recorded once;
// one desk cannot supply two agreements; a slip is superseded before
// agreement; direct ballots and voids are refused; roles are enforced.
func TestVerifiedRules(t *testing.T) {
	h := newHarness(t)
	const id = "kep"
	mustError(t, h.do("POST", "/api/v1/contests", verifiedDef("x", "quadruple"), asAdmin), http.StatusBadRequest, "entry")
	h.createContest(verifiedDef(id, "double"))
	keyings := "/api/v1/contests/" + id + "/keyings"
	b1 := tally.Ballot{Struck: []string{"c4"}}
	desk1, desk2 := bearer(h.issueToken("counter", "bàn 1")), bearer(h.issueToken("counter", "bàn 2"))
	viewer := bearer(h.issueToken("viewer", "màn hình"))

	mustError(t, h.do("PUT", "/api/v1/contests/"+id+"/stacks/1", map[string]int{"ballots": 0}, asAdmin), http.StatusBadRequest, "ballots")
	mustError(t, h.do("PUT", "/api/v1/contests/"+id+"/stacks/0", map[string]int{"ballots": 3}, asAdmin), http.StatusBadRequest, "stack")
	mustError(t, h.do("PUT", "/api/v1/contests/"+id+"/stacks/1", map[string]int{"ballots": 3}, desk1), http.StatusForbidden, "")
	mustStatus(t, h.do("PUT", "/api/v1/contests/"+id+"/stacks/1", map[string]int{"ballots": 3}, asAdmin), http.StatusOK)
	mustError(t, h.do("POST", keyings, keyingBody("a", 1, 1, b1), desk1), http.StatusConflict, "state") // draft
	h.transition(id, "open", nil)

	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"no id", keyingBody("", 1, 1, b1), "id"},
		{"id with a space", keyingBody("a b", 1, 1, b1), "id"},
		{"stack not declared", keyingBody("a", 2, 1, b1), "stack"},
		{"position 0", keyingBody("a", 1, 0, b1), "position"},
		{"position past the stack", keyingBody("a", 1, 4, b1), "position"},
		{"no ballot", map[string]any{"id": "a", "stack": 1, "position": 1}, "ballot"},
		{"unknown candidate", keyingBody("a", 1, 1, tally.Ballot{Struck: []string{"c9"}}), "ballot.struck[0]"},
		{"ballot with an id", map[string]any{"id": "a", "stack": 1, "position": 1, "ballot": map[string]any{"id": "b-1", "struck": []string{}}}, "ballot.id"},
		{"approve marks on a strike contest", keyingBody("a", 1, 1, tally.Ballot{Marks: map[string]tally.Mark{"c1": tally.MarkAgree}}), "ballot.marks"},
		{"unknown field", map[string]any{"id": "a", "stack": 1, "position": 1, "ballot": b1, "desk": "x"}, "desk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustError(t, h.in(t).do("POST", keyings, tc.body, desk1), http.StatusBadRequest, tc.field)
		})
	}
	mustError(t, h.do("POST", keyings, keyingBody("v", 1, 1, b1), viewer), http.StatusForbidden, "")

	state := func(r *response, status int) keyingAnswer {
		t.Helper()
		mustStatus(t, r, status)
		var a keyingAnswer
		decode(t, r, &a)
		return a
	}
	// One desk keying a position three times is still one desk.
	if a := state(h.do("POST", keyings, keyingBody("a1", 1, 1, b1), desk1), http.StatusCreated); a.Status != "pending" || a.Keyed != 1 {
		t.Errorf("first keying: %+v", a)
	}
	if a := state(h.do("POST", keyings, keyingBody("a1", 1, 1, b1), desk1), http.StatusOK); a.Status != "pending" || a.Keyed != 1 {
		t.Errorf("retry: %+v", a)
	}
	if a := state(h.do("POST", keyings, keyingBody("a2", 1, 1, b1), desk1), http.StatusCreated); a.Status != "pending" || a.Keyed != 1 {
		t.Errorf("the same desk again must not agree with itself: %+v", a)
	}
	mustError(t, h.do("POST", keyings, keyingBody("a1", 1, 1, tally.Ballot{Struck: []string{"c1"}}), desk1), http.StatusConflict, "id")
	if h.logLen(id) != 0 {
		t.Fatal("a position keyed by one desk reached the log")
	}
	// A slip superseded before the other desk keys: the correction counts.
	state(h.do("POST", keyings, keyingBody("s1", 1, 2, tally.Ballot{Struck: []string{"c1"}}), desk1), http.StatusCreated)
	state(h.do("POST", keyings, keyingBody("s2", 1, 2, tally.Ballot{Struck: []string{"c2"}}), desk1), http.StatusCreated)
	if a := state(h.do("POST", keyings, keyingBody("s", 1, 2, tally.Ballot{Struck: []string{"c2"}}), desk2), http.StatusCreated); a.Status != "accepted" || a.Receipt == nil {
		t.Errorf("two desks agreeing in double entry: %+v", a)
	}
	if a := state(h.do("POST", keyings, keyingBody("b", 1, 1, b1), desk2), http.StatusCreated); a.Status != "accepted" || a.Receipt == nil || a.Receipt.Seq != 2 {
		t.Errorf("second desk: %+v", a)
	}
	// The accepted position takes no more keyings; the retry of the
	// accepting keying still gets its receipt.
	mustError(t, h.do("POST", keyings, keyingBody("c", 1, 1, b1), desk2), http.StatusConflict, "position")
	if a := state(h.do("POST", keyings, keyingBody("b", 1, 1, b1), desk2), http.StatusOK); a.Receipt == nil || a.Receipt.Seq != 2 {
		t.Errorf("retry of the accepting keying: %+v", a)
	}
	if h.logLen(id) != 2 {
		t.Fatalf("log length %d, want 2", h.logLen(id))
	}
	// Direct ballots and voids are refused; so is keying a single-entry
	// contest.
	mustError(t, h.postBallot(id, tally.Ballot{ID: "b-1", Struck: []string{"c4"}}), http.StatusConflict, "entry")
	mustError(t, h.do("POST", "/api/v1/contests/"+id+"/ballots/t1-1/void", map[string]string{"reason": "nhầm"}, asAdmin), http.StatusConflict, "entry")
	h.openContest(contestDef("don"))
	mustError(t, h.do("POST", "/api/v1/contests/don/keyings", keyingBody("a", 1, 1, b1), desk1), http.StatusConflict, "entry")
	// Stacks cannot shrink below a keyed position; close names what is
	// missing.
	mustError(t, h.do("PUT", "/api/v1/contests/"+id+"/stacks/1", map[string]int{"ballots": 1}, asAdmin), http.StatusConflict, "ballots")
	e := mustError(t, h.do("POST", "/api/v1/contests/"+id+"/close", map[string]int{"issued": 3}, asAdmin), http.StatusConflict, "stacks")
	if !strings.Contains(e.Message, "t1-3") {
		t.Errorf("close refusal does not name the missing position: %s", e.Message)
	}
	// The paper count of the notes must equal the stacks.
	state(h.do("POST", keyings, keyingBody("z", 1, 3, b1), desk1), http.StatusCreated)
	state(h.do("POST", keyings, keyingBody("z", 1, 3, b1), desk2), http.StatusCreated)
	mustStatus(t, h.do("PUT", "/api/v1/contests/"+id+"/notes", map[string]any{"collected": 4}, asAdmin), http.StatusOK)
	mustError(t, h.do("POST", "/api/v1/contests/"+id+"/close", map[string]int{"issued": 4}, asAdmin), http.StatusConflict, "stacks")
	mustStatus(t, h.do("PUT", "/api/v1/contests/"+id+"/notes", map[string]any{"collected": 3}, asAdmin), http.StatusOK)
	// Counters see progress only; the journal is the committee's until close.
	var progress struct {
		Stacks []struct{ Stack, Ballots, Accepted, Next int }
	}
	r := h.do("GET", "/api/v1/contests/"+id+"/stacks", nil, desk1)
	mustStatus(t, r, http.StatusOK)
	decode(t, r, &progress)
	if len(progress.Stacks) != 1 || progress.Stacks[0].Accepted != 3 || progress.Stacks[0].Next != 0 {
		t.Errorf("progress: %s", r.body)
	}
	mustError(t, h.do("GET", "/api/v1/contests/"+id+"/journal", nil, desk1), http.StatusForbidden, "")
	mustError(t, h.do("GET", "/api/v1/contests/"+id+"/disputes", nil, desk1), http.StatusForbidden, "")
	h.transition(id, "close", map[string]int{"issued": 3})
	mustStatus(t, h.do("GET", "/api/v1/contests/"+id+"/journal", nil, desk1), http.StatusOK)
}

// TestVerifiedPages: the desk of a verified round asks for the stack and
// sends keyings; the committee's stacks page renders in both languages
// and is the committee's alone; the setup form offers the mode.
func TestVerifiedPages(t *testing.T) {
	h := newHarness(t)
	h.createContest(verifiedDef("trang", "triple"))
	h.transition("trang", "open", nil)
	html := withHeader("Accept", "text/html")
	r := h.do("GET", "/contests/trang/desk", nil, asAdmin, html)
	mustStatus(t, r, http.StatusOK)
	for _, want := range []string{`id="stack-input"`, "Tệp số", `"required":3`, `"entry":"triple"`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("the verified desk lacks %s", want)
		}
	}
	r = h.do("GET", "/contests/trang/stacks", nil, asAdmin, html)
	mustStatus(t, r, http.StatusOK)
	for _, want := range []string{"Tệp phiếu và phiếu nhập lệch", `id="stack-form"`, `id="disputes"`, "stacks.js", "Nhập ba", "Nguyễn Văn An"} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("the stacks page lacks %s", want)
		}
	}
	r = h.do("GET", "/contests/trang/stacks?lang=en", nil, asAdmin, html)
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), "Stacks and disputes") {
		t.Error("the stacks page has no English")
	}
	r = h.do("GET", "/contests/trang/stacks", nil, bearer(h.issueToken("counter", "bàn 1")), html)
	if r.status == http.StatusOK {
		t.Errorf("a counter sees the committee's stacks page")
	}
	h.openContest(contestDef("mot"))
	r = h.do("GET", "/contests/mot/desk", nil, asAdmin, html)
	mustStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.body), `id="stack-input"`) {
		t.Error("a single-entry desk asks for a stack")
	}
	r = h.do("GET", "/contests/new", nil, asAdmin, html)
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `name="entry"`) || !strings.Contains(string(r.body), "Nhập ba") {
		t.Error("the contest form does not offer the entry mode")
	}
}
