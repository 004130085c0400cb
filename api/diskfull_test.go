package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/store/bolt"
	"github.com/kiemphieu/kiemphieu/tally"
)

// refusingStore is a real store whose small writes (items, audit) are
// refused as a full disk refuses them, while full is set. Ballots and reads
// go to the store; the service-level test of a really full disk is
// cmd/kiemphieu's TestE2EDiskFull.
type refusingStore struct {
	*bolt.Store
	full atomic.Bool
}

var errFull = &tally.Error{Kind: tally.Unavailable, Message: "bolt: the disk of the data directory is full (no space left on device): could not put item; nothing was changed"}

func (s *refusingStore) PutItem(ctx context.Context, kind, key string, value []byte) error {
	if s.full.Load() {
		return errFull
	}
	return s.Store.PutItem(ctx, kind, key, value)
}

func (s *refusingStore) AppendAudit(ctx context.Context, line []byte) error {
	if s.full.Load() {
		return errFull
	}
	return s.Store.AppendAudit(ctx, line)
}

// A signed-in browser keeps reading while the store refuses writes: the
// session's refresh is put off, not turned into an error; writes are 503
// with the store's reason.
func TestReadsWhileStoreRefusesWrites(t *testing.T) {
	t.Parallel()
	base := newHarness(t)
	store := &refusingStore{Store: base.store}
	h := &harness{t: t, server: &server{
		srv:   api.New(store, api.Config{AdminToken: adminToken, Now: base.clock.Now}),
		store: base.store, path: base.path, clock: base.clock,
	}}
	const password = "mật khẩu đủ dài 2025"
	h.seedUser("bankiemphieu", password, "viewer")
	s := h.login("bankiemphieu", password)

	store.full.Store(true)
	h.clock.Advance(2 * time.Minute) // past the session's refresh interval
	for range 3 {
		mustStatus(t, h.do("GET", "/api/v1/contests", nil, withSession(s)), http.StatusOK)
	}
	r := h.do("POST", "/api/v1/tokens", map[string]string{"role": "counter", "name": "Bàn 9"}, asAdmin)
	e := errorOf(t, r, http.StatusServiceUnavailable)
	if e.Code != "unavailable" || !strings.Contains(e.Message, "no space left on device") {
		t.Errorf("a write while the store refuses writes: %s; want 503 unavailable naming the cause", r)
	}

	store.full.Store(false)
	h.clock.Advance(2 * time.Minute)
	mustStatus(t, h.do("GET", "/api/v1/contests", nil, withSession(s)), http.StatusOK)
}
