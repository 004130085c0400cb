package api_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kiemphieu/kiemphieu/tally"
)

// namedOf is what the desk sends for typed ballot-order numbers of an
// introduction ballot ("0": nobody named).
func namedOf(c *tally.Contest, typed string) []string {
	out := []string{}
	for _, tok := range strings.Fields(typed) {
		if n, err := strconv.Atoi(tok); err == nil && n >= 1 && n <= len(c.Candidates) {
			out = append(out, c.Candidates[n-1].ID)
		}
	}
	return out
}

// TestBrowserDeskBallotKinds: the introduction desk takes ballot-order
// numbers of the people named (0: nobody), and the opinion desk takes the
// approve letters but never previews an over-vote or a no-agree ballot as
// invalid: the preview, the server's receipt and package tally agree.
func TestBrowserDeskBallotKinds(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	base := h.listen()
	browser := newBrowser(t)
	intro := with(introductionDef("gt-2025"), "seats", 2)
	opinion := opinionDef("yk-2025")
	h.openContest(intro)
	h.openContest(opinion)
	token := h.issueToken("counter", "Bàn 4")
	cases := []struct {
		def    map[string]any
		ballot func(*tally.Contest, string) tally.Ballot
		good   []string
		wrong  []string
	}{
		{intro, func(c *tally.Contest, s string) tally.Ballot { return tally.Ballot{Named: namedOf(c, s)} },
			[]string{"1", "3 2", "0", "1 2 3"}, []string{"1 1", "4", "x"}},
		{opinion, func(c *tally.Contest, s string) tally.Ballot { return tally.Ballot{Marks: marksOf(c, s)} },
			[]string{"dd", "kk", "dk", "ct"}, []string{"ddd"}},
	}
	signIn(t, browser, base, token, "/contests/"+intro["id"].(string)+"/desk")
	for _, tc := range cases {
		id := tc.def["id"].(string)
		contest := parseDef(t, tc.def)
		do(t, browser, "opening the desk of "+id, chromedp.Navigate(base+"/contests/"+id+"/desk"), chromedp.WaitVisible(chromedp.CSS("#ballot-input")))
		for _, bad := range tc.wrong {
			if got := typeBallot(t, browser, bad); got != "error" {
				t.Errorf("%s: typing %q previews %q, want an error", id, bad, got)
			}
			pressEnter(t, browser)
		}
		var want []string
		for i, text := range tc.good {
			b := tc.ballot(contest, text)
			b.ID = fmt.Sprintf("k%d", i)
			r := tallyReason(t, contest, b)
			if got := typeBallot(t, browser, text); got != r {
				t.Errorf("%s: %q previews %q, package tally says %q", id, text, got, r)
			}
			pressEnter(t, browser)
			if r == "valid" {
				r = ""
			}
			want = append(want, r)
		}
		waitFor(t, browser, "the ballots sent", fmt.Sprintf(`(() => { const s = JSON.parse(localStorage.getItem("kp.desk.%s"));
			return s.queue.length === 0 && s.history.length === %d && s.history.every(h => h.status === "sent"); })()`, id, len(tc.good)), 20*time.Second)
		st := readDesk(t, browser, id)
		for i, hs := range st.History {
			if hs.Reason != want[i] {
				t.Errorf("%s: %q got the receipt reason %q, tally says %q", id, tc.good[i], hs.Reason, want[i])
			}
		}
		if got := h.logLen(id); got != int64(len(tc.good)) {
			t.Errorf("%s: log length %d, want %d", id, got, len(tc.good))
		}
	}
	// The introduction desk says "giới thiệu", not "gạch".
	do(t, browser, "back to the introduction desk", chromedp.Navigate(base+"/contests/gt-2025/desk"), chromedp.WaitVisible(chromedp.CSS("#ballot-input")))
	typeBallot(t, browser, "2")
	if mark := eval[string](t, browser, `document.querySelector("#candidates li.named .mark").textContent`); mark != "giới thiệu" {
		t.Errorf("the named row says %q, want giới thiệu", mark)
	}
}
