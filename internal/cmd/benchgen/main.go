// Command benchgen writes the contest.json and ballots.jsonl of a benchmark
// preset (package benchgen) into a directory, for timing `kiemphieu
// recount` end to end (docs/benchmarks.md). The files are deterministic
// and large; they are not committed.
//
//	go run ./internal/cmd/benchgen -preset million -ballots 1000000 -out /tmp/kp-bench
package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kiemphieu/kiemphieu/internal/benchgen"
)

func main() {
	preset := flag.String("preset", "million", "preset: "+strings.Join(slices.Sorted(maps.Keys(benchgen.Presets)), ", "))
	n := flag.Int("ballots", 1_000_000, "number of ballots")
	out := flag.String("out", ".", "directory to write contest.json and ballots.jsonl into")
	flag.Parse()
	if err := run(*preset, *n, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
}

func run(preset string, n int, dir string) error {
	spec, ok := benchgen.Presets[preset]
	if !ok {
		return fmt.Errorf("unknown preset %q", preset)
	}
	c, err := spec.Contest()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "contest.json"), spec.ContestJSON(), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "ballots.jsonl"))
	if err != nil {
		return err
	}
	if err := spec.WriteBallots(f, c, n); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
