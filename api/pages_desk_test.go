package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var asBrowser = withHeader("Accept", "text/html,application/xhtml+xml")

// dataBlock returns the page's JSON data block with the given id.
func dataBlock(t *testing.T, r *response, id string) map[string]any {
	t.Helper()
	re := regexp.MustCompile(`<script type="application/json" id="` + id + `">(.*?)</script>`)
	m := re.FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("no data block %q in the page:\n%s", id, r.body)
	}
	var out map[string]any
	if err := json.Unmarshal(m[1], &out); err != nil {
		t.Fatalf("data block %q: %v\n%s", id, err, m[1])
	}
	return out
}

func TestDeskPage(t *testing.T) {
	h := newHarness(t)
	h.openContest(contestDef("desk-1"))
	h.createContest(contestDef("desk-draft"))
	h.seedUser("bkp1", "mat-khau-dai-1", "counter")
	h.seedUser("xem1", "mat-khau-dai-2", "viewer")
	counter := h.login("bkp1", "mat-khau-dai-1")
	viewer := h.login("xem1", "mat-khau-dai-2")

	t.Run("anonymous is sent to sign in", func(t *testing.T) {
		r := h.in(t).do("GET", "/contests/desk-1/desk", nil, asBrowser)
		mustStatus(t, r, http.StatusSeeOther)
		if got, want := r.header.Get("Location"), "/login?next=/contests/desk-1/desk"; got != want {
			t.Errorf("Location = %q, want %q", got, want)
		}
	})
	t.Run("a viewer may not key ballots", func(t *testing.T) {
		r := h.in(t).do("GET", "/contests/desk-1/desk", nil, withCookie(viewer), asBrowser)
		mustStatus(t, r, http.StatusForbidden)
		if !strings.Contains(r.header.Get("Content-Type"), "text/html") {
			t.Errorf("a browser's 403 is %q, want a page", r.header.Get("Content-Type"))
		}
	})
	t.Run("a counter gets the desk", func(t *testing.T) {
		r := h.in(t).do("GET", "/contests/desk-1/desk", nil, withCookie(counter), asBrowser)
		mustStatus(t, r, http.StatusOK)
		body := string(r.body)
		for _, want := range []string{`id="ballot-input"`, "autofocus", "Nguyễn Văn An", "Phạm Thị Dung", "/static/desk.js?v=", `name="csrf-token"`} {
			if !strings.Contains(body, want) {
				t.Errorf("the desk lacks %q", want)
			}
		}
		if !strings.Contains(r.header.Get("Content-Security-Policy"), "script-src 'self';") {
			t.Errorf("CSP = %q", r.header.Get("Content-Security-Policy"))
		}
		d := dataBlock(t, r, "desk-data")
		if d["ballot"] != "strike" || d["seats"] != 3.0 || d["state"] != "open" {
			t.Errorf("data block = %v", d)
		}
		cands := d["candidates"].([]any)
		if len(cands) != 4 || cands[0].(map[string]any)["id"] != "c1" || cands[3].(map[string]any)["name"] != "Phạm Thị Dung" {
			t.Errorf("candidates = %v, want the 4 in ballot order", cands)
		}
		msgs := d["messages"].(map[string]any)
		if msgs["reason.over_vote"] != "quá số lượng" || msgs["desk.queued"] == nil {
			t.Errorf("messages lack the reasons or the queue text: %v", msgs)
		}
	})
	t.Run("English on request", func(t *testing.T) {
		r := h.in(t).do("GET", "/contests/desk-1/desk?lang=en", nil, withCookie(counter), asBrowser)
		mustStatus(t, r, http.StatusOK)
		if !strings.Contains(string(r.body), "Counting desk") || dataBlock(t, r, "desk-data")["messages"].(map[string]any)["reason.over_vote"] != "over-vote" {
			t.Errorf("?lang=en did not give English")
		}
	})
	t.Run("a round not open says so and has no field", func(t *testing.T) {
		r := h.in(t).do("GET", "/contests/desk-draft/desk", nil, withCookie(counter), asBrowser)
		mustStatus(t, r, http.StatusOK)
		body := string(r.body)
		if !strings.Contains(body, `id="not-open"`) || strings.Contains(body, `id="ballot-input"`) {
			t.Errorf("a draft round's desk should say it is not open and offer no field:\n%s", body)
		}
	})
	t.Run("an unknown contest is a 404 page", func(t *testing.T) {
		r := h.in(t).do("GET", "/contests/nope/desk", nil, withCookie(counter), asBrowser)
		mustStatus(t, r, http.StatusNotFound)
	})
}

func TestScreenPage(t *testing.T) {
	h := newHarness(t)
	h.openContest(contestDef("scr-closed")) // visibility: certified (the default)
	h.openContest(with(contestDef("scr-live"), "visibility", "live"))
	h.castStrike("scr-live", strikes("b", 3, "c4")...)
	collected := 7
	mustStatus(t, h.do("PUT", "/api/v1/contests/scr-live/notes", map[string]any{"collected": collected}, asAdmin), http.StatusOK)
	h.seedUser("xem1", "mat-khau-dai-2", "viewer")
	viewer := h.login("xem1", "mat-khau-dai-2")

	t.Run("not public until certified", func(t *testing.T) {
		r := h.in(t).do("GET", "/contests/scr-closed/screen", nil, asBrowser)
		mustStatus(t, r, http.StatusSeeOther)
		if got := r.header.Get("Location"); got != "/login?next=/contests/scr-closed/screen" {
			t.Errorf("Location = %q", got)
		}
	})
	t.Run("a signed-in viewer sees it", func(t *testing.T) {
		mustStatus(t, h.in(t).do("GET", "/contests/scr-closed/screen", nil, withCookie(viewer), asBrowser), http.StatusOK)
	})
	t.Run("live visibility is public", func(t *testing.T) {
		r := h.in(t).do("GET", "/contests/scr-live/screen", nil, asBrowser)
		mustStatus(t, r, http.StatusOK)
		d := dataBlock(t, r, "screen-data")
		if d["collected"] != float64(collected) {
			t.Errorf("collected = %v, want %d from the round notes", d["collected"], collected)
		}
		res := d["result"].(map[string]any)
		if res["ballots"].(map[string]any)["total"] != 3.0 || res["version"] != 3.0 {
			t.Errorf("result in the page = %v, want 3 ballots at version 3", res)
		}
		body := string(r.body)
		if !strings.Contains(body, "/static/screen.js?v=") || strings.Contains(body, ` style="`) {
			t.Errorf("the screen should load screen.js and carry no inline styles")
		}
	})
	t.Run("certified is public", func(t *testing.T) {
		h := h.in(t)
		h.castStrike("scr-closed", strikes("b", 8, "c4")...)
		h.transition("scr-closed", "close", map[string]int{"issued": 8})
		h.transition("scr-closed", "certify", nil)
		r := h.do("GET", "/contests/scr-closed/screen", nil, asBrowser)
		mustStatus(t, r, http.StatusOK)
		if d := dataBlock(t, r, "screen-data"); d["state"] != "certified" {
			t.Errorf("state = %v", d["state"])
		}
	})
	t.Run("an unknown contest is a 404 page, signed in", func(t *testing.T) {
		mustStatus(t, h.in(t).do("GET", "/contests/nope/screen", nil, asBrowser, asAdmin), http.StatusNotFound)
		// Anonymous: as a round not yet public, to sign in (no existence oracle).
		mustStatus(t, h.in(t).do("GET", "/contests/nope/screen", nil, asBrowser), http.StatusSeeOther)
	})
}
