package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Appointments (chỉ định): an office filled by the higher committee's
// decision instead of a ballot — a branch secretary after three failed
// rounds (Quy định 24-QĐ/TW §22: "cấp ủy cấp trên … chỉ định"), the
// committees of a new or merged organization (296-QĐ/TW 2025). They are
// kept on the congress record (CongressRecord.Appointments) and counted as
// appointed in the roll-up (tally/rollup.go).

// appointmentRoutes adds the routes. One appointment is a small record:
// the default body limit (64 KiB) binds it, not the documents' limit.
func (s *Server) appointmentRoutes(v1 fiber.Router) {
	v1.Get("/congresses/:id/appointments", s.require(roleViewer), s.listAppointments)
	v1.Post("/congresses/:id/appointments", s.require(roleAdmin), s.postAppointment)
	v1.Delete("/congresses/:id/appointments/:aid", s.require(roleAdmin), s.deleteAppointment)
}

// listAppointments: GET /api/v1/congresses/{id}/appointments →
// {"appointments": [...]}, in the order recorded.
func (s *Server) listAppointments(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	rec, err := s.congress(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	out := rec.Appointments
	if out == nil {
		out = []tally.Appointment{}
	}
	return c.JSON(fiber.Map{"appointments": out})
}

// postAppointment: POST /api/v1/congresses/{id}/appointments with one
// tally.Appointment → 201 the appointment as stored. Without an id the
// server gives the next "a<n>"; an id already used is 409. After, when
// given, must name a round of this congress (400 after).
func (s *Server) postAppointment(c *fiber.Ctx) error {
	var a tally.Appointment
	if err := decodeBody(c, &a); err != nil {
		return err
	}
	congress := c.Params("id")
	ctx, cancel := storeCtx()
	defer cancel()
	a, err := s.recordAppointment(ctx, congress, a)
	if err != nil {
		return err
	}
	c.Location("/api/v1/congresses/" + congress + "/appointments/" + a.ID)
	return c.Status(fiber.StatusCreated).JSON(a)
}

// recordAppointment adds a to the congress's appointments, as the API and
// the congress page's form (appointments_page.go) record one: normalized,
// the next id unless given, after checked against the congress's rounds,
// validated, and stored by compare-and-set (editAppointments). The
// refusals the page says in its language carry their message (refused).
func (s *Server) recordAppointment(ctx context.Context, congress string, a tally.Appointment) (tally.Appointment, error) {
	a.Normalize()
	if a.After != "" {
		prev, err := s.store.Contest(ctx, a.After)
		switch {
		case tally.ErrorKind(err) == tally.NotFound:
			return a, refused(errorf(tally.Invalid, "after", "no contest %q: after names the election whose failed rounds led to the appointment", a.After), "hands.refused.contest", a.After)
		case err != nil:
			return a, err
		case prev.Congress != congress:
			return a, refused(errorf(tally.Invalid, "after", "the contest %q is not of the congress %q", a.After, congress), "hands.refused.contest", a.After)
		}
	}
	given := a.ID != ""
	err := s.editAppointments(ctx, congress, func(rec *tally.CongressRecord) error {
		if !given {
			a.ID = nextAppointmentID(rec.Appointments)
		}
		if err := a.Validate(); err != nil {
			return err
		}
		for _, old := range rec.Appointments {
			if old.ID == a.ID {
				return refused(errorf(tally.Conflict, "id", "the appointment %q already exists; DELETE it first to record it again", a.ID), "appointment.refused.id", a.ID)
			}
		}
		rec.Appointments = append(rec.Appointments, a)
		return tally.ValidateAppointments(rec.Appointments)
	})
	return a, err
}

// deleteAppointment: DELETE /api/v1/congresses/{id}/appointments/{aid} → 204.
func (s *Server) deleteAppointment(c *fiber.Ctx) error {
	aid := c.Params("aid")
	ctx, cancel := storeCtx()
	defer cancel()
	err := s.editAppointments(ctx, c.Params("id"), func(rec *tally.CongressRecord) error {
		for i, a := range rec.Appointments {
			if a.ID == aid {
				rec.Appointments = append(rec.Appointments[:i:i], rec.Appointments[i+1:]...)
				return nil
			}
		}
		return errorf(tally.NotFound, "appointment", "no appointment %q in the congress %q", aid, c.Params("id"))
	})
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// nextAppointmentID is "a<n>", one more than the largest such id used.
func nextAppointmentID(as []tally.Appointment) string {
	n := 0
	for _, a := range as {
		if v, err := strconv.Atoi(strings.TrimPrefix(a.ID, "a")); err == nil && strings.HasPrefix(a.ID, "a") && v > n {
			n = v
		}
	}
	return fmt.Sprintf("a%d", n+1)
}

// editAppointments changes a congress record's appointments atomically:
// the record is read, edit applied and the result stored only if the
// record has not changed meanwhile (SwapItem), else read again — a vote
// recorded at the same time (api/votes.go) is not lost.
func (s *Server) editAppointments(ctx context.Context, id string, edit func(rec *tally.CongressRecord) error) error {
	for range 32 {
		old, err := s.store.Item(ctx, itemCongress, id)
		if tally.ErrorKind(err) == tally.NotFound {
			return errorf(tally.NotFound, "congress", "no congress %q", id)
		}
		if err != nil {
			return err
		}
		var rec tally.CongressRecord
		if err := json.Unmarshal(old, &rec); err != nil {
			return err
		}
		if err := edit(&rec); err != nil {
			return err
		}
		data, err := json.Marshal(&rec)
		if err != nil {
			return err
		}
		if bytes.Equal(data, old) {
			return nil
		}
		ok, err := s.store.SwapItem(ctx, itemCongress, id, old, data)
		if err != nil || ok {
			return err
		}
	}
	return errorf(tally.Conflict, "", "the congress record keeps changing; try again")
}
