package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/proof"
)

// rawRequest writes req as is on a new connection to the listener and
// reads the answer: for requests no client library would send (headers
// without their body, headers of any size).
func rawRequest(t *testing.T, base, req string) *response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	go io.WriteString(conn, req) // the server may answer before it has read it all
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to %.80q: %v", req, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &response{status: resp.StatusCode, header: resp.Header, body: body, cookies: resp.Cookies()}
}

// send makes a request over the real listener with net/http.
func send(t *testing.T, method, url string, body []byte, header map[string]string) *response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return &response{status: resp.StatusCode, header: resp.Header, body: data, cookies: resp.Cookies()}
}

// TestHostileRequests sends oversize, malformed and replayed requests to a
// real listener (docs/reliability.md, "Slow and hostile clients"): each
// gets its exact status and error code, and nothing reaches the log.
func TestHostileRequests(t *testing.T) {
	h := newHarness(t)
	base := h.listen()
	h.openContest(contestDef("bch"))
	counter := h.issueToken("counter", "Bàn 1")
	h.seedUser("thuky", "mat-khau-dai-du", "admin")
	h.seedUser("banhai", "mat-khau-dai-du", "counter")
	api := base + "/api/v1"
	ballots := api + "/contests/bch/ballots"
	asJSON := map[string]string{"Authorization": "Bearer " + counter, "Content-Type": "application/json"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	adminJSON := map[string]string{"Authorization": "Bearer " + adminToken, "Content-Type": "application/json"}

	// The original ballot, replayed below.
	orig := send(t, "POST", ballots, []byte(`{"id":"b-1","struck":["c2"]}`), asJSON)
	mustStatus(t, orig, http.StatusCreated)
	var first receipt
	decode(t, orig, &first)

	// Two signed-in browsers: one signs out (its cookie is then
	// replayed), the other's CSRF token is sent with the first's cookie.
	login := func(user string) session {
		r := send(t, "POST", api+"/login", []byte(`{"username":"`+user+`","password":"mat-khau-dai-du"}`), map[string]string{"Content-Type": "application/json"})
		mustStatus(t, r, http.StatusOK)
		var out struct {
			CSRF string `json:"csrf_token"`
		}
		decode(t, r, &out)
		return session{cookie: sessionCookie(t, r).Value, csrf: out.CSRF}
	}
	gone, other, mine := login("thuky"), login("banhai"), login("thuky")
	mustStatus(t, send(t, "POST", api+"/logout", nil, map[string]string{"Cookie": "kp_session=" + gone.cookie, "X-CSRF-Token": gone.csrf}), http.StatusNoContent)

	deep := strings.Repeat("[", 30_000) + strings.Repeat("]", 30_000)         // under 64 KiB
	deeper := strings.Repeat("[", 1_000_000) + strings.Repeat("]", 1_000_000) // under 4 MiB
	deepObj := strings.Repeat(`{"a":`, 20_000) + "1" + strings.Repeat("}", 20_000)

	tests := []struct {
		name   string
		resp   func() *response
		status int
		field  string // "" = not checked
	}{
		{"a ballot over 64 KiB", func() *response {
			return send(t, "POST", ballots, []byte(`{"id":"b-big","struck":["c1"],"note":"`+strings.Repeat("x", 70<<10)+`"}`), asJSON)
		}, 413, ""},
		{"a body over the 4 MiB limit (refused on its Content-Length)", func() *response {
			return rawRequest(t, base, "POST /api/v1/contests HTTP/1.1\r\nHost: kp\r\nAuthorization: Bearer "+adminToken+
				"\r\nContent-Type: application/json\r\nContent-Length: "+fmt.Sprint(5<<20)+"\r\n\r\n{")
		}, 413, ""},
		{"a candidate file over 2 MiB", func() *response {
			body := "--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nHọ và tên\r\n" + strings.Repeat("Nguyễn Văn An\r\n", 160_000) + "--X--\r\n"
			return send(t, "POST", api+"/candidates/import", []byte(body), with(adminJSON, "Content-Type", "multipart/form-data; boundary=X"))
		}, 413, "file"},
		{"truncated JSON", func() *response {
			return send(t, "POST", ballots, []byte(`{"id":"b-2","struck":["c1"`), asJSON)
		}, 400, ""},
		{"truncated JSON of a contest", func() *response {
			data, _ := json.Marshal(contestDef("moi"))
			return send(t, "POST", api+"/contests", data[:len(data)/2], adminJSON)
		}, 400, ""},
		{"an empty body", func() *response { return send(t, "POST", ballots, nil, asJSON) }, 400, ""},
		{"a multipart form where a ballot is due", func() *response {
			return send(t, "POST", ballots, []byte("--X\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\nb-3\r\n--X--\r\n"), with(asJSON, "Content-Type", "multipart/form-data; boundary=X"))
		}, 400, ""},
		{"JSON where the candidate file is due", func() *response {
			return send(t, "POST", api+"/candidates/import", []byte(`{"candidates":[{"name":"A"}]}`), adminJSON)
		}, 400, "file"},
		{"XML", func() *response {
			return send(t, "POST", ballots, []byte(`<ballot id="b-4"><struck>c1</struck></ballot>`), with(asJSON, "Content-Type", "application/xml"))
		}, 400, ""},
		{"headers of 64 KiB", func() *response {
			return rawRequest(t, base, "GET /api/v1/contests HTTP/1.1\r\nHost: kp\r\nAuthorization: Bearer "+adminToken+"\r\nX-Big: "+strings.Repeat("a", 64<<10)+"\r\n\r\n")
		}, 431, ""},
		{"a URL of 16 KiB", func() *response {
			return rawRequest(t, base, "GET /api/v1/contests/"+strings.Repeat("a", 16<<10)+" HTTP/1.1\r\nHost: kp\r\n\r\n")
		}, 431, ""},
		{"a malformed request line", func() *response {
			return rawRequest(t, base, "GET\r\n\r\n")
		}, 400, ""},
		{"an unknown method", func() *response { return send(t, "BREW", ballots, nil, asJSON) }, 405, ""},
		{"invalid UTF-8 in a ballot id", func() *response {
			return send(t, "POST", ballots, []byte("{\"id\":\"b-\xff\xfe\",\"struck\":[]}"), asJSON)
		}, 400, "id"},
		{"invalid UTF-8 in a contest title", func() *response {
			data, _ := json.Marshal(contestDef("utf"))
			data = bytes.Replace(data, []byte("Bầu Ban"), []byte("B\xe1\xba Ban"), 1)
			return send(t, "POST", api+"/contests", data, adminJSON)
		}, 400, "title"},
		{"arrays nested 30,000 deep in a ballot", func() *response {
			return send(t, "POST", ballots, []byte(`{"id":"b-5","struck":`+deep+`}`), asJSON)
		}, 400, ""},
		{"arrays nested 1,000,000 deep in a contest", func() *response {
			return send(t, "POST", api+"/contests", []byte(`{"id":"x","candidates":`+deeper+`}`), adminJSON)
		}, 400, ""},
		{"objects nested 20,000 deep in a contest", func() *response {
			return send(t, "POST", api+"/contests/check", []byte(`{"id":"x","electorate":`+deepObj+`}`), adminJSON)
		}, 400, ""},
		{"a replayed ballot: the original receipt", func() *response {
			return send(t, "POST", ballots, []byte(`{"id":"b-1","struck":["c2"]}`), asJSON)
		}, 200, ""},
		{"the same ballot id with other content", func() *response {
			return send(t, "POST", ballots, []byte(`{"id":"b-1","struck":["c3"]}`), asJSON)
		}, 409, ""},
		{"a session cookie replayed after sign-out", func() *response {
			return send(t, "POST", ballots, []byte(`{"id":"b-6","struck":[]}`), map[string]string{"Cookie": "kp_session=" + gone.cookie, "X-CSRF-Token": gone.csrf, "Content-Type": "application/json"})
		}, 401, ""},
		{"a session cookie replayed after sign-out, reading", func() *response {
			return send(t, "GET", api+"/contests", nil, map[string]string{"Cookie": "kp_session=" + gone.cookie})
		}, 401, ""},
		{"the CSRF token of another session", func() *response {
			return send(t, "POST", ballots, []byte(`{"id":"b-7","struck":[]}`), map[string]string{"Cookie": "kp_session=" + mine.cookie, "X-CSRF-Token": other.csrf, "Content-Type": "application/json"})
		}, 403, "X-CSRF-Token"},
		{"no CSRF token", func() *response {
			return send(t, "POST", ballots, []byte(`{"id":"b-8","struck":[]}`), map[string]string{"Cookie": "kp_session=" + mine.cookie, "Content-Type": "application/json"})
		}, 403, "X-CSRF-Token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.resp()
			if r.header.Get("X-Request-ID") == "" {
				t.Errorf("no X-Request-ID on %d %s", r.status, r.body)
			}
			switch tt.status {
			case 200:
				mustStatus(t, r, 200)
				var again receipt
				decode(t, r, &again)
				if again != first {
					t.Errorf("replayed ballot: receipt %+v, the original was %+v", again, first)
				}
			case 405, 431:
				e := errorOf(t, r, tt.status)
				want := map[int]string{405: "invalid", 431: "too_large"}[tt.status]
				if e.Code != want {
					t.Errorf("error code = %q, want %q (%s)", e.Code, want, r.body)
				}
			default:
				mustError(t, r, tt.status, tt.field)
			}
		})
	}
	// The session that is still signed in still works with its own token.
	mustStatus(t, send(t, "POST", ballots, []byte(`{"id":"b-9","struck":[]}`), map[string]string{"Cookie": "kp_session=" + mine.cookie, "X-CSRF-Token": mine.csrf, "Content-Type": "application/json"}), http.StatusCreated)
	// Of all that, the log holds the original ballot and the last one.
	if n := h.logLen("bch"); n != 2 {
		t.Errorf("the log has %d entries; want 2 (b-1 and b-9)", n)
	}
	proof.Report(t, "hostile_request_cases", len(tests), "cases")
}
