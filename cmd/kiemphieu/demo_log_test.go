package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestQuietDemo: the demo's log keeps people's requests and every refusal,
// and drops only the demo's own successful requests.
func TestQuietDemo(t *testing.T) {
	cases := []struct {
		who    string
		status int
		logged bool
	}{
		{"token:bootstrap", 201, false},
		{"token:bootstrap", 200, false},
		{"token:bootstrap", 409, true},
		{"user:thuky", 200, true},
		{"anonymous", 200, true},
	}
	for _, tc := range cases {
		var buf bytes.Buffer
		log := slog.New(quietDemo{newLogger("text", &buf).Handler()}).With("service", "demo")
		log.Info("request", "path", "/api/v1/contests/demo-daibieu/ballots", "status", tc.status, "who", tc.who)
		if got := strings.Contains(buf.String(), "msg=request"); got != tc.logged {
			t.Errorf("who=%s status=%d: logged = %v, want %v (%q)", tc.who, tc.status, got, tc.logged, buf.String())
		}
	}
	var buf bytes.Buffer
	slog.New(quietDemo{newLogger("text", &buf).Handler()}).Error("demo: the live desk stopped")
	if !strings.Contains(buf.String(), "live desk stopped") {
		t.Errorf("other records are dropped: %q", buf.String())
	}
}
