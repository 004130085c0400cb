package redis_test

import (
	"context"
	"testing"

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
