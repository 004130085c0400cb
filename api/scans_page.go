package api

import (
	"cmp"
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/scan"
	"github.com/kiemphieu/kiemphieu/tally"
)

// scansData is the JSON data block of the scanned-ballots page
// (/contests/{id}/scans): what scans.js needs to upload stacks, draw the
// layout over a page's image and key a correction as at the desk.
type scansData struct {
	Contest    string          `json:"contest"`
	Title      string          `json:"title"`
	Ballot     string          `json:"ballot"`
	Entry      tally.EntryMode `json:"entry"`
	State      tally.State     `json:"state"`
	Candidates []deskCandidate `json:"candidates"` // in ballot order
	// Layout is the paper's geometry in mm (nil: the round has no
	// machine-readable paper).
	Layout   *scansLayout      `json:"layout"`
	Messages map[string]string `json:"messages"`
}

// scansLayout is what the review's overlay draws: the corner marks'
// centres (mapped onto a page's found corners, scanPage.Corners) and each
// row's zones, as [x, y, w, h] in mm.
type scansLayout struct {
	Marks [4][2]float64 `json:"marks"`
	Rows  []scansRow    `json:"rows"`
}

type scansRow struct {
	Candidate string     `json:"candidate"`
	Number    int        `json:"number"`
	Band      [4]float64 `json:"band"`
	Agree     [4]float64 `json:"agree,omitzero"`
	Disagree  [4]float64 `json:"disagree,omitzero"`
}

func rectOf(r scan.Rect) [4]float64 { return [4]float64{r.X, r.Y, r.W, r.H} }

// scansPage serves GET /contests/:id/scans (counter): upload the scanner's
// stacks, follow each stack's reconciliation, check the test deck, and
// settle the doubtful and rejected pages with the image and the machine's
// reading side by side. Its script (scans.js) calls POST/GET …/scans,
// POST …/scans/{image} and GET …/scans/{image}/image.
func (s *Server) scansPage(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	cc, rec, err := s.scanContest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	d := scansData{Contest: cc.ID, Title: cc.Title, Ballot: string(cc.Ballot), Entry: cc.Entry, State: rec.State,
		Candidates: deskCandidates(cc.Candidates)}
	if machineReadable(rec.Contest) {
		l, err := s.recordLayout(ctx, rec)
		if err != nil {
			return err
		}
		d.Layout = &scansLayout{}
		for i, m := range l.Marks {
			d.Layout.Marks[i][0], d.Layout.Marks[i][1] = m.Centre()
		}
		for _, r := range l.Rows {
			d.Layout.Rows = append(d.Layout.Rows, scansRow{Candidate: r.Candidate, Number: r.Number, Band: rectOf(r.Band),
				Agree: rectOf(r.Agree), Disagree: rectOf(r.Disagree)})
		}
	}
	p := s.page(c, "scans.title", nil, cc.Title)
	// A ballot named as the stacks page names it (ballots.js), and the
	// desk's parser messages, for a correction.
	d.Messages = keyingMessages(p.Lang, "scans.", "stacks.", "desk.")
	p.Wide = true
	p.Data = d
	return s.render(c, fiber.StatusOK, "scans", p)
}

// deckCheck is one test-deck page's check (bộ phiếu thử): whether the
// latest scan of it was read as the deck drew it. The committee runs the
// deck through the scanner before counting opens.
type deckCheck struct {
	Page     int           `json:"page"`
	Title    string        `json:"title"`
	Received bool          `json:"received"`
	Pass     bool          `json:"pass"`
	Problems []deckProblem `json:"problems,omitempty"`
}

// deckProblem is one way a test page's reading differs from the deck:
// "status" (Got/Want are statuses), "struck" (the candidate read struck
// or kept against the deck), "mark" (Got/Want are marks), "not_doubtful"
// (a name the deck makes doubtful that was not sent to a person).
type deckProblem struct {
	Code      string `json:"code"`
	Candidate string `json:"candidate,omitempty"`
	Got       string `json:"got,omitempty"`
	Want      string `json:"want,omitempty"`
}

// checkDeck compares the round's test pages, as received (the latest scan
// of each page number), with the deck drawn for its layout.
func checkDeck(l *scan.Layout, pages []scanPage) []deckCheck {
	latest := map[int]*scanPage{}
	for i := range pages {
		p := &pages[i]
		if p.TestPage > 0 && (latest[p.TestPage] == nil || cmp.Compare(p.Time, latest[p.TestPage].Time) > 0) {
			latest[p.TestPage] = p
		}
	}
	deck := scan.TestDeck(l)
	out := make([]deckCheck, len(deck))
	for i, dp := range deck {
		out[i] = deckCheck{Page: dp.Page, Title: dp.Title}
		if p := latest[dp.Page]; p != nil {
			out[i].Received = true
			out[i].Problems = deckProblems(dp.Expect, p)
			out[i].Pass = len(out[i].Problems) == 0
		}
	}
	return out
}

func deckProblems(want scan.Expectation, p *scanPage) []deckProblem {
	var out []deckProblem
	// A reading the engine finds invalid (an untouched strike paper is an
	// over-vote when one seat is elected) waits for a person: the api's
	// rule beside the machine's, and still the deck's reading.
	if p.Status != want.Status && (want.Status != scan.StatusRead || p.Reason != "invalid") {
		out = append(out, deckProblem{Code: "status", Got: string(p.Status), Want: string(want.Status)})
	}
	for _, id := range want.Doubtful {
		if !slices.Contains(p.Doubtful, id) {
			out = append(out, deckProblem{Code: "not_doubtful", Candidate: id})
		}
	}
	if want.Status != scan.StatusRead {
		return out
	}
	for _, nr := range p.Reading {
		if want.Marks != nil {
			if w := want.Marks[nr.Candidate]; w != "" && nr.Mark != w {
				out = append(out, deckProblem{Code: "mark", Candidate: nr.Candidate, Got: nr.Mark, Want: w})
			}
			continue
		}
		if w := slices.Contains(want.Struck, nr.Candidate); nr.Struck != w {
			out = append(out, deckProblem{Code: "struck", Candidate: nr.Candidate, Got: struckWord(nr.Struck), Want: struckWord(w)})
		}
	}
	return out
}

func struckWord(struck bool) string {
	if struck {
		return "struck"
	}
	return "kept"
}
