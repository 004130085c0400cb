package api_test

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestShutdownWhileServeStarts: a SIGTERM at start-up calls Shutdown while
// Serve is still starting in another goroutine. Under -race this failed on
// the credentials' listener (Serve writing what Shutdown read); each time,
// Serve returns and nothing is left listening.
func TestShutdownWhileServeStarts(t *testing.T) {
	for range 20 {
		h := newHarness(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- h.srv.Serve(ln) }()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := h.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		cancel()
		ln.Close() // Serve may not have reached the listener when Shutdown ran
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Fatal("Serve did not return after Shutdown")
		}
	}
}
