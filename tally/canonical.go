package tally

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

// MarshalJSON writes a ballot canonically: fields in a fixed order, marks by
// candidate id, and an empty "struck" kept (it is the untouched ballot, an
// over-vote, and must survive a round trip through the log). Hashes of the
// ballot log are taken over these bytes.
func (b Ballot) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	b.writeCanonical(&buf)
	return buf.Bytes(), nil
}

// writeCanonical writes what MarshalJSON returns.
func (b *Ballot) writeCanonical(buf *bytes.Buffer) {
	buf.Grow(32 + 8*len(b.Struck) + 16*len(b.Marks) + 8*len(b.Named) + len(b.Note))
	buf.WriteString(`{"id":`)
	writeString(buf, b.ID)
	if b.Struck != nil {
		writeIDs(buf, `,"struck":[`, b.Struck)
	}
	if b.Marks != nil {
		buf.WriteString(`,"marks":{`)
		ids := make([]string, 0, len(b.Marks))
		for id := range b.Marks {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for i, id := range ids {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, id)
			buf.WriteString(`:"` + b.Marks[id].String() + `"`)
		}
		buf.WriteByte('}')
	}
	// "named" (introduction ballots, issue 12) comes after "marks": a
	// ballot without it writes the bytes it always did, so the hashes of
	// every log kept before it are unchanged. An empty list is kept: it is
	// the ballot that names nobody (no_vote).
	if b.Named != nil {
		writeIDs(buf, `,"named":[`, b.Named)
	}
	if b.Invalid != Valid {
		buf.WriteString(`,"invalid":"` + b.Invalid.String() + `"`)
	}
	if b.Note != "" {
		buf.WriteString(`,"note":`)
		writeString(buf, b.Note)
	}
	buf.WriteByte('}')
}

// writeIDs writes key (`,"struck":[`) and the ids as JSON strings, then ].
func writeIDs(buf *bytes.Buffer, key string, ids []string) {
	buf.WriteString(key)
	for i, id := range ids {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(buf, id)
	}
	buf.WriteByte(']')
}

// writeString writes s as a JSON string without HTML escaping, so that the
// canonical bytes do not depend on an encoder setting.
//
// Strings of printable ASCII without a quote or a backslash, with
// perhaps valid UTF-8 other than U+2028 and U+2029 (ids, names of desks,
// times: nearly every string of a log) are written as they are, which is
// what the encoder writes for them, without its allocations; the rest go
// through the encoder. TestWriteStringAsEncoder holds the two to the same
// bytes.
func writeString(buf *bytes.Buffer, s string) {
	if encodesAsIs(s) {
		buf.WriteByte('"')
		buf.WriteString(s)
		buf.WriteByte('"')
		return
	}
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	buf.Write(bytes.TrimSuffix(tmp.Bytes(), []byte("\n")))
}

// encodesAsIs reports whether encoding/json writes s as it is between
// quotes (with HTML escaping off).
func encodesAsIs(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c == '"' || c == '\\' {
			return false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	return ascii || utf8.ValidString(s) && !strings.ContainsRune(s, '\u2028') && !strings.ContainsRune(s, '\u2029')
}
