package redis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/benchgen"
	"github.com/kiemphieu/kiemphieu/internal/proof"
	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/store/redis"
	"github.com/kiemphieu/kiemphieu/store/storetest"
	"github.com/kiemphieu/kiemphieu/tally"
)

// The store on a local Redis Cluster of 3 masters (docs/reliability.md,
// "Redis Cluster and several instances"). One cluster per test, emptied
// before each subtest of the contract: starting one takes seconds.

// clusterHarness opens stores on c; a restart is a new Store, or with
// crash every master killed (SIGKILL) and started again on its AOF.
func clusterHarness(c *redistest.Cluster, crash bool) storetest.Harness {
	return storetest.Harness{
		Open: func(t *testing.T) storetest.Store {
			c.Flush(t)
			return open(t, c.URL())
		},
		Reopen: func(t *testing.T, old storetest.Store) storetest.Store {
			if err := old.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if crash {
				c.KillAll()
				c.RestartAll(t)
			}
			return open(t, c.URL())
		},
	}
}

func TestClusterContract(t *testing.T) {
	storetest.Run(t, clusterHarness(redistest.StartCluster(t, 3), false))
}

func TestClusterContractCrash(t *testing.T) {
	storetest.Run(t, clusterHarness(redistest.StartCluster(t, 3), true))
}

func TestClusterItemsContract(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	storetest.RunItems(t,
		func(t *testing.T) storetest.ItemStore {
			c.Flush(t)
			return open(t, c.URL())
		},
		func(t *testing.T, old storetest.ItemStore) storetest.ItemStore {
			old.(*redis.Store).Close()
			c.KillAll()
			c.RestartAll(t)
			return open(t, c.URL())
		})
}

// TestClusterSpreadsContests: the contests of one cluster land on every
// master (their hash tags spread over the slots), and each contest's keys
// stay in one slot, which the append script needs.
func TestClusterSpreadsContests(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	s := open(t, c.URL())
	ctx := context.Background()
	const n = 30
	for i := range n {
		id := "cg-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		con := createOpen(t, s, id)
		if _, _, err := s.Append(ctx, id, storetest.BallotAppend(t, con, tally.Ballot{ID: "b1", Struck: []string{"c1"}}, "d1")); err != nil {
			t.Fatalf("append to %s: %v", id, err)
		}
	}
	perNode := redis.KeysPerMaster(t, s)
	if len(perNode) != 3 {
		t.Fatalf("keys on %d masters, want 3: %v", len(perNode), perNode)
	}
	for addr, k := range perNode {
		if k == 0 {
			t.Errorf("master %s holds no key: %v", addr, perNode)
		}
	}
	t.Logf("keys per master: %v", perNode)
	least := int64(-1)
	for _, k := range perNode {
		if least < 0 || k < least {
			least = k
		}
	}
	proof.Report(t, "contests", n, "contests")
	proof.Report(t, "masters_holding_keys", len(perNode), "of 3")
	proof.Report(t, "fewest_keys_on_a_master", least, "keys")
}

// TestClusterFootprint measures what a ballot costs the cluster: memory
// (used_memory summed over the masters) and AOF bytes, for ballots of the
// benchgen "million" preset (60 names, 45 seats, most ballots striking
// 15–25 names), spread over 8 rounds. For docs/scaling.md.
func TestClusterFootprint(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	s := open(t, c.URL())
	n := proof.Size("FOOTPRINT_BALLOTS", 2000, 20000)
	const rounds = 8
	aof := func() int64 {
		var total int64
		for _, node := range c.Nodes {
			filepath.WalkDir(node.Dir(), func(path string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && strings.Contains(path, "appendonly") {
					if fi, err := d.Info(); err == nil {
						total += fi.Size()
					}
				}
				return nil
			})
		}
		return total
	}
	spec := benchgen.Million
	cs := make([]*tally.Contest, rounds)
	for i := range cs {
		con, err := spec.Contest()
		if err != nil {
			t.Fatal(err)
		}
		con.ID = fmt.Sprintf("footprint-%d", i)
		if err := s.CreateContest(testCtx(t), &tally.Record{Contest: con, State: tally.StateDraft}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(testCtx(t), con.ID, func(rec *tally.Record, _ int64) error { rec.State = tally.StateOpen; return nil }); err != nil {
			t.Fatal(err)
		}
		cs[i] = con
	}
	appends := make([]tally.Append, n)
	gen := spec.NewGen(cs[0])
	var line []byte
	for i := range appends {
		line = gen.AppendLine(line[:0])
		var b tally.Ballot
		if err := json.Unmarshal(line, &b); err != nil {
			t.Fatal(err)
		}
		appends[i] = storetest.BallotAppend(t, cs[i%rounds], b, "Bàn 1")
	}
	mem0, aof0 := redis.UsedMemory(t, s), aof()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	start := time.Now()
	for range 32 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if _, _, err := s.Append(testCtx(t), cs[i%rounds].ID, appends[i]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mem, size := redis.UsedMemory(t, s)-mem0, aof()-aof0
	t.Logf("%d ballots over %d rounds in %v: %d bytes of memory, %d bytes of AOF", n, rounds, elapsed.Round(time.Millisecond), mem, size)
	proof.Report(t, "ballots", n, "ballots (60 names, 15–25 struck)")
	proof.Reportf(t, "memory_per_ballot", "bytes", "%d", mem/int64(n))
	proof.Reportf(t, "aof_per_ballot", "bytes", "%d", size/int64(n))
	proof.Reportf(t, "append_rate", "ballots/s", "%.0f", float64(n)/elapsed.Seconds())
}
