package main

import "testing"

// TestUpToDate fails when a committed ballots.jsonl is not what the specs
// generate: run `go run ./examples/internal/gen` after changing a spec.
func TestUpToDate(t *testing.T) {
	stale, err := run("../..", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range stale {
		t.Errorf("%s is out of date: run go run ./examples/internal/gen", f)
	}
}
