package bolt

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kiemphieu/kiemphieu/tally"
)

// maxBatch is the most appends committed in one transaction.
const maxBatch = 1000

// request is one Append waiting for the writer.
type request struct {
	ctx     context.Context
	contest string
	a       tally.Append
	digest  string      // of a.Ballot, computed here rather than trusted
	reply   chan result // buffered: the writer never blocks on it
}

type result struct {
	receipt tally.Receipt
	created bool
	err     error
}

// Append adds a ballot or the void of an earlier ballot to a contest's
// log and returns its receipt once the entry is durable. A ballot id seen
// before with the same content returns the original receipt and created
// false (even once the round is closed: the ballot is in the log); with
// other content it is a Conflict. A ballot id stays taken after a void: a
// corrected ballot is keyed under a new id.
//
// A void's receipt is {seq, hash, valid: true}: Valid says that the void
// entry was accepted, not anything about the voided ballot, and Reason is
// empty. Voiding a ballot again returns the first void's receipt.
//
// An error of kind Unavailable means nothing was acknowledged; a retry with
// the same ballot id is always safe.
func (s *Store) Append(ctx context.Context, contest string, a tally.Append) (tally.Receipt, bool, error) {
	req, err := newRequest(ctx, contest, a)
	if err != nil {
		return tally.Receipt{}, false, err
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return tally.Receipt{}, false, &tally.Error{Kind: tally.Unavailable, Message: "bolt: the store is closed; nothing was recorded"}
	}
	select {
	case s.queue <- req:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return tally.Receipt{}, false, gaveUp(ctx.Err())
	}
	select {
	case res := <-req.reply:
		return res.receipt, res.created, res.err
	case <-ctx.Done():
		return tally.Receipt{}, false, gaveUp(ctx.Err())
	}
}

func gaveUp(err error) error {
	return fmt.Errorf("%w: %w", &tally.Error{Kind: tally.Unavailable, Message: "bolt: gave up waiting for the store; the entry was not acknowledged (a retry with the same id is safe)"}, err)
}

// newRequest checks what can be checked without the store.
func newRequest(ctx context.Context, contest string, a tally.Append) (*request, error) {
	if contest == "" {
		return nil, notFound(contest)
	}
	switch {
	case a.Ballot == nil && a.Void == nil:
		return nil, tally.Errorf("", "an append carries a ballot or a void")
	case a.Ballot != nil && a.Void != nil:
		return nil, tally.Errorf("", "an append carries a ballot or a void, not both")
	}
	r := &request{ctx: ctx, contest: contest, a: a, reply: make(chan result, 1)}
	if a.Ballot != nil {
		// Copies: a caller that gives up waiting may reuse its ballot while
		// the writer still encodes it. Clone keeps nil and empty apart.
		b := *a.Ballot
		b.Struck, b.Marks, b.Named = slices.Clone(b.Struck), maps.Clone(b.Marks), slices.Clone(b.Named)
		r.a.Keys = slices.Clone(a.Keys)
		// The log must replay: a ballot that Validate refuses, or an
		// engine verdict in the committee's "invalid" field (which would
		// not decode again), would stop every later recount.
		if err := b.Validate(); err != nil {
			return nil, err
		}
		if b.Invalid != tally.Valid && !b.Invalid.OnSight() {
			return nil, tally.Errorf("invalid", "%q is not a ruling on sight", b.Invalid)
		}
		r.digest = tally.BallotDigest(&b) // a retry must match it
		if a.Reason != tally.Valid && !slices.Contains(tally.Reasons(), a.Reason) {
			return nil, tally.Errorf("reason", "unknown verdict %d", a.Reason)
		}
		// Keys come from Contest.Effect, which always counts the ballot in
		// the total: an append without them would leave the counters
		// behind the log, and the round could not be closed.
		if !slices.Contains(a.Keys, tally.CounterTotal) {
			return nil, tally.Errorf("keys", "must include %q (Contest.Effect)", tally.CounterTotal)
		}
		for _, k := range a.Keys {
			if k == "" || len(k) > bolt.MaxKeySize {
				return nil, tally.Errorf("keys", "a counter key is empty or too long")
			}
		}
		r.a.Ballot = &b
	} else {
		v := *a.Void
		if v.Ballot == "" || len(v.Ballot) > bolt.MaxKeySize {
			return nil, tally.Errorf("void.ballot", "names no ballot id")
		}
		r.a.Void = &v
	}
	if r.a.Time == "" {
		r.a.Time = time.Now().UTC().Format(time.RFC3339)
	}
	return r, nil
}

// writer commits the queued appends, as many as are waiting (up to
// maxBatch) in one transaction, until Close closes the queue.
func (s *Store) writer() {
	defer close(s.writerDone)
	batch := make([]*request, 0, maxBatch)
	for req := range s.queue {
		batch = append(batch[:0], req)
	fill:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.commit(batch)
		clear(batch)
	}
}

var (
	errPoisoned  = errors.New("bolt: a request failed mid-transaction")
	errNoChanges = errors.New("bolt: nothing to commit")
)

// commit applies a batch in arrival order in one write transaction and
// answers every request once the transaction has committed. Outcomes are
// per request: a duplicate, conflict or refusal answers that request only.
// A request that fails on the store itself (a decode or write error) is
// dropped and the batch runs again without it, so that nothing it wrote
// half-way is committed. Only a failed commit fails the whole batch.
func (s *Store) commit(batch []*request) {
	results := make([]result, len(batch))
	skip := make([]bool, len(batch))
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i].err, skip[i] = gaveUp(err), true
		}
	}
	var changes map[string]int64
	for {
		changes = nil
		if !slices.Contains(skip, false) {
			break
		}
		changes = map[string]int64{}
		poisoned := -1
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i, r := range batch {
				if skip[i] {
					continue
				}
				res, err := apply(tx, r)
				if err != nil {
					poisoned = i
					results[i] = result{err: storeErr(fmt.Sprintf("append to %s", r.contest), err)}
					return errPoisoned
				}
				results[i] = res
				if res.created {
					changes[r.contest] = res.receipt.Seq
				}
			}
			if len(changes) == 0 {
				return errNoChanges // only retries and refusals: no fsync needed
			}
			return nil
		})
		switch {
		case poisoned >= 0:
			skip[poisoned] = true
			continue
		case errors.Is(err, errNoChanges):
		case err != nil:
			msg := "bolt: the ballot store could not commit; nothing was acknowledged (a retry with the same id is safe)"
			if cause, ok := ioFailure(err); ok {
				msg = "bolt: " + cause + ": the ballot store could not commit; nothing was acknowledged (a retry with the same id is safe)"
			}
			fail := fmt.Errorf("%w: %w", &tally.Error{Kind: tally.Unavailable, Message: msg}, err)
			for i := range batch {
				if !skip[i] {
					results[i] = result{err: fail}
				}
			}
			changes = nil
		default:
			s.commits.Add(1)
		}
		break
	}
	for i, r := range batch {
		r.reply <- results[i]
	}
	if len(changes) > 0 {
		out := make([]tally.Change, 0, len(changes))
		for _, id := range slices.Sorted(maps.Keys(changes)) {
			out = append(out, tally.Change{Contest: id, Version: changes[id]})
		}
		s.hub.publish(out)
	}
}

// apply applies one request inside the batch's transaction. Refusals are
// in the result; an error return means the store itself failed.
func apply(tx *bolt.Tx, r *request) (result, error) {
	cb := tx.Bucket(bucketContests).Bucket([]byte(r.contest))
	if cb == nil {
		return result{err: notFound(r.contest)}, nil
	}
	if r.a.Void != nil {
		return applyVoid(cb, r)
	}
	return applyBallot(cb, r)
}

func applyBallot(cb *bolt.Bucket, r *request) (result, error) {
	b := r.a.Ballot
	seen := cb.Bucket(bucketSeen)
	if v := seen.Get([]byte(b.ID)); v != nil {
		var sb seenBallot
		if err := json.Unmarshal(v, &sb); err != nil {
			return result{}, fmt.Errorf("decode ballot %q: %w", b.ID, err)
		}
		if sb.Digest != r.digest {
			msg := fmt.Sprintf("ballot %s was already recorded with other content", b.ID)
			if cb.Bucket(bucketVoids).Get([]byte(b.ID)) != nil {
				msg += "; it has been voided: key the corrected ballot under a new id"
			}
			return result{err: &tally.Error{Kind: tally.Conflict, Field: "id", Message: msg}}, nil
		}
		return result{receipt: sb.Receipt}, nil
	}
	if err := checkOpen(cb, r.contest); err != nil {
		return result{err: err}, nil
	}
	e := tally.Entry{Ballot: b, Desk: r.a.Desk, DeskID: r.a.DeskID, Time: r.a.Time}
	if err := appendEntry(cb, &e); err != nil {
		return result{}, err
	}
	rcpt := tally.Receipt{Seq: e.Seq, Hash: e.Hash, Valid: r.a.Reason == tally.Valid}
	if !rcpt.Valid {
		rcpt.Reason = r.a.Reason.String()
	}
	data, err := json.Marshal(seenBallot{Receipt: rcpt, Digest: r.digest, Keys: r.a.Keys})
	if err != nil {
		return result{}, err
	}
	if err := seen.Put([]byte(b.ID), data); err != nil {
		return result{}, err
	}
	if err := addCounters(cb.Bucket(bucketCounters), r.a.Keys, 1); err != nil {
		return result{}, err
	}
	return result{receipt: rcpt, created: true}, nil
}

func applyVoid(cb *bolt.Bucket, r *request) (result, error) {
	id := r.a.Void.Ballot
	voids := cb.Bucket(bucketVoids)
	if v := voids.Get([]byte(id)); v != nil {
		var rcpt tally.Receipt
		if err := json.Unmarshal(v, &rcpt); err != nil {
			return result{}, fmt.Errorf("decode void of %q: %w", id, err)
		}
		return result{receipt: rcpt}, nil
	}
	v := cb.Bucket(bucketSeen).Get([]byte(id))
	if v == nil {
		return result{err: &tally.Error{Kind: tally.NotFound, Field: "ballot", Message: fmt.Sprintf("ballot %s is not in the log of %s", id, r.contest)}}, nil
	}
	if err := checkOpen(cb, r.contest); err != nil {
		return result{err: err}, nil
	}
	var sb seenBallot
	if err := json.Unmarshal(v, &sb); err != nil {
		return result{}, fmt.Errorf("decode ballot %q: %w", id, err)
	}
	e := tally.Entry{Void: &tally.Void{Seq: sb.Receipt.Seq, Ballot: id, Reason: r.a.Void.Reason}, Desk: r.a.Desk, DeskID: r.a.DeskID, Time: r.a.Time}
	if err := appendEntry(cb, &e); err != nil {
		return result{}, err
	}
	rcpt := tally.Receipt{Seq: e.Seq, Hash: e.Hash, Valid: true}
	data, err := json.Marshal(rcpt)
	if err != nil {
		return result{}, err
	}
	if err := voids.Put([]byte(id), data); err != nil {
		return result{}, err
	}
	if err := addCounters(cb.Bucket(bucketCounters), sb.Keys, -1); err != nil {
		return result{}, err
	}
	return result{receipt: rcpt, created: true}, nil
}

func checkOpen(cb *bolt.Bucket, id string) error {
	if st := tally.State(cb.Get(keyState)); st != tally.StateOpen {
		return &tally.Error{Kind: tally.Conflict, Field: "state", Message: fmt.Sprintf(
			"contest %s is %s: entries are appended only while it is open", id, st)}
	}
	return nil
}

// appendEntry links e to the end of the contest's log and stores it.
func appendEntry(cb *bolt.Bucket, e *tally.Entry) error {
	m, err := readMeta(cb)
	if err != nil {
		return err
	}
	e.Link(m.Version, m.Head)
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := cb.Bucket(bucketLog).Put(seqKey(e.Seq), data); err != nil {
		return fmt.Errorf("put entry %d: %w", e.Seq, err)
	}
	data, err = json.Marshal(meta{Version: e.Seq, Head: e.Hash})
	if err != nil {
		return err
	}
	return cb.Put(keyMeta, data)
}

// addCounters adds delta to each key, deleting keys that reach zero (so the
// counters equal tally.Count.Counters, which leaves zeros out).
func addCounters(b *bolt.Bucket, keys []string, delta int64) error {
	for _, k := range keys {
		key := []byte(k)
		var n int64
		if v := b.Get(key); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("counter %q: %d bytes, want 8", k, len(v))
			}
			n = int64(binary.BigEndian.Uint64(v))
		}
		n += delta
		switch cmp.Compare(n, 0) {
		case -1:
			return fmt.Errorf("counter %q would go negative", k)
		case 0:
			if err := b.Delete(key); err != nil {
				return err
			}
		default:
			v := make([]byte, 8)
			binary.BigEndian.PutUint64(v, uint64(n))
			if err := b.Put(key, v); err != nil {
				return err
			}
		}
	}
	return nil
}
