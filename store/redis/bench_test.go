package redis_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/store/redis"
	"github.com/kiemphieu/kiemphieu/store/storetest"
	"github.com/kiemphieu/kiemphieu/tally"
)

// BenchmarkAppend measures durable ballot intake through one Store against
// a local redis-server with appendfsync always, with 1, 16 and 64 desks
// appending at once: each acknowledged ballot is in the fsynced AOF.
//
//	go test -run '^$' -bench BenchmarkAppend -benchtime 3s ./store/redis/
func BenchmarkAppend(b *testing.B) {
	srv := redistest.Start(b)
	s := open(b, srv.URL())
	var run atomic.Int64
	for _, writers := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			c := createOpen(b, s, fmt.Sprintf("bench-%d", run.Add(1)))
			appends := make([]tally.Append, b.N)
			for i := range appends {
				appends[i] = storetest.BallotAppend(b, c, tally.Ballot{ID: fmt.Sprintf("b%07d", i), Struck: []string{"c2"}}, "d1")
			}
			ctx := context.Background()
			var next atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			b.ResetTimer()
			for range writers {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						if _, _, err := s.Append(ctx, c.ID, appends[i]); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ballots/s")
		})
	}
}

// BenchmarkAppendTwoInstances is BenchmarkAppend with the desks split
// between two Stores on one server, as two instances of the service: the
// instances' batches race for the log's head and the loser links again.
func BenchmarkAppendTwoInstances(b *testing.B) {
	srv := redistest.Start(b)
	stores := []*redis.Store{open(b, srv.URL()), open(b, srv.URL())}
	var run atomic.Int64
	for _, writers := range []int{2, 16, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			c := createOpen(b, stores[0], fmt.Sprintf("bench-%d", run.Add(1)))
			appends := make([]tally.Append, b.N)
			for i := range appends {
				appends[i] = storetest.BallotAppend(b, c, tally.Ballot{ID: fmt.Sprintf("b%07d", i), Struck: []string{"c2"}}, "d1")
			}
			ctx := context.Background()
			var next atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			b.ResetTimer()
			for w := range writers {
				s := stores[w%2]
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						if _, _, err := s.Append(ctx, c.ID, appends[i]); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ballots/s")
		})
	}
}

// BenchmarkAppendManyContests is the load of many congresses at once: 64
// desks spread over 8 contests, on one redis-server and on a local Redis
// Cluster of 3 masters (each contest's keys on the master of its hash
// tag). On one machine the masters share its cores, so this shows that
// the cluster carries the load, not how it scales on separate machines.
//
//	go test -run '^$' -bench BenchmarkAppendManyContests -benchtime 3s ./store/redis/
func BenchmarkAppendManyContests(b *testing.B) {
	const contests, writers = 8, 64
	targets := []struct {
		name string
		url  func() string
	}{
		{"server=single", func() string { return redistest.Start(b).URL() }},
		{"server=cluster3", func() string { return redistest.StartCluster(b, 3).URL() }},
	}
	for _, target := range targets {
		b.Run(target.name, func(b *testing.B) {
			s := open(b, target.url())
			cs := make([]*tally.Contest, contests)
			for i := range cs {
				cs[i] = createOpen(b, s, fmt.Sprintf("many-%d-%d", b.N, i))
			}
			appends := make([]tally.Append, b.N)
			for i := range appends {
				appends[i] = storetest.BallotAppend(b, cs[i%contests], tally.Ballot{ID: fmt.Sprintf("b%07d", i), Struck: []string{"c2"}}, "d1")
			}
			ctx := context.Background()
			var next atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			b.ResetTimer()
			for range writers {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						if _, _, err := s.Append(ctx, cs[i%contests].ID, appends[i]); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ballots/s")
		})
	}
}
