package bolt

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Beside the contests, the file keeps:
//
//	items/<kind>/       key → value: tokens, users, sessions (kept by the api)
//	audit/              8-byte big-endian sequence → one audit event (JSON)
var (
	bucketItems = []byte("items")
	bucketAudit = []byte("audit")
)

// PutItem stores value under kind and key, replacing what was there.
func (s *Store) PutItem(ctx context.Context, kind, key string, value []byte) error {
	if kind == "" || key == "" {
		return &tally.Error{Kind: tally.Invalid, Message: "bolt: an item needs a kind and a key"}
	}
	return storeErr("put item", s.db.Update(func(tx *bolt.Tx) error {
		items, err := tx.CreateBucketIfNotExists(bucketItems)
		if err != nil {
			return err
		}
		b, err := items.CreateBucketIfNotExists([]byte(kind))
		if err != nil {
			return err
		}
		return b.Put([]byte(key), value)
	}))
}

// Item returns the value stored under kind and key, or an error of kind
// NotFound.
func (s *Store) Item(ctx context.Context, kind, key string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if items := tx.Bucket(bucketItems); items != nil {
			if b := items.Bucket([]byte(kind)); b != nil {
				if v := b.Get([]byte(key)); v != nil {
					out = append([]byte(nil), v...) // v is only valid inside the transaction
					return nil
				}
			}
		}
		return &tally.Error{Kind: tally.NotFound, Message: fmt.Sprintf("no %s %q", kind, key)}
	})
	return out, storeErr("read item", err)
}

// DeleteItem removes an item; removing a missing one is not an error.
func (s *Store) DeleteItem(ctx context.Context, kind, key string) error {
	return storeErr("delete item", s.db.Update(func(tx *bolt.Tx) error {
		if items := tx.Bucket(bucketItems); items != nil {
			if b := items.Bucket([]byte(kind)); b != nil {
				return b.Delete([]byte(key))
			}
		}
		return nil
	}))
}

// ListItems returns every item of a kind, by key.
func (s *Store) ListItems(ctx context.Context, kind string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := s.db.View(func(tx *bolt.Tx) error {
		if items := tx.Bucket(bucketItems); items != nil {
			if b := items.Bucket([]byte(kind)); b != nil {
				return b.ForEach(func(k, v []byte) error {
					out[string(k)] = append([]byte(nil), v...)
					return nil
				})
			}
		}
		return nil
	})
	return out, storeErr("list items", err)
}

// AppendAudit adds one event to the audit log, durably.
func (s *Store) AppendAudit(ctx context.Context, line []byte) error {
	return storeErr("append audit", s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketAudit)
		if err != nil {
			return err
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		return b.Put(seqKey(int64(seq)), line)
	}))
}

// Audit returns up to limit audit events after the first `after`.
func (s *Store) Audit(ctx context.Context, after int64, limit int) ([][]byte, error) {
	var out [][]byte
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			out = append(out, append([]byte(nil), v...))
		}
		return nil
	})
	return out, storeErr("read audit", err)
}

// Ping reports whether the store is open.
func (s *Store) Ping(ctx context.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return &tally.Error{Kind: tally.Unavailable, Message: "bolt: the store is closed"}
	}
	return nil
}
