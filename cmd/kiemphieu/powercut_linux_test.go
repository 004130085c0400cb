package main

// The campaign under power cuts (issue 15, docs/reliability.md "Power
// cuts"): the crash campaign of e2e_test.go with the store's files on a
// power-cut file system (internal/powercut). A cut kills every process
// that has files on the layer — the service, and redis-server under it —
// then drops everything they wrote but did not fsync (a seeded share of
// the unsynced pages lets through, and sometimes a torn page, as a disk
// may), and the machine comes back: redis-server first, repaired as an
// operator would when it refuses a torn AOF, then the service. The oracle
// is the crash campaign's: every acknowledged ballot in the log once with
// its receipt, nothing else, the chain verifying, the recount equal.
//
// KP_E2E_SEED replays the cuts' options and the ballots (not the exact
// moments: those depend on the machine); KP_PROOF_POWERCUTS (or
// KP_E2E_CYCLES) sets the number of cuts.

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/powercut"
	"github.com/kiemphieu/kiemphieu/internal/proof"
	"github.com/kiemphieu/kiemphieu/internal/redistest"
)

// powerCutsShort and powerCutsFull are the cuts per store in the short
// campaign (CI) and in make proof.
const (
	powerCutsShort = 4
	powerCutsFull  = 100
)

// cutOptions draws a cut: half of them let a random share of the unsynced
// pages through (the disk wrote some back before the power went), half
// tear the last page written.
func cutOptions(rng *rand.Rand) powercut.CutOptions {
	o := powercut.CutOptions{Seed: rng.Uint64(), Tear: rng.IntN(2) == 0}
	if rng.IntN(2) == 0 {
		o.Keep = rng.Float64()
	}
	return o
}

// cutStats adds up what the cuts dropped and how long the restarts took.
type cutStats struct {
	lost, kept, torn, names int
	ready                   []time.Duration // each restart: power back → the service's /readyz 200
}

func (c *cutStats) add(t *testing.T, n int, o powercut.CutOptions, rep powercut.CutReport) {
	t.Helper()
	c.lost += rep.LostPages
	c.kept += rep.KeptPages
	c.names += rep.LostNames
	if rep.Torn != "" {
		c.torn++
	}
	t.Logf("cut %d (keep %.2f, tear %v): %d unsynced pages lost, %d kept, torn %q, %d names undone",
		n, o.Keep, o.Tear, rep.LostPages, rep.KeptPages, rep.Torn, rep.LostNames)
}

// report gives the figures every power-cut test reports, after
// crashRun.run has reported the ballots'.
func (c *cutStats) report(t *testing.T, l *powercut.Layer) {
	t.Helper()
	sorted := slices.Clone(c.ready)
	slices.Sort(sorted)
	proof.Report(t, "unsynced_pages_lost", c.lost, "pages (4 KiB) dropped by the cuts")
	proof.Report(t, "unsynced_pages_kept", c.kept, "pages let through by the cuts")
	proof.Report(t, "torn_pages", c.torn, "cuts that tore the last page written")
	proof.Report(t, "names_undone", c.names, "directory entries not yet durable, undone")
	proof.Report(t, "fsyncs", l.Syncs(), "fsync/fdatasync calls served by the layer")
	proof.Report(t, "restart_to_ready_median", sorted[len(sorted)/2].Round(time.Millisecond), "")
	proof.Report(t, "restart_to_ready_max", sorted[len(sorted)-1].Round(time.Millisecond), "")
	// The store must have synced through the layer: otherwise its files
	// were not on it and the campaign showed nothing.
	if l.Syncs() == 0 {
		t.Error("the store never fsynced through the power-cut layer")
	}
}

func TestE2EPowerCutEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end power-cut test: not with -short")
	}
	layer := powercut.ForTest(t)
	// The service makes its data directory, as on a first run; the
	// layer, like ext4, makes a new file's parents durable at its fsync.
	data := filepath.Join(layer.Dir(), "data")
	srv := startChild(t, "kiemphieu", "serve", "--data", data, "--redis-url", "", "--admin-token", e2eAdminToken)
	var cs cutStats
	n := 0
	crashRun{server: srv, cycles: powerCutsShort, full: powerCutsFull, size: "POWERCUTS", desks: 8,
		crash: func(t *testing.T, rng *rand.Rand) time.Duration {
			start := time.Now()
			srv.kill()
			n++
			o := cutOptions(rng)
			rep, err := layer.Cut(o)
			if err != nil {
				t.Fatalf("cut %d: %v", n, err)
			}
			cs.add(t, n, o, rep)
			cs.ready = append(cs.ready, srv.restart())
			return time.Since(start)
		}}.run(t, "pc-bolt")
	cs.report(t, layer)
	srv.stop()
}

func TestE2EPowerCutRedisServer(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end power-cut test: not with -short")
	}
	layer := powercut.ForTest(t)
	dir := filepath.Join(layer.Dir(), "redis")
	rs := redistest.StartWith(t, redistest.Options{Dir: dir})
	args := []string{"--data", t.TempDir(), "--redis-url", rs.URL(), "--admin-token", e2eAdminToken}
	srv := startChild(t, "kiemphieu", "serve", args...)
	var cs cutStats
	var loads, services []time.Duration
	refused, badFormat, hinted := 0, 0, 0
	n := 0
	// A restart replays the whole AOF, which a cut keeps Redis from
	// rewriting: seconds per cut once the log is large, hence the budget.
	crashRun{server: srv, cycles: powerCutsShort, full: powerCutsFull, size: "POWERCUTS", desks: 8, budget: 15 * time.Second,
		crash: func(t *testing.T, rng *rand.Rand) time.Duration {
			start := time.Now()
			// The power goes: both processes at once.
			rs.Kill()
			srv.kill()
			n++
			o := cutOptions(rng)
			rep, err := layer.Cut(o)
			if err != nil {
				t.Fatalf("cut %d: %v", n, err)
			}
			cs.add(t, n, o, rep)
			back := time.Now()
			if err := rs.TryStart(); err != nil {
				if !redistest.TornAOF(err) {
					t.Fatalf("cut %d: redis-server did not start, and not for a torn AOF: %v", n, err)
				}
				// Redis refuses the torn AOF: the service, started now,
				// must say what the operator does.
				refused++
				if strings.Contains(err.Error(), "Bad file format") {
					badFormat++ // zeros after the last whole command: a later page reached the disk, an earlier one not
				}
				if out := serveWithoutRedis(t, args); strings.Contains(out, "redis-check-aof --fix") {
					hinted++
				} else {
					t.Errorf("cut %d: Redis refused its AOF; the service's start-up said:\n%s\nwithout the redis-check-aof --fix step", n, out)
				}
				rs.Restart(t) // redis-check-aof --fix, as the operator is told
			}
			load := time.Since(back)
			ready := srv.restart()
			loads = append(loads, load)
			services = append(services, ready)
			cs.ready = append(cs.ready, load+ready)
			t.Logf("cut %d: redis-server back (its AOF loaded) %v after the power, the service ready %v later",
				n, load.Round(time.Millisecond), ready.Round(time.Millisecond))
			return time.Since(start)
		}}.run(t, "pc-redis")
	cs.report(t, layer)
	slices.Sort(loads)
	slices.Sort(services)
	proof.Report(t, "service_ready_after_redis_median", services[len(services)/2].Round(time.Millisecond), "(Redis loaded → the service's /readyz 200)")
	proof.Report(t, "service_ready_after_redis_max", services[len(services)-1].Round(time.Millisecond), "")
	proof.Report(t, "redis_refused_torn_aof", refused, "restarts (Redis refused its AOF until redis-check-aof --fix)")
	proof.Report(t, "redis_refused_bad_format", badFormat, `of the refusals "Bad file format" (the others "Unexpected end of file")`)
	proof.Report(t, "aof_repairs", len(rs.Repairs()), "torn AOF ends cut by redis-check-aof --fix")
	proof.Report(t, "service_named_the_repair", hinted, "of the refusals")
	proof.Report(t, "redis_back_max", loads[len(loads)-1].Round(time.Millisecond), "(power back → Redis loaded, repair included)")
	if own := aofLoadTimes(t, rs.LogPath()); len(own) > 0 {
		slices.Sort(own)
		proof.Report(t, "redis_aof_load_median", own[len(own)/2].Round(time.Millisecond), "(Redis's own figure, from its log)")
		proof.Report(t, "redis_aof_load_max", own[len(own)-1].Round(time.Millisecond), "(Redis's own figure, from its log)")
	}
	for _, r := range rs.Repairs() {
		t.Logf("AOF repaired: %s", r)
	}
	srv.stop()
}

// aofLoadTimes reads, from redis-server's log, how long each start took to
// load the AOF by Redis's own account ("DB loaded from append only file:
// 0.361 seconds"): the part of a restart that is Redis's replay, apart
// from the layer's reads and the repair.
func aofLoadTimes(t *testing.T, logPath string) []time.Duration {
	t.Helper()
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Errorf("redis-server's log: %v", err)
		return nil
	}
	var out []time.Duration
	const mark = "DB loaded from append only file: "
	for line := range strings.SplitSeq(string(data), "\n") {
		i := strings.Index(line, mark)
		if i < 0 {
			continue
		}
		secs, err := strconv.ParseFloat(strings.TrimSuffix(line[i+len(mark):], " seconds"), 64)
		if err != nil {
			t.Errorf("redis-server's log: %q: %v", line, err)
			continue
		}
		out = append(out, time.Duration(secs*float64(time.Second)))
	}
	return out
}

// serveWithoutRedis runs `kiemphieu serve` once while its Redis is down
// and returns what it printed; it must exit by itself, with an error.
func serveWithoutRedis(t *testing.T, args []string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--addr", freeAddr(t)}, args...)...)
	cmd.Env = childEnv("serve")
	cmd.SysProcAttr = childSysProcAttr()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("kiemphieu serve with its Redis down exited 0:\n%s", out.String())
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Errorf("kiemphieu serve with its Redis down was still running after 20 s:\n%s", out.String())
	}
	return out.String()
}
