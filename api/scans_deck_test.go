package api_test

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kiemphieu/kiemphieu/scan"
)

// TestTestDeckReadBack prints a round's test deck (GET …/test-deck.pdf),
// scans every page as an office scanner would (pdftoppm, 200 dpi, gray),
// uploads the pages and checks the machine's reading of each against what
// the deck drew on it (scan.TestDeck): the test the committee runs before
// counting starts. Test pages never reach the log.
func TestTestDeckReadBack(t *testing.T) {
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftoppm (poppler-utils) is needed: scripts/test installs it")
		}
		t.Skip("SKIPPED: pdftoppm (poppler-utils) is not installed")
	}
	h := newHarness(t)
	e := &scanEnv{t: t, srv: h.srv}
	h.openContest(contestDef("deck1"))
	counter := bearer(h.issueToken("counter", "Bàn 1"))
	r := h.do("GET", "/contests/deck1/test-deck.pdf", nil, bearer(h.issueToken("viewer", "Màn hình")))
	mustStatus(t, r, http.StatusOK)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "deck.pdf"), r.body, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-r", "200", "-gray", "-png", filepath.Join(dir, "deck.pdf"), filepath.Join(dir, "p")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	deck := scan.TestDeck(testPaper(t, "deck1"))
	pngs, _ := filepath.Glob(filepath.Join(dir, "p-*.png"))
	if len(pngs) != len(deck) {
		t.Fatalf("%d pages printed, the deck has %d", len(pngs), len(deck))
	}
	slices.Sort(pngs)
	for i, path := range pngs {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		g := image.NewGray(img.Bounds())
		draw.Draw(g, g.Bounds(), img, img.Bounds().Min, draw.Src)
		want := deck[i]
		p := e.uploadOK("deck1", counter, filePart(jpegOf(t, g))).Pages[0]
		name := fmt.Sprintf("page %d (%s)", want.Page, want.Title)
		if p.TestPage != want.Page {
			t.Errorf("%s: test_page %d", name, p.TestPage)
		}
		// A reading the engine finds invalid (an untouched strike paper is
		// an over-vote) always waits for a person: the api's rule, beside
		// the machine's.
		if p.Status != string(want.Expect.Status) && (want.Expect.Status != scan.StatusRead || p.Reason != "invalid") {
			t.Errorf("%s: %s (%s), want %s", name, p.Status, p.Reason, want.Expect.Status)
		}
		for _, id := range want.Expect.Doubtful {
			if !slices.Contains(p.Doubtful, id) {
				t.Errorf("%s: %s not sent to a person (doubtful %v)", name, id, p.Doubtful)
			}
		}
		if want.Expect.Status == scan.StatusRead && len(want.Expect.Struck) > 0 && p.Ballot != nil {
			got := slices.Clone(p.Ballot.Struck)
			slices.Sort(got)
			exp := slices.Clone(want.Expect.Struck)
			slices.Sort(exp)
			if !slices.Equal(got, exp) {
				t.Errorf("%s: struck %v, want %v", name, got, exp)
			}
		}
	}
	// The committee's check (GET …/scans "deck", the scans page's table)
	// says the same: every page received and read as drawn.
	var list struct {
		Deck []struct {
			Page           int
			Received, Pass bool
			Problems       []map[string]string
		} `json:"deck"`
	}
	decode(t, e.do("GET", "/api/v1/contests/deck1/scans", nil, counter), &list)
	if len(list.Deck) != len(deck) {
		t.Fatalf("the deck check has %d pages, the deck %d", len(list.Deck), len(deck))
	}
	for _, d := range list.Deck {
		if !d.Received || !d.Pass {
			t.Errorf("deck check, page %d: received %v, pass %v, problems %v", d.Page, d.Received, d.Pass, d.Problems)
		}
	}
	if ids := e.logIDs("deck1"); len(ids) != 0 {
		t.Errorf("test pages reached the log: %v", ids)
	}
}
