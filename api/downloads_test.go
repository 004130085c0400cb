package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// The results download as CSV (UTF-8 with a BOM, for Excel) and as XLSX,
// with the names exactly as entered and the same figures as the result.
func TestExports(t *testing.T) {
	h := newHarness(t)
	h.openContest(contestDef("exp"))
	// D = 8: c1 struck on 1 of 6 ballots → 5 votes (62,50%); c4 struck on all.
	h.castStrike("exp", strikes("a", 5, "c4")...)
	h.castStrike("exp", strikes("b", 1, "c1", "c4")...)
	mustStatus(t, h.postBallot("exp", tally.Ballot{ID: "x", Struck: []string{}}), http.StatusCreated) // over-vote

	r := h.do("GET", "/contests/exp/export.csv", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	if got := r.header.Get("Content-Type"); got != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if got, want := r.header.Get("Content-Disposition"), `attachment; filename="exp-lan1.csv"`; got != want {
		t.Errorf("Content-Disposition = %q, want %q", got, want)
	}
	body, ok := bytes.CutPrefix(r.body, []byte("\xef\xbb\xbf"))
	if !ok {
		t.Fatal("the CSV does not start with a UTF-8 byte-order mark")
	}
	if !bytes.Contains(body, []byte("\r\n")) {
		t.Error("the CSV lines do not end with CRLF")
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"TT", "Mã", "Họ và tên", "Số phiếu", "Tỷ lệ so với D", "Kết quả"},
		{"1", "c1", "Nguyễn Văn An", "5", "62,50%", "Trúng cử"},
		{"2", "c2", "Trần Thị Bình", "6", "75,00%", "Trúng cử"},
		{"3", "c3", "Lê Văn Cường", "6", "75,00%", "Trúng cử"},
		{"4", "c4", "Phạm Thị Dung", "0", "0,00%", "Không trúng cử"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("CSV rows\n got %q\nwant %q", rows, want)
	}

	r = h.do("GET", "/contests/exp/export.xlsx", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	f, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("not a workbook: %v", err)
	}
	defer f.Close()
	if got, want := f.GetSheetList(), []string{"Kết quả", "Tổng hợp"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	xrows, err := f.GetRows("Kết quả")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(want); i++ {
		if got := xrows[i][2]; got != want[i][2] {
			t.Errorf("row %d name %q, want %q", i, got, want[i][2])
		}
		if got := xrows[i][3]; got != want[i][3] {
			t.Errorf("row %d votes %q, want %q", i, got, want[i][3])
		}
	}
	// Percentages are numbers shown with the contest's two places.
	if got, _ := f.GetCellValue("Kết quả", "E2"); got != "62.50" {
		t.Errorf("E2 shows %q, want 62.50", got)
	}
	if typ, _ := f.GetCellType("Kết quả", "D2"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Errorf("votes are stored as text (%v), want numbers", typ)
	}
	summary, _ := f.GetRows("Tổng hợp")
	var d, invalid string
	for _, row := range summary {
		switch {
		case row[0] == "Số để tính tỷ lệ (D)":
			d = row[1]
		case strings.TrimSpace(row[0]) == tally.ReasonOverVote.Vietnamese():
			invalid = row[1]
		}
	}
	if d != "8" || invalid != "1" {
		t.Errorf("summary: D %q, over-votes %q; want 8 and 1\n%q", d, invalid, summary)
	}
}

// Downloads follow the result's visibility: public only for live contests
// or once certified.
func TestExportsVisibility(t *testing.T) {
	h := newHarness(t)
	h.openContest(contestDef("closed-vis"))
	h.openContest(with(contestDef("live-vis"), "visibility", "live"))
	for _, ext := range []string{"csv", "xlsx"} {
		mustError(t, h.do("GET", "/contests/closed-vis/export."+ext, nil), http.StatusUnauthorized, "")
		mustStatus(t, h.do("GET", "/contests/live-vis/export."+ext, nil), http.StatusOK)
		mustStatus(t, h.do("GET", "/contests/closed-vis/export."+ext, nil, bearer(h.issueToken("viewer", "v"))), http.StatusOK)
		mustError(t, h.do("GET", "/contests/nope/export."+ext, nil, asAdmin), http.StatusNotFound, "")
	}
}

// The export for `kiemphieu verify` holds the record, the whole log and the
// recounted result, and verifies; the head is the one recorded at close.
func TestExportLog(t *testing.T) {
	h := newHarness(t)
	h.openContest(contestDef("vx"))
	h.castStrike("vx", strikes("a", 6, "c4")...)
	mustStatus(t, h.do("POST", "/api/v1/contests/vx/ballots/a-2/void", map[string]string{"reason": "gõ nhầm"}, asAdmin), http.StatusCreated)
	closed := h.transition("vx", "close", map[string]int{"issued": 6})

	r := h.do("GET", "/contests/vx/export.jsonl", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	lines := strings.Split(strings.TrimSpace(string(r.body)), "\n")
	if got, want := len(lines), 2+7; got != want {
		t.Fatalf("%d lines, want the header, 7 entries and the result", got)
	}
	var head tally.ExportHeader
	var tail tally.ExportTrailer
	decodeLine(t, lines[0], &head)
	decodeLine(t, lines[len(lines)-1], &tail)
	entries := make([]tally.Entry, len(lines)-2)
	for i := range entries {
		decodeLine(t, lines[i+1], &entries[i])
	}
	if head.Kind != tally.ExportKind || head.Record.State != tally.StateClosed {
		t.Fatalf("header %+v", head)
	}
	hash, res, err := tally.VerifyExport(head.Record, entries, tail.Result)
	if err != nil {
		t.Fatal(err)
	}
	if hash != closed.Head {
		t.Errorf("head %s, the record says %s", hash, closed.Head)
	}
	if res.Ballots.Total != 5 {
		t.Errorf("%d ballots counted, want 5 (one voided)", res.Ballots.Total)
	}
}

func decodeLine(t *testing.T, line string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(line), v); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
}
