package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
)

// newFirstRun is a service as a fresh install starts it: no user, no
// admin token, and the code FirstRun draws.
func newFirstRun(t *testing.T) (*harness, string) {
	t.Helper()
	h := newHarnessOf(t, api.Config{})
	code, err := h.srv.FirstRun(context.Background())
	if err != nil || code == "" {
		t.Fatalf("FirstRun on a fresh install = %q, %v; want a code", code, err)
	}
	return h, code
}

func setupForm(code, name, username, password, confirm string) string {
	return url.Values{"code": {code}, "name": {name}, "username": {username}, "password": {password}, "confirm": {confirm}}.Encode()
}

var asForm = withHeader("Content-Type", "application/x-www-form-urlencoded")

// A code is drawn only when nobody can sign in.
func TestFirstRunOnlyWhenNobodyCanSignIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	withToken := newHarness(t)
	if code, err := withToken.srv.FirstRun(ctx); code != "" || err != nil {
		t.Errorf("with KIEMPHIEU_ADMIN_TOKEN: FirstRun = %q, %v; want none", code, err)
	}
	mustStatus(t, withToken.page("GET", "/setup?code=x", nil), http.StatusGone)

	withUser := newHarnessOf(t, api.Config{})
	withUser.seedUser("thuky", "mật khẩu đủ dài 2025", "admin")
	if code, err := withUser.srv.FirstRun(ctx); code != "" || err != nil {
		t.Errorf("with a user: FirstRun = %q, %v; want none", code, err)
	}
	r := withUser.page("GET", "/setup?code=x", nil)
	mustStatus(t, r, http.StatusGone)
	if !strings.Contains(string(r.body), "Máy chủ đã được thiết lập") {
		t.Errorf("a set-up service's /setup does not say so:\n%s", r.body)
	}
	if strings.Contains(string(withUser.page("GET", "/login", nil).body), `id="first-run"`) {
		t.Error("the sign-in page of a set-up service points at a first-run link")
	}
}

// The printed link creates the secretary, signs them in, and works once;
// a wrong, replaced or expired code and every bad field are refused in
// Vietnamese naming the field, and nothing is created.
func TestFirstRunSetup(t *testing.T) {
	t.Parallel()
	h, code := newFirstRun(t)
	const password = "mật khẩu đủ dài 2025"

	login := h.page("GET", "/login", nil)
	if !strings.Contains(string(login.body), `id="first-run"`) || !strings.Contains(string(login.body), "/setup?code=") {
		t.Errorf("the sign-in page of a fresh install does not point at the first-run link:\n%s", login.body)
	}
	form := h.page("GET", "/setup?code="+code, nil)
	mustStatus(t, form, http.StatusOK)
	for _, want := range []string{`action="/setup"`, `name="code" value="` + code + `"`, "Họ và tên (in trên biên bản)", `name="confirm"`} {
		if !strings.Contains(string(form.body), want) {
			t.Errorf("the first-run form lacks %q", want)
		}
	}

	for _, tc := range []struct {
		what, body string
		status     int
		want       string
	}{
		{"no code", setupForm("", "Nguyễn Thị Lan", "thuky", password, password), http.StatusForbidden, "Mã trong đường dẫn không đúng"},
		{"a wrong code", setupForm(code+"x", "Nguyễn Thị Lan", "thuky", password, password), http.StatusForbidden, "Mã trong đường dẫn không đúng"},
		{"passwords differ", setupForm(code, "Nguyễn Thị Lan", "thuky", password, password+"!"), http.StatusBadRequest, "Nhập lại mật khẩu: không khớp"},
		{"no name", setupForm(code, "  ", "thuky", password, password), http.StatusBadRequest, "Họ và tên: bắt buộc"},
		{"a name too long", setupForm(code, strings.Repeat("Lan ", 30), "thuky", password, password), http.StatusBadRequest, "Họ và tên: tối đa 100 ký tự"},
		{"a short password", setupForm(code, "Nguyễn Thị Lan", "thuky", "ngắn", "ngắn"), http.StatusBadRequest, "Mật khẩu: phải từ 10 đến 72 ký tự."},
		{"a bad user name", setupForm(code, "Nguyễn Thị Lan", "thu ky", password, password), http.StatusBadRequest, "Tên đăng nhập: từ 1 đến 64 ký tự"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			h := h.in(t)
			r := h.page("POST", "/setup", tc.body, asForm)
			mustStatus(t, r, tc.status)
			if !strings.Contains(string(r.body), tc.want) {
				t.Errorf("want %q in:\n%s", tc.want, r.body)
			}
			if len(r.cookies) > 0 && sessionCookieOf(r) != "" {
				t.Error("a refused first run started a session")
			}
		})
	}

	r := h.page("POST", "/setup", setupForm(code, " Nguyễn  Thị Lan ", "ThuKy", password, password), asForm)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Fatalf("first run: %d to %q, want 303 to /:\n%s", r.status, r.header.Get("Location"), r.body)
	}
	cookie := sessionCookieOf(r)
	if cookie == "" {
		t.Fatal("the first run signed nobody in")
	}
	signedIn := withHeader("Cookie", "kp_session="+cookie)
	var list struct {
		Users []map[string]any `json:"users"`
	}
	decode(t, h.do("GET", "/api/v1/users", nil, signedIn), &list)
	if len(list.Users) != 1 || list.Users[0]["username"] != "thuky" || list.Users[0]["name"] != "Nguyễn Thị Lan" || list.Users[0]["role"] != "admin" {
		t.Errorf("users after the first run = %v, want the admin thuky named Nguyễn Thị Lan", list.Users)
	}
	home := h.page("GET", "/", nil, signedIn)
	if !strings.Contains(string(home.body), "Nguyễn Thị Lan") {
		t.Error("the header does not name the secretary by their full name")
	}
	// The password made works on the sign-in form's API too.
	h.login("thuky", password)

	// Used once: the same link, and another drawn later, are closed.
	again := h.page("POST", "/setup", setupForm(code, "Kẻ Khác", "khac", password, password), asForm)
	mustStatus(t, again, http.StatusGone)
	mustStatus(t, h.page("GET", "/setup?code="+code, nil), http.StatusGone)
	if later, err := h.srv.FirstRun(context.Background()); later != "" || err != nil {
		t.Errorf("after the first run, a restart draws %q, %v; want none", later, err)
	}
	decode(t, h.do("GET", "/api/v1/users", nil, signedIn), &list)
	if len(list.Users) != 1 {
		t.Errorf("a used link made another user: %v", list.Users)
	}
}

// A restart draws a new code and the old link stops working; a code
// expires after 24 hours.
func TestFirstRunCodeLife(t *testing.T) {
	t.Parallel()
	h, first := newFirstRun(t)
	second, err := h.srv.FirstRun(context.Background())
	if err != nil || second == "" || second == first {
		t.Fatalf("a second start drew %q, %v; want a new code", second, err)
	}
	mustStatus(t, h.page("GET", "/setup?code="+first, nil), http.StatusForbidden)
	mustStatus(t, h.page("GET", "/setup?code="+second, nil), http.StatusOK)
	h.clock.Advance(24*time.Hour + time.Second)
	r := h.page("GET", "/setup?code="+second, nil)
	mustStatus(t, r, http.StatusGone)
	if !strings.Contains(string(r.body), "đã hết hạn") {
		t.Errorf("an expired link does not say so:\n%s", r.body)
	}
	mustStatus(t, h.page("POST", "/setup", setupForm(second, "Nguyễn Thị Lan", "thuky", "mật khẩu đủ dài 2025", "mật khẩu đủ dài 2025"), asForm), http.StatusGone)
}

// Two forms posted at once with the right code: one admin, not two.
func TestFirstRunOnceUnderRace(t *testing.T) {
	t.Parallel()
	h, code := newFirstRun(t)
	const n = 6
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			name := "thuky" + string(rune('a'+i))
			r := doApp(t, h.srv, "POST", "/setup", setupForm(code, "Người "+name, name, "mật khẩu đủ dài 2025", "mật khẩu đủ dài 2025"),
				withHeader("Accept", "text/html"), asForm, withHeader("X-Real-IP", "192.0.2.1"))
			statuses[i] = r.status
		})
	}
	wg.Wait()
	made := 0
	for _, s := range statuses {
		if s == http.StatusSeeOther {
			made++
		} else if s != http.StatusGone {
			t.Errorf("a losing form got %d, want 410", s)
		}
	}
	if made != 1 {
		t.Errorf("%d forms made an admin (statuses %v), want exactly 1", made, statuses)
	}
}

func sessionCookieOf(r *response) string {
	for _, c := range r.cookies {
		if c.Name == "kp_session" && c.Value != "" {
			return c.Value
		}
	}
	return ""
}
