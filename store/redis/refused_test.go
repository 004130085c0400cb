package redis_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/store/storetest"
	"github.com/kiemphieu/kiemphieu/tally"
)

// Redis refusing writes (maxmemory with noeviction, min-replicas-to-write
// without replicas): an append is Unavailable with a message saying why and
// records nothing; reads, the counters among them, keep working; once Redis
// accepts writes again the same Store appends again. The service-level
// tests are cmd/kiemphieu's TestE2ERedisRefusesWrites and TestE2ERedisDiskFull.
func TestRefusedWrites(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv.URL())
	c := createOpen(t, s, "refused")
	n := 0
	appendOne := func() (string, error) {
		n++
		id := fmt.Sprintf("b%03d", n)
		_, _, err := s.Append(testCtx(t), c.ID, storetest.BallotAppend(t, c, tally.Ballot{ID: id, Struck: []string{"c1"}}, "d1"))
		return id, err
	}
	redisDo := func(args ...string) {
		t.Helper()
		if _, err := srv.Do(args...); err != nil {
			t.Fatalf("redis %v: %v", args, err)
		}
	}
	acked := 0
	for _, tc := range []struct {
		name            string
		refuse, restore [][]string
		want            string
	}{
		{"oom", [][]string{{"CONFIG", "SET", "maxmemory-policy", "noeviction"}, {"CONFIG", "SET", "maxmemory", "1"}},
			[][]string{{"CONFIG", "SET", "maxmemory", "0"}}, "maxmemory"},
		{"noreplicas", [][]string{{"CONFIG", "SET", "min-replicas-to-write", "1"}},
			[][]string{{"CONFIG", "SET", "min-replicas-to-write", "0"}}, "min-replicas-to-write"},
	} {
		if _, err := appendOne(); err != nil {
			t.Fatalf("%s: append before: %v", tc.name, err)
		}
		acked++
		for _, cmd := range tc.refuse {
			redisDo(cmd...)
		}
		id, err := appendOne()
		if tally.ErrorKind(err) != tally.Unavailable || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was recorded") {
			t.Fatalf("%s: append of %s: %v (kind %s); want Unavailable saying %q", tc.name, id, err, tally.ErrorKind(err), tc.want)
		}
		counters, version, err := s.Counters(testCtx(t), c.ID)
		if err != nil || version != int64(acked) || counters[tally.CounterTotal] != int64(acked) {
			t.Fatalf("%s: counters while Redis refuses writes: %v at %d, %v; want %d ballots", tc.name, counters, version, err, acked)
		}
		if err := s.Ping(testCtx(t)); err != nil {
			t.Errorf("%s: Ping while Redis refuses writes: %v", tc.name, err)
		}
		for _, cmd := range tc.restore {
			redisDo(cmd...)
		}
		if _, err := appendOne(); err != nil {
			t.Fatalf("%s: append after: %v", tc.name, err)
		}
		acked++
	}
	if entries := storetest.CheckLog(t, s, c); len(entries) != acked {
		t.Fatalf("the log has %d entries; %d were acknowledged", len(entries), acked)
	}
}
