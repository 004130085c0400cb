package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/tally"
)

// verifiedRound is a double-entry round "kep" with one stack of n papers,
// open, and two desks; the desks' principal ids are learnt from a first
// keying of paper n by both.
type verifiedRound struct {
	*harness
	contest       *tally.Contest
	desks         [2]opt
	deskID        [2]string
	keyings, base string
}

func newVerifiedRound(t *testing.T, n int) *verifiedRound {
	t.Helper()
	h := newHarness(t)
	def := verifiedDef("kep", "double")
	h.createContest(def)
	mustStatus(t, h.do("PUT", "/api/v1/contests/kep/stacks/1", map[string]int{"ballots": n}, asAdmin), http.StatusOK)
	h.transition("kep", "open", nil)
	v := &verifiedRound{harness: h, contest: parseDef(t, def), keyings: "/api/v1/contests/kep/keyings", base: "/api/v1/contests/kep"}
	for d := range 2 {
		v.desks[d] = bearer(h.issueToken("counter", fmt.Sprintf("bàn %d", d+1)))
		mustStatus(t, h.do("POST", v.keyings, keyingBody("first", 1, n, tally.Ballot{Struck: []string{"c1"}}), v.desks[d]), http.StatusCreated)
	}
	keyings, _ := verifiedJournal(t, h, "kep")
	for _, k := range keyings {
		switch k.Desk {
		case "bàn 1":
			v.deskID[0] = k.DeskID
		case "bàn 2":
			v.deskID[1] = k.DeskID
		}
	}
	if v.deskID[0] == "" || v.deskID[1] == "" {
		t.Fatalf("desk ids not in the journal: %+v", keyings)
	}
	return v
}

// keying is a keying of desk d as the service records it.
func (v *verifiedRound) keying(d, pos int, id string, b tally.Ballot) tally.Keying {
	v.t.Helper()
	body, err := v.contest.Body(b, 1, pos, v.contest.Index())
	if err != nil {
		v.t.Fatal(err)
	}
	return tally.Keying{ID: id, Stack: 1, Position: pos, DeskID: v.deskID[d], Desk: fmt.Sprintf("bàn %d", d+1),
		Time: time.Now().UTC().Format(time.RFC3339), N: 1, Ballot: body, Digest: tally.BallotDigest(&body)}
}

// appendBallot appends a position's ballot to the log straight through the
// store, as the service would have before a crash.
func (v *verifiedRound) appendBallot(pos int, b tally.Ballot, desk string) {
	v.t.Helper()
	body, err := v.contest.Body(b, 1, pos, v.contest.Index())
	if err != nil {
		v.t.Fatal(err)
	}
	m, err := v.contest.Mark(body, v.contest.Index())
	if err != nil {
		v.t.Fatal(err)
	}
	reason, keys := v.contest.Effect(m)
	if _, _, err := v.store.Append(context.Background(), "kep", tally.Append{Ballot: &body, Reason: reason, Keys: keys, Desk: desk,
		Time: time.Now().UTC().Format(time.RFC3339)}); err != nil {
		v.t.Fatal(err)
	}
}

func (v *verifiedRound) put(kind, key string, value any) {
	v.t.Helper()
	data, err := json.Marshal(value)
	if err != nil {
		v.t.Fatal(err)
	}
	if err := v.store.PutItem(context.Background(), kind, key, data); err != nil {
		v.t.Fatal(err)
	}
}

// TestVerifiedLegacyLayout: a round keyed before the compare-and-set
// (one item per keying, kinds keyings:… and journal:…) goes on after the
// upgrade: the old keyings count for agreement and disputes, each is in the
// journal once, a desk's correction of an old dispute is refused, and the
// committee decides it with the old entries on the table.
func TestVerifiedLegacyLayout(t *testing.T) {
	v := newVerifiedRound(t, 4)
	t1 := tally.Ballot{Struck: []string{"c4"}}
	t2 := tally.Ballot{Struck: []string{"c2", "c3"}}
	// The old layout, as the old postKeying wrote it: position 1 keyed by
	// desk 1 (pending), position 2 by both desks differing (disputed).
	legacy := []tally.Keying{
		v.keying(0, 1, "cu-1", t1),
		v.keying(0, 2, "cu-2", t2),
		v.keying(1, 2, "cu-2", tally.Ballot{Struck: []string{"c2"}}),
	}
	for _, k := range legacy {
		sum := sha256.Sum256([]byte(k.DeskID + "\x00" + k.ID))
		key := hex.EncodeToString(sum[:16])
		item := map[string]any{"keying": k}
		v.put(fmt.Sprintf("keyings:kep:1:%d", k.Position), key, item)
		v.put("journal:kep", fmt.Sprintf("1/%d/%s", k.Position, key), item)
	}
	var progress struct {
		Disputes int `json:"disputes"`
		Stacks   []struct{ Pending, Disputed, Accepted int }
	}
	decode(t, v.do("GET", v.base+"/stacks", nil, asAdmin), &progress)
	if progress.Disputes != 1 || progress.Stacks[0].Pending != 1 || progress.Stacks[0].Accepted != 1 {
		t.Fatalf("progress of the old round: %+v", progress)
	}

	// Desk 2 agrees with desk 1's old keying: accepted, both desks named.
	r := v.do("POST", v.keyings, keyingBody("moi-1", 1, 1, t1), v.desks[1])
	mustStatus(t, r, http.StatusCreated)
	var a keyingAnswer
	decode(t, r, &a)
	if a.Status != "accepted" || a.Keyed != 2 || a.Receipt == nil {
		t.Errorf("agreeing with an old keying: %s", r.body)
	}
	// Desk 1's old keying retried is a retry; a correction of the old
	// dispute is refused.
	mustStatus(t, v.do("POST", v.keyings, keyingBody("cu-1", 1, 1, t1), v.desks[0]), http.StatusOK)
	mustError(t, v.do("POST", v.keyings, keyingBody("sua-2", 1, 2, t2), v.desks[1]), http.StatusConflict, "position")
	r = v.do("POST", v.base+"/positions/1/2/decision", map[string]any{"ballot": t2, "reason": "xem phiếu gốc"}, asAdmin)
	mustStatus(t, r, http.StatusCreated)
	var dec struct{ Decision tally.CommitteeDecision }
	decode(t, r, &dec)
	if len(dec.Decision.Entries) != 2 {
		t.Errorf("the decision's entries %+v, want the two old keyings", dec.Decision.Entries)
	}

	keyings, decisions := verifiedJournal(t, v.harness, "kep")
	seen := map[string]int{}
	for _, k := range keyings {
		seen[k.Desk+" "+k.ID]++
	}
	for _, want := range []string{"bàn 1 cu-1", "bàn 1 cu-2", "bàn 2 cu-2", "bàn 2 moi-1", "bàn 1 first", "bàn 2 first"} {
		if seen[want] != 1 {
			t.Errorf("keying %s is in the journal %d times, want once", want, seen[want])
		}
	}
	if len(keyings) != 6 || len(decisions) != 1 {
		t.Errorf("journal: %d keyings, %d decisions; want 6 and 1", len(keyings), len(decisions))
	}
	entries := readLog(t, v.do("GET", v.base+"/log", nil, asAdmin).body)
	desks := map[string]string{}
	for _, e := range entries {
		desks[e.Ballot.ID] = e.Desk
	}
	if len(entries) != 3 || desks["t1-1"] != "bàn 1 + bàn 2" || desks["t1-2"] != "ban kiểm phiếu (admin)" {
		t.Errorf("log: %+v", desks)
	}
}

// TestVerifiedCrashSafety: what a crash leaves between a paper's record and
// its ballot in the log is mended by the next request and never counted
// twice. An agreement recorded whose ballot did not reach the log: close is
// refused naming it, and the next keying of the paper appends it before it
// is refused. A decision whose ballot reached the log but whose record did
// not: the paper is still disputed, another ballot is refused, the same
// decision sent again is recorded without a second entry.
func TestVerifiedCrashSafety(t *testing.T) {
	v := newVerifiedRound(t, 3)
	b := tally.Ballot{Struck: []string{"c3"}}
	// Paper 1: both desks' keyings recorded, the append lost.
	v.put("positions:kep", "1/1", map[string]any{"keyings": []tally.Keying{v.keying(0, 1, "k1", b), v.keying(1, 1, "k1", b)}})
	before := v.logLen("kep")
	e := mustError(t, v.do("POST", v.base+"/close", map[string]int{"issued": 3}, asAdmin), http.StatusConflict, "stacks")
	if !strings.Contains(e.Message, "t1-1") {
		t.Errorf("close refusal does not name the accepted paper missing from the log: %s", e.Message)
	}
	mustError(t, v.do("POST", v.keyings, keyingBody("k2", 1, 1, b), v.desks[0]), http.StatusConflict, "position")
	if got := v.logLen("kep"); got != before+1 {
		t.Fatalf("log length %d after the refused keying, want %d (the agreed ballot appended)", got, before+1)
	}
	// The retry of the agreeing keying answers with that entry's receipt.
	r := v.do("POST", v.keyings, keyingBody("k1", 1, 1, b), v.desks[1])
	mustStatus(t, r, http.StatusOK)
	var a keyingAnswer
	decode(t, r, &a)
	if a.Status != "accepted" || a.Receipt == nil || a.Receipt.Seq != before+1 {
		t.Errorf("retry of the agreeing keying: %s", r.body)
	}

	// Paper 2: disputed; the committee's ballot appended, its record lost.
	mustStatus(t, v.do("POST", v.keyings, keyingBody("k1", 1, 2, b), v.desks[0]), http.StatusCreated)
	mustStatus(t, v.do("POST", v.keyings, keyingBody("k1", 1, 2, tally.Ballot{Struck: []string{"c1"}}), v.desks[1]), http.StatusCreated)
	v.appendBallot(2, b, "ban kiểm phiếu (admin)")
	decision := v.base + "/positions/1/2/decision"
	mustError(t, v.do("POST", decision, map[string]any{"ballot": tally.Ballot{Struck: []string{"c1"}}, "reason": "đổi ý"}, asAdmin), http.StatusConflict, "position")
	mustError(t, v.do("POST", v.base+"/close", map[string]int{"issued": 3}, asAdmin), http.StatusConflict, "disputes")
	r = v.do("POST", decision, map[string]any{"ballot": b, "reason": "xem phiếu gốc"}, asAdmin)
	mustStatus(t, r, http.StatusCreated)
	if got := v.logLen("kep"); got != before+2 {
		t.Errorf("log length %d after the decision, want %d (one entry for paper 2)", got, before+2)
	}
	mustStatus(t, v.do("POST", v.base+"/close", map[string]int{"issued": 3}, asAdmin), http.StatusOK)
}

// TestVerifiedDeskKeyingsBounded: one desk keys one paper at most 10 times
// (a paper's record is rewritten whole by each keying); past that its
// corrections are refused and the other desk still settles the paper.
func TestVerifiedDeskKeyingsBounded(t *testing.T) {
	v := newVerifiedRound(t, 2)
	for i := range 10 {
		b := tally.Ballot{Struck: []string{fmt.Sprintf("c%d", i%4+1)}}
		mustStatus(t, v.do("POST", v.keyings, keyingBody(fmt.Sprint("k", i), 1, 1, b), v.desks[0]), http.StatusCreated)
	}
	mustError(t, v.do("POST", v.keyings, keyingBody("k10", 1, 1, tally.Ballot{Struck: []string{"c1"}}), v.desks[0]), http.StatusConflict, "keyings")
	// The tenth keying (c2) is desk 1's reading: desk 2 agrees with it.
	r := v.do("POST", v.keyings, keyingBody("k", 1, 1, tally.Ballot{Struck: []string{"c2"}}), v.desks[1])
	mustStatus(t, r, http.StatusCreated)
	var a keyingAnswer
	decode(t, r, &a)
	if a.Status != "accepted" {
		t.Errorf("the other desk agreeing with the last correction: %s", r.body)
	}
}

// TestVerifiedCloseOutsideStacks: a paper in the log past its stack's
// declared end (a stack shrunk while a desk keyed that paper) stops the
// close until the stack is declared at its true size.
func TestVerifiedCloseOutsideStacks(t *testing.T) {
	v := newVerifiedRound(t, 3)
	b := tally.Ballot{Struck: []string{"c2"}}
	for k := 1; k <= 2; k++ {
		for d := range 2 {
			mustStatus(t, v.do("POST", v.keyings, keyingBody("k", 1, k, b), v.desks[d]), http.StatusCreated)
		}
	}
	v.appendBallot(4, b, "bàn 1 + bàn 2") // keyed while the stack was 4 papers
	e := mustError(t, v.do("POST", v.base+"/close", map[string]int{"issued": 4}, asAdmin), http.StatusConflict, "stacks")
	if !strings.Contains(e.Message, "t1-4") {
		t.Errorf("close refusal does not name the paper outside the stack: %s", e.Message)
	}
	mustStatus(t, v.do("PUT", v.base+"/stacks/1", map[string]int{"ballots": 4}, asAdmin), http.StatusOK)
	v.put("positions:kep", "1/4", map[string]any{"keyings": []tally.Keying{v.keying(0, 4, "k", b), v.keying(1, 4, "k", b)}})
	mustStatus(t, v.do("POST", v.base+"/close", map[string]int{"issued": 4}, asAdmin), http.StatusOK)
}
