package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kiemphieu/kiemphieu/tally"
)

// TestBrowserListChanges: at setup, the secretary lets a candidate withdraw
// on a recorded show of hands and adds a nominee from the floor, through
// the round's page alone; both are seen on the page and in the stored
// record. A refused change (a vote the congress never took, said in
// Vietnamese naming the field by its label) stores nothing.
func TestBrowserListChanges(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	const user, password = "thuky", "mat-khau-thu-ky-2025"
	h.seedUser(user, password, "admin")
	h.listCongress("cg")
	// Delegates, 3 seats, 4 names (no surplus rule binds a delegates list).
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=cg", delegatesDef("dbdh"), asAdmin), http.StatusCreated)
	base := h.listen()
	admin := newBrowser(t)
	acceptDialogs(t, admin)
	jsErrors := consoleErrors(t, admin)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("console: %q", jsErrors())
		}
	})
	setup := "/contests/dbdh/setup"
	signInPassword(t, admin, base, user, password, setup)

	// A withdrawal on a vote not recorded: refused, in Vietnamese, by label.
	do(t, admin, "adding an unknown vote option", chromedp.Evaluate[chromedp.Void](
		`(() => { const s = document.querySelector("#withdraw-form [name=vote]"); const o = document.createElement("option"); o.value = "v9"; o.textContent = "v9"; s.append(o); })()`))
	fill(t, admin, "#withdraw-form [name=candidate]", "c4")
	fill(t, admin, "#withdraw-form [name=vote]", "v9")
	click(t, admin, "withdrawing on an unknown vote", "#withdraw-form button[type=submit]")
	waitFor(t, admin, "the refusal", `!document.getElementById("action-errors").hidden`, stepTimeout)
	if msg := eval[string](t, admin, `document.getElementById("action-errors").textContent`); !strings.Contains(msg, "Không thực hiện được") || !strings.Contains(msg, "Biểu quyết quyết định") {
		t.Errorf("the refusal reads %q; want it in Vietnamese naming “Biểu quyết quyết định”", msg)
	}
	if got := h.getList("dbdh"); len(got.Changes) != 0 || len(got.Contest.Candidates) != 4 {
		t.Fatalf("a refused withdrawal was stored: %+v", got)
	}

	// The withdrawal the congress voted (v1).
	fill(t, admin, "#withdraw-form [name=candidate]", "c4")
	typeInto(t, admin, "#withdraw-form [name=reason]", "Vì lý do sức khỏe")
	fill(t, admin, "#withdraw-form [name=vote]", "v1")
	reloadAfter(t, admin, "withdrawing", setup, chromedp.Click(chromedp.CSS("#withdraw-form button[type=submit]"), chromedp.NodeVisible))

	// A nominee from the floor, on the congress's vote v2.
	typeInto(t, admin, "#nominate-form [name=name]", "Võ Văn Em")
	fill(t, admin, "#nominate-form [name=gender]", "male")
	fill(t, admin, "#nominate-form [name=birth_date]", "1980-05-01")
	fill(t, admin, "#nominate-form [name=source]", "floor")
	fill(t, admin, "#nominate-form [name=vote]", "v2")
	typeInto(t, admin, "#nominate-form [name=reason]", "Đoàn đại biểu số 2 đề cử")
	reloadAfter(t, admin, "nominating", setup, chromedp.Click(chromedp.CSS("#nominate-form button[type=submit]"), chromedp.NodeVisible))

	// On the page: the list without Dung and with Em, and both changes.
	list := eval[[]string](t, admin, `[...document.querySelectorAll("#list li")].map(li => li.dataset.candidate)`)
	if slices.Contains(list, "c4") || !slices.Contains(list, "c5") || len(list) != 4 {
		t.Errorf("the page's list = %v, want c4 gone and c5 added", list)
	}
	changes := eval[[]string](t, admin, `[...document.querySelectorAll("#changes tr[data-action]")].map(tr => tr.dataset.action + " " + tr.dataset.candidate + " " + tr.innerText.replace(/\s+/g, " "))`)
	if len(changes) != 2 || !strings.HasPrefix(changes[0], "withdraw c4") || !strings.Contains(changes[0], "Vì lý do sức khỏe") ||
		!strings.HasPrefix(changes[1], "nominate c5") || !strings.Contains(changes[1], "đề cử tại đại hội") || !strings.Contains(changes[1], "v2") {
		t.Errorf("the page's changes = %q", changes)
	}
	screenshot(t, admin, "setup-list-changes.png")

	// In the store: the record the minutes print from.
	rec, err := h.store.Contest(context.Background(), "dbdh")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Changes) != 2 {
		t.Fatalf("stored changes = %+v", rec.Changes)
	}
	w, n := rec.Changes[0], rec.Changes[1]
	if w.Action != tally.ChangeWithdraw || w.Candidate != "c4" || w.Vote != "v1" || w.Reason != "Vì lý do sức khỏe" || w.By != user {
		t.Errorf("stored withdrawal = %+v", w)
	}
	if n.Action != tally.ChangeNominate || n.Name != "Võ Văn Em" || n.Source != tally.NominatedFloor || n.Vote != "v2" || n.By != user {
		t.Errorf("stored nomination = %+v", n)
	}
	var em *tally.Candidate
	for i, c := range rec.Contest.Candidates {
		if c.ID == n.Candidate {
			em = &rec.Contest.Candidates[i]
		}
	}
	if em == nil || em.Nominated != tally.NominatedFloor || em.BirthDate != "1980-05-01" || em.Gender != tally.GenderMale {
		t.Errorf("stored nominee = %+v", em)
	}
	// Edit (PUT): the form starts from the draft; a corrected title is
	// saved and the nominee keeps where the name came from.
	edit := "/contests/dbdh/edit"
	reloadAfter(t, admin, "editing", edit, chromedp.Click(chromedp.CSS("#edit-link"), chromedp.NodeVisible))
	if got := eval[string](t, admin, `document.querySelector("#contest-form [name=id]").value + " " + document.querySelectorAll("#candidate-rows tr").length`); got != "dbdh 4" {
		t.Fatalf("the edit form starts from %q, want the draft's id and its 4 names", got)
	}
	typeInto(t, admin, "#contest-form [name=title]", "Bầu đại biểu dự Đại hội Đảng bộ Quận 3")
	reloadAfter(t, admin, "saving the edit", setup, chromedp.Click(chromedp.CSS("#create-contest"), chromedp.NodeVisible))
	rec, err = h.store.Contest(context.Background(), "dbdh")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Contest.Title != "Bầu đại biểu dự Đại hội Đảng bộ Quận 3" || rec.Congress != "cg" || len(rec.Changes) != 2 {
		t.Errorf("after the edit: title %q, congress %q, %d changes", rec.Contest.Title, rec.Congress, len(rec.Changes))
	}
	for _, c := range rec.Contest.Candidates {
		if c.ID == "c5" && c.Nominated != tally.NominatedFloor {
			t.Errorf("the edit lost the nominee's source: %+v", c)
		}
	}

	for _, e := range jsErrors() {
		// The refused request is a 400 the browser reports; any other
		// console error is the script's.
		if !strings.Contains(e, "status of 400") {
			t.Errorf("console error: %q", e)
		}
	}
}

// TestBrowserNextRoundForm: a closed round with a vacant seat; the next
// round's form lets one of those left withdraw and adds a name, on the
// congress's vote, and lands on the new round's page.
func TestBrowserNextRoundForm(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	const user, password = "thuky", "mat-khau-thu-ky-2025"
	h.seedUser(user, password, "admin")
	h.listCongress("cg")
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=cg", contestDef("bch"), asAdmin), http.StatusCreated)
	h.transition("bch", "open", nil)
	h.castStrike("bch", strikes("v", 6, "c3", "c4")...) // c1, c2 elected; 1 seat vacant
	h.transition("bch", "close", map[string]int{"issued": 6})
	base := h.listen()
	admin := newBrowser(t)
	acceptDialogs(t, admin)
	signInPassword(t, admin, base, user, password, "/contests/bch/setup")

	fill(t, admin, `#next-form [name=withdraw][value=c4]`, "true")
	click(t, admin, "adding a name", "#add-name")
	typeInto(t, admin, "#add-rows tr:nth-child(1) [name=name]", "Võ Văn Em")
	fill(t, admin, "#add-rows tr:nth-child(1) [name=nominated]", "floor")
	typeInto(t, admin, "#next-form [name=reason]", "Đại hội quyết định bầu tiếp")
	fill(t, admin, "#next-form [name=vote]", "v2")
	reloadAfter(t, admin, "making the next round", "/contests/bch-r2/setup", chromedp.Click(chromedp.CSS("#next-form button[type=submit]"), chromedp.NodeVisible))

	rec, err := h.store.Contest(context.Background(), "bch-r2")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range rec.Contest.Candidates {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"Lê Văn Cường", "Võ Văn Em"}) || rec.Contest.Ballot != tally.StyleStrike || rec.Contest.Seats != 1 {
		t.Errorf("round 2: %v on %s for %d seats", names, rec.Contest.Ballot, rec.Contest.Seats)
	}
	if len(rec.Changes) != 2 || rec.Changes[0].Action != tally.ChangeWithdraw || rec.Changes[0].Candidate != "c4" ||
		rec.Changes[1].Action != tally.ChangeAdd || rec.Changes[1].Source != tally.NominatedFloor || rec.Changes[1].Vote != "v2" || rec.Changes[1].By != user {
		t.Errorf("round 2 changes = %+v", rec.Changes)
	}
	if got := eval[int](t, admin, `document.querySelectorAll("#changes tr[data-action]").length`); got != 2 {
		t.Errorf("the new round's page shows %d changes, want 2", got)
	}
}
