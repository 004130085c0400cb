package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/internal/proof"
	"github.com/kiemphieu/kiemphieu/tally"
)

// auditEvent is a line of the audit log with every field it may have.
type auditEvent struct {
	auditLine
	ClientRequestID string `json:"client_request_id"`
	Address         string `json:"address"`
	Dropped         int64  `json:"dropped"`
	Until           string `json:"until"`
}

func auditOf(t *testing.T, srv *api.Server) ([]auditEvent, int) {
	t.Helper()
	r := doApp(t, srv, "GET", "/api/v1/audit?limit=10000", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	var out []auditEvent
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev auditEvent
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("audit line %s: %v", sc.Bytes(), err)
		}
		out = append(out, ev)
	}
	return out, len(r.body)
}

// Finding 9: one anonymous client sending 404s with long paths. Its
// refusals are written up to the limit of its address (here 10 a minute),
// each path cut to 256 bytes; the rest are counted and the count written
// in one "not_recorded" line when the window ends — on both stores.
func TestAuditRefusedBounded(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			be := b.open(t)
			clock := &fakeClock{now: time.Now().UTC().Truncate(time.Second)}
			srv := api.New(be.store, api.Config{AdminToken: adminToken, Now: clock.Now,
				RateLimits: &api.RateLimits{Refused: api.RateLimit{Max: 10, Window: time.Minute}}})
			const flood = 300
			long := strings.Repeat("A", 3000)
			for i := range flood {
				mustStatus(t, doApp(t, srv, "GET", fmt.Sprintf("/api/v1/x%d-%s", i, long), nil), http.StatusNotFound)
			}
			lines, size := auditOf(t, srv)
			if len(lines) != 10 {
				t.Errorf("%d audit lines for %d refusals, want the 10 of the limit", len(lines), flood)
			}
			for _, l := range lines {
				if len(l.Path) > 256 {
					t.Errorf("an audit path of %d bytes; at most 256", len(l.Path))
				}
			}
			clock.Advance(time.Minute + time.Second)
			lines, _ = auditOf(t, srv) // the admin's request writes what is due first
			var summary *auditEvent
			for i := range lines {
				if lines[i].Outcome == "not_recorded" {
					summary = &lines[i]
				}
			}
			if summary == nil || summary.Dropped != flood-10 || summary.Address == "" || summary.Who != "anonymous" {
				t.Fatalf("no not_recorded line with %d dropped: %+v", flood-10, summary)
			}
			// A signed-in principal's refusals are not limited.
			for range 15 {
				mustStatus(t, doApp(t, srv, "GET", "/api/v1/contests/none", nil, asAdmin), http.StatusNotFound)
			}
			lines, _ = auditOf(t, srv)
			admins := 0
			for _, l := range lines {
				if l.Who == "token:bootstrap" && l.Status == 404 {
					admins++
				}
			}
			if admins != 15 {
				t.Errorf("%d of the admin's 15 refusals recorded", admins)
			}
			proof.Report(t, "audit_bytes", size, fmt.Sprintf("for %d anonymous 404s with 3 KB paths (10 lines, then one count)", flood))
		})
	}
}

// What a counter does is in the audit log — a void, a sign-in with its
// token, a password changed — except its readings of the ballots (ballots
// and verified-entry keyings), which the ballot log records with the desk.
func TestAuditCounterActions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.openContest(contestDef("bch"))
	h.openContest(verifiedDef("kep", "double"))
	mustStatus(t, h.do("PUT", "/api/v1/contests/kep/stacks/1", map[string]int{"ballots": 2}, asAdmin), http.StatusOK)
	var desk issuedToken
	decode(t, h.do("POST", "/api/v1/tokens", map[string]string{"role": "counter", "name": "Bàn 1"}, asAdmin), &desk)
	d := bearer(desk.Token)
	mustStatus(t, h.postBallot("bch", map[string]any{"id": "p-1", "struck": []string{"c1"}}, d), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/contests/bch/ballots/p-1/void", map[string]string{"reason": "nhập nhầm"}, d), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/contests/kep/keyings", keyingBody("k-1", 1, 1, tally.Ballot{Struck: []string{"c2"}}), d), http.StatusCreated)
	mustStatus(t, h.postLoginForm(url.Values{"token": {desk.Token}}), http.StatusSeeOther)
	const password = "mật khẩu đủ dài 2025"
	h.seedUser("bkp", password, "counter")
	s := h.login("bkp", password)
	mustStatus(t, h.do("POST", "/api/v1/users/bkp/password", map[string]string{"old_password": password, "password": "mật khẩu mới tinh 2026"}, withSession(s)), http.StatusOK)

	r := h.do("GET", "/api/v1/audit", nil, asAdmin)
	var got []string
	for _, line := range bytes.Split(bytes.TrimSpace(r.body), []byte("\n")) {
		var l auditLine
		decode(t, &response{body: line}, &l)
		if l.Who != "token:bootstrap" {
			got = append(got, fmt.Sprintf("%s %s %s %d", l.Who, l.Method, l.Path, l.Status))
		}
	}
	want := []string{
		"token:" + desk.ID + " POST /api/v1/contests/bch/ballots/{ballot}/void 201",
		"token:" + desk.ID + " POST /login 303",
		"user:bkp POST /api/v1/login 200",
		"user:bkp POST /api/v1/users/bkp/password 200",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the audit log's lines of the counter:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Info item: a client's X-Request-ID is not taken as the request's id; the
// audit log keeps it apart, as client_request_id.
func TestClientRequestID(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.do("GET", "/api/v1/contests", nil, withHeader("X-Request-ID", "spoofed-0001"))
	mustStatus(t, r, http.StatusUnauthorized)
	ours := r.header.Get("X-Request-ID")
	if ours == "spoofed-0001" || len(ours) != 16 {
		t.Errorf("X-Request-ID of the answer = %q: want the server's own", ours)
	}
	lines, _ := auditOf(t, h.srv)
	if len(lines) != 1 || lines[0].RequestID != ours || lines[0].ClientRequestID != "spoofed-0001" {
		t.Errorf("audit = %+v; want request_id %q and client_request_id spoofed-0001", lines, ours)
	}
	// Kept printable and short.
	h.do("GET", "/api/v1/contests", nil, withHeader("X-Request-ID", strings.Repeat("é", 100)))
	lines, _ = auditOf(t, h.srv)
	if got := lines[len(lines)-1].ClientRequestID; got != "" {
		t.Errorf("client_request_id = %q from non-ASCII bytes, want them dropped", got)
	}
}
