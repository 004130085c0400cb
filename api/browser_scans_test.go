package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kiemphieu/kiemphieu/tally"
)

// TestBrowserScanReview: a counter uploads a stack of two scanned papers
// on the scans page — one with a name struck fully (read by the machine;
// the committee's sample has it keyed again blind), one with a name struck
// only partly (doubtful). The answer says so in Vietnamese; the sampled
// page opens first without its reading and counts once re-keyed the same;
// the doubtful page opens in the review with
// its image, the four rows outlined on it (the partly struck one marked
// doubtful) and the machine's reading. The counter types the paper as at
// the desk and presses Enter: the page is counted as typed, the queue
// empties, and the log holds both papers under their image ids.
func TestBrowserScanReview(t *testing.T) {
	chromiumPath(t)
	l := testPaper(t, "scanb")
	read := struckPaper(t, l, 2, 1)
	doubtful := struckPaper(t, l, 0, 0.4)
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "to-1.jpg"), filepath.Join(dir, "to-2.jpg")}
	for i, img := range [][]byte{jpegOf(t, read), jpegOf(t, doubtful)} {
		if err := os.WriteFile(files[i], img, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	h := newHarness(t)
	mustStatus(t, h.do("POST", "/api/v1/contests", contestDef("scanb"), asAdmin), 201)
	// Every page the machine reads is keyed again blind (the committee's
	// re-keying sample at 100 in 100).
	mustStatus(t, h.do("PUT", "/api/v1/contests/scanb/scans/sample", map[string]int{"percent": 100}, asAdmin), 200)
	mustStatus(t, h.do("POST", "/api/v1/contests/scanb/open", nil, asAdmin), 200)
	base := h.listen()
	browser := newBrowser(t)
	ctx := newTab(t, browser)
	jsErrors := consoleErrors(t, ctx)
	signIn(t, ctx, base, h.issueToken("counter", "Bàn quét"), "/contests/scanb/scans")

	typeInto(t, ctx, `#upload-form [name=stack]`, "1")
	typeInto(t, ctx, `#upload-form [name=declared]`, "2")
	do(t, ctx, "choosing the scanned files", chromedp.SetUploadFiles(chromedp.CSS(`#files`), files))
	click(t, ctx, "uploading", `#send`)
	waitFor(t, ctx, "the upload's answer", `!document.getElementById("answer").hidden`, 60*time.Second)
	if got, want := eval[string](t, ctx, `document.getElementById("answer-summary").textContent`), "Đã nhận 2 trang: 1 máy đọc được, 1 chờ người xem, 0 bị từ chối."; got != want {
		t.Errorf("the answer reads %q, want %q", got, want)
	}
	if got := eval[string](t, ctx, `document.getElementById("answer-pages").tBodies[0].rows[1].textContent`); !strings.Contains(got, "cần người xem") || !strings.Contains(got, "có tên cần người xem") {
		t.Errorf("the doubtful page's row reads %q", got)
	}
	// The stack against its declared count.
	waitFor(t, ctx, "the stack's reconciliation", `(() => { const r = document.querySelector("#stacks tbody tr");
		return !!r && r.cells[1].textContent === "2" && r.cells[2].textContent === "2" && r.cells[3].textContent === "khớp"; })()`, 10*time.Second)

	// The page the machine read comes first (stack 1, paper 1), drawn into
	// the sample: blind — no reading, no proposal — until keyed again.
	waitFor(t, ctx, "the sampled page in the review", `!document.getElementById("review").hidden && !document.getElementById("review-sample").hidden`, 20*time.Second)
	if got := eval[string](t, ctx, `document.getElementById("review-title").textContent + "|" + document.getElementById("reading").textContent + "|" + document.getElementById("review-input").value`); got != "Tệp 1, phiếu thứ 1 — chờ nhập lại||" {
		t.Errorf("the sampled page's review reads %q", got)
	}
	fill(t, ctx, "#review-input", "")
	do(t, ctx, "re-keying the sampled paper", chromedp.SendKeys(chromedp.CSS(`#review-input`), "3"+kb.Enter))
	waitFor(t, ctx, "the sampled page counted", `document.getElementById("alerts").textContent.startsWith("Đã xác nhận: Tệp 1, phiếu thứ 1")`, 10*time.Second)

	// The review: the image, the rows drawn on it, the reading.
	waitFor(t, ctx, "the doubtful page in the review", `!document.getElementById("review").hidden && document.getElementById("review-title").textContent === "Tệp 1, phiếu thứ 2 — cần người xem" &&
		document.getElementById("page-image").complete && document.getElementById("page-image").naturalWidth > 1000`, 20*time.Second)
	if n := eval[int](t, ctx, `document.querySelectorAll("#overlay polygon.row").length`); n != len(l.Rows) {
		t.Errorf("%d rows outlined on the image, want %d", n, len(l.Rows))
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#overlay polygon.row-doubtful").length`); n != 1 {
		t.Errorf("%d rows outlined as doubtful, want 1", n)
	}
	// The doubtful row's outline lies on its row of the image: the
	// polygon's first corner is within a few pixels of where the layout
	// puts the band's top left at 200 dpi (the page is scanned square).
	var corner []float64
	raw := eval[string](t, ctx, `JSON.stringify(document.querySelector("#overlay polygon.row-doubtful").getAttribute("points").split(" ")[0].split(",").map(Number))`)
	if err := json.Unmarshal([]byte(raw), &corner); err != nil || len(corner) != 2 {
		t.Fatalf("the doubtful outline's points: %s (%v)", raw, err)
	}
	const px = 200 / 25.4
	if bx, by := l.Rows[0].Band.X*px, l.Rows[0].Band.Y*px; abs(corner[0]-bx) > 6 || abs(corner[1]-by) > 6 {
		t.Errorf("the doubtful outline starts at %v, the band at (%.1f, %.1f)", corner, bx, by)
	}
	reading := eval[string](t, ctx, `document.getElementById("reading").textContent`)
	if !strings.Contains(reading, "1. Nguyễn Văn An") || !strings.Contains(reading, "gạch chưa hết tên") {
		t.Errorf("the reading reads %q", reading)
	}
	screenshot(t, ctx, "scan-review.png")

	// The counter reads the paper on the image — name 1 struck — types it
	// as at the desk and presses Enter.
	fill(t, ctx, "#review-input", "")
	do(t, ctx, "typing the paper", chromedp.SendKeys(chromedp.CSS(`#review-input`), "1"+kb.Enter))
	waitFor(t, ctx, "the queue emptied", `document.getElementById("queue-summary").textContent === "Không có trang nào chờ người xem." && document.getElementById("review").hidden`, 10*time.Second)
	if got := eval[string](t, ctx, `document.getElementById("alerts").textContent`); !strings.HasPrefix(got, "Đã xác nhận: Tệp 1, phiếu thứ 2") {
		t.Errorf("after Enter the page says %q", got)
	}

	r := h.do("GET", "/api/v1/contests/scanb/log", nil, asAdmin)
	mustStatus(t, r, 200)
	var struck [][]string
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(string(r.body)), "\n") {
		var e struct{ Ballot *tally.Ballot }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %s: %v", line, err)
		}
		if e.Ballot != nil {
			ids = append(ids, e.Ballot.ID)
			struck = append(struck, e.Ballot.Struck)
		}
	}
	slices.SortFunc(struck, func(a, b []string) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	if len(ids) != 2 || !strings.HasPrefix(ids[0], "scan-") || !strings.HasPrefix(ids[1], "scan-") ||
		fmt.Sprint(struck) != "[[c1] [c3]]" {
		t.Errorf("log = %v %v, want the two papers as scan-<hash>, c1 and c3 struck", ids, struck)
	}
	if errs := jsErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestBrowserScanDisputeImage: in double entry the scanner is one desk.
// When a person's keying of a paper differs from the scanner's reading,
// the committee's stacks page shows the dispute with the paper's scanned
// image beside the two readings.
func TestBrowserScanDisputeImage(t *testing.T) {
	chromiumPath(t)
	l := testPaper(t, "scanv")
	paper := struckPaper(t, l, 1, 1)
	h := newHarness(t)
	e := &scanEnv{t: t, srv: h.srv}
	const user, password = "thuky", "mat-khau-thu-ky-2025"
	h.seedUser(user, password, "admin")
	mustStatus(t, h.do("POST", "/api/v1/contests", verifiedDef("scanv", "double"), asAdmin), 201)
	mustStatus(t, h.do("POST", "/api/v1/contests/scanv/open", nil, asAdmin), 200)
	mustStatus(t, h.do("PUT", "/api/v1/contests/scanv/stacks/1", map[string]int{"ballots": 1}, asAdmin), 200)
	up := e.uploadOK("scanv", bearer(h.issueToken("counter", "Bàn quét")), field("stack", 1), filePart(jpegOf(t, paper)))
	if up.Pages[0].Status != "read" {
		t.Fatalf("page = %+v, want read", up.Pages[0])
	}
	r := h.do("POST", "/api/v1/contests/scanv/keyings", keyingBody("k1", 1, 1, tally.Ballot{Struck: []string{"c3"}}), bearer(h.issueToken("counter", "Bàn 2")))
	mustStatus(t, r, 201)
	var ans keyingAnswer
	decode(t, r, &ans)
	if ans.Status != "disputed" {
		t.Fatalf("keying = %+v, want disputed against the scanner's c2", ans)
	}

	base := h.listen()
	browser := newBrowser(t)
	ctx := newTab(t, browser)
	jsErrors := consoleErrors(t, ctx)
	signInPassword(t, ctx, base, user, password, "/contests/scanv/stacks")
	waitFor(t, ctx, "the dispute with the paper's image", `(() => { const f = document.querySelector("#disputes form");
		const img = f && f.querySelector("img.scan-image");
		return !!img && img.complete && img.naturalWidth > 1000; })()`, 20*time.Second)
	if got := eval[string](t, ctx, `document.querySelector("#disputes form table").textContent`); !strings.Contains(got, "2. Trần Thị Bình") || !strings.Contains(got, "3. Lê Văn Cường") {
		t.Errorf("the dispute's readings read %q", got)
	}
	screenshot(t, ctx, "scan-dispute.png")

	// A refusal reads in Vietnamese: stack 2 was never declared.
	file := filepath.Join(t.TempDir(), "to-2.jpg")
	if err := os.WriteFile(file, jpegOf(t, paper), 0o600); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "opening the scans page", chromedp.Navigate(base+"/contests/scanv/scans"))
	waitFor(t, ctx, "the scans page", `!!document.getElementById("upload-form")`, 10*time.Second)
	typeInto(t, ctx, `#upload-form [name=stack]`, "2")
	click(t, ctx, "uploading nothing", `#send`)
	if got := eval[string](t, ctx, `document.getElementById("alerts").textContent`); got != "Chọn ít nhất một tập tin đã quét." {
		t.Errorf("an upload without files says %q", got)
	}
	do(t, ctx, "choosing a file", chromedp.SetUploadFiles(chromedp.CSS(`#files`), []string{file}))
	click(t, ctx, "uploading to an undeclared stack", `#send`)
	waitFor(t, ctx, "the refusal", `document.getElementById("alerts").textContent.startsWith("Tệp 2 chưa được khai báo")`, 20*time.Second)
	for _, e := range jsErrors() {
		if !strings.Contains(e, "Failed to load resource") { // the refused upload's 409
			t.Errorf("console error: %s", e)
		}
	}
}

// TestBrowserScanCustody: certifying a round with scanned pages on its
// control page asks what becomes of their images; sealed, the certified
// page links the archive, which holds the page's image.
func TestBrowserScanCustody(t *testing.T) {
	chromiumPath(t)
	l := testPaper(t, "scanc")
	paper := struckPaper(t, l, 2, 1)
	h := newHarness(t)
	e := &scanEnv{t: t, srv: h.srv}
	const user, password = "thuky", "mat-khau-thu-ky-2025"
	h.seedUser(user, password, "admin")
	h.openContest(contestDef("scanc"))
	p := e.uploadOK("scanc", bearer(h.issueToken("counter", "Bàn quét")), filePart(jpegOf(t, paper))).Pages[0]
	if p.Status != "read" {
		t.Fatalf("page = %+v, want read", p)
	}
	mustStatus(t, h.do("POST", "/api/v1/contests/scanc/close", map[string]int{"issued": 9}, asAdmin), 200)

	base := h.listen()
	browser := newBrowser(t)
	ctx := newTab(t, browser)
	dialogs := acceptDialogs(t, ctx)
	signInPassword(t, ctx, base, user, password, "/contests/scanc/setup")
	if got := eval[string](t, ctx, `document.querySelector("#scan-images legend").textContent`); !strings.Contains(got, "1 trang phiếu quét") {
		t.Errorf("the certify form's images legend reads %q", got)
	}
	click(t, ctx, "choosing to seal", `input[name="scan_images"][value="seal"]`)
	reloadAfter(t, ctx, "certifying", "/contests/scanc/setup", chromedp.Click(chromedp.CSS(`button[data-action="certify"]`), chromedp.NodeVisible))
	_ = dialogs()
	waitFor(t, ctx, "the sealed archive's link", `!!document.querySelector("#scan-archive a[href='/api/v1/contests/scanc/scans/archive']")`, 10*time.Second)
	r := h.do("GET", "/api/v1/contests/scanc/scans/archive", nil, asAdmin)
	mustStatus(t, r, 200)
	if !bytes.Contains(r.body, []byte(p.Image+".jpg")) {
		t.Error("the sealed archive does not hold the page's image")
	}
}
