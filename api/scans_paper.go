package api

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"codeberg.org/go-pdf/fpdf"
	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/scan"
	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// scanPaper is a round's machine-readable ballot as scan.Paper: the same
// header lines, heading and names (ballotNames) as the HTML print view
// (ballotPaperPage), so that the PDF, the print view and the recogniser
// all describe one paper: the intake reads scans against the layout of
// the paper the PDF routes print.
func (s *Server) scanPaper(ctx context.Context, rec *tally.Record) (scan.Paper, error) {
	c := rec.Contest
	style := string(c.Ballot)
	if c.Ballot != tally.StyleStrike && c.Ballot != tally.StyleApprove {
		return scan.Paper{}, errorf(tally.Conflict, "ballot", "a %s ballot is not read by machine: only strike and approve papers are scanned", c.Ballot)
	}
	p := scan.Paper{
		Meta:    scan.Meta{Congress: rec.Congress, Contest: c.ID, Round: max(c.Round, 1), Style: style},
		Heading: ballotPaperHeading(c.Kind),
		Title:   c.Title,
	}
	superior, org, congress, err := s.ballotHeader(ctx, rec)
	if err != nil {
		return scan.Paper{}, err
	}
	p.Superior, p.Organization, p.Congress = superior, org, congress
	switch {
	case c.Kind == tally.KindOpinion:
		p.Note = fmt.Sprintf("Số người được xin ý kiến: %d đồng chí", c.Seats)
	default:
		p.Note = fmt.Sprintf("Số lượng cần bầu: %d đồng chí", c.Seats)
	}
	if c.Round > 1 {
		p.Note = fmt.Sprintf("(Bầu lần %d) ", c.Round) + p.Note
	}
	if c.Ballot == tally.StyleApprove {
		p.Instruction = "Đồng chí đồng ý bầu người nào thì đánh dấu X vào ô «Đồng ý», không đồng ý thì đánh dấu X vào ô «Không đồng ý» ở dòng của người đó."
	} else {
		p.Instruction = "Đồng chí không bầu người nào thì gạch ngang cả họ và tên người đó."
	}
	names := ballotNames(c)
	for i, cand := range c.Candidates {
		p.List = append(p.List, scan.Candidate{ID: cand.ID, Name: names[i]})
	}
	return p, nil
}

// ballotHeader is the header of a round's paper, upper case as printed:
// the superior committee, the organization, and the congress with its
// ordinal and term; empty when the round belongs to no congress record.
func (s *Server) ballotHeader(ctx context.Context, rec *tally.Record) (superior, org, congress string, err error) {
	if rec.Congress == "" {
		return "", "", "", nil
	}
	cg, err := s.congress(ctx, rec.Congress)
	switch {
	case tally.ErrorKind(err) == tally.NotFound:
		return "", "", "", nil
	case err != nil:
		return "", "", "", err
	}
	congress = strings.ToUpper(cg.Name)
	if r := tally.RomanOrdinal(cg.Ordinal); r != "" {
		congress += " LẦN THỨ " + r
	}
	if cg.Term != "" {
		congress += ", NHIỆM KỲ " + cg.Term
	}
	return strings.ToUpper(cg.Superior), strings.ToUpper(cg.Organization), congress, nil
}

// maxPaperCopies bounds ?copies: a round's ballots are printed in a few
// runs, and one request must not build an unbounded PDF.
const maxPaperCopies = 500

// machineReadable reports whether a round's paper can be read by machine:
// strike and approve papers within one sheet's capacity.
func machineReadable(c *tally.Contest) bool {
	switch c.Ballot {
	case tally.StyleStrike:
		return len(c.Candidates) <= scan.StrikeMax
	case tally.StyleApprove:
		return len(c.Candidates) <= scan.ApproveMax
	}
	return false
}

// paperLayout is the round's layout in the PDF's font.
func (s *Server) paperLayout(ctx context.Context, id string) (*scan.Layout, error) {
	rec, err := s.store.Contest(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.recordLayout(ctx, rec)
}

func (s *Server) recordLayout(ctx context.Context, rec *tally.Record) (*scan.Layout, error) {
	p, err := s.scanPaper(ctx, rec)
	if err != nil {
		return nil, err
	}
	l, err := web.PaperLayout(p)
	if err != nil {
		return nil, errorf(tally.Conflict, "ballot", "%v", err)
	}
	return l, nil
}

// ballotPaperPDF serves GET /contests/:id/ballot-paper.pdf?copies=N: the
// round's machine-readable paper, N identical pages.
func (s *Server) ballotPaperPDF(c *fiber.Ctx) error {
	copies := 1
	if q := c.Query("copies"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > maxPaperCopies {
			return errorf(tally.Invalid, "copies", "copies must be a whole number from 1 to %d; got %q", maxPaperCopies, q)
		}
		copies = n
	}
	ctx, cancel := storeCtx()
	defer cancel()
	l, err := s.paperLayout(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	pdf, err := web.BallotPaperPDF(l, copies, nil)
	if err != nil {
		return err
	}
	return sendPDF(c, fmt.Sprintf("phieu-bau-%s-vong-%d.pdf", l.Meta.Contest, l.Meta.Round), pdf)
}

// testDeckPDF serves GET /contests/:id/test-deck.pdf: the round's test
// deck (scan.TestDeck), one page each, pre-marked, its number in the QR
// code and its title in the header so nobody takes it for a ballot.
func (s *Server) testDeckPDF(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	l, err := s.paperLayout(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	deck := scan.TestDeck(l)
	layouts := make([]*scan.Layout, len(deck))
	for i, page := range deck {
		layouts[i] = deckLayout(l, page)
	}
	pdf, err := web.PapersPDF(layouts, func(p *fpdf.Fpdf, i int) { drawStrokes(p, deck[i].Strokes) })
	if err != nil {
		return err
	}
	return sendPDF(c, fmt.Sprintf("bo-phieu-thu-%s-vong-%d.pdf", l.Meta.Contest, l.Meta.Round), pdf)
}

// deckLayout is the layout of one test page: the round's, with the page's
// number in the QR code and its title inside the header zone (which the
// recogniser does not watch).
func deckLayout(l *scan.Layout, page scan.DeckPage) *scan.Layout {
	pl := *l
	pl.Meta.TestPage = page.Page
	pl.Texts = append([]scan.Text(nil), l.Texts...)
	title := fmt.Sprintf("BỘ PHIẾU THỬ — trang %d: %s", page.Page, page.Title)
	h := l.Header
	baseline := h.Y + 29.5 // under the stamp box, above the heading's line
	const size = 8.0
	em := size * 25.4 / 72
	pl.Texts = append(pl.Texts, scan.Text{Text: title, X: h.X, Baseline: baseline, Size: size, Bold: true, Align: "L",
		Rect: scan.Rect{X: h.X, Y: baseline - 0.95*em, W: h.W / 2, H: 1.2 * em}})
	return &pl
}

// drawStrokes draws pen strokes as polylines of their width and gray.
func drawStrokes(p *fpdf.Fpdf, strokes []scan.Stroke) {
	p.SetLineCapStyle("round")
	p.SetLineJoinStyle("round")
	for _, st := range strokes {
		if len(st.Points) < 2 {
			continue
		}
		g := int(st.Gray)
		p.SetDrawColor(g, g, g)
		p.SetLineWidth(st.Width)
		p.MoveTo(st.Points[0][0], st.Points[0][1])
		for _, pt := range st.Points[1:] {
			p.LineTo(pt[0], pt[1])
		}
		p.DrawPath("D")
	}
	p.SetDrawColor(0, 0, 0)
}

func sendPDF(c *fiber.Ctx, name string, pdf []byte) error {
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="`+name+`"`)
	return c.Send(pdf)
}
