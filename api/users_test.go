package api_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Users are listed without their hashes, disabled (no sign-in, sessions
// ended) and enabled again; passwords are changed by their owner with the
// old one, or reset by an admin; every session of the user then ends.
func TestUsersAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const password = "mật khẩu đủ dài 2025"
	const newPassword = "mật khẩu mới tinh 2026"
	h.seedUser("thuky", password, "admin")
	h.seedUser("bkp", password, "counter")
	h.seedUser("thưký2", password, "viewer")

	r := h.do("GET", "/api/v1/users", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.body), "hash") || strings.Contains(string(r.body), "$2a$") {
		t.Errorf("the user list holds password hashes: %s", r.body)
	}
	var list struct {
		Users []struct {
			Username, Role, Created string
			Disabled                bool
		}
	}
	decode(t, r, &list)
	if len(list.Users) != 3 || list.Users[0].Username != "bkp" || list.Users[0].Role != "counter" || list.Users[0].Created == "" {
		t.Errorf("users = %+v", list.Users)
	}

	t.Run("disable", func(t *testing.T) {
		h := h.in(t)
		s1, s2 := h.login("bkp", password), h.login("bkp", password)
		r := h.do("PATCH", "/api/v1/users/bkp", map[string]bool{"disabled": true}, asAdmin)
		mustStatus(t, r, http.StatusOK)
		if !strings.Contains(string(r.body), `"disabled":true`) || !strings.Contains(string(r.body), `"sessions_ended":2`) {
			t.Errorf("answer %s", r.body)
		}
		for _, s := range []session{s1, s2} {
			mustError(t, h.do("GET", "/api/v1/contests", nil, withSession(s)), http.StatusUnauthorized, "")
		}
		mustError(t, h.do("POST", "/api/v1/login", map[string]string{"username": "bkp", "password": password}), http.StatusUnauthorized, "")
		mustStatus(t, h.do("PATCH", "/api/v1/users/bkp", map[string]bool{"disabled": false}, asAdmin), http.StatusOK)
		h.login("bkp", password)
		// A Vietnamese name in the path, percent-encoded.
		mustStatus(t, h.do("PATCH", "/api/v1/users/"+url.PathEscape("thưký2"), map[string]bool{"disabled": true}, asAdmin), http.StatusOK)

		admin := h.login("thuky", password)
		mustError(t, h.do("PATCH", "/api/v1/users/thuky", map[string]bool{"disabled": true}, withSession(admin)), http.StatusConflict, "disabled")
		mustError(t, h.do("PATCH", "/api/v1/users/nobody", map[string]bool{"disabled": true}, asAdmin), http.StatusNotFound, "username")
		mustError(t, h.do("PATCH", "/api/v1/users/bkp", map[string]string{}, asAdmin), http.StatusBadRequest, "disabled")
		mustError(t, h.do("PATCH", "/api/v1/users/bkp", map[string]bool{"disabled": true}, withSession(h.login("bkp", password))), http.StatusForbidden, "")
	})

	t.Run("password", func(t *testing.T) {
		h := h.in(t)
		own, other := h.login("bkp", password), h.login("bkp", password)
		path := "/api/v1/users/bkp/password"
		mustError(t, h.do("POST", path, map[string]string{"password": newPassword}, withSession(own)), http.StatusBadRequest, "old_password")
		mustError(t, h.do("POST", path, map[string]string{"old_password": "sai mật khẩu 123", "password": newPassword}, withSession(own)), http.StatusUnauthorized, "old_password")
		mustError(t, h.do("POST", path, map[string]string{"old_password": password, "password": "ngắn"}, withSession(own)), http.StatusBadRequest, "password")
		mustError(t, h.do("POST", "/api/v1/users/thuky/password", map[string]string{"password": newPassword}, withSession(own)), http.StatusForbidden, "")
		mustError(t, h.do("POST", path, map[string]string{"password": newPassword}, bearer(h.issueToken("counter", "Bàn 1"))), http.StatusForbidden, "")

		r := h.do("POST", path, map[string]string{"old_password": password, "password": newPassword}, withSession(own))
		mustStatus(t, r, http.StatusOK)
		var out struct {
			CSRF          string `json:"csrf_token"`
			SessionsEnded int    `json:"sessions_ended"`
		}
		decode(t, r, &out)
		if out.SessionsEnded < 2 || out.CSRF == "" { // these two, and the disable test's
			t.Errorf("answer %s: want both sessions ended and a new one", r.body)
		}
		fresh := session{cookie: sessionCookie(t, r).Value, csrf: out.CSRF}
		mustStatus(t, h.do("GET", "/api/v1/contests", nil, withSession(fresh)), http.StatusOK)
		for _, s := range []session{own, other} {
			mustError(t, h.do("GET", "/api/v1/contests", nil, withSession(s)), http.StatusUnauthorized, "")
		}
		mustError(t, h.do("POST", "/api/v1/login", map[string]string{"username": "bkp", "password": password}), http.StatusUnauthorized, "")
		h.login("bkp", newPassword)

		// An admin resets it, without the old one.
		r = h.do("POST", path, map[string]string{"password": password}, asAdmin)
		mustStatus(t, r, http.StatusOK)
		mustError(t, h.do("GET", "/api/v1/contests", nil, withSession(fresh)), http.StatusUnauthorized, "")
		h.login("bkp", password)
	})
}

// The users page: an admin disables, enables, resets, adds users and
// revokes tokens, each answered in Vietnamese; a person changes their own
// password on /password. A desk signed in with a token has no password
// page.
func TestAccountPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const password = "mật khẩu đủ dài 2025"
	h.seedUser("thuky", password, "admin")
	h.seedUser("bkp", password, "counter")
	admin := h.login("thuky", password)
	as := func(s session) []opt {
		return []opt{withHeader("Cookie", "kp_session="+s.cookie), withHeader("Content-Type", "application/x-www-form-urlencoded")}
	}
	post := func(path string, v url.Values, s session) *response {
		v.Set("_csrf", s.csrf)
		return h.page("POST", path, v.Encode(), as(s)...)
	}

	page := h.page("GET", "/users", nil, as(admin)...)
	mustStatus(t, page, http.StatusOK)
	for _, want := range []string{"Người dùng và mã truy cập", "bkp", `action="/users/bkp/disabled"`, "Đặt lại mật khẩu", "Thêm người dùng"} {
		if !strings.Contains(string(page.body), want) {
			t.Errorf("the users page lacks %q", want)
		}
	}
	bkp := h.login("bkp", password)
	r := post("/users/bkp/disabled", url.Values{"disabled": {"true"}}, admin)
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), "Đã khóa bkp; 1 phiên làm việc đã kết thúc.") {
		t.Errorf("no notice of the disable:\n%s", r.body)
	}
	mustError(t, h.do("GET", "/api/v1/contests", nil, withSession(bkp)), http.StatusUnauthorized, "")
	mustStatus(t, post("/users/bkp/disabled", url.Values{"disabled": {"false"}}, admin), http.StatusOK)
	r = post("/users/thuky/disabled", url.Values{"disabled": {"true"}}, admin)
	mustStatus(t, r, http.StatusConflict)
	if !strings.Contains(string(r.body), "Không thể khóa tài khoản bạn đang dùng") {
		t.Errorf("no Vietnamese refusal:\n%s", r.body)
	}
	r = post("/users/bkp/password", url.Values{"password": {"ngắn"}}, admin)
	mustStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.body), "Mật khẩu mới: phải từ 10 đến 72 ký tự.") {
		t.Errorf("no Vietnamese refusal naming the field:\n%s", r.body)
	}
	mustStatus(t, post("/users/bkp/password", url.Values{"password": {"mật khẩu mới tinh 2026"}}, admin), http.StatusOK)
	h.login("bkp", "mật khẩu mới tinh 2026")
	r = post("/users", url.Values{"username": {"Thư ký 2"}, "password": {password}, "role": {"viewer"}}, admin)
	mustStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.body), "Tên đăng nhập: từ 1 đến 64 ký tự") {
		t.Errorf("no Vietnamese refusal of the name:\n%s", r.body)
	}
	mustStatus(t, post("/users", url.Values{"username": {"thuky2"}, "password": {password}, "role": {"viewer"}}, admin), http.StatusOK)
	h.login("thuky2", password)

	desk := h.issueToken("counter", "Bàn 1")
	page = h.page("GET", "/users", nil, as(admin)...)
	m := regexp.MustCompile(`action="/tokens/([0-9a-f]+)/revoke"`).FindSubmatch(page.body)
	if m == nil {
		t.Fatalf("the users page lists no token to revoke:\n%s", page.body)
	}
	r = post("/tokens/"+string(m[1])+"/revoke", url.Values{}, admin)
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), "Đã thu hồi mã") {
		t.Errorf("no notice of the revocation:\n%s", r.body)
	}
	mustError(t, h.do("GET", "/api/v1/contests", nil, bearer(desk)), http.StatusUnauthorized, "")

	// A person's own password.
	me := h.login("thuky2", password)
	page = h.page("GET", "/password", nil, as(me)...)
	mustStatus(t, page, http.StatusOK)
	if !strings.Contains(string(page.body), "Mật khẩu hiện tại") {
		t.Errorf("the password page:\n%s", page.body)
	}
	r = post("/password", url.Values{"old_password": {password}, "password": {"mật khẩu mới tinh 2026"}, "confirm": {"mật khẩu khác 2026"}}, me)
	mustStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.body), "Nhập lại mật khẩu mới: không khớp") {
		t.Errorf("no refusal of the confirmation:\n%s", r.body)
	}
	r = post("/password", url.Values{"old_password": {"sai mật khẩu 123"}, "password": {"mật khẩu mới tinh 2026"}, "confirm": {"mật khẩu mới tinh 2026"}}, me)
	mustStatus(t, r, http.StatusUnauthorized)
	if !strings.Contains(string(r.body), "Mật khẩu hiện tại: không đúng.") {
		t.Errorf("no refusal of the old password:\n%s", r.body)
	}
	r = post("/password", url.Values{"old_password": {password}, "password": {"mật khẩu mới tinh 2026"}, "confirm": {"mật khẩu mới tinh 2026"}}, me)
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), "Đã đổi mật khẩu.") {
		t.Errorf("no notice of the change:\n%s", r.body)
	}
	fresh := sessionCookie(t, r).Value
	mustError(t, h.do("GET", "/api/v1/contests", nil, withSession(me)), http.StatusUnauthorized, "")
	mustStatus(t, h.do("GET", "/api/v1/contests", nil, withHeader("Cookie", "kp_session="+fresh)), http.StatusOK)

	// Desks and viewers are kept out of the admin's page; a desk has no
	// password to change.
	deskForm := h.postLoginForm(url.Values{"token": {h.issueToken("counter", "Bàn 2")}})
	deskSession := withHeader("Cookie", "kp_session="+sessionCookie(t, deskForm).Value)
	mustStatus(t, h.page("GET", "/users", nil, deskSession), http.StatusForbidden)
	mustStatus(t, h.page("GET", "/password", nil, deskSession), http.StatusForbidden)
	home := h.page("GET", "/", nil, withHeader("Cookie", "kp_session="+fresh))
	if !strings.Contains(string(home.body), `href="/password"`) || strings.Contains(string(home.body), `href="/users"`) {
		t.Errorf("a viewer's header: want the password link and not the users page")
	}
}

// A person's full name and a desk's name are what the log records for
// what they key from the rename on; bad names are refused naming the
// field, on the API and on the users page.
func TestRenamePeopleAndDesks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const password = "mật khẩu đủ dài 2025"
	h.seedUser("thuky", password, "admin")
	h.seedUser("bkp", password, "counter")
	h.openContest(contestDef("r1"))
	desk := h.issue(map[string]string{"role": "counter", "name": "Bàn 1"})

	var renamed struct{ Name string }
	decode(t, h.do("PATCH", "/api/v1/users/bkp", map[string]string{"name": " Trần  Văn Bình "}, asAdmin), &renamed)
	if renamed.Name != "Trần Văn Bình" {
		t.Errorf("renamed user = %q", renamed.Name)
	}
	decode(t, h.do("PATCH", "/api/v1/tokens/"+desk.ID, map[string]string{"name": "Bàn số 2"}, asAdmin), &renamed)
	if renamed.Name != "Bàn số 2" {
		t.Errorf("renamed token = %q", renamed.Name)
	}
	mustStatus(t, h.postBallot("r1", `{"id": "a1", "struck": ["c1"]}`, withSession(h.login("bkp", password))), http.StatusCreated)
	mustStatus(t, h.postBallot("r1", `{"id": "a2", "struck": ["c1"]}`, bearer(desk.Token)), http.StatusCreated)
	log := h.do("GET", "/api/v1/contests/r1/log", nil, asAdmin)
	mustStatus(t, log, http.StatusOK)
	for _, want := range []string{`"desk":"Trần Văn Bình"`, `"desk":"Bàn số 2"`} {
		if !strings.Contains(string(log.body), want) {
			t.Errorf("the log lacks %s:\n%s", want, log.body)
		}
	}

	for _, tc := range []struct {
		what, path string
		body       any
		status     int
		field      string
	}{
		{"a user's name too long", "/api/v1/users/bkp", map[string]string{"name": strings.Repeat("Bình ", 30)}, http.StatusBadRequest, "name"},
		{"a user, nothing to change", "/api/v1/users/bkp", map[string]string{}, http.StatusBadRequest, "disabled"},
		{"an unknown user", "/api/v1/users/nobody", map[string]string{"name": "Ai Đó"}, http.StatusNotFound, "username"},
		{"a desk without a name", "/api/v1/tokens/" + desk.ID, map[string]string{"name": "  "}, http.StatusBadRequest, "name"},
		{"a desk, nothing to change", "/api/v1/tokens/" + desk.ID, map[string]string{}, http.StatusBadRequest, "name"},
		{"an unknown desk", "/api/v1/tokens/0123abcd", map[string]string{"name": "Bàn 9"}, http.StatusNotFound, "id"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			mustError(t, h.in(t).do("PATCH", tc.path, tc.body, asAdmin), tc.status, tc.field)
		})
	}
	mustStatus(t, h.do("PATCH", "/api/v1/tokens/"+desk.ID, map[string]string{"name": "Bàn 3"}, bearer(desk.Token)), http.StatusForbidden)

	admin := h.login("thuky", password)
	post := func(path string, v url.Values) *response {
		v.Set("_csrf", admin.csrf)
		return h.page("POST", path, v.Encode(), withHeader("Cookie", "kp_session="+admin.cookie), asForm)
	}
	page := h.page("GET", "/users", nil, withHeader("Cookie", "kp_session="+admin.cookie))
	for _, want := range []string{`action="/users/bkp/name"`, `value="Trần Văn Bình"`, `action="/tokens/` + desk.ID + `/name"`, `value="Bàn số 2"`} {
		if !strings.Contains(string(page.body), want) {
			t.Errorf("the users page lacks %s", want)
		}
	}
	for _, tc := range []struct {
		what, path, name string
		status           int
		want             string
	}{
		{"a user renamed", "/users/bkp/name", "Trần Văn Bảo", http.StatusOK, "Đã đổi tên bkp thành “Trần Văn Bảo”."},
		{"a user's name cleared", "/users/bkp/name", "", http.StatusOK, "Đã đổi tên bkp thành “bkp”."},
		{"a user's name too long", "/users/bkp/name", strings.Repeat("Bảo ", 30), http.StatusBadRequest, "Họ và tên: tối đa 100 ký tự"},
		{"a desk renamed", "/tokens/" + desk.ID + "/name", "Bàn 4", http.StatusOK, "Đã đổi tên mã " + desk.ID + " thành “Bàn 4”."},
		{"a desk without a name", "/tokens/" + desk.ID + "/name", "", http.StatusBadRequest, "tên bàn không được để trống"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			r := post(tc.path, url.Values{"name": {tc.name}})
			mustStatus(t, r, tc.status)
			if !strings.Contains(string(r.body), tc.want) {
				t.Errorf("want %q in:\n%s", tc.want, r.body)
			}
		})
	}
}
