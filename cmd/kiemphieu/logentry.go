package main

import (
	"bytes"
	"strconv"

	"github.com/kiemphieu/kiemphieu/tally"
)

// decodeCanonicalEntry decodes a log line written by the service (the
// canonical form of tally.Entry.MarshalJSON) of a ballot that strikes
// names, without encoding/json: {"seq":N,"ballot":{"id":S,"struck":[S,…]},
// "desk":S[,"desk_id":S],"time":S,"prev":S,"hash":S} with strings free of
// escapes. It
// then serialises the entry again and accepts it only if that gives the
// line byte for byte, so an entry it returns is the one the strict decoder
// would have returned. Anything else (voids, marks, ballots ruled invalid,
// notes, escapes, other spacing or order) reports false and goes through
// the strict decoder, which also words the errors.
func decodeCanonicalEntry(line []byte) (tally.Entry, bool) {
	var e tally.Entry
	p := line
	eat := func(lit string) bool {
		if !bytes.HasPrefix(p, []byte(lit)) {
			return false
		}
		p = p[len(lit):]
		return true
	}
	str := func() (string, bool) {
		if len(p) == 0 || p[0] != '"' {
			return "", false
		}
		i := bytes.IndexByte(p[1:], '"')
		if i < 0 || bytes.IndexByte(p[1:1+i], '\\') >= 0 {
			return "", false
		}
		s := string(p[1 : 1+i])
		p = p[2+i:]
		return s, true
	}
	if !eat(`{"seq":`) {
		return e, false
	}
	i := 0
	for i < len(p) && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	seq, err := strconv.ParseInt(string(p[:i]), 10, 64)
	if err != nil {
		return e, false
	}
	p = p[i:]
	e.Seq = seq
	var b tally.Ballot
	var ok bool
	if !eat(`,"ballot":{"id":`) {
		return e, false
	}
	if b.ID, ok = str(); !ok || !eat(`,"struck":[`) {
		return e, false
	}
	b.Struck = []string{}
	for len(p) > 0 && p[0] != ']' {
		if len(b.Struck) > 0 && !eat(",") {
			return e, false
		}
		s, ok := str()
		if !ok {
			return e, false
		}
		b.Struck = append(b.Struck, s)
	}
	if !eat(`]},"desk":`) {
		return e, false
	}
	e.Ballot = &b
	if e.Desk, ok = str(); !ok {
		return e, false
	}
	if eat(`,"desk_id":`) {
		if e.DeskID, ok = str(); !ok {
			return e, false
		}
	}
	if !eat(`,"time":`) {
		return e, false
	}
	if e.Time, ok = str(); !ok || !eat(`,"prev":`) {
		return e, false
	}
	if e.Prev, ok = str(); !ok || !eat(`,"hash":`) {
		return e, false
	}
	if e.Hash, ok = str(); !ok || !eat(`}`) || len(p) != 0 {
		return e, false
	}
	again, _ := e.MarshalJSON()
	if !bytes.Equal(again, line) {
		return tally.Entry{}, false
	}
	return e, true
}
