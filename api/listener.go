package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ConnLimits caps what clients hold open (docs/architecture.md,
// "Connections and streams"). An address is an IPv4 address or an IPv6
// /64: the devices of one hall share one address behind its NAT, or one
// /64 without.
type ConnLimits struct {
	// PerAddr caps the connections of one address, streams included,
	// counted as they are accepted. Trusted proxies are not capped.
	PerAddr int
	// StreamsPerAddr caps the SSE streams of one client address (its
	// X-Real-IP behind a trusted proxy).
	StreamsPerAddr int
	// Streams caps the SSE streams of all clients.
	Streams int
	// Requests caps the connections being served at once, streams apart
	// (fasthttp's Concurrency).
	Requests int
}

// ConnLimitsFor returns the default caps for a process that may hold
// files descriptors (0: not known): streams take at most half of them and
// requests the other half, so that a flood of streams leaves descriptors
// for the desks; one address takes at most a quarter, up to 1,024
// connections and 512 streams — a hall of 10 desks, a projector and 200
// delegates' phones behind one NAT holds about 200 streams and 600
// connections.
func ConnLimitsFor(files int) ConnLimits {
	if files <= 0 {
		files = 1 << 15
	}
	return ConnLimits{
		PerAddr:        max(4, min(1024, files/4)),
		StreamsPerAddr: max(2, min(512, files/8)),
		Streams:        max(2, files/2),
		Requests:       max(4, files/2),
	}
}

// orDefaults fills each zero cap from def.
func (l ConnLimits) orDefaults(def ConnLimits) ConnLimits {
	pick := func(v, d int) int {
		if v > 0 {
			return v
		}
		return d
	}
	return ConnLimits{PerAddr: pick(l.PerAddr, def.PerAddr), StreamsPerAddr: pick(l.StreamsPerAddr, def.StreamsPerAddr),
		Streams: pick(l.Streams, def.Streams), Requests: pick(l.Requests, def.Requests)}
}

// addrKey is the address a cap counts by: an IPv4 address, an IPv6 /64.
func addrKey(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p
	}
	return netip.PrefixFrom(a, a.BitLen())
}

// ipKey is addrKey of an address as c.IP() gives it.
func ipKey(ip string) netip.Prefix {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Prefix{}
	}
	return addrKey(a)
}

// guardedListener is what the server accepts from. It keeps accepting
// after errors that pass: fasthttp takes any error but a timeout for the
// end of its listener, and out of descriptors (EMFILE) the process exited
// (docs/reliability.md, "Security", finding 5). It also caps the
// connections per address.
type guardedListener struct {
	net.Listener
	log     *slog.Logger
	perAddr int
	trusted []netip.Prefix

	open     addrCount
	mu       sync.Mutex // guards the rate logs
	failures rateLog
	refusals rateLog

	closeOnce sync.Once
	closed    chan struct{}
}

func (s *Server) guardListener(ln net.Listener) *guardedListener {
	l := &guardedListener{Listener: ln, log: s.log, perAddr: s.conns.PerAddr, closed: make(chan struct{})}
	for _, p := range s.cfg.TrustedProxies {
		if pre, err := netip.ParsePrefix(p); err == nil {
			l.trusted = append(l.trusted, pre.Masked())
		} else if a, err := netip.ParseAddr(p); err == nil {
			l.trusted = append(l.trusted, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return l
}

// acceptRetryMax is the longest pause between two accepts that failed.
const acceptRetryMax = time.Second

// logEvery bounds how often the listener logs the same trouble.
const logEvery = 10 * time.Second

func (l *guardedListener) Accept() (net.Conn, error) {
	var pause time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !passing(err) {
				return nil, err
			}
			pause = min(max(2*pause, 5*time.Millisecond), acceptRetryMax)
			if n, ok := l.note(&l.failures); ok {
				l.log.Error("accepting connections failed; retrying", slog.Any("err", err),
					slog.Int("failures", n), slog.Duration("within", logEvery))
			}
			select {
			case <-time.After(pause):
			case <-l.closed:
				return nil, net.ErrClosed
			}
			continue
		}
		pause = 0
		ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
		if err != nil || l.isTrusted(ap.Addr()) {
			return c, nil
		}
		key := addrKey(ap.Addr())
		if addrFull, _ := l.open.take(key, l.perAddr, 0); addrFull {
			refuse(c, "too many connections from your address; retry shortly")
			if n, ok := l.note(&l.refusals); ok {
				l.log.Warn("connections refused: too many from one address", slog.String("addr", key.String()),
					slog.Int("cap", l.perAddr), slog.Int("refused", n), slog.Duration("within", logEvery))
			}
			continue
		}
		return &guardedConn{Conn: c, l: l, key: key}, nil
	}
}

func (l *guardedListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

func (l *guardedListener) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range l.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// addrCount counts what each address holds (connections, streams), and
// all of them together.
type addrCount struct {
	mu    sync.Mutex
	by    map[netip.Prefix]int
	total int
}

// full says whether key holds perAddr already, or all addresses all
// (0: no cap on all).
func (a *addrCount) full(key netip.Prefix, perAddr, all int) (addrFull, allFull bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fullLocked(key, perAddr, all)
}

func (a *addrCount) fullLocked(key netip.Prefix, perAddr, all int) (addrFull, allFull bool) {
	return a.by[key] >= perAddr, all > 0 && a.total >= all
}

// take counts one more for key unless a cap is reached, and says which
// (as full).
func (a *addrCount) take(key netip.Prefix, perAddr, all int) (addrFull, allFull bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if addrFull, allFull = a.fullLocked(key, perAddr, all); addrFull || allFull {
		return addrFull, allFull
	}
	if a.by == nil {
		a.by = map[netip.Prefix]int{}
	}
	a.by[key]++
	a.total++
	return false, false
}

// drop gives back what take counted.
func (a *addrCount) drop(key netip.Prefix) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.by[key]--; a.by[key] <= 0 {
		delete(a.by, key)
	}
	a.total--
}

// held is how many are held in all.
func (a *addrCount) held() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total
}

// note counts one more of r's trouble and says whether to log it now,
// with how many there were since the last line.
func (l *guardedListener) note(r *rateLog) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return r.hit(time.Now(), logEvery)
}

// rateLog lets one line through per period, counting those held back.
type rateLog struct {
	last time.Time
	n    int
}

func (r *rateLog) hit(now time.Time, every time.Duration) (int, bool) {
	r.n++
	if !r.last.IsZero() && now.Sub(r.last) < every {
		return 0, false
	}
	n := r.n
	r.last, r.n = now, 0
	return n, true
}

// passing reports whether an accept error passes (the listener is still
// good): out of descriptors or memory for the moment, or a connection that
// failed before it was taken.
func passing(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EPROTO, syscall.EPERM, syscall.EINTR, syscall.EAGAIN} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// refuse answers a connection over its address's cap with 429, in the
// error contract, and closes it. The write fits the new socket's buffer.
func refuse(c net.Conn, message string) {
	c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	c.Write(rawRefusal(429, "Too Many Requests", "too_many", message))
	c.Close()
}

// rawRefusal is a whole HTTP/1.1 answer in the error contract, for a
// connection no handler will see (the listener's refusals, a stream's).
func rawRefusal(status int, text, code, message string) []byte {
	body := fmt.Sprintf(`{"error":{"code":%q,"message":%q}}`, code, message)
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %d\r\n", status, text, len(body))
	// The security headers of every answer (headers.go), but HSTS: these
	// answers come before, or apart from, the server's configuration.
	fmt.Fprintf(&b, "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nReferrer-Policy: same-origin\r\nContent-Security-Policy: %s\r\n", apiCSP)
	fmt.Fprintf(&b, "X-Request-ID: %s\r\nRetry-After: 2\r\nConnection: close\r\n\r\n%s", newRequestID(), body)
	return []byte(b.String())
}

// guardedConn gives its address's place back when closed.
type guardedConn struct {
	net.Conn
	l    *guardedListener
	key  netip.Prefix
	once sync.Once
}

func (c *guardedConn) Close() error {
	c.once.Do(func() { c.l.open.drop(c.key) })
	return c.Conn.Close()
}

// SetWriteBuffer reaches the socket: a stream bounds its send buffer
// (api/stream.go).
func (c *guardedConn) SetWriteBuffer(n int) error {
	if w, ok := c.Conn.(interface{ SetWriteBuffer(int) error }); ok {
		return w.SetWriteBuffer(n)
	}
	return nil
}
