package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kiemphieu/kiemphieu/tally"
)

// consoleErrors collects the uncaught exceptions and console errors of the
// tab of ctx; the returned function gives those seen so far.
func consoleErrors(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	lctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	messages := chromedp.Console(lctx)
	got := make(chan string, 100)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				select {
				case got <- m.String():
				default:
				}
			}
		}
	}()
	var seen []string
	return func() []string {
		for {
			select {
			case m := <-got:
				seen = append(seen, m)
			default:
				return seen
			}
		}
	}
}

// bodyText is the page's visible text.
func bodyText(t *testing.T, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, `document.body.innerText`)
}

// click clicks the element of a selector once it is visible.
func click(t *testing.T, ctx context.Context, what, selector string) {
	t.Helper()
	do(t, ctx, what, chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible))
}

// typeInto types text into the field of a selector, after clearing it.
func typeInto(t *testing.T, ctx context.Context, selector, text string) {
	t.Helper()
	fill(t, ctx, selector, "")
	do(t, ctx, fmt.Sprintf("typing %q into %s", text, selector), chromedp.SendKeys(chromedp.CSS(selector), text, chromedp.NodeVisible))
}

// TestBrowserCongressFromSetupToVerify walks README's "A congress from
// start to end, in the browser" through the pages alone: a congress record
// with its counting committee and a unanimous show of hands, a strike
// contest under it with candidates imported from a CSV file and the live
// check of D, the ballot paper, two desks signed in by their tokens' links
// keying ballots in two browser contexts, the round notes, close and
// certify, the minutes and their PDF, and the verify page on the printed
// hash. The final result must be package tally's recount of what was keyed.
func TestBrowserCongressFromSetupToVerify(t *testing.T) {
	chromiumPath(t)
	start := time.Now()
	h := newHarness(t)
	const user, password = "thuky", "mat-khau-thu-ky-2025"
	h.seedUser(user, password, "admin")
	base := h.listen()
	browser := newBrowser(t) // after listen: closed first, so the server's shutdown finds no open connections
	admin := browser
	dialogs := acceptDialogs(t, admin)
	jsErrors := consoleErrors(t, admin)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the secretary's console: %q", jsErrors())
		}
	})
	const congressID, contestID = "dh-p4-2025", "bch-p4-2025"
	committee := []struct{ name, role string }{
		{"Nguyễn Thị Hạnh", "head"}, {"Đỗ Văn Khoa", "member"}, {"Bùi Thị Lan", "member"},
	}

	// 1. The congress record.
	signInPassword(t, admin, base, user, password, "/congresses/new")
	form := "#congress-form "
	typeInto(t, admin, form+`[name=id]`, congressID)
	typeInto(t, admin, form+`[name=organization]`, "Đảng bộ Phường 4")
	typeInto(t, admin, form+`[name=superior]`, "Đảng bộ Quận 3")
	typeInto(t, admin, form+`[name=name]`, "Đại hội đại biểu Đảng bộ Phường 4")
	typeInto(t, admin, form+`[name=ordinal]`, "15")
	typeInto(t, admin, form+`[name=term]`, "2025–2030")
	typeInto(t, admin, form+`[name=place]`, "Hội trường UBND Phường 4")
	fill(t, admin, form+`[name=date]`, "2025-06-20")
	for i, m := range committee {
		click(t, admin, "adding a committee member", "#add-member")
		row := fmt.Sprintf("#committee-rows tr:nth-child(%d) ", i+1)
		typeInto(t, admin, row+`[name=member-name]`, m.name)
		fill(t, admin, row+`[name=member-role]`, m.role)
	}
	screenshot(t, admin, "setup-congress-new.png")
	reloadAfter(t, admin, "saving the congress", "/congresses/"+congressID+"/setup",
		chromedp.Click(chromedp.CSS(`#congress-form button[type=submit]`), chromedp.NodeVisible))
	// A show-of-hands vote, on its own form once the congress exists: the
	// presidium, every one of the 10 present approving; without the
	// congress's D the page says figures only, and the 100% mark.
	vote := "#vote-form "
	fill(t, admin, vote+`[name=subject]`, "presidium")
	typeInto(t, admin, vote+`[name=present]`, "10")
	typeInto(t, admin, vote+`[name=approve]`, "10")
	reloadAfter(t, admin, "recording the vote", "/congresses/"+congressID+"/setup",
		chromedp.Click(chromedp.CSS(`#vote-form button[type=submit]`), chromedp.NodeVisible))
	text := bodyText(t, admin)
	if !strings.Contains(text, "100% tán thành") || !strings.Contains(text, "chỉ ghi số liệu") {
		t.Errorf("the recorded vote does not show 100%% tán thành and figures only:\n%s", text)
	}
	for _, m := range committee {
		if got := eval[bool](t, admin, fmt.Sprintf(`[...document.querySelectorAll("#committee-rows [name=member-name]")].some(i => i.value === %q)`, m.name)); !got {
			t.Errorf("the saved congress lacks committee member %s", m.name)
		}
	}
	screenshot(t, admin, "setup-congress-saved.png")

	// 2. The contest, from the congress's page.
	click(t, admin, "new contest", fmt.Sprintf(`a[href="/contests/new?congress=%s"]`, congressID))
	waitPage(t, admin, "the contest form", "/contests/new")
	form = "#contest-form "
	typeInto(t, admin, form+`[name=title]`, "Bầu Ban Chấp hành Đảng bộ Phường 4, nhiệm kỳ 2025–2030")
	typeInto(t, admin, form+`[name=id]`, contestID)
	fill(t, admin, form+`[name=kind]`, "committee")
	typeInto(t, admin, form+`[name=seats]`, "4")
	fill(t, admin, form+`[name=ballot]`, "strike")
	fill(t, admin, form+`[name="electorate.congress"]`, "delegates")
	typeInto(t, admin, form+`[name="electorate.convened"]`, "11")
	typeInto(t, admin, form+`[name="electorate.exclusions.committee_absent"]`, "1")
	if hidden := eval[bool](t, admin, `document.querySelector('.exclusion[data-for="members"]').hidden`); !hidden {
		t.Errorf("the members' exclusions still show for a delegates' congress")
	}

	// The candidates, from a CSV file with Vietnamese headers, not in
	// ballot order.
	csvRows := [][3]string{
		{"Trần Thị Bình", "Nữ", "15/03/1975"},
		{"Lê Văn Cường", "Nam", "1980-07-02"},
		{"Nguyễn Văn An", "Nam", "02/11/1968"},
		{"Phạm Thị Dung", "Nữ", "21/09/1985"},
		{"Hoàng Văn Em", "Nam", "30/04/1990"},
	}
	var csv strings.Builder
	csv.WriteString("\ufeffHọ và tên,Giới tính,Ngày sinh\n")
	var cands []any
	for i, r := range csvRows {
		fmt.Fprintf(&csv, "%s,%s,%s\n", r[0], r[1], r[2])
		gender := map[string]string{"Nam": "male", "Nữ": "female"}[r[1]]
		birth := r[2]
		if d, err := time.Parse("02/01/2006", r[2]); err == nil {
			birth = d.Format(time.DateOnly)
		}
		// As the form sends each row: both checkboxes, unticked.
		cands = append(cands, map[string]any{"id": "c" + strconv.Itoa(i+1), "name": r[0], "gender": gender, "birth_date": birth,
			"ethnic_minority": false, "incumbent": false})
	}
	csvPath := filepath.Join(t.TempDir(), "ung-vien.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, admin, "choosing the CSV file", chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{csvPath}))
	waitFor(t, admin, "the imported candidates", fmt.Sprintf(`document.querySelectorAll("#candidate-rows tr").length === %d &&
		document.querySelector("#candidate-rows tr:nth-child(1) [name=name]").value === %q`, len(csvRows), csvRows[0][0]), 10*time.Second)
	if got := eval[string](t, admin, `document.querySelector("#candidate-rows tr:nth-child(1) [name=birth_date]").value + " " + document.querySelector("#candidate-rows tr:nth-child(1) [name=gender]").value`); got != "1975-03-15 female" {
		t.Errorf("the first imported row reads %q, want 1975-03-15 female", got)
	}

	// What the live check must show: package tally's D and threshold.
	def := map[string]any{
		"id": contestID, "title": "Bầu Ban Chấp hành Đảng bộ Phường 4, nhiệm kỳ 2025–2030", "kind": "committee", "seats": 4,
		"ballot": "strike", "electorate": map[string]any{"congress": "delegates", "convened": 11,
			"exclusions": map[string]any{"committee_absent": 1, "delegates_absent_unreplaced": 0}},
		"candidates": cands,
	}
	contest := parseDef(t, def)
	d := contest.Denominator()
	threshold := tally.Threshold(d)
	waitFor(t, admin, "the live check", fmt.Sprintf(`document.getElementById("check-d").textContent === "%d" &&
		document.getElementById("check-threshold").textContent === "%d" && document.getElementById("checks").classList.contains("valid")`, d, threshold), 10*time.Second)
	if got := eval[string](t, admin, `document.getElementById("check-formula").textContent`); got != fmt.Sprintf("(11 − 1 − 0 = %d)", d) {
		t.Errorf("the check's formula reads %q", got)
	}
	screenshot(t, admin, "setup-contest-new.png")
	reloadAfter(t, admin, "creating the contest", "/contests/"+contestID+"/setup", chromedp.Click(chromedp.CSS("#create-contest"), chromedp.NodeVisible))
	if got := eval[string](t, admin, `document.getElementById("round-d").textContent`); got != strconv.Itoa(d) {
		t.Errorf("the round's page shows D = %q, want %d", got, d)
	}

	// 3. The ballot paper, in ballot order.
	click(t, admin, "the ballot paper", fmt.Sprintf(`.links a[href="/contests/%s/ballot-paper"]`, contestID))
	waitPage(t, admin, "the ballot paper", "/contests/"+contestID+"/ballot-paper")
	var order []string
	for _, c := range contest.Candidates {
		order = append(order, c.Name)
	}
	if got := eval[string](t, admin, `[...document.querySelectorAll("ol.ballot-names li")].map(li => li.textContent.trim()).join("|")`); got != strings.Join(order, "|") {
		t.Errorf("the ballot paper lists %q, want (ballot order) %q", got, strings.Join(order, "|"))
	}
	if order[0] == csvRows[0][0] {
		t.Fatalf("the file's order is already the ballot order: the check proves nothing")
	}
	screenshot(t, admin, "setup-ballot-paper.png")

	// 4. Open the round, issue two desk tokens.
	setup := "/contests/" + contestID + "/setup"
	do(t, admin, "back to the round", chromedp.Navigate(base+setup))
	waitPage(t, admin, "the round's page", setup)
	reloadAfter(t, admin, "opening the round", setup, chromedp.Click(chromedp.CSS(`button[data-action=open]`), chromedp.NodeVisible))
	if st := eval[string](t, admin, `document.getElementById("round").dataset.state`); st != "open" {
		t.Fatalf("after Mở kiểm phiếu the round is %q (%s)", st, eval[string](t, admin, `document.getElementById("action-errors").textContent`))
	}
	tokens := map[string]string{}
	for _, desk := range []string{"Bàn 1", "Bàn 2"} {
		typeInto(t, admin, `form.token-form input[name=name]`, desk)
		reloadAfter(t, admin, "issuing a token for "+desk, "/contests/"+contestID+"/tokens",
			chromedp.Click(chromedp.CSS(`form.token-form button[type=submit]`), chromedp.NodeVisible))
		tok := eval[string](t, admin, `document.querySelector("code.token").textContent.trim()`)
		if tok == "" || !strings.Contains(bodyText(t, admin), desk) {
			t.Fatalf("the token page for %s shows no token:\n%s", desk, bodyText(t, admin))
		}
		if ok := eval[bool](t, admin, `document.querySelector("img.qr").complete && document.querySelector("img.qr").naturalWidth > 0`); !ok {
			t.Errorf("the QR code of %s is not shown", desk)
		}
		tokens[desk] = tok
		screenshot(t, admin, "setup-token-"+strconv.Itoa(len(tokens))+".png")
		click(t, admin, "back from the token", fmt.Sprintf(`a.button[href="%s"]`, setup))
		waitPage(t, admin, "the round's page", setup)
	}

	// Two desks, each in its own browser context (no shared cookies or
	// storage), signed in by the link the QR code holds.
	typed := map[string][]string{
		"Bàn 1": {"5", "4", "3 5", "0", "2"}, // "0" keeps 5 names for 4 seats: invalid
		"Bàn 2": {"5", "5", "1 5", "alt+2"},  // Alt+2: a write-in, ruled on sight
	}
	var ballots []tally.Ballot
	desks := map[string]context.Context{}
	for _, desk := range []string{"Bàn 1", "Bàn 2"} {
		ctx := newIsolatedTab(t, browser)
		desks[desk] = ctx
		do(t, ctx, desk+": opening the QR code's link", chromedp.Navigate(base+"/login#token="+tokens[desk]))
		waitFor(t, ctx, desk+": the token copied from the link", fmt.Sprintf(`document.querySelector("input[name=token]").value === %q && location.hash === ""`, tokens[desk]), 10*time.Second)
		click(t, ctx, desk+": signing in", `form[action="/login"] button[type=submit]`)
		waitPage(t, ctx, desk+": signed in", "/")
		click(t, ctx, desk+": the desk link", fmt.Sprintf(`a[href="/contests/%s/desk"]`, contestID))
		waitPage(t, ctx, desk+": the desk", "/contests/"+contestID+"/desk")
		waitFor(t, ctx, desk+": the desk ready", `document.activeElement && document.activeElement.id === "ballot-input"`, 10*time.Second)
		for i, text := range typed[desk] {
			if text == "alt+2" {
				do(t, ctx, desk+": Alt+2 (write-in)", chromedp.KeyEvent("2", chromedp.KeyModifiers(chromedp.ModifierAlt)))
				ballots = append(ballots, tally.Ballot{ID: fmt.Sprintf("%s-%d", desk, i), Invalid: tally.ReasonWriteIn})
				continue
			}
			b := tally.Ballot{ID: fmt.Sprintf("%s-%d", desk, i), Struck: struckOf(contest, text)}
			want := tallyReason(t, contest, b)
			if got := typeBallot(t, ctx, text); got != want {
				t.Errorf("%s: ballot %q previews %q, package tally says %q", desk, text, got, want)
			}
			pressEnter(t, ctx)
			ballots = append(ballots, b)
		}
		n := len(typed[desk])
		waitFor(t, ctx, desk+": the ballots sent", fmt.Sprintf(`(() => { const s = JSON.parse(localStorage.getItem("kp.desk.%s") || "null");
			return s && s.queue.length === 0 && s.history.length === %d && s.history.every(h => h.status === "sent"); })()`, contestID, n), 20*time.Second)
		if k := eval[int](t, ctx, `document.querySelectorAll("#alerts .alert").length`); k != 0 {
			t.Errorf("%s shows %d loud alerts: %s", desk, k, eval[string](t, ctx, `document.getElementById("alerts").textContent`))
		}
		screenshot(t, ctx, "setup-desk-"+strconv.Itoa(len(desks))+".png")
	}
	// The two desks' ballot ids must not collide.
	p1, p2 := readDesk(t, desks["Bàn 1"], contestID).Prefix, readDesk(t, desks["Bàn 2"], contestID).Prefix
	if p1 == p2 {
		t.Errorf("both desks number their ballots with the prefix %q", p1)
	}
	total := len(ballots)
	if got := h.logLen(contestID); got != int64(total) {
		t.Fatalf("log length %d, want %d ballots from the two desks", got, total)
	}

	// Notes, close with the issued number, certify.
	do(t, admin, "reloading the round", chromedp.Reload())
	waitPage(t, admin, "the round's page", setup)
	typeInto(t, admin, `#notes-form [name=present]`, "10")
	typeInto(t, admin, `#notes-form [name=collected]`, strconv.Itoa(total))
	click(t, admin, "saving the notes", `#notes-form button[type=submit]`)
	waitFor(t, admin, "the notes saved", `document.getElementById("notes-status").textContent !== "" || !document.getElementById("action-errors").hidden`, 10*time.Second)
	if msg := eval[string](t, admin, `document.getElementById("action-errors").hidden ? "" : document.getElementById("action-errors").textContent`); msg != "" {
		t.Fatalf("saving the notes: %s", msg)
	}
	typeInto(t, admin, `#close-form [name=issued]`, strconv.Itoa(total))
	screenshot(t, admin, "setup-round-open.png")
	reloadAfter(t, admin, "closing the round", setup, chromedp.Click(chromedp.CSS(`#close-form button[type=submit]`), chromedp.NodeVisible))
	if st := eval[string](t, admin, `document.getElementById("round").dataset.state`); st != "closed" {
		t.Fatalf("after close the round is %q (%s)", st, eval[string](t, admin, `document.getElementById("action-errors").textContent`))
	}
	reloadAfter(t, admin, "certifying", setup, chromedp.Click(chromedp.CSS(`button[data-action=certify]`), chromedp.NodeVisible))
	if st := eval[string](t, admin, `document.getElementById("round").dataset.state`); st != "certified" {
		t.Fatalf("after certify the round is %q (%s)", st, eval[string](t, admin, `document.getElementById("action-errors").textContent`))
	}
	screenshot(t, admin, "setup-round-certified.png")
	if got := dialogs(); len(got) != 3 {
		t.Errorf("confirmations asked: %q, want three (open, close, certify)", got)
	}

	// 5. The minutes: final, with the committee and the elected.
	var exp tally.Result
	want := expectedResult(t, def, ballots, nil)
	if err := json.Unmarshal(want, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Elected) == 0 || exp.Ballots.Invalid != 2 || exp.Ballots.Total != total {
		t.Fatalf("the plan elects %v from %d ballots (%d invalid): want someone elected and two invalid ballots", exp.Elected, exp.Ballots.Total, exp.Ballots.Invalid)
	}
	click(t, admin, "the minutes", fmt.Sprintf(`.links a[href="/contests/%s/minutes"]`, contestID))
	waitPage(t, admin, "the minutes", "/contests/"+contestID+"/minutes")
	text = bodyText(t, admin)
	if strings.Contains(text, "DỰ THẢO") {
		t.Errorf("the certified minutes still say DỰ THẢO")
	}
	for _, m := range committee {
		if !strings.Contains(text, m.name) {
			t.Errorf("the minutes lack committee member %s", m.name)
		}
	}
	// The elected: the table of the section after the results' table.
	electedTable := eval[string](t, admin, `(() => {
		const sections = [...document.querySelectorAll(".content > h2")].map(h => {
			const parts = [];
			for (let e = h.nextElementSibling; e && e.tagName !== "H2"; e = e.nextElementSibling) parts.push(e);
			return parts;
		}).filter(parts => parts.some(e => e.tagName === "TABLE"));
		return sections.length >= 2 ? sections[1].filter(e => e.tagName === "TABLE").map(e => e.innerText).join("\n") : "";
	})()`)
	isElected := map[string]bool{}
	for _, id := range exp.Elected {
		isElected[id] = true
	}
	for _, c := range contest.Candidates {
		if got := strings.Contains(electedTable, c.Name); got != isElected[c.ID] {
			t.Errorf("the minutes' table of the elected lists %s: %v, want %v\n%s", c.Name, got, isElected[c.ID], electedTable)
		}
	}
	hash := eval[string](t, admin, `(document.querySelector(".verify .hash") || {textContent: ""}).textContent.trim()`)
	var rec struct {
		Head string `json:"head"`
	}
	r := h.do("GET", "/api/v1/contests/"+contestID, nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	decode(t, r, &rec)
	if hash == "" || hash != rec.Head {
		t.Errorf("the minutes print the hash %q, the round's head is %q", hash, rec.Head)
	}
	screenshot(t, admin, "setup-minutes.png")

	// The PDF of the same minutes.
	pctx, cancel := context.WithTimeout(admin, stepTimeout)
	defer cancel()
	pdf, err := chromedp.Run(pctx, chromedp.Evaluate[string](fmt.Sprintf(`fetch("/contests/%s/minutes.pdf").then(async r => r.status + " " +
		r.headers.get("Content-Type") + " " + new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5)))`, contestID), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetching minutes.pdf: %v", err)
	}
	if pdf != "200 application/pdf %PDF-" {
		t.Errorf("minutes.pdf: %q, want a 200 PDF", pdf)
	}

	// The verify page, with the hash typed as read off the paper.
	do(t, admin, "the verify page", chromedp.Navigate(base+"/verify"))
	waitPage(t, admin, "the verify page", "/verify")
	typeInto(t, admin, `input[name=hash]`, hash)
	reloadAfter(t, admin, "verifying the hash", "/verify/"+hash, chromedp.Click(chromedp.CSS(`form[action="/verify"] button[type=submit]`), chromedp.NodeVisible))
	text = bodyText(t, admin)
	if !strings.Contains(text, "Khớp") || strings.Contains(text, "Không khớp") {
		t.Errorf("the verify page does not say Khớp:\n%s", text)
	}
	screenshot(t, admin, "setup-verify.png")

	// 6. The result is package tally's recount of what the desks keyed.
	r = h.do("GET", "/api/v1/contests/"+contestID+"/result", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	if got, wantM := withoutVersion(t, r.body), withoutVersion(t, want); !jsonEqual(got, wantM) {
		t.Errorf("GET /result = %s\nwant (tally) %s", r.body, want)
	}
	if errs := jsErrors(); len(errs) != 0 {
		t.Errorf("the secretary's pages logged errors: %q", errs)
	}
	t.Logf("the congress from setup to verify took %v", time.Since(start))
}
