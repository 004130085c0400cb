package api_test

// The security part of the reliability campaign (docs/reliability.md,
// "Security"): rate limits that hold across instances, no secret in logs
// or in the store, and nothing stored that links a ballot to a person. The
// authorization matrix, CSRF, session fixation and expiry and the sign-in
// lockout have their own tests (authz_test.go, auth_test.go,
// pages_test.go), which the campaign's security phase runs as well.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/internal/proof"
	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/store/bolt"
	"github.com/kiemphieu/kiemphieu/store/redis"
)

// backend is a store the security tests run on, with every byte it keeps
// on disk (the bolt file; Redis's AOF), for scanning.
type backend struct {
	name  string
	store api.Store
	raw   func() []byte
}

type backendOpener struct {
	name string
	open func(t *testing.T) backend
}

var backends = []backendOpener{
	{"bolt", openBoltBackend},
	{"redis", openRedisBackend},
}

func openBoltBackend(t *testing.T) backend {
	path := filepath.Join(t.TempDir(), "kiemphieu.db")
	st, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return backend{name: "bolt", store: st, raw: func() []byte {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}}
}

func openRedisBackend(t *testing.T) backend {
	rs := redistest.Start(t)
	st, err := redis.Open(context.Background(), rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return backend{name: "redis", store: st, raw: func() []byte { return dirBytes(t, rs.Dir()) }}
}

// dirBytes concatenates every file under dir (Redis's AOF files).
func dirBytes(t *testing.T, dir string) []byte {
	var all bytes.Buffer
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "redis.log" {
			return err
		}
		data, err := os.ReadFile(path)
		all.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return all.Bytes()
}

// client is a test's view of one server: requests through app.Test.
type client struct {
	t   *testing.T
	srv *api.Server
}

func (c client) do(method, path string, body any, opts ...opt) *response {
	c.t.Helper()
	return doApp(c.t, c.srv, method, path, body, opts...)
}

func (c client) formLogin(fields url.Values, opts ...opt) (*response, string) {
	c.t.Helper()
	// The form from the address that posts it: its token is bound to it.
	r := c.do("GET", "/login", nil, append([]opt{withHeader("Accept", "text/html")}, opts...)...)
	mustStatus(c.t, r, http.StatusOK)
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(r.body)
	if m == nil {
		c.t.Fatalf("no _csrf field in the sign-in form")
	}
	var cookie string
	for _, ck := range r.cookies {
		if ck.Name == "kp_login" {
			cookie = ck.Value
		}
	}
	fields.Set("_csrf", string(m[1]))
	opts = append([]opt{withHeader("Content-Type", "application/x-www-form-urlencoded"),
		withHeader("Accept", "text/html"), withHeader("Cookie", "kp_login="+cookie)}, opts...)
	return c.do("POST", "/login", fields.Encode(), opts...), string(m[1])
}

// pageCSRF reads the CSRF token a page gives its scripts.
func (c client) pageCSRF(cookie string) string {
	c.t.Helper()
	r := c.do("GET", "/", nil, withHeader("Cookie", "kp_session="+cookie), withHeader("Accept", "text/html"))
	m := regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`).FindSubmatch(r.body)
	if m == nil {
		c.t.Fatalf("no csrf-token meta on the home page of a session: %s", r)
	}
	return string(m[1])
}

func (c client) apiLogin(user, password string) session {
	c.t.Helper()
	r := c.do("POST", "/api/v1/login", map[string]string{"username": user, "password": password})
	mustStatus(c.t, r, http.StatusOK)
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	decode(c.t, r, &out)
	return session{cookie: sessionCookie(c.t, r).Value, csrf: out.CSRF}
}

func (c client) token(role, name string, auth opt) string {
	c.t.Helper()
	r := c.do("POST", "/api/v1/tokens", map[string]string{"role": role, "name": name}, auth)
	mustStatus(c.t, r, http.StatusCreated)
	var out struct {
		Token string `json:"token"`
	}
	decode(c.t, r, &out)
	return out.Token
}

// TestNoSecretInLogs signs in (API and form, password and token), issues
// tokens, keys ballots, and fails in every way a client can (wrong
// password, unknown token, forged CSRF token, lockout), capturing every log
// line (the server's logger and slog's default) — then requires that no
// password, token, session id or CSRF token appears in the logs, the audit
// log, the stored items or the raw bytes the store keeps on disk.
func TestNoSecretInLogs(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			var logs syncBuffer
			logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			prev := slog.Default()
			slog.SetDefault(logger)
			t.Cleanup(func() { slog.SetDefault(prev) })

			be := b.open(t)
			c := client{t: t, srv: api.New(be.store, api.Config{AdminToken: adminToken, Logger: logger})}
			admin := bearer(adminToken)
			secrets := map[string]string{"bootstrap admin token": adminToken}

			const password = "Mật-khẩu-bí-mật-7319"
			secrets["password"] = password
			mustStatus(t, c.do("POST", "/api/v1/users", map[string]string{"username": "thuky", "password": password, "role": "admin"}, admin), http.StatusCreated)
			for i := range 2 {
				wrong := fmt.Sprintf("Sai-mật-khẩu-%d-5521", i)
				secrets[fmt.Sprintf("wrong password %d", i)] = wrong
				mustStatus(t, c.do("POST", "/api/v1/login", map[string]string{"username": "thuky", "password": wrong}), http.StatusUnauthorized)
			}
			s1 := c.apiLogin("thuky", password)
			secrets["session id (API sign-in)"], secrets["CSRF token (API sign-in)"] = s1.cookie, s1.csrf

			desk := c.token("counter", "Bàn 1", withSession(s1))
			viewer := c.token("viewer", "Màn hình", admin)
			secrets["counter token"], secrets["viewer token"] = desk, viewer
			forged := "forged-csrf-token-4471"
			mustStatus(t, c.do("POST", "/api/v1/tokens", map[string]string{"role": "viewer"},
				withCookie(s1), withHeader("X-CSRF-Token", forged)), http.StatusForbidden)

			mustStatus(t, c.do("POST", "/api/v1/contests", contestDef("sec"), admin), http.StatusCreated)
			mustStatus(t, c.do("POST", "/api/v1/contests/sec/open", nil, admin), http.StatusOK)
			for i := range 5 {
				mustStatus(t, c.do("POST", "/api/v1/contests/sec/ballots", map[string]any{"id": fmt.Sprintf("p%d", i), "struck": []string{"c1"}}, bearer(desk)), http.StatusCreated)
			}
			mustStatus(t, c.do("POST", "/api/v1/contests/sec/ballots", map[string]any{"id": "p0", "struck": []string{"c2"}}, bearer(desk)), http.StatusConflict)
			mustStatus(t, c.do("GET", "/api/v1/contests/sec/result", nil, bearer(viewer)), http.StatusOK)

			guess := "kp_GuessedTokenThatDoesNotExist123"
			secrets["guessed token"] = guess
			mustStatus(t, c.do("GET", "/api/v1/contests", nil, bearer(guess)), http.StatusUnauthorized)
			basic := "QWxhZGRpbjpPcGVuU2VzYW1lOTk="
			secrets["basic credentials"] = basic
			mustStatus(t, c.do("GET", "/api/v1/contests", nil, withHeader("Authorization", "Basic "+basic)), http.StatusUnauthorized)

			// The form: a password sign-in, a desk's token sign-in, a
			// guessed token; a ballot with the page's CSRF token.
			r, formCSRF := c.formLogin(url.Values{"username": {"thuky"}, "password": {password}})
			mustStatus(t, r, http.StatusSeeOther)
			s2 := sessionCookie(t, r).Value
			secrets["session id (form)"], secrets["sign-in form token"] = s2, formCSRF
			secrets["CSRF token (form)"] = c.pageCSRF(s2)
			r, formCSRF = c.formLogin(url.Values{"token": {desk}})
			mustStatus(t, r, http.StatusSeeOther)
			s3 := session{cookie: sessionCookie(t, r).Value}
			s3.csrf = c.pageCSRF(s3.cookie)
			secrets["session id (desk)"], secrets["CSRF token (desk)"], secrets["sign-in form token 2"] = s3.cookie, s3.csrf, formCSRF
			mustStatus(t, c.do("POST", "/api/v1/contests/sec/ballots", map[string]any{"id": "q1", "struck": []string{"c3"}}, withSession(s3)), http.StatusCreated)
			guess2 := "kp_AnotherGuessTypedIntoTheForm77"
			secrets["guessed token (form)"] = guess2
			r, _ = c.formLogin(url.Values{"token": {guess2}})
			mustStatus(t, r, http.StatusUnauthorized)

			// Lock the user out, then sign out.
			for i := range 6 {
				wrong := fmt.Sprintf("Đoán-mò-%d-0042", i)
				secrets[fmt.Sprintf("guessed password %d", i)] = wrong
				c.do("POST", "/api/v1/login", map[string]string{"username": "thuky", "password": wrong})
			}
			mustStatus(t, c.do("POST", "/api/v1/logout", nil, withSession(s1)), http.StatusNoContent)

			ctx := context.Background()
			audit, err := be.store.Audit(ctx, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			items := map[string]map[string][]byte{}
			for _, kind := range []string{"token", "user", "session", "lockout"} {
				if items[kind], err = be.store.ListItems(ctx, kind); err != nil {
					t.Fatal(err)
				}
			}
			raw := be.raw()
			places := map[string][]byte{
				"the logs":          []byte(logs.String()),
				"the audit log":     bytes.Join(audit, []byte("\n")),
				"the store on disk": raw,
			}
			for kind, m := range items {
				for key, v := range m {
					places[fmt.Sprintf("item %s/%s", kind, key)] = append([]byte(key+"\x00"), v...)
				}
			}
			// The scan must be able to see: what it looks for is in the
			// places it looks at, under other names.
			for place, want := range map[string]string{
				"the logs":          "login refused",
				"the audit log":     "/api/v1/login",
				"the store on disk": "thuky",
			} {
				if !bytes.Contains(places[place], []byte(want)) {
					t.Fatalf("%s holds no %q: the scan would see nothing", place, want)
				}
			}
			if len(items["session"]) < 2 || len(items["token"]) < 2 {
				t.Fatalf("expected the sessions and tokens in the store: %d sessions, %d tokens", len(items["session"]), len(items["token"]))
			}
			found := 0
			for what, secret := range secrets {
				if len(secret) < 16 {
					t.Fatalf("%s %q is too short to scan for reliably", what, secret)
				}
				for place, data := range places {
					if bytes.Contains(data, []byte(secret)) {
						found++
						t.Errorf("the %s is in %s", what, place)
					}
				}
			}
			proof.Report(t, "secrets_scanned", len(secrets), "secrets")
			proof.Report(t, "bytes_scanned", len(raw)+len(logs.String())+len(places["the audit log"]), "bytes")
			proof.Report(t, "secrets_found", found, "occurrences")
		})
	}
}

// entryFields are the only fields a stored log entry may have, and those
// of its ballot: what the desk keyed (id, marks, ruling, note), the desk's
// name and credential id, the time, the place in the chain. No address, no
// user agent, no session, no token.
var (
	entryFields  = []string{"ballot", "desk", "desk_id", "hash", "prev", "seq", "time", "void"}
	ballotFields = []string{"id", "invalid", "marks", "note", "struck"}
	voidFields   = []string{"ballot", "reason", "seq"}
)

// TestBallotUnlinkable keys ballots with everything a client could give
// away — an address in X-Real-IP and X-Forwarded-For, a user agent, a
// session — and requires that a stored log entry holds only the fields
// above, none of those values, and that the audit log records no ballot id
// and no ballot content, even for refused ballots and voids.
func TestBallotUnlinkable(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			be := b.open(t)
			c := client{t: t, srv: api.New(be.store, api.Config{AdminToken: adminToken, TrustedProxies: []string{"0.0.0.0/0"}})}
			admin := bearer(adminToken)
			mustStatus(t, c.do("POST", "/api/v1/contests", contestDef("anon"), admin), http.StatusCreated)
			mustStatus(t, c.do("POST", "/api/v1/contests/anon/open", nil, admin), http.StatusOK)
			mustStatus(t, c.do("POST", "/api/v1/contests", contestDef("anon-draft"), admin), http.StatusCreated)
			r := c.do("POST", "/api/v1/tokens", map[string]string{"role": "counter", "name": "Bàn 3"}, admin)
			mustStatus(t, r, http.StatusCreated)
			var issued struct{ Token, ID string }
			decode(t, r, &issued)
			desk := issued.Token
			if err := api.SeedUser(context.Background(), be.store, "bkp", "mật khẩu đủ dài 2025", "counter"); err != nil {
				t.Fatal(err)
			}
			sess := c.apiLogin("bkp", "mật khẩu đủ dài 2025")
			const (
				ip    = "203.0.113.77"
				ip2   = "198.51.100.23"
				agent = "Mozilla/5.0 (Voter-Phone-Marker-8812)"
			)
			client := []opt{withHeader("X-Real-IP", ip), withHeader("X-Forwarded-For", ip2), withHeader("User-Agent", agent)}
			ballotIDs := []string{"PHIEU-0001-XYZ", "PHIEU-0002-XYZ", "PHIEU-0003-XYZ", "PHIEU-0004-XYZ"}
			notes := "ghi-chú-riêng-9931"
			post := func(path string, body any, auth opt, want int) {
				t.Helper()
				mustStatus(t, c.do("POST", path, body, append([]opt{auth}, client...)...), want)
			}
			post("/api/v1/contests/anon/ballots", map[string]any{"id": ballotIDs[0], "struck": []string{"c1"}}, bearer(desk), http.StatusCreated)
			post("/api/v1/contests/anon/ballots", map[string]any{"id": ballotIDs[1], "invalid": "other", "note": notes}, withSession(sess), http.StatusCreated)
			post("/api/v1/contests/anon/ballots", map[string]any{"id": ballotIDs[2], "struck": []string{"c2"}}, admin, http.StatusCreated)
			// Refused ballots and voids are audited (status ≥ 400, or an admin's).
			post("/api/v1/contests/anon/ballots", map[string]any{"id": ballotIDs[0], "struck": []string{"c4"}}, bearer(desk), http.StatusConflict)
			post("/api/v1/contests/anon-draft/ballots", map[string]any{"id": ballotIDs[3], "struck": []string{"c4"}}, bearer(desk), http.StatusConflict)
			post("/api/v1/contests/anon/ballots/"+ballotIDs[2]+"/void", map[string]string{"reason": "nhầm"}, admin, http.StatusCreated)
			post("/api/v1/contests/anon/ballots/"+ballotIDs[3]+"/void", map[string]string{"reason": "nhầm"}, bearer(desk), http.StatusNotFound)

			ctx := context.Background()
			entries, err := be.store.Entries(ctx, "anon", 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 4 {
				t.Fatalf("%d entries, want 3 ballots and a void", len(entries))
			}
			forbidden := []string{ip, ip2, agent, sess.cookie, sess.csrf, desk, adminToken}
			for _, e := range entries {
				raw, err := json.Marshal(e)
				if err != nil {
					t.Fatal(err)
				}
				var m map[string]json.RawMessage
				if err := json.Unmarshal(raw, &m); err != nil {
					t.Fatal(err)
				}
				checkFields(t, fmt.Sprintf("entry %d", e.Seq), m, entryFields)
				for sub, allowed := range map[string][]string{"ballot": ballotFields, "void": voidFields} {
					if v, ok := m[sub]; ok {
						var mm map[string]json.RawMessage
						if err := json.Unmarshal(v, &mm); err != nil {
							t.Fatal(err)
						}
						checkFields(t, fmt.Sprintf("entry %d.%s", e.Seq, sub), mm, allowed)
					}
				}
				for _, f := range forbidden {
					if bytes.Contains(raw, []byte(f)) {
						t.Errorf("entry %d holds %q: %s", e.Seq, f, raw)
					}
				}
				// The desk is the counter's name: the token's, or the
				// signed-in user's.
				if want := []string{"Bàn 3", "bkp", "admin", "admin"}[e.Seq-1]; e.Desk != want {
					t.Errorf("entry %d: desk %q, want %q", e.Seq, e.Desk, want)
				}
				// desk_id is the credential's id, never the secret: a
				// token's id, or the user's name.
				if want := []string{"token:" + issued.ID, "user:bkp", "token:bootstrap", "token:bootstrap"}[e.Seq-1]; e.DeskID != want {
					t.Errorf("entry %d: desk_id %q, want %q", e.Seq, e.DeskID, want)
				}
			}
			audit, err := be.store.Audit(ctx, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			all := bytes.Join(audit, []byte("\n"))
			if !bytes.Contains(all, []byte("/api/v1/contests/anon/ballots")) {
				t.Fatalf("the refused ballots were not audited, so this test sees nothing:\n%s", all)
			}
			leaks := 0
			for _, f := range append(append([]string{notes, `"struck"`, `"c4"`, ip2, agent}, ballotIDs...), "PHIEU") {
				if bytes.Contains(all, []byte(f)) {
					leaks++
					t.Errorf("the audit log holds %q:\n%s", f, all)
				}
			}
			proof.Report(t, "entries_checked", len(entries), "entries")
			proof.Report(t, "audit_lines_checked", len(audit), "lines")
			proof.Report(t, "linking_fields_found", leaks, "fields")
		})
	}
}

func checkFields(t *testing.T, what string, m map[string]json.RawMessage, allowed []string) {
	t.Helper()
	for k := range m {
		if !slices.Contains(allowed, k) {
			t.Errorf("%s has a field %q; only %v may be stored", what, k, allowed)
		}
	}
}

// rateLimits are small limits for the tests.
func rateLimits(n int64) *api.RateLimits {
	return &api.RateLimits{
		SignIn: api.RateLimit{Max: n, Window: time.Minute},
		Verify: api.RateLimit{Max: n, Window: time.Minute},
		Tokens: api.RateLimit{Max: n, Window: time.Minute},
	}
}

// mustLimited checks a refusal by a rate limit: 429 with a Retry-After of
// at most the window.
func mustLimited(t *testing.T, r *response, what string) {
	t.Helper()
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("%s: status %d, want 429: %s", what, r.status, r.body)
	}
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Fatalf("%s: Retry-After %q, want 1..60 seconds", what, r.header.Get("Retry-After"))
	}
}

// TestRateLimits: sign-ins per address (API and form, whatever the names
// tried), /verify pages per address and tokens per principal are refused
// with 429 and Retry-After beyond their limit; another address is not
// limited; X-Real-IP names the address only from a trusted proxy.
func TestRateLimits(t *testing.T) {
	const n = 5
	be := openBoltBackend(t)
	c := client{t: t, srv: api.New(be.store, api.Config{AdminToken: adminToken, RateLimits: rateLimits(n), TrustedProxies: []string{"0.0.0.0"}})}
	from := func(ip string) opt { return withHeader("X-Real-IP", ip) }

	t.Run("sign-in", func(t *testing.T) {
		c := client{t: t, srv: c.srv}
		// Different names each time: the lockout of a name never starts.
		for i := range n {
			mustStatus(t, c.do("POST", "/api/v1/login", map[string]string{"username": fmt.Sprintf("u%d", i), "password": "sai mật khẩu 123"}, from("10.1.1.1")), http.StatusUnauthorized)
		}
		mustLimited(t, c.do("POST", "/api/v1/login", map[string]string{"username": "u9", "password": "sai mật khẩu 123"}, from("10.1.1.1")), "API sign-in")
		r, _ := c.formLogin(url.Values{"token": {"kp_guess-guess-guess"}}, from("10.1.1.1"))
		mustLimited(t, r, "form sign-in")
		if !strings.Contains(string(r.body), "Quá nhiều lần đăng nhập từ địa chỉ này") {
			t.Errorf("the form does not say the address is limited:\n%s", r.body)
		}
		mustStatus(t, c.do("POST", "/api/v1/login", map[string]string{"username": "u9", "password": "sai mật khẩu 123"}, from("10.1.1.2")), http.StatusUnauthorized)
	})
	t.Run("verify", func(t *testing.T) {
		c := client{t: t, srv: c.srv}
		hash := strings.Repeat("ab", 32)
		// No round has this hash: 404, but the log is looked for.
		for range n {
			mustStatus(t, c.do("GET", "/verify/"+hash, nil, from("10.2.2.2"), withHeader("Accept", "text/html")), http.StatusNotFound)
		}
		mustLimited(t, c.do("GET", "/verify/"+hash, nil, from("10.2.2.2"), withHeader("Accept", "text/html")), "verify page")
		mustStatus(t, c.do("GET", "/verify/"+hash, nil, from("10.2.2.3"), withHeader("Accept", "text/html")), http.StatusNotFound)
	})
	t.Run("tokens", func(t *testing.T) {
		c := client{t: t, srv: c.srv}
		for i := range n {
			c.token("viewer", fmt.Sprintf("Màn hình %d", i), bearer(adminToken))
		}
		mustLimited(t, c.do("POST", "/api/v1/tokens", map[string]string{"role": "viewer"}, bearer(adminToken)), "token creation")
	})
	t.Run("untrusted-proxy-header", func(t *testing.T) {
		// A server that trusts no proxy ignores X-Real-IP: a client cannot
		// escape its limit by naming another address.
		c := client{t: t, srv: api.New(openBoltBackend(t).store, api.Config{AdminToken: adminToken, RateLimits: rateLimits(n)})}
		for i := range n {
			mustStatus(t, c.do("POST", "/api/v1/login", map[string]string{"username": fmt.Sprintf("u%d", i), "password": "sai mật khẩu 123"}, from(fmt.Sprintf("10.3.3.%d", i))), http.StatusUnauthorized)
		}
		mustLimited(t, c.do("POST", "/api/v1/login", map[string]string{"username": "v", "password": "sai mật khẩu 123"}, from("10.3.3.99")), "sign-in with a spoofed X-Real-IP")
	})
}

// TestRateLimitAcrossInstances: two api servers on one Redis share their
// counters, so a limit of N sign-ins per address lets N through in sum,
// however the attempts are spread over the instances — not N per instance.
func TestRateLimitAcrossInstances(t *testing.T) {
	rs := redistest.Start(t)
	limit := int64(proof.Size("RATELIMIT_MAX", 10, 50))
	attempts := int(limit) * 4
	var servers []client
	for range 2 {
		st, err := redis.Open(context.Background(), rs.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		servers = append(servers, client{t: t, srv: api.New(st, api.Config{AdminToken: adminToken, RateLimits: rateLimits(limit), TrustedProxies: []string{"0.0.0.0"}})})
	}
	perInstance := make([]int, len(servers))
	passed, limited := 0, 0
	for i := range attempts {
		c := servers[i%len(servers)]
		r := c.do("POST", "/api/v1/login", map[string]string{"username": fmt.Sprintf("name%d", i), "password": "sai mật khẩu 123"}, withHeader("X-Real-IP", "192.0.2.10"))
		switch r.status {
		case http.StatusUnauthorized:
			passed++
			perInstance[i%len(servers)]++
		case http.StatusTooManyRequests:
			limited++
			mustLimited(t, r, "sign-in")
		default:
			t.Fatalf("attempt %d: %s", i, r)
		}
	}
	if int64(passed) != limit {
		t.Errorf("%d of %d sign-ins passed over 2 instances (%v per instance); want %d in sum", passed, attempts, perInstance, limit)
	}
	// The verify page and tokens the same way.
	hash := strings.Repeat("cd", 32)
	verifyPassed, tokensPassed := 0, 0
	for i := range attempts {
		c := servers[i%len(servers)]
		if r := c.do("GET", "/verify/"+hash, nil, withHeader("X-Real-IP", "192.0.2.11"), withHeader("Accept", "text/html")); r.status != http.StatusTooManyRequests {
			verifyPassed++
		}
		if r := c.do("POST", "/api/v1/tokens", map[string]string{"role": "viewer"}, bearer(adminToken)); r.status == http.StatusCreated {
			tokensPassed++
		}
	}
	if int64(verifyPassed) != limit || int64(tokensPassed) != limit {
		t.Errorf("over 2 instances: %d verify pages and %d tokens passed; want %d each", verifyPassed, tokensPassed, limit)
	}
	proof.Report(t, "instances", len(servers), "instances")
	proof.Report(t, "limit", limit, "per minute")
	proof.Report(t, "signin_attempts", attempts, "attempts")
	proof.Report(t, "signin_passed_in_sum", passed, "attempts")
	proof.Report(t, "verify_passed_in_sum", verifyPassed, "pages")
	proof.Report(t, "tokens_passed_in_sum", tokensPassed, "tokens")
}

// TestNoSessionFixationForm: the sign-in form never adopts a session
// cookie the browser already had — one an attacker planted, or the
// attacker's own real session (login CSRF planted it) — and gives a fresh
// id whose CSRF token is its own. TestNoSessionFixation does the same for
// the API's sign-in.
func TestNoSessionFixationForm(t *testing.T) {
	h := newHarness(t)
	h.seedUser("thuky", "mật khẩu đủ dài 2025", "admin")
	h.seedUser("attacker", "mật khẩu kẻ gian 2025", "viewer")
	attackers := h.login("attacker", "mật khẩu kẻ gian 2025")
	planted := []session{
		{cookie: "planted-by-an-attacker-0123456789abcdef"},
		attackers,
	}
	checked := 0
	for _, p := range planted {
		token, cookie := h.formToken()
		form := url.Values{"username": {"thuky"}, "password": {"mật khẩu đủ dài 2025"}, "_csrf": {token}}
		r := h.do("POST", "/login", form.Encode(), withHeader("Content-Type", "application/x-www-form-urlencoded"),
			withHeader("Accept", "text/html"), withHeader("Cookie", "kp_login="+cookie+"; kp_session="+p.cookie))
		mustStatus(t, r, http.StatusSeeOther)
		fresh := sessionCookie(t, r).Value
		if fresh == "" || fresh == p.cookie {
			t.Fatalf("the form's sign-in kept the session cookie the browser had (%q)", p.cookie)
		}
		// The planted cookie did not become thuky's session.
		who := h.do("GET", "/", nil, withHeader("Cookie", "kp_session="+p.cookie), withHeader("Accept", "text/html"))
		if strings.Contains(string(who.body), "thuky") {
			t.Fatalf("the planted cookie %q is signed in as thuky", p.cookie)
		}
		// The fresh one is, and the attacker's CSRF token does not pass for it.
		mustStatus(t, h.do("GET", "/api/v1/contests", nil, withHeader("Cookie", "kp_session="+fresh)), http.StatusOK)
		if p.csrf != "" {
			mustError(t, h.do("POST", "/api/v1/tokens", map[string]string{"role": "viewer"},
				withSession(session{cookie: fresh, csrf: p.csrf})), http.StatusForbidden, "X-CSRF-Token")
		}
		checked++
	}
	// The attacker's own session stays the attacker's (a viewer).
	mustError(t, h.do("POST", "/api/v1/tokens", map[string]string{"role": "viewer"}, withSession(attackers)), http.StatusForbidden, "")
	proof.Report(t, "planted_cookies_adopted", 0, "of "+strconv.Itoa(checked))
}
