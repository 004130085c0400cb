package api

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/kiemphieu/kiemphieu/tally"
)

// The candidate import reads the first sheet of an XLSX itself, streaming
// its XML, instead of through excelize's GetRows: GetRows pads every row
// with empty strings up to its last column and every sheet up to its last
// row, so one cell at column XFD costs 16,384 strings and one row numbered
// 2,147,483,000 loops for seconds (security review, finding 12, and
// GO-2026-6685). Here an empty cell costs nothing wherever it is, and what
// a candidate list can hold bounds everything else: a cell with a value
// beyond the columns or rows below, too many cells, a part that unpacks
// too large or a read that takes too long is refused with 400 naming the
// file and what is too large.
const (
	// maxImportColumns: the import knows seven columns (and STT); a list
	// with a value in column 65 is not a candidate list.
	maxImportColumns = 64
	// maxImportRows: tally.MaxCandidates names with their header, title
	// and blank rows.
	maxImportRows = 2 * tally.MaxCandidates
	// maxImportCells: values in the sheet, and strings in its shared
	// string table; a full list is about 7 × 10,000.
	maxImportCells = 20 * tally.MaxCandidates
	// maxImportCellText: Excel's own limit on a cell's text (characters;
	// bytes here).
	maxImportCellText = 32767
	// maxImportPart: the unpacked size of one part (the sheet, the shared
	// strings); a full list's sheet is about 3 MB.
	maxImportPart = 16 << 20
	// maxImportTag: the longest tag, attributes included (a worksheet's
	// root with its namespaces is about 1 KB). encoding/xml holds all of a
	// tag's attributes at once, about 25 bytes of memory per byte of tag.
	maxImportTag = 16 << 10
	// maxImportTime bounds the reading of one workbook in wall time,
	// beyond the bounds of its size.
	maxImportTime = 10 * time.Second
)

// The namespaces of a relationship id (r:id): transitional and strict.
const (
	relNS       = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	relNSStrict = "http://purl.oclc.org/ooxml/officeDocument/relationships"
)

// xlsxReader reads one uploaded workbook within the import's bounds.
type xlsxReader struct {
	name     string // the file's name, for messages
	zip      *zip.Reader
	left     int64 // unpacked bytes every part read so far may still take
	deadline time.Time
	tokens   int
	shared   []string
	date1904 bool
}

// readXLSX returns the rows of a workbook's first sheet, each cell's raw
// value as GetRows(RawCellValue) would give it (a date as its serial
// number), and whether its dates count from 1904.
func readXLSX(name string, data []byte) ([][]string, bool, error) {
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, false, errorf(tally.Invalid, "file", "%s: not a readable XLSX workbook: %v", clip(name, 80), err)
	}
	x := &xlsxReader{name: clip(name, 80), zip: z, left: 2 * maxImportPart, deadline: time.Now().Add(maxImportTime)}
	rows, err := x.read()
	if err != nil {
		if tally.ErrorKind(err) != tally.Invalid {
			err = x.refuse("not a readable XLSX workbook: %v", err)
		}
		return nil, false, err
	}
	return rows, x.date1904, nil
}

func (x *xlsxReader) refuse(format string, args ...any) error {
	return errorf(tally.Invalid, "file", "%s: %s", x.name, fmt.Sprintf(format, args...))
}

func (x *xlsxReader) read() ([][]string, error) {
	// The package's relationships name the workbook; the workbook's name
	// its sheets (in order) and the shared strings.
	book := "xl/workbook.xml"
	if rels, err := x.rels("_rels/.rels", ""); err != nil {
		return nil, err
	} else if t := rels.byType("/officeDocument"); t != "" {
		book = t
	}
	first, err := x.firstSheet(book)
	if err != nil {
		return nil, err
	}
	dir, file := path.Split(book)
	rels, err := x.rels(dir+"_rels/"+file+".rels", dir)
	if err != nil {
		return nil, err
	}
	sheet := rels.byID[first]
	if sheet == "" {
		return nil, x.refuse("the workbook's first sheet (%.40q) has no part", first)
	}
	if t := rels.byType("/sharedStrings"); t != "" {
		if err := x.sharedStrings(t); err != nil {
			return nil, err
		}
	}
	return x.sheet(sheet)
}

// open opens a part; a part that is not there is nil.
func (x *xlsxReader) open(name string) (*xml.Decoder, func(), error) {
	var f *zip.File
	for _, zf := range x.zip.File {
		if zf.Name == name || f == nil && strings.EqualFold(zf.Name, name) {
			f = zf
		}
	}
	if f == nil {
		return nil, nil, nil
	}
	rc, err := f.Open()
	if err != nil {
		return nil, nil, x.refuse("part %.80q: %v", name, err)
	}
	lr := &partReader{r: rc, part: maxImportPart, total: &x.left}
	return xml.NewDecoder(lr), func() { rc.Close() }, nil
}

// errPartTooLarge, errTotalTooLarge and errTagTooLong end a part's
// reading: it unpacks beyond maxImportPart, the parts read together beyond
// their budget, or one of its tags is longer than maxImportTag.
var (
	errPartTooLarge  = errors.New("part too large")
	errTotalTooLarge = errors.New("parts too large")
	errTagTooLong    = errors.New("tag too long")
)

// partReader reads a part within its bounds. It follows the XML's tags
// with the least state that tells where one starts and ends (a quoted
// attribute value may hold '>'), so that no tag is longer than
// maxImportTag. A comment or CDATA section holding quotes and '<' could
// look longer than it is (spreadsheets write neither), never shorter.
type partReader struct {
	r     io.Reader
	part  int64
	total *int64
	state byte // 0 in text, '<' in a tag, '"' or '\'' in a quoted value
	tag   int  // bytes of the current tag so far
}

func (p *partReader) Read(b []byte) (int, error) {
	if p.part <= 0 {
		return 0, errPartTooLarge
	}
	if *p.total <= 0 {
		return 0, errTotalTooLarge
	}
	b = b[:min(int64(len(b)), p.part, *p.total)]
	n, err := p.r.Read(b)
	p.part -= int64(n)
	*p.total -= int64(n)
	for _, ch := range b[:n] {
		switch {
		case p.state == 0:
			if ch == '<' {
				p.state, p.tag = '<', 0
			}
			continue
		case p.state == '<' && ch == '>':
			p.state = 0
		case p.state == '<' && (ch == '"' || ch == '\''):
			p.state = ch
		case p.state == ch: // the closing quote
			p.state = '<'
		}
		if p.tag++; p.tag > maxImportTag {
			return 0, errTagTooLong
		}
	}
	return n, err
}

// token is the next token of a part, within the bounds.
func (x *xlsxReader) token(dec *xml.Decoder, part string) (xml.Token, error) {
	x.tokens++
	if x.tokens%4096 == 0 && time.Now().After(x.deadline) {
		return nil, x.refuse("reading it took more than %v", maxImportTime)
	}
	tok, err := dec.Token()
	switch {
	case errors.Is(err, errPartTooLarge):
		return nil, x.refuse("%.80q unpacks to more than %d MiB", part, maxImportPart>>20)
	case errors.Is(err, errTotalTooLarge):
		return nil, x.refuse("its parts unpack to more than %d MiB", 2*maxImportPart>>20)
	case errors.Is(err, errTagTooLong):
		return nil, x.refuse("%.80q has a tag longer than %d KiB", part, maxImportTag>>10)
	case err == io.EOF:
		return nil, io.EOF
	case err != nil:
		return nil, x.refuse("not a readable XLSX workbook: %.80q: %v", part, err)
	}
	return tok, nil
}

type relationships struct {
	byID   map[string]string
	target []string // in the file's order, with types
	types  []string
}

func (r relationships) byType(suffix string) string {
	for i, t := range r.types {
		if strings.HasSuffix(t, suffix) {
			return r.target[i]
		}
	}
	return ""
}

// rels reads a relationships part; targets are resolved against dir.
func (x *xlsxReader) rels(name, dir string) (relationships, error) {
	r := relationships{byID: map[string]string{}}
	dec, done, err := x.open(name)
	if err != nil || dec == nil {
		return r, err
	}
	defer done()
	for {
		tok, err := x.token(dec, name)
		if err == io.EOF {
			return r, nil
		}
		if err != nil {
			return r, err
		}
		el, ok := tok.(xml.StartElement)
		if !ok || el.Name.Local != "Relationship" {
			continue
		}
		if len(r.types) == maxImportColumns {
			return r, x.refuse("%.80q has more than %d relationships", name, maxImportColumns)
		}
		target := attr(el, "Target")
		if strings.HasPrefix(target, "/") {
			target = strings.TrimPrefix(target, "/")
		} else {
			target = path.Join(dir, target)
		}
		r.byID[attr(el, "Id")] = target
		r.target, r.types = append(r.target, target), append(r.types, attr(el, "Type"))
	}
}

// firstSheet reads the workbook part: the relationship id of its first
// sheet and its date system.
func (x *xlsxReader) firstSheet(book string) (string, error) {
	dec, done, err := x.open(book)
	if err != nil {
		return "", err
	}
	if dec == nil {
		return "", x.refuse("it has no workbook part (%.80q)", book)
	}
	defer done()
	for {
		tok, err := x.token(dec, book)
		if err == io.EOF {
			return "", x.refuse("the workbook has no sheet")
		}
		if err != nil {
			return "", err
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch el.Name.Local {
		case "workbookPr":
			v := attr(el, "date1904")
			x.date1904 = v == "1" || v == "true"
		case "sheet":
			for _, a := range el.Attr {
				if a.Name.Local == "id" && (a.Name.Space == relNS || a.Name.Space == relNSStrict) {
					return a.Value, nil
				}
			}
			return "", x.refuse("the workbook's first sheet has no r:id")
		}
	}
}

// sharedStrings reads the shared string table: each <si>'s text, its runs
// joined, without the phonetic runs (<rPh>).
func (x *xlsxReader) sharedStrings(name string) error {
	dec, done, err := x.open(name)
	if err != nil || dec == nil {
		return err
	}
	defer done()
	var text textCollector
	inSI := false
	for {
		tok, err := x.token(dec, name)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "si" {
				inSI = true
				text.reset()
			} else if inSI {
				text.start(t.Name.Local)
			}
		case xml.EndElement:
			if t.Name.Local == "si" && inSI {
				if len(x.shared) == maxImportCells {
					return x.refuse("its shared string table holds more than %d strings", maxImportCells)
				}
				x.shared = append(x.shared, text.String())
				inSI = false
			} else if inSI {
				text.end(t.Name.Local)
			}
		case xml.CharData:
			if inSI && !text.add(t) {
				return x.refuse("shared string %d is longer than %d bytes", len(x.shared), maxImportCellText)
			}
		}
	}
}

// textCollector gathers the text of an <si> or an <is>: the <t> elements,
// except those of phonetic runs.
type textCollector struct {
	b        strings.Builder
	inT      bool
	phonetic int
}

func (c *textCollector) reset() { c.b.Reset(); c.inT, c.phonetic = false, 0 }

func (c *textCollector) start(local string) {
	switch local {
	case "t":
		c.inT = true
	case "rPh":
		c.phonetic++
	}
}

func (c *textCollector) end(local string) {
	switch local {
	case "t":
		c.inT = false
	case "rPh":
		c.phonetic--
	}
}

// add appends text; false when the text grows beyond a cell's limit.
func (c *textCollector) add(data []byte) bool {
	if !c.inT || c.phonetic > 0 {
		return true
	}
	if c.b.Len()+len(data) > maxImportCellText {
		return false
	}
	c.b.Write(data)
	return true
}

func (c *textCollector) String() string { return c.b.String() }

// sheet streams a worksheet's <sheetData>. A row or cell without its r
// attribute follows the one before, as in the format.
func (x *xlsxReader) sheet(name string) ([][]string, error) {
	dec, done, err := x.open(name)
	if err != nil {
		return nil, err
	}
	if dec == nil {
		return nil, x.refuse("its first sheet's part %.80q is missing", name)
	}
	defer done()
	var (
		rows   [][]string
		cells  int
		inData bool
		row    int // the current row's number, 1-based
		col    int // the column of the row's last cell
		cell   *xlsxCell
		text   textCollector
	)
	for {
		tok, err := x.token(dec, name)
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch local := t.Name.Local; {
			case local == "sheetData":
				inData = true
			case !inData:
			case local == "row" && cell == nil:
				n := row + 1
				if r := attr(t, "r"); r != "" {
					if n, err = strconv.Atoi(r); err != nil || n < 1 {
						return nil, x.refuse("row number %.20q is not a number from 1", r)
					}
				}
				row, col = n, 0
			case local == "c" && cell == nil:
				cell = &xlsxCell{row: row, col: col + 1, typ: attr(t, "t")}
				if ref := attr(t, "r"); ref != "" {
					var ok bool
					if cell.col, cell.row, ok = cellRef(ref); !ok {
						return nil, x.refuse("cell reference %.20q is not a column and a row", ref)
					}
				}
				col = cell.col
			case cell != nil && local == "v":
				cell.inV = true
			case cell != nil && local == "is":
				cell.inIS = true
				text.reset()
			case cell != nil && cell.inIS:
				text.start(local)
			}
		case xml.EndElement:
			switch local := t.Name.Local; {
			case local == "sheetData":
				inData = false
			case cell != nil && local == "v":
				cell.inV = false
			case cell != nil && local == "is":
				cell.inIS = false
				cell.value.WriteString(text.String())
			case cell != nil && cell.inIS:
				text.end(local)
			case cell != nil && local == "c":
				v, err := x.value(cell)
				if err != nil {
					return nil, err
				}
				if strings.TrimSpace(v) != "" {
					if cells++; cells > maxImportCells {
						return nil, x.refuse("its first sheet holds more than %d cells with a value", maxImportCells)
					}
					if rows, err = x.put(rows, cell, v); err != nil {
						return nil, err
					}
				}
				cell = nil
			}
		case xml.CharData:
			switch {
			case cell == nil:
			case cell.inIS:
				if !text.add(t) {
					return nil, x.refuse("cell %s holds more than %d bytes of text", cellName(cell.col, cell.row), maxImportCellText)
				}
			case cell.inV:
				if cell.value.Len()+len(t) > maxImportCellText {
					return nil, x.refuse("cell %s holds more than %d bytes of text", cellName(cell.col, cell.row), maxImportCellText)
				}
				cell.value.Write(t)
			}
		}
	}
}

// xlsxCell is the cell being read.
type xlsxCell struct {
	row, col  int
	typ       string
	value     strings.Builder
	inV, inIS bool
}

// value is a cell's raw value: a shared string's text, an inline string,
// or the <v> as written (a number, a date's serial number, 1 or 0 for a
// boolean, an ISO 8601 date of a t="d" cell cut to its day).
func (x *xlsxReader) value(c *xlsxCell) (string, error) {
	v := c.value.String()
	switch c.typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 || i >= len(x.shared) {
			return "", x.refuse("cell %s names shared string %.20q of %d", cellName(c.col, c.row), v, len(x.shared))
		}
		return x.shared[i], nil
	case "d":
		day, _, _ := strings.Cut(v, "T")
		return day, nil
	}
	return v, nil
}

// put stores a value at its row and column, refusing one beyond the list's
// bounds.
func (x *xlsxReader) put(rows [][]string, c *xlsxCell, v string) ([][]string, error) {
	switch {
	case c.col > maxImportColumns:
		return nil, x.refuse("cell %s is in column %d; a candidate list has at most %d columns", cellName(c.col, c.row), c.col, maxImportColumns)
	case c.row > maxImportRows:
		return nil, x.refuse("cell %s is in row %d; a candidate list of at most %d names has at most %d rows", cellName(c.col, c.row), c.row, tally.MaxCandidates, maxImportRows)
	}
	for len(rows) < c.row {
		rows = append(rows, nil)
	}
	r := rows[c.row-1]
	for len(r) < c.col {
		r = append(r, "")
	}
	r[c.col-1] = v
	rows[c.row-1] = r
	return rows, nil
}

// cellRef parses a reference such as "B7" to column 2, row 7: at most
// three letters (XFD, Excel's last column, is 16,384) and ten digits, so
// nothing overflows; put refuses what is beyond a list's bounds.
func cellRef(ref string) (col, row int, ok bool) {
	i := 0
	for ; i < len(ref); i++ {
		ch := ref[i] | 0x20 // lower case
		if ch < 'a' || ch > 'z' {
			break
		}
		if i == 3 {
			return 0, 0, false
		}
		col = col*26 + int(ch-'a') + 1
	}
	if i == 0 || len(ref)-i > 10 {
		return 0, 0, false
	}
	row, err := strconv.Atoi(ref[i:])
	if err != nil || row < 1 {
		return 0, 0, false
	}
	return col, row, true
}

// cellName writes column and row as a spreadsheet names a cell ("B7").
func cellName(col, row int) string {
	var b []byte
	for ; col > 0; col = (col - 1) / 26 {
		b = append([]byte{byte('A' + (col-1)%26)}, b...)
	}
	return string(b) + strconv.Itoa(row)
}

func attr(el xml.StartElement, local string) string {
	for _, a := range el.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}
