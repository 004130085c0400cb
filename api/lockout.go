package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Sign-in lockout (OWASP ASVS 2.2.1) of password sign-ins. A few failures
// are free, then each further failure locks for twice as long as the last,
// up to a ceiling. Two counts are kept, each an item in the store (so
// every instance on one Redis sees the same locks):
//
//   - per user name and client address: 5 free failures. Someone guessing
//     from one address is stopped after 5; someone typing the name from
//     another address is not stopped by them (finding 17: five requests
//     from anywhere used to lock the secretary out of every desk).
//   - per user name, all addresses together: 50 free failures, the ceiling
//     against guessing from many addresses. Locking a name for everyone
//     now takes 50 failures from at least ten addresses.
//
// Token sign-ins are not locked: a token is 24 random bytes, so a lock
// stops no guess, and a lock per address would let one client lock every
// desk behind a hall's NAT. They are bounded by the sign-in rate limit of
// the address (ratelimit.go) like every sign-in.
//
// Each attempt is counted before its password is checked (reserve): the
// count moves by compare-and-set (SwapItem), so of a burst of parallel
// attempts no more than the free ones get to bcrypt (finding 7: 54 of a
// burst of 55 used to be checked). A success forgets the failures of its
// address and gives back the one it reserved on the name.
const (
	itemLockout        = "lockout"
	lockoutFreeAddress = 5
	lockoutFreeName    = 50
	lockoutFirst       = 30 * time.Second
	lockoutCeiling     = 15 * time.Minute
	lockoutForget      = 24 * time.Hour // failures older than this are forgotten
	// swapRetries bounds the compare-and-set retries of one change (a
	// sign-in attempt beyond them is refused as locked for a second).
	swapRetries = 32
	// lockoutSweepEvery: one reservation in this many deletes the records
	// forgotten, so that names tried once do not pile up in the store.
	lockoutSweepEvery = 256
)

type lockRecord struct {
	Failures int   `json:"failures"`
	Last     int64 `json:"last"`  // unix seconds of the last failure
	Until    int64 `json:"until"` // unix seconds; locked before this
}

// lockKeys are the two counts of a password sign-in, the address's first.
// Their prefixes differ, so that no user name can name another's address
// count.
func lockKeys(username, address string) [2]lockKey {
	return [2]lockKey{
		{key: "user@" + address + " " + username, free: lockoutFreeAddress},
		{key: "user:" + username, free: lockoutFreeName},
	}
}

type lockKey struct {
	key  string
	free int
}

// parseLock reads a stored record; a damaged or forgotten one is no
// record (a damaged record must not lock anyone out for good).
func (s *Server) parseLock(data []byte) lockRecord {
	var r lockRecord
	if data == nil || json.Unmarshal(data, &r) != nil || s.now().Sub(time.Unix(r.Last, 0)) > lockoutForget {
		return lockRecord{}
	}
	return r
}

// lockedError is the refusal of a locked sign-in; retry says for how long
// (the Retry-After header).
type lockedError struct {
	err   *tally.Error
	retry time.Duration
	// limited: refused by a rate limit (ratelimit.go), not a lockout.
	limited bool
}

func (e *lockedError) Error() string { return e.err.Error() }
func (e *lockedError) Unwrap() error { return e.err }

func lockedFor(d time.Duration) error {
	secs := int(d.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return &lockedError{err: errorf(tally.TooMany, "", "too many failed sign-ins: try again in %d seconds", secs), retry: time.Duration(secs) * time.Second}
}

// swapLock moves one lock record by fn, by compare-and-set: fn sees the
// current record and returns the next one, or an error to stop.
func (s *Server) swapLock(ctx context.Context, key string, fn func(r lockRecord) (lockRecord, error)) (lockRecord, error) {
	var next lockRecord
	swapped, err := s.swapItem(ctx, itemLockout, key, func(old []byte) ([]byte, error) {
		var err error
		next, err = fn(s.parseLock(old))
		data, _ := json.Marshal(next)
		return data, err
	})
	if err != nil {
		return lockRecord{}, err
	}
	if !swapped {
		return lockRecord{}, lockedFor(time.Second) // a burst on one name: refuse rather than check unbounded
	}
	return next, nil
}

// swapItem moves one item by compare-and-set: next gets the item as it
// is (nil: absent) and returns what to store, and is called again when
// another writer got there first, up to swapRetries times. It reports
// whether a value was stored.
func (s *Server) swapItem(ctx context.Context, kind, key string, next func(old []byte) ([]byte, error)) (bool, error) {
	for range swapRetries {
		old, err := s.store.Item(ctx, kind, key)
		if err != nil && tally.ErrorKind(err) != tally.NotFound {
			return false, err
		}
		data, err := next(old)
		if err != nil {
			return false, err
		}
		swapped, err := s.store.SwapItem(ctx, kind, key, old, data)
		if err != nil || swapped {
			return swapped, err
		}
	}
	return false, nil
}

// reserve counts an attempt under key as a failure before it is checked,
// unless the key is locked. The record it leaves says whether this
// attempt, if it fails, starts a lock.
func (s *Server) reserve(ctx context.Context, k lockKey) (lockRecord, error) {
	if s.creds.lockoutCalls.Add(1)%lockoutSweepEvery == 0 {
		go s.sweepLockouts()
	}
	return s.swapLock(ctx, k.key, func(r lockRecord) (lockRecord, error) {
		now := s.now()
		if until := time.Unix(r.Until, 0); now.Before(until) {
			return r, lockedFor(until.Sub(now))
		}
		r.Failures++
		r.Last = now.Unix()
		if r.Failures >= k.free {
			d := lockoutFirst << min(r.Failures-k.free, 10)
			r.Until = now.Add(min(d, lockoutCeiling)).Unix()
		}
		return r, nil
	})
}

// reserveSignIn reserves a password attempt on both counts: the address's
// first, so that a client refused by its own lock adds nothing to the
// name's count that everyone shares.
func (s *Server) reserveSignIn(ctx context.Context, username, address string) ([2]lockRecord, error) {
	var out [2]lockRecord
	for i, k := range lockKeys(username, address) {
		r, err := s.reserve(ctx, k)
		if err != nil {
			return out, err
		}
		out[i] = r
	}
	return out, nil
}

// failedSignIn is the refusal of a wrong password whose attempt was
// reserved: the lock it started, if it started one, else refusal.
func (s *Server) failedSignIn(reserved [2]lockRecord, refusal error) error {
	now := s.now()
	until := max(reserved[0].Until, reserved[1].Until)
	if until > now.Unix() {
		return lockedFor(time.Unix(until, 0).Sub(now))
	}
	return refusal
}

// signedIn settles the reservation of a right password: the address's
// failures are forgotten, and the attempt reserved on the name is given
// back (the name's count is not cleared: a success of the real user must
// not give someone guessing from many addresses fifty tries more).
func (s *Server) signedIn(ctx context.Context, username, address string) error {
	keys := lockKeys(username, address)
	if err := s.store.DeleteItem(ctx, itemLockout, keys[0].key); err != nil && tally.ErrorKind(err) != tally.NotFound {
		return err
	}
	_, err := s.swapLock(ctx, keys[1].key, func(r lockRecord) (lockRecord, error) {
		r.Failures = max(r.Failures-1, 0)
		if r.Failures < keys[1].free {
			r.Until = 0
		}
		return r, nil
	})
	return err
}

// sweepLockouts deletes the lock records whose failures are forgotten.
func (s *Server) sweepLockouts() {
	ctx, cancel := storeCtx()
	defer cancel()
	all, err := s.store.ListItems(ctx, itemLockout)
	if err != nil {
		return
	}
	for key, data := range all {
		if s.parseLock(data) == (lockRecord{}) {
			// Delete only what is still the forgotten record; one that a
			// sign-in swaps between this read and the delete loses that
			// one failure (rare, and it errs towards letting in).
			if cur, err := s.store.Item(ctx, itemLockout, key); err == nil && string(cur) == string(data) {
				s.store.DeleteItem(ctx, itemLockout, key)
			}
		}
	}
}
