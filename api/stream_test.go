package api_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/tally"
)

// sseEvent is one event of a stream, or one comment (": ping").
type sseEvent struct {
	id, name, data string
	comment        string
	at             time.Time // when the client read it
}

// sseClient reads a stream over a raw TCP connection, so that closing it
// is a real hang-up.
type sseClient struct {
	t      *testing.T
	conn   net.Conn
	resp   *http.Response
	events chan sseEvent // closed at EOF or on a read error

	mu      sync.Mutex
	history []sseEvent // every event and comment read
}

// openStream connects to a contest's stream and checks the response head.
func openStream(t *testing.T, base, contest string, headers ...string) *sseClient {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var req strings.Builder
	fmt.Fprintf(&req, "GET /api/v1/contests/%s/stream HTTP/1.1\r\nHost: kp\r\nAccept: text/event-stream\r\n", contest)
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&req, "%s: %s\r\n", headers[i], headers[i+1])
	}
	req.WriteString("\r\n")
	if _, err := conn.Write([]byte(req.String())); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Time{})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream status %d", resp.StatusCode)
	}
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache"} {
		if got := resp.Header.Get(k); !strings.HasPrefix(got, want) {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	c := &sseClient{t: t, conn: conn, resp: resp, events: make(chan sseEvent, 4096)}
	go c.read()
	return c
}

func (c *sseClient) read() {
	defer close(c.events)
	emit := func(ev sseEvent) {
		ev.at = time.Now()
		c.mu.Lock()
		c.history = append(c.history, ev)
		c.mu.Unlock()
		c.events <- ev
	}
	sc := bufio.NewScanner(c.resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var ev sseEvent
	pending := false
	for sc.Scan() {
		line := sc.Text()
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch {
		case line == "":
			if pending {
				emit(ev)
			}
			ev, pending = sseEvent{}, false
		case field == "":
			emit(sseEvent{comment: value})
		case field == "id":
			ev.id, pending = value, true
		case field == "event":
			ev.name, pending = value, true
		case field == "data":
			ev.data, pending = ev.data+value, true
		}
	}
}

// next returns the next event that match accepts, skipping the others; it
// fails the test after timeout or at the end of the stream.
func (c *sseClient) next(timeout time.Duration, what string, match func(sseEvent) bool) sseEvent {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.t.Fatalf("the stream ended while waiting for %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-deadline:
			c.t.Fatalf("no %s within %v", what, timeout)
		}
	}
}

// tallies counts the tally events read between from and to.
func (c *sseClient) tallies(from, to time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ev := range c.history {
		if ev.name == "tally" && !ev.at.Before(from) && !ev.at.After(to) {
			n++
		}
	}
	return n
}

func isEvent(name string) func(sseEvent) bool {
	return func(ev sseEvent) bool { return ev.name == name }
}

func tallyAt(version int64) func(sseEvent) bool {
	id := strconv.FormatInt(version, 10)
	return func(ev sseEvent) bool { return ev.name == "tally" && ev.id == id }
}

// checkTally checks that a tally event's id is its result's version.
func checkTally(t *testing.T, ev sseEvent) int64 {
	t.Helper()
	var res tally.Result
	if err := json.Unmarshal([]byte(ev.data), &res); err != nil {
		t.Fatalf("tally data %q: %v", ev.data, err)
	}
	if res.Version == nil {
		t.Fatalf("tally without version: %s", ev.data)
	}
	if got, want := ev.id, strconv.FormatInt(*res.Version, 10); got != want {
		t.Errorf("tally id = %s, want the version %s", got, want)
	}
	return *res.Version
}

// setHeartbeat makes streams ping every d until the test ends. Call it
// before listen, so that it is restored after the server has shut down.
func setHeartbeat(t *testing.T, d time.Duration) {
	old := api.Heartbeat
	api.Heartbeat = d
	t.Cleanup(func() { api.Heartbeat = old })
}

// postConcurrently posts ballots from `desks` goroutines, each pausing
// `pause` between its posts, and returns when the last answer came.
func (h *harness) postConcurrently(contest string, ballots []tally.Ballot, desks int, pause time.Duration) time.Time {
	h.t.Helper()
	var wg sync.WaitGroup
	errs := make(chan string, len(ballots))
	for d := range desks {
		wg.Go(func() {
			for i := d; i < len(ballots); i += desks {
				req := newRequest(h.t, "POST", "http://kp/api/v1/contests/"+contest+"/ballots", ballots[i], asAdmin)
				resp, err := h.srv.App().Test(req, -1)
				if err != nil {
					errs <- err.Error()
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					errs <- fmt.Sprintf("ballot %s: status %d", ballots[i].ID, resp.StatusCode)
				}
				time.Sleep(pause)
			}
		})
	}
	wg.Wait()
	done := time.Now()
	close(errs)
	for e := range errs {
		h.t.Error(e)
	}
	return done
}

// manyBallots returns n valid strike ballots with ids prefix-1…n.
func manyBallots(prefix string, n int) []tally.Ballot {
	cands := []string{"c1", "c2", "c3", "c4"}
	out := make([]tally.Ballot, n)
	for i := range out {
		out[i] = tally.Ballot{ID: fmt.Sprintf("%s-%d", prefix, i+1), Struck: []string{cands[i%4]}}
	}
	return out
}

func TestStream(t *testing.T) {
	setHeartbeat(t, 100*time.Millisecond)
	h := newHarness(t)
	base := h.listen()
	viewer := "Bearer " + h.issueToken("viewer", "Màn hình")
	h.openContest(contestDef("sse"))
	h.castStrike("sse", manyBallots("pre", 3)...)

	t.Run("first events", func(t *testing.T) {
		h := h.in(t)
		c := openStream(t, base, "sse", "Authorization", viewer)
		ev := c.next(time.Second, "state event", func(ev sseEvent) bool { return ev.name != "" })
		if got, want := ev.name+" "+ev.data, `state {"state":"open"}`; got != want {
			t.Errorf("first event = %q, want %q", got, want)
		}
		ev = c.next(time.Second, "paper event", func(ev sseEvent) bool { return ev.name != "" })
		if got, want := ev.name+" "+ev.data, `paper {"collected":null}`; got != want {
			t.Errorf("second event = %q, want %q (not counted yet)", got, want)
		}
		ev = c.next(time.Second, "tally event", func(ev sseEvent) bool { return ev.name != "" })
		if got, want := ev.name, "tally"; got != want {
			t.Fatalf("third event = %q, want %q", got, want)
		}
		if got, want := checkTally(t, ev), int64(3); got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
		r := h.do("GET", "/api/v1/contests/sse/result", nil, asAdmin)
		if got, want := ev.data, string(r.body); got != want {
			t.Errorf("tally data:\n got %s\nwant the result %s", got, want)
		}
	})

	// The committee's paper count reaches open streams when it is saved,
	// alone (no tally event: the result has not changed), and again only
	// when it changes.
	t.Run("paper count", func(t *testing.T) {
		h := h.in(t)
		c := openStream(t, base, "sse", "Authorization", viewer)
		c.next(time.Second, "the first tally", func(ev sseEvent) bool { return ev.name == "tally" })
		for _, n := range []int{32, 35} {
			mustStatus(t, h.do("PUT", "/api/v1/contests/sse/notes", map[string]any{"collected": n}, asAdmin), http.StatusOK)
			ev := c.next(2*time.Second, "paper event", func(ev sseEvent) bool { return ev.name != "" })
			if got, want := ev.name+" "+ev.data, fmt.Sprintf(`paper {"collected":%d}`, n); got != want {
				t.Errorf("after saving %d: event %q, want %q", n, got, want)
			}
		}
		mustStatus(t, h.do("PUT", "/api/v1/contests/sse/notes", map[string]any{"collected": 35, "complaints": "Không có khiếu nại"}, asAdmin), http.StatusOK)
		h.castStrike("sse", manyBallots("paper", 1)...)
		if ev := c.next(2*time.Second, "the next event", func(ev sseEvent) bool { return ev.name != "" }); ev.name != "tally" {
			t.Errorf("after notes with the same count and a ballot: event %q %s, want the tally alone", ev.name, ev.data)
		}
	})

	t.Run("concurrent desks reach the screen within a second", func(t *testing.T) {
		h := h.in(t)
		c := openStream(t, base, "sse", "Authorization", viewer)
		c.next(time.Second, "first tally", isEvent("tally"))
		last := h.postConcurrently("sse", manyBallots("conc", 60), 4, 0)
		final := h.logLen("sse")
		ev := c.next(2*time.Second, fmt.Sprintf("tally at version %d", final), tallyAt(final))
		checkTally(t, ev)
		if lag := ev.at.Sub(last); lag > time.Second {
			t.Errorf("the final tally came %v after the last post, want ≤ 1s", lag)
		}
		var res tally.Result
		json.Unmarshal([]byte(ev.data), &res)
		if got, want := res.Ballots.Total, int(final); got != want {
			t.Errorf("total = %d, want %d", got, want)
		}
	})

	t.Run("at most four tallies a second", func(t *testing.T) {
		h := h.in(t)
		c := openStream(t, base, "sse", "Authorization", viewer)
		c.next(time.Second, "first tally", isEvent("tally"))
		// 200 ballots from 4 desks over about 1.5 s: unthrottled, that
		// would be up to 200 events.
		start := time.Now()
		last := h.postConcurrently("sse", manyBallots("burst", 200), 4, 30*time.Millisecond)
		final := h.logLen("sse")
		c.next(2*time.Second, fmt.Sprintf("tally at version %d", final), tallyAt(final))
		end := time.Now()
		n := c.tallies(start, end)
		burst := end.Sub(start)
		allowed := int(burst/(250*time.Millisecond)) + 2 // one at each end, and timing slack
		t.Logf("%d tally events over %v (burst of 200 posts took %v)", n, burst.Round(time.Millisecond), last.Sub(start).Round(time.Millisecond))
		if n > allowed {
			t.Errorf("%d tally events in %v, want at most %d (4 a second)", n, burst, allowed)
		}
		if n < 3 {
			t.Errorf("only %d tally events during a %v burst: the screen did not follow", n, burst)
		}
	})

	t.Run("reconnect with Last-Event-ID", func(t *testing.T) {
		h := h.in(t)
		current := h.logLen("sse")
		for _, lastID := range []string{"1", strconv.FormatInt(current, 10)} {
			start := time.Now()
			c := openStream(t, base, "sse", "Authorization", viewer, "Last-Event-ID", lastID)
			c.next(time.Second, "state event", isEvent("state"))
			ev := c.next(time.Second, "tally event", isEvent("tally"))
			if got, want := checkTally(t, ev), current; got != want {
				t.Errorf("Last-Event-ID %s: version = %d, want the current %d", lastID, got, want)
			}
			if wait := ev.at.Sub(start); wait > 500*time.Millisecond {
				t.Errorf("Last-Event-ID %s: the current result came after %v, want at once", lastID, wait)
			}
			c.conn.Close()
		}
	})

	t.Run("heartbeat", func(t *testing.T) {
		c := openStream(t, base, "sse", "Authorization", viewer)
		c.next(time.Second, "tally event", isEvent("tally"))
		for range 2 {
			ev := c.next(time.Second, "ping comment", func(ev sseEvent) bool { return ev.comment != "" })
			if got, want := ev.comment, "ping"; got != want {
				t.Errorf("comment = %q, want %q", got, want)
			}
		}
	})

	t.Run("state changes are streamed", func(t *testing.T) {
		h := h.in(t)
		h.openContest(contestDef("sse-state"))
		c := openStream(t, base, "sse-state", "Authorization", viewer)
		c.next(time.Second, "tally event", isEvent("tally"))
		h.castStrike("sse-state", strikes("s", 6, "c4")...)
		c.next(2*time.Second, "tally at version 6", tallyAt(6))
		h.transition("sse-state", "close", map[string]int{"issued": 6})
		ev := c.next(2*time.Second, "state event", isEvent("state"))
		if got, want := ev.data, `{"state":"closed"}`; got != want {
			t.Errorf("state = %s, want %s", got, want)
		}
		h.transition("sse-state", "certify", nil)
		ev = c.next(2*time.Second, "state event", isEvent("state"))
		if got, want := ev.data, `{"state":"certified"}`; got != want {
			t.Errorf("state = %s, want %s", got, want)
		}
	})

	t.Run("a viewer who hangs up is unsubscribed", func(t *testing.T) {
		broker := h.srv.Broker()
		waitFor := func(want int, within time.Duration) time.Duration {
			t.Helper()
			start := time.Now()
			for broker.Subscribers("sse") != want {
				if time.Since(start) > within {
					t.Fatalf("subscribers = %d after %v, want %d", broker.Subscribers("sse"), within, want)
				}
				time.Sleep(10 * time.Millisecond)
			}
			return time.Since(start)
		}
		// Earlier subtests hung up too: wait for them to be reaped.
		waitFor(0, 2*time.Second)
		c := openStream(t, base, "sse", "Authorization", viewer)
		c.next(time.Second, "tally event", isEvent("tally"))
		waitFor(1, time.Second)
		c.conn.Close()
		took := waitFor(0, 10*api.Heartbeat)
		t.Logf("unsubscribed %v after the hang-up (heartbeat %v)", took.Round(time.Millisecond), api.Heartbeat)
	})

	t.Run("unknown contest", func(t *testing.T) {
		h := h.in(t)
		req := newRequest(t, "GET", base+"/api/v1/contests/nope/stream", nil, withHeader("Authorization", viewer))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		mustError(t, &response{status: resp.StatusCode, header: resp.Header, body: body}, http.StatusNotFound, "")
		if n := h.srv.Broker().Subscribers("nope"); n != 0 {
			t.Errorf("subscribers of an unknown contest = %d", n)
		}
	})
}

func TestStreamShutdown(t *testing.T) {
	setHeartbeat(t, time.Hour) // nothing but the shutdown may end the stream
	h := newHarness(t)
	base := h.listen()
	h.openContest(with(contestDef("bye"), "visibility", "live"))
	c := openStream(t, base, "bye") // anonymous: the contest is live
	c.next(time.Second, "tally event", isEvent("tally"))

	start := time.Now()
	if err := h.shutdown(5 * time.Second); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Shutdown took %v with a stream open, want < 2s", took)
	}
	deadline := time.After(2 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok || ev.name == "bye" {
				return // EOF or bye: the client knows
			}
			continue
		case <-deadline:
			t.Fatalf("the client saw neither bye nor EOF within 2s of shutdown")
		}
	}
}

// A stream asked for a contest that does not exist is refused (404), and
// leaves nothing behind: no retry loop reading the store and logging an
// error every second for as long as the server runs.
func TestStreamUnknownContestLeavesNothing(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	h := newHarnessWith(t, api.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	base := h.listen()
	req := newRequest(t, "GET", base+"/api/v1/contests/nope/stream", nil, asAdmin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mustStatus(t, &response{status: resp.StatusCode}, http.StatusNotFound)

	time.Sleep(1500 * time.Millisecond) // a retry loop would have run again at 1 s
	if n := strings.Count(logs.String(), "result refresh failed"); n > 1 {
		t.Errorf("the broker kept refreshing an unknown contest: %d failures logged in 1.5 s:\n%s", n, logs.String())
	}
}
