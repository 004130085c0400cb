package redis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/store/redis"
	"github.com/kiemphieu/kiemphieu/store/storetest"
	"github.com/kiemphieu/kiemphieu/tally"
)

func open(t testing.TB, url string) *redis.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := redis.Open(ctx, url)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// harness gives each Open a fresh server; reopen says what a restart is.
func harness(reopen func(t *testing.T, srv *redistest.Server)) storetest.Harness {
	var mu sync.Mutex
	servers := map[storetest.Store]*redistest.Server{}
	return storetest.Harness{
		Open: func(t *testing.T) storetest.Store {
			srv := redistest.Start(t)
			s := open(t, srv.URL())
			mu.Lock()
			servers[s] = srv
			mu.Unlock()
			return s
		},
		Reopen: func(t *testing.T, old storetest.Store) storetest.Store {
			mu.Lock()
			srv := servers[old]
			mu.Unlock()
			if err := old.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			reopen(t, srv)
			s := open(t, srv.URL())
			mu.Lock()
			servers[s] = srv
			mu.Unlock()
			return s
		},
	}
}

// TestContract runs the store contract, a restart being a new Store on the
// same server.
func TestContract(t *testing.T) {
	storetest.Run(t, harness(func(*testing.T, *redistest.Server) {}))
}

// TestContractServerCrash runs the contract with a restart that kills
// redis-server (SIGKILL) and starts it again: what was acknowledged must
// come back from the AOF.
func TestContractServerCrash(t *testing.T) {
	storetest.Run(t, harness(func(t *testing.T, srv *redistest.Server) {
		srv.Kill()
		srv.Restart(t)
	}))
}

func TestItemsContract(t *testing.T) {
	var mu sync.Mutex
	servers := map[storetest.ItemStore]*redistest.Server{}
	storetest.RunItems(t,
		func(t *testing.T) storetest.ItemStore {
			srv := redistest.Start(t)
			s := open(t, srv.URL())
			mu.Lock()
			servers[s] = srv
			mu.Unlock()
			return s
		},
		func(t *testing.T, old storetest.ItemStore) storetest.ItemStore {
			mu.Lock()
			srv := servers[old]
			mu.Unlock()
			old.(*redis.Store).Close()
			srv.Kill() // acknowledged items must come back from the AOF
			srv.Restart(t)
			return open(t, srv.URL())
		})
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func createOpen(t testing.TB, s *redis.Store, id string) *tally.Contest {
	t.Helper()
	c := storetest.NewContest(t, id)
	if err := s.CreateContest(testCtx(t), &tally.Record{Contest: c, State: tally.StateDraft}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(testCtx(t), id, func(rec *tally.Record, _ int64) error {
		rec.State = tally.StateOpen
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTwoInstances: two Stores on one server (two instances of the
// service) append to one contest at once, 8 desks each, retrying at
// random: every ballot is in the log once with the receipt its desk got,
// the chain holds, the counters match a replay, and a watcher on one
// instance sees the appends made through the other.
func TestTwoInstances(t *testing.T) {
	srv := redistest.Start(t)
	a, b := open(t, srv.URL()), open(t, srv.URL())
	c := createOpen(t, a, "bch-1")

	wctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	changes := b.Watch(wctx)
	seenByB := make(chan int64, 1)
	go func() {
		var last int64
		for ch := range changes {
			if ch.Contest == c.ID && ch.Version > last {
				last = ch.Version
			}
		}
		seenByB <- last
	}()

	const desksEach, perDesk = 8, 40
	stores := []*redis.Store{a, b}
	var wg sync.WaitGroup
	var mu sync.Mutex
	receipts := map[string]tally.Receipt{}
	errs := make(chan error, 2*desksEach)
	for si, s := range stores {
		for d := range desksEach {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(si), uint64(d)))
				desk := fmt.Sprintf("s%d-d%d", si, d)
				for i := range perDesk {
					ballot := storetest.RandomBallot(rng, c, fmt.Sprintf("%s-b%03d", desk, i))
					ap := storetest.BallotAppend(t, c, ballot, desk)
					first, created, err := s.Append(testCtx(t), c.ID, ap)
					if err != nil || !created {
						errs <- fmt.Errorf("%s: created=%v %v", ballot.ID, created, err)
						return
					}
					if rng.IntN(4) == 0 {
						// The retry goes to either instance.
						again, created, err := stores[rng.IntN(2)].Append(testCtx(t), c.ID, ap)
						if err != nil || created || again != first {
							errs <- fmt.Errorf("retry of %s: %+v created=%v %v, want %+v", ballot.ID, again, created, err, first)
							return
						}
					}
					mu.Lock()
					receipts[ballot.ID] = first
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	entries := storetest.CheckLog(t, a, c)
	if len(entries) != 2*desksEach*perDesk {
		t.Fatalf("%d entries, want %d", len(entries), 2*desksEach*perDesk)
	}
	for _, e := range entries {
		r, ok := receipts[e.Ballot.ID]
		if !ok || r.Seq != e.Seq || r.Hash != e.Hash {
			t.Fatalf("entry %d (%s): receipt %+v does not match", e.Seq, e.Ballot.ID, r)
		}
		delete(receipts, e.Ballot.ID)
	}
	if len(receipts) != 0 {
		t.Fatalf("%d acknowledged ballots are not in the log", len(receipts))
	}
	// B's watcher heard of the last version, whichever instance wrote it;
	// pub/sub is at-most-once, so give it a moment and allow it to be one
	// of the last ones.
	time.Sleep(200 * time.Millisecond)
	cancel()
	if last := <-seenByB; last != int64(len(entries)) {
		t.Fatalf("watcher on B saw version %d last, want %d", last, len(entries))
	}
}

// TestWatchAcrossInstances: a change made through A reaches a watcher on B.
func TestWatchAcrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	a, b := open(t, srv.URL()), open(t, srv.URL())
	c := createOpen(t, a, "bch-1")
	changes := b.Watch(testCtx(t))
	r, _, err := a.Append(testCtx(t), c.ID, storetest.BallotAppend(t, c, tally.Ballot{ID: "b1", Struck: []string{"c1"}}, "d1"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ch := <-changes:
		if ch != (tally.Change{Contest: c.ID, Version: r.Seq}) {
			t.Fatalf("change %+v, want %s at %d", ch, c.ID, r.Seq)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no change reached B")
	}
	// Closing B closes its watchers.
	b.Close()
	select {
	case _, ok := <-changes:
		for ok {
			_, ok = <-changes
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the watch channel stayed open after Close")
	}
}

// TestCrash kills redis-server (SIGKILL) twice while 8 desks append and
// retry on every error, then restarts it: every ballot a desk was given a
// receipt for is in the log exactly once with that receipt, nothing else
// is, and the chain and the counters check.
func TestCrash(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv.URL())
	c := createOpen(t, s, "bch-1")
	const desks, perDesk = 8, 150
	deadline := time.Now().Add(14 * time.Second)
	var wg sync.WaitGroup
	acked := make([]map[string]tally.Receipt, desks)
	var progress sync.WaitGroup // the first kill waits until desks are busy
	progress.Add(desks)
	errs := make(chan error, desks)
	var retries atomic.Int64
	for d := range desks {
		acked[d] = map[string]tally.Receipt{}
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(d), 7))
			for i := range perDesk {
				if i == 10 {
					progress.Done()
				}
				ap := storetest.BallotAppend(t, c, storetest.RandomBallot(rng, c, fmt.Sprintf("d%d-b%03d", d, i)), fmt.Sprintf("d%d", d))
				for {
					ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
					r, _, err := s.Append(ctx, c.ID, ap)
					cancel()
					if err == nil {
						acked[d][ap.Ballot.ID] = r
						break
					}
					if k := tally.ErrorKind(err); k != tally.Unavailable {
						errs <- fmt.Errorf("%s: %v (kind %s)", ap.Ballot.ID, err, k)
						return
					}
					retries.Add(1)
					if time.Now().After(deadline) {
						errs <- fmt.Errorf("%s: still failing at the deadline: %v", ap.Ballot.ID, err)
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	progress.Wait()
	// The first outage outlasts go-redis's own retries (about 2 s), so
	// that desks see errors; the second is a quick bounce they may not.
	for _, down := range []time.Duration{3 * time.Second, 100 * time.Millisecond} {
		srv.Kill()
		time.Sleep(down)
		srv.Restart(t)
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d appends failed as unavailable and were retried", retries.Load())
	if retries.Load() == 0 {
		t.Fatal("no append failed: the server was not killed while the desks were appending")
	}
	// One more crash after the last acknowledgement: it all comes back.
	srv.Kill()
	srv.Restart(t)
	entries := storetest.CheckLog(t, s, c)
	if len(entries) != desks*perDesk {
		t.Fatalf("%d entries, want %d", len(entries), desks*perDesk)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.Ballot.ID] {
			t.Fatalf("ballot %s is in the log twice", e.Ballot.ID)
		}
		seen[e.Ballot.ID] = true
		d := int(e.Desk[1] - '0')
		r, ok := acked[d][e.Ballot.ID]
		if !ok || r.Seq != e.Seq || r.Hash != e.Hash {
			t.Fatalf("entry %d (%s): acknowledged as %+v", e.Seq, e.Ballot.ID, r)
		}
	}
}

// TestWatchAfterRedisRestart: notices published while a watcher's
// subscription is down are lost (pub/sub is at-most-once), so when the
// subscription comes back the watcher hears of every contest at its
// current version: a ballot appended through A while B was reconnecting
// still reaches B, without waiting for a later change.
func TestWatchAfterRedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	a, b := open(t, srv.URL()), open(t, srv.URL())
	c := createOpen(t, a, "bch-1")
	changes := b.Watch(testCtx(t))
	srv.Kill()
	srv.Restart(t)
	// Append through A at once: most likely before B has subscribed again.
	var r tally.Receipt
	var err error
	for try := 0; try < 500; try++ {
		r, _, err = a.Append(testCtx(t), c.ID, storetest.BallotAppend(t, c, tally.Ballot{ID: "b1", Struck: []string{"c1"}}, "d1"))
		if err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("append after the restart: %v", err)
	}
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ch, ok := <-changes:
			if !ok {
				t.Fatal("the watch channel closed")
			}
			if ch.Contest == c.ID && ch.Version >= r.Seq {
				return
			}
		case <-timeout:
			t.Fatalf("B never heard of version %d, appended through A while B's subscription was coming back", r.Seq)
		}
	}
}
