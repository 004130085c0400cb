package api

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// contestCache keeps contest definitions, which never change once a round
// is open, so that a ballot costs no store read for its contest. Records
// still in draft are never cached.
type contestCache struct {
	mu sync.RWMutex
	m  map[string]*cachedContest
}

// cachedContest is a definition with its candidate index, built once.
type cachedContest struct {
	*tally.Contest
	index map[string]int
	// imported: the round came from another instance (POST /imports); its
	// log is written by the import alone, never by desks.
	imported bool
}

func newContestCache() *contestCache { return &contestCache{m: map[string]*cachedContest{}} }

// contest returns a contest's definition and, when it had to read it, the
// current record (nil when the definition came from the cache).
func (s *Server) contest(ctx context.Context, id string) (*cachedContest, *tally.Record, error) {
	s.cache.mu.RLock()
	cc := s.cache.m[id]
	s.cache.mu.RUnlock()
	if cc != nil {
		return cc, nil, nil
	}
	rec, err := s.store.Contest(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	cc = &cachedContest{Contest: rec.Contest, index: rec.Contest.Index(), imported: rec.Imported != ""}
	if rec.State != tally.StateDraft {
		s.cache.mu.Lock()
		s.cache.m[id] = cc
		s.cache.mu.Unlock()
	}
	return cc, rec, nil
}

// contestView is a record as the API shows it: the record and, once the
// round is closed, whether a next round is needed.
type contestView struct {
	*tally.Record
	NextRound string `json:"next_round,omitempty"` // "revote" or "further" when the closed round calls for one not yet built
	// Warnings name figures and links to check; they never block
	// (api/warnings.go; the first meeting's: api/meeting.go). [] when none.
	Warnings []tally.Warning `json:"warnings"`
}

func (s *Server) view(ctx context.Context, rec *tally.Record) (contestView, error) {
	v := contestView{Record: rec}
	var res *tally.Result
	if rec.State != tally.StateDraft {
		snap, err := s.broker.Snapshot(ctx, rec.Contest.ID)
		if err != nil {
			return v, err
		}
		res = snap.Result
	}
	var err error
	if v.Warnings, err = s.roundWarnings(ctx, rec, res); err != nil {
		return v, err
	}
	w, err := s.meetingWarnings(ctx, rec)
	if err != nil {
		return v, err
	}
	v.Warnings = append(v.Warnings, w...)
	if v.Warnings == nil {
		v.Warnings = []tally.Warning{}
	}
	if rec.State != tally.StateClosed && rec.State != tally.StateCertified || rec.Next != "" {
		return v, nil // not decided yet, or the next round already exists
	}
	switch {
	case res.RevoteSeats > 0:
		v.NextRound = "revote"
	case res.Vacant > 0:
		v.NextRound = "further"
	}
	return v, nil
}

func (s *Server) createContest(c *fiber.Ctx) error {
	body, err := requestBody(c)
	if err != nil {
		return err
	}
	contest, err := tally.DraftContest(body)
	if err != nil {
		return err
	}
	if e := firstRound(contest); e != nil {
		return e
	}
	rec := &tally.Record{Contest: contest, State: tally.StateDraft, Created: s.stamp()}
	ctx, cancel := storeCtx()
	defer cancel()
	// ?congress= files the round under a congress (its minutes' header);
	// the body stays the contest definition of DESIGN §5.1.
	if id := c.Query("congress"); id != "" {
		if _, err := s.congress(ctx, id); err != nil {
			return err
		}
		rec.Congress = id
	}
	// Validated here, after the link (from) fills D's default.
	if _, err := s.checkFrom(ctx, rec); err != nil {
		return err
	}
	if err := s.store.CreateContest(ctx, rec); err != nil {
		return err
	}
	v, err := s.view(ctx, rec)
	if err != nil {
		return err
	}
	c.Location("/api/v1/contests/" + contest.ID)
	return c.Status(fiber.StatusCreated).JSON(v)
}

// firstRound refuses a contest created with a round number above 1: the
// surplus rule of 190-QĐ/TW Điều 14 is waived only for a round really
// linked to the one before it (audit B13), and only POST …/next makes
// such a link. The offline recount keeps taking later rounds' files.
func firstRound(c *tally.Contest) *tally.Error {
	if c.Round > 1 {
		return errorf(tally.Invalid, "round", "a new contest is round 1; a later round (%d) is made by POST /api/v1/contests/{id}/next on the closed round before it", c.Round)
	}
	return nil
}

func (s *Server) getContest(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	v, err := s.contestView(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// contestView reads a round's record and its view.
func (s *Server) contestView(ctx context.Context, id string) (contestView, error) {
	rec, err := s.store.Contest(ctx, id)
	if err != nil {
		return contestView{}, err
	}
	return s.view(ctx, rec)
}

func (s *Server) listContests(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	recs, err := s.store.Contests(ctx)
	if err != nil {
		return err
	}
	recs = visibleRounds(principalOf(c), recs) // a desk of one contest sees its own (scope.go)
	type item struct {
		ID       string      `json:"id"`
		Title    string      `json:"title"`
		Kind     string      `json:"kind"`
		Round    int         `json:"round"`
		State    tally.State `json:"state"`
		Congress string      `json:"congress,omitempty"`
		Imported string      `json:"imported,omitempty"` // from another instance (POST /imports)
	}
	congress := c.Query("congress")
	out := make([]item, 0, len(recs))
	for _, r := range recs {
		if congress != "" && r.Congress != congress {
			continue
		}
		out = append(out, item{ID: r.Contest.ID, Title: r.Contest.Title, Kind: string(r.Contest.Kind), Round: r.Contest.Round, State: r.State, Congress: r.Congress, Imported: r.Imported})
	}
	return c.JSON(fiber.Map{"contests": out})
}

// importedRound refuses a change to a round imported from another
// instance: it was counted and certified there.
func importedRound(rec *tally.Record) error {
	if rec.State != tally.StateCertified {
		return errorf(tally.Conflict, "state", "the round is being imported from another instance (or its import failed: see import_failed); it cannot be changed here")
	}
	return errorf(tally.Conflict, "state", "the round was imported, certified, from another instance; a certified round is frozen")
}

func (s *Server) stamp() string { return s.now().UTC().Format(time.RFC3339) }

// transition moves a round to its next state after check, in one atomic
// store update.
func (s *Server) transition(c *fiber.Ctx, to tally.State, check func(rec *tally.Record, version int64) error) error {
	ctx, cancel := storeCtx()
	defer cancel()
	rec, err := s.store.Update(ctx, c.Params("id"), func(rec *tally.Record, version int64) error {
		if rec.Imported != "" {
			return importedRound(rec)
		}
		if err := tally.CheckTransition(rec.State, to); err != nil {
			return err
		}
		if check != nil {
			if err := check(rec, version); err != nil {
				return err
			}
		}
		rec.State = to
		return nil
	})
	if err != nil {
		return err
	}
	return s.answerChanged(ctx, c, rec)
}

// openContest: draft → open. The definition is checked again: a contest
// that fails validation cannot open.
func (s *Server) openContest(c *fiber.Ctx) error {
	return s.transition(c, tally.StateOpen, func(rec *tally.Record, _ int64) error {
		if err := rec.Contest.Validate(); err != nil {
			return err
		}
		rec.Opened = s.stamp()
		return nil
	})
}

// errMoved says ballots arrived between the recount and the close.
var errMoved = errors.New("the log moved on during the recount")

// closeContest: open → closed, with {"issued": N}. The round is recounted
// from the whole log first: the chain must verify and the recount must
// equal the store's counters, or the round does not close; the ballots
// collected (non-voided ballots) may not outnumber those issued. The
// recount is made at one log version and the close applies only if the log
// is still at that version.
func (s *Server) closeContest(c *fiber.Ctx) error {
	var req struct {
		Issued *int `json:"issued"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Issued == nil {
		return errorf(tally.Invalid, "issued", "required: the number of ballots handed out (số phiếu phát ra)")
	}
	if *req.Issued < 0 {
		return errorf(tally.Invalid, "issued", "must not be negative; got %d", *req.Issued)
	}
	id := c.Params("id")
	{
		ctx, cancel := storeCtx()
		cc, _, err := s.contest(ctx, id)
		if err == nil && cc.Entry.Verified() && !cc.imported {
			err = s.checkVerifiedClose(ctx, cc)
		}
		if err == nil && !cc.imported {
			err = s.checkScansClose(ctx, cc.ID)
		}
		cancel()
		if err != nil {
			return err
		}
	}
	for attempt := 0; attempt < 5; attempt++ {
		ctx, cancel := storeCtx()
		head, version, collected, err := s.recount(ctx, id)
		cancel()
		if err != nil {
			return err
		}
		err = s.transition(c, tally.StateClosed, func(rec *tally.Record, v int64) error {
			if v != version {
				return errMoved
			}
			if err := tally.CheckIssued(*req.Issued, collected); err != nil {
				if e := (*tally.Error)(nil); errors.As(err, &e) && e.Kind == tally.Conflict {
					return refused(e, "refusal.close.collected", collected, *req.Issued)
				}
				return err
			}
			issued := *req.Issued
			rec.Issued, rec.Head, rec.Version, rec.Closed = &issued, head, version, s.stamp()
			return nil
		})
		if !errors.Is(err, errMoved) {
			return err
		}
	}
	return errorf(tally.Conflict, "", "ballots are still arriving: stop keying at the desks, then close")
}

// recount verifies a round's whole log and checks that replaying it gives
// the store's counters. It returns the head hash, the version and the
// ballots collected.
func (s *Server) recount(ctx context.Context, id string) (head string, version int64, collected int, err error) {
	contest, _, err := s.contest(ctx, id)
	if err != nil {
		return "", 0, 0, err
	}
	counters, version, err := s.store.Counters(ctx, id)
	if err != nil {
		return "", 0, 0, err
	}
	var entries []tally.Entry
	if version > 0 {
		if entries, err = s.store.Entries(ctx, id, 0, int(version)); err != nil {
			return "", 0, 0, err
		}
	}
	if int64(len(entries)) != version {
		return "", 0, 0, fmt.Errorf("recount of %s: %d entries at version %d", id, len(entries), version)
	}
	head, err = tally.VerifyChain(entries)
	if err != nil {
		return "", 0, 0, fmt.Errorf("recount of %s: the log does not verify: %w", id, err)
	}
	count, err := tally.Replay(contest.Contest, entries)
	if err != nil {
		return "", 0, 0, fmt.Errorf("recount of %s: %w", id, err)
	}
	if replayed := count.Counters(); !maps.Equal(replayed, counters) {
		s.log.Error("recount differs from the counters", "contest", id, "replayed", replayed, "counters", counters)
		return "", 0, 0, errorf(tally.Conflict, "", "the recount from the log does not equal the running counters; the round stays open — report this to the administrator")
	}
	return head, version, int(counters[tally.CounterTotal]), nil
}

// certifyContest: closed → certified. The round is frozen; the head hash
// recorded at close is what the minutes print, and the instance's key
// signs it (tally.CertificationMessage) for the export.
//
// The optional body {"scan_images": "delete" | "seal"} is the committee's
// choice for the round's scanned images (default delete; api/scans.go):
// applied once the round is certified.
func (s *Server) certifyContest(c *fiber.Ctx) error {
	var req struct {
		ScanImages string `json:"scan_images"`
	}
	if body, err := requestBody(c); err != nil {
		return err
	} else if len(body) > 0 {
		if err := decodeBody(c, &req); err != nil {
			return err
		}
	}
	switch req.ScanImages {
	case "":
		req.ScanImages = "delete"
	case "delete", "seal":
	default:
		return errorf(tally.Invalid, "scan_images", `must be "delete" or "seal"; got %.40q`, req.ScanImages)
	}
	ctx, cancel := storeCtx()
	key, err := s.signingKey(ctx)
	cancel()
	if err != nil {
		return err
	}
	err = s.transition(c, tally.StateCertified, func(rec *tally.Record, v int64) error {
		if v != rec.Version {
			return fmt.Errorf("certify %s: the log is at %d, closed at %d", rec.Contest.ID, v, rec.Version)
		}
		rec.Certified = s.stamp()
		tally.Sign(rec, key)
		return nil
	})
	if err != nil {
		return err
	}
	// After the transition: a refused certification deletes nothing. A
	// failure here leaves images a certified round no longer serves
	// (getScanImage), and is logged for the administrator.
	ctx, cancel = storeCtx()
	defer cancel()
	if err := s.sealOrDelete(ctx, c.Params("id"), req.ScanImages, principalName(c)); err != nil {
		s.log.Error("the scanned images of a certified round were not deleted or sealed", "contest", c.Params("id"), "choice", req.ScanImages, "error", err)
	}
	return nil
}

// nextRound creates the round that follows a closed one with a tie at the
// last seat (a re-vote among the tied) or vacant seats (a further round
// among those not elected): POST /contests/{id}/next, optionally with
// {"add": [candidates], "withdraw": [ids], "reason": "…", "vote": "v3"} —
// names the congress decided to add to a further round (domain-rules
// §5.7) or to let withdraw, and the show-of-hands vote that decided it.
// The engine applies them before it chooses the ballot
// (tally.NextRoundWith); each is kept in the new round's Changes.
func (s *Server) nextRound(c *fiber.Ctx) error {
	var req struct {
		Add      []tally.Candidate `json:"add"`
		Withdraw []string          `json:"withdraw"`
		Reason   string            `json:"reason"`
		Vote     string            `json:"vote"`
	}
	if body, err := requestBody(c); err != nil {
		return err
	} else if len(body) > 0 {
		if err := decodeBody(c, &req); err != nil {
			return err
		}
	}
	reason, err := cleanReason(req.Reason)
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
	if rec.State != tally.StateClosed && rec.State != tally.StateCertified {
		return errorf(tally.Conflict, "state", "the round is %s: close it before building the next round", rec.State)
	}
	if rec.Next != "" {
		return errorf(tally.Conflict, "", "the next round already exists: %s", rec.Next)
	}
	if err := s.checkVote(ctx, rec, req.Vote); err != nil {
		return err
	}
	snap, err := s.broker.Snapshot(ctx, id)
	if err != nil {
		return err
	}
	edit := tally.ListEdit{Add: req.Add, Withdraw: req.Withdraw}
	next, err := tally.NextRoundWith(rec.Contest, snap.Result, edit)
	if err != nil {
		return err
	}
	nrec := &tally.Record{Contest: next, State: tally.StateDraft, Congress: rec.Congress, Previous: id, Created: s.stamp(),
		Changes: nextChanges(rec.Contest, next, edit, reason, req.Vote, principalName(c), s.stamp())}
	if err := s.store.CreateContest(ctx, nrec); err != nil {
		return err
	}
	if _, err := s.store.Update(ctx, id, func(r *tally.Record, _ int64) error {
		if r.Next != "" {
			return errorf(tally.Conflict, "", "the next round already exists: %s", r.Next)
		}
		r.Next = next.ID
		return nil
	}); err != nil {
		return err
	}
	v, err := s.view(ctx, nrec)
	if err != nil {
		return err
	}
	c.Location("/api/v1/contests/" + next.ID)
	return c.Status(fiber.StatusCreated).JSON(v)
}
