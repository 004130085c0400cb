package api_test

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/internal/proof"
	"github.com/kiemphieu/kiemphieu/store/bolt"
	"github.com/kiemphieu/kiemphieu/tally"
)

// countingStore is the embedded store counting the reads of round notes:
// every download of a round reads them once for its cache key, and the
// minutes read them again when they are rendered.
type countingStore struct {
	*bolt.Store
	notes atomic.Int64
}

func (s *countingStore) Item(ctx context.Context, kind, key string) ([]byte, error) {
	if kind == "notes" {
		s.notes.Add(1)
	}
	return s.Store.Item(ctx, kind, key)
}

func newCountingHarness(t *testing.T, cfg api.Config) (*harness, *countingStore) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kiemphieu.db")
	st, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cs := &countingStore{Store: st}
	clock := &fakeClock{now: time.Now().UTC().Truncate(time.Second)}
	cfg.AdminToken, cfg.Now = adminToken, clock.Now
	return &harness{t: t, server: &server{srv: api.New(cs, cfg), store: st, path: path, clock: clock}}, cs
}

// TestCertifiedDownloadsCached is finding 18 of the security review: the
// downloads of a certified round were rendered on every anonymous request
// (minutes.pdf of 10,000 candidates: 0.38 s of CPU each). Now a certified
// round's minutes and exports are rendered once, served from memory after,
// and revalidated by browsers with a strong ETag (304); eight requests at
// once render once. A round not certified is rendered every time, as
// before, and not stored by browsers.
func TestCertifiedDownloadsCached(t *testing.T) {
	h, cs := newCountingHarness(t, api.Config{PublicURL: "https://kiemphieu.example.vn"})
	h.countRound("cq")
	h.countRound("open-q")
	h.transition("cq", "certify", nil)
	viewer := bearer(h.issueToken("viewer", "xem"))

	for _, path := range []string{"/contests/cq/minutes.pdf", "/contests/cq/minutes", "/contests/cq/export.csv",
		"/contests/cq/export.xlsx", "/contests/cq/export.jsonl"} {
		t.Run(path, func(t *testing.T) {
			h := h.in(t)
			// The per-ballot log is read signed in (viewer); its other
			// audience is an admin. The rest: anonymous, then a viewer.
			reader, other := []opt{}, []opt{viewer}
			if strings.HasSuffix(path, ".jsonl") {
				reader, other = []opt{viewer}, []opt{asAdmin}
			}
			before := cs.notes.Load()
			var wg sync.WaitGroup
			answers := make([]*response, 8)
			for i := range answers {
				wg.Go(func() { answers[i] = h.do("GET", path, nil, reader...) })
			}
			wg.Wait()
			rendered := cs.notes.Load() - before - int64(len(answers)) // beyond one read per key
			first := answers[0]
			mustStatus(t, first, http.StatusOK)
			etag := first.header.Get("ETag")
			if len(etag) != 34 || first.header.Get("Cache-Control") != "private, no-cache" {
				t.Errorf("ETag %q, Cache-Control %q", etag, first.header.Get("Cache-Control"))
			}
			for _, r := range answers[1:] {
				if r.status != http.StatusOK || !bytes.Equal(r.body, first.body) || r.header.Get("ETag") != etag ||
					r.header.Get("Content-Type") != first.header.Get("Content-Type") ||
					r.header.Get("Content-Disposition") != first.header.Get("Content-Disposition") {
					t.Errorf("the answers differ: %d %q %q", r.status, r.header.Get("ETag"), r.header.Get("Content-Type"))
				}
			}
			minutes := strings.Contains(path, "minutes")
			if minutes {
				proof.Report(t, "renderings_for_8_concurrent_requests", rendered, "renderings")
			}
			if minutes && rendered != 1 || !minutes && rendered != 0 {
				t.Errorf("8 requests read the notes %d times beyond their keys: rendered more than once", rendered)
			}
			// Served from memory: no rendering reads the notes again.
			before = cs.notes.Load()
			r := h.do("GET", path, nil, reader...)
			if !bytes.Equal(r.body, first.body) || cs.notes.Load()-before != 1 {
				t.Errorf("a ninth request: %d notes reads, same body %v", cs.notes.Load()-before, bytes.Equal(r.body, first.body))
			}
			// A browser revalidating gets 304 and no body.
			r = h.do("GET", path, nil, append(reader, withHeader("If-None-Match", `"x", `+etag))...)
			if r.status != http.StatusNotModified || len(r.body) != 0 || r.header.Get("ETag") != etag {
				t.Errorf("revalidation: %d, %d bytes, ETag %q", r.status, len(r.body), r.header.Get("ETag"))
			}
			// A signed-in reader is another audience: its own entry.
			if r := h.do("GET", path, nil, other...); r.status != http.StatusOK || r.header.Get("ETag") == etag || r.header.Get("ETag") == "" {
				t.Errorf("another audience: %d, ETag %q (first %q)", r.status, r.header.Get("ETag"), etag)
			}
			// Not certified: rendered each time, never kept by browsers.
			open := strings.Replace(path, "/cq/", "/open-q/", 1)
			r = h.do("GET", open, nil, viewer)
			if r.status != http.StatusOK || r.header.Get("ETag") != "" || r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: %d, ETag %q, Cache-Control %q", open, r.status, r.header.Get("ETag"), r.header.Get("Cache-Control"))
			}
		})
	}
}

// The key holds everything a certified round's downloads are drawn from
// besides its log: a change to any part is a new rendering, never a stale
// one — the record (a next round linked after certification), the
// congress record and the notes as stored, and for the minutes the host
// their verify link names.
func TestCertifiedDownloadsKey(t *testing.T) {
	h := newHarness(t)
	h.countRound("ck")
	h.transition("ck", "certify", nil)
	get := func(path string, opts ...opt) *response {
		t.Helper()
		if strings.HasSuffix(path, ".jsonl") { // the per-ballot log is read signed in
			opts = append(opts, asAdmin)
		}
		r := h.do("GET", path, nil, opts...)
		mustStatus(t, r, http.StatusOK)
		return r
	}
	ctx := context.Background()
	changes := []struct {
		name, path string
		change     func()
		want       string // in the new body
	}{
		{"the record", "/contests/ck/export.jsonl", func() {
			if _, err := h.store.Update(ctx, "ck", func(rec *tally.Record, _ int64) error { rec.Next = "ck-r2"; return nil }); err != nil {
				t.Fatal(err)
			}
		}, `"next":"ck-r2"`},
		{"the congress record", "/contests/ck/minutes", func() {
			data, err := h.store.Item(ctx, "congress", "dh-p4")
			if err != nil {
				t.Fatal(err)
			}
			if err := h.store.PutItem(ctx, "congress", "dh-p4", bytes.Replace(data, []byte("Phường 4"), []byte("Phường 5"), -1)); err != nil {
				t.Fatal(err)
			}
		}, "Phường 5"},
		{"the notes", "/contests/ck/minutes", func() {
			data, err := h.store.Item(ctx, "notes", "ck")
			if err != nil {
				t.Fatal(err)
			}
			if err := h.store.PutItem(ctx, "notes", "ck", bytes.Replace(data, []byte(`"present":8`), []byte(`"present":7`), 1)); err != nil {
				t.Fatal(err)
			}
		}, "7 đồng chí"},
	}
	for _, tc := range changes {
		old := get(tc.path)
		tc.change()
		r := get(tc.path)
		if r.header.Get("ETag") == old.header.Get("ETag") || bytes.Equal(r.body, old.body) || !strings.Contains(string(r.body), tc.want) {
			t.Errorf("%s changed: ETag %q → %q, the body lacks %q", tc.name, old.header.Get("ETag"), r.header.Get("ETag"), tc.want)
		}
	}
	host := func(h string) opt { return func(r *http.Request) { r.Host = h } }
	a, b := get("/contests/ck/minutes", host("a.example")), get("/contests/ck/minutes", host("b.example"))
	if a.header.Get("ETag") == b.header.Get("ETag") || !strings.Contains(string(b.body), "http://b.example/verify/") {
		t.Errorf("another host: the same ETag %q, or a stale verify link", a.header.Get("ETag"))
	}
	// The exports print no address: one entry for every host.
	a, b = get("/contests/ck/export.csv", host("a.example")), get("/contests/ck/export.csv", host("b.example"))
	if a.header.Get("ETag") != b.header.Get("ETag") {
		t.Errorf("export.csv depends on the host: %q, %q", a.header.Get("ETag"), b.header.Get("ETag"))
	}
}

// Anonymous renderings are limited per address (RateLimits.Render): a live
// round's downloads, rendered every time, and a certified round's first.
// What is served from memory is not limited, and a refusal (401) counts
// nothing.
func TestRenderLimit(t *testing.T) {
	limits := api.DefaultRateLimits()
	limits.Render = api.RateLimit{Max: 3, Window: time.Minute}
	h := newHarnessWith(t, api.Config{RateLimits: &limits})
	h.countRound("cert")
	h.transition("cert", "certify", nil)
	h.openContest(with(contestDef("live"), "visibility", "live"))
	h.openContest(contestDef("hidden"))
	for range 5 { // one rendering
		mustStatus(t, h.do("GET", "/contests/cert/minutes.pdf", nil), http.StatusOK)
		mustError(t, h.do("GET", "/contests/hidden/export.csv", nil), http.StatusUnauthorized, "")
	}
	mustStatus(t, h.do("GET", "/contests/live/export.csv", nil), http.StatusOK)
	mustStatus(t, h.do("GET", "/contests/live/minutes.pdf", nil), http.StatusOK)
	r := h.do("GET", "/contests/live/export.csv", nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("the fourth rendering: %s", r)
	}
	mustStatus(t, h.do("GET", "/contests/cert/minutes.pdf", nil), http.StatusOK) // from memory
	mustStatus(t, h.do("GET", "/contests/live/export.csv", nil, bearer(h.issueToken("viewer", "xem"))), http.StatusOK)
}
