package api

import (
	"context"
	"errors"
	"net/url"
	"slices"

	"github.com/kiemphieu/kiemphieu/tally"
)

// The first meeting (issue 12, deliverable 5): a contest linked by
// Contest.From to the election whose result it draws on — the standing
// committee from the committee just elected, the secretary from the
// standing committee, the inspection committee's chair from its members,
// a list from an introduction ballot. The engine's rules are in
// tally/meeting.go; this file reads the linked rounds for them.

// fromLink is what a contest's From names: the round, the kind of its
// election, and everyone its rounds elected (or introduced).
type fromLink struct {
	Round   *tally.Record
	Elected []tally.Candidate
}

// linkFrom reads the election rec.Contest.From names. The round must exist
// (400 from), be of the same congress (400 from) and be closed or
// certified (409 from: its result is not final before). Elected are those
// elected by every closed or certified round of that election — the whole
// chain of rounds, round 1, re-votes and further rounds — each once.
func (s *Server) linkFrom(ctx context.Context, rec *tally.Record) (*fromLink, error) {
	c := rec.Contest
	if c.From == c.ID {
		return nil, errorf(tally.Invalid, "from", "a contest cannot be elected from itself (%q)", c.From)
	}
	from, err := s.store.Contest(ctx, c.From)
	if tally.ErrorKind(err) == tally.NotFound {
		return nil, errorf(tally.Invalid, "from", "no contest %q: from names the closed election the candidates were elected by", c.From)
	}
	if err != nil {
		return nil, err
	}
	if from.Congress != rec.Congress {
		return nil, errorf(tally.Invalid, "from", "the contest %q is of the congress %q, not %q: a first meeting elects from the body its own congress elected", c.From, from.Congress, rec.Congress)
	}
	if from.State != tally.StateClosed && from.State != tally.StateCertified {
		return nil, errorf(tally.Conflict, "from", "the contest %q is %s: its result is final once it is closed (or certified)", c.From, from.State)
	}
	// The first round of the election, then every round after it.
	first, seen := from, map[string]bool{from.Contest.ID: true}
	for first.Previous != "" && !seen[first.Previous] {
		prev, err := s.store.Contest(ctx, first.Previous)
		if err != nil {
			return nil, err
		}
		seen[prev.Contest.ID] = true
		first = prev
	}
	link := &fromLink{Round: from}
	have := map[string]bool{}
	for r, visited := first, map[string]bool{}; r != nil && !visited[r.Contest.ID]; {
		visited[r.Contest.ID] = true
		if r.State == tally.StateClosed || r.State == tally.StateCertified {
			snap, err := s.broker.Snapshot(ctx, r.Contest.ID)
			if err != nil {
				return nil, err
			}
			for _, cand := range tally.ElectedCandidates(r.Contest, snap.Result) {
				if !have[cand.ID] {
					have[cand.ID] = true
					link.Elected = append(link.Elected, cand)
				}
			}
		}
		if r.Next == "" {
			break
		}
		if r, err = s.store.Contest(ctx, r.Next); tally.ErrorKind(err) == tally.NotFound {
			break // the later round was made elsewhere (an import): what is here counts
		} else if err != nil {
			return nil, err
		}
	}
	return link, nil
}

// fromWord is what "elected" means for the messages of a linked contest.
func (l *fromLink) fromWord() string {
	if l.Round.Contest.Kind == tally.KindIntroduction {
		return "introduced"
	}
	return "elected"
}

// checkFrom readies a draft's definition for the store, on create (and,
// on replace, putContest): contest must be decoded and normalized
// (tally.DraftContest), not yet validated. With From set it reads the
// linked election (linkFrom), fills D's default — a body meeting with
// convened 0 convenes those elected there — validates the contest, checks
// that every candidate is among those elected (tally.CheckFrom, 400
// candidates[i]), and puts the candidates in ballot order. It returns the
// first meeting's warnings (code from_kind, standing_committee_small).
func (s *Server) checkFrom(ctx context.Context, rec *tally.Record) ([]tally.Warning, error) {
	link, _, candidates, err := s.applyFrom(ctx, rec)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(rec.Contest.Validate(), candidates); err != nil {
		return nil, err
	}
	tally.SortBallotOrder(rec.Contest.Candidates)
	return fromWarnings(rec.Contest, link), nil
}

// applyFrom follows a draft's link, if it has one (nil link otherwise):
// it reads the election (linkFrom; err is its refusal, or the store's
// failure), fills D's default (filled says whether it did) and checks the
// candidates against those elected (candidates: tally.CheckFrom's
// problems). Create (checkFrom) and the check (checkLinked) share it.
func (s *Server) applyFrom(ctx context.Context, rec *tally.Record) (link *fromLink, filled bool, candidates, err error) {
	c := rec.Contest
	if c.From == "" {
		return nil, false, nil, nil
	}
	if link, err = s.linkFrom(ctx, rec); err != nil {
		return nil, false, nil, err
	}
	size, err := s.meetingSize(ctx, c.Kind, link, 0)
	if err != nil {
		return nil, false, nil, err
	}
	filled = c.DefaultFromConvened(size)
	return link, filled, tally.CheckFrom(c, link.Elected, link.fromWord()), nil
}

// meetingSize is D's default at a body meeting: the members of the body
// that meets, which is not always the body the candidates come from. The
// committee's meeting elects the standing committee, the secretary and
// deputies (from the standing committee), the inspection committee and its
// chair (from its members); the inspection committee's own meeting elects
// its vice-chairs (190-QĐ/TW; audit (c)5). So the link is followed up
// (From of From) to the election of the meeting body's kind and its
// number elected is taken; an introduction ballot was taken at the same
// meeting, so its D is the meeting's. Without such a body up the chain
// there is no default (0): convened must be given (an inspection
// committee with members from outside the committee has no link up).
func (s *Server) meetingSize(ctx context.Context, kind tally.ContestKind, link *fromLink, depth int) (int, error) {
	body := tally.KindCommittee
	if kind == tally.KindInspectionViceChair {
		body = tally.KindInspectionCommittee
	}
	for l := link; l != nil && depth < 8; depth++ {
		switch lc := l.Round.Contest; {
		case lc.Kind == tally.KindIntroduction:
			return lc.Denominator(), nil
		case lc.Kind == body:
			return len(l.Elected), nil
		case lc.From == "":
			l = nil
		default:
			next, err := s.linkFrom(ctx, l.Round)
			if k := tally.ErrorKind(err); k == tally.Invalid || k == tally.Conflict {
				l = nil // a broken link further up: the warnings say so
			} else if err != nil {
				return 0, err
			} else {
				l = next
			}
		}
	}
	return 0, nil
}

// fromWarnings are the first meeting's warnings of a contest and its link
// (nil link: From is empty). The round's own warnings (api/warnings.go) join these.
func fromWarnings(c *tally.Contest, link *fromLink) []tally.Warning {
	if link == nil {
		return tally.FromWarnings(c, "", 0)
	}
	return tally.FromWarnings(c, link.Round.Contest.Kind, len(link.Elected))
}

// meetingWarnings are the warnings of a stored round's view. A link that
// no longer reads (its round gone or reopened elsewhere) is itself a
// warning; only the store's own failures are errors.
func (s *Server) meetingWarnings(ctx context.Context, rec *tally.Record) ([]tally.Warning, error) {
	if rec.Contest.From == "" {
		return fromWarnings(rec.Contest, nil), nil
	}
	link, err := s.linkFrom(ctx, rec)
	if k := tally.ErrorKind(err); k == tally.Invalid || k == tally.Conflict {
		return []tally.Warning{{Code: tally.WarnFromKind, Message: tally.Problems(err)[0].Error()}}, nil
	} else if err != nil {
		return nil, err
	}
	return fromWarnings(rec.Contest, link), nil
}

// meetingPlan is the order of a congress's elections as the congress page
// shows it (domain-rules §2, "Sequence rule"): each chain of kinds with the
// elections of each kind, their rounds and links, and the next step.
type meetingPlan struct {
	Chains       []planChain
	Appointments []tally.Appointment
}

type planChain struct{ Steps []planStep }

// planStep is one kind of a chain: its elections, and, when it is the
// next step, the suggestion of a contest elected from the one before.
type planStep struct {
	Kind      tally.ContestKind
	Elections []planElection
	Suggest   *planSuggest
	// Small: a standing committee not elected because the committee has
	// fewer than 9 members (Charter Điều 22.5).
	Small   bool
	Elected int // with Small: the committee's members
}

// planElection is one election: its rounds linked by Previous/Next.
type planElection struct {
	ID, Title, From string
	Rounds          []*tally.Record
	Elected         int
	// Final: every round closed or certified and no further round pending.
	Final bool
}

// planSuggest is the next step: elect Kind from the Elected members of
// the election From (of kind FromKind), at /contests/new pre-filled.
type planSuggest struct {
	Kind     tally.ContestKind
	From     string
	FromKind tally.ContestKind
	Elected  int
	URL      string
}

// plan builds a congress's meeting plan from its rounds (contestsOf).
func (s *Server) plan(ctx context.Context, cg *tally.CongressRecord, rounds []*tally.Record) (*meetingPlan, error) {
	byID := map[string]*tally.Record{}
	for _, r := range rounds {
		byID[r.Contest.ID] = r
	}
	byKind := map[tally.ContestKind][]planElection{}
	for _, r := range rounds {
		if _, linked := byID[r.Previous]; linked {
			continue // not the first round of its election
		}
		e := planElection{ID: r.Contest.ID, Title: r.Contest.Title, From: r.Contest.From, Final: true}
		for cur, seen := r, map[string]bool{}; cur != nil && !seen[cur.Contest.ID]; cur = byID[cur.Next] {
			seen[cur.Contest.ID] = true
			e.Rounds = append(e.Rounds, cur)
			if cur.State != tally.StateClosed && cur.State != tally.StateCertified {
				e.Final = false
				continue
			}
			snap, err := s.broker.Snapshot(ctx, cur.Contest.ID)
			if err != nil {
				return nil, err
			}
			e.Elected += len(snap.Result.Elected)
			if cur.Next == "" && snap.Result.RevoteSeats > 0 {
				// A tie at the last seat: the body is not complete until
				// the re-vote. Vacant seats may stay vacant (bầu thiếu).
				e.Final = false
			}
		}
		byKind[r.Contest.Kind] = append(byKind[r.Contest.Kind], e)
	}
	p := &meetingPlan{Appointments: cg.Appointments}
	ready := func(k tally.ContestKind) *planElection {
		for i := range byKind[k] {
			if e := &byKind[k][i]; e.Final && e.Elected > 0 {
				return e
			}
		}
		return nil
	}
	for _, kinds := range tally.ElectionChains() {
		var ch planChain
		suggested := false
		for i, k := range kinds {
			st := planStep{Kind: k, Elections: byKind[k]}
			if i > 0 && len(st.Elections) == 0 && !suggested {
				for _, fk := range tally.FromKinds(k) {
					if len(byKind[fk]) == 0 {
						continue // not held here (a branch has no standing committee): the next source
					}
					src := ready(fk)
					if src == nil {
						break // held, not complete yet: wait for it
					}
					if k == tally.KindStandingCommittee && src.Elected < tally.MinStandingCommitteeBody {
						st.Small, st.Elected = true, src.Elected
						break
					}
					st.Suggest = &planSuggest{Kind: k, From: src.ID, FromKind: fk, Elected: src.Elected,
						URL: "/contests/new?" + url.Values{"congress": {cg.ID}, "kind": {string(k)}, "from": {src.ID}}.Encode()}
					break
				}
				// The next step is the first one not yet held, unless it
				// is a standing committee the committee is too small for.
				suggested = !st.Small && (st.Suggest != nil || len(tally.FromKinds(k)) > 0)
			}
			ch.Steps = append(ch.Steps, st)
		}
		p.Chains = append(p.Chains, ch)
	}
	return p, nil
}

// prefillFrom is the contest form's start for a contest elected from the
// election from (the congress page's suggestion): kind, the link, the
// candidates = those elected there, a body meeting convening the body
// that meets (meetingSize: the committee, or for a vice-chair the
// inspection committee).
func (s *Server) prefillFrom(ctx context.Context, def *tally.Contest, congress, kind, from string) error {
	k := tally.ContestKind(kind)
	if !slices.Contains(setupKinds, k) {
		return refused(errorf(tally.Invalid, "kind", "must be one of the contest kinds; got %q", kind), "meeting.refused.kind", kind)
	}
	def.Kind, def.From = k, from
	link, err := s.linkFrom(ctx, &tally.Record{Contest: def, Congress: congress})
	var e *tally.Error
	if errors.As(err, &e) && (e.Kind == tally.Invalid || e.Kind == tally.Conflict) {
		return refused(e, "meeting.refused.from", from)
	}
	if err != nil {
		return err
	}
	def.Title = "Bầu " + k.Vietnamese()
	def.Candidates = link.Elected
	size, err := s.meetingSize(ctx, k, link, 0)
	if err != nil {
		return err
	}
	// Convened 0 when the meeting's body is not up the chain: the form then
	// asks for it.
	def.Electorate = tally.Electorate{Congress: tally.CongressBody, Convened: size}
	if k == tally.KindSecretary || k == tally.KindInspectionChair {
		def.Seats = 1
	}
	def.Ballot = tally.StyleApprove
	if def.Seats > 0 && len(def.Candidates) > def.Seats {
		def.Ballot = tally.StyleStrike
	}
	return nil
}
