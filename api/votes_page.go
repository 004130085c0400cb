package api

import (
	"context"
	"errors"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// The congress setup page's votes and electorate (issue 12): plain HTML
// forms, answered with the page again, so that every refusal is said in
// the page's language naming the field by its label (as the imports page
// does), with the API's words below as the technical detail. The figures
// shown are the engine's, decided on D server-side.

func (s *Server) votePageRoutes() {
	s.pagePost("/congresses/:id/votes", s.requirePage(roleAdmin), s.voteForm)
	s.pagePost("/congresses/:id/votes/:vid/delete", s.requirePage(roleAdmin), s.voteDeleteForm)
	s.pagePost("/congresses/:id/electorate", s.requirePage(roleAdmin), s.electorateForm)
}

// congressHands is what the congress page shows of votes and D.
type congressHands struct {
	Votes []tally.HandsResult // the saved votes, decided on D now
	// Printed[i] names the certified round whose minutes print Votes[i]
	// (it cannot be deleted), "" when none does.
	Printed []string
	// D and Formula are the congress's own D, nil without an electorate.
	D       *int
	Formula string
	// Electorate is the form's starting value: the saved one, or a
	// members' congress with nothing filled in.
	Electorate  tally.Electorate
	Congresses  []tally.Congress
	Exclusions  []exclusionField
	Subjects    []tally.Subject
	Candidates  []candidateOption
	Vote        tally.ShowOfHands // the vote form's values (kept on a refusal)
	Refusal     *pageRefusal
	Notice      string
	Frozen      string // a certified round's title: the electorate can no longer change
	HasContests bool
	// The appointment form of the meeting section (appointments_page.go):
	// its kinds, its values and rows of people (kept on a refusal), and
	// the notice of one just recorded.
	AppointmentKinds  []tally.ContestKind
	Appointment       tally.Appointment
	AppointmentRows   []appointmentRow
	AppointmentNotice string
}

// exclusionField is one exclusion in the electorate form.
type exclusionField struct {
	Key   string // JSON name under electorate.exclusions
	For   tally.Congress
	Count int
}

// candidateOption is a candidate a withdrawal vote may name.
type candidateOption struct {
	Contest, ID, Name string
}

func (s *Server) congressHands(ctx context.Context, l web.Lang, cg *tally.CongressRecord, query func(string) string) (*congressHands, error) {
	rounds, err := s.congressRounds(ctx, cg.ID)
	if err != nil {
		return nil, err
	}
	certified, err := s.certifiedRounds(ctx, rounds)
	if err != nil {
		return nil, err
	}
	h := &congressHands{Votes: rounds.decided(cg), Subjects: tally.Subjects, HasContests: len(rounds.rounds) > 0,
		Congresses: []tally.Congress{tally.CongressMembers, tally.CongressDelegates, tally.CongressBody},
		Electorate: tally.Electorate{Congress: tally.CongressMembers}, AppointmentKinds: appointmentKinds}
	h.Appointment, h.AppointmentRows = appointmentFormOf(tally.Appointment{})
	for _, v := range cg.Votes {
		printed := ""
		for _, r := range certified {
			for _, p := range cg.VotesFor(r.Record.Certified, r.ids...) {
				if p.ID == v.ID && printed == "" {
					printed = r.Record.Contest.Title
				}
			}
		}
		h.Printed = append(h.Printed, printed)
	}
	if len(certified) > 0 {
		h.Frozen = certified[0].Record.Contest.Title
	}
	if cg.Electorate != nil {
		h.Electorate = *cg.Electorate
		if d, ok := cg.Denominator(); ok {
			h.D, h.Formula = &d, formulaOf(*cg.Electorate, d)
		}
	}
	x := h.Electorate.Exclusions
	h.Exclusions = []exclusionField{
		{"temporary_elsewhere", tally.CongressMembers, x.TemporaryElsewhere}, {"exempt_absent", tally.CongressMembers, x.ExemptAbsent},
		{"suspended_or_detained", tally.CongressMembers, x.SuspendedOrDetained}, {"absent_with_leave", tally.CongressMembers, x.AbsentWithLeave},
		{"committee_absent", tally.CongressDelegates, x.CommitteeAbsent}, {"delegates_absent_unreplaced", tally.CongressDelegates, x.DelegatesAbsentUnreplaced},
	}
	for _, id := range slices.Sorted(maps.Keys(rounds.rounds)) {
		r := rounds.rounds[id]
		for _, c := range r.Contest.Candidates {
			h.Candidates = append(h.Candidates, candidateOption{Contest: r.Contest.ID, ID: c.ID, Name: c.Name})
		}
	}
	switch {
	case query("vote") != "":
		h.Notice = l.T("hands.recorded", query("vote"))
	case query("vote_deleted") != "":
		h.Notice = l.T("hands.deleted", query("vote_deleted"))
	case query("electorate") != "":
		h.Notice = l.T("hands.electorate_saved")
	}
	if a := query("appointment"); a != "" {
		h.AppointmentNotice = l.T("appointment.recorded", a)
	}
	return h, nil
}

// voteForm: POST /congresses/:id/votes (_csrf) records one vote.
func (s *Server) voteForm(c *fiber.Ctx) error {
	num := func(name string) int {
		n, err := strconv.Atoi(strings.TrimSpace(c.FormValue(name)))
		if err != nil {
			return -1 // refused by Validate, naming the field
		}
		return n
	}
	v := tally.ShowOfHands{Subject: tally.Subject(c.FormValue("subject")), Title: c.FormValue("title"),
		Contest: c.FormValue("contest"), Candidate: c.FormValue("candidate"),
		Present: num("present"), Approve: num("approve"), Disapprove: num("disapprove"), Other: num("other")}
	if strings.TrimSpace(c.FormValue("present")) == "" {
		v.Present = 0
	}
	for _, f := range []struct {
		name string
		n    *int
	}{{"approve", &v.Approve}, {"disapprove", &v.Disapprove}, {"other", &v.Other}} {
		if strings.TrimSpace(c.FormValue(f.name)) == "" {
			*f.n = 0 // an empty count is none
		}
	}
	v.Normalize()
	if v.Subject != tally.SubjectWithdrawal {
		v.Candidate = "" // the form's candidate field is for withdrawals only
	}
	err := v.Validate()
	var r tally.HandsResult
	if err == nil {
		ctx, cancel := storeCtx()
		r, err = s.recordVote(ctx, c, c.Params("id"), v)
		cancel()
	}
	if err == nil {
		return c.Redirect("/congresses/"+url.PathEscape(c.Params("id"))+"/setup?vote="+url.QueryEscape(r.ID)+"#votes", fiber.StatusSeeOther)
	}
	return s.refuseCongressPage(c, "vote", err, func(h *congressHands) { h.Vote = v })
}

// voteDeleteForm: POST /congresses/:id/votes/:vid/delete (_csrf).
func (s *Server) voteDeleteForm(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	err := s.removeVote(ctx, c.Params("id"), c.Params("vid"))
	cancel()
	if err == nil {
		return c.Redirect("/congresses/"+url.PathEscape(c.Params("id"))+"/setup?vote_deleted="+url.QueryEscape(c.Params("vid"))+"#votes", fiber.StatusSeeOther)
	}
	return s.refuseCongressPage(c, "votes", err, nil)
}

// electorateForm: POST /congresses/:id/electorate (_csrf) sets the
// congress's own D, or removes it when "convened" is left empty.
func (s *Server) electorateForm(c *fiber.Ctx) error {
	var e *tally.Electorate
	if strings.TrimSpace(c.FormValue("convened")) != "" {
		n := func(name string) int {
			v := strings.TrimSpace(c.FormValue(name))
			if v == "" {
				return 0
			}
			k, err := strconv.Atoi(v)
			if err != nil {
				return -1
			}
			return k
		}
		e = &tally.Electorate{Congress: tally.Congress(c.FormValue("congress")), Convened: n("convened")}
		// Only the exclusions of the chosen type count: the form shows the
		// others hidden, and a stale figure there must not refuse the form.
		x := &e.Exclusions
		for _, f := range []struct {
			name string
			for_ tally.Congress
			n    *int
		}{{"temporary_elsewhere", tally.CongressMembers, &x.TemporaryElsewhere}, {"exempt_absent", tally.CongressMembers, &x.ExemptAbsent},
			{"suspended_or_detained", tally.CongressMembers, &x.SuspendedOrDetained}, {"absent_with_leave", tally.CongressMembers, &x.AbsentWithLeave},
			{"committee_absent", tally.CongressDelegates, &x.CommitteeAbsent}, {"delegates_absent_unreplaced", tally.CongressDelegates, &x.DelegatesAbsentUnreplaced}} {
			if f.for_ == e.Congress {
				*f.n = n(f.name)
			}
		}
	}
	ctx, cancel := storeCtx()
	err := s.setElectorate(ctx, c.Params("id"), e)
	cancel()
	if err == nil {
		return c.Redirect("/congresses/"+url.PathEscape(c.Params("id"))+"/setup?electorate=1#electorate", fiber.StatusSeeOther)
	}
	return s.refuseCongressPage(c, "electorate", err, func(h *congressHands) {
		if e != nil {
			h.Electorate = *e
		}
	})
}

// setElectorate replaces the congress's electorate (nil removes it), as a
// PUT of the record with only that changed would.
func (s *Server) setElectorate(ctx context.Context, id string, e *tally.Electorate) error {
	rounds, err := s.congressRounds(ctx, id)
	if err != nil {
		return err
	}
	certified, err := s.certifiedRounds(ctx, rounds)
	if err != nil {
		return err
	}
	_, err = s.updateCongress(ctx, id, func(old *tally.CongressRecord) error {
		next := *old
		next.Electorate = e
		if err := next.Validate(); err != nil {
			return err
		}
		if err := checkFrozen(certified, old, &next); err != nil {
			return err
		}
		*old = next
		return nil
	})
	return err
}

// refuseCongressPage shows the congress page again with the refusal beside
// the form it came from, in the status the API gives; a failure of the
// service itself goes to the error handler.
func (s *Server) refuseCongressPage(c *fiber.Ctx, form string, err error, keep func(*congressHands)) error {
	switch tally.ErrorKind(err) {
	case tally.Invalid, tally.Conflict, tally.NotFound:
	default:
		return err
	}
	ctx, cancel := storeCtx()
	defer cancel()
	cg, cerr := s.congress(ctx, c.Params("id"))
	if cerr != nil {
		return cerr
	}
	l := s.lang(c)
	d, derr := s.congressPageData(ctx, l, cg, func(string) string { return "" })
	if derr != nil {
		return derr
	}
	if keep != nil {
		keep(d.Hands)
	}
	if form == "appointment" {
		d.Hands.Refusal = appointmentRefusal(l, err)
	} else {
		d.Hands.Refusal = handsRefusal(l, form, err)
	}
	return s.render(c, statusOf[tally.ErrorKind(err)], "congress-setup", s.page(c, "setup.congress.title", d, cg.Name))
}

// handsRefusal says a refusal of the votes or electorate forms in the
// page's language: the field by its label, then the refusal's own sentence
// (refused) or the rule of that field.
func handsRefusal(l web.Lang, form string, err error) *pageRefusal {
	p := tally.Problems(err)[0]
	field := p.Field
	if i := strings.Index(field, "]."); strings.HasPrefix(field, "votes[") && i > 0 {
		field = field[i+2:] // a vote of a congress record: its own field
	}
	r := &pageRefusal{Form: form, Field: handsFieldLabel(l, field), Detail: err.Error()}
	if rf := (*refusal)(nil); errors.As(err, &rf) {
		r.Message = l.T(rf.key, rf.args...)
	} else {
		key := "hands.rule." + strings.TrimPrefix(field, "electorate.exclusions.")
		if strings.HasPrefix(field, "electorate.exclusions.") {
			key = "hands.rule.exclusion"
		}
		r.Message = l.T(key)
		if r.Message == key {
			r.Message = l.T("hands.rule.other_field")
		}
	}
	return r
}

func handsFieldLabel(l web.Lang, field string) string {
	switch {
	case strings.HasPrefix(field, "electorate.exclusions."):
		return l.T("setup.exclusion." + strings.TrimPrefix(field, "electorate.exclusions."))
	case field == "electorate.exclusions", field == "electorate", field == "electorate.present":
		return l.T("setup.electorate.title")
	case field == "electorate.congress", field == "electorate.convened":
		return l.T("setup." + field)
	case field == "subject", field == "contest", field == "candidate", field == "present", field == "approve",
		field == "disapprove", field == "other", field == "vote", field == "votes":
		return l.T("setup.hands." + field)
	case field == "title":
		return l.T("setup.hands.vtitle")
	}
	return l.T("setup.hands.record")
}
