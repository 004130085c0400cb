package tally

import (
	"runtime"
	"strings"
	"testing"
)

// Invalid UTF-8 is refused, naming the member it is in, never turned into
// U+FFFD (two ballot ids differing only there would be one).
func TestDecodeJSONInvalidUTF8(t *testing.T) {
	for _, tt := range []struct{ body, field string }{
		{"{\"id\":\"b-\xff\",\"struck\":[]}", "id"},
		{"{\"id\":\"b\",\"struck\":[\"c1\",\"\xfe\"]}", "struck[1]"},
		{"{\"id\":\"b\",\"note\":\"r\xe1\xbach\",\"invalid\":\"other\"}", "note"},
		{"{\"id\":\"b\",\"marks\":{\"c\xff\":\"agree\"}}", "marks.c\ufffd"},
		{"\xff{}", ""},
	} {
		_, err := ParseBallot([]byte(tt.body))
		ps := Problems(err)
		if err == nil || len(ps) != 1 || ps[0].Kind != Invalid || ps[0].Field != tt.field {
			t.Errorf("%q: %v (problems %+v), want invalid naming %q", tt.body, err, ps, tt.field)
		}
	}
	var v struct {
		Candidates []struct {
			Name string `json:"name"`
		} `json:"candidates"`
	}
	err := DecodeJSON([]byte("{\"candidates\":[{\"name\":\"A\"},{\"name\":\"B\xc3\"}]}"), &v, "contest")
	if ps := Problems(err); err == nil || ps[0].Field != "candidates[1].name" {
		t.Errorf("contest: %v, want candidates[1].name", err)
	}
}

// The error for invalid UTF-8 stays small and cheap whatever the document
// around the byte (docs/reliability.md, "Security", finding 4): the
// report's 4 MB of "[" and one invalid byte cost about 400 MB and made a
// 25 MB field path before the walk was bounded.
func TestDecodeJSONInvalidUTF8Bounded(t *testing.T) {
	const size = 4 << 20
	nested := append([]byte(`{"username":`+strings.Repeat("[", size-120)), 0xff)
	deepThenBad := []byte(`{"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + ",\"b\":\"\xff\"}")
	longKey := []byte(`{"` + strings.Repeat("k", 1<<20) + "\":\"\xff\"}")
	wide := []byte(`{"a":[` + strings.Repeat("1,", size/2-10) + "\"\xff\"]}")
	tests := []struct {
		name  string
		body  []byte
		field string
	}{
		{"4 MB of [ and an invalid byte", nested, "username" + strings.Repeat("[0]", maxPathDepth-1) + "…"},
		{"a deep member before the invalid one", deepThenBad, "b"},
		{"a key of 1 MB", longKey, strings.Repeat("k", maxPathKey) + "…"},
		{"2 million numbers before the invalid byte", wide, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v map[string]any
			var err error
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			err = DecodeJSON(tt.body, &v, "request")
			runtime.ReadMemStats(&after)
			ps := Problems(err)
			if err == nil || len(ps) != 1 || ps[0].Kind != Invalid {
				t.Fatalf("%v (problems %+v), want one invalid", err, ps)
			}
			if ps[0].Field != tt.field {
				t.Errorf("field = %.200q (%d bytes), want %.200q", ps[0].Field, len(ps[0].Field), tt.field)
			}
			if n := len(err.Error()); n > 512 {
				t.Errorf("the error is %d bytes; want at most 512", n)
			}
			// The walk reads the body once through a json.Decoder (which
			// buffers it) and allocates per token: within 8× the body (and 64 KiB),
			// where it took 100× before.
			if alloc, most := after.TotalAlloc-before.TotalAlloc, uint64(8*len(tt.body)+64<<10); alloc > most {
				t.Errorf("decoding allocated %d bytes for a %d-byte body; want at most %d", alloc, len(tt.body), most)
			}
		})
	}
}
