//go:build unix

package main

// The accuracy volume test of the reliability campaign (issue 5,
// research/perf-reliability.md T9, in the spirit of the VVSG "1.5 million
// mark" test): ballots from a seeded generator are keyed through the HTTP
// API of a real `kiemphieu serve` process by several desks at once, with
// resends, replies lost to a client timeout, and corrections (a slip keyed,
// voided and keyed again under a new id). The expected result is counted
// here from the generated marks with plain maps and integer arithmetic —
// not with package tally, nor any of the service's code — and compared
// field by field with GET /result and with `kiemphieu recount` of the
// exported log. The figure that matters is the number of discrepancies: 0.
//
// Zero discrepancies over ~2·10⁶ positions is consistent with the VVSG
// target of at most 1 error in 10⁷ positions; it cannot prove that rate.
//
// Sizes: KP_PROOF=full keys 40,000 strike ballots of 50 names (2,000,000
// positions) plus two approve contests; the short size (every go test run,
// CI) about 20,000 positions. KP_PROOF_ACCURACY_BALLOTS and
// KP_PROOF_ACCURACY_APPROVE override them; KP_E2E_SEED replays a run.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/proof"
	"github.com/kiemphieu/kiemphieu/internal/redistest"
)

func TestProofAccuracyEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end accuracy test: not with -short")
	}
	srv := startChild(t, "kiemphieu", "serve", "--data", t.TempDir(), "--redis-url", "", "--admin-token", e2eAdminToken)
	accuracyRun(t, srv, "embedded")
	srv.stop()
}

func TestProofAccuracyRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end accuracy test: not with -short")
	}
	rs := redistest.Start(t)
	srv := startChild(t, "kiemphieu", "serve", "--data", t.TempDir(), "--redis-url", rs.URL(), "--admin-token", e2eAdminToken)
	accuracyRun(t, srv, "redis")
	srv.stop()
}

// ---------------------------------------------------------------------------
// The generator: contests and ballots as plain data

// genContest is one contest of the run, as this test knows it.
type genContest struct {
	id       string
	kind     string // the contest's kind
	style    string // "strike" | "approve"
	seats    int
	cands    []string // candidate ids
	names    map[string]string
	convened int
	excluded int // committee_absent + delegates_absent_unreplaced
	ballots  int // ballots to key (each counted once, slips aside)
	weight   []float64
	salt     uint64
}

// denominator is D of a delegates congress: convened minus the committee
// members absent and the delegates absent and not replaced (DESIGN §5.1).
func (c *genContest) denominator() int { return c.convened - c.excluded }

func (c *genContest) definition() []byte {
	var cands []map[string]any
	for _, id := range c.cands {
		cands = append(cands, map[string]any{"id": id, "name": c.names[id]})
	}
	def := map[string]any{
		"id": c.id, "title": "Kiểm tra độ chính xác (" + c.id + ")", "kind": c.kind,
		"seats": c.seats, "ballot": c.style, "visibility": "certified",
		"electorate": map[string]any{"congress": "delegates", "convened": c.convened,
			"exclusions": map[string]int{"committee_absent": 2, "delegates_absent_unreplaced": c.excluded - 2}},
		"candidates": cands,
	}
	data, err := json.Marshal(def)
	if err != nil {
		panic(err)
	}
	return data
}

// genBallot is one paper ballot as generated: what the desk keys.
type genBallot struct {
	struck  []string          // strike ballots; nil only when invalid on sight
	marks   map[string]string // approve ballots: candidate → agree|disagree|both|none (a missing row is none)
	invalid string            // ruled invalid on sight: not_issued|write_in|identifying_mark|other
}

func (b genBallot) body(id string) []byte {
	m := map[string]any{"id": id}
	switch {
	case b.invalid != "":
		m["invalid"] = b.invalid
		m["note"] = "ghi chú của ban kiểm phiếu"
	case b.marks != nil:
		m["marks"] = b.marks
	default:
		m["struck"] = b.struck
	}
	data, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return data
}

var onSight = []string{"not_issued", "write_in", "identifying_mark", "other"}

// ballot n of contest c (and, with slip set, the wrong ballot a desk keys
// first when it makes a slip there): always the same for a seed.
func (c *genContest) ballot(seed uint64, n int, slip bool) genBallot {
	stream := c.salt<<40 | uint64(n)<<1
	if slip {
		stream |= 1
	}
	rng := rand.New(rand.NewPCG(seed, stream))
	x := rng.IntN(1000)
	if x < 20 { // 2%: invalid on sight
		return genBallot{invalid: onSight[rng.IntN(len(onSight))]}
	}
	if c.style == "approve" {
		return c.approve(rng)
	}
	nc := len(c.cands)
	var k int
	switch {
	case x < 40: // untouched: keeps every name, an over-vote
		k = 0
	case x < 50: // every name struck: no vote
		k = nc
	case x < 65: // too few struck: an over-vote
		k = 1 + rng.IntN(nc-c.seats-1)
	case x < 70: // many struck, still valid (keeps at least one)
		k = nc - c.seats + rng.IntN(c.seats)
	default: // the usual ballot: the surplus struck, and a few more
		k = nc - c.seats + min(rng.IntN(4)+rng.IntN(4), c.seats-1)
	}
	// k names without replacement, by weight: some candidates are struck
	// far more often than others.
	w := slices.Clone(c.weight)
	struck := []string{}
	for range k {
		total := 0.0
		for _, v := range w {
			total += v
		}
		r := rng.Float64() * total
		i := 0
		for ; i < nc-1; i++ {
			if r < w[i] {
				break
			}
			r -= w[i]
		}
		for w[i] == 0 { // float rounding at the end of the range
			i--
		}
		struck = append(struck, c.cands[i])
		w[i] = 0
	}
	return genBallot{struck: struck}
}

func (c *genContest) approve(rng *rand.Rand) genBallot {
	marks := map[string]string{}
	for i, id := range c.cands {
		agree := 0.55 + 0.4*float64(i)/float64(max(1, len(c.cands)-1)) // from 55% to 95%
		switch r := rng.Float64(); {
		case r < 0.015:
			marks[id] = "both"
		case r < 0.03:
			marks[id] = "none"
		case r < 0.045: // the row left out: none
		case r < 0.045+agree*0.955:
			marks[id] = "agree"
		default:
			marks[id] = "disagree"
		}
	}
	return genBallot{marks: marks}
}

func newGenContest(id, kind, style string, seats, ncands, ballots int, salt uint64, seed uint64) *genContest {
	families := []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"}
	middles := []string{"Văn", "Thị", "Đức", "Minh", "Ngọc", "Hữu", "Quang", "Thanh"}
	givens := []string{"An", "Bình", "Cường", "Dung", "Giang", "Hà", "Hải", "Hương", "Khánh", "Lan", "Long", "Mai", "Nam", "Phong", "Quân", "Sơn", "Thảo", "Trang", "Tuấn", "Yến", "Hòa", "Lộc", "Nhung", "Vinh"}
	c := &genContest{id: id, kind: kind, style: style, seats: seats, ballots: ballots, salt: salt, names: map[string]string{}}
	rng := rand.New(rand.NewPCG(seed, 1<<62|salt))
	for i := range ncands {
		cid := fmt.Sprintf("%s-c%02d", id, i+1)
		c.cands = append(c.cands, cid)
		c.names[cid] = fmt.Sprintf("%s %s %s", families[i%len(families)], middles[(i/3)%len(middles)], givens[(i*7)%len(givens)])
		// Most names are struck now and then; a few often (they end near
		// or under half of D).
		w := 0.2 + rng.Float64()
		switch {
		case i%5 == 0:
			w = 1.5 + 3*rng.Float64()
		case i%7 == 0:
			w = 1 + rng.Float64()
		}
		c.weight = append(c.weight, w)
	}
	// About 2.5% of those convened are not in D; a few of D did not vote.
	c.excluded = 2 + 1 + ballots/80
	c.convened = ballots + ballots/40 + c.excluded
	return c
}

// ---------------------------------------------------------------------------
// The expected result, counted from the generated marks

type expCandidate struct {
	votes, agree, disagree, unmarked int
}

type expected struct {
	total, valid int
	invalid      map[string]int
	cands        map[string]*expCandidate
}

// count tallies the ballots that should be in the count (slips voided)
// by the rules of DESIGN §5.2, with nothing but maps and integers: a strike
// ballot keeping more names than seats (untouched included) is an
// over-vote, one striking every name a no-vote; a one-name approve ballot
// with both boxes or none is ambiguous; an approve row that is not agree or
// disagree counts for nobody.
func (c *genContest) count(seed uint64) *expected {
	e := &expected{invalid: map[string]int{}, cands: map[string]*expCandidate{}}
	for _, id := range c.cands {
		e.cands[id] = &expCandidate{}
	}
	for n := range c.ballots {
		b := c.ballot(seed, n, false)
		e.total++
		if b.invalid != "" {
			e.invalid[b.invalid]++
			continue
		}
		if c.style == "strike" {
			struck := map[string]bool{}
			for _, id := range b.struck {
				struck[id] = true
			}
			kept := len(c.cands) - len(struck)
			switch {
			case kept == 0:
				e.invalid["no_vote"]++
				continue
			case kept > c.seats:
				e.invalid["over_vote"]++
				continue
			}
			e.valid++
			for _, id := range c.cands {
				if !struck[id] {
					e.cands[id].votes++
				}
			}
			continue
		}
		if len(c.cands) == 1 {
			if m := b.marks[c.cands[0]]; m != "agree" && m != "disagree" {
				e.invalid["ambiguous_single"]++
				continue
			}
		}
		agreed := 0
		for _, id := range c.cands {
			if b.marks[id] == "agree" {
				agreed++
			}
		}
		if agreed > c.seats { // cannot happen with no more names than seats; kept for the rule's sake
			e.invalid["over_vote"]++
			continue
		}
		e.valid++
		for _, id := range c.cands {
			ec := e.cands[id]
			switch b.marks[id] {
			case "agree":
				ec.agree++
				ec.votes++
			case "disagree":
				ec.disagree++
			default:
				ec.unmarked++
			}
		}
	}
	return e
}

// percent is votes × 100 / d with two places, half up, as "12.34".
func percent(votes, d int) string {
	q := (votes*10000*2 + d) / (2 * d)
	return fmt.Sprintf("%d.%02d", q/100, q%100)
}

// result is the §5.3 result this test expects, as JSON values (numbers as
// float64), for the fields it checks.
func (c *genContest) result(e *expected) map[string]any {
	d := c.denominator()
	threshold := d/2 + 1 // the least v with 2v > d
	type cv struct {
		id    string
		votes int
	}
	var passed []cv
	for _, id := range c.cands {
		if v := e.cands[id].votes; 2*v > d {
			passed = append(passed, cv{id, v})
		}
	}
	sort.SliceStable(passed, func(i, j int) bool { return passed[i].votes > passed[j].votes })
	status := map[string]string{}
	elected, tied := []any{}, []any{}
	revote, vacant := 0, 0
	if len(passed) <= c.seats {
		for _, p := range passed {
			elected = append(elected, p.id)
			status[p.id] = "elected"
		}
		vacant = c.seats - len(passed)
	} else {
		cut := passed[c.seats-1].votes
		var above, at []string
		for _, p := range passed {
			switch {
			case p.votes > cut:
				above = append(above, p.id)
			case p.votes == cut:
				at = append(at, p.id)
			}
		}
		winners := above
		if len(above)+len(at) <= c.seats {
			winners = append(winners, at...)
		} else {
			for _, id := range at {
				tied = append(tied, id)
				status[id] = "tie"
			}
			revote = c.seats - len(above)
		}
		for _, id := range winners {
			elected = append(elected, id)
			status[id] = "elected"
		}
	}
	cands := map[string]any{}
	for _, id := range c.cands {
		ec := e.cands[id]
		st := status[id]
		if st == "" {
			st = "not_elected"
		}
		p := percent(ec.votes, d)
		m := map[string]any{
			"id": id, "name": c.names[id], "votes": float64(ec.votes), "percent": p,
			"percent_text": strings.Replace(p, ".", ",", 1) + "%", "over_half": 2*ec.votes > d, "status": st,
		}
		if c.style == "approve" {
			m["agree"], m["disagree"], m["unmarked"] = float64(ec.agree), float64(ec.disagree), float64(ec.unmarked)
		}
		cands[id] = m
	}
	invalid := map[string]any{}
	for k, v := range e.invalid {
		if v > 0 {
			invalid[k] = float64(v)
		}
	}
	return map[string]any{
		"contest": c.id, "round": float64(1), "seats": float64(c.seats),
		"denominator": float64(d), "threshold": float64(threshold),
		"ballots": map[string]any{"total": float64(e.total), "valid": float64(e.valid),
			"invalid": float64(e.total - e.valid), "invalid_by_reason": invalid},
		"candidates":   cands,
		"elected":      elected,
		"tied":         tied,
		"revote_seats": float64(revote),
		"vacant":       float64(vacant),
	}
}

// compareResult compares got (a §5.3 result as decoded JSON) with want
// field by field and returns one line per discrepancy and the number of
// fields compared. Candidates are matched by id (their order is the
// ballot's, a matter of collation checked elsewhere); elected by the set
// and by votes non-increasing (equal votes may come in any order).
// composition and version are not compared here.
func compareResult(want, got map[string]any) (diffs []string, fields int) {
	diff := func(field string, w, g any) {
		fields++
		if !reflect.DeepEqual(w, g) {
			diffs = append(diffs, fmt.Sprintf("%s: want %v, got %v", field, w, g))
		}
	}
	for _, k := range []string{"contest", "round", "seats", "denominator", "threshold", "revote_seats", "vacant"} {
		diff(k, want[k], got[k])
	}
	wb, _ := want["ballots"].(map[string]any)
	gb, _ := got["ballots"].(map[string]any)
	for _, k := range []string{"total", "valid", "invalid"} {
		diff("ballots."+k, wb[k], gb[k])
	}
	wi, _ := wb["invalid_by_reason"].(map[string]any)
	gi, _ := gb["invalid_by_reason"].(map[string]any)
	for _, k := range append(slices.Clone(onSight), "over_vote", "no_vote", "ambiguous_single") {
		diff("ballots.invalid_by_reason."+k, wi[k], gi[k])
	}
	for k := range gi {
		if _, ok := wi[k]; !ok && !slices.Contains(onSight, k) && k != "over_vote" && k != "no_vote" && k != "ambiguous_single" {
			diff("ballots.invalid_by_reason."+k, nil, gi[k])
		}
	}
	wc, _ := want["candidates"].(map[string]any)
	gl, _ := got["candidates"].([]any)
	fields++
	if len(gl) != len(wc) {
		diffs = append(diffs, fmt.Sprintf("candidates: want %d, got %d", len(wc), len(gl)))
	}
	seen := map[string]bool{}
	for _, x := range gl {
		gc, _ := x.(map[string]any)
		id, _ := gc["id"].(string)
		w, ok := wc[id].(map[string]any)
		if !ok || seen[id] {
			diffs = append(diffs, fmt.Sprintf("candidates: unexpected or repeated %q", id))
			continue
		}
		seen[id] = true
		for _, k := range []string{"name", "votes", "percent", "percent_text", "over_half", "status", "agree", "disagree", "unmarked"} {
			diff("candidates["+id+"]."+k, w[k], gc[k])
		}
	}
	votes := map[string]float64{}
	for id, x := range wc {
		votes[id] = x.(map[string]any)["votes"].(float64)
	}
	for _, k := range []string{"elected", "tied"} {
		w, _ := want[k].([]any)
		g, _ := got[k].([]any)
		ws, gs := make([]string, 0, len(w)), make([]string, 0, len(g))
		for _, x := range w {
			ws = append(ws, x.(string))
		}
		for i, x := range g {
			s, _ := x.(string)
			gs = append(gs, s)
			if i > 0 && votes[s] > votes[gs[i-1]] {
				diffs = append(diffs, fmt.Sprintf("%s: %s (%v votes) after %s (%v votes): not by votes, descending", k, s, votes[s], gs[i-1], votes[gs[i-1]]))
			}
		}
		slices.Sort(ws)
		slices.Sort(gs)
		diff(k, ws, gs)
	}
	return diffs, fields
}

// ---------------------------------------------------------------------------
// The run

// accuracyJob is one ballot to key: ballot n of contest c, and how.
type accuracyJob struct {
	c    *genContest
	n    int
	mode int // 0 plain, 1 sent again after its 201, 2 first reply lost to a client timeout, 3 a slip voided then keyed right
}

// deskTally is what one desk did.
type deskTally struct {
	st                      deskStats
	acks                    map[string]ack // by "contest/ballot id": the ballots that count
	slips                   map[string]ack // voided slips, by "contest/ballot id"
	voids                   map[string]ack // the voids' receipts, by the slip's key
	resent, lost, corrected int
	err                     error
}

func accuracyRun(t *testing.T, srv *child, storeName string) {
	seed := e2eSeed(t)
	nStrike := proof.Size("ACCURACY_BALLOTS", 360, 40000)
	nApprove := proof.Size("ACCURACY_APPROVE", 200, 4000)
	const desks = 12
	contests := []*genContest{
		newGenContest("acc-bch", "committee", "strike", 41, 50, nStrike, 1, seed),
		newGenContest("acc-ubkt", "inspection_committee", "approve", 9, 9, nApprove, 2, seed),
		newGenContest("acc-bithu", "secretary", "approve", 1, 1, nApprove, 3, seed),
	}
	positions := 0
	for _, c := range contests {
		positions += c.ballots * len(c.cands)
	}
	t.Logf("%s store: %d ballot positions (%d strike ballots × 50 names, %d approve ballots × 9, %d × 1), %d desks",
		storeName, positions, nStrike, nApprove, nApprove, desks)

	admin := &apiClient{base: srv.base(), token: e2eAdminToken, hc: newHTTPClient(t, 60*time.Second)}
	for _, c := range contests {
		admin.must(t, "POST", "/api/v1/contests", c.definition(), http.StatusCreated)
		admin.must(t, "POST", "/api/v1/contests/"+c.id+"/open", nil, http.StatusOK)
	}
	var tokens []deskToken
	for d := range desks {
		var tok struct{ Token string }
		name := fmt.Sprintf("Bàn %d", d+1)
		decodeJSON(t, "token", admin.must(t, "POST", "/api/v1/tokens", map[string]string{"role": "counter", "name": name}, http.StatusCreated), &tok)
		tokens = append(tokens, deskToken{name: name, token: tok.Token})
	}

	// The jobs, interleaved across contests, each with its way of being
	// keyed (seeded).
	var jobs []accuracyJob
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, c := range contests {
		for n := range c.ballots {
			mode := 0
			switch x := rng.IntN(1000); {
			case x < 20:
				mode = 1
			case x < 30:
				mode = 2
			case x < 35:
				mode = 3
			}
			jobs = append(jobs, accuracyJob{c: c, n: n, mode: mode})
		}
	}
	rng.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	queue := make(chan accuracyJob, len(jobs))
	for _, j := range jobs {
		queue <- j
	}
	close(queue)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute+time.Duration(len(jobs))*5*time.Millisecond)
	defer cancel()
	start := time.Now()
	results := make([]deskTally, desks)
	var wg sync.WaitGroup
	for d := range desks {
		cl := &apiClient{base: srv.base(), token: tokens[d].token, hc: newHTTPClient(t, 10*time.Second)}
		wg.Go(func() { results[d] = accuracyDesk(ctx, cl, tokens[d], seed, queue) })
	}
	wg.Wait()
	elapsed := time.Since(start)

	acks, slips, voids := map[string]ack{}, map[string]ack{}, map[string]ack{}
	var resent, lost, corrected, transport int
	statuses := map[int]int{}
	for _, r := range results {
		if r.err != nil {
			t.Error(r.err)
		}
		resent, lost, corrected, transport = resent+r.resent, lost+r.lost, corrected+r.corrected, transport+r.st.transport
		for k, v := range r.st.statuses {
			statuses[k] += v
		}
		for _, m := range []struct{ from, to map[string]ack }{{r.acks, acks}, {r.slips, slips}, {r.voids, voids}} {
			for k, v := range m.from {
				if _, dup := m.to[k]; dup {
					t.Errorf("ballot %s acknowledged at two desks", k)
				}
				m.to[k] = v
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	entered := len(acks) + len(slips)
	t.Logf("keyed in %v: %d ballots counted, %d slips voided and re-keyed, %d sent again after their 201, %d first replies lost to a client timeout; %d transport errors, statuses %v",
		elapsed.Round(time.Millisecond), len(acks), corrected, resent, lost, transport, statuses)

	// The log, the service's result and the recount of the log, against
	// the count made here.
	discrepancies, fields := 0, 0
	dir := t.TempDir()
	for _, c := range contests {
		path := "/api/v1/contests/" + c.id
		export := admin.must(t, "GET", path+"/log", nil, http.StatusOK)
		checkAccuracyLog(t, c, export, acks, slips, voids)

		want := c.result(c.count(seed))
		var served, recounted map[string]any
		decodeJSON(t, "result", admin.must(t, "GET", path+"/result", nil, http.StatusOK), &served)
		contestFile, logFile := filepath.Join(dir, c.id+".json"), filepath.Join(dir, c.id+".jsonl")
		if err := os.WriteFile(contestFile, c.definition(), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(logFile, export, 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if code := run([]string{"recount", contestFile, logFile}, &out, &errOut); code != exitOK {
			t.Fatalf("kiemphieu recount %s: exit %d: %s", c.id, code, errOut.String())
		}
		decodeJSON(t, "recount output", out.Bytes(), &recounted)
		for _, x := range []struct {
			what string
			got  map[string]any
		}{{"GET /result", served}, {"kiemphieu recount", recounted}} {
			diffs, n := compareResult(want, x.got)
			fields += n
			discrepancies += len(diffs)
			for i, d := range diffs {
				if i == 20 {
					t.Errorf("%s %s: … %d more", c.id, x.what, len(diffs)-20)
					break
				}
				t.Errorf("%s %s: %s", c.id, x.what, d)
			}
		}
		var elected []string
		for _, x := range want["elected"].([]any) {
			elected = append(elected, x.(string))
		}
		wb := want["ballots"].(map[string]any)
		t.Logf("%s: %v ballots (%v valid, invalid by reason %v), D %v, %d elected, %d tied, %v vacant",
			c.id, wb["total"], wb["valid"], wb["invalid_by_reason"], want["denominator"], len(elected), len(want["tied"].([]any)), want["vacant"])

		// Closing recounts the log against the service's running counters.
		total := int(wb["total"].(float64))
		admin.must(t, "POST", path+"/close", map[string]int{"issued": total}, http.StatusOK)
	}
	proof.Report(t, "store", storeName, "")
	proof.Report(t, "seed", seed, "")
	proof.Report(t, "positions_entered", positions, "positions")
	proof.Report(t, "ballots_entered", entered, "ballots (slips included)")
	proof.Report(t, "fields_compared", fields, "fields")
	proof.Report(t, "discrepancies", discrepancies, "fields")
	proof.Reportf(t, "intake_rate", "ballots/s", "%.0f", float64(entered)/elapsed.Seconds())
	proof.Report(t, "resent_after_ack", resent, "ballots")
	proof.Report(t, "reply_lost_then_retried", lost, "ballots")
	proof.Report(t, "slips_voided", corrected, "ballots")
}

// accuracyDesk keys jobs from the queue until it is empty, as one desk
// with its own connections.
func accuracyDesk(ctx context.Context, cl *apiClient, desk deskToken, seed uint64, queue <-chan accuracyJob) deskTally {
	r := deskTally{st: deskStats{statuses: map[int]int{}}, acks: map[string]ack{}, slips: map[string]ack{}, voids: map[string]ack{}}
	post := func(path string) poster {
		return func(ctx context.Context, _ int, body []byte) (int, []byte, error) {
			return cl.do(ctx, "POST", path, body)
		}
	}
	fail := func(format string, args ...any) deskTally {
		r.err = fmt.Errorf("%s: "+format, append([]any{desk.name}, args...)...)
		return r
	}
	for j := range queue {
		ballots := "/api/v1/contests/" + j.c.id + "/ballots"
		id := fmt.Sprintf("%s-%06d", j.c.id, j.n+1)
		body := j.c.ballot(seed, j.n, false).body(id)
		switch j.mode {
		case 2: // the first send's reply is lost: the client gives up at once
			r.lost++
			tctx, tcancel := context.WithTimeout(ctx, time.Duration(rand.IntN(3000))*time.Microsecond)
			_, _, _ = cl.do(tctx, "POST", ballots, body)
			tcancel()
		case 3: // a slip: the wrong ballot keyed under the id, voided, then the right one under a new id
			r.corrected++
			a, err := keyBallot(ctx, &r.st, post(ballots), id, j.c.ballot(seed, j.n, true).body(id))
			if err != nil {
				return fail("%v", err)
			}
			a.desk = desk.name
			r.slips[j.c.id+"/"+id] = a
			v, err := keyBallot(ctx, &r.st, post(ballots+"/"+id+"/void"), id, []byte(`{"reason":"nhập nhầm, nhập lại"}`))
			if err != nil {
				return fail("void of %v", err)
			}
			if v.status != http.StatusCreated {
				return fail("void of %s: %d, want 201", id, v.status)
			}
			v.desk = desk.name
			r.voids[j.c.id+"/"+id] = v
			id += "-r"
			body = j.c.ballot(seed, j.n, false).body(id)
		}
		a, err := keyBallot(ctx, &r.st, post(ballots), id, body)
		if err != nil {
			return fail("%v", err)
		}
		if j.mode != 2 && a.status != http.StatusCreated {
			return fail("ballot %s: %d on its first send, want 201", id, a.status)
		}
		if j.mode == 1 {
			r.resent++
			again, err := keyBallot(ctx, &r.st, post(ballots), id, body)
			if err != nil {
				return fail("%v", err)
			}
			if again.status != http.StatusOK || again.receipt != a.receipt {
				return fail("ballot %s sent again: %d %+v; want 200 with the receipt %+v", id, again.status, again.receipt, a.receipt)
			}
		}
		a.desk = desk.name
		r.acks[j.c.id+"/"+id] = a
	}
	return r
}

// checkAccuracyLog checks a contest's exported log against what the desks
// saw: every acknowledged ballot, slip and void is there once, with its
// receipt and desk; nothing else is.
func checkAccuracyLog(t *testing.T, c *genContest, export []byte, acks, slips, voids map[string]ack) {
	t.Helper()
	type logEntry struct {
		Seq    int64 `json:"seq"`
		Ballot *struct {
			ID string `json:"id"`
		} `json:"ballot"`
		Void *struct {
			Seq    int64  `json:"seq"`
			Ballot string `json:"ballot"`
		} `json:"void"`
		Desk string `json:"desk"`
		Hash string `json:"hash"`
	}
	want := 0
	for _, m := range []map[string]ack{acks, slips, voids} {
		for k := range m {
			if strings.HasPrefix(k, c.id+"/") {
				want++
			}
		}
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(export))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n, bad := 0, 0
	for sc.Scan() {
		n++
		var e logEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s log line %d: %v", c.id, n, err)
		}
		var key string
		var a ack
		var ok bool
		switch {
		case e.Ballot != nil:
			key = c.id + "/" + e.Ballot.ID
			if a, ok = acks[key]; !ok {
				a, ok = slips[key]
			}
		case e.Void != nil:
			key = "void " + c.id + "/" + e.Void.Ballot
			a, ok = voids[c.id+"/"+e.Void.Ballot]
			if s := slips[c.id+"/"+e.Void.Ballot]; ok && s.receipt.Seq != e.Void.Seq {
				t.Errorf("%s log entry %d voids seq %d; the slip %s is at %d", c.id, e.Seq, e.Void.Seq, e.Void.Ballot, s.receipt.Seq)
			}
		}
		switch {
		case !ok:
			t.Errorf("%s log entry %d (%s) was never acknowledged to a desk", c.id, e.Seq, sc.Bytes())
			bad++
		case seen[key]:
			t.Errorf("%s log entry %d: %s is in the log twice", c.id, e.Seq, key)
			bad++
		case a.receipt.Seq != e.Seq || a.receipt.Hash != e.Hash || a.desk != e.Desk:
			t.Errorf("%s log entry %d: %s acknowledged as seq %d hash %.12s… at %q; the log says seq %d hash %.12s… at %q",
				c.id, e.Seq, key, a.receipt.Seq, a.receipt.Hash, a.desk, e.Seq, e.Hash, e.Desk)
			bad++
		}
		seen[key] = true
		if bad > 20 {
			t.FailNow()
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != want || len(seen) != want {
		t.Errorf("%s log: %d entries (%d distinct); the desks saw %d acknowledged", c.id, n, len(seen), want)
	}
	if t.Failed() {
		t.FailNow()
	}
}
