package tally

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// decodeStrikeContest and decodeApproveContest are the small contests the
// decoder tests run against. "c1" and "C1" are both candidates, so that
// encoding/json's case-insensitive key matching cannot hide behind them.
const decodeStrikeContest = `{
  "id": "dec-strike", "title": "Strike", "kind": "delegates", "seats": 3, "ballot": "strike",
  "electorate": {"congress": "delegates", "convened": 20},
  "candidates": [
    {"id": "c1", "name": "Nguyễn Văn An"}, {"id": "c2", "name": "Trần Thị Bình"},
    {"id": "C1", "name": "Lê Văn Cường"}, {"id": "c-4.x_y", "name": "Phạm Thị Dung"},
    {"id": "c5", "name": "Hoàng Văn Em"}
  ]
}`

const decodeApproveContest = `{
  "id": "dec-approve", "title": "Approve", "kind": "secretary", "seats": 3, "ballot": "approve",
  "electorate": {"congress": "body", "convened": 9},
  "candidates": [
    {"id": "c1", "name": "Nguyễn Văn An"}, {"id": "c2", "name": "Trần Thị Bình"},
    {"id": "C1", "name": "Lê Văn Cường"}
  ]
}`

// decodeNameContest is an introduction ballot (style "name"), which the
// decoder leaves to the reference path.
const decodeNameContest = `{
  "id": "dec-name", "title": "Name", "kind": "introduction", "seats": 2, "ballot": "name",
  "electorate": {"congress": "body", "convened": 9},
  "candidates": [
    {"id": "c1", "name": "Nguyễn Văn An"}, {"id": "c2", "name": "Trần Thị Bình"},
    {"id": "C1", "name": "Lê Văn Cường"}
  ]
}`

func decodeTestContest(tb testing.TB, js string) *Contest {
	tb.Helper()
	c, err := ParseContest([]byte(js))
	if err != nil {
		tb.Fatalf("contest: %v", err)
	}
	return c
}

// decodeSeeds are typical lines, whitespace and key-order variants, and the
// odd shapes the fast path must leave to encoding/json.
var decodeSeeds = []string{
	`{"id":"b-0001","struck":["c2","c5"]}`,
	`{"id": "b-0001", "struck": ["c2", "c5"]}`,
	"  {\t\"struck\" :\r\n[ \"c1\" ,\"C1\" ] , \"id\":\"b-2\"\n}  \r\n",
	`{"id":"b-3","struck":[]}`,
	`{"id":"b-3","struck":[ ]}`,
	`{"struck":["c1","c2","C1","c-4.x_y","c5"],"id":"all"}`,
	`{"id":"b-4","marks":{"c1":"agree","c2":"disagree","C1":"both"}}`,
	`{"marks":{"c1":"none"},"id":"b-5"}`,
	`{"id":"b-6","marks":{}}`,
	`{"id":"b-7","marks":{"c1":"agree","c1":"disagree"}}`,
	`{"id":"b-n1","named":["c2","c1"]}`,
	`{"id":"b-n2","named":[]}`,
	`{"id":"b-n3","named":["c1","c1"]}`,
	`{"id":"b-n4","named":["c1"],"struck":[]}`,
	// Committee rulings and notes.
	`{"id": "b-0003", "invalid": "write_in", "note": "ghi thêm tên"}`,
	`{"id":"b-8","invalid":"other"}`,
	`{"id":"b-8","invalid":"other","note":"  x  "}`,
	`{"id":"b-8","invalid":"bogus"}`,
	`{"id":"b-8","invalid":"not_issued","struck":[]}`,
	// Escapes and non-ASCII.
	`{"id":"b\u002d9","struck":["c2"]}`,
	`{"id":"b-9","struck":["c\u0032"]}`,
	`{"\u0069d":"b-9","struck":["c2"]}`,
	`{"id":"phiếu-1","struck":["c2"]}`,
	"{\"id\":\"b-\xff\",\"struck\":[\"c2\"]}",
	"{\"id\":\"b-\x7f\",\"struck\":[\"c2\"]}",
	`{"id":"b 10","struck":["c2"]}`,
	`{"id":"","struck":["c2"]}`,
	`{"id":"` + strings.Repeat("x", 128) + `","struck":[]}`,
	`{"id":"` + strings.Repeat("x", 129) + `","struck":[]}`,
	// Case, duplicates, unknowns, nulls.
	`{"ID":"b-11","struck":["c2"]}`,
	`{"id":"b-11","Struck":["c2"]}`,
	`{"id":"b-11","ſtruck":["c2"]}`,
	`{"id":"b-11","id":"b-12","struck":["c2"]}`,
	`{"id":"b-11","struck":["c2"],"struck":["c1"]}`,
	`{"id":"b-11","marks":{"c1":"agree"},"marks":{"c2":"agree"}}`,
	`{"id":"b-11","struck":["c2","c2"]}`,
	`{"id":"b-11","struck":["c2","zz"]}`,
	`{"id":"b-11","marks":{"zz":"agree"}}`,
	`{"id":"b-11","marks":{"c1":"Agree"}}`,
	`{"id":"b-11","struck":null}`,
	`{"id":"b-11","struck":null,"marks":{"c1":"agree"}}`,
	`{"id":"b-11","marks":null,"struck":[]}`,
	`{"id":null,"struck":[]}`,
	`{"id":"b-11","struck":["c2",null]}`,
	`{"id":"b-11","marks":{"c1":null}}`,
	`{"id":"b-11","struck":[],"marks":{}}`,
	`{"id":"b-11","extra":1,"struck":[]}`,
	`{"id":"b-11"}`,
	`{"struck":[]}`,
	`{}`,
	// Malformed and trailing data.
	`{"id":"b-12","struck":["c2",]}`,
	`{"id":"b-12","struck":["c2"],}`,
	`{"id":"b-12" "struck":["c2"]}`,
	`{"id":"b-12","struck":["c2"]`,
	`{"id":"b-12","struck":["c2"]}{}`,
	`{"id":"b-12","struck":["c2"]}]`,
	`{"id":"b-12","struck":["c2"]} "x"`,
	`{"id":"b-12","struck":["c2"]} 1`,
	`{"id":"b-12","struck":["c2"]} tru`,
	`{"id":"b-12","struck":[["c2"]]}`,
	`{"id":"b-12","struck":[{"c":1}],"note":{"a":[1,2,{"b":null}]}}`,
	`{"id":5,"struck":[]}`,
	`["b-12"]`,
	`null`,
	``,
	`   `,
	"\ufeff{\"id\":\"b-12\",\"struck\":[]}",
}

// decodeWant is the reference answer: ParseBallot, then Contest.Mark.
func decodeWant(c *Contest, line []byte) (string, Marking, error) {
	b, err := ParseBallot(line)
	if err != nil {
		return "", Marking{}, err
	}
	m, err := c.Mark(b, c.Index())
	return b.ID, m, err
}

// decodeCheck holds BallotDecoder.Decode to the reference on one line.
func decodeCheck(t *testing.T, c *Contest, d *BallotDecoder, line []byte) {
	t.Helper()
	id, m, err := d.Decode(line)
	// Copy before anything else can reuse the decoder's buffers.
	m.Struck, m.Marks = slices.Clone(m.Struck), slices.Clone(m.Marks)
	wid, wm, werr := decodeWant(c, line)
	if (err == nil) != (werr == nil) {
		t.Fatalf("%s contest, %q:\nDecode: %q %+v %v\nslow:   %q %+v %v", c.Ballot, line, id, m, err, wid, wm, werr)
	}
	if err != nil {
		// Messages about marks name a random unknown id (Go map order),
		// so only the kind is compared there.
		if ErrorKind(err) != ErrorKind(werr) ||
			!strings.HasPrefix(err.Error(), "marks.") && err.Error() != werr.Error() {
			t.Fatalf("%s contest, %q: errors differ:\nDecode: %v\nslow:   %v", c.Ballot, line, err, werr)
		}
		return
	}
	if id != wid || !reflect.DeepEqual(m, wm) {
		t.Fatalf("%s contest, %q:\nDecode: %q %#v\nslow:   %q %#v", c.Ballot, line, id, m, wid, wm)
	}
}

// FuzzBallotDecoder holds the fast decoder to ParseBallot + Contest.Mark on
// arbitrary bytes, for a strike and an approve contest.
func FuzzBallotDecoder(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	strike := decodeTestContest(f, decodeStrikeContest)
	approve := decodeTestContest(f, decodeApproveContest)
	named := decodeTestContest(f, decodeNameContest)
	ds, da, dn := NewBallotDecoder(strike), NewBallotDecoder(approve), NewBallotDecoder(named)
	f.Fuzz(func(t *testing.T, line []byte) {
		decodeCheck(t, strike, ds, line)
		decodeCheck(t, approve, da, line)
		decodeCheck(t, named, dn, line)
	})
}

func TestBallotDecoderSeeds(t *testing.T) {
	strike := decodeTestContest(t, decodeStrikeContest)
	approve := decodeTestContest(t, decodeApproveContest)
	named := decodeTestContest(t, decodeNameContest)
	ds, da, dn := NewBallotDecoder(strike), NewBallotDecoder(approve), NewBallotDecoder(named)
	for _, s := range decodeSeeds {
		decodeCheck(t, strike, ds, []byte(s))
		decodeCheck(t, approve, da, []byte(s))
		decodeCheck(t, named, dn, []byte(s))
	}
}

// TestBallotDecoderFastPath checks that the common shapes really take the
// fast path, and the odd ones really do not.
func TestBallotDecoderFastPath(t *testing.T) {
	strike := decodeTestContest(t, decodeStrikeContest)
	approve := decodeTestContest(t, decodeApproveContest)
	ds, da := NewBallotDecoder(strike), NewBallotDecoder(approve)
	fast := map[*BallotDecoder][]string{
		ds: {
			`{"id":"b-0001","struck":["c2","c5"]}`,
			"  {\t\"struck\" :\r\n[ \"c1\" ,\"C1\" ] , \"id\":\"b-2\"\n}  \r\n",
			`{"id":"b-3","struck":[]}`,
			`{"id":"` + strings.Repeat("x", 128) + `","struck":[]}`,
		},
		da: {
			`{"id":"b-4","marks":{"c1":"agree","c2":"disagree","C1":"both"}}`,
			`{"id":"b-6","marks":{}}`,
			`{"id":"b-7","marks":{"c1":"agree","c1":"disagree"}}`,
		},
	}
	slow := []string{
		`{"id":"b-0003","invalid":"write_in"}`,
		`{"ID":"b-11","struck":["c2"]}`,
		`{"id":"b-11","struck":["c2","c2"]}`,
		`{"id":"b-11","struck":null}`,
		`{"id":"b\u002d9","struck":["c2"]}`,
		`{"id":"` + strings.Repeat("x", 129) + `","struck":[]}`,
		`{"id":"b-12","struck":["c2"]}]`,
		`{"id":"b-4","marks":{"c1":"agree"},"marks":{}}`,
	}
	for d, lines := range fast {
		for _, l := range lines {
			if _, _, ok := d.fast([]byte(l)); !ok {
				t.Errorf("%s: %s took the slow path", d.contest.Ballot, l)
			}
		}
	}
	for _, l := range slow {
		for _, d := range []*BallotDecoder{ds, da} {
			if _, _, ok := d.fast([]byte(l)); ok {
				t.Errorf("%s: %s took the fast path", d.contest.Ballot, l)
			}
		}
	}
}

// TestBallotDecoderStampWraps checks that the struck-twice stamps survive
// the generation counter wrapping around.
func TestBallotDecoderStampWraps(t *testing.T) {
	c := decodeTestContest(t, decodeStrikeContest)
	d := NewBallotDecoder(c)
	line := []byte(`{"id":"b-1","struck":["c1","c2"]}`)
	d.gen = math.MaxUint32 - 2
	for range 5 {
		decodeCheck(t, c, d, line)
	}
	if d.gen > 3 {
		t.Fatalf("gen = %d, want it wrapped", d.gen)
	}
}

// decodeRandomLine builds a ballot line from the pieces the fast path must
// get right or leave alone: keys in any order, repeated or differently
// cased, JSON whitespace anywhere, escaped and unknown ids, nulls, trailing
// data. Most lines it makes are valid for one of the two test contests.
func decodeRandomLine(r *rand.Rand) string {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	ws := func() string {
		switch r.IntN(60) {
		case 0:
			return pick("\f", "\v", "\u00a0", "\u0085") // not JSON whitespace
		case 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15:
			return pick(" ", "\t", "\n", "\r", "  ", " \r\n ")
		}
		return ""
	}
	str := func(s string) string { return ws() + `"` + s + `"` + ws() }
	cand := func() string {
		if r.IntN(30) == 0 {
			return ws() + pick(`"zz"`, `"c\u0031"`, `null`, `"c1 "`, `1`, `"ć1"`, `"c2`) + ws()
		}
		return str(pick("c1", "c2", "C1", "c-4.x_y", "c5"))
	}
	list := func(open, close string, item func(i int) string) string {
		n := r.IntN(6)
		var b strings.Builder
		b.WriteString(ws() + open)
		for i := range n {
			if i > 0 {
				b.WriteString(pick(",", ",", ",", ",", ",", ",", ",", ",", ",,", ""))
			}
			b.WriteString(item(i))
		}
		if n == 0 {
			b.WriteString(ws())
		}
		b.WriteString(close + ws())
		return b.String()
	}
	value := func(key string) string {
		switch {
		case r.IntN(25) == 0:
			return ws() + pick("null", "1", "true", "[]", "{}", `"x"`) + ws()
		case strings.EqualFold(key, "id") && r.IntN(8) == 0:
			return str(pick("b\\u002d1", "", "b 1", "phiếu", strings.Repeat("y", 129), `b\"1`, "b\x7f", "b\x01"))
		case strings.EqualFold(key, "id"):
			return str(pick("b-1", "b-2", "B-1", "~!#$%&'()*+,-./:;<=>?@[]^_`{|}", strings.Repeat("x", 128)))
		case strings.EqualFold(key, "struck"):
			// Mostly distinct names: a name struck twice goes the slow way.
			perm := r.Perm(5)
			return list("[", "]", func(i int) string {
				if r.IntN(20) == 0 {
					return cand()
				}
				return str([]string{"c1", "c2", "C1", "c-4.x_y", "c5"}[perm[i]])
			})
		case strings.EqualFold(key, "marks"):
			return list("{", "}", func(int) string {
				return cand() + ":" + str(pick("agree", "disagree", "both", "none", "Agree", ""))
			})
		case key == "invalid":
			return str(pick("write_in", "other", "not_issued", "bogus"))
		}
		return str(pick("", "ghi thêm tên", "x"))
	}
	var keys []string
	switch r.IntN(3) {
	case 0:
		keys = []string{"id", "struck"}
	case 1:
		keys = []string{"id", "marks"}
	default:
		for range 1 + r.IntN(4) {
			keys = append(keys, pick("id", "struck", "marks", "invalid", "note", "ID", "Struck", "extra", "id", "struck", "marks"))
		}
	}
	r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	var b strings.Builder
	b.WriteString(ws() + "{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(str(k) + ":" + value(k))
	}
	b.WriteString("}" + ws())
	if r.IntN(25) == 0 {
		b.WriteString(pick("x", "{}", "]", `"x"`, "1", "tru", "\x00", "\u00a0"))
	}
	return b.String()
}

// TestBallotDecoderRandomLines holds Decode to the slow path on lines built
// by decodeRandomLine, which reach the fast path far more often than
// mutated bytes do.
func TestBallotDecoderRandomLines(t *testing.T) {
	strike := decodeTestContest(t, decodeStrikeContest)
	approve := decodeTestContest(t, decodeApproveContest)
	ds, da := NewBallotDecoder(strike), NewBallotDecoder(approve)
	r := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	fast := 0
	for range n {
		line := []byte(decodeRandomLine(r))
		for _, d := range []*BallotDecoder{ds, da} {
			if _, _, ok := d.fast(line); ok {
				fast++
			}
		}
		decodeCheck(t, strike, ds, line)
		decodeCheck(t, approve, da, line)
	}
	if fast < n/10 {
		t.Errorf("only %d of %d lines took the fast path: the generator misses it", fast, n)
	}
	t.Logf("%d lines, %d fast decodes", n, fast)
}
