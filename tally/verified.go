package tally

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// EntryMode is how a contest's paper ballots reach the log (phương thức nhập
// phiếu): keyed once at any desk (single), or keyed independently at two or
// three desks and accepted only when they agree (double, triple: verified
// entry, nhập kép / nhập ba).
type EntryMode string

const (
	EntrySingle EntryMode = "single"
	EntryDouble EntryMode = "double"
	EntryTriple EntryMode = "triple"
)

// Desks is the number of distinct desks that must key the same ballot
// before it is counted: 1, 2 or 3. The empty mode (a contest written before
// the field existed) is single.
func (m EntryMode) Desks() int {
	switch m {
	case EntryDouble:
		return 2
	case EntryTriple:
		return 3
	}
	return 1
}

// Verified reports whether ballots are keyed by stack and position and
// counted only on agreement.
func (m EntryMode) Verified() bool { return m.Desks() > 1 }

// Vietnamese is the mode as the minutes state it.
func (m EntryMode) Vietnamese() string {
	switch m {
	case EntryDouble:
		return "nhập kép — mỗi phiếu do 2 bàn nhập độc lập, chỉ tính khi 2 bàn khớp nhau"
	case EntryTriple:
		return "nhập ba — mỗi phiếu do 3 bàn nhập độc lập, chỉ tính khi cả 3 bàn khớp nhau"
	}
	return "nhập một lần — mỗi phiếu do một bàn nhập"
}

// Limits of the stacks (tệp phiếu) of a verified round.
const (
	MaxStack        = 9999 // stack numbers 1..MaxStack
	MaxStackBallots = 5000 // papers in one stack
)

// PositionID is the ballot id a verified position is logged under:
// "t<stack>-<position>" (tệp S, phiếu thứ k). It is deterministic so that
// two servers accepting the same position append the same ballot, which
// the store's idempotency turns into one entry.
func PositionID(stack, position int) string {
	return "t" + strconv.Itoa(stack) + "-" + strconv.Itoa(position)
}

// ParsePositionID is the inverse of PositionID; ok is false for any other id.
func ParsePositionID(id string) (stack, position int, ok bool) {
	rest, found := strings.CutPrefix(id, "t")
	if !found {
		return 0, 0, false
	}
	s, k, found := strings.Cut(rest, "-")
	if !found {
		return 0, 0, false
	}
	stack, err1 := strconv.Atoi(s)
	position, err2 := strconv.Atoi(k)
	if err1 != nil || err2 != nil || PositionID(stack, position) != id || stack < 1 || position < 1 {
		return 0, 0, false
	}
	return stack, position, true
}

// CheckPosition validates a stack and position against the stack's
// declared size (0: the stack is not declared).
func CheckPosition(stack, position, size int) error {
	switch {
	case stack < 1 || stack > MaxStack:
		return Errorf("stack", "must be between 1 and %d; got %d", MaxStack, stack)
	case size == 0:
		return &Error{Kind: Invalid, Field: "stack", Message: fmt.Sprintf("stack %d is not declared: the committee declares each stack's paper count first", stack)}
	case position < 1 || position > size:
		return Errorf("position", "stack %d holds %d ballots: the position must be between 1 and %d; got %d", stack, size, size, position)
	}
	return nil
}

// Body is a ballot as a verified desk keys it, without an id (the
// position gives it one), resolved and put in canonical form so that two
// desks keying the same paper produce the same bytes however they typed
// it: struck (or named) names in ballot order, "none" marks left out (a missing
// candidate is "none", DESIGN §5.2). The meaning is unchanged.
func (c *Contest) Body(b Ballot, stack, position int, index map[string]int) (Ballot, error) {
	b.ID = PositionID(stack, position)
	if err := b.Validate(); err != nil {
		return Ballot{}, err
	}
	m, err := c.Mark(b, index)
	if err != nil {
		return Ballot{}, err
	}
	out := Ballot{ID: b.ID, Invalid: b.Invalid, Note: b.Note}
	switch {
	case b.Invalid != Valid:
	case b.Struck != nil:
		out.Struck = c.ballotOrderIDs(m.Struck)
	case b.Named != nil:
		out.Named = c.ballotOrderIDs(m.Named)
	default:
		out.Marks = map[string]Mark{}
		for j, mk := range m.Marks {
			if mk != MarkNone {
				out.Marks[c.Candidates[j].ID] = mk
			}
		}
	}
	return out, nil
}

// ballotOrderIDs returns the ids of the candidates at idx, in ballot order.
func (c *Contest) ballotOrderIDs(idx []uint16) []string {
	idx = slices.Clone(idx)
	slices.Sort(idx)
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = c.Candidates[j].ID
	}
	return out
}

// Keying is one desk's entry of one paper (lần nhập): the entry journal
// (nhật ký nhập phiếu) is the list of them. It names the desk, never a
// voter.
type Keying struct {
	ID       string `json:"id"` // made by the desk: a retry carries the same id
	Stack    int    `json:"stack"`
	Position int    `json:"position"`
	// DeskID is the principal that keyed (a token or a user): agreement
	// counts distinct DeskIDs, so one desk cannot agree with itself.
	DeskID string `json:"desk_id"`
	Desk   string `json:"desk"` // the principal's name, as the log records desks
	Time   string `json:"time"` // RFC 3339
	// N is this desk's n-th keying of the position: a later one
	// supersedes the earlier (a slip corrected before agreement).
	N      int    `json:"n"`
	Ballot Ballot `json:"ballot"` // canonical (Contest.Body), id = PositionID
	Digest string `json:"digest"` // BallotDigest(&Ballot)
}

// CommitteeDecision is the counting committee's ruling on a disputed position
// (quyết định của ban kiểm phiếu): the entries that were on the table, the
// ballot chosen, and why.
type CommitteeDecision struct {
	Stack    int      `json:"stack"`
	Position int      `json:"position"`
	By       string   `json:"by"`
	Time     string   `json:"time"`
	Entries  []Keying `json:"entries"` // the differing latest keyings, by desk
	Ballot   Ballot   `json:"ballot"`
	Digest   string   `json:"digest"`
	Reason   string   `json:"reason"`
	Seq      int64    `json:"seq,omitempty"` // the log entry it became
}

// PositionStatus is where a position stands.
type PositionStatus string

const (
	PositionEmpty    PositionStatus = "empty"    // nobody keyed it yet
	PositionPending  PositionStatus = "pending"  // the desks so far agree; fewer than required
	PositionAccepted PositionStatus = "accepted" // agreed (or decided): in the log
	PositionDisputed PositionStatus = "disputed" // desks differ: waits for the committee
)

// PositionState is a position's state, derived from its keyings and any
// decision: nothing else is stored, so every instance derives the same.
type PositionState struct {
	Stack    int            `json:"stack"`
	Position int            `json:"position"`
	ID       string         `json:"id"` // the ballot id it is logged under
	Status   PositionStatus `json:"status"`
	Required int            `json:"required"`
	Keyed    int            `json:"keyed"` // distinct desks
	// Latest is each desk's latest keying, ordered by desk name then id.
	Latest []Keying `json:"latest,omitempty"`
	// Ballot is the accepted ballot: the agreed body, or the decision's.
	Ballot   *Ballot            `json:"ballot,omitempty"`
	Decision *CommitteeDecision `json:"decision,omitempty"`
}

// AgreedBy names the desks whose keyings were accepted, as the log's desk
// field records them: "bàn 1 + bàn 2 + bàn 3".
func (p *PositionState) AgreedBy() string {
	names := make([]string, len(p.Latest))
	for i, k := range p.Latest {
		names[i] = k.Desk
	}
	return strings.Join(names, " + ")
}

// DecidePosition derives a position's state from its keyings (in any
// order) and the committee's decision, if any:
//
//   - a decision makes the position accepted with the decided ballot;
//   - only each desk's latest keying counts (the highest N);
//   - any two desks' latest keyings differing → disputed: the position
//     stops until the committee decides, even before every required desk
//     has keyed, so that no disagreement is outvoted or hidden;
//   - all agreeing, from at least required desks → accepted;
//   - all agreeing, fewer desks → pending (empty when none).
func DecidePosition(stack, position, required int, keyings []Keying, decision *CommitteeDecision) PositionState {
	st := PositionState{Stack: stack, Position: position, ID: PositionID(stack, position), Required: required}
	latest := map[string]Keying{}
	for _, k := range keyings {
		if cur, ok := latest[k.DeskID]; !ok || k.N > cur.N || k.N == cur.N && k.ID > cur.ID {
			latest[k.DeskID] = k
		}
	}
	for _, k := range latest {
		st.Latest = append(st.Latest, k)
	}
	slices.SortFunc(st.Latest, func(a, b Keying) int {
		if c := strings.Compare(a.Desk, b.Desk); c != 0 {
			return c
		}
		return strings.Compare(a.DeskID, b.DeskID)
	})
	st.Keyed = len(st.Latest)
	if decision != nil {
		st.Status, st.Decision = PositionAccepted, decision
		b := decision.Ballot
		st.Ballot = &b
		return st
	}
	if st.Keyed == 0 {
		st.Status = PositionEmpty
		return st
	}
	for _, k := range st.Latest[1:] {
		if k.Digest != st.Latest[0].Digest {
			st.Status = PositionDisputed
			return st
		}
	}
	if st.Keyed >= required {
		st.Status = PositionAccepted
		b := st.Latest[0].Ballot
		st.Ballot = &b
		return st
	}
	st.Status = PositionPending
	return st
}
