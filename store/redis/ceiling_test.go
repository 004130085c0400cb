package redis_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/store/redis"
	"github.com/kiemphieu/kiemphieu/store/storetest"
	"github.com/kiemphieu/kiemphieu/tally"
)

// TestRawAppend: the benchmark's raw call of the append script writes what
// the store then reads as its own log (the chain verifies, the counters
// match a replay), and refuses a call linked after a stale head.
func TestRawAppend(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv.URL())
	c := createOpen(t, s, "raw-1")
	rdb := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	ctx := testCtx(t)

	seq, head := int64(0), tally.GenesisHash
	var batch []redis.RawBallot
	want := tally.NewCount(c)
	for i, struck := range [][]string{{"c2"}, {"c1", "c3"}, {}} {
		a := storetest.BallotAppend(t, c, tally.Ballot{ID: fmt.Sprintf("b%d", i), Struck: struck}, "d1")
		e := tally.Entry{Ballot: a.Ballot, Desk: a.Desk, Time: a.Time}
		e.Link(seq, head)
		seq, head = e.Seq, e.Hash
		line, _ := e.MarshalJSON()
		stored, _ := json.Marshal(map[string]any{"seq": e.Seq, "hash": e.Hash, "valid": a.Reason == tally.Valid,
			"digest": tally.BallotDigest(a.Ballot), "keys": a.Keys})
		batch = append(batch, redis.RawBallot{ID: a.Ballot.ID, Entry: line, Stored: stored, Keys: a.Keys, Hash: e.Hash})
		m, err := c.Mark(*a.Ballot, c.Index())
		if err != nil {
			t.Fatal(err)
		}
		want.Add(m)
	}
	got, err := redis.RawAppend(ctx, rdb, c.ID, 0, tally.GenesisHash, batch[:2])
	if err != nil || got != 2 {
		t.Fatalf("RawAppend of 2 = %d, %v", got, err)
	}
	if _, err := redis.RawAppend(ctx, rdb, c.ID, 0, tally.GenesisHash, batch[2:]); err == nil {
		t.Fatal("RawAppend after a stale head succeeded")
	}
	if got, err := redis.RawAppend(ctx, rdb, c.ID, 2, batch[1].Hash, batch[2:]); err != nil || got != 3 {
		t.Fatalf("RawAppend of the third = %d, %v", got, err)
	}
	entries, err := s.Entries(ctx, c.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if h, err := tally.VerifyChain(entries); err != nil || h != head || len(entries) != 3 {
		t.Fatalf("the log of %d entries: head %s, %v; want 3 entries, head %s", len(entries), h, err, head)
	}
	counters, version, err := s.Counters(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if version != 3 || !maps.Equal(counters, want.Counters()) {
		t.Fatalf("counters %v at version %d, want %v at 3", counters, version, want.Counters())
	}
}
