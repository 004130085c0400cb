package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Browser tests of verified entry (nhập kép): the desk page keying by
// stack and position, and the committee's stacks page.

// verifiedHistory is the desk's history of keyings, as kept in
// localStorage.
type verifiedHistory struct {
	ID     string `json:"id"`
	Pos    string `json:"pos"`
	Keyed  string `json:"keyed"`
	Reason string `json:"reason"`
	Status string `json:"status"`
	Seq    *int64 `json:"seq"`
}

func readVerifiedDesk(t *testing.T, ctx context.Context, contest string) (queue int, history []verifiedHistory) {
	t.Helper()
	raw := eval[string](t, ctx, fmt.Sprintf(`localStorage.getItem(%q) || "{}"`, "kp.desk."+contest))
	var st struct {
		Queue   []json.RawMessage `json:"queue"`
		History []verifiedHistory `json:"history"`
	}
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		t.Fatalf("desk state %s: %v", raw, err)
	}
	return len(st.Queue), st.History
}

// chooseStack types the stack number into the desk's stack field, as a
// counter would, and waits for the desk to show the position it starts at.
func chooseStack(t *testing.T, ctx context.Context, stack, pos, size int) {
	t.Helper()
	waitFor(t, ctx, "the stack field focused", `document.activeElement && document.activeElement.id === "stack-input"`, 10*time.Second)
	do(t, ctx, fmt.Sprintf("typing stack %d", stack), chromedp.SendKeys(chromedp.CSS("#stack-input"), fmt.Sprint(stack)+kb.Enter))
	waitFor(t, ctx, "the desk at the stack's first open position", fmt.Sprintf(
		`document.getElementById("position").textContent === "%d / %d" && document.activeElement && document.activeElement.id === "ballot-input"`, pos, size), 10*time.Second)
}

// deskRows is the desk's history table as shown: position → result cell.
func deskRows(t *testing.T, ctx context.Context) map[string]string {
	t.Helper()
	var rows [][]string
	raw := eval[string](t, ctx, `JSON.stringify([...document.querySelectorAll("#history tr")].map(tr => [tr.cells[0].textContent, tr.cells[3].textContent]))`)
	if err := json.Unmarshal([]byte(raw), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r[0]] = r[1]
	}
	return out
}

// verifiedJournal reads GET …/journal as admin.
func verifiedJournal(t *testing.T, h *harness, contest string) (keyings []tally.Keying, decisions []tally.CommitteeDecision) {
	t.Helper()
	r := h.do("GET", "/api/v1/contests/"+contest+"/journal", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	var j struct {
		Keyings   []tally.Keying            `json:"keyings"`
		Decisions []tally.CommitteeDecision `json:"decisions"`
	}
	decode(t, r, &j)
	return j.Keyings, j.Decisions
}

// TestBrowserVerifiedDesksAndStacks: a double-entry round. The committee
// declares the stack on the stacks page; two desks, each in its own
// browser context, key the same four papers by keyboard (stack number,
// then each paper, Enter), the second with a slip on paper 3. The first
// desk sees every paper recorded and waiting, the second sees three agreed
// and one differing; the result counts the agreed three only. The
// committee sees the dispute with both entries by candidate name, chooses
// the first desk's with a reason; the dispute goes, the result is the true
// ballots', and the journal holds the decision. Closed and certified, the
// minutes print the mode line and the journal's annex.
func TestBrowserVerifiedDesksAndStacks(t *testing.T) {
	chromiumPath(t)
	start := time.Now()
	h := newHarness(t)
	const user, password = "thuky", "mat-khau-thu-ky-2025"
	h.seedUser(user, password, "admin")
	base := h.listen()
	browser := newBrowser(t) // after listen: closed first, so the server's shutdown finds no open connections
	const id = "dbk-kep"
	def := with(strikeDef(id), "entry", "double")
	contest := parseDef(t, def)
	h.openContest(def)
	papers := []string{"4 5 6", "1 2 3 4 5 6", "3 5 6", "0"} // a no-vote and an untouched over-vote among them
	mustStatus(t, h.do("PUT", "/api/v1/contests/"+id+"/notes", map[string]any{"collected": len(papers)}, asAdmin), http.StatusOK)
	var truth []tally.Ballot
	for k, text := range papers {
		truth = append(truth, tally.Ballot{ID: tally.PositionID(1, k+1), Struck: struckOf(contest, text)})
	}

	// The committee declares stack 1 on the stacks page.
	admin := browser
	adminErrors := consoleErrors(t, admin)
	signInPassword(t, admin, base, user, password, "/contests/"+id+"/stacks")
	typeInto(t, admin, `#stack-form [name=stack]`, "1")
	typeInto(t, admin, `#stack-form [name=ballots]`, fmt.Sprint(len(papers)))
	click(t, admin, "saving the stack", `#stack-form button[type=submit]`)
	waitFor(t, admin, "the stack in the progress table", fmt.Sprintf(`(() => { const r = document.querySelector("#progress tbody tr");
		return !!r && r.cells[0].textContent === "1" && r.cells[1].textContent === "%d" && r.cells[5].textContent === "%d"; })()`, len(papers), len(papers)), 10*time.Second)
	if msg := eval[string](t, admin, `document.getElementById("alerts").textContent`); msg != "" {
		t.Errorf("the stacks page says %q after declaring the stack", msg)
	}

	// Two desks key the same papers; Bàn 2 slips on paper 3 ("3 5" for
	// "3 5 6").
	typed := map[string][]string{"Bàn 1": papers, "Bàn 2": {papers[0], papers[1], "3 5", papers[3]}}
	want := map[string][]string{
		"Bàn 1": {"pending", "pending", "pending", "pending"},
		"Bàn 2": {"accepted", "accepted", "disputed", "accepted"},
	}
	wantText := map[string]string{"pending": "đã ghi, chờ bàn khác (1/2)", "accepted": "khớp — đã tính", "disputed": "lệch — chờ Ban Kiểm phiếu quyết định"}
	for _, desk := range []string{"Bàn 1", "Bàn 2"} {
		ctx := newIsolatedTab(t, browser)
		jsErrors := consoleErrors(t, ctx)
		signIn(t, ctx, base, h.issueToken("counter", desk), "/contests/"+id+"/desk")
		if got := eval[string](t, ctx, `document.getElementById("verified-mode").textContent`); !strings.Contains(got, "2 bàn") {
			t.Errorf("%s: the mode line reads %q", desk, got)
		}
		chooseStack(t, ctx, 1, 1, len(papers))
		for k, text := range typed[desk] {
			b := tally.Ballot{ID: "x", Struck: struckOf(contest, text)}
			if got, want := typeBallot(t, ctx, text), tallyReason(t, contest, b); got != want {
				t.Errorf("%s: paper %d %q previews %q, package tally says %q", desk, k+1, text, got, want)
			}
			pressEnter(t, ctx)
			if k+1 < len(papers) {
				waitFor(t, ctx, "the next position", fmt.Sprintf(`document.getElementById("position").textContent === "%d / %d"`, k+2, len(papers)), 5*time.Second)
			}
		}
		waitFor(t, ctx, desk+": the keyings sent", fmt.Sprintf(`(() => { const s = JSON.parse(localStorage.getItem("kp.desk.%s") || "null");
			return s && s.queue.length === 0 && s.history.length === %d && s.history.every(h => h.status !== "queued"); })()`, id, len(papers)), 20*time.Second)
		_, hist := readVerifiedDesk(t, ctx, id)
		rows := deskRows(t, ctx)
		for k, hs := range hist {
			pos := tally.PositionID(1, k+1)
			if hs.Pos != pos || hs.Status != want[desk][k] {
				t.Errorf("%s: keying %d is %s %s, want %s %s", desk, k+1, hs.Pos, hs.Status, pos, want[desk][k])
			}
			if !strings.Contains(rows[pos], wantText[want[desk][k]]) {
				t.Errorf("%s: the row of %s reads %q, want %q", desk, pos, rows[pos], wantText[want[desk][k]])
			}
			if (hs.Seq != nil) != (hs.Status == "accepted") {
				t.Errorf("%s: keying %s (%s) has seq %v", desk, pos, hs.Status, hs.Seq)
			}
		}
		// Only the end of the stack is told aloud: no refusal, no
		// mismatch of the preview.
		alerts := eval[string](t, ctx, `[...document.querySelectorAll("#alerts .alert")].map(e => e.textContent).join(" | ")`)
		if alerts != "Bàn này đã nhập hết tệp 1. Chọn tệp khác." {
			t.Errorf("%s: alerts %q, want only the end of the stack", desk, alerts)
		}
		if got := eval[string](t, ctx, `document.getElementById("position").textContent + "|" + document.getElementById("stack-input").value + "|" + document.activeElement.id`); got != "—||stack-input" {
			t.Errorf("%s: after the stack the desk shows %q, want no stack and the keys in the stack field", desk, got)
		}
		screenshot(t, ctx, "verified-desk-"+strings.TrimPrefix(desk, "Bàn ")+".png")
		if errs := jsErrors(); len(errs) != 0 {
			t.Errorf("%s: the desk logged errors: %q", desk, errs)
		}
	}

	// Only the agreed papers are counted.
	agreed := []tally.Ballot{truth[0], truth[1], truth[3]}
	result := func() map[string]any {
		r := h.do("GET", "/api/v1/contests/"+id+"/result", nil, asAdmin)
		mustStatus(t, r, http.StatusOK)
		return withoutVersion(t, r.body)
	}
	if got, w := result(), withoutVersion(t, expectedResult(t, def, agreed, nil)); !jsonEqual(got, w) {
		t.Errorf("with the dispute open, GET /result = %v\nwant (the agreed three) %v", got, w)
	}

	// The committee: the dispute with both entries side by side.
	form := `#disputes form[data-id="t1-3"]`
	waitFor(t, admin, "the dispute on the stacks page", fmt.Sprintf(`!!document.querySelector('%s')`, form), 10*time.Second)
	var cols [][2]string
	raw := eval[string](t, admin, fmt.Sprintf(`JSON.stringify((() => { const f = document.querySelector('%s');
		const th = [...f.querySelectorAll("thead th")], td = [...f.querySelectorAll("tbody td")];
		return th.map((h, i) => [h.textContent, td[i] ? td[i].textContent.trim() : ""]); })())`, form))
	if err := json.Unmarshal([]byte(raw), &cols); err != nil {
		t.Fatal(err)
	}
	name := func(i int) string { return fmt.Sprintf("%d. %s", i, contest.Candidates[i-1].Name) }
	entries := map[string]string{
		"Bàn 1": "gạch: " + name(3) + "; " + name(5) + "; " + name(6),
		"Bàn 2": "gạch: " + name(3) + "; " + name(5),
	}
	choice := -1
	for i, c := range cols {
		if entries[c[0]] != c[1] {
			t.Errorf("the dispute shows %s's entry as %q, want %q", c[0], c[1], entries[c[0]])
		}
		if c[0] == "Bàn 1" {
			choice = i
		}
	}
	if len(cols) != 2 || choice < 0 {
		t.Fatalf("the dispute shows %q, want both desks' entries", cols)
	}
	if got := eval[string](t, admin, `document.querySelector("#progress tbody tr").cells[4].textContent`); got != "1" {
		t.Errorf("the progress shows %s disputed, want 1", got)
	}
	screenshot(t, admin, "verified-stacks-dispute.png")
	const reason = "Đối chiếu tờ phiếu gốc: gạch tên 3, 5 và 6"
	click(t, admin, "choosing Bàn 1's entry", fmt.Sprintf(`%s tbody td:nth-child(%d) input[type=radio]`, form, choice+1))
	typeInto(t, admin, form+` input[name=reason]`, reason)
	click(t, admin, "recording the decision", form+` button[type=submit]`)
	waitFor(t, admin, "the dispute gone", `!document.querySelector("#disputes form") && document.getElementById("disputes").textContent.includes("Không có phiếu nhập lệch.")`, 10*time.Second)
	if got := eval[string](t, admin, `document.getElementById("alerts").textContent`); !strings.Contains(got, "Đã ghi quyết định: t1-3") {
		t.Errorf("after the decision the page says %q", got)
	}
	waitFor(t, admin, "the progress all counted", fmt.Sprintf(`document.querySelector("#progress tbody tr").cells[2].textContent === "%d"`, len(papers)), 10*time.Second)
	screenshot(t, admin, "verified-stacks-decided.png")

	if got, w := result(), withoutVersion(t, expectedResult(t, def, truth, nil)); !jsonEqual(got, w) {
		t.Errorf("after the decision, GET /result = %v\nwant (the true ballots) %v", got, w)
	}
	keyings, decisions := verifiedJournal(t, h, id)
	if len(keyings) != 2*len(papers) {
		t.Errorf("the journal holds %d keyings, want %d", len(keyings), 2*len(papers))
	}
	if len(decisions) != 1 || decisions[0].Reason != reason || decisions[0].Position != 3 || decisions[0].By != user ||
		tally.BallotDigest(&decisions[0].Ballot) != tally.BallotDigest(&truth[2]) {
		t.Errorf("the journal's decisions: %+v, want position 3 decided as the paper by %s, with the reason", decisions, user)
	}

	// Close, certify; the minutes state the mode and print the journal.
	h.transition(id, "close", map[string]int{"issued": len(papers)})
	h.transition(id, "certify", nil)
	do(t, admin, "the minutes", chromedp.Navigate(base+"/contests/"+id+"/minutes"))
	waitPage(t, admin, "the minutes", "/contests/"+id+"/minutes")
	text := bodyText(t, admin)
	for _, s := range []string{"Phương thức nhập phiếu", "nhập kép", "PHỤ LỤC: NHẬT KÝ NHẬP PHIẾU", reason, "Bàn 1", "Bàn 2"} {
		if !strings.Contains(text, s) {
			t.Errorf("the minutes lack %q", s)
		}
	}
	screenshot(t, admin, "verified-minutes.png")
	if errs := adminErrors(); len(errs) != 0 {
		t.Errorf("the committee's pages logged errors: %q", errs)
	}
	t.Logf("the verified round in the browser took %v", time.Since(start))
}

// TestBrowserVerifiedDeskRetry: the desk's queue in verified mode. A
// keying whose answer is lost is retried and recorded once; when it was
// the agreeing one, the paper is in the log once and the desk shows it
// counted with the original receipt.
func TestBrowserVerifiedDeskRetry(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	target := h.listen()
	proxy, base := newFlakyProxy(t, target)
	browser := newBrowser(t) // after listen: closed first, so the server's shutdown finds no open connections
	const id = "retry-kep"
	def := with(strikeDef(id), "entry", "double")
	h.openContest(def)
	mustStatus(t, h.do("PUT", "/api/v1/contests/"+id+"/stacks/1", map[string]int{"ballots": 2}, asAdmin), http.StatusOK)
	// The other desk keyed paper 2 already (through the API).
	other := h.issueToken("counter", "Bàn 1")
	r := h.do("POST", "/api/v1/contests/"+id+"/keyings", map[string]any{"id": "b1-2", "stack": 1, "position": 2,
		"ballot": map[string]any{"struck": []string{"c4", "c5", "c6"}}}, bearer(other))
	mustStatus(t, r, http.StatusCreated)

	ctx := browser
	signIn(t, ctx, base, h.issueToken("counter", "Bàn 2"), "/contests/"+id+"/desk")
	chooseStack(t, ctx, 1, 1, 2)
	mine := func() int {
		keyings, _ := verifiedJournal(t, h, id)
		n := 0
		for _, k := range keyings {
			if k.Desk == "Bàn 2" {
				n++
			}
		}
		return n
	}
	for k, text := range []string{"1 2 3", "4 5 6"} {
		pos := tally.PositionID(1, k+1)
		proxy.dropping.Store(true)
		typeBallot(t, ctx, text)
		pressEnter(t, ctx)
		waitFor(t, ctx, pos+": the desk to report the lost connection", `document.getElementById("net").classList.contains("offline") && document.getElementById("net").dataset.queued === "1"`, 15*time.Second)
		if got := mine(); got != k+1 {
			t.Fatalf("%s: the journal holds %d keyings of the desk before the retry, want %d (stored, answer lost)", pos, got, k+1)
		}
		proxy.dropping.Store(false)
		status := []string{"pending", "accepted"}[k]
		waitFor(t, ctx, pos+": the retry to go through", fmt.Sprintf(`document.getElementById("net").dataset.queued === "0" && document.querySelector("#history tr").dataset.status === %q`, status), 20*time.Second)
		if got := mine(); got != k+1 {
			t.Errorf("%s: the journal holds %d keyings of the desk after the retry, want %d", pos, got, k+1)
		}
	}
	if proxy.dropped.Load() < 2 || proxy.forwarded.Load() < 4 {
		t.Errorf("the proxy dropped %d answers of %d attempts: the retry was not exercised", proxy.dropped.Load(), proxy.forwarded.Load())
	}
	if n := ballotEntries(t, h, id, "t1-2"); n != 1 {
		t.Errorf("t1-2 is in the log %d times, want 1", n)
	}
	if got := h.logLen(id); got != 1 {
		t.Errorf("log length %d, want 1 (only paper 2 agreed)", got)
	}
	if got := eval[string](t, ctx, `document.querySelector("#history tr td:nth-child(2)").textContent`); got != "1" {
		t.Errorf("the desk shows seq %q for t1-2, want 1 (the receipt)", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#alerts .alert").length`); n != 1 { // the end of the stack
		t.Errorf("the desk shows %d loud alerts: %s", n, eval[string](t, ctx, `document.getElementById("alerts").textContent`))
	}
	screenshot(t, ctx, "verified-desk-retry.png")
}

// TestBrowserVerifiedDeskStackChoice: where the desk starts in a stack.
// Keys typed before a stack is chosen are kept; choosing a stack asks the
// server once, so that a late answer cannot put the desk back on a
// position it has just keyed; choosing it again while keyings wait in the
// queue starts past them. Every paper is keyed once, at its position.
func TestBrowserVerifiedDeskStackChoice(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	target := h.listen()
	proxy, base := newFlakyProxy(t, target)
	browser := newBrowser(t) // after listen: closed first, so the server's shutdown finds no open connections
	const id = "chon-tep"
	def := with(strikeDef(id), "entry", "double")
	contest := parseDef(t, def)
	h.openContest(def)
	mustStatus(t, h.do("PUT", "/api/v1/contests/"+id+"/stacks/1", map[string]int{"ballots": 3}, asAdmin), http.StatusOK)
	ctx := browser
	signIn(t, ctx, base, h.issueToken("counter", "Bàn 3"), "/contests/"+id+"/desk")
	asked := func() int {
		return eval[int](t, ctx, `performance.getEntriesByType("resource").filter(e => e.name.endsWith("/stacks")).length`)
	}

	// A paper typed before the stack: nothing recorded, nothing lost.
	typeBallot(t, ctx, "2 3")
	pressEnter(t, ctx)
	if got := eval[string](t, ctx, `document.getElementById("ballot-input").value + "|" + document.activeElement.id + "|" + document.getElementById("alerts").textContent`); got != "2 3|stack-input|Nhập số tệp rồi nhấn Enter." {
		t.Errorf("Enter before a stack is chosen leaves %q, want the paper kept and the stack asked for", got)
	}

	// The answer about the stack is slow; the counter keys paper 1 as soon
	// as the desk shows it.
	proxy.slowStacks.Store(true)
	chooseStack(t, ctx, 1, 1, 3)
	papers := []string{"1 2 3", "4 5 6", "1 5 6"}
	typeBallot(t, ctx, papers[0])
	pressEnter(t, ctx)
	waitFor(t, ctx, "paper 1 recorded", `document.getElementById("net").dataset.queued === "0" && document.querySelector("#history tr").dataset.status === "pending"`, 10*time.Second)
	time.Sleep(1500 * time.Millisecond) // any other answer about the stack arrives
	proxy.slowStacks.Store(false)
	if got := eval[string](t, ctx, `document.getElementById("position").textContent`); got != "2 / 3" {
		t.Errorf("after keying paper 1 the desk is at %q, want 2 / 3", got)
	}
	if n := asked(); n != 1 {
		t.Errorf("choosing the stack asked the server %d times, want once", n)
	}

	// Paper 2 waits in the queue; the counter chooses the stack again.
	proxy.refusing.Store(true)
	typeBallot(t, ctx, papers[1])
	pressEnter(t, ctx)
	waitFor(t, ctx, "paper 2 queued", `document.getElementById("net").dataset.queued === "1"`, 10*time.Second)
	do(t, ctx, "back to the stack field", chromedp.Evaluate[chromedp.Void](`(() => { const i = document.getElementById("stack-input"); i.value = ""; i.focus(); })()`))
	chooseStack(t, ctx, 1, 3, 3)
	proxy.refusing.Store(false)
	typeBallot(t, ctx, papers[2])
	pressEnter(t, ctx)
	waitFor(t, ctx, "every keying sent", `(() => { const s = JSON.parse(localStorage.getItem("kp.desk.`+id+`"));
		return s.queue.length === 0 && s.history.length === 3 && s.history.every(h => h.status === "pending"); })()`, 20*time.Second)
	keyings, _ := verifiedJournal(t, h, id)
	if len(keyings) != 3 {
		t.Fatalf("the journal holds %d keyings, want 3", len(keyings))
	}
	for k, kg := range keyings {
		want := tally.Ballot{ID: tally.PositionID(1, k+1), Struck: struckOf(contest, papers[k])}
		if kg.Position != k+1 || kg.Digest != tally.BallotDigest(&want) {
			t.Errorf("keying %d is paper %+v at position %d, want %v at %d", k+1, kg.Ballot, kg.Position, want.Struck, k+1)
		}
	}
	if n := asked(); n != 2 {
		t.Errorf("two choices of the stack asked the server %d times, want twice", n)
	}
	screenshot(t, ctx, "verified-desk-stack-choice.png")
}

// TestBrowserVerifiedDeskSettled: a desk keys a paper that two other desks
// agreed on while it was reading it (counted without it). The desk is told so quietly
// and goes on — no loud "refused, check the paper" — and its own count
// leaves the paper out.
func TestBrowserVerifiedDeskSettled(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	target := h.listen()
	_, base := newFlakyProxy(t, target)
	browser := newBrowser(t) // after listen: closed first, so the server's shutdown finds no open connections
	const id = "da-xong"
	h.openContest(with(strikeDef(id), "entry", "double"))
	mustStatus(t, h.do("PUT", "/api/v1/contests/"+id+"/stacks/1", map[string]int{"ballots": 2}, asAdmin), http.StatusOK)
	ctx := browser
	signIn(t, ctx, base, h.issueToken("counter", "Bàn 3"), "/contests/"+id+"/desk")
	chooseStack(t, ctx, 1, 1, 2)
	// While Bàn 3 reads the paper, the other two desks agree on it.
	for _, desk := range []string{"Bàn 1", "Bàn 2"} {
		r := h.do("POST", "/api/v1/contests/"+id+"/keyings", map[string]any{"id": "k-1", "stack": 1, "position": 1,
			"ballot": map[string]any{"struck": []string{"c4", "c5", "c6"}}}, bearer(h.issueToken("counter", desk)))
		mustStatus(t, r, http.StatusCreated)
	}
	typeBallot(t, ctx, "4 5 6")
	pressEnter(t, ctx)
	waitFor(t, ctx, "t1-1: the desk to hear it was settled", `document.querySelector("#history tr") && document.querySelector("#history tr").dataset.status === "settled"`, 15*time.Second)
	if got := eval[string](t, ctx, `document.querySelector("#alerts .notice") ? document.querySelector("#alerts .notice").textContent : ""`); !strings.Contains(got, "t1-1") {
		t.Errorf("no quiet notice naming t1-1: %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#alerts .alert").length`); n != 0 {
		t.Errorf("the desk shows %d loud alerts for a settled paper: %s", n, eval[string](t, ctx, `document.getElementById("alerts").textContent`))
	}
	if got := h.logLen(id); got != 1 {
		t.Errorf("log length %d, want 1", got)
	}
	screenshot(t, ctx, "verified-desk-settled.png")
}
