package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/store/redis"
	"github.com/kiemphieu/kiemphieu/store/storetest"
)

var _ storetest.NoticeStore = (*redis.Store)(nil)

// Two Stores on one server are two instances.
func TestNoticesContract(t *testing.T) {
	storetest.RunNotices(t, func(t *testing.T) (storetest.NoticeStore, storetest.NoticeStore) {
		srv := redistest.Start(t)
		return open(t, srv.URL()), open(t, srv.URL())
	})
}

// Notices published while a listener's connection was down are lost; when
// it subscribes again the listener is told so with an empty notice.
func TestNoticesAfterRestart(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ch := s.Notices(ctx)
	if m := <-ch; m != "" {
		t.Fatalf("first notice %q, want the empty one", m)
	}
	srv.Kill()
	srv.Restart(t)
	select {
	case m, ok := <-ch:
		if !ok || m != "" {
			t.Fatalf("after the restart: %q (open %v), want the empty notice", m, ok)
		}
	case <-ctx.Done():
		t.Fatal("no notice after Redis came back: the listener would keep stale copies")
	}
	// And it listens again.
	other := open(t, srv.URL())
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := other.Notify(ctx, "token 9"); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-ch:
			if m != "token 9" {
				t.Fatalf("got %q, want token 9", m)
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the listener hears nothing after the restart")
		}
	}
}
