package api

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// The candidate import (POST /candidates/import) reads files an admin
// brings from elsewhere: CSV and XLSX. On any bytes it never panics,
// refuses only with invalid or too_large naming the row or the file, and
// what it accepts is a list the contest form can take.

var csvSeeds = []string{
	"Họ và tên,Giới tính,Ngày sinh\nNguyễn Văn An,Nam,1975-03-02\nTrần Thị Bình,Nữ,02/03/1980\n",
	"\xef\xbb\xbfSTT;Họ và tên;Dân tộc thiểu số;Tái cử\n1;Lê Văn Cường;x;\n2;Phạm Thị Dung;;có\n",
	"Mã,Họ và tên\nc1,A\nc1,B\n",
	"Mã,Họ và tên\n,A\n",
	"name,gender\n\"Nguyễn \"\"Văn\"\" An\",male\n",
	"name,motto\nA,?\n",
	"name,name\nA,B\n",
	"ngay sinh\n1975-03-02\n",
	"\n\n\nHọ và tên\n\n",
	"Họ và tên\n\"unterminated\n",
	"Họ và tên\n\xff\xfe\n",
	"Ho va ten,Ngay sinh\nA,31/02/1975\nB,99999\n",
	"",
}

func FuzzImportCSV(f *testing.F) {
	for _, s := range csvSeeds {
		f.Add("danh-sach.csv", []byte(s))
	}
	f.Add("danh-sach.xlsx", []byte("Họ và tên\nA\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		checkImport(t, name, data)
	})
}

// xlsxSeed builds a workbook with rows, as a spreadsheet program would.
func xlsxSeed(tb testing.TB, rows [][]any) []byte {
	tb.Helper()
	x := excelize.NewFile()
	defer x.Close()
	for r, row := range rows {
		for c, v := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if err := x.SetCellValue("Sheet1", cell, v); err != nil {
				tb.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzImportXLSX mutates real workbooks (zip archives of XML): broken
// archives, broken XML, odd cells.
func FuzzImportXLSX(f *testing.F) {
	f.Add(xlsxSeed(f, [][]any{{"Họ và tên", "Giới tính", "Ngày sinh", "Tái cử"}, {"Nguyễn Văn An", "Nam", 27455, "x"}, {"Trần Thị Bình", "Nữ", "02/03/1980", ""}}))
	f.Add(xlsxSeed(f, [][]any{{"Mã", "Họ và tên"}, {"c1", "A"}, {"c1", "B"}}))
	f.Add(xlsxSeed(f, [][]any{{"motto"}, {1.5}}))
	f.Add(xlsxSeed(f, nil))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// A crafted archive must not hang the import: crash the worker
		// (the fuzzer then keeps the input) after 10 s.
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				panic(fmt.Sprintf("one workbook took more than 10 s: %q", data))
			}
		}()
		checkImport(t, "danh-sach.xlsx", data)
	})
}

var birthPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

func checkImport(t *testing.T, name string, data []byte) {
	t.Helper()
	rows, raw, err := readSheet(name, data)
	var cands []tally.Candidate
	if err == nil {
		cands, err = candidatesFrom(rows, raw)
	}
	if err != nil {
		for _, p := range tally.Problems(err) {
			if (p.Kind != tally.Invalid && p.Kind != tally.TooLarge) || p.Field == "" || strings.TrimSpace(p.Message) == "" {
				t.Fatalf("refusal %#v: want invalid or too_large naming the row or the file (%v)", p, err)
			}
		}
		return
	}
	if len(cands) == 0 || len(cands) > tally.MaxCandidates {
		t.Fatalf("accepted %d candidates", len(cands))
	}
	ids := map[string]bool{}
	for i, c := range cands {
		if c.Name == "" || !utf8.ValidString(c.Name) || utf8.RuneCountInString(c.Name) > 200 || strings.TrimSpace(c.Name) != c.Name {
			t.Fatalf("candidate %d: name %q", i, c.Name)
		}
		if c.ID == "" || ids[c.ID] {
			t.Fatalf("candidate %d: id %q (empty or twice)", i, c.ID)
		}
		ids[c.ID] = true
		if c.BirthDate != "" && !birthPattern.MatchString(c.BirthDate) {
			t.Fatalf("candidate %d: birth date %q", i, c.BirthDate)
		}
		if c.Gender != "" && c.Gender != tally.GenderMale && c.Gender != tally.GenderFemale {
			t.Fatalf("candidate %d: gender %q", i, c.Gender)
		}
	}
}
