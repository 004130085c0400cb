package api_test

import (
	"net/http"
	"strings"
	"testing"
)

func congressDef(id string) map[string]any {
	return map[string]any{"id": id, "organization": "Chi bộ 3", "superior": "Đảng bộ Phường 4",
		"name": "Đại hội Chi bộ 3", "ordinal": 7, "term": "2025–2027", "place": "Nhà văn hóa tổ dân phố 5",
		"date": "2025-04-12",
		"counting_committee": []any{map[string]string{"name": "Trần Thị Bình", "role": "head"},
			map[string]string{"name": "Lê Văn Cường", "role": "member"}},
		"votes": []any{map[string]any{"subject": "counting_committee", "present": 9, "approve": 9, "disapprove": 0, "other": 0}}}
}

func TestCongresses(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/api/v1/congresses", congressDef("dh-cb3"), asAdmin)
	mustStatus(t, r, http.StatusCreated)
	if loc := r.header.Get("Location"); loc != "/api/v1/congresses/dh-cb3" {
		t.Errorf("Location = %q", loc)
	}
	mustError(t, h.do("POST", "/api/v1/congresses", congressDef("dh-cb3"), asAdmin), http.StatusConflict, "id")
	bad := congressDef("dh-bad")
	bad["date"] = "12/4/2025"
	mustError(t, h.do("POST", "/api/v1/congresses", bad, asAdmin), http.StatusBadRequest, "date")

	// Text is NFC on input, as contests are.
	nfd := congressDef("dh-nfd")
	nfd["organization"] = "Chi bo\u0302\u0323 3"
	mustStatus(t, h.do("POST", "/api/v1/congresses", nfd, asAdmin), http.StatusCreated)
	var got struct {
		Organization string `json:"organization"`
	}
	decode(t, h.do("GET", "/api/v1/congresses/dh-nfd", nil, asAdmin), &got)
	if got.Organization != "Chi bộ 3" {
		t.Errorf("organization = %q, want NFC %q", got.Organization, "Chi bộ 3")
	}

	var list struct {
		Congresses []struct{ ID string } `json:"congresses"`
	}
	decode(t, h.do("GET", "/api/v1/congresses", nil, asAdmin), &list)
	if len(list.Congresses) != 2 {
		t.Errorf("list = %+v, want 2 congresses", list.Congresses)
	}

	// Corrections until a round of the congress is certified.
	fix := congressDef("dh-cb3")
	fix["place"] = "Hội trường Đảng ủy Phường 4"
	mustStatus(t, h.do("PUT", "/api/v1/congresses/dh-cb3", fix, asAdmin), http.StatusOK)
	mustError(t, h.do("PUT", "/api/v1/congresses/dh-other", congressDef("dh-cb3"), asAdmin), http.StatusBadRequest, "id")
	mustError(t, h.do("PUT", "/api/v1/congresses/dh-none", congressDef("dh-none"), asAdmin), http.StatusNotFound, "congress")

	mustStatus(t, h.do("POST", "/api/v1/contests?congress=dh-cb3", contestDef("bch-cb3"), asAdmin), http.StatusCreated)
	var rec struct {
		Congress string `json:"congress"`
	}
	decode(t, h.do("GET", "/api/v1/contests/bch-cb3", nil, asAdmin), &rec)
	if rec.Congress != "dh-cb3" {
		t.Errorf("contest's congress = %q", rec.Congress)
	}
	var only struct {
		Contests []struct{ ID string } `json:"contests"`
	}
	h.createContest(contestDef("loose"))
	decode(t, h.do("GET", "/api/v1/contests?congress=dh-cb3", nil, asAdmin), &only)
	if len(only.Contests) != 1 || only.Contests[0].ID != "bch-cb3" {
		t.Errorf("contests of dh-cb3 = %+v", only.Contests)
	}

	// Notes, then certification freezes both notes and congress.
	mustStatus(t, h.do("POST", "/api/v1/contests/bch-cb3/open", nil, asAdmin), http.StatusOK)
	mustStatus(t, h.do("PUT", "/api/v1/contests/bch-cb3/notes", map[string]any{"present": 9, "collected": 0, "complaints": "Không có."}, asAdmin), http.StatusOK)
	mustError(t, h.do("PUT", "/api/v1/contests/bch-cb3/notes", map[string]any{"present": -1}, asAdmin), http.StatusBadRequest, "present")
	r = h.do("GET", "/api/v1/contests/bch-cb3/notes", nil, asAdmin)
	if !strings.Contains(string(r.body), `"complaints":"Không có."`) {
		t.Errorf("notes = %s", r.body)
	}
	h.transition("bch-cb3", "close", map[string]int{"issued": 0})
	h.transition("bch-cb3", "certify", nil)
	mustError(t, h.do("PUT", "/api/v1/contests/bch-cb3/notes", map[string]any{"present": 8}, asAdmin), http.StatusConflict, "state")
	// The certified minutes print the place: it is frozen now (votes_test.go
	// has the whole rule).
	fix["place"] = "Nơi khác"
	mustError(t, h.do("PUT", "/api/v1/congresses/dh-cb3", fix, asAdmin), http.StatusConflict, "place")
}

// A next round stays under the congress of the round before it.
func TestNextRoundKeepsCongress(t *testing.T) {
	h := newHarness(t)
	mustStatus(t, h.do("POST", "/api/v1/congresses", congressDef("dh-cb3"), asAdmin), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=dh-cb3", contestDef("r1"), asAdmin), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/contests/r1/open", nil, asAdmin), http.StatusOK)
	h.transition("r1", "close", map[string]int{"issued": 0})
	r := h.do("POST", "/api/v1/contests/r1/next", nil, asAdmin)
	mustStatus(t, r, http.StatusCreated)
	var next struct {
		Congress string `json:"congress"`
		Contest  struct{ ID string }
	}
	decode(t, r, &next)
	if next.Congress != "dh-cb3" {
		t.Errorf("next round %s is under congress %q, want dh-cb3", next.Contest.ID, next.Congress)
	}
}
