package tally

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// The higher committee's roll-up (tổng hợp kết quả đại hội cấp dưới): the
// congresses of an organization and of every organization under it
// (district → wards → cells), each congress's elections and their rounds,
// and totals and the composition of those elected over the whole tree, for
// the approval (chuẩn y) of the results. Only certified rounds count; the
// others are listed, marked, and left out of every figure.

// RollupInput is what a roll-up is computed from: every congress record
// and every round the service holds (the roll-up picks its own), and for
// each certified round its result.
type RollupInput struct {
	// Organization is the root: "Đảng bộ Quận 3". Names are matched after
	// NFC, space cleaning and lower-casing, as people type them.
	Organization string
	// Term, when set, keeps only congresses of that term (nhiệm kỳ), so that
	// the 2020 congresses do not mix into the 2025 figures.
	Term       string
	Congresses []*CongressRecord
	Rounds     []RollupRound
}

// RollupRound is one round: its record, and the result of its certified
// log (required when the record is certified, ignored otherwise).
type RollupRound struct {
	Record *Record
	Result *Result
}

// Rollup is the roll-up of an organization tree.
type Rollup struct {
	Organization string `json:"organization"`
	Term         string `json:"term,omitempty"`
	// Congresses in tree order: the root's own, then each organization
	// directly under it (Vietnamese order, numbers by value) with its own
	// subtree.
	Congresses []RollupCongress `json:"congresses"`
	// Totals per kind of election, in the order of DESIGN §5.1.
	Totals []KindTotals `json:"totals"`
	// Composition of those elected by certified rounds, per kind.
	Composition []KindComposition `json:"composition"`
	// Rounds counted (certified) and rounds listed but not counted.
	Counted      int `json:"counted_rounds"`
	NotCertified int `json:"not_certified_rounds"`
}

// RollupCongress is one congress of the tree.
type RollupCongress struct {
	ID           string `json:"id"`
	Organization string `json:"organization"`
	Superior     string `json:"superior,omitempty"`
	Name         string `json:"name"`
	Term         string `json:"term,omitempty"`
	Date         string `json:"date,omitempty"`
	// Depth is 0 for the root's own congress, 1 for those directly under
	// it, and so on.
	Depth int `json:"depth"`
	// Final: every election of the congress has a final outcome.
	Final     bool             `json:"final"`
	Elections []RollupElection `json:"elections"`
}

// ElectionOutcome is where an election (all its rounds) stands.
type ElectionOutcome string

const (
	// OutcomeFilledFirstRound: round 1, certified, filled every seat.
	OutcomeFilledFirstRound ElectionOutcome = "filled_first_round"
	// OutcomeFilledLaterRound: every seat filled by certified rounds, after
	// a re-vote or a further round.
	OutcomeFilledLaterRound ElectionOutcome = "filled_later_round"
	// OutcomeFellShort: every round certified, no further round recorded,
	// and seats left unfilled (vacant, or tied without a re-vote).
	OutcomeFellShort ElectionOutcome = "fell_short"
	// OutcomePending: a round is not certified yet, or a round the others
	// link to is not here (not yet imported): the outcome is not final.
	OutcomePending ElectionOutcome = "pending"
	// OutcomeAppointed: the office was filled by the higher committee's
	// appointment (chỉ định, CongressRecord.Appointments), without a ballot.
	OutcomeAppointed ElectionOutcome = "appointed"
)

var outcomes = []ElectionOutcome{OutcomeFilledFirstRound, OutcomeFilledLaterRound, OutcomeFellShort, OutcomePending, OutcomeAppointed}

// RollupElection is one election of a congress: its rounds, linked by
// Previous and Next (round 1, re-votes, further rounds).
type RollupElection struct {
	ID    string      `json:"id"` // the first round's id
	Title string      `json:"title"`
	Kind  ContestKind `json:"kind"`
	Seats int         `json:"seats"` // the first round's seats
	// Elected is how many certified rounds elected; Unfilled the seats
	// they left (vacant when the outcome is fell_short, undecided when
	// pending).
	Elected  int             `json:"elected"`
	Unfilled int             `json:"unfilled"`
	Outcome  ElectionOutcome `json:"outcome"`
	// Missing names rounds the others link to that are not here.
	Missing []string     `json:"missing,omitempty"`
	Rounds  []RollupLine `json:"rounds"`
	// People are those elected by certified rounds or, for an appointment,
	// those appointed.
	People []RollupPerson `json:"elected_people"`
	// Appointed: the line is an appointment (chỉ định), not an election:
	// no rounds, Outcome "appointed", Seats the people appointed, Elected 0.
	// Appointment is the record; Fills the seats it fills of the election
	// its After names when that one fell short (same congress and kind),
	// which are then not vacant in the totals.
	Appointed   bool         `json:"appointed"`
	Appointment *Appointment `json:"appointment,omitempty"`
	Fills       int          `json:"fills,omitempty"`
	// AppointedBy names the appointment that followed this election (its
	// After), e.g. a branch secretary after three failed rounds.
	AppointedBy string `json:"appointed_by,omitempty"`
}

// RollupLine is one round of an election, with the source of its figures.
type RollupLine struct {
	RoundSource
	State    State `json:"state"`
	Imported bool  `json:"imported,omitempty"`
	// Counted: certified, so its figures are in the totals.
	Counted     bool `json:"counted"`
	Seats       int  `json:"seats"`
	Elected     int  `json:"elected"`
	Vacant      int  `json:"vacant"`
	RevoteSeats int  `json:"revote_seats"`
	// Certified is when the round was certified (RFC 3339), if it was.
	Certified string `json:"certified,omitempty"`
}

// RoundSource is where a figure comes from: the round, the log head hash
// printed on its certified minutes, and the pages that show and verify
// them (DESIGN §5.7 paths). Head and Verify are empty before close.
type RoundSource struct {
	Contest string `json:"contest"`
	Round   int    `json:"round"`
	Head    string `json:"head,omitempty"`
	Minutes string `json:"minutes"`
	Verify  string `json:"verify,omitempty"`
}

// RollupPerson is one person elected by a certified round.
type RollupPerson struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Contest string `json:"contest"`
	Round   int    `json:"round"`
	Head    string `json:"head"`
	// Appointment is the id of the appointment, for a person appointed
	// (then Contest, Round and Head are empty).
	Appointment string `json:"appointment,omitempty"`
}

// KindTotals are the figures of one kind of election over the tree.
type KindTotals struct {
	Kind      ContestKind `json:"kind"`
	Elections int         `json:"elections"`
	// One count per outcome; they add up to Elections.
	FilledFirstRound int `json:"filled_first_round"`
	FilledLaterRound int `json:"filled_later_round"`
	FellShort        int `json:"fell_short"`
	Pending          int `json:"pending"`
	// Appointed counts offices filled by appointment (outcome appointed);
	// AppointedPeople the people appointed. Seats = Elected + Vacant +
	// Undecided + AppointedPeople.
	Appointed       int `json:"appointed"`
	AppointedPeople int `json:"appointed_people"`
	Seats           int `json:"seats"`
	Elected         int `json:"elected"`
	// Vacant: seats left by elections that fell short; Undecided: seats not
	// yet filled by certified rounds of pending elections.
	Vacant    int `json:"vacant"`
	Undecided int `json:"undecided"`
	// Sources are the certified rounds every figure above is drawn from.
	Sources []RoundSource `json:"sources"`
}

// KindComposition is the composition of everyone one kind of election
// elected over the tree (each person once: they are counted per kind, so
// a secretary who is also on the committee is not counted twice in one
// report). Its sources are the kind's totals' sources.
type KindComposition struct {
	Kind   ContestKind        `json:"kind"`
	Policy RollupPolicy       `json:"policy"`
	Report *CompositionReport `json:"report"`
}

// RollupPolicy is the percent policy and age bands one kind's composition
// uses: the contests' own when they all agree; otherwise (Mixed) the
// defaults of DESIGN §5.1 — 2 places half up, young under 40, bands 40 and
// 50 — so that the figures of one report are comparable.
type RollupPolicy struct {
	Percent    PercentPolicy `json:"percent"`
	YoungUnder int           `json:"young_under"`
	AgeBands   []int         `json:"age_bands"`
	Mixed      bool          `json:"mixed,omitempty"`
}

// OrganizationKey is how organization names are compared: NFC, spaces
// cleaned, lower case ("Đảng bộ phường 4" is "Đảng bộ Phường 4").
func OrganizationKey(name string) string { return strings.ToLower(CleanText(name)) }

// TermKey is the key terms are compared by: "2025-2030", "2025–2030",
// "2025 - 2030", "2025—2030" and "Nhiệm kỳ 2025–2030" are one term. People
// type a hyphen where the placeholder shows an en dash, and a ward must not
// drop out of a district's roll-up for one typed dash (the newcomer's
// walk-through, D10). Every dash, with any spaces around it, is one en
// dash; a leading "nhiệm kỳ" is dropped.
func TermKey(term string) string {
	s := strings.ToLower(CleanText(term))
	s = strings.TrimSpace(strings.TrimPrefix(s, "nhiệm kỳ"))
	var b strings.Builder
	for _, f := range strings.FieldsFunc(s, isDash) {
		if b.Len() > 0 {
			b.WriteString("–")
		}
		b.WriteString(strings.TrimSpace(f))
	}
	return b.String()
}

// isDash: the hyphen-minus and the Unicode dashes people type or paste
// (‐ ‑ ‒ – — ― −, and the small and full-width forms).
func isDash(r rune) bool {
	switch r {
	case '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', '\ufe58', '\ufe63', '\uff0d':
		return true
	}
	return false
}

// ComputeRollup builds the roll-up of in.Organization. An empty or
// over-long organization is Invalid; one no congress is of or under is
// NotFound; a certified round without its result is an error of the caller.
func ComputeRollup(in RollupInput) (*Rollup, error) {
	root := CleanText(in.Organization)
	switch n := utf8.RuneCountInString(root); {
	case n == 0:
		return nil, Errorf("organization", "is required: the organization whose congresses are rolled up, e.g. \"Đảng bộ Quận 3\"")
	case n > maxTitle:
		return nil, Errorf("organization", "too long (%d characters, at most %d)", n, maxTitle)
	}
	term := CleanText(in.Term)
	if n := utf8.RuneCountInString(term); n > maxTitle {
		return nil, Errorf("term", "too long (%d characters, at most %d)", n, maxTitle)
	}

	// The tree: organizations by key, their congresses, and the
	// organizations whose Superior they are.
	own := map[string][]*CongressRecord{}
	under := map[string][]string{}
	names := map[string]string{}
	superiors := map[string]string{}
	for _, cg := range in.Congresses {
		if term != "" && TermKey(cg.Term) != TermKey(term) {
			continue
		}
		org := OrganizationKey(cg.Organization)
		if _, ok := names[org]; !ok {
			names[org] = cg.Organization
		}
		own[org] = append(own[org], cg)
		if cg.Superior != "" {
			sup := OrganizationKey(cg.Superior)
			if _, ok := superiors[sup]; !ok {
				superiors[sup] = cg.Superior
			}
			if sup != org && !slices.Contains(under[sup], org) {
				under[sup] = append(under[sup], org)
			}
		}
	}
	rootKey := OrganizationKey(root)
	if len(own[rootKey]) == 0 && len(under[rootKey]) == 0 {
		msg := "no congress is of or directly under %q"
		if term != "" {
			msg += fmt.Sprintf(" for the term %q", term)
		}
		return nil, &Error{Kind: NotFound, Field: "organization", Message: fmt.Sprintf(msg, root)}
	}
	if n, ok := names[rootKey]; ok {
		root = n // as the root's own congress record spells it
	} else if n, ok := superiors[rootKey]; ok {
		root = n // as the records under it spell it
	}

	rounds := roundsByCongress(in.Rounds)
	elected := map[ContestKind]*electedPeople{}
	r := &Rollup{Organization: root, Term: term, Congresses: []RollupCongress{}}
	// Children in Vietnamese order with numbers by value (Phường 2 before
	// Phường 10). One collator: it is not safe for concurrent use.
	col := collate.New(language.Vietnamese, collate.Numeric)
	visited := map[string]bool{}
	var walk func(org string, depth int) error
	walk = func(org string, depth int) error {
		if visited[org] { // a cycle of Superior names, or a name reached twice
			return nil
		}
		visited[org] = true
		cgs := slices.Clone(own[org])
		slices.SortFunc(cgs, func(a, b *CongressRecord) int {
			return cmp.Or(strings.Compare(a.Date, b.Date), strings.Compare(a.ID, b.ID))
		})
		for _, cg := range cgs {
			rc, err := rollupCongress(cg, depth, rounds[cg.ID], elected)
			if err != nil {
				return err
			}
			r.Congresses = append(r.Congresses, rc)
		}
		kids := slices.Clone(under[org])
		slices.SortFunc(kids, func(a, b string) int {
			return cmp.Or(col.CompareString(names[a], names[b]), strings.Compare(a, b))
		})
		for _, k := range kids {
			if err := walk(k, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(rootKey, 0); err != nil {
		return nil, err
	}
	r.total(elected)
	return r, nil
}

// roundsByCongress files the rounds under their congress. Imports still
// running or refused (Imported set, not certified) are left out entirely:
// their log was not rebuilt here, so nothing of them is a result.
func roundsByCongress(all []RollupRound) map[string][]RollupRound {
	out := map[string][]RollupRound{}
	for _, rr := range all {
		rec := rr.Record
		if rec == nil || rec.Contest == nil || rec.Congress == "" {
			continue
		}
		// Opinion and introduction ballots elect nobody (Elects): they
		// are not elections, and the roll-up leaves them out altogether
		// (their own minutes carry them).
		if !rec.Contest.Kind.Elects() {
			continue
		}
		if rec.Imported != "" && rec.State != StateCertified {
			continue
		}
		out[rec.Congress] = append(out[rec.Congress], rr)
	}
	return out
}

var kindOrder = func() map[ContestKind]int {
	m := map[ContestKind]int{}
	for i, k := range contestKinds {
		m[k] = i
	}
	return m
}()

// rollupCongress groups a congress's rounds into elections by their links.
func rollupCongress(cg *CongressRecord, depth int, rounds []RollupRound, elected map[ContestKind]*electedPeople) (RollupCongress, error) {
	rc := RollupCongress{ID: cg.ID, Organization: cg.Organization, Superior: cg.Superior, Name: cg.Name,
		Term: cg.Term, Date: cg.Date, Depth: depth, Final: true, Elections: []RollupElection{}}
	byID := map[string]RollupRound{}
	for _, rr := range rounds {
		byID[rr.Record.Contest.ID] = rr
	}
	// An election starts at a round whose Previous is not here; rounds
	// left after that (a cycle of links) start one of their own, lowest
	// round first, so that every round is listed once.
	starts := slices.Clone(rounds)
	slices.SortFunc(starts, func(a, b RollupRound) int {
		return cmp.Or(cmp.Compare(a.Record.Contest.Round, b.Record.Contest.Round), strings.Compare(a.Record.Contest.ID, b.Record.Contest.ID))
	})
	seen := map[string]bool{}
	var chains [][]RollupRound
	follow := func(first RollupRound) {
		var chain []RollupRound
		for rr, ok := first, true; ok && !seen[rr.Record.Contest.ID]; rr, ok = byID[rr.Record.Next] {
			seen[rr.Record.Contest.ID] = true
			chain = append(chain, rr)
		}
		chains = append(chains, chain)
	}
	for _, rr := range starts {
		if _, linked := byID[rr.Record.Previous]; !linked && !seen[rr.Record.Contest.ID] {
			follow(rr)
		}
	}
	for _, rr := range starts {
		if !seen[rr.Record.Contest.ID] {
			follow(rr)
		}
	}
	for _, chain := range chains {
		e, err := rollupElection(chain, elected)
		if err != nil {
			return rc, err
		}
		if e.Outcome == OutcomePending {
			rc.Final = false
		}
		rc.Elections = append(rc.Elections, e)
	}
	rc.Elections = append(rc.Elections, rollupAppointments(cg, rc.Elections, elected)...)
	slices.SortStableFunc(rc.Elections, func(a, b RollupElection) int {
		// Within a kind, appointments after the elections they follow.
		return cmp.Or(cmp.Compare(kindOrder[a.Kind], kindOrder[b.Kind]), cmp.Compare(b2i(a.Appointed), b2i(b.Appointed)), strings.Compare(a.ID, b.ID))
	})
	return rc, nil
}

// rollupElection sums one election's rounds: only certified rounds elect.
// The people they elected join their kind's composition (elected).
func rollupElection(chain []RollupRound, elected map[ContestKind]*electedPeople) (RollupElection, error) {
	first := chain[0].Record
	e := RollupElection{ID: first.Contest.ID, Title: first.Contest.Title, Kind: first.Contest.Kind,
		Seats: first.Contest.Seats, Rounds: []RollupLine{}, People: []RollupPerson{}}
	pending := false
	if first.Previous != "" {
		e.Missing = append(e.Missing, first.Previous) // the election began with a round not here
	}
	for _, rr := range chain {
		rec := rr.Record
		line := RollupLine{RoundSource: roundSource(rec), State: rec.State, Imported: rec.Imported != "",
			Seats: rec.Contest.Seats, Certified: rec.Certified}
		if rec.State == StateCertified {
			res := rr.Result
			if res == nil {
				return e, fmt.Errorf("roll-up: the certified round %s comes without its result", rec.Contest.ID)
			}
			line.Counted = true
			line.Elected, line.Vacant, line.RevoteSeats = len(res.Elected), res.Vacant, res.RevoteSeats
			names := map[string]string{}
			for _, cr := range res.Candidates {
				names[cr.ID] = cr.Name
			}
			for _, id := range res.Elected {
				e.People = append(e.People, RollupPerson{ID: id, Name: names[id], Contest: rec.Contest.ID,
					Round: rec.Contest.Round, Head: rec.Head})
			}
			e.Elected += len(res.Elected)
			ep := elected[e.Kind]
			if ep == nil {
				ep = &electedPeople{}
				elected[e.Kind] = ep
			}
			ep.add(rec.Contest, res)
		} else {
			pending = true
		}
		e.Rounds = append(e.Rounds, line)
	}
	if last := chain[len(chain)-1].Record; last.Next != "" {
		e.Missing = append(e.Missing, last.Next) // a later round was made elsewhere and is not here
	}
	e.Unfilled = max(e.Seats-e.Elected, 0)
	switch {
	case pending || len(e.Missing) > 0:
		e.Outcome = OutcomePending
	case e.Unfilled > 0:
		e.Outcome = OutcomeFellShort
	case len(chain) == 1 && first.Contest.Round == 1:
		e.Outcome = OutcomeFilledFirstRound
	default:
		e.Outcome = OutcomeFilledLaterRound
	}
	return e, nil
}

func roundSource(rec *Record) RoundSource {
	s := RoundSource{Contest: rec.Contest.ID, Round: rec.Contest.Round, Head: rec.Head,
		Minutes: "/contests/" + rec.Contest.ID + "/minutes"}
	if rec.Head != "" {
		s.Verify = "/verify/" + rec.Head
	}
	return s
}

// total sums the elections per kind and builds each kind's composition
// with tally's one composition report (Compose).
func (r *Rollup) total(elected map[ContestKind]*electedPeople) {
	totals := map[ContestKind]*KindTotals{}
	for _, cg := range r.Congresses {
		for _, e := range cg.Elections {
			t := totals[e.Kind]
			if t == nil {
				t = &KindTotals{Kind: e.Kind, Sources: []RoundSource{}}
				totals[e.Kind] = t
			}
			t.Elections++
			t.Seats += e.Seats
			t.Elected += e.Elected
			switch e.Outcome {
			case OutcomeFilledFirstRound:
				t.FilledFirstRound++
			case OutcomeFilledLaterRound:
				t.FilledLaterRound++
			case OutcomeFellShort:
				t.FellShort++
				t.Vacant += e.Unfilled
			case OutcomePending:
				t.Pending++
				t.Undecided += e.Unfilled
			case OutcomeAppointed:
				t.Appointed++
				t.AppointedPeople += len(e.People)
				// The seats it fills of an election that fell short are
				// that election's, already counted: no longer vacant.
				t.Seats -= e.Fills
				t.Vacant -= e.Fills
			}
			for _, l := range e.Rounds {
				if l.Counted {
					r.Counted++
					t.Sources = append(t.Sources, l.RoundSource)
				} else {
					r.NotCertified++
				}
			}
		}
	}
	r.Totals = []KindTotals{}
	r.Composition = []KindComposition{}
	for _, k := range contestKinds {
		if t := totals[k]; t != nil {
			r.Totals = append(r.Totals, *t)
		}
		if ep := elected[k]; ep != nil && len(ep.people) > 0 {
			p := ep.policy()
			rep := Compose(ep.people, p.Percent, CompositionPolicy{YoungUnder: p.YoungUnder, AgeBands: p.AgeBands}, ep.ages)
			r.Composition = append(r.Composition, KindComposition{Kind: k, Policy: p, Report: rep})
		}
	}
}

// electedPeople are the people a kind's certified rounds elected, with the
// contest each was elected by (for the attributes and the reference date).
type electedPeople struct {
	contests []*Contest
	people   []ElectedPerson
	ages     bool
}

// add takes the elected of one certified round.
func (ep *electedPeople) add(c *Contest, res *Result) {
	ep.contests = append(ep.contests, c)
	ref, err := time.Parse(time.DateOnly, c.Composition.ReferenceDate)
	if err == nil {
		ep.ages = true
	} else {
		ref = time.Time{}
	}
	index := c.Index()
	for _, id := range res.Elected {
		if i, ok := index[id]; ok {
			ep.people = append(ep.people, ElectedPerson{Candidate: &c.Candidates[i], Reference: ref})
		}
	}
}

// policy is the contests' common policy, or the defaults when they differ.
func (ep *electedPeople) policy() RollupPolicy {
	def := defaultContest()
	p := RollupPolicy{Percent: def.Percent, YoungUnder: def.Composition.YoungUnder, AgeBands: def.Composition.AgeBands}
	for i, c := range ep.contests {
		cp := RollupPolicy{Percent: c.Percent, YoungUnder: c.Composition.YoungUnder, AgeBands: c.Composition.AgeBands}
		if i == 0 {
			p = cp
			continue
		}
		if cp.Percent != p.Percent || cp.YoungUnder != p.YoungUnder || !slices.Equal(cp.AgeBands, p.AgeBands) {
			return RollupPolicy{Percent: def.Percent, YoungUnder: def.Composition.YoungUnder,
				AgeBands: def.Composition.AgeBands, Mixed: true}
		}
	}
	p.AgeBands = slices.Clone(p.AgeBands)
	return p
}

// rollupAppointments are a congress's appointments as roll-up lines: each
// an office filled without a ballot, its people in its kind's composition
// (their ages at the appointment's date). One that follows an election
// of its kind that fell short (After) fills that election's vacant seats.
func rollupAppointments(cg *CongressRecord, elections []RollupElection, elected map[ContestKind]*electedPeople) []RollupElection {
	var out []RollupElection
	for _, a := range cg.Appointments {
		e := RollupElection{ID: a.ID, Title: a.Title, Kind: a.Kind, Seats: len(a.People), Outcome: OutcomeAppointed,
			Rounds: []RollupLine{}, People: []RollupPerson{}, Appointed: true, Appointment: &a}
		if e.Title == "" {
			e.Title = a.Kind.Vietnamese() + " (chỉ định)"
		}
		for _, p := range a.People {
			e.People = append(e.People, RollupPerson{ID: p.ID, Name: p.Name, Appointment: a.ID})
		}
		for i := range elections {
			prev := &elections[i]
			if a.After == "" || prev.Appointed || !slices.ContainsFunc(prev.Rounds, func(l RollupLine) bool { return l.Contest == a.After }) {
				continue
			}
			prev.AppointedBy = a.ID
			if prev.Kind == a.Kind && prev.Outcome == OutcomeFellShort {
				e.Fills = min(prev.Unfilled, len(a.People))
			}
		}
		ep := elected[a.Kind]
		if ep == nil {
			ep = &electedPeople{}
			elected[a.Kind] = ep
		}
		ep.addAppointed(&a)
		out = append(out, e)
	}
	return out
}

// addAppointed takes the people of an appointment, aged at its date.
func (ep *electedPeople) addAppointed(a *Appointment) {
	ref, err := time.Parse(time.DateOnly, a.Date)
	if err == nil {
		ep.ages = true
	} else {
		ref = time.Time{}
	}
	for i := range a.People {
		ep.people = append(ep.people, ElectedPerson{Candidate: &a.People[i], Reference: ref})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
