package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/tally"
)

// ItemStore is the rest of what the service keeps: small records by kind
// and key (tokens, users, sessions) and the audit log.
type ItemStore interface {
	PutItem(ctx context.Context, kind, key string, value []byte) error
	Item(ctx context.Context, kind, key string) ([]byte, error)
	DeleteItem(ctx context.Context, kind, key string) error
	ListItems(ctx context.Context, kind string) (map[string][]byte, error)
	AppendAudit(ctx context.Context, line []byte) error
	Audit(ctx context.Context, after int64, limit int) ([][]byte, error)
	Ping(ctx context.Context) error
	// Hit adds one to the counter under key and returns the new count and
	// the counter's time left; a counter is forgotten window after its
	// first Hit. The rate limits of the service, shared by its instances.
	Hit(ctx context.Context, key string, window time.Duration) (int64, time.Duration, error)
	// SwapItem stores value only if the item holds old (nil: is absent)
	// and reports whether it did: the compare-and-set that moves a
	// record's state one step at a time across instances.
	SwapItem(ctx context.Context, kind, key string, old, value []byte) (bool, error)
}

// RunItems runs the contract of ItemStore. reopen restarts the store on
// the same data.
func RunItems(t *testing.T, open func(t *testing.T) ItemStore, reopen func(t *testing.T, s ItemStore) ItemStore) {
	t.Run("Items", func(t *testing.T) {
		s := open(t)
		if err := s.Ping(ctx(t)); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		_, err := s.Item(ctx(t), "token", "k1")
		wantKind(t, err, tally.NotFound)
		if err := s.PutItem(ctx(t), "token", "k1", []byte(`{"a":1}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutItem(ctx(t), "user", "k1", []byte(`{"b":2}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutItem(ctx(t), "token", "k1", []byte(`{"a":2}`)); err != nil {
			t.Fatal(err)
		}
		s = reopen(t, s)
		if got, err := s.Item(ctx(t), "token", "k1"); err != nil || string(got) != `{"a":2}` {
			t.Fatalf("Item token/k1 = %s, %v; want the overwritten value", got, err)
		}
		if got, err := s.Item(ctx(t), "user", "k1"); err != nil || string(got) != `{"b":2}` {
			t.Fatalf("kinds are separate: Item user/k1 = %s, %v", got, err)
		}
		if err := s.PutItem(ctx(t), "token", "k2", []byte(`{"c":3}`)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ListItems(ctx(t), "token"); err != nil || len(got) != 2 || string(got["k1"]) != `{"a":2}` || string(got["k2"]) != `{"c":3}` {
			t.Fatalf("ListItems(token) = %q, %v; want k1 and k2", got, err)
		}
		if got, err := s.ListItems(ctx(t), "none"); err != nil || len(got) != 0 {
			t.Fatalf("ListItems of an empty kind = %q, %v", got, err)
		}
		if err := s.DeleteItem(ctx(t), "token", "k1"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ListItems(ctx(t), "token"); err != nil || len(got) != 1 {
			t.Fatalf("ListItems after a delete = %q, %v; want k2 only", got, err)
		}
		_, err = s.Item(ctx(t), "token", "k1")
		wantKind(t, err, tally.NotFound)
		if err := s.DeleteItem(ctx(t), "token", "k1"); err != nil && tally.ErrorKind(err) != tally.NotFound {
			t.Fatalf("deleting a missing item: %v", err)
		}
	})
	t.Run("Audit", func(t *testing.T) {
		s := open(t)
		var want [][]byte
		for i := range 25 {
			line := []byte(fmt.Sprintf(`{"n":%d}`, i))
			want = append(want, line)
			if err := s.AppendAudit(ctx(t), line); err != nil {
				t.Fatal(err)
			}
		}
		s = reopen(t, s)
		all, err := s.Audit(ctx(t), 0, 100)
		if err != nil || !reflect.DeepEqual(all, want) {
			t.Fatalf("Audit = %q, %v", all, err)
		}
		page, err := s.Audit(ctx(t), 10, 5)
		if err != nil || !reflect.DeepEqual(page, want[10:15]) {
			t.Fatalf("Audit(after 10, limit 5) = %q, %v", page, err)
		}
	})
	t.Run("Hit", func(t *testing.T) { testHit(t, open, reopen) })
	t.Run("SwapItem", func(t *testing.T) { testSwapItem(t, open, reopen) })
}

// testSwapItem: a swap stores only over the value it expects (or over
// nothing), an empty value is a value and not absence, the result
// survives a restart, and of many concurrent swaps from one value exactly
// one wins.
func testSwapItem(t *testing.T, open func(t *testing.T) ItemStore, reopen func(t *testing.T, s ItemStore) ItemStore) {
	s := open(t)
	swap := func(old, value []byte, want bool) {
		t.Helper()
		got, err := s.SwapItem(ctx(t), "lock", "k", old, value)
		if err != nil {
			t.Fatalf("SwapItem(%q → %q): %v", old, value, err)
		}
		if got != want {
			t.Fatalf("SwapItem(%q → %q) = %v; want %v", old, value, got, want)
		}
	}
	swap([]byte("x"), []byte("1"), false) // nothing there: only old nil matches
	swap([]byte{}, []byte("1"), false)    // an empty old is a value, not absence
	swap(nil, []byte("1"), true)
	swap(nil, []byte("2"), false) // now there is something
	swap([]byte("2"), []byte("3"), false)
	swap([]byte("1"), []byte{}, true) // an empty value is stored as such
	swap(nil, []byte("4"), false)
	swap([]byte{}, []byte("5"), true)
	s = reopen(t, s)
	if got, err := s.Item(ctx(t), "lock", "k"); err != nil || string(got) != "5" {
		t.Fatalf("after a restart Item = %q, %v; want 5", got, err)
	}
	if got, err := s.ListItems(ctx(t), "lock"); err != nil || string(got["k"]) != "5" {
		t.Fatalf("ListItems after a swap = %q, %v; want k listed", got, err)
	}
	if _, err := s.SwapItem(ctx(t), "lock", "k", nil, nil); tally.ErrorKind(err) != tally.Invalid {
		t.Fatalf("a swap without a value: %v; want Invalid", err)
	}

	// Many goroutines read the same value and swap from it: one wins.
	const workers = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.SwapItem(ctx(t), "lock", "k", []byte("5"), []byte(fmt.Sprintf("w%d", i)))
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d of %d concurrent swaps from one value won; want exactly 1", wins, workers)
	}
}

// testHit: counts go 1, 2, 3… per key, keys are separate, concurrent Hits
// never share a count (the increment is atomic), a counter outlives a
// restart and is forgotten once its window is over.
func testHit(t *testing.T, open func(t *testing.T) ItemStore, reopen func(t *testing.T, s ItemStore) ItemStore) {
	s := open(t)
	const window = time.Minute
	for want := int64(1); want <= 3; want++ {
		n, left, err := s.Hit(ctx(t), "signin:10.0.0.1", window)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("Hit #%d = %d; want %d", want, n, want)
		}
		if left <= 0 || left > window {
			t.Fatalf("Hit #%d: time left %v; want in (0, %v]", want, left, window)
		}
	}
	if n, _, err := s.Hit(ctx(t), "signin:10.0.0.2", window); err != nil || n != 1 {
		t.Fatalf("another key: Hit = %d, %v; want 1 (keys are separate)", n, err)
	}
	s = reopen(t, s)
	if n, _, err := s.Hit(ctx(t), "signin:10.0.0.1", window); err != nil || n != 4 {
		t.Fatalf("after a restart: Hit = %d, %v; want 4", n, err)
	}

	// Concurrent Hits from many goroutines: the counts returned are
	// exactly 1..N, each once.
	const workers, each = 16, 25
	var mu sync.Mutex
	var got []int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				n, _, err := s.Hit(ctx(t), "tokens:admin", window)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				got = append(got, n)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	slices.Sort(got)
	for i, n := range got {
		if n != int64(i+1) {
			t.Fatalf("concurrent Hits: sorted counts %v…; count %d at position %d (want 1..%d, each once)", got[:min(len(got), 10)], n, i, workers*each)
		}
	}

	// The window: a counter is forgotten once it is over.
	short := 300 * time.Millisecond
	for want := int64(1); want <= 2; want++ {
		if n, _, err := s.Hit(ctx(t), "verify:10.0.0.3", short); err != nil || n != want {
			t.Fatalf("short window: Hit = %d, %v; want %d", n, err, want)
		}
	}
	time.Sleep(short + 100*time.Millisecond)
	n, left, err := s.Hit(ctx(t), "verify:10.0.0.3", short)
	if err != nil || n != 1 {
		t.Fatalf("after the window: Hit = %d, %v; want 1 (a new window)", n, err)
	}
	if left <= 0 || left > short {
		t.Fatalf("after the window: time left %v; want in (0, %v]", left, short)
	}

	if _, _, err := s.Hit(ctx(t), "", window); tally.ErrorKind(err) != tally.Invalid {
		t.Fatalf("Hit with no key: %v; want an error of kind invalid", err)
	}
	if _, _, err := s.Hit(ctx(t), "k", 0); tally.ErrorKind(err) != tally.Invalid {
		t.Fatalf("Hit with no window: %v; want an error of kind invalid", err)
	}
}
