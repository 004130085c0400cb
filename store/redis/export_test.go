package redis

import (
	"context"
	"strconv"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// KeysPerMaster counts the keys on each master of a cluster store.
func KeysPerMaster(t testing.TB, s *Store) map[string]int64 {
	t.Helper()
	cc, ok := s.rdb.(*goredis.ClusterClient)
	if !ok {
		t.Fatal("not a cluster store")
	}
	var mu sync.Mutex
	out := map[string]int64{}
	err := cc.ForEachMaster(context.Background(), func(ctx context.Context, m *goredis.Client) error {
		n, err := m.DBSize(ctx).Result()
		mu.Lock()
		out[m.Options().Addr] = n
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// UsedMemory sums used_memory over the masters of a cluster store, or
// reads it from the one server.
func UsedMemory(t testing.TB, s *Store) int64 {
	t.Helper()
	var mu sync.Mutex
	var total int64
	read := func(ctx context.Context, c goredis.Cmdable) error {
		info, err := c.InfoMap(ctx, "memory").Result()
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(info["Memory"]["used_memory"], 10, 64)
		mu.Lock()
		total += n
		mu.Unlock()
		return err
	}
	var err error
	if cc, ok := s.rdb.(*goredis.ClusterClient); ok {
		err = cc.ForEachMaster(context.Background(), func(ctx context.Context, m *goredis.Client) error { return read(ctx, m) })
	} else {
		err = read(context.Background(), s.rdb)
	}
	if err != nil {
		t.Fatal(err)
	}
	return total
}
