package api_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// upload posts a file to the import endpoint as a multipart form.
func (h *harness) upload(filename string, data []byte, opts ...opt) *response {
	h.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		h.t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	opts = append([]opt{withHeader("Content-Type", mw.FormDataContentType())}, opts...)
	if len(opts) == 1 {
		opts = append(opts, asAdmin)
	}
	return h.do("POST", "/api/v1/candidates/import", buf.Bytes(), opts...)
}

// xlsx builds a workbook whose first sheet holds rows; time.Time cells
// become date cells, as Excel stores them (serial numbers).
func xlsx(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	style, err := f.NewStyle(&excelize.Style{NumFmt: 14}) // m/d/yy: what a typed date gets
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
		for j, v := range row {
			if _, ok := v.(time.Time); ok {
				c, _ := excelize.CoordinatesToCellName(j+1, i+1)
				f.SetCellStyle("Sheet1", c, c, style)
			}
		}
	}
	// A second sheet must be ignored: the first one is the list.
	f.NewSheet("Ghi chú")
	f.SetCellValue("Ghi chú", "A1", "không phải danh sách")
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestImportCandidates(t *testing.T) {
	h := newHarness(t)
	yes, no := true, false
	an := tally.Candidate{ID: "c1", Name: "Nguyễn Văn An", Gender: tally.GenderMale, BirthDate: "1975-03-02", EthnicMinority: &no, Incumbent: &yes}
	binh := tally.Candidate{ID: "c2", Name: "Trần Thị Bình", Gender: tally.GenderFemale, BirthDate: "1988-12-31", EthnicMinority: &yes, Incumbent: &no}
	nfd := "Tra\u0302\u0300n Thi\u0323 Bi\u0300nh" // NFD, as some Mac tools write it
	cases := []struct {
		name, file string
		data       []byte
		want       []tally.Candidate
	}{
		{"csv comma, Vietnamese headers", "ds.csv", []byte("STT,Họ và tên,Giới tính,Ngày sinh,Dân tộc thiểu số,Tái cử\n" +
			"1,Nguyễn Văn An,Nam,02/03/1975,,x\n2,  Trần Thị   Bình ,Nữ,1988-12-31,có,\n"), []tally.Candidate{an, binh}},
		{"csv semicolon with BOM, English headers, NFD", "list.csv", []byte("\xef\xbb\xbfname;gender;birth_date;ethnic_minority;incumbent\n" +
			"Nguyễn Văn An;male;1975-03-02;no;yes\n\n" + nfd + ";female;31/12/1988;true;false\n"), []tally.Candidate{an, binh}},
		{"csv headers without diacritics, ids given, no attributes", "ds.csv", []byte("Ma,Ho va ten\nA1,Nguyễn Văn An\nB2,Trần Thị Bình\n"),
			[]tally.Candidate{{ID: "A1", Name: "Nguyễn Văn An"}, {ID: "B2", Name: "Trần Thị Bình"}}},
		{"xlsx with date cells", "ds.xlsx", xlsx(t, [][]any{
			{"Họ và tên", "Giới tính", "Ngày sinh", "Dân tộc thiểu số", "Tái cử"},
			{"Nguyễn Văn An", "Nam", time.Date(1975, 3, 2, 0, 0, 0, 0, time.UTC), "", "x"},
			{"Trần Thị Bình", "Nữ", "31/12/1988", "x", "không"},
		}), []tally.Candidate{an, binh}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.in(t).upload(tc.file, tc.data)
			mustStatus(t, r, http.StatusOK)
			var got struct{ Candidates []tally.Candidate }
			decode(t, r, &got)
			if len(got.Candidates) != len(tc.want) {
				t.Fatalf("got %d candidates, want %d: %s", len(got.Candidates), len(tc.want), r.body)
			}
			for i, w := range tc.want {
				g := got.Candidates[i]
				if g.ID != w.ID || g.Name != w.Name || g.Gender != w.Gender || g.BirthDate != w.BirthDate ||
					!sameBool(g.EthnicMinority, w.EthnicMinority) || !sameBool(g.Incumbent, w.Incumbent) {
					t.Errorf("candidate %d = %+v, want %+v", i, show(g), show(w))
				}
			}
		})
	}
}

func sameBool(a, b *bool) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func show(c tally.Candidate) string {
	b := func(p *bool) string {
		if p == nil {
			return "nil"
		}
		if *p {
			return "true"
		}
		return "false"
	}
	return c.ID + "|" + c.Name + "|" + string(c.Gender) + "|" + c.BirthDate + "|" + b(c.EthnicMinority) + "|" + b(c.Incumbent)
}

func TestImportCandidatesErrors(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		name, file string
		data       []byte
		status     int
		field      string // the first problem's field: row and column
		message    string
	}{
		{"bad date", "ds.csv", []byte("Họ và tên,Ngày sinh\nNguyễn Văn An,1975-03-02\nTrần Thị Bình,1988-12-31\nLê Văn Cường,31/02/1980\n"),
			400, "row 4, Ngày sinh", "31/02/1980"},
		{"bad gender", "ds.csv", []byte("Họ và tên;Giới tính\nNguyễn Văn An;Nam\nTrần Thị Bình;nữ giới\n"), 400, "row 3, Giới tính", "Nam or Nữ"},
		{"empty name", "ds.csv", []byte("STT,Họ và tên\n1,Nguyễn Văn An\n2,\n"), 400, "row 3, Họ và tên", "required"},
		{"bad yes/no", "ds.csv", []byte("name,incumbent\nNguyễn Văn An,maybe\n"), 400, "row 2, incumbent", "maybe"},
		{"no name column", "ds.csv", []byte("Giới tính\nNam\n"), 400, "row 1", "Họ và tên"},
		{"duplicate id", "ds.csv", []byte("Mã,Họ và tên\nc1,Nguyễn Văn An\nc1,Trần Thị Bình\n"), 400, "row 3, Mã", "row 2"},
		{"header only", "ds.csv", []byte("Họ và tên\n"), 400, "file", "no candidates"},
		{"empty file", "ds.csv", []byte(""), 400, "file", "empty"},
		{"not UTF-8", "ds.csv", []byte("H\xe4 v\xe0 t\xean\nA\n"), 400, "file", "UTF-8"},
		{"xls", "ds.xls", []byte("\xd0\xcf\x11\xe0 old excel"), 400, "file", "XLSX"},
		{"broken csv quote", "ds.csv", []byte("Họ và tên\n\"Nguyễn Văn An\n"), 400, "row 2", "CSV"},
		{"xlsx bad date", "ds.xlsx", xlsx(t, [][]any{{"Họ và tên", "Ngày sinh"}, {"Nguyễn Văn An", "mùng 2 tháng 3"}}), 400, "row 2, Ngày sinh", "mùng 2"},
		{"too large", "ds.csv", append([]byte("Họ và tên\n"), bytes.Repeat([]byte("Nguyễn Văn An\n"), 200_000)...), 413, "file", "at most"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := mustError(t, h.in(t).upload(tc.file, tc.data), tc.status, tc.field)
			if !strings.Contains(e.Message, tc.message) {
				t.Errorf("message %q lacks %q", e.Message, tc.message)
			}
		})
	}
	// Several bad rows: all named at once.
	r := h.upload("ds.csv", []byte("Họ và tên,Ngày sinh\n,1975-03-02\nTrần Thị Bình,hôm qua\n"))
	e := mustError(t, r, 400, "row 2, Họ và tên")
	if len(e.Problems) != 2 || e.Problems[1].Field != "row 3, Ngày sinh" {
		t.Errorf("problems = %+v, want row 2 and row 3", e.Problems)
	}
	// No file, and access.
	mustError(t, h.do("POST", "/api/v1/candidates/import", "", asAdmin, withHeader("Content-Type", "multipart/form-data; boundary=x")), 400, "file")
	mustError(t, h.upload("ds.csv", []byte("name\nA\n"), bearer(h.issueToken("viewer", "v"))), 403, "")
	mustError(t, h.upload("ds.csv", []byte("name\nA\n"), withHeader("X-Nothing", "1")), 401, "")
}

// TestImportTolerant: a personnel list as the tiểu ban nhân sự sends it —
// columns the count does not use (Dân tộc, Chức vụ), a "Năm sinh" column
// of years — is imported, and the page is told what was skipped and which
// rows have a year alone (1 January of it: ages counted by years).
func TestImportTolerant(t *testing.T) {
	h := newHarness(t)
	type answer struct {
		Candidates     []tally.Candidate `json:"candidates"`
		IgnoredColumns []string          `json:"ignored_columns"`
		YearOnly       []int             `json:"year_only"`
	}
	cases := []struct {
		name, file string
		data       []byte
		births     []string
		ignored    []string
		yearOnly   []int
	}{
		{"csv with extra columns and years", "ds.csv",
			[]byte("STT,Họ và tên,Dân tộc,Năm sinh,Chức vụ\n1,Nguyễn Văn An,Kinh,1975,Bí thư\n2,Trần Thị Bình,Tày,1988,Phó Bí thư\n"),
			[]string{"1975-01-01", "1988-01-01"}, []string{"Dân tộc", "Chức vụ"}, []int{2, 3}},
		{"dates and a year mixed", "ds.csv",
			[]byte("Họ và tên;Ngày sinh\nNguyễn Văn An;02/03/1975\nTrần Thị Bình;1988\n"),
			[]string{"1975-03-02", "1988-01-01"}, []string{}, []int{3}},
		{"xlsx year as a number cell", "ds.xlsx",
			xlsx(t, [][]any{{"Họ và tên", "Năm sinh", "Quê quán"}, {"Nguyễn Văn An", 1985, "Huế"}}),
			[]string{"1985-01-01"}, []string{"Quê quán"}, []int{2}},
		{"nothing to say", "ds.csv", []byte("Họ và tên,Ngày sinh\nNguyễn Văn An,1975-03-02\n"),
			[]string{"1975-03-02"}, []string{}, []int{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.in(t).upload(tc.file, tc.data)
			mustStatus(t, r, http.StatusOK)
			var a answer
			decode(t, r, &a)
			var births []string
			for _, c := range a.Candidates {
				births = append(births, c.BirthDate)
			}
			if !slices.Equal(births, tc.births) || !slices.Equal(a.IgnoredColumns, tc.ignored) || !slices.Equal(a.YearOnly, tc.yearOnly) {
				t.Errorf("births %v, ignored %v, year only %v; want %v, %v, %v", births, a.IgnoredColumns, a.YearOnly, tc.births, tc.ignored, tc.yearOnly)
			}
			if a.IgnoredColumns == nil || a.YearOnly == nil {
				t.Errorf("notes must be lists, not null: %s", r.body)
			}
		})
	}
}
