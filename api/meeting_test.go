package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/tally"
)

// The first meeting (issue 12, deliverable 5): contests linked by "from"
// to the body just elected, appointments, the congress page's order.

const meetingCongress = "dh-p4"

// meetingCommittee is the congress's committee: 5 seats from 6, D = 8.
func meetingCommittee(id string) map[string]any {
	names := []string{"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Em", "Võ Thị Giang"}
	var cands []any
	for i, n := range names {
		cands = append(cands, map[string]any{"id": fmt.Sprintf("c%d", i+1), "name": n})
	}
	return map[string]any{"id": id, "title": "Bầu Ban Chấp hành Đảng bộ Phường 4", "kind": "committee", "seats": 5, "ballot": "strike",
		"electorate": map[string]any{"congress": "members", "convened": 9, "exclusions": map[string]any{"absent_with_leave": 1}},
		"candidates": cands}
}

// standingFrom is a standing committee of 3 from the named candidates of
// the committee, at its first meeting (D left for the default).
func standingFrom(id, from string, cands ...[2]string) map[string]any {
	var list []any
	for _, c := range cands {
		list = append(list, map[string]any{"id": c[0], "name": c[1]})
	}
	return map[string]any{"id": id, "title": "Bầu Ban Thường vụ", "kind": "standing_committee", "seats": 3, "ballot": "strike",
		"electorate": map[string]any{"congress": "body", "convened": 0}, "from": from, "candidates": list}
}

var (
	an    = [2]string{"c1", "Nguyễn Văn An"}
	binh  = [2]string{"c2", "Trần Thị Bình"}
	cuong = [2]string{"c3", "Lê Văn Cường"}
	em    = [2]string{"c5", "Hoàng Văn Em"}
	giang = [2]string{"c6", "Võ Thị Giang"}
)

// electCommittee holds the committee in two rounds: round 1 elects c1–c4
// (c5 and c6 get 4 of D = 8, not more than half), round 2 elects c5. It
// returns the second round's id.
func (h *harness) electCommittee(id string) string {
	h.t.Helper()
	h.createContestIn(meetingCommittee(id))
	h.transition(id, "open", nil)
	h.castStrike(id, strikes("x", 4, "c5")...)
	h.castStrike(id, strikes("y", 4, "c6")...)
	h.transition(id, "close", map[string]int{"issued": 8})
	r := h.do("POST", "/api/v1/contests/"+id+"/next", nil, asAdmin)
	mustStatus(h.t, r, http.StatusCreated)
	var next record
	decode(h.t, r, &next)
	r2 := next.Contest.ID
	h.transition(r2, "open", nil)
	h.castStrike(r2, strikes("z", 8, "c6")...)
	h.transition(r2, "close", map[string]int{"issued": 8})
	return r2
}

func (h *harness) createContestIn(def map[string]any) *response {
	h.t.Helper()
	r := h.do("POST", "/api/v1/contests?congress="+meetingCongress, def, asAdmin)
	mustStatus(h.t, r, http.StatusCreated)
	return r
}

type meetingView struct {
	record
	Warnings []tally.Warning `json:"warnings"`
}

func warningCodes(ws []tally.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, string(w.Code))
	}
	return out
}

func TestContestFrom(t *testing.T) {
	h := newHarness(t)
	mustStatus(t, h.do("POST", "/api/v1/congresses", congressRecord(), asAdmin), http.StatusCreated)

	// Not closed yet: its result is not final.
	h.createContestIn(meetingCommittee("bch"))
	mustError(t, h.do("POST", "/api/v1/contests?congress="+meetingCongress, standingFrom("btv0", "bch", an, binh, cuong, em), asAdmin), http.StatusConflict, "from")

	r2 := h.in(t).electCommittee("bch-a")
	tests := []struct {
		name   string
		def    map[string]any
		query  string
		status int
		field  string
	}{
		{"no such contest", standingFrom("btv1", "nope", an, binh, cuong, em), "?congress=" + meetingCongress, 400, "from"},
		{"another congress (none)", standingFrom("btv2", "bch-a", an, binh, cuong, em), "", 400, "from"},
		{"from itself", standingFrom("btv3", "btv3", an, binh, cuong, em), "?congress=" + meetingCongress, 400, "from"},
		{"a name not elected", standingFrom("btv4", "bch-a", an, giang, cuong, em), "?congress=" + meetingCongress, 400, "candidates[1]"},
		{"an elected id with another name", standingFrom("btv5", "bch-a", an, [2]string{"c2", "Trần Thị Bích"}, cuong, em), "?congress=" + meetingCongress, 400, "candidates[1]"},
		{"a bad definition and a name not elected: both told", with(standingFrom("btv6", "bch-a", an, binh, cuong, giang), "title", ""), "?congress=" + meetingCongress, 400, "title"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := h.in(t)
			e := mustError(t, h.do("POST", "/api/v1/contests"+tt.query, tt.def, asAdmin), tt.status, tt.field)
			if tt.name == "a bad definition and a name not elected: both told" &&
				!slices.ContainsFunc(e.Problems, func(p struct {
					Field   string `json:"field"`
					Message string `json:"message"`
				}) bool {
					return p.Field == "candidates[3]"
				}) {
				t.Errorf("problems %v lack candidates[3]", e.Problems)
			}
			if _, err := h.store.Contest(t.Context(), tt.def["id"].(string)); tally.ErrorKind(err) != tally.NotFound {
				t.Errorf("a refused contest was stored (%v)", err)
			}
		})
	}

	// Every round of the election counts: c5 was elected in round 2, named
	// here by round 1's id. D defaults to the 5 elected; the committee is
	// under 9, so the standing committee is warned about.
	var v meetingView
	decode(t, h.createContestIn(standingFrom("btv", "bch-a", an, binh, cuong, em)), &v)
	if v.Contest.Electorate.Convened != 5 || v.Contest.Denominator() != 5 {
		t.Errorf("convened %d, D %d; want the 5 elected", v.Contest.Electorate.Convened, v.Contest.Denominator())
	}
	if got := warningCodes(v.Warnings); !slices.Equal(got, []string{string(tally.WarnStandingCommitteeSmall)}) {
		t.Errorf("warnings %v, want standing_committee_small", got)
	}
	// Ballot order after the check: the candidates were checked in the
	// order typed, then sorted.
	if ids := []string{v.Contest.Candidates[0].ID}; ids[0] != "c1" {
		t.Errorf("first in ballot order %v", ids)
	}
	decode(t, h.do("GET", "/api/v1/contests/btv", nil, asAdmin), &v)
	if got := warningCodes(v.Warnings); !slices.Equal(got, []string{string(tally.WarnStandingCommitteeSmall)}) {
		t.Errorf("the view's warnings %v", got)
	}
	// Linked to the later round, the same election.
	decode(t, h.createContestIn(standingFrom("btv-b", r2, an, binh, cuong, em)), &v)
	if v.Contest.Electorate.Convened != 5 {
		t.Errorf("from round 2: convened %d, want 5", v.Contest.Electorate.Convened)
	}
	// A convened typed in is kept.
	def := standingFrom("btv-c", "bch-a", an, binh, cuong, em)
	def["electorate"] = map[string]any{"congress": "body", "convened": 4, "exclusions": map[string]any{}}
	decode(t, h.createContestIn(def), &v)
	if v.Contest.Electorate.Convened != 4 {
		t.Errorf("typed convened %d, want 4", v.Contest.Electorate.Convened)
	}
	// A secretary at a body meeting without a link: a warning, not a refusal.
	decode(t, h.createContestIn(approveDef("bt")), &v)
	if got := warningCodes(v.Warnings); !slices.Equal(got, []string{string(tally.WarnFromKind)}) {
		t.Errorf("secretary without from: warnings %v, want from_kind", got)
	}
	// An inspection chair from the committee: another kind.
	chair := with(standingFrom("cn", "bch-a", an), "kind", "inspection_chair", "seats", 1, "ballot", "approve")
	decode(t, h.createContestIn(chair), &v)
	if got := warningCodes(v.Warnings); !slices.Equal(got, []string{string(tally.WarnFromKind)}) {
		t.Errorf("chair from a committee: warnings %v, want from_kind", got)
	}
}

// fromCheckAnswer is POST /contests/check's answer, the parts read here.
type fromCheckAnswer struct {
	Valid       bool `json:"valid"`
	Denominator *int `json:"denominator"`
	From        *struct {
		Contest         string `json:"contest"`
		Kind            string `json:"kind"`
		Elected         int    `json:"elected"`
		ConvenedDefault bool   `json:"convened_default"`
	} `json:"from"`
	Problems []struct {
		Field string `json:"field"`
	} `json:"problems"`
	Warnings []tally.Warning `json:"warnings"`
}

func TestCheckContestFrom(t *testing.T) {
	h := newHarness(t)
	mustStatus(t, h.do("POST", "/api/v1/congresses", congressRecord(), asAdmin), http.StatusCreated)
	h.electCommittee("bch")
	q := "/api/v1/contests/check?congress=" + meetingCongress
	var a fromCheckAnswer
	decode(t, h.do("POST", q, standingFrom("btv", "bch", an, binh, cuong, em), asAdmin), &a)
	if !a.Valid || a.Denominator == nil || *a.Denominator != 5 || a.From == nil || a.From.Elected != 5 || !a.From.ConvenedDefault || a.From.Kind != "committee" {
		t.Errorf("check: %+v (from %+v), want valid, D 5 by default from the 5 elected", a, a.From)
	}
	if got := warningCodes(a.Warnings); !slices.Equal(got, []string{string(tally.WarnStandingCommitteeSmall)}) {
		t.Errorf("check warnings %v", got)
	}
	a = fromCheckAnswer{}
	decode(t, h.do("POST", q, standingFrom("btv", "bch", an, giang, cuong, em), asAdmin), &a)
	if a.Valid || len(a.Problems) != 1 || a.Problems[0].Field != "candidates[1]" {
		t.Errorf("a name not elected: %+v", a)
	}
	a = fromCheckAnswer{}
	decode(t, h.do("POST", q, standingFrom("btv", "nope", an), asAdmin), &a)
	if a.Valid || !slices.ContainsFunc(a.Problems, func(p struct {
		Field string `json:"field"`
	}) bool {
		return p.Field == "from"
	}) || len(a.Warnings) != 0 {
		t.Errorf("no such contest: %+v", a)
	}
}

type appointmentsJSON struct {
	Appointments []tally.Appointment `json:"appointments"`
}

// TestAppointments runs on both stores: the record is changed with
// SwapItem, and concurrent appointments must all be kept.
func TestAppointments(t *testing.T) {
	for _, backend := range []string{"bolt", "redis"} {
		t.Run(backend, func(t *testing.T) {
			var srv *api.Server
			if backend == "bolt" {
				srv = newHarness(t).srv
			} else {
				srv = redisServer(t)
			}
			do := func(method, path string, body any) *response {
				t.Helper()
				return doApp(t, srv, method, path, body, asAdmin)
			}
			mustStatus(t, do("POST", "/api/v1/congresses", congressRecord()), http.StatusCreated)
			base := "/api/v1/congresses/" + meetingCongress + "/appointments"
			app := func(kv ...any) map[string]any {
				return with(map[string]any{"kind": "secretary", "authority": "Ban Thường vụ Quận ủy Quận 3",
					"decision": "Quyết định số 125-QĐ/QU", "date": "2025-05-20",
					"people": []any{map[string]any{"name": "Nguyễn  Văn An", "gender": "male", "birth_date": "1980-02-03"}}}, kv...)
			}
			var a tally.Appointment
			r := do("POST", base, app())
			mustStatus(t, r, http.StatusCreated)
			decode(t, r, &a)
			if a.ID != "a1" || a.People[0].ID != "p1" || a.People[0].Name != "Nguyễn Văn An" || r.header.Get("Location") != base+"/a1" {
				t.Errorf("first appointment %+v at %q", a, r.header.Get("Location"))
			}
			refusals := []struct {
				name   string
				body   any
				status int
				field  string
			}{
				{"same id", app("id", "a1"), 409, "id"},
				{"no authority", app("authority", ""), 400, "authority"},
				{"nobody", app("people", []any{}), 400, "people"},
				{"a person without a name", app("people", []any{map[string]any{"gender": "male"}}), 400, "people[0].name"},
				{"a kind unknown", app("kind", "mayor"), 400, "kind"},
				{"a date not a date", app("date", "20/5/2025"), 400, "date"},
				{"after no contest", app("after", "nope"), 400, "after"},
				{"an unknown field", app("person", "x"), 400, "person"},
			}
			for _, tt := range refusals {
				mustError(t, do("POST", base, tt.body), tt.status, tt.field)
			}
			mustError(t, do("POST", "/api/v1/congresses/nope/appointments", app()), 404, "congress")
			mustError(t, doApp(t, srv, "POST", base, app(), bearer("nope")), 401, "")

			// Concurrent appointments: each kept once, with its own id.
			var wg sync.WaitGroup
			for i := range 5 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					mustStatus(t, do("POST", base, app("id", fmt.Sprintf("x%d", i), "kind", "deputy_secretary")), http.StatusCreated)
				}()
			}
			wg.Wait()
			var list appointmentsJSON
			decode(t, do("GET", base, nil), &list)
			if len(list.Appointments) != 6 {
				t.Fatalf("%d appointments, want 6: %+v", len(list.Appointments), list.Appointments)
			}
			mustStatus(t, do("DELETE", base+"/a1", nil), http.StatusNoContent)
			mustError(t, do("DELETE", base+"/a1", nil), 404, "appointment")
			decode(t, do("GET", base, nil), &list)
			if len(list.Appointments) != 5 || slices.ContainsFunc(list.Appointments, func(a tally.Appointment) bool { return a.ID == "a1" }) {
				t.Errorf("after the delete: %+v", list.Appointments)
			}
			// The next id skips none in use; the congress record holds them.
			r = do("POST", base, app())
			decode(t, r, &a)
			if a.ID != "a1" {
				t.Errorf("next id %q, want a1 (a1 was deleted; x0–x4 are not a<n>)", a.ID)
			}
			var cg tally.CongressRecord
			decode(t, do("GET", "/api/v1/congresses/"+meetingCongress, nil), &cg)
			if len(cg.Appointments) != 6 {
				t.Errorf("the congress record holds %d appointments, want 6", len(cg.Appointments))
			}
		})
	}
}

// A6: a branch secretary after three failed rounds, appointed by the
// higher committee, through the API into the roll-up and the congress page.
func TestAppointmentAfterThreeFailedRounds(t *testing.T) {
	h := newHarness(t)
	mustStatus(t, h.do("POST", "/api/v1/congresses", congressRecord(), asAdmin), http.StatusCreated)
	id := "bt"
	h.createContestIn(with(approveDef(id), "electorate", map[string]any{"congress": "members", "convened": 5, "exclusions": map[string]any{}}))
	for round := 1; round <= 3; round++ {
		h.transition(id, "open", nil)
		for i := range 5 {
			mustStatus(t, h.postBallot(id, map[string]any{"id": fmt.Sprintf("b%d", i), "marks": map[string]string{"c1": "disagree"}}), http.StatusCreated)
		}
		h.transition(id, "close", map[string]int{"issued": 5})
		h.transition(id, "certify", nil)
		if round < 3 {
			r := h.do("POST", "/api/v1/contests/"+id+"/next", nil, asAdmin)
			mustStatus(t, r, http.StatusCreated)
			var next record
			decode(t, r, &next)
			id = next.Contest.ID
		}
	}
	body := map[string]any{"kind": "secretary", "authority": "Ban Thường vụ Đảng ủy Phường 4", "date": "2025-05-21", "after": id,
		"people": []any{map[string]any{"name": "Trần Thị Bình", "gender": "female"}}}
	mustStatus(t, h.do("POST", "/api/v1/congresses/"+meetingCongress+"/appointments", body, asAdmin), http.StatusCreated)

	var r struct {
		Congresses []struct {
			Elections []struct {
				ID          string `json:"id"`
				Outcome     string `json:"outcome"`
				Appointed   bool   `json:"appointed"`
				AppointedBy string `json:"appointed_by"`
				Fills       int    `json:"fills"`
				People      []struct {
					Name        string `json:"name"`
					Appointment string `json:"appointment"`
				} `json:"elected_people"`
			} `json:"elections"`
		} `json:"congresses"`
		Totals []struct {
			Kind            string `json:"kind"`
			Elections       int    `json:"elections"`
			FellShort       int    `json:"fell_short"`
			Appointed       int    `json:"appointed"`
			AppointedPeople int    `json:"appointed_people"`
			Seats           int    `json:"seats"`
			Vacant          int    `json:"vacant"`
		} `json:"totals"`
	}
	decode(t, h.do("GET", "/api/v1/rollup?organization=%C4%90%E1%BA%A3ng%20b%E1%BB%99%20Ph%C6%B0%E1%BB%9Dng%204", nil, asAdmin), &r)
	es := r.Congresses[0].Elections
	if len(es) != 2 || es[0].Outcome != "fell_short" || es[0].AppointedBy != "a1" || !es[1].Appointed || es[1].Outcome != "appointed" ||
		es[1].Fills != 1 || len(es[1].People) != 1 || es[1].People[0].Appointment != "a1" {
		t.Errorf("roll-up elections %+v", es)
	}
	if tot := r.Totals; len(tot) != 1 || tot[0].Elections != 2 || tot[0].FellShort != 1 || tot[0].Appointed != 1 ||
		tot[0].AppointedPeople != 1 || tot[0].Seats != 1 || tot[0].Vacant != 0 {
		t.Errorf("roll-up totals %+v", tot)
	}
	pdf := h.do("GET", "/api/v1/rollup.pdf?organization=%C4%90%E1%BA%A3ng%20b%E1%BB%99%20Ph%C6%B0%E1%BB%9Dng%204", nil, asAdmin)
	mustStatus(t, pdf, http.StatusOK)
	page := h.page("GET", "/rollup?organization=%C4%90%E1%BA%A3ng%20b%E1%BB%99%20Ph%C6%B0%E1%BB%9Dng%204", nil, asAdmin)
	mustStatus(t, page, http.StatusOK)
	if s := string(page.body); !strings.Contains(s, `data-appointment="a1"`) || !strings.Contains(s, "Trần Thị Bình") {
		t.Errorf("the roll-up page does not list the appointment")
	}
	cp := h.page("GET", "/congresses/"+meetingCongress+"/setup", nil, asAdmin)
	mustStatus(t, cp, http.StatusOK)
	if s := string(cp.body); !strings.Contains(s, `data-appointment="a1"`) || !strings.Contains(s, "Ban Thường vụ Đảng ủy Phường 4") {
		t.Errorf("the congress page does not list the appointment")
	}
}

// The congress page shows the order of the elections and suggests the
// next one, pre-filled: the standing committee from the committee elected
// (9 members), with D = 9; a committee under 9 elects none.
func TestCongressPageNextStep(t *testing.T) {
	h := newHarness(t)
	mustStatus(t, h.do("POST", "/api/v1/congresses", congressRecord(), asAdmin), http.StatusCreated)
	h.electCommittee("bch")
	page := string(h.page("GET", "/congresses/"+meetingCongress+"/setup", nil, asAdmin).body)
	if !strings.Contains(page, `id="meeting"`) || !strings.Contains(page, "Ban Chấp hành có 5 ủy viên (dưới 9)") {
		t.Errorf("a committee of 5: the page does not say no standing committee is elected")
	}
	// Secretary from the committee (no standing committee), pre-filled.
	link := "/contests/new?congress=" + meetingCongress + "&amp;from=bch&amp;kind=secretary"
	if !strings.Contains(page, link) || !strings.Contains(page, "Bầu Bí thư từ 5 ủy viên Ban Chấp hành (Chi ủy) vừa trúng cử") {
		t.Errorf("the page does not suggest the secretary from the 5 elected (%s)", link)
	}
	form := h.page("GET", strings.ReplaceAll(link, "&amp;", "&"), nil, asAdmin)
	mustStatus(t, form, http.StatusOK)
	s := string(form.body)
	for _, want := range []string{`"from":"bch"`, `"kind":"secretary"`, `"convened":5`, `"congress":"body"`, `"id":"c5"`, `name="from" value="bch"`} {
		if !strings.Contains(s, want) {
			t.Errorf("the pre-filled form lacks %s", want)
		}
	}
	if strings.Contains(s, `"id":"c6"`) {
		t.Error("the pre-filled form lists c6, who was not elected")
	}
	refusal := h.page("GET", "/contests/new?congress="+meetingCongress+"&kind=secretary&from=nope", nil, asAdmin)
	mustStatus(t, refusal, http.StatusBadRequest)
	if !strings.Contains(string(refusal.body), "Không bầu từ kết quả của nope được") {
		t.Errorf("the refusal page does not say it in Vietnamese: %.2000s", refusal.body)
	}
	mustStatus(t, h.page("GET", "/contests/new?congress="+meetingCongress+"&kind=mayor&from=bch", nil, asAdmin), http.StatusBadRequest)

	// Once the secretary is held, the deputies are next.
	h.createContestIn(with(standingFrom("bt", "bch", an), "kind", "secretary", "seats", 1, "ballot", "approve"))
	page = string(h.page("GET", "/congresses/"+meetingCongress+"/setup", nil, asAdmin).body)
	if !strings.Contains(page, "kind=deputy_secretary") || strings.Contains(page, `from=bch&amp;kind=secretary"`) {
		t.Errorf("after the secretary, the page should suggest the deputies only")
	}
}

// The congress page's form sends the record without appointments: a PUT
// without the field keeps them; an explicit [] clears them.
func TestPutCongressKeepsAppointments(t *testing.T) {
	h := newHarness(t)
	mustStatus(t, h.do("POST", "/api/v1/congresses", congressRecord(), asAdmin), http.StatusCreated)
	base := "/api/v1/congresses/" + meetingCongress
	mustStatus(t, h.do("POST", base+"/appointments", map[string]any{"kind": "secretary", "authority": "Ban Thường vụ Quận ủy",
		"people": []any{map[string]any{"name": "Nguyễn Văn An"}}}, asAdmin), http.StatusCreated)
	rec := with(congressRecord(), "place", "Hội trường mới")
	mustStatus(t, h.do("PUT", base, rec, asAdmin), http.StatusOK)
	var list appointmentsJSON
	decode(t, h.do("GET", base+"/appointments", nil, asAdmin), &list)
	if len(list.Appointments) != 1 {
		t.Errorf("a PUT without appointments left %d, want the 1 kept", len(list.Appointments))
	}
	mustStatus(t, h.do("PUT", base, with(rec, "appointments", []any{}), asAdmin), http.StatusOK)
	decode(t, h.do("GET", base+"/appointments", nil, asAdmin), &list)
	if len(list.Appointments) != 0 {
		t.Errorf("a PUT with [] left %d appointments", len(list.Appointments))
	}
	mustError(t, h.do("PUT", base, with(rec, "appointments", []any{map[string]any{"id": "a1", "kind": "secretary", "people": []any{}}}), asAdmin), http.StatusBadRequest, "appointments[0].authority")
}
