package api

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// workbook zips parts into an XLSX: the package and workbook
// relationships, a workbook of one sheet, and the parts given (the sheet at
// least), each by name.
func workbook(tb testing.TB, book string, parts map[string]string) []byte {
	tb.Helper()
	if book == "" {
		book = `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
			`<sheets><sheet name="DS" sheetId="1" r:id="rId1"/></sheets></workbook>`
	}
	all := map[string]string{
		"_rels/.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml": book,
		"xl/_rels/workbook.xml.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="/xl/sharedStrings.xml"/></Relationships>`,
	}
	for k, v := range parts {
		all[k] = v
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range all {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func sheetPart(data string) string {
	return `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + data + `</sheetData></worksheet>`
}

// The reader gives each cell's value as the old one (excelize GetRows with
// raw values) did: shared strings with their runs and without phonetic
// runs, inline strings, numbers and booleans as written, cells placed by
// their reference or after the one before, and dates of t="d" cells to
// the day.
func TestReadXLSXValues(t *testing.T) {
	sst := `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
		`<si><t>Họ và tên</t></si><si><r><t>Nguyễn </t></r><r><t xml:space="preserve">Văn An</t></r><rPh><t>ふりがな</t></rPh></si>` +
		`<si><t>Ngày sinh</t></si><si><t>Tái cử</t></si></sst>`
	sheet := sheetPart(`<row r="1"><c r="A1" t="s"><v>0</v></c><c t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>` +
		`<row><c r="A2" t="s"><v>1</v></c><c r="B2" s="3"><v>27455</v></c><c r="C2"><f>1+1</f><v>2</v></c><c r="D2" t="b"><v>1</v></c></row>` +
		`<row r="4"><c r="A4" t="inlineStr"><is><t>Trần &amp; Bình</t></is></c><c r="B4" t="d"><v>1988-12-31T00:00:00Z</v></c></row>`)
	rows, from1904, err := readXLSX("ds.xlsx", workbook(t, "", map[string]string{"xl/worksheets/sheet1.xml": sheet, "xl/sharedStrings.xml": sst}))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Họ và tên", "Ngày sinh", "", "Tái cử"},
		{"Nguyễn Văn An", "27455", "2", "1"},
		nil,
		{"Trần & Bình", "1988-12-31"},
	}
	if fmt.Sprintf("%q", rows) != fmt.Sprintf("%q", want) || from1904 {
		t.Errorf("rows %q (1904: %v), want %q", rows, from1904, want)
	}
	cands, err := candidatesFrom(rows, serialDates)
	if err != nil {
		t.Fatal(err)
	}
	if cands[0].BirthDate != "1975-03-02" || cands[1].BirthDate != "1988-12-31" || !*cands[0].Incumbent {
		t.Errorf("candidates %+v", cands)
	}
}

// A workbook counting its dates from 1904 (old Excel for Mac) gives the
// same birth date for its serial number.
func TestReadXLSXDate1904(t *testing.T) {
	book := `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
		`<workbookPr date1904="1"/><sheets><sheet name="DS" sheetId="1" r:id="rId1"/></sheets></workbook>`
	sheet := sheetPart(`<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c><c r="B1" t="inlineStr"><is><t>birth_date</t></is></c></row>` +
		`<row r="2"><c r="A2" t="inlineStr"><is><t>An</t></is></c><c r="B2"><v>25993</v></c></row>`)
	data := workbook(t, book, map[string]string{"xl/worksheets/sheet1.xml": sheet})
	rows, dates, err := readSheet("ds.xlsx", data)
	if err != nil {
		t.Fatal(err)
	}
	cands, err := candidatesFrom(rows, dates)
	if err != nil {
		t.Fatal(err)
	}
	if dates != serialDates1904 || cands[0].BirthDate != "1975-03-02" {
		t.Errorf("dates %v, birth date %q; want 1904 and 1975-03-02", dates, cands[0].BirthDate)
	}
}

// What a candidate list cannot be is refused, naming the file and what is
// too large or wrong; none of these is read past its fault.
func TestReadXLSXRefusals(t *testing.T) {
	header := `<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>`
	manyStrings := strings.Repeat("<si><t>x</t></si>", maxImportCells+1)
	cases := []struct {
		name  string
		parts map[string]string
		want  string
	}{
		{"a sheet unpacking beyond its bound", map[string]string{"xl/worksheets/sheet1.xml": sheetPart(header + strings.Repeat(" ", maxImportPart))},
			`"xl/worksheets/sheet1.xml" unpacks to more than 16 MiB`},
		{"a shared string table beyond its bound", map[string]string{"xl/worksheets/sheet1.xml": sheetPart(header),
			"xl/sharedStrings.xml": "<sst>" + manyStrings + "</sst>"}, "more than 200000 strings"},
		{"a cell of too much text", map[string]string{"xl/worksheets/sheet1.xml": sheetPart(header +
			`<row r="2"><c r="A2" t="inlineStr"><is><t>` + strings.Repeat("x", maxImportCellText+1) + `</t></is></c></row>`)}, "cell A2 holds more than 32767 bytes"},
		{"too many cells", map[string]string{"xl/worksheets/sheet1.xml": sheetPart(strings.Repeat(`<row><c><v>1</v></c><c><v>1</v></c><c><v>1</v></c><c><v>1</v></c><c><v>1</v></c><c><v>1</v></c><c><v>1</v></c><c><v>1</v></c><c><v>1</v></c><c><v>1</v></c><c><v>1</v></c></row>`, maxImportRows))},
			"more than 200000 cells"},
		{"a tag too long", map[string]string{"xl/worksheets/sheet1.xml": sheetPart(`<row r="1" x="` + strings.Repeat(">", maxImportTag) + `"/>`)},
			"has a tag longer than 16 KiB"},
		{"a shared string not in the table", map[string]string{"xl/worksheets/sheet1.xml": sheetPart(`<row r="1"><c r="A1" t="s"><v>7</v></c></row>`)},
			`cell A1 names shared string "7" of 0`},
		{"a bad reference", map[string]string{"xl/worksheets/sheet1.xml": sheetPart(`<row r="1"><c r="AAAA1"><v>1</v></c></row>`)}, `cell reference "AAAA1"`},
		{"a bad row number", map[string]string{"xl/worksheets/sheet1.xml": sheetPart(`<row r="99999999999999999999"/>`)}, "row number"},
		{"no sheet part", map[string]string{}, "is missing"},
		{"broken XML", map[string]string{"xl/worksheets/sheet1.xml": sheetPart(`<row r="1"><c r="A1"><v>1</c></row>`)}, "not a readable XLSX workbook"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readSheet("ds.xlsx", workbook(t, "", tc.parts))
			p := tally.Problems(err)
			if err == nil || p[0].Kind != tally.Invalid || p[0].Field != "file" ||
				!strings.Contains(p[0].Message, "ds.xlsx: ") || !strings.Contains(p[0].Message, tc.want) {
				t.Fatalf("err = %v, want invalid, field file, naming ds.xlsx and %q", err, tc.want)
			}
		})
	}
}

// A list of the most candidates a contest may have imports; one more is a
// 400 naming the row.
func TestImportXLSXMaxCandidates(t *testing.T) {
	for _, n := range []int{tally.MaxCandidates, tally.MaxCandidates + 1} {
		rows, dates, err := readSheet("ds.xlsx", listXLSX(t, n))
		if err != nil {
			t.Fatal(err)
		}
		cands, err := candidatesFrom(rows, dates)
		switch {
		case n <= tally.MaxCandidates && (err != nil || len(cands) != n):
			t.Errorf("%d names: %d candidates, %v", n, len(cands), err)
		case n > tally.MaxCandidates && (tally.ErrorKind(err) != tally.Invalid || !strings.Contains(err.Error(), "more than 10000 candidates")):
			t.Errorf("%d names: %v, want invalid: more than 10000 candidates", n, err)
		}
	}
}

// listXLSX is a list of n candidates as excelize writes it (shared
// strings, a date column).
func listXLSX(tb testing.TB, n int) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	sw.SetRow("A1", []any{"STT", "Họ và tên", "Giới tính", "Ngày sinh", "Tái cử"})
	for i := 1; i <= n; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		sw.SetRow(cell, []any{i, fmt.Sprintf("Nguyễn Văn Ứng Viên %05d", i), "Nam", 27455 + i%3000, "x"})
	}
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkImportXLSX reads a list of 10,000 candidates: "read" the
// sheet with this reader, "excelize" with the reader before (GetRows with
// raw values), "import" the whole import (reading and checking the list).
//
//	go test -run '^$' -bench BenchmarkImportXLSX -benchmem ./api/
func BenchmarkImportXLSX(b *testing.B) {
	list := listXLSX(b, tally.MaxCandidates)
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := readSheet("ds.xlsx", list); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("excelize", func(b *testing.B) {
		for b.Loop() {
			f, err := excelize.OpenReader(bytes.NewReader(list))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := f.GetRows("Sheet1", excelize.Options{RawCellValue: true}); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	b.Run("import", func(b *testing.B) {
		for b.Loop() {
			rows, dates, err := readSheet("ds.xlsx", list)
			if err == nil {
				_, err = candidatesFrom(rows, dates)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
