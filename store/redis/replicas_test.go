package redis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/store/redis"
	"github.com/kiemphieu/kiemphieu/store/storetest"
	"github.com/kiemphieu/kiemphieu/tally"
)

// TestWaitOptions: the URL's wait options and Options are checked before
// anything is sent, each refusal naming the setting; the options are taken
// out of the URL (go-redis refuses those it does not know).
func TestWaitOptions(t *testing.T) {
	srv := redistest.Start(t)
	base := srv.URL()
	for _, tc := range []struct {
		name string
		url  string
		opt  redis.Options
		want string // "" = opens
	}{
		{"wait in the URL", base + "?wait=0", redis.Options{}, ""},
		{"wait and timeout in the URL", base + "?wait=0&wait_timeout=200ms", redis.Options{}, ""},
		{"wait by option", base, redis.Options{Wait: 0, WaitTimeout: time.Second}, ""},
		{"same in both", base + "?wait=1", redis.Options{Wait: 1}, ""},
		{"negative wait", base + "?wait=-1", redis.Options{}, "wait="},
		{"wait not a number", base + "?wait=two", redis.Options{}, "wait="},
		{"zero timeout in the URL", base + "?wait=1&wait_timeout=0s", redis.Options{}, "blocks for ever"},
		{"zero timeout by option", base, redis.Options{Wait: 1, WaitTimeout: -time.Second}, "KIEMPHIEU_REDIS_WAIT_TIMEOUT"},
		{"timeout not a duration", base + "?wait=1&wait_timeout=soon", redis.Options{}, "wait_timeout="},
		{"timeout beyond the read timeout", base + "?wait=1&wait_timeout=5s", redis.Options{}, "read timeout"},
		{"timeout beyond a shorter read timeout", base + "?wait=1&wait_timeout=1s&read_timeout=1s", redis.Options{}, "read timeout"},
		{"timeout within a longer read timeout", base + "?wait=0&wait_timeout=4s&read_timeout=10s", redis.Options{}, ""},
		{"URL and option differ", base + "?wait=2", redis.Options{Wait: 1}, "KIEMPHIEU_REDIS_WAIT"},
		{"negative option", base, redis.Options{Wait: -1}, "KIEMPHIEU_REDIS_WAIT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s, err := redis.OpenWith(ctx, tc.url, tc.opt)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("OpenWith(%s, %+v): %v", tc.url, tc.opt, err)
				}
				s.Close()
				return
			}
			if err == nil {
				s.Close()
				t.Fatalf("OpenWith(%s, %+v) opened; want an error about %q", tc.url, tc.opt, tc.want)
			}
			if tally.ErrorKind(err) != tally.Invalid || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("OpenWith(%s, %+v): %v (kind %v); want Invalid about %q", tc.url, tc.opt, err, tally.ErrorKind(err), tc.want)
			}
		})
	}
}

// openWait opens a Store that waits for one replica.
func openWait(t testing.TB, url string, timeout time.Duration) *redis.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := redis.OpenWith(ctx, url, redis.Options{Wait: 1, WaitTimeout: timeout})
	if err != nil {
		t.Fatalf("OpenWith(%s): %v", url, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// replicaLen is the length of a contest's log on a replica.
func replicaLen(t *testing.T, replica *redistest.Server, contest string) int64 {
	t.Helper()
	v, err := replica.Do("LLEN", "kp:{"+contest+"}:log")
	if err != nil {
		t.Fatalf("LLEN on the replica: %v", err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("LLEN on the replica: %q", v)
	}
	return n
}

// TestWaitForReplica: with Wait 1 and a replica 100 ms behind its primary,
// every acknowledged ballot is on the replica when Append returns,
// concurrent desks included; with the replica down the ballot is not
// acknowledged (Unavailable) though the primary has it, and its retry
// once the replica is back is answered from the log (created=false, the
// same receipt) only after the replica has it. The record's changes and
// the items wait too.
func TestWaitForReplica(t *testing.T) {
	primary := redistest.Start(t)
	replica, _ := redistest.StartReplica(t, primary, 100*time.Millisecond)
	s := openWait(t, primary.URL(), 400*time.Millisecond)
	c := createOpen(t, s, "wait-1")
	if n := replicaLen(t, replica, c.ID); n != 0 {
		t.Fatalf("replica log %d before any ballot", n)
	}

	// Concurrent desks: each acknowledgement finds its entry on the replica.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	var mu sync.Mutex
	var slowest time.Duration
	for d := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(d), 1))
			for i := range 10 {
				b := storetest.RandomBallot(rng, c, fmt.Sprintf("d%d-%02d", d, i))
				start := time.Now()
				rc, created, err := s.Append(testCtx(t), c.ID, storetest.BallotAppend(t, c, b, "desk"))
				took := time.Since(start)
				if err != nil || !created {
					errs <- fmt.Errorf("%s: created=%v %v", b.ID, created, err)
					return
				}
				v, err := replica.Do("LLEN", "kp:{"+c.ID+"}:log")
				if n, _ := strconv.ParseInt(v, 10, 64); err != nil || n < rc.Seq {
					errs <- fmt.Errorf("%s acknowledged at seq %d but the replica's log has %s entries (%v)", b.ID, rc.Seq, v, err)
					return
				}
				mu.Lock()
				slowest = max(slowest, took)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if slowest < 100*time.Millisecond {
		t.Errorf("the slowest Append took %v: it cannot have waited for a replica 100 ms behind", slowest)
	}
	storetest.CheckLog(t, s, c)

	// The replica down: not acknowledged, though on the primary.
	replica.Kill()
	rng := rand.New(rand.NewPCG(9, 9))
	b := storetest.RandomBallot(rng, c, "while-down")
	ap := storetest.BallotAppend(t, c, b, "desk")
	_, _, err := s.Append(testCtx(t), c.ID, ap)
	if tally.ErrorKind(err) != tally.Unavailable || !strings.Contains(err.Error(), "0 of the 1 replicas") {
		t.Fatalf("Append with the replica down: %v; want Unavailable saying 0 of the 1 replicas", err)
	}
	e, err := s.BallotEntry(testCtx(t), c.ID, b.ID)
	if err != nil {
		t.Fatalf("the unacknowledged ballot is not on the primary: %v", err)
	}
	// Its retry while the replica is still down: answered from the log,
	// so it waits too, and is refused.
	if _, _, err := s.Append(testCtx(t), c.ID, ap); tally.ErrorKind(err) != tally.Unavailable {
		t.Fatalf("retry with the replica down: %v; want Unavailable", err)
	}
	if _, err := s.Update(testCtx(t), c.ID, func(rec *tally.Record, _ int64) error { return nil }); tally.ErrorKind(err) != tally.Unavailable {
		t.Fatalf("Update with the replica down: %v; want Unavailable", err)
	}
	if _, err := s.SwapItem(testCtx(t), "token", "t1", nil, []byte("v1")); tally.ErrorKind(err) != tally.Unavailable {
		t.Fatalf("SwapItem with the replica down: %v; want Unavailable", err)
	}
	if err := s.AppendAudit(testCtx(t), []byte("event")); tally.ErrorKind(err) != tally.Unavailable {
		t.Fatalf("AppendAudit with the replica down: %v; want Unavailable", err)
	}

	// Back: the retry is answered from the log, once the replica has it.
	replica.Restart(t)
	if err := replica.WaitInSync(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	rc, created, err := s.Append(testCtx(t), c.ID, ap)
	if err != nil || created || rc.Seq != e.Seq || rc.Hash != e.Hash {
		t.Fatalf("retry with the replica back: %+v created=%v %v; want the stored receipt (seq %d)", rc, created, err, e.Seq)
	}
	if n := replicaLen(t, replica, c.ID); n < e.Seq {
		t.Fatalf("retry acknowledged but the replica has %d entries, want ≥ %d", n, e.Seq)
	}
	if ok, err := s.SwapItem(testCtx(t), "token", "t2", nil, []byte("v2")); err != nil || !ok {
		t.Fatalf("SwapItem with the replica back: %v %v", ok, err)
	}
	if v, err := replica.Do("GET", "kp:item:token:t2"); err != nil || v != "v2" {
		t.Fatalf("the swapped item on the replica: %q %v", v, err)
	}
	entries := storetest.CheckLog(t, s, c)
	if len(entries) != 81 {
		t.Fatalf("%d entries, want 81 (80 and the one entered while the replica was down, once)", len(entries))
	}
}

// TestContractWait runs the store contract on a primary with a replica and
// Wait 1: waiting changes no answer.
func TestContractWait(t *testing.T) {
	var mu sync.Mutex
	urls := map[storetest.Store]string{}
	remember := func(s storetest.Store, url string) storetest.Store {
		mu.Lock()
		defer mu.Unlock()
		urls[s] = url
		return s
	}
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) storetest.Store {
			primary := redistest.Start(t)
			redistest.StartReplica(t, primary, 0)
			return remember(openWait(t, primary.URL(), time.Second), primary.URL())
		},
		Reopen: func(t *testing.T, old storetest.Store) storetest.Store {
			mu.Lock()
			url := urls[old]
			mu.Unlock()
			if err := old.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			return remember(openWait(t, url, time.Second), url)
		},
	})
}
