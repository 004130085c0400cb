package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Heartbeat is how often an idle stream sends a comment, so that proxies
// keep it open and a vanished client is noticed (a closed connection is
// only seen when a write fails).
var Heartbeat = 15 * time.Second

// streamWriteTimeout drops a viewer that has not taken an event (or a
// ping) for this long: a stalled reader holds no more than its socket
// buffer, and never the publisher, which only offers. Its browser
// reconnects by itself and gets the current result at once.
const streamWriteTimeout = 15 * time.Second

// streamSendBuffer bounds the kernel's send buffer of a stream (SO_SNDBUF;
// Linux doubles it). Left to autotuning it grew to about 1 MiB for each
// viewer that stopped reading (up to tcp_wmem's 4 MiB): kernel memory the
// write deadline only starts counting against once it is full. Several
// tally events fit; a viewer that reads at all keeps up.
const streamSendBuffer = 64 << 10

// stream serves GET /contests/{id}/stream (SSE): the current result at
// once (also to a reconnect with Last-Event-ID), then a `tally` event with
// the newest result whenever it changes, at most four a second, with the
// version as the event id; a `state` event when the round opens, closes or
// is certified; a `paper` event ({"collected": N or null}) when the
// committee's paper count of ballots collected changes (the screen shows
// it beside the entered count).
//
// The handler checks the contest (errors are ordinary JSON responses) and
// then hijacks the connection: the stream is written by one goroutine
// straight to the socket, one write per event, each event one HTTP chunk
// that every viewer shares (Snapshot.chunk). fasthttp's body stream writer
// would cost a second goroutine, an in-memory pipe and a write per 4 KiB
// of each event for every viewer; with 10,000 viewers that halved the
// memory and, with the broker's paced fan-out, kept ballot intake from
// queueing behind every publication (docs/benchmarks.md).
func (s *Server) stream(c *fiber.Ctx) error {
	id := c.Params("id")
	ctx, cancel := storeCtx()
	_, err := s.broker.Snapshot(ctx, id)
	cancel()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderConnection, "keep-alive")
	c.Set("X-Accel-Buffering", "no")
	if c.Method() == fiber.MethodHead {
		return nil // the head only: no stream
	}
	// The caps are checked here, for an answer in the contract, and again
	// when the stream starts (streams.take), which is what holds them.
	key := ipKey(c.IP())
	if err := s.streamRoom(key); err != nil {
		c.Set(fiber.HeaderRetryAfter, "2")
		return err
	}
	c.Response().Header.SetContentLength(-1) // Transfer-Encoding: chunked
	// The head as fasthttp would write it, with every header set so far
	// (X-Request-ID): the hijack handler runs after c is released.
	head := append([]byte(nil), c.Response().Header.Header()...)
	c.Context().HijackSetNoResponse(true)
	c.Context().Hijack(func(conn net.Conn) { s.serveStream(conn, id, head, key) })
	return nil
}

// serveStream writes a stream on a hijacked connection until the viewer
// goes or the broker closes. It subscribes here, not in the handler, so
// that a hijack fasthttp gives up on (the connection failed first) leaves
// no subscription behind, and no place of the caps taken.
func (s *Server) serveStream(conn net.Conn, id string, head []byte, key netip.Prefix) {
	// Before Subscribe: Shutdown waits for what it sees here.
	if err := s.streamsFull(s.streams.take(key, s.conns.StreamsPerAddr, s.conns.Streams)); err != nil {
		writeStreamRefusal(conn, http.StatusTooManyRequests, err.Error())
		return
	}
	defer s.streams.drop(key)
	sub, err := s.broker.Subscribe(id)
	if err != nil {
		writeStreamRefusal(conn, http.StatusServiceUnavailable, streamUnavailable)
		return
	}
	defer s.broker.Unsubscribe(sub)
	ctx, cancel := storeCtx()
	snap, err := s.broker.Snapshot(ctx, id)
	cancel()
	if err != nil {
		writeStreamRefusal(conn, http.StatusServiceUnavailable, streamUnavailable)
		return
	}
	raw := conn
	if u, ok := conn.(interface{ UnsafeConn() net.Conn }); ok { // fasthttp's hijackConn
		raw = u.UnsafeConn()
	}
	if tc, ok := raw.(interface{ NetConn() net.Conn }); ok { // *tls.Conn: the socket is below it
		raw = tc.NetConn()
	}
	if tc, ok := raw.(interface{ SetWriteBuffer(int) error }); ok {
		tc.SetWriteBuffer(streamSendBuffer)
	}
	write := func(b []byte) bool {
		conn.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		_, err := conn.Write(b)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.log.Warn("stream dropped: the viewer took nothing for "+streamWriteTimeout.String(),
				slog.String("contest", id), slog.String("remote", conn.RemoteAddr().String()))
		}
		return err == nil
	}
	buf := appendChunk(head, []byte("retry: 2000\n\n"))
	seen := seenState{ver: -1}
	buf = seen.append(buf, snap)
	if !write(buf) {
		return
	}
	beat := time.NewTicker(Heartbeat)
	defer beat.Stop()
	for {
		select {
		case next, ok := <-sub.C:
			if !ok {
				write(append(appendChunk(nil, []byte("event: bye\ndata: {}\n\n")), "0\r\n\r\n"...))
				return
			}
			var out []byte
			if next.State == seen.state && next.Version != seen.ver && next.paper == seen.paper {
				out = next.chunk // the common case: shared, not copied
				seen.ver = next.Version
			} else {
				out = seen.append(nil, next)
			}
			if len(out) > 0 && !write(out) {
				return // the viewer has gone
			}
		case <-beat.C:
			if !write(pingChunk) {
				return
			}
		}
	}
}

var pingChunk = appendChunk(nil, []byte(": ping\n\n"))

// seenState is what a viewer has been sent of a round.
type seenState struct {
	ver   int64
	state tally.State
	paper string // Snapshot.paper
}

// append appends the events a viewer has not seen yet, each as a chunk,
// and notes them seen.
func (v *seenState) append(dst []byte, snap *Snapshot) []byte {
	if snap.State != v.state {
		dst = appendChunk(dst, fmt.Appendf(nil, "event: state\ndata: {\"state\":%q}\n\n", snap.State))
	}
	if snap.paper != v.paper {
		dst = appendChunk(dst, fmt.Appendf(nil, "event: paper\ndata: %s\n\n", snap.paper))
	}
	if snap.Version != v.ver {
		dst = append(dst, snap.chunk...)
	}
	v.ver, v.state, v.paper = snap.Version, snap.State, snap.paper
	return dst
}

// tallyChunk is a snapshot's tally event as one HTTP/1.1 chunk.
func tallyChunk(version int64, result []byte) []byte {
	return appendChunk(nil, fmt.Appendf(nil, "id: %d\nevent: tally\ndata: %s\n\n", version, result))
}

func appendChunk(dst, data []byte) []byte {
	dst = strconv.AppendInt(dst, int64(len(data)), 16)
	dst = append(dst, "\r\n"...)
	dst = append(dst, data...)
	return append(dst, "\r\n"...)
}

const streamUnavailable = "the live results are not available now; retry shortly"

// writeStreamRefusal answers a stream that could not start: 503 when the
// server is shutting down or the store failed, 429 over a cap.
func writeStreamRefusal(conn net.Conn, status int, message string) {
	code := tally.Unavailable
	if status == http.StatusTooManyRequests {
		code = tally.TooMany
	}
	conn.SetWriteDeadline(time.Now().Add(time.Second))
	conn.Write(rawRefusal(status, http.StatusText(status), string(code), message))
}

// streamRoom says whether a stream of key would be over a cap
// (ConnLimits): its address's, or all streams'.
func (s *Server) streamRoom(key netip.Prefix) error {
	return s.streamsFull(s.streams.full(key, s.conns.StreamsPerAddr, s.conns.Streams))
}

func (s *Server) streamsFull(addrFull, allFull bool) error {
	switch {
	case addrFull:
		return errorf(tally.TooMany, "", "%d live-result streams are open from your address, the most one address may hold; the screen shows the result without one", s.conns.StreamsPerAddr)
	case allFull:
		return errorf(tally.TooMany, "", "the server holds %d live-result streams, the most it takes; the screen shows the result without one", s.conns.Streams)
	}
	return nil
}
