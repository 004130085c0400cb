package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDoubleClickArgs(t *testing.T) {
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	for _, tc := range []struct {
		goos string
		env  map[string]string
		want string
	}{
		{"windows", nil, "serve --open --addr 0.0.0.0:8080"},
		{"windows", map[string]string{"KIEMPHIEU_ADDR": "192.168.1.10:8090"}, "serve --open"},
		{"linux", nil, ""},
		{"darwin", nil, ""},
	} {
		if got := strings.Join(doubleClickArgs(tc.goos, env(tc.env)), " "); got != tc.want {
			t.Errorf("%s %v: %q, want %q", tc.goos, tc.env, got, tc.want)
		}
	}
}

func TestDefaultDataDir(t *testing.T) {
	exe := func(p string, err error) func() (string, error) { return func() (string, error) { return p, err } }
	for _, tc := range []struct {
		goos string
		exe  func() (string, error)
		want string
	}{
		{"windows", exe(filepath.Join("C:", "kiemphieu", "kiemphieu.exe"), nil), filepath.Join("C:", "kiemphieu", "data")},
		{"windows", exe("", io.EOF), "./data"},
		{"linux", exe("/opt/kiemphieu/kiemphieu", nil), "./data"},
	} {
		if got := defaultDataDir(tc.goos, tc.exe); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.goos, got, tc.want)
		}
	}
}

// startFor runs the service in-process until the test ends (or stop is
// called) and returns its log once it listens.
func startFor(t *testing.T, cfg serveConfig) (log *lockedBuffer, stop func()) {
	t.Helper()
	log = &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- runServer(ctx, cfg, newLogger("json", log), func(base string) { ready <- base }) }()
	select {
	case base := <-ready:
		// Serving, not only listening: a shutdown before Serve has begun
		// would wait for it forever.
		if err := waitReady(base, nil, 10*time.Second); err != nil {
			t.Fatalf("serve: %v\n%s", err, log)
		}
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, log)
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not listen:\n%s", log)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return log, stop
}

// setupURL is the first-run link serve logged, or "".
func setupURL(t *testing.T, log string) string {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		var l struct {
			URL string `json:"setup_url"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.URL != "" {
			return l.URL
		}
	}
	return ""
}

// A fresh data directory without an admin token: serve prints a link that
// opens the first-run form; a restart prints another and the first stops
// working. With an admin token, none.
func TestServePrintsFirstRunLink(t *testing.T) {
	data := t.TempDir()
	// No idle connection left open: the server's shutdown waits for them.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	get := func(link string) int {
		t.Helper()
		r, err := client.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	log, stop := startFor(t, serveConfig{Addr: "127.0.0.1:0", Data: data, LogFormat: "json"})
	first := setupURL(t, log.String())
	if !strings.HasPrefix(first, "http://127.0.0.1:") || !strings.Contains(first, "/setup?code=") {
		t.Fatalf("no first-run link in the log:\n%s", log)
	}
	if got := get(first); got != http.StatusOK {
		t.Errorf("GET %s: %d, want 200", first, got)
	}
	stop()

	log, _ = startFor(t, serveConfig{Addr: "127.0.0.1:0", Data: data, LogFormat: "json"})
	second := setupURL(t, log.String())
	if second == "" || second == first {
		t.Fatalf("a restart printed %q after %q; want a new link", second, first)
	}
	port := second[:strings.Index(second, "/setup")]
	if got := get(port + first[strings.Index(first, "/setup"):]); got != http.StatusForbidden {
		t.Errorf("the first link after a restart: %d, want 403", got)
	}

	log, _ = startFor(t, serveConfig{Addr: "127.0.0.1:0", Data: t.TempDir(), LogFormat: "json", AdminToken: "an-admin-token-of-the-scripts"})
	if l := setupURL(t, log.String()); l != "" {
		t.Errorf("with an admin token, serve printed %s", l)
	}
}
