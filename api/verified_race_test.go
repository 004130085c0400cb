package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/store/redis"
	"github.com/kiemphieu/kiemphieu/tally"
)

// TestVerifiedConcurrent is issue 11's test of verified entry under
// concurrency (item 7): every paper of several stacks is keyed by all the
// desks at once — one desk more than the mode requires, so that a reading
// arrives beside the agreement — with retries sent together, slips
// corrected while another desk keys, and the committee deciding each
// dispute while keyings still arrive. It runs on the embedded store and on
// two server instances sharing one real Redis, each request sent to either.
// Every answer is checked against the documented rules (docs/api.md
// "Verified entry"): no paper both accepted and disputed; an accepted
// paper's ballot in the log exactly once, equal to what the agreeing desks
// keyed; a dispute settled only by the committee; a keying answered 201 in
// the journal, one answered 409 nowhere; a retry recorded once.
func TestVerifiedConcurrent(t *testing.T) {
	setups := []struct {
		name    string
		servers func(t *testing.T) []*api.Server
	}{
		{"bolt", func(t *testing.T) []*api.Server {
			return []*api.Server{api.New(openBoltBackend(t).store, api.Config{AdminToken: adminToken})}
		}},
		{"redis-two-instances", func(t *testing.T) []*api.Server {
			rs := redistest.Start(t)
			var out []*api.Server
			for range 2 {
				st, err := redis.Open(context.Background(), rs.URL())
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				out = append(out, api.New(st, api.Config{AdminToken: adminToken}))
			}
			return out
		}},
	}
	for _, s := range setups {
		for _, mode := range []string{"double", "triple"} {
			t.Run(s.name+"/"+mode, func(t *testing.T) {
				testVerifiedConcurrent(t, s.servers(t), mode)
			})
		}
	}
}

// raceScenario is how the desks key one paper. Desk 0 is the desk that
// slips; the last desk is the one more than required.
type raceScenario int

const (
	raceAgree       raceScenario = iota // every desk keys the paper
	raceRetries                         // every desk sends its keying three times at once
	raceTypo                            // desk 0 keys another ballot
	raceSlipFixed                       // desk 0 keys another ballot, then corrects it beside the other desks' keyings
	raceLateOther                       // the extra desk keys another ballot, beside the agreement
	raceTwoOthers                       // desks 0 and 1 key two other ballots
	raceRetriedSlip                     // desk 0 keys another ballot twice at once, then corrects it twice at once
	raceScenarios
)

// raceKeying is one keying a desk sends, and what it got back.
type raceKeying struct {
	desk   int
	id     string
	stack  int
	pos    int
	ballot tally.Ballot
	status int
	body   []byte
}

// raceDecision is one decision the committee sent, and what it got back.
type raceDecision struct {
	pid    string
	status int
	body   []byte
}

func testVerifiedConcurrent(t *testing.T, servers []*api.Server, mode string) {
	const (
		id     = "bch-dongthoi"
		stacks = 3
		papers = 2 * int(raceScenarios)
		reason = "Ban kiểm phiếu xem lại phiếu gốc"
	)
	rng := rand.New(rand.NewPCG(rand.Uint64(), 11))
	var rngMu sync.Mutex
	pick := func() *api.Server { // either instance, at random
		rngMu.Lock()
		defer rngMu.Unlock()
		return servers[rng.IntN(len(servers))]
	}
	admin := client{t: t, srv: servers[0]}
	def := verifiedDef(id, mode)
	contest := parseDef(t, def)
	required := map[string]int{"double": 2, "triple": 3}[mode]
	desks := required + 1
	mustStatus(t, admin.do("POST", "/api/v1/contests", def, asAdmin), http.StatusCreated)

	// The papers and, for each, a reading that differs from it (and a
	// second one).
	kinds := []tally.Ballot{
		{Struck: []string{"c4"}}, {Struck: []string{"c3"}}, {Struck: []string{"c2", "c4"}},
		{Struck: []string{}}, {Struck: []string{"c1", "c2", "c3", "c4"}},
		{Invalid: tally.ReasonWriteIn, Note: "ghi thêm"}, {Struck: []string{"c1"}},
	}
	truth := map[string]tally.Ballot{}
	other := map[string][2]tally.Ballot{}
	scenario := map[string]raceScenario{}
	for s := 1; s <= stacks; s++ {
		for k := 1; k <= papers; k++ {
			pid := tally.PositionID(s, k)
			i := s*papers + k
			truth[pid] = kinds[i%len(kinds)]
			other[pid] = [2]tally.Ballot{kinds[(i+1)%len(kinds)], kinds[(i+2)%len(kinds)]}
			scenario[pid] = raceScenario((k + s) % int(raceScenarios))
		}
		mustStatus(t, admin.do("PUT", fmt.Sprintf("/api/v1/contests/%s/stacks/%d", id, s), map[string]int{"ballots": papers}, asAdmin), http.StatusOK)
	}
	total := stacks * papers
	mustStatus(t, admin.do("PUT", "/api/v1/contests/"+id+"/notes", map[string]any{"collected": total}, asAdmin), http.StatusOK)
	mustStatus(t, admin.do("POST", "/api/v1/contests/"+id+"/open", nil, asAdmin), http.StatusOK)
	tokens := deskTokens(admin, desks)

	var (
		mu        sync.Mutex
		keyings   []*raceKeying
		decisions []raceDecision
	)
	// send sends one keying copies times at once (a retry beside itself).
	send := func(desk int, kid string, s, k int, b tally.Ballot, copies int) {
		var wg sync.WaitGroup
		for range copies {
			wg.Go(func() {
				rk := &raceKeying{desk: desk, id: kid, stack: s, pos: k, ballot: b}
				r := tryDo(t, pick(), "POST", "/api/v1/contests/"+id+"/keyings", keyingBody(kid, s, k, b), bearer(tokens[desk]))
				if r == nil {
					return
				}
				rk.status, rk.body = r.status, r.body
				mu.Lock()
				keyings = append(keyings, rk)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	// keyPaper keys one paper from every desk at once, as its scenario says.
	keyPaper := func(s, k int) {
		pid := tally.PositionID(s, k)
		T, X, Y := truth[pid], other[pid][0], other[pid][1]
		start := make(chan struct{})
		slipped := make(chan struct{}) // desk 0's first reading is answered
		var wg sync.WaitGroup
		for d := range desks {
			wg.Go(func() {
				<-start
				kid := fmt.Sprintf("d%d-%s", d, pid)
				sc := scenario[pid]
				switch {
				case d == 0 && (sc == raceSlipFixed || sc == raceRetriedSlip):
					copies := map[bool]int{true: 2, false: 1}[sc == raceRetriedSlip]
					send(d, kid, s, k, X, copies)
					close(slipped)
					send(d, kid+"-sửa", s, k, T, copies)
				case sc == raceSlipFixed || sc == raceRetriedSlip:
					<-slipped // the correction races these keyings
					send(d, kid, s, k, T, 1)
				case sc == raceRetries:
					send(d, kid, s, k, T, 3)
				case d == 0 && (sc == raceTypo || sc == raceTwoOthers), d == desks-1 && sc == raceLateOther:
					send(d, kid, s, k, X, 1)
				case d == 1 && sc == raceTwoOthers:
					send(d, kid, s, k, Y, 1)
				default:
					send(d, kid, s, k, T, 1)
				}
			})
		}
		close(start)
		wg.Wait()
	}

	// The committee decides every dispute it sees, each decision sent
	// twice at once, while the desks key.
	var keyingDone atomic.Bool
	committeeDone := make(chan struct{})
	go func() {
		defer close(committeeDone)
		// Once the desks are done, a few more looks: a dispute the
		// committee cannot settle must fail the test, not hang it.
		for after := 0; after < 5; {
			if keyingDone.Load() {
				after++
			}
			r := tryDo(t, pick(), "GET", "/api/v1/contests/"+id+"/disputes", nil, asAdmin)
			if r == nil || r.status != http.StatusOK {
				t.Errorf("GET disputes: %v", r)
				return
			}
			var ds struct {
				Disputes []struct {
					BallotID string `json:"ballot_id"`
				}
			}
			if err := json.Unmarshal(r.body, &ds); err != nil {
				t.Error(err)
				return
			}
			var wg sync.WaitGroup
			for _, dp := range ds.Disputes {
				s, k, _ := tally.ParsePositionID(dp.BallotID)
				b := truth[dp.BallotID]
				for range 2 {
					wg.Go(func() {
						r := tryDo(t, pick(), "POST", fmt.Sprintf("/api/v1/contests/%s/positions/%d/%d/decision", id, s, k),
							map[string]any{"ballot": b, "reason": reason}, asAdmin)
						if r != nil {
							mu.Lock()
							decisions = append(decisions, raceDecision{pid: dp.BallotID, status: r.status, body: r.body})
							mu.Unlock()
						}
					})
				}
			}
			wg.Wait()
			if len(ds.Disputes) == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	var wg sync.WaitGroup
	for s := 1; s <= stacks; s++ {
		wg.Go(func() {
			for k := 1; k <= papers; k++ {
				keyPaper(s, k)
			}
		})
	}
	wg.Wait()
	keyingDone.Store(true)
	<-committeeDone
	if t.Failed() {
		t.FailNow()
	}
	checkVerifiedRace(t, admin, id, contest, required, truth, keyings, decisions)
	if t.Failed() {
		return
	}
	// Every paper settled to its true reading: the round closes and counts
	// the papers.
	mustStatus(t, admin.do("POST", "/api/v1/contests/"+id+"/close", map[string]int{"issued": total}, asAdmin), http.StatusOK)
	r := admin.do("GET", "/api/v1/contests/"+id+"/result", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	var all []tally.Ballot
	for pid, b := range truth {
		b.ID = pid
		all = append(all, b)
	}
	if got, want := withoutVersion(t, r.body), withoutVersion(t, expectedResult(t, def, all, nil)); !reflect.DeepEqual(got, want) {
		t.Errorf("result\n%v\nwant the papers' count\n%v", got, want)
	}
}

// checkVerifiedRace checks every answer of a concurrent keying run against
// the journal, the log and the documented rules.
func checkVerifiedRace(t *testing.T, admin client, id string, c *tally.Contest, required int, truth map[string]tally.Ballot,
	keyings []*raceKeying, decisions []raceDecision) {
	t.Helper()
	digest := func(b tally.Ballot, pid string) string {
		s, k, _ := tally.ParsePositionID(pid)
		body, err := c.Body(b, s, k, c.Index())
		if err != nil {
			t.Fatalf("%s: %v", pid, err)
		}
		return tally.BallotDigest(&body)
	}

	var journal struct {
		Keyings   []tally.Keying            `json:"keyings"`
		Decisions []tally.CommitteeDecision `json:"decisions"`
	}
	r := admin.do("GET", "/api/v1/contests/"+id+"/journal", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	decode(t, r, &journal)
	type deskKeying struct{ desk, id string }
	inJournal := map[deskKeying]tally.Keying{}
	latest := map[string]map[string]tally.Keying{} // position → desk → latest keying
	for _, k := range journal.Keyings {
		dk := deskKeying{k.Desk, k.ID}
		if _, dup := inJournal[dk]; dup {
			t.Errorf("keying %s of %s is in the journal twice", k.ID, k.Desk)
		}
		inJournal[dk] = k
		pid := tally.PositionID(k.Stack, k.Position)
		if latest[pid] == nil {
			latest[pid] = map[string]tally.Keying{}
		}
		if cur, ok := latest[pid][k.Desk]; !ok || k.N > cur.N {
			latest[pid][k.Desk] = k
		}
	}
	decided := map[string]tally.CommitteeDecision{}
	for _, d := range journal.Decisions {
		pid := tally.PositionID(d.Stack, d.Position)
		if _, dup := decided[pid]; dup {
			t.Errorf("%s decided twice in the journal", pid)
		}
		decided[pid] = d
	}
	r = admin.do("GET", "/api/v1/contests/"+id+"/log", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	logged := map[string]tally.Entry{}
	for _, e := range readLog(t, r.body) {
		if _, dup := logged[e.Ballot.ID]; dup {
			t.Errorf("%s is in the log twice", e.Ballot.ID)
		}
		logged[e.Ballot.ID] = e
	}
	if len(logged) != len(truth) {
		t.Errorf("%d papers in the log, want %d", len(logged), len(truth))
	}

	// Each keying's answers: 201 once and 200 for its retries, or 409
	// position for all; what was answered 201 is in the journal as keyed,
	// what was refused is nowhere.
	type answers struct {
		created, retried, refused int
		sent                      *raceKeying
	}
	byKeying := map[deskKeying]*answers{}
	agreedAnswer := map[string]int64{} // position → seq of an "accepted" answer with a receipt
	disputedAnswer := map[string]bool{}
	for _, rk := range keyings {
		pid := tally.PositionID(rk.stack, rk.pos)
		dk := deskKeying{fmt.Sprintf("bàn %d", rk.desk+1), rk.id}
		a := byKeying[dk]
		if a == nil {
			a = &answers{sent: rk}
			byKeying[dk] = a
		}
		switch rk.status {
		case http.StatusCreated, http.StatusOK:
			if rk.status == http.StatusCreated {
				a.created++
			} else {
				a.retried++
			}
			var ans struct {
				keyingAnswer
				ID       string `json:"id"`
				Stack    int    `json:"stack"`
				Position int    `json:"position"`
			}
			if err := json.Unmarshal(rk.body, &ans); err != nil {
				t.Fatalf("%s %s: %v", dk.desk, rk.id, err)
			}
			if ans.ID != rk.id || ans.Stack != rk.stack || ans.Position != rk.pos || ans.BallotID != pid || ans.Required != required {
				t.Errorf("%s %s: the answer names another keying: %s", dk.desk, rk.id, rk.body)
			}
			switch ans.Status {
			case "pending":
				if ans.Keyed >= required || ans.Keyed < 1 || ans.Receipt != nil {
					t.Errorf("%s %s: pending with %d of %d desks: %s", dk.desk, rk.id, ans.Keyed, required, rk.body)
				}
			case "accepted":
				if ans.Receipt != nil {
					agreedAnswer[pid] = ans.Receipt.Seq
				} else if rk.status == http.StatusCreated || decided[pid].Seq == 0 {
					t.Errorf("%s %s: accepted without a receipt, on a position the committee did not decide: %s", dk.desk, rk.id, rk.body)
				}
			case "disputed":
				disputedAnswer[pid] = true
			default:
				t.Errorf("%s %s: status %q", dk.desk, rk.id, ans.Status)
			}
		case http.StatusConflict:
			a.refused++
			var e struct{ Error apiError }
			if err := json.Unmarshal(rk.body, &e); err != nil || e.Error.Field != "position" || e.Error.Code != "conflict" {
				t.Errorf("%s %s: 409 %s, want the position refused", dk.desk, rk.id, rk.body)
			}
		default:
			t.Errorf("%s %s: %d %s", dk.desk, rk.id, rk.status, rk.body)
		}
	}
	codes := map[int]int{}
	for _, rk := range keyings {
		codes[rk.status]++
	}
	t.Logf("%d papers, %d keyings sent (%d × 201, %d × 200, %d × 409), %d decisions sent; %d papers decided by the committee",
		len(truth), len(keyings), codes[http.StatusCreated], codes[http.StatusOK], codes[http.StatusConflict], len(decisions), len(decided))
	for dk, a := range byKeying {
		k, recorded := inJournal[dk]
		switch {
		case a.refused > 0 && (a.created > 0 || a.retried > 0):
			t.Errorf("%s %s: refused (409) and recorded (%d×201, %d×200) at once", dk.desk, dk.id, a.created, a.retried)
		case a.refused > 0 && recorded:
			t.Errorf("%s %s: refused (409), yet in the journal", dk.desk, dk.id)
		case a.refused == 0 && a.created != 1:
			t.Errorf("%s %s: answered 201 %d times (and 200 %d times), want once: a retry is recorded once", dk.desk, dk.id, a.created, a.retried)
		case a.refused == 0 && !recorded:
			t.Errorf("%s %s: answered 201, yet not in the journal", dk.desk, dk.id)
		case recorded && k.Digest != digest(a.sent.ballot, tally.PositionID(a.sent.stack, a.sent.pos)):
			t.Errorf("%s %s: the journal holds %+v, not what the desk keyed", dk.desk, dk.id, k.Ballot)
		}
	}

	// The committee's answers: one 201 per decided position, 200 for the
	// retry sent beside it; it decided only what was disputed.
	decisionAnswers := map[string][]int{}
	for _, d := range decisions {
		decisionAnswers[d.pid] = append(decisionAnswers[d.pid], d.status)
		if d.status == http.StatusCreated || d.status == http.StatusOK {
			var ans struct{ Receipt receipt }
			if err := json.Unmarshal(d.body, &ans); err != nil {
				t.Fatal(err)
			}
			if e, ok := logged[d.pid]; !ok || ans.Receipt.Seq != e.Seq {
				t.Errorf("decision on %s: receipt %+v, not the log's entry", d.pid, ans.Receipt)
			}
		}
	}
	for pid, statuses := range decisionAnswers {
		slices.Sort(statuses)
		if statuses[0] != http.StatusOK || statuses[len(statuses)-1] != http.StatusCreated ||
			len(statuses) != 2 || slices.Index(statuses, http.StatusCreated) != 1 {
			t.Errorf("decision on %s answered %v, want one 201 and one 200 (the retry)", pid, statuses)
		}
	}

	// Each paper: accepted by agreement or decided by the committee,
	// never both; in the log once, as agreed or as decided.
	for pid := range truth {
		e, ok := logged[pid]
		if !ok {
			t.Errorf("%s is not in the log", pid)
			continue
		}
		got := tally.BallotDigest(e.Ballot)
		desks := latest[pid]
		d, isDecided := decided[pid]
		seq, agreed := agreedAnswer[pid]
		switch {
		case agreed && (isDecided || disputedAnswer[pid]):
			t.Errorf("%s: answered accepted (seq %d) and disputed (decision %v, disputed answer %v)", pid, seq, isDecided, disputedAnswer[pid])
		case isDecided:
			if got != d.Digest || d.Seq != e.Seq || e.Desk != "ban kiểm phiếu (admin)" {
				t.Errorf("%s: decided %+v, but the log holds %+v (desk %q)", pid, d.Ballot, e.Ballot, e.Desk)
			}
			differ := false
			for _, k := range d.Entries {
				differ = differ || k.Digest != d.Entries[0].Digest
			}
			if !differ {
				t.Errorf("%s: the committee decided a position whose entries agree: %+v", pid, d.Entries)
			}
			if len(decisionAnswers[pid]) == 0 {
				t.Errorf("%s: decided in the journal, but no decision was answered", pid)
			}
		default:
			if disputedAnswer[pid] {
				t.Errorf("%s: answered disputed, then settled without the committee", pid)
			}
			if len(desks) < required {
				t.Errorf("%s: in the log with %d desks keyed, want %d", pid, len(desks), required)
			}
			var names []string
			for name, k := range desks {
				names = append(names, name)
				if k.Digest != got {
					t.Errorf("%s: the log holds %+v, but %s's latest keying is %+v", pid, e.Ballot, name, k.Ballot)
				}
			}
			slices.Sort(names)
			if e.Desk != strings.Join(names, " + ") {
				t.Errorf("%s: log desk %q, want the agreeing desks %q", pid, e.Desk, strings.Join(names, " + "))
			}
			if agreed && seq != e.Seq {
				t.Errorf("%s: an answer's receipt is seq %d, the log's entry %d", pid, seq, e.Seq)
			}
		}
		if got != digest(truth[pid], pid) {
			t.Errorf("%s: the log holds %+v, not the paper %+v", pid, e.Ballot, truth[pid])
		}
	}
	r = admin.do("GET", "/api/v1/contests/"+id+"/disputes", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.body), "ballot_id") {
		t.Errorf("disputes left open: %s", r.body)
	}
}
