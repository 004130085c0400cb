package api

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Rate limits where abuse is cheap for the client and dear for the
// service: a sign-in costs a bcrypt comparison (tens of milliseconds of
// CPU), a /verify/{hash} page re-reads and recounts a whole log, a token
// is a record kept for good. The counters are the store's (Hit): on Redis
// every instance counts into the same counter, so a limit holds in sum
// over the instances, not per instance. Beyond the limit the answer is 429
// with Retry-After, until the window that counter started ends (a fixed
// window: at most twice the limit can pass across a window's edge).
//
// The sign-in limit is per client address and comes on top of the
// lockout of a name (lockout.go): the lockout stops guessing one user's
// password, the rate limit stops one address from trying many names.

// RateLimit allows Max requests per Window; Max 0 turns it off.
type RateLimit struct {
	Max    int64
	Window time.Duration
}

// RateLimits are the limits of the server; see DefaultRateLimits.
type RateLimits struct {
	// SignIn: sign-in attempts (API and page, password or token) per
	// client address.
	SignIn RateLimit
	// Verify: /verify/{hash} pages per client address.
	Verify RateLimit
	// Tokens: tokens issued per principal (API and the desk-token form).
	Tokens RateLimit
	// Refused: anonymous refused requests written to the audit log per
	// client address; beyond, they are only counted (audit.go).
	Refused RateLimit
	// Render: anonymous downloads rendered per client address (the
	// minutes and exports of live rounds, and of certified rounds not yet
	// in memory; certified.go).
	Render RateLimit
}

// DefaultRateLimits leave room for a hall whose desks all sign in at the
// start of a session from behind one address, and for delegates checking
// the printed minutes on their phones through the hall's network.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		SignIn: RateLimit{Max: 60, Window: time.Minute},
		Verify: RateLimit{Max: 120, Window: time.Minute},
		Tokens: RateLimit{Max: 100, Window: time.Minute},
		// A person mistyping, a desk with a stale token, a scan: all
		// recorded; a flood is counted in one line a minute.
		Refused: RateLimit{Max: 60, Window: time.Minute},
		Render:  RateLimit{Max: 60, Window: time.Minute},
	}
}

// Limiter is the store's counter with a window (store.Hit).
type Limiter interface {
	Hit(ctx context.Context, key string, window time.Duration) (int64, time.Duration, error)
}

// rateLimit counts one request under name and subject and refuses it, with
// the time until the window ends, beyond the limit.
func (s *Server) rateLimit(ctx context.Context, name, subject string, l RateLimit) error {
	if l.Max <= 0 || l.Window <= 0 {
		return nil
	}
	n, left, err := s.store.Hit(ctx, "rl:"+name+":"+subject, l.Window)
	if err != nil {
		return err
	}
	if n <= l.Max {
		return nil
	}
	secs := int((left + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return &lockedError{
		err:     errorf(tally.TooMany, "", "too many requests (%s): at most %d per %s; try again in %d seconds", name, l.Max, l.Window, secs),
		retry:   time.Duration(secs) * time.Second,
		limited: true,
	}
}

// signInLimit is the rate limit of sign-ins from the request's address.
func (s *Server) signInLimit(ctx context.Context, c *fiber.Ctx) error {
	return s.rateLimit(ctx, "signin", c.IP(), s.limits.SignIn)
}

// verifyLimit is a fiber handler: the rate limit of the verify page.
func (s *Server) verifyLimit(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	if err := s.rateLimit(ctx, "verify", c.IP(), s.limits.Verify); err != nil {
		return err
	}
	return c.Next()
}
