package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// exportTable is the results table as people read it in a spreadsheet: the
// candidates in ballot order with votes, % of D and the outcome. The
// columns numericColumn names hold figures the service formats itself;
// the others are text.
func exportTable(res *tally.Result, kind tally.ContestKind, approve bool) [][]string {
	head := []string{"TT", "Mã", "Họ và tên", "Số phiếu", kind.PercentColumn(), "Kết quả"}
	if approve {
		head = append(head, "Đồng ý", "Không đồng ý", "Không rõ")
	}
	rows := [][]string{head}
	for i, cr := range res.Candidates {
		row := []string{strconv.Itoa(i + 1), cr.ID, cr.Name, strconv.Itoa(cr.Votes), cr.Text, kind.StatusVietnamese(cr.Status)}
		if approve {
			row = append(row, strconv.Itoa(*cr.Agree), strconv.Itoa(*cr.Disagree), strconv.Itoa(*cr.Unmarked))
		}
		rows = append(rows, row)
	}
	return rows
}

// numericColumn tells the columns of exportTable that hold counts (TT, the
// votes, the approve counts) or the percentage of D: figures the service
// formats, never text a person typed.
func numericColumn(i int) bool {
	switch i {
	case 0, 3, 4, 6, 7, 8:
		return true
	}
	return false
}

// formulaSafe keeps a text cell from being run as a formula by the
// spreadsheet that opens the CSV (DESIGN §7.1): a cell starting with =, +,
// -, @, a tab or a CR gets a leading ', which Excel and LibreOffice show
// as text and do not evaluate. Candidate names come from outside the
// service (lists prepared elsewhere, ward exports), so
// "=HYPERLINK(…)" must stay a name. Only text cells: a count or a
// percentage the service writes is a figure, and a leading - there would be
// a negative number, not a formula (counts are never negative).
func formulaSafe(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// exportSummary is the ballot accounting of the round, label and value.
func exportSummary(c *tally.Contest, res *tally.Result) [][]string {
	rows := [][]string{
		{"Cuộc bầu", c.Title},
		{"Lần bỏ phiếu", strconv.Itoa(res.Round)},
		{"Số lượng cần bầu", strconv.Itoa(res.Seats)},
	}
	for _, l := range c.Kind.BaseVietnamese(res) {
		rows = append(rows, []string{l.Label, strconv.Itoa(l.Count)})
	}
	rows = append(rows, [][]string{
		{"Số phiếu thu vào", strconv.Itoa(res.Ballots.Total)},
		{"Số phiếu hợp lệ", strconv.Itoa(res.Ballots.Valid)},
		{"Số phiếu không hợp lệ", strconv.Itoa(res.Ballots.Invalid)},
	}...)
	for _, r := range tally.Reasons() {
		if n := res.Ballots.InvalidByReason[r.String()]; n > 0 {
			rows = append(rows, []string{"  " + c.Kind.ReasonVietnamese(r), strconv.Itoa(n)})
		}
	}
	names := map[string]string{}
	for _, cr := range res.Candidates {
		names[cr.ID] = cr.Name
	}
	for i, id := range res.Elected {
		rows = append(rows, []string{fmt.Sprintf("%s %d", c.Kind.ChosenVietnamese(), i+1), names[id]})
	}
	if len(res.Tied) > 0 {
		tied := make([]string, len(res.Tied))
		for i, id := range res.Tied {
			tied[i] = names[id]
		}
		if c.Kind == tally.KindIntroduction {
			rows = append(rows, []string{"Bằng phiếu ở vị trí cuối, đại hội quyết định", strings.Join(tied, ", ")},
				[]string{"Số chỗ còn lại", strconv.Itoa(res.RevoteSeats)})
		} else {
			rows = append(rows, []string{"Bằng phiếu, bầu lại", strings.Join(tied, ", ")},
				[]string{"Số chỗ bầu lại", strconv.Itoa(res.RevoteSeats)})
		}
	}
	if res.Vacant > 0 {
		rows = append(rows, []string{"Còn thiếu", strconv.Itoa(res.Vacant)})
	}
	return append(rows, []string{"Phiên bản sổ phiếu", strconv.FormatInt(*res.Version, 10)})
}

func (s *Server) exportSnapshot(c *fiber.Ctx) (*cachedContest, *Snapshot, error) {
	ctx, cancel := storeCtx()
	defer cancel()
	cc, _, err := s.contest(ctx, c.Params("id"))
	if err != nil {
		return nil, nil, err
	}
	snap, err := s.broker.Snapshot(ctx, cc.ID)
	return cc, snap, err
}

func attachment(c *fiber.Ctx, cc *cachedContest, ext string) {
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-lan%d.%s"`, cc.ID, cc.Round, ext))
}

// exportCSV serves the results table as CSV: UTF-8 with a byte-order mark
// and CRLF line ends, so that Excel opens the Vietnamese names correctly.
func (s *Server) exportCSV(c *fiber.Ctx) error {
	cc, snap, err := s.exportSnapshot(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	table := exportTable(snap.Result, cc.Kind, cc.Ballot == tally.StyleApprove)
	for _, row := range table {
		for i := range row {
			if !numericColumn(i) {
				row[i] = formulaSafe(row[i])
			}
		}
	}
	if err := w.WriteAll(table); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	attachment(c, cc, "csv")
	return c.Send(buf.Bytes())
}

// exportXLSX serves the results as a workbook: the table (numbers as
// numbers, % of D with the contest's places) and a summary sheet.
func (s *Server) exportXLSX(c *fiber.Ctx) error {
	cc, snap, err := s.exportSnapshot(c)
	if err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	const results, summary = "Kết quả", "Tổng hợp"
	if err := f.SetSheetName("Sheet1", results); err != nil {
		return err
	}
	if _, err := f.NewSheet(summary); err != nil {
		return err
	}
	format := "0"
	if cc.Percent.Places > 0 {
		format += "." + strings.Repeat("0", cc.Percent.Places)
	}
	pct, err := f.NewStyle(&excelize.Style{CustomNumFmt: &format})
	if err != nil {
		return err
	}
	table := exportTable(snap.Result, cc.Kind, cc.Ballot == tally.StyleApprove)
	table[0][4] = cc.Kind.PercentColumn() + " (%)"
	for r, row := range table {
		cells := make([]any, len(row))
		for i, v := range row {
			cells[i] = v
			if r == 0 {
				continue
			}
			switch {
			case i == 4: // the exact decimal of percent, shown with the contest's places
				p, _ := strconv.ParseFloat(snap.Result.Candidates[r-1].Percent, 64)
				cells[i] = p
			case numericColumn(i): // counts
				n, _ := strconv.Atoi(v)
				cells[i] = n
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, r+1)
		if err := f.SetSheetRow(results, cell, &cells); err != nil {
			return err
		}
	}
	if len(table) > 1 {
		if err := f.SetCellStyle(results, "E2", fmt.Sprintf("E%d", len(table)), pct); err != nil {
			return err
		}
	}
	f.SetColWidth(results, "C", "C", 28)
	for r, row := range exportSummary(cc.Contest, snap.Result) {
		cell, _ := excelize.CoordinatesToCellName(1, r+1)
		cells := []any{row[0], row[1]}
		if n, err := strconv.Atoi(row[1]); err == nil {
			cells[1] = n
		}
		if err := f.SetSheetRow(summary, cell, &cells); err != nil {
			return err
		}
	}
	f.SetColWidth(summary, "A", "A", 24)
	f.SetColWidth(summary, "B", "B", 60)
	buf, err := f.WriteToBuffer()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	attachment(c, cc, "xlsx")
	return c.Send(buf.Bytes())
}

// exportLog serves a round's export for `kiemphieu verify`: a first line
// with the round's record, the log's entries (as GET …/log), and a last
// line with the result recounted from exactly those entries.
func (s *Server) exportLog(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	id := c.Params("id")
	rec, err := s.store.Contest(ctx, id)
	if err != nil {
		return err
	}
	_, version, err := s.store.Counters(ctx, id)
	if err != nil {
		return err
	}
	var entries []tally.Entry
	for int64(len(entries)) < version {
		page, err := s.store.Entries(ctx, id, int64(len(entries)), int(min(version-int64(len(entries)), 5000)))
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return fmt.Errorf("export of %s: the log ends at %d, before version %d", id, len(entries), version)
		}
		entries = append(entries, page...)
	}
	count, err := tally.Replay(rec.Contest, entries)
	if err != nil {
		return fmt.Errorf("export of %s: %w", id, err)
	}
	res := count.Result()
	res.Version = &version

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// The import note is this instance's bookkeeping, not the round's: the
	// export of an imported round is the very file it was imported from.
	header := *rec
	header.Imported, header.ImportAnchor, header.ImportFailed = "", "", ""
	if err := enc.Encode(tally.ExportHeader{Kind: tally.ExportKind, Record: &header}); err != nil {
		return err
	}
	for _, e := range entries {
		line, _ := e.MarshalJSON()
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if err := enc.Encode(tally.ExportTrailer{Result: res}); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/jsonl; charset=utf-8")
	attachment(c, &cachedContest{Contest: rec.Contest}, "jsonl")
	return c.Send(buf.Bytes())
}
