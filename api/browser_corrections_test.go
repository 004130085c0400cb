package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// A desk's token is replaced (Bàn 1 is issued again) while the browser
// keeps its history: the void of a ballot the old token keyed is refused,
// and the counter reads why in Vietnamese, not the API's English.
func TestBrowserDeskVoidRefusedInVietnamese(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	base := h.listen()
	desk := newBrowser(t)
	const id = "void-vn"
	h.openContest(strikeDef(id))
	first, second := h.issueToken("counter", "Bàn 1"), h.issueToken("counter", "Bàn 1")

	signIn(t, desk, base, first, "/contests/"+id+"/desk")
	typeBallot(t, desk, "4 5 6")
	pressEnter(t, desk)
	waitFor(t, desk, "the ballot sent", `(() => { const s = JSON.parse(localStorage.getItem("kp.desk.`+id+`"));
		return s.queue.length === 0 && s.history.length === 1 && s.history[0].status === "sent"; })()`, 15*time.Second)
	ballot := readDesk(t, desk, id).History[0].ID

	signIn(t, desk, base, second, "/contests/"+id+"/desk")
	do(t, desk, "voiding "+ballot,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#history tr[data-id=%q] button.void`, ballot))),
		chromedp.WaitVisible(chromedp.CSS("#void-reason")),
		chromedp.SendKeys(chromedp.CSS("#void-reason"), "gõ nhầm"+kb.Enter),
	)
	waitFor(t, desk, "the refusal", `!document.getElementById("void-error").hidden`, 10*time.Second)
	msg := eval[string](t, desk, `document.getElementById("void-error").textContent`)
	want := "Không hủy được phiếu " + ballot + ": phiếu này do bàn khác nhập"
	if !strings.HasPrefix(msg, want) || strings.Contains(msg, "keyed by") {
		t.Errorf("the desk says %q, want %q… in Vietnamese", msg, want)
	}
	if n := h.logLen(id); n != 1 {
		t.Errorf("the log has %d entries after a refused void, want 1", n)
	}
}
