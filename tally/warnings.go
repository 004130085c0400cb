package tally

import (
	"fmt"
	"strings"
)

// Warnings (cảnh báo) are figures that cannot be right, or facts a
// secretary must check, that the rules do not let the engine refuse: a
// warning never blocks a step, it names what to check (issue 12,
// deliverable 6). The API answers them as {"code", "message"} with an
// English message; pages print them in Vietnamese from Code and Args.
type Warning struct {
	Code    WarningCode `json:"code"`
	Message string      `json:"message"`
	// Args are the names and figures (counts written the Vietnamese way,
	// FormatCount) the message is made of, in the order the translated text
	// (web/i18n_warnings.go, "warning.<code>", one %s each) takes them: a
	// page's script words a warning of the live check in its own language.
	Args []string `json:"args,omitempty"`
}

// WarningCode names a warning; the codes cross the wire and never change.
type WarningCode string

const (
	// WarnValidOverD: more valid ballots than D. Every voter is within D, so
	// D or its exclusions are wrong (or ballots were not issued by the
	// committee); shares of D over 100% follow (spec §6.5).
	WarnValidOverD WarningCode = "valid_over_d"
	// WarnCollectedOverD: more ballots collected than D (HD 01-HD/TW 2016
	// §13.2: members attending elsewhere who come and vote count in D).
	WarnCollectedOverD WarningCode = "collected_over_d"
	// WarnVotesOverD: a candidate has more votes than D: a share over 100%.
	WarnVotesOverD WarningCode = "votes_over_d"
	// WarnDuplicateName: two candidates bear the same full name; the ballot
	// paper prints their birth years to tell them apart.
	WarnDuplicateName WarningCode = "duplicate_name"
	// WarnCountingMemberOnList: a member of the counting committee is on
	// the round's list, which 190-QĐ/TW Điều 8.1 forbids ("không có tên
	// trong danh sách bầu cử").
	WarnCountingMemberOnList WarningCode = "counting_member_on_list"
)

func warn(code WarningCode, args []string, format string, a ...any) Warning {
	return Warning{Code: code, Message: fmt.Sprintf(format, a...), Args: args}
}

// sameName is how two full names are compared: the text is already NFC
// with single spaces (CleanText); case does not tell two people apart.
func sameName(a, b string) bool { return strings.EqualFold(CleanText(a), CleanText(b)) }

// DuplicateNames lists the groups of candidate indexes that share one full
// name, each in list order, in the order the first of each appears.
func (c *Contest) DuplicateNames() [][]int {
	var groups [][]int
	placed := make([]bool, len(c.Candidates))
	for i := range c.Candidates {
		if placed[i] {
			continue
		}
		g := []int{i}
		for j := i + 1; j < len(c.Candidates); j++ {
			if !placed[j] && sameName(c.Candidates[i].Name, c.Candidates[j].Name) {
				g, placed[j] = append(g, j), true
			}
		}
		if len(g) > 1 {
			groups = append(groups, g)
		}
	}
	return groups
}

// ListWarnings are the warnings of a round's definition: candidates of the
// same full name, and members of the congress's counting committee on the
// list (committee may be nil: a round filed under no congress).
func (c *Contest) ListWarnings(committee []CommitteeMember) []Warning {
	out := []Warning{}
	for _, g := range c.DuplicateNames() {
		ids := make([]string, len(g))
		for k, i := range g {
			ids[k] = c.Candidates[i].ID
		}
		name := c.Candidates[g[0]].Name
		out = append(out, warn(WarnDuplicateName, []string{FormatCount(len(g)), name},
			"%d candidates are named %q (%s): check it is not one person entered twice; the ballot paper prints their birth years",
			len(g), name, strings.Join(ids, ", ")))
	}
	for _, m := range committee {
		for _, cand := range c.Candidates {
			if sameName(m.Name, cand.Name) {
				out = append(out, warn(WarnCountingMemberOnList, []string{cand.Name},
					"%s is on the counting committee and on this list (%s): a member of the counting committee may not be a candidate (190-QĐ/TW Điều 8.1)",
					cand.Name, cand.ID))
				break
			}
		}
	}
	return out
}

// ResultWarnings are the warnings of a round's figures against D: ballots
// collected (Ballots.Total) or valid over D, votes over D.
func ResultWarnings(r *Result) []Warning {
	out := []Warning{}
	d := r.Denominator
	if d < 1 {
		return out
	}
	if r.Ballots.Total > d {
		out = append(out, warn(WarnCollectedOverD, []string{FormatCount(r.Ballots.Total), FormatCount(d)},
			"%d ballots collected for D = %d: check D and its exclusions (members attending temporarily elsewhere who came count in D) and that every ballot was issued by the committee",
			r.Ballots.Total, d))
	}
	if r.Ballots.Valid > d {
		out = append(out, warn(WarnValidOverD, []string{FormatCount(r.Ballots.Valid), FormatCount(d)},
			"%d valid ballots for D = %d: more voters than D cannot be; check D and its exclusions",
			r.Ballots.Valid, d))
	}
	var over []string
	for _, cr := range r.Candidates {
		if cr.Votes > d {
			over = append(over, cr.Name)
		}
	}
	if len(over) > 0 {
		names := strings.Join(over, ", ")
		out = append(out, warn(WarnVotesOverD, []string{names, FormatCount(d)},
			"votes above D = %d (shares over 100%%) for %s: check D and its exclusions", d, names))
	}
	return out
}

// RoundWarnings are every warning of a round: its list against the
// congress's counting committee (nil without a congress), then its
// figures (r may be nil: nothing counted yet).
func RoundWarnings(c *Contest, committee []CommitteeMember, r *Result) []Warning {
	out := c.ListWarnings(committee)
	if r != nil {
		out = append(out, ResultWarnings(r)...)
	}
	return out
}
