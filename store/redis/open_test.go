package redis_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/store/redis"
	"github.com/kiemphieu/kiemphieu/tally"
)

// TestOpenFailures: Open's error is Unavailable either way, and carries
// ErrUnreachable only when nothing answered (the service then prints the
// operator's AOF repair step), not when a Redis answered with an error.
func TestOpenFailures(t *testing.T) {
	locked := redistest.StartWith(t, redistest.Options{Password: "open-test-password"})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	cases := []struct {
		name        string
		url         string
		unreachable bool
		want        string
	}{
		{"nothing listens", "redis://" + closed + "/0", true, "connection refused"},
		{"Redis answers NOAUTH", "redis://" + locked.Addr() + "/0", false, "NOAUTH"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := redis.Open(ctx, tc.url)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if k := tally.ErrorKind(err); k != tally.Unavailable {
				t.Errorf("kind %s, want %s: %v", k, tally.Unavailable, err)
			}
			if got := errors.Is(err, redis.ErrUnreachable); got != tc.unreachable {
				t.Errorf("errors.Is(ErrUnreachable) = %v, want %v: %v", got, tc.unreachable, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not say %q: %v", tc.want, err)
			}
		})
	}
}
