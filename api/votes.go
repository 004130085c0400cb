package api

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Show-of-hands votes (biểu quyết giơ tay) as records of their own on the
// congress (issue 12, DESIGN §7.2): recorded one at a time, listed decided
// on D, deleted while no certified minutes print them. They stay stored in
// the congress record's votes, which every writer changes by
// compare-and-set (updateCongress), so that two desks of the secretariat
// recording votes at once lose neither.

// votesPolicy is how votes' shares are shown outside a contest's minutes:
// a contest's default policy (2 places, half up).
var votesPolicy = tally.PercentPolicy{Places: 2, Rounding: tally.RoundHalfUp}

// maxSwaps bounds the compare-and-set retries of one congress update: each
// retry means another writer got in first, so contention this long is a
// fault, not a load.
const maxSwaps = 50

// updateCongress applies fn to the stored congress record and stores the
// result only if nobody changed the record meanwhile (SwapItem), retrying
// on a lost race. fn may be called several times; an error from it stops
// the update and nothing is stored.
func (s *Server) updateCongress(ctx context.Context, id string, fn func(rec *tally.CongressRecord) error) (*tally.CongressRecord, error) {
	for range maxSwaps {
		old, err := s.store.Item(ctx, itemCongress, id)
		if tally.ErrorKind(err) == tally.NotFound {
			return nil, errorf(tally.NotFound, "congress", "no congress %q", id)
		}
		if err != nil {
			return nil, err
		}
		var rec tally.CongressRecord
		if err := json.Unmarshal(old, &rec); err != nil {
			return nil, err
		}
		if err := fn(&rec); err != nil {
			return nil, err
		}
		data, err := json.Marshal(&rec)
		if err != nil {
			return nil, err
		}
		ok, err := s.store.SwapItem(ctx, itemCongress, id, old, data)
		if err != nil {
			return nil, err
		}
		if ok {
			return &rec, nil
		}
	}
	return nil, errorf(tally.Unavailable, "", "the congress %q changed %d times while this change was made; try again", id, maxSwaps)
}

// congressRounds are the rounds of a congress by id; others the ids of
// the rounds of other congresses or none (a vote may not name them).
type congressRounds struct {
	rounds map[string]*tally.Record
	others map[string]struct{}
}

func (s *Server) congressRounds(ctx context.Context, congress string) (congressRounds, error) {
	recs, err := s.store.Contests(ctx)
	if err != nil {
		return congressRounds{}, err
	}
	out := congressRounds{rounds: map[string]*tally.Record{}, others: map[string]struct{}{}}
	for _, r := range recs {
		if r.Congress == congress {
			out.rounds[r.Contest.ID] = r
		} else {
			out.others[r.Contest.ID] = struct{}{}
		}
	}
	return out, nil
}

// denominator is D of a round of the congress, as the vote naming it is
// decided on.
func (rs congressRounds) denominator(id string) (int, bool) {
	r, ok := rs.rounds[id]
	if !ok {
		return 0, false
	}
	return r.Contest.Denominator(), true
}

// decided is every vote of the congress decided on its D now.
func (rs congressRounds) decided(cg *tally.CongressRecord) []tally.HandsResult {
	out := make([]tally.HandsResult, 0, len(cg.Votes))
	for _, v := range cg.Votes {
		out = append(out, cg.Decide(v, rs.denominator, votesPolicy))
	}
	return out
}

// checkVote checks what only the service knows about a vote: the contest
// it names is a round of this congress, a withdrawal's candidate is on
// that round's list, and no more are present than its D (the contest's,
// else the congress's; tally checks the congress's own on parse).
//
// A whole congress record (POST or PUT /congresses) may name a contest not
// made yet — a congress file is written before its rounds, and such a vote
// is figures only until the round exists; one recorded by POST …/votes
// must name a round there is (ahead: the contest is required).
func (rs congressRounds) checkVote(cg *tally.CongressRecord, v tally.ShowOfHands, field string, ahead bool) error {
	at := func(f string) string {
		if field == "" {
			return f
		}
		return field + "." + f
	}
	if v.Contest == "" {
		if d, ok := cg.Denominator(); ok {
			if err := v.CheckBase(d); err != nil {
				return refused(errorf(tally.Invalid, at("present"), "%s", tally.Problems(err)[0].Message), "hands.refused.present_over_d", v.Present, d)
			}
		}
		return nil
	}
	r, ok := rs.rounds[v.Contest]
	if !ok && ahead {
		if _, other := rs.others[v.Contest]; !other {
			return nil
		}
	}
	if !ok {
		return refused(errorf(tally.Invalid, at("contest"), "no contest %q in the congress %q: a vote names a round of its own congress", v.Contest, cg.ID), "hands.refused.contest", v.Contest)
	}
	if v.Subject == tally.SubjectWithdrawal && !slices.ContainsFunc(r.Contest.Candidates, func(c tally.Candidate) bool { return c.ID == v.Candidate }) {
		return refused(errorf(tally.Invalid, at("candidate"), "no candidate %q on the list of %s", v.Candidate, v.Contest), "hands.refused.candidate", v.Candidate, r.Contest.Title)
	}
	if d := r.Contest.Denominator(); v.Present > d {
		return refused(errorf(tally.Invalid, at("present"), "%d present is more than D = %d of %s; check D or the count", v.Present, d, v.Contest), "hands.refused.present_over_d", v.Present, d)
	}
	return nil
}

// recordVote adds v to the congress as a new record: the next id, the time
// and who recorded it are the service's, whatever the body said.
func (s *Server) recordVote(ctx context.Context, c *fiber.Ctx, congress string, v tally.ShowOfHands) (tally.HandsResult, error) {
	rounds, err := s.congressRounds(ctx, congress)
	if err != nil {
		return tally.HandsResult{}, err
	}
	rec, err := s.updateCongress(ctx, congress, func(cg *tally.CongressRecord) error {
		if len(cg.Votes) >= tally.MaxVotes {
			return errorf(tally.Conflict, "votes", "the congress has %d show-of-hands records, the most one keeps", len(cg.Votes))
		}
		if err := rounds.checkVote(cg, v, "", false); err != nil {
			return err
		}
		s.stampVotes(c, cg, cg)
		v.ID, v.Recorded, v.By = cg.NextVoteID(), s.stamp(), principalName(c)
		cg.Votes = append(cg.Votes, v)
		return nil
	})
	if err != nil {
		return tally.HandsResult{}, err
	}
	last := rec.Votes[len(rec.Votes)-1]
	return rec.Decide(last, rounds.denominator, votesPolicy), nil
}

// stampVotes gives the votes of cg that have no id, or one old does not
// hold, the next id ("v<n>"), and a recorded time and author to those that
// are not in old. A vote of old
// keeps its time and author, whatever the body says: they tell when it
// was taken into the record, which a later PUT does not change, and they
// decide which certified minutes print it.
func (s *Server) stampVotes(c *fiber.Ctx, cg, old *tally.CongressRecord) {
	known := map[string]tally.ShowOfHands{}
	for _, v := range old.Votes {
		if v.ID != "" {
			known[v.ID] = v
		}
	}
	// The stored votes the body does not name by id: a vote sent without
	// an id is one of them when its content is (a client that does not
	// keep ids, or a vote kept from before votes had them), and keeps its
	// id and time, so that the minutes it is printed on still print it.
	named := map[string]bool{}
	for _, v := range cg.Votes {
		named[v.ID] = v.ID != ""
	}
	var pool []tally.ShowOfHands
	for _, v := range old.Votes {
		if v.ID == "" || !named[v.ID] {
			pool = append(pool, v)
		}
	}
	// An id the record does not hold is not the body's to give: ids are
	// the service's and never given twice (a list change may name a vote
	// deleted since). They are all dropped before any is given, so that a
	// new record's votes are v1, v2, … in order whatever the body said.
	for i := range cg.Votes {
		if _, ok := known[cg.Votes[i].ID]; !ok {
			cg.Votes[i].ID = ""
		}
	}
	for i := range cg.Votes {
		v := &cg.Votes[i]
		if k, ok := known[v.ID]; ok && v.ID != "" {
			v.Recorded, v.By = k.Recorded, k.By
			continue
		}
		if j := slices.IndexFunc(pool, func(u tally.ShowOfHands) bool { return sameVote(u, *v) }); j >= 0 {
			v.ID, v.Recorded, v.By = pool[j].ID, pool[j].Recorded, pool[j].By
			pool = slices.Delete(pool, j, j+1)
			if v.ID != "" {
				continue
			}
		} else {
			v.Recorded, v.By = s.stamp(), principalName(c)
		}
		v.ID = cg.NextVoteID()
	}
}

// newVotes lists the votes of rec that are not in old as they are there
// (by id and content), with their index: those the service must check
// against the store (a vote kept as it was is not checked again: its
// contest may have been deleted since, or its candidate withdrawn).
func newVotes(old, rec *tally.CongressRecord) []int {
	var out []int
	for i, v := range rec.Votes {
		if !slices.ContainsFunc(old.Votes, func(o tally.ShowOfHands) bool { return o.ID == v.ID && sameVote(o, v) }) {
			out = append(out, i)
		}
	}
	return out
}

// sameVote says whether two votes print the same on the minutes.
func sameVote(a, b tally.ShowOfHands) bool {
	a.ID, a.Recorded, a.By = "", "", ""
	b.ID, b.Recorded, b.By = "", "", ""
	return a == b
}

// postVote: POST /api/v1/congresses/{id}/votes with one ShowOfHands → 201
// the HandsResult.
func (s *Server) postVote(c *fiber.Ctx) error {
	body, err := requestBody(c)
	if err != nil {
		return err
	}
	v, err := tally.ParseShowOfHands(body)
	if err != nil {
		return err
	}
	ctx, cancel := storeCtx()
	defer cancel()
	r, err := s.recordVote(ctx, c, c.Params("id"), v)
	if err != nil {
		return err
	}
	c.Location("/api/v1/congresses/" + c.Params("id") + "/votes/" + r.ID)
	return c.Status(fiber.StatusCreated).JSON(r)
}

// getVotes: GET /api/v1/congresses/{id}/votes → {"votes": [HandsResult…]},
// each decided on its D as it is now.
func (s *Server) getVotes(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	cg, err := s.congress(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	rounds, err := s.congressRounds(ctx, cg.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"votes": rounds.decided(cg)})
}

// deleteVote: DELETE /api/v1/congresses/{id}/votes/{vid} → 204; 409 while
// a certified round's minutes print the vote.
func (s *Server) deleteVote(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	if err := s.removeVote(ctx, c.Params("id"), c.Params("vid")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) removeVote(ctx context.Context, congress, vid string) error {
	rounds, err := s.congressRounds(ctx, congress)
	if err != nil {
		return err
	}
	certified, err := s.certifiedRounds(ctx, rounds)
	if err != nil {
		return err
	}
	_, err = s.updateCongress(ctx, congress, func(cg *tally.CongressRecord) error {
		i := slices.IndexFunc(cg.Votes, func(v tally.ShowOfHands) bool { return v.ID == vid })
		if i < 0 {
			return refused(errorf(tally.NotFound, "vote", "no vote %q in the congress %q", vid, congress), "hands.refused.no_vote", vid)
		}
		for _, r := range certified {
			for _, p := range cg.VotesFor(r.Record.Certified, r.ids...) {
				if p.ID == vid {
					return refused(errorf(tally.Conflict, "vote", "the vote %s is printed on the certified minutes of round %s; it cannot be deleted", vid, r.Record.Contest.ID), "hands.refused.printed", r.Record.Contest.Title)
				}
			}
		}
		cg.Votes = slices.Delete(cg.Votes, i, i+1)
		return nil
	})
	return err
}

// certifiedRound is a certified round of a congress with the ids whose
// votes its minutes print: its own and its earlier rounds'.
type certifiedRound struct {
	Record *tally.Record
	ids    []string
}

func (s *Server) certifiedRounds(ctx context.Context, rounds congressRounds) ([]certifiedRound, error) {
	var out []certifiedRound
	for _, r := range rounds.rounds {
		if r.State != tally.StateCertified {
			continue
		}
		earlier, err := s.earlierRounds(ctx, r)
		if err != nil {
			return nil, err
		}
		ids := []string{r.Contest.ID}
		for _, e := range earlier {
			ids = append(ids, e.Contest.ID)
		}
		out = append(out, certifiedRound{Record: r, ids: ids})
	}
	slices.SortFunc(out, func(a, b certifiedRound) int {
		return cmpString(a.Record.Certified+a.Record.Contest.ID, b.Record.Certified+b.Record.Contest.ID)
	})
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// checkFrozen refuses a change of the congress record that would change
// what a certified round's minutes print (409 naming the field): the
// header, the counting committee, the congress's electorate, and the votes
// printed there — those naming the round or its earlier rounds, and the
// congress's own, recorded up to its certification. Anything else may
// change: a vote on a later round, a vote recorded after, an appointment.
// (Before issue 12 the whole record froze with the first certified round,
// which blocked the first meeting's votes once the committee was
// certified.)
func checkFrozen(certified []certifiedRound, old, rec *tally.CongressRecord) error {
	if len(certified) == 0 {
		return nil
	}
	first := certified[0].Record.Contest.ID
	frozen := func(field string) error {
		return refused(errorf(tally.Conflict, field, "round %s of this congress is certified and its minutes print the %s: it can no longer change", first, field), "hands.refused.frozen", first)
	}
	for _, f := range []struct {
		name     string
		old, new any
	}{{"organization", old.Organization, rec.Organization}, {"superior", old.Superior, rec.Superior},
		{"name", old.Name, rec.Name}, {"ordinal", old.Ordinal, rec.Ordinal}, {"term", old.Term, rec.Term},
		{"place", old.Place, rec.Place}, {"date", old.Date, rec.Date},
		{"counting_committee", old.CountingCommittee, rec.CountingCommittee}} {
		if !reflect.DeepEqual(f.old, f.new) && !(isEmpty(f.old) && isEmpty(f.new)) {
			return frozen(f.name)
		}
	}
	if !reflect.DeepEqual(old.Electorate, rec.Electorate) {
		return frozen("electorate")
	}
	for _, r := range certified {
		before, after := old.VotesFor(r.Record.Certified, r.ids...), rec.VotesFor(r.Record.Certified, r.ids...)
		if !slices.EqualFunc(before, after, sameVote) {
			return refused(errorf(tally.Conflict, "votes", "round %s is certified and its minutes print %d show-of-hands votes (%s); they can no longer change or go", r.Record.Contest.ID, len(before), voteIDs(before)), "hands.refused.printed", r.Record.Contest.Title)
		}
	}
	return nil
}

func isEmpty(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Slice && rv.Len() == 0
}

func voteIDs(vs []tally.ShowOfHands) string {
	s := ""
	for i, v := range vs {
		if i > 0 {
			s += ", "
		}
		if v.ID == "" {
			s += fmt.Sprintf("#%d", i+1)
		} else {
			s += v.ID
		}
	}
	return s
}
