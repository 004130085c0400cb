package bolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/kiemphieu/kiemphieu/store/storetest"
	"github.com/kiemphieu/kiemphieu/tally"
)

var (
	_ storetest.Store     = (*Store)(nil)
	_ storetest.ItemStore = (*Store)(nil)
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "kiemphieu.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) storetest.Store { return openTemp(t) },
		Reopen: func(t *testing.T, s storetest.Store) storetest.Store {
			path := s.(*Store).path
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s2, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s2.Close() })
			return s2
		},
	})
}

func TestItemsContract(t *testing.T) {
	storetest.RunItems(t,
		func(t *testing.T) storetest.ItemStore { return openTemp(t) },
		func(t *testing.T, s storetest.ItemStore) storetest.ItemStore {
			path := s.(*Store).path
			if err := s.(*Store).Close(); err != nil {
				t.Fatal(err)
			}
			s2, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s2.Close() })
			return s2
		})
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// createContest stores a storetest contest in the given state.
func createContest(t testing.TB, s *Store, id string, state tally.State) *tally.Contest {
	t.Helper()
	c := storetest.NewContest(t, id)
	if err := s.CreateContest(testCtx(t), &tally.Record{Contest: c, State: tally.StateDraft}); err != nil {
		t.Fatal(err)
	}
	if state != tally.StateDraft {
		if _, err := s.Update(testCtx(t), id, func(rec *tally.Record, _ int64) error {
			rec.State = state
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func voidOf(id string) tally.Append {
	return tally.Append{Void: &tally.Void{Ballot: id, Reason: "gõ nhầm"}, Desk: "d1", Time: "2026-11-21T09:05:00Z"}
}

func wantKind(t testing.TB, err error, kind tally.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want kind %s", kind)
	}
	if got := tally.ErrorKind(err); got != kind {
		t.Fatalf("error %q has kind %s, want %s", err, got, kind)
	}
}

// Sixty-four desks appending at once share commits.
func TestGroupCommitBatches(t *testing.T) {
	s := openTemp(t)
	c := createContest(t, s, "bch-1", tally.StateOpen)
	const writers, each = 64, 20
	before := s.commits.Load()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				b := tally.Ballot{ID: fmt.Sprintf("w%d-%d", w, i), Struck: []string{"c1"}}
				if _, _, err := s.Append(testCtx(t), c.ID, storetest.BallotAppend(t, c, b, "d1")); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	commits := s.commits.Load() - before
	t.Logf("%d appends in %d commits (%.1f per commit)", writers*each, commits, float64(writers*each)/float64(commits))
	if commits*4 > writers*each {
		t.Fatalf("%d commits for %d appends: the writer does not batch", commits, writers*each)
	}
	if entries := storetest.CheckLog(t, s, c); len(entries) != writers*each {
		t.Fatalf("%d entries", len(entries))
	}
}

// runBatch commits requests as one batch, as the writer does, and returns
// their results.
func runBatch(t *testing.T, s *Store, reqs ...*request) []result {
	t.Helper()
	s.commit(reqs)
	out := make([]result, len(reqs))
	for i, r := range reqs {
		out[i] = <-r.reply
	}
	return out
}

func mustRequest(t *testing.T, contest string, a tally.Append) *request {
	t.Helper()
	r, err := newRequest(testCtx(t), contest, a)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Within a batch, requests apply in order, later ones see earlier ones,
// and each refusal answers its own request only.
func TestBatchOutcomesAreIndependent(t *testing.T) {
	s := openTemp(t)
	c := createContest(t, s, "bch-1", tally.StateOpen)
	d := createContest(t, s, "bch-draft", tally.StateDraft)
	b1 := storetest.BallotAppend(t, c, tally.Ballot{ID: "b1", Struck: []string{"c1"}}, "d1")
	b1other := storetest.BallotAppend(t, c, tally.Ballot{ID: "b1", Struck: []string{"c2"}}, "d1")
	b2 := storetest.BallotAppend(t, c, tally.Ballot{ID: "b2", Struck: []string{}}, "d2")
	before := s.commits.Load()
	res := runBatch(t, s,
		mustRequest(t, c.ID, b1),           // 0: seq 1
		mustRequest(t, c.ID, b1),           // 1: retry of 0
		mustRequest(t, c.ID, b1other),      // 2: conflict
		mustRequest(t, c.ID, voidOf("b1")), // 3: seq 2
		mustRequest(t, c.ID, voidOf("b1")), // 4: retry of 3
		mustRequest(t, c.ID, voidOf("b9")), // 5: not found
		mustRequest(t, "nope", b1),         // 6: not found
		mustRequest(t, d.ID, storetest.BallotAppend(t, d, tally.Ballot{ID: "b1", Struck: []string{"c1"}}, "d1")), // 7: not open
		mustRequest(t, c.ID, b2), // 8: seq 3
	)
	if n := s.commits.Load() - before; n != 1 {
		t.Fatalf("%d commits, want 1", n)
	}
	if r := res[0]; r.err != nil || !r.created || r.receipt.Seq != 1 || !r.receipt.Valid {
		t.Fatalf("0: %+v", r)
	}
	if r := res[1]; r.err != nil || r.created || r.receipt != res[0].receipt {
		t.Fatalf("1: %+v, want the receipt of 0", r)
	}
	wantKind(t, res[2].err, tally.Conflict)
	if !strings.Contains(res[2].err.Error(), "ballot b1 was already recorded with other content") {
		t.Fatalf("2: %v", res[2].err)
	}
	if r := res[3]; r.err != nil || !r.created || r.receipt.Seq != 2 || !r.receipt.Valid || r.receipt.Reason != "" {
		t.Fatalf("3: %+v", r)
	}
	if r := res[4]; r.err != nil || r.created || r.receipt != res[3].receipt {
		t.Fatalf("4: %+v, want the receipt of 3", r)
	}
	wantKind(t, res[5].err, tally.NotFound)
	wantKind(t, res[6].err, tally.NotFound)
	wantKind(t, res[7].err, tally.Conflict)
	if !strings.Contains(res[7].err.Error(), "draft") {
		t.Fatalf("7: %v does not say the state", res[7].err)
	}
	if r := res[8]; r.err != nil || !r.created || r.receipt.Seq != 3 || r.receipt.Valid || r.receipt.Reason != "over_vote" {
		t.Fatalf("8: %+v", r)
	}
	entries := storetest.CheckLog(t, s, c)
	if len(entries) != 3 || entries[1].Void == nil || entries[1].Void.Seq != 1 {
		t.Fatalf("entries %+v", entries)
	}
	if _, v, _ := s.Counters(testCtx(t), d.ID); v != 0 {
		t.Fatalf("draft contest at version %d", v)
	}
	// A batch of retries and refusals only commits nothing.
	before = s.commits.Load()
	res = runBatch(t, s, mustRequest(t, c.ID, b1), mustRequest(t, c.ID, b1other))
	if n := s.commits.Load() - before; n != 0 || res[0].err != nil || res[0].created || res[0].receipt != entriesReceipt(entries[0]) {
		t.Fatalf("retry-only batch: %d commits, %+v", n, res[0])
	}
	wantKind(t, res[1].err, tally.Conflict)
	if !strings.Contains(res[1].err.Error(), "voided") {
		t.Fatalf("conflict on a voided id does not say so: %v", res[1].err)
	}
}

func entriesReceipt(e tally.Entry) tally.Receipt {
	return tally.Receipt{Seq: e.Seq, Hash: e.Hash, Valid: true}
}

// A request the store itself fails on (here a damaged record) is dropped,
// and the rest of its batch commits without anything it wrote.
func TestFailedRequestDoesNotSinkItsBatch(t *testing.T) {
	s := openTemp(t)
	c := createContest(t, s, "bch-1", tally.StateOpen)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketContests).Bucket([]byte(c.ID)).Bucket(bucketSeen).Put([]byte("bad"), []byte("{not json"))
	}); err != nil {
		t.Fatal(err)
	}
	a := func(id string) tally.Append {
		return storetest.BallotAppend(t, c, tally.Ballot{ID: id, Struck: []string{"c3"}}, "d1")
	}
	before := s.commits.Load()
	res := runBatch(t, s, mustRequest(t, c.ID, a("b1")), mustRequest(t, c.ID, voidOf("bad")), mustRequest(t, c.ID, a("b2")))
	if n := s.commits.Load() - before; n != 1 {
		t.Fatalf("%d commits, want 1", n)
	}
	if res[0].err != nil || res[0].receipt.Seq != 1 || res[2].err != nil || res[2].receipt.Seq != 2 {
		t.Fatalf("results %+v", res)
	}
	wantKind(t, res[1].err, tally.Internal)
	if entries := storetest.CheckLog(t, s, c); len(entries) != 2 {
		t.Fatalf("%d entries", len(entries))
	}
}

// When the commit fails (here the file may not grow), every request of the
// batch gets Unavailable and nothing of it is in the log.
func TestFailedCommitAcknowledgesNothing(t *testing.T) {
	s, err := open(filepath.Join(t.TempDir(), "small.db"), &bolt.Options{MaxSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := createContest(t, s, "bch-1", tally.StateOpen)
	note := strings.Repeat("x", 480)
	acked := map[string]tally.Receipt{}
	var failed string
	for i := 0; failed == "" && i < 5000; i++ {
		id := fmt.Sprintf("b%04d", i)
		a := storetest.BallotAppend(t, c, tally.Ballot{ID: id, Invalid: tally.ReasonOther, Note: note}, "d1")
		rcpt, _, err := s.Append(testCtx(t), c.ID, a)
		switch {
		case err == nil:
			acked[id] = rcpt
		case tally.ErrorKind(err) == tally.Unavailable && errors.Is(err, berrors.ErrMaxSizeReached):
			failed = id
		default:
			t.Fatalf("append %s: %v", id, err)
		}
	}
	if failed == "" {
		t.Fatal("the file never filled up")
	}
	t.Logf("%d ballots fit; %s was refused", len(acked), failed)
	entries := storetest.CheckLog(t, s, c)
	if len(entries) != len(acked) {
		t.Fatalf("%d entries, %d acknowledged", len(entries), len(acked))
	}
	for _, e := range entries {
		if acked[e.Ballot.ID] != (tally.Receipt{Seq: e.Seq, Hash: e.Hash, Valid: false, Reason: "other"}) {
			t.Fatalf("entry %d does not match its receipt", e.Seq)
		}
	}
	// Retries of stored ballots need no new space and still answer.
	for id, want := range acked {
		a := storetest.BallotAppend(t, c, tally.Ballot{ID: id, Invalid: tally.ReasonOther, Note: note}, "d1")
		if got, created, err := s.Append(testCtx(t), c.ID, a); err != nil || created || got != want {
			t.Fatalf("retry of %s on a full store: %+v %v %v", id, got, created, err)
		}
		break
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer func(d time.Duration) { openTimeout = d }(openTimeout)
	openTimeout = 100 * time.Millisecond
	start := time.Now()
	_, err = Open(path)
	wantKind(t, err, tally.Unavailable)
	if !errors.Is(err, berrors.ErrTimeout) || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("error %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("second Open took %s", d)
	}
}

func TestAppendRefusesMalformed(t *testing.T) {
	s := openTemp(t)
	c := createContest(t, s, "bch-1", tally.StateOpen)
	good := storetest.BallotAppend(t, c, tally.Ballot{ID: "b1", Struck: []string{"c1"}}, "d1")
	for _, tc := range []struct {
		name, field string
		a           tally.Append
	}{
		{"nothing", "", tally.Append{}},
		{"both", "", tally.Append{Ballot: good.Ballot, Void: &tally.Void{Ballot: "b1"}}},
		{"engine reason in the invalid field", "invalid", tally.Append{Ballot: &tally.Ballot{ID: "b2", Invalid: tally.ReasonOverVote}, Keys: []string{"total"}}},
		{"no id", "id", tally.Append{Ballot: &tally.Ballot{Struck: []string{}}}},
		{"no keys", "keys", tally.Append{Ballot: good.Ballot}},
		{"bad verdict", "reason", tally.Append{Ballot: good.Ballot, Reason: 200, Keys: good.Keys}},
		{"void no id", "void.ballot", tally.Append{Void: &tally.Void{}}},
	} {
		_, _, err := s.Append(testCtx(t), c.ID, tc.a)
		var te *tally.Error
		if !errors.As(err, &te) || te.Kind != tally.Invalid || te.Field != tc.field {
			t.Errorf("%s: %#v, want kind invalid for field %q", tc.name, err, tc.field)
		}
	}
	// The time is the store's when the caller leaves it out.
	a := good
	a.Time = ""
	if _, _, err := s.Append(testCtx(t), c.ID, a); err != nil {
		t.Fatal(err)
	}
	entries := storetest.CheckLog(t, s, c)
	if _, err := time.Parse(time.RFC3339, entries[0].Time); err != nil {
		t.Fatalf("time %q: %v", entries[0].Time, err)
	}
	if _, err := s.Entries(testCtx(t), c.ID, 0, -1); tally.ErrorKind(err) != tally.Invalid {
		t.Fatalf("negative limit: %v", err)
	}
}

// A watcher that does not read misses intermediate versions but ends up
// with the newest; versions never go backwards; Update reports too.
func TestWatchCoalesces(t *testing.T) {
	s := openTemp(t)
	c := createContest(t, s, "bch-1", tally.StateOpen)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	changes := s.Watch(ctx)
	const n = 50
	for i := range n {
		b := tally.Ballot{ID: fmt.Sprint("b", i), Struck: []string{"c1"}}
		if _, _, err := s.Append(testCtx(t), c.ID, storetest.BallotAppend(t, c, b, "d1")); err != nil {
			t.Fatal(err)
		}
	}
	last, got := int64(-1), 0
	timeout := time.After(10 * time.Second)
	for last != n {
		select {
		case ch := <-changes:
			if ch.Contest != c.ID || ch.Version < last {
				t.Fatalf("change %+v after version %d", ch, last)
			}
			last = ch.Version
			got++
		case <-timeout:
			t.Fatalf("newest version seen %d, want %d", last, n)
		}
	}
	if got > 3 {
		t.Errorf("an idle watcher got %d changes for %d appends: not coalesced", got, n)
	}
	if _, err := s.Update(testCtx(t), c.ID, func(rec *tally.Record, _ int64) error {
		rec.State = tally.StateClosed
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case ch := <-changes:
		if ch != (tally.Change{Contest: c.ID, Version: n}) {
			t.Fatalf("change after Update %+v", ch)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no change after Update")
	}
	// Closing the store closes the channel.
	other := s.Watch(context.Background())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range other {
	}
	for range changes {
	}
	if _, ok := <-s.Watch(context.Background()); ok {
		t.Fatal("Watch on a closed store gave a change")
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	s := openTemp(t)
	c := createContest(t, s, "bch-1", tally.StateOpen)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, _, err := s.Append(testCtx(t), c.ID, storetest.BallotAppend(t, c, tally.Ballot{ID: "b1", Struck: []string{}}, "d1"))
	wantKind(t, err, tally.Unavailable)
	_, err = s.Contest(testCtx(t), c.ID)
	wantKind(t, err, tally.Unavailable)
	_, err = s.Update(testCtx(t), c.ID, func(*tally.Record, int64) error { return nil })
	wantKind(t, err, tally.Unavailable)
}

// Close lets the appends already queued commit.
func TestCloseDrainsQueue(t *testing.T) {
	s := openTemp(t)
	c := createContest(t, s, "bch-1", tally.StateOpen)
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]tally.Receipt{}
	for w := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				b := tally.Ballot{ID: fmt.Sprintf("w%d-%d", w, i), Struck: []string{"c2"}}
				rcpt, _, err := s.Append(testCtx(t), c.ID, storetest.BallotAppend(t, c, b, "d1"))
				if err != nil {
					if tally.ErrorKind(err) != tally.Unavailable {
						t.Errorf("append: %v", err)
					}
					return
				}
				mu.Lock()
				acked[b.ID] = rcpt
				mu.Unlock()
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	path := s.path
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	entries := storetest.CheckLog(t, s, c)
	if len(entries) < len(acked) {
		t.Fatalf("%d entries, %d acknowledged", len(entries), len(acked))
	}
	byID := map[string]tally.Entry{}
	for _, e := range entries {
		byID[e.Ballot.ID] = e
	}
	for id, r := range acked {
		if e, ok := byID[id]; !ok || r.Seq != e.Seq || r.Hash != e.Hash {
			t.Fatalf("acknowledged ballot %s (%+v) is not in the log as acknowledged", id, r)
		}
	}
}
