package tally_test

// Benchmarks of the count (docs/benchmarks.md). The 1,000,000-ballot data
// are generated in memory, deterministically, by internal/benchgen; plain
// `go test` runs none of this.
//
//	go test -run='^$' -bench=. -benchmem -cpu=1 ./tally/

import (
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/kiemphieu/kiemphieu/internal/benchgen"
	"github.com/kiemphieu/kiemphieu/tally"
)

// benchMarkings holds one preset's contest and pre-decoded ballots, drawn
// once per test binary.
type benchMarkings struct {
	contest  *tally.Contest
	markings []tally.Marking
}

var benchMarkingsCache sync.Map // "preset/n" → *benchMarkings

func benchMarkingsOf(b *testing.B, spec benchgen.Spec, n int) *benchMarkings {
	b.Helper()
	key := spec.Name + "/" + strconv.Itoa(n)
	if v, ok := benchMarkingsCache.Load(key); ok {
		return v.(*benchMarkings)
	}
	c, err := spec.Contest()
	if err != nil {
		b.Fatal(err)
	}
	g := spec.NewGen(c)
	ms := make([]tally.Marking, n)
	for i := range ms {
		ms[i] = g.Marking()
	}
	bm := &benchMarkings{contest: c, markings: ms}
	benchMarkingsCache.Store(key, bm)
	return bm
}

// benchReport reports ballots per second and allocations per ballot, given
// the ballots one iteration handles and the mallocs counted over the loop.
func benchReport(b *testing.B, perOp int, mallocs uint64) {
	ballots := float64(perOp) * float64(b.N)
	b.ReportMetric(ballots/b.Elapsed().Seconds(), "ballots/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/ballots, "ns/ballot")
	b.ReportMetric(float64(mallocs)/ballots, "allocs/ballot")
}

func benchMallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// BenchmarkFold1M60 is the in-memory fold: Count.Add over 1,000,000
// already-decoded strike ballots of 60 candidates for 45 seats (most strike
// 15–25 names; about 1.3% are invalid). Goal: under 100 ms on one core.
func BenchmarkFold1M60(b *testing.B) {
	d := benchMarkingsOf(b, benchgen.Million, 1_000_000)
	b.ReportAllocs()
	before := benchMallocs()
	for b.Loop() {
		count := tally.NewCount(d.contest)
		for _, m := range d.markings {
			count.Add(m)
		}
	}
	benchReport(b, len(d.markings), benchMallocs()-before)
}

// BenchmarkFoldNational folds a national congress (1,600 ballots × 250
// candidates, 200 seats) and computes its Result.
func BenchmarkFoldNational(b *testing.B) {
	d := benchMarkingsOf(b, benchgen.National, 1600)
	b.ReportAllocs()
	before := benchMallocs()
	for b.Loop() {
		count := tally.NewCount(d.contest)
		for _, m := range d.markings {
			count.Add(m)
		}
		if len(count.Result().Candidates) != 250 {
			b.Fatal("wrong result")
		}
	}
	benchReport(b, len(d.markings), benchMallocs()-before)
}

// BenchmarkDecode decodes the same JSONL lines with BallotDecoder.Decode
// (fast) and with ParseBallot + Contest.Mark (slow); one op is one line.
// The lines include the few ballots ruled invalid on sight, which take the
// slow path in both.
func BenchmarkDecode(b *testing.B) {
	for _, spec := range []benchgen.Spec{benchgen.Million, benchgen.National, benchgen.Approve} {
		c, err := spec.Contest()
		if err != nil {
			b.Fatal(err)
		}
		g := spec.NewGen(c)
		lines := make([][]byte, 4096)
		size := 0
		for i := range lines {
			line := g.AppendLine(nil)
			lines[i] = line[:len(line)-1] // as bufio.Scanner hands them over
			size += len(lines[i])
		}
		index := c.Index()
		b.Run(spec.Name+"/fast", func(b *testing.B) {
			d := tally.NewBallotDecoder(c)
			b.SetBytes(int64(size / len(lines)))
			b.ReportAllocs()
			before := benchMallocs()
			i := 0
			for b.Loop() {
				if _, _, err := d.Decode(lines[i%len(lines)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			benchReport(b, 1, benchMallocs()-before)
		})
		b.Run(spec.Name+"/slow", func(b *testing.B) {
			b.SetBytes(int64(size / len(lines)))
			b.ReportAllocs()
			before := benchMallocs()
			i := 0
			for b.Loop() {
				bal, err := tally.ParseBallot(lines[i%len(lines)])
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Mark(bal, index); err != nil {
					b.Fatal(err)
				}
				i++
			}
			benchReport(b, 1, benchMallocs()-before)
		})
	}
}
