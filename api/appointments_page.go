package api

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// The congress page's appointment form (chỉ định): a plain HTML form, as
// the show-of-hands vote form is (votes_page.go), answered with the page
// again. It records through recordAppointment, the API's own code path
// (appointments.go); every refusal is said in the page's language naming
// the field by its label, with the API's words below.

func (s *Server) appointmentPageRoutes() {
	s.pagePost("/congresses/:id/appointments", s.requirePage(roleAdmin), s.appointmentForm)
}

// appointmentRows is how many rows of people the form shows at least;
// appointmentMaxRows how many it reads.
const (
	appointmentRows    = 5
	appointmentMaxRows = 50
)

// appointmentKinds are the kinds the form offers: the contest form's,
// less the ballots that fill no office (tally.Appointment.Validate).
var appointmentKinds = slices.DeleteFunc(slices.Clone(setupKinds), func(k tally.ContestKind) bool {
	return k == tally.KindOpinion || k == tally.KindIntroduction
})

// appointmentRow is one row of people in the form.
type appointmentRow struct {
	Name, Gender, BirthDate string
	EthnicMinority          bool
	Incumbent               bool
}

// appointmentFormOf is the form's state: the values kept (a refusal) and
// its rows of people, blank ones added up to appointmentRows.
func appointmentFormOf(a tally.Appointment) (tally.Appointment, []appointmentRow) {
	var rows []appointmentRow
	for _, p := range a.People {
		rows = append(rows, appointmentRow{Name: p.Name, Gender: string(p.Gender), BirthDate: p.BirthDate,
			EthnicMinority: p.EthnicMinority != nil && *p.EthnicMinority, Incumbent: p.Incumbent != nil && *p.Incumbent})
	}
	for len(rows) < appointmentRows {
		rows = append(rows, appointmentRow{})
	}
	return a, rows
}

// appointmentForm: POST /congresses/:id/appointments (_csrf) records one
// appointment. The people are the rows people[i].name, .gender,
// .birth_date, .ethnic_minority, .incumbent; a row left wholly blank is
// no one.
func (s *Server) appointmentForm(c *fiber.Ctx) error {
	a := tally.Appointment{Kind: tally.ContestKind(c.FormValue("kind")), Title: c.FormValue("title"),
		Authority: c.FormValue("authority"), Decision: c.FormValue("decision"), Date: c.FormValue("date"),
		After: c.FormValue("after"), Note: c.FormValue("note")}
	for i := range appointmentMaxRows {
		f := func(name string) string { return strings.TrimSpace(c.FormValue(fmt.Sprintf("people[%d].%s", i, name))) }
		p := tally.Candidate{Name: f("name"), Gender: tally.Gender(f("gender")), BirthDate: f("birth_date")}
		ethnic, incumbent := f("ethnic_minority") != "", f("incumbent") != ""
		if p.Name == "" && p.Gender == "" && p.BirthDate == "" && !ethnic && !incumbent {
			continue
		}
		// As the contest form: a box left unticked is "no".
		p.EthnicMinority, p.Incumbent = &ethnic, &incumbent
		a.People = append(a.People, p)
	}
	ctx, cancel := storeCtx()
	stored, err := s.recordAppointment(ctx, c.Params("id"), a)
	cancel()
	if err == nil {
		return c.Redirect("/congresses/"+url.PathEscape(c.Params("id"))+"/setup?appointment="+url.QueryEscape(stored.ID)+"#appointments", fiber.StatusSeeOther)
	}
	return s.refuseCongressPage(c, "appointment", err, func(h *congressHands) {
		h.Appointment, h.AppointmentRows = appointmentFormOf(a)
	})
}

// personField is a field of one of an appointment's people: people[2].name.
var personField = regexp.MustCompile(`^people\[(\d+)\]\.(\w+)$`)

// appointmentRefusal says a refusal of the appointment form in the page's
// language: the field by its label, then the refusal's own sentence
// (refused) or the rule of that field.
func appointmentRefusal(l web.Lang, err error) *pageRefusal {
	p := tally.Problems(err)[0]
	field := p.Field
	if i := strings.Index(field, "]."); strings.HasPrefix(field, "appointments[") && i > 0 {
		field = field[i+2:] // an appointment of the congress record: its own field
	}
	r := &pageRefusal{Form: "appointment", Field: appointmentFieldLabel(l, field), Detail: err.Error()}
	if rf := (*refusal)(nil); errors.As(err, &rf) {
		r.Message = l.T(rf.key, rf.args...)
		return r
	}
	key := "appointment.rule." + field
	if m := personField.FindStringSubmatch(field); m != nil {
		key = "appointment.rule.person." + m[2]
	}
	if r.Message = l.T(key); r.Message == key {
		r.Message = l.T("hands.rule.other_field")
	}
	return r
}

func appointmentFieldLabel(l web.Lang, field string) string {
	if m := personField.FindStringSubmatch(field); m != nil {
		n, _ := strconv.Atoi(m[1])
		label := l.T("setup.candidate." + m[2])
		if label == "setup.candidate."+m[2] {
			label = l.T("meeting.appointment.people")
		}
		return l.T("appointment.field.person", label, n+1)
	}
	switch field {
	case "kind", "authority", "people":
		return l.T("meeting.appointment." + field)
	case "title", "decision", "date", "after", "note", "id":
		return l.T("appointment.field." + field)
	}
	return l.T("meeting.appointments")
}
