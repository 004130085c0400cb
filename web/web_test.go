package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

func TestPagesParse(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"home", "login", "error"} {
		if _, ok := p.pages[name]; !ok {
			t.Errorf("page %q is not parsed", name)
		}
	}
}

// Every message a template or script names exists, in both languages.
func TestMessagesComplete(t *testing.T) {
	used := regexp.MustCompile(`\bT "([a-z0-9_.]+)"`)
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".html") {
			return err
		}
		data, _ := files.ReadFile(name)
		for _, m := range used.FindAllSubmatch(data, -1) {
			if _, ok := messages[string(m[1])]; !ok {
				t.Errorf("%s: message %q is not defined", name, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range messages {
		if strings.TrimSpace(v[0]) == "" || strings.TrimSpace(v[1]) == "" {
			t.Errorf("message %q lacks a language: %q", k, v)
		}
	}
}

func TestLang(t *testing.T) {
	for in, want := range map[string]Lang{"": Vietnamese, "vi": Vietnamese, "en": English, "en-US": English, "fr": Vietnamese} {
		if got := ParseLang(in); got != want {
			t.Errorf("ParseLang(%q) = %q, want %q", in, got, want)
		}
	}
	if got := English.T("login.locked", 30); got != "Too many failed sign-ins. Try again in 30 seconds." {
		t.Errorf("English.T = %q", got)
	}
	if got := Vietnamese.T("no.such.key"); got != "no.such.key" {
		t.Errorf("a missing key shows itself; got %q", got)
	}
}
