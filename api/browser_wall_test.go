package api_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/kiemphieu/kiemphieu/tally"
)

// The wall and the paper (issue 13): the projector must show every name
// of a list up to 60 without scrolling at the two sizes halls have, and
// the ballot paper must print on one A4 sheet up to 40 names.

// hallNames are realistic long names: the fit must hold for the widest
// lists, not for "A", "B", "C".
var hallNames = []string{
	"Nguyễn Thị Thanh Hương", "Trần Văn Ước", "Chu Thị Yến", "Trịnh Xuân Ưng", "Lê Hoàng Phương Thảo",
	"Phạm Quốc Khánh", "Hoàng Thị Minh Nguyệt", "Vũ Đức Thắng", "Đặng Ngọc Quỳnh Anh", "Bùi Văn Trường",
	"Đỗ Thị Hồng Nhung", "Ngô Quang Huy", "Dương Thị Kim Oanh", "Lý Văn Phúc", "Tạ Thị Thu Trang",
}

// hallContest is a strike contest of n names for n-2 seats (at least 1),
// shown live so that the screen needs no login.
func hallContest(id string, n int) map[string]any {
	cands := make([]any, n)
	for i := range n {
		name := hallNames[i%len(hallNames)]
		if i >= len(hallNames) {
			name = fmt.Sprintf("%s %d", name, i/len(hallNames)+1) // names must differ
		}
		cands[i] = map[string]any{"id": fmt.Sprintf("c%d", i+1), "name": name}
	}
	return map[string]any{
		"id": id, "title": "Bầu Ban Chấp hành Đảng bộ phường nhiệm kỳ 2025–2030", "kind": "delegates",
		"seats": max(1, n-2), "ballot": "strike", "visibility": "live",
		"electorate": map[string]any{"congress": "delegates", "convened": 12}, // the 12 ballots below: names are elected
		"candidates": cands,
	}
}

// outside is a script listing what of the screen is not wholly inside the
// viewport: every name, every badge, and the paper count.
const outside = `(() => {
	const out = [];
	const inside = (el) => { const r = el.getBoundingClientRect();
		return r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight; };
	for (const el of document.querySelectorAll("li.bar .name, li.bar .badge:not(:empty), li.bar .figure, #ballots-collected")) {
		if (!inside(el)) out.push(el.textContent);
	}
	// A name cut by its own box (an ellipsis, an overflow) is not shown either.
	for (const el of document.querySelectorAll("li.bar .name")) if (el.scrollWidth > el.clientWidth + 1) out.push("cut: " + el.textContent);
	return out;
})()`

func TestBrowserScreenFitsTheList(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	base := h.listen()
	browser := newBrowser(t)
	sizes := []struct{ w, h int64 }{{1920, 1080}, {1024, 768}}
	for _, n := range []int{17, 41, 60} {
		id := fmt.Sprintf("wall-%d", n)
		def := hallContest(id, n)
		h.openContest(def)
		mustStatus(t, h.do("PUT", "/api/v1/contests/"+id+"/notes", map[string]any{"collected": 12}, asAdmin), http.StatusOK)
		// A few valid ballots (each keeps the seats' number of names),
		// striking different names, so that bars and figures differ.
		for i := range 12 {
			h.castStrike(id, tally.Ballot{ID: fmt.Sprintf("b%d", i), Struck: []string{
				fmt.Sprintf("c%d", 2+i%(n-1)), fmt.Sprintf("c%d", 2+(i+1)%(n-1))}})
		}
		tab := newTab(t, browser)
		for _, phase := range []string{"open", "closed"} {
			if phase == "closed" {
				h.transition(id, "close", map[string]int{"issued": 12})
			}
			for _, sz := range sizes {
				do(t, tab, "sizing the window", chromedp.EmulateViewport(sz.w, sz.h))
				do(t, tab, "opening the screen", chromedp.Navigate(base+"/contests/"+id+"/screen"))
				waitFor(t, tab, "the screen's result", `document.body.dataset.version === "12" && document.querySelectorAll("li.bar").length > 0`, 10*time.Second)
				if phase == "closed" {
					waitFor(t, tab, "the badges", `document.querySelectorAll(".badge.elected").length > 0`, 5*time.Second)
				}
				// The fit runs after the fonts settle.
				waitFor(t, tab, "the fit", `document.body.dataset.fit === "done"`, 5*time.Second)
				bad := eval[[]string](t, tab, outside)
				names := eval[int](t, tab, `document.querySelectorAll("li.bar .name").length`)
				font := eval[float64](t, tab, `parseFloat(getComputedStyle(document.querySelector("li.bar .name")).fontSize)`)
				t.Logf("%d names, %s, %dx%d: %d of %d names inside, name font %.1f px", n, phase, sz.w, sz.h, names-countNames(bad), names, font)
				if names != n || len(bad) > 0 {
					t.Errorf("%d names, %s, %dx%d: %d bars, outside the viewport or cut: %q", n, phase, sz.w, sz.h, names, bad)
				}
				// Read from the back rows: no name smaller than this.
				if font < 12 {
					t.Errorf("%d names at %dx%d: names in %.1f px type, want ≥ 12", n, sz.w, sz.h, font)
				}
				screenshot(t, tab, fmt.Sprintf("screen-%d-%s-%dx%d.png", n, phase, sz.w, sz.h))
			}
		}
	}
}

// countNames counts the entries of bad that are names (not the paper
// count, a badge or a figure): close enough for the log line.
func countNames(bad []string) int {
	n := 0
	for _, b := range bad {
		for _, name := range hallNames {
			if strings.Contains(b, name) {
				n++
				break
			}
		}
	}
	return n
}

// TestBrowserScreenPaperCountLive: the committee's paper count reaches an
// open screen without a reload.
func TestBrowserScreenPaperCountLive(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	base := h.listen()
	browser := newBrowser(t)
	const id = "wall-live"
	h.openContest(hallContest(id, 5))
	do(t, browser, "opening the screen", chromedp.Navigate(base+"/contests/"+id+"/screen"))
	waitFor(t, browser, "the screen's result", `document.body.dataset.version === "0"`, 10*time.Second)
	for _, n := range []int{32, 35} {
		mustStatus(t, h.do("PUT", "/api/v1/contests/"+id+"/notes", map[string]any{"collected": n}, asAdmin), http.StatusOK)
		waitFor(t, browser, fmt.Sprintf("the paper count %d", n), fmt.Sprintf(`document.getElementById("ballots-collected").textContent === "%d"`, n), 3*time.Second)
	}
}

var pdfPage = regexp.MustCompile(`/Type\s*/Page[^s]`)

// TestBrowserBallotPaperOneSheet prints the ballot paper to PDF as the
// browser would (the page's own @page size) and counts the sheets.
func TestBrowserBallotPaperOneSheet(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	base := h.listen()
	browser := newBrowser(t)
	signIn(t, browser, base, adminToken, "/")
	// The longest header a ward's ballot carries: superior, organisation,
	// the congress's name with its ordinal and term.
	mustStatus(t, h.do("POST", "/api/v1/congresses", map[string]any{
		"id": "dh-hk", "organization": "Đảng bộ phường Hoàn Kiếm", "superior": "Đảng bộ thành phố Hà Nội",
		"name": "Đại hội đại biểu Đảng bộ phường Hoàn Kiếm", "ordinal": 1, "term": "2025–2030",
		"place": "Hoàn Kiếm", "date": "2025-07-20",
	}, asAdmin), http.StatusCreated)
	for _, tc := range []struct {
		n      int
		ballot string
		pages  int
	}{{17, "strike", 1}, {40, "strike", 1}, {60, "strike", 1}, {17, "approve", 1}, {40, "approve", 1}} {
		id := fmt.Sprintf("paper-%s-%d", tc.ballot, tc.n)
		def := hallContest(id, tc.n)
		def["ballot"] = tc.ballot
		if tc.ballot == "approve" {
			def["seats"] = tc.n
		}
		mustStatus(t, h.do("POST", "/api/v1/contests?congress=dh-hk", def, asAdmin), http.StatusCreated)
		do(t, browser, "opening the ballot paper", chromedp.Navigate(base+"/contests/"+id+"/ballot-paper"))
		waitPage(t, browser, "the ballot paper", "/contests/"+id+"/ballot-paper")
		pdf := runPDF(t, browser)
		got := len(pdfPage.FindAll(pdf, -1))
		t.Logf("%d names, %s ballot: %d A4 page(s)", tc.n, tc.ballot, got)
		if got != tc.pages {
			t.Errorf("%d names, %s ballot: %d pages, want %d", tc.n, tc.ballot, got, tc.pages)
		}
		if err := os.WriteFile(filepath.Join(artifactsDir(t), fmt.Sprintf("ballot-paper-%s-%d.pdf", tc.ballot, tc.n)), pdf, 0o644); err != nil {
			t.Error(err)
		}
	}
}

// runPDF prints the page as Chromium's print dialog would: on the paper
// the page's @page rule asks for.
func runPDF(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	css := true
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(func(p *page.PrintToPDFParams) { p.PreferCSSPageSize = &css }))
	if err != nil {
		t.Fatalf("printing to PDF: %v", err)
	}
	return pdf
}

// TestBrowserMinutesPrintKeepsTheClosing prints the minutes' HTML view as
// Chromium does (its own @page) while the complaints grow a line at a
// time, so that the closing and the signatures meet every page boundary:
// the sheet with the signature titles must always hold the closing
// sentence.
func TestBrowserMinutesPrintKeepsTheClosing(t *testing.T) {
	chromiumPath(t)
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no pdftotext on PATH: CI must install poppler-utils")
		}
		t.Skip("no pdftotext on PATH (apt-get install poppler-utils)")
	}
	h := newHarness(t)
	base := h.listen()
	browser := newBrowser(t)
	signIn(t, browser, base, adminToken, "/")
	const id = "wall-minutes"
	h.openContest(hallContest(id, 17))
	for i := range 12 {
		h.castStrike(id, tally.Ballot{ID: fmt.Sprintf("b%d", i), Struck: []string{fmt.Sprintf("c%d", 2+i%16), fmt.Sprintf("c%d", 2+(i+1)%16)}})
	}
	h.transition(id, "close", map[string]int{"issued": 12})
	const closing = "cùng ký tên dưới đây"
	alone := 0
	for k := 0; k <= 44; k += 2 {
		lines := make([]string, k)
		for i := range lines {
			lines[i] = fmt.Sprintf("Khiếu nại %d: đã được Ban Kiểm phiếu xem xét và trả lời tại hội nghị.", i+1)
		}
		mustStatus(t, h.do("PUT", "/api/v1/contests/"+id+"/notes", map[string]any{"collected": 12, "complaints": strings.Join(lines, "\n")}, asAdmin), http.StatusOK)
		do(t, browser, "opening the minutes", chromedp.Navigate(base+"/contests/"+id+"/minutes"))
		waitPage(t, browser, "the minutes", "/contests/"+id+"/minutes")
		path := filepath.Join(t.TempDir(), "minutes.pdf")
		if err := os.WriteFile(path, runPDF(t, browser), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(pdftotext, "-enc", "UTF-8", path, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext: %v", err)
		}
		found := false
		for i, page := range strings.Split(string(out), "\f") {
			flat := strings.Join(strings.Fields(page), " ")
			if !strings.Contains(flat, "TRƯỞNG BAN KIỂM PHIẾU") {
				continue
			}
			found = true
			if !strings.Contains(flat, closing) {
				alone++
				t.Errorf("%d complaint lines: printed page %d has the signatures without %q", k, i+1, closing)
			}
		}
		if !found {
			t.Fatalf("%d complaint lines: no printed page has the signatures", k)
		}
	}
	t.Logf("signatures printed without the closing sentence: %d of 23 layouts", alone)
}
