package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Verified entry (nhập kép / nhập ba): the paper ballots of a round whose
// contest says "entry": "double" or "triple" are counted in numbered
// stacks (tệp). Each desk keys stack S, position k; a keying is recorded
// in the entry journal, and the position's ballot is appended to the log
// — under the deterministic id t<S>-<k> — only once the required number of
// distinct desks keyed the same ballot. Desks that differ stop the
// position until the counting committee decides, with a reason.
//
// The log stays the truth and holds only accepted ballots, so recount,
// verify, export and import are unchanged. The journal is kept as items of
// the store, one per paper:
//
//	stacks:<contest>     key S    → stackRecord
//	positions:<contest>  key S/k  → positionRecord: every keying of the
//	                                 paper and the committee's decision
//
// A paper's state moves only by SwapItem from the bytes read (movePosition):
// of two desks keying one paper at the same moment, on one instance or on
// several sharing a Redis, one swaps and the other reads the new state and
// decides again, so every answer is the state its own write produced. A
// record only grows: a keying or a decision is never removed or rewritten.
// Agreement reads one item; the progress, the disputes, the close check and
// the minutes read the round's kind.
//
// Rounds keyed before (issue 11) kept one item per keying instead
// (legacy layout, read and never written again):
//
//	keyings:<contest>:<S>:<k>  key <hash>       → journalItem{Keying}
//	                           key "decision"   → journalItem{Decision}
//	journal:<contest>          key <S>/<k>/<…>  → the same items
//
// The first write to such a paper folds its items into its record (the
// record, once there, is the whole paper); the round's reading takes the
// legacy journal's items of any paper that has no record yet. A round open
// during the upgrade goes on as if keyed in one layout. Instances of both
// versions must not serve one store at once: the old one would still write
// the legacy items.

func stacksKind(contest string) string    { return "stacks:" + contest }
func positionsKind(contest string) string { return "positions:" + contest }
func positionKey(stack, position int) string {
	return strconv.Itoa(stack) + "/" + strconv.Itoa(position)
}
func legacyJournalKind(contest string) string { return "journal:" + contest }
func legacyPositionKind(contest string, stack, position int) string {
	return fmt.Sprintf("keyings:%s:%d:%d", contest, stack, position)
}

// Bounds of one paper's record, which every swap rewrites whole.
const (
	// maxDeskKeyings is how often one desk may key one paper: a slip
	// corrected a few times, not a record grown without end.
	maxDeskKeyings = 10
	// maxSwapTries bounds the lost races of one request: each loss is
	// another request's keying or decision recorded, and a paper has a few
	// desks and the committee.
	maxSwapTries = 64
)

// stackRecord is a stack the committee declared: its number and how many
// papers it holds.
type stackRecord struct {
	Stack   int    `json:"stack"`
	Ballots int    `json:"ballots"`
	By      string `json:"by"`
	Time    string `json:"time"`
}

// journalItem is one item of the legacy layout: a keying or a decision.
type journalItem struct {
	Keying   *tally.Keying            `json:"keying,omitempty"`
	Decision *tally.CommitteeDecision `json:"decision,omitempty"`
}

// verifiedContest returns an open-or-not verified contest, refusing a
// single-entry or imported one.
func (s *Server) verifiedContest(ctx context.Context, id string) (*cachedContest, *tally.Record, error) {
	cc, rec, err := s.contest(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if cc.imported {
		return nil, nil, notImported()
	}
	if !cc.Entry.Verified() {
		return nil, nil, errorf(tally.Conflict, "entry", "the contest uses single entry: ballots are posted to …/ballots, not keyed by stack and position")
	}
	if rec == nil {
		if rec, err = s.store.Contest(ctx, id); err != nil {
			return nil, nil, err
		}
	}
	return cc, rec, nil
}

// notVerified refuses a direct ballot or void on a verified contest: its
// ballots reach the log only through agreement or a committee decision.
func notVerified(mode tally.EntryMode) error {
	return errorf(tally.Conflict, "entry", "the contest uses %s entry: key each ballot by stack and position (POST …/keyings); "+
		"a ballot is counted when %d desks agree, or by the committee's decision", mode, mode.Desks())
}

// stacks reads the declared stacks, by number.
func (s *Server) stacks(ctx context.Context, contest string) (map[int]stackRecord, error) {
	items, err := s.store.ListItems(ctx, stacksKind(contest))
	if err != nil {
		return nil, err
	}
	out := make(map[int]stackRecord, len(items))
	for _, v := range items {
		var r stackRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return nil, err
		}
		out[r.Stack] = r
	}
	return out, nil
}

func (s *Server) stackSize(ctx context.Context, contest string, stack int) (int, error) {
	data, err := s.store.Item(ctx, stacksKind(contest), strconv.Itoa(stack))
	if tally.ErrorKind(err) == tally.NotFound {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var r stackRecord
	return r.Ballots, json.Unmarshal(data, &r)
}

// positionRecord is one paper's whole state in verified entry: every
// keying of it in the order recorded, and the committee's decision. It is
// one item of the store, moved only by SwapItem.
type positionRecord struct {
	Keyings  []tally.Keying           `json:"keyings"`
	Decision *tally.CommitteeDecision `json:"decision,omitempty"`
}

// state derives where the paper stands (tally.DecidePosition): nothing but
// the keyings and the decision is stored, so every instance derives the same.
func (r *positionRecord) state(cc *cachedContest, stack, pos int) tally.PositionState {
	return tally.DecidePosition(stack, pos, cc.Entry.Desks(), r.Keyings, r.Decision)
}

// readPosition reads a paper's record and the bytes it was read from (nil:
// none stored yet, and then the legacy items folded in).
func (s *Server) readPosition(ctx context.Context, cc *cachedContest, stack, pos int) ([]byte, positionRecord, error) {
	var rec positionRecord
	data, err := s.store.Item(ctx, positionsKind(cc.ID), positionKey(stack, pos))
	switch {
	case tally.ErrorKind(err) == tally.NotFound:
		rec, err = s.legacyPosition(ctx, cc.ID, stack, pos)
		return nil, rec, err
	case err != nil:
		return nil, rec, err
	}
	return data, rec, json.Unmarshal(data, &rec)
}

// legacyPosition reads a paper of the legacy layout into a record.
func (s *Server) legacyPosition(ctx context.Context, contest string, stack, pos int) (positionRecord, error) {
	var rec positionRecord
	items, err := s.store.ListItems(ctx, legacyPositionKind(contest, stack, pos))
	if err != nil {
		return rec, err
	}
	for _, v := range items {
		var it journalItem
		if err := json.Unmarshal(v, &it); err != nil {
			return rec, err
		}
		rec.add(it)
	}
	sortJournal(rec.Keyings)
	return rec, nil
}

// add puts an item of the legacy layout into a record.
func (r *positionRecord) add(it journalItem) {
	switch {
	case it.Decision != nil:
		r.Decision = it.Decision
	case it.Keying != nil:
		r.Keyings = append(r.Keyings, *it.Keying)
	}
}

// errNoChange is what a step returns to leave a paper as it is.
var errNoChange = errors.New("no change")

// movePosition moves one paper's state by compare-and-set: it reads the
// record, lets step change it by the rules (step sees the state the record
// is in, and returns errNoChange to write nothing, or any error to refuse),
// and swaps the result in only over the bytes it read. A lost race — another
// desk or the committee wrote in between — reads again and runs step again
// on what that write left. It returns the paper's state as now stored.
func (s *Server) movePosition(ctx context.Context, cc *cachedContest, stack, pos int,
	step func(rec *positionRecord, st tally.PositionState) error) (tally.PositionState, error) {
	for range maxSwapTries {
		old, rec, err := s.readPosition(ctx, cc, stack, pos)
		if err != nil {
			return tally.PositionState{}, err
		}
		switch err := step(&rec, rec.state(cc, stack, pos)); {
		case errors.Is(err, errNoChange):
			return rec.state(cc, stack, pos), nil
		case err != nil:
			return tally.PositionState{}, err
		}
		data, err := json.Marshal(rec)
		if err != nil {
			return tally.PositionState{}, err
		}
		swapped, err := s.store.SwapItem(ctx, positionsKind(cc.ID), positionKey(stack, pos), old, data)
		if err != nil {
			return tally.PositionState{}, err
		}
		if swapped {
			return rec.state(cc, stack, pos), nil
		}
	}
	return tally.PositionState{}, errorf(tally.Unavailable, "", "stack %d position %d changed %d times while this request was decided: nothing of it was recorded; send it again",
		stack, pos, maxSwapTries)
}

// journal reads the whole round's journal and derives every keyed
// position's state, ordered by stack and position.
func (s *Server) journal(ctx context.Context, cc *cachedContest) ([]tally.Keying, []tally.CommitteeDecision, []tally.PositionState, error) {
	type pos struct{ s, k int }
	papers := map[pos]*positionRecord{}
	items, err := s.store.ListItems(ctx, positionsKind(cc.ID))
	if err != nil {
		return nil, nil, nil, err
	}
	for key, v := range items {
		var p pos
		if _, err := fmt.Sscanf(key, "%d/%d", &p.s, &p.k); err != nil {
			return nil, nil, nil, fmt.Errorf("position record %q: %w", key, err)
		}
		rec := &positionRecord{}
		if err := json.Unmarshal(v, rec); err != nil {
			return nil, nil, nil, err
		}
		papers[p] = rec
	}
	// The legacy layout's items of the papers that no write has folded
	// into a record yet.
	items, err = s.store.ListItems(ctx, legacyJournalKind(cc.ID))
	if err != nil {
		return nil, nil, nil, err
	}
	legacy := map[pos]*positionRecord{}
	for _, v := range items {
		var it journalItem
		if err := json.Unmarshal(v, &it); err != nil {
			return nil, nil, nil, err
		}
		var p pos
		switch {
		case it.Decision != nil:
			p = pos{it.Decision.Stack, it.Decision.Position}
		case it.Keying != nil:
			p = pos{it.Keying.Stack, it.Keying.Position}
		default:
			continue
		}
		if papers[p] != nil {
			continue
		}
		rec := legacy[p]
		if rec == nil {
			rec = &positionRecord{}
			legacy[p] = rec
		}
		rec.add(it)
	}
	maps.Copy(papers, legacy)
	var allK []tally.Keying
	var allD []tally.CommitteeDecision
	states := make([]tally.PositionState, 0, len(papers))
	for p, rec := range papers {
		allK = append(allK, rec.Keyings...)
		if rec.Decision != nil {
			allD = append(allD, *rec.Decision)
		}
		states = append(states, rec.state(cc, p.s, p.k))
	}
	slices.SortFunc(states, func(a, b tally.PositionState) int {
		return cmp.Or(cmp.Compare(a.Stack, b.Stack), cmp.Compare(a.Position, b.Position))
	})
	sortJournal(allK)
	slices.SortFunc(allD, func(a, b tally.CommitteeDecision) int {
		return cmp.Or(cmp.Compare(a.Stack, b.Stack), cmp.Compare(a.Position, b.Position))
	})
	return allK, allD, states, nil
}

// sortJournal orders keyings as the journal prints them: by stack,
// position, desk, then each desk's keyings in order.
func sortJournal(ks []tally.Keying) {
	slices.SortFunc(ks, func(a, b tally.Keying) int {
		return cmp.Or(cmp.Compare(a.Stack, b.Stack), cmp.Compare(a.Position, b.Position),
			strings.Compare(a.Desk, b.Desk), strings.Compare(a.DeskID, b.DeskID), cmp.Compare(a.N, b.N), strings.Compare(a.ID, b.ID))
	})
}

// keyedBallot decodes the "ballot" object of a keying or a decision: a
// ballot without an id (the position names it), put in canonical form.
func keyedBallot(cc *cachedContest, raw json.RawMessage, stack, pos int) (tally.Ballot, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return tally.Ballot{}, errorf(tally.Invalid, "ballot", `required: the ballot as keyed ({"struck": […]}, {"marks": {…}} or {"invalid": …})`)
	}
	b, err := tally.ParsePositionBallot(raw, stack, pos)
	if err != nil {
		return tally.Ballot{}, prefixField("ballot", err)
	}
	body, err := cc.Body(b, stack, pos, cc.index)
	if err != nil {
		return tally.Ballot{}, prefixField("ballot", err)
	}
	return body, nil
}

// prefixField puts "ballot." before the field of an *tally.Error.
func prefixField(prefix string, err error) error {
	var e *tally.Error
	if !errors.As(err, &e) {
		return err
	}
	out := *e
	if out.Field == "" {
		out.Field = prefix
	} else {
		out.Field = prefix + "." + out.Field
	}
	return &out
}

// paperAt checks what a keying and a committee decision both name: an
// open verified round, a declared stack holding the position, and a ballot
// that reads on its list; it returns the ballot in its standard form.
func (s *Server) paperAt(ctx context.Context, id string, stack, pos int, raw json.RawMessage) (*cachedContest, tally.Ballot, error) {
	cc, rec, err := s.verifiedContest(ctx, id)
	if err != nil {
		return nil, tally.Ballot{}, err
	}
	if rec.State != tally.StateOpen {
		return nil, tally.Ballot{}, errNotOpenVerified(rec.State)
	}
	size, err := s.stackSize(ctx, cc.ID, stack)
	if err != nil {
		return nil, tally.Ballot{}, err
	}
	if err := tally.CheckPosition(stack, pos, size); err != nil {
		return nil, tally.Ballot{}, err
	}
	body, err := keyedBallot(cc, raw, stack, pos)
	if err != nil {
		return nil, tally.Ballot{}, err
	}
	return cc, body, nil
}

func errNotOpenVerified(state tally.State) error {
	return refused(errorf(tally.Conflict, "state", "the contest is %s: ballots are keyed only while it is open", state), notOpenKey(state))
}

// keyingRequest is the body of POST …/keyings.
type keyingRequest struct {
	ID       string          `json:"id"`
	Stack    int             `json:"stack"`
	Position int             `json:"position"`
	Ballot   json.RawMessage `json:"ballot"`
}

// keyingAnswer is what a desk gets back for a keying: where the position
// stands. It never shows another desk's entry, so that desks stay
// independent.
type keyingAnswer struct {
	ID       string               `json:"id"`
	Stack    int                  `json:"stack"`
	Position int                  `json:"position"`
	BallotID string               `json:"ballot_id"`
	Status   tally.PositionStatus `json:"status"`
	Keyed    int                  `json:"keyed"`
	Required int                  `json:"required"`
	Valid    bool                 `json:"valid"`            // the keyed ballot's verdict
	Reason   string               `json:"reason,omitempty"` // its invalid reason
	Receipt  *tally.Receipt       `json:"receipt,omitempty"`
}

// postKeying: POST /api/v1/contests/:id/keyings (counter). 201 for a new
// keying, 200 for a retry of one (same desk, same id, same ballot); 409
// for the same id with another ballot, a position already accepted or
// disputed, a round not open.
//
// The keying is recorded by movePosition, so the rules are applied to the
// state the keying itself lands on: a paper accepted takes no keying, a
// desk's correction of a paper disputed is refused, and the answer is the
// state right after this keying, whatever else arrives beside it.
func (s *Server) postKeying(c *fiber.Ctx) error {
	var req keyingRequest // at most maxRequestBody
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	switch {
	case req.ID == "":
		return errorf(tally.Invalid, "id", "required: every keying carries an id made by the desk (a retry sends the same)")
	case len(req.ID) > 128 || !printableID(req.ID):
		return errorf(tally.Invalid, "id", "must be at most 128 printable characters without spaces")
	}
	ctx, cancel := storeCtx()
	defer cancel()
	cc, body, err := s.paperAt(ctx, c.Params("id"), req.Stack, req.Position, req.Ballot)
	if err != nil {
		return err
	}
	p := principalOf(c)
	k := tally.Keying{ID: req.ID, Stack: req.Stack, Position: req.Position, DeskID: p.ID, Desk: p.Name,
		Time: s.stamp(), Ballot: body, Digest: tally.BallotDigest(&body)}
	st, created, err := s.recordKeying(ctx, cc, k)
	if err != nil {
		return err
	}
	m, _ := cc.Mark(body, cc.index) // checked by Body
	reason := cc.Classify(m)
	ans := keyingAnswer{ID: req.ID, Stack: req.Stack, Position: req.Position, BallotID: st.ID, Status: st.Status,
		Keyed: st.Keyed, Required: st.Required, Valid: reason == tally.Valid}
	if reason != tally.Valid {
		ans.Reason = reason.String()
	}
	// The agreement is recorded (the swap above) before its ballot is
	// appended: a crash between the two leaves an accepted paper out of
	// the log, which the next keying of it appends (above, or the retry
	// of this one, here) and which close refuses until it is there. The
	// append is idempotent: every request and instance that sees the
	// agreement appends the same ballot under the same id.
	if st.Status == tally.PositionAccepted && st.Decision == nil {
		r, err := s.appendAccepted(ctx, cc, st)
		if err != nil {
			return err
		}
		ans.Receipt = &r
	}
	if created {
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(ans)
}

// recordKeying records a desk's keying k of its paper by movePosition: a
// desk's keyboard (postKeying) and the scanner desk (api/scans.go) alike.
// It reports whether the keying was new (false: a retry of one recorded,
// same desk, same id, same ballot); the paper's state is the one right
// after this keying, whatever else arrives beside it.
func (s *Server) recordKeying(ctx context.Context, cc *cachedContest, k tally.Keying) (tally.PositionState, bool, error) {
	created := false
	st, err := s.movePosition(ctx, cc, k.Stack, k.Position, func(rec *positionRecord, st tally.PositionState) error {
		created = false
		keyed, n := false, 0
		for _, prev := range rec.Keyings {
			if prev.DeskID != k.DeskID {
				continue
			}
			if prev.ID == k.ID {
				if prev.Digest != k.Digest {
					return errorf(tally.Conflict, "id", "keying %q of this desk was recorded with another ballot: a new keying needs a new id", k.ID)
				}
				return errNoChange // a retry: answer as the paper stands now
			}
			keyed, n = true, max(n, prev.N)
		}
		switch {
		case st.Status == tally.PositionAccepted:
			// Make sure the accepted ballot is in the log (a crash may have
			// come between the keying that agreed and its append), then
			// refuse: the record is not touched.
			if _, err := s.appendAccepted(ctx, cc, st); err != nil {
				return err
			}
			return errorf(tally.Conflict, "position", "stack %d position %d is already accepted: key the next paper", k.Stack, k.Position)
		case st.Status == tally.PositionDisputed && keyed:
			// A desk's first keying of a disputed position is recorded: in
			// triple entry the third desk's reading is what the committee
			// most wants beside the two that differ. A desk's correction is
			// not: the committee rules on every disagreement (issue 6).
			return errorf(tally.Conflict, "position", "stack %d position %d is disputed: the desks differ and the counting committee decides it", k.Stack, k.Position)
		case n >= maxDeskKeyings:
			return errorf(tally.Conflict, "keyings", "this desk has keyed stack %d position %d %d times: no further correction is taken; the other desks' keyings settle it, or the committee",
				k.Stack, k.Position, n)
		}
		kk := k
		kk.N = n + 1
		rec.Keyings = append(rec.Keyings, kk)
		created = true
		return nil
	})
	return st, created, err
}

// appendAccepted appends an accepted position's ballot to the log: the
// agreed body under the agreeing desks' names, or the committee's decision.
// Every instance and request that sees the acceptance appends the same
// ballot under the same id; the store keeps one and returns its receipt to
// all.
func (s *Server) appendAccepted(ctx context.Context, cc *cachedContest, st tally.PositionState) (tally.Receipt, error) {
	if d := st.Decision; d != nil {
		return s.appendPosition(ctx, cc, d.Ballot, committeeDesk(d.By))
	}
	return s.appendPosition(ctx, cc, *st.Ballot, st.AgreedBy())
}

func (s *Server) appendPosition(ctx context.Context, cc *cachedContest, b tally.Ballot, desk string) (tally.Receipt, error) {
	m, err := cc.Mark(b, cc.index)
	if err != nil {
		return tally.Receipt{}, err
	}
	reason, keys := cc.Effect(m)
	s.appending.Add(1)
	r, created, err := s.store.Append(ctx, cc.ID, tally.Append{Ballot: &b, Reason: reason, Keys: keys, Desk: desk, Time: s.stamp()})
	s.appending.Add(-1)
	if err != nil {
		return r, err
	}
	if created {
		s.broker.Notify(cc.ID)
	}
	return r, nil
}

func printableID(s string) bool {
	b := tally.Ballot{ID: s, Struck: []string{}}
	return b.Validate() == nil
}

// committeeDesk is the desk the log records for a ballot the committee
// decided.
func committeeDesk(name string) string { return "ban kiểm phiếu (" + name + ")" }

// postDecision: POST /api/v1/contests/:id/positions/:stack/:position/decision
// (admin) {"ballot": {…}, "reason": "…"}: the committee's ruling on a
// disputed position. 201 with the decision and the receipt; the same
// decision again → 200; another decision on a decided position → 409.
func (s *Server) postDecision(c *fiber.Ctx) error {
	var req struct {
		Ballot json.RawMessage `json:"ballot"`
		Reason string          `json:"reason"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	stack, err1 := strconv.Atoi(c.Params("stack"))
	pos, err2 := strconv.Atoi(c.Params("position"))
	if err1 != nil {
		return errorf(tally.Invalid, "stack", "must be a whole number; got %q", c.Params("stack"))
	}
	if err2 != nil {
		return errorf(tally.Invalid, "position", "must be a whole number; got %q", c.Params("position"))
	}
	reason, err := reasonText(req.Reason, "say why the committee decided so")
	if err != nil {
		return err
	}
	req.Reason = reason
	ctx, cancel := storeCtx()
	defer cancel()
	cc, body, err := s.paperAt(ctx, c.Params("id"), stack, pos, req.Ballot)
	if err != nil {
		return err
	}
	digest := tally.BallotDigest(&body)
	p := principalOf(c)
	d := tally.CommitteeDecision{Stack: stack, Position: pos, By: p.Name, Time: s.stamp(), Ballot: body, Digest: digest, Reason: req.Reason}
	var r tally.Receipt
	created := false
	_, err = s.movePosition(ctx, cc, stack, pos, func(rec *positionRecord, st tally.PositionState) error {
		created = false
		if prev := st.Decision; prev != nil {
			if prev.Digest != digest || prev.Reason != req.Reason {
				return errorf(tally.Conflict, "position", "stack %d position %d was already decided by %s: %s", stack, pos, prev.By, prev.Reason)
			}
			// A retry: make sure its ballot is in the log, answer 200.
			d = *prev
			var err error
			r, err = s.appendAccepted(ctx, cc, st)
			if err != nil {
				return err
			}
			return errNoChange
		}
		if st.Status != tally.PositionDisputed {
			return errorf(tally.Conflict, "position", "stack %d position %d is %s (%d of %d desks): only a disputed position is decided by the committee",
				stack, pos, st.Status, st.Keyed, st.Required)
		}
		// A disputed paper stays disputed until decided (a desk that keyed
		// it is refused, one that had not only adds an entry): no agreement
		// can have put another ballot under this id. The ballot first: a
		// decision recorded whose ballot did not reach the log would claim a
		// count that is not there. A crash between the two leaves the
		// ballot in the log and the paper disputed (close is refused); the
		// decision sent again finds the ballot (same id, same digest) and is
		// recorded. A lost race appends again, idempotently, and decides on
		// the entries as they are then.
		var err error
		r, err = s.appendPosition(ctx, cc, body, committeeDesk(p.Name))
		if e := (*tally.Error)(nil); errors.As(err, &e) && e.Kind == tally.Conflict && e.Field == "id" {
			return errorf(tally.Conflict, "position", "the log already holds another ballot for stack %d position %d, put there by a decision sent at the same time or cut short: "+
				"send that decision again, or reload the disputes", stack, pos)
		}
		if err != nil {
			return err
		}
		d.Entries, d.Seq = st.Latest, r.Seq
		rec.Decision = &d
		created = true
		return nil
	})
	if err != nil {
		return err
	}
	if created {
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(fiber.Map{"decision": d, "receipt": r})
}

// putStack: PUT /api/v1/contests/:id/stacks/:stack {"ballots": n} (admin):
// declares a stack's paper count, before or during counting. A stack may
// be resized, but not below a position already keyed.
func (s *Server) putStack(c *fiber.Ctx) error {
	var req struct {
		Ballots *int `json:"ballots"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	stack, err := strconv.Atoi(c.Params("stack"))
	if err != nil || stack < 1 || stack > tally.MaxStack {
		return errorf(tally.Invalid, "stack", "must be a whole number between 1 and %d; got %q", tally.MaxStack, c.Params("stack"))
	}
	switch {
	case req.Ballots == nil:
		return errorf(tally.Invalid, "ballots", "required: the number of papers in the stack")
	case *req.Ballots < 1 || *req.Ballots > tally.MaxStackBallots:
		return errorf(tally.Invalid, "ballots", "must be between 1 and %d; got %d", tally.MaxStackBallots, *req.Ballots)
	}
	ctx, cancel := storeCtx()
	defer cancel()
	cc, rec, err := s.verifiedContest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if rec.State != tally.StateDraft && rec.State != tally.StateOpen {
		return errorf(tally.Conflict, "state", "the contest is %s: stacks are declared before or during counting", rec.State)
	}
	_, _, states, err := s.journal(ctx, cc)
	if err != nil {
		return err
	}
	for _, st := range states {
		if st.Stack == stack && st.Position > *req.Ballots {
			return errorf(tally.Conflict, "ballots", "position %d of stack %d is already keyed: the stack holds at least %d papers", st.Position, stack, st.Position)
		}
	}
	data, _ := json.Marshal(stackRecord{Stack: stack, Ballots: *req.Ballots, By: principalOf(c).Name, Time: s.stamp()})
	if err := s.store.PutItem(ctx, stacksKind(cc.ID), strconv.Itoa(stack), data); err != nil {
		return err
	}
	return s.getStacks(c)
}

// stackProgress is one stack's progress.
type stackProgress struct {
	Stack    int `json:"stack"`
	Ballots  int `json:"ballots"`
	Accepted int `json:"accepted"`
	Pending  int `json:"pending"`
	Disputed int `json:"disputed"`
	Empty    int `json:"empty"` // not keyed by any desk
	// Next is the first position the requesting desk has not keyed and
	// that is still open (neither accepted nor disputed); 0 when none.
	Next int `json:"next"`
}

// stacksView is the answer of GET …/stacks.
type stacksView struct {
	Contest  string          `json:"contest"`
	Entry    tally.EntryMode `json:"entry"`
	Required int             `json:"required"`
	Stacks   []stackProgress `json:"stacks"`
	Declared int             `json:"declared"` // sum of the stacks' papers
	// Collected is the paper count of the round notes (số phiếu thu vào),
	// when the committee recorded one; Mismatch says it differs from
	// Declared (closing is refused until it does not).
	Collected *int `json:"collected,omitempty"`
	Mismatch  bool `json:"mismatch"`
	Accepted  int  `json:"accepted"`
	Disputes  int  `json:"disputes"`
	Resolved  int  `json:"resolved"` // disputes decided by the committee
}

func (s *Server) stacksView(ctx context.Context, cc *cachedContest, deskID string) (stacksView, []tally.Keying, []tally.CommitteeDecision, []tally.PositionState, error) {
	v := stacksView{Contest: cc.ID, Entry: cc.Entry, Required: cc.Entry.Desks(), Stacks: []stackProgress{}}
	stacks, err := s.stacks(ctx, cc.ID)
	if err != nil {
		return v, nil, nil, nil, err
	}
	keyings, decisions, states, err := s.journal(ctx, cc)
	if err != nil {
		return v, nil, nil, nil, err
	}
	type pos struct{ s, k int }
	byPos := map[pos]tally.PositionState{}
	for _, st := range states {
		byPos[pos{st.Stack, st.Position}] = st
	}
	mine := map[pos]bool{}
	for _, k := range keyings {
		if k.DeskID == deskID {
			mine[pos{k.Stack, k.Position}] = true
		}
	}
	nums := make([]int, 0, len(stacks))
	for n := range stacks {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	for _, n := range nums {
		sp := stackProgress{Stack: n, Ballots: stacks[n].Ballots}
		for k := 1; k <= sp.Ballots; k++ {
			st, ok := byPos[pos{n, k}]
			switch {
			case !ok || st.Status == tally.PositionEmpty:
				sp.Empty++
			case st.Status == tally.PositionAccepted:
				sp.Accepted++
			case st.Status == tally.PositionDisputed:
				sp.Disputed++
			default:
				sp.Pending++
			}
			if sp.Next == 0 && !mine[pos{n, k}] && (!ok || st.Status == tally.PositionPending || st.Status == tally.PositionEmpty) {
				sp.Next = k
			}
		}
		v.Declared += sp.Ballots
		v.Accepted += sp.Accepted
		v.Disputes += sp.Disputed
		v.Stacks = append(v.Stacks, sp)
	}
	v.Resolved = len(decisions)
	notes, err := s.notes(ctx, cc.ID)
	if err != nil {
		return v, nil, nil, nil, err
	}
	if notes.Collected != nil {
		v.Collected = notes.Collected
		v.Mismatch = *notes.Collected != v.Declared
	}
	return v, keyings, decisions, states, nil
}

// getStacks: GET …/stacks (counter): each stack's progress, in counts
// only (no desk's entry), and the next position for the asking desk.
func (s *Server) getStacks(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	cc, _, err := s.verifiedContest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	v, _, _, _, err := s.stacksView(ctx, cc, principalOf(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// disputeView is a disputed position with its differing entries side by
// side.
type disputeView struct {
	Stack    int            `json:"stack"`
	Position int            `json:"position"`
	BallotID string         `json:"ballot_id"`
	Entries  []tally.Keying `json:"entries"`
}

// getDisputes: GET …/disputes (admin): the open disputes.
func (s *Server) getDisputes(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	cc, _, err := s.verifiedContest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	_, _, states, err := s.journal(ctx, cc)
	if err != nil {
		return err
	}
	out := []disputeView{}
	for _, st := range states {
		if st.Status == tally.PositionDisputed {
			out = append(out, disputeView{Stack: st.Stack, Position: st.Position, BallotID: st.ID, Entries: st.Latest})
		}
	}
	return c.JSON(fiber.Map{"disputes": out})
}

// getJournal: GET …/journal: the entry journal (every keying, every
// decision). Admins see it at any time; viewers and counters only once the
// round is closed, so that no desk can read another's entry of a position
// it has still to key.
func (s *Server) getJournal(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	cc, rec, err := s.verifiedContest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if principalOf(c).Role != roleAdmin && rec.State != tally.StateClosed && rec.State != tally.StateCertified {
		return errorf(tally.Forbidden, "", "the entry journal is open to the committee while counting; to everyone once the round is closed")
	}
	v, keyings, decisions, _, err := s.stacksView(ctx, cc, "")
	if err != nil {
		return err
	}
	if keyings == nil {
		keyings = []tally.Keying{}
	}
	if decisions == nil {
		decisions = []tally.CommitteeDecision{}
	}
	return c.JSON(fiber.Map{"progress": v, "keyings": keyings, "decisions": decisions})
}

// checkVerifiedClose refuses to close a verified round while a declared
// position is not in the log, a dispute is open, no stack is declared, or
// the stacks do not add up to the committee's paper count.
func (s *Server) checkVerifiedClose(ctx context.Context, cc *cachedContest) error {
	v, _, _, _, err := s.stacksView(ctx, cc, "")
	if err != nil {
		return err
	}
	if len(v.Stacks) == 0 {
		return errorf(tally.Conflict, "stacks", "no stack is declared: declare the stacks and key them before closing")
	}
	if v.Disputes > 0 {
		return errorf(tally.Conflict, "disputes", "%d disputed position(s) wait for the committee's decision", v.Disputes)
	}
	if v.Mismatch {
		return errorf(tally.Conflict, "stacks", "the stacks hold %d papers but the round notes count %d collected: correct the stacks or the notes",
			v.Declared, *v.Collected)
	}
	// Every declared position must be in the log (voids are refused on a
	// verified round): an agreement whose append a crash cut short shows
	// here, and is appended again by the next keying of its position.
	//
	// And every paper in the log must be in a declared stack: a stack
	// shrunk while a desk keyed a paper past its new end (putStack and the
	// keying read each other's item only once) would count a paper the
	// stacks do not hold.
	size := map[int]int{}
	for _, sp := range v.Stacks {
		size[sp.Stack] = sp.Ballots
	}
	logged := map[string]bool{}
	const page = 5000
	for after := int64(0); ; {
		entries, err := s.store.Entries(ctx, cc.ID, after, page)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Ballot == nil {
				continue
			}
			logged[e.Ballot.ID] = true
			if st, k, ok := tally.ParsePositionID(e.Ballot.ID); !ok || k > size[st] {
				return errorf(tally.Conflict, "stacks", "paper %s is in the log but stack %d holds %d papers: declare the stack's true size", e.Ballot.ID, st, size[st])
			}
		}
		if len(entries) < page {
			break
		}
		after = entries[len(entries)-1].Seq
	}
	var missing []string
	total := 0
	for _, sp := range v.Stacks {
		for k := 1; k <= sp.Ballots; k++ {
			if id := tally.PositionID(sp.Stack, k); !logged[id] {
				total++
				if len(missing) < 10 {
					missing = append(missing, id)
				}
			}
		}
	}
	if total > len(missing) {
		missing = append(missing, "…")
	}
	if total > 0 {
		return errorf(tally.Conflict, "stacks", "%d declared position(s) are not accepted yet (%s): every paper must be keyed by %d desks in agreement",
			total, strings.Join(missing, ", "), v.Required)
	}
	return nil
}
