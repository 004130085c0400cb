package bolt

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/store/storetest"
	"github.com/kiemphieu/kiemphieu/tally"
)

// BenchmarkAppend measures durable appends (each acknowledged after its
// batch's fsync) with 1 to 256 desks appending at once.
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := openTemp(b)
			c := createContest(b, s, "bench", tally.StateOpen)
			appends := make([]tally.Append, b.N)
			for i := range appends {
				ballot := tally.Ballot{ID: fmt.Sprintf("b%08d", i), Struck: []string{c.Candidates[i%4].ID}}
				appends[i] = storetest.BallotAppend(b, c, ballot, "d1")
			}
			ctx := testCtx(b)
			var next atomic.Int64
			var wg sync.WaitGroup
			before := s.commits.Load()
			b.ResetTimer()
			start := time.Now()
			for range writers {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						if _, _, err := s.Append(ctx, c.ID, appends[i]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ballots/s")
			b.ReportMetric(float64(s.commits.Load()-before)/float64(b.N), "commits/ballot")
		})
	}
}
