package web

import (
	"regexp"
	"strings"
	"testing"
)

// TestMessagesBothLanguages walks every message key: each has a
// Vietnamese and an English text, and both take the same placeholders in
// the same order (fmt formats them positionally, and the pages' scripts
// replace %s and %d in order), so no language shows "%!d(MISSING)" or
// drops an argument.
func TestMessagesBothLanguages(t *testing.T) {
	verbs := regexp.MustCompile(`%%|%[-+#0-9.]*[a-zA-Z]`)
	placeholders := func(s string) string {
		var out []string
		for _, v := range verbs.FindAllString(s, -1) {
			if v != "%%" {
				out = append(out, v)
			}
		}
		return strings.Join(out, " ")
	}
	refusals := 0
	for k, v := range messages {
		if strings.HasPrefix(k, "refusal.") {
			refusals++
		}
		if strings.TrimSpace(v[0]) == "" || strings.TrimSpace(v[1]) == "" {
			t.Errorf("%s: a language has no text: %q", k, v)
			continue
		}
		if a, b := placeholders(v[0]), placeholders(v[1]); a != b {
			t.Errorf("%s: vi takes %q, en takes %q", k, a, b)
		}
	}
	if refusals < 20 {
		t.Errorf("%d refusal messages registered; the pages' refusals are missing", refusals)
	}
}
