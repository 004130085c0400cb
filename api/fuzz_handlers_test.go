package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/store/bolt"
	"github.com/kiemphieu/kiemphieu/tally"
)

// fuzzMethods are the methods a fuzzed request may use.
var fuzzMethods = []string{"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "BREW"}

// fuzzRoutes are the service's routes (api.routes, pageRoutes); {id} is a
// contest or congress id, {b} a ballot id, each taken from the fuzzer's
// segment or from the ones the harness made.
var fuzzRoutes = []string{
	"/healthz", "/readyz",
	"/api/v1/login", "/api/v1/logout", "/api/v1/tokens", "/api/v1/users", "/api/v1/audit?after={b}&limit={b}",
	"/api/v1/contests", "/api/v1/contests/check", "/api/v1/candidates/import",
	"/api/v1/contests/{id}", "/api/v1/contests/{id}/open", "/api/v1/contests/{id}/close",
	"/api/v1/contests/{id}/certify", "/api/v1/contests/{id}/next",
	"/api/v1/contests/{id}/ballots", "/api/v1/contests/{id}/ballots/{b}/void",
	"/api/v1/contests/{id}/result", "/api/v1/contests/{id}/log?after={b}&limit={b}", "/api/v1/contests/{id}/notes",
	"/api/v1/congresses", "/api/v1/congresses/{id}",
	"/api/v1/congresses/{id}/votes", "/api/v1/congresses/{id}/votes/{b}",
	"/congresses/{id}/votes", "/congresses/{id}/votes/{b}/delete", "/congresses/{id}/electorate",
	"/", "/login", "/logout", "/contests/{id}/desk", "/contests/{id}/screen",
	"/contests/{id}/export.csv", "/contests/{id}/export.xlsx", "/contests/{id}/export.jsonl",
	"/congresses/new", "/congresses/{id}/setup", "/contests/new", "/contests/{id}/setup",
	"/contests/{id}/tokens", "/contests/{id}/ballot-paper", "/contests/{id}/minutes", "/contests/{id}/minutes.pdf",
	"/verify", "/verify/{b}", "/static/app.js",
	"/api/v1/imports?congress={b}",
	"/api/v1/tokens/{b}", "/api/v1/users/{b}", "/api/v1/users/{b}/password",
	"/users", "/users/{b}/disabled", "/users/{b}/password", "/tokens/{b}/revoke", "/password",
	"/contests/{id}/tokens/{b}/revoke",
	"/api/v1/contests/{id}/withdrawals", "/api/v1/contests/{id}/nominations", "/contests/{id}/edit",
	"/api/v1/congresses/{id}/appointments", "/api/v1/congresses/{id}/appointments/{b}", "/congresses/{id}/appointments",
}

// fuzzServer is the service a fuzz worker drives: an open strike contest
// and an open approve contest with a few ballots, a congress, tokens of
// each role and a signed-in session.
type fuzzServer struct {
	srv             *api.Server
	store           *bolt.Store
	counter, viewer string
	sess            session
	ids             []string
	ballots         []string
}

const fuzzPassword = "fuzz-password-0123456789"

func newFuzzServer(f *testing.F) *fuzzServer {
	st, err := bolt.Open(filepath.Join(f.TempDir(), "kiemphieu.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	clock := &fakeClock{now: time.Now().UTC().Truncate(time.Second)}
	fs := &fuzzServer{srv: api.New(st, api.Config{AdminToken: adminToken, Now: clock.Now}), store: st}
	h := &fuzzCalls{f: f, srv: fs.srv}
	h.must("POST", "/api/v1/contests", contestDef("bch"), 201, asAdmin)
	h.must("POST", "/api/v1/contests/bch/open", nil, 200, asAdmin)
	h.must("POST", "/api/v1/contests", approveDef("bt"), 201, asAdmin)
	h.must("POST", "/api/v1/contests/bt/open", nil, 200, asAdmin)
	h.must("POST", "/api/v1/congresses", map[string]any{"id": "dh", "organization": "Chi bộ 3", "name": "Đại hội Chi bộ 3"}, 201, asAdmin)
	for i, b := range []string{`{"id":"b-1","struck":["c1"]}`, `{"id":"b-2","struck":[]}`, `{"id":"b-3","struck":["c1","c2","c3","c4"]}`} {
		h.must("POST", "/api/v1/contests/bch/ballots", b, 201, asAdmin)
		fs.ballots = append(fs.ballots, "b-"+string(rune('1'+i)))
	}
	h.must("POST", "/api/v1/contests/bt/ballots", `{"id":"a-1","marks":{"c1":"agree"}}`, 201, asAdmin)
	fs.ids = []string{"bch", "bt", "dh", "khong-co"}
	fs.counter = h.token("counter")
	fs.viewer = h.token("viewer")
	if err := api.SeedUser(context.Background(), st, "fuzz", fuzzPassword, "admin"); err != nil {
		f.Fatal(err)
	}
	fs.login(f)
	return fs
}

// login signs the fuzz user in again (a fuzzed request may have signed it
// out); a lockout (fuzzed wrong passwords) leaves the old session.
func (fs *fuzzServer) login(tb testing.TB) {
	body, _ := json.Marshal(map[string]string{"username": "fuzz", "password": fuzzPassword})
	req, _ := http.NewRequest("POST", "http://kp/api/v1/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := fs.srv.App().Test(req, -1)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return
	}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	for _, c := range resp.Cookies() {
		if c.Name == "kp_session" {
			fs.sess = session{cookie: c.Value, csrf: out.CSRF}
		}
	}
}

// fuzzCalls makes the setup's requests.
type fuzzCalls struct {
	f   *testing.F
	srv *api.Server
}

func (h *fuzzCalls) must(method, path string, body any, status int, opts ...opt) *response {
	r := doApp(h.f, h.srv, method, path, body, opts...)
	if r.status != status {
		h.f.Fatalf("%s %s: %s, want %d", method, path, r, status)
	}
	return r
}

func (h *fuzzCalls) token(role string) string {
	r := h.must("POST", "/api/v1/tokens", map[string]string{"role": role, "name": "fuzz " + role}, 201, asAdmin)
	var out struct {
		Token string `json:"token"`
	}
	json.Unmarshal(r.body, &out)
	return out.Token
}

// FuzzHandlers drives the whole Fiber app (app.Test) with fuzzed methods,
// routes, path segments, credentials, content types, headers and bodies.
// Whatever comes in: never a 5xx (a panic would be one: the recover
// middleware answers 500), every response has an X-Request-ID, every JSON
// error has the code of its status, and afterwards every round's counters
// equal the replay of its log, whose hash chain holds.
func FuzzHandlers(f *testing.F) {
	type seed struct {
		method, route, auth uint8
		seg, ctype, hname   string
		hvalue              string
		body                string
	}
	route := func(r string) uint8 {
		for i, x := range fuzzRoutes {
			if x == r {
				return uint8(i)
			}
		}
		f.Fatalf("no route %s", r)
		return 0
	}
	const json = "application/json"
	for _, s := range []seed{
		{1, route("/api/v1/contests/{id}/ballots"), 2, "bch", json, "", "", `{"id":"f-1","struck":["c2"]}`},
		{1, route("/api/v1/contests/{id}/ballots"), 2, "bch", json, "", "", `{"id":"b-1","struck":["c2"]}`},
		{1, route("/api/v1/contests/{id}/ballots"), 6, "bt", json, "", "", `{"id":"f-2","marks":{"c1":"both"}}`},
		{1, route("/api/v1/contests/{id}/ballots"), 7, "bch", json, "", "", `{"id":"f-3","struck":[]}`},
		{1, route("/api/v1/contests/{id}/ballots"), 2, "bch", "text/plain", "", "", `{"id":"f-4","struck":["c1"]`},
		{1, route("/api/v1/contests/{id}/ballots/{b}/void"), 1, "bch", json, "", "", `{"reason":"gõ nhầm"}`},
		{1, route("/api/v1/contests/{id}/close"), 1, "bch", json, "", "", `{"issued":9}`},
		{2, route("/api/v1/contests/{id}/notes"), 1, "bch", json, "", "", `{"present":8,"collected":3}`},
		{1, route("/api/v1/contests/check"), 1, "", json, "", "", `{"id":"x","seats":"5"}`},
		{1, route("/api/v1/contests"), 1, "", json, "", "", `{"id":"moi","title":"T","kind":"committee","seats":1,"ballot":"strike","electorate":{"congress":"members","convened":3},"candidates":[{"id":"a","name":"A"}]}`},
		{1, route("/api/v1/candidates/import"), 1, "", "multipart/form-data; boundary=X", "", "", "--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nHọ và tên\r\nA\r\n--X--\r\n"},
		{1, route("/api/v1/imports?congress={b}"), 1, "", "application/jsonl", "", "", `{"kind":"kiemphieu-log-export","record":{"contest":{"id":"x"},"state":"certified"}}` + "\n" + `{"result":{}}`},
		{1, route("/api/v1/login"), 0, "", json, "", "", `{"username":"fuzz","password":"sai"}`},
		{1, route("/api/v1/logout"), 6, "", "", "", "", ``},
		{1, route("/api/v1/tokens"), 1, "", json, "", "", `{"role":"root","name":"x"}`},
		{1, route("/api/v1/users"), 1, "", json, "", "", `{"username":"u","password":"short","role":"viewer"}`},
		{2, route("/api/v1/congresses/{id}"), 1, "dh", json, "", "", `{"id":"dh","organization":"a","name":"b","votes":[{"subject":"seats","contest":"bch","present":5,"approve":5,"disapprove":0,"other":0}]}`},
		{0, route("/api/v1/contests/{id}/log?after={b}&limit={b}"), 3, "bch", "", "", "", ``},
		{0, route("/api/v1/audit?after={b}&limit={b}"), 1, "-1", "", "", "", ``},
		{0, route("/contests/{id}/minutes"), 6, "bch", "", "Accept", "text/html", ``},
		{0, route("/contests/{id}/export.xlsx"), 3, "bt", "", "", "", ``},
		{0, route("/verify/{b}"), 0, "00ff", "", "", "", ``},
		{1, route("/login"), 0, "", "application/x-www-form-urlencoded", "", "", "username=fuzz&password=x&_csrf=y"},
		{1, route("/contests/{id}/tokens"), 6, "bch", "application/x-www-form-urlencoded", "", "", "name=B%C3%A0n+1"},
		{0, 255, 0, "/api/v1/contests/../../etc/passwd", "", "", "", ``},
		{7, route("/api/v1/contests"), 4, "", "", "X-Request-ID", strings.Repeat("x", 100), ``},
		{1, route("/api/v1/contests/{id}/ballots"), 5, "bch", json, "Authorization", "Bearer", `{}`},
	} {
		f.Add(s.method, s.route, s.auth, s.seg, s.ctype, s.hname, s.hvalue, []byte(s.body))
	}
	fs := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, method, routeN, auth uint8, seg, ctype, hname, hvalue string, body []byte) {
		fs.fuzzOne(t, method, routeN, auth, seg, ctype, hname, hvalue, body)
	})
}

func (fs *fuzzServer) fuzzOne(t *testing.T, methodN, routeN, auth uint8, seg, ctype, hname, hvalue string, body []byte) {
	method := fuzzMethods[int(methodN)%len(fuzzMethods)]
	var path string
	if routeN == 255 {
		path = seg // a raw path
	} else {
		path = fuzzRoutes[int(routeN)%len(fuzzRoutes)]
		id, b := seg, seg
		if seg == "" {
			id = fs.ids[int(auth>>3)%len(fs.ids)]
			b = fs.ballots[int(auth>>5)%len(fs.ballots)]
		}
		path = strings.NewReplacer("{id}", url.PathEscape(id), "{b}", url.QueryEscape(b)).Replace(path)
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	// A stream never ends by itself; its own tests and the hostile clients
	// phase cover it.
	if unesc, _ := url.PathUnescape(path); strings.Contains(strings.ToLower(path+unesc), "stream") {
		return
	}
	req, err := http.NewRequest(method, "http://kp"+path, bytes.NewReader(body))
	if err != nil {
		return // not a request a client could send
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	switch auth % 8 {
	case 1:
		asAdmin(req)
	case 2:
		bearer(fs.counter)(req)
	case 3:
		bearer(fs.viewer)(req)
	case 4:
		bearer("kp_not-a-token")(req)
	case 5:
		req.Header.Set("Authorization", "Basic Zm9vOmJhcg==")
	case 6:
		withSession(fs.sess)(req)
	case 7:
		withCookie(fs.sess)(req)
	}
	if hname != "" {
		req.Header.Set(hname, hvalue)
	}
	resp, err := fs.srv.App().Test(req, -1)
	if err != nil {
		return // refused before the app: a request fasthttp cannot parse
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		t.Fatalf("%s %s (auth %d, Content-Type %q, %s: %q): %d %s", method, path, auth%8, ctype, hname, hvalue, resp.StatusCode, data)
	}
	if resp.Header.Get("X-Request-ID") == "" {
		t.Fatalf("%s %s: %d without X-Request-ID", method, path, resp.StatusCode)
	}
	if resp.StatusCode >= 400 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && method != "HEAD" {
		var e struct {
			Error *apiError `json:"error"`
		}
		if err := json.Unmarshal(data, &e); err != nil || e.Error == nil || e.Error.Message == "" {
			t.Fatalf("%s %s: %d with a JSON body that is not an error: %s", method, path, resp.StatusCode, data)
		}
		if want, ok := codeOf[resp.StatusCode]; ok && e.Error.Code != want {
			t.Fatalf("%s %s: %d with code %q, want %q", method, path, resp.StatusCode, e.Error.Code, want)
		}
	}
	if strings.Contains(strings.ToLower(path), "logout") {
		fs.login(t)
	}
	fs.checkLogs(t)
}

// checkLogs holds every round's counters to the replay of its log.
func (fs *fuzzServer) checkLogs(t *testing.T) {
	ctx := context.Background()
	recs, err := fs.store.Contests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		id := rec.Contest.ID
		entries, err := fs.store.Entries(ctx, id, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		counters, version, err := fs.store.Counters(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(entries)) != version {
			t.Fatalf("%s: %d log entries at version %d", id, len(entries), version)
		}
		if _, err := tally.VerifyChain(entries); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		replayed, err := tally.Replay(rec.Contest, entries)
		if err != nil {
			t.Fatalf("%s: replay: %v", id, err)
		}
		counted, err := tally.CountFromCounters(rec.Contest, counters)
		if err != nil {
			t.Fatalf("%s: counters: %v", id, err)
		}
		a, _ := json.Marshal(replayed.Result())
		b, _ := json.Marshal(counted.Result())
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: the counters differ from the log:\nlog:      %s\ncounters: %s", id, a, b)
		}
	}
}
