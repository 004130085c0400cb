package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/internal/benchgen"
)

// TestRecountDuplicateAfterResize checks that sizing the id map from the
// first sizeSample ballots changes nothing: a duplicate id far into the
// file is still refused with both line numbers, and blank lines past the
// sample are still skipped.
func TestRecountDuplicateAfterResize(t *testing.T) {
	spec := benchgen.Million
	c, err := spec.Contest()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n := sizeSample + 1000
	if err := spec.WriteBallots(&buf, c, n); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	recount := func(args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"recount"}, args...), &stdout, &stderr)
		return code, stderr.String()
	}
	contest := write("contest.json", string(spec.ContestJSON()))
	// Blank lines right after the sample, then every ballot, then line 10
	// again.
	body := strings.Join(lines[:sizeSample], "") + "\n \n\n" + strings.Join(lines[sizeSample:], "")
	good := write("good.jsonl", body)
	if code, stderr := recount(contest, good); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	bad := write("bad.jsonl", body+lines[9])
	code, stderr := recount(contest, bad)
	want := fmt.Sprintf(`%s:%d: id: ballot "b-0000010" was already counted at line 10`, bad, n+4)
	if code != exitBadUsage || strings.TrimSpace(stderr) != want {
		t.Fatalf("exit %d, stderr %q; want exit %d, %q", code, stderr, exitBadUsage, want)
	}
}
