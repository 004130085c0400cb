package web

import (
	"regexp"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// The desk's and the screen's scripts format messages themselves (%s and
// %d in order), so both languages must have the same verbs in the same
// order, and every reason the engine can give must have a label.
func TestDeskMessages(t *testing.T) {
	verbs := regexp.MustCompile(`%[a-z]`)
	n := 0
	for k, v := range messages {
		if !strings.HasPrefix(k, "desk.") && !strings.HasPrefix(k, "screen.") && !strings.HasPrefix(k, "reason.") {
			continue
		}
		n++
		if strings.TrimSpace(v[0]) == "" || strings.TrimSpace(v[1]) == "" {
			t.Errorf("%s: empty text %q", k, v)
		}
		if a, b := verbs.FindAllString(v[0], -1), verbs.FindAllString(v[1], -1); strings.Join(a, "") != strings.Join(b, "") {
			t.Errorf("%s: vi has %v, en has %v", k, a, b)
		}
	}
	if n == 0 {
		t.Fatal("no desk or screen messages registered")
	}
	for _, r := range tally.Reasons() {
		if Vietnamese.T("reason."+r.String()) == "reason."+r.String() {
			t.Errorf("no label for the reason %s", r)
		}
	}
	if got := Vietnamese.T("reason.over_vote"); got != "quá số lượng" {
		t.Errorf("over_vote in Vietnamese = %q, want the ballot rules' wording", got)
	}
	for _, s := range []tally.State{tally.StateDraft, tally.StateOpen, tally.StateClosed, tally.StateCertified} {
		if English.T("screen.state."+string(s)) == "screen.state."+string(s) {
			t.Errorf("no screen label for the state %s", s)
		}
	}
}
