package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// importTimeout bounds the re-appending of an imported log: one store
// write per entry, far more than a request's storeTimeout for a large
// round.
const importTimeout = 5 * time.Minute

// importRound imports a round counted and certified by another instance —
// a ward that ran its own service offline — from its export (the body of
// GET /contests/{id}/export.jsonl): POST /imports[?congress=ID].
//
// Nothing is stored unless the export verifies exactly as `kiemphieu
// verify` checks it, and the round is certified. The log is then rebuilt
// through the store, entry by entry with the original desk and time, so
// that the store's own hash chain must reproduce every hash of the export:
// the imported round is then indistinguishable from one counted here (its
// result, minutes, /verify/{hash} and export). Until the last step the
// record is open, marked Imported, and never shown as a result; if the
// rebuilt log differs, the record says so (ImportFailed) and stays so.
func (s *Server) importRound(c *fiber.Ctx) error {
	// The body is bounded by the route's limit (maxBody): no line can be
	// longer than the body.
	body, err := requestBody(c)
	if err != nil {
		return err
	}
	x, err := tally.ReadExport(bytes.NewReader(body), maxBody+1)
	if err != nil {
		var xe *tally.ExportError
		if errors.As(err, &xe) {
			return errorf(tally.Invalid, xe.Field, "line %d: %s", xe.Line, xe.Message)
		}
		return errorf(tally.Invalid, "", "not a kiemphieu export: %v", err)
	}
	head, _, err := x.Verify()
	if err != nil {
		p := tally.Problems(err)[0]
		return errorf(tally.Invalid, p.Field, "the export does not verify (line %d): %v", x.Line(p.Field), err)
	}
	orig := x.Record
	if orig.State != tally.StateCertified {
		return errorf(tally.Invalid, "record.state", "the round is %s: only a certified round's results can be imported; certify it where it was counted, then export it again", orig.State)
	}
	if orig.Issued == nil || orig.Closed == "" || orig.Certified == "" {
		return errorf(tally.Invalid, "record", "a certified round records the ballots issued and the times it closed and was certified; this record lacks them")
	}

	ctx, cancel := context.WithTimeout(context.Background(), importTimeout)
	defer cancel()
	congress := c.Query("congress")
	if congress != "" {
		if _, err := s.congress(ctx, congress); err != nil {
			return err
		}
	}
	id := orig.Contest.ID
	now := s.stamp()
	// The record starts as a draft marked Imported: the store takes
	// entries only while a round is open, and the mark keeps desks,
	// transitions and anonymous viewers away until the import is done.
	// Congress is local filing (the minutes' header and committee of this
	// instance); the links to other rounds are the election's own.
	pending := &tally.Record{Contest: orig.Contest, State: tally.StateDraft, Congress: congress,
		Previous: orig.Previous, Next: orig.Next, Created: orig.Created, Imported: now}
	if err := s.store.CreateContest(ctx, pending); err != nil {
		if tally.ErrorKind(err) == tally.Conflict {
			return errorf(tally.Conflict, "record.contest.id", "a round %q already exists here; it cannot be imported again", id)
		}
		return err
	}
	if _, err := s.store.Update(ctx, id, func(rec *tally.Record, _ int64) error {
		rec.State, rec.Opened = tally.StateOpen, orig.Opened
		return nil
	}); err != nil {
		return s.importFailed(id, err)
	}

	index := orig.Contest.Index()
	for i, e := range x.Entries {
		a := tally.Append{Desk: e.Desk, Time: e.Time}
		switch {
		case e.Ballot != nil:
			// As a desk's ballot is checked (a voided one too: the replay
			// of VerifyExport leaves those out).
			err := e.Ballot.Validate()
			var m tally.Marking
			if err == nil {
				m, err = orig.Contest.Mark(*e.Ballot, index)
			}
			if err != nil {
				return s.importRefused(id, fmt.Sprintf("log[%d].ballot", i), "entry %d: %v", e.Seq, err)
			}
			a.Ballot = e.Ballot
			a.Reason, a.Keys = orig.Contest.Effect(m)
		case e.Void != nil:
			a.Void = &tally.Void{Ballot: e.Void.Ballot, Reason: e.Void.Reason}
		default:
			return s.importRefused(id, fmt.Sprintf("log[%d]", i), "entry %d is neither a ballot nor a void", e.Seq)
		}
		rcpt, created, err := s.store.Append(ctx, id, a)
		switch {
		case err != nil && tally.ErrorKind(err) != tally.Invalid && tally.ErrorKind(err) != tally.Conflict && tally.ErrorKind(err) != tally.NotFound:
			return s.importFailed(id, err) // the store, not the export
		case err != nil:
			return s.importRefused(id, fmt.Sprintf("log[%d]", i), "entry %d is refused by the log here: %v", e.Seq, err)
		case !created:
			// A store never writes one ballot id twice: this log was not
			// written by one.
			return s.importRefused(id, fmt.Sprintf("log[%d]", i), "entry %d repeats an earlier entry (the same ballot id or void)", e.Seq)
		case rcpt.Seq != e.Seq || rcpt.Hash != e.Hash:
			return s.importRefused(id, fmt.Sprintf("log[%d].hash", i), "entry %d rebuilt here is seq %d with hash %s, not seq %d with hash %s", e.Seq, rcpt.Seq, rcpt.Hash, e.Seq, e.Hash)
		}
	}

	// The whole log again, as it is stored: its head must be the head
	// recorded when the round closed, and its counters its recount.
	got, version, _, err := s.recount(ctx, id)
	if err != nil {
		return s.importFailed(id, err)
	}
	if got != head || version != orig.Version {
		return s.importRefused(id, "record.head", "the log rebuilt here ends at entry %d with %s, not at entry %d with %s as recorded at close", version, got, orig.Version, head)
	}
	rec, err := s.store.Update(ctx, id, func(rec *tally.Record, v int64) error {
		if v != orig.Version {
			return fmt.Errorf("import of %s: the log moved to %d during the import", id, v)
		}
		issued := *orig.Issued
		rec.State, rec.Issued, rec.Head, rec.Version = tally.StateCertified, &issued, orig.Head, orig.Version
		rec.Closed, rec.Certified, rec.Imported = orig.Closed, orig.Certified, s.stamp()
		return nil
	})
	if err != nil {
		return s.importFailed(id, err)
	}
	s.broker.Notify(id)
	s.log.Info("round imported", "contest", id, "entries", version, "head", head, "congress", congress)
	v, err := s.view(ctx, rec)
	if err != nil {
		return err
	}
	c.Location("/api/v1/contests/" + id)
	return c.Status(fiber.StatusCreated).JSON(v)
}

// importRefused records on the half-imported round why its log could not
// be rebuilt, and refuses the import (400, naming the place in the
// export). The round stays marked: it is never certified nor counted into.
func (s *Server) importRefused(id, field, format string, args ...any) error {
	refusal := errorf(tally.Invalid, field, "the import stopped: "+format, args...)
	s.markImportFailed(id, refusal.Error())
	return refusal
}

// importFailed is importRefused for a failure of this instance (the store)
// rather than of the export: the error is answered as it is.
func (s *Server) importFailed(id string, err error) error {
	s.markImportFailed(id, err.Error())
	return err
}

func (s *Server) markImportFailed(id, why string) {
	ctx, cancel := storeCtx()
	defer cancel()
	s.log.Error("import failed", "contest", id, "why", why)
	if _, err := s.store.Update(ctx, id, func(rec *tally.Record, _ int64) error {
		rec.ImportFailed = why
		return nil
	}); err != nil {
		s.log.Error("import failed and could not be marked", "contest", id, "err", err)
	}
}
