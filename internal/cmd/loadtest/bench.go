package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/redistest"
)

// runBench is `loadtest bench` (make bench): each path of the service
// beside its ceiling, measured in this one run, as one table of ratios.
//
//   - intake, embedded store: HTTP intake (as `loadtest intake`) against
//     raw bbolt group commit (rawBolt) and against the bare Fiber handler;
//   - intake, Redis store: against raw EVALSHA of the store's script with
//     AOF always (rawRedis) and against bare Fiber;
//   - recount of a log export (`kiemphieu recount`: decode, verify the
//     chain, replay) against reading its lines and SHA-256-ing each
//     (`loadtest hashlines`), both as processes;
//   - stream fan-out: delivery p99 to -viewers viewers of the service's
//     stream against a bare SSE writer (serveBareSSE).
func runBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	conns := fs.Int("conns", 64, "intake: keep-alive connections (and the ceilings' connections or writers)")
	duration := fs.Duration("duration", 8*time.Second, "intake: measured time of each variant")
	warmup := fs.Duration("warmup", time.Second, "intake: unmeasured time before it")
	logEntries := fs.Int("log-entries", 200000, "recount: entries of the log export")
	runs := fs.Int("recount-runs", 3, "recount: runs of each, alternating; the median is reported")
	kp := fs.String("kiemphieu", "", "recount: the kiemphieu binary (default: go build ./cmd/kiemphieu)")
	viewers := fs.Int("viewers", 10000, "fan-out: SSE viewers")
	procs := fs.Int("procs", 2, "fan-out: viewer processes")
	rate := fs.Float64("rate", 10, "fan-out: ballots per second posted while measuring delivery")
	pubFor := fs.Duration("publish", 10*time.Second, "fan-out: how long to post at -rate")
	only := fs.String("only", "intake,recount,fanout", "parts to run")
	profDir := fs.String("cpuprofile", "", "write a CPU profile of each service intake variant into this directory")
	timeout := fs.Duration("timeout", 9*time.Minute, "bound on the whole run")
	fs.Parse(args)

	if _, err := raiseNofile(); err != nil {
		return err
	}
	prof, err := absDir(*profDir)
	if err != nil {
		return err
	}
	parts := strings.Split(*only, ",")
	if slices.Contains(parts, "intake") {
		if _, err := exec.LookPath("redis-server"); err != nil {
			return fmt.Errorf("the Redis intake and its ceiling need redis-server (apt-get install redis-server)")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "kp-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	fmt.Printf("# loadtest bench: %s\n", machine())

	type row struct {
		path, service, ceiling string
		sv, cv                 string
		ratio                  float64
		note                   string
	}
	var rows []row
	add := func(path, service, ceiling string, sv, cv float64, unit string, note string) {
		rows = append(rows, row{path: path, service: service, ceiling: ceiling,
			sv: trimNum(sv) + " " + unit, cv: trimNum(cv) + " " + unit, ratio: sv / cv, note: note})
	}

	if slices.Contains(parts, "intake") {
		tails := ballotTails(4096)
		entries, err := rawEntries(tails)
		if err != nil {
			return err
		}
		res := map[string]loadResult{}
		for _, v := range []string{"bare", "embedded", "bolt-raw", "redis", "redis-raw", "redis-raw-1"} {
			vdir := filepath.Join(dir, v)
			if err := os.MkdirAll(vdir, 0o755); err != nil {
				return err
			}
			var r loadResult
			switch v {
			case "bolt-raw":
				r, err = rawBolt(ctx, vdir, *conns, *warmup, *duration, entries)
			case "redis-raw":
				r, err = rawRedis(ctx, vdir, 1, *conns, *warmup, *duration, entries)
			case "redis-raw-1":
				r, err = rawRedis(ctx, vdir, *conns, 1, *warmup, *duration, entries)
			default:
				r, err = serviceIntake(ctx, v, vdir, prof, *conns, *warmup, *duration, tails)
			}
			if err != nil {
				return fmt.Errorf("intake %s: %w", v, err)
			}
			s := r.lat.summary()
			fmt.Printf("intake %-11s %7s ballots/s  p50 %s  p99 %s  errors %d\n", v, trimNum(r.rate()), ms(s.P50), ms(s.P99), r.errs)
			if r.errs > 0 {
				fmt.Printf("# %s: first error: %s\n", v, r.firstErr)
			}
			res[v] = r
		}
		c := fmt.Sprintf("%d conns", *conns)
		add("intake, embedded store", "HTTP, "+c, "raw bbolt group commit, "+fmt.Sprintf("%d writers", *conns),
			res["embedded"].rate(), res["bolt-raw"].rate(), "ballots/s", "")
		// The Redis ceiling is the faster of the two raw shapes in this
		// run: the store's (one call at a time, every waiting ballot in it)
		// and one ballot a call from every connection.
		rc, shape := res["redis-raw"].rate(), fmt.Sprintf("1 conn × %d ballots a call", *conns)
		if r1 := res["redis-raw-1"].rate(); r1 > rc {
			rc, shape = r1, c+" × 1 ballot a call"
		}
		add("intake, Redis store", "HTTP, "+c, "raw EVALSHA, AOF always, "+shape, res["redis"].rate(), rc, "ballots/s", "faster raw shape")
		add("intake, embedded store", "HTTP, "+c, "bare Fiber handler, "+c,
			res["embedded"].rate(), res["bare"].rate(), "ballots/s", "")
		add("intake, Redis store", "HTTP, "+c, "bare Fiber handler, "+c,
			res["redis"].rate(), res["bare"].rate(), "ballots/s", "")
	}

	if slices.Contains(parts, "recount") {
		svc, ceil, err := benchRecount(ctx, dir, *kp, *logEntries, *runs)
		if err != nil {
			return fmt.Errorf("recount: %w", err)
		}
		add(fmt.Sprintf("recount, %s-entry log", trimNum(float64(*logEntries))), "kiemphieu recount (decode, chain, replay)",
			"read lines + SHA-256 each", svc, ceil, "entries/s", fmt.Sprintf("median of %d", *runs))
	}

	if slices.Contains(parts, "fanout") {
		svc, bare, err := benchFanout(ctx, dir, *viewers, *procs, *rate, *pubFor)
		if err != nil {
			return fmt.Errorf("fan-out: %w", err)
		}
		// Latency: the ratio is ceiling ÷ service (lower is better).
		rows = append(rows, row{path: fmt.Sprintf("stream fan-out, %s viewers", trimNum(float64(*viewers))),
			service: fmt.Sprintf("service stream, %g ballots/s", *rate), ceiling: "bare SSE writer, no broker",
			sv: "p99 " + ms(svc), cv: "p99 " + ms(bare), ratio: float64(bare) / float64(svc), note: "ratio = ceiling ÷ service latency"})
	}

	fmt.Printf("\n# kiemphieu benchmarks against their ceilings (measured in this run, %v)\n", time.Since(start).Round(time.Second))
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "path\tservice\tceiling\tservice\tceiling\tratio\t≥ 50%\tnote")
	for _, r := range rows {
		ok := "yes"
		if r.ratio < 0.5 {
			ok = "NO"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t%s\n", r.path, r.service, r.ceiling, r.sv, r.cv, r.ratio, ok, r.note)
	}
	return tw.Flush()
}

// serviceIntake measures one variant of `loadtest intake` (bare, embedded
// or redis) in its own server process.
func serviceIntake(ctx context.Context, v, vdir, prof string, conns int, warmup, duration time.Duration, tails [][]byte) (loadResult, error) {
	var sargs []string
	switch v {
	case "bare":
		sargs = []string{"-variant", "bare"}
	case "embedded":
		sargs = []string{"-data", filepath.Join(vdir, "data")}
	case "redis":
		rs, err := redistest.Launch(filepath.Join(vdir, "redis"))
		if err != nil {
			return loadResult{}, err
		}
		defer rs.Close()
		sargs = []string{"-redis-url", rs.URL()}
	}
	srv, err := startServer(ctx, v, vdir, prof != "" && v != "bare", sargs...)
	if err != nil {
		return loadResult{}, err
	}
	defer srv.stop(15 * time.Second)
	token := ""
	if v != "bare" {
		if token, err = setupContest("http://"+srv.addr, "bench-"+v); err != nil {
			return loadResult{}, err
		}
	}
	var p profiler
	if srv.pprof != "" {
		go func() {
			time.Sleep(warmup)
			p.cpu(srv.pprof, filepath.Join(prof, "bench-"+v+".cpu.pprof"), duration)
		}()
	}
	res := drive(ctx, load{addr: srv.addr, contest: "bench-" + v, token: token, conns: conns,
		warmup: warmup, duration: duration, prefix: v, tails: tails})
	time.Sleep(100 * time.Millisecond)
	return res, p.wait()
}

// benchRecount times `kiemphieu recount CONTEST LOG` and `loadtest
// hashlines LOG` as processes, alternating, runs times each after one
// unmeasured run of each (the file is then in the page cache), and returns
// the medians in entries per second.
func benchRecount(ctx context.Context, dir, kp string, n, runs int) (svc, ceil float64, err error) {
	if kp == "" {
		kp = filepath.Join(dir, "kiemphieu")
		out, err := exec.CommandContext(ctx, "go", "build", "-o", kp, "github.com/kiemphieu/kiemphieu/cmd/kiemphieu").CombinedOutput()
		if err != nil {
			return 0, 0, fmt.Errorf("go build ./cmd/kiemphieu (or give -kiemphieu): %v: %s", err, out)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return 0, 0, err
	}
	contest, logPath, size, err := writeLog(dir, n)
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(logPath)
	timeIt := func(name string, args ...string) (time.Duration, error) {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Stdout = io.Discard
		var stderr strings.Builder
		cmd.Stderr = &stderr
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
		}
		return time.Since(t0), nil
	}
	var ts, tc latencies
	for i := range runs + 1 {
		a, err := timeIt(kp, "recount", contest, logPath)
		if err != nil {
			return 0, 0, err
		}
		b, err := timeIt(self, "hashlines", logPath)
		if err != nil {
			return 0, 0, err
		}
		if i > 0 {
			ts, tc = append(ts, int64(a)), append(tc, int64(b))
		}
	}
	s, c := ts.summary(), tc.summary()
	fmt.Printf("recount   %s entries (%s bytes): kiemphieu recount p50 %s (%s–%s); read + SHA-256 p50 %s (%s–%s)\n",
		trimNum(float64(n)), trimNum(float64(size)), ms(s.P50), ms(s.Min), ms(s.Max), ms(c.P50), ms(c.Min), ms(c.Max))
	return float64(n) / s.P50.Seconds(), float64(n) / c.P50.Seconds(), nil
}

// benchFanout measures delivery (receipt − acknowledgement of the event's
// version, p99) to viewers viewers of the service's stream (embedded
// store), then of the bare SSE writer sending the same event data, each
// while one connection posts rate ballots a second for pubFor.
func benchFanout(ctx context.Context, dir string, viewers, procs int, rate float64, pubFor time.Duration) (svc, bare time.Duration, err error) {
	tails := ballotTails(4096)
	dataPath := filepath.Join(dir, "event-data.json")
	for _, v := range []string{"kiemphieu", "bare-sse"} {
		vdir := filepath.Join(dir, "fanout-"+v)
		if err := os.MkdirAll(vdir, 0o755); err != nil {
			return 0, 0, err
		}
		var sargs []string
		if v == "kiemphieu" {
			sargs = []string{"-data", filepath.Join(vdir, "data")}
		} else {
			sargs = []string{"-variant", "bare-sse", "-event-data", dataPath}
		}
		p99, err := func() (time.Duration, error) {
			srv, err := startServer(ctx, v, vdir, false, sargs...)
			if err != nil {
				return 0, err
			}
			defer srv.stop(20 * time.Second)
			const contest = "fanout"
			token := ""
			if v == "kiemphieu" {
				if token, err = setupContest("http://"+srv.addr, contest); err != nil {
					return 0, err
				}
				// The bare writer sends the service's own event data.
				resp, err := http.Get("http://" + srv.addr + "/api/v1/contests/" + contest + "/result")
				if err != nil {
					return 0, err
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					return 0, err
				}
				if err := os.WriteFile(dataPath, body, 0o644); err != nil {
					return 0, err
				}
			}
			groups, connected, failed, took, err := startViewers(ctx, vdir, "viewers", srv.addr, "/api/v1/contests/"+contest+"/stream", viewers, procs, 0)
			defer stopViewers(groups)
			if err != nil {
				return 0, err
			}
			acks, errs, err := publish(ctx, srv.addr, contest, token, tails, rate, pubFor)
			if err != nil {
				return 0, err
			}
			time.Sleep(2 * time.Second) // the last events reach everyone
			recs, err := gatherRecords(ctx, vdir, groups)
			if err != nil {
				return 0, err
			}
			d := measureDelivery(recs, acks)
			s := d.byVersion.summary()
			fmt.Printf("fan-out %-9s %d of %d viewers in %v (%d failed); %d ballots (%d errors), %d events received, %d viewers got the last; delivery p50 %s p99 %s max %s\n",
				v, connected, viewers, took.Round(time.Millisecond), failed, len(acks), errs, d.events, d.lastSeen, ms(s.P50), ms(s.P99), ms(s.Max))
			if connected < viewers || d.lastSeen < viewers || errs > 0 {
				return 0, fmt.Errorf("%s: %d of %d viewers connected, %d got the last version, %d publish errors", v, connected, viewers, d.lastSeen, errs)
			}
			return s.P99, nil
		}()
		if err != nil {
			return 0, 0, err
		}
		if v == "kiemphieu" {
			svc = p99
		} else {
			bare = p99
		}
	}
	return svc, bare, nil
}
