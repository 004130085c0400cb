package tally

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	maxBallotID = 128
	maxNote     = 500
)

// Ballot is one paper ballot as keyed at a desk (DESIGN §5.2). Exactly one of
// Struck (strike contests; may be empty: an untouched ballot), Marks (approve
// contests; may be empty: no box marked), Named (introduction ballots, style
// "name"; may be empty: nobody named) or Invalid is set.
type Ballot struct {
	ID     string          `json:"id"`
	Struck []string        `json:"struck,omitempty"`
	Marks  map[string]Mark `json:"marks,omitempty"`
	// Named are the people an introduction ballot (phiếu giới thiệu) names,
	// by candidate id, in any order (DESIGN §5.2 extension, issue 12).
	Named   []string `json:"named,omitempty"`
	Invalid Reason   `json:"invalid,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// Mark is what a voter did in one row of an approve ballot.
type Mark uint8

const (
	MarkNone     Mark = iota // no box: counts for nobody
	MarkAgree                // đồng ý only: a vote
	MarkDisagree             // không đồng ý only
	MarkBoth                 // both boxes: counts for nobody
)

var markNames = [...]string{MarkNone: "none", MarkAgree: "agree", MarkDisagree: "disagree", MarkBoth: "both"}

func (m Mark) String() string {
	if int(m) < len(markNames) {
		return markNames[m]
	}
	return fmt.Sprintf("Mark(%d)", m)
}

func (m Mark) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

func (m *Mark) UnmarshalText(b []byte) error {
	for i, n := range markNames {
		if string(b) == n {
			*m = Mark(i)
			return nil
		}
	}
	return fmt.Errorf(`must be "agree", "disagree", "both" or "none"; got %q`, b)
}

// Reason is why a ballot is invalid; the zero Reason means valid. The first
// four are the committee's rulings on sight; the rest the engine decides
// from the marks (domain-rules §4.2).
type Reason uint8

const (
	Valid Reason = iota
	// Ruled by the counting committee on sight (190-QĐ/TW Điều 8.2).
	ReasonNotIssued       // not issued by the committee, or unstamped (I1, I6)
	ReasonWriteIn         // a name written in or other writing added (I4)
	ReasonIdentifyingMark // a signature or identifying mark (I7)
	ReasonOther           // another ground, explained in the note
	// Decided by the engine.
	ReasonOverVote        // more kept, agreed or named than seats, including an untouched strike ballot (I2)
	ReasonNoVote          // every name struck (I3); on an approve ballot of several names, no đồng ý at all; on an introduction ballot, nobody named
	ReasonAmbiguousSingle // single-candidate approve ballot with both boxes or none (I5)
	numReasons
)

var reasonNames = [...]string{
	Valid: "", ReasonNotIssued: "not_issued", ReasonWriteIn: "write_in", ReasonIdentifyingMark: "identifying_mark",
	ReasonOther: "other", ReasonOverVote: "over_vote", ReasonNoVote: "no_vote", ReasonAmbiguousSingle: "ambiguous_single",
}

// Reasons lists every invalid reason in the order the minutes print them.
func Reasons() []Reason {
	return []Reason{ReasonOverVote, ReasonNoVote, ReasonAmbiguousSingle, ReasonNotIssued, ReasonWriteIn, ReasonIdentifyingMark, ReasonOther}
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", r)
}

// OnSight reports whether r is a ruling the committee makes by looking at
// the paper, as opposed to one the engine derives from the marks.
func (r Reason) OnSight() bool { return r >= ReasonNotIssued && r <= ReasonOther }

func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

func (r *Reason) UnmarshalText(b []byte) error {
	for _, x := range []Reason{ReasonNotIssued, ReasonWriteIn, ReasonIdentifyingMark, ReasonOther} {
		if string(b) == x.String() {
			*r = x
			return nil
		}
	}
	return fmt.Errorf(`must be "not_issued", "write_in", "identifying_mark" or "other"; got %q`, b)
}

// ParseBallot decodes one ballot (one JSONL line) and checks it on its own,
// without a contest; Contest.Mark checks it against the list. Unknown
// fields are refused.
func ParseBallot(data []byte) (Ballot, error) {
	b, err := decodeBallot(data)
	if err != nil {
		return Ballot{}, err
	}
	return b, b.Validate()
}

// ParsePositionBallot decodes the ballot of a verified keying or of a
// committee decision: a ballot without an id, which its stack and position
// give it (PositionID). Contest.Body then checks it against the list.
func ParsePositionBallot(data []byte, stack, position int) (Ballot, error) {
	return ParseBallotAs(data, PositionID(stack, position), "the stack and position name the ballot")
}

// ParseBallotAs decodes a ballot sent without an id, which something else
// names (why says what): a verified keying's position, a scanned page's
// image hash (ScanBallotID).
func ParseBallotAs(data []byte, id, why string) (Ballot, error) {
	b, err := decodeBallot(data)
	if err != nil {
		return Ballot{}, err
	}
	if b.ID != "" {
		return Ballot{}, Errorf("id", "leave the id out: %s (%s)", why, id)
	}
	b.ID = id
	return b, b.Validate()
}

// ScanBallotID is the ballot id of a scanned page in a single-entry round:
// derived from the page image's hash, so that the same page uploaded again
// is the same ballot, counted once.
func ScanBallotID(imageHash string) string { return "scan-" + imageHash }

func decodeBallot(data []byte) (Ballot, error) {
	var b Ballot
	if err := DecodeJSON(data, &b, "ballot"); err != nil {
		return Ballot{}, ballotJSONError(err)
	}
	b.Note = CleanText(b.Note)
	return b, nil
}

// ballotJSONError names the field when encoding/json reports a bad enum
// value through UnmarshalText (it does not say which field it was in).
// err comes from DecodeJSON, already an *Error: only the field of the
// UnmarshalText messages (Mark, Reason) is filled in.
func ballotJSONError(err error) error {
	var e *Error
	if !errors.As(err, &e) || e.Field != "" {
		return err
	}
	switch {
	case strings.HasPrefix(e.Message, `must be "agree", "disagree"`):
		return &Error{Kind: Invalid, Field: "marks", Offset: e.Offset, Message: e.Message}
	case strings.HasPrefix(e.Message, `must be "not_issued"`):
		return &Error{Kind: Invalid, Field: "invalid", Offset: e.Offset, Message: e.Message}
	}
	return err
}

// Validate checks a ballot's own fields.
func (b *Ballot) Validate() error {
	switch {
	case b.ID == "":
		return Errorf("id", "required: every ballot carries a unique id made by the desk")
	case len(b.ID) > maxBallotID:
		return Errorf("id", "too long (%d bytes, at most %d)", len(b.ID), maxBallotID)
	case !printable(b.ID):
		return Errorf("id", "must be printable text without spaces; got %q", b.ID)
	case utf8.RuneCountInString(b.Note) > maxNote:
		return Errorf("note", "too long (at most %d characters)", maxNote)
	}
	if b.Invalid != Valid {
		if b.Struck != nil || b.Marks != nil || b.Named != nil {
			return Errorf("invalid", "a ballot ruled invalid on sight carries no struck names, marks or named")
		}
		if b.Invalid == ReasonOther && b.Note == "" {
			return Errorf("note", `required when invalid is "other": the minutes must say why`)
		}
		return nil
	}
	if b.Struck != nil && b.Marks != nil {
		return Errorf("struck", "a ballot has either struck names (strike) or marks (approve), not both")
	}
	if b.Named != nil && (b.Struck != nil || b.Marks != nil) {
		return Errorf("named", `a ballot has one of "struck" (strike), "marks" (approve) or "named" (introduction), not two`)
	}
	if b.Struck == nil && b.Marks == nil && b.Named == nil {
		return Errorf("struck", `missing: give "struck" (strike ballots; [] for an untouched ballot), "marks" (approve ballots), "named" (introduction ballots) or "invalid"`)
	}
	return nil
}

// given names the field a ballot marks with: "struck", "marks" or "named"
// (a validated ballot that is not ruled invalid has exactly one).
func (b *Ballot) given() string {
	switch {
	case b.Struck != nil:
		return "struck"
	case b.Marks != nil:
		return "marks"
	}
	return "named"
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// Marking is a ballot resolved against its contest's list: candidate
// indexes in ballot order instead of ids. Counting works on Markings.
type Marking struct {
	Ruling Reason   // the committee's ruling on sight, or Valid
	Struck []uint16 // strike: the indexes struck, each once
	Marks  []Mark   // approve: one Mark per candidate, in ballot order
	Named  []uint16 // name (introduction): the indexes named, each once
}

// Mark resolves a ballot against the contest: unknown candidate ids, names
// struck twice and the wrong ballot style are errors naming the field.
func (c *Contest) Mark(b Ballot, index map[string]int) (Marking, error) {
	if b.Invalid != Valid {
		return Marking{Ruling: b.Invalid}, nil
	}
	switch c.Ballot {
	case StyleStrike:
		if b.Struck == nil {
			return Marking{}, Errorf(b.given(), `this contest uses strike ballots: give "struck", the ids of the names struck through`)
		}
		struck, err := indexList("struck", b.Struck, index)
		return Marking{Struck: struck}, err
	case StyleName:
		if b.Named == nil {
			return Marking{}, Errorf(b.given(), `this contest uses introduction ballots: give "named", the ids of the people the ballot names ([] when it names nobody)`)
		}
		named, err := indexList("named", b.Named, index)
		return Marking{Named: named}, err
	case StyleApprove:
		if b.Marks == nil {
			return Marking{}, Errorf(b.given(), `this contest uses approve ballots: give "marks", one of agree, disagree, both or none per candidate`)
		}
		m := Marking{Marks: make([]Mark, len(c.Candidates))}
		unknown, anyUnknown := "", false
		for id, mark := range b.Marks {
			j, ok := index[id]
			if !ok {
				// Name the least unknown id (which may be ""), so the
				// error does not depend on map order.
				if !anyUnknown || id < unknown {
					unknown, anyUnknown = id, true
				}
				continue
			}
			m.Marks[j] = mark
		}
		if anyUnknown {
			return Marking{}, Errorf("marks."+unknown, "unknown candidate %q", unknown)
		}
		return m, nil
	}
	return Marking{}, Errorf("ballot", "the contest has no valid ballot style")
}

// indexList resolves a list of candidate ids (struck or named) to indexes:
// an unknown id or one listed twice is an error naming field[i].
func indexList(field string, ids []string, index map[string]int) ([]uint16, error) {
	out := make([]uint16, 0, len(ids))
	seen := make(map[int]bool, len(ids))
	for i, id := range ids {
		j, ok := index[id]
		if !ok {
			return nil, Errorf(fmt.Sprintf("%s[%d]", field, i), "unknown candidate %q", id)
		}
		if seen[j] {
			return nil, Errorf(fmt.Sprintf("%s[%d]", field, i), "candidate %q is %s twice", id, field)
		}
		seen[j] = true
		out = append(out, uint16(j))
	}
	return out, nil
}

// Classify decides a marking's validity (domain-rules §4): Valid, or the
// reason it is invalid. The committee's ruling on sight comes first.
func (c *Contest) Classify(m Marking) Reason {
	if m.Ruling != Valid {
		return m.Ruling
	}
	n := len(c.Candidates)
	switch {
	case c.Ballot == StyleName:
		return classifyNamed(len(m.Named), c.Seats)
	case c.Kind == KindOpinion && n > 1:
		// Each row of an opinion ballot is its own question (đồng ý / không
		// đồng ý to admitting that nominee, 190 Điều 14.3): there are as
		// many seats as nominees, so no count of đồng ý is an over-vote,
		// and "không đồng ý" to every nominee is a valid opinion, not a
		// ballot that votes for nobody. A row with both boxes or none
		// counts for nobody. A single-nominee opinion ballot is decided
		// as any single-name approve ballot below (one box exactly).
		return Valid
	}
	if c.Ballot == StyleStrike {
		kept := n - len(m.Struck)
		switch {
		case kept == 0:
			return ReasonNoVote // "không bầu ai"
		case kept > c.Seats:
			return ReasonOverVote // includes an untouched ballot: every name kept
		}
		return Valid
	}
	if n == 1 {
		// One name: exactly one box must be marked (§4.1 item 2).
		if mk := m.Marks[0]; mk != MarkAgree && mk != MarkDisagree {
			return ReasonAmbiguousSingle
		}
		return Valid
	}
	agreed := 0
	for _, mk := range m.Marks {
		if mk == MarkAgree {
			agreed++
		}
	}
	if agreed > c.Seats {
		return ReasonOverVote
	}
	// A ballot of several names that agrees with nobody is invalid: 244-QĐ/TW
	// Điều 17.2 lists "không bầu ai trong danh sách nhiều người" among the
	// invalid ballots (audit A3; 190 Điều 15 [U]). Only for kinds that
	// elect: on an opinion ballot each row is its own question and
	// "không đồng ý" to all is a valid opinion.
	if agreed == 0 && c.Kind.Elects() {
		return ReasonNoVote
	}
	// Other rows with both boxes or none count for nobody; the ballot stays
	// valid (190-QĐ/TW Điều 30.1).
	return Valid
}
