package api

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Items kinds of the congress setup.
const (
	itemCongress = "congress" // key: congress id → tally.CongressRecord
	itemNotes    = "notes"    // key: contest id → tally.RoundNotes
)

// congress reads a congress record.
func (s *Server) congress(ctx context.Context, id string) (*tally.CongressRecord, error) {
	data, err := s.store.Item(ctx, itemCongress, id)
	if tally.ErrorKind(err) == tally.NotFound {
		return nil, errorf(tally.NotFound, "congress", "no congress %q", id)
	}
	if err != nil {
		return nil, err
	}
	var rec tally.CongressRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

// congresses lists every congress record, by name then id.
func (s *Server) congresses(ctx context.Context) ([]*tally.CongressRecord, error) {
	items, err := s.store.ListItems(ctx, itemCongress)
	if err != nil {
		return nil, err
	}
	out := make([]*tally.CongressRecord, 0, len(items))
	for _, data := range items {
		var rec tally.CongressRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			return nil, err
		}
		out = append(out, &rec)
	}
	slices.SortFunc(out, func(a, b *tally.CongressRecord) int {
		if c := strings.Compare(a.Date, b.Date); c != 0 {
			return -c // the newest first
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// createCongress: POST /api/v1/congresses with a congress record → 201.
// Its votes are recorded as POST …/votes records them: ids, times and who
// recorded them are the service's; a contest they name may come later, but
// not be another congress's (checkVote).
func (s *Server) createCongress(c *fiber.Ctx) error {
	body, err := requestBody(c)
	if err != nil {
		return err
	}
	rec, err := tally.ParseCongress(body)
	if err != nil {
		return err
	}
	ctx, cancel := storeCtx()
	defer cancel()
	rounds, err := s.congressRounds(ctx, rec.ID)
	if err != nil {
		return err
	}
	s.stampVotes(c, rec, &tally.CongressRecord{})
	for i, v := range rec.Votes {
		if err := rounds.checkVote(rec, v, fmt.Sprintf("votes[%d]", i), true); err != nil {
			return err
		}
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if created, err := s.store.SwapItem(ctx, itemCongress, rec.ID, nil, data); err != nil {
		return err
	} else if !created {
		return errorf(tally.Conflict, "id", "congress %q already exists; PUT /api/v1/congresses/%s replaces it", rec.ID, rec.ID)
	}
	c.Location("/api/v1/congresses/" + rec.ID)
	return c.Status(fiber.StatusCreated).JSON(rec)
}

// putCongress replaces a congress record: the setup may be corrected (a
// member of the counting committee replaced, a vote recorded) while no
// certified minutes print what changes (checkFrozen). Votes without an id
// get one; the time and author of a vote already recorded are kept.
func (s *Server) putCongress(c *fiber.Ctx) error {
	body, err := requestBody(c)
	if err != nil {
		return err
	}
	rec, err := tally.ParseCongress(body)
	if err != nil {
		return err
	}
	id := c.Params("id")
	if rec.ID != id {
		return errorf(tally.Invalid, "id", "the body's id %q is not the congress %q of the URL", rec.ID, id)
	}
	ctx, cancel := storeCtx()
	defer cancel()
	rounds, err := s.congressRounds(ctx, id)
	if err != nil {
		return err
	}
	certified, err := s.certifiedRounds(ctx, rounds)
	if err != nil {
		return err
	}
	var saved *tally.CongressRecord
	_, err = s.updateCongress(ctx, id, func(old *tally.CongressRecord) error {
		next := *rec
		next.Votes = slices.Clone(rec.Votes)
		if rec.Appointments == nil {
			// Appointments have their own routes (api/appointments.go): a
			// record sent without the field (the congress page's form)
			// keeps them; "appointments": [] clears them.
			next.Appointments = old.Appointments
		}
		next.LastVote = max(next.LastVote, old.LastVote) // ids are never given twice
		s.stampVotes(c, &next, old)
		for _, i := range newVotes(old, &next) {
			if err := rounds.checkVote(&next, next.Votes[i], fmt.Sprintf("votes[%d]", i), true); err != nil {
				return err
			}
		}
		if err := checkFrozen(certified, old, &next); err != nil {
			return err
		}
		saved = &next
		*old = next
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(saved)
}

func (s *Server) getCongress(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	rec, err := s.congress(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(rec)
}

func (s *Server) listCongresses(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	recs, err := s.congresses(ctx)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"congresses": recs})
}

// notes reads a round's notes; a round without any has empty notes.
func (s *Server) notes(ctx context.Context, contest string) (tally.RoundNotes, error) {
	var n tally.RoundNotes
	data, err := s.store.Item(ctx, itemNotes, contest)
	if tally.ErrorKind(err) == tally.NotFound {
		return n, nil
	}
	if err != nil {
		return n, err
	}
	return n, json.Unmarshal(data, &n)
}

func (s *Server) getNotes(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	if _, err := s.store.Contest(ctx, c.Params("id")); err != nil {
		return err
	}
	n, err := s.notes(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(n)
}

// putNotes replaces a round's notes (present, the paper count collected,
// complaints) until the round is certified.
func (s *Server) putNotes(c *fiber.Ctx) error {
	body, err := requestBody(c)
	if err != nil {
		return err
	}
	n, err := tally.ParseRoundNotes(body)
	if err != nil {
		return err
	}
	ctx, cancel := storeCtx()
	defer cancel()
	id := c.Params("id")
	rec, err := s.store.Contest(ctx, id)
	if err != nil {
		return err
	}
	if rec.State == tally.StateCertified {
		return errorf(tally.Conflict, "state", "the round is certified: its minutes are final")
	}
	data, _ := json.Marshal(n)
	if err := s.store.PutItem(ctx, itemNotes, id, data); err != nil {
		return err
	}
	s.broker.Notify(id) // the paper count, to the screens (a `paper` event)
	return c.JSON(n)
}
