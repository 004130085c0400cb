package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
)

// TestServeFlagsHall: --lan, and the TLS settings, each from a flag or the
// environment; what cannot work is refused before anything starts.
func TestServeFlagsHall(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		args    []string
		addr    string // want, when no error
		tlsOn   bool
		wantErr string
	}{
		{name: "the default: this machine only", addr: "127.0.0.1:8080"},
		{name: "--lan", args: []string{"--lan"}, addr: "0.0.0.0:8080"},
		{name: "--lan keeps an address given", args: []string{"--lan", "--addr", "0.0.0.0:9000"}, addr: "0.0.0.0:9000"},
		{name: "--lan keeps KIEMPHIEU_ADDR", env: map[string]string{"KIEMPHIEU_ADDR": "[::]:9001"}, args: []string{"--lan"}, addr: "[::]:9001"},
		{name: "--lan on loopback", args: []string{"--lan", "--addr", "127.0.0.1:8080"}, wantErr: "this machine's only"},
		{name: "--lan on localhost", env: map[string]string{"KIEMPHIEU_ADDR": "localhost:8080"}, args: []string{"--lan"}, wantErr: "this machine's only"},
		{name: "KIEMPHIEU_TLS=auto", env: map[string]string{"KIEMPHIEU_TLS": "auto"}, addr: "127.0.0.1:8080", tlsOn: true},
		{name: "--tls auto", args: []string{"--tls", "auto"}, addr: "127.0.0.1:8080", tlsOn: true},
		{name: "own certificate", env: map[string]string{"KIEMPHIEU_TLS_CERT": "c.pem", "KIEMPHIEU_TLS_KEY": "k.pem"}, addr: "127.0.0.1:8080", tlsOn: true},
		{name: "--tls other", args: []string{"--tls", "on"}, wantErr: `--tls must be "auto"`},
		{name: "auto and a certificate", args: []string{"--tls", "auto", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, wantErr: "not both"},
		{name: "a certificate without its key", args: []string{"--tls-cert", "c.pem"}, wantErr: "go together"},
		{name: "https with an http public URL", args: []string{"--tls", "auto", "--public-url", "http://kp.hall:8080"}, wantErr: "https:// address when serving HTTPS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := serveFlagsWith(t, tc.args, tc.env, tc.wantErr, "KIEMPHIEU_ADDR", "KIEMPHIEU_TLS", "KIEMPHIEU_TLS_CERT", "KIEMPHIEU_TLS_KEY", "KIEMPHIEU_PUBLIC_URL")
			if cfg == nil {
				return
			}
			if cfg.Addr != tc.addr || cfg.tlsOn() != tc.tlsOn {
				t.Errorf("addr %q, TLS %v; want %q, %v", cfg.Addr, cfg.tlsOn(), tc.addr, tc.tlsOn)
			}
		})
	}
}

// lockedBuffer is the log of a server running in this process.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveOnce runs the service in this process with cfg until stop is
// called; it returns the base URL it serves and its log.
func serveOnce(t *testing.T, cfg serveConfig) (base string, log *lockedBuffer, stop func()) {
	t.Helper()
	log = &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- runServer(ctx, cfg, newLogger("text", log), func(b string) { ready <- b }) }()
	select {
	case base = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("the server did not start: %v\n%s", err, log)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("the server did not start in 30 s:\n%s", log)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("the server ended with %v", err)
		}
	}
	t.Cleanup(stop)
	return base, log, stop
}

// TestServeTLSAuto is DESIGN §7.3: KIEMPHIEU_TLS=auto serves HTTPS with a
// certificate made on the first start — ECDSA P-256, for localhost and
// every LAN address, ten years, kept in DATA/tls readable by the owner
// only — whose fingerprint the log prints; the next start serves the same
// certificate (the desks compared its fingerprint); the session cookie is
// Secure; and nothing is answered in clear.
func TestServeTLSAuto(t *testing.T) {
	data := t.TempDir()
	cfg := serveConfig{Addr: "127.0.0.1:0", Data: data, AdminToken: e2eAdminToken, TLS: "auto"}
	var fingerprints []string
	for life := 1; life <= 2; life++ {
		base, log, stop := serveOnce(t, cfg)
		if !strings.HasPrefix(base, "https://127.0.0.1:") {
			t.Fatalf("life %d: the service says it serves %s", life, base)
		}
		leaf, fp := peerCertificate(t, base)
		m := regexp.MustCompile(`sha256=([0-9A-F:]{95})`).FindStringSubmatch(log.String())
		if m == nil || m[1] != fp {
			t.Errorf("life %d: the log does not print the served certificate's fingerprint %s:\n%s", life, fp, log)
		}
		if made := strings.Contains(log.String(), "made_now=true"); made != (life == 1) {
			t.Errorf("life %d: made_now=%v", life, made)
		}
		fingerprints = append(fingerprints, fp)
		if life == 1 {
			checkAutoCertificate(t, leaf, filepath.Join(data, "tls"))
			checkSecureSession(t, base, leaf)
			if resp, err := http.Get("http://" + strings.TrimPrefix(base, "https://") + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					t.Error("the TLS port answers plain HTTP")
				}
			}
		}
		stop()
	}
	if fingerprints[0] != fingerprints[1] {
		t.Errorf("the restart made a new certificate: %s, then %s", fingerprints[0], fingerprints[1])
	}
}

// peerCertificate is the certificate the server at base serves, and its
// SHA-256 fingerprint as the log and the desk-token page print it.
func peerCertificate(t *testing.T, base string) (*x509.Certificate, string) {
	t.Helper()
	conn, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS to %s: %v", base, err)
	}
	defer conn.Close()
	leaf := conn.ConnectionState().PeerCertificates[0]
	sum := sha256.Sum256(leaf.Raw)
	var pairs []string
	for _, b := range sum {
		pairs = append(pairs, fmt.Sprintf("%02X", b))
	}
	return leaf, strings.Join(pairs, ":")
}

func checkAutoCertificate(t *testing.T, leaf *x509.Certificate, dir string) {
	t.Helper()
	if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("the key is %T, want ECDSA P-256", leaf.PublicKey)
	}
	if !slices.Contains(leaf.DNSNames, "localhost") {
		t.Errorf("DNS names %v lack localhost", leaf.DNSNames)
	}
	for _, want := range append([]netip.Addr{netip.MustParseAddr("127.0.0.1")}, api.LANAddrs()...) {
		if err := leaf.VerifyHostname(want.String()); err != nil {
			t.Errorf("the certificate does not name %s: %v", want, err)
		}
	}
	if life := leaf.NotAfter.Sub(leaf.NotBefore); life < 10*365*24*time.Hour {
		t.Errorf("valid for %v, want ten years", life)
	}
	for _, f := range []string{"cert.pem", "key.pem"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want 0600", f, st.Mode().Perm())
		}
	}
}

// checkSecureSession signs in over HTTPS, trusting the made certificate
// as a desk that accepted it, and checks the session cookie is Secure.
func checkSecureSession(t *testing.T, base string, leaf *x509.Certificate) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	post := func(path, auth string, v any) *http.Response {
		t.Helper()
		body, _ := json.Marshal(v)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("POST %s over HTTPS (the certificate verified as made): %v", path, err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, data)
		}
		return resp
	}
	// The live stream (a hijacked connection, its socket found below the
	// *tls.Conn to bound its send buffer) works over TLS.
	req, _ := http.NewRequest("POST", base+"/api/v1/contests", bytes.NewReader(e2eContest("tls-live", "live")))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e2eAdminToken)
	if resp, err := hc.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("creating a contest over HTTPS: %v %v", err, resp)
	}
	sresp, err := hc.Get(base + "/api/v1/contests/tls-live/stream")
	if err != nil {
		t.Fatalf("the stream over HTTPS: %v", err)
	}
	const want = "event: state\ndata: {\"state\":\"draft\"}"
	first := make([]byte, 64)
	n, _ := io.ReadAtLeast(sresp.Body, first, len(want)+len("retry: 2000\n\n"))
	sresp.Body.Close()
	if !strings.Contains(string(first[:n]), want) {
		t.Errorf("the stream over HTTPS begins %q", first[:n])
	}
	post("/api/v1/users", e2eAdminToken, map[string]string{"username": "thuky", "password": "mat-khau-thu-ky-2025", "role": "admin"})
	resp := post("/api/v1/login", "", map[string]string{"username": "thuky", "password": "mat-khau-thu-ky-2025"})
	var found bool
	for _, c := range resp.Cookies() {
		if c.Name == "kp_session" {
			found = true
			if !c.Secure {
				t.Errorf("the session cookie is not Secure: %v", resp.Header.Values("Set-Cookie"))
			}
		}
	}
	if !found {
		t.Errorf("no session cookie: %v", resp.Header.Values("Set-Cookie"))
	}
}

// TestPrintHall: the addresses for the desks, then a QR code of the first
// in half blocks, two rows of modules a line.
func TestPrintHall(t *testing.T) {
	var b bytes.Buffer
	printHall(&b, []string{"http://192.0.2.10:8080/", "http://[2001:db8::10]:8080/"}, "AB:CD")
	out := b.String()
	for _, want := range []string{"  http://192.0.2.10:8080/\n  http://[2001:db8::10]:8080/\n", "AB:CD", "▀", "▄", "█"} {
		if !strings.Contains(out, want) {
			t.Errorf("the banner lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	printHall(&b, nil, "")
	if b.Len() != 0 {
		t.Errorf("a banner with no address: %q", b.String())
	}
}

// serveFlagsWith parses serve's flags with exactly env set among keys (the
// others unset for the test). With wantErr it checks the refusal names it
// and returns nil.
func serveFlagsWith(t *testing.T, args []string, env map[string]string, wantErr string, keys ...string) *serveConfig {
	t.Helper()
	for _, k := range keys {
		t.Setenv(k, env[k])
		if _, set := env[k]; !set {
			os.Unsetenv(k)
		}
	}
	cfg, err := parseServeFlags("serve", args)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want one naming %q", err, wantErr)
		}
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return &cfg
}
