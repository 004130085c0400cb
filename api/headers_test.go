package api_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/internal/proof"
)

// TestSecurityHeadersEverywhere is finding 19 of the security review:
// nosniff, no framing, a content security policy and a referrer policy on
// every response — the JSON API, its refusals, /static, the stream, the
// downloads, the pages and the error pages of unmatched routes and of
// methods — and Strict-Transport-Security when the public URL is https.
// Before, only the page routes had the first four and nothing had HSTS.
func TestSecurityHeadersEverywhere(t *testing.T) {
	for _, public := range []string{"", "https://kiemphieu.example.vn"} {
		t.Run("public URL "+public, func(t *testing.T) {
			h := newHarnessWith(t, api.Config{PublicURL: public})
			h.countRound("hd")
			h.transition("hd", "certify", nil)
			html := withHeader("Accept", "text/html")
			routes := []struct {
				method, path string
				body         any
				opts         []opt
				status       int
				page         bool // the pages' policy, not the API's
			}{
				{"GET", "/healthz", nil, nil, 200, false},
				{"GET", "/readyz", nil, nil, 200, false},
				{"GET", "/api/v1/contests", nil, []opt{asAdmin}, 200, false},
				{"GET", "/api/v1/contests", nil, nil, 401, false},
				{"GET", "/api/v1/contests/hd/result", nil, nil, 200, false},
				{"POST", "/api/v1/contests/hd/ballots", map[string]any{"id": "z"}, nil, 401, false},
				{"POST", "/api/v1/contests", "{", []opt{asAdmin}, 400, false},
				{"GET", "/api/v1/nope", nil, nil, 404, false},
				{"DELETE", "/healthz", nil, nil, 405, false},
				{"BREW", "/", nil, nil, 405, false},
				{"GET", "/static/app.js", nil, nil, 200, false},
				{"GET", "/static/nope.css", nil, nil, 404, false},
				{"GET", "/contests/hd/export.csv", nil, nil, 200, true},
				{"GET", "/contests/hd/export.xlsx", nil, nil, 200, true},
				{"GET", "/contests/hd/export.jsonl", nil, []opt{asAdmin}, 200, true},
				{"GET", "/contests/hd/minutes.pdf", nil, nil, 200, true},
				{"GET", "/contests/hd/minutes", nil, nil, 200, true},
				{"GET", "/", nil, []opt{html}, 200, true},
				{"GET", "/login", nil, []opt{html}, 200, true},
				{"GET", "/nope", nil, []opt{html}, 404, true},
				{"GET", "//evil.example/x", nil, []opt{html}, 404, true},
				{"GET", "/nope", nil, nil, 404, false},
				{"PUT", "/login", nil, []opt{html}, 405, true},
			}
			proof.Report(t, "responses_checked", len(routes)+3, "responses")
			for _, rt := range routes {
				r := h.in(t).do(rt.method, rt.path, rt.body, rt.opts...)
				if r.status != rt.status {
					t.Errorf("%s %s: status %d, want %d (%.200s)", rt.method, rt.path, r.status, rt.status, r.body)
				}
				csp := "default-src 'none'"
				if rt.page {
					csp = "default-src 'self'"
				}
				checkSecurityHeaders(t, rt.method+" "+rt.path, r.header, csp, public != "")
			}
			// On a real connection: the stream's head, and a body over the
			// limit, which fasthttp refuses before any route.
			base := h.listen()
			s := openStream(t, base, "hd")
			checkSecurityHeaders(t, "GET /api/v1/contests/hd/stream", s.resp.Header, "default-src 'none'", public != "")
			// Refusals of fasthttp itself, before any route: a body over the
			// limit (only the head is sent: the refusal comes before the
			// body) and headers over its buffer.
			for _, tc := range []struct {
				what, head string
				status     int
			}{
				// Refused for its credentials before its body is read
				// (bodies are streamed, api/body.go).
				{"POST /api/v1/contests (5 MiB, anonymous)", fmt.Sprintf("POST /api/v1/contests HTTP/1.1\r\nHost: kp\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", 5<<20),
					http.StatusUnauthorized},
				{"GET / (8 KiB of headers)", "GET / HTTP/1.1\r\nHost: kp\r\nX-Big: " + strings.Repeat("x", 8<<10) + "\r\n\r\n",
					http.StatusRequestHeaderFieldsTooLarge},
			} {
				conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
				if err != nil {
					t.Fatal(err)
				}
				conn.SetDeadline(time.Now().Add(5 * time.Second))
				conn.Write([]byte(tc.head))
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatalf("%s: %v", tc.what, err)
				}
				resp.Body.Close()
				conn.Close()
				if resp.StatusCode != tc.status {
					t.Errorf("%s: status %d, want %d", tc.what, resp.StatusCode, tc.status)
				}
				checkSecurityHeaders(t, tc.what, resp.Header, "default-src 'none'", public != "")
			}
		})
	}
}

func checkSecurityHeaders(t *testing.T, what string, hd http.Header, csp string, hsts bool) {
	t.Helper()
	for k, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "same-origin",
		"Content-Security-Policy": csp,
	} {
		if got := hd.Get(k); !strings.HasPrefix(got, want) {
			t.Errorf("%s: %s = %q, want %q", what, k, got, want)
		}
	}
	if !strings.Contains(hd.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("%s: the policy %q does not forbid framing", what, hd.Get("Content-Security-Policy"))
	}
	if got := hd.Get("Strict-Transport-Security"); hsts != (got == "max-age=31536000") {
		t.Errorf("%s: Strict-Transport-Security = %q with an https public URL: %v", what, got, hsts)
	}
}

// The 404 page's language and sign-in links stay on this site whatever the
// path: "//evil.example/x" was an off-site link (finding 19), and a
// backslash or a tab after the first slash is one to a browser.
func TestErrorPageLinksStayOnSite(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"//evil.example/x", "///evil.example/x", "/%5Cevil.example/x", "/%09/evil.example/x", "/%2F%2Fevil.example"} {
		r := h.in(t).do("GET", path, nil, withHeader("Accept", "text/html"))
		mustStatus(t, r, http.StatusNotFound)
		body := string(r.body)
		for _, bad := range []string{`href="//`, `href="/\`, "href=\"/\t", `next=//`} {
			if strings.Contains(body, bad) {
				t.Errorf("GET %s: the page links off-site (%s):\n%s", path, bad, body)
			}
		}
		want := `href="/` + strings.TrimLeft(path, "/") + `?lang=en"`
		if !strings.Contains(body, want) {
			t.Errorf("GET %s: no same-site language link:\n%s", path, body)
		}
	}
}
