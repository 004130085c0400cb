package api_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/internal/proof"
)

// Finding 14: another site's page auto-submits a text/plain form to the
// sign-in API, its body the attacker's credentials as JSON. The API now
// takes only application/json (which a cross-site form cannot send
// without a CORS preflight) and answers 415 to the rest; no session.
func TestLoginCSRF(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, api.Config{TrustedProxies: []string{"0.0.0.0"}})
	h.seedUser("attacker", "attacker-pass-1=", "counter")
	// The exact body Chromium sent: name '{"username":"attacker","password":"attacker-pass-1'
	// and value '"}', joined by "=", ended by CRLF (text/plain encoding).
	body := `{"username":"attacker","password":"attacker-pass-1="}` + "\r\n"
	multipart := "--x\r\nContent-Disposition: form-data; name=\"" + strings.TrimSuffix(body, "=\"}\r\n") + "\"\r\n\r\n\"}\r\n--x--\r\n"
	for ct, body := range map[string]string{"text/plain": body, "application/x-www-form-urlencoded": body,
		"multipart/form-data; boundary=x": multipart, "": body} {
		r := h.do("POST", "/api/v1/login", body, withHeader("Content-Type", ct), withHeader("Origin", "http://localhost:18099"))
		e := errorOf(t, r, http.StatusUnsupportedMediaType)
		if e.Code != "unsupported" || e.Field != "Content-Type" {
			t.Errorf("Content-Type %q: %s, want 415 unsupported naming Content-Type", ct, r.body)
		}
		for _, c := range r.cookies {
			if c.Name == "kp_session" && c.Value != "" {
				t.Errorf("Content-Type %q: a session cookie was set", ct)
			}
		}
	}
	mustStatus(t, h.do("POST", "/api/v1/login", body, withHeader("Content-Type", "application/json; charset=utf-8")), http.StatusOK)

	// The page's form: its token is the signature of the browser's own
	// cookie, for its own address, for an hour.
	form := func(cookie, token string, opts ...opt) *response {
		v := url.Values{"_csrf": {token}, "username": {"attacker"}, "password": {"attacker-pass-1="}}
		return h.page("POST", "/login", v.Encode(), append([]opt{withHeader("Content-Type", "application/x-www-form-urlencoded"),
			withHeader("Cookie", "kp_login="+cookie)}, opts...)...)
	}
	victim := withHeader("X-Real-IP", "192.0.2.10")
	mustStatus(t, form("planted-by-a-sibling-site", "planted-by-a-sibling-site", victim), http.StatusForbidden)
	// The attacker's own pair, minted from the attacker's address.
	token, cookie := h.formToken(withHeader("X-Real-IP", "198.51.100.66"))
	mustStatus(t, form(cookie, token, victim), http.StatusForbidden)
	mustStatus(t, form(cookie, token+"x", withHeader("X-Real-IP", "198.51.100.66")), http.StatusForbidden)
	// Posted later than an hour: the form is stale.
	token, cookie = h.formToken(victim)
	h.clock.Advance(time.Hour + time.Second)
	r := form(cookie, token, victim)
	mustStatus(t, r, http.StatusForbidden)
	if !strings.Contains(string(r.body), "Vui lòng đăng nhập lại") {
		t.Errorf("a stale form is refused without a word:\n%s", r.body)
	}
	token, cookie = h.formToken(victim)
	mustStatus(t, form(cookie, token, victim), http.StatusSeeOther)
	proof.Report(t, "forged_sign_ins_accepted", 0, "of 4 content types and 3 forged forms")
}

// Finding 15: a return address is only ever a path of this site. The
// report's /%09/evil.example/phish, and every other way browsers turn a
// path into another host, fall back to "/".
func TestSafeNext(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedUser("thuky", "mật khẩu đủ dài 2025", "admin")
	for _, tt := range []struct {
		query string // as sent, escaped
		want  string
	}{
		{"/%09/evil.example/phish", "/"},
		{"/%0d/evil.example", "/"},
		{"/%0a/evil.example", "/"},
		{"/%0d%0aSet-Cookie:x=1", "/"},
		{"/%5Cevil.example", "/"},
		{"/%5C/evil.example", "/"},
		{"/x%5C..%5C..%5Cevil", "/"},
		{"//evil.example", "/"},
		{"%2F%2Fevil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example", "/"},
		{"/x%00y", "/"},
		{"/x%7Fy", "/"},
		{"/x%C2%85y", "/"}, // NEL, a C1 control
		{"/%ff", "/"},      // not UTF-8
		{"", "/"},
		{"/contests/bch/desk", "/contests/bch/desk"},
		{"/contests/bch/setup%3Flang%3Den", "/contests/bch/setup?lang=en"},
		{"/rollup%3Forganization%3D%C4%90%E1%BA%A3ng+b%E1%BB%99", "/rollup?organization=Đảng bộ"},
	} {
		t.Run(tt.query, func(t *testing.T) {
			h := h.in(t)
			r := h.page("GET", "/login?next="+tt.query, nil)
			mustStatus(t, r, http.StatusOK)
			m := regexp.MustCompile(`name="next" value="([^"]*)"`).FindSubmatch(r.body)
			if m == nil || html.UnescapeString(string(m[1])) != tt.want {
				t.Errorf("next %q: the form returns to %q, want %q", tt.query, m, tt.want)
			}
			// And the post itself: a form carrying the raw value.
			raw, _ := url.QueryUnescape(tt.query)
			p := h.postLoginForm(url.Values{"username": {"thuky"}, "password": {"mật khẩu đủ dài 2025"}, "next": {raw}})
			mustStatus(t, p, http.StatusSeeOther)
			if loc := p.header.Get("Location"); loc != tt.want {
				t.Errorf("next %q: Location %q, want %q", raw, loc, tt.want)
			}
		})
	}
}

// Info item: on a desk PC the committee shares, the session cookie ends
// with the browser (no Expires, no Max-Age); the server still ends the
// session after 30 idle minutes and 12 hours.
func TestSessionCookieEndsWithBrowser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedUser("thuky", "mật khẩu đủ dài 2025", "admin")
	r := h.do("POST", "/api/v1/login", map[string]string{"username": "thuky", "password": "mật khẩu đủ dài 2025"})
	mustStatus(t, r, http.StatusOK)
	page := h.postLoginForm(url.Values{"username": {"thuky"}, "password": {"mật khẩu đủ dài 2025"}})
	for _, resp := range []*response{r, page} {
		for _, line := range resp.header.Values("Set-Cookie") {
			if strings.HasPrefix(line, "kp_session=") && (strings.Contains(strings.ToLower(line), "expires=") || strings.Contains(strings.ToLower(line), "max-age=")) {
				t.Errorf("the session cookie outlives the browser: %s", line)
			}
		}
	}
}
