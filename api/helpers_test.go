package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/store/bolt"
	"github.com/kiemphieu/kiemphieu/tally"
)

// adminToken is the bootstrap admin token of every test server.
const adminToken = "test-admin-token-0123456789abcdef"

// fakeClock is the server's clock in tests: it stands still until advanced.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// harness is a server on a real embedded store in a temporary directory,
// used from one test or subtest (see in).
type harness struct {
	t *testing.T
	*server
}

// server is what the harnesses of one test share.
type server struct {
	srv   *api.Server
	store *bolt.Store
	path  string
	clock *fakeClock

	// Set by listen.
	base         string
	shutdownOnce sync.Once
	shutdownErr  error
	served       chan error
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, api.Config{})
}

// newHarnessWith builds the server with cfg, adding the admin token and the
// fake clock.
func newHarnessWith(t *testing.T, cfg api.Config) *harness {
	t.Helper()
	cfg.AdminToken = adminToken
	return newHarnessOf(t, cfg)
}

// newHarnessOf builds the server with cfg as it is (no admin token unless
// cfg has one), adding the fake clock.
func newHarnessOf(t *testing.T, cfg api.Config) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kiemphieu.db")
	st, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("closing the store: %v", err)
		}
	})
	clock := &fakeClock{now: time.Now().UTC().Truncate(time.Second)}
	cfg.Now = clock.Now
	srv := api.New(st, cfg)
	return &harness{t: t, server: &server{srv: srv, store: st, path: path, clock: clock}}
}

// in returns the harness for a subtest: failures are reported on t.
func (h *harness) in(t *testing.T) *harness { return &harness{t: t, server: h.server} }

// listen serves on a real listener (for SSE) and shuts down at cleanup.
func (h *harness) listen() string {
	h.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	h.served = make(chan error, 1)
	go func() { h.served <- h.srv.Serve(ln) }()
	h.base = "http://" + ln.Addr().String()
	h.t.Cleanup(func() {
		// Generous: on a loaded CI machine a browser's connections take
		// seconds to close.
		if err := h.shutdown(15 * time.Second); err != nil {
			h.t.Errorf("Shutdown: %v", err)
		}
	})
	return h.base
}

// shutdown shuts the server down once; later calls return the first result.
func (h *server) shutdown(timeout time.Duration) error {
	h.shutdownOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		h.shutdownErr = h.srv.Shutdown(ctx)
		select {
		case err := <-h.served:
			if err != nil && h.shutdownErr == nil {
				h.shutdownErr = fmt.Errorf("Serve: %w", err)
			}
		case <-time.After(timeout):
			h.shutdownErr = errors.Join(h.shutdownErr, errors.New("Serve did not return"))
		}
	})
	return h.shutdownErr
}

// response is what a request got back, read whole.
type response struct {
	status  int
	header  http.Header
	body    []byte
	cookies []*http.Cookie
}

func (r *response) String() string {
	return fmt.Sprintf("%d %s", r.status, r.body)
}

// opt changes a request before it is sent.
type opt func(*http.Request)

func bearer(token string) opt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

var asAdmin = bearer(adminToken)

func withHeader(k, v string) opt { return func(r *http.Request) { r.Header.Set(k, v) } }

// session is a signed-in browser: its cookie and CSRF token.
type session struct {
	cookie string
	csrf   string
}

// withSession sends the session cookie and, on every request, its CSRF
// token.
func withSession(s session) opt {
	return func(r *http.Request) {
		r.Header.Set("Cookie", "kp_session="+s.cookie)
		r.Header.Set("X-CSRF-Token", s.csrf)
	}
}

// withCookie sends only the session cookie, as a forged cross-site request
// would.
func withCookie(s session) opt {
	return func(r *http.Request) { r.Header.Set("Cookie", "kp_session="+s.cookie) }
}

// newRequest builds a request; body is sent as is when it is a string or
// []byte, else as JSON.
func newRequest(t testing.TB, method, url string, body any, opts ...opt) *http.Request {
	t.Helper()
	var rd io.Reader = http.NoBody
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	return req
}

// do sends a request to the app in memory (app.Test) and reads the answer.
func (h *harness) do(method, path string, body any, opts ...opt) *response {
	h.t.Helper()
	return doApp(h.t, h.srv, method, path, body, opts...)
}

func doApp(t testing.TB, srv *api.Server, method, path string, body any, opts ...opt) *response {
	t.Helper()
	req := newRequest(t, method, "http://kp"+path, body, opts...)
	resp, err := srv.App().Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	if resp.Header.Get("X-Request-ID") == "" {
		t.Errorf("%s %s: no X-Request-ID on the response", method, path)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data, cookies: resp.Cookies()}
}

// mustStatus fails the test unless r has status want.
func mustStatus(t testing.TB, r *response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body: %s", r.status, want, r.body)
	}
}

// decode unmarshals a response body into v.
func decode(t testing.TB, r *response, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// apiError is the error contract of DESIGN §5.5 and docs/api.md.
type apiError struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Field    string `json:"field"`
	Problems []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"problems"`
}

// errorOf checks that r is an error of the given status and returns its body.
func errorOf(t testing.TB, r *response, status int) apiError {
	t.Helper()
	mustStatus(t, r, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type = %q, want application/json", ct)
	}
	var body struct {
		Error *apiError `json:"error"`
	}
	decode(t, r, &body)
	if body.Error == nil || body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("error body %s lacks error.code or error.message", r.body)
	}
	return *body.Error
}

var codeOf = map[int]string{400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 413: "too_large", 503: "unavailable"}

// mustError checks status, code and (when not empty) field of an error.
func mustError(t testing.TB, r *response, status int, field string) apiError {
	t.Helper()
	e := errorOf(t, r, status)
	if got, want := e.Code, codeOf[status]; got != want {
		t.Errorf("error code = %q, want %q (%s)", got, want, r.body)
	}
	if field != "" {
		if got, want := e.Field, field; got != want {
			t.Errorf("error field = %q, want %q (%s)", got, want, r.body)
		}
	}
	return e
}

// contestDef is a valid contest definition (DESIGN §5.1): a committee of 3
// seats elected on a strike ballot from 4 names; D = 8, so 5 votes pass.
func contestDef(id string) map[string]any {
	return map[string]any{
		"id":     id,
		"title":  "Bầu Ban Chấp hành Chi bộ 3, nhiệm kỳ 2025–2027",
		"kind":   "committee",
		"seats":  3,
		"ballot": "strike",
		"electorate": map[string]any{
			"congress": "members", "convened": 9,
			"exclusions": map[string]any{"absent_with_leave": 1},
		},
		"candidates": []any{
			map[string]any{"id": "c1", "name": "Nguyễn Văn An", "gender": "male"},
			map[string]any{"id": "c2", "name": "Trần Thị Bình", "gender": "female"},
			map[string]any{"id": "c3", "name": "Lê Văn Cường", "gender": "male"},
			map[string]any{"id": "c4", "name": "Phạm Thị Dung", "gender": "female"},
		},
	}
}

// approveDef is a valid approve contest: a secretary, one name.
func approveDef(id string) map[string]any {
	return map[string]any{
		"id": id, "title": "Bầu Bí thư Chi bộ", "kind": "secretary", "seats": 1, "ballot": "approve",
		"electorate": map[string]any{"congress": "body", "convened": 5},
		"candidates": []any{map[string]any{"id": "c1", "name": "Nguyễn Văn An"}},
	}
}

func with(def map[string]any, kv ...any) map[string]any {
	out := maps.Clone(def)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// record is a contest record as the API returns it.
type record struct {
	Contest   *tally.Contest `json:"contest"`
	State     tally.State    `json:"state"`
	Issued    *int           `json:"issued"`
	Head      string         `json:"head"`
	Version   int64          `json:"version"`
	Previous  string         `json:"previous"`
	Next      string         `json:"next"`
	NextRound string         `json:"next_round"`
	Created   string         `json:"created"`
	Opened    string         `json:"opened"`
	Closed    string         `json:"closed"`
	Certified string         `json:"certified"`
}

// createContest posts def as admin and checks the 201.
func (h *harness) createContest(def map[string]any) record {
	h.t.Helper()
	r := h.do("POST", "/api/v1/contests", def, asAdmin)
	mustStatus(h.t, r, http.StatusCreated)
	var rec record
	decode(h.t, r, &rec)
	return rec
}

// transition moves a contest on as admin and checks the 200.
func (h *harness) transition(id, verb string, body any) record {
	h.t.Helper()
	r := h.do("POST", "/api/v1/contests/"+id+"/"+verb, body, asAdmin)
	mustStatus(h.t, r, http.StatusOK)
	var rec record
	decode(h.t, r, &rec)
	return rec
}

// openContest creates def and opens it.
func (h *harness) openContest(def map[string]any) {
	h.t.Helper()
	h.createContest(def)
	h.transition(def["id"].(string), "open", nil)
}

// receipt is the answer to a ballot or a void.
type receipt struct {
	Seq    int64  `json:"seq"`
	Hash   string `json:"hash"`
	Valid  bool   `json:"valid"`
	Reason string `json:"reason"`
}

// postBallot posts a ballot as admin.
func (h *harness) postBallot(contest string, ballot any, opts ...opt) *response {
	h.t.Helper()
	if len(opts) == 0 {
		opts = []opt{asAdmin}
	}
	return h.do("POST", "/api/v1/contests/"+contest+"/ballots", ballot, opts...)
}

// castStrike posts strike ballots that must be accepted.
func (h *harness) castStrike(contest string, ballots ...tally.Ballot) {
	h.t.Helper()
	for _, b := range ballots {
		mustStatus(h.t, h.postBallot(contest, b), http.StatusCreated)
	}
}

// strikes returns n ballots with ids prefix-1…n, each striking struck.
func strikes(prefix string, n int, struck ...string) []tally.Ballot {
	out := make([]tally.Ballot, n)
	for i := range out {
		out[i] = tally.Ballot{ID: fmt.Sprintf("%s-%d", prefix, i+1), Struck: append([]string{}, struck...)}
	}
	return out
}

// logLen is the length of a contest's log, read from the store.
func (h *harness) logLen(contest string) int64 {
	h.t.Helper()
	entries, err := h.store.Entries(context.Background(), contest, 0, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	_, version, err := h.store.Counters(context.Background(), contest)
	if err != nil {
		h.t.Fatal(err)
	}
	if int64(len(entries)) != version {
		h.t.Fatalf("log of %s: %d entries at version %d", contest, len(entries), version)
	}
	return version
}

// issueToken issues a bearer token of a role as admin.
func (h *harness) issueToken(role, name string) string {
	h.t.Helper()
	return h.issue(map[string]string{"role": role, "name": name}).Token
}

// login signs in and returns the session, checking the cookie's flags.
func (h *harness) login(name, password string, opts ...opt) session {
	h.t.Helper()
	r := h.do("POST", "/api/v1/login", map[string]string{"username": name, "password": password}, opts...)
	mustStatus(h.t, r, http.StatusOK)
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	decode(h.t, r, &out)
	c := sessionCookie(h.t, r)
	if out.CSRF == "" {
		h.t.Fatalf("login gave no csrf_token: %s", r.body)
	}
	return session{cookie: c.Value, csrf: out.CSRF}
}

func sessionCookie(t testing.TB, r *response) *http.Cookie {
	t.Helper()
	for _, c := range r.cookies {
		if c.Name == "kp_session" {
			return c
		}
	}
	t.Fatalf("no kp_session cookie in %v", r.header.Values("Set-Cookie"))
	return nil
}

// withoutVersion returns the result JSON as a map without its version.
func withoutVersion(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	delete(m, "version")
	return m
}

// expectedResult counts ballots with tally alone, as `kiemphieu recount`
// would: the ballots posted, less the voided ones.
func expectedResult(t testing.TB, def map[string]any, ballots []tally.Ballot, voided map[string]bool) []byte {
	t.Helper()
	data, err := json.Marshal(def)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tally.ParseContest(data)
	if err != nil {
		t.Fatal(err)
	}
	count := tally.NewCount(c)
	index := c.Index()
	for _, b := range ballots {
		if voided[b.ID] {
			continue
		}
		m, err := c.Mark(b, index)
		if err != nil {
			t.Fatalf("ballot %s: %v", b.ID, err)
		}
		count.Add(m)
	}
	out, err := json.Marshal(count.Result())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// seedUser adds a user straight to the store, with a cheap password hash.
func (h *harness) seedUser(name, password, role string) {
	h.t.Helper()
	if err := api.SeedUser(context.Background(), h.store, name, password, role); err != nil {
		h.t.Fatal(err)
	}
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
