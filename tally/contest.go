package tally

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits that keep one contest within what a congress can hold and what the
// compact ballot encoding (uint16 candidate indexes) can address.
const (
	MaxCandidates = 10000
	maxTitle      = 300
	maxName       = 200
)

// ContestKind is the office a contest fills (DESIGN §5.1).
type ContestKind string

const (
	KindCommittee           ContestKind = "committee"            // ban chấp hành / chi ủy
	KindStandingCommittee   ContestKind = "standing_committee"   // ban thường vụ
	KindSecretary           ContestKind = "secretary"            // bí thư
	KindDeputySecretary     ContestKind = "deputy_secretary"     // phó bí thư
	KindInspectionCommittee ContestKind = "inspection_committee" // ủy ban kiểm tra
	KindInspectionChair     ContestKind = "inspection_chair"     // chủ nhiệm ủy ban kiểm tra
	KindDelegates           ContestKind = "delegates"            // đại biểu dự đại hội cấp trên
	KindAlternates          ContestKind = "alternates"           // đại biểu dự khuyết; elected order = substitution order
	KindOther               ContestKind = "other"
)

var contestKinds = []ContestKind{KindCommittee, KindStandingCommittee, KindSecretary, KindDeputySecretary,
	KindInspectionCommittee, KindInspectionChair, KindInspectionViceChair, KindDelegates, KindAlternates, KindOther,
	KindOpinion, KindIntroduction}

// hasSurplusRule reports whether 190-QĐ/TW Điều 14 requires a list longer
// than the seats: only the committee and its standing committee.
func (k ContestKind) hasSurplusRule() bool {
	return k == KindCommittee || k == KindStandingCommittee
}

// BallotStyle is the paper the voters mark (domain-rules §3.4).
type BallotStyle string

const (
	// StyleStrike: a list with a surplus; the voter strikes whole names, the
	// names left are votes.
	StyleStrike BallotStyle = "strike"
	// StyleApprove: a list without surplus, with đồng ý / không đồng ý boxes.
	StyleApprove BallotStyle = "approve"
)

// Congress is the kind of body that votes, which fixes the denominator.
type Congress string

const (
	CongressMembers   Congress = "members"   // đại hội đảng viên (§5.2)
	CongressDelegates Congress = "delegates" // đại hội đại biểu (§5.3)
	CongressBody      Congress = "body"      // a committee meeting: D = members convened − suspended_or_detained (§5.4)
)

// Visibility says when the public results screen may show a contest.
type Visibility string

const (
	VisibilityCertified Visibility = "certified"
	VisibilityLive      Visibility = "live"
)

// Rounding is how a percentage is cut to its places.
type Rounding string

const (
	RoundHalfUp   Rounding = "half_up"
	RoundTruncate Rounding = "truncate"
)

// Gender feeds the women's share of the composition report.
type Gender string

const (
	GenderMale   Gender = "male"
	GenderFemale Gender = "female"
)

// Contest is one election on one ballot paper: one round of it (DESIGN §5.1).
// After ParseContest, Candidates are in ballot order and every index into
// them (desk numbers, Marking) refers to that order.
type Contest struct {
	ID          string            `json:"id"`
	Title       string            `json:"title"`
	Kind        ContestKind       `json:"kind"`
	Round       int               `json:"round"`
	Seats       int               `json:"seats"`
	Ballot      BallotStyle       `json:"ballot"`
	Electorate  Electorate        `json:"electorate"`
	Percent     PercentPolicy     `json:"percent"`
	Visibility  Visibility        `json:"visibility"`
	Composition CompositionPolicy `json:"composition"`
	Candidates  []Candidate       `json:"candidates"`
	// Entry is how ballots are keyed: "single" (the default, also when
	// empty), "double" or "triple" (verified entry, verified.go).
	Entry EntryMode `json:"entry,omitempty"`
	// From links a contest to the election whose result it draws on (issue
	// 12): a first meeting's contest to the body just elected (standing
	// committee from committee, secretary from standing committee, …) or a
	// list to the introduction ballot that formed it. Its candidates must be
	// among those elected (or introduced) there.
	From string `json:"from,omitempty"`
}

// Electorate is who may vote, from which the denominator D is derived.
type Electorate struct {
	Congress   Congress   `json:"congress"`
	Convened   int        `json:"convened"` // official members or delegates convened (được triệu tập)
	Exclusions Exclusions `json:"exclusions"`
	// Present is the number present at the vote; it is the base of an
	// opinion ballot (more than 30% of those present, 190 Điều 14.3), and
	// only of that kind.
	Present int `json:"present,omitempty"`
}

// Exclusions are the people subtracted from those convened to reach D.
// Each applies to one congress type only; a non-zero count under the other
// type is an error, never silently ignored.
type Exclusions struct {
	// Members' congress (190-QĐ/TW Điều 30.2).
	TemporaryElsewhere  int `json:"temporary_elsewhere"`   // sinh hoạt tạm thời ở đảng bộ khác
	ExemptAbsent        int `json:"exempt_absent"`         // miễn sinh hoạt, and absent
	SuspendedOrDetained int `json:"suspended_or_detained"` // đình chỉ sinh hoạt, khởi tố, tạm giam
	AbsentWithLeave     int `json:"absent_with_leave"`     // vắng suốt đại hội, lý do được chấp nhận
	// Delegates' congress (244-QĐ/TW Điều 32.3).
	CommitteeAbsent           int `json:"committee_absent"`            // cấp ủy viên triệu tập vắng suốt đại hội
	DelegatesAbsentUnreplaced int `json:"delegates_absent_unreplaced"` // đại biểu vắng, không có dự khuyết thay
}

// PercentPolicy is how percentages are rounded and shown.
type PercentPolicy struct {
	Places   int      `json:"places"`
	Rounding Rounding `json:"rounding"`
}

// CompositionPolicy sets how the composition of those elected is reported.
type CompositionPolicy struct {
	// ReferenceDate (YYYY-MM-DD) is the day ages are taken at; without it the
	// young and age-band figures are omitted.
	ReferenceDate string `json:"reference_date,omitempty"`
	YoungUnder    int    `json:"young_under"` // cán bộ trẻ: age < YoungUnder
	AgeBands      []int  `json:"age_bands"`   // [a, b]: < a, a..b inclusive, > b (cơ cấu 3 độ tuổi)
}

// Candidate is a name on the list. The attributes after Name are optional
// and only feed the composition report.
type Candidate struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Gender         Gender `json:"gender,omitempty"`
	BirthDate      string `json:"birth_date,omitempty"` // YYYY-MM-DD
	EthnicMinority *bool  `json:"ethnic_minority,omitempty"`
	Incumbent      *bool  `json:"incumbent,omitempty"`
	// Nominated is where the name came from; empty means the convening
	// committee's list.
	Nominated Nomination `json:"nominated,omitempty"`
}

// Defaults of DESIGN §5.1 for fields a contest file may leave out.
func defaultContest() Contest {
	return Contest{
		Round:       1,
		Percent:     PercentPolicy{Places: 2, Rounding: RoundHalfUp},
		Visibility:  VisibilityCertified,
		Composition: CompositionPolicy{YoungUnder: 40, AgeBands: []int{40, 50}},
	}
}

// ParseContest decodes a contest definition, fills the defaults, normalizes
// it (NFC text, ballot order) and validates it. Unknown fields are errors: a
// misspelt "seat" must not silently fall back to a default.
func ParseContest(data []byte) (*Contest, error) {
	c := defaultContest()
	if err := DecodeJSON(data, &c, "contest"); err != nil {
		return nil, err
	}
	c.Normalize()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	// Sorted only once valid, so that the fields of errors (candidates[3])
	// count in the order the file was written.
	SortBallotOrder(c.Candidates)
	return &c, nil
}

// DecodeJSON decodes one JSON object (what it is: "contest", "ballot") into
// v, refusing unknown fields and anything but white space after it; errors
// are *Error naming the field.
func DecodeJSON(data []byte, v any, what string) error {
	// encoding/json turns invalid UTF-8 into U+FFFD without a word: two
	// ballot ids that differ only in their invalid bytes would be one.
	if !utf8.Valid(data) {
		off := invalidUTF8At(data)
		return &Error{Kind: Invalid, Field: jsonPathAt(data, int64(off)), Offset: int64(off),
			Message: fmt.Sprintf("not UTF-8 text: byte %d (0x%02x) is not part of a UTF-8 character", off, data[off])}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if off := dec.InputOffset(); len(bytes.TrimSpace(data[off:])) > 0 {
		return &Error{Kind: Invalid, Offset: off, Message: fmt.Sprintf("unexpected data after the %s object", what)}
	}
	return nil
}

// jsonError turns an encoding/json error into an *Error naming the field.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "(value)"
		}
		return &Error{Kind: Invalid, Field: jsonPath(field), Offset: typeErr.Offset,
			Message: fmt.Sprintf("expected %s, got JSON %s", typeName(typeErr.Type), typeErr.Value)}
	case errors.As(err, &syntaxErr):
		return &Error{Kind: Invalid, Offset: syntaxErr.Offset,
			Message: fmt.Sprintf("malformed JSON at byte %d: %s", syntaxErr.Offset, strings.TrimPrefix(syntaxErr.Error(), "json: "))}
	case errors.Is(err, io.EOF):
		return &Error{Kind: Invalid, Message: "empty input: expected a JSON object"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Kind: Invalid, Message: "the JSON ends too early (truncated?)"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &Error{Kind: Invalid, Field: name, Message: "unknown field"}
	default:
		return &Error{Kind: Invalid, Message: strings.TrimPrefix(err.Error(), "json: ")}
	}
}

// jsonPath rewrites encoding/json's "candidates.2.name" as "candidates[2].name".
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	var b strings.Builder
	for i, p := range parts {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			b.WriteString("[" + p + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// typeName says in words what JSON a Go type takes.
func typeName(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		return "a string" // enumerations: Mark, Reason
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

// Normalize puts text into NFC with single spaces and trims ids. It never
// changes the meaning of a contest; Validate judges what is left.
func (c *Contest) Normalize() {
	c.ID = strings.TrimSpace(c.ID)
	c.Title = CleanText(c.Title)
	for i := range c.Candidates {
		cand := &c.Candidates[i]
		cand.ID = strings.TrimSpace(cand.ID)
		cand.Name = CleanText(cand.Name)
		cand.BirthDate = strings.TrimSpace(cand.BirthDate)
	}
}

// CleanText is NFC with surrounding space trimmed and inner runs of
// whitespace collapsed to one space: "Nguyễn  Văn An" and an NFD "Nguyễn"
// must be the same name on the minutes.
func CleanText(s string) string {
	return strings.Join(strings.Fields(norm.NFC.String(s)), " ")
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate checks every rule of a contest definition and returns all the
// problems found, joined, each an *Error naming its field.
func (c *Contest) Validate() error {
	var p problems
	if !idPattern.MatchString(c.ID) {
		p.add("id", "must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit; got %q", c.ID)
	}
	switch n := utf8.RuneCountInString(c.Title); {
	case n == 0:
		p.add("title", "required")
	case n > maxTitle:
		p.add("title", "too long (%d characters, at most %d)", n, maxTitle)
	}
	if !oneOf(c.Kind, contestKinds...) {
		p.add("kind", "must be one of %s; got %q", list(contestKinds), c.Kind)
	}
	if c.Round < 1 {
		p.add("round", "must be 1 or more; got %d", c.Round)
	}
	if c.Seats < 1 || c.Seats > MaxCandidates {
		p.add("seats", "must be between 1 and %d; got %d", MaxCandidates, c.Seats)
	}
	c.validateElectorate(&p)
	if c.Percent.Places < 0 || c.Percent.Places > 4 {
		p.add("percent.places", "must be between 0 and 4; got %d", c.Percent.Places)
	}
	if !oneOf(c.Percent.Rounding, RoundHalfUp, RoundTruncate) {
		p.add("percent.rounding", `must be "half_up" or "truncate"; got %q`, c.Percent.Rounding)
	}
	if !oneOf(c.Visibility, VisibilityCertified, VisibilityLive) {
		p.add("visibility", `must be "certified" or "live"; got %q`, c.Visibility)
	}
	if c.Entry != "" && !oneOf(c.Entry, EntrySingle, EntryDouble, EntryTriple) {
		p.add("entry", `must be "single", "double" or "triple"; got %q`, c.Entry)
	}
	ref, hasRef := c.validateComposition(&p)
	c.validateCandidates(&p, ref, hasRef)
	c.validateList(&p)
	c.validateBallotKind(&p)
	return p.err()
}

func (c *Contest) validateElectorate(p *problems) {
	e := c.Electorate
	ex := e.Exclusions
	type exclusion struct {
		name  string
		count int
		for_  []Congress
	}
	members, delegates := []Congress{CongressMembers}, []Congress{CongressDelegates}
	all := []exclusion{
		{"temporary_elsewhere", ex.TemporaryElsewhere, members},
		{"exempt_absent", ex.ExemptAbsent, members},
		// A committee meeting's D is its incumbent members (Quy định
		// 24-QĐ/TW §9.3.3); one suspended or detained cannot attend and is
		// not counted (audit A4, [U]: the documented default).
		{"suspended_or_detained", ex.SuspendedOrDetained, []Congress{CongressMembers, CongressBody}},
		{"absent_with_leave", ex.AbsentWithLeave, members},
		{"committee_absent", ex.CommitteeAbsent, delegates},
		{"delegates_absent_unreplaced", ex.DelegatesAbsentUnreplaced, delegates},
	}
	known := oneOf(e.Congress, CongressMembers, CongressDelegates, CongressBody)
	if !known {
		p.add("electorate.congress", `must be "members", "delegates" or "body"; got %q`, e.Congress)
	}
	if e.Convened < 1 {
		p.add("electorate.convened", "must be 1 or more; got %d", e.Convened)
	}
	sum := 0
	for _, x := range all {
		field := "electorate.exclusions." + x.name
		switch {
		case x.count < 0:
			p.add(field, "must not be negative; got %d", x.count)
		case x.count > 0 && known && !oneOf(e.Congress, x.for_...):
			p.add(field, "does not apply to a %q congress (it is an exclusion of a %s congress); got %d", e.Congress, list(x.for_), x.count)
		default:
			sum = addCapped(sum, x.count)
		}
	}
	if known && e.Convened >= 1 && sum >= e.Convened {
		p.add("electorate.exclusions", "exclude %d of %d convened, leaving no denominator", sum, e.Convened)
	}
}

// addCapped adds two non-negative counts, stopping at math.MaxInt instead
// of wrapping around: exclusions of MaxInt each must not add up to a small
// number that passes validation.
func addCapped(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// Denominator is D, the number a candidate's votes must exceed half of: not
// the valid ballots, not those present, but those convened less the
// exclusions of the congress type (190-QĐ/TW Điều 30; domain-rules §5.2–5.4).
//
// An opinion ballot is the exception: its base is those present
// (Electorate.Present; 190 Điều 14.3, "tổng số đại biểu … dự đại hội").
func (c *Contest) Denominator() int {
	e := c.Electorate
	ex := e.Exclusions
	if c.Kind == KindOpinion {
		return e.Present
	}
	switch e.Congress {
	case CongressMembers:
		return e.Convened - ex.TemporaryElsewhere - ex.ExemptAbsent - ex.SuspendedOrDetained - ex.AbsentWithLeave
	case CongressDelegates:
		return e.Convened - ex.CommitteeAbsent - ex.DelegatesAbsentUnreplaced
	default:
		return e.Convened - ex.SuspendedOrDetained
	}
}

// Threshold is the least vote count v with 2v > d: strictly more than half.
func Threshold(d int) int { return d/2 + 1 }

// OverHalf reports 2·votes > d, decided on integers and never on a rounded
// percentage (D = 20 001: 10 001 votes show as "50,00%" yet are elected).
func OverHalf(votes, d int) bool { return votes > d/2 } // 2·votes > d, without overflow

// SurplusLimit is the most names beyond the seats that a committee list may
// carry: not more than 30% of the seats, rounded down because "không quá 30%"
// forbids exceeding it; bodies of 3–5 seats allow exactly 1 (Điều 14).
func SurplusLimit(seats int) int {
	if seats >= 3 && seats <= 5 {
		return 1
	}
	return seats * 3 / 10
}

func (c *Contest) validateComposition(p *problems) (ref time.Time, ok bool) {
	cp := c.Composition
	if cp.ReferenceDate != "" {
		t, err := time.Parse(time.DateOnly, cp.ReferenceDate)
		if err != nil {
			p.add("composition.reference_date", "must be a date YYYY-MM-DD; got %q", cp.ReferenceDate)
		} else {
			ref, ok = t, true
		}
	}
	if cp.YoungUnder < 1 || cp.YoungUnder > 150 {
		p.add("composition.young_under", "must be an age between 1 and 150; got %d", cp.YoungUnder)
	}
	if len(cp.AgeBands) != 2 || cp.AgeBands[0] < 1 || cp.AgeBands[0] >= cp.AgeBands[1] || cp.AgeBands[1] > 150 {
		p.add("composition.age_bands", "must be two increasing ages, such as [40, 50]; got %v", cp.AgeBands)
	}
	return ref, ok
}

func (c *Contest) validateCandidates(p *problems, ref time.Time, hasRef bool) {
	n := len(c.Candidates)
	if n == 0 {
		p.add("candidates", "at least one candidate is required")
		return
	}
	if n > MaxCandidates {
		p.add("candidates", "at most %d candidates; got %d", MaxCandidates, n)
		return
	}
	seen := make(map[string]int, n)
	for i, cand := range c.Candidates {
		field := fmt.Sprintf("candidates[%d]", i)
		if !idPattern.MatchString(cand.ID) {
			p.add(field+".id", "must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit; got %q", cand.ID)
		} else if j, dup := seen[cand.ID]; dup {
			p.add(field+".id", "%q is also the id of %q; ids must be unique", cand.ID, c.Candidates[j].Name)
		} else {
			seen[cand.ID] = i
		}
		switch l := utf8.RuneCountInString(cand.Name); {
		case l == 0:
			p.add(field+".name", "required")
		case l > maxName:
			p.add(field+".name", "too long (%d characters, at most %d)", l, maxName)
		}
		if cand.Gender != "" && !oneOf(cand.Gender, GenderMale, GenderFemale) {
			p.add(field+".gender", `must be "male" or "female" (or left out); got %q`, cand.Gender)
		}
		if cand.Nominated != "" && !oneOf(cand.Nominated, NominatedCommittee, NominatedFloor, NominatedSelf) {
			p.add(field+".nominated", `must be "committee", "floor" or "self" (or left out); got %q`, cand.Nominated)
		}
		if cand.BirthDate != "" {
			b, err := time.Parse(time.DateOnly, cand.BirthDate)
			switch {
			case err != nil:
				p.add(field+".birth_date", "must be a date YYYY-MM-DD; got %q", cand.BirthDate)
			case hasRef && b.After(ref):
				p.add(field+".birth_date", "%s is after the composition reference date %s", cand.BirthDate, c.Composition.ReferenceDate)
			}
		}
	}
}

// validateList checks the ballot style against the list length and, for a
// committee's first round, the surplus of Điều 14. Later rounds carry the
// names left over (or tied), so no surplus rule binds them.
func (c *Contest) validateList(p *problems) {
	n, seats := len(c.Candidates), c.Seats
	if n == 0 || seats < 1 {
		return
	}
	switch c.Ballot {
	case StyleStrike:
		if n <= seats {
			p.add("ballot", "a strike ballot needs more candidates than seats (a list with a surplus); %d candidates for %d seats use \"approve\"", n, seats)
		}
	case StyleApprove:
		// An opinion ballot's seats are its nominees (validateBallotKind).
		if n > seats && c.Kind != KindOpinion {
			p.add("ballot", "an approve ballot (đồng ý / không đồng ý) is for a list without surplus; %d candidates for %d seats use \"strike\"", n, seats)
		}
	case StyleName:
		// Checked with the kind (validateBallotKind): only an
		// introduction ballot names people.
	default:
		p.add("ballot", `must be "strike", "approve" or "name"; got %q`, c.Ballot)
	}
	if c.Kind.hasSurplusRule() && c.Round == 1 {
		surplus, limit := n-seats, SurplusLimit(seats)
		switch {
		case surplus <= 0:
			p.add("candidates", "a %s list must have more candidates than seats (Điều 14: số dư); got %d for %d seats", c.Kind, n, seats)
		case surplus > limit && seats >= 3 && seats <= 5:
			p.add("candidates", "a body of 3–5 seats allows a surplus of exactly 1; got %d candidates for %d seats (surplus %d)", n, seats, surplus)
		case surplus > limit:
			p.add("candidates", "surplus %d exceeds the limit of %d (30%% of %d seats, rounded down); at most %d candidates", surplus, limit, seats, seats+limit)
		}
	}
}

// Index maps candidate ids to their index in ballot order.
func (c *Contest) Index() map[string]int {
	m := make(map[string]int, len(c.Candidates))
	for i, cand := range c.Candidates {
		m[cand.ID] = i
	}
	return m
}

func oneOf[T comparable](v T, allowed ...T) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

func list[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(s, ", ")
}

// invalidUTF8At is the offset of the first byte of data that is not part
// of a valid UTF-8 character (len(data) if there is none).
func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// Bounds on jsonPathAt's walk, whatever the document (docs/reliability.md,
// "Security", finding 4: a 4 MB body of "[" and one invalid byte cost 400
// MB and a 25 MB path). It names a member at most maxPathDepth levels deep
// (a deeper one as its ancestor there, with "…"), stops at
// maxPathNesting levels (the most encoding/json decodes), quotes at most
// maxPathKey bytes of a key, and reads at most maxPathTokens tokens (then
// names nothing).
const (
	maxPathDepth   = 32
	maxPathNesting = 10000
	maxPathKey     = 64
	maxPathTokens  = 1 << 20
)

// jsonPathAt names the member of the JSON document whose token holds byte
// off ("candidates[2].name"), or "" when off is outside any member.
func jsonPathAt(data []byte, off int64) string {
	type frame struct {
		array   bool
		key     string
		index   int
		wantKey bool
	}
	var st []frame
	deeper := 0 // levels below the last frame kept
	path := func() string {
		var b strings.Builder
		for i, f := range st {
			switch {
			case f.array && f.index >= 0:
				fmt.Fprintf(&b, "[%d]", f.index)
			case !f.array && f.key != "":
				if i > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			}
		}
		if deeper > 0 {
			b.WriteString("…")
		}
		return b.String()
	}
	// startValue notes that a value begins in the innermost container.
	startValue := func() {
		if n := len(st); n > 0 && st[n-1].array {
			st[n-1].index++
		}
	}
	endValue := func() {
		if n := len(st); n > 0 && !st[n-1].array {
			st[n-1].wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for range maxPathTokens {
		tok, err := dec.Token()
		if err != nil {
			return path()
		}
		end := dec.InputOffset()
		if deeper > 0 {
			// Below the frames kept: only the nesting is followed.
			switch tok {
			case json.Delim('{'), json.Delim('['):
				if deeper++; len(st)+deeper > maxPathNesting {
					return path()
				}
			case json.Delim('}'), json.Delim(']'):
				if deeper--; deeper == 0 {
					endValue()
				}
			default:
				if end > off {
					return path()
				}
			}
			continue
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				startValue()
				if len(st) == maxPathDepth {
					deeper = 1
					continue
				}
				st = append(st, frame{array: d == '[', index: -1, wantKey: d == '{'})
			default:
				st = st[:len(st)-1]
				endValue()
			}
			continue
		}
		if n := len(st); n > 0 && !st[n-1].array && st[n-1].wantKey {
			st[n-1].key, st[n-1].wantKey = pathKey(fmt.Sprint(tok)), false
			if end > off {
				return path()
			}
			continue
		}
		startValue()
		if end > off {
			return path()
		}
		endValue()
	}
	return ""
}

// pathKey is a key as jsonPathAt writes it: at most maxPathKey bytes, cut
// on a character boundary.
func pathKey(k string) string {
	if len(k) <= maxPathKey {
		return k
	}
	cut := maxPathKey
	for cut > 0 && !utf8.RuneStart(k[cut]) {
		cut--
	}
	return k[:cut] + "…"
}
