package storetest

import (
	"context"
	"testing"
	"time"
)

// NoticeStore passes short messages between the instances on one store:
// the service's way of telling every instance that a credential changed.
type NoticeStore interface {
	// Notify sends message to every listener, at most once.
	Notify(ctx context.Context, message string) error
	// Notices listens until ctx is done: an empty message first, and again
	// whenever notices may have been missed.
	Notices(ctx context.Context) <-chan string
}

// RunNotices runs the contract of NoticeStore. open returns two handles on
// one store, as two instances would have (for an embedded store, the same
// one twice).
func RunNotices(t *testing.T, open func(t *testing.T) (NoticeStore, NoticeStore)) {
	t.Run("Notices", func(t *testing.T) {
		a, b := open(t)
		lctx, stop := context.WithCancel(ctx(t))
		onA, onB := a.Notices(lctx), b.Notices(lctx)
		for name, ch := range map[string]<-chan string{"a": onA, "b": onB} {
			if m := next(t, ch); m != "" {
				t.Fatalf("listener %s: first notice %q, want the empty one (drop every copy)", name, m)
			}
		}
		for _, m := range []string{"token 1", "user thư ký", "token 2"} {
			if err := a.Notify(ctx(t), m); err != nil {
				t.Fatalf("Notify(%q): %v", m, err)
			}
		}
		for name, ch := range map[string]<-chan string{"a": onA, "b": onB} {
			for _, want := range []string{"token 1", "user thư ký", "token 2"} {
				if got := next(t, ch); got != want {
					t.Fatalf("listener %s: got %q, want %q (in the order sent)", name, got, want)
				}
			}
		}
		stop()
		for name, ch := range map[string]<-chan string{"a": onA, "b": onB} {
			deadline := time.After(10 * time.Second)
		drain:
			for {
				select {
				case _, ok := <-ch:
					if !ok {
						break drain
					}
				case <-deadline:
					t.Fatalf("listener %s: the channel was not closed after its context ended", name)
				}
			}
		}
	})
}

func next(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("the notices channel closed early")
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no notice within 10 s")
	}
	return ""
}
