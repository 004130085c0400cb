package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// record is one tally event a viewer received: which viewer, the event's
// id (the result's version) and when its last line arrived (unix ns).
type record struct {
	viewer  uint32
	version int64
	at      int64
}

const recordSize = 4 + 8 + 8

// runViewers is `loadtest viewers`: n SSE viewers of one stream, dialled
// from 127.0.0.2–127.0.0.65 in turn (28k ephemeral ports per source
// address; the service takes at most 512 streams from one address, api
// ConnLimits: 10,000 viewers are 157 an address). It prints "READY <connected> <failed>" once each viewer has
// its first tally event or has failed, then watches until its stdin
// closes, and writes every tally event's record to -out.
func runViewers(args []string) error {
	fs := flag.NewFlagSet("viewers", flag.ExitOnError)
	addr := fs.String("addr", "", "the service's host:port")
	path := fs.String("path", "", "the stream's path")
	n := fs.Int("n", 5000, "viewers")
	first := fs.Int("first", 0, "number of the first viewer (for the source address and the records)")
	out := fs.String("out", "", "file for the records")
	parallel := fs.Int("parallel", 128, "connections being opened at once")
	readyTimeout := fs.Duration("ready-timeout", 90*time.Second, "bound on connecting them all")
	fs.Parse(args)
	if _, err := raiseNofile(); err != nil {
		return err
	}

	var (
		wg        sync.WaitGroup
		ready     sync.WaitGroup
		connected atomic.Int64
		failed    atomic.Int64
		firstErr  atomic.Value
		mu        sync.Mutex
		conns     = map[net.Conn]struct{}{}
		stopping  atomic.Bool
	)
	recs := make([][]record, *n)
	sem := make(chan struct{}, *parallel)
	req := "GET " + *path + " HTTP/1.1\r\nHost: " + *addr + "\r\nAccept: text/event-stream\r\nUser-Agent: kiemphieu-loadtest\r\n\r\n"
	for i := range *n {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			once := sync.OnceFunc(ready.Done)
			defer once()
			v := *first + i
			fail := func(err error) {
				if !stopping.Load() {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("viewer %d: %v", v, err))
				}
			}
			sem <- struct{}{}
			d := net.Dialer{Timeout: 30 * time.Second,
				LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+v%64))}}
			conn, err := d.Dial("tcp", *addr)
			if err == nil {
				_, err = io.WriteString(conn, req)
			}
			<-sem
			if err != nil {
				fail(err)
				return
			}
			mu.Lock()
			conns[conn] = struct{}{}
			mu.Unlock()
			defer conn.Close()
			br := bufio.NewReaderSize(conn, 4096)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				fail(err)
				return
			}
			if resp.StatusCode != 200 {
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
				fail(fmt.Errorf("%s: %s", resp.Status, body))
				return
			}
			lr := bufio.NewReaderSize(resp.Body, 4096) // resp.Body undoes the chunking
			var id int64 = -1
			tallyEv := false
			gotFirst := false
			for {
				line, err := lr.ReadSlice('\n')
				for errors.Is(err, bufio.ErrBufferFull) { // a long data line: skip the rest
					_, err = lr.ReadSlice('\n')
				}
				if err != nil {
					if !stopping.Load() {
						fail(fmt.Errorf("stream ended: %w", err))
					}
					return
				}
				line = bytes.TrimRight(line, "\r\n")
				switch {
				case len(line) == 0: // end of an event
					if tallyEv && id >= 0 {
						recs[i] = append(recs[i], record{viewer: uint32(v), version: id, at: time.Now().UnixNano()})
						if !gotFirst {
							gotFirst = true
							connected.Add(1)
							once()
						}
					}
					tallyEv, id = false, -1
				case bytes.HasPrefix(line, []byte("id: ")):
					id, _ = strconv.ParseInt(string(line[4:]), 10, 64)
				case bytes.Equal(line, []byte("event: tally")):
					tallyEv = true
				case bytes.Equal(line, []byte("event: bye")):
					return
				}
			}
		}()
	}
	readyDone := make(chan struct{})
	go func() { ready.Wait(); close(readyDone) }()
	select {
	case <-readyDone:
	case <-time.After(*readyTimeout):
	}
	fe, _ := firstErr.Load().(string)
	fmt.Printf("READY %d %d %s\n", connected.Load(), failed.Load(), fe)

	io.Copy(io.Discard, os.Stdin) // until the parent is done
	stopping.Store(true)
	mu.Lock()
	for c := range conns {
		c.Close()
	}
	mu.Unlock()
	wg.Wait()

	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	var buf [recordSize]byte
	for _, rs := range recs {
		for _, r := range rs {
			binary.LittleEndian.PutUint32(buf[0:], r.viewer)
			binary.LittleEndian.PutUint64(buf[4:], uint64(r.version))
			binary.LittleEndian.PutUint64(buf[12:], uint64(r.at))
			bw.Write(buf[:])
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("DONE %d\n", failed.Load())
	return nil
}

func readRecords(path string) ([]record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := make([]record, 0, len(data)/recordSize)
	for len(data) >= recordSize {
		out = append(out, record{viewer: binary.LittleEndian.Uint32(data[0:]),
			version: int64(binary.LittleEndian.Uint64(data[4:])), at: int64(binary.LittleEndian.Uint64(data[12:]))})
		data = data[recordSize:]
	}
	return out, nil
}

// publish posts one ballot every 1/rate seconds on one connection for d,
// and returns when each was acknowledged, by seq.
func publish(ctx context.Context, addr, contest, token string, tails [][]byte, rate float64, d time.Duration) (map[int64]int64, int, error) {
	hc := &fasthttp.HostClient{Addr: addr, MaxConns: 1, ReadTimeout: 30 * time.Second}
	defer hc.CloseIdleConnections()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + addr + "/api/v1/contests/" + contest + "/ballots")
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	acks := map[int64]int64{}
	errs := 0
	start := time.Now()
	every := time.Duration(float64(time.Second) / rate)
	for n := 0; ; n++ {
		next := start.Add(time.Duration(n) * every)
		if next.Sub(start) >= d || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Until(next))
		req.SetBodyRaw(append([]byte(`{"id":"pub-`+strconv.Itoa(n)+`"`), tails[n%len(tails)]...))
		if err := hc.Do(req, resp); err != nil || resp.StatusCode() != 201 {
			errs++
			continue
		}
		now := time.Now().UnixNano()
		if seq, ok := seqOf(resp.Body()); ok {
			acks[seq] = now
		}
	}
	return acks, errs, nil
}

// delivery is what the viewers saw of a set of acknowledged ballots.
type delivery struct {
	byVersion latencies // receipt − ack of the event's own version
	oldest    latencies // receipt − ack of the oldest ballot the event was the first to show this viewer
	events    int
	lastSeen  int // viewers that received the last acknowledged version
}

func measureDelivery(recs []record, acks map[int64]int64) delivery {
	var d delivery
	if len(acks) == 0 {
		return d
	}
	var lastVer int64
	for v := range acks {
		lastVer = max(lastVer, v)
	}
	prev := map[uint32]int64{}
	seenLast := map[uint32]bool{}
	for _, r := range recs { // a viewer's records are in order
		p, had := prev[r.viewer]
		prev[r.viewer] = r.version
		if r.version >= lastVer {
			seenLast[r.viewer] = true
		}
		at, ok := acks[r.version]
		if !ok {
			continue
		}
		d.events++
		d.byVersion = append(d.byVersion, max(0, r.at-at))
		if had {
			oldest := at
			for s := p + 1; s < r.version; s++ {
				if a, ok := acks[s]; ok && a < oldest {
					oldest = a
					break // seqs are acknowledged in order, nearly: the first found is the oldest
				}
			}
			d.oldest = append(d.oldest, max(0, r.at-oldest))
		}
	}
	d.lastSeen = len(seenLast)
	return d
}

// runSSE is `loadtest sse`.
func runSSE(args []string) error {
	fs := flag.NewFlagSet("sse", flag.ExitOnError)
	viewers := fs.Int("viewers", 10000, "SSE viewers of one contest")
	procs := fs.Int("procs", 2, "client processes the viewers are split across")
	rate := fs.Float64("rate", 10, "ballots per second posted while measuring delivery")
	pubFor := fs.Duration("publish", 15*time.Second, "how long to post at -rate")
	conns := fs.Int("intake-conns", 16, "connections of the intake measured without and with the viewers")
	intakeFor := fs.Duration("intake-duration", 5*time.Second, "measured time of each intake run")
	logLevel := fs.String("log-level", "info", "the service's log level (the product's is info)")
	profDir := fs.String("cpuprofile", "", "write CPU profiles (publishing, intake with viewers) and a heap profile (viewers connected) of the service into this directory")
	keep := fs.Bool("keep", false, "keep the temporary directory (logs, data, records)")
	nice := fs.Int("viewers-nice", 0, "run the viewer processes at this nice (e.g. 10): they then take the CPU the server and the counters leave, as viewers on other machines would")
	timeout := fs.Duration("timeout", 5*time.Minute, "bound on the whole run")
	fs.Parse(args)

	limit, err := raiseNofile()
	if err != nil {
		return err
	}
	if need := uint64(*viewers/max(1, *procs) + 200); need > limit {
		return fmt.Errorf("%d viewers per process need about %d open files; the limit is %d: use more -procs", *viewers / *procs, need, limit)
	}
	prof, err := absDir(*profDir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "kp-loadtest-sse-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintf(os.Stderr, "loadtest: keeping %s (the service's log has each request's latency)\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	tails := ballotTails(4096)

	srv, err := startServer(ctx, "kiemphieu", dir, prof != "", "-data", filepath.Join(dir, "data"), "-log-level", *logLevel)
	if err != nil {
		return err
	}
	defer srv.stop(20 * time.Second)
	const contest = "sse"
	token, err := setupContest("http://"+srv.addr, contest)
	if err != nil {
		return err
	}
	fmt.Printf("# loadtest sse: %d viewers in %d processes (nice %d), %g ballots/s for %v; intake %d connections for %v without and with them\n",
		*viewers, *procs, *nice, *rate, *pubFor, *conns, *intakeFor)
	fmt.Printf("# %s\n", machine())

	// 1. Intake with no viewer.
	before := drive(ctx, load{addr: srv.addr, contest: contest, token: token, conns: *conns,
		warmup: time.Second, duration: *intakeFor, prefix: "before", tails: tails})
	time.Sleep(time.Second)
	rssBefore, err := rssKiB(srv.pid())
	if err != nil {
		return err
	}

	resultSize := 0
	if resp, err := http.Get("http://" + srv.addr + "/api/v1/contests/" + contest + "/result"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resultSize = len(body)
	}

	// 2. The viewers.
	groups, connected, failedN, connectTime, err := startViewers(ctx, dir, "viewers", srv.addr, "/api/v1/contests/"+contest+"/stream", *viewers, *procs, *nice)
	defer stopViewers(groups)
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	rssConnected, err := rssKiB(srv.pid())
	if err != nil {
		return err
	}
	if prof != "" {
		if err := fetchProfile(srv.pprof, "heap", filepath.Join(prof, "sse-connected.heap.pprof")); err != nil {
			return err
		}
	}

	// 3. Delivery at a modest rate.
	var p profiler
	if prof != "" {
		p.cpu(srv.pprof, filepath.Join(prof, "sse-publish.cpu.pprof"), *pubFor)
	}
	pubAcks, pubErrs, err := publish(ctx, srv.addr, contest, token, tails, *rate, *pubFor)
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // the last events reach everyone
	rssPublished, _ := rssKiB(srv.pid())

	// 4. Intake while they watch (each change still goes out to all).
	if prof != "" {
		go func() {
			time.Sleep(time.Second)
			p.cpu(srv.pprof, filepath.Join(prof, "sse-intake.cpu.pprof"), *intakeFor)
		}()
	}
	with := drive(ctx, load{addr: srv.addr, contest: contest, token: token, conns: *conns,
		warmup: time.Second, duration: *intakeFor, prefix: "with", tails: tails, acks: true})
	time.Sleep(2 * time.Second)
	rssAfter, _ := rssKiB(srv.pid())
	if err := p.wait(); err != nil {
		return err
	}

	// 5. Gather what the viewers saw.
	recs, err := gatherRecords(ctx, dir, groups)
	if err != nil {
		return err
	}
	// 6. Intake again with no viewer: the load of the machine drifts
	// (other work shares it), so the run without viewers is taken on
	// both sides of the one with them.
	time.Sleep(2 * time.Second)
	after := drive(ctx, load{addr: srv.addr, contest: contest, token: token, conns: *conns,
		warmup: time.Second, duration: *intakeFor, prefix: "after", tails: tails})

	pub := measureDelivery(recs, pubAcks)
	load := measureDelivery(recs, with.acks)

	kib := func(v int64) string { return fmt.Sprintf("%s KiB", trimNum(float64(v))) }
	fmt.Printf("result JSON (each tally event's data): %s bytes\n", trimNum(float64(resultSize)))
	fmt.Printf("viewers connected: %d of %d (%d failed) in %v\n", connected, *viewers, failedN, connectTime.Round(time.Millisecond))
	fmt.Printf("server RSS: before viewers %s; all connected %s; after publishing %s; after intake with viewers %s\n",
		kib(rssBefore), kib(rssConnected), kib(rssPublished), kib(rssAfter))
	fmt.Printf("per viewer (connected − before) / connected: %.1f KiB\n", float64(rssConnected-rssBefore)/float64(max(1, connected)))
	for _, d := range []struct {
		name string
		d    delivery
		n    int
	}{{fmt.Sprintf("publishing %g ballots/s", *rate), pub, len(pubAcks)}, {fmt.Sprintf("intake at %d connections", *conns), load, len(with.acks)}} {
		s, o := d.d.byVersion.summary(), d.d.oldest.summary()
		fmt.Printf("delivery while %s (%d ballots acknowledged, %d tally events received, %d of %d viewers got the last acknowledged version or a later one):\n",
			d.name, d.n, d.d.events, d.d.lastSeen, connected)
		fmt.Printf("  now − ack of the event's version:             p50 %s  p99 %s  max %s\n", ms(s.P50), ms(s.P99), ms(s.Max))
		fmt.Printf("  now − ack of the oldest ballot new to viewer: p50 %s  p99 %s  max %s\n", ms(o.P50), ms(o.P99), ms(o.Max))
	}
	if pubErrs > 0 {
		fmt.Printf("# publisher: %d errors\n", pubErrs)
	}
	fmt.Printf("intake, %d connections, %v each:\n", *conns, *intakeFor)
	b, w, a := before.lat.summary(), with.lat.summary(), after.lat.summary()
	for _, r := range []struct {
		name string
		r    loadResult
		s    summary
	}{{"without viewers, before", before, b}, {fmt.Sprintf("with %d viewers", connected), with, w}, {"without viewers, after", after, a}} {
		fmt.Printf("  %-24s %s ballots/s  p50 %s  p99 %s  max %s  errors %d\n", r.name+":", trimNum(r.r.rate()), ms(r.s.P50), ms(r.s.P99), ms(r.s.Max), r.r.errs)
		if r.r.errs > 0 {
			fmt.Printf("# intake: first error: %s\n", r.r.firstErr)
		}
	}
	if b.P99 > 0 && a.P99 > 0 {
		fmt.Printf("  p99 with ÷ without: %.2f (before), %.2f (after), %.2f (the mean of both)\n", float64(w.P99)/float64(b.P99),
			float64(w.P99)/float64(a.P99), 2*float64(w.P99)/float64(a.P99+b.P99))
	}
	return nil
}

// startViewers starts viewers SSE viewers of path in procs child processes
// (`loadtest viewers`) at nice, and waits until each has its first tally
// event or has failed.
func startViewers(ctx context.Context, dir, name, addr, path string, viewers, procs, nice int) (groups []*child, connected, failed int, took time.Duration, err error) {
	t0 := time.Now()
	per := viewers / procs
	for p := range procs {
		n := per
		if p == procs-1 {
			n = viewers - per*(procs-1)
		}
		gname := fmt.Sprintf("%s-%d", name, p)
		g, err := startChild(gname, filepath.Join(dir, gname+".stderr"), nice,
			"viewers", "-addr", addr, "-path", path,
			"-n", strconv.Itoa(n), "-first", strconv.Itoa(p*per), "-out", filepath.Join(dir, gname+".rec"))
		if err != nil {
			return groups, 0, 0, 0, err
		}
		groups = append(groups, g)
	}
	for _, g := range groups {
		line, err := g.expect(ctx, "READY ", 2*time.Minute)
		if err != nil {
			return groups, 0, 0, 0, err
		}
		f := strings.SplitN(line, " ", 3)
		c, _ := strconv.Atoi(f[0])
		x, _ := strconv.Atoi(f[1])
		connected += c
		failed += x
		if x > 0 && len(f) > 2 {
			fmt.Printf("# %s: %d failed, first: %s\n", g.name, x, f[2])
		}
	}
	return groups, connected, failed, time.Since(t0), nil
}

func stopViewers(groups []*child) {
	for _, g := range groups {
		g.stop(10 * time.Second)
	}
}

// gatherRecords tells the viewer processes to hang up and reads what they
// received.
func gatherRecords(ctx context.Context, dir string, groups []*child) ([]record, error) {
	var recs []record
	for _, g := range groups {
		g.stdin.Close()
		if _, err := g.expect(ctx, "DONE ", time.Minute); err != nil {
			return nil, err
		}
		<-g.done
		rs, err := readRecords(filepath.Join(dir, g.name+".rec"))
		if err != nil {
			return nil, err
		}
		recs = append(recs, rs...)
	}
	return recs, nil
}
