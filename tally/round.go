package tally

import (
	"fmt"
	"regexp"
)

var roundSuffix = regexp.MustCompile(`-r[0-9]+$`)

// NextRound builds the contest that follows a closed round (domain-rules
// §5.6–5.7): a re-vote among the candidates tied at the last seat for the
// seats they tied over, or else a further round among those not elected for
// the vacant seats. The denominator, percent policy, visibility and
// composition policy carry over; the id gains "-r<round>"; the ballot is a
// strike ballot when names outnumber seats, else an approve ballot. The
// congress may add names (§5.7) by appending to Candidates, then calling
// Normalize, Validate and SortBallotOrder, as ParseContest does. It is an error to ask for a next round when
// the round filled every seat.
func NextRound(c *Contest, r *Result) (*Contest, error) {
	if !c.Kind.Elects() {
		// An opinion ballot admits or not; an introduction ballot's tie at
		// the cut-off is decided by the congress or the committee's head
		// (DecideIntroduction): neither is followed by a round.
		return nil, &Error{Kind: Conflict, Message: fmt.Sprintf("a %q contest elects nobody: it has no next round", c.Kind)}
	}
	var pick map[string]bool
	var seats int
	switch {
	case r.RevoteSeats > 0 && len(r.Tied) > 0:
		pick, seats = set(r.Tied), r.RevoteSeats
	case r.Vacant > 0:
		pick, seats = map[string]bool{}, r.Vacant
		for _, cr := range r.Candidates {
			if cr.Status == StatusNotElected {
				pick[cr.ID] = true
			}
		}
		if len(pick) == 0 {
			return nil, &Error{Kind: Conflict, Message: fmt.Sprintf("%d seats are vacant but every candidate was elected: the congress must add names before another round", seats)}
		}
	default:
		return nil, &Error{Kind: Conflict, Message: "the round filled every seat: there is no next round"}
	}
	next := *c
	next.Round = c.Round + 1
	next.ID = fmt.Sprintf("%s-r%d", roundSuffix.ReplaceAllString(c.ID, ""), next.Round)
	next.Seats = seats
	next.Candidates = nil
	for _, cand := range c.Candidates {
		if pick[cand.ID] {
			next.Candidates = append(next.Candidates, cand)
		}
	}
	next.Ballot = StyleApprove
	if len(next.Candidates) > seats {
		next.Ballot = StyleStrike
	}
	next.Composition.AgeBands = append([]int(nil), c.Composition.AgeBands...)
	if err := next.Validate(); err != nil {
		return nil, err
	}
	return &next, nil
}

func set(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}
