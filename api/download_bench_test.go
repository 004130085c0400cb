package api_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/store/bolt"
	"github.com/kiemphieu/kiemphieu/tally"
)

// certifiedLargeRound builds, on a server of its own, a certified round of
// tally.MaxCandidates candidates (the allowed maximum) with 200 ballots
// under a congress, as in the review's finding 18.
func certifiedLargeRound(tb testing.TB) *api.Server {
	tb.Helper()
	st, err := bolt.Open(filepath.Join(tb.TempDir(), "kiemphieu.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	srv := api.New(st, api.Config{AdminToken: adminToken, PublicURL: "https://kiemphieu.example.vn"})
	cands := make([]any, tally.MaxCandidates)
	for i := range cands {
		cands[i] = map[string]any{"id": fmt.Sprintf("c%d", i+1), "name": fmt.Sprintf("Nguyễn Văn Ứng Viên %05d", i+1)}
	}
	def := map[string]any{
		"id": "big", "title": "Bầu đại biểu dự Đại hội cấp trên", "kind": "delegates", "seats": 100, "ballot": "strike",
		"electorate": map[string]any{"congress": "delegates", "convened": 300},
		"candidates": cands,
	}
	mustStatus(tb, doApp(tb, srv, "POST", "/api/v1/congresses", congressRecord(), asAdmin), http.StatusCreated)
	mustStatus(tb, doApp(tb, srv, "POST", "/api/v1/contests?congress=dh-p4", def, asAdmin), http.StatusCreated)
	mustStatus(tb, doApp(tb, srv, "POST", "/api/v1/contests/big/open", nil, asAdmin), http.StatusOK)
	for i := range 200 {
		struck := []string{fmt.Sprintf("c%d", i%50+1), fmt.Sprintf("c%d", 5000+i)}
		mustStatus(tb, doApp(tb, srv, "POST", "/api/v1/contests/big/ballots", tally.Ballot{ID: fmt.Sprintf("b%d", i), Struck: struck}, asAdmin), http.StatusCreated)
	}
	mustStatus(tb, doApp(tb, srv, "POST", "/api/v1/contests/big/close", map[string]any{"issued": 200}, asAdmin), http.StatusOK)
	mustStatus(tb, doApp(tb, srv, "POST", "/api/v1/contests/big/certify", nil, asAdmin), http.StatusOK)
	return srv
}

// BenchmarkCertifiedDownloads: anonymous downloads of a certified round of
// 10,000 candidates (finding 18), one request at a time through the app,
// after a first request (which renders what is kept).
//
//	go test -run '^$' -bench BenchmarkCertifiedDownloads -benchmem ./api/
func BenchmarkCertifiedDownloads(b *testing.B) {
	srv := certifiedLargeRound(b)
	for _, path := range []string{"/contests/big/minutes.pdf", "/contests/big/minutes", "/contests/big/export.xlsx",
		"/contests/big/export.csv", "/contests/big/export.jsonl"} {
		b.Run(filepath.Base(path), func(b *testing.B) {
			mustStatus(b, doApp(b, srv, "GET", path, nil), http.StatusOK)
			for b.Loop() {
				r := doApp(b, srv, "GET", path, nil)
				if r.status != http.StatusOK {
					b.Fatalf("GET %s: %d %.200s", path, r.status, r.body)
				}
			}
		})
	}
}
