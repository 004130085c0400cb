package tally

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var roundSuffix = regexp.MustCompile(`-r[0-9]+$`)

// ListEdit is what the congress decided to change in the list of the next
// round (DESIGN §7.2): names withdrawn (rút khỏi danh sách, 04-HD/TW item
// 2; 190 Điều 28.4: the congress decides) and names added (domain-rules
// §5.7: "đại hội quyết định … bổ sung").
type ListEdit struct {
	Add      []Candidate `json:"add,omitempty"`
	Withdraw []string    `json:"withdraw,omitempty"`
}

// NextRound builds the next round of a closed one without changing its
// list: NextRoundWith(c, r, ListEdit{}).
func NextRound(c *Contest, r *Result) (*Contest, error) {
	return NextRoundWith(c, r, ListEdit{})
}

// NextRoundWith builds the contest that follows a closed round
// (domain-rules §5.6–5.7): a re-vote among the candidates tied at the last
// seat for the seats they tied over, or else a further round among those
// not elected for the vacant seats. The denominator, percent policy,
// visibility and composition policy carry over; the id gains "-r<round>".
//
// The edit is applied first, and only then is the ballot chosen: a strike
// ballot when names outnumber seats, else an approve ballot (244 Điều 17.1:
// the layout follows the list). So a sole nominee who failed can be joined
// by a second (two names for one seat: strike), and a further round can be
// made when everyone on the list was elected but seats are vacant — then
// names must be added (field "add"). Withdrawn ids must be on the next
// round's list (field "withdraw[i]"). A re-vote is among the tied only: it
// takes no additions, but a tied candidate may withdraw; its seats stay
// those the tie was over, and a seat nobody is left for is vacant in its
// result. It is an error (Conflict) to ask for a next round when the round
// filled every seat.
func NextRoundWith(c *Contest, r *Result, edit ListEdit) (*Contest, error) {
	if !c.Kind.Elects() {
		// An opinion ballot admits or not; an introduction ballot's tie at
		// the cut-off is decided by the congress or the committee's head
		// (DecideIntroduction): neither is followed by a round.
		return nil, &Error{Kind: Conflict, Message: fmt.Sprintf("a %q contest elects nobody: it has no next round", c.Kind)}
	}
	var pick map[string]bool
	var seats int
	revote := r.RevoteSeats > 0 && len(r.Tied) > 0
	switch {
	case revote:
		pick, seats = set(r.Tied), r.RevoteSeats
	case r.Vacant > 0:
		pick, seats = map[string]bool{}, r.Vacant
		for _, cr := range r.Candidates {
			if cr.Status == StatusNotElected {
				pick[cr.ID] = true
			}
		}
	default:
		return nil, &Error{Kind: Conflict, Message: "the round filled every seat: there is no next round"}
	}
	var p problems
	if revote && len(edit.Add) > 0 {
		p.add("add", "a re-vote is among the tied only; names can be added to a further round")
	}
	withdrawn := map[string]bool{}
	for i, id := range edit.Withdraw {
		field := "withdraw[" + strconv.Itoa(i) + "]"
		switch {
		case withdrawn[id]:
			p.add(field, "%q is withdrawn twice", id)
		case !pick[id]:
			p.add(field, "%q is not on the next round's list (%s)", id, strings.Join(listed(c, pick), ", "))
		}
		withdrawn[id] = true
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	next := *c
	next.Round = c.Round + 1
	next.ID = fmt.Sprintf("%s-r%d", roundSuffix.ReplaceAllString(c.ID, ""), next.Round)
	next.Seats = seats
	next.Candidates = nil
	for _, cand := range c.Candidates {
		if pick[cand.ID] && !withdrawn[cand.ID] {
			next.Candidates = append(next.Candidates, cand)
		}
	}
	kept := len(next.Candidates)
	if kept == 0 && len(edit.Add) == 0 {
		if revote {
			return nil, Errorf("withdraw", "every tied candidate would withdraw: nobody is left for the re-vote")
		}
		return nil, Errorf("add", "%d seats are vacant but nobody is left on the list (every candidate was elected or withdrew): the congress must add names for another round", seats)
	}
	// An added name may not take the id of anyone in this election so far,
	// elected or withdrawn: the minutes of the rounds name people by it.
	known := c.Index()
	for i, a := range edit.Add {
		if _, dup := known[strings.TrimSpace(a.ID)]; dup {
			p.add(fmt.Sprintf("add[%d].id", i), "%q is already a candidate of this election", a.ID)
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	next.Candidates = append(next.Candidates, edit.Add...)
	next.Normalize()
	next.Ballot = BallotFor(len(next.Candidates), seats)
	next.Composition.AgeBands = append([]int(nil), c.Composition.AgeBands...)
	if err := next.Validate(); err != nil {
		return nil, renameCandidates(err, kept, func(j int) string { return fmt.Sprintf("add[%d]", j) })
	}
	SortBallotOrder(next.Candidates)
	return &next, nil
}

// BallotFor is the only ballot a list of n names for seats allows (244
// Điều 17.1): names struck through when there is a surplus, đồng ý /
// không đồng ý boxes when there is none.
func BallotFor(n, seats int) BallotStyle {
	if n > seats {
		return StyleStrike
	}
	return StyleApprove
}

// renameCandidates points the problems of candidates[from+j] at name(j):
// the names the request added, as the request names them.
func renameCandidates(err error, from int, name func(j int) string) error {
	ps := Problems(err)
	var p problems
	for _, e := range ps {
		field := e.Field
		if rest, ok := strings.CutPrefix(field, "candidates["); ok {
			if end := strings.IndexByte(rest, ']'); end > 0 {
				if j, convErr := strconv.Atoi(rest[:end]); convErr == nil && j >= from {
					field = name(j-from) + rest[end+1:]
				}
			}
		}
		p.add(field, "%s", e.Message)
	}
	return p.err()
}

// listed are the ids of c's candidates in pick, in ballot order.
func listed(c *Contest, pick map[string]bool) []string {
	var ids []string
	for _, cand := range c.Candidates {
		if pick[cand.ID] {
			ids = append(ids, cand.ID)
		}
	}
	return ids
}

func set(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}
