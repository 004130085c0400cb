package tally

import (
	"unicode/utf8"
)

// Subject is what a show-of-hands vote (biểu quyết) decides.
type Subject string

const (
	SubjectSeats             Subject = "seats"              // số lượng cần bầu
	SubjectList              Subject = "list"               // danh sách bầu cử
	SubjectCountingCommittee Subject = "counting_committee" // ban kiểm phiếu
	SubjectOther             Subject = "other"              // another procedural decision, named in Title
)

// Subjects lists every subject a show-of-hands vote may have, in the order
// a congress takes them: the bodies that run it (190-QĐ/TW Điều 3.2:
// presidium, secretariat, credentials and counting committees), then the
// number to elect and the list, then decisions on the list and the rounds
// (domain-rules §1.3), then any other.
var Subjects = []Subject{SubjectPresidium, SubjectSecretariat, SubjectCredentialsCommittee, SubjectCountingCommittee,
	SubjectSeats, SubjectList, SubjectWithdrawal, SubjectAnotherRound, SubjectOther}

// ShowOfHands is an open vote by raised hands or party cards (190-QĐ/TW
// Điều 3.2): the number present when it was taken and how they voted.
type ShowOfHands struct {
	// ID is given by the service when the vote is recorded ("v1", "v2", …);
	// list changes name the vote that decided them by it.
	ID      string  `json:"id,omitempty"`
	Subject Subject `json:"subject"`
	Title   string  `json:"title,omitempty"`
	// Contest is the contest a vote on the number to elect or on the list
	// belongs to; empty for votes of the whole congress.
	Contest    string `json:"contest,omitempty"`
	Present    int    `json:"present"`
	Approve    int    `json:"approve"`    // tán thành
	Disapprove int    `json:"disapprove"` // không tán thành
	Other      int    `json:"other"`      // ý kiến khác
	// Candidate is the candidate a withdrawal vote is about.
	Candidate string `json:"candidate,omitempty"`
	// Recorded and By: when and by whom the vote was recorded (set by the
	// service).
	Recorded string `json:"recorded,omitempty"`
	By       string `json:"by,omitempty"`
}

// HandsResult is the outcome of a show of hands on D (DESIGN §7.2).
type HandsResult struct {
	ShowOfHands
	// Denominator is the D the vote is decided on: that of the contest it
	// names, else the congress's electorate; null when neither is known.
	Denominator *int `json:"denominator"`
	// The shares are of D; without D, of those present (figures only).
	ApproveShare    Percentage `json:"approve_share"`
	DisapproveShare Percentage `json:"disapprove_share"`
	OtherShare      Percentage `json:"other_share"`
	// Passed is 2·approve > D, on integers; null without D. Resolutions of
	// the Party's bodies are valid only when more than half of the body's
	// members approve (Charter Điều 9.5; Quy định 294-QĐ/TW §9.3, whose
	// members are the same number as D: those convened less the same
	// exclusions). Those present are never the base: 10 of 21 members
	// approving, with 17 present, is not passed (rules audit B1).
	Passed *bool `json:"passed"`
	// Unanimous: every one present approved (100% of those present tán
	// thành), which the minutes print beside the share of D.
	Unanimous bool `json:"unanimous"`
}

// ParseShowOfHands decodes and validates a show-of-hands record, without
// its base: Result and CheckBase take D.
func ParseShowOfHands(data []byte) (ShowOfHands, error) {
	var v ShowOfHands
	if err := DecodeJSON(data, &v, "show-of-hands"); err != nil {
		return ShowOfHands{}, err
	}
	v.Normalize()
	return v, v.Validate()
}

// Normalize cleans the vote's text as a contest's text is cleaned.
func (v *ShowOfHands) Normalize() {
	v.Title = CleanText(v.Title)
	v.Contest = CleanText(v.Contest)
	v.Candidate = CleanText(v.Candidate)
}

// Validate checks the counts — none negative, no more votes than people —
// and that each subject names what it decides. Whether the contest and the
// candidate exist, and present ≤ D, need the store and D (CheckBase).
func (v ShowOfHands) Validate() error {
	var p problems
	if !oneOf(v.Subject, Subjects...) {
		p.add("subject", "must be one of %s; got %q", list(Subjects), v.Subject)
	}
	switch v.Subject {
	case SubjectOther:
		if v.Title == "" {
			p.add("title", `required when subject is "other": say what was decided`)
		}
	case SubjectSeats, SubjectList, SubjectAnotherRound:
		if v.Contest == "" {
			p.add("contest", "required for a %q vote: name the contest it decides", v.Subject)
		}
	case SubjectWithdrawal:
		// The congress decides whether a candidate may withdraw from a
		// list (04-HD/TW 2024 item 2; 190 Điều 28.4): which list, who.
		if v.Contest == "" {
			p.add("contest", `required for a "withdrawal" vote: name the contest whose list the candidate leaves`)
		}
		if v.Candidate == "" {
			p.add("candidate", `required for a "withdrawal" vote: name the candidate (id) who withdraws`)
		}
	}
	if v.Candidate != "" && v.Subject != SubjectWithdrawal {
		p.add("candidate", `only a "withdrawal" vote names a candidate; got %q for a %q vote`, v.Candidate, v.Subject)
	}
	if v.Contest != "" && !idPattern.MatchString(v.Contest) {
		p.add("contest", "must be a contest id; got %q", v.Contest)
	}
	if v.Candidate != "" && !idPattern.MatchString(v.Candidate) {
		p.add("candidate", "must be a candidate id; got %q", v.Candidate)
	}
	if v.ID != "" && !idPattern.MatchString(v.ID) {
		p.add("id", "must be 1–64 letters, digits, '.', '_' or '-'; got %q", v.ID)
	}
	if utf8.RuneCountInString(v.Title) > maxTitle {
		p.add("title", "too long (at most %d characters)", maxTitle)
	}
	if v.Present < 1 {
		p.add("present", "must be 1 or more; got %d", v.Present)
	}
	for _, f := range []struct {
		name string
		n    int
	}{{"approve", v.Approve}, {"disapprove", v.Disapprove}, {"other", v.Other}} {
		if f.n < 0 {
			p.add(f.name, "must not be negative; got %d", f.n)
		}
	}
	if sum := v.cast(); v.Present >= 1 && sum > v.Present {
		p.add("present", "approve + disapprove + other = %d is more than the %d present", sum, v.Present)
	}
	return p.err()
}

// cast is approve + disapprove + other, negatives as 0, without overflow.
func (v ShowOfHands) cast() int {
	return addCapped(addCapped(max(v.Approve, 0), max(v.Disapprove, 0)), max(v.Other, 0))
}

// CheckBase checks the vote against its D: no more present than the
// members D counts (those present are among them). present > D means D or
// the count of those present is wrong, and the outcome would mislead.
func (v ShowOfHands) CheckBase(d int) error {
	if v.Present > d {
		return Errorf("present", "%d present is more than D = %d, the members the vote is decided on; check D (its exclusions) or the count", v.Present, d)
	}
	return nil
}

// Result decides the vote on D (nil: no D is known) under the percent
// policy. v must be valid, and CheckBase(*d) nil when d is given.
//
// Without D the shares are of those present and passed is null: the
// minutes print the figures only, and say no D was given (DESIGN §7.2).
func (v ShowOfHands) Result(d *int, policy PercentPolicy) HandsResult {
	r := HandsResult{ShowOfHands: v, Unanimous: v.Present >= 1 && v.Approve == v.Present}
	base := v.Present
	if d != nil && *d >= 1 {
		dd := *d
		base = dd
		passed := OverHalf(v.Approve, dd)
		r.Denominator, r.Passed = &dd, &passed
	}
	if base >= 1 {
		r.ApproveShare = policy.Of(v.Approve, base)
		r.DisapproveShare = policy.Of(v.Disapprove, base)
		r.OtherShare = policy.Of(v.Other, base)
	}
	return r
}

// Outcome names the decision: "passed", "not_passed", or "" without D
// (figures only), for the pages and the minutes.
func (r HandsResult) Outcome() string {
	switch {
	case r.Passed == nil:
		return ""
	case *r.Passed:
		return "passed"
	}
	return "not_passed"
}
