package redis

import (
	"context"
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
