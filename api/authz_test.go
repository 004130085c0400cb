package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/proof"
	"github.com/kiemphieu/kiemphieu/tally"
)

// access is what a principal may expect of an endpoint.
type access string

const (
	allowed      access = "allowed" // any status but 401, 403 and 5xx
	unauthorized access = "401"
	forbidden    access = "403"
)

// TestAuthorizationMatrix checks docs/api.md's "Who may do what" for every
// role, by bearer token and by session cookie, on every endpoint.
func TestAuthorizationMatrix(t *testing.T) {
	h := newHarness(t)
	base := h.listen()
	const password = "mật khẩu đủ dài 2025"

	// Rounds for each row to act on.
	h.openContest(contestDef("m-open"))                             // results public only once certified
	h.openContest(with(contestDef("m-live"), "visibility", "live")) // results public live
	h.openContest(contestDef("m-cert"))
	h.castStrike("m-cert", strikes("b", 6, "c4")...)
	h.transition("m-cert", "close", map[string]int{"issued": 6})
	h.transition("m-cert", "certify", nil)
	h.createContest(contestDef("m-draft"))
	h.openContest(contestDef("m-close"))
	h.openContest(contestDef("m-certme"))
	h.transition("m-certme", "close", map[string]int{"issued": 0})
	h.openContest(contestDef("m-next"))
	h.transition("m-next", "close", map[string]int{"issued": 0}) // nobody elected: a further round
	h.createContest(verifiedDef("m-ver", "triple"))
	mustStatus(t, h.do("PUT", "/api/v1/contests/m-ver/stacks/1", map[string]int{"ballots": 50}, asAdmin), http.StatusOK)
	h.transition("m-ver", "open", nil)
	congress := func(id string) map[string]any {
		return map[string]any{"id": id, "organization": "Chi bộ 3", "name": "Đại hội Chi bộ 3"}
	}
	mustStatus(t, h.do("POST", "/api/v1/congresses", congress("m-cg"), asAdmin), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/congresses", congress("m-cg-gone"), asAdmin), http.StatusCreated)
	h.createContest(contestDef("m-edit"))

	type principal struct {
		name string
		role string // "" for anonymous
		auth opt
	}
	principals := []principal{
		{"anonymous", "", func(*http.Request) {}},
		{"viewer", "viewer", bearer(h.issueToken("viewer", "Màn hình"))},
		{"counter", "counter", bearer(h.issueToken("counter", "Bàn 1"))},
		{"admin", "admin", asAdmin},
	}
	for _, role := range []string{"viewer", "counter", "admin"} {
		user := "matrix-" + role
		h.seedUser(user, password, role)
		principals = append(principals, principal{role + " session", role, withSession(h.login(user, password))})
	}
	rank := map[string]int{"": 0, "viewer": 1, "counter": 2, "admin": 3}

	type endpoint struct {
		method, path string
		body         func(p int) any // p: the principal's index, for unique ids
		min          string          // least role; "public" for anyone; "result" for result visibility
		stream       bool
	}
	none := func(int) any { return nil }
	fixed := func(v any) func(int) any { return func(int) any { return v } }
	endpoints := []endpoint{
		{"GET", "/healthz", none, "public", false},
		{"GET", "/readyz", none, "public", false},
		{"POST", "/api/v1/login", fixed(map[string]string{"username": "matrix-viewer", "password": password}), "public", false},
		{"GET", "/api/v1/contests", none, "viewer", false},
		{"GET", "/api/v1/contests/m-open", none, "viewer", false},
		{"GET", "/api/v1/contests/m-open/log", none, "viewer", false},
		{"GET", "/api/v1/contests/m-open/result", none, "viewer", false},
		{"GET", "/api/v1/contests/m-live/result", none, "public", false},
		{"GET", "/api/v1/contests/m-cert/result", none, "public", false},
		{"GET", "/api/v1/contests/m-open/stream", none, "viewer", true},
		{"GET", "/api/v1/contests/m-live/stream", none, "public", true},
		{"GET", "/api/v1/contests/m-cert/stream", none, "public", true},
		{"POST", "/api/v1/contests/m-open/ballots", func(p int) any { return fmt.Sprintf(`{"id": "p%d", "struck": ["c1"]}`, p) }, "counter", false},
		{"POST", "/api/v1/contests/m-open/ballots/p%d/void", fixed(map[string]string{"reason": "nhầm"}), "counter", false},
		{"POST", "/api/v1/contests/m-open/scans", fixed(map[string]int{"not": 1}), "counter", false}, // 415 once allowed
		{"GET", "/api/v1/contests/m-open/scans", none, "counter", false},
		{"POST", "/api/v1/contests/m-open/scans/" + strings.Repeat("ab", 32), fixed(map[string]any{"dismiss": "không phải phiếu"}), "counter", false},
		{"GET", "/api/v1/contests/m-open/scans/" + strings.Repeat("ab", 32) + "/image", none, "counter", false},
		{"GET", "/api/v1/contests/m-cert/scans/archive", none, "admin", false},
		{"POST", "/api/v1/contests", func(p int) any { return contestDef(fmt.Sprintf("m-new-%d", p)) }, "admin", false},
		{"POST", "/api/v1/contests/m-draft/open", none, "admin", false},
		{"POST", "/api/v1/contests/m-close/close", fixed(map[string]int{"issued": 0}), "admin", false},
		{"POST", "/api/v1/contests/m-certme/certify", none, "admin", false},
		{"POST", "/api/v1/contests/m-next/next", none, "admin", false},
		{"PUT", "/api/v1/contests/m-edit", fixed(contestDef("m-edit")), "admin", false},
		{"POST", "/api/v1/contests/m-edit/withdrawals", fixed(map[string]string{"candidate": "c9"}), "admin", false},
		{"POST", "/api/v1/contests/m-edit/nominations", fixed(map[string]any{"candidate": map[string]string{"name": "Võ Văn Em"}, "source": "floor"}), "admin", false},
		{"DELETE", "/api/v1/contests/m-edit", none, "admin", false},
		{"GET", "/api/v1/contests/m-open/notes", none, "viewer", false},
		{"PUT", "/api/v1/contests/m-open/notes", fixed(map[string]int{"present": 9}), "admin", false},
		{"PUT", "/api/v1/contests/m-ver/stacks/2", fixed(map[string]int{"ballots": 5}), "admin", false},
		{"GET", "/api/v1/contests/m-ver/stacks", none, "counter", false},
		{"POST", "/api/v1/contests/m-ver/keyings", func(p int) any {
			return keyingBody(fmt.Sprintf("k%d", p), 1, p+1, tally.Ballot{Struck: []string{"c4"}})
		}, "counter", false},
		{"GET", "/api/v1/contests/m-ver/disputes", none, "admin", false},
		{"POST", "/api/v1/contests/m-ver/positions/1/1/decision", fixed(map[string]any{"ballot": map[string]any{"struck": []string{}}, "reason": "xem phiếu"}), "admin", false},
		{"GET", "/api/v1/contests/m-ver/journal", none, "admin", false}, // viewers once closed
		{"GET", "/api/v1/congresses", none, "viewer", false},
		{"GET", "/api/v1/congresses/m-cg", none, "viewer", false},
		{"POST", "/api/v1/congresses", func(p int) any { return congress(fmt.Sprintf("m-cg-%d", p)) }, "admin", false},
		{"PUT", "/api/v1/congresses/m-cg", fixed(congress("m-cg")), "admin", false},
		{"DELETE", "/api/v1/congresses/m-cg-gone", none, "admin", false},
		{"POST", "/api/v1/tokens", fixed(map[string]string{"role": "viewer"}), "admin", false},
		{"POST", "/api/v1/users", fixed(map[string]string{"username": "x", "password": "short", "role": "viewer"}), "admin", false},
		{"GET", "/api/v1/audit", none, "admin", false},
		{"GET", "/api/v1/tokens", none, "admin", false},
		{"DELETE", "/api/v1/tokens/000000000000", none, "admin", false},
		{"PATCH", "/api/v1/tokens/000000000000", fixed(map[string]string{"name": "Bàn 9"}), "admin", false},
		{"GET", "/api/v1/users", none, "admin", false},
		{"PATCH", "/api/v1/users/nobody", fixed(map[string]bool{"disabled": true}), "admin", false},
		{"POST", "/api/v1/users/nobody/password", fixed(map[string]string{"password": "mật khẩu mới tinh 2026"}), "admin", false}, // one's own: any role (TestUsersAPI)
		// Last: it ends the sessions.
		{"POST", "/api/v1/logout", none, "public", false},
	}

	cells, wrong := 0, 0
	t.Cleanup(func() {
		proof.Report(t, "cells", cells, "role×endpoint checks")
		proof.Report(t, "cells_wrong", wrong, "checks")
	})
	for pi, p := range principals {
		for _, e := range endpoints {
			path := e.path
			if strings.Contains(path, "%d") {
				path = fmt.Sprintf(path, pi)
			}
			want := allowed
			switch {
			case e.min == "public":
			case p.role == "":
				want = unauthorized
			case rank[p.role] < rank[e.min]:
				want = forbidden
			}
			t.Run(p.name+"/"+e.method+" "+path, func(t *testing.T) {
				var status int
				var body string
				if e.stream {
					status, body = streamStatus(t, base+path, p.auth)
				} else {
					r := doApp(t, h.srv, e.method, path, e.body(pi), p.auth)
					status, body = r.status, string(r.body)
				}
				t.Logf("status %d", status)
				var got access
				switch {
				case status == http.StatusUnauthorized:
					got = unauthorized
				case status == http.StatusForbidden:
					got = forbidden
				case status >= 500:
					t.Fatalf("status %d: %s", status, body)
				default:
					got = allowed
				}
				cells++
				if got != want {
					wrong++
					t.Errorf("got %s (status %d: %s), want %s", got, status, body, want)
				}
			})
		}
	}
}

// streamStatus opens an SSE stream on the listener, returns its status (and
// the body when it is not a stream), and hangs up.
func streamStatus(t *testing.T, url string, auth opt) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := newRequest(t, "GET", url, nil, auth).WithContext(ctx)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var sb strings.Builder
		buf := make([]byte, 512)
		n, _ := resp.Body.Read(buf)
		sb.Write(buf[:n])
		return resp.StatusCode, sb.String()
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("Content-Type = %q, want text/event-stream", ct)
	}
	return resp.StatusCode, ""
}
