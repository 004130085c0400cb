package api_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kiemphieu/kiemphieu/web"
)

// englishOrRaw is what no person should read on a page: the engine's
// English, a field path or an error code.
var englishOrRaw = regexp.MustCompile(`\b(row \d|must be|required|unknown column|ballots were collected|is (closed|certified)|invalid|conflict)\b|\w\[\d+\]\.`)

// TestBrowserDeskToldRoundEnded: a desk open on a round that the committee
// closes says so at once, stops taking ballots, and links to the next
// round's desk as soon as the committee makes it (the walk-through, D13).
func TestBrowserDeskToldRoundEnded(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	base := h.listen()
	desk := newBrowser(t)
	const id = "ket-thuc"
	h.openContest(strikeDef(id))
	signIn(t, desk, base, h.issueToken("counter", "Bàn 1"), "/contests/"+id+"/desk")
	typeBallot(t, desk, "4 5 6")
	pressEnter(t, desk)
	waitFor(t, desk, "the ballot sent", `(() => { const s = JSON.parse(localStorage.getItem("kp.desk.`+id+`"));
		return s.queue.length === 0 && s.history.length === 1 && s.history[0].status === "sent"; })()`, 15*time.Second)

	h.transition(id, "close", map[string]int{"issued": 1})
	waitFor(t, desk, "the round said closed", `!document.getElementById("round-ended").hidden`, 10*time.Second)
	if got, want := eval[string](t, desk, `document.getElementById("round-ended-text").textContent`), web.Vietnamese.T("desk.ended.closed"); got != want {
		t.Errorf("the desk says %q, want %q", got, want)
	}
	if !eval[bool](t, desk, `document.getElementById("ballot-input").disabled`) {
		t.Error("the desk still takes ballots on a closed round")
	}
	if !eval[bool](t, desk, `document.getElementById("round-ended-next").hidden`) {
		t.Error("a next round is linked before it exists")
	}

	// One ballot of 25 elects nobody: a further round for the 3 seats.
	r := h.do("POST", "/api/v1/contests/"+id+"/next", nil, asAdmin)
	mustStatus(t, r, http.StatusCreated)
	var next record
	decode(t, r, &next)
	waitFor(t, desk, "the next round linked", `!document.getElementById("round-ended-next").hidden`, 15*time.Second)
	href := eval[string](t, desk, `document.querySelector("#round-ended-next a").getAttribute("href")`)
	if want := "/contests/" + next.Contest.ID + "/desk"; href != want {
		t.Errorf("the desk links to %q, want %q", href, want)
	}
	h.transition(next.Contest.ID, "open", nil)
	do(t, desk, "following the link", chromedp.Click(chromedp.CSS("#round-ended-next a")))
	waitPage(t, desk, "the next round's desk", "/contests/"+next.Contest.ID+"/desk")
	waitFor(t, desk, "the next round's entry", `!!document.getElementById("ballot-input")`, 10*time.Second)

	// A desk opened on the closed round later is pointed there too.
	do(t, desk, "the closed round's desk", chromedp.Navigate(base+"/contests/"+id+"/desk"))
	waitFor(t, desk, "the link on the closed round", `!document.getElementById("round-ended-next").hidden`, 10*time.Second)
}

// TestBrowserRefusalsInVietnamese: the refusals a secretary meets setting
// up and closing a round read as Vietnamese sentences naming the field by
// its label — the import's bad date, the close with more ballots collected
// than issued — and a personnel list with extra columns and years of birth
// is imported with a notice (the walk-through, D4 and D11).
func TestBrowserRefusalsInVietnamese(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	h.seedUser("thuky", "mat-khau-thu-ky", "admin")
	base := h.listen()
	admin := newBrowser(t)
	signInPassword(t, admin, base, "thuky", "mat-khau-thu-ky", "/contests/new")

	dir := t.TempDir()
	// upload imports a file and waits for done (a script condition).
	upload := func(name, content, done string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		do(t, admin, "choosing "+name, chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{p}))
		waitFor(t, admin, "the import's answer", done, 10*time.Second)
		return eval[string](t, admin, `document.getElementById("import-errors").hidden ? "" : document.getElementById("import-errors").textContent`)
	}
	msg := upload("sai-ngay.csv", "Họ và tên,Ngày sinh\nNguyễn Văn An,31/02/1980\n", `!document.getElementById("import-errors").hidden`)
	if !strings.Contains(msg, "Dòng 2, cột “Ngày sinh”") || englishOrRaw.MatchString(msg) {
		t.Errorf("the import's refusal reads %q", msg)
	}
	msg = upload("nhan-su.csv", "STT,Họ và tên,Dân tộc,Năm sinh,Chức vụ\n1,Nguyễn Văn An,Kinh,1975,Bí thư\n2,Trần Thị Bình,Tày,1988,Phó Bí thư\n",
		`document.querySelectorAll("#candidate-rows tr").length === 2`)
	for _, want := range []string{"Dân tộc, Chức vụ", "2 người chỉ có năm sinh"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the import's notice %q lacks %q", msg, want)
		}
	}
	if got := eval[string](t, admin, `document.querySelector("#candidate-rows tr:nth-child(2) [name=birth_date]").value`); got != "1988-01-01" {
		t.Errorf("a year of birth imported as %q", got)
	}

	const id = "dong-sai"
	h.openContest(strikeDef(id))
	h.castStrike(id, strikes("b", 3, "c4", "c5", "c6")...)
	do(t, admin, "the round's page", chromedp.Navigate(base+"/contests/"+id+"/setup"))
	acceptDialogs(t, admin) // the close's confirmation
	do(t, admin, "closing with 2 issued",
		chromedp.SetValue(chromedp.CSS(`#close-form [name="issued"]`), "2"),
		chromedp.Click(chromedp.CSS(`#close-form button[type="submit"]`)))
	waitFor(t, admin, "the refusal", `!document.getElementById("action-errors").hidden`, 10*time.Second)
	msg = eval[string](t, admin, `document.getElementById("action-errors").textContent`)
	want := fmt.Sprintf(web.Vietnamese.T("refusal.close.collected"), 3, 2)
	if msg != want || englishOrRaw.MatchString(msg) {
		t.Errorf("the close's refusal reads %q, want %q", msg, want)
	}
}
