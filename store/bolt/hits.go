package bolt

import (
	"context"
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kiemphieu/kiemphieu/tally"
)

// hits/   key → 8-byte count, 8-byte expiry (unix nanoseconds): the
// counters of Hit, for the service's rate limits.
var bucketHits = []byte("hits")

// hitSweepEvery: one Hit in this many also deletes the expired counters,
// so that counters of addresses never seen again do not pile up.
const hitSweepEvery = 256

// Hit adds one to the counter under key and returns the new count and how
// long the counter has left to live. A counter starts at 1 on the first
// Hit and is forgotten window after that Hit (a fixed window), so a rate
// limit is "at most N Hits per window". Increment and expiry are one
// transaction: two Hits never see the same count.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration) (int64, time.Duration, error) {
	if key == "" {
		return 0, 0, &tally.Error{Kind: tally.Invalid, Field: "key", Message: "bolt: Hit needs a key"}
	}
	if window <= 0 {
		return 0, 0, &tally.Error{Kind: tally.Invalid, Field: "window", Message: "bolt: Hit needs a window > 0"}
	}
	var count int64
	var left time.Duration
	sweep := s.hitCalls.Add(1)%hitSweepEvery == 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketHits)
		if err != nil {
			return err
		}
		now := time.Now()
		if sweep {
			c := b.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if len(v) != 16 || int64(binary.BigEndian.Uint64(v[8:])) <= now.UnixNano() {
					if err := c.Delete(); err != nil {
						return err
					}
				}
			}
		}
		expires := now.Add(window)
		if v := b.Get([]byte(key)); len(v) == 16 {
			if e := time.Unix(0, int64(binary.BigEndian.Uint64(v[8:]))); e.After(now) {
				count, expires = int64(binary.BigEndian.Uint64(v[:8])), e
			}
		}
		count++
		left = expires.Sub(now)
		var v [16]byte
		binary.BigEndian.PutUint64(v[:8], uint64(count))
		binary.BigEndian.PutUint64(v[8:], uint64(expires.UnixNano()))
		return b.Put([]byte(key), v[:])
	})
	if err != nil {
		return 0, 0, storeErr("hit", err)
	}
	return count, left, nil
}
