package tally

// BallotDecoder decodes the ballots of one contest (JSONL lines, DESIGN
// §5.2) straight into Markings, for recounts that read millions of them.
//
// The common line shapes — {"id":"…","struck":[…]} and {"id":"…","marks":{…}}
// in any key order, with any JSON whitespace, plain ASCII strings and known
// candidate ids — take a hand-written fast path that resolves candidate ids
// straight to indexes and allocates nothing but the id string. Anything
// else (escapes, non-ASCII text, "invalid" and "note", duplicate, unknown or
// differently cased keys, null, unknown candidates, names struck twice,
// trailing data, malformed JSON) goes through ParseBallot and Contest.Mark,
// which decide it and word the error. FuzzBallotDecoder holds the two paths
// to the same answers.
//
// A BallotDecoder is not safe for concurrent use.
type BallotDecoder struct {
	contest *Contest
	index   map[string]int
	strike  bool
	// struck and marks are the buffers behind the Markings the fast path
	// returns.
	struck []uint16
	marks  []Mark
	// stamp[j] == gen when candidate j is already struck on the ballot
	// being decoded: a name struck twice is found without a per-ballot map.
	stamp []uint32
	gen   uint32
}

// NewBallotDecoder returns a decoder for ballots of a validated contest.
func NewBallotDecoder(c *Contest) *BallotDecoder {
	d := &BallotDecoder{contest: c, index: c.Index(), strike: c.Ballot == StyleStrike}
	n := len(c.Candidates)
	switch c.Ballot {
	case StyleStrike:
		// Never nil, so that an untouched ballot ("struck": []) decodes to
		// an empty, non-nil list, as Contest.Mark makes it.
		d.struck = make([]uint16, 0, max(n, 1))
		d.stamp = make([]uint32, n)
	case StyleApprove:
		d.marks = make([]Mark, n)
	}
	return d
}

// Decode decodes and resolves one ballot. It accepts and refuses exactly
// what ParseBallot followed by Contest.Mark does, and returns the same id
// and an equal Marking. The Marking's slices are only valid until the next
// call.
func (d *BallotDecoder) Decode(line []byte) (id string, m Marking, err error) {
	if id, m, ok := d.fast(line); ok {
		return id, m, nil
	}
	return d.slow(line)
}

// slow is the reference path: encoding/json, then Contest.Mark.
func (d *BallotDecoder) slow(line []byte) (string, Marking, error) {
	b, err := ParseBallot(line)
	if err != nil {
		return "", Marking{}, err
	}
	m, err := d.contest.Mark(b, d.index)
	return b.ID, m, err
}

// fast decodes the common shapes of a valid ballot. ok is false for
// anything it does not handle exactly as the slow path would, valid or not;
// it never reports an error itself.
func (d *BallotDecoder) fast(s []byte) (id string, m Marking, ok bool) {
	if d.struck == nil && d.marks == nil {
		return "", Marking{}, false // no valid ballot style
	}
	p := skipSpace(s, 0)
	if p >= len(s) || s[p] != '{' {
		return "", Marking{}, false
	}
	p = skipSpace(s, p+1)
	var (
		idb                           []byte
		haveID, haveStruck, haveMarks bool
	)
	for {
		// A key. encoding/json matches keys case-insensitively and lets the
		// last of a repeated key win: only the three exact lower-case keys,
		// each once, stay here.
		key, q, good := plainString(s, p)
		if !good {
			return "", Marking{}, false
		}
		p = skipSpace(s, q)
		if p >= len(s) || s[p] != ':' {
			return "", Marking{}, false
		}
		p = skipSpace(s, p+1)
		switch string(key) {
		case "id":
			if haveID {
				return "", Marking{}, false
			}
			haveID = true
			if idb, p, good = plainString(s, p); !good || !plainID(idb) {
				return "", Marking{}, false
			}
		case "struck":
			if haveStruck || !d.strike {
				return "", Marking{}, false
			}
			haveStruck = true
			if p, good = d.struckList(s, p); !good {
				return "", Marking{}, false
			}
		case "marks":
			if haveMarks || d.strike {
				return "", Marking{}, false
			}
			haveMarks = true
			if p, good = d.markObject(s, p); !good {
				return "", Marking{}, false
			}
		default:
			return "", Marking{}, false
		}
		p = skipSpace(s, p)
		if p >= len(s) {
			return "", Marking{}, false
		}
		if s[p] == '}' {
			p++
			break
		}
		if s[p] != ',' {
			return "", Marking{}, false
		}
		p = skipSpace(s, p+1)
	}
	// Only whitespace may follow the object.
	if skipSpace(s, p) != len(s) || !haveID {
		return "", Marking{}, false
	}
	if d.strike {
		if !haveStruck {
			return "", Marking{}, false
		}
		return string(idb), Marking{Struck: d.struck}, true
	}
	if !haveMarks {
		return "", Marking{}, false
	}
	return string(idb), Marking{Marks: d.marks}, true
}

// struckList reads a JSON array of known candidate ids, each once, into
// d.struck, and returns the offset after it.
func (d *BallotDecoder) struckList(s []byte, p int) (int, bool) {
	d.struck = d.struck[:0]
	if p >= len(s) || s[p] != '[' {
		return p, false // null and everything else go the slow way
	}
	d.gen++
	if d.gen == 0 { // wrapped: forget every old stamp
		clear(d.stamp)
		d.gen = 1
	}
	p = skipSpace(s, p+1)
	if p < len(s) && s[p] == ']' {
		return p + 1, true
	}
	for {
		cand, q, ok := plainString(s, p)
		if !ok {
			return p, false
		}
		j, ok := d.index[string(cand)]
		if !ok || d.stamp[j] == d.gen {
			return p, false // unknown or struck twice: the slow path says which
		}
		d.stamp[j] = d.gen
		d.struck = append(d.struck, uint16(j))
		p = skipSpace(s, q)
		if p >= len(s) {
			return p, false
		}
		switch s[p] {
		case ']':
			return p + 1, true
		case ',':
			p = skipSpace(s, p+1)
		default:
			return p, false
		}
	}
}

// markObject reads a JSON object of known candidate ids to mark names into
// d.marks (the last of a repeated id wins, as in a Go map), and returns the
// offset after it.
func (d *BallotDecoder) markObject(s []byte, p int) (int, bool) {
	clear(d.marks)
	if p >= len(s) || s[p] != '{' {
		return p, false
	}
	p = skipSpace(s, p+1)
	if p < len(s) && s[p] == '}' {
		return p + 1, true
	}
	for {
		cand, q, ok := plainString(s, p)
		if !ok {
			return p, false
		}
		j, ok := d.index[string(cand)]
		if !ok {
			return p, false
		}
		p = skipSpace(s, q)
		if p >= len(s) || s[p] != ':' {
			return p, false
		}
		name, q, ok := plainString(s, skipSpace(s, p+1))
		if !ok {
			return p, false
		}
		switch string(name) {
		case "none":
			d.marks[j] = MarkNone
		case "agree":
			d.marks[j] = MarkAgree
		case "disagree":
			d.marks[j] = MarkDisagree
		case "both":
			d.marks[j] = MarkBoth
		default:
			return p, false
		}
		p = skipSpace(s, q)
		if p >= len(s) {
			return p, false
		}
		switch s[p] {
		case '}':
			return p + 1, true
		case ',':
			p = skipSpace(s, p+1)
		default:
			return p, false
		}
	}
}

// plainString reads a JSON string at s[p] made only of printable ASCII
// without escapes, whose bytes are therefore its value, and returns its
// contents and the offset after the closing quote. Any other string
// (escapes, control or non-ASCII bytes, which encoding/json may replace)
// is not plain.
func plainString(s []byte, p int) (str []byte, next int, ok bool) {
	if p >= len(s) || s[p] != '"' {
		return nil, p, false
	}
	for i := p + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return s[p+1 : i], i + 1, true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, p, false
		}
	}
	return nil, p, false
}

// plainID reports whether a plain string is a ballot id Ballot.Validate
// accepts without a doubt: 1 to maxBallotID bytes of printable ASCII, no
// space. Other ids may still be valid; the slow path judges them.
func plainID(b []byte) bool {
	if len(b) == 0 || len(b) > maxBallotID {
		return false
	}
	for _, c := range b {
		if c == ' ' {
			return false
		}
	}
	return true
}

// skipSpace returns the offset of the first byte at or after p that is not
// JSON whitespace.
func skipSpace(s []byte, p int) int {
	for p < len(s) {
		switch s[p] {
		case ' ', '\t', '\n', '\r':
			p++
		default:
			return p
		}
	}
	return p
}
