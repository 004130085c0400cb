package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// The list as it changes (DESIGN §7.2, issue 12): a draft is corrected
// (PUT) or deleted until it opens; a candidate withdraws (rút khỏi danh
// sách, 04-HD/TW item 2, decided by the congress as 190 Điều 28.4 has it)
// and a nominee from the floor or a self-nominee joins the list (190 Điều
// 14.3) — each change judged whole again by the engine and kept on the
// round's record (Record.Changes) with who recorded it, when, and the
// show-of-hands vote or the opinion ballot that decided it; the minutes
// print them. The next round's changes are taken by POST …/next
// (contests.go).

// maxReason bounds a change's reason: a sentence for the minutes.
const maxReason = 500

// cleanReason is a change's reason, NFC with single spaces, bounded.
func cleanReason(s string) (string, error) {
	r := tally.CleanText(s)
	if n := utf8.RuneCountInString(r); n > maxReason {
		return "", errorf(tally.Invalid, "reason", "too long (%d characters, at most %d)", n, maxReason)
	}
	return r, nil
}

// principalName is who recorded a change: the user's or token's name.
func principalName(c *fiber.Ctx) string {
	if p := principalOf(c); p != nil {
		if p.Name != "" {
			return p.Name
		}
		return p.ID
	}
	return "anonymous"
}

// checkVote: a change's vote, when given, must be a show-of-hands record
// of the round's congress (CongressRecord.Votes, by id).
func (s *Server) checkVote(ctx context.Context, rec *tally.Record, vote string) error {
	if vote == "" {
		return nil
	}
	if rec.Congress == "" {
		return errorf(tally.Invalid, "vote", "round %s belongs to no congress: votes are recorded on a congress (POST /api/v1/congresses/{id}/votes)", rec.Contest.ID)
	}
	cg, err := s.congress(ctx, rec.Congress)
	if err != nil {
		if tally.ErrorKind(err) == tally.NotFound {
			return errorf(tally.Invalid, "vote", "the congress %q of the round is gone", rec.Congress)
		}
		return err
	}
	ids := make([]string, 0, len(cg.Votes))
	for _, v := range cg.Votes {
		if v.ID == vote {
			return nil
		}
		if v.ID != "" {
			ids = append(ids, v.ID)
		}
	}
	return refused(errorf(tally.Invalid, "vote", "no vote %q is recorded on congress %q (its votes: %s)", vote, rec.Congress, orNone(ids)),
		"refusal.vote_missing", fmt.Sprintf("%.40s", vote))
}

func orNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// checkOpinion: a nomination's opinion contest, when given, must be an
// opinion ballot (phiếu xin ý kiến) of the round's congress, counted
// (closed or certified), that admitted a candidate of the nominee's name —
// more than 30% of those present agreed (190 Điều 14.3; the engine's
// status admitted).
func (s *Server) checkOpinion(ctx context.Context, rec *tally.Record, opinion, name string) error {
	orec, err := s.store.Contest(ctx, opinion)
	if tally.ErrorKind(err) == tally.NotFound {
		return errorf(tally.Invalid, "opinion", "no contest %q", opinion)
	}
	if err != nil {
		return err
	}
	var res *tally.Result
	if orec.State == tally.StateClosed || orec.State == tally.StateCertified {
		snap, err := s.broker.Snapshot(ctx, opinion)
		if err != nil {
			return err
		}
		res = snap.Result
	}
	return opinionAdmits(orec, res, rec.Congress, name)
}

// opinionAdmits is checkOpinion's rule on the opinion round's record and
// result (nil while it is not counted).
func opinionAdmits(orec *tally.Record, res *tally.Result, congress, name string) error {
	id := orec.Contest.ID
	switch {
	case orec.Contest.Kind != tally.KindOpinion:
		return errorf(tally.Invalid, "opinion", "contest %q is of kind %s, not an opinion ballot (%s)", id, orec.Contest.Kind, tally.KindOpinion)
	case congress == "" || orec.Congress != congress:
		return errorf(tally.Invalid, "opinion", "the opinion ballot %q is not of this round's congress", id)
	case res == nil || orec.State != tally.StateClosed && orec.State != tally.StateCertified:
		return errorf(tally.Invalid, "opinion", "the opinion ballot %q is %s: it admits nobody until it is closed", id, orec.State)
	}
	want := tally.CleanText(name)
	for _, cr := range res.Candidates {
		if tally.CleanText(cr.Name) != want {
			continue
		}
		if cr.Status == tally.StatusAdmitted {
			return nil
		}
		return errorf(tally.Invalid, "opinion", "the opinion ballot %q did not admit %s (status %s): more than 30%% of those present must agree", id, want, cr.Status)
	}
	return errorf(tally.Invalid, "opinion", "%s is not a nominee of the opinion ballot %q", want, id)
}

// draftRound reads a round that may still change: not imported, a draft.
func draftRound(rec *tally.Record, doing string) error {
	if rec.Imported != "" {
		return importedRound(rec)
	}
	if rec.State != tally.StateDraft {
		return errorf(tally.Conflict, "state", "the round is %s: %s only a draft, before counting opens", rec.State, doing)
	}
	return nil
}

// changeDraft applies one change to a draft's list in one store update:
// apply gets the stored record and returns the new definition and the
// change to record. A refusal stores nothing.
func (s *Server) changeDraft(ctx context.Context, c *fiber.Ctx, id string, apply func(*tally.Record) (*tally.Contest, tally.ListChange, error)) error {
	rec, err := s.store.Update(ctx, id, func(rec *tally.Record, _ int64) error {
		if err := draftRound(rec, "the list of"); err != nil {
			return err
		}
		next, change, err := apply(rec)
		if err != nil {
			return err
		}
		change.By, change.Time = principalName(c), s.stamp()
		rec.Contest = next
		rec.Changes = append(rec.Changes, change)
		return nil
	})
	if err != nil {
		return err
	}
	return s.answerChanged(ctx, c, rec)
}

// answerChanged answers a change of a round (a transition, a draft's list or
// definition) with its view, once the watchers (streams, pages) are told.
func (s *Server) answerChanged(ctx context.Context, c *fiber.Ctx, rec *tally.Record) error {
	s.broker.Notify(rec.Contest.ID)
	v, err := s.view(ctx, rec)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// postWithdrawal: POST /contests/{id}/withdrawals {"candidate", "reason",
// "vote"} — the congress let a candidate withdraw from a draft's list.
func (s *Server) postWithdrawal(c *fiber.Ctx) error {
	var req struct {
		Candidate string `json:"candidate"`
		Reason    string `json:"reason"`
		Vote      string `json:"vote"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Candidate == "" {
		return errorf(tally.Invalid, "candidate", "required: the id of the candidate who withdraws")
	}
	reason, err := cleanReason(req.Reason)
	if err != nil {
		return err
	}
	ctx, cancel := storeCtx()
	defer cancel()
	id := c.Params("id")
	if _, err := s.draftToChange(ctx, id, "a withdrawal changes", req.Vote); err != nil {
		return err
	}
	return s.changeDraft(ctx, c, id, func(r *tally.Record) (*tally.Contest, tally.ListChange, error) {
		next, gone, err := tally.WithdrawCandidate(r.Contest, req.Candidate)
		return next, tally.ListChange{Action: tally.ChangeWithdraw, Candidate: gone.ID, Name: gone.Name, Reason: reason, Vote: req.Vote}, err
	})
}

// draftToChange reads a draft whose list a change is about to alter (what
// names the change for the refusal) and checks the vote that decided it.
func (s *Server) draftToChange(ctx context.Context, id, what, vote string) (*tally.Record, error) {
	rec, err := s.store.Contest(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := draftRound(rec, what); err != nil {
		return nil, err
	}
	if err := s.checkVote(ctx, rec, vote); err != nil {
		return nil, err
	}
	return rec, nil
}

// postNomination: POST /contests/{id}/nominations {"candidate", "source",
// "vote", "opinion", "reason"} — a nominee from the floor or a self-nominee
// joins a draft's list. Someone not on the convening committee's list
// enters it with the agreement of more than 30% of those present, measured
// by an opinion ballot (190 Điều 14.3): "opinion" names it. Without one the
// congress must have decided by a show of hands ("vote"), as it does when
// the list is still short of its surplus (domain-rules §3.2).
func (s *Server) postNomination(c *fiber.Ctx) error {
	var req struct {
		Candidate tally.Candidate  `json:"candidate"`
		Source    tally.Nomination `json:"source"`
		Vote      string           `json:"vote"`
		Opinion   string           `json:"opinion"`
		Reason    string           `json:"reason"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Source != tally.NominatedFloor && req.Source != tally.NominatedSelf {
		return errorf(tally.Invalid, "source", `required: "floor" (đề cử tại đại hội) or "self" (tự ứng cử); got %q`, req.Source)
	}
	if req.Opinion == "" && req.Vote == "" {
		return errorf(tally.Invalid, "vote", "a nominee joins the list on the congress's decision: name the show-of-hands vote (vote) or the opinion ballot that admitted them (opinion)")
	}
	reason, err := cleanReason(req.Reason)
	if err != nil {
		return err
	}
	ctx, cancel := storeCtx()
	defer cancel()
	id := c.Params("id")
	rec, err := s.draftToChange(ctx, id, "a nomination changes", req.Vote)
	if err != nil {
		return err
	}
	if req.Opinion != "" {
		if err := s.checkOpinion(ctx, rec, req.Opinion, req.Candidate.Name); err != nil {
			return err
		}
	}
	if rec.Contest.From != "" {
		// A contest elected from a body just elected (the first meeting)
		// takes a nominee only from among that body's elected, by id.
		next, _, err := tally.NominateCandidate(rec.Contest, req.Candidate, req.Source)
		if err != nil {
			return err
		}
		if _, err := s.checkFrom(ctx, &tally.Record{Contest: next, Congress: rec.Congress}); err != nil {
			return err
		}
	}
	return s.changeDraft(ctx, c, id, func(r *tally.Record) (*tally.Contest, tally.ListChange, error) {
		cand := req.Candidate
		if strings.TrimSpace(cand.ID) == "" {
			// Never the id of someone who withdrew: the changes name
			// people by it.
			taken := make([]string, len(r.Changes))
			for i, ch := range r.Changes {
				taken[i] = ch.Candidate
			}
			cand.ID = tally.NextCandidateID(r.Contest, taken...)
		}
		next, added, err := tally.NominateCandidate(r.Contest, cand, req.Source)
		return next, tally.ListChange{Action: tally.ChangeNominate, Candidate: added.ID, Name: added.Name, Source: req.Source,
			Reason: reason, Vote: req.Vote, Opinion: req.Opinion}, err
	})
}

// putContest: PUT /contests/{id} replaces a draft's definition (a typo
// found at proofreading). The record keeps its congress, its links and its
// times, and a round made by …/next keeps its round number; an unlinked
// round is round 1 (a later round is made by POST …/next, so that the
// surplus rule of Điều 14 is waived only for a real later round).
func (s *Server) putContest(c *fiber.Ctx) error {
	body, err := requestBody(c)
	if err != nil {
		return err
	}
	def, err := tally.DraftContest(body)
	if err != nil {
		return err
	}
	id := c.Params("id")
	if def.ID != id {
		return errorf(tally.Invalid, "id", "the body's id %q is not the contest %q of the URL", def.ID, id)
	}
	ctx, cancel := storeCtx()
	defer cancel()
	cur, err := s.store.Contest(ctx, id)
	if err != nil {
		return err
	}
	if err := draftRound(cur, "PUT replaces"); err != nil {
		return err
	}
	switch {
	case cur.Previous != "":
		def.Round = cur.Contest.Round
	case def.Round != 1:
		return errorf(tally.Invalid, "round", "must be 1 for a round not made by POST /api/v1/contests/{id}/next (a later round is made there); got %d", def.Round)
	}
	// As on create: the link (from) is followed outside the store's update
	// (bolt cannot read inside one), fills D's default, and the whole
	// definition is validated and put in ballot order.
	if _, err := s.checkFrom(ctx, &tally.Record{Contest: def, Congress: cur.Congress}); err != nil {
		return err
	}
	rec, err := s.store.Update(ctx, id, func(rec *tally.Record, _ int64) error {
		if err := draftRound(rec, "PUT replaces"); err != nil {
			return err
		}
		rec.Contest = def
		return nil
	})
	if err != nil {
		return err
	}
	return s.answerChanged(ctx, c, rec)
}

// deleteContest: DELETE /contests/{id} removes a draft with an empty log
// (204), so that an abandoned draft does not count in the roll-up as an
// election. A round made by …/next can be deleted: its previous round's
// next link is cleared, so that …/next can be asked again.
func (s *Server) deleteContest(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	id := c.Params("id")
	rec, err := s.store.Contest(ctx, id)
	if err != nil {
		return err
	}
	if err := draftRound(rec, "DELETE removes"); err != nil {
		return err
	}
	// The store checks again, atomically: a round opened meanwhile stays.
	if err := s.store.DeleteContest(ctx, id); err != nil {
		return err
	}
	s.broker.Notify(id)
	if rec.Previous != "" {
		_, err := s.store.Update(ctx, rec.Previous, func(prev *tally.Record, _ int64) error {
			if prev.Next == id {
				prev.Next = ""
			}
			return nil
		})
		if err != nil && tally.ErrorKind(err) != tally.NotFound {
			return fmt.Errorf("round %s was deleted but the next link of %s was not cleared: %w", id, rec.Previous, err)
		}
		s.broker.Notify(rec.Previous)
	}
	if err := s.store.DeleteItem(ctx, itemNotes, id); err != nil && tally.ErrorKind(err) != tally.NotFound {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// deleteCongress: DELETE /congresses/{id} removes a congress with no
// rounds (204); one with rounds is 409 naming them (delete the drafts
// first; a counted round is never deleted).
func (s *Server) deleteCongress(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	id := c.Params("id")
	if _, err := s.congress(ctx, id); err != nil {
		return err
	}
	rounds, err := s.contestsOf(ctx, id)
	if err != nil {
		return err
	}
	if len(rounds) > 0 {
		ids := make([]string, len(rounds))
		for i, r := range rounds {
			ids[i] = r.Contest.ID
		}
		slices.Sort(ids)
		return errorf(tally.Conflict, "congress", "congress %q has %d rounds (%s): only a congress without rounds can be deleted", id, len(ids), strings.Join(ids, ", "))
	}
	if err := s.store.DeleteItem(ctx, itemCongress, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// nextChanges are the changes a next round's list takes from its
// previous round, as its record keeps them.
func nextChanges(prev, next *tally.Contest, edit tally.ListEdit, reason, vote, by, at string) []tally.ListChange {
	var out []tally.ListChange
	names := map[string]tally.Candidate{}
	for _, cand := range prev.Candidates {
		names[cand.ID] = cand
	}
	for _, cand := range next.Candidates {
		names[cand.ID] = cand // the added, normalized
	}
	for _, id := range edit.Withdraw {
		out = append(out, tally.ListChange{Action: tally.ChangeWithdraw, Candidate: id, Name: names[id].Name, Reason: reason, Vote: vote, By: by, Time: at})
	}
	for _, a := range edit.Add {
		cand := names[strings.TrimSpace(a.ID)]
		out = append(out, tally.ListChange{Action: tally.ChangeAdd, Candidate: cand.ID, Name: cand.Name, Source: cand.Nominated, Reason: reason, Vote: vote, By: by, Time: at})
	}
	return out
}

// listSetup is what a round's control page offers to change its list.
type listSetup struct {
	Votes    []tally.ShowOfHands // the congress's show-of-hands votes
	Opinions []*tally.Record     // the congress's counted opinion ballots
	// Next are the names the next round would carry (the tied, or those
	// not elected), for the next round's withdrawals.
	Next []tally.Candidate
}

func (s *Server) listSetupOf(ctx context.Context, v contestView, cg *tally.CongressRecord) (listSetup, error) {
	var ls listSetup
	rec := v.Record
	if cg != nil {
		ls.Votes = cg.Votes
		rounds, err := s.contestsOf(ctx, cg.ID)
		if err != nil {
			return ls, err
		}
		for _, r := range rounds {
			if r.Contest.Kind == tally.KindOpinion && (r.State == tally.StateClosed || r.State == tally.StateCertified) {
				ls.Opinions = append(ls.Opinions, r)
			}
		}
	}
	if v.NextRound != "" {
		snap, err := s.broker.Snapshot(ctx, rec.Contest.ID)
		if err != nil {
			return ls, err
		}
		carried := map[string]bool{}
		for _, cr := range snap.Result.Candidates {
			if v.NextRound == "revote" && cr.Status == tally.StatusTie || v.NextRound == "further" && cr.Status == tally.StatusNotElected {
				carried[cr.ID] = true
			}
		}
		for _, cand := range rec.Contest.Candidates {
			if carried[cand.ID] {
				ls.Next = append(ls.Next, cand)
			}
		}
	}
	return ls, nil
}

// contestEditPage: /contests/{id}/edit, the contest form filled with a
// draft's definition; saving it is PUT /api/v1/contests/{id}.
func (s *Server) contestEditPage(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	rec, err := s.store.Contest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if err := draftRound(rec, "the form edits"); err != nil {
		var te *tally.Error
		if errors.As(err, &te) {
			return refused(te, "setup.list.not_draft")
		}
		return err
	}
	d := contestNewData{Kinds: setupKinds, Edit: rec.Contest}
	if rec.Congress != "" {
		if d.Congress, err = s.congress(ctx, rec.Congress); err != nil && tally.ErrorKind(err) != tally.NotFound {
			return err
		}
	}
	if d.Defaults, err = tally.DraftContest([]byte(`{}`)); err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "contest-new", s.page(c, "setup.contest.edit", d, rec.Contest.Title))
}
