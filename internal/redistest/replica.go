package redistest

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// StartReplica starts a redis-server that replicates primary (REPLICAOF)
// through a Proxy that holds back what the primary sends by delay, so that
// the replica lags the primary as one across a slow link would: on
// loopback replication is so fast that a failover would hardly ever lose
// a write. It waits until the replica is in sync and stops it when t
// ends. The proxy is returned too (Delay and Cut).
func StartReplica(t testing.TB, primary *Server, delay time.Duration) (*Server, *Proxy) {
	t.Helper()
	// A full sync waits 5 s by default for more replicas to come.
	if _, err := primary.do("CONFIG", "SET", "repl-diskless-sync-delay", "0"); err != nil {
		t.Fatalf("redistest: CONFIG SET repl-diskless-sync-delay on the primary: %v", err)
	}
	px := StartProxy(t, primary.Addr(), delay)
	s := &Server{bin: primary.bin, dir: t.TempDir(), logDir: t.TempDir(), password: primary.password, replicaOf: px.Addr()}
	var err error
	for attempt := 0; ; attempt++ {
		s.port = freePort(t)
		if err = s.start(); err == nil {
			break
		}
		if attempt == 4 {
			t.Fatalf("redistest: replica: %v", err)
		}
	}
	t.Cleanup(s.stop)
	if err := s.WaitInSync(startTimeout); err != nil {
		t.Fatalf("redistest: replica: %v", err)
	}
	return s, px
}

// WaitInSync waits until a replica's link to its primary is up and it
// has written the AOF it starts after a full sync (until then it refuses
// SHUTDOWN: "Writing initial AOF, can't exit").
func (s *Server) WaitInSync(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		info, err := s.do("INFO", "replication")
		if err == nil && strings.Contains(info, "master_link_status:up") {
			var p string
			if p, err = s.do("INFO", "persistence"); err == nil &&
				strings.Contains(p, "aof_rewrite_in_progress:0") && strings.Contains(p, "aof_rewrite_scheduled:0") {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replica on port %d not in sync after %v: %v %.300s", s.port, timeout, err, info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Promote makes a replica a primary (REPLICAOF NO ONE), as an operator or
// Sentinel does after its primary died.
func (s *Server) Promote() error {
	if _, err := s.do("REPLICAOF", "NO", "ONE"); err != nil {
		return fmt.Errorf("redistest: REPLICAOF NO ONE on port %d: %w", s.port, err)
	}
	s.mu.Lock()
	s.replicaOf = ""
	s.mu.Unlock()
	return nil
}

// Proxy is a TCP proxy on a loopback port that forwards to a target,
// holding back what the target sends by a delay. Retarget points it at
// another server (as a floating address does after a failover).
type Proxy struct {
	l     net.Listener
	delay time.Duration

	mu     sync.Mutex
	target string
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// StartProxy starts a proxy to target for t and closes it when t ends.
func StartProxy(t testing.TB, target string, delay time.Duration) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: proxy: %v", err)
	}
	p := &Proxy{l: l, delay: delay, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.l.Addr().String() }

// URL is the proxy as a redis:// URL.
func (p *Proxy) URL() string { return "redis://" + p.Addr() + "/0" }

// Retarget sends new connections to target and cuts the open ones.
func (p *Proxy) Retarget(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
	p.Cut()
}

// Cut closes every open connection through the proxy.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// Close stops the proxy and cuts its connections.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	p.l.Close()
	p.Cut()
	p.wg.Wait()
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
		c.Close()
	}
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		out, err := net.DialTimeout("tcp", target, time.Second)
		if err != nil {
			in.Close()
			continue
		}
		if !p.track(in, out) {
			in.Close()
			out.Close()
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.pipe(in, out)
		}()
	}
}

// pipe forwards both ways until either side closes: what the client sends
// at once, what the target sends after the delay, in order.
func (p *Proxy) pipe(in, out net.Conn) {
	defer p.untrack(in, out)
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(out, in)
		done <- struct{}{}
	}()
	go func() {
		p.delayed(in, out)
		done <- struct{}{}
	}()
	<-done
}

type chunk struct {
	at   time.Time
	data []byte
}

// delayed copies from src to dst, each chunk delay after it was read.
func (p *Proxy) delayed(dst, src net.Conn) {
	if p.delay <= 0 {
		_, _ = io.Copy(dst, src)
		return
	}
	ch := make(chan chunk, 4096)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				ch <- chunk{at: time.Now().Add(p.delay), data: buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.data); err != nil {
			dst.Close()
			src.Close() // ends the reader
			for range ch {
			}
			return
		}
	}
}
