// Package bolt is the embedded default store: every contest round, its
// hash-chained ballot log and its counters in one bbolt file (DESIGN §2–§3).
//
// Layout of the file:
//
//	contests/               one sub-bucket per contest id
//	    <id>/record         tally.Record, JSON
//	    <id>/state          the record's state, kept apart so an append need not decode the record
//	    <id>/meta           {"version": n, "head": hash}: the log's length and last hash
//	    <id>/log/           8-byte big-endian seq → tally.Entry, JSON (Entry.MarshalJSON)
//	    <id>/seen/          ballot id → {receipt, digest, keys}: retries and voids
//	    <id>/voids/         voided ballot id → the void's receipt
//	    <id>/counters/      counter key → 8-byte big-endian int64; zeros are deleted
//	items/, audit/          tokens, users, sessions; the audit log (items.go)
//	hits/                   the rate limits' counters (hits.go)
//
// An entry is acknowledged only after the bbolt transaction holding it has
// committed (fsync). Appends go through one writer goroutine that commits
// everything queued in one transaction (group commit, writer.go).
package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/kiemphieu/kiemphieu/tally"
)

// openTimeout is how long Open waits for the file lock held by another
// process before it gives up.
var openTimeout = time.Second

var (
	bucketContests = []byte("contests")
	keyRecord      = []byte("record")
	keyState       = []byte("state")
	keyMeta        = []byte("meta")
	bucketLog      = []byte("log")
	bucketSeen     = []byte("seen")
	bucketVoids    = []byte("voids")
	bucketCounters = []byte("counters")
)

// Store is a bbolt-backed ballot store. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string

	mu     sync.RWMutex // guards closed and sends on queue
	closed bool
	queue  chan *request

	writerDone chan struct{} // closed when the writer goroutine has drained the queue
	done       chan struct{} // closed by Close once no more changes can happen
	hub        hub
	notices    noticeHub
	watchers   sync.WaitGroup

	commits  atomic.Int64 // committed append batches (tests, benchmarks)
	hitCalls atomic.Int64 // Hit calls, to sweep expired counters now and then
}

// Open opens (creating it if need be) the store file at path. Only one
// process may hold the file: a second gets an error of kind Unavailable
// after a short wait.
func Open(path string) (*Store, error) {
	return open(path, &bolt.Options{})
}

func open(path string, opt *bolt.Options) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("bolt: open %s: %w", path, err)
		}
	}
	if opt.Timeout == 0 {
		opt.Timeout = openTimeout
	}
	db, err := bolt.Open(path, 0o600, opt)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %w", &tally.Error{Kind: tally.Unavailable, Message: fmt.Sprintf(
			"bolt: %s is in use by another process (still locked after %s); stop it or use another data directory", path, opt.Timeout)}, err)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketContests)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt: initialise %s: %w", path, err)
	}
	s := &Store{
		db:         db,
		path:       path,
		queue:      make(chan *request, maxBatch),
		writerDone: make(chan struct{}),
		done:       make(chan struct{}),
	}
	go s.writer()
	return s, nil
}

// Close waits for the appends already queued to commit, closes every
// watch channel and closes the file. Appends after Close fail with kind
// Unavailable.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.queue)
	s.mu.Unlock()
	<-s.writerDone
	close(s.done)
	s.watchers.Wait()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt: close %s: %w", s.path, err)
	}
	return nil
}

// meta is a contest's log position.
type meta struct {
	Version int64  `json:"version"`
	Head    string `json:"head"`
}

// seenBallot is what the store remembers of each ballot id: the receipt a
// retry gets again, the digest a retry is compared with, and the counter
// keys a void subtracts.
type seenBallot struct {
	Receipt tally.Receipt `json:"receipt"`
	Digest  string        `json:"digest"`
	Keys    []string      `json:"keys"`
}

func notFound(id string) error {
	return &tally.Error{Kind: tally.NotFound, Message: fmt.Sprintf("no contest %q", id)}
}

// storeErr wraps a bbolt error with what was being done. A closed store,
// and a filesystem that refuses to write (ioFailure: full, out of quota,
// read-only, failing), are kind Unavailable: nothing was written and the
// same request can succeed later. Anything else is Internal.
func storeErr(what string, err error) error {
	if err == nil {
		return nil
	}
	var te *tally.Error
	if errors.As(err, &te) {
		return err
	}
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("%w: %w", &tally.Error{Kind: tally.Unavailable, Message: "bolt: the store is closed"}, err)
	}
	if cause, ok := ioFailure(err); ok {
		return fmt.Errorf("%w: %w", &tally.Error{Kind: tally.Unavailable, Message: fmt.Sprintf(
			"bolt: %s: could not %s; nothing was changed", cause, what)}, err)
	}
	return fmt.Errorf("bolt: %s: %w", what, err)
}

// ioFailures are the errors of a filesystem that will not write now but may
// later, once an operator acts (frees space, raises a quota, replaces a
// disk), with what each means for the operator.
var ioFailures = []struct {
	errno syscall.Errno
	what  string
}{
	{syscall.ENOSPC, "the disk of the data directory is full"},
	{syscall.EDQUOT, "the disk quota of the data directory is exhausted"},
	{syscall.EROFS, "the filesystem of the data directory has become read-only"},
	{syscall.EIO, "the disk of the data directory reports an I/O error"},
	{syscall.EFBIG, "the store file may not grow any more"},
}

// ioFailure says whether err is one of ioFailures and names it. bbolt
// formats some of its errors with %s (growing the file), so the errno's
// text is looked for too.
func ioFailure(err error) (string, bool) {
	for _, f := range ioFailures {
		if errors.Is(err, f.errno) || strings.Contains(err.Error(), f.errno.Error()) {
			return fmt.Sprintf("%s (%s)", f.what, f.errno.Error()), true
		}
	}
	return "", false
}

func seqKey(seq int64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(seq))
	return k[:]
}

// contestBucket returns the contest's bucket, or a NotFound error.
func contestBucket(tx *bolt.Tx, id string) (*bolt.Bucket, error) {
	if id == "" {
		return nil, notFound(id)
	}
	b := tx.Bucket(bucketContests).Bucket([]byte(id))
	if b == nil {
		return nil, notFound(id)
	}
	return b, nil
}

func readMeta(cb *bolt.Bucket) (meta, error) {
	m := meta{Head: tally.GenesisHash}
	if v := cb.Get(keyMeta); v != nil {
		if err := json.Unmarshal(v, &m); err != nil {
			return m, fmt.Errorf("decode meta: %w", err)
		}
	}
	return m, nil
}

func readRecord(cb *bolt.Bucket) (*tally.Record, error) {
	var rec tally.Record
	if err := json.Unmarshal(cb.Get(keyRecord), &rec); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	return &rec, nil
}

// putRecord stores rec (and its state apart) and returns the stored form,
// decoded again, so that callers get exactly what a later read returns.
func putRecord(cb *bolt.Bucket, rec *tally.Record) (*tally.Record, error) {
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	if err := cb.Put(keyRecord, data); err != nil {
		return nil, err
	}
	if err := cb.Put(keyState, []byte(rec.State)); err != nil {
		return nil, err
	}
	var stored tally.Record
	if err := json.Unmarshal(data, &stored); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	return &stored, nil
}

// CreateContest stores a new contest round; an id already taken is a
// Conflict.
func (s *Store) CreateContest(ctx context.Context, rec *tally.Record) error {
	if rec == nil || rec.Contest == nil || rec.Contest.ID == "" {
		return tally.Errorf("contest", "a record needs a contest with an id")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	id := rec.Contest.ID
	if len(id) > bolt.MaxKeySize {
		return tally.Errorf("id", "too long")
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		parent := tx.Bucket(bucketContests)
		if parent.Bucket([]byte(id)) != nil {
			return &tally.Error{Kind: tally.Conflict, Field: "id", Message: fmt.Sprintf("a contest %q already exists", id)}
		}
		cb, err := parent.CreateBucket([]byte(id))
		if err != nil {
			return err
		}
		for _, name := range [][]byte{bucketLog, bucketSeen, bucketVoids, bucketCounters} {
			if _, err := cb.CreateBucket(name); err != nil {
				return err
			}
		}
		data, err := json.Marshal(meta{Head: tally.GenesisHash})
		if err != nil {
			return err
		}
		if err := cb.Put(keyMeta, data); err != nil {
			return err
		}
		_, err = putRecord(cb, rec)
		return err
	})
	if err != nil {
		return storeErr("create contest "+id, err)
	}
	s.hub.publish([]tally.Change{{Contest: id}})
	return nil
}

// Contest returns a contest round's record.
func (s *Store) Contest(ctx context.Context, id string) (*tally.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rec *tally.Record
	err := s.db.View(func(tx *bolt.Tx) error {
		cb, err := contestBucket(tx, id)
		if err != nil {
			return err
		}
		rec, err = readRecord(cb)
		return err
	})
	if err != nil {
		return nil, storeErr("read contest "+id, err)
	}
	return rec, nil
}

// Contests returns every contest round's record, sorted by id.
func (s *Store) Contests(ctx context.Context) ([]*tally.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	recs := []*tally.Record{}
	err := s.db.View(func(tx *bolt.Tx) error {
		parent := tx.Bucket(bucketContests)
		return parent.ForEachBucket(func(k []byte) error {
			rec, err := readRecord(parent.Bucket(k))
			if err != nil {
				return fmt.Errorf("contest %q: %w", k, err)
			}
			recs = append(recs, rec)
			return nil
		})
	})
	if err != nil {
		return nil, storeErr("list contests", err)
	}
	return recs, nil
}

// Update changes a contest round's record in one write transaction: fn
// gets a copy of the record and the log's current version; if fn returns
// an error nothing changes and that error is returned as it is. Updates
// run in the caller's goroutine (fn is the caller's code), serialised with
// the append writer by bbolt's single write transaction, so fn sees the
// log exactly as it stands and must not call the store itself.
func (s *Store) Update(ctx context.Context, id string, fn func(rec *tally.Record, version int64) error) (*tally.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var (
		stored  *tally.Record
		version int64
		fnErr   error
	)
	err := s.db.Update(func(tx *bolt.Tx) error {
		cb, err := contestBucket(tx, id)
		if err != nil {
			return err
		}
		rec, err := readRecord(cb)
		if err != nil {
			return err
		}
		m, err := readMeta(cb)
		if err != nil {
			return err
		}
		version = m.Version
		if fnErr = fn(rec, version); fnErr != nil {
			return fnErr
		}
		if rec.Contest == nil || rec.Contest.ID != id {
			return tally.Errorf("contest.id", "an update cannot change the contest's id (%q)", id)
		}
		stored, err = putRecord(cb, rec)
		return err
	})
	if fnErr != nil {
		return nil, fnErr
	}
	if err != nil {
		return nil, storeErr("update contest "+id, err)
	}
	s.hub.publish([]tally.Change{{Contest: id, Version: version}})
	return stored, nil
}

// DeleteContest removes a draft round that has no log entries (a draft
// abandoned or replaced before counting, DESIGN §7.2). A round that was
// opened, or whose log holds anything, is a Conflict: the log is the
// truth and is never deleted. The check and the removal are one write
// transaction, serialised with the append writer.
func (s *Store) DeleteContest(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		cb, err := contestBucket(tx, id)
		if err != nil {
			return err
		}
		m, err := readMeta(cb)
		if err != nil {
			return err
		}
		first, _ := cb.Bucket(bucketLog).Cursor().First()
		if state := tally.State(cb.Get(keyState)); state != tally.StateDraft || m.Version > 0 || first != nil {
			return &tally.Error{Kind: tally.Conflict, Field: "state", Message: fmt.Sprintf(
				"contest %q is %s with %d log entries: only a draft with an empty log can be deleted", id, state, m.Version)}
		}
		return tx.Bucket(bucketContests).DeleteBucket([]byte(id))
	})
	if err != nil {
		return storeErr("delete contest "+id, err)
	}
	s.hub.publish([]tally.Change{{Contest: id}})
	return nil
}

// Entries returns the log entries with seq > after, at most limit of them
// (0: all).
func (s *Store) Entries(ctx context.Context, contest string, after int64, limit int) ([]tally.Entry, error) {
	if limit < 0 {
		return nil, tally.Errorf("limit", "must not be negative; got %d", limit)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	after = max(after, 0)
	entries := []tally.Entry{}
	err := s.db.View(func(tx *bolt.Tx) error {
		cb, err := contestBucket(tx, contest)
		if err != nil {
			return err
		}
		c := cb.Bucket(bucketLog).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil; k, v = c.Next() {
			var e tally.Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode entry %d: %w", binary.BigEndian.Uint64(k), err)
			}
			entries = append(entries, e)
			if limit > 0 && len(entries) == limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, storeErr("read log of "+contest, err)
	}
	return entries, nil
}

// BallotEntry returns the log entry that recorded ballot id: NotFound
// when the log holds no such ballot.
func (s *Store) BallotEntry(ctx context.Context, contest, id string) (tally.Entry, error) {
	if err := ctx.Err(); err != nil {
		return tally.Entry{}, err
	}
	var e tally.Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		cb, err := contestBucket(tx, contest)
		if err != nil {
			return err
		}
		v := cb.Bucket(bucketSeen).Get([]byte(id))
		if v == nil {
			return &tally.Error{Kind: tally.NotFound, Field: "ballot", Message: fmt.Sprintf("ballot %s is not in the log of %s", id, contest)}
		}
		var sb seenBallot
		if err := json.Unmarshal(v, &sb); err != nil {
			return fmt.Errorf("decode ballot %q: %w", id, err)
		}
		raw := cb.Bucket(bucketLog).Get(seqKey(sb.Receipt.Seq))
		if raw == nil {
			return fmt.Errorf("ballot %q: entry %d is missing from the log", id, sb.Receipt.Seq)
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("decode entry %d: %w", sb.Receipt.Seq, err)
		}
		return nil
	})
	if err != nil {
		return tally.Entry{}, storeErr("read ballot "+id+" of "+contest, err)
	}
	return e, nil
}

// Counters returns the contest's counters (no zeros) and the log version
// they stand at, read in one transaction.
func (s *Store) Counters(ctx context.Context, contest string) (map[string]int64, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	counters := map[string]int64{}
	var version int64
	err := s.db.View(func(tx *bolt.Tx) error {
		cb, err := contestBucket(tx, contest)
		if err != nil {
			return err
		}
		m, err := readMeta(cb)
		if err != nil {
			return err
		}
		version = m.Version
		return cb.Bucket(bucketCounters).ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("counter %q: %d bytes, want 8", k, len(v))
			}
			counters[string(k)] = int64(binary.BigEndian.Uint64(v))
			return nil
		})
	})
	if err != nil {
		return nil, 0, storeErr("read counters of "+contest, err)
	}
	return counters, version, nil
}
