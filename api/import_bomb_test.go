package api_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/internal/proof"
)

// bombRows is the security review's generator (finding 12): rows numbered
// first… first+n-1, each with one inline string "x" in the row's cell of
// column col (XFD, the last of Excel, in the report).
func bombRows(n, first int, col string) string {
	var b strings.Builder
	for r := first; r < first+n; r++ {
		fmt.Fprintf(&b, `<row r="%d"><c r="%s%d" t="inlineStr"><is><t>x</t></is></c></row>`, r, col, r)
	}
	return b.String()
}

// sheetXLSX is the least workbook whose first sheet's <sheetData> holds
// rows (XML).
func sheetXLSX(tb testing.TB, rows string) []byte {
	tb.Helper()
	sheet := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
		rows + `</sheetData></worksheet>`
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
			`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
			`</Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
			`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>` +
			`</Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
			`<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
			`<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
			`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
			`</Relationships>`},
		{"xl/worksheets/sheet1.xml", sheet},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write([]byte(p.body))
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestImportXLSXBombs replays finding 12: the report's three workbooks
// (2,000 and 50,000 rows with a cell at column XFD, 11.8 KB and 254 KB;
// one row numbered 2,147,483,000, 1.5 KB) made the import take 1 GB, run
// out of memory and spend 8.7 s of CPU. Each is now a 400 naming the file
// and what is too large. What each allocates in all (garbage included, so
// a bound on the memory it can hold) is under 32 MiB, where the old reader
// (excelize GetRows) took about 1 GB for the first: the first three stop
// at their first cell, the rows beyond a list's at row 20,001. A sixth,
// not in the report, is a tag of 12 MB of attributes.
func TestImportXLSXBombs(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		name string
		data []byte
		too  string // what the message says is too large
	}{
		{"bomb2k.xlsx", sheetXLSX(t, bombRows(2000, 1, "XFD")), "is in column 16384"},
		{"bomb50k.xlsx", sheetXLSX(t, bombRows(50000, 1, "XFD")), "is in column 16384"},
		{"rowbomb.xlsx", sheetXLSX(t, bombRows(1, 2147483000, "XFD")), "cell XFD2147483000"},
		// The same row in column A: refused for its row.
		{"rowbomb-a.xlsx", sheetXLSX(t, bombRows(1, 2147483000, "A")), "is in row 2147483000"},
		// 50,000 rows in column A: more rows than a list.
		{"rows50k.xlsx", sheetXLSX(t, `<row r="1"><c r="A1" t="inlineStr"><is><t>Họ và tên</t></is></c></row>`+
			bombRows(49999, 2, "A")), "is in row 20001"},
		// One cell with 12 MB of attributes (12 KB zipped): encoding/xml
		// holds them all at once, about 25 bytes a byte.
		{"attrbomb.xlsx", sheetXLSX(t, `<row r="1"><c r="A1"`+strings.Repeat(` a=""`, 2_500_000)+`><v>1</v></c></row>`),
			"has a tag longer than 16 KiB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r *response
			n := allocated(func() { r = h.in(t).upload(tc.name, tc.data) })
			e := mustError(t, r, http.StatusBadRequest, "file")
			if !strings.Contains(e.Message, tc.name) || !strings.Contains(e.Message, tc.too) {
				t.Errorf("message %q does not name %s and %q", e.Message, tc.name, tc.too)
			}
			proof.Reportf(t, "allocated", "MiB", "%.1f (%d bytes)", float64(n)/(1<<20), len(tc.data))
			if n > 32<<20 {
				t.Errorf("the import of %s (%d bytes) allocated %.1f MiB, more than 32 MiB", tc.name, len(tc.data), float64(n)/(1<<20))
			}
		})
	}
}

// Empty cells cost nothing wherever they are: a list whose rows carry a
// styled, empty cell at XFD (as a spreadsheet formatted to the edge
// writes) imports.
func TestImportXLSXEmptyCellsAnywhere(t *testing.T) {
	h := newHarness(t)
	var rows strings.Builder
	rows.WriteString(`<row r="1"><c r="A1" t="inlineStr"><is><t>Họ và tên</t></is></c><c r="XFD1" s="1"/></row>`)
	for r := 2; r <= 11; r++ {
		fmt.Fprintf(&rows, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>Ứng viên %d</t></is></c><c r="XFD%d" s="1"/></row>`, r, r, r, r)
	}
	rows.WriteString(`<row r="1048576"><c r="XFD1048576" s="1"/></row>`)
	r := h.upload("ds.xlsx", sheetXLSX(t, rows.String()))
	mustStatus(t, r, http.StatusOK)
	var got struct{ Candidates []struct{ ID, Name string } }
	decode(t, r, &got)
	if len(got.Candidates) != 10 || got.Candidates[9].Name != "Ứng viên 11" {
		t.Errorf("candidates %+v", got.Candidates)
	}
}
