package tally

import (
	"slices"
	"strings"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// NameParts splits a Vietnamese full name into family name (họ, the first
// word), middle names (tên đệm) and given name (tên, the last word).
func NameParts(name string) (family, middle, given string) {
	w := strings.Fields(name)
	switch len(w) {
	case 0:
		return "", "", ""
	case 1:
		return "", "", w[0]
	}
	return w[0], strings.Join(w[1:len(w)-1], " "), w[len(w)-1]
}

// SortBallotOrder sorts candidates into the order of the ballot paper: "theo
// vần A, B, C" of the given name, then the family name, then the middle
// names, with Vietnamese collation (Đ after D, Ơ after Ô, tone marks
// secondary); then the elder first, then the id, so that the order is total
// and never depends on the order the list was typed in (domain-rules §3.3, Q10).
func SortBallotOrder(cands []Candidate) {
	// A Collator keeps iteration state: one per sort, never shared.
	col := collate.New(language.Vietnamese)
	type keyed struct {
		given, family, middle []byte
		c                     Candidate
	}
	var buf collate.Buffer
	ks := make([]keyed, len(cands))
	for i, c := range cands {
		f, m, g := NameParts(c.Name)
		// Keys are copied out of buf, which the next KeyFromString reuses.
		ks[i] = keyed{
			given:  slices.Clone(col.KeyFromString(&buf, g)),
			family: slices.Clone(col.KeyFromString(&buf, f)),
			middle: slices.Clone(col.KeyFromString(&buf, m)),
			c:      c,
		}
		buf.Reset()
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		if r := compareBytes(a.given, b.given); r != 0 {
			return r
		}
		if r := compareBytes(a.family, b.family); r != 0 {
			return r
		}
		if r := compareBytes(a.middle, b.middle); r != 0 {
			return r
		}
		if r := compareBirth(a.c.BirthDate, b.c.BirthDate); r != 0 {
			return r
		}
		return strings.Compare(a.c.ID, b.c.ID)
	})
	for i := range ks {
		cands[i] = ks[i].c
	}
}

func compareBytes(a, b []byte) int { return strings.Compare(string(a), string(b)) }

// compareBirth puts the elder first and unknown dates last. ISO dates
// compare as strings.
func compareBirth(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	return strings.Compare(a, b)
}
