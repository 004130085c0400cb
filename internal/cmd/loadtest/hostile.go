package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// hostileOpts is one `loadtest hostile` run (docs/reliability.md, "Slow
// and hostile clients"; perf-reliability.md §4 T5).
type hostileOpts struct {
	Slow      int           // slowloris connections, held throughout the hostile phase
	ByteEvery time.Duration // each sends one more header byte this often
	Stalled   int           // SSE viewers that never read
	RcvBuf    int           // their SO_RCVBUF (bytes)
	Conns     int           // intake connections (the counters)
	Warmup    time.Duration // unmeasured start of each intake run
	Before    time.Duration // intake measured without hostile clients, before
	With      time.Duration // … with them (at least the server's ReadTimeout, so that it shows)
	After     time.Duration // … without them, after
	Settle    time.Duration // hostile clients connect for this long before the intake with them
	LogLevel  string
	Dir       string // for the logs and the data; "" = a temporary directory, removed
	Out       io.Writer
}

// hostileResult is what a run measured.
type hostileResult struct {
	RSSStart, RSSPeak, RSSEnd    int64 // server VmRSS, KiB: before the hostile clients, the peak, after them
	AnonStart, AnonPeak, AnonEnd int64 // server RssAnon, KiB (VmRSS less the store's mapped file), at the same times
	FDStart, FDPeak, FDEnd       int   // server's open files at the same times
	SockMemPeak                  int64 // the kernel's TCP buffers, KiB (/proc/net/sockstat "mem"), peak

	Before, With, After loadResult

	SlowOpened       int64         // slow connections opened (reconnects included)
	SlowHeldMin      int64         // the fewest slow connections open at once during the intake with them
	SlowClosed       int64         // slow connections the server closed
	SlowMaxLife      time.Duration // the longest a slow connection lived before the server closed it
	SlowOldestAtEnd  time.Duration // the age of the oldest slow connection still open at the end
	SlowDialErrors   int64
	StalledConnected int   // stalled viewers whose request was sent
	StalledDropped   int   // of them, dropped by the server (its log's "stream dropped" lines)
	StalledStillOpen int64 // stalled viewers the server had not closed at the end (seen from the client)
}

// ratio is the counters' p99 with the hostile clients over the p99
// without them (the mean of the runs before and after: the machine's load
// drifts).
func (r hostileResult) ratio() float64 {
	b, a := r.Before.lat.summary().P99, r.After.lat.summary().P99
	w := r.With.lat.summary().P99
	if a+b == 0 {
		return 0
	}
	return 2 * float64(w) / float64(a+b)
}

// runHostile is `loadtest hostile`.
func runHostile(args []string) error {
	fs := flag.NewFlagSet("hostile", flag.ExitOnError)
	o := hostileOpts{Out: os.Stdout}
	fs.IntVar(&o.Slow, "slow", 5000, "slowloris connections, each sending one header byte every -byte-every, reconnecting when closed")
	fs.DurationVar(&o.ByteEvery, "byte-every", 5*time.Second, "how often each slow connection sends one more byte")
	fs.IntVar(&o.Stalled, "stalled", 500, "SSE viewers that never read (tiny SO_RCVBUF)")
	fs.IntVar(&o.RcvBuf, "rcvbuf", 4096, "SO_RCVBUF of the stalled viewers, bytes")
	fs.IntVar(&o.Conns, "intake-conns", 16, "intake connections (counters posting ballots back to back)")
	fs.DurationVar(&o.Warmup, "warmup", time.Second, "unmeasured start of each intake run")
	fs.DurationVar(&o.Before, "before", 10*time.Second, "intake measured without hostile clients, before them")
	fs.DurationVar(&o.With, "with", 25*time.Second, "intake measured with them (longer than the server's ReadTimeout, 15 s)")
	fs.DurationVar(&o.After, "after", 10*time.Second, "intake measured without them, after")
	fs.DurationVar(&o.Settle, "settle", 5*time.Second, "time the hostile clients have to connect before the intake with them")
	fs.StringVar(&o.LogLevel, "log-level", "info", "the service's log level (the product's is info)")
	keep := fs.String("keep", "", "keep the logs and data in this directory")
	timeout := fs.Duration("timeout", 5*time.Minute, "bound on the whole run")
	fs.Parse(args)
	o.Dir = *keep
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	r, err := hostile(ctx, o)
	if err != nil {
		return err
	}
	r.print(o)
	return nil
}

func (r hostileResult) print(o hostileOpts) {
	w := o.Out
	kib := func(v int64) string { return trimNum(float64(v)) + " KiB" }
	fmt.Fprintf(w, "slow connections: %s opened (%d held at least throughout the intake with them), %s closed by the server, the longest lived %v; the oldest open at the end %v; %d dial errors\n",
		trimNum(float64(r.SlowOpened)), r.SlowHeldMin, trimNum(float64(r.SlowClosed)), r.SlowMaxLife.Round(time.Millisecond), r.SlowOldestAtEnd.Round(time.Millisecond), r.SlowDialErrors)
	fmt.Fprintf(w, "stalled viewers: %d connected, %d dropped by the server, %d still open at the end\n", r.StalledConnected, r.StalledDropped, r.StalledStillOpen)
	fmt.Fprintf(w, "server VmRSS: start %s, peak %s, end %s\n", kib(r.RSSStart), kib(r.RSSPeak), kib(r.RSSEnd))
	fmt.Fprintf(w, "server RssAnon (less the store's mapped file): start %s, peak %s, end %s\n", kib(r.AnonStart), kib(r.AnonPeak), kib(r.AnonEnd))
	fmt.Fprintf(w, "server open files: start %d, peak %d, end %d; kernel TCP buffers peak %s\n", r.FDStart, r.FDPeak, r.FDEnd, kib(r.SockMemPeak))
	fmt.Fprintf(w, "intake, %d connections:\n", o.Conns)
	for _, x := range []struct {
		name string
		r    loadResult
	}{{"without hostile clients, before", r.Before}, {"with them", r.With}, {"without them, after", r.After}} {
		s := x.r.lat.summary()
		fmt.Fprintf(w, "  %-32s %s ballots/s  p50 %s  p99 %s  max %s  errors %d\n", x.name+":", trimNum(x.r.rate()), ms(s.P50), ms(s.P99), ms(s.Max), x.r.errs)
		if x.r.errs > 0 {
			fmt.Fprintf(w, "# first error: %s\n", x.r.firstErr)
		}
	}
	fmt.Fprintf(w, "  p99 with ÷ without (mean of before and after): %.2f\n", r.ratio())
}

// hostile runs the service (as `kiemphieu serve` builds it, embedded
// store) and measures ballot intake before, with and after the hostile
// clients: slowloris connections and SSE viewers that stop reading.
func hostile(ctx context.Context, o hostileOpts) (hostileResult, error) {
	var r hostileResult
	limit, err := raiseNofile()
	if err != nil {
		return r, err
	}
	if need := uint64(o.Slow + o.Stalled + o.Conns + 100); need > limit {
		return r, fmt.Errorf("%d slow connections and %d stalled viewers need about %d open files; the limit is %d", o.Slow, o.Stalled, need, limit)
	}
	dir := o.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "kp-loadtest-hostile-"); err != nil {
			return r, err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	tails := ballotTails(4096)
	srv, err := startServer(ctx, "kiemphieu", dir, false, "-data", filepath.Join(dir, "data"), "-log-level", o.LogLevel)
	if err != nil {
		return r, err
	}
	defer srv.stop(20 * time.Second)
	const contest = "hostile"
	token, err := setupContest("http://"+srv.addr, contest)
	if err != nil {
		return r, err
	}
	fmt.Fprintf(o.Out, "# loadtest hostile: %d slow connections (a byte every %v), %d stalled viewers (SO_RCVBUF %d); intake %d connections for %v before, %v with, %v after\n",
		o.Slow, o.ByteEvery, o.Stalled, o.RcvBuf, o.Conns, o.Before, o.With, o.After)
	fmt.Fprintf(o.Out, "# %s\n", machine())

	mon := startMonitor(srv.pid())
	defer mon.stop()

	r.Before = drive(ctx, load{addr: srv.addr, contest: contest, token: token, conns: o.Conns,
		warmup: o.Warmup, duration: o.Before, prefix: "before", tails: tails})
	time.Sleep(time.Second)
	r.RSSStart, r.AnonStart, r.FDStart = mon.now()

	// The hostile clients.
	hctx, hstop := context.WithCancel(ctx)
	defer hstop()
	var slow slowStats
	var wg sync.WaitGroup
	for i := range o.Slow {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread the first dials over a second or two.
			select {
			case <-time.After(time.Duration(i) * 2 * time.Second / time.Duration(max(1, o.Slow))):
			case <-hctx.Done():
				return
			}
			slowloris(hctx, srv.addr, i, o.ByteEvery, &slow)
		}()
	}
	stalled := make([]net.Conn, 0, o.Stalled)
	path := "/api/v1/contests/" + contest + "/stream"
	for i := range o.Stalled {
		c, err := dialStalled(srv.addr, path, i, o.RcvBuf)
		if err != nil {
			hstop()
			wg.Wait()
			return r, fmt.Errorf("stalled viewer %d: %w", i, err)
		}
		stalled = append(stalled, c)
	}
	r.StalledConnected = len(stalled)
	defer func() {
		for _, c := range stalled {
			c.Close()
		}
	}()
	select {
	case <-time.After(o.Settle):
	case <-ctx.Done():
		return r, ctx.Err()
	}
	slow.resetHeld()
	r.With = drive(ctx, load{addr: srv.addr, contest: contest, token: token, conns: o.Conns,
		warmup: o.Warmup, duration: o.With, prefix: "with", tails: tails})
	r.SlowHeldMin = slow.heldMin.Load()
	r.SlowOldestAtEnd = slow.oldest()

	// Which stalled viewers has the server let go? A dropped one reads
	// what was in its buffer, then the end of the stream.
	var still atomic.Int64
	var dwg sync.WaitGroup
	for _, c := range stalled {
		dwg.Add(1)
		go func() {
			defer dwg.Done()
			if !closedByPeer(c, 3*time.Second) {
				still.Add(1)
			}
		}()
	}
	dwg.Wait()
	r.StalledStillOpen = still.Load()
	hstop()
	wg.Wait()
	r.SlowOpened, r.SlowClosed, r.SlowMaxLife, r.SlowDialErrors = slow.opened.Load(), slow.closed.Load(), time.Duration(slow.maxLife.Load()), slow.dialErrs.Load()
	for _, c := range stalled {
		c.Close()
	}
	stalled = nil
	time.Sleep(2 * time.Second) // the server sees them go

	r.After = drive(ctx, load{addr: srv.addr, contest: contest, token: token, conns: o.Conns,
		warmup: o.Warmup, duration: o.After, prefix: "after", tails: tails})
	time.Sleep(time.Second)
	r.RSSEnd, r.AnonEnd, r.FDEnd = mon.now()
	r.RSSPeak, r.AnonPeak, r.FDPeak, r.SockMemPeak = mon.peaks()
	if r.StalledDropped, err = countLines(filepath.Join(dir, "kiemphieu.service.log"), "stream dropped"); err != nil {
		return r, err
	}
	return r, ctx.Err()
}

// slowStats are the slow connections' counts, shared by their goroutines.
type slowStats struct {
	opened, closed, dialErrs atomic.Int64
	maxLife                  atomic.Int64 // ns
	open                     atomic.Int64
	heldMin                  atomic.Int64
	mu                       sync.Mutex
	since                    map[net.Conn]time.Time
}

func (s *slowStats) resetHeld() { s.heldMin.Store(s.open.Load()) }

func (s *slowStats) add(c net.Conn) {
	s.opened.Add(1)
	s.open.Add(1)
	s.mu.Lock()
	if s.since == nil {
		s.since = map[net.Conn]time.Time{}
	}
	s.since[c] = time.Now()
	s.mu.Unlock()
}

func (s *slowStats) remove(c net.Conn, byServer bool) {
	s.mu.Lock()
	life := time.Since(s.since[c])
	delete(s.since, c)
	s.mu.Unlock()
	n := s.open.Add(-1)
	for {
		m := s.heldMin.Load()
		if n >= m || s.heldMin.CompareAndSwap(m, n) {
			break
		}
	}
	if !byServer {
		return
	}
	s.closed.Add(1)
	for {
		m := s.maxLife.Load()
		if int64(life) <= m || s.maxLife.CompareAndSwap(m, int64(life)) {
			break
		}
	}
}

func (s *slowStats) oldest() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d time.Duration
	for _, t := range s.since {
		d = max(d, time.Since(t))
	}
	return d
}

// slowHeader is what a slow connection sends, a byte at a time: a request
// whose headers never end.
const slowHeader = "GET /healthz HTTP/1.1\r\nHost: kiemphieu\r\nUser-Agent: kiemphieu-loadtest-slowloris\r\nX-Slow: "

// slowloris holds one slow connection from a 127.0.0.x address (ports
// are per source address), sending a header byte every `every`; when the
// server closes it, it notes how long it lived and dials again, until ctx
// ends.
func slowloris(ctx context.Context, addr string, i int, every time.Duration, st *slowStats) {
	buf := make([]byte, 512)
	for ctx.Err() == nil {
		d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%8))}}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			if ctx.Err() == nil {
				st.dialErrs.Add(1)
				select {
				case <-time.After(every):
				case <-ctx.Done():
				}
			}
			continue
		}
		st.add(c)
		byServer := false
		for n := 0; ctx.Err() == nil; n++ {
			b := byte('a')
			if n < len(slowHeader) {
				b = slowHeader[n]
			}
			if _, err := c.Write([]byte{b}); err != nil {
				byServer = true
				break
			}
			// Wait for the next byte's time; anything the server says
			// (a 408) or its closing ends the connection.
			c.SetReadDeadline(time.Now().Add(every))
			if _, err := c.Read(buf); err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
				byServer = true
				break
			}
		}
		st.remove(c, byServer && ctx.Err() == nil)
		c.Close()
	}
}

// dialStalled opens an SSE stream with a tiny receive buffer (set before
// connecting, so that the window it advertises is tiny too), sends the
// request and never reads.
func dialStalled(addr, path string, i, rcvbuf int) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(10+i%8))},
		Control: func(network, address string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			return errors.Join(err, serr)
		}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nAccept: text/event-stream\r\nUser-Agent: kiemphieu-loadtest-stalled\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// closedByPeer drains c and says whether it ended (the server closed it)
// before a quiet spell of `quiet`.
func closedByPeer(c net.Conn, quiet time.Duration) bool {
	buf := make([]byte, 64<<10)
	for {
		c.SetReadDeadline(time.Now().Add(quiet))
		if _, err := c.Read(buf); err != nil {
			return !errors.Is(err, os.ErrDeadlineExceeded)
		}
	}
}

// monitor samples a process's VmRSS and open files, and the kernel's TCP
// buffer memory, keeping the peaks.
type monitor struct {
	pid                 int
	done                chan struct{}
	wg                  sync.WaitGroup
	mu                  sync.Mutex
	rssPeak, sockPeak   int64
	anonPeak, anonLast  int64
	fdPeak              int
	rssLast             int64
	fdLast              int
	samples, sampleErrs int
}

func startMonitor(pid int) *monitor {
	m := &monitor{pid: pid, done: make(chan struct{})}
	m.sample()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				m.sample()
			case <-m.done:
				return
			}
		}
	}()
	return m
}

func (m *monitor) sample() {
	rss, err := rssKiB(m.pid)
	anon, aerr := statusKiB(m.pid, "RssAnon")
	err = errors.Join(err, aerr)
	fds, ferr := fdCount(m.pid)
	sock := tcpMemKiB()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.samples++
	if err != nil || ferr != nil {
		m.sampleErrs++
		return
	}
	m.rssLast, m.anonLast, m.fdLast = rss, anon, fds
	m.rssPeak, m.anonPeak, m.fdPeak, m.sockPeak = max(m.rssPeak, rss), max(m.anonPeak, anon), max(m.fdPeak, fds), max(m.sockPeak, sock)
}

// now samples at once and returns the values.
func (m *monitor) now() (rss, anon int64, fds int) {
	m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rssLast, m.anonLast, m.fdLast
}

func (m *monitor) peaks() (rss, anon int64, fds int, sock int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rssPeak, m.anonPeak, m.fdPeak, m.sockPeak
}

func (m *monitor) stop() {
	select {
	case <-m.done:
	default:
		close(m.done)
	}
	m.wg.Wait()
}

func fdCount(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	return len(names), err
}

// tcpMemKiB reads the pages of memory the kernel's TCP sockets hold
// (/proc/net/sockstat "TCP: … mem N"), in KiB; 0 if unknown.
func tcpMemKiB() int64 {
	data, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "TCP:") {
			continue
		}
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "mem" {
				v, _ := strconv.ParseInt(f[i+1], 10, 64)
				return v * int64(os.Getpagesize()) / 1024
			}
		}
	}
	return 0
}

func countLines(path, substr string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if bytes.Contains(sc.Bytes(), []byte(substr)) {
			n++
		}
	}
	return n, sc.Err()
}
