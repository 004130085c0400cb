package api_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// pdfPages is the page count pdfinfo reads from a PDF.
func pdfPages(t *testing.T, pdf []byte) int {
	t.Helper()
	f := filepath.Join(t.TempDir(), "p.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdfinfo", f).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	if !strings.Contains(string(out), "(A4)") {
		t.Errorf("pdfinfo: not A4:\n%s", out)
	}
	m := regexp.MustCompile(`Pages:\s+(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo gave no page count:\n%s", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestBallotPaperPDF: the machine-readable ballot is a PDF of identical A4
// pages, as many as asked for, and the test deck one page per case; both
// are linked from the print view; a bad copies count names the field.
func TestBallotPaperPDF(t *testing.T) {
	if _, err := exec.LookPath("pdfinfo"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdfinfo (poppler-utils) is needed: scripts/test installs it")
		}
		t.Skip("SKIPPED: pdfinfo (poppler-utils) is not installed")
	}
	h := newHarness(t)
	def := with(contestDef("bch"), "candidates", []any{
		map[string]any{"id": "c1", "name": "Phạm Thị Dung"},
		map[string]any{"id": "c2", "name": "Nguyễn Văn An"},
		map[string]any{"id": "c3", "name": "Lê Văn Đức"},
		map[string]any{"id": "c4", "name": "Trần Văn Dũng"},
	})
	mustStatus(t, h.do("POST", "/api/v1/contests", def, asAdmin), http.StatusCreated)
	viewer := bearer(h.issueToken("viewer", "xem"))
	tests := []struct {
		path   string
		status int
		pages  int
	}{
		{"/contests/bch/ballot-paper.pdf", http.StatusOK, 1},
		{"/contests/bch/ballot-paper.pdf?copies=3", http.StatusOK, 3},
		{"/contests/bch/ballot-paper.pdf?copies=0", http.StatusBadRequest, 0},
		{"/contests/bch/ballot-paper.pdf?copies=501", http.StatusBadRequest, 0},
		{"/contests/bch/ballot-paper.pdf?copies=x", http.StatusBadRequest, 0},
		// 4 names: blank, four full-strike kinds, partial, faint, all but last, all.
		{"/contests/bch/test-deck.pdf", http.StatusOK, 9},
	}
	for _, tt := range tests {
		r := h.page("GET", tt.path, nil, viewer)
		mustStatus(t, r, tt.status)
		if tt.status != http.StatusOK {
			continue
		}
		if ct := r.header.Get("Content-Type"); ct != "application/pdf" {
			t.Errorf("%s: Content-Type %q", tt.path, ct)
		}
		if r.header.Get("Content-Disposition") == "" {
			t.Errorf("%s: no Content-Disposition", tt.path)
		}
		if got := pdfPages(t, r.body); got != tt.pages {
			t.Errorf("%s: %d pages, want %d", tt.path, got, tt.pages)
		}
	}
	page := string(h.page("GET", "/contests/bch/ballot-paper", nil, viewer).body)
	for _, link := range []string{`href="/contests/bch/ballot-paper.pdf"`, `href="/contests/bch/test-deck.pdf"`} {
		if !strings.Contains(page, link) {
			t.Errorf("the print view has no %s", link)
		}
	}
}
