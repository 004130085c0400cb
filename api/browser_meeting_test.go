package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserFirstMeeting: after the committee is elected (5 members in
// two rounds), the congress page says no standing committee is elected
// (under 9) and suggests the secretary from the committee; its link opens
// the contest form pre-filled with those elected and D = 5; a name typed
// wrong is refused beside its row in Vietnamese; the contest is created
// with its link and D.
func TestBrowserFirstMeeting(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	const user, password = "thuky", "mat-khau-thu-ky-2025"
	h.seedUser(user, password, "admin")
	mustStatus(t, h.do("POST", "/api/v1/congresses", congressRecord(), asAdmin), http.StatusCreated)
	h.electCommittee("bch")
	base := h.listen()
	admin := newBrowser(t)
	jsErrors := consoleErrors(t, admin)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the console: %q", jsErrors())
		}
	})
	signInPassword(t, admin, base, user, password, "/congresses/"+meetingCongress+"/setup")
	text := bodyText(t, admin)
	for _, want := range []string{"Trình tự bầu cử", "Ban Chấp hành có 5 ủy viên (dưới 9)", "Bầu Bí thư từ 5 ủy viên Ban Chấp hành (Chi ủy) vừa trúng cử"} {
		if !strings.Contains(text, want) {
			t.Errorf("the congress page lacks %q", want)
		}
	}
	screenshot(t, admin, "meeting-congress.png")
	click(t, admin, "the next step", "#meeting a.suggest")
	waitPage(t, admin, "the pre-filled form", "/contests/new")
	waitFor(t, admin, "the check of the pre-filled form", `document.getElementById("check-d").textContent === "5" &&
		document.querySelectorAll("#candidate-rows tr").length === 5`, 10*time.Second)
	if got := eval[string](t, admin, `[document.querySelector('[name=kind]').value, document.querySelector('[name=from]').value,
		document.querySelector('[name="electorate.congress"]').value, document.querySelector('[name="electorate.convened"]').value,
		document.querySelector('[name=seats]').value].join(" ")`); got != "secretary bch body 5 1" {
		t.Errorf("the form starts as %q, want secretary bch body 5 1", got)
	}
	// Keep two names; type the second one wrong.
	for range 3 {
		click(t, admin, "removing a row", "#candidate-rows tr:nth-child(3) .remove-row")
	}
	typeInto(t, admin, `#contest-form [name=id]`, "bt")
	typeInto(t, admin, "#candidate-rows tr:nth-child(2) [name=name]", "Trần Thị Bích")
	waitFor(t, admin, "the refusal beside the row", `document.querySelector('#candidate-rows tr:nth-child(2) .problem[data-col=name]').textContent.includes("không có trong số người trúng cử")`, 10*time.Second)
	screenshot(t, admin, "meeting-refused.png")
	typeInto(t, admin, "#candidate-rows tr:nth-child(2) [name=name]", "Trần Thị Bình")
	waitFor(t, admin, "the form valid again", `document.getElementById("check-status").className === "notice"`, 10*time.Second)
	reloadAfter(t, admin, "creating the secretary's contest", "/contests/bt/setup",
		chromedp.Click(chromedp.CSS("#create-contest"), chromedp.NodeVisible))
	rec, err := h.store.Contest(context.Background(), "bt")
	if err != nil {
		t.Fatal(err)
	}
	c := rec.Contest
	if c.From != "bch" || c.Electorate.Convened != 5 || len(c.Candidates) != 2 || rec.Congress != meetingCongress || c.Kind != "secretary" {
		t.Errorf("stored: from %q, convened %d, %d candidates, congress %q, kind %s", c.From, c.Electorate.Convened, len(c.Candidates), rec.Congress, c.Kind)
	}
	if errs := jsErrors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// TestBrowserAppointment: the congress page's form records an appointment
// (chỉ định) without the API: a missing authority is refused beside the
// form in Vietnamese with the rows typed kept; once filled in, the page
// lists it and the congress record holds it.
func TestBrowserAppointment(t *testing.T) {
	chromiumPath(t)
	h := newHarness(t)
	const user, password = "thuky", "mat-khau-thu-ky-2025"
	h.seedUser(user, password, "admin")
	mustStatus(t, h.do("POST", "/api/v1/congresses", congressRecord(), asAdmin), http.StatusCreated)
	h.createContestIn(meetingCommittee("bch"))
	base := h.listen()
	admin := newBrowser(t)
	jsErrors := consoleErrors(t, admin)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the console: %q", jsErrors())
		}
	})
	setup := "/congresses/" + meetingCongress + "/setup"
	signInPassword(t, admin, base, user, password, setup)
	if n := eval[int](t, admin, `document.querySelectorAll("#appointment-rows tr").length`); n != 5 {
		t.Errorf("the form has %d rows of people, want 5", n)
	}
	fill(t, admin, `#appointment-form [name=kind]`, "secretary")
	typeInto(t, admin, `#appointment-form [name=title]`, "Chỉ định Bí thư Chi bộ 3")
	typeInto(t, admin, `#appointment-form [name=decision]`, "125-QĐ/QU")
	fill(t, admin, `#appointment-form [name=date]`, "2025-06-02")
	fill(t, admin, `#appointment-form [name=after]`, "bch")
	typeInto(t, admin, `#appointment-form [name="people[0].name"]`, "Trần Thị Bình")
	fill(t, admin, `#appointment-form [name="people[0].gender"]`, "female")
	fill(t, admin, `#appointment-form [name="people[0].incumbent"]`, "true")
	reloadAfter(t, admin, "recording without an authority", "/congresses/"+meetingCongress+"/appointments",
		chromedp.Click(chromedp.CSS(`#appointment-form button[type=submit]`), chromedp.NodeVisible))
	if got := eval[string](t, admin, `document.querySelector("#appointment-form").previousElementSibling.textContent`); !strings.Contains(got, "Cơ quan chỉ định: bắt buộc") {
		t.Errorf("the refusal beside the form is %q", got)
	}
	if got := eval[string](t, admin, `document.querySelector('#appointment-form [name="people[0].name"]').value + " " + document.querySelector('#appointment-form [name=after]').value`); got != "Trần Thị Bình bch" {
		t.Errorf("the form kept %q", got)
	}
	screenshot(t, admin, "appointment-refused.png")
	typeInto(t, admin, `#appointment-form [name=authority]`, "Ban Thường vụ Quận ủy Quận 3")
	reloadAfter(t, admin, "recording the appointment", setup,
		chromedp.Click(chromedp.CSS(`#appointment-form button[type=submit]`), chromedp.NodeVisible))
	waitFor(t, admin, "the appointment listed", `document.querySelector('table.appointments tr[data-appointment="a1"]') !== null`, 10*time.Second)
	row := eval[string](t, admin, `document.querySelector('table.appointments tr[data-appointment="a1"]').innerText`)
	for _, want := range []string{"Bí thư", "Trần Thị Bình", "Ban Thường vụ Quận ủy Quận 3", "125-QĐ/QU (2025-06-02)", "sau cuộc bầu bch"} {
		if !strings.Contains(row, want) {
			t.Errorf("the listed appointment %q lacks %q", row, want)
		}
	}
	if text := bodyText(t, admin); !strings.Contains(text, "Đã ghi chỉ định a1.") {
		t.Error("no notice of the appointment recorded")
	}
	screenshot(t, admin, "appointment-listed.png")
	var list appointmentsJSON
	decode(t, h.do("GET", "/api/v1/congresses/"+meetingCongress+"/appointments", nil, asAdmin), &list)
	if len(list.Appointments) != 1 || list.Appointments[0].Authority != "Ban Thường vụ Quận ủy Quận 3" || len(list.Appointments[0].People) != 1 ||
		list.Appointments[0].People[0].Incumbent == nil || !*list.Appointments[0].People[0].Incumbent {
		t.Errorf("stored: %+v", list.Appointments)
	}
	for _, e := range jsErrors() {
		// The refused form is answered with a 400 page the browser
		// reports; any other console error is the script's.
		if !strings.Contains(e, "status of 400") {
			t.Errorf("console error: %q", e)
		}
	}
}
