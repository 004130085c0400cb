package tally

import (
	"slices"
)

// Count is the fold of a contest's ballots: feed it Markings with Add, read
// the Result at any time. It is not safe for concurrent use.
type Count struct {
	contest *Contest
	total   int
	valid   int
	invalid [numReasons]int
	// Strike ballots: struck[i] is how many valid ballots struck candidate
	// i, so votes = valid − struck. A ballot costs one step per struck
	// name, not one per candidate.
	struck []int
	// Approve ballots: agree[i] and disagree[i] over valid ballots.
	agree, disagree []int
	// Name (introduction) ballots: named[i] is how many valid ballots
	// name candidate i, its votes.
	named []int
}

// NewCount starts an empty count for a validated contest.
func NewCount(c *Contest) *Count {
	t := &Count{contest: c}
	n := len(c.Candidates)
	switch c.Ballot {
	case StyleStrike:
		t.struck = make([]int, n)
	case StyleName:
		t.named = make([]int, n)
	default:
		t.agree, t.disagree = make([]int, n), make([]int, n)
	}
	return t
}

// Add counts one ballot and returns its verdict (Valid or the reason it is
// invalid). The marking must come from Contest.Mark or a BallotDecoder.
func (t *Count) Add(m Marking) Reason {
	r := t.contest.Classify(m)
	t.total++
	if r != Valid {
		t.invalid[r]++
		return r
	}
	t.valid++
	if t.struck != nil {
		for _, i := range m.Struck {
			t.struck[i]++
		}
		return r
	}
	if t.named != nil {
		for _, i := range m.Named {
			t.named[i]++
		}
		return r
	}
	for i, mk := range m.Marks {
		switch mk {
		case MarkAgree:
			t.agree[i]++
		case MarkDisagree:
			t.disagree[i]++
		}
	}
	return r
}

// Votes returns each candidate's votes, in ballot order.
func (t *Count) Votes() []int {
	n := len(t.contest.Candidates)
	votes := make([]int, n)
	for i := range votes {
		switch {
		case t.struck != nil:
			votes[i] = t.valid - t.struck[i]
		case t.named != nil:
			votes[i] = t.named[i]
		default:
			votes[i] = t.agree[i]
		}
	}
	return votes
}

// Status is a candidate's standing once the votes are in.
type Status string

const (
	StatusElected    Status = "elected"
	StatusTie        Status = "tie"
	StatusNotElected Status = "not_elected"
)

// Decision is who a round elects, decided on integers alone.
type Decision struct {
	Status      []Status // per candidate, in ballot order
	Elected     []int    // indexes, by votes descending (ties in ballot order)
	Tied        []int    // indexes tied at the last seat, in ballot order
	RevoteSeats int      // seats the re-vote among Tied decides
	Vacant      int      // seats left unfilled because too few passed
}

// Decide applies 190-QĐ/TW Điều 30 and domain-rules §5.5–5.7: only those
// with 2·votes > d can be elected; if more pass than there are seats the
// highest win; if passers tie at the last seat and taking them all would
// exceed the seats, none of the tied is elected and a re-vote among them
// decides the seats left; if too few pass, the rest are vacant. Nothing is
// ever decided by age or by lot.
func Decide(seats, d int, votes []int) Decision {
	return decideFromTop(seats, votes, func(v int) bool { return OverHalf(v, d) }, StatusElected, StatusNotElected)
}

// decideFromTop gives the seats to those who qualify, by votes: too few
// leave seats vacant; those tied at the last seat whom the seats cannot
// all take are none of them given one (Tied, RevoteSeats), for a re-vote
// or the body to decide. Equal votes keep ballot order.
func decideFromTop(seats int, votes []int, qualifies func(int) bool, in, out Status) Decision {
	dec := Decision{Status: make([]Status, len(votes)), Elected: []int{}, Tied: []int{}}
	var passers []int
	for i, v := range votes {
		dec.Status[i] = out
		if qualifies(v) {
			passers = append(passers, i)
		}
	}
	// Stable: equal votes keep ballot order.
	slices.SortStableFunc(passers, func(a, b int) int { return votes[b] - votes[a] })
	if len(passers) <= seats {
		dec.Elected = append(dec.Elected, passers...)
		dec.Vacant = seats - len(passers)
	} else {
		cut := votes[passers[seats-1]]
		if votes[passers[seats]] < cut {
			dec.Elected = append(dec.Elected, passers[:seats]...)
		} else {
			// The first passer left out ties the last seat: the tied
			// group does not fit, so none of it is elected.
			for _, i := range passers {
				switch {
				case votes[i] > cut:
					dec.Elected = append(dec.Elected, i)
				case votes[i] == cut:
					dec.Tied = append(dec.Tied, i)
				}
			}
			slices.Sort(dec.Tied)
			dec.RevoteSeats = seats - len(dec.Elected)
		}
	}
	for _, i := range dec.Elected {
		dec.Status[i] = in
	}
	for _, i := range dec.Tied {
		dec.Status[i] = StatusTie
	}
	return dec
}

// Result is the outcome of a round as DESIGN §5.3 fixes it: the JSON of
// `kiemphieu recount`, of GET …/result and of every SSE tally event.
type Result struct {
	Contest     string            `json:"contest"`
	Round       int               `json:"round"`
	Seats       int               `json:"seats"`
	Denominator int               `json:"denominator"`
	Threshold   int               `json:"threshold"`
	Ballots     BallotCounts      `json:"ballots"`
	Candidates  []CandidateResult `json:"candidates"`
	Elected     []string          `json:"elected"`
	Tied        []string          `json:"tied"`
	RevoteSeats int               `json:"revote_seats"`
	Vacant      int               `json:"vacant"`
	// RankTies are groups of elected candidates with equal votes, each in
	// ballot order, in the order of their rank, where the order of the
	// elected matters: alternates, whose order is the order of
	// substitution (DESIGN §7.2). The congress decides their order; the
	// engine never does, by name or otherwise. Always a list ([] when none).
	RankTies    [][]string         `json:"rank_ties"`
	Composition *CompositionReport `json:"composition,omitempty"`
	// Version is the log length the result was computed from; nil offline.
	Version *int64 `json:"version,omitempty"`
}

// BallotCounts is the ballot accounting of the minutes.
type BallotCounts struct {
	Total           int            `json:"total"`
	Valid           int            `json:"valid"`
	Invalid         int            `json:"invalid"`
	InvalidByReason map[string]int `json:"invalid_by_reason"`
}

// CandidateResult is one row of the results table, in ballot order.
type CandidateResult struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Votes: on a strike ballot, valid ballots leaving the name unstruck; on
	// an approve ballot, valid ballots marking đồng ý only.
	Votes int `json:"votes"`
	Percentage
	OverHalf bool   `json:"over_half"`
	Status   Status `json:"status"`
	// Approve contests only: đồng ý, không đồng ý, and both-or-none rows.
	Agree    *int `json:"agree,omitempty"`
	Disagree *int `json:"disagree,omitempty"`
	Unmarked *int `json:"unmarked,omitempty"`
}

// Result computes the round's result from the ballots counted so far.
func (t *Count) Result() *Result {
	c := t.contest
	d := c.Denominator()
	votes := t.Votes()
	dec := c.decideKind(d, votes)
	res := &Result{
		Contest:     c.ID,
		Round:       c.Round,
		Seats:       c.Seats,
		Denominator: d,
		Threshold:   c.Threshold(),
		Ballots: BallotCounts{
			Total:           t.total,
			Valid:           t.valid,
			Invalid:         t.total - t.valid,
			InvalidByReason: map[string]int{},
		},
		Candidates:  make([]CandidateResult, len(c.Candidates)),
		Elected:     ids(c, dec.Elected),
		Tied:        ids(c, dec.Tied),
		RevoteSeats: dec.RevoteSeats,
		Vacant:      dec.Vacant,
		RankTies:    rankTies(c, dec.Elected, votes),
	}
	if c.Kind.Elects() {
		// Opinion and introduction ballots elect nobody: no composition
		// of those elected.
		res.Composition = c.composition(dec.Elected)
	}
	for r, n := range t.invalid {
		if n > 0 {
			res.Ballots.InvalidByReason[Reason(r).String()] = n
		}
	}
	for i, cand := range c.Candidates {
		cr := CandidateResult{
			ID:         cand.ID,
			Name:       cand.Name,
			Votes:      votes[i],
			Percentage: c.Percent.Of(votes[i], d),
			OverHalf:   OverHalf(votes[i], d),
			Status:     dec.Status[i],
		}
		if c.Ballot == StyleApprove {
			agree, disagree := t.agree[i], t.disagree[i]
			unmarked := t.valid - agree - disagree
			cr.Agree, cr.Disagree, cr.Unmarked = &agree, &disagree, &unmarked
		}
		res.Candidates[i] = cr
	}
	return res
}

// rankTies groups the elected (by votes descending, equal votes in ballot
// order) of a kind whose elected are ranked: a substitution order decided
// by the alphabet is no order (audit B2; domain-rules §5.8: "flag it for a
// congress decision or re-vote").
func rankTies(c *Contest, elected []int, votes []int) [][]string {
	out := [][]string{}
	if !c.Kind.Ranked() {
		return out
	}
	for i := 0; i < len(elected); {
		j := i + 1
		for j < len(elected) && votes[elected[j]] == votes[elected[i]] {
			j++
		}
		if j-i > 1 {
			out = append(out, ids(c, elected[i:j]))
		}
		i = j
	}
	return out
}

// Ranked reports whether the order of a kind's elected is itself a
// decision: the alternates' order of substitution (DESIGN §5.1).
func (k ContestKind) Ranked() bool { return k == KindAlternates }

func ids(c *Contest, idx []int) []string {
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = c.Candidates[i].ID
	}
	return out
}
