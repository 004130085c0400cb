package main

// Disk full and refused writes, end to end (research/perf-reliability.md
// §4 T4; docs/reliability.md "Disk full and I/O errors"): the service runs
// as a child process on a small filesystem (embedded store) or on a
// redis-server that refuses writes, desks post ballots, and the service
// must answer 503 "unavailable" naming the cause — never a 500, a hang or
// a crash — lose nothing it acknowledged, keep serving reads and results,
// and take ballots again by itself once the cause is gone.

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/proof"
	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/internal/smallfs"
)

// refusals collects the 503 answers the desks got, checking each: code
// "unavailable" and a message naming the cause (one of causes).
type refusals struct {
	causes []string

	mu    sync.Mutex
	n     int
	first string
	bad   []string
}

func (r *refusals) wrap(p poster) poster {
	return func(ctx context.Context, attempt int, body []byte) (int, []byte, error) {
		status, data, err := p(ctx, attempt, body)
		if err == nil && status == http.StatusServiceUnavailable {
			r.add(data)
		}
		return status, data, err
	}
}

func (r *refusals) add(data []byte) {
	var body struct {
		Error struct{ Code, Message string }
	}
	err := json.Unmarshal(data, &body)
	named := slices.ContainsFunc(r.causes, func(c string) bool { return strings.Contains(body.Error.Message, c) })
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if r.first == "" {
		r.first = string(data)
	}
	if (err != nil || body.Error.Code != "unavailable" || !named) && len(r.bad) < 5 {
		r.bad = append(r.bad, string(data))
	}
}

func (r *refusals) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// check fails the test for a 503 that did not name its cause.
func (r *refusals) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.bad {
		t.Errorf("a 503 without code \"unavailable\" and a message naming the cause (one of %q): %s", r.causes, b)
	}
}

// refusedRun is one test of refused writes: desks key ballots while
// refuse makes the store refuse writes and restore gives it back.
type refusedRun struct {
	server *child
	desks  int
	hold   time.Duration // how long the refusal lasts once the desks see it
	causes []string      // what a 503's message must name
	// refuse makes the store refuse writes; restore lets it write again
	// (without restarting the service) and returns when it did so.
	refuse  func(t *testing.T)
	restore func(t *testing.T)
	// down says the store is unreachable while refusing (redis-server
	// exited): transport errors and /readyz 503 are then expected, and
	// reads are not checked.
	down bool
}

type refusedFigures struct {
	ackedBefore int           // ballots acknowledged before the first refusal
	refused     int           // 503 answers while refusing
	ackedWhile  int           // acknowledged while refusing (space freed by the store itself)
	recover     time.Duration // from restore to the next acknowledgement
	acked       int           // in all
}

func (rr refusedRun) run(t *testing.T, contest string) refusedFigures {
	seed := e2eSeed(t)
	admin := &apiClient{base: rr.server.base(), token: e2eAdminToken, hc: newHTTPClient(t, 30*time.Second)}
	r := openRound(t, admin, contest, "certified", rr.desks)
	pid := rr.server.cmd.Process.Pid

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second+2*rr.hold)
	defer cancel()
	ref := &refusals{causes: rr.causes}
	posters := make([]poster, rr.desks)
	for d := range posters {
		posters[d] = ref.wrap(ballotPoster(t, rr.server.base(), r.id, r.desks[d].token))
	}
	var stop atomic.Bool
	var acked atomic.Int64
	done := make(chan []deskStats, 1)
	go func() { done <- runDesks(ctx, r, "d", newBallotMaker(seed), posters, &stop, 100000, &acked) }()
	waitFor := func(what string, within time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !cond() {
			select {
			case stats := <-done:
				cancel()
				t.Fatalf("the desks stopped while waiting for %s: %s", what, summarize(t, stats))
			case <-time.After(10 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				stop.Store(true)
				t.Fatalf("%s: not within %v (%d acknowledged, %d refused)", what, within, acked.Load(), ref.count())
			}
		}
	}

	var f refusedFigures
	waitFor("the first ballots", 20*time.Second, func() bool { return acked.Load() >= int64(rr.desks) })
	rr.refuse(t)
	waitFor("the first 503", 60*time.Second, func() bool { return ref.count() > 0 })
	f.ackedBefore = int(acked.Load())
	t.Logf("%d ballots acknowledged, then the first 503: %s", f.ackedBefore, ref.first)

	// While refusing: 503s, reads and the live result keep working.
	refusing := time.Now()
	if !rr.down {
		path := "/api/v1/contests/" + r.id
		for _, p := range []string{path, path + "/result", path + "/log", "/readyz"} {
			admin.must(t, "GET", p, nil, http.StatusOK)
		}
		sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
		events := openStream(t, sctx, rr.server.base(), r.id, e2eAdminToken)
		nextTally(t, events, 1, time.Now().Add(5*time.Second))
		scancel()
	}
	time.Sleep(time.Until(refusing.Add(rr.hold)))
	beforeRestore := acked.Load()
	f.ackedWhile = int(beforeRestore) - f.ackedBefore
	f.refused = ref.count()

	rr.restore(t)
	restored := time.Now()
	waitFor("a ballot acknowledged after the store came back", 60*time.Second, func() bool { return acked.Load() > beforeRestore })
	f.recover = time.Since(restored)
	waitFor("more ballots after the store came back", 60*time.Second, func() bool { return acked.Load() >= beforeRestore+int64(5*rr.desks) })
	stop.Store(true)
	s := summarize(t, <-done)
	f.acked = len(s.acks)
	t.Logf("refused for %v: %d × 503 (%d acknowledged meanwhile); acknowledged again %v after the store came back; %s",
		rr.hold, f.refused, f.ackedWhile, f.recover.Round(time.Millisecond), s)
	ref.check(t)
	if n := s.statuses[http.StatusInternalServerError]; n > 0 {
		t.Errorf("%d × 500", n)
	}
	if !rr.down && s.transport > 0 {
		t.Errorf("%d requests got no answer (a hang or a dropped connection)", s.transport)
	}
	if t.Failed() {
		t.FailNow()
	}
	if rr.server.cmd == nil || rr.server.cmd.Process.Pid != pid || rr.server.lives != 1 {
		t.Fatalf("the service was restarted")
	}
	select {
	case <-rr.server.exited:
		t.Fatalf("the service exited:\n%s", rr.server.logTail(3000))
	default:
	}
	n := checkRound(t, r, s.acks)
	t.Logf("log of %d entries verified, recount equal, round closed", n)
	return f
}

func reportRefused(t *testing.T, f refusedFigures) {
	proof.Report(t, "acknowledged_before_refusal", f.ackedBefore, "ballots")
	proof.Report(t, "refused_503_while_refusing", f.refused, "responses")
	proof.Report(t, "acknowledged_while_refusing", f.ackedWhile, "ballots")
	proof.Report(t, "acknowledged_lost", 0, "ballots")       // checkRound: every receipt in the log
	proof.Report(t, "acknowledged_duplicated", 0, "ballots") // checkRound: each once
	proof.Reportf(t, "seconds_to_recover", "s", "%.3f", f.recover.Seconds())
	proof.Report(t, "acknowledged_total", f.acked, "ballots")
}

// The embedded store on a small tmpfs: the desks fill it up.
func TestE2EDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end disk-full test: not with -short")
	}
	room := int64(proof.Size("DISKFULL_ROOM_KIB", 256, 4096)) << 10
	dir := smallfs.Tmpfs(t, room+4<<20)
	srv := startChild(t, "kiemphieu", "serve", "--data", dir, "--redis-url", "", "--admin-token", e2eAdminToken)
	var filler *smallfs.Filler
	f := refusedRun{
		server: srv, desks: 6, hold: time.Duration(proof.Size("DISKFULL_HOLD_MS", 1000, 5000)) * time.Millisecond,
		causes: []string{"no space left on device"},
		refuse: func(t *testing.T) {
			filler = smallfs.Fill(t, dir, room)
			t.Logf("filler of %d KiB: %d KiB left for ballots", filler.Size>>10, room>>10)
		},
		restore: func(t *testing.T) {
			if err := filler.Remove(); err != nil {
				t.Fatal(err)
			}
		},
	}.run(t, "e2e-full")
	reportRefused(t, f)
	srv.stop()
}

// Redis refuses writes: maxmemory reached with noeviction (OOM), then
// NOREPLICAS (min-replicas-to-write without replicas).
func TestE2ERedisRefusesWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: not with -short")
	}
	for _, tc := range []struct {
		name            string
		causes          []string
		refuse, restore [][]string
	}{
		{"oom", []string{"OOM"},
			[][]string{{"CONFIG", "SET", "maxmemory-policy", "noeviction"}, {"CONFIG", "SET", "maxmemory", "1"}},
			[][]string{{"CONFIG", "SET", "maxmemory", "0"}}},
		{"noreplicas", []string{"NOREPLICAS"},
			[][]string{{"CONFIG", "SET", "min-replicas-to-write", "1"}},
			[][]string{{"CONFIG", "SET", "min-replicas-to-write", "0"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := redistest.Start(t)
			srv := startChild(t, "kiemphieu", "serve", "--data", t.TempDir(), "--redis-url", rs.URL(), "--admin-token", e2eAdminToken)
			send := func(t *testing.T, cmds [][]string) {
				for _, c := range cmds {
					if _, err := rs.Do(c...); err != nil {
						t.Fatalf("redis %v: %v", c, err)
					}
				}
			}
			f := refusedRun{
				server: srv, desks: 6, hold: time.Duration(proof.Size("REDIS_REFUSE_HOLD_MS", 1000, 5000)) * time.Millisecond,
				causes:  tc.causes,
				refuse:  func(t *testing.T) { send(t, tc.refuse) },
				restore: func(t *testing.T) { send(t, tc.restore) },
			}.run(t, "e2e-redis-"+tc.name)
			reportRefused(t, f)
			srv.stop()
		})
	}
}

// Redis's AOF on a small full filesystem. appendfsync everysec: Redis
// answers MISCONF until it can write its AOF again (it retries by itself
// once space returns). appendfsync always: Redis exits on the failed
// write; the service answers 503 while it is down, and a supervisor
// (here the test) starts it again once space returns.
func TestE2ERedisDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end disk-full test: not with -short")
	}
	room := int64(proof.Size("DISKFULL_ROOM_KIB", 256, 4096)) << 10
	for _, fsync := range []string{"everysec", "always"} {
		t.Run(fsync, func(t *testing.T) {
			dir := smallfs.Tmpfs(t, room+4<<20)
			rs := redistest.StartWith(t, redistest.Options{Dir: filepath.Join(dir, "redis"), AppendFsync: fsync})
			srv := startChild(t, "kiemphieu", "serve", "--data", t.TempDir(), "--redis-url", rs.URL(), "--admin-token", e2eAdminToken)
			var filler *smallfs.Filler
			rr := refusedRun{
				server: srv, desks: 6, hold: time.Duration(proof.Size("DISKFULL_HOLD_MS", 1000, 5000)) * time.Millisecond,
				refuse: func(t *testing.T) {
					filler = smallfs.Fill(t, dir, room)
					t.Logf("filler of %d KiB: %d KiB left for the AOF", filler.Size>>10, room>>10)
				},
			}
			if fsync == "everysec" {
				rr.causes = []string{"MISCONF"}
				rr.restore = func(t *testing.T) {
					if err := filler.Remove(); err != nil {
						t.Fatal(err)
					}
				}
			} else {
				rr.down = true
				// While redis-server is down the answer names the
				// connection that failed.
				rr.causes = []string{"connection refused", "EOF", "connection reset", "Redis"}
				rr.restore = func(t *testing.T) {
					if err := filler.Remove(); err != nil {
						t.Fatal(err)
					}
					if rs.Running() {
						t.Fatalf("redis-server (appendfsync always) is still running on a full disk")
					}
					log, _ := os.ReadFile(rs.LogPath())
					t.Logf("redis-server exited on the full disk: %s", lastLines(string(log), 3))
					rs.Restart(t)
				}
			}
			f := rr.run(t, "e2e-redis-full-"+fsync)
			reportRefused(t, f)
			srv.stop()
		})
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
