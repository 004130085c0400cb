package tally

import "testing"

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
