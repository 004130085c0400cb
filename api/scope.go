package api

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// A token issued for one contest (DESIGN §7.1: the desk token of a
// contest's setup page always is) works on that contest and on the rounds
// built from it by POST …/next, and on nothing else:
//
//   - a route that names a contest (/contests/{id}/…, API and pages) is
//     403 forbidden for any other contest, and for one that does not
//     exist (a scoped desk learns nothing of other rounds);
//   - the lists show only the rounds in scope: GET /api/v1/contests and
//     the home page;
//   - every other route — congresses, the roll-up, anything that may list
//     or name other rounds — is 403 forbidden.
//
// A round's Previous never changes once the round exists, so the chain is
// walked from the round asked for back towards its first round, and each
// link is cached for good.

// maxRounds bounds the walk: no election has this many rounds.
const maxRounds = 64

// farFuture is the "until" of cached links, which never change.
var farFuture = time.Unix(1<<40, 0)

// errOutOfScope is the refusal of a scoped principal elsewhere.
func errOutOfScope(p *principal) error {
	return refused(errorf(tally.Forbidden, "", "this token works only for contest %q and the rounds that follow it", p.Contest),
		"error.out_of_scope", p.Contest)
}

// previousOf is the round before id (Record.Previous), "" for a first
// round.
func (s *Server) previousOf(ctx context.Context, id string) (string, error) {
	if prev, ok := s.creds.previous.get(id, s.now()); ok {
		return prev, nil
	}
	rec, err := s.store.Contest(ctx, id)
	if err != nil {
		return "", err
	}
	// An import under way may still be refused and its id freed (and
	// taken by another round): cache only rounds that stay.
	if rec.Imported == "" || rec.State == tally.StateCertified {
		s.creds.previous.put(id, rec.Previous, farFuture)
	}
	return rec.Previous, nil
}

// inScope is nil when p may act on contest id.
func (s *Server) inScope(ctx context.Context, p *principal, id string) error {
	if p == nil || p.Contest == "" || id == p.Contest {
		return nil
	}
	cur := id
	for range maxRounds {
		prev, err := s.previousOf(ctx, cur)
		if tally.ErrorKind(err) == tally.NotFound {
			return errOutOfScope(p)
		}
		if err != nil {
			return err
		}
		if prev == p.Contest {
			return nil
		}
		if prev == "" {
			return errOutOfScope(p)
		}
		cur = prev
	}
	return errOutOfScope(p)
}

// contestScope is the middleware of every route under /contests/{id}: a
// scoped principal only within its scope.
func (s *Server) contestScope(c *fiber.Ctx) error {
	p := principalOf(c)
	if p == nil || p.Contest == "" || !namesContest(c) {
		return c.Next()
	}
	ctx, cancel := storeCtx()
	defer cancel()
	if err := s.inScope(ctx, p, c.Params("id")); err != nil {
		return err
	}
	cancel()
	return c.Next()
}

// namesContest tells whether the route matched names a contest by its id.
func namesContest(c *fiber.Ctx) bool {
	return strings.Contains(c.Route().Path, "/contests/:id")
}

// scopeAllows is nil when the route may be used by p at all: every route
// for an unscoped principal; for a scoped one, the routes of a contest
// (contestScope checks which) and the list of contests (filtered).
func scopeAllows(c *fiber.Ctx, p *principal) error {
	if p.Contest == "" || namesContest(c) {
		return nil
	}
	if c.Method() == fiber.MethodGet && c.Route().Path == "/api/v1/contests" {
		return nil
	}
	return errOutOfScope(p)
}

// visibleRounds keeps the records p may see: all for an unscoped
// principal, the rounds in scope for a scoped one (walked within recs).
func visibleRounds(p *principal, recs []*tally.Record) []*tally.Record {
	if p == nil || p.Contest == "" {
		return recs
	}
	previous := make(map[string]string, len(recs))
	for _, r := range recs {
		previous[r.Contest.ID] = r.Previous
	}
	out := make([]*tally.Record, 0, 2)
	for _, r := range recs {
		cur := r.Contest.ID
		for range maxRounds {
			if cur == p.Contest {
				out = append(out, r)
				break
			}
			if cur = previous[cur]; cur == "" {
				break
			}
		}
	}
	return out
}
