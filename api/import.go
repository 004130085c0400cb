package api

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/unicode/norm"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Limits of a candidate import: a list of MaxCandidates names fits easily.
// An XLSX is a zip, so what it unpacks to is bounded too (xlsx.go).
const (
	maxImportFile     = 2 << 20
	maxImportProblems = 50 // enough to fix a file in one go, short enough to read
)

// importColumn is a column the import understands.
type importColumn int

const (
	colName importColumn = iota
	colGender
	colBirth
	colEthnic
	colIncumbent
	colID
	colIgnored // a sequence number (STT): the ballot order is computed, not imported
)

// importHeaders maps a header, folded (lower case, no diacritics, single
// spaces, '_' as a space), to its column. Both the Vietnamese names used in
// the Party's lists and the JSON field names are accepted.
var importHeaders = map[string]importColumn{
	"ho va ten": colName, "ho ten": colName, "name": colName, "full name": colName,
	"gioi tinh": colGender, "gender": colGender,
	"ngay sinh": colBirth, "ngay thang nam sinh": colBirth, "birth date": colBirth, "date of birth": colBirth,
	"nam sinh": colBirth, "birth year": colBirth, "year of birth": colBirth,
	"dan toc thieu so": colEthnic, "ethnic minority": colEthnic,
	"tai cu": colIncumbent, "incumbent": colIncumbent,
	"ma": colID, "id": colID,
	"stt": colIgnored, "tt": colIgnored, "no": colIgnored, "no.": colIgnored, "#": colIgnored,
}

// fold makes a header comparable: NFC, lower case, without diacritics (a
// header typed "Ngay sinh" is the same column), đ as d, '_' as a space.
func fold(s string) string {
	s = strings.ReplaceAll(strings.ToLower(norm.NFD.String(s)), "_", " ")
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'đ':
			b.WriteRune('d')
		default:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// importCandidates: POST /api/v1/candidates/import, a multipart form whose
// "file" is a CSV (UTF-8, with or without BOM, comma or semicolon) or an
// XLSX (first sheet, xlsx.go) → {"candidates": [...]} for the contest form. Nothing
// is stored: the list still goes through the contest's checks. Problems
// are 400s naming the row (as the spreadsheet numbers it) and the column
// (as the file's header writes it).
func (s *Server) importCandidates(c *fiber.Ctx) error {
	// The form is parsed from the body as readBody read it (up to the
	// route's limit), never from the connection.
	if _, err := requestBody(c); err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return errorf(tally.Invalid, "file", "required: a multipart form with the CSV or XLSX file in the field \"file\"")
	}
	if fh.Size > maxImportFile {
		return errorf(tally.TooLarge, "file", "the file is %d bytes; at most %d", fh.Size, maxImportFile)
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxImportFile+1))
	if err != nil {
		return err
	}
	if len(data) > maxImportFile {
		return errorf(tally.TooLarge, "file", "the file is over %d bytes", maxImportFile)
	}
	rows, dates, err := readSheet(fh.Filename, data)
	if err != nil {
		return err
	}
	cands, notes, err := readCandidates(rows, dates)
	if err != nil {
		return err
	}
	// The notes are for the page to say what it did not take as given:
	// the columns it skipped, the rows whose birth date is a year alone.
	return c.JSON(fiber.Map{"candidates": cands, "ignored_columns": notes.Ignored, "year_only": notes.YearOnly})
}

// dateCells says how a file holds dates: as text (a CSV), or as serial
// numbers of days (an XLSX's raw values, whatever the cell's display
// format, which would otherwise turn a birth date into "03-02-75"), counted
// from 1900 or, in a workbook marked date1904 (old Excel for Mac), from 1904.
type dateCells int

const (
	textDates dateCells = iota
	serialDates
	serialDates1904
)

// readSheet returns the rows of a CSV or of an XLSX's first sheet.
func readSheet(filename string, data []byte) (rows [][]string, dates dateCells, err error) {
	// An XLSX is a zip: its magic number decides, not the file's name.
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		rows, from1904, err := readXLSX(filename, data)
		if from1904 {
			return rows, serialDates1904, err
		}
		return rows, serialDates, err
	}
	if strings.HasSuffix(strings.ToLower(filename), ".xlsx") || strings.HasSuffix(strings.ToLower(filename), ".xls") {
		return nil, textDates, refused(errorf(tally.Invalid, "file", "%.80q is not an XLSX workbook (an old .xls must be saved as .xlsx or CSV)", filename), "refusal.import.format")
	}
	rows, err = readCSV(data)
	return rows, textDates, err
}

func readCSV(data []byte) ([][]string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // Excel's UTF-8 BOM
	if !utf8.Valid(data) {
		return nil, refused(errorf(tally.Invalid, "file", "the CSV is not UTF-8 text (save it as \"CSV UTF-8\")"), "refusal.import.format")
	}
	// The delimiter is the header's: Excel writes ';' where ',' is the
	// decimal separator, as in Vietnamese settings.
	header, _, _ := bytes.Cut(data, []byte("\n"))
	r := csv.NewReader(bytes.NewReader(data))
	if bytes.Count(header, []byte(";")) > bytes.Count(header, []byte(",")) {
		r.Comma = ';'
	}
	r.FieldsPerRecord = -1 // short rows are filled with empty cells below
	// The bounds of an XLSX (xlsx.go) hold here too: a file of commas or
	// of one-letter lines is no list, and would cost a string per cell.
	var rows [][]string
	for {
		row, err := r.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, errorf(tally.Invalid, fmt.Sprintf("row %d", pe.StartLine), "CSV: %v", pe.Err)
			}
			return nil, errorf(tally.Invalid, "file", "CSV: %v", err)
		}
		line, _ := r.FieldPos(0)
		switch {
		case len(row) > maxImportColumns:
			return nil, errorf(tally.Invalid, "file", "CSV line %d has %d columns; a candidate list has at most %d", line, len(row), maxImportColumns)
		case len(rows) == maxImportRows:
			return nil, errorf(tally.Invalid, "file", "CSV line %d: more than %d rows; a candidate list of at most %d names has fewer", line, maxImportRows, tally.MaxCandidates)
		}
		rows = append(rows, row)
	}
}

// candidatesFrom reads candidates from rows whose first non-empty row is
// the header. Ids are generated (c1, c2… in file order) when the file has
// no id column; an empty cell of a yes/no column that is present means
// "no", the convention of lists marked with an x.
func candidatesFrom(rows [][]string, dates dateCells) ([]tally.Candidate, error) {
	cands, _, err := readCandidates(rows, dates)
	return cands, err
}

// importNotes say what an import took otherwise than as written: the
// header's columns it does not know (Dân tộc, Chức vụ…: personnel lists
// carry them, the count needs none), skipped; and the rows (as the
// spreadsheet numbers them) whose birth date is a year alone, imported as
// 1 January of that year, so that an age is counted by years
// (docs/api.md, "Candidate import").
type importNotes struct {
	Ignored  []string
	YearOnly []int
}

func readCandidates(rows [][]string, dates dateCells) ([]tally.Candidate, importNotes, error) {
	notes := importNotes{Ignored: []string{}, YearOnly: []int{}}
	h := 0
	for h < len(rows) && blank(rows[h]) {
		h++
	}
	if h == len(rows) {
		return nil, notes, refused(errorf(tally.Invalid, "file", "the file is empty: it needs a header row (Họ và tên, Giới tính, Ngày sinh, …) and one row per candidate"), "refusal.import.empty")
	}
	header := rows[h]
	cols := make([]importColumn, len(header))
	names := make([]string, len(header))
	seen := map[importColumn]string{}
	for i, cell := range header {
		names[i] = clip(strings.TrimSpace(norm.NFC.String(cell)), 60)
		col, ok := importHeaders[fold(cell)]
		switch {
		case names[i] == "":
			col = colIgnored
		case !ok:
			col = colIgnored
			if len(notes.Ignored) < maxImportColumns {
				notes.Ignored = append(notes.Ignored, names[i])
			}
		case col != colIgnored && seen[col] != "":
			return nil, notes, refused(errorf(tally.Invalid, fmt.Sprintf("row %d, %s", h+1, names[i]), "the same column as %q", seen[col]), "refusal.import.duplicate", names[i], seen[col])
		}
		seen[col], cols[i] = names[i], col
	}
	if seen[colName] == "" {
		return nil, notes, refused(errorf(tally.Invalid, fmt.Sprintf("row %d", h+1), "no name column: the header needs \"Họ và tên\" (or \"name\")"), "refusal.import.no_name", h+1)
	}
	var out []tally.Candidate
	var p []error
	ids := map[string]int{}
	for r := h + 1; r < len(rows) && len(p) < maxImportProblems; r++ {
		if blank(rows[r]) {
			continue
		}
		if len(out) == tally.MaxCandidates {
			return nil, notes, refused(errorf(tally.Invalid, "file", "row %d: more than %d candidates, the most a contest may have", r+1, tally.MaxCandidates), "refusal.import.too_many", tally.MaxCandidates)
		}
		var cand tally.Candidate
		// bad records a cell's problem: the API's words, and the key
		// of the page's sentence (said.go), which names the cell.
		bad := func(i int, key, format string, args ...any) {
			e := tally.Errorf(fmt.Sprintf("row %d, %s", r+1, names[i]), format, args...)
			p = append(p, refused(e, key, r+1, names[i]))
		}
		for i, col := range cols {
			cell := ""
			if i < len(rows[r]) {
				cell = tally.CleanText(rows[r][i])
			}
			switch col {
			case colName:
				cand.Name = cell
				if cell == "" {
					bad(i, "refusal.import.name", "required: the candidate's full name")
				} else if n := utf8.RuneCountInString(cell); n > 200 {
					bad(i, "refusal.import.name", "too long (%d characters, at most 200)", n)
				}
			case colGender:
				switch fold(cell) {
				case "":
				case "nam", "male", "m":
					cand.Gender = tally.GenderMale
				case "nu", "female", "f":
					cand.Gender = tally.GenderFemale
				default:
					bad(i, "refusal.import.gender", "must be Nam or Nữ (male or female); got %.60q", cell)
				}
			case colBirth:
				if cell == "" {
					break
				}
				if y, ok := birthYear(cell); ok {
					cand.BirthDate = y + "-01-01"
					notes.YearOnly = append(notes.YearOnly, r+1)
				} else if d, ok := parseBirth(cell, dates); ok {
					cand.BirthDate = d
				} else {
					bad(i, "refusal.import.birth", "must be a date YYYY-MM-DD or DD/MM/YYYY, or a year alone (YYYY); got %.60q", cell)
				}
			case colEthnic, colIncumbent:
				v, ok := parseYes(cell)
				if !ok {
					bad(i, "refusal.import.yes_no", "must be x, có, yes, true or 1 for yes, or empty, không, no, false or 0 for no; got %.60q", cell)
				}
				if col == colEthnic {
					cand.EthnicMinority = &v
				} else {
					cand.Incumbent = &v
				}
			case colID:
				cand.ID = cell
			}
		}
		if seen[colID] != "" {
			i := slicesIndex(cols, colID)
			switch prev, dup := ids[cand.ID]; {
			case cand.ID == "":
				bad(i, "refusal.import.id", "required when the file has an id column")
			case dup:
				bad(i, "refusal.import.id", "%.60q is also the id on row %d", cand.ID, prev)
			default:
				ids[cand.ID] = r + 1
			}
		} else {
			cand.ID = "c" + strconv.Itoa(len(out)+1)
		}
		out = append(out, cand)
	}
	if len(p) > 0 {
		return nil, notes, errors.Join(p...)
	}
	if len(out) == 0 {
		return nil, notes, refused(errorf(tally.Invalid, "file", "no candidates below the header row"), "refusal.import.empty")
	}
	return out, notes, nil
}

// clip cuts s to at most n characters, marking the cut: a header that
// names a field in a message stays short whatever the file holds.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func slicesIndex(cols []importColumn, c importColumn) int {
	for i, x := range cols {
		if x == c {
			return i
		}
	}
	return -1
}

func blank(row []string) bool {
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// birthYear reads a year alone ("1975"), as a list with a "Năm sinh"
// column writes it (a text or a number cell), between 1900 and 2100. An
// XLSX serial day number in that range would be a date in 1905, which is
// no candidate's birth date: the year wins.
func birthYear(s string) (string, bool) {
	if len(s) == 6 && strings.HasSuffix(s, ".0") {
		s = s[:4] // a number cell as some writers store it
	}
	if len(s) != 4 {
		return "", false
	}
	y, err := strconv.Atoi(s)
	if err != nil || y < 1900 || y > 2100 {
		return "", false
	}
	return s, true
}

// parseBirth reads YYYY-MM-DD or DD/MM/YYYY (the Vietnamese order; also
// D/M/YYYY and with '-' or '.'), and from an XLSX a date cell's serial
// number.
func parseBirth(s string, dates dateCells) (string, bool) {
	for _, layout := range []string{time.DateOnly, "2/1/2006", "2-1-2006", "2.1.2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format(time.DateOnly), true
		}
	}
	if dates != textDates {
		// Serial days since 1899-12-30 (or 1904-01-01); a birth date is a
		// whole day, within a plausible range (1900 to 2100).
		if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 1 && f < 73051 {
			if t, err := excelize.ExcelDateToTime(f, dates == serialDates1904); err == nil {
				return t.Format(time.DateOnly), true
			}
		}
	}
	return "", false
}

func parseYes(s string) (v, ok bool) {
	switch fold(s) {
	case "x", "co", "yes", "true", "1", "y":
		return true, true
	case "", "khong", "no", "false", "0", "n":
		return false, true
	}
	return false, false
}
