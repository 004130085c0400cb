package tally

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// GenesisHash is the prev of a log's first entry: 64 zero hex digits.
var GenesisHash = strings.Repeat("0", 64)

// Entry is one line of a round's append-only, hash-chained ballot log
// (DESIGN §3): a ballot as keyed, or the void of an earlier ballot. Nothing
// in it links a ballot to a voter: Desk names the counting desk.
type Entry struct {
	Seq    int64   `json:"seq"`
	Ballot *Ballot `json:"ballot,omitempty"`
	Void   *Void   `json:"void,omitempty"`
	Desk   string  `json:"desk"`
	// DeskID is the credential the desk keyed with ("token:<id>",
	// "user:<name>"): names repeat ("Bàn 1" issued twice), so it is what
	// tells whose entry a void may withdraw. Empty in logs written before
	// it existed and in ballots the service appends itself (verified
	// entry); then it is left out of the canonical form, so that those
	// logs keep their hashes.
	DeskID string `json:"desk_id,omitempty"`
	Time   string `json:"time"` // RFC 3339, set by the store when it appends
	Prev   string `json:"prev"`
	Hash   string `json:"hash"`
}

// Void withdraws an earlier ballot from the count: a correction is a new
// entry, never an edit (a slip at the desk, then the ballot re-keyed).
type Void struct {
	Seq    int64  `json:"seq"`    // the entry voided
	Ballot string `json:"ballot"` // its ballot id
	Reason string `json:"reason"`
}

// canonical writes the entry without its hash: the bytes the hash covers.
func (e *Entry) canonical(buf *bytes.Buffer) {
	buf.Grow(256)
	buf.WriteString(`{"seq":`)
	buf.WriteString(strconv.FormatInt(e.Seq, 10))
	if e.Ballot != nil {
		buf.WriteString(`,"ballot":`)
		e.Ballot.writeCanonical(buf)
	}
	if e.Void != nil {
		buf.WriteString(`,"void":{"seq":` + strconv.FormatInt(e.Void.Seq, 10) + `,"ballot":`)
		writeString(buf, e.Void.Ballot)
		buf.WriteString(`,"reason":`)
		writeString(buf, e.Void.Reason)
		buf.WriteByte('}')
	}
	buf.WriteString(`,"desk":`)
	writeString(buf, e.Desk)
	if e.DeskID != "" {
		buf.WriteString(`,"desk_id":`)
		writeString(buf, e.DeskID)
	}
	buf.WriteString(`,"time":`)
	writeString(buf, e.Time)
	buf.WriteString(`,"prev":"` + e.Prev + `"}`)
}

// ComputeHash is SHA-256 over prev and the entry's canonical JSON without
// its hash, in hex.
func (e *Entry) ComputeHash() string {
	var buf bytes.Buffer
	buf.WriteString(e.Prev)
	e.canonical(&buf)
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:])
}

// Link makes e the entry after one with sequence number seq and hash prev
// (0 and GenesisHash for the first), filling Seq, Prev and Hash.
func (e *Entry) Link(seq int64, prev string) {
	e.Seq, e.Prev = seq+1, prev
	e.Hash = e.ComputeHash()
}

// MarshalJSON writes the canonical form followed by the hash: one line of
// the JSONL log export.
func (e Entry) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	e.canonical(&buf)
	buf.Truncate(buf.Len() - 1)
	buf.WriteString(`,"hash":"` + e.Hash + `"}`)
	return buf.Bytes(), nil
}

// VerifyChain checks that entries are a whole log from its start: seq 1, 2,
// …, each prev the hash of the one before, each hash right. It returns the
// head hash (GenesisHash for an empty log).
func VerifyChain(entries []Entry) (head string, err error) {
	head = GenesisHash
	for i := range entries {
		e := &entries[i]
		if want := int64(i + 1); e.Seq != want {
			return "", &Error{Kind: Invalid, Field: fmt.Sprintf("log[%d].seq", i), Message: fmt.Sprintf("is %d, want %d: an entry is missing or out of order", e.Seq, want)}
		}
		if e.Prev != head {
			return "", &Error{Kind: Invalid, Field: fmt.Sprintf("log[%d].prev", i), Message: fmt.Sprintf("entry %d does not follow entry %d: the chain is broken", e.Seq, e.Seq-1)}
		}
		if h := e.ComputeHash(); e.Hash != h {
			return "", &Error{Kind: Invalid, Field: fmt.Sprintf("log[%d].hash", i), Message: fmt.Sprintf("entry %d has been altered: its hash is %s, its content hashes to %s", e.Seq, e.Hash, h)}
		}
		head = e.Hash
	}
	return head, nil
}

// Replay folds a log that passed VerifyChain into a count, leaving voided
// ballots out. It checks every entry against the contest as the append did.
func Replay(c *Contest, entries []Entry) (*Count, error) {
	voided := map[int64]bool{}
	for i, e := range entries {
		if e.Void == nil {
			continue
		}
		if e.Void.Seq < 1 || e.Void.Seq >= e.Seq || int(e.Void.Seq) > len(entries) || entries[e.Void.Seq-1].Ballot == nil {
			return nil, &Error{Kind: Invalid, Field: fmt.Sprintf("log[%d].void.seq", i), Message: fmt.Sprintf("entry %d voids entry %d, which is not an earlier ballot", e.Seq, e.Void.Seq)}
		}
		// A void names its ballot twice, by seq and by id; a store writes
		// both from one lookup. Were they allowed to differ, the log would
		// read as withdrawing one ballot while the count left out another.
		if id := entries[e.Void.Seq-1].Ballot.ID; e.Void.Ballot != id {
			return nil, &Error{Kind: Invalid, Field: fmt.Sprintf("log[%d].void.ballot", i), Message: fmt.Sprintf("entry %d voids entry %d, ballot %q, but names ballot %q", e.Seq, e.Void.Seq, id, e.Void.Ballot)}
		}
		if voided[e.Void.Seq] {
			return nil, &Error{Kind: Invalid, Field: fmt.Sprintf("log[%d].void.seq", i), Message: fmt.Sprintf("entry %d is voided twice", e.Void.Seq)}
		}
		voided[e.Void.Seq] = true
	}
	index := c.Index()
	count := NewCount(c)
	for i, e := range entries {
		if e.Ballot == nil || voided[e.Seq] {
			continue
		}
		err := e.Ballot.Validate()
		var m Marking
		if err == nil {
			m, err = c.Mark(*e.Ballot, index)
		}
		if err != nil {
			return nil, fmt.Errorf("log[%d] (seq %d): %w", i, e.Seq, err)
		}
		count.Add(m)
	}
	return count, nil
}
