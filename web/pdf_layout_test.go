package web

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/tally"
)

// The minutes' page layout (issue 13): the signatures never stand alone
// on a sheet, and no table cell breaks inside a word (a time, a number).

// TestMinutesPDFSignaturesKeepTheClosing moves the end of the body down a
// line at a time (complaints of 0 to 40 lines), so that the closing and
// the signatures meet every page boundary; the sheet with the signature
// titles must always hold the closing sentence.
func TestMinutesPDFSignaturesKeepTheClosing(t *testing.T) {
	base := minutesCases(t)[0] // certified: the closing sentences are printed
	if base.in.Record.State != tally.StateCertified {
		t.Fatalf("the first case is %s, want certified", base.in.Record.State)
	}
	alone := 0
	for k := range 41 {
		in := base.in
		lines := make([]string, k)
		for i := range lines {
			lines[i] = fmt.Sprintf("Khiếu nại %d: đã được Ban Kiểm phiếu xem xét và trả lời tại hội nghị.", i+1)
		}
		in.Notes.Complaints = strings.Join(lines, "\n")
		m := BuildMinutes(in)
		last := m.Closing[len(m.Closing)-1]
		pdf, err := MinutesPDF(m)
		if err != nil {
			t.Fatal(err)
		}
		pages := strings.Split(minutesPDFText(t, pdf, "-raw"), "\f")
		found := false
		for i, page := range pages {
			flat := strings.Join(strings.Fields(page), " ")
			if !strings.Contains(flat, m.Signatures.HeadTitle) {
				continue
			}
			found = true
			if !strings.Contains(flat, strings.Join(strings.Fields(last), " ")) {
				alone++
				t.Errorf("%d complaint lines: page %d has the signatures without the closing sentence %q", k, i+1, last)
			}
		}
		if !found {
			t.Fatalf("%d complaint lines: no page has %q", k, m.Signatures.HeadTitle)
		}
	}
	t.Logf("signatures without the closing sentence: %d of 41 layouts", alone)
}

// TestMinutesPDFCellsKeepWords: in every table of every case's minutes,
// the PDF wraps a cell at spaces only — "03:38:32" and "Phiếu" are never
// cut — with the columns' fixed widths.
func TestMinutesPDFCellsKeepWords(t *testing.T) {
	for _, tc := range minutesCases(t) {
		m := BuildMinutes(tc.in)
		checkCellsKeepWords(t, tc.name, m.Date, minutesTables(m))
	}
}

// checkCellsKeepWords checks that the PDF wraps every cell of tables at
// spaces only: the header row at its size, the body bold or not.
func checkCellsKeepWords(t *testing.T, name string, date time.Time, tables []MinutesTable) {
	t.Helper()
	r := &pdfWriter{pdf: newPDF(date, "", "", pdfMarginL, pdfMarginR), m: &Minutes{}}
	r.pdf.AddPage()
	whole := func(cell string, col MinutesColumn, style string, size float64) {
		r.font(style, size)
		cell = strings.Join(strings.Fields(cell), " ")
		if got := r.split(cell, col.Width); strings.Join(got, " ") != cell {
			t.Errorf("%s: %q in the %q column (%g mm, %g pt) breaks inside a word: %q", name, cell, col.Title, col.Width, size, got)
		}
	}
	for _, tb := range tables {
		size := r.headSize(tb.Columns)
		for _, col := range tb.Columns {
			whole(col.Title, col, "B", size)
		}
		for _, row := range tb.Rows {
			for i, col := range tb.Columns {
				if !strings.Contains(row.Cells[i], "/verify/") && len(row.Cells[i]) < 64 { // a hash may break
					whole(row.Cells[i], col, map[bool]string{true: "B", false: ""}[row.Strong], pdfTableSize)
				}
			}
		}
	}
}

// TestRollupPDFLayout: the roll-up PDF has the Party header, column heads
// that wrap between words only, and its dates in Vietnam time — a round
// certified at 03:30 on the 21st (20:30 UTC on the 20th) is of the 21st.
func TestRollupPDFLayout(t *testing.T) {
	tc := minutesCases(t)[0]
	rec := *tc.in.Record
	rec.Congress = tc.in.Congress.ID
	rec.Certified = "2025-05-20T20:30:00Z"
	r, err := tally.ComputeRollup(tally.RollupInput{Organization: tc.in.Congress.Organization,
		Congresses: []*tally.CongressRecord{tc.in.Congress}, Rounds: []tally.RollupRound{{Record: &rec, Result: tc.in.Result}}})
	if err != nil {
		t.Fatal(err)
	}
	rep := BuildRollupReport(r)
	if r.Counted != 1 {
		t.Fatalf("%d rounds counted, want 1", r.Counted)
	}
	tables := append([]MinutesTable{rep.Totals, rep.Elections, rep.Sources}, rep.Makeup...)
	checkCellsKeepWords(t, "roll-up", rep.Date, tables)
	// Readable heads: none set below 9.5 pt to keep its words whole.
	r0 := &pdfWriter{pdf: newPDF(rep.Date, "", "", 15, 15), m: &Minutes{}}
	r0.pdf.AddPage()
	for _, tb := range tables {
		if size := r0.headSize(tb.Columns); size < 9.5 {
			t.Errorf("the roll-up's %q table sets its heads in %g pt, want ≥ 9.5", tb.Heading, size)
		}
	}
	pdf, err := RollupPDF(rep)
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("KP_ARTIFACTS"); dir != "" { // to look at
		os.WriteFile(filepath.Join(dir, "rollup.pdf"), pdf, 0o644)
	}
	flat := strings.Join(strings.Fields(minutesPDFText(t, pdf, "-raw")), " ")
	for _, want := range []string{"ĐẢNG CỘNG SẢN VIỆT NAM", strings.ToUpper(tc.in.Congress.Organization),
		"ngày 21 tháng 5 năm 2025", "số liệu đến ngày 21 tháng 5 năm 2025"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the roll-up PDF lacks %q", want)
		}
	}
	if strings.Contains(flat, "ngày 20 tháng 5 năm 2025") {
		t.Error("the roll-up PDF dates the figures by the UTC day")
	}
}

// TestMinutesPDFTimeAcrossDays: a count past midnight prints the date with
// each time; in the annex's column it takes two whole lines.
func TestMinutesPDFTimeAcrossDays(t *testing.T) {
	r := &pdfWriter{pdf: newPDF(time.Time{}, "", "", pdfMarginL, pdfMarginR), m: &Minutes{}}
	r.pdf.AddPage()
	stamp := journalTime("2025-05-20T17:30:05Z") // 00:30:05 on the 21st in Vietnam
	if stamp != "00:30:05 21/05/2025" {
		t.Fatalf("journalTime = %q", stamp)
	}
	r.font("", pdfTableSize)
	if got := r.split(stamp, journalTimeW); len(got) != 2 || got[0] != "00:30:05" || got[1] != "21/05/2025" {
		t.Errorf("%q in the time column: %q, want the time and the date on a line each", stamp, got)
	}
}

func columnTitles(t MinutesTable) []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Title
	}
	return out
}

// minutesTables lists every table the minutes print.
func minutesTables(m *Minutes) []MinutesTable {
	out := []MinutesTable{m.Results}
	if m.Elected.Table != nil {
		out = append(out, *m.Elected.Table)
	}
	for _, l := range m.Corrections.Lists() {
		if l.Table != nil {
			out = append(out, *l.Table)
		}
	}
	if j := m.Journal; j != nil {
		for _, tb := range []*MinutesTable{j.Keyings, j.Decisions} {
			if tb != nil {
				out = append(out, *tb)
			}
		}
	}
	return out
}

func TestMinutesLocality(t *testing.T) {
	for _, tc := range []struct{ org, place, want string }{
		{"Đảng bộ phường Hoàn Kiếm", "Hội trường Trung tâm Văn hóa phường Hoàn Kiếm", "Hoàn Kiếm"},
		{"Đảng bộ Phường 4", "", "Phường 4"},
		{"Đảng bộ phường 4", "", "Phường 4"},
		{"Đảng bộ tỉnh Nghệ An", "", "Nghệ An"},
		{"Đảng bộ thành phố Hà Nội", "", "Hà Nội"},
		{"Đảng bộ xã  Đông Hòa", "", "Đông Hòa"},
		{"Đảng bộ đặc khu Phú Quốc", "", "Phú Quốc"},
		{"Chi bộ Khu phố 3", "Phường 4", "Phường 4"}, // not named after a unit: the place typed
		{"Đảng bộ Công ty Điện lực", "Hà Nội", "Hà Nội"},
		{"Đảng bộ Công ty Điện lực", "", ""},
	} {
		cg := &tally.CongressRecord{Organization: tc.org, Place: tc.place}
		if got := minutesLocality(cg); got != tc.want {
			t.Errorf("minutesLocality(%q, place %q) = %q, want %q", tc.org, tc.place, got, tc.want)
		}
	}
}
