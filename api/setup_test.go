package api_test

import (
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/kiemphieu/kiemphieu/api"
)

// checkAnswer is the body of POST /api/v1/contests/check.
type checkAnswer struct {
	Valid        bool   `json:"valid"`
	Denominator  *int   `json:"denominator"`
	Formula      string `json:"formula"`
	Threshold    *int   `json:"threshold"`
	Surplus      *int   `json:"surplus"`
	SurplusLimit *int   `json:"surplus_limit"`
	Problems     []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"problems"`
}

func names(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"id": "c" + string(rune('a'+i/26)) + string(rune('a'+i%26)), "name": "Nguyễn Văn " + string(rune('A'+i%26)) + string(rune('a'+i/26))}
	}
	return out
}

func intp(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestCheckContestFigures(t *testing.T) {
	h := newHarness(t)
	ex1 := map[string]any{"congress": "members", "convened": 25,
		"exclusions": map[string]any{"temporary_elsewhere": 2, "exempt_absent": 1, "absent_with_leave": 1}}
	ex4 := map[string]any{"congress": "delegates", "convened": 200,
		"exclusions": map[string]any{"committee_absent": 3, "delegates_absent_unreplaced": 2}}
	cases := []struct {
		name                      string
		def                       map[string]any
		valid                     bool
		d, threshold, surp, limit any
		formula                   string
		fields                    []string
	}{
		// domain-rules Ex 1: D = 25 − 2 − 1 − 1 = 21, threshold 11; 6 names for 5 seats.
		{"ex1 branch committee", with(contestDef("ex1"), "seats", 5, "electorate", ex1, "candidates", names(6)),
			true, 21, 11, 1, 1, "25 − 2 − 1 − 0 − 1 = 21", nil},
		// Ex 4: D = 200 − 3 − 2 = 195, threshold 98; 18 names for 15 seats (limit 4).
		{"ex4 delegate congress", with(contestDef("ex4"), "seats", 15, "electorate", ex4, "candidates", names(18)),
			true, 195, 98, 3, 4, "200 − 3 − 2 = 195", nil},
		// Ex 11: 15 seats allow 4 more names, not 5.
		{"ex11 surplus over the limit", with(contestDef("ex11"), "seats", 15, "electorate", ex4, "candidates", names(20)),
			false, 195, 98, 5, 4, "200 − 3 − 2 = 195", []string{"candidates"}},
		// Ex 11: a standing committee of 5 allows exactly 1.
		{"ex11 standing committee of 5", with(contestDef("ex11b"), "kind", "standing_committee", "seats", 5, "candidates", names(7)),
			false, 8, 5, 2, 1, "9 − 0 − 0 − 0 − 1 = 8", []string{"candidates"}},
		// Ex 6: a committee meeting, D = 15, threshold 8; no surplus limit for the inspection committee.
		{"ex6 inspection committee", with(approveDef("ex6"), "kind", "inspection_committee", "seats", 3,
			"electorate", map[string]any{"congress": "body", "convened": 15}, "candidates", names(3)),
			true, 15, 8, 0, nil, "15 = 15", nil},
		// Audit B8: a committee meeting of 16 with one member detained, D = 15.
		{"committee meeting, one detained", with(approveDef("b8"), "kind", "inspection_committee", "seats", 3,
			"electorate", map[string]any{"congress": "body", "convened": 16, "exclusions": map[string]any{"suspended_or_detained": 1}},
			"candidates", names(3)), true, 15, 8, 0, nil, "16 − 1 = 15", nil},
		// An exclusion of the other congress type is an error; no D is shown.
		{"exclusion of the other type", with(contestDef("bad"), "electorate", map[string]any{"congress": "delegates", "convened": 30,
			"exclusions": map[string]any{"absent_with_leave": 1}}), false, nil, nil, 1, 1, "",
			[]string{"electorate.exclusions.absent_with_leave"}},
		// Every problem, each with its field; candidate fields count in typed order.
		{"several problems", with(contestDef("x y"), "title", "", "candidates", []any{
			map[string]any{"id": "c1", "name": "Nguyễn Văn An"}, map[string]any{"id": "c2", "name": ""},
			map[string]any{"id": "c3", "name": "Lê Văn Cường", "birth_date": "02/03/1975"}, map[string]any{"id": "c4", "name": "Phạm Thị Dung"}}),
			false, 8, 5, 1, 1, "9 − 0 − 0 − 0 − 1 = 8", []string{"id", "title", "candidates[1].name", "candidates[2].birth_date"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.in(t).do("POST", "/api/v1/contests/check", tc.def, asAdmin)
			mustStatus(t, r, http.StatusOK)
			var got checkAnswer
			decode(t, r, &got)
			if got.Valid != tc.valid {
				t.Errorf("valid = %v, want %v (%s)", got.Valid, tc.valid, r.body)
			}
			for _, f := range []struct {
				name      string
				got, want any
			}{{"denominator", intp(got.Denominator), tc.d}, {"threshold", intp(got.Threshold), tc.threshold},
				{"surplus", intp(got.Surplus), tc.surp}, {"surplus_limit", intp(got.SurplusLimit), tc.limit}} {
				if f.got != f.want {
					t.Errorf("%s = %v, want %v (%s)", f.name, f.got, f.want, r.body)
				}
			}
			if got.Formula != tc.formula {
				t.Errorf("formula = %q, want %q", got.Formula, tc.formula)
			}
			var fields []string
			for _, p := range got.Problems {
				fields = append(fields, p.Field)
				if p.Message == "" {
					t.Errorf("problem %s has no message", p.Field)
				}
			}
			if strings.Join(fields, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("problem fields = %v, want %v", fields, tc.fields)
			}
		})
	}
	// Nothing was stored.
	r := h.do("GET", "/api/v1/contests", nil, asAdmin)
	if strings.Contains(string(r.body), "ex1") {
		t.Errorf("the check stored a contest: %s", r.body)
	}
}

func TestCheckContestRefusals(t *testing.T) {
	h := newHarness(t)
	mustError(t, h.do("POST", "/api/v1/contests/check", `{"seat": 5}`, asAdmin), http.StatusBadRequest, "seat")
	mustError(t, h.do("POST", "/api/v1/contests/check", `{"seats": "five"}`, asAdmin), http.StatusBadRequest, "seats")
	mustError(t, h.do("POST", "/api/v1/contests/check", contestDef("a"), bearer(h.issueToken("counter", "Bàn 1"))), http.StatusForbidden, "")
	mustError(t, h.do("POST", "/api/v1/contests/check", contestDef("a")), http.StatusUnauthorized, "")
	// A browser session must send its CSRF token.
	h.seedUser("thuky", "mat-khau-dai-du", "admin")
	s := h.login("thuky", "mat-khau-dai-du")
	mustError(t, h.do("POST", "/api/v1/contests/check", contestDef("a"), withCookie(s)), http.StatusForbidden, "X-CSRF-Token")
	mustStatus(t, h.do("POST", "/api/v1/contests/check", contestDef("a"), withSession(s)), http.StatusOK)
}

// page fetches a page as a browser would and returns the status and HTML.
func (h *harness) page(method, path string, body any, opts ...opt) *response {
	h.t.Helper()
	return h.do(method, path, body, append([]opt{withHeader("Accept", "text/html")}, opts...)...)
}

func TestSetupPagesAccess(t *testing.T) {
	h := newHarness(t)
	h.createContest(contestDef("r1"))
	viewer := bearer(h.issueToken("viewer", "xem"))
	counter := bearer(h.issueToken("counter", "Bàn 1"))
	for _, path := range []string{"/congresses/new", "/contests/new", "/contests/r1/setup"} {
		t.Run(path, func(t *testing.T) {
			h := h.in(t)
			r := h.page("GET", path, nil)
			if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login?next=") {
				t.Errorf("anonymous: %d to %q, want 303 to /login", r.status, r.header.Get("Location"))
			}
			mustStatus(t, h.page("GET", path, nil, viewer), http.StatusForbidden)
			mustStatus(t, h.page("GET", path, nil, counter), http.StatusForbidden)
			r = h.page("GET", path, nil, asAdmin)
			mustStatus(t, r, http.StatusOK)
			if r.header.Get("Content-Security-Policy") == "" {
				t.Error("no Content-Security-Policy on a setup page")
			}
		})
	}
	mustStatus(t, h.page("GET", "/contests/nope/setup", nil, asAdmin), http.StatusNotFound)
	mustStatus(t, h.page("GET", "/congresses/nope/setup", nil, asAdmin), http.StatusNotFound)
	mustStatus(t, h.page("GET", "/contests/new?congress=nope", nil, asAdmin), http.StatusNotFound)
}

func congressRecord() map[string]any {
	return map[string]any{
		"id": "dh-p4", "organization": "Đảng bộ Phường 4", "superior": "Đảng bộ Quận 3",
		"name": "Đại hội đại biểu Đảng bộ Phường 4", "ordinal": 12, "term": "2025–2030", "place": "Phường 4", "date": "2025-05-20",
		"counting_committee": []any{
			map[string]any{"name": "Võ Thị Hoa", "role": "head"},
			map[string]any{"name": "Đặng Văn Long", "role": "member"},
		},
		// The congress's own D (its votes naming no contest are decided on it).
		"electorate": map[string]any{"congress": "delegates", "convened": 120},
		"votes": []any{
			map[string]any{"subject": "counting_committee", "present": 120, "approve": 120, "disapprove": 0, "other": 0},
			map[string]any{"subject": "seats", "contest": "bch", "present": 8, "approve": 7, "disapprove": 1, "other": 0}, // bch's D = 8
			map[string]any{"subject": "other", "title": "Cho rút tên", "present": 120, "approve": 60, "disapprove": 60, "other": 0},
		},
	}
}

func TestCongressSetupPageRendersRecord(t *testing.T) {
	h := newHarness(t)
	mustStatus(t, h.do("POST", "/api/v1/congresses", congressRecord(), asAdmin), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=dh-p4", contestDef("bch"), asAdmin), http.StatusCreated)
	r := h.page("GET", "/congresses/dh-p4/setup", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	body := html.UnescapeString(string(r.body))
	for _, want := range []string{
		`value="Đảng bộ Phường 4"`, `value="Đảng bộ Quận 3"`, `value="2025–2030"`, `value="2025-05-20"`,
		`value="Võ Thị Hoa"`, `value="Đặng Văn Long"`,
		`<option value="head" selected>Trưởng ban</option>`,
		// The shares and outcomes are the engine's, of D: 7/8 = 87,50%, 1/8 = 12,50%, 60/120 = 50,00%.
		"87,50%", "12,50%", "50,00%",
		`href="/contests/bch/setup"`, `href="/contests/new?congress=dh-p4"`,
		`src="/static/setup.js?v=`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// Three votes: one unanimous, two passed (120 of D = 120, 7 of bch's D = 8), one not (60 of 120 is not more than half).
	if n := strings.Count(body, `class="unanimous">100% tán thành`); n != 1 {
		t.Errorf("%d unanimous marks, want 1", n)
	}
	if n := strings.Count(body, `class="passed">thông qua`); n != 2 {
		t.Errorf("%d passed marks, want 2", n)
	}
	if n := strings.Count(body, `class="failed">không thông qua`); n != 1 {
		t.Errorf("%d not-passed marks, want 1", n)
	}
	// English labels, the same engine figures.
	r = h.page("GET", "/congresses/dh-p4/setup?lang=en", nil, asAdmin)
	if !strings.Contains(string(r.body), "100% approve") || !strings.Contains(string(r.body), "Counting committee") {
		t.Error("the English page lacks its labels")
	}
}

func TestContestNewPage(t *testing.T) {
	h := newHarness(t)
	mustStatus(t, h.do("POST", "/api/v1/congresses", congressRecord(), asAdmin), http.StatusCreated)
	r := h.page("GET", "/contests/new?congress=dh-p4", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	body := string(r.body)
	for _, want := range []string{`name="congress" value="dh-p4"`, `id="contest-defaults"`, `"rounding":"half_up"`,
		`name="electorate.exclusions.delegates_absent_unreplaced"`, `id="import-file"`, `id="check-d"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// Without a congress, the congresses are offered.
	r = h.page("GET", "/contests/new", nil, asAdmin)
	if !strings.Contains(string(r.body), `<option value="dh-p4">`) {
		t.Error("the congress choice lacks dh-p4")
	}
}

func TestContestSetupPageLifecycle(t *testing.T) {
	h := newHarness(t)
	mustStatus(t, h.do("POST", "/api/v1/congresses", congressRecord(), asAdmin), http.StatusCreated)
	def := with(contestDef("bch"), "seats", 1, "kind", "secretary")
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=dh-p4", def, asAdmin), http.StatusCreated)
	get := func() string {
		r := h.page("GET", "/contests/bch/setup", nil, asAdmin)
		mustStatus(t, r, http.StatusOK)
		return html.UnescapeString(string(r.body))
	}
	body := get()
	for _, want := range []string{`data-action="open"`, `<strong id="round-d">8</strong>`, "(9 − 0 − 0 − 0 − 1 = 8)",
		`href="/congresses/dh-p4/setup"`, `href="/contests/bch/ballot-paper"`, `action="/contests/bch/tokens"`} {
		if !strings.Contains(body, want) {
			t.Errorf("draft page lacks %q", want)
		}
	}
	if strings.Contains(body, `id="close-form"`) {
		t.Error("a draft offers to close")
	}
	h.transition("bch", "open", nil)
	h.castStrike("bch", strikes("b", 2, "c1", "c2", "c3")...)
	body = get()
	for _, want := range []string{`id="notes-form"`, `id="close-form"`, `href="/contests/bch/desk"`} {
		if !strings.Contains(body, want) {
			t.Errorf("open page lacks %q", want)
		}
	}
	// Refused: 2 ballots collected, 1 issued. The page's script shows the API's message.
	e := mustError(t, h.do("POST", "/api/v1/contests/bch/close", map[string]int{"issued": 1}, asAdmin), http.StatusConflict, "")
	if !strings.Contains(e.Message, "collected") {
		t.Errorf("close refusal: %q", e.Message)
	}
	h.transition("bch", "close", map[string]int{"issued": 2})
	body = get()
	if !strings.Contains(body, `data-action="certify"`) || !strings.Contains(body, "chốt biên bản") {
		t.Error("closed page lacks certify with its warning")
	}
	// The 2 ballots kept c4 only: 2 of 8 is not more than half, the seat is vacant.
	if !strings.Contains(body, `id="next-form"`) || !strings.Contains(body, "Chưa đủ số lượng") {
		t.Errorf("closed page with a vacant seat lacks the next round: %s", body)
	}
	h.transition("bch", "certify", nil)
	if body = get(); strings.Contains(body, `data-action="certify"`) || !strings.Contains(body, "Đã xác nhận") {
		t.Error("certified page still offers certify")
	}
}

var tokenPattern = regexp.MustCompile(`<code class="token">(kp_[A-Za-z0-9_-]+)</code>`)

func TestDeskTokenForm(t *testing.T) {
	h := newHarnessWith(t, apiConfigWithURL("https://kiemphieu.example/"))
	h.createContest(contestDef("bch"))
	h.seedUser("thuky", "mat-khau-dai-du", "admin")
	s := h.login("thuky", "mat-khau-dai-du")
	form := func(v url.Values, o opt) *response {
		return h.page("POST", "/contests/bch/tokens", v.Encode(), o, withHeader("Content-Type", "application/x-www-form-urlencoded"))
	}
	// Without the form's CSRF token, refused.
	mustStatus(t, form(url.Values{"name": {"Bàn 2"}}, withCookie(s)), http.StatusForbidden)
	mustStatus(t, form(url.Values{"name": {"  "}, "_csrf": {s.csrf}}, withCookie(s)), http.StatusBadRequest)
	r := form(url.Values{"name": {"Bàn 2"}, "_csrf": {s.csrf}}, withCookie(s))
	mustStatus(t, r, http.StatusCreated)
	m := tokenPattern.FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("no token on the page: %s", r.body)
	}
	token := string(m[1])
	if !strings.Contains(string(r.body), `src="data:image/png;base64,`) {
		t.Error("no QR code image")
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q: a page showing a token must not be cached", r.header.Get("Cache-Control"))
	}
	// The token works as a counter's, named after the desk.
	mustStatus(t, h.do("GET", "/api/v1/contests/bch", nil, bearer(token)), http.StatusOK)
	mustError(t, h.do("POST", "/api/v1/contests/bch/open", nil, bearer(token)), http.StatusForbidden, "")
	// A viewer may not issue tokens.
	mustStatus(t, h.page("POST", "/contests/bch/tokens", "name=x", bearer(h.issueToken("viewer", "v")),
		withHeader("Content-Type", "application/x-www-form-urlencoded")), http.StatusForbidden)
}

func TestDeskTokenQRCarriesLoginURL(t *testing.T) {
	h := newHarnessWith(t, apiConfigWithURL("https://kiemphieu.example/"))
	h.createContest(contestDef("bch"))
	r := h.page("POST", "/contests/bch/tokens", "name=B%C3%A0n+3", asAdmin, withHeader("Content-Type", "application/x-www-form-urlencoded"))
	mustStatus(t, r, http.StatusCreated)
	m := tokenPattern.FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("no token: %s", r.body)
	}
	body := html.UnescapeString(string(r.body))
	if !strings.Contains(body, "Bàn 3") {
		t.Error("the page does not name the desk")
	}
	decodeQR(t, body, "https://kiemphieu.example/login#token="+string(m[1]))
}

func TestLoginPageLoadsTokenScript(t *testing.T) {
	h := newHarness(t)
	r := h.page("GET", "/login", nil)
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `src="/static/login.js?v=`) {
		t.Error("the login page does not load login.js")
	}
	js := h.do("GET", "/static/login.js", nil)
	mustStatus(t, js, http.StatusOK)
	if !strings.Contains(string(js.body), "#token=") || !strings.Contains(string(js.body), "replaceState") {
		t.Error("login.js does not read and clear the token fragment")
	}
}

func apiConfigWithURL(u string) api.Config { return api.Config{PublicURL: u} }

// decodeQR checks that the page's QR code encodes want: go-qrcode is
// deterministic, so the same text at the same level and size gives the
// same PNG.
func decodeQR(t *testing.T, body, want string) {
	t.Helper()
	png, err := qrcode.Encode(want, qrcode.Medium, 320)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "data:image/png;base64,"+base64.StdEncoding.EncodeToString(png)) {
		t.Errorf("the QR code does not encode %q", want)
	}
}
