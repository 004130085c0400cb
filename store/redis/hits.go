package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiemphieu/kiemphieu/tally"
)

// kp:hit:<key>   string: a counter of Hit, which expires with its window.
func hitKey(key string) string { return "kp:hit:" + key }

// hitScript adds one to a counter and, on its first hit, gives it its
// window; it returns the count and the counter's time to live (ms). One
// key, one script: atomic, and on Cluster the key decides the slot. A
// counter found without a time to live (one written by hand) is given one,
// so that no limit holds forever.
//
// KEYS: the counter. ARGV: the window in ms.
var hitScript = goredis.NewScript(`#!lua
local n = redis.call('INCR', KEYS[1])
if n == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`)

// Hit adds one to the counter under key and returns the new count and how
// long the counter has left to live. A counter starts at 1 on the first
// Hit and expires window after it (a fixed window), so a rate limit is "at
// most N Hits per window", summed over every instance on this Redis.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration) (int64, time.Duration, error) {
	if key == "" {
		return 0, 0, &tally.Error{Kind: tally.Invalid, Field: "key", Message: "redis store: Hit needs a key"}
	}
	ms := window.Milliseconds()
	if ms <= 0 {
		return 0, 0, &tally.Error{Kind: tally.Invalid, Field: "window", Message: "redis store: Hit needs a window of at least 1 ms"}
	}
	vals, err := hitScript.Run(ctx, s.rdb, []string{hitKey(key)}, strconv.FormatInt(ms, 10)).Int64Slice()
	if err != nil {
		return 0, 0, classify(err)
	}
	if len(vals) != 2 {
		return 0, 0, fmt.Errorf("redis store: Hit: unexpected reply %v", vals)
	}
	return vals[0], time.Duration(vals[1]) * time.Millisecond, nil
}
