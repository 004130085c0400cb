package api

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// The higher committee's roll-up (tally/rollup.go): JSON, XLSX, PDF and the
// /rollup page, all from one tally.Rollup. Viewer role: certified figures
// are public once certified, but the roll-up also lists rounds not yet
// certified, whose existence is internal.

func (s *Server) rollupRoutes(v1 fiber.Router) {
	v1.Get("/rollup", s.require(roleViewer), s.getRollup)
	v1.Get("/rollup.xlsx", s.require(roleViewer), s.rollupXLSX)
	v1.Get("/rollup.pdf", s.require(roleViewer), s.rollupPDF)
}

// rollup computes the roll-up named by ?organization= (and ?term=) from
// every congress record and round the store holds; certified rounds bring
// their result (the broker's snapshot: closing checked that the counters
// equal the recount of the log, and a certified log no longer moves).
func (s *Server) rollup(c *fiber.Ctx) (*tally.Rollup, error) {
	org, term := c.Query("organization"), c.Query("term")
	if strings.TrimSpace(org) == "" {
		return nil, errorf(tally.Invalid, "organization", "is required: ?organization=<the organization whose congresses are rolled up>, e.g. Đảng bộ Quận 3")
	}
	ctx, cancel := storeCtx()
	defer cancel()
	congresses, err := s.congresses(ctx)
	if err != nil {
		return nil, err
	}
	recs, err := s.store.Contests(ctx)
	if err != nil {
		return nil, err
	}
	in := tally.RollupInput{Organization: org, Term: term, Congresses: congresses}
	for _, rec := range recs {
		rr := tally.RollupRound{Record: rec}
		if rec.State == tally.StateCertified && rec.Congress != "" {
			snap, err := s.broker.Snapshot(ctx, rec.Contest.ID)
			if err != nil {
				return nil, err
			}
			rr.Result = snap.Result
		}
		in.Rounds = append(in.Rounds, rr)
	}
	return tally.ComputeRollup(in)
}

// getRollup: GET /api/v1/rollup?organization=…[&term=…].
func (s *Server) getRollup(c *fiber.Ctx) error {
	r, err := s.rollup(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(r)
}

// rollupFilename is the download's name: ASCII, from the organization
// without its diacritics ("Đảng bộ Quận 3" → tong-hop-dang-bo-quan-3).
func rollupFilename(org, ext string) string {
	var b strings.Builder
	for _, r := range fold(org) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if name == "" {
		name = "to-chuc"
	}
	return fmt.Sprintf(`attachment; filename="tong-hop-%s.%s"`, name, ext)
}

// rollupPDF: GET /api/v1/rollup.pdf — the report to send for approval.
func (s *Server) rollupPDF(c *fiber.Ctx) error {
	r, err := s.rollup(c)
	if err != nil {
		return err
	}
	pdf, err := web.RollupPDF(web.BuildRollupReport(r))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, rollupFilename(r.Organization, "pdf"))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(pdf)
}

// Sheets of the roll-up workbook.
const (
	sheetRollupTotals    = "Tổng hợp"
	sheetRollupRounds    = "Các lần bỏ phiếu"
	sheetRollupElected   = "Người trúng cử"
	sheetRollupMakeup    = "Cơ cấu"
	rollupRoundsMinutes  = 16 // column of the minutes link on the rounds sheet (P)
	rollupRoundsVerifyAt = 17 // column of the verify link (Q)
)

// rollupRoundsHead is the header of the rounds sheet: one row per round of
// every election of every congress, the figures beside their sources.
var rollupRoundsHead = []string{"Tổ chức đảng", "Cấp trên trực tiếp", "Đại hội", "Mã đại hội", "Cuộc bầu",
	"Loại", "Mã lần bỏ phiếu", "Lần", "Trạng thái", "Đã xác nhận (tính)", "Cần bầu", "Trúng cử", "Thiếu",
	"Kết quả cuộc bầu", "Mã băm sổ phiếu", "Biên bản", "Kiểm tra"}

// rollupXLSX: GET /api/v1/rollup.xlsx — the roll-up as a workbook the
// district can file or filter instead of retyping it: totals, every round
// with links to its minutes and verify page, everyone elected with the
// round and hash they come from, and the composition per kind.
func (s *Server) rollupXLSX(c *fiber.Ctx) error {
	r, err := s.rollup(c)
	if err != nil {
		return err
	}
	// A workbook filed at the district must not link to 127.0.0.1: with no
	// address others reach, the cells hold the paths, without hyperlinks.
	base := s.printedBase(c)
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheetRollupTotals); err != nil {
		return err
	}
	for _, name := range []string{sheetRollupRounds, sheetRollupElected, sheetRollupMakeup} {
		if _, err := f.NewSheet(name); err != nil {
			return err
		}
	}
	row := func(sheet string, n int, cells ...any) error {
		cell, _ := excelize.CoordinatesToCellName(1, n)
		return f.SetSheetRow(sheet, cell, &cells)
	}

	// Totals.
	rows := [][]any{{"Tổng hợp kết quả bầu cử", r.Organization}, {"Nhiệm kỳ", r.Term},
		{"Số đại hội", len(r.Congresses)}, {"Lần bỏ phiếu đã xác nhận (tính)", r.Counted},
		{"Lần bỏ phiếu chưa xác nhận (không tính)", r.NotCertified}, {},
		{"Cuộc bầu", "Số cuộc bầu", "Bầu đủ lần 1", "Bầu đủ sau bầu lại", "Bầu không đủ", "Chưa xác nhận xong",
			"Số cần bầu", "Trúng cử", "Còn thiếu", "Chưa quyết định", "Loại (mã)", "Chỉ định", "Số người được chỉ định"}}
	for _, t := range r.Totals {
		rows = append(rows, []any{t.Kind.Vietnamese(), t.Elections, t.FilledFirstRound, t.FilledLaterRound,
			t.FellShort, t.Pending, t.Seats, t.Elected, t.Vacant, t.Undecided, string(t.Kind), t.Appointed, t.AppointedPeople})
	}
	for i, cells := range rows {
		if err := row(sheetRollupTotals, i+1, cells...); err != nil {
			return err
		}
	}
	f.SetColWidth(sheetRollupTotals, "A", "A", 36)
	f.SetColWidth(sheetRollupTotals, "B", "M", 14)

	// Rounds, with hyperlinks to their sources.
	head := make([]any, len(rollupRoundsHead))
	for i, h := range rollupRoundsHead {
		head[i] = h
	}
	if err := row(sheetRollupRounds, 1, head...); err != nil {
		return err
	}
	n := 2
	for _, cg := range r.Congresses {
		for _, e := range cg.Elections {
			if a := e.Appointment; e.Appointed && a != nil {
				// An office filled by appointment: no round, no log.
				if err := row(sheetRollupRounds, n, cg.Organization, cg.Superior, cg.Name, cg.ID, e.Title, e.Kind.Vietnamese(), a.ID,
					nil, web.AppointedText(a), yesNo(false), e.Seats, nil, nil, e.Outcome.Vietnamese()); err != nil {
					return err
				}
				n++
			}
			for _, l := range e.Rounds {
				cells := []any{cg.Organization, cg.Superior, cg.Name, cg.ID, e.Title, e.Kind.Vietnamese(), l.Contest,
					l.Round, l.State.Vietnamese(), yesNo(l.Counted), l.Seats, nil, nil, e.Outcome.Vietnamese(), l.Head,
					base + l.Minutes, nil}
				if l.Counted {
					cells[11], cells[12] = l.Elected, l.Vacant+l.RevoteSeats
				}
				if l.Verify != "" {
					cells[16] = base + l.Verify
				}
				if err := row(sheetRollupRounds, n, cells...); err != nil {
					return err
				}
				for col, link := range map[int]string{rollupRoundsMinutes: l.Minutes, rollupRoundsVerifyAt: l.Verify} {
					if link == "" || base == "" {
						continue
					}
					cell, _ := excelize.CoordinatesToCellName(col, n)
					if err := f.SetCellHyperLink(sheetRollupRounds, cell, base+link, "External"); err != nil {
						return err
					}
				}
				n++
			}
		}
	}
	f.SetColWidth(sheetRollupRounds, "A", "E", 30)
	f.SetColWidth(sheetRollupRounds, "O", "Q", 40)

	// Everyone elected, with the round and hash each comes from.
	if err := row(sheetRollupElected, 1, "Tổ chức đảng", "Đại hội", "Cuộc bầu", "Loại", "Họ và tên", "Mã ứng cử viên",
		"Mã lần bỏ phiếu", "Lần", "Mã băm sổ phiếu", "Mã chỉ định"); err != nil {
		return err
	}
	n = 2
	for _, cg := range r.Congresses {
		for _, e := range cg.Elections {
			for _, p := range e.People {
				var round any = p.Round
				if p.Appointment != "" {
					round = nil // appointed: no round
				}
				if err := row(sheetRollupElected, n, cg.Organization, cg.Name, e.Title, e.Kind.Vietnamese(), p.Name, p.ID,
					p.Contest, round, p.Head, p.Appointment); err != nil {
					return err
				}
				n++
			}
		}
	}
	f.SetColWidth(sheetRollupElected, "A", "E", 30)

	// Composition per kind: counts as numbers, shares as numbers shown with
	// the policy's places.
	if err := row(sheetRollupMakeup, 1, "Cuộc bầu", "Cơ cấu", "Số người", "Tỷ lệ (%)", "Không rõ", "Tổng số trúng cử"); err != nil {
		return err
	}
	n = 2
	for _, kc := range r.Composition {
		format := "0"
		if kc.Policy.Percent.Places > 0 {
			format += "." + strings.Repeat("0", kc.Policy.Percent.Places)
		}
		pct, err := f.NewStyle(&excelize.Style{CustomNumFmt: &format})
		if err != nil {
			return err
		}
		for _, line := range makeupLines(kc) {
			p, _ := strconv.ParseFloat(line.share.Percent, 64)
			if err := row(sheetRollupMakeup, n, kc.Kind.Vietnamese(), line.label, line.share.Count, p, line.share.Unknown, kc.Report.Elected); err != nil {
				return err
			}
			cell, _ := excelize.CoordinatesToCellName(4, n)
			if err := f.SetCellStyle(sheetRollupMakeup, cell, cell, pct); err != nil {
				return err
			}
			n++
		}
	}
	f.SetColWidth(sheetRollupMakeup, "A", "B", 32)

	buf, err := f.WriteToBuffer()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Set(fiber.HeaderContentDisposition, rollupFilename(r.Organization, "xlsx"))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

func yesNo(b bool) string {
	if b {
		return "có"
	}
	return "không"
}

type makeupLine struct {
	label string
	share tally.Share
}

// makeupLines are a composition report's lines in the order of the
// minutes: women, young, ethnic minorities, incumbents, the age bands.
func makeupLines(kc tally.KindComposition) []makeupLine {
	rep := kc.Report
	lines := []makeupLine{{"Nữ", rep.Women}}
	if rep.Young != nil {
		lines = append(lines, makeupLine{fmt.Sprintf("Cán bộ trẻ (dưới %d tuổi)", kc.Policy.YoungUnder), *rep.Young})
	}
	lines = append(lines, makeupLine{"Người dân tộc thiểu số", rep.EthnicMinority}, makeupLine{"Tái cử", rep.Incumbent})
	for _, b := range rep.AgeBands {
		lines = append(lines, makeupLine{"Độ tuổi " + b.Label, b.Share})
	}
	return lines
}

// rollupPage: /rollup — pick an organization, see its roll-up with links to
// every source, download it.
func (s *Server) rollupPage(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	congresses, err := s.congresses(ctx)
	cancel()
	if err != nil {
		return err
	}
	// The organizations to pick from: every organization and superior named
	// by a congress record, once, in Vietnamese order.
	seen := map[string]bool{}
	var orgs []string
	for _, cg := range congresses {
		for _, o := range []string{cg.Organization, cg.Superior} {
			if k := tally.OrganizationKey(o); o != "" && !seen[k] {
				seen[k] = true
				orgs = append(orgs, o)
			}
		}
	}
	web.SortVietnamese(orgs)
	data := struct {
		Organizations []string
		Organization  string
		Term          string
		Report        *web.RollupReport
		Error         string
	}{Organizations: orgs, Organization: c.Query("organization"), Term: c.Query("term")}
	if data.Organization != "" {
		r, err := s.rollup(c)
		switch k := tally.ErrorKind(err); {
		case err == nil:
			data.Report = web.BuildRollupReport(r)
		case k == tally.Invalid || k == tally.NotFound:
			data.Error = err.Error()
		default:
			return err
		}
	}
	return s.render(c, fiber.StatusOK, "rollup", s.page(c, "rollup.title", data))
}
