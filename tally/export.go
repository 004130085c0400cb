package tally

import (
	"bytes"
	"encoding/json"
	"fmt"
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
