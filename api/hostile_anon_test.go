package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/internal/proof"
)

// Regression tests of the anonymous request shapes of the security review
// (docs/reliability.md, "Security", findings 3–6) that an in-process server
// can show; cmd/kiemphieu's TestHostileAnonymous and
// TestStreamFloodDescriptors run the same against the built binary under a
// memory and a descriptor limit.

// allocated is how many bytes the whole process allocated while f ran
// (the server included: it runs in this process).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// dialFrom connects to base from a loopback address of its own
// (127.0.0.x), which the server counts as another client.
func dialFrom(t testing.TB, base, local string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	conn, err := d.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// Finding 3: a compressed body is refused (415) before anything decodes
// it. The report's bomb (1 GiB of spaces and a sign-in, gzipped twice:
// 1,875 bytes, made by its script with mtime 0) used 5.2 GB before; the
// same in brotli (1,715 bytes) was decoded the same way.
func TestCompressedBodiesRefused(t *testing.T) {
	h := newHarness(t)
	base := h.listen()
	h.seedUser("thuky", "mat-khau-dai-du", "admin")
	gz, err := os.ReadFile("testdata/hostile/login-1g.gz2")
	if err != nil {
		t.Fatal(err)
	}
	br, err := os.ReadFile("testdata/hostile/login-1g.br")
	if err != nil {
		t.Fatal(err)
	}
	login := base + "/api/v1/login"
	asJSON := "application/json"
	multipart := "multipart/form-data; boundary=X"
	form := "--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nHọ và tên\r\nNguyễn Văn An\r\n--X--\r\n"
	tests := []struct {
		name, url, coding, contentType string
		body                           []byte
		auth                           bool
	}{
		{"the report's gzip, gzip bomb, anonymous sign-in", login, "gzip, gzip", asJSON, gz, false},
		{"a brotli bomb, anonymous sign-in", login, "br", asJSON, br, false},
		{"deflate", login, "deflate", asJSON, []byte("x"), false},
		{"gzip after identity", login, "identity, gzip", asJSON, gz, false},
		{"the sign-in form, gzipped", base + "/login", "gzip", "application/x-www-form-urlencoded", gz, false},
		{"the candidate file, gzipped, admin", base + "/api/v1/candidates/import", "gzip", multipart, []byte(form), true},
		{"a contest, zstd, admin", base + "/api/v1/contests", "zstd", asJSON, []byte("{}"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := map[string]string{"Content-Encoding": tt.coding, "Content-Type": tt.contentType}
			if tt.auth {
				header["Authorization"] = "Bearer " + adminToken
			}
			var r *response
			alloc := allocated(func() { r = send(t, "POST", tt.url, tt.body, header) })
			e := errorOf(t, r, http.StatusUnsupportedMediaType)
			if e.Code != "unsupported" || e.Field != "Content-Encoding" {
				t.Errorf("error %+v, want invalid, field Content-Encoding", e)
			}
			if got := r.header.Get("Accept-Encoding"); got != "identity" {
				t.Errorf("Accept-Encoding = %q, want identity", got)
			}
			if alloc > 8<<20 {
				t.Errorf("the refusal allocated %d bytes; want at most 8 MiB", alloc)
			}
			proof.Report(t, "allocated", alloc/1024, "KiB")
		})
	}
	// A second Content-Encoding header is seen too (Fiber's Body decoded
	// the last one).
	r := rawRequest(t, base, "POST /api/v1/login HTTP/1.1\r\nHost: kp\r\nContent-Type: application/json\r\nContent-Encoding: identity\r\n"+
		"Content-Encoding: gzip\r\nContent-Length: "+fmt.Sprint(len(gz))+"\r\n\r\n"+string(gz))
	errorOf(t, r, http.StatusUnsupportedMediaType)
	// identity is no coding: the sign-in goes through.
	r = send(t, "POST", login, []byte(`{"username":"thuky","password":"mat-khau-dai-du"}`),
		map[string]string{"Content-Encoding": "identity", "Content-Type": asJSON})
	mustStatus(t, r, http.StatusOK)
}

// Finding 3 too: the sign-in form reads only a URL-encoded body; c.FormValue
// parsed a multipart one (any route, anonymous) before.
func TestFormsReadOnlyURLEncoded(t *testing.T) {
	h := newHarness(t)
	base := h.listen()
	h.seedUser("thuky", "mat-khau-dai-du", "admin")
	page := send(t, "GET", base+"/login", nil, nil)
	mustStatus(t, page, http.StatusOK)
	var cookie string
	for _, c := range page.cookies {
		if c.Name == "kp_login" {
			cookie = c.Value
		}
	}
	if cookie == "" {
		t.Fatalf("no kp_login cookie on the sign-in page: %v", page.cookies)
	}
	// The form's token is the page's (signed for this cookie and address).
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(page.body)
	if m == nil {
		t.Fatal("no _csrf field on the sign-in page")
	}
	csrf := string(m[1])
	post := func(contentType, body string) int {
		return rawRequest(t, base, "POST /login HTTP/1.1\r\nHost: kp\r\nAccept: text/html\r\nCookie: kp_login="+cookie+
			"\r\nContent-Type: "+contentType+"\r\nContent-Length: "+fmt.Sprint(len(body))+"\r\n\r\n"+body).status
	}
	multipart := "--X\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n" + csrf + "\r\n--X\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nthuky\r\n" +
		"--X\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nmat-khau-dai-du\r\n--X--\r\n"
	if status := post("multipart/form-data; boundary=X", multipart); status != http.StatusForbidden {
		t.Errorf("a multipart sign-in form: %d, want 403 (its fields are not read)", status)
	}
	form := "_csrf=" + url.QueryEscape(csrf) + "&username=thuky&password=mat-khau-dai-du"
	// A form over the limit of a request is not read either.
	if status := post("application/x-www-form-urlencoded", form+"&pad="+strings.Repeat("a", 70<<10)); status != http.StatusForbidden {
		t.Errorf("a sign-in form over 64 KiB: %d, want 403", status)
	}
	if status := post("application/x-www-form-urlencoded", form); status != http.StatusSeeOther {
		t.Errorf("the sign-in form: %d, want 303", status)
	}
}

// Finding 4: an error's answer is small whatever the input. The report's
// body (4 MB of "[" after a member, then an invalid byte) got a 25 MB
// answer and cost 400 MB on Go 1.26 (60 KB and 35 MB on Go 1.27, whose
// decoder stops at depth 10,000); a key of 1 MB came back twice, in the
// message and the field.
func TestErrorAnswersBounded(t *testing.T) {
	h := newHarness(t)
	base := h.listen()
	nested := append([]byte(`{"username":`+strings.Repeat("[", 4<<20-120)), 0xff)
	longKey := []byte(`{"` + strings.Repeat("k", 1<<20) + `":1}`)
	badKey := []byte(`{"` + strings.Repeat("k", 1<<20) + "\":\"\xff\"}")
	var cands []map[string]any
	for i := range 2000 {
		cands = append(cands, map[string]any{"id": fmt.Sprintf("c%d", i), "name": ""})
	}
	many, _ := json.Marshal(with(contestDef("many"), "candidates", cands))
	admin := map[string]string{"Authorization": "Bearer " + adminToken, "Content-Type": "application/json"}
	tests := []struct {
		name   string
		url    string
		body   []byte
		header map[string]string
		status int
	}{
		{"the report's body, anonymous sign-in (over 64 KiB)", base + "/api/v1/login", nested, map[string]string{"Content-Type": "application/json"}, 413},
		{"the report's body as a contest, admin", base + "/api/v1/contests", nested, admin, 400},
		{"an unknown key of 1 MB, admin", base + "/api/v1/contests", longKey, admin, 400},
		{"an invalid byte under a key of 1 MB, admin", base + "/api/v1/contests/check", badKey, admin, 400},
		{"a contest with 2,000 nameless candidates, admin", base + "/api/v1/contests", many, admin, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *response
			alloc := allocated(func() { r = send(t, "POST", tt.url, tt.body, tt.header) })
			e := errorOf(t, r, tt.status)
			if len(e.Message) > 1024 || len(e.Field) > 256 || len(e.Problems) > 1000 {
				t.Errorf("message %d bytes, field %d bytes, %d problems; want at most 1,024, 256, 1,000", len(e.Message), len(e.Field), len(e.Problems))
			}
			if strings.HasPrefix(tt.name, "a contest with 2,000") && (len(e.Problems) != 1000 || !strings.Contains(e.Message, "the first 1000")) {
				t.Errorf("%d problems, message %q; want the first 1,000, said so", len(e.Problems), e.Message)
			}
			if len(r.body) > 300<<10 {
				t.Errorf("the answer is %d bytes", len(r.body))
			}
			// Reading the body, decoding it once and walking it once.
			if most := uint64(12*len(tt.body) + 16<<20); alloc > most {
				t.Errorf("the request allocated %d bytes for a %d-byte body; want at most %d", alloc, len(tt.body), most)
			}
			proof.Report(t, "answer", len(r.body), "bytes")
			proof.Report(t, "allocated", alloc/1024, "KiB")
		})
	}
}

// Finding 6: a request's body is read as it arrives, up to its route's
// limit, or not at all when the request is refused first. What is left of
// it is read and dropped (up to 4 MiB, within 2 s) so that the client gets
// its answer; it never becomes the next request on the connection; past
// those bounds the connection ends.
func TestUnreadBodyNeverTheNextRequest(t *testing.T) {
	h := newHarness(t)
	base := h.listen()
	h.openContest(contestDef("bch"))
	smuggled := "GET /readyz HTTP/1.1\r\nHost: kp\r\n\r\n"
	ballot := "POST /api/v1/contests/bch/ballots HTTP/1.1\r\nHost: kp\r\nAuthorization: Bearer wrong\r\nContent-Type: application/json\r\n"
	login := "POST /api/v1/login HTTP/1.1\r\nHost: kp\r\nContent-Type: application/json\r\n"
	tests := []struct {
		name, head, body string
		length           int // Content-Length; 0 = len(body)
		status           int
		kept             bool // the connection serves another request
	}{
		{"refused before its body was read", ballot, smuggled, 0, 401, true},
		{"over its route's limit", login, smuggled + strings.Repeat(" ", 70<<10), 0, 413, true},
		{"4 MiB over its route's limit", login, smuggled + strings.Repeat(" ", 4<<20-len(smuggled)), 0, 413, true},
		{"over 4 MiB", login, smuggled, 5 << 20, 413, false},
		{"a body that does not come", ballot, smuggled, 100 << 10, 401, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := dialFrom(t, base, "")
			defer conn.Close()
			n := tt.length
			if n == 0 {
				n = len(tt.body)
			}
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			go io.WriteString(conn, tt.head+"Content-Length: "+fmt.Sprint(n)+"\r\n\r\n"+tt.body)
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != tt.status || resp.Close == tt.kept {
				t.Errorf("%s, Connection: close %v; want %d, kept %v", resp.Status, resp.Close, tt.status, tt.kept)
			}
			if !tt.kept {
				if next, err := http.ReadResponse(br, nil); err == nil {
					t.Errorf("the body's bytes were answered as a request: %s", next.Status)
				}
				return
			}
			io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: kp\r\n\r\n")
			next, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(next.Body)
			if !bytes.Contains(data, []byte(`"ok"`)) {
				t.Errorf("the next answer is %s %s, not /healthz's: the body was read as a request", next.Status, data)
			}
		})
	}
}

// tryStream asks for a stream from the loopback address local and returns
// the status; a stream that started is left open (closed at the test's
// end). A refusal must be in the error contract.
func tryStream(t *testing.T, base, contest, local string) (int, net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	conn, err := d.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		return 0, nil, err
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET /api/v1/contests/%s/stream HTTP/1.1\r\nHost: kp\r\nAccept: text/event-stream\r\n\r\n", contest)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, nil, fmt.Errorf("stream from %s: %w", local, err)
	}
	conn.SetReadDeadline(time.Time{})
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.StatusCode == http.StatusTooManyRequests && !bytes.Contains(body, []byte(`"too_many"`)) {
			return 0, nil, fmt.Errorf("429 without the error contract: %s", body)
		}
	}
	return resp.StatusCode, conn, nil
}

func streamFrom(t *testing.T, base, contest, local string) (int, net.Conn) {
	t.Helper()
	status, conn, err := tryStream(t, base, contest, local)
	if err != nil {
		t.Fatal(err)
	}
	return status, conn
}

// Finding 5: streams are capped per client address and in all; a stream
// that ends gives its place back.
func TestStreamCaps(t *testing.T) {
	setHeartbeat(t, 50*time.Millisecond) // a viewer that went is noticed at once
	h := newHarnessWith(t, api.Config{ConnLimits: api.ConnLimits{StreamsPerAddr: 3, Streams: 5}})
	base := h.listen()
	h.openContest(with(contestDef("bch"), "visibility", "live"))
	var mine []net.Conn
	for i := range 3 {
		status, conn := streamFrom(t, base, "bch", "127.0.0.1")
		if status != http.StatusOK {
			t.Fatalf("stream %d from 127.0.0.1: %d", i, status)
		}
		mine = append(mine, conn)
	}
	if status, _ := streamFrom(t, base, "bch", "127.0.0.1"); status != http.StatusTooManyRequests {
		t.Errorf("a 4th stream from one address: %d, want 429", status)
	}
	for i := range 2 {
		if status, _ := streamFrom(t, base, "bch", "127.0.0.2"); status != http.StatusOK {
			t.Errorf("stream %d from 127.0.0.2: %d, want 200", i, status)
		}
	}
	if status, _ := streamFrom(t, base, "bch", "127.0.0.3"); status != http.StatusTooManyRequests {
		t.Errorf("a 6th stream in all: %d, want 429", status)
	}
	// A viewer goes: its place is free again.
	mine[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, _ := streamFrom(t, base, "bch", "127.0.0.3")
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a stream ended 5 s ago and its place is still taken (%d)", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Many at once from one address: exactly its cap get a stream.
	h2 := newHarnessWith(t, api.Config{ConnLimits: api.ConnLimits{StreamsPerAddr: 3}})
	base2 := h2.listen()
	h2.openContest(with(contestDef("bch"), "visibility", "live"))
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			status, _, err := tryStream(t, base2, "bch", "127.0.0.4")
			if err != nil {
				t.Error(err)
			}
			if status == http.StatusOK {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 3 {
		t.Errorf("20 streams at once from one address: %d started, want 3", ok.Load())
	}
}

// Finding 5: connections are capped per client address, at accept.
func TestConnCapPerAddr(t *testing.T) {
	h := newHarnessWith(t, api.Config{ConnLimits: api.ConnLimits{PerAddr: 4}})
	base := h.listen()
	var held []net.Conn
	for range 4 {
		held = append(held, dialFrom(t, base, "127.0.0.5"))
	}
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	get := func(local string) (int, error) {
		conn := dialFrom(t, base, local)
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: kp\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if status, err := get("127.0.0.5"); status != http.StatusTooManyRequests && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("a 5th connection from one address: %d %v, want 429 (or reset)", status, err)
	}
	if status, err := get("127.0.0.6"); status != http.StatusOK {
		t.Errorf("another address: %d %v, want 200", status, err)
	}
	held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if status, _ := get("127.0.0.5"); status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a connection closed 5 s ago still holds its address's place")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// flakyListener fails its next accepts with err, as accept(2) does when the
// process is out of descriptors.
type flakyListener struct {
	net.Listener
	fail atomic.Int32
	err  error
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.fail.Add(-1) >= 0 {
		return nil, l.err
	}
	return l.Listener.Accept()
}

// Finding 5: out of descriptors, the server waits and accepts again
// (fasthttp took EMFILE for the end of its listener, and the process
// exited); it says so at most once in 10 s.
func TestAcceptRetriesWhenOutOfDescriptors(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ECONNABORTED} {
		t.Run(errno.Error(), func(t *testing.T) {
			var logs syncBuffer
			h := newHarnessWith(t, api.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			fl := &flakyListener{Listener: ln, err: &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}}
			fl.fail.Store(8) // 1.3 s of pauses: 5 ms doubling
			served := make(chan error, 1)
			go func() { served <- h.srv.Serve(fl) }()
			hc := &http.Client{Timeout: 10 * time.Second}
			resp, err := hc.Get("http://" + ln.Addr().String() + "/healthz")
			select {
			case err := <-served:
				t.Fatalf("Serve returned after failed accepts: %v", err)
			default:
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("/healthz: %s", resp.Status)
			}
			if n := strings.Count(logs.String(), "accepting connections failed"); n != 1 {
				t.Errorf("%d log lines for 8 failed accepts, want 1:\n%s", n, logs.String())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := h.srv.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-served; err != nil {
				t.Errorf("Serve after Shutdown: %v", err)
			}
		})
	}
}

// Finding 3, for what is written later: no handler reads a body through
// Fiber's decoding c.Body() (gzip, br and deflate, stacked, without a
// limit), c.BodyParser or c.MultipartForm; every read goes through
// api/body.go's readBody.
func TestNoDecodingBodyReads(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "c" && slices.Contains([]string{"Body", "BodyParser", "MultipartForm"}, sel.Sel.Name) {
				t.Errorf("%s: c.%s reads the body past readBody (api/body.go)", fset.Position(call.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}
