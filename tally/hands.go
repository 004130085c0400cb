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

// HandsResult is the outcome of a show of hands, shares of those present.
type HandsResult struct {
	ShowOfHands
	ApproveShare    Percentage `json:"approve_share"`
	DisapproveShare Percentage `json:"disapprove_share"`
	OtherShare      Percentage `json:"other_share"`
	// Passed: approve > half of those present (domain-rules Q12), on integers.
	Passed bool `json:"passed"`
	// Unanimous: every one present approved (100% tán thành).
	Unanimous bool `json:"unanimous"`
}

// ParseShowOfHands decodes and validates a show-of-hands record.
func ParseShowOfHands(data []byte) (ShowOfHands, error) {
	var v ShowOfHands
	if err := DecodeJSON(data, &v, "show-of-hands"); err != nil {
		return ShowOfHands{}, err
	}
	v.Title = CleanText(v.Title)
	return v, v.Validate()
}

// Validate checks the counts: none negative, and no more votes than people.
func (v ShowOfHands) Validate() error {
	var p problems
	if !oneOf(v.Subject, SubjectSeats, SubjectList, SubjectCountingCommittee, SubjectOther) {
		p.add("subject", `must be "seats", "list", "counting_committee" or "other"; got %q`, v.Subject)
	}
	if v.Subject == SubjectOther && v.Title == "" {
		p.add("title", `required when subject is "other": say what was decided`)
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
	if sum := addCapped(addCapped(max(v.Approve, 0), max(v.Disapprove, 0)), max(v.Other, 0)); v.Present >= 1 && sum > v.Present {
		p.add("present", "approve + disapprove + other = %d is more than the %d present", sum, v.Present)
	}
	return p.err()
}

// Result decides the vote under the percent policy. v must be valid.
func (v ShowOfHands) Result(policy PercentPolicy) HandsResult {
	return HandsResult{
		ShowOfHands:     v,
		ApproveShare:    policy.Of(v.Approve, v.Present),
		DisapproveShare: policy.Of(v.Disapprove, v.Present),
		OtherShare:      policy.Of(v.Other, v.Present),
		Passed:          OverHalf(v.Approve, v.Present),
		Unanimous:       v.Approve == v.Present,
	}
}
