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
//	kp:item:<kind>:<key>   string: a token, user or session record (kept by the api)
//	kp:audit               list: the audit log, one event per element
//
// Each is a single key, so each command is atomic on Cluster too.
const keyAudit = "kp:audit"

func itemKey(kind, key string) string { return "kp:item:" + kind + ":" + key }

// PutItem stores value under kind and key, replacing what was there.
func (s *Store) PutItem(ctx context.Context, kind, key string, value []byte) error {
	if kind == "" || key == "" {
		return &tally.Error{Kind: tally.Invalid, Message: "redis store: an item needs a kind and a key"}
	}
	if err := s.rdb.Set(ctx, itemKey(kind, key), value, 0).Err(); err != nil {
		return classify(err)
	}
	return nil
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
	if err := s.rdb.Del(ctx, itemKey(kind, key)).Err(); err != nil {
		return classify(err)
	}
	return nil
}

// AppendAudit adds one event to the audit log; with appendfsync always it
// is durable when this returns.
func (s *Store) AppendAudit(ctx context.Context, line []byte) error {
	if err := s.rdb.RPush(ctx, keyAudit, line).Err(); err != nil {
		return classify(err)
	}
	return nil
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

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return classify(err)
	}
	return nil
}
