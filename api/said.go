package api

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// A refusal as a person reads it. The API's error keeps its code, its
// field (a JSON path) and its English message for scripts; a page says it
// in its own language, naming the field by the label the person sees, and
// never shows the path, the code or the engine's English. The sentence
// comes from, in order:
//   - the refusal's own key and arguments (refused), where the handler
//     knows more than the field (the numbers of a close, a contest's state);
//   - a sentence for the kind and the field (refusalKeys), or for the
//     engine's setup checks a secretary meets most (refusalPatterns);
//   - the kind's sentence with the field's label (field.*, setup.js.field.*),
//     or the kind's sentence alone when the field has no label.
// Every key named here exists in both languages (TestRefusalKeysExist).

// fieldLabelKeys name the fields the pages' forms show, by their JSON path
// with indexes dropped ("candidates[2].name" → "candidates.name"). A field
// not listed is looked up by its shorter prefixes ("electorate.exclusions.x"
// → "electorate.exclusions" → "electorate").
var fieldLabelKeys = map[string]string{
	"id":                         "field.id",
	"round":                      "setup.js.field.round",
	"state":                      "setup.js.field.state",
	"reason":                     "setup.js.field.reason",
	"candidate":                  "setup.js.field.candidate",
	"candidates":                 "setup.js.field.candidates",
	"candidates.name":            "setup.js.field.candidate.name",
	"candidates.gender":          "setup.js.field.candidate.gender",
	"candidates.birth_date":      "setup.js.field.candidate.birth_date",
	"candidates.id":              "setup.js.field.candidate.id",
	"vote":                       "setup.js.field.vote",
	"opinion":                    "setup.js.field.opinion",
	"title":                      "setup.contest.title_field",
	"kind":                       "setup.contest.kind",
	"seats":                      "setup.contest.seats",
	"ballot":                     "setup.contest.ballot",
	"visibility":                 "setup.contest.visibility",
	"entry":                      "setup.contest.entry",
	"from":                       "field.from",
	"electorate":                 "setup.electorate.title",
	"electorate.congress":        "setup.electorate.congress",
	"electorate.convened":        "setup.electorate.convened",
	"electorate.present":         "setup.electorate.present",
	"percent":                    "setup.percent.title",
	"composition":                "setup.composition.title",
	"composition.reference_date": "setup.composition.reference_date",
	"issued":                     "setup.round.issued",
	"organization":               "setup.congress.organization",
	"name":                       "setup.congress.name",
	"superior":                   "setup.congress.superior",
	"term":                       "setup.congress.term",
	"place":                      "setup.congress.place",
	"date":                       "setup.congress.date",
	"ordinal":                    "setup.congress.ordinal",
	"counting_committee":         "setup.committee.title",
	"counting_committee.name":    "setup.committee.name",
	"counting_committee.role":    "setup.committee.role",
	"votes":                      "setup.hands.title",
	"votes.contest":              "setup.hands.contest",
	"votes.subject":              "setup.hands.subject",
	"file":                       "field.file",
	"keyings":                    "field.keyings",
	"position":                   "field.position",
	"stack":                      "desk.v_stack",
	"declared":                   "scans.declared",
	"image":                      "scans.field.image",
	"dismiss":                    "scans.dismiss_reason",
	"scan_images":                "scans.field.scan_images",
	"note":                       "field.note",
	"username":                   "login.username",
	"password":                   "login.password",
	"token":                      "login.token",
}

// refusalKeys are the sentences of a kind and a field (indexes dropped)
// that say more than "check this field".
var refusalKeys = map[string]string{
	"conflict id":    "refusal.conflict.id",
	"conflict state": "refusal.conflict.state",
}

// refusalPatterns are the engine's checks of a contest a secretary meets
// at setup, said in full: the kind, the field (indexes dropped) and how
// the engine's message starts (TestSayEngineChecks runs the engine to keep
// the prefixes true).
var refusalPatterns = []struct {
	kind          tally.Kind
	field, prefix string
	key           string
}{
	{tally.Invalid, "ballot", "a strike ballot needs more candidates", "refusal.ballot.strike"},
	{tally.Invalid, "ballot", "an approve ballot", "refusal.ballot.approve"},
	{tally.Invalid, "candidates", "at least one candidate", "refusal.candidates.none"},
	{tally.Invalid, "candidates", "a body of 3–5 seats", "refusal.candidates.surplus_one"},
	{tally.Invalid, "candidates", "surplus ", "refusal.candidates.surplus_limit"},
	{tally.Invalid, "candidates", "a ", "refusal.candidates.no_surplus"},
	{tally.Invalid, "electorate.exclusions", "exclude ", "refusal.exclusions.all"},
}

var (
	indexes = regexp.MustCompile(`\[(\d+)\]`)
	// An imported file's cell, as the import names it: "row 3, Ngày sinh".
	cell = regexp.MustCompile(`^row (\d+)(?:, (.+))?$`)
)

// labelOf is the label of field in l, with the row of the first index
// ("Họ và tên (dòng 3)"), or "" when no label names it.
func labelOf(l web.Lang, field string) string {
	if m := cell.FindStringSubmatch(field); m != nil {
		n, _ := strconv.Atoi(m[1])
		if m[2] == "" {
			return l.T("refusal.file_row", n)
		}
		return l.T("refusal.file_cell", n, m[2])
	}
	path := indexes.ReplaceAllString(field, "")
	for p := path; p != ""; {
		if k, ok := fieldLabelKeys[p]; ok {
			label := l.T(k)
			if m := indexes.FindStringSubmatch(field); m != nil {
				n, _ := strconv.Atoi(m[1])
				label = l.T("refusal.row", label, n+1)
			}
			return label
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return ""
}

// sayProblem is one problem of a refusal as a person reads it.
func sayProblem(l web.Lang, p *tally.Error) string {
	path := indexes.ReplaceAllString(p.Field, "")
	if k, ok := refusalKeys[string(p.Kind)+" "+path]; ok {
		return l.T(k)
	}
	for _, r := range refusalPatterns {
		if r.kind == p.Kind && r.field == path && strings.HasPrefix(p.Message, r.prefix) {
			return l.T(r.key)
		}
	}
	kind := p.Kind
	if _, ok := statusOf[kind]; !ok {
		kind = tally.Internal
	}
	label := labelOf(l, p.Field)
	if label == "" {
		return l.T("refusal." + string(kind))
	}
	if kind == tally.Invalid && strings.HasPrefix(p.Message, "required") {
		return l.T("refusal.required", label)
	}
	return l.T("refusal.field."+string(kind), label)
}

// leaves are the errors joined in err, in the order of tally.Problems,
// each with its refusal wrapper (if any) kept.
func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

// sayLeaf is one leaf error as a person reads it.
func sayLeaf(l web.Lang, err error) string {
	if rf := (*refusal)(nil); errors.As(err, &rf) {
		return l.T(rf.key, rf.args...)
	}
	return sayProblem(l, tally.Problems(err)[0])
}

// say is err as a person reads it, one sentence a problem.
func say(l web.Lang, err error) string {
	ls := leaves(err)
	if tally.ErrorKind(err) != tally.Invalid {
		// One error with its cause chained ("%w: %w"): one sentence.
		ls = ls[:1]
	}
	var out []string
	for _, e := range ls {
		out = append(out, sayLeaf(l, e))
	}
	return strings.Join(out, "\n")
}

// sayChecks fills the words said for people into a contest check's
// problems, for a signed-in page (as errorHandler does for a refusal).
func (s *Server) sayChecks(c *fiber.Ctx, ps []problem) {
	if p := principalOf(c); p == nil || !p.session {
		return
	}
	l := s.lang(c)
	for i := range ps {
		ps[i].Said = sayProblem(l, &tally.Error{Kind: tally.Invalid, Field: ps[i].Field, Message: ps[i].Message})
	}
}
