package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/kiemphieu/kiemphieu/internal/benchgen"
	"github.com/kiemphieu/kiemphieu/internal/redistest"
)

const adminToken = "loadtest-admin-token-0123456789"

// server is a running server variant.
type server struct {
	*child
	addr  string // host:port of the service
	pprof string // host:port of its pprof listener, if asked for
}

// startServer starts `loadtest server` with args and waits for it to
// listen.
func startServer(ctx context.Context, name, dir string, pprof bool, args ...string) (*server, error) {
	args = append([]string{"server", "-admin-token", adminToken, "-log", filepath.Join(dir, name+".service.log")}, args...)
	if pprof {
		args = append(args, "-pprof", "127.0.0.1:0")
	}
	c, err := startChild(name, filepath.Join(dir, name+".stderr"), 0, args...)
	if err != nil {
		return nil, err
	}
	s := &server{child: c}
	if pprof {
		if s.pprof, err = c.expect(ctx, "PPROF ", 30*time.Second); err != nil {
			c.stop(5 * time.Second)
			return nil, err
		}
	}
	if s.addr, err = c.expect(ctx, "LISTEN ", 30*time.Second); err != nil {
		c.stop(5 * time.Second)
		return nil, err
	}
	return s, nil
}

// benchContest is the contest every run posts to: the `million` preset of
// internal/benchgen (60 candidates, 45 seats, strike ballots, most ballots
// strike 15–25 names), with live visibility so that anonymous viewers may
// watch its stream.
func benchContest(id string) []byte {
	var c map[string]any
	if err := json.Unmarshal(benchgen.Million.ContestJSON(), &c); err != nil {
		panic(err)
	}
	c["id"] = id
	c["visibility"] = "live"
	data, _ := json.Marshal(c)
	return data
}

// ballotTails are the parts of ballot lines after the id, drawn by
// benchgen (about 1% over-votes, 0.2% ruled invalid on sight); each
// request puts a unique id in front of one.
func ballotTails(n int) [][]byte {
	c, err := benchgen.Million.Contest()
	if err != nil {
		panic(err)
	}
	g := benchgen.Million.NewGen(c)
	tails := make([][]byte, n)
	prefix := len(`{"id":"b-0000001"`)
	var line []byte
	for i := range tails {
		line = g.AppendLine(line[:0])
		tails[i] = bytes.Clone(bytes.TrimRight(line[prefix:], "\n"))
	}
	return tails
}

// setupContest creates the contest, opens it and issues a counter token,
// through the API as an admin would. It returns the token.
func setupContest(base, id string) (string, error) {
	call := func(path string, body []byte, want int, out any) error {
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			return fmt.Errorf("POST %s: %s: %s", path, resp.Status, data)
		}
		if out != nil {
			return json.Unmarshal(data, out)
		}
		return nil
	}
	if err := call("/api/v1/contests", benchContest(id), 201, nil); err != nil {
		return "", err
	}
	if err := call("/api/v1/contests/"+id+"/open", nil, 200, nil); err != nil {
		return "", err
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := call("/api/v1/tokens", []byte(`{"role":"counter","name":"Bàn kiểm phiếu 1"}`), 201, &tok); err != nil {
		return "", err
	}
	return tok.Token, nil
}

// load is one intake run: conns keep-alive connections, each posting
// unique ballots back to back for warmup+duration; only requests that
// start after the warm-up and end before the end are counted.
type load struct {
	addr, contest, token string
	conns                int
	warmup, duration     time.Duration
	prefix               string // of ballot ids, unique per run
	tails                [][]byte
	acks                 bool // keep (seq, time of the reply) of each created ballot
}

type loadResult struct {
	lat      latencies
	ok       int
	errs     int
	firstErr string
	elapsed  time.Duration
	acks     map[int64]int64 // seq → unix ns of the reply
}

func (r loadResult) rate() float64 { return float64(r.ok) / r.elapsed.Seconds() }

func drive(ctx context.Context, l load) loadResult {
	hc := &fasthttp.HostClient{Addr: l.addr, MaxConns: l.conns, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, MaxIdleConnDuration: time.Minute}
	uri := "http://" + l.addr + "/api/v1/contests/" + l.contest + "/ballots"
	start := time.Now()
	from, end := start.Add(l.warmup), start.Add(l.warmup+l.duration)
	type worker struct {
		lat      latencies
		ok, errs int
		firstErr string
		acks     [][2]int64
	}
	ws := make([]worker, l.conns)
	var wg sync.WaitGroup
	for w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			me := &ws[w]
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI(uri)
			req.Header.SetMethod("POST")
			req.Header.SetContentType("application/json")
			if l.token != "" {
				req.Header.Set("Authorization", "Bearer "+l.token)
			}
			var body []byte
			for n := 0; ctx.Err() == nil; n++ {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				body = append(body[:0], `{"id":"`...)
				body = append(body, l.prefix...)
				body = strconv.AppendInt(append(body, '-'), int64(w), 10)
				body = strconv.AppendInt(append(body, '-'), int64(n), 10)
				body = append(body, '"')
				body = append(body, l.tails[(w*7919+n)%len(l.tails)]...)
				req.SetBodyRaw(body)
				err := hc.Do(req, resp)
				t1 := time.Now()
				if t0.Before(from) || t1.After(end) {
					continue
				}
				if err == nil && resp.StatusCode() != fasthttp.StatusCreated {
					err = fmt.Errorf("status %d: %.200s", resp.StatusCode(), resp.Body())
				}
				if err != nil {
					me.errs++
					if me.firstErr == "" {
						me.firstErr = err.Error()
					}
					continue
				}
				me.ok++
				me.lat = append(me.lat, int64(t1.Sub(t0)))
				if l.acks {
					if seq, ok := seqOf(resp.Body()); ok {
						me.acks = append(me.acks, [2]int64{seq, t1.UnixNano()})
					}
				}
			}
		}()
	}
	wg.Wait()
	hc.CloseIdleConnections()
	res := loadResult{elapsed: l.duration}
	if l.acks {
		res.acks = map[int64]int64{}
	}
	for _, w := range ws {
		res.lat = append(res.lat, w.lat...)
		res.ok += w.ok
		res.errs += w.errs
		if res.firstErr == "" {
			res.firstErr = w.firstErr
		}
		for _, a := range w.acks {
			res.acks[a[0]] = a[1]
		}
	}
	return res
}

// seqOf reads "seq" from a receipt.
func seqOf(body []byte) (int64, bool) {
	i := bytes.Index(body, []byte(`"seq":`))
	if i < 0 {
		return 0, false
	}
	rest := body[i+len(`"seq":`):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	v, err := strconv.ParseInt(string(rest[:j]), 10, 64)
	return v, err == nil
}

// runIntake is `loadtest intake`.
func runIntake(args []string) error {
	fs := flag.NewFlagSet("intake", flag.ExitOnError)
	variants := fs.String("variants", "bare,embedded,redis", "comma-separated server variants to measure, in order")
	conns := fs.Int("conns", 64, "keep-alive connections, each posting ballots back to back")
	duration := fs.Duration("duration", 10*time.Second, "measured time per variant")
	warmup := fs.Duration("warmup", time.Second, "unmeasured time before it")
	logLevel := fs.String("log-level", "info", "the service's log level (the product's is info)")
	profDir := fs.String("cpuprofile", "", "write a CPU profile of each service variant's measured window into this directory")
	timeout := fs.Duration("timeout", 5*time.Minute, "bound on the whole run")
	fs.Parse(args)

	if _, err := raiseNofile(); err != nil {
		return err
	}
	prof, err := absDir(*profDir)
	if err != nil {
		return err
	}
	if slices.Contains(strings.Split(*variants, ","), "redis") {
		if _, err := exec.LookPath("redis-server"); err != nil {
			return fmt.Errorf("the redis variant needs redis-server (apt-get install redis-server), or leave it out: -variants bare,embedded")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "kp-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tails := ballotTails(4096)

	fmt.Printf("# loadtest intake: %d connections, %v measured after %v warm-up, per variant\n", *conns, *duration, *warmup)
	fmt.Printf("# %s\n", machine())
	type row struct {
		name string
		res  loadResult
	}
	var rows []row
	for _, v := range strings.Split(*variants, ",") {
		var res loadResult
		if err := func() error {
			vdir := filepath.Join(dir, v)
			if err := os.MkdirAll(vdir, 0o755); err != nil {
				return err
			}
			sargs := []string{"-log-level", *logLevel}
			switch v {
			case "bare":
				sargs = append(sargs, "-variant", "bare")
			case "embedded":
				sargs = append(sargs, "-data", filepath.Join(vdir, "data"))
			case "redis":
				rs, err := redistest.Launch(filepath.Join(vdir, "redis"))
				if err != nil {
					return err
				}
				defer rs.Close()
				sargs = append(sargs, "-redis-url", rs.URL())
			default:
				return fmt.Errorf("unknown variant %q (bare, embedded, redis)", v)
			}
			srv, err := startServer(ctx, v, vdir, prof != "" && v != "bare", sargs...)
			if err != nil {
				return err
			}
			defer srv.stop(15 * time.Second)
			token := ""
			if v != "bare" {
				if token, err = setupContest("http://"+srv.addr, "intake-"+v); err != nil {
					return err
				}
			}
			var p profiler
			if srv.pprof != "" {
				go func() {
					time.Sleep(*warmup)
					p.cpu(srv.pprof, filepath.Join(prof, "intake-"+v+".cpu.pprof"), *duration)
				}()
			}
			res = drive(ctx, load{addr: srv.addr, contest: "intake-" + v, token: token, conns: *conns,
				warmup: *warmup, duration: *duration, prefix: v, tails: tails})
			time.Sleep(100 * time.Millisecond)
			return p.wait()
		}(); err != nil {
			return fmt.Errorf("%s: %w", v, err)
		}
		rows = append(rows, row{v, res})
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}

	var bare float64
	for _, r := range rows {
		if r.name == "bare" {
			bare = r.res.rate()
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "variant\tconns\tballots/s\tp50\tp99\tmax\terrors\tratio to bare\t")
	for _, r := range rows {
		s := r.res.lat.summary()
		ratio := "—"
		if bare > 0 {
			ratio = fmt.Sprintf("%.3f", r.res.rate()/bare)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%d\t%s\t\n", r.name, *conns, trimNum(r.res.rate()),
			ms(s.P50), ms(s.P99), ms(s.Max), r.res.errs, ratio)
	}
	tw.Flush()
	for _, r := range rows {
		if r.res.errs > 0 {
			fmt.Printf("# %s: first error: %s\n", r.name, r.res.firstErr)
		}
	}
	return nil
}
