package tally

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// CongressRecord is a congress (đại hội) as the minutes name it: who holds it,
// where and when, its counting committee (ban kiểm phiếu) and the
// show-of-hands votes (biểu quyết) taken before the ballots. Contest rounds
// belong to a congress through Record.Congress; the contest definition
// (DESIGN §5.1) stays as it is.
type CongressRecord struct {
	ID string `json:"id"`
	// Organization is the party organization holding the congress, as the
	// minutes' header names it: "Đảng bộ Phường 4".
	Organization string `json:"organization"`
	// Superior is the committee directly above (cấp trên trực tiếp), the
	// first line of the header: "Đảng bộ Quận 3". Optional.
	Superior string `json:"superior,omitempty"`
	// Name is the congress's name: "Đại hội đại biểu Đảng bộ Phường 4".
	Name string `json:"name"`
	// Ordinal is the congress's number (lần thứ …), printed in Roman
	// numerals; 0 when not known.
	Ordinal int    `json:"ordinal,omitempty"`
	Term    string `json:"term,omitempty"`  // nhiệm kỳ, e.g. "2025–2030"
	Place   string `json:"place,omitempty"` // where the minutes are drawn up
	Date    string `json:"date,omitempty"`  // YYYY-MM-DD
	// CountingCommittee signs the minutes: one head, then the members.
	CountingCommittee []CommitteeMember `json:"counting_committee,omitempty"`
	// Votes are the show-of-hands records: the number to elect and the
	// list (each for a contest), the counting committee, other decisions.
	Votes []ShowOfHands `json:"votes,omitempty"`
	// Electorate is the congress's own D (DESIGN §7.2): the base of its
	// show-of-hands votes that name no contest.
	Electorate *Electorate `json:"electorate,omitempty"`
	// LastVote is the number of the last vote id given ("v<n>"): ids are
	// never given twice, so that a list change naming a deleted vote never
	// comes to name another.
	LastVote int `json:"last_vote,omitempty"`
	// Appointments are offices filled by the higher committee (chỉ định).
	Appointments []Appointment `json:"appointments,omitempty"`
}

// CommitteeRole is a member's place in the counting committee.
type CommitteeRole string

const (
	RoleHead       CommitteeRole = "head"        // trưởng ban
	RoleDeputyHead CommitteeRole = "deputy_head" // phó trưởng ban
	RoleMember     CommitteeRole = "member"      // ủy viên
)

// CommitteeMember is one member of the counting committee. Members are
// official delegates not on any election list, or technical staff when a
// computer counts (190-QĐ/TW Điều 8.1).
type CommitteeMember struct {
	Name string        `json:"name"`
	Role CommitteeRole `json:"role"`
}

// Limits of a congress record.
const (
	maxCommittee = 50
	maxVotes     = 200
	// MaxVotes is the most show-of-hands records a congress keeps.
	MaxVotes  = maxVotes
	maxPeople = 10_000_000
)

// ParseCongress decodes a congress record strictly, cleans its text (NFC,
// trimmed) and validates it, reporting every problem at once.
func ParseCongress(data []byte) (*CongressRecord, error) {
	var c CongressRecord
	if err := DecodeJSON(data, &c, "congress"); err != nil {
		return nil, err
	}
	c.Normalize()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Normalize cleans every text field as names are cleaned on contests.
func (c *CongressRecord) Normalize() {
	c.ID = strings.TrimSpace(c.ID)
	for _, s := range []*string{&c.Organization, &c.Superior, &c.Name, &c.Term, &c.Place, &c.Date} {
		*s = CleanText(*s)
	}
	for i := range c.CountingCommittee {
		c.CountingCommittee[i].Name = CleanText(c.CountingCommittee[i].Name)
	}
	for i := range c.Votes {
		c.Votes[i].Normalize()
	}
	for i := range c.Appointments {
		c.Appointments[i].Normalize() // meeting.go
	}
}

// Validate checks a congress record and returns all its problems joined,
// each an *Error naming its field.
func (c *CongressRecord) Validate() error {
	var p problems
	if !idPattern.MatchString(c.ID) {
		p.add("id", "must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit; got %q", c.ID)
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{{"organization", c.Organization, true}, {"name", c.Name, true}, {"superior", c.Superior, false},
		{"term", c.Term, false}, {"place", c.Place, false}} {
		switch n := utf8.RuneCountInString(f.v); {
		case n == 0 && f.required:
			p.add(f.name, "is required")
		case n > maxTitle:
			p.add(f.name, "too long (%d characters, at most %d)", n, maxTitle)
		}
	}
	if c.Ordinal < 0 || c.Ordinal > 100 {
		p.add("ordinal", "must be between 0 (unknown) and 100; got %d", c.Ordinal)
	}
	if c.Date != "" {
		if _, err := time.Parse(time.DateOnly, c.Date); err != nil {
			p.add("date", "must be a date YYYY-MM-DD; got %q", c.Date)
		}
	}
	if len(c.CountingCommittee) > maxCommittee {
		p.add("counting_committee", "too many members (%d, at most %d)", len(c.CountingCommittee), maxCommittee)
	}
	heads := 0
	for i, m := range c.CountingCommittee {
		field := fmt.Sprintf("counting_committee[%d]", i)
		switch n := utf8.RuneCountInString(m.Name); {
		case n == 0:
			p.add(field+".name", "is required")
		case n > maxName:
			p.add(field+".name", "too long (%d characters, at most %d)", n, maxName)
		}
		switch m.Role {
		case RoleHead:
			heads++
		case RoleDeputyHead, RoleMember:
		default:
			p.add(field+".role", `must be "head", "deputy_head" or "member"; got %q`, m.Role)
		}
	}
	if heads > 1 {
		p.add("counting_committee", "has %d heads; the congress approves one head (trưởng ban)", heads)
	}
	if c.LastVote < 0 {
		p.add("last_vote", "must not be negative; got %d", c.LastVote)
	}
	if len(c.Votes) > maxVotes {
		p.add("votes", "too many show-of-hands records (%d, at most %d)", len(c.Votes), maxVotes)
	}
	d, hasD := c.Denominator()
	if c.Electorate != nil {
		// The congress's D is a contest's D (DESIGN §7.2: the §5.1 shape),
		// checked by the same rules, with the same field names.
		probe := Contest{Electorate: *c.Electorate}
		probe.validateElectorate(&p)
		if c.Electorate.Present != 0 {
			p.add("electorate.present", "only an opinion ballot has a number present; the congress's D is convened less the exclusions; got %d", c.Electorate.Present)
		}
	}
	ids := map[string]int{}
	for i, v := range c.Votes {
		field := fmt.Sprintf("votes[%d]", i)
		for _, e := range Problems(v.Validate()) {
			p.add(field+"."+e.Field, "%s", e.Message)
		}
		if v.ID != "" {
			if j, dup := ids[v.ID]; dup {
				p.add(field+".id", "%q is already the id of votes[%d]", v.ID, j)
			}
			ids[v.ID] = i
		}
		// A vote of the whole congress is decided on the congress's D; one
		// naming a contest on the contest's, which only the service knows.
		if v.Contest == "" && hasD {
			if err := v.CheckBase(d); err != nil {
				p.add(field+".present", "%s", Problems(err)[0].Message)
			}
		}
	}
	for _, e := range Problems(ValidateAppointments(c.Appointments)) { // meeting.go
		p.add(e.Field, "%s", e.Message)
	}
	return p.err()
}

// Denominator is the congress's own D, from its Electorate (members
// convened less the exclusions, as for a contest); false without one or
// when it leaves no D.
func (c *CongressRecord) Denominator() (int, bool) {
	if c.Electorate == nil {
		return 0, false
	}
	d := (&Contest{Electorate: *c.Electorate}).Denominator()
	return d, d >= 1
}

// Decide decides a vote on its D: the D of the contest it names (contestD
// says it, false when the contest is not known), else the congress's, else
// none (figures only, DESIGN §7.2).
func (c *CongressRecord) Decide(v ShowOfHands, contestD func(id string) (int, bool), policy PercentPolicy) HandsResult {
	var base *int
	if v.Contest != "" && contestD != nil {
		if d, ok := contestD(v.Contest); ok && d >= 1 {
			base = &d
		}
	}
	if base == nil && v.Contest == "" {
		if d, ok := c.Denominator(); ok {
			base = &d
		}
	}
	return v.Result(base, policy)
}

// NextVoteID gives the next recorded vote its id: "v<n>", n one more than
// LastVote and than the largest n among the votes' ids; LastVote becomes n.
func (c *CongressRecord) NextVoteID() string {
	n := c.LastVote
	for _, v := range c.Votes {
		var k int
		if _, err := fmt.Sscanf(v.ID, "v%d", &k); err == nil && fmt.Sprintf("v%d", k) == v.ID && k > n {
			n = k
		}
	}
	c.LastVote = n + 1
	return fmt.Sprintf("v%d", n+1)
}

// Head returns the head of the counting committee, if one is named.
func (c *CongressRecord) Head() (CommitteeMember, bool) {
	for _, m := range c.CountingCommittee {
		if m.Role == RoleHead {
			return m, true
		}
	}
	return CommitteeMember{}, false
}

// VotesFor returns the show-of-hands records that belong on a contest's
// minutes: those naming the contest (or an earlier round of it, given as
// ids), then those of the whole congress (the counting committee, other
// decisions), each in the order recorded.
//
// until, when not empty, is the RFC 3339 time the round was certified: its
// certified minutes print only the votes recorded up to then, so that a
// vote the congress takes later (on another round, a withdrawal from the
// next list) never alters minutes already signed. A vote without a
// recorded time (kept before votes had one) was recorded before any.
func (c *CongressRecord) VotesFor(until string, contests ...string) []ShowOfHands {
	var own, general []ShowOfHands
	for _, v := range c.Votes {
		switch {
		case until != "" && v.Recorded != "" && !RecordedBy(v.Recorded, until):
		case v.Contest == "":
			general = append(general, v)
		case contains(contests, v.Contest):
			own = append(own, v)
		}
	}
	return append(own, general...)
}

// RecordedBy says whether the RFC 3339 time recorded is not after until
// (the service writes both to the second, in UTC). A time that does not
// parse counts as not after: it was written before times were checked.
func RecordedBy(recorded, until string) bool {
	r, err1 := time.Parse(time.RFC3339, recorded)
	u, err2 := time.Parse(time.RFC3339, until)
	if err1 != nil || err2 != nil {
		return true
	}
	return !r.After(u)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// RomanOrdinal writes a congress ordinal as the minutes do: 12 → "XII".
func RomanOrdinal(n int) string {
	if n <= 0 {
		return ""
	}
	var b strings.Builder
	for _, r := range []struct {
		v int
		s string
	}{{100, "C"}, {90, "XC"}, {50, "L"}, {40, "XL"}, {10, "X"}, {9, "IX"}, {5, "V"}, {4, "IV"}, {1, "I"}} {
		for n >= r.v {
			b.WriteString(r.s)
			n -= r.v
		}
	}
	return b.String()
}

// RoundNotes are what the counting committee adds to a round's minutes
// beyond the log: the number present when the ballots were handed out, the
// paper count of ballots taken from the box, and complaints and how they
// were settled (190-QĐ/TW Điều 8.2). They may change until certification.
type RoundNotes struct {
	// Present is the number of delegates (or members) present at the vote.
	Present *int `json:"present,omitempty"`
	// Collected is the committee's paper count of ballots taken from the
	// box (số phiếu thu vào), announced before counting; the results screen
	// shows ballots keyed against it.
	Collected *int `json:"collected,omitempty"`
	// Complaints are complaints received and how they were resolved.
	Complaints string `json:"complaints,omitempty"`
}

// ParseRoundNotes decodes and validates round notes.
func ParseRoundNotes(data []byte) (RoundNotes, error) {
	var n RoundNotes
	if err := DecodeJSON(data, &n, "notes"); err != nil {
		return RoundNotes{}, err
	}
	n.Complaints = strings.TrimSpace(norm.NFC.String(n.Complaints))
	return n, n.Validate()
}

// Validate checks round notes.
func (n RoundNotes) Validate() error {
	var p problems
	if n.Present != nil && (*n.Present < 0 || *n.Present > maxPeople) {
		p.add("present", "must be between 0 and %d; got %d", maxPeople, *n.Present)
	}
	if n.Collected != nil && (*n.Collected < 0 || *n.Collected > maxPeople) {
		p.add("collected", "must be between 0 and %d; got %d", maxPeople, *n.Collected)
	}
	if l := utf8.RuneCountInString(n.Complaints); l > 5000 {
		p.add("complaints", "too long (%d characters, at most 5000)", l)
	}
	return p.err()
}
