package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// TestAppointmentPageForm: the congress page's appointment form records
// through the API's code path (the congress record holds it, the page
// lists it); blank rows are no one; a refusal is said beside the form in
// Vietnamese naming the field by its label (in English on the English
// page), the values typed kept.
func TestAppointmentPageForm(t *testing.T) {
	h := newHarness(t)
	mustStatus(t, h.do("POST", "/api/v1/congresses", congressRecord(), asAdmin), http.StatusCreated)
	h.createContestIn(meetingCommittee("bch"))
	h.seedUser("thuky", "mat-khau-dai-du", "admin")
	s := h.login("thuky", "mat-khau-dai-du")
	form := func(path string, v url.Values) *response {
		v.Set("_csrf", s.csrf)
		return h.page("POST", path, v.Encode(), withCookie(s), withHeader("Content-Type", "application/x-www-form-urlencoded"))
	}
	base := "/congresses/" + meetingCongress

	page := text(h.page("GET", base+"/setup", nil, withCookie(s)).body)
	for _, want := range []string{"Ghi nhận chỉ định", "Cơ quan chỉ định", "Số quyết định", "Sau cuộc bầu", "Chưa có chỉ định."} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "Ghi qua API") {
		t.Error("the page still says to record appointments through the API")
	}

	// Without the CSRF token: refused, nothing stored.
	r := h.page("POST", base+"/appointments", url.Values{"kind": {"secretary"}, "authority": {"X"}, "people[0].name": {"Y"}}.Encode(),
		withCookie(s), withHeader("Content-Type", "application/x-www-form-urlencoded"))
	mustStatus(t, r, http.StatusForbidden)

	r = form(base+"/appointments", url.Values{"kind": {"secretary"}, "title": {"Chỉ định Bí thư Chi bộ 3"},
		"authority": {"Ban Thường vụ Quận ủy Quận 3"}, "decision": {"125-QĐ/QU"}, "date": {"2025-06-02"}, "after": {"bch"},
		"note":           {"sau ba lần bầu không đủ số phiếu"},
		"people[0].name": {""}, // a blank row first: ignored
		"people[1].name": {"Trần Thị Bình"}, "people[1].gender": {"female"}, "people[1].birth_date": {"1985-02-03"}, "people[1].incumbent": {"1"},
		"people[2].name": {"  "}, "people[3].name": {""}, "people[4].name": {""}})
	mustStatus(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != base+"/setup?appointment=a1#appointments" {
		t.Errorf("redirected to %q", loc)
	}
	page = text(h.page("GET", base+"/setup?appointment=a1", nil, withCookie(s)).body)
	for _, want := range []string{"Đã ghi chỉ định a1.", "Trần Thị Bình", "Ban Thường vụ Quận ủy Quận 3", "125-QĐ/QU (2025-06-02)", "sau cuộc bầu bch"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	raw, err := h.store.Item(context.Background(), "congress", meetingCongress)
	if err != nil {
		t.Fatal(err)
	}
	var cg tally.CongressRecord
	if err := json.Unmarshal(raw, &cg); err != nil {
		t.Fatal(err)
	}
	if len(cg.Appointments) != 1 {
		t.Fatalf("the congress record holds %d appointments, want 1", len(cg.Appointments))
	}
	a := cg.Appointments[0]
	if a.ID != "a1" || a.Kind != tally.KindSecretary || a.Authority != "Ban Thường vụ Quận ủy Quận 3" || a.Decision != "125-QĐ/QU" ||
		a.Date != "2025-06-02" || a.After != "bch" || a.Note == "" || len(a.People) != 1 {
		t.Fatalf("stored %+v", a)
	}
	if p := a.People[0]; p.Name != "Trần Thị Bình" || p.Gender != tally.GenderFemale || p.BirthDate != "1985-02-03" ||
		p.Incumbent == nil || !*p.Incumbent || p.EthnicMinority == nil || *p.EthnicMinority {
		t.Errorf("stored person %+v", p)
	}

	ok := url.Values{"kind": {"secretary"}, "authority": {"Ban Thường vụ Quận ủy Quận 3"}, "people[0].name": {"Lê Văn Cường"}}
	without := func(v url.Values, drop string, set ...string) url.Values {
		out := url.Values{}
		for k, vs := range v {
			if k != drop {
				out[k] = vs
			}
		}
		for i := 0; i+1 < len(set); i += 2 {
			out.Set(set[i], set[i+1])
		}
		return out
	}
	for _, tt := range []struct {
		name   string
		path   string
		v      url.Values
		status int
		want   []string
	}{
		{"no authority", "/appointments", without(ok, "authority", "decision", "99-QĐ/QU"), 400,
			[]string{"Cơ quan chỉ định: bắt buộc: ghi cơ quan đã chỉ định", `value="99-QĐ/QU"`, `value="Lê Văn Cường"`}},
		{"no person", "/appointments", without(ok, "people[0].name", "people[2].name", " "), 400,
			[]string{"Người được chỉ định: ghi ít nhất một người được chỉ định"}},
		{"a row without a name", "/appointments", without(ok, "", "people[1].gender", "male"), 400,
			[]string{"Họ và tên (người được chỉ định, dòng 2): bắt buộc"}},
		{"a bad date", "/appointments", without(ok, "", "date", "02/06/2025"), 400,
			[]string{"Ngày quyết định: phải là một ngày"}},
		{"after another congress's contest", "/appointments", without(ok, "", "after", "nope"), 400,
			[]string{"Sau cuộc bầu: không có cuộc bầu “nope” trong đại hội này"}},
		{"English: no authority", "/appointments?lang=en", without(ok, "authority"), 400,
			[]string{"Appointed by: required: who appointed"}},
		{"English: no person", "/appointments?lang=en", without(ok, "people[0].name"), 400,
			[]string{"Appointed: name at least one person appointed."}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := form(base+tt.path, tt.v)
			mustStatus(t, r, tt.status)
			body := string(r.body)
			for _, want := range tt.want {
				if !strings.Contains(text(r.body), want) && !strings.Contains(body, want) {
					t.Errorf("the refusal lacks %q", want)
				}
			}
		})
	}
	var list appointmentsJSON
	decode(t, h.do("GET", "/api/v1/congresses/"+meetingCongress+"/appointments", nil, asAdmin), &list)
	if len(list.Appointments) != 1 {
		t.Errorf("%d appointments after the refusals, want 1", len(list.Appointments))
	}
}
