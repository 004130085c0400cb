package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiemphieu/kiemphieu/tally"
)

const (
	// maxBatch bounds the Appends one script call carries, and so how long
	// the script holds Redis (a few µs per item).
	maxBatch = 256
	// idleTimeout is how long a committer waits for work before it retires.
	idleTimeout = time.Minute
	// batchTimeout bounds how long a batch keeps trying when other
	// instances keep appending first (or hold the turn).
	batchTimeout = 10 * time.Second
)

// stored is a ballot's value in the seen hash: its receipt, its digest (a
// retry must match it) and the counter keys it added to (a void subtracts
// them).
type stored struct {
	Seq    int64    `json:"seq"`
	Hash   string   `json:"hash"`
	Valid  bool     `json:"valid"`
	Reason string   `json:"reason,omitempty"`
	Digest string   `json:"digest"`
	Keys   []string `json:"keys"`
}

func (s *stored) receipt() tally.Receipt {
	return tally.Receipt{Seq: s.Seq, Hash: s.Hash, Valid: s.Valid, Reason: s.Reason}
}

// request is one Append waiting for its batch.
type request struct {
	ctx    context.Context
	a      tally.Append
	digest string      // of a.Ballot: a retry must match it
	reply  chan result // buffered: the committer never blocks on it
}

func newRequest(ctx context.Context, a tally.Append) *request {
	r := &request{ctx: ctx, a: a, reply: make(chan result, 1)}
	if a.Ballot != nil {
		r.digest = tally.BallotDigest(a.Ballot)
	}
	return r
}

type result struct {
	rcpt    tally.Receipt
	created bool
	err     error
}

// Append adds a ballot or a void to a contest's log and returns its
// receipt; created is false when the ballot (same id and digest) or the
// void was already in the log, with the receipt it got then.
func (s *Store) Append(ctx context.Context, contest string, a tally.Append) (tally.Receipt, bool, error) {
	switch {
	case (a.Ballot == nil) == (a.Void == nil):
		return tally.Receipt{}, false, &tally.Error{Kind: tally.Invalid, Message: "an append is either a ballot or a void"}
	case a.Ballot != nil && a.Ballot.ID == "":
		return tally.Receipt{}, false, tally.Errorf("id", "is missing")
	case a.Void != nil && a.Void.Ballot == "":
		return tally.Receipt{}, false, tally.Errorf("ballot", "names no ballot to void")
	}
	if a.Time == "" {
		a.Time = time.Now().UTC().Format(time.RFC3339)
	}
	r := newRequest(ctx, a)
	for {
		c := s.committer(contest)
		if c == nil {
			return tally.Receipt{}, false, errClosed
		}
		select {
		case c.reqs <- r:
		case <-ctx.Done():
			return tally.Receipt{}, false, unavailable(ctx.Err())
		case <-c.exited:
			continue // it retired, idle (or the store closed: s.committer says)
		}
		select {
		case res := <-r.reply:
			return res.rcpt, res.created, res.err
		case <-ctx.Done():
			// The batch may still commit it: a retry will get its receipt.
			return tally.Receipt{}, false, unavailable(ctx.Err())
		case <-c.exited:
			select {
			case res := <-r.reply:
				return res.rcpt, res.created, res.err
			default:
				// It retired as the request arrived, without taking it (a
				// committer replies before it can retire or stop).
				continue
			}
		}
	}
}

var errClosed = &tally.Error{Kind: tally.Unavailable, Message: "the Redis store is closed"}

// committer appends one contest's entries for this Store: it is the only
// writer of the contest's log in this process, so that concurrent Appends
// share script calls instead of racing each other. Other instances are
// other committers; the script's compare-and-set orders them.
type committer struct {
	s       *Store
	contest string
	k       keys
	reqs    chan *request
	exited  chan struct{}

	// The log's (seq, head) after this committer's last script call, or
	// unknown: then the first call returns STALE with the truth.
	known bool
	seq   int64
	head  string
}

func (s *Store) committer(contest string) *committer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	c := s.committers[contest]
	if c == nil {
		c = &committer{s: s, contest: contest, k: keysFor(contest), reqs: make(chan *request, maxBatch), exited: make(chan struct{})}
		s.committers[contest] = c
		s.wg.Add(1)
		go c.run()
	}
	return c
}

func (c *committer) run() {
	defer c.s.wg.Done()
	defer close(c.exited)
	batch := make([]*request, 0, maxBatch)
	idle := time.NewTimer(c.s.idle)
	defer idle.Stop()
	for {
		select {
		case r := <-c.reqs:
			batch = append(batch[:0], r)
		case <-idle.C:
			if c.retire() {
				return
			}
			idle.Reset(c.s.idle)
			continue
		case <-c.s.ctx.Done():
			for {
				select {
				case r := <-c.reqs:
					r.reply <- result{err: errClosed}
				default:
					return
				}
			}
		}
		// Everything that queued during the previous call rides along.
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		c.commit(batch)
		clear(batch)
		idle.Reset(c.s.idle)
	}
}

// retire removes an idle committer from its Store, so that contests no
// longer appended to (or that never existed) keep no goroutine. A request
// that reaches it meanwhile sees exited closed and goes to a new one.
func (c *committer) retire() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if len(c.reqs) > 0 {
		return false
	}
	delete(c.s.committers, c.contest)
	return true
}

// facts are what one batch learnt of the log; all but absent stay true
// for good (entries are never removed), so they hold across retries.
type facts struct {
	seen   map[string]*stored       // ballots in the log
	voided map[string]tally.Receipt // ballots voided, with the void's receipt
	// absent are ballots not in the log when last read. That stops being
	// true when the log moves on, so a STALE reply clears them.
	absent map[string]bool
}

// item is one new entry of a batch's plan.
type item struct {
	kind  string // "b" or "v"
	id    string // the ballot id (of the ballot voided, for a void)
	entry tally.Entry
	rec   stored   // a ballot's seen value; a void's receipt in Seq/Hash/Valid
	keys  []string // counter keys: added by a ballot, subtracted by a void
}

// answer is how a plan settles one request: by one of its items (created,
// or a retry within the batch), or by a result of its own.
type answer struct {
	item    int // index in plan.items, or -1
	created bool
	res     result
}

type plan struct {
	items   []item
	answers []answer // one per pending request
	head    string
}

// commit appends a batch: plan, one script call, and again on STALE, WAIT
// or DUP until every request has its answer.
func (c *committer) commit(batch []*request) {
	f := facts{seen: map[string]*stored{}, voided: map[string]tally.Receipt{}, absent: map[string]bool{}}
	pending := batch
	// confirmed: the last script call found the contest open and the log
	// unmoved, and nothing was read since: a plan with no new entries can
	// be answered without another call.
	confirmed := false
	stale := 0 // STALE and WAIT replies so far: contention with other instances
	// turn: this committer holds the contest's turn (it claimed it with a
	// call that lost); the next successful call gives it back.
	turn := false
	giveUp := time.Now().Add(batchTimeout)
	for {
		pending = c.dropAbandoned(pending)
		if len(pending) == 0 {
			return
		}
		if c.s.ctx.Err() != nil {
			c.failAll(pending, errClosed)
			return
		}
		if time.Now().After(giveUp) {
			c.failAll(pending, &tally.Error{Kind: tally.Unavailable, Message: fmt.Sprintf(
				"contest %q: could not append within %v: other instances kept the log busy; try again", c.contest, batchTimeout)})
			return
		}
		read, err := c.readVoidTargets(pending, &f)
		if err != nil {
			c.known = false
			c.failAll(pending, classify(err))
			return
		}
		if read {
			confirmed = false
		}
		p := c.plan(pending, &f)
		if len(p.items) == 0 && confirmed && !turn {
			// Every answer is from the log: as durable as its first
			// acknowledgement only once the replicas have it.
			if err := c.sync(); err != nil {
				c.failAll(pending, err)
				return
			}
			c.reply(pending, p)
			return
		}
		// Claim the turn when a call lost the race twice in a row: the
		// first loss may only mean that the cached head was old.
		claim := stale >= 1
		reply, replicas, err := c.call(p, claim)
		if err != nil {
			c.known = false
			c.failAll(pending, c.scriptError(err))
			return
		}
		switch reply[0] {
		case "OK":
			if len(p.items) > 0 {
				c.seq, c.head = p.items[len(p.items)-1].entry.Seq, p.head
			}
			// The script appended after the seq we linked to: it must
			// agree on where the log ends now.
			c.known = len(reply) == 2 && reply[1] == strconv.FormatInt(c.seq, 10)
			// With Options.Wait the entries are acknowledged only once the
			// replicas have them; a plan that wrote nothing answers from
			// the log and needs a write of its own to wait for.
			switch {
			case c.s.opt.Wait == 0:
			case len(p.items) > 0:
				err = c.s.enough(replicas, fmt.Sprintf("contest %q: the batch of %d entries", c.contest, len(p.items)))
			default:
				err = c.sync()
			}
			if err != nil {
				c.failAll(pending, err)
				return
			}
			c.reply(pending, p)
			return
		case "STALE", "WAIT":
			seq, err := strconv.ParseInt(reply[len(reply)-2], 10, 64)
			if err != nil || len(reply) != 3 {
				c.known = false
				c.failAll(pending, fmt.Errorf("redis store: contest %q: bad reply %q", c.contest, reply))
				return
			}
			c.known, c.seq, c.head = true, seq, reply[2]
			turn = turn || (reply[0] == "STALE" && claim)
			clear(f.absent)
			confirmed = false
			stale++
			if reply[0] == "WAIT" {
				// The holder needs one call; don't crowd it.
				_ = sleep(c.s.ctx, time.Duration(100+rand.IntN(200))*time.Microsecond)
			}
		case "DUP":
			if err := c.learn(p, reply[1:], &f); err != nil {
				c.known = false
				c.failAll(pending, err)
				return
			}
			confirmed = true
		default:
			c.known = false
			c.failAll(pending, fmt.Errorf("redis store: contest %q: unexpected reply %q", c.contest, reply))
			return
		}
	}
}

// dropAbandoned answers the requests whose caller has gone: they are not
// appended (nothing of this batch is written yet).
func (c *committer) dropAbandoned(pending []*request) []*request {
	out := pending[:0]
	for _, r := range pending {
		if err := r.ctx.Err(); err != nil {
			r.reply <- result{err: unavailable(err)}
			continue
		}
		out = append(out, r)
	}
	return out
}

func (c *committer) failAll(pending []*request, err error) {
	for _, r := range pending {
		r.reply <- result{err: err}
	}
}

// readVoidTargets reads, in one round trip, what the log holds of the
// ballots the batch voids and that the batch does not know yet.
func (c *committer) readVoidTargets(pending []*request, f *facts) (read bool, err error) {
	var ids []string
	for _, r := range pending {
		if r.a.Void == nil {
			continue
		}
		id := r.a.Void.Ballot
		_, s := f.seen[id]
		_, v := f.voided[id]
		if !s && !v && !f.absent[id] && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return false, nil
	}
	seen := make([]*goredis.StringCmd, len(ids))
	voids := make([]*goredis.StringCmd, len(ids))
	_, err = c.s.rdb.Pipelined(c.s.ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			seen[i] = p.HGet(c.s.ctx, c.k.seen, id)
			voids[i] = p.HGet(c.s.ctx, c.k.voids, id)
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return true, err
	}
	for i, id := range ids {
		if raw, err := voids[i].Result(); err == nil {
			rcpt, err := decodeVoid(raw)
			if err != nil {
				return true, fmt.Errorf("redis store: contest %q: void of %q: %w", c.contest, id, err)
			}
			f.voided[id] = rcpt
		}
		raw, err := seen[i].Result()
		if errors.Is(err, goredis.Nil) {
			f.absent[id] = true
			continue
		}
		var st stored
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			return true, fmt.Errorf("redis store: contest %q: ballot %q: %w", c.contest, id, err)
		}
		f.seen[id] = &st
	}
	return true, nil
}

// plan decides every pending request in arrival order against what the
// log is known to hold and what the batch appends before it, and links
// the new entries after the cached head.
func (c *committer) plan(pending []*request, f *facts) *plan {
	p := &plan{answers: make([]answer, len(pending))}
	seq, head := c.seq, c.head
	if !c.known {
		seq, head = -1, "" // the script answers STALE with the truth
	}
	ballots := map[string]int{} // ballot id → item
	voids := map[string]int{}   // voided ballot id → item
	for i, r := range pending {
		a := r.a
		ans := &p.answers[i]
		ans.item = -1
		if a.Ballot != nil {
			id := a.Ballot.ID
			if st, ok := f.seen[id]; ok {
				ans.res = c.retried(id, st.Digest, r.digest, st.receipt())
				continue
			}
			if j, ok := ballots[id]; ok {
				if p.items[j].rec.Digest == r.digest {
					ans.item = j
				} else {
					ans.res = result{err: conflict(id, p.items[j].rec.Seq)}
				}
				continue
			}
			e := tally.Entry{Ballot: a.Ballot, Desk: a.Desk, DeskID: a.DeskID, Time: a.Time}
			e.Link(seq, head)
			seq, head = e.Seq, e.Hash
			st := stored{Seq: e.Seq, Hash: e.Hash, Valid: a.Reason == tally.Valid, Digest: r.digest, Keys: a.Keys}
			if a.Reason != tally.Valid {
				st.Reason = a.Reason.String()
			}
			ballots[id] = len(p.items)
			*ans = answer{item: len(p.items), created: true}
			p.items = append(p.items, item{kind: "b", id: id, entry: e, rec: st, keys: a.Keys})
			continue
		}
		id := a.Void.Ballot
		if rcpt, ok := f.voided[id]; ok {
			ans.res = result{rcpt: rcpt}
			continue
		}
		if j, ok := voids[id]; ok {
			ans.item = j
			continue
		}
		var target int64
		var keys []string
		if st, ok := f.seen[id]; ok {
			target, keys = st.Seq, st.Keys
		} else if j, ok := ballots[id]; ok {
			target, keys = p.items[j].entry.Seq, p.items[j].keys
		} else {
			// f.absent: read in this attempt, or in one the log has not
			// moved since (a STALE reply clears it).
			ans.res = result{err: &tally.Error{Kind: tally.NotFound, Field: "ballot",
				Message: fmt.Sprintf("contest %q has no ballot %q to void", c.contest, id)}}
			continue
		}
		e := tally.Entry{Void: &tally.Void{Seq: target, Ballot: id, Reason: a.Void.Reason}, Desk: a.Desk, DeskID: a.DeskID, Time: a.Time}
		e.Link(seq, head)
		seq, head = e.Seq, e.Hash
		voids[id] = len(p.items)
		*ans = answer{item: len(p.items), created: true}
		p.items = append(p.items, item{kind: "v", id: id, entry: e, rec: stored{Seq: e.Seq, Hash: e.Hash, Valid: true}, keys: keys})
	}
	p.head = head
	return p
}

// retried answers a ballot whose id the log already holds.
func (c *committer) retried(id, storedDigest, digest string, rcpt tally.Receipt) result {
	if storedDigest != digest {
		return result{err: conflict(id, rcpt.Seq)}
	}
	return result{rcpt: rcpt}
}

func conflict(id string, seq int64) error {
	return &tally.Error{Kind: tally.Conflict, Field: "id", Message: fmt.Sprintf(
		"ballot %q was already entered (seq %d) with other content", id, seq)}
}

// call makes one script call for a plan, loading the script again if
// Redis lost it (a restart, SCRIPT FLUSH, a failover). With Options.Wait
// the call is followed by WAIT on the same connection, and replicas is
// how many replicas confirmed it.
func (c *committer) call(p *plan, claim bool) (reply []string, replicas int64, err error) {
	args := make([]any, 0, 9+len(p.items)*8)
	expSeq, expHead := strconv.FormatInt(c.seq, 10), c.head
	if !c.known {
		expSeq, expHead = "-1", ""
	}
	claimArg := "0"
	if claim {
		claimArg = "1"
	}
	args = append(args, expSeq, expHead, p.head, changesChannel, c.contest, c.s.token, claimArg, turnTTL, len(p.items))
	for _, it := range p.items {
		entry, _ := it.entry.MarshalJSON() // never fails
		var rec []byte
		if it.kind == "b" {
			rec, _ = json.Marshal(&it.rec)
		} else {
			rec = encodeVoid(it.rec.Seq, it.rec.Hash)
		}
		args = append(args, it.kind, it.id, entry, rec, len(it.keys))
		for _, k := range it.keys {
			args = append(args, k)
		}
	}
	keys := c.k.all()
	if c.s.opt.Wait > 0 {
		res, replicas, err := c.evalAppend(keys, args)
		if err == nil && len(res) == 0 {
			err = fmt.Errorf("redis store: contest %q: empty reply from the append script", c.contest)
		}
		return res, replicas, err
	}
	res, err := appendScript.EvalSha(c.s.ctx, c.s.rdb, keys, args...).StringSlice()
	if err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
		if lerr := appendScript.Load(c.s.ctx, c.s.rdb).Err(); lerr != nil {
			return nil, 0, lerr
		}
		res, err = appendScript.EvalSha(c.s.ctx, c.s.rdb, keys, args...).StringSlice()
	}
	if err == nil && len(res) == 0 {
		err = fmt.Errorf("redis store: contest %q: empty reply from the append script", c.contest)
	}
	return res, 0, err
}

// sync waits, with Options.Wait, until the replicas have what the log held
// when the batch read it; without, it does nothing.
func (c *committer) sync() error {
	if c.s.opt.Wait == 0 {
		return nil
	}
	err := c.syncReplicas()
	if err != nil && tally.ErrorKind(err) == tally.Internal {
		return classify(err)
	}
	return err
}

// scriptError maps a failed script call.
func (c *committer) scriptError(err error) error {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "NOTFOUND"):
		return notFound(c.contest)
	case strings.HasPrefix(msg, "BROKEN "):
		return &tally.Error{Kind: tally.Internal, Field: "log", Message: fmt.Sprintf(
			"contest %q: %s: Redis loaded an AOF with a torn script (run it with aof-load-truncated no; docs/reliability.md); nothing more is appended", c.contest, strings.TrimPrefix(msg, "BROKEN "))}
	case strings.HasPrefix(msg, "NOTOPEN "):
		return &tally.Error{Kind: tally.Conflict, Field: "state", Message: fmt.Sprintf(
			"contest %q is %s: ballots are entered only while counting is open", c.contest, strings.TrimPrefix(msg, "NOTOPEN "))}
	}
	return classify(err)
}

// learn records what a DUP reply says of the plan's items.
func (c *committer) learn(p *plan, reply []string, f *facts) error {
	if len(reply) == 0 || len(reply)%3 != 0 {
		return fmt.Errorf("redis store: contest %q: bad DUP reply %q", c.contest, reply)
	}
	for i := 0; i < len(reply); i += 3 {
		n, err := strconv.Atoi(reply[i])
		if err != nil || n < 1 || n > len(p.items) {
			return fmt.Errorf("redis store: contest %q: bad DUP reply %q", c.contest, reply)
		}
		it := p.items[n-1]
		switch reply[i+1] {
		case "seen":
			var st stored
			if err := json.Unmarshal([]byte(reply[i+2]), &st); err != nil {
				return fmt.Errorf("redis store: contest %q: ballot %q: %w", c.contest, it.id, err)
			}
			f.seen[it.id] = &st
		case "voided":
			rcpt, err := decodeVoid(reply[i+2])
			if err != nil {
				return fmt.Errorf("redis store: contest %q: void of %q: %w", c.contest, it.id, err)
			}
			f.voided[it.id] = rcpt
		case "nf":
			// Only when the log moved without our seeing it; read again.
			delete(f.seen, it.id)
		default:
			return fmt.Errorf("redis store: contest %q: bad DUP reply %q", c.contest, reply)
		}
	}
	return nil
}

// reply sends every pending request its answer once the plan's entries are
// in the log.
func (c *committer) reply(pending []*request, p *plan) {
	for i, r := range pending {
		ans := p.answers[i]
		if ans.item < 0 {
			r.reply <- ans.res
			continue
		}
		it := &p.items[ans.item]
		rcpt := it.rec.receipt()
		r.reply <- result{rcpt: rcpt, created: ans.created}
	}
}

// A void's stored receipt: {seq, hash, valid: true}.
func encodeVoid(seq int64, hash string) []byte {
	data, _ := json.Marshal(tally.Receipt{Seq: seq, Hash: hash, Valid: true})
	return data
}

func decodeVoid(raw string) (tally.Receipt, error) {
	var r tally.Receipt
	err := json.Unmarshal([]byte(raw), &r)
	return r, err
}

func randInt64(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return rand.Int64N(n)
}
