package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestSetupMessagesDefined: every message key written literally in the
// setup pages' templates has a translation, and the key setup.js reads are
// there in both languages; a missing key would show itself on the page.
func TestSetupMessagesDefined(t *testing.T) {
	key := regexp.MustCompile(`\.T "([a-z_.]+)"`)
	pages := []string{"congress-setup", "contest-new", "contest-setup", "setup-token", "ballot-paper", "login"}
	for _, p := range pages {
		data, err := fs.ReadFile(files, "templates/pages/"+p+".html")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range key.FindAllStringSubmatch(string(data), -1) {
			if _, ok := messages[m[1]]; !ok {
				t.Errorf("%s.html uses %q, which has no message", p, m[1])
			}
		}
	}
	js, err := fs.ReadFile(files, "static/setup.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\bt\("([a-z_]+)"\)`).FindAllStringSubmatch(string(js), -1) {
		if v, ok := messages["setup.js."+m[1]]; !ok || v[0] == "" || v[1] == "" {
			t.Errorf("setup.js reads setup.js.%s, which is not defined in both languages", m[1])
		}
	}
	// Keys built with printf in the templates: each choice needs its text.
	for _, k := range []string{"kind.committee", "kind.alternates", "ballot.strike", "ballot.approve", "subject.seats",
		"subject.counting_committee", "role.head", "role.deputy_head", "congress_type.body", "next.revote", "next.further",
		"exclusion.delegates_absent_unreplaced", "visibility.live"} {
		if _, ok := messages["setup."+k]; !ok {
			t.Errorf("setup.%s is not defined", k)
		}
	}
	if !strings.Contains(Vietnamese.T("setup.hands.unanimous"), "100% tán thành") {
		t.Errorf("the unanimous mark reads %q", Vietnamese.T("setup.hands.unanimous"))
	}
}
