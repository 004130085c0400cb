package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// The setup of a congress and its rounds, for the secretary: the live
// checks of a contest definition, and the pages that file congresses,
// contests and desk tokens. Every figure shown comes from the engine
// (package tally); the pages' scripts only preview and call the JSON API.

// checkResult is the answer of POST /api/v1/contests/check.
type checkResult struct {
	Valid bool `json:"valid"`
	// Denominator is D, null while the electorate itself has problems (a
	// D computed from a bad electorate would mislead).
	Denominator *int `json:"denominator"`
	// Formula is how D was reached, e.g. "25 − 2 − 1 − 0 − 1 = 21".
	Formula    string `json:"formula,omitempty"`
	Threshold  *int   `json:"threshold"`
	Seats      int    `json:"seats"`
	Candidates int    `json:"candidates"`
	// Surplus is candidates − seats (null without a valid seat count).
	Surplus *int `json:"surplus"`
	// SurplusLimit binds only the first round of a committee or standing
	// committee (Điều 14); null for every other list.
	SurplusLimit *int      `json:"surplus_limit"`
	Problems     []problem `json:"problems"`
	// From is the election a linked contest draws on (Contest.From).
	From *fromCheck `json:"from,omitempty"`
	// Warnings name what to check without refusing (api/warnings.go,
	// api/meeting.go).
	Warnings []tally.Warning `json:"warnings"`
}

// fromCheck is a linked contest's election as the check sees it.
type fromCheck struct {
	Contest string            `json:"contest"`
	Kind    tally.ContestKind `json:"kind"`
	// Elected is how many its rounds elected (introduced); D's default at
	// a body meeting. ConvenedDefault: the check filled convened with it.
	Elected         int  `json:"elected"`
	ConvenedDefault bool `json:"convened_default"`
}

// checkContest: POST /api/v1/contests/check with a contest definition →
// the engine's figures and every problem, without storing anything. A body
// that is not a contest definition at all (bad JSON, an unknown field, a
// wrong type) is a 400 naming the field, as on create.
func (s *Server) checkContest(c *fiber.Ctx) error {
	body, err := requestBody(c)
	if err != nil {
		return err
	}
	contest, err := tally.DraftContest(body)
	if err != nil {
		return err
	}
	// ?congress= as on create: the list is checked against that
	// congress's counting committee, and a link (from) within it.
	ctx, cancel := storeCtx()
	defer cancel()
	congress := c.Query("congress")
	if congress != "" {
		if _, err := s.congress(ctx, congress); err != nil {
			return err
		}
	}
	res, err := s.checkLinked(ctx, &tally.Record{Contest: contest, Congress: congress})
	if err != nil {
		return err
	}
	// What create refuses, the check says (a draft's own setup page shows
	// checkOf of a round that /next may have made, which is no problem).
	if e := firstRound(contest); e != nil {
		res.Problems = append(res.Problems, problem{Field: e.Field, Message: e.Message})
		res.Valid = false
	}
	s.sayChecks(c, res.Problems)
	return c.JSON(res)
}

// checkLinked is checkOf with the contest's link (from): the linked
// election's figures, D's default filled as create fills it, a refused link
// and the candidates not among those elected as problems, and the
// warnings. Only the store's own failures are errors.
func (s *Server) checkLinked(ctx context.Context, rec *tally.Record) (checkResult, error) {
	contest := rec.Contest
	link, filled, candidates, err := s.applyFrom(ctx, rec)
	extra := tally.Problems(candidates)
	switch tally.ErrorKind(err) {
	case tally.Invalid, tally.Conflict: // the link refused: a problem of the definition
		extra = tally.Problems(err)
	default:
		if err != nil {
			return checkResult{}, err
		}
	}
	committee, err := s.countingCommittee(ctx, rec.Congress)
	if err != nil {
		return checkResult{}, err
	}
	res := checkOf(contest, committee)
	for _, p := range extra {
		res.Problems = append(res.Problems, problem{Field: p.Field, Message: p.Message})
	}
	res.Valid = len(res.Problems) == 0
	if link != nil {
		res.From = &fromCheck{Contest: link.Round.Contest.ID, Kind: link.Round.Contest.Kind, Elected: len(link.Elected), ConvenedDefault: filled}
	}
	if link != nil || contest.From == "" { // a refused link is a problem already
		res.Warnings = append(res.Warnings, fromWarnings(contest, link)...)
	}
	return res, nil
}

func checkOf(contest *tally.Contest, committee []tally.CommitteeMember) checkResult {
	res := checkResult{Seats: contest.Seats, Candidates: len(contest.Candidates), Problems: []problem{},
		Warnings: append([]tally.Warning{}, contest.ListWarnings(committee)...)}
	electorateOK := true
	for _, p := range tally.Problems(contest.Validate()) {
		res.Problems = append(res.Problems, problem{Field: p.Field, Message: p.Message})
		if strings.HasPrefix(p.Field, "electorate") {
			electorateOK = false
		}
	}
	res.Valid = len(res.Problems) == 0
	if electorateOK {
		d, t := contest.Denominator(), contest.Threshold()
		res.Denominator, res.Threshold = &d, &t
		if contest.Kind != tally.KindOpinion {
			// An opinion ballot's D is those present: no arithmetic.
			res.Formula = formulaOf(contest.Electorate, d)
		}
	}
	if contest.Seats >= 1 {
		surplus := len(contest.Candidates) - contest.Seats
		res.Surplus = &surplus
		if (contest.Kind == tally.KindCommittee || contest.Kind == tally.KindStandingCommittee) && contest.Round == 1 {
			limit := tally.SurplusLimit(contest.Seats)
			res.SurplusLimit = &limit
		}
	}
	return res
}

// formulaOf writes D's arithmetic in the order the exclusions are listed
// for the congress type (DESIGN §5.1), so the secretary can check each term.
func formulaOf(e tally.Electorate, d int) string {
	ex := e.Exclusions
	terms := []int{e.Convened}
	switch e.Congress {
	case tally.CongressMembers:
		terms = append(terms, ex.TemporaryElsewhere, ex.ExemptAbsent, ex.SuspendedOrDetained, ex.AbsentWithLeave)
	case tally.CongressDelegates:
		terms = append(terms, ex.CommitteeAbsent, ex.DelegatesAbsentUnreplaced)
	case tally.CongressBody:
		// Only when someone is excluded: a meeting's D is usually all its
		// members, "15 = 15".
		if ex.SuspendedOrDetained > 0 {
			terms = append(terms, ex.SuspendedOrDetained)
		}
	}
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = strconv.Itoa(t)
	}
	return strings.Join(parts, " − ") + " = " + strconv.Itoa(d)
}

// Choices offered by the setup forms, in the order the forms list them.
var (
	setupKinds = []tally.ContestKind{tally.KindCommittee, tally.KindStandingCommittee, tally.KindSecretary,
		tally.KindDeputySecretary, tally.KindInspectionCommittee, tally.KindInspectionChair, tally.KindInspectionViceChair, tally.KindDelegates,
		tally.KindAlternates, tally.KindOther, tally.KindOpinion, tally.KindIntroduction}
	setupRoles = []tally.CommitteeRole{tally.RoleHead, tally.RoleDeputyHead, tally.RoleMember}
)

type congressPageData struct {
	Congress *tally.CongressRecord // nil on /congresses/new
	Contests []*tally.Record       // the congress's rounds, in the order made
	Plan     *meetingPlan          // the order of its elections and the next step (api/meeting.go)
	Roles    []tally.CommitteeRole
	// Hands are the congress's votes and D (nil on /congresses/new:
	// votes are recorded on a congress once it exists).
	Hands *congressHands
}

// congressSetupPage: /congresses/new and /congresses/:id/setup, the congress
// record form, then its D and its show-of-hands votes (votes_page.go),
// decided here, server-side, by the engine.
func (s *Server) congressSetupPage(c *fiber.Ctx) error {
	if id := c.Params("id"); id != "" {
		ctx, cancel := storeCtx()
		defer cancel()
		rec, err := s.congress(ctx, id)
		if err != nil {
			return err
		}
		d, err := s.congressPageData(ctx, s.lang(c), rec, func(k string) string { return c.Query(k) })
		if err != nil {
			return err
		}
		return s.render(c, fiber.StatusOK, "congress-setup", s.page(c, "setup.congress.title", d, rec.Name))
	}
	return s.render(c, fiber.StatusOK, "congress-setup", s.page(c, "setup.congress.new", &congressPageData{Roles: setupRoles}))
}

func (s *Server) congressPageData(ctx context.Context, l web.Lang, rec *tally.CongressRecord, query func(string) string) (*congressPageData, error) {
	d := &congressPageData{Congress: rec, Roles: setupRoles}
	var err error
	if d.Hands, err = s.congressHands(ctx, l, rec, query); err != nil {
		return nil, err
	}
	if d.Contests, err = s.contestsOf(ctx, rec.ID); err != nil {
		return nil, err
	}
	if d.Plan, err = s.plan(ctx, rec, d.Contests); err != nil {
		return nil, err
	}
	return d, nil
}

// contestsOf lists a congress's rounds in the order they were made.
func (s *Server) contestsOf(ctx context.Context, congress string) ([]*tally.Record, error) {
	recs, err := s.store.Contests(ctx)
	if err != nil {
		return nil, err
	}
	var out []*tally.Record
	for _, r := range recs {
		if r.Congress == congress {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b *tally.Record) int { return strings.Compare(a.Created, b.Created) })
	return out, nil
}

type contestNewData struct {
	Congress   *tally.CongressRecord
	Congresses []*tally.CongressRecord
	Kinds      []tally.ContestKind
	// Defaults are the form's starting values (DESIGN §5.1's defaults, the
	// engine's own), read by setup.js from a JSON block.
	Defaults *tally.Contest
	// Edit is the draft being corrected on /contests/{id}/edit (PUT);
	// nil on /contests/new.
	Edit *tally.Contest
	// Types are the congress type of each congress offered (congressType),
	// so that choosing the congress chooses the type (setup.js).
	Types map[string]tally.Congress
}

// congressType is the type of body a congress's contests are counted
// by: its own D's, when recorded; else what its name says ("Đại hội đại
// biểu …", "Hội nghị …"); else the members' congress, the form's default.
// A contest under a delegates' congress left on "Đại hội đảng viên" would
// take the wrong exclusions, and so the wrong D (the walk-through, D15).
func congressType(cg *tally.CongressRecord) tally.Congress {
	if cg.Electorate != nil && cg.Electorate.Congress != "" {
		return cg.Electorate.Congress
	}
	name := strings.ToLower(tally.CleanText(cg.Name))
	switch {
	case strings.Contains(name, "đại biểu"):
		return tally.CongressDelegates
	case strings.HasPrefix(name, "hội nghị"):
		return tally.CongressBody
	}
	return tally.CongressMembers
}

// contestNewPage: /contests/new[?congress=ID], the contest form with its
// live checks (POST /api/v1/contests/check) and the candidate import.
func (s *Server) contestNewPage(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	d := contestNewData{Kinds: setupKinds, Types: map[string]tally.Congress{}}
	if id := c.Query("congress"); id != "" {
		rec, err := s.congress(ctx, id)
		if err != nil {
			return err
		}
		d.Congress = rec
		d.Types[rec.ID] = congressType(rec)
	} else {
		var err error
		if d.Congresses, err = s.congresses(ctx); err != nil {
			return err
		}
		for _, cg := range d.Congresses {
			d.Types[cg.ID] = congressType(cg)
		}
	}
	// The form starts from DESIGN §5.1's defaults, the engine's own, and
	// the type of its congress.
	def, err := tally.DraftContest([]byte(`{}`))
	if err != nil {
		return err
	}
	if d.Congress != nil {
		def.Electorate.Congress = d.Types[d.Congress.ID]
	}
	// ?kind=&from= (the congress page's next step): a contest elected
	// from the body just elected, its candidates and D from that result.
	if from := c.Query("from"); from != "" && d.Congress != nil {
		if err := s.prefillFrom(ctx, def, d.Congress.ID, c.Query("kind"), from); err != nil {
			return err
		}
	}
	d.Defaults = def
	return s.render(c, fiber.StatusOK, "contest-new", s.page(c, "setup.contest.new", d))
}

type contestSetupData struct {
	contestView
	Congress  *tally.CongressRecord
	Check     checkResult
	Notes     tally.RoundNotes
	Keyed     int64 // ballots in the log (counters' total), while open or after
	Previous  string
	Exclusion []exclusionLine
	// Tokens are the desk tokens issued for this round (and, on a
	// further round, for the round they were issued for), newest first.
	Tokens []tokenRow
	// The list's forms (api/lists.go): the congress's votes and counted
	// opinion ballots to choose the deciding one from, and the names the
	// next round would carry.
	List listSetup
	// Scanned counts the round's scanned pages (test pages aside): the
	// certify form then asks what becomes of their images; ScanImages is
	// the choice made at certification ("delete" or "seal").
	Scanned    int
	ScanImages string
}

// exclusionLine is one term of D as the control page lists it.
type exclusionLine struct {
	Key   string // message key suffix: the JSON name of the exclusion
	Count int
}

// contestSetupPage: /contests/:id/setup, a round's control page: its
// definition and D, its state and the lifecycle actions, the round notes,
// the next round, the desk tokens and the links.
func (s *Server) contestSetupPage(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	v, err := s.contestView(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	rec := v.Record
	committee, err := s.countingCommittee(ctx, rec.Congress)
	if err != nil {
		return err
	}
	d := contestSetupData{contestView: v, Check: checkOf(rec.Contest, committee)}
	s.sayChecks(c, d.Check.Problems)
	if rec.Congress != "" {
		if d.Congress, err = s.congress(ctx, rec.Congress); err != nil && tally.ErrorKind(err) != tally.NotFound {
			return err
		}
	}
	if d.Notes, err = s.notes(ctx, rec.Contest.ID); err != nil {
		return err
	}
	counters, _, err := s.store.Counters(ctx, rec.Contest.ID)
	if err != nil {
		return err
	}
	d.Keyed = counters[tally.CounterTotal]
	if d.Tokens, err = s.deskTokens(ctx, rec); err != nil {
		return err
	}
	if d.List, err = s.listSetupOf(ctx, v, d.Congress); err != nil {
		return err
	}
	if d.Scanned, d.ScanImages, err = s.scanSummary(ctx, rec.Contest.ID); err != nil {
		return err
	}
	ex := rec.Contest.Electorate.Exclusions
	switch rec.Contest.Electorate.Congress {
	case tally.CongressMembers:
		d.Exclusion = []exclusionLine{{"temporary_elsewhere", ex.TemporaryElsewhere}, {"exempt_absent", ex.ExemptAbsent},
			{"suspended_or_detained", ex.SuspendedOrDetained}, {"absent_with_leave", ex.AbsentWithLeave}}
	case tally.CongressDelegates:
		d.Exclusion = []exclusionLine{{"committee_absent", ex.CommitteeAbsent}, {"delegates_absent_unreplaced", ex.DelegatesAbsentUnreplaced}}
	case tally.CongressBody:
		d.Exclusion = []exclusionLine{{"suspended_or_detained", ex.SuspendedOrDetained}}
	}
	return s.render(c, fiber.StatusOK, "contest-setup", s.page(c, "setup.round.title", d, rec.Contest.Title))
}

// deskTokens lists the tokens that work on rec: those issued for it or
// for a round it follows.
func (s *Server) deskTokens(ctx context.Context, rec *tally.Record) ([]tokenRow, error) {
	_, tokens, err := s.storedTokens(ctx)
	if err != nil {
		return nil, err
	}
	var out []tokenRow
	for _, t := range slices.Backward(tokens) {
		if t.Contest == "" || s.inScope(ctx, t.principal(), rec.Contest.ID) != nil {
			continue
		}
		out = append(out, t.row(s.now()))
	}
	return out, nil
}

type deskTokenData struct {
	Contest *tally.Contest
	Name    string
	Token   string
	Expires string // RFC 3339
	URL     string // <base>/login#token=…: the fragment never reaches a server log
	Login   string // <base>/login, for a desk that types the token
	// Fingerprint is the served certificate's (Config.TLSFingerprint), for
	// the desk to compare before it accepts a self-signed certificate.
	Fingerprint string
	// QR is a data: URL of a PNG of URL; typed as a URL the template
	// trusts, since html/template replaces data: URLs it was not told are safe.
	QR template.URL
}

// deskTokenForm: POST /contests/:id/tokens (a plain form with _csrf) issues
// a counter token for a desk of this round — scoped to it and its further
// rounds, for the lifetime picked (a congress day unless told) — and shows
// it once, with a QR code that signs the desk's device in. The token
// travels in the URL fragment, which browsers do not send to the server
// or in Referer headers.
func (s *Server) deskTokenForm(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	rec, err := s.store.Contest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	name := tally.CleanText(c.FormValue("name"))
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return errorf(tally.Invalid, "name", "required: the desk's name, such as \"Bàn 2\"")
	case n > 100:
		return errorf(tally.Invalid, "name", "too long (%d characters, at most 100)", n)
	}
	expires, err := s.tokenExpiry(roleCounter, "", c.FormValue("lifetime"))
	if err != nil {
		return err
	}
	token, trec, err := s.issueToken(ctx, c, tokenRecord{Role: roleCounter, Name: name, Contest: rec.Contest.ID}, expires)
	if err != nil {
		return err
	}
	login := s.baseURL(c) + "/login"
	url := login + "#token=" + token
	png, err := qrcode.Encode(url, qrcode.Medium, 320)
	if err != nil {
		return fmt.Errorf("QR code: %w", err)
	}
	d := deskTokenData{Contest: rec.Contest, Name: name, Token: token, URL: url, Login: login, Fingerprint: s.cfg.TLSFingerprint, Expires: trec.Expires,
		QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))}
	return s.render(c, fiber.StatusCreated, "setup-token", s.page(c, "setup.token.title", d, name))
}

// revokeTokenForm: POST /contests/:id/tokens/:token/revoke (a plain form
// with _csrf, admin) revokes a desk token listed on the round's control
// page and returns there.
func (s *Server) revokeTokenForm(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	if _, err := s.revokeToken(ctx, c.Params("token")); err != nil {
		return err
	}
	return c.Redirect("/contests/"+url.PathEscape(c.Params("id"))+"/setup#tokens", fiber.StatusSeeOther)
}

// baseURL is where people reach the service, for desk QR codes and (through
// printedBase) the minutes' verify link and QR code and the roll-up's links:
// the configured public URL, or the address of this request, a loopback or
// wildcard host replaced by a LAN address the service is bound to. The request's address is its Host
// and whether it came over TLS; X-Forwarded-Host and X-Forwarded-Proto
// count only from a trusted proxy (Config.TrustedProxies) — anyone else
// could make the service print an official-looking QR code pointing at a
// site of theirs (security review, finding 20). Fiber's own BaseURL trusts
// them, and X-Forwarded-Ssl and X-Url-Scheme too, from any peer unless a
// trusted-proxy list is set. A host that is not a host name or address
// with an optional port (it would change the link's meaning) gives the
// address the request arrived at instead.
func (s *Server) baseURL(c *fiber.Ctx) string {
	if u := strings.TrimRight(s.cfg.PublicURL, "/"); u != "" {
		return u
	}
	scheme, host := "http", string(c.Request().URI().Host())
	if c.Context().IsTLS() {
		scheme = "https"
	}
	if len(s.cfg.TrustedProxies) > 0 && c.IsProxyTrusted() {
		if p := firstValue(c.Get(fiber.HeaderXForwardedProto)); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstValue(c.Get(fiber.HeaderXForwardedHost)); validHost(h) {
			host = h
		}
	}
	if !validHost(host) {
		host = c.Context().LocalAddr().String()
	}
	// The secretary's browser on the laptop itself opens 127.0.0.1 or
	// localhost; a desk or a phone following the link must get the LAN
	// address the service is bound to (api/lan.go).
	if localHost(host) {
		if lan, ok := s.lanHost(); ok {
			host = lan
		}
	}
	return scheme + "://" + host
}

// firstValue is the first of a header's comma-separated values (the
// client's, when proxies append theirs).
func firstValue(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.ToLower(strings.TrimSpace(v))
}

// validHost says whether h is a host name, an IPv4 address or a bracketed
// IPv6 address, with an optional port, and nothing else (no path, user or
// query).
func validHost(h string) bool {
	if h == "" || len(h) > 261 {
		return false
	}
	name, port := h, ""
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		name, port = h[:i], h[i+1:]
		if port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return false
		}
	}
	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		return net.ParseIP(name[1:len(name)-1]) != nil
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return name != ""
}
