package tally

import (
	"strings"
	"testing"
)

func TestDraftContestKeepsInvalidDefinitions(t *testing.T) {
	// A draft with no candidates and a bad kind still decodes, with the
	// defaults filled and its text in NFC, so that D can be shown.
	c, err := DraftContest([]byte(`{"title":" Bầu  Ban ","kind":"nope","seats":5,
		"electorate":{"congress":"members","convened":25,"exclusions":{"temporary_elsewhere":2,"exempt_absent":1,"absent_with_leave":1}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Title != "Bầu Ban" || c.Round != 1 || c.Percent.Places != 2 || c.Visibility != VisibilityCertified {
		t.Errorf("draft = %+v, want defaults and a clean title", c)
	}
	if d := c.Denominator(); d != 21 {
		t.Errorf("D = %d, want 21 (Ex 1)", d)
	}
	if c.Validate() == nil {
		t.Error("Validate passed a draft without candidates and with a bad kind")
	}
	if _, err := DraftContest([]byte(`{"seat": 5}`)); err == nil || !strings.Contains(err.Error(), "seat") {
		t.Errorf("unknown field: err = %v, want one naming seat", err)
	}
}
