package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// ballotPaperData is the printable ballot of a round (domain-rules §3.4).
type ballotPaperData struct {
	Contest *tally.Contest
	// Header lines, upper case as printed: the superior committee, the
	// organization, and the congress with its ordinal and term; empty when
	// the round belongs to no congress record.
	Superior, Organization, Congress string
	Approve                          bool // đồng ý / không đồng ý columns; else names to strike
	// Names are the names as printed, in ballot order: a name two
	// candidates share carries each one's birth year (audit B14).
	Names []string
	// Named: an introduction ballot, a box "Giới thiệu" per name; Opinion:
	// the approve paper of an opinion ballot (xin ý kiến).
	Named, Opinion bool
	Heading        string // PHIẾU BẦU CỬ, PHIẾU XIN Ý KIẾN, PHIẾU GIỚI THIỆU
	// Rows is how many lines the list takes, which the print CSS divides
	// the sheet's free height by (ballot-paper.css); TwoColumns sets a
	// strike list of more than paperOneColumn names in two columns.
	Rows       int
	TwoColumns bool
	// Scannable: the round has a machine-readable paper
	// (ballot-paper.pdf): a strike or approve list one sheet holds.
	Scannable bool
}

// paperOneColumn is the longest list one A4 sheet holds in one column at
// a size a delegate reads and strikes without error (40 names at about
// 11 pt); a longer strike list goes to two columns, still one sheet. A
// table (approve, named) stays one column: its boxes need the width.
const paperOneColumn = 40

// ballotPaperHeading is the title printed on a kind's paper.
func ballotPaperHeading(k tally.ContestKind) string {
	switch k {
	case tally.KindOpinion:
		return "PHIẾU XIN Ý KIẾN"
	case tally.KindIntroduction:
		return "PHIẾU GIỚI THIỆU"
	}
	return "PHIẾU BẦU CỬ"
}

// ballotNames are the contest's names as the paper prints them: with the
// year of birth ("Nguyễn Văn An (sinh năm 1970)") for candidates whose
// full name another candidate shares and whose birth date is known. The
// year alone tells them apart without printing a whole date of birth.
func ballotNames(c *tally.Contest) []string {
	names := make([]string, len(c.Candidates))
	for i, cand := range c.Candidates {
		names[i] = cand.Name
	}
	for _, g := range c.DuplicateNames() {
		for _, i := range g {
			if b := c.Candidates[i].BirthDate; len(b) >= 4 {
				names[i] += " (sinh năm " + b[:4] + ")"
			}
		}
	}
	return names
}

// ballotPaperPage: /contests/:id/ballot-paper, an A4 print view of the
// paper ballot. It is always in Vietnamese: it is the legal document the
// voters mark, whatever language the secretary's screen is in. Names are
// in ballot order, the order ParseContest left them in.
func (s *Server) ballotPaperPage(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	rec, err := s.store.Contest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	cc := rec.Contest
	d := ballotPaperData{Contest: cc, Approve: cc.Ballot == tally.StyleApprove, Named: cc.Ballot == tally.StyleName,
		Opinion: cc.Kind == tally.KindOpinion, Heading: ballotPaperHeading(cc.Kind), Names: ballotNames(cc)}
	d.Rows = len(d.Names)
	d.Scannable = machineReadable(cc)
	if !d.Approve && !d.Named && d.Rows > paperOneColumn {
		d.TwoColumns, d.Rows = true, (d.Rows+1)/2
	}
	if d.Superior, d.Organization, d.Congress, err = s.ballotHeader(ctx, rec); err != nil {
		return err
	}
	p := s.page(c, "setup.ballot.title", d, rec.Contest.Title)
	p.Lang = web.Vietnamese
	p.Title = p.Lang.T("setup.ballot.title", rec.Contest.Title)
	return s.render(c, fiber.StatusOK, "ballot-paper", p)
}
