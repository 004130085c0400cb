package tally_test

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// The decoders of what an admin sends beside contests and ballots: a
// congress record (POST/PUT /congresses), a round's notes (PUT …/notes)
// and a show-of-hands vote (inside a congress). Each never panics, refuses
// only with problems of kind invalid naming a field, and what it accepts
// validates and survives a round trip through json.Marshal unchanged.

var congressSeeds = []string{
	`{"id":"dh-p4","organization":"Đảng bộ Phường 4","superior":"Đảng bộ Quận 3",
	  "name":"Đại hội đại biểu Đảng bộ Phường 4","ordinal":12,"term":"2025–2030","place":"Hội trường UBND Phường 4",
	  "date":"2025-05-20","counting_committee":[{"name":"Trần Thị Bình","role":"head"},{"name":"Lê Văn Cường","role":"member"}],
	  "votes":[{"subject":"seats","contest":"bch","present":48,"approve":48,"disapprove":0,"other":0},
	           {"subject":"counting_committee","present":48,"approve":47,"disapprove":1,"other":0}]}`,
	`{"id":"x","organization":"a","name":"b"}`,
	`{"id":"x","organization":" a\u0301 ","name":"b","date":"2025-02-29"}`,
	`{"id":"x","organization":"a","name":"b","counting_committee":[{"name":"A","role":"head"},{"name":"B","role":"head"}]}`,
	`{"id":"x","organization":"a","name":"b","votes":[{"subject":"other","present":3,"approve":3,"disapprove":0,"other":0}]}`,
	`{"id":"x","organization":"a","name":"b","votes":[{"subject":"list","contest":"c","present":3,"approve":9223372036854775807,"disapprove":1,"other":0}]}`,
	`{"id":"x","organization":"a","name":"b","motto":"?"}`,
	`{"id":"x","organization":"a","name":"b"}{}`,
	`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`,
	"{\"id\":\"x\",\"organization\":\"\xff\xfe\",\"name\":\"b\"}",
	``,
}

func FuzzParseCongress(f *testing.F) {
	for _, s := range congressSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := tally.ParseCongress(data)
		if err != nil {
			checkProblems(t, err)
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted congress does not validate: %v\n%s", err, data)
		}
		c.VotesFor("", c.ID) // never panics
		c.Head()
		tally.RomanOrdinal(c.Ordinal)
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		c2, err := tally.ParseCongress(out)
		if err != nil {
			t.Fatalf("re-parse of %s (from %q): %v", out, data, err)
		}
		// Compared as JSON: an empty list and none are the same record.
		if out2, _ := json.Marshal(c2); string(out) != string(out2) {
			t.Fatalf("round trip changed the congress:\n%s\n%s", out, out2)
		}
	})
}

var notesSeeds = []string{
	`{"present":48,"collected":47,"complaints":"Không có khiếu nại."}`,
	`{}`,
	`{"present":-1}`,
	`{"collected":10000001}`,
	`{"present":1e3}`,
	`{"present":null,"complaints":"  a\u0301  "}`,
	`{"complaints":7}`,
	`{"present":1}{"present":2}`,
	"{\"complaints\":\"\xed\xa0\x80\"}",
	`null`,
}

func FuzzParseRoundNotes(f *testing.F) {
	for _, s := range notesSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := tally.ParseRoundNotes(data)
		if err != nil {
			checkProblems(t, err)
			return
		}
		if err := n.Validate(); err != nil {
			t.Fatalf("accepted notes do not validate: %v", err)
		}
		out, err := json.Marshal(n)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		n2, err := tally.ParseRoundNotes(out)
		if err != nil {
			t.Fatalf("re-parse of %s (from %q): %v", out, data, err)
		}
		if !reflect.DeepEqual(n, n2) {
			t.Fatalf("round trip changed the notes: %#v → %s → %#v", n, out, n2)
		}
	})
}

var handsSeeds = []string{
	`{"subject":"seats","contest":"bch","present":48,"approve":48,"disapprove":0,"other":0}`,
	`{"subject":"other","title":"Thông qua quy chế","present":3,"approve":2,"disapprove":1,"other":0}`,
	`{"subject":"other","present":3,"approve":2,"disapprove":1,"other":0}`,
	`{"subject":"list","present":0,"approve":0,"disapprove":0,"other":0}`,
	`{"subject":"list","present":9223372036854775807,"approve":9223372036854775807,"disapprove":9223372036854775807,"other":9223372036854775807}`,
	`{"subject":"list","present":3,"approve":-1,"disapprove":1,"other":0}`,
	`{"subject":"vote","present":3}`,
	`{"subject":"seats","present":"3"}`,
}

func FuzzParseShowOfHands(f *testing.F) {
	for _, s := range handsSeeds {
		f.Add([]byte(s))
	}
	policy := tally.PercentPolicy{Places: 2, Rounding: tally.RoundTruncate}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := tally.ParseShowOfHands(data)
		if err != nil {
			checkProblems(t, err)
			return
		}
		if err := v.Validate(); err != nil {
			t.Fatalf("accepted vote does not validate: %v", err)
		}
		if r := v.Result(nil, policy); r.Passed != nil || r.Denominator != nil {
			t.Fatalf("%+v without D: passed = %v, denominator = %v; want both null", v, r.Passed, r.Denominator)
		}
		// D of at least those present (CheckBase): passed is strictly
		// more than half of D, on integers.
		d := v.Present + len(data)
		if v.Present > math.MaxInt-len(data) {
			d = v.Present
		}
		r := v.Result(&d, policy)
		if r.Passed == nil || *r.Passed != (v.Approve > d-v.Approve) {
			t.Fatalf("%+v on D = %d: passed = %v", v, d, r.Passed)
		}
		if r.Unanimous != (v.Approve == v.Present) {
			t.Fatalf("%+v: unanimous = %v", v, r.Unanimous)
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		v2, err := tally.ParseShowOfHands(out)
		if err != nil {
			t.Fatalf("re-parse of %s (from %q): %v", out, data, err)
		}
		if v != v2 {
			t.Fatalf("round trip changed the vote: %#v → %s → %#v", v, out, v2)
		}
	})
}
