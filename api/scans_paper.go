package api

import (
	"context"
	"fmt"
	"strings"

	"github.com/kiemphieu/kiemphieu/scan"
	"github.com/kiemphieu/kiemphieu/tally"
)

// scanPaper is a round's machine-readable ballot as scan.Paper: the same
// header lines, heading and names (ballotNames) as the HTML print view
// (ballotPaperPage), so that the PDF, the print view and the recogniser
// all describe one paper. The ballot-paper.pdf route (branch scan-deck)
// builds the same paper: one of the two builders goes at integration.
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
