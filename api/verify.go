package api

import (
	"context"
	"crypto/ed25519"
	"errors"
	"maps"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// The verify page checks the hash printed on a set of minutes against the
// stored log: anyone holding the paper — a delegate, the superior
// committee — can see that the log behind it is whole and counts to the
// printed result. It is public: the hash is on the paper, and a round that
// is not yet public shows only that it exists.

// verifyData is the verify page.
type verifyData struct {
	Hash    string // as asked, normalized
	Problem string // why nothing is shown: not a hash, or no round has it
	Rounds  []verifiedRound
}

// verifiedRound is what the page says about one round with the hash.
type verifiedRound struct {
	ID, Title              string
	Round                  int
	Organization, Congress string
	Certified              bool
	ClosedAt, CertifiedAt  string
	Head                   string
	Entries                int64
	// Fingerprint is the key the round is signed with (empty when it is
	// not, or the signature fails: then Problems says so), Signer whose
	// key it is as this instance knows it.
	Fingerprint, Signer string
	// Matched: the log is whole, ends with the hash, and its recount
	// equals the stored count. Otherwise Problems says what is wrong,
	// Detail gives the engine's exact words.
	Matched  bool
	Problems []string
	Detail   string
	// Public: the round's result may be shown to this visitor. SignedIn:
	// the visitor may also download the per-ballot log (export.jsonl).
	Public, SignedIn bool
	Result           *verifySummary // nil unless public and recounted
}

// verifySummary is the result recounted from the log, as the page shows it.
type verifySummary struct {
	Seats, D, Threshold   string
	Total, Valid, Invalid string
	Elected               []verifyElected
	Tied                  []string
	RevoteSeats, Vacant   int
}

type verifyElected struct {
	Name, Votes, Percent string
}

var (
	hashPattern  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	chainProblem = regexp.MustCompile(`^log\[(\d+)\]\.(seq|prev|hash)$`)
)

// normalizeHash accepts a hash as people copy it from paper: in capitals,
// or broken over lines and spaces.
func normalizeHash(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), "")) }

// verifyForm: GET /verify, a form to paste a hash; the form's GET sends
// ?hash=, which goes on to the hash's own address.
func (s *Server) verifyForm(c *fiber.Ctx) error {
	if q := normalizeHash(c.Query("hash")); q != "" {
		return c.Redirect("/verify/"+url.PathEscape(q), fiber.StatusSeeOther)
	}
	return s.render(c, fiber.StatusOK, "verify", s.page(c, "verify.title", verifyData{}))
}

// verifyPage: GET /verify/:hash. It finds the counted rounds whose log
// head is the hash, re-reads each whole log from the store, verifies the
// chain, recounts it and compares with the stored counters.
func (s *Server) verifyPage(c *fiber.Ctx) error {
	l := s.lang(c)
	raw, err := url.PathUnescape(c.Params("hash"))
	if err != nil {
		raw = c.Params("hash")
	}
	d := verifyData{Hash: normalizeHash(raw)}
	if !hashPattern.MatchString(d.Hash) {
		d.Problem = l.T("verify.bad_hash", d.Hash)
		return s.render(c, fiber.StatusBadRequest, "verify", s.page(c, "verify.title", d))
	}
	ctx, cancel := storeCtx()
	defer cancel()
	recs, err := s.store.Contests(ctx)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		// The head is recorded at close; a round still open has none.
		if rec.Head != d.Hash || rec.State != tally.StateClosed && rec.State != tally.StateCertified {
			continue
		}
		v, err := s.verifyRound(ctx, c, l, rec)
		if err != nil {
			return err
		}
		d.Rounds = append(d.Rounds, v)
	}
	if len(d.Rounds) == 0 {
		d.Problem = l.T("verify.not_found", d.Hash)
		return s.render(c, fiber.StatusNotFound, "verify", s.page(c, "verify.title", d))
	}
	return s.render(c, fiber.StatusOK, "verify", s.page(c, "verify.title", d))
}

// verifyRound checks one round. Each check that fails adds its reason; an
// error is returned only when the store cannot be read, which says nothing
// about the log.
func (s *Server) verifyRound(ctx context.Context, c *fiber.Ctx, l web.Lang, rec *tally.Record) (verifiedRound, error) {
	id := rec.Contest.ID
	v := verifiedRound{
		ID: id, Title: rec.Contest.Title, Round: rec.Contest.Round,
		Certified: rec.State == tally.StateCertified,
		ClosedAt:  web.VerifyTime(rec.Closed, l), Head: rec.Head, Entries: rec.Version,
		Public:   rec.State == tally.StateCertified || rec.Contest.Visibility == tally.VisibilityLive || principalOf(c) != nil,
		SignedIn: principalOf(c) != nil,
	}
	if v.Certified {
		v.CertifiedAt = web.VerifyTime(rec.Certified, l)
	}
	if rec.Congress != "" {
		cg, err := s.congress(ctx, rec.Congress)
		switch {
		case err == nil:
			v.Organization, v.Congress = cg.Organization, cg.Name
			if r := tally.RomanOrdinal(cg.Ordinal); r != "" {
				v.Congress += " " + l.T("congress.ordinal", r)
			}
		case tally.ErrorKind(err) != tally.NotFound:
			return v, err
		}
	}
	problem := func(key string, args ...any) { v.Problems = append(v.Problems, l.T(key, args...)) }

	if rec.Signature != nil {
		var err error
		if v.Fingerprint, v.Signer, err = s.signer(ctx, l, rec); err != nil {
			return v, err
		}
		if v.Fingerprint == "" {
			problem("verify.problem.signature")
		}
	}

	entries, err := s.wholeLog(ctx, id)
	if err != nil {
		return v, err
	}
	if int64(len(entries)) != rec.Version {
		problem("verify.problem.length", len(entries), rec.Version)
	}
	head, err := tally.VerifyChain(entries)
	if err != nil {
		v.Problems = append(v.Problems, chainProblemText(l, err))
		v.Detail = err.Error()
	} else if head != rec.Head {
		problem("verify.problem.head", head)
	}
	if err == nil {
		count, err := tally.Replay(rec.Contest, entries)
		if err != nil {
			problem("verify.problem.replay")
			v.Detail = err.Error()
		} else {
			counters, _, err := s.store.Counters(ctx, id)
			if err != nil {
				return v, err
			}
			if !maps.Equal(count.Counters(), counters) {
				problem("verify.problem.counts")
			}
			if v.Public {
				v.Result = summarize(count.Result())
			}
		}
	}
	v.Matched = len(v.Problems) == 0
	return v, nil
}

// signer says who signed a round: the key's fingerprint and whose it is
// (this instance, a registered organization, or a key unknown here); an
// empty fingerprint if the signature does not verify.
func (s *Server) signer(ctx context.Context, l web.Lang, rec *tally.Record) (fingerprint, who string, err error) {
	fp, pub := signedBy(rec)
	if pub == nil {
		return "", "", nil
	}
	own, err := s.signingKey(ctx)
	if err != nil {
		return "", "", err
	}
	if own.Public().(ed25519.PublicKey).Equal(pub) {
		return fp, l.T("verify.signer.self"), nil
	}
	k, err := s.registeredKey(ctx, pub)
	if err != nil {
		return "", "", err
	}
	if k != nil {
		return fp, l.T("verify.signer.registered", k.Label), nil
	}
	return fp, l.T("verify.signer.unknown"), nil
}

// chainProblemText says in the page's language where the chain breaks;
// VerifyChain's fields name the entry and the check ("log[3].hash").
func chainProblemText(l web.Lang, err error) string {
	var e *tally.Error
	if errors.As(err, &e) {
		if m := chainProblem.FindStringSubmatch(e.Field); m != nil {
			i, _ := strconv.Atoi(m[1])
			return l.T("verify.problem."+m[2], i+1)
		}
	}
	return l.T("verify.problem.chain")
}

// wholeLog reads a round's log from its start to its end, page by page,
// whatever the counters say its length is.
func (s *Server) wholeLog(ctx context.Context, id string) ([]tally.Entry, error) {
	const page = 5000
	var entries []tally.Entry
	var after int64
	for {
		batch, err := s.store.Entries(ctx, id, after, page)
		if err != nil {
			return nil, err
		}
		entries = append(entries, batch...)
		if len(batch) < page {
			return entries, nil
		}
		// The next page starts after the last entry read; a seq that does
		// not move forward (a tampered entry) must not read the same page
		// again.
		after = max(batch[len(batch)-1].Seq, after+int64(len(batch)))
	}
}

func summarize(res *tally.Result) *verifySummary {
	n := tally.FormatCount
	sum := &verifySummary{
		Seats: n(res.Seats), D: n(res.Denominator), Threshold: n(res.Threshold),
		Total: n(res.Ballots.Total), Valid: n(res.Ballots.Valid), Invalid: n(res.Ballots.Invalid),
		RevoteSeats: res.RevoteSeats, Vacant: res.Vacant,
	}
	byID := map[string]tally.CandidateResult{}
	for _, cr := range res.Candidates {
		byID[cr.ID] = cr
	}
	for _, id := range res.Elected {
		cr := byID[id]
		sum.Elected = append(sum.Elected, verifyElected{Name: cr.Name, Votes: n(cr.Votes), Percent: cr.Text})
	}
	for _, id := range res.Tied {
		sum.Tied = append(sum.Tied, byID[id].Name)
	}
	return sum
}
