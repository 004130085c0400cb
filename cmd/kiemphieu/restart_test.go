//go:build unix

package main

// Restart to ready with a long log (issue 5; research/perf-reliability.md
// T1: "restart to ready ≤ 5 s at 1 M logged ballots"). A store is filled
// with logged ballots directly through its Append API (many appenders at
// once, so the stores' group commit makes large batches) — keying a
// million ballots over HTTP would only make the test slower — then
// `kiemphieu serve` is started on it, killed with SIGKILL and started
// again; for Redis, redis-server is killed too and must replay its AOF.
// The figures: seconds from the restart to /readyz 200, and to a GET
// /result equal to the count made here from the generated ballots.
//
// Sizes: KP_PROOF=full logs 1,000,000 ballots; otherwise 3,000
// (KP_PROOF_RESTART_BALLOTS overrides).

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/proof"
	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/store/bolt"
	"github.com/kiemphieu/kiemphieu/store/redis"
	"github.com/kiemphieu/kiemphieu/tally"
)

// restartGoal is the research's goal for restart to ready at 1 M ballots.
const restartGoal = 5 * time.Second

// appender is what fillStore needs of a store.
type appender interface {
	CreateContest(ctx context.Context, rec *tally.Record) error
	Append(ctx context.Context, contest string, a tally.Append) (tally.Receipt, bool, error)
	Close() error
}

// fillStore creates contest c, open, in s and appends its ballots from
// writers goroutines; it closes s. It returns how long the appends took.
func fillStore(t *testing.T, s appender, c *genContest, seed uint64, writers int) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	contest, err := tally.ParseContest(c.definition())
	if err != nil {
		t.Fatalf("contest %s: %v", c.id, err)
	}
	if err := s.CreateContest(ctx, &tally.Record{Contest: contest, State: tally.StateOpen, Created: time.Now().UTC().Format(time.RFC3339)}); err != nil {
		t.Fatalf("CreateContest: %v", err)
	}
	index := contest.Index()
	start := time.Now()
	var next, done atomic.Int64
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			desk := fmt.Sprintf("Bàn %d", w%12+1)
			for {
				n := int(next.Add(1) - 1)
				if n >= c.ballots || ctx.Err() != nil {
					return
				}
				id := fmt.Sprintf("%s-%07d", c.id, n+1)
				b, err := tally.ParseBallot(c.ballot(seed, n, false).body(id))
				if err != nil {
					errs <- fmt.Errorf("ballot %d: %w", n, err)
					return
				}
				m, err := contest.Mark(b, index)
				if err != nil {
					errs <- fmt.Errorf("ballot %s: %w", id, err)
					return
				}
				reason, keys := contest.Effect(m)
				if _, created, err := s.Append(ctx, c.id, tally.Append{Ballot: &b, Reason: reason, Keys: keys, Desk: desk}); err != nil || !created {
					errs <- fmt.Errorf("append %s: created %v, %v", id, created, err)
					return
				}
				if k := done.Add(1); k%100000 == 0 {
					t.Logf("%d ballots logged in %v", k, time.Since(start).Round(time.Second))
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return took
}

// checkRestartResult fetches the result until it equals the one counted
// here (or fails the test after within); it returns when it did.
func checkRestartResult(t *testing.T, admin *apiClient, c *genContest, want map[string]any, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		status, body, err := admin.do(ctx, "GET", "/api/v1/contests/"+c.id+"/result", nil)
		cancel()
		if err == nil && status == http.StatusOK {
			var got map[string]any
			decodeJSON(t, "result", body, &got)
			diffs, _ := compareResult(want, got)
			if len(diffs) == 0 && got["version"] == float64(c.ballots) {
				return time.Now()
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET /result after the restart: version %v (want %d); %d discrepancies, the first: %v", got["version"], c.ballots, len(diffs), diffs)
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("GET /result after the restart: %d %s %v", status, body, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// restartKey posts one more ballot after the restart: the log takes it at
// the next seq.
func restartKey(t *testing.T, admin *apiClient, c *genContest, seed uint64) {
	t.Helper()
	var tok struct{ Token string }
	decodeJSON(t, "token", admin.must(t, "POST", "/api/v1/tokens", map[string]string{"role": "counter", "name": "Bàn 99"}, http.StatusCreated), &tok)
	desk := &apiClient{base: admin.base, token: tok.Token, hc: admin.hc}
	var rc tally.Receipt
	decodeJSON(t, "receipt", desk.must(t, "POST", "/api/v1/contests/"+c.id+"/ballots", c.ballot(seed, c.ballots, false).body(c.id+"-after"), http.StatusCreated), &rc)
	if rc.Seq != int64(c.ballots)+1 {
		t.Errorf("the first ballot after the restart got seq %d; want %d", rc.Seq, c.ballots+1)
	}
}

func dirSize(t *testing.T, dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// restartContest is the round of the restart tests: the 50-name strike
// ballot of the accuracy test.
func restartContest(seed uint64) *genContest {
	n := proof.Size("RESTART_BALLOTS", 3000, 1000000)
	return newGenContest("rs", "committee", "strike", 41, 50, n, 4, seed)
}

func TestProofRestartEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end restart test: not with -short")
	}
	seed := e2eSeed(t)
	c := restartContest(seed)
	dir := t.TempDir()
	s, err := bolt.Open(filepath.Join(dir, "kiemphieu.db"))
	if err != nil {
		t.Fatal(err)
	}
	took := fillStore(t, s, c, seed, 512)
	t.Logf("%d ballots logged through bolt.Store.Append in %v (%.0f ballots/s); the file is %d MB",
		c.ballots, took.Round(time.Millisecond), float64(c.ballots)/took.Seconds(), dirSize(t, dir)>>20)
	want := c.result(c.count(seed))

	srv := startChild(t, "kiemphieu", "serve", "--data", dir, "--redis-url", "", "--admin-token", e2eAdminToken)
	admin := &apiClient{base: srv.base(), token: e2eAdminToken, hc: newHTTPClient(t, 30*time.Second)}
	checkRestartResult(t, admin, c, want, 60*time.Second)

	srv.kill()
	start := time.Now()
	srv.restart() // returns once /readyz answers 200
	ready := time.Since(start)
	correct := checkRestartResult(t, admin, c, want, 60*time.Second).Sub(start)
	restartKey(t, admin, c, seed)
	t.Logf("kill -9, then restart: /readyz 200 after %v, GET /result correct after %v", ready.Round(time.Millisecond), correct.Round(time.Millisecond))
	proof.Report(t, "seed", seed, "")
	proof.Report(t, "logged_ballots", c.ballots, "ballots")
	proof.Reportf(t, "store_size", "MB", "%d", dirSize(t, dir)>>20)
	proof.Reportf(t, "restart_to_ready", "s", "%.3f", ready.Seconds())
	proof.Reportf(t, "restart_to_correct_result", "s", "%.3f", correct.Seconds())
	if c.ballots >= 1000000 && correct > restartGoal {
		t.Errorf("restart to a correct result took %v at %d ballots; the goal is ≤ %v", correct, c.ballots, restartGoal)
	}
	srv.stop()
}

var aofLoaded = regexp.MustCompile(`DB loaded from (?:append only file|base file [^:]*|incr file [^:]*): ([0-9.]+) seconds`)

func TestProofRestartRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end restart test: not with -short")
	}
	seed := e2eSeed(t)
	c := restartContest(seed)
	rs := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	s, err := redis.Open(ctx, rs.URL())
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	took := fillStore(t, s, c, seed, 512)
	t.Logf("%d ballots logged through redis.Store.Append (AOF always) in %v (%.0f ballots/s); the data directory is %d MB",
		c.ballots, took.Round(time.Millisecond), float64(c.ballots)/took.Seconds(), dirSize(t, rs.Dir())>>20)
	want := c.result(c.count(seed))

	srv := startChild(t, "kiemphieu", "serve", "--data", t.TempDir(), "--redis-url", rs.URL(), "--admin-token", e2eAdminToken)
	admin := &apiClient{base: srv.base(), token: e2eAdminToken, hc: newHTTPClient(t, 30*time.Second)}
	checkRestartResult(t, admin, c, want, 60*time.Second)

	// Both die at once, as with a power cut of their machine.
	srv.kill()
	rs.Kill()
	logBefore, _ := os.ReadFile(filepath.Join(rs.Dir(), "redis.log"))
	aofSize := dirSize(t, rs.Dir())
	start := time.Now()
	rs.Restart(t) // returns once PING answers and INFO says loading:0
	replay := time.Since(start)
	srvStart := time.Now()
	srv.restart()
	ready := time.Since(start)
	serviceReady := time.Since(srvStart)
	correct := checkRestartResult(t, admin, c, want, 60*time.Second).Sub(start)
	restartKey(t, admin, c, seed)

	logAfter, _ := os.ReadFile(filepath.Join(rs.Dir(), "redis.log"))
	var loaded []string
	if len(logAfter) > len(logBefore) {
		for _, m := range aofLoaded.FindAllStringSubmatch(string(logAfter[len(logBefore):]), -1) {
			loaded = append(loaded, m[0])
		}
	}
	t.Logf("kill -9 of both, then restart: redis-server loaded (%d MB of data) in %v %q; kiemphieu ready %v later; /readyz 200 after %v, GET /result correct after %v",
		aofSize>>20, replay.Round(time.Millisecond), loaded, serviceReady.Round(time.Millisecond), ready.Round(time.Millisecond), correct.Round(time.Millisecond))
	proof.Report(t, "seed", seed, "")
	proof.Report(t, "logged_ballots", c.ballots, "ballots")
	proof.Reportf(t, "redis_data_size", "MB", "%d", aofSize>>20)
	proof.Reportf(t, "redis_aof_replay", "s", "%.3f", replay.Seconds())
	proof.Reportf(t, "service_start_after_redis", "s", "%.3f", serviceReady.Seconds())
	proof.Reportf(t, "restart_to_ready", "s", "%.3f", ready.Seconds())
	proof.Reportf(t, "restart_to_correct_result", "s", "%.3f", correct.Seconds())
	if c.ballots >= 1000000 && correct > restartGoal {
		t.Errorf("restart to a correct result took %v at %d ballots; the goal is ≤ %v", correct, c.ballots, restartGoal)
	}
	srv.stop()
}
