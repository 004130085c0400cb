package tally

import (
	"slices"
	"strconv"
)

// The list of a draft round as it changes (DESIGN §7.2, issue 12): a
// candidate withdraws (rút khỏi danh sách, 04-HD/TW item 2: the congress
// decides, 190 Điều 28.4) or a nominee from the floor or a self-nominee is
// added (190 Điều 14.3). Each change gives a new definition that is judged
// whole again — the surplus of Điều 14 included — and that takes the only
// ballot its list allows (BallotFor); a change that would break the list is
// refused and nothing changes.

// WithdrawCandidate returns c without the candidate id, and that candidate.
func WithdrawCandidate(c *Contest, id string) (*Contest, Candidate, error) {
	i := slices.IndexFunc(c.Candidates, func(x Candidate) bool { return x.ID == id })
	if i < 0 {
		return nil, Candidate{}, Errorf("candidate", "%q is not on the list of %s", id, c.ID)
	}
	gone := c.Candidates[i]
	next := copyContest(c)
	next.Candidates = slices.Delete(next.Candidates, i, i+1)
	if len(next.Candidates) == 0 {
		return nil, Candidate{}, Errorf("candidate", "%q is the only candidate: a list cannot be left empty (delete the draft instead)", id)
	}
	if err := relist(next); err != nil {
		return nil, Candidate{}, err
	}
	return next, gone, nil
}

// NominateCandidate returns c with cand added, marked as nominated from
// source (floor or self), and the candidate as stored. Problems of the
// candidate itself are named "candidate.<field>".
func NominateCandidate(c *Contest, cand Candidate, source Nomination) (*Contest, Candidate, error) {
	if source != NominatedFloor && source != NominatedSelf {
		return nil, Candidate{}, Errorf("source", `must be "floor" (đề cử) or "self" (tự ứng cử); got %q`, source)
	}
	cand.Nominated = source
	next := copyContest(c)
	next.Candidates = append(next.Candidates, cand)
	next.Normalize()
	added := next.Candidates[len(next.Candidates)-1]
	if err := relist(next); err != nil {
		return nil, Candidate{}, renameCandidates(err, len(c.Candidates), func(int) string { return "candidate" })
	}
	return next, added, nil
}

// relist chooses the ballot for the list, validates and sorts it.
func relist(c *Contest) error {
	c.Ballot = BallotFor(len(c.Candidates), c.Seats)
	if err := c.Validate(); err != nil {
		return err
	}
	SortBallotOrder(c.Candidates)
	return nil
}

func copyContest(c *Contest) *Contest {
	next := *c
	next.Candidates = slices.Clone(c.Candidates)
	next.Composition.AgeBands = slices.Clone(c.Composition.AgeBands)
	return &next
}

// NextCandidateID is an id of the form c<n> that no candidate of c has and
// that is not among taken (the ids of those who withdrew): for a nominee
// typed without one.
func NextCandidateID(c *Contest, taken ...string) string {
	used := c.Index()
	for _, id := range taken {
		used[id] = -1
	}
	for n := len(c.Candidates) + 1; ; n++ {
		id := "c" + strconv.Itoa(n)
		if _, ok := used[id]; !ok {
			return id
		}
	}
}
