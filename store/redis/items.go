package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Beside the contests, Redis keeps:
//
//	kp:item:<kind>:<key>   string: a token, user, session or congress record (kept by the api)
//	kp:items:<kind>        set: the keys of a kind, for listing
//	kp:audit               list: the audit log, one event per element
//
// Each is a single key, so each command is atomic on Cluster too.
const keyAudit = "kp:audit"

func itemKey(kind, key string) string { return "kp:item:" + kind + ":" + key }

func itemIndexKey(kind string) string { return "kp:items:" + kind }

// PutItem stores value under kind and key, replacing what was there.
func (s *Store) PutItem(ctx context.Context, kind, key string, value []byte) error {
	if kind == "" || key == "" {
		return &tally.Error{Kind: tally.Invalid, Message: "redis store: an item needs a kind and a key"}
	}
	// The index first: a key listed whose value is not there yet is
	// skipped by ListItems, whereas a value never listed would be lost to it.
	if err := s.rdb.SAdd(ctx, itemIndexKey(kind), key).Err(); err != nil {
		return classify(err)
	}
	err := s.replicated(ctx, itemKey(kind, key), func(p goredis.Pipeliner) error {
		p.Set(ctx, itemKey(kind, key), value, 0)
		return nil
	})
	return written(err)
}

// written maps the error of a replicated write: a shortfall of replicas is
// already Unavailable.
func written(err error) error {
	if err == nil || tally.ErrorKind(err) == tally.Unavailable {
		return err
	}
	return classify(err)
}

// swapScript stores a value only if the key holds the expected one.
//
// KEYS: the item. ARGV: "1" if a value is expected ("0": the key must be
// absent), the expected value, the new value. Returns 1 if stored.
var swapScript = goredis.NewScript(`#!lua
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if cur then return 0 end
elseif cur ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3])
return 1
`)

// SwapItem stores value under kind and key only if the item holds old
// now — old nil: only if there is no item — and reports whether it did.
// The compare and the store are one script on one key, so they are atomic
// across every instance (and on Cluster); of two callers that read the
// same value and swap it, exactly one succeeds.
func (s *Store) SwapItem(ctx context.Context, kind, key string, old, value []byte) (bool, error) {
	if kind == "" || key == "" || value == nil {
		return false, &tally.Error{Kind: tally.Invalid, Message: "redis store: a swap needs a kind, a key and a value"}
	}
	// The index first, as PutItem does.
	if err := s.rdb.SAdd(ctx, itemIndexKey(kind), key).Err(); err != nil {
		return false, classify(err)
	}
	expect := "1"
	if old == nil {
		expect = "0"
	}
	// EVAL rather than EVALSHA: a pipeline cannot fall back on NOSCRIPT,
	// and the script is short.
	var swap *goredis.Cmd
	err := s.replicated(ctx, itemKey(kind, key), func(p goredis.Pipeliner) error {
		swap = swapScript.Eval(ctx, p, []string{itemKey(kind, key)}, expect, old, value)
		return nil
	})
	if err != nil {
		return false, written(err)
	}
	n, err := swap.Int()
	if err != nil {
		return false, classify(err)
	}
	return n == 1, nil
}

// Item returns the value stored under kind and key, or an error of kind
// NotFound.
func (s *Store) Item(ctx context.Context, kind, key string) ([]byte, error) {
	v, err := s.rdb.Get(ctx, itemKey(kind, key)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, &tally.Error{Kind: tally.NotFound, Message: fmt.Sprintf("no %s %q", kind, key)}
	}
	if err != nil {
		return nil, classify(err)
	}
	return v, nil
}

// DeleteItem removes an item; removing a missing one is not an error.
func (s *Store) DeleteItem(ctx context.Context, kind, key string) error {
	err := s.replicated(ctx, itemKey(kind, key), func(p goredis.Pipeliner) error {
		p.Del(ctx, itemKey(kind, key))
		return nil
	})
	if err != nil {
		return written(err)
	}
	if err := s.rdb.SRem(ctx, itemIndexKey(kind), key).Err(); err != nil {
		return classify(err)
	}
	return nil
}

// ListItems returns every item of a kind, by key.
func (s *Store) ListItems(ctx context.Context, kind string) (map[string][]byte, error) {
	keys, err := s.rdb.SMembers(ctx, itemIndexKey(kind)).Result()
	if err != nil {
		return nil, classify(err)
	}
	out := make(map[string][]byte, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	// One GET per key in a pipeline: on Cluster the items live in
	// different slots.
	cmds := make([]*goredis.StringCmd, len(keys))
	_, err = s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, itemKey(kind, k))
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, classify(err)
	}
	for i, cmd := range cmds {
		v, err := cmd.Bytes()
		if errors.Is(err, goredis.Nil) {
			continue // listed, but deleted meanwhile
		}
		if err != nil {
			return nil, classify(err)
		}
		out[keys[i]] = v
	}
	return out, nil
}

// AppendAudit adds one event to the audit log; with appendfsync always it
// is durable when this returns.
func (s *Store) AppendAudit(ctx context.Context, line []byte) error {
	err := s.replicated(ctx, keyAudit, func(p goredis.Pipeliner) error {
		p.RPush(ctx, keyAudit, line)
		return nil
	})
	return written(err)
}

// Audit returns up to limit audit events after the first `after`.
func (s *Store) Audit(ctx context.Context, after int64, limit int) ([][]byte, error) {
	stop := int64(-1)
	if limit > 0 {
		stop = after + int64(limit) - 1
	}
	vals, err := s.rdb.LRange(ctx, keyAudit, after, stop).Result()
	if err != nil {
		return nil, classify(err)
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		out[i] = []byte(v)
	}
	return out, nil
}

// Ping reports whether Redis answers. Redis refuses PING itself with
// MISCONF while it cannot write to its disk; it still answers and serves
// reads then (only writes are refused, each saying why), so that reply
// counts as an answer.
func (s *Store) Ping(ctx context.Context) error {
	err := s.rdb.Ping(ctx).Err()
	var rerr goredis.Error
	if err == nil || errors.As(err, &rerr) && hasPrefix(rerr.Error(), "MISCONF ") {
		return nil
	}
	return classify(err)
}
