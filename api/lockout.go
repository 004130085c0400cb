package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Sign-in lockout (OWASP ASVS 2.2.1): a few failures are free, then each
// further failure locks the name (or, for tokens, the address) for twice as
// long as the last, up to a ceiling. The state is an item in the store, so
// every instance on one Redis sees the same lock.
const (
	itemLockout    = "lockout"
	lockoutFree    = 5
	lockoutFirst   = 30 * time.Second
	lockoutCeiling = 15 * time.Minute
	lockoutForget  = 24 * time.Hour // failures older than this are forgotten
)

type lockRecord struct {
	Failures int   `json:"failures"`
	Last     int64 `json:"last"`  // unix seconds of the last failure
	Until    int64 `json:"until"` // unix seconds; locked before this
}

func (s *Server) lockRecord(ctx context.Context, key string) (lockRecord, error) {
	var r lockRecord
	data, err := s.store.Item(ctx, itemLockout, key)
	if tally.ErrorKind(err) == tally.NotFound {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return lockRecord{}, nil // a damaged record must not lock anyone out for good
	}
	if s.now().Sub(time.Unix(r.Last, 0)) > lockoutForget {
		return lockRecord{}, nil
	}
	return r, nil
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

// checkLockout refuses a sign-in while its key is locked, whatever the
// password: a correct guess during the lock must not be told apart.
func (s *Server) checkLockout(ctx context.Context, key string) error {
	r, err := s.lockRecord(ctx, key)
	if err != nil {
		return err
	}
	if until := time.Unix(r.Until, 0); s.now().Before(until) {
		return lockedFor(until.Sub(s.now()))
	}
	return nil
}

// loginFailed counts a failure and returns the refusal to give: wrong
// credentials (refusal), or the lock that this failure starts.
func (s *Server) loginFailed(ctx context.Context, key string, refusal error) error {
	r, err := s.lockRecord(ctx, key)
	if err != nil {
		return err
	}
	now := s.now()
	r.Failures++
	r.Last = now.Unix()
	if r.Failures >= lockoutFree {
		d := lockoutFirst << min(r.Failures-lockoutFree, 10)
		r.Until = now.Add(min(d, lockoutCeiling)).Unix()
	}
	data, _ := json.Marshal(r)
	if err := s.store.PutItem(ctx, itemLockout, key, data); err != nil {
		return err
	}
	if r.Until > now.Unix() {
		return lockedFor(time.Unix(r.Until, 0).Sub(now))
	}
	return refusal
}

// loginSucceeded forgets the failures of a key.
func (s *Server) loginSucceeded(ctx context.Context, key string) error {
	err := s.store.DeleteItem(ctx, itemLockout, key)
	if tally.ErrorKind(err) == tally.NotFound {
		return nil
	}
	return err
}
