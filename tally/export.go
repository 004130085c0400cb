package tally

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// ExportKind marks the first line of a round's export.
const ExportKind = "kiemphieu-log-export"

// ExportHeader is the first line of a round's export (JSONL): the round's
// record. The log's entries follow, one a line, then an ExportTrailer.
type ExportHeader struct {
	Kind   string  `json:"kind"`
	Record *Record `json:"record"`
}

// ExportTrailer is the last line of an export: the result the service
// computed from the entries before it.
type ExportTrailer struct {
	Result *Result `json:"result"`
}

// VerifyExport checks an export: the contest is valid, the entries form an
// unbroken hash chain, a closed or certified round's log ends at the head
// and version recorded when it closed, and replaying the entries gives the
// exported result exactly. It returns the head hash (to compare with the
// one printed on the minutes) and the recounted result.
func VerifyExport(rec *Record, entries []Entry, exported *Result) (string, *Result, error) {
	if rec == nil || rec.Contest == nil {
		return "", nil, Errorf("record", "missing: the first line must hold the round's record")
	}
	if err := rec.Contest.Validate(); err != nil {
		return "", nil, err
	}
	head, err := VerifyChain(entries)
	if err != nil {
		return "", nil, err
	}
	if rec.State == StateClosed || rec.State == StateCertified {
		if int64(len(entries)) != rec.Version || head != rec.Head {
			return "", nil, &Error{Kind: Invalid, Field: "record.head", Message: fmt.Sprintf(
				"the round was %s at entry %d with head %s, but the log has %d entries ending with %s",
				rec.State, rec.Version, rec.Head, len(entries), head)}
		}
	}
	count, err := Replay(rec.Contest, entries)
	if err != nil {
		return "", nil, err
	}
	res := count.Result()
	version := int64(len(entries))
	res.Version = &version
	if exported == nil {
		return "", nil, Errorf("result", "missing: the last line must hold the exported result")
	}
	got, _ := json.Marshal(res)
	want, _ := json.Marshal(exported)
	if !bytes.Equal(got, want) {
		return "", nil, &Error{Kind: Invalid, Field: "result", Message: "the recount of the log differs from the exported result"}
	}
	return head, res, nil
}

// CheckStoreRules checks what every store enforces as it appends and
// VerifyExport (the chain and the recount) does not: each entry is a
// ballot or a void and has a time; a ballot passes Validate, carries no
// ruling but one made on sight, is marked against the contest (a voided
// one too) and has an id no earlier ballot has; a void names an earlier
// ballot by its id and its entry, once. A log that breaks one was not
// written by a store, and rebuilding it through one would stop part-way:
// an import refuses it before storing anything.
func CheckStoreRules(c *Contest, entries []Entry) error {
	index := c.Index()
	ballots := make(map[string]int64, len(entries)) // ballot id → its entry's seq
	voided := map[string]bool{}
	for i, e := range entries {
		field := fmt.Sprintf("log[%d]", i)
		switch {
		case (e.Ballot == nil) == (e.Void == nil):
			return Errorf(field, "entry %d is neither a ballot nor a void", e.Seq)
		case e.Time == "":
			return Errorf(field+".time", "entry %d has no time: a store stamps every entry", e.Seq)
		case e.Ballot != nil:
			b := e.Ballot
			err := b.Validate()
			if err == nil && b.Invalid != Valid && !b.Invalid.OnSight() {
				err = Errorf("invalid", "%q is not a ruling on sight", b.Invalid)
			}
			if err == nil {
				_, err = c.Mark(*b, index)
			}
			if err != nil {
				return Errorf(field+".ballot", "entry %d: %v", e.Seq, err)
			}
			if seq, seen := ballots[b.ID]; seen {
				return Errorf(field+".ballot.id", "entry %d repeats the ballot id %q of entry %d: a store records a ballot id once", e.Seq, b.ID, seq)
			}
			ballots[b.ID] = e.Seq
		default:
			v := e.Void
			seq, seen := ballots[v.Ballot]
			switch {
			case !seen:
				return Errorf(field+".void.ballot", "entry %d voids ballot %q, which no earlier entry holds", e.Seq, v.Ballot)
			case v.Seq != seq:
				return Errorf(field+".void.seq", "entry %d voids ballot %q as entry %d; it is entry %d", e.Seq, v.Ballot, v.Seq, seq)
			case voided[v.Ballot]:
				return Errorf(field+".void.ballot", "entry %d voids ballot %q a second time: a store records one void of a ballot", e.Seq, v.Ballot)
			}
			voided[v.Ballot] = true
		}
	}
	return nil
}

// Export is a round's export as read by ReadExport, with the file line of
// each part so that a problem can be pointed at.
type Export struct {
	Record  *Record
	Entries []Entry
	Result  *Result
	lines   []int // the file line of the header, of each entry, of the result
}

// ExportError is a problem reading an export: the file line it is on (0
// when it concerns no one line), the field it concerns (as VerifyExport
// names them: "kind", "record", "log[3]", "result") and what is wrong.
type ExportError struct {
	Line    int
	Field   string
	Message string
}

func (e *ExportError) Error() string { return e.Message }

// ReadExport reads an export (GET /contests/{id}/export.jsonl) line by
// line: the header, the entries and the result, each decoded strictly (an
// unknown field is refused: a file that says more than an export does is
// not one). Blank lines are skipped. maxLine bounds one line, the record of
// a large contest being a single line. It does not verify anything beyond
// the format: VerifyExport does.
func ReadExport(r io.Reader, maxLine int) (*Export, error) {
	var lines [][]byte
	var numbers []int // the file line of each non-blank line
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, maxLine)), maxLine)
	for n := 1; sc.Scan(); n++ {
		if b := bytes.TrimSpace(sc.Bytes()); len(b) > 0 {
			lines, numbers = append(lines, bytes.Clone(b)), append(numbers, n)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ExportError{Message: err.Error()}
	}
	if len(lines) < 2 {
		return nil, &ExportError{Line: 1, Message: "not a kiemphieu export: it needs a record line and a result line"}
	}
	strict := func(i int, v any, field, what string) error {
		dec := json.NewDecoder(bytes.NewReader(lines[i]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return &ExportError{Line: numbers[i], Field: field, Message: fmt.Sprintf("not %s: %v", what, strings.TrimPrefix(err.Error(), "json: "))}
		}
		return nil
	}
	var head ExportHeader
	if err := strict(0, &head, "record", "an export header"); err != nil {
		return nil, err
	}
	if head.Kind != ExportKind {
		return nil, &ExportError{Line: numbers[0], Field: "kind", Message: fmt.Sprintf("kind: %q is not a kiemphieu log export", head.Kind)}
	}
	x := &Export{Record: head.Record, Entries: make([]Entry, len(lines)-2), lines: numbers}
	for i := range x.Entries {
		if err := strict(i+1, &x.Entries[i], fmt.Sprintf("log[%d]", i), "a log entry"); err != nil {
			return nil, err
		}
	}
	var tail ExportTrailer
	if err := strict(len(lines)-1, &tail, "result", "the result line"); err != nil {
		return nil, err
	}
	x.Result = tail.Result
	return x, nil
}

// Line is the file line a problem's field points at: the entry's line for
// "log[i]…", the last line for "result", the first line otherwise.
func (x *Export) Line(field string) int {
	var i int
	switch {
	case strings.HasPrefix(field, "log["):
		if _, err := fmt.Sscanf(field, "log[%d]", &i); err == nil && i >= 0 && i < len(x.Entries) {
			return x.lines[i+1]
		}
	case field == "result":
		return x.lines[len(x.lines)-1]
	}
	return x.lines[0]
}

// Verify is VerifyExport on what was read.
func (x *Export) Verify() (string, *Result, error) {
	return VerifyExport(x.Record, x.Entries, x.Result)
}
