package main

// Benchmarks of the whole `kiemphieu recount` (docs/benchmarks.md): file
// read, decoding, the duplicate-id check, the fold, the result and its JSON,
// through the same recount function the command runs. The ballots file is
// generated once per benchmark run into a temporary directory by
// internal/benchgen; plain `go test` runs none of this.
//
//	go test -run='^$' -bench=Recount -benchmem -cpu=1 ./cmd/kiemphieu/

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/kiemphieu/kiemphieu/internal/benchgen"
)

// benchRecountFiles writes a preset's contest.json and n ballots into a
// temporary directory.
func benchRecountFiles(b *testing.B, spec benchgen.Spec, n int) (contest, ballots string) {
	b.Helper()
	c, err := spec.Contest()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	contest, ballots = filepath.Join(dir, "contest.json"), filepath.Join(dir, "ballots.jsonl")
	if err := os.WriteFile(contest, spec.ContestJSON(), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(ballots)
	if err != nil {
		b.Fatal(err)
	}
	if err := spec.WriteBallots(f, c, n); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return contest, ballots
}

func benchRecount(b *testing.B, spec benchgen.Spec, n int) {
	contest, ballots := benchRecountFiles(b, spec, n)
	if fi, err := os.Stat(ballots); err == nil {
		b.SetBytes(fi.Size())
	}
	b.ReportAllocs()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.Mallocs
	for b.Loop() {
		if err := recount([]string{contest, ballots}, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&ms)
	total := float64(n) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "ballots/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/ballot")
	b.ReportMetric(float64(ms.Mallocs-before)/total, "allocs/ballot")
}

// BenchmarkRecountCommand1M recounts 1,000,000 strike ballots × 60
// candidates (45 seats) from JSONL. Goal: under 2 s on one core.
func BenchmarkRecountCommand1M(b *testing.B) { benchRecount(b, benchgen.Million, 1_000_000) }

// BenchmarkRecountCommandNational recounts a national congress: 1,600
// ballots × 250 candidates, 200 seats.
func BenchmarkRecountCommandNational(b *testing.B) { benchRecount(b, benchgen.National, 1600) }

// BenchmarkRecountLog recounts a log export of 100,000 entries (the
// `million` preset's ballots, hash-chained): decoding each entry, verifying
// the chain and replaying it, as `kiemphieu recount CONTEST LOG` does.
func BenchmarkRecountLog(b *testing.B) {
	spec := benchgen.Million
	const n = 100_000
	c, err := spec.Contest()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	contest, log := filepath.Join(dir, "contest.json"), filepath.Join(dir, "log.jsonl")
	if err := os.WriteFile(contest, spec.ContestJSON(), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(log)
	if err != nil {
		b.Fatal(err)
	}
	if err := spec.WriteLog(f, c, n, "2026-11-21T09:00:00Z"); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if fi, err := os.Stat(log); err == nil {
		b.SetBytes(fi.Size())
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := recount([]string{contest, log}, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
