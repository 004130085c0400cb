package api

import (
	"context"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Warnings (tally.Warning) on a round's view and on the live check: what
// to check, never a refusal (issue 12, deliverable 6). Every kind of
// warning goes through roundWarnings, so that each has one place to add
// itself.

// roundWarnings are the warnings of a round: its list against its
// congress's counting committee, and its figures (res; nil for a draft,
// which has none yet). Always a list, [] when there is nothing to check.
func (s *Server) roundWarnings(ctx context.Context, rec *tally.Record, res *tally.Result) ([]tally.Warning, error) {
	committee, err := s.countingCommittee(ctx, rec.Congress)
	if err != nil {
		return nil, err
	}
	return tally.RoundWarnings(rec.Contest, committee, res), nil
}

// countingCommittee is the counting committee of a congress: nil for a
// round filed under none, or under one since deleted.
func (s *Server) countingCommittee(ctx context.Context, congress string) ([]tally.CommitteeMember, error) {
	if congress == "" {
		return nil, nil
	}
	cg, err := s.congress(ctx, congress)
	if tally.ErrorKind(err) == tally.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return cg.CountingCommittee, nil
}
