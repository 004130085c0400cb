package api

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
// the store (append-only: nothing is ever deleted or overwritten with
// other content):
//
//	stacks:<contest>          key S            → stackRecord
//	keyings:<contest>:<S>:<k> key keyingKey    → journalItem{Keying}
//	                          key "decision"   → journalItem{Decision}
//	journal:<contest>         key <S>/<k>/<key> → the same items
//
// Agreement reads one position's kind, never the whole round's journal;
// the whole journal is read for the progress, the disputes, the close
// check and the minutes.

func stacksKind(contest string) string  { return "stacks:" + contest }
func journalKind(contest string) string { return "journal:" + contest }
func positionKind(contest string, stack, position int) string {
	return fmt.Sprintf("keyings:%s:%d:%d", contest, stack, position)
}

const decisionKey = "decision"

// keyingKey is a keying's key: one per desk and client id, so that a retry
// lands on the keying it repeats and two desks' ids never collide.
func keyingKey(deskID, id string) string {
	sum := sha256.Sum256([]byte(deskID + "\x00" + id))
	return hex.EncodeToString(sum[:16])
}

// stackRecord is a stack the committee declared: its number and how many
// papers it holds.
type stackRecord struct {
	Stack   int    `json:"stack"`
	Ballots int    `json:"ballots"`
	By      string `json:"by"`
	Time    string `json:"time"`
}

// journalItem is one line of the entry journal: a keying or a decision.
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

// position reads one position's keyings and decision.
func (s *Server) position(ctx context.Context, cc *cachedContest, stack, pos int) (tally.PositionState, map[string]tally.Keying, error) {
	items, err := s.store.ListItems(ctx, positionKind(cc.ID, stack, pos))
	if err != nil {
		return tally.PositionState{}, nil, err
	}
	keyings := map[string]tally.Keying{}
	var decision *tally.CommitteeDecision
	for key, v := range items {
		var it journalItem
		if err := json.Unmarshal(v, &it); err != nil {
			return tally.PositionState{}, nil, err
		}
		switch {
		case it.Decision != nil:
			decision = it.Decision
		case it.Keying != nil:
			keyings[key] = *it.Keying
		}
	}
	list := make([]tally.Keying, 0, len(keyings))
	for _, k := range keyings {
		list = append(list, k)
	}
	return tally.DecidePosition(stack, pos, cc.Entry.Desks(), list, decision), keyings, nil
}

// journal reads the whole round's journal and derives every keyed
// position's state, ordered by stack and position.
func (s *Server) journal(ctx context.Context, cc *cachedContest) ([]tally.Keying, []tally.CommitteeDecision, []tally.PositionState, error) {
	items, err := s.store.ListItems(ctx, journalKind(cc.ID))
	if err != nil {
		return nil, nil, nil, err
	}
	type pos struct{ s, k int }
	keyings := map[pos][]tally.Keying{}
	decisions := map[pos]*tally.CommitteeDecision{}
	var allK []tally.Keying
	var allD []tally.CommitteeDecision
	for _, v := range items {
		var it journalItem
		if err := json.Unmarshal(v, &it); err != nil {
			return nil, nil, nil, err
		}
		switch {
		case it.Decision != nil:
			d := it.Decision
			decisions[pos{d.Stack, d.Position}] = d
			allD = append(allD, *d)
		case it.Keying != nil:
			k := *it.Keying
			keyings[pos{k.Stack, k.Position}] = append(keyings[pos{k.Stack, k.Position}], k)
			allK = append(allK, k)
		}
	}
	var states []tally.PositionState
	for p, ks := range keyings {
		states = append(states, tally.DecidePosition(p.s, p.k, cc.Entry.Desks(), ks, decisions[p]))
	}
	for p, d := range decisions {
		if _, ok := keyings[p]; !ok {
			states = append(states, tally.DecidePosition(p.s, p.k, cc.Entry.Desks(), nil, d))
		}
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

// putJournal writes an item to its position's kind and to the round's
// journal. A retry writes the same bytes again: both puts are idempotent.
func (s *Server) putJournal(ctx context.Context, cc *cachedContest, stack, pos int, key string, it journalItem) error {
	data, err := json.Marshal(it)
	if err != nil {
		return err
	}
	if err := s.store.PutItem(ctx, positionKind(cc.ID, stack, pos), key, data); err != nil {
		return err
	}
	return s.store.PutItem(ctx, journalKind(cc.ID), fmt.Sprintf("%d/%d/%s", stack, pos, key), data)
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
	return errorf(tally.Conflict, "state", "the contest is %s: ballots are keyed only while it is open", state)
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
	key := keyingKey(p.ID, req.ID)

	st, keyings, err := s.position(ctx, cc, req.Stack, req.Position)
	if err != nil {
		return err
	}
	created := true
	if prev, ok := keyings[key]; ok {
		if prev.Digest != k.Digest {
			return errorf(tally.Conflict, "id", "keying %q of this desk was recorded with another ballot: a new keying needs a new id", req.ID)
		}
		k, created = prev, false // a retry: record it again (idempotent), answer as now
	} else {
		switch st.Status {
		case tally.PositionAccepted:
			// Make sure the agreed ballot is in the log (a crash may have
			// come between the last keying and its append), then refuse.
			if _, err := s.acceptPosition(ctx, cc, st); err != nil {
				return err
			}
			return errorf(tally.Conflict, "position", "stack %d position %d is already accepted: key the next paper", req.Stack, req.Position)
		}
		keyedBefore := false
		for _, prev := range keyings {
			if prev.DeskID == p.ID {
				k.N = max(k.N, prev.N)
				keyedBefore = true
			}
		}
		// A desk's first keying of a disputed position is recorded: in
		// triple entry the third desk's reading is what the committee most
		// wants beside the two that differ. A desk's correction is not: the
		// committee rules on every disagreement (issue 6).
		if st.Status == tally.PositionDisputed && keyedBefore {
			return errorf(tally.Conflict, "position", "stack %d position %d is disputed: the desks differ and the counting committee decides it", req.Stack, req.Position)
		}
		k.N++
	}
	if err := s.putJournal(ctx, cc, req.Stack, req.Position, key, journalItem{Keying: &k}); err != nil {
		return err
	}
	if st, _, err = s.position(ctx, cc, req.Stack, req.Position); err != nil {
		return err
	}
	m, _ := cc.Mark(body, cc.index) // checked by Body
	reason := cc.Classify(m)
	ans := keyingAnswer{ID: req.ID, Stack: req.Stack, Position: req.Position, BallotID: st.ID, Status: st.Status,
		Keyed: st.Keyed, Required: st.Required, Valid: reason == tally.Valid}
	if reason != tally.Valid {
		ans.Reason = reason.String()
	}
	if st.Status == tally.PositionAccepted && st.Decision == nil {
		r, err := s.acceptPosition(ctx, cc, st)
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

// acceptPosition appends an agreed position's ballot to the log. Every
// instance and request that sees the agreement appends the same ballot
// under the same id; the store keeps one and returns its receipt to all.
func (s *Server) acceptPosition(ctx context.Context, cc *cachedContest, st tally.PositionState) (tally.Receipt, error) {
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
	st, _, err := s.position(ctx, cc, stack, pos)
	if err != nil {
		return err
	}
	if d := st.Decision; d != nil {
		if d.Digest != digest || d.Reason != req.Reason {
			return errorf(tally.Conflict, "position", "stack %d position %d was already decided by %s: %s", stack, pos, d.By, d.Reason)
		}
		r, err := s.appendPosition(ctx, cc, d.Ballot, committeeDesk(d.By))
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"decision": d, "receipt": r})
	}
	if st.Status != tally.PositionDisputed {
		return errorf(tally.Conflict, "position", "stack %d position %d is %s (%d of %d desks): only a disputed position is decided by the committee",
			stack, pos, st.Status, st.Keyed, st.Required)
	}
	p := principalOf(c)
	d := tally.CommitteeDecision{Stack: stack, Position: pos, By: p.Name, Time: s.stamp(), Entries: st.Latest,
		Ballot: body, Digest: digest, Reason: req.Reason}
	// The ballot first: a decision recorded whose ballot did not reach
	// the log would claim a count that is not there. A retry after a
	// failure between the two finds the ballot (same id, same digest) and
	// records the decision.
	r, err := s.appendPosition(ctx, cc, body, committeeDesk(p.Name))
	if err != nil {
		return err
	}
	d.Seq = r.Seq
	if err := s.putJournal(ctx, cc, stack, pos, decisionKey, journalItem{Decision: &d}); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"decision": d, "receipt": r})
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
	logged := map[string]bool{}
	const page = 5000
	for after := int64(0); ; {
		entries, err := s.store.Entries(ctx, cc.ID, after, page)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Ballot != nil {
				logged[e.Ballot.ID] = true
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
