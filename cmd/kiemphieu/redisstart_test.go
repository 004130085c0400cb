package main

// The service's start on a Redis that is not there yet (issue 15): when
// nothing answers, it exits naming the operator's repair of a torn AOF
// (after a power cut Redis refuses to start on one); when Redis answers
// LOADING, it waits for the load rather than exit.

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/redistest"
)

func TestServeRedisDownNamesTheRepair(t *testing.T) {
	locked := redistest.StartWith(t, redistest.Options{Password: "s3cret-redis-password"})
	cases := []struct {
		name string
		url  string
		// hint: the operator's step is printed (no Redis answered); else
		// Redis answered and the step would mislead.
		hint bool
		want string
	}{
		{"nothing listens", "redis://" + freeAddr(t) + "/0", true, "connection refused"},
		{"Redis answers NOAUTH", "redis://" + locked.Addr() + "/0", false, "NOAUTH"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "serve", "--addr", freeAddr(t), "--data", t.TempDir(), "--redis-url", tc.url, "--admin-token", e2eAdminToken)
			if code != exitFailure {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitFailure, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, stderr)
			}
			step := "redis-check-aof --fix <dir>/appendonlydir/appendonly.aof.manifest"
			if got := strings.Contains(stderr, step); got != tc.hint {
				t.Errorf("the operator's step %q printed: %v, want %v; stderr:\n%s", step, got, tc.hint, stderr)
			}
			if tc.hint && !strings.Contains(stderr, "Unexpected end of file reading the append only file") {
				t.Errorf("the hint does not say what Redis's log shows for a torn AOF:\n%s", stderr)
			}
		})
	}
}

// TestServeWaitsForRedisLoading: a service started while Redis replays its
// AOF (slowed with --key-load-delay) waits, and starts once Redis has
// loaded; it used to exit on the first LOADING reply.
func TestServeWaitsForRedisLoading(t *testing.T) {
	rs := redistest.StartWith(t, redistest.Options{Args: []string{"--key-load-delay", "300"}})
	// 20,000 keys at 0.3 ms each: a load of about 6 s. Redis answers
	// while loading only between batches of 1,024 commands (every 0.3 s
	// here), and go-redis itself retries a LOADING reply 3 times, which
	// covers a second or two: the load must outlast that to test Open.
	if _, err := rs.Do("EVAL", "for i = 1, 20000 do redis.call('SET', 'filler:' .. i, 'x') end return 1", "0"); err != nil {
		t.Fatal(err)
	}
	rs.Kill()
	loaded := make(chan error, 1)
	var loadedAt time.Time
	go func() {
		err := rs.TryStart()
		loadedAt = time.Now()
		loaded <- err
	}()
	// Wait until Redis says LOADING.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := rs.Do("PING")
		if err != nil && strings.HasPrefix(err.Error(), "LOADING") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server never answered LOADING (last: %v)", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var logBuf syncBuffer
	cfg := serveConfig{Addr: freeAddr(t), Data: t.TempDir(), RedisURL: rs.URL(), AdminToken: e2eAdminToken, LogFormat: "text"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var readyAt time.Time
	err := runServer(ctx, cfg, slog.New(slog.NewTextHandler(&logBuf, nil)), func(base string) {
		readyAt = time.Now()
		// Stop only once it serves: a Shutdown before Serve has begun
		// races with it (api.Server's listen and stopListening).
		if err := waitReady(base, nil, 10*time.Second); err != nil {
			t.Errorf("the service listened but did not answer /readyz: %v", err)
		}
		cancel()
	})
	if err != nil {
		t.Fatalf("the service did not start on a loading Redis: %v\n%s", err, logBuf.String())
	}
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	if readyAt.IsZero() {
		t.Fatalf("the service never listened:\n%s", logBuf.String())
	}
	// TryStart returns once INFO says loading:0, which may be a moment
	// after the service's PING got through; it cannot be much before.
	if readyAt.Before(loadedAt.Add(-time.Second)) {
		t.Errorf("the service was ready at %v, Redis loaded at %v", readyAt, loadedAt)
	}
	t.Logf("Redis loaded at %v; the service listening %v later", loadedAt.Format("15:04:05.000"), readyAt.Sub(loadedAt).Round(time.Millisecond))
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
