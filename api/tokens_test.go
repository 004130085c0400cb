package api_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/internal/proof"
	"github.com/kiemphieu/kiemphieu/tally"
)

// issued is the answer to POST /api/v1/tokens.
type issuedToken struct {
	Token, ID, Name, Role, Contest, Created, Expires string
	CreatedBy                                        string `json:"created_by"`
}

func (h *harness) issue(body map[string]string) issuedToken {
	h.t.Helper()
	r := h.do("POST", "/api/v1/tokens", body, asAdmin)
	mustStatus(h.t, r, http.StatusCreated)
	var out issuedToken
	decode(h.t, r, &out)
	return out
}

// deskTokenFromPage issues a desk token with the "Cấp mã" form of a
// round's control page, as the secretary does, and reads it off the page.
func (h *harness) deskTokenFromPage(contest, name string, fields ...string) string {
	h.t.Helper()
	v := url.Values{"name": {name}}
	for i := 0; i+1 < len(fields); i += 2 {
		v.Set(fields[i], fields[i+1])
	}
	r := h.page("POST", "/contests/"+contest+"/tokens", v.Encode(), asAdmin, withHeader("Content-Type", "application/x-www-form-urlencoded"))
	mustStatus(h.t, r, http.StatusCreated)
	m := regexp.MustCompile(`<code class="token">(kp_[A-Za-z0-9_-]+)</code>`).FindSubmatch(r.body)
	if m == nil {
		h.t.Fatalf("no token on the desk-token page:\n%s", r.body)
	}
	return string(m[1])
}

// closeWithTie keys the ballots of a tie at the last seat into id (open)
// and closes it: the round then calls for a re-vote, id+"-r2".
func (h *harness) closeWithTie(id string) {
	h.t.Helper()
	var ballots []tally.Ballot
	ballots = append(ballots, strikes(id+"a", 1, "c1")...)
	ballots = append(ballots, strikes(id+"b", 1, "c2")...)
	ballots = append(ballots, strikes(id+"c", 3, "c3")...)
	ballots = append(ballots, strikes(id+"d", 3, "c4")...)
	h.castStrike(id, ballots...)
	h.transition(id, "close", map[string]int{"issued": 8})
}

// A token issued for a contest works on it and on the rounds built from it,
// and is 403 on every other contest, on the routes that name none, and on
// the pages — finding 1's "a desk token of c1 posted to c3, a contest
// created after the token" is refused. The desk token of a round's setup
// page is always so scoped.
func TestScopedTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.openContest(contestDef("bch"))
	h.openContest(contestDef("khac"))

	api := h.issue(map[string]string{"role": "counter", "name": "Bàn 1", "contest": "bch"})
	if api.Contest != "bch" {
		t.Fatalf("contest = %q in the answer, want bch", api.Contest)
	}
	page := h.deskTokenFromPage("bch", "Bàn 2")
	h.openContest(contestDef("sau")) // made after the tokens

	for name, token := range map[string]string{"api": api.Token, "page": page} {
		t.Run(name, func(t *testing.T) {
			h := h.in(t)
			desk := bearer(token)
			mustStatus(t, h.postBallot("bch", map[string]any{"id": name + "-1", "struck": []string{"c1"}}, desk), http.StatusCreated)
			mustStatus(t, h.do("GET", "/api/v1/contests/bch", nil, desk), http.StatusOK)
			mustStatus(t, h.do("GET", "/api/v1/contests/bch/result", nil, desk), http.StatusOK)
			for _, other := range []string{"khac", "sau", "khong-co"} {
				mustError(t, h.postBallot(other, map[string]any{"id": name + "-x", "struck": []string{"c1"}}, desk), http.StatusForbidden, "")
				mustError(t, h.do("GET", "/api/v1/contests/"+other, nil, desk), http.StatusForbidden, "")
				mustError(t, h.do("GET", "/api/v1/contests/"+other+"/result", nil, desk), http.StatusForbidden, "")
				mustError(t, h.do("POST", "/api/v1/contests/"+other+"/ballots/b-1/void", map[string]string{"reason": "nhầm"}, desk), http.StatusForbidden, "")
				page := h.page("GET", "/contests/"+other+"/desk", nil, desk)
				mustStatus(t, page, http.StatusForbidden)
				// The person at the desk is told why, in Vietnamese.
				if !strings.Contains(text(page.body), "Mã đăng nhập của bàn này chỉ dùng cho cuộc bầu cử “bch”") {
					t.Errorf("the desk page of another contest does not say why:\n%.600s", text(page.body))
				}
				mustStatus(t, h.page("GET", "/contests/"+other+"/export.csv", nil, desk), http.StatusForbidden)
			}
			mustStatus(t, h.page("GET", "/contests/bch/desk", nil, desk), http.StatusOK)
			// What names no contest: the list shows only its own; the rest
			// is closed to it.
			var list struct {
				Contests []struct{ ID string } `json:"contests"`
			}
			decode(t, h.do("GET", "/api/v1/contests", nil, desk), &list)
			if len(list.Contests) != 1 || list.Contests[0].ID != "bch" {
				t.Errorf("GET /contests for a desk of bch: %+v, want bch alone", list.Contests)
			}
			for _, path := range []string{"/api/v1/congresses", "/api/v1/rollup"} {
				mustError(t, h.do("GET", path, nil, desk), http.StatusForbidden, "")
			}
			home := h.page("GET", "/", nil, desk)
			if !strings.Contains(string(home.body), "/contests/bch/desk") || strings.Contains(string(home.body), "khac") {
				t.Errorf("the home page of a desk of bch shows other rounds, or not its own:\n%s", home.body)
			}
		})
	}

	// The round that follows bch is in scope; the tokens were issued before it.
	for _, id := range []string{"api-1", "page-1"} {
		mustStatus(t, h.do("POST", "/api/v1/contests/bch/ballots/"+id+"/void", map[string]string{"reason": "thử"}, asAdmin), http.StatusCreated)
	}
	h.closeWithTie("bch")
	mustStatus(t, h.do("POST", "/api/v1/contests/bch/next", nil, asAdmin), http.StatusCreated)
	h.transition("bch-r2", "open", nil)
	mustStatus(t, h.postBallot("bch-r2", map[string]any{"id": "r2-1", "struck": []string{"c3"}}, bearer(page)), http.StatusCreated)
	mustStatus(t, h.do("GET", "/api/v1/contests/bch-r2", nil, bearer(api.Token)), http.StatusOK)
	// A token of the second round does not reach back to the first.
	r2 := h.issue(map[string]string{"role": "viewer", "contest": "bch-r2"})
	mustStatus(t, h.do("GET", "/api/v1/contests/bch-r2/result", nil, bearer(r2.Token)), http.StatusOK)
	mustError(t, h.do("GET", "/api/v1/contests/bch/result", nil, bearer(r2.Token)), http.StatusForbidden, "")

	// An unscoped counter token still works everywhere.
	unscoped := bearer(h.issueToken("counter", "Bàn 9"))
	mustStatus(t, h.postBallot("khac", map[string]any{"id": "k-1", "struck": []string{"c1"}}, unscoped), http.StatusCreated)

	t.Run("refused", func(t *testing.T) {
		h := h.in(t)
		for _, tt := range []struct {
			body  map[string]string
			field string
		}{
			{map[string]string{"role": "counter", "contest": "khong-co"}, "contest"},
			{map[string]string{"role": "admin", "contest": "bch"}, "contest"},
		} {
			mustError(t, h.do("POST", "/api/v1/tokens", tt.body, asAdmin), http.StatusBadRequest, tt.field)
		}
	})
	proof.Report(t, "scoped_refusals_checked", 2*3*6+2*2, "requests")
}

// Every token expires: a default for its role, or what the request asks
// for; expired, it is refused as an unknown one, even while cached, and
// the sessions begun with it end.
func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.openContest(contestDef("bch"))
	now := h.clock.Now()
	for _, tt := range []struct {
		body map[string]string
		want time.Time
	}{
		{map[string]string{"role": "counter"}, now.Add(24 * time.Hour)},
		{map[string]string{"role": "viewer"}, now.Add(72 * time.Hour)},
		{map[string]string{"role": "admin"}, now.Add(12 * time.Hour)},
		{map[string]string{"role": "counter", "lifetime": "90m"}, now.Add(90 * time.Minute)},
		{map[string]string{"role": "viewer", "expires": now.Add(48 * time.Hour).Format(time.RFC3339)}, now.Add(48 * time.Hour)},
	} {
		got := h.issue(tt.body)
		if e, err := time.Parse(time.RFC3339, got.Expires); err != nil || !e.Equal(tt.want) {
			t.Errorf("%v: expires = %q, want %s", tt.body, got.Expires, tt.want.UTC().Format(time.RFC3339))
		}
	}
	for _, tt := range []struct {
		body  map[string]string
		field string
	}{
		{map[string]string{"role": "counter", "lifetime": "24h", "expires": now.Add(time.Hour).Format(time.RFC3339)}, "lifetime"},
		{map[string]string{"role": "counter", "lifetime": "một ngày"}, "lifetime"},
		{map[string]string{"role": "counter", "lifetime": "721h"}, "lifetime"},
		{map[string]string{"role": "counter", "lifetime": "30s"}, "lifetime"},
		{map[string]string{"role": "counter", "expires": "ngày mai"}, "expires"},
		{map[string]string{"role": "counter", "expires": now.Add(-time.Hour).Format(time.RFC3339)}, "expires"},
	} {
		mustError(t, h.do("POST", "/api/v1/tokens", tt.body, asAdmin), http.StatusBadRequest, tt.field)
	}
	// The desk-token form: 24 hours unless another lifetime is picked.
	desk := h.deskTokenFromPage("bch", "Bàn 1")
	short := h.deskTokenFromPage("bch", "Bàn 2", "lifetime", "12h")
	mustStatus(t, h.page("POST", "/contests/bch/tokens", "name=B%C3%A0n+3&lifetime=9999h", asAdmin,
		withHeader("Content-Type", "application/x-www-form-urlencoded")), http.StatusBadRequest)

	// A session begun with a token ends with it, however busy.
	h.clock.Advance(12*time.Hour - 10*time.Minute)
	r := h.postLoginForm(url.Values{"token": {short}})
	mustStatus(t, r, http.StatusSeeOther)
	deskSession := withHeader("Cookie", "kp_session="+sessionCookie(t, r).Value)
	h.clock.Advance(10*time.Minute - 5*time.Second)
	mustStatus(t, h.do("GET", "/api/v1/contests/bch", nil, deskSession), http.StatusOK)
	mustStatus(t, h.do("GET", "/api/v1/contests/bch", nil, bearer(short)), http.StatusOK) // cached from here
	h.clock.Advance(6 * time.Second)
	mustError(t, h.do("GET", "/api/v1/contests/bch", nil, bearer(short)), http.StatusUnauthorized, "")
	mustError(t, h.do("GET", "/api/v1/contests/bch", nil, deskSession), http.StatusUnauthorized, "")
	mustStatus(t, h.do("GET", "/api/v1/contests/bch", nil, bearer(desk)), http.StatusOK)
	h.clock.Advance(12 * time.Hour)
	mustError(t, h.do("GET", "/api/v1/contests/bch", nil, bearer(desk)), http.StatusUnauthorized, "")
	proof.Report(t, "desk_token_lifetime", 24, "h")
}

// GET /api/v1/tokens lists the tokens without their secrets; DELETE
// revokes one at once — even while an instance has it cached — and ends
// the sessions begun with it.
func TestTokenListAndRevoke(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.openContest(contestDef("bch"))
	desk := h.issue(map[string]string{"role": "counter", "name": "Bàn 1", "contest": "bch"})
	screen := h.issue(map[string]string{"role": "viewer", "name": "Màn hình"})

	r := h.do("GET", "/api/v1/tokens", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	var list struct {
		Tokens []map[string]any `json:"tokens"`
	}
	decode(t, r, &list)
	if len(list.Tokens) != 2 {
		t.Fatalf("%d tokens listed, want 2: %s", len(list.Tokens), r.body)
	}
	byID := map[string]map[string]any{}
	for _, l := range list.Tokens {
		byID[l["id"].(string)] = l
	}
	want := map[string]any{"id": desk.ID, "name": "Bàn 1", "role": "counter", "contest": "bch", "created": desk.Created,
		"created_by": "token:bootstrap", "expires": desk.Expires}
	for k, v := range want {
		if byID[desk.ID][k] != v {
			t.Errorf("listed %s = %v, want %v", k, byID[desk.ID][k], v)
		}
	}
	if _, ok := byID[screen.ID]["contest"]; ok || byID[screen.ID]["expires"] != screen.Expires {
		t.Errorf("the unscoped viewer token is listed as %v", byID[screen.ID])
	}
	for _, secret := range []string{desk.Token, screen.Token, desk.Token[3:]} {
		if strings.Contains(string(r.body), secret) {
			t.Errorf("the list holds a token's secret")
		}
	}
	decode(t, h.do("GET", "/api/v1/tokens?contest=bch", nil, asAdmin), &list)
	if len(list.Tokens) != 1 {
		t.Errorf("?contest=bch lists %d tokens, want 1", len(list.Tokens))
	}

	mustStatus(t, h.postBallot("bch", map[string]any{"id": "t-1", "struck": []string{"c1"}}, bearer(desk.Token)), http.StatusCreated) // cached now
	s := h.postLoginForm(url.Values{"token": {desk.Token}})
	mustStatus(t, s, http.StatusSeeOther)
	deskSession := withHeader("Cookie", "kp_session="+sessionCookie(t, s).Value)
	mustStatus(t, h.do("GET", "/api/v1/contests/bch", nil, deskSession), http.StatusOK)

	r = h.do("DELETE", "/api/v1/tokens/"+desk.ID, nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"sessions_ended":1`) {
		t.Errorf("revocation answer %s, want one session ended", r.body)
	}
	mustError(t, h.postBallot("bch", map[string]any{"id": "t-2", "struck": []string{"c1"}}, bearer(desk.Token)), http.StatusUnauthorized, "")
	mustError(t, h.do("GET", "/api/v1/contests/bch", nil, deskSession), http.StatusUnauthorized, "")
	mustStatus(t, h.do("GET", "/api/v1/contests/bch", nil, bearer(screen.Token)), http.StatusOK)
	mustError(t, h.do("DELETE", "/api/v1/tokens/"+desk.ID, nil, asAdmin), http.StatusNotFound, "id")
	mustError(t, h.do("DELETE", "/api/v1/tokens/"+screen.ID, nil, bearer(screen.Token)), http.StatusForbidden, "")
	mustError(t, h.do("GET", "/api/v1/tokens", nil, bearer(screen.Token)), http.StatusForbidden, "")

	t.Run("page", func(t *testing.T) {
		h := h.in(t)
		other := h.deskTokenFromPage("bch", "Bàn 7")
		setup := h.page("GET", "/contests/bch/setup", nil, asAdmin)
		m := regexp.MustCompile(`action="/contests/bch/tokens/([0-9a-f]+)/revoke"`).FindSubmatch(setup.body)
		if m == nil || !strings.Contains(string(setup.body), "Bàn 7") || !strings.Contains(string(setup.body), "Thu hồi") {
			t.Fatalf("the control page does not list the desk token with a revoke button:\n%s", setup.body)
		}
		r := h.page("POST", "/contests/bch/tokens/"+string(m[1])+"/revoke", "", asAdmin, withHeader("Content-Type", "application/x-www-form-urlencoded"))
		mustStatus(t, r, http.StatusSeeOther)
		mustError(t, h.do("GET", "/api/v1/contests/bch", nil, bearer(other)), http.StatusUnauthorized, "")
	})
}

// A session begun with KIEMPHIEU_ADMIN_TOKEN lasts while the instance has
// that token: started again with another, it ends.
func TestBootstrapSessionRotation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.postLoginForm(url.Values{"token": {adminToken}})
	mustStatus(t, r, http.StatusSeeOther)
	cookie := withHeader("Cookie", "kp_session="+sessionCookie(t, r).Value)
	mustStatus(t, h.do("GET", "/api/v1/contests", nil, cookie), http.StatusOK)
	rotated := api.New(h.store, api.Config{AdminToken: "a-new-admin-token-0123456789", Now: h.clock.Now})
	mustError(t, doApp(t, rotated, "GET", "/api/v1/contests", nil, cookie), http.StatusUnauthorized, "")
}
