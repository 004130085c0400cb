package tally

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The first meeting (hội nghị lần thứ nhất) and what follows the count of
// a body: contests linked to the election whose result they draw on
// (Contest.From), the order of the elections of a congress, and offices
// filled by appointment (chỉ định) instead of a ballot (issue 12,
// deliverable 5). Pure functions: the API reads the linked rounds and
// their results from the store and passes them in.

// Warning codes of the first meeting.
const (
	// WarnFromKind: a contest that the rules elect from a body just elected
	// is linked to a contest of another kind, or, at a body meeting, to
	// none.
	WarnFromKind WarningCode = "from_kind"
	// WarnStandingCommitteeSmall: a standing committee elected from a
	// committee of fewer than 9 members (Charter Điều 22.5; HD 01-HD/TW
	// 2016 §15.1: only a committee of 9 or more elects one).
	WarnStandingCommitteeSmall WarningCode = "standing_committee_small"
)

// MinStandingCommitteeBody is the least committee that elects a standing
// committee (Điều lệ Đảng Điều 22.5).
const MinStandingCommitteeBody = 9

// fromKinds are the kinds a contest of each kind is elected from, the
// first one the usual (190-QĐ/TW Điều 20–29; domain-rules §2): the
// standing committee from the executive committee; the secretary and the
// deputies from the standing committee (đảng bộ) or the committee (chi
// bộ, where there is no standing committee: 244 Điều 19.9); the
// inspection committee's chair and vice-chairs from its members. An
// introduction ballot (phiếu giới thiệu) may form any such list.
var fromKinds = map[ContestKind][]ContestKind{
	KindStandingCommittee:   {KindCommittee},
	KindSecretary:           {KindStandingCommittee, KindCommittee},
	KindDeputySecretary:     {KindStandingCommittee, KindCommittee},
	KindInspectionChair:     {KindInspectionCommittee},
	KindInspectionViceChair: {KindInspectionCommittee},
}

// FromKinds returns the kinds a contest of kind k is elected from (nil
// when it is not elected from another body's result).
func FromKinds(k ContestKind) []ContestKind { return slices.Clone(fromKinds[k]) }

// ElectedCandidates are the candidates a round elected (for an opinion or
// introduction round: admitted or introduced), in Result.Elected order,
// as its definition lists them.
func ElectedCandidates(c *Contest, res *Result) []Candidate {
	if c == nil || res == nil {
		return nil
	}
	index := c.Index()
	out := make([]Candidate, 0, len(res.Elected))
	for _, id := range res.Elected {
		if i, ok := index[id]; ok {
			out = append(out, c.Candidates[i])
		}
	}
	return out
}

// CheckFrom checks that every candidate of c is among those elected by
// the election c comes from (all its rounds), matched by id with the same
// name: a first meeting elects from the body just elected (190-QĐ/TW
// Điều 20–29; 244 Điều 19.9: the secretary "trong số chi ủy viên").
// from says, for the messages, what elected means there: "elected" or,
// after an introduction ballot, "introduced". Problems name candidates[i]
// in the order the definition lists them.
func CheckFrom(c *Contest, elected []Candidate, from string) error {
	if from == "" {
		from = "elected"
	}
	byID := make(map[string]Candidate, len(elected))
	for _, e := range elected {
		byID[e.ID] = e
	}
	var p problems
	for i, cand := range c.Candidates {
		field := fmt.Sprintf("candidates[%d]", i)
		e, ok := byID[cand.ID]
		switch {
		case !ok:
			p.add(field, "%s (%s) is not among the %d %s by %s (from): a contest linked to another draws its candidates from those %s there",
				cand.Name, cand.ID, len(elected), from, c.From, from)
		case CleanText(e.Name) != CleanText(cand.Name):
			p.add(field, "%s is %q among the %s by %s, not %q: the same person keeps the same name", cand.ID, e.Name, from, c.From, cand.Name)
		}
	}
	return p.err()
}

// DefaultFromConvened fills D's default at a body meeting linked to an
// election: when electorate.congress is "body", convened is 0 and From is
// set, the members convened are those elected there (n). It reports
// whether it filled it.
func (c *Contest) DefaultFromConvened(n int) bool {
	if c.From == "" || c.Electorate.Congress != CongressBody || c.Electorate.Convened != 0 || n < 1 {
		return false
	}
	c.Electorate.Convened = n
	return true
}

// FromWarnings are the first meeting's warnings on a contest: fromKind is
// the kind of the contest From names ("" when From is empty) and elected
// the number it elected. Never refusals: a congress may have reasons (a
// by-election, a merged organization) the engine cannot see.
func FromWarnings(c *Contest, fromKind ContestKind, elected int) []Warning {
	want := fromKinds[c.Kind]
	var out []Warning
	switch {
	case len(want) == 0:
	case c.From == "":
		if c.Electorate.Congress == CongressBody {
			out = append(out, Warning{Code: WarnFromKind, Message: fmt.Sprintf(
				"a %s at a body meeting is elected from the %s just elected: link it with from, so that its candidates and D are checked against that result",
				c.Kind, kindList(want))})
		}
	case fromKind != KindIntroduction && !slices.Contains(want, fromKind):
		out = append(out, Warning{Code: WarnFromKind, Message: fmt.Sprintf(
			"a %s is elected from the %s; from names %s, a %s", c.Kind, kindList(want), c.From, fromKind)})
	}
	if c.Kind == KindStandingCommittee && fromKind == KindCommittee && elected < MinStandingCommitteeBody {
		out = append(out, Warning{Code: WarnStandingCommitteeSmall, Message: fmt.Sprintf(
			"a standing committee is elected only where the committee has at least %d members (Charter Điều 22.5); %s elected %d",
			MinStandingCommitteeBody, c.From, elected)})
	}
	return out
}

func kindList(ks []ContestKind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, " or ")
}

// The order of a congress's elections (domain-rules §2, "Sequence rule"):
// each chain is elected in this order, each from the one before.
var electionChains = [][]ContestKind{
	{KindCommittee, KindStandingCommittee, KindSecretary, KindDeputySecretary},
	{KindInspectionCommittee, KindInspectionChair, KindInspectionViceChair},
	{KindDelegates, KindAlternates},
}

// ElectionChains returns the order of a congress's elections: committee →
// standing committee → secretary → deputy secretaries; inspection
// committee → chair → vice-chairs; delegates → alternates.
func ElectionChains() [][]ContestKind {
	out := make([][]ContestKind, len(electionChains))
	for i, ch := range electionChains {
		out[i] = slices.Clone(ch)
	}
	return out
}

// Limits of appointments on one congress record.
const maxAppointments = 200

// Normalize cleans an appointment's text as contests are.
func (a *Appointment) Normalize() {
	a.ID = strings.TrimSpace(a.ID)
	a.After = strings.TrimSpace(a.After)
	a.Kind = ContestKind(strings.TrimSpace(string(a.Kind)))
	for _, s := range []*string{&a.Title, &a.Authority, &a.Decision, &a.Date, &a.Note} {
		*s = CleanText(*s)
	}
	for i := range a.People {
		p := &a.People[i]
		p.ID, p.Name, p.BirthDate = strings.TrimSpace(p.ID), CleanText(p.Name), strings.TrimSpace(p.BirthDate)
		if p.ID == "" {
			p.ID = fmt.Sprintf("p%d", i+1) // people need ids only to be told apart
		}
	}
}

// Validate checks an appointment: its kind, at least one person with a
// name (and the optional attributes as a candidate's), who appointed, and
// the date; every problem, joined, each naming its field.
func (a *Appointment) Validate() error {
	var p problems
	if !idPattern.MatchString(a.ID) {
		p.add("id", "must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit; got %q", a.ID)
	}
	if !oneOf(a.Kind, appointableKinds...) {
		p.add("kind", "must be one of %s; got %q", list(appointableKinds), a.Kind)
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{{"title", a.Title, false}, {"authority", a.Authority, true}, {"decision", a.Decision, false}, {"note", a.Note, false}} {
		switch n := utf8.RuneCountInString(f.v); {
		case n == 0 && f.required:
			p.add(f.name, "is required: who appointed (e.g. \"Ban Thường vụ Quận ủy Quận 3\")")
		case n > maxTitle:
			p.add(f.name, "too long (%d characters, at most %d)", n, maxTitle)
		}
	}
	ref, hasRef := time.Time{}, false
	if a.Date != "" {
		t, err := time.Parse(time.DateOnly, a.Date)
		if err != nil {
			p.add("date", "must be a date YYYY-MM-DD; got %q", a.Date)
		} else {
			ref, hasRef = t, true
		}
	}
	if a.After != "" && !idPattern.MatchString(a.After) {
		p.add("after", "must be a contest id; got %q", a.After)
	}
	if len(a.People) == 0 {
		p.add("people", "at least one person is required: who was appointed")
	} else {
		// The people are checked as a list's candidates are (names, ids,
		// attributes), under their own field name.
		var sub problems
		(&Contest{Candidates: a.People}).validateCandidates(&sub, ref, hasRef)
		for _, e := range Problems(sub.err()) {
			p.add("people"+strings.TrimPrefix(e.Field, "candidates"), "%s", strings.ReplaceAll(e.Message, "composition reference date", "appointment date"))
		}
	}
	return p.err()
}

// appointableKinds are the offices an appointment may fill: those a
// contest elects (an opinion or introduction ballot fills none).
var appointableKinds = slices.DeleteFunc(slices.Clone(contestKinds), func(k ContestKind) bool {
	return k == KindOpinion || k == KindIntroduction
})

// ValidateAppointments checks the appointments of a congress record: each
// one, unique ids, and at most maxAppointments.
func ValidateAppointments(as []Appointment) error {
	var p problems
	if len(as) > maxAppointments {
		p.add("appointments", "too many appointments (%d, at most %d)", len(as), maxAppointments)
	}
	seen := map[string]bool{}
	for i, a := range as {
		field := fmt.Sprintf("appointments[%d]", i)
		for _, e := range Problems(a.Validate()) {
			p.add(field+"."+e.Field, "%s", e.Message)
		}
		if seen[a.ID] {
			p.add(field+".id", "%q is the id of another appointment; ids must be unique", a.ID)
		}
		seen[a.ID] = true
	}
	return p.err()
}
