package bolt

import (
	"bytes"
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

// SwapItem stores value under kind and key only if the item holds old
// now — old nil: only if there is no item — and reports whether it did.
// Compare and store are one transaction, so of two callers that read the
// same value and swap it, exactly one succeeds: the state of a record
// (a sign-in lock, a paper in verified entry) moves one step at a time.
func (s *Store) SwapItem(ctx context.Context, kind, key string, old, value []byte) (bool, error) {
	if kind == "" || key == "" || value == nil {
		return false, &tally.Error{Kind: tally.Invalid, Message: "bolt: a swap needs a kind, a key and a value"}
	}
	swapped := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		items, err := tx.CreateBucketIfNotExists(bucketItems)
		if err != nil {
			return err
		}
		b, err := items.CreateBucketIfNotExists([]byte(kind))
		if err != nil {
			return err
		}
		cur := b.Get([]byte(key))
		if (old == nil) != (cur == nil) || !bytes.Equal(cur, old) {
			return nil
		}
		swapped = true
		return b.Put([]byte(key), value)
	})
	if err != nil {
		return false, storeErr("swap item", err)
	}
	return swapped, nil
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
