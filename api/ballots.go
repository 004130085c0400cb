package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// postBallot appends a ballot to an open round's log (DESIGN §5.5): 201
// with the receipt; the same ballot again → 200 with the original receipt;
// the same id with other content → 409. Nothing is appended on any error.
func (s *Server) postBallot(c *fiber.Ctx) error {
	body, err := requestBody(c) // at most maxRequestBody
	if err != nil {
		return err
	}
	b, err := tally.ParseBallot(body)
	if err != nil {
		return err
	}
	ctx, cancel := storeCtx()
	defer cancel()
	cc, rec, err := s.contest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if err := cc.directEntry(); err != nil {
		return err
	}
	if rec != nil && rec.State != tally.StateOpen {
		return notOpen(rec.State)
	}
	m, err := cc.Mark(b, cc.index)
	if err != nil {
		return err
	}
	reason, keys := cc.Effect(m)
	return s.append(ctx, c, cc.ID, tally.Append{Ballot: &b, Reason: reason, Keys: keys})
}

// append adds an entry to a round's log for the desk making the request
// and answers with the receipt: 201 when it was appended, 200 when it is a
// retry of an entry already there.
func (s *Server) append(ctx context.Context, c *fiber.Ctx, contest string, a tally.Append) error {
	return s.appendChecked(ctx, c, contest, a, nil)
}

// appendChecked is append with a check of a retry: when the store answers
// with the receipt of an entry already in the log, retried (if not nil)
// may refuse it.
func (s *Server) appendChecked(ctx context.Context, c *fiber.Ctx, contest string, a tally.Append, retried func(tally.Receipt) error) error {
	p := principalOf(c)
	a.Desk, a.DeskID, a.Time = p.Name, p.ID, s.stamp()
	s.appending.Add(1)
	receipt, created, err := s.store.Append(ctx, contest, a)
	s.appending.Add(-1)
	if err != nil {
		if e := (*tally.Error)(nil); errors.As(err, &e) && e.Kind == tally.Conflict && e.Field == "state" {
			// The store's own guard (the round closed under the desk):
			// the desk is told in the words of its round's state.
			if rec, rerr := s.store.Contest(ctx, contest); rerr == nil {
				return refused(e, notOpenKey(rec.State))
			}
		}
		return err
	}
	if !created && retried != nil {
		if err := retried(receipt); err != nil {
			return err
		}
	}
	if created {
		s.broker.Notify(contest)
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(receipt)
}

// notImported refuses desks' entries for a round imported from another
// instance: its log is the one counted there, rebuilt by the import alone.
func notImported() error {
	return errorf(tally.Conflict, "state", "the round was imported from another instance: ballots are not taken here")
}

func notOpen(state tally.State) error {
	return refused(errorf(tally.Conflict, "state", "the contest is %s: ballots are accepted only while it is open", state), notOpenKey(state))
}

// notOpenKey is how a desk is told its round takes no ballots.
func notOpenKey(state tally.State) string {
	if state == tally.StateDraft || state == tally.StateClosed || state == tally.StateCertified {
		return "refusal.not_open." + string(state)
	}
	return "refusal.conflict.state"
}

// voidBallot withdraws a ballot from the count with a reason, as a new log
// entry: POST /contests/{id}/ballots/{ballot}/void {"reason": "…"}. A
// counter voids only what its own desk keyed; the committee head (admin)
// may void any ballot. Either way the void is on the minutes.
func (s *Server) voidBallot(c *fiber.Ctx) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	reason, err := reasonText(req.Reason, "say why the ballot is withdrawn")
	if err != nil {
		return err
	}
	req.Reason = reason
	ctx, cancel := storeCtx()
	defer cancel()
	cc, _, err := s.contest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if err := cc.directEntry(); err != nil {
		return err
	}
	id := c.Params("ballot")
	if p := principalOf(c); p.Role != roleAdmin {
		// The entry never changes once written: checked here, the desk
		// that keyed it is still the one when the void is appended.
		e, err := s.store.BallotEntry(ctx, cc.ID, id)
		if err != nil {
			return err
		}
		if err := mayVoid(p, e); err != nil {
			return err
		}
	}
	// The store keeps the first void of a ballot and answers a second
	// with its receipt: the same reason is a retry (200), another reason
	// is a different decision, which must not pass for recorded (audit
	// B14): 409 naming the reason on the log.
	return s.appendChecked(ctx, c, cc.ID, tally.Append{Void: &tally.Void{Ballot: id, Reason: req.Reason}}, func(r tally.Receipt) error {
		entries, err := s.store.Entries(ctx, cc.ID, r.Seq-1, 1)
		if err != nil {
			return err
		}
		if len(entries) != 1 || entries[0].Void == nil {
			return fmt.Errorf("void of %s: entry %d of %s is not a void", id, r.Seq, cc.ID)
		}
		if first := entries[0].Void.Reason; first != req.Reason {
			return errorf(tally.Conflict, "reason", "ballot %s was already voided (entry %d) with another reason: %q; a void is not changed", id, r.Seq, first)
		}
		return nil
	})
}

// mayVoid lets a counter void a ballot only its own desk keyed. Desks are
// told apart by credential, not by name: two desks may both be "Bàn 1".
func mayVoid(p *principal, e tally.Entry) error {
	switch {
	case e.DeskID == p.ID:
		return nil
	case e.DeskID == "":
		return errorf(tally.Forbidden, "ballot", "ballot %s (entry %d) was keyed before the log recorded each desk's credential: only the committee head (admin) may void it", e.Ballot.ID, e.Seq)
	}
	return errorf(tally.Forbidden, "ballot", "ballot %s (entry %d) was keyed by another desk (%s): a desk voids only the ballots it keyed; ask the committee head (admin) to void it", e.Ballot.ID, e.Seq, e.Desk)
}

// requireResultAccess lets anyone see the result and stream of a contest
// whose visibility is live, or once it is certified; otherwise a viewer's
// credentials are needed (DESIGN §4).
func (s *Server) requireResultAccess(c *fiber.Ctx) error {
	if ok, err := s.resultPublic(c); ok || err != nil {
		return err
	}
	return errorf(tally.Unauthorized, "", "results of this contest are public only once certified; sign in to see them")
}

// requireResultPage is requireResultAccess for pages: people are sent to
// sign in rather than shown a 401.
func (s *Server) requireResultPage(c *fiber.Ctx) error {
	if ok, err := s.resultPublic(c); ok || err != nil {
		return err
	}
	return c.Redirect("/login?next="+c.OriginalURL(), fiber.StatusSeeOther)
}

// resultPublic calls the next handler and reports true when the request
// may see the round's result: a signed-in principal, a live contest, a
// certified round. To anyone else a round that does not exist is one they
// may not see (401, or sign in): a 404 would tell which of the ids they
// guess are rounds still being counted (security review, Info).
func (s *Server) resultPublic(c *fiber.Ctx) (bool, error) {
	if p := principalOf(c); p != nil {
		return true, c.Next()
	}
	ctx, cancel := storeCtx()
	defer cancel()
	rec, err := s.store.Contest(ctx, c.Params("id"))
	if tally.ErrorKind(err) == tally.NotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	c.Locals(localRecord{}, rec) // for certifiedCache: one read of the record a request
	// A live round being imported is not live: its result is final only
	// once the import certifies it.
	if rec.Contest.Visibility == tally.VisibilityLive && rec.Imported == "" || rec.State == tally.StateCertified {
		cancel()
		return true, c.Next()
	}
	return false, nil
}

// getResult serves the precomputed result of the newest version (§5.3).
func (s *Server) getResult(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	snap, err := s.broker.Snapshot(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set("ETag", snap.etag)
	return c.Send(snap.JSON)
}

// getLog serves the round's log as JSONL: one entry per line, each with its
// hash, which `kiemphieu verify` checks.
func (s *Server) getLog(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	id := c.Params("id")
	if _, _, err := s.contest(ctx, id); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/jsonl; charset=utf-8")
	w := bufio.NewWriter(c)
	const page = 5000
	var after int64
	for {
		entries, err := s.store.Entries(ctx, id, after, page)
		if err != nil {
			return err
		}
		for _, e := range entries {
			line, _ := e.MarshalJSON() // the canonical bytes, unescaped
			w.Write(line)
			w.WriteByte('\n')
		}
		if len(entries) < page {
			break
		}
		after = entries[len(entries)-1].Seq
	}
	return w.Flush()
}

// directEntry says whether a desk's ballot or void may go straight to the
// round's log. Not on a round imported from another instance (its log was
// rebuilt from the export), nor on a verified round: its ballots come in
// by agreement or the committee's decision, and withdrawing an accepted
// position would leave a declared paper uncounted with its id taken.
func (cc *cachedContest) directEntry() error {
	switch {
	case cc.imported:
		return notImported()
	case cc.Entry.Verified():
		return notVerified(cc.Entry)
	}
	return nil
}

// reasonText cleans the reason of a void or a committee decision (it goes
// on the minutes, so it is required) and checks its length; why says what
// it must say.
func reasonText(raw, why string) (string, error) {
	r := tally.CleanText(raw)
	switch n := utf8.RuneCountInString(r); {
	case n == 0:
		return "", errorf(tally.Invalid, "reason", "required: %s (it goes on the minutes)", why)
	case n > 500:
		return "", errorf(tally.Invalid, "reason", "too long (at most 500 characters)")
	}
	return r, nil
}
