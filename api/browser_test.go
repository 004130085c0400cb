package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Browser tests: the desk and the screen driven in Debian's Chromium
// through chromedp v0.23 (the generic action API).

// deskState is what the desk keeps in localStorage.
type deskState struct {
	Prefix  string         `json:"prefix"`
	Counter int            `json:"counter"`
	Queue   []tally.Ballot `json:"queue"`
	History []struct {
		ID     string `json:"id"`
		Keyed  string `json:"keyed"`
		Reason string `json:"reason"`
		Status string `json:"status"`
		Seq    *int64 `json:"seq"`
	} `json:"history"`
}

func readDesk(t *testing.T, ctx context.Context, contest string) deskState {
	t.Helper()
	raw := eval[string](t, ctx, fmt.Sprintf(`localStorage.getItem(%q) || "{}"`, "kp.desk."+contest))
	var st deskState
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		t.Fatalf("desk state %s: %v", raw, err)
	}
	return st
}

// typeBallot types into the desk's field and returns the preview's verdict
// before Enter: "error", or "valid", or the reason code.
func typeBallot(t *testing.T, ctx context.Context, text string) string {
	t.Helper()
	do(t, ctx, "clearing the field", chromedp.Evaluate[chromedp.Void](
		`(() => { const i = document.getElementById("ballot-input"); i.value = ""; i.dispatchEvent(new Event("input")); i.focus(); })()`))
	do(t, ctx, "typing "+text, chromedp.SendKeys(chromedp.CSS("#ballot-input"), text))
	got := eval[string](t, ctx, `(() => { const p = document.getElementById("preview").dataset; return p.state === "invalid" ? p.reason : p.state; })()`)
	return got
}

func pressEnter(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, "pressing Enter", chromedp.SendKeys(chromedp.CSS("#ballot-input"), kb.Enter))
}

// strikeDef is the browser tests' contest: 6 names for 3 delegate seats
// (delegates have no surplus limit), so an over-vote is easy to key.
func strikeDef(id string) map[string]any {
	return map[string]any{
		"id": id, "title": "Bầu đoàn đại biểu dự Đại hội cấp trên", "kind": "delegates", "seats": 3, "ballot": "strike",
		"electorate": map[string]any{"congress": "delegates", "convened": 25},
		"candidates": []any{
			map[string]any{"id": "c1", "name": "Nguyễn Văn An"},
			map[string]any{"id": "c2", "name": "Trần Thị Bình"},
			map[string]any{"id": "c3", "name": "Lê Văn Cường"},
			map[string]any{"id": "c4", "name": "Phạm Thị Dung"},
			map[string]any{"id": "c5", "name": "Hoàng Văn Em"},
			map[string]any{"id": "c6", "name": "Vũ Thị Giang"},
		},
	}
}

// tallyReason classifies a ballot with package tally alone: "valid" or the
// reason code, as the desk's preview says it.
func tallyReason(t *testing.T, c *tally.Contest, b tally.Ballot) string {
	t.Helper()
	m, err := c.Mark(b, c.Index())
	if err != nil {
		t.Fatalf("ballot %+v: %v", b, err)
	}
	if r := c.Classify(m); r != tally.Valid {
		return r.String()
	}
	return "valid"
}

// struckOf turns what a counter types ("1 3") into the ballot's ids.
func struckOf(c *tally.Contest, typed string) []string {
	out := []string{}
	if typed == "0" {
		return out
	}
	for _, f := range strings.Fields(typed) {
		i, _ := strconv.Atoi(f)
		out = append(out, c.Candidates[i-1].ID)
	}
	return out
}

func parseDef(t *testing.T, def map[string]any) *tally.Contest {
	t.Helper()
	data, _ := json.Marshal(def)
	c, err := tally.ParseContest(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBrowserDeskAndScreen keys 20 ballots at the desk, with an over-vote,
// a no-vote, an on-sight ruling, refused input and a correction, while a
// second tab shows the screen; the screen must agree with package tally
// and with GET /result within a second of the last ballot.
func TestBrowserDeskAndScreen(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	base := h.listen()
	browser := newBrowser(t) // after listen: closed first, so the server's shutdown finds no open connections
	const id = "dbk-2025"
	def := strikeDef(id)
	h.openContest(def)
	mustStatus(t, h.do("PUT", "/api/v1/contests/"+id+"/notes", map[string]any{"collected": 20}, asAdmin), http.StatusOK)
	token := h.issueToken("counter", "Bàn 1")
	contest := parseDef(t, def)

	desk := browser
	signIn(t, desk, base, token, "/contests/"+id+"/desk")
	if focused := eval[string](t, desk, `document.activeElement && document.activeElement.id`); focused != "ballot-input" {
		t.Errorf("focused on load: %q, want the ballot field", focused)
	}

	screen := newTab(t, browser)
	do(t, screen, "opening the screen", chromedp.Navigate(base+"/contests/"+id+"/screen"))
	waitFor(t, screen, "the screen's first result", `document.body.dataset.version === "0"`, 10*time.Second)

	// Refused input: shown, and Enter records nothing.
	for _, bad := range []string{"7", "2 2", "1 x"} {
		if got := typeBallot(t, desk, bad); got != "error" {
			t.Errorf("typing %q: preview %q, want an error", bad, got)
		}
		pressEnter(t, desk)
		if st := readDesk(t, desk, id); len(st.History) != 0 {
			t.Fatalf("Enter on %q recorded a ballot: %+v", bad, st.History)
		}
	}

	// 19 typed ballots and one ruled on sight (Alt+2, write_in).
	typed := []string{
		"4 5 6", "4 5 6", "3 5 6", "3 5 6", "1 2", // the 5th, an over-vote (4 kept), is voided and re-keyed below
		"0", "1 2 3 4 5 6", "2 4 5", "1 2 3 4 5", "3 4 5",
		"3 4 5", "4 5 6", "2 5 6", "3 4 6", "4 5 6",
		"1 5 6", "4 5 6", "3 4 6", "2 4 6",
	}
	var ballots []tally.Ballot
	for i, text := range typed {
		b := tally.Ballot{ID: fmt.Sprintf("k%d", i+1), Struck: struckOf(contest, text)}
		want := tallyReason(t, contest, b)
		if got := typeBallot(t, desk, text); got != want {
			t.Errorf("ballot %d %q: the desk previews %q, package tally says %q", i+1, text, got, want)
		}
		pressEnter(t, desk)
		ballots = append(ballots, b)
	}
	do(t, desk, "Alt+2 (write-in)", chromedp.KeyEvent("2", chromedp.KeyModifiers(chromedp.ModifierAlt)))
	ballots = append(ballots, tally.Ballot{ID: "k20", Invalid: tally.ReasonWriteIn})
	waitFor(t, desk, "20 ballots sent", `(() => { const s = JSON.parse(localStorage.getItem("kp.desk.`+id+`"));
		return s.queue.length === 0 && s.history.length === 20 && s.history.every(h => h.status === "sent"); })()`, 30*time.Second)

	// Correction: void the 5th ballot (keyed "1 2" for a ballot that read
	// "4 5 6") and key it again.
	st := readDesk(t, desk, id)
	fifth := st.History[4].ID
	do(t, desk, "voiding "+fifth,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#history tr[data-id=%q] button.void`, fifth))),
		chromedp.WaitVisible(chromedp.CSS("#void-reason")),
		chromedp.SendKeys(chromedp.CSS("#void-reason"), "Nhập nhầm: phiếu gạch tên 1, 2, 3"+kb.Enter),
	)
	waitFor(t, desk, "the void", fmt.Sprintf(`document.querySelector('#history tr[data-id=%q]').dataset.status === "voided"`, fifth), 10*time.Second)
	voided := map[string]bool{"k5": true}
	rekey := tally.Ballot{ID: "k21", Struck: struckOf(contest, "4 5 6")}
	if got := typeBallot(t, desk, "4 5 6"); got != "valid" {
		t.Errorf("re-keyed ballot previews %q", got)
	}
	ballots = append(ballots, rekey)

	// What the screen must show: tally alone, then the server must agree.
	want := expectedResult(t, def, ballots, voided)
	var exp tally.Result
	if err := json.Unmarshal(want, &exp); err != nil {
		t.Fatal(err)
	}
	if exp.Ballots.Total != 20 || len(exp.Elected) == 0 || exp.Vacant == 0 {
		t.Fatalf("the plan counts %d ballots, elects %v and leaves %d vacant: want 20 ballots, someone elected and a vacant seat, or the badge checks prove nothing",
			exp.Ballots.Total, exp.Elected, exp.Vacant)
	}
	var cond strings.Builder
	fmt.Fprintf(&cond, `document.getElementById("ballots-total").textContent === "%d" && document.getElementById("ballots-valid").textContent === "%d" && document.getElementById("ballots-invalid").textContent === "%d"`,
		exp.Ballots.Total, exp.Ballots.Valid, exp.Ballots.Invalid)
	for _, c := range exp.Candidates {
		fmt.Fprintf(&cond, ` && document.querySelector('li.bar[data-id=%q] .figure').textContent.startsWith("%d phiếu · %s")`, c.ID, c.Votes, c.Text)
	}
	start := time.Now()
	pressEnter(t, desk) // the last ballot
	waitFor(t, screen, "the screen to show the final totals", cond.String(), 5*time.Second)
	elapsed := time.Since(start)
	t.Logf("Enter → screen updated: %v", elapsed)
	if elapsed > time.Second {
		t.Errorf("the screen took %v after the last Enter, want ≤ 1s", elapsed)
	}

	// The server's result is the same as package tally's.
	r := h.do("GET", "/api/v1/contests/"+id+"/result", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	if got, wantM := withoutVersion(t, r.body), withoutVersion(t, want); !jsonEqual(got, wantM) {
		t.Errorf("GET /result = %s\nwant (tally) %s", r.body, want)
	}

	// The desk: every receipt agreed with the preview (no loud alert), and
	// its own count matches.
	waitFor(t, desk, "the last ballot sent", `document.getElementById("net").dataset.queued === "0"`, 10*time.Second)
	if n := eval[int](t, desk, `document.querySelectorAll("#alerts .alert").length`); n != 0 {
		t.Errorf("the desk shows %d loud alerts: %s", n, eval[string](t, desk, `document.getElementById("alerts").textContent`))
	}
	for k, want := range map[string]int{"total": exp.Ballots.Total, "valid": exp.Ballots.Valid, "invalid": exp.Ballots.Invalid, "queued": 0} {
		if got := eval[string](t, desk, `document.getElementById("count-`+k+`").textContent`); got != strconv.Itoa(want) {
			t.Errorf("desk count %s = %s, want %d", k, got, want)
		}
	}
	st = readDesk(t, desk, id)
	for i, hst := range st.History {
		b := ballots[i]
		wantR := tallyReason(t, contest, b)
		if wantR == "valid" {
			wantR = ""
		}
		if hst.Reason != wantR {
			t.Errorf("ballot %s (%s): the server's receipt says %q, tally %q", hst.ID, hst.Keyed, hst.Reason, wantR)
		}
		if !strings.HasPrefix(hst.ID, "d"+st.Prefix+"-") {
			t.Errorf("ballot id %q lacks the desk's prefix %q", hst.ID, st.Prefix)
		}
	}
	if got := h.logLen(id); got != 22 { // 21 ballots and a void
		t.Errorf("log length %d, want 22", got)
	}
	if got := eval[string](t, screen, `document.getElementById("ballots-collected").textContent`); got != "20" {
		t.Errorf("collected on the screen = %q, want 20 (the round notes)", got)
	}
	if n := eval[int](t, screen, `document.querySelectorAll(".badge").length`); n != 0 {
		t.Errorf("%d badges while counting, want none before close", n)
	}
	screenshot(t, desk, "desk.png")
	screenshot(t, screen, "screen.png")

	// Closing the round brings the badges, through the stream's state event.
	h.transition(id, "close", map[string]int{"issued": 20})
	var elected []string
	for _, e := range exp.Elected {
		elected = append(elected, fmt.Sprintf("%q", e))
	}
	waitFor(t, screen, "elected badges after close", fmt.Sprintf(`(() => {
		const ids = Array.from(document.querySelectorAll("li.bar:has(.badge.elected)"), li => li.dataset.id).sort().join(",");
		return ids === [%s].sort().join(",") && !document.getElementById("vacant").hidden && document.getElementById("vacant").textContent.includes("%d");
	})()`, strings.Join(elected, ","), exp.Vacant), 5*time.Second)
	screenshot(t, screen, "screen-closed.png")
}

func jsonEqual(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// flakyProxy stands between the browser and the server. In dropping mode
// it forwards each ballot (or keying) POST, waits for the server's answer (so the
// ballot is stored) and then closes the browser's connection without
// answering, as a network failure after the fact would. In refusing mode
// it answers ballot POSTs 503 without forwarding.
//
// For the screen it can also cut the SSE streams passing through it and
// answer new ones 502 (streamDown), as a proxy in front of a restarting
// service does.
type flakyProxy struct {
	rp        *httputil.ReverseProxy
	target    string
	dropping  atomic.Bool
	refusing  atomic.Bool
	forwarded atomic.Int64 // ballot POSTs that reached the server
	dropped   atomic.Int64

	streamDown atomic.Bool
	mu         sync.Mutex

	// slowStacks delays the answers to GET …/stacks (a desk asking where
	// it stands) by a second after the server gave them, as a slow
	// network does.
	slowStacks atomic.Bool
	streams    map[*http.Request]context.CancelFunc
}

// cutStreams ends every stream passing through the proxy.
func (p *flakyProxy) cutStreams() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cancel := range p.streams {
		cancel()
	}
}

func newFlakyProxy(t *testing.T, target string) (*flakyProxy, string) {
	t.Helper()
	u, _ := url.Parse(target)
	p := &flakyProxy{rp: httputil.NewSingleHostReverseProxy(u), target: target}
	p.rp.FlushInterval = -1 // the SSE stream
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return p, "http://" + ln.Addr().String()
}

func (p *flakyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/stream") {
		if p.streamDown.Load() {
			http.Error(w, "test: the service is restarting", http.StatusBadGateway)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		p.mu.Lock()
		if p.streams == nil {
			p.streams = map[*http.Request]context.CancelFunc{}
		}
		p.streams[r] = cancel
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			delete(p.streams, r)
			p.mu.Unlock()
			cancel()
		}()
		p.rp.ServeHTTP(w, r.WithContext(ctx)) // a cancel aborts the browser's connection
		return
	}
	if r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/stacks") && p.slowStacks.Load() {
		rec := httptest.NewRecorder()
		p.rp.ServeHTTP(rec, r)
		time.Sleep(time.Second)
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}
	if r.Method != "POST" || !strings.HasSuffix(r.URL.Path, "/ballots") && !strings.HasSuffix(r.URL.Path, "/keyings") {
		p.rp.ServeHTTP(w, r)
		return
	}
	if p.refusing.Load() {
		http.Error(w, `{"error":{"code":"unavailable","message":"test: refused"}}`, http.StatusServiceUnavailable)
		return
	}
	p.forwarded.Add(1)
	if !p.dropping.Load() {
		p.rp.ServeHTTP(w, r)
		return
	}
	req, _ := http.NewRequest(r.Method, p.target+r.URL.RequestURI(), r.Body)
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	p.dropped.Add(1)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close() // the ballot is stored; the browser never hears so
	}
}

// ballotEntries counts the log entries of a contest that carry ballot id.
func ballotEntries(t *testing.T, h *harness, contest, id string) int {
	t.Helper()
	entries, err := h.store.Entries(context.Background(), contest, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Ballot != nil && e.Ballot.ID == id {
			n++
		}
	}
	return n
}

// TestBrowserDeskRetry: a ballot whose answer is lost is retried and
// counted once; a ballot queued when the page is left is sent by the next
// page load.
func TestBrowserDeskRetry(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	target := h.listen()
	proxy, base := newFlakyProxy(t, target)
	browser := newBrowser(t) // after listen: closed first, so the server's shutdown finds no open connections
	const id = "retry-2025"
	h.openContest(strikeDef(id))
	token := h.issueToken("counter", "Bàn 2")
	ctx := browser
	signIn(t, ctx, base, token, "/contests/"+id+"/desk")

	t.Run("the answer is lost after the ballot was stored", func(t *testing.T) {
		proxy.dropping.Store(true)
		typeBallot(t, ctx, "1 2 3")
		pressEnter(t, ctx)
		waitFor(t, ctx, "the desk to report the lost connection", `document.getElementById("net").classList.contains("offline") && document.getElementById("net").dataset.queued === "1"`, 15*time.Second)
		if text := eval[string](t, ctx, `document.getElementById("net").textContent`); !strings.Contains(text, "1 phiếu đang chờ gửi") || !strings.Contains(text, "mất kết nối") {
			t.Errorf("the desk says %q, want the queue and the lost connection", text)
		}
		st := readDesk(t, ctx, id)
		ballot := st.History[0].ID
		if n := ballotEntries(t, h, id, ballot); n != 1 {
			t.Fatalf("the dropped ballot is in the log %d times before the retry, want 1 (stored, answer lost)", n)
		}
		proxy.dropping.Store(false)
		waitFor(t, ctx, "the retry to go through", `document.getElementById("net").dataset.queued === "0" && document.querySelector("#history tr").dataset.status === "sent"`, 20*time.Second)
		if n := ballotEntries(t, h, id, ballot); n != 1 {
			t.Errorf("ballot %s is in the log %d times, want exactly 1", ballot, n)
		}
		if got := h.logLen(id); got != 1 {
			t.Errorf("log length %d, want 1", got)
		}
		if proxy.dropped.Load() < 1 || proxy.forwarded.Load() < 2 {
			t.Errorf("the proxy dropped %d answers of %d attempts: the retry was not exercised", proxy.dropped.Load(), proxy.forwarded.Load())
		}
		if got := eval[string](t, ctx, `document.querySelector("#history tr td:nth-child(2)").textContent`); got != "1" {
			t.Errorf("the desk shows seq %q, want 1 (the original receipt)", got)
		}
		if got := eval[string](t, ctx, `document.getElementById("count-total").textContent`); got != "1" {
			t.Errorf("the desk counts %s ballots, want 1", got)
		}
	})

	t.Run("a queued ballot survives leaving the page", func(t *testing.T) {
		proxy.refusing.Store(true)
		typeBallot(t, ctx, "4 5 6")
		pressEnter(t, ctx)
		waitFor(t, ctx, "the ballot to be queued", `document.getElementById("net").dataset.queued === "1"`, 10*time.Second)
		st := readDesk(t, ctx, id)
		ballot := st.Queue[0].ID
		// Leave the page while the server refuses: only the next load of
		// the desk can send it.
		do(t, ctx, "leaving the desk", chromedp.Navigate("about:blank"))
		proxy.refusing.Store(false)
		if n := ballotEntries(t, h, id, ballot); n != 0 {
			t.Fatalf("ballot %s reached the log while refused", ballot)
		}
		do(t, ctx, "coming back", chromedp.Navigate(base+"/contests/"+id+"/desk"))
		waitFor(t, ctx, "the queued ballot sent after the reload", `document.getElementById("net").dataset.queued === "0" && document.querySelector("#history tr").dataset.status === "sent"`, 20*time.Second)
		if n := ballotEntries(t, h, id, ballot); n != 1 {
			t.Errorf("ballot %s is in the log %d times, want 1", ballot, n)
		}
		if got := h.logLen(id); got != 2 {
			t.Errorf("log length %d, want 2", got)
		}
	})
}

// marksOf turns approve letters into the ballot's marks, as the desk
// should: missing letters are no box.
func marksOf(c *tally.Contest, typed string) map[string]tally.Mark {
	names := map[rune]tally.Mark{'d': tally.MarkAgree, 'k': tally.MarkDisagree, 'c': tally.MarkBoth, 't': tally.MarkNone}
	out := map[string]tally.Mark{}
	for i, cand := range c.Candidates {
		out[cand.ID] = tally.MarkNone
		if i < len(typed) {
			out[cand.ID] = names[rune(typed[i])]
		}
	}
	return out
}

// TestBrowserDeskApprove: the approve letters, on a single-candidate
// ballot (where both boxes or none make it invalid) and a three-name one
// (where such rows count for nobody): the preview, the server's receipt
// and package tally agree.
func TestBrowserDeskApprove(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	base := h.listen()
	browser := newBrowser(t) // after listen: closed first, so the server's shutdown finds no open connections
	single := approveDef("bt-2025")
	multi := map[string]any{
		"id": "ubkt-2025", "title": "Bầu Ủy ban Kiểm tra", "kind": "other", "seats": 3, "ballot": "approve",
		"electorate": map[string]any{"congress": "body", "convened": 9},
		"candidates": []any{
			map[string]any{"id": "c1", "name": "Nguyễn Văn An"},
			map[string]any{"id": "c2", "name": "Trần Thị Bình"},
			map[string]any{"id": "c3", "name": "Lê Văn Cường"},
		},
	}
	h.openContest(single)
	h.openContest(multi)
	token := h.issueToken("counter", "Bàn 3")
	cases := []struct {
		def   map[string]any
		good  []string
		wrong []string
	}{
		{single, []string{"d", "k", "c", "t", "D"}, []string{"dd", "x"}},
		// "cct" and "kkk" agree with nobody: no_vote (244-QĐ/TW Điều 17.2).
		{multi, []string{"dkc", "d", "ddd", "tkd", "cct", "kkk"}, []string{"dkct", "dxk"}},
	}
	signIn(t, browser, base, token, "/contests/"+single["id"].(string)+"/desk")
	for _, tc := range cases {
		id := tc.def["id"].(string)
		contest := parseDef(t, tc.def)
		do(t, browser, "opening the desk of "+id, chromedp.Navigate(base+"/contests/"+id+"/desk"), chromedp.WaitVisible(chromedp.CSS("#ballot-input")))
		for _, bad := range tc.wrong {
			if got := typeBallot(t, browser, bad); got != "error" {
				t.Errorf("%s: typing %q previews %q, want an error", id, bad, got)
			}
			pressEnter(t, browser)
		}
		var want []string
		for i, text := range tc.good {
			b := tally.Ballot{ID: fmt.Sprintf("a%d", i), Marks: marksOf(contest, strings.ToLower(text))}
			r := tallyReason(t, contest, b)
			if got := typeBallot(t, browser, text); got != r {
				t.Errorf("%s: %q previews %q, package tally says %q", id, text, got, r)
			}
			pressEnter(t, browser)
			if r == "valid" {
				r = ""
			}
			want = append(want, r)
		}
		waitFor(t, browser, "the ballots sent", fmt.Sprintf(`(() => { const s = JSON.parse(localStorage.getItem("kp.desk.%s"));
			return s.queue.length === 0 && s.history.length === %d && s.history.every(h => h.status === "sent"); })()`, id, len(tc.good)), 20*time.Second)
		st := readDesk(t, browser, id)
		for i, hs := range st.History {
			if hs.Reason != want[i] {
				t.Errorf("%s: %q got the receipt reason %q, tally says %q", id, tc.good[i], hs.Reason, want[i])
			}
		}
		if n := eval[int](t, browser, `document.querySelectorAll("#alerts .alert").length`); n != 0 {
			t.Errorf("%s: %d loud alerts", id, n)
		}
		if got := h.logLen(id); got != int64(len(tc.good)) {
			t.Errorf("%s: log length %d, want %d (refused input must not be sent)", id, got, len(tc.good))
		}
	}
}

// TestBrowserScreenReconnect: when the stream is cut and the reconnect is
// refused (EventSource then gives up for good), the screen says it is
// reconnecting, keeps up by re-fetching the result, and returns to the
// stream once it is back.
func TestBrowserScreenReconnect(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	target := h.listen()
	proxy, base := newFlakyProxy(t, target)
	browser := newBrowser(t) // after listen: closed first, so the server's shutdown finds no open connections
	const id = "live-2025"
	h.openContest(with(strikeDef(id), "visibility", "live"))

	// Public: no sign-in.
	do(t, browser, "opening the screen", chromedp.Navigate(base+"/contests/"+id+"/screen"))
	waitFor(t, browser, "the stream", `document.body.dataset.version === "0" && document.getElementById("reconnecting").hidden`, 10*time.Second)
	total := func(n int) string {
		return fmt.Sprintf(`document.getElementById("ballots-total").textContent === "%d"`, n)
	}

	proxy.streamDown.Store(true)
	proxy.cutStreams()
	waitFor(t, browser, "the reconnecting notice", `!document.getElementById("reconnecting").hidden`, 10*time.Second)
	h.castStrike(id, tally.Ballot{ID: "s-1", Struck: []string{"c1", "c2", "c3"}})
	waitFor(t, browser, "the result re-fetched while the stream is down", total(1), 10*time.Second)
	if !eval[bool](t, browser, `!document.getElementById("reconnecting").hidden`) {
		t.Errorf("the notice went away while the stream was still refused")
	}

	proxy.streamDown.Store(false)
	waitFor(t, browser, "the stream back", `document.getElementById("reconnecting").hidden`, 15*time.Second)
	start := time.Now()
	h.castStrike(id, tally.Ballot{ID: "s-2", Struck: []string{"c4", "c5", "c6"}})
	// The re-fetch stops with the stream's return: only the stream can
	// bring this one, and within a second.
	waitFor(t, browser, "the next ballot through the stream", total(2), 5*time.Second)
	if d := time.Since(start); d > time.Second {
		t.Errorf("the ballot reached the screen after %v, want ≤ 1s through the stream", d)
	}
}
