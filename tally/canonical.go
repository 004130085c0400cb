package tally

import (
	"bytes"
	"encoding/json"
	"slices"
)

// MarshalJSON writes a ballot canonically: fields in a fixed order, marks by
// candidate id, and an empty "struck" kept (it is the untouched ballot, an
// over-vote, and must survive a round trip through the log). Hashes of the
// ballot log are taken over these bytes.
func (b Ballot) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"id":`)
	writeString(&buf, b.ID)
	if b.Struck != nil {
		buf.WriteString(`,"struck":[`)
		for i, id := range b.Struck {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(&buf, id)
		}
		buf.WriteByte(']')
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
			writeString(&buf, id)
			buf.WriteString(`:"` + b.Marks[id].String() + `"`)
		}
		buf.WriteByte('}')
	}
	if b.Invalid != Valid {
		buf.WriteString(`,"invalid":"` + b.Invalid.String() + `"`)
	}
	if b.Note != "" {
		buf.WriteString(`,"note":`)
		writeString(&buf, b.Note)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// writeString writes s as a JSON string without HTML escaping, so that the
// canonical bytes do not depend on an encoder setting.
func writeString(buf *bytes.Buffer, s string) {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	buf.Write(bytes.TrimSuffix(tmp.Bytes(), []byte("\n")))
}
