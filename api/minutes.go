package api

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// minutesRoutes mounts the counting minutes (biên bản kiểm phiếu) and the
// page that checks a printed minutes' hash (DESIGN §5.7). The minutes have
// the result's visibility: the print view is a page (a visitor who may not
// see it yet is sent to sign in), the PDF a download like export.csv (401).
func (s *Server) minutesRoutes() {
	s.pageGet("/contests/:id/minutes", s.requireResultPage, s.certifiedCache(true), s.renderLimit, s.minutesPage)
	s.pageGet("/contests/:id/minutes.pdf", s.requireResultAccess, s.certifiedCache(true), s.renderLimit, s.minutesPDF)
	s.pageGet("/verify", s.verifyForm)
	s.pageGet("/verify/:hash", s.verifyLimit, s.verifyPage)
}

// minutes gathers what a round's minutes are drawn from: the record, its
// congress and notes, the earlier rounds of the same election, the result,
// and the address of the verify page for the QR code.
func (s *Server) minutes(c *fiber.Ctx) (*web.Minutes, error) {
	ctx, cancel := storeCtx()
	defer cancel()
	id := c.Params("id")
	rec, err := s.store.Contest(ctx, id)
	if err != nil {
		return nil, err
	}
	// A reader who did not sign in gets the public copy: no ballot note's
	// text, no keying (docs/architecture.md, "Who reads the per-ballot
	// log").
	in := web.MinutesInput{Record: rec, Public: principalOf(c) == nil}
	if rec.Congress != "" {
		cg, err := s.congress(ctx, rec.Congress)
		switch {
		case err == nil:
			in.Congress = cg
		case tally.ErrorKind(err) != tally.NotFound:
			return nil, err
		}
		// A congress record removed after the round was filed: the minutes
		// go without its header rather than fail.
	}
	if in.Notes, err = s.notes(ctx, id); err != nil {
		return nil, err
	}
	earlier, err := s.earlierRounds(ctx, rec)
	if err != nil {
		return nil, err
	}
	for _, r := range earlier {
		in.Rounds = append(in.Rounds, r.Contest.ID)
		if len(r.Changes) > 0 {
			// Walked back from this round: the first round goes first.
			in.EarlierChanges = append([]web.MinutesRoundChanges{{Round: r.Contest.Round, Changes: r.Changes}}, in.EarlierChanges...)
		}
	}
	// The snapshot is the count of the log's current version: once the
	// round is closed the log no longer grows, and closing checked that the
	// counters equal the recount of the whole log.
	snap, err := s.broker.Snapshot(ctx, id)
	if err != nil {
		return nil, err
	}
	in.Result = snap.Result
	if rec.Head != "" {
		// The path alone when no address others can reach is known: the
		// minutes then say where to open it (web.minutesVerification).
		in.VerifyURL = s.printedBase(c) + "/verify/" + rec.Head
	}
	if rec.Contest.Entry.Verified() && rec.Imported == "" {
		if in.Journal, err = s.entryJournal(ctx, rec); err != nil {
			return nil, err
		}
		// As GET …/journal: while the papers are being keyed only the
		// committee sees what each desk keyed.
		p := principalOf(c)
		in.Journal.Sealed = (p == nil || p.Role != roleAdmin) && rec.State != tally.StateClosed && rec.State != tally.StateCertified
	}
	if in.Voids, in.BallotNotes, err = s.logCorrections(ctx, id); err != nil {
		return nil, err
	}
	return web.BuildMinutes(in), nil
}

// logCorrections is what the minutes list from a round's log beyond the
// count, read so far, per round: the log's length and the hash of its
// last entry (which stands for the whole log before it), and the voids and
// the noted ballots up to there. Each reading of the minutes then reads
// only the entries appended since, not the whole log, whoever asks.
type logCorrections struct {
	mu sync.Mutex
	m  map[string]*roundCorrections
}

type roundCorrections struct {
	seq   int64
	head  string
	voids []web.MinutesVoid
	notes []tally.Entry
}

// logCorrections returns every void of a round's log, with the desk that
// keyed the ballot it withdrew, and every ballot that carries a note.
func (s *Server) logCorrections(ctx context.Context, id string) ([]web.MinutesVoid, []tally.Entry, error) {
	lc := &s.corrections
	lc.mu.Lock()
	rc := roundCorrections{}
	if known := lc.m[id]; known != nil {
		rc = *known
	}
	lc.mu.Unlock()
	// Appends below must not write into the arrays the cached copy shares.
	rc.voids, rc.notes = slices.Clip(rc.voids), slices.Clip(rc.notes)
	const page = 5000
	for {
		// From the last entry already read, again: the log must still be
		// the one read before.
		entries, err := s.store.Entries(ctx, id, max(rc.seq-1, 0), page)
		if err != nil {
			return nil, nil, err
		}
		read := len(entries)
		if rc.seq > 0 {
			if len(entries) == 0 || entries[0].Seq != rc.seq || entries[0].Hash != rc.head {
				// Another log under the id (an import refused, then done
				// again): read it from the start.
				rc = roundCorrections{}
				continue
			}
			entries = entries[1:]
		}
		for _, e := range entries {
			switch {
			case e.Void != nil:
				v := web.MinutesVoid{Entry: e}
				keyed, err := s.store.Entries(ctx, id, e.Void.Seq-1, 1)
				if err != nil {
					return nil, nil, err
				}
				if len(keyed) == 1 {
					v.KeyedBy = keyed[0].Desk
				}
				rc.voids = append(rc.voids, v)
			case e.Ballot != nil && e.Ballot.Note != "":
				rc.notes = append(rc.notes, e)
			}
			rc.seq, rc.head = e.Seq, e.Hash
		}
		if read < page {
			break
		}
	}
	lc.mu.Lock()
	if lc.m == nil {
		lc.m = map[string]*roundCorrections{}
	}
	lc.m[id] = &rc // a reader that read less may overwrite one that read more: the next reads the rest
	lc.mu.Unlock()
	return rc.voids, rc.notes, nil
}

// earlierRounds follows the Previous links of a round back to the first
// round of its election, nearest first: the show-of-hands votes on the
// number to elect and the list were recorded under the first round's id,
// and each round keeps its list's changes.
func (s *Server) earlierRounds(ctx context.Context, rec *tally.Record) ([]*tally.Record, error) {
	var out []*tally.Record
	seen := map[string]bool{rec.Contest.ID: true}
	for prev := rec.Previous; prev != "" && !seen[prev]; {
		seen[prev] = true
		r, err := s.store.Contest(ctx, prev)
		if tally.ErrorKind(err) == tally.NotFound {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
		prev = r.Previous
	}
	return out, nil
}

// minutesPage: /contests/:id/minutes, the A4 print view. It is always in
// Vietnamese, like the ballot paper: it is the legal record.
func (s *Server) minutesPage(c *fiber.Ctx) error {
	m, err := s.minutes(c)
	if err != nil {
		return err
	}
	c.Type("html", "utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.RenderMinutesHTML(c, m)
}

// minutesPDF: /contests/:id/minutes.pdf, the same minutes as an A4 PDF to
// file or send to the superior committee.
func (s *Server) minutesPDF(c *fiber.Ctx) error {
	m, err := s.minutes(c)
	if err != nil {
		return err
	}
	pdf, err := web.MinutesPDF(m)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="bien-ban-%s.pdf"`, m.ContestID))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(pdf)
}

// entryJournal reads a verified round's journal for its minutes.
func (s *Server) entryJournal(ctx context.Context, rec *tally.Record) (*web.EntryJournal, error) {
	cc, _, err := s.contest(ctx, rec.Contest.ID)
	if err != nil {
		return nil, err
	}
	stacks, err := s.stacks(ctx, cc.ID)
	if err != nil {
		return nil, err
	}
	keyings, decisions, _, err := s.journal(ctx, cc)
	if err != nil {
		return nil, err
	}
	j := &web.EntryJournal{Keyings: keyings, Decisions: decisions}
	for _, st := range stacks {
		j.Stacks = append(j.Stacks, web.JournalStack{Stack: st.Stack, Ballots: st.Ballots})
	}
	slices.SortFunc(j.Stacks, func(a, b web.JournalStack) int { return a.Stack - b.Stack })
	return j, nil
}
