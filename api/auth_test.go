package api_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/proof"
)

func TestTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.openContest(contestDef("tok"))

	r := h.do("POST", "/api/v1/tokens", map[string]string{"role": "counter", "name": "Bàn 1"}, asAdmin)
	mustStatus(t, r, http.StatusCreated)
	var issued struct {
		Token, ID, Name, Role string
	}
	decode(t, r, &issued)
	if !strings.HasPrefix(issued.Token, "kp_") || len(issued.Token) < 20 {
		t.Errorf("token = %q, want kp_ and a long random string", issued.Token)
	}
	if issued.ID == "" || strings.Contains(issued.Token, issued.ID) {
		t.Errorf("id = %q: want an id that does not reveal the token", issued.ID)
	}
	if got, want := issued.Name+"/"+issued.Role, "Bàn 1/counter"; got != want {
		t.Errorf("name/role = %q, want %q", got, want)
	}
	counter := bearer(issued.Token)
	viewer := bearer(h.issueToken("viewer", ""))
	admin := bearer(h.issueToken("admin", "Thư ký"))

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		auth   opt
		status int
	}{
		{"counter keys a ballot", "POST", "/api/v1/contests/tok/ballots", `{"id": "t1", "struck": ["c1"]}`, counter, http.StatusCreated},
		{"counter voids", "POST", "/api/v1/contests/tok/ballots/t1/void", map[string]string{"reason": "nhầm"}, counter, http.StatusCreated},
		{"counter reads", "GET", "/api/v1/contests/tok", nil, counter, http.StatusOK},
		{"counter may not set up", "POST", "/api/v1/contests", contestDef("c-x"), counter, http.StatusForbidden},
		{"counter may not issue tokens", "POST", "/api/v1/tokens", map[string]string{"role": "admin"}, counter, http.StatusForbidden},
		{"viewer reads", "GET", "/api/v1/contests/tok/result", nil, viewer, http.StatusOK},
		{"viewer may not key", "POST", "/api/v1/contests/tok/ballots", `{"id": "t2", "struck": ["c1"]}`, viewer, http.StatusForbidden},
		{"issued admin sets up", "POST", "/api/v1/contests", contestDef("a-x"), admin, http.StatusCreated},
		{"unknown token", "GET", "/api/v1/contests", nil, bearer("kp_not-a-token"), http.StatusUnauthorized},
		{"unknown token, public route", "GET", "/healthz", nil, bearer("kp_not-a-token"), http.StatusOK},
		{"no scheme", "GET", "/api/v1/contests", nil, withHeader("Authorization", issued.Token), http.StatusUnauthorized},
		{"basic", "GET", "/api/v1/contests", nil, withHeader("Authorization", "Basic YWRtaW46YWRtaW4="), http.StatusUnauthorized},
		{"empty bearer", "GET", "/api/v1/contests", nil, withHeader("Authorization", "Bearer "), http.StatusUnauthorized},
		{"lower-case scheme", "GET", "/api/v1/contests", nil, withHeader("Authorization", "bearer "+adminToken), http.StatusUnauthorized},
		{"token with a suffix", "GET", "/api/v1/contests", nil, bearer(adminToken + "x"), http.StatusUnauthorized},
		{"admin token prefix", "GET", "/api/v1/contests", nil, bearer(adminToken[:16]), http.StatusUnauthorized},
		{"bad token beats a good cookie", "GET", "/api/v1/contests", nil, bearer("kp_nope"), http.StatusUnauthorized},
		{"no role", "POST", "/api/v1/tokens", map[string]string{"name": "x"}, asAdmin, http.StatusBadRequest},
		{"unknown role", "POST", "/api/v1/tokens", map[string]string{"role": "root"}, asAdmin, http.StatusBadRequest},
		{"no body", "POST", "/api/v1/tokens", nil, asAdmin, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := h.in(t)
			r := h.do(tt.method, tt.path, tt.body, tt.auth)
			if tt.status >= 400 {
				mustError(t, r, tt.status, "")
				return
			}
			mustStatus(t, r, tt.status)
		})
	}
}

func TestUsersAndLogin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const password = "mật khẩu đủ dài 2025"

	// The one user made through the API (bcrypt at its real cost); the
	// other tests seed theirs.
	r := h.do("POST", "/api/v1/users", map[string]string{"username": " ThuKy ", "password": password, "role": "admin"}, asAdmin)
	mustStatus(t, r, http.StatusCreated)
	if got, want := strings.TrimSpace(string(r.body)), `{"name":"thuky","role":"admin","username":"thuky"}`; got != want {
		t.Errorf("created = %s, want %s", got, want)
	}
	userErrors := []struct {
		name   string
		body   map[string]string
		status int
		field  string
	}{
		{"taken", map[string]string{"username": "thuky", "password": password, "role": "viewer"}, http.StatusConflict, "username"},
		{"short password", map[string]string{"username": "a", "password": "ngắn", "role": "viewer"}, http.StatusBadRequest, "password"},
		{"long password", map[string]string{"username": "a", "password": strings.Repeat("x", 73), "role": "viewer"}, http.StatusBadRequest, "password"},
		{"no role", map[string]string{"username": "a", "password": password}, http.StatusBadRequest, "role"},
		{"space in name", map[string]string{"username": "a b", "password": password, "role": "viewer"}, http.StatusBadRequest, "username"},
		{"no name", map[string]string{"password": password, "role": "viewer"}, http.StatusBadRequest, "username"},
	}
	for _, tt := range userErrors {
		t.Run("user "+tt.name, func(t *testing.T) {
			h := h.in(t)
			mustError(t, h.do("POST", "/api/v1/users", tt.body, asAdmin), tt.status, tt.field)
		})
	}

	r = h.do("POST", "/api/v1/login", map[string]string{"username": "ThuKy", "password": password})
	mustStatus(t, r, http.StatusOK)
	var out struct {
		Username, Role, Expires string
		CSRF                    string `json:"csrf_token"`
	}
	decode(t, r, &out)
	if got, want := out.Username+"/"+out.Role, "thuky/admin"; got != want {
		t.Errorf("username/role = %q, want %q", got, want)
	}
	if got, want := out.Expires, h.clock.Now().Add(12*time.Hour).Format(time.RFC3339); got != want {
		t.Errorf("expires = %q, want %q", got, want)
	}
	c := sessionCookie(t, r)
	if !c.HttpOnly {
		t.Errorf("session cookie is not HttpOnly")
	}
	if got, want := c.SameSite, http.SameSiteStrictMode; got != want {
		t.Errorf("SameSite = %v, want Strict", got)
	}
	if got, want := c.Path, "/"; got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
	if len(c.Value) < 32 {
		t.Errorf("session id %q is too short", c.Value)
	}
	s := session{cookie: c.Value, csrf: out.CSRF}

	t.Run("CSRF", func(t *testing.T) {
		h := h.in(t)
		tests := []struct {
			name   string
			method string
			path   string
			body   any
			auth   opt
			status int
		}{
			{"POST without the token", "POST", "/api/v1/contests", contestDef("x1"), withCookie(s), http.StatusForbidden},
			{"POST with a wrong token", "POST", "/api/v1/contests", contestDef("x2"), withSession(session{cookie: s.cookie, csrf: "wrong"}), http.StatusForbidden},
			{"POST with another session's form", "POST", "/api/v1/tokens", map[string]string{"role": "admin"}, withSession(session{cookie: s.cookie, csrf: s.cookie}), http.StatusForbidden},
			{"POST with the token", "POST", "/api/v1/contests", contestDef("x3"), withSession(s), http.StatusCreated},
			{"GET without the token", "GET", "/api/v1/contests/x3", nil, withCookie(s), http.StatusOK},
			{"logout without the token", "POST", "/api/v1/logout", nil, withCookie(s), http.StatusForbidden},
		}
		for _, tt := range tests {
			r := h.do(tt.method, tt.path, tt.body, tt.auth)
			if r.status != tt.status {
				t.Errorf("%s: status = %d, want %d (%s)", tt.name, r.status, tt.status, r.body)
			}
			if tt.status == http.StatusForbidden {
				if e := errorOf(t, r, tt.status); e.Field != "X-CSRF-Token" {
					t.Errorf("%s: field = %q, want X-CSRF-Token", tt.name, e.Field)
				}
			}
		}
		if _, err := h.store.Contest(t.Context(), "x1"); err == nil {
			t.Errorf("a POST without the CSRF token created a contest")
		}
	})

	t.Run("logout ends the session", func(t *testing.T) {
		h := h.in(t)
		r := h.do("POST", "/api/v1/logout", nil, withSession(s))
		mustStatus(t, r, http.StatusNoContent)
		if c := sessionCookie(t, r); c.Value != "" || c.Expires.After(time.Unix(2, 0)) {
			t.Errorf("logout cookie = %+v, want it cleared", c)
		}
		mustError(t, h.do("GET", "/api/v1/contests", nil, withSession(s)), http.StatusUnauthorized, "")
		mustError(t, h.do("POST", "/api/v1/contests", contestDef("x4"), withSession(s)), http.StatusUnauthorized, "")
		// Logging out twice, or without a session, is fine.
		mustStatus(t, h.do("POST", "/api/v1/logout", nil, withSession(s)), http.StatusNoContent)
		mustStatus(t, h.do("POST", "/api/v1/logout", nil), http.StatusNoContent)
	})

	t.Run("wrong password", func(t *testing.T) {
		h := h.in(t)
		h.seedUser("bkp", password, "counter") // a cheap hash: no second spent per try
		for _, body := range []map[string]string{
			{"username": "bkp", "password": "sai mật khẩu 123"},
			{"username": "nobody", "password": password},
			{"username": "bkp"},
		} {
			r := h.do("POST", "/api/v1/login", body)
			e := mustError(t, r, http.StatusUnauthorized, "")
			if got, want := e.Message, "wrong user name or password"; got != want {
				t.Errorf("%v: message = %q, want %q (the same for unknown users)", body, got, want)
			}
			if len(r.cookies) != 0 {
				t.Errorf("%v: a refused login set cookies %v", body, r.cookies)
			}
		}
		mustError(t, h.do("POST", "/api/v1/login", `{"username": "bkp", "password": 1}`), http.StatusBadRequest, "")
	})
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const password = "mật khẩu đủ dài 2025"
	h.seedUser("bankiemphieu", password, "viewer")

	t.Run("idle", func(t *testing.T) {
		h := h.in(t)
		s := h.login("bankiemphieu", password)
		for range 3 {
			h.clock.Advance(29 * time.Minute)
			mustStatus(t, h.do("GET", "/api/v1/contests", nil, withSession(s)), http.StatusOK)
		}
		h.clock.Advance(30*time.Minute + time.Second)
		r := h.do("GET", "/api/v1/contests", nil, withSession(s))
		mustError(t, r, http.StatusUnauthorized, "")
		if c := sessionCookie(t, r); c.Value != "" {
			t.Errorf("an expired session's cookie was not cleared: %+v", c)
		}
		// Gone for good, not only for one request.
		h.clock.Advance(-30 * time.Minute)
		mustError(t, h.do("GET", "/api/v1/contests", nil, withSession(s)), http.StatusUnauthorized, "")
	})

	t.Run("absolute", func(t *testing.T) {
		h := h.in(t)
		s := h.login("bankiemphieu", password)
		const step = 25 * time.Minute
		elapsed := time.Duration(0)
		for elapsed+step <= 12*time.Hour {
			h.clock.Advance(step)
			elapsed += step
			if r := h.do("GET", "/api/v1/contests", nil, withSession(s)); r.status != http.StatusOK {
				t.Fatalf("after %v of use: %s", elapsed, r)
			}
		}
		h.clock.Advance(12*time.Hour - elapsed + time.Second)
		mustError(t, h.do("GET", "/api/v1/contests", nil, withSession(s)), http.StatusUnauthorized, "")
	})
	proof.Report(t, "idle_expiry", 30, "min")
	proof.Report(t, "absolute_expiry", 12, "h")
}

func TestNoSessionFixation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const password = "mật khẩu đủ dài 2025"
	h.seedUser("thuky", password, "admin")

	first := h.login("thuky", password)
	second := h.login("thuky", password, withCookie(first))
	if second.cookie == first.cookie {
		t.Errorf("a second login kept the session id %q", first.cookie)
	}
	if second.csrf == first.csrf {
		t.Errorf("a second login kept the CSRF token")
	}
	planted := session{cookie: "planted-by-an-attacker-0123456789abcdef", csrf: "x"}
	third := h.login("thuky", password, withCookie(planted))
	if third.cookie == planted.cookie {
		t.Errorf("login adopted the session id the client sent")
	}
	mustError(t, h.do("GET", "/api/v1/contests", nil, withSession(planted)), http.StatusUnauthorized, "")
	mustStatus(t, h.do("GET", "/api/v1/contests", nil, withSession(third)), http.StatusOK)
	// One session's CSRF token does not pass for another.
	mustError(t, h.do("POST", "/api/v1/tokens", map[string]string{"role": "viewer"},
		withSession(session{cookie: third.cookie, csrf: second.csrf})), http.StatusForbidden, "X-CSRF-Token")
}

// auditLine is one line of GET /api/v1/audit.
type auditLine struct {
	Time      string `json:"time"`
	RequestID string `json:"request_id"`
	Who       string `json:"who"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	Outcome   string `json:"outcome"`
}

func TestAudit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const password = "mật khẩu đủ dài 2025"
	const wrongPassword = "mật khẩu sai bét 2025"
	h.seedUser("thuky", password, "counter")

	var tokens struct{ Token, ID string }
	decode(t, h.do("POST", "/api/v1/tokens", map[string]string{"role": "viewer", "name": "Màn hình"}, asAdmin), &tokens)
	h.createContest(contestDef("aud"))
	h.transition("aud", "open", nil)
	mustStatus(t, h.postBallot("aud", `{"id": "a1", "struck": ["c1"]}`, bearer(tokens.Token)), http.StatusForbidden)
	mustStatus(t, h.do("GET", "/api/v1/contests", nil), http.StatusUnauthorized)
	mustStatus(t, h.do("GET", "/api/v1/contests", nil, bearer("kp_guessed-token")), http.StatusUnauthorized)
	mustStatus(t, h.do("GET", "/api/v1/contests", nil, withHeader("Authorization", "Basic "+adminToken)), http.StatusUnauthorized)
	mustStatus(t, h.do("POST", "/api/v1/login", map[string]string{"username": "thuky", "password": wrongPassword}), http.StatusUnauthorized)
	s := h.login("thuky", password)
	mustStatus(t, h.postBallot("aud", `{"id": "a2", "struck": ["c1"]}`, withSession(s)), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/logout", nil, withSession(s)), http.StatusNoContent)
	// Ordinary reads and a counter's ballots are not audited.
	mustStatus(t, h.do("GET", "/api/v1/contests/aud", nil, asAdmin), http.StatusOK)

	r := h.do("GET", "/api/v1/audit", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	if got, want := r.header.Get("Content-Type"), "application/jsonl; charset=utf-8"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	var lines []auditLine
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		var l auditLine
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("audit line %s: %v", sc.Bytes(), err)
		}
		if l.Time == "" || l.RequestID == "" {
			t.Errorf("audit line without time or request id: %s", sc.Bytes())
		}
		lines = append(lines, l)
	}
	type event struct {
		who, method, path string
		status            int
		outcome           string
	}
	var got []event
	for _, l := range lines {
		got = append(got, event{l.Who, l.Method, l.Path, l.Status, l.Outcome})
	}
	sum := sha256.Sum256([]byte("kp_guessed-token"))
	guessed := hex.EncodeToString(sum[:])
	want := []event{
		{"token:bootstrap", "POST", "/api/v1/tokens", 201, "ok"},
		{"token:bootstrap", "POST", "/api/v1/contests", 201, "ok"},
		{"token:bootstrap", "POST", "/api/v1/contests/aud/open", 200, "ok"},
		{"token:" + tokens.ID, "POST", "/api/v1/contests/aud/ballots", 403, "forbidden"},
		{"anonymous", "GET", "/api/v1/contests", 401, "unauthorized"},
		{"token:" + guessed[:12] + "?", "GET", "/api/v1/contests", 401, "unauthorized"}, // a refused token, by its digest
		{"anonymous", "GET", "/api/v1/contests", 401, "unauthorized"},
		{"anonymous", "POST", "/api/v1/login", 401, "unauthorized"},
		{"user:thuky", "POST", "/api/v1/login", 200, "ok"},
		{"user:thuky", "POST", "/api/v1/logout", 204, "ok"},
	}
	if len(got) != len(want) {
		t.Errorf("audit has %d lines, want %d:\n%s", len(got), len(want), r.body)
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("audit line %d = %+v, want %+v", i+1, got[i], want[i])
		}
	}

	t.Run("paging", func(t *testing.T) {
		h := h.in(t)
		r := h.do("GET", "/api/v1/audit?after=2&limit=3", nil, asAdmin)
		mustStatus(t, r, http.StatusOK)
		all := bytes.Split(bytes.TrimSuffix(h.do("GET", "/api/v1/audit", nil, asAdmin).body, []byte("\n")), []byte("\n"))
		if got, want := string(r.body), string(bytes.Join(all[2:5], []byte("\n")))+"\n"; got != want {
			t.Errorf("after=2&limit=3:\n%s\nwant\n%s", got, want)
		}
		for _, q := range []string{"after=-1", "after=x", "limit=0", "limit=10001"} {
			errorOf(t, h.do("GET", "/api/v1/audit?"+q, nil, asAdmin), http.StatusBadRequest)
		}
	})

	secrets := map[string]string{
		"admin token":    adminToken,
		"issued token":   tokens.Token,
		"guessed token":  "kp_guessed-token",
		"password":       password,
		"wrong password": wrongPassword,
		"session id":     s.cookie,
		"CSRF token":     s.csrf,
	}
	raw := h.do("GET", "/api/v1/audit", nil, asAdmin).body
	for name, secret := range secrets {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the audit log holds the %s", name)
		}
	}

	t.Run("no secret in the store file", func(t *testing.T) {
		if err := h.store.Close(); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(h.path)
		if err != nil {
			t.Fatal(err)
		}
		for name, secret := range secrets {
			if name == "CSRF token" {
				continue // kept with the session, as it must be
			}
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("the store file holds the %s in clear", name)
			}
		}
	})
}
