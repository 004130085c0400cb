package web

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// Noto Serif (SIL Open Font License 1.1, fonts/OFL.txt): a serif like the
// Party's printed documents, with every Vietnamese letter precomposed.
// fpdf does no shaping, so it needs NFC text, which tally guarantees.
var (
	//go:embed fonts/NotoSerif-Regular.ttf
	pdfSerifRegular []byte
	//go:embed fonts/NotoSerif-Bold.ttf
	pdfSerifBold []byte
	//go:embed fonts/NotoSerif-Italic.ttf
	pdfSerifItalic []byte
)

// Page geometry of the PDF, in millimetres: A4 with the margins of Party
// documents (wider at the binding edge).
const (
	pdfPageW, pdfPageH          = 210.0, 297.0
	pdfMarginL, pdfMarginR      = 30.0, 15.0
	pdfMarginT, pdfMarginB      = 20.0, 20.0
	pdfTextW                    = pdfPageW - pdfMarginL - pdfMarginR
	pdfFont                     = "NotoSerif"
	pdfBodySize, pdfTableSize   = 12.0, 10.5
	pdfBodyLine, pdfTableLine   = 6.0, 5.0
	pdfTableMinSize             = 7.5 // the least a column head shrinks to (headSize)
	pdfIndentStep               = 8.0
	pdfWatermarkSize            = 96.0
	pdfSignatureGap, pdfHeadGap = 16.0, 22.0
	pdfQrSize                   = 30.0
	pdfNoDate                   = 0 // Unix time of a PDF whose record holds no time at all
)

// newPDF starts an A4 document in Noto Serif whose bytes depend only on its
// arguments: the catalog is sorted and the dates are date (or a fixed
// stand-in), never the clock.
func newPDF(date time.Time, title, subject string, marginL, marginR float64) *fpdf.Fpdf {
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCatalogSort(true)
	if date.IsZero() {
		date = time.Unix(pdfNoDate, 0).UTC() // zero would make fpdf stamp the current time
	}
	p.SetCreationDate(date)
	p.SetModificationDate(date)
	p.SetTitle(title, true)
	if subject != "" {
		p.SetSubject(subject, true)
	}
	p.SetCreator("kiemphieu", true)
	p.SetProducer("kiemphieu", true)
	p.SetLang("vi-VN")
	p.AddUTF8FontFromBytes(pdfFont, "", pdfSerifRegular)
	p.AddUTF8FontFromBytes(pdfFont, "B", pdfSerifBold)
	p.AddUTF8FontFromBytes(pdfFont, "I", pdfSerifItalic)
	p.SetMargins(marginL, pdfMarginT, marginR)
	p.SetAutoPageBreak(true, pdfMarginB)
	p.AliasNbPages("{nb}")
	return p
}

// MinutesPDF renders the minutes as an A4 PDF, with the same content in the
// same order as the HTML view. The output depends only on m: the document
// dates come from the record (m.Date) and the catalog is sorted, so a
// certified round's PDF is byte-for-byte the same each time it is printed.
func MinutesPDF(m *Minutes) ([]byte, error) {
	p := newPDF(m.Date, fmt.Sprintf("%s — %s (%s)", m.Title, m.Contest, m.RoundText), m.Congress, pdfMarginL, pdfMarginR)
	r := &pdfWriter{pdf: p, m: m}
	p.SetHeaderFunc(r.watermark)
	p.SetFooterFunc(r.footer)
	if len(m.Verify.QR) > 0 {
		p.RegisterImageOptionsReader("qr", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(m.Verify.QR))
	}
	p.AddPage()

	r.notice()
	r.header()
	r.title()
	r.part(m.Setup)
	r.part(m.Changes)
	r.part(m.Count)
	r.heading(m.Results.Heading)
	r.table(m.Results)
	r.heading(m.Elected.Heading)
	r.paragraph(m.Elected.Intro, "")
	if m.Elected.Table != nil {
		r.table(*m.Elected.Table)
	}
	for _, n := range m.Elected.Notes {
		r.paragraph(n, "")
	}
	if m.Makeup != nil {
		r.part(*m.Makeup)
	}
	r.part(m.Complaints)
	r.corrections(m.Corrections)
	r.closing()
	if j := m.Journal; j != nil {
		// The annex starts on a page of its own, so that it can be
		// filed with the minutes or apart.
		p.AddPage()
		r.heading(j.Heading)
		for _, l := range j.Intro {
			r.paragraph(l, "")
		}
		p.Ln(2)
		if j.Keyings != nil {
			r.table(*j.Keyings)
		}
		if d := j.Decisions; d != nil {
			r.heading(d.Heading)
			r.table(*d)
		}
	}

	if err := p.Error(); err != nil {
		return nil, fmt.Errorf("minutes PDF of %s: %w", m.ContestID, err)
	}
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		return nil, fmt.Errorf("minutes PDF of %s: %w", m.ContestID, err)
	}
	return buf.Bytes(), nil
}

type pdfWriter struct {
	pdf *fpdf.Fpdf
	m   *Minutes
	// left and width are the text block of a document with other margins
	// than the minutes' (the roll-up); zero means the minutes'.
	left, width float64
}

func (r *pdfWriter) marginL() float64 {
	if r.left == 0 {
		return pdfMarginL
	}
	return r.left
}

func (r *pdfWriter) textW() float64 {
	if r.width == 0 {
		return pdfTextW
	}
	return r.width
}

func (r *pdfWriter) font(style string, size float64) { r.pdf.SetFont(pdfFont, style, size) }

// room starts a new page unless h millimetres are left above the bottom
// margin, so that a heading is not left alone at the foot of a page.
func (r *pdfWriter) room(h float64) {
	if r.pdf.GetY()+h > pdfPageH-pdfMarginB {
		r.pdf.AddPage()
	}
}

// watermark runs at the top of every page: a draft carries DỰ THẢO across
// it, light enough to read the minutes through.
func (r *pdfWriter) watermark() {
	if !r.m.Draft {
		return
	}
	p := r.pdf
	p.SetFont(pdfFont, "B", pdfWatermarkSize)
	p.SetTextColor(190, 0, 0)
	p.SetAlpha(0.18, "Normal")
	p.TransformBegin()
	cx, cy := pdfPageW/2, pdfPageH/2
	p.TransformRotate(45, cx, cy)
	w := p.GetStringWidth(r.m.Watermark)
	_, capH := p.GetFontSize()
	p.Text(cx-w/2, cy+capH*0.35, r.m.Watermark)
	p.TransformEnd()
	p.SetAlpha(1, "Normal")
	p.SetTextColor(0, 0, 0)
}

// footer names the minutes and the log head on every page, so that a loose
// page can be matched to the rest, and numbers the pages.
func (r *pdfWriter) footer() {
	p := r.pdf
	p.SetY(-(pdfMarginB - 6))
	r.font("I", 8)
	p.SetTextColor(60, 60, 60)
	p.CellFormat(r.textW()*0.75, 4, r.m.Footer, "", 0, "L", false, 0, "")
	p.CellFormat(r.textW()*0.25, 4, fmt.Sprintf("Trang %d/{nb}", p.PageNo()), "", 0, "R", false, 0, "")
	p.SetTextColor(0, 0, 0)
}

func (r *pdfWriter) notice() {
	if r.m.Notice == "" {
		return
	}
	p := r.pdf
	r.font("B", 10.5)
	p.SetTextColor(176, 0, 0)
	p.SetDrawColor(176, 0, 0)
	p.MultiCell(pdfTextW, 6, r.m.Watermark+" — "+r.m.Notice, "1", "C", false)
	p.SetTextColor(0, 0, 0)
	p.SetDrawColor(0, 0, 0)
	p.Ln(4)
}

// header draws the two header blocks side by side: the issuing bodies on
// the left, the Party's name (underlined) and the place and date right.
func (r *pdfWriter) header() {
	p := r.pdf
	top := p.GetY()
	// The minutes' text block, or a wider document's (the roll-up).
	const leftW = 72.0
	left := r.marginL()
	rightX, rightW := left+leftW+3, r.textW()-leftW-3
	for _, l := range r.m.Header.Left {
		style := ""
		if l.Bold {
			style = "B"
		}
		r.font(style, pdfBodySize)
		p.SetX(left)
		p.MultiCell(leftW, pdfBodyLine, l.Text, "", "C", false)
	}
	r.font("", pdfBodySize)
	p.SetX(left)
	p.CellFormat(leftW, pdfBodyLine, "*", "", 1, "C", false, 0, "")
	leftEnd := p.GetY()

	p.SetXY(rightX, top)
	r.font("B", pdfBodySize)
	p.CellFormat(rightW, pdfBodyLine, r.m.Header.Party, "", 2, "C", false, 0, "")
	w := p.GetStringWidth(r.m.Header.Party)
	y := p.GetY() + 0.5
	p.SetLineWidth(0.3)
	p.Line(rightX+(rightW-w)/2, y, rightX+(rightW+w)/2, y)
	p.SetLineWidth(0.2)
	if r.m.Header.PlaceDate != "" {
		p.SetXY(rightX, y+2)
		r.font("I", pdfBodySize)
		p.MultiCell(rightW, pdfBodyLine, r.m.Header.PlaceDate, "", "C", false)
	}
	p.SetXY(left, max(leftEnd, p.GetY())+6)
}

func (r *pdfWriter) title() {
	p := r.pdf
	m := r.m
	r.font("B", 15)
	p.CellFormat(pdfTextW, 8, m.Title, "", 1, "C", false, 0, "")
	r.font("B", pdfBodySize+1)
	p.MultiCell(pdfTextW, pdfBodyLine+0.5, m.Contest, "", "C", false)
	p.CellFormat(pdfTextW, pdfBodyLine+0.5, "("+m.RoundText+")", "", 1, "C", false, 0, "")
	if m.Congress != "" {
		r.font("", pdfBodySize)
		p.MultiCell(pdfTextW, pdfBodyLine, m.Congress, "", "C", false)
	}
	p.Ln(4)
	r.font("I", pdfBodySize)
	for _, b := range m.LegalBasis {
		p.MultiCell(pdfTextW, pdfBodyLine, b, "", "L", false)
	}
	p.Ln(2)
	r.paragraph(m.Opening, "")
}

func (r *pdfWriter) heading(h string) {
	r.room(3 * pdfBodyLine)
	r.pdf.Ln(3)
	r.font("B", pdfBodySize)
	r.pdf.MultiCell(r.textW(), pdfBodyLine, h, "", "L", false)
	r.pdf.Ln(1)
}

func (r *pdfWriter) paragraph(text, style string) {
	r.font(style, pdfBodySize)
	r.pdf.MultiCell(r.textW(), pdfBodyLine, text, "", "J", false)
}

// part draws a section's lines; a line's verdict (Mark) is set in bold
// within the flowing text, and consistency warnings in red.
func (r *pdfWriter) part(pt MinutesPart) {
	p := r.pdf
	r.heading(pt.Heading)
	for _, l := range pt.Lines {
		left := pdfMarginL + float64(l.Indent)*pdfIndentStep
		p.SetLeftMargin(left)
		p.SetX(left)
		if l.Warning {
			p.SetTextColor(176, 0, 0)
			r.font("B", pdfBodySize)
		} else {
			r.font("", pdfBodySize)
		}
		text := l.Value
		if l.Label != "" {
			text = l.Label + ": " + l.Value
		}
		p.Write(pdfBodyLine, text)
		if l.Mark != "" {
			p.Write(pdfBodyLine, " — ")
			r.font("B", pdfBodySize)
			p.Write(pdfBodyLine, l.Mark)
		}
		p.Ln(pdfBodyLine)
		p.SetTextColor(0, 0, 0)
	}
	p.SetLeftMargin(pdfMarginL)
}

// corrections draws the voids and the notes of the log, each a table or
// the line that says there is none.
func (r *pdfWriter) corrections(mc MinutesCorrections) {
	r.heading(mc.Heading)
	for _, l := range mc.Lists() {
		for _, s := range l.Intro {
			r.paragraph(s, "")
		}
		if l.Table != nil {
			r.pdf.Ln(1)
			r.table(*l.Table)
		} else {
			r.paragraph(l.Empty, "I")
		}
	}
}

// table draws a table whose rows never split across pages; each page it
// runs onto starts with the header row again.
func (r *pdfWriter) table(t MinutesTable) {
	p := r.pdf
	if t.Note != "" {
		r.font("I", pdfTableSize)
		p.MultiCell(r.textW(), pdfTableLine, t.Note, "", "L", false)
		p.Ln(1)
	}
	titles := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		titles[i] = c.Title
	}
	headSize := r.headSize(t.Columns)
	head := func() { r.row(t.Columns, titles, "B", headSize, true) }
	r.font("B", headSize)
	headH := r.rowHeight(t.Columns, titles)
	r.font("", pdfTableSize)
	first := headH
	if len(t.Rows) > 0 {
		first += r.rowHeight(t.Columns, t.Rows[0].Cells)
	}
	r.room(first) // the header row never stands alone at a page's foot
	head()
	for _, row := range t.Rows {
		style := ""
		if row.Strong {
			style = "B"
		}
		r.font(style, pdfTableSize)
		h := r.rowHeight(t.Columns, row.Cells)
		if p.GetY()+h > pdfPageH-pdfMarginB {
			p.AddPage()
			head()
		}
		r.row(t.Columns, row.Cells, style, pdfTableSize, false)
	}
	p.Ln(2)
}

// rowHeight is the height of a row whose cells wrap within their columns,
// in the current font.
func (r *pdfWriter) rowHeight(cols []MinutesColumn, cells []string) float64 {
	lines := 1
	for i, c := range cols {
		lines = max(lines, len(r.split(cells[i], c.Width)))
	}
	return float64(lines)*r.tableLine() + 1
}

// tableLine is a table row's line height in the current font: a header
// set smaller (headSize) keeps its lines together.
func (r *pdfWriter) tableLine() float64 {
	size, _ := r.pdf.GetFontSize()
	return pdfTableLine * size / pdfTableSize
}

func (r *pdfWriter) split(text string, width float64) []string {
	lines := r.pdf.SplitText(text, width-2*r.pdf.GetCellMargin())
	if len(lines) == 0 {
		return []string{""}
	}
	return lines
}

// headSize is the type size of a table's header row: the body's, or less
// when a word of a title would not fit its column at it — a column head
// wraps between words, never inside one ("Khôn/g đủ"). Body cells keep
// their size: what is too long there (a hash) may break.
func (r *pdfWriter) headSize(cols []MinutesColumn) float64 {
	size := pdfTableSize
	for _, c := range cols {
		title := strings.Join(strings.Fields(c.Title), " ")
		for ; size > pdfTableMinSize; size -= 0.5 {
			r.font("B", size)
			if strings.Join(r.split(title, c.Width), " ") == title { // split as the row will
				break
			}
		}
	}
	return size
}

func (r *pdfWriter) row(cols []MinutesColumn, cells []string, style string, size float64, header bool) {
	p := r.pdf
	r.font(style, size)
	h := r.rowHeight(cols, cells)
	x, y := r.marginL(), p.GetY()
	for i, c := range cols {
		if header {
			p.SetFillColor(235, 235, 235)
			p.Rect(x, y, c.Width, h, "FD")
		} else {
			p.Rect(x, y, c.Width, h, "D")
		}
		align := c.Align
		if header {
			align = "C"
		}
		for k, line := range r.split(cells[i], c.Width) {
			p.SetXY(x, y+0.5+float64(k)*r.tableLine())
			p.CellFormat(c.Width, r.tableLine(), line, "", 0, align, false, 0, "")
		}
		x += c.Width
	}
	p.SetXY(r.marginL(), y+h)
}

// closing draws the closing sentences, the signatures and the
// verification block. The closing sentences go with the signatures to a
// new page when both do not fit on this one: a signature block alone on
// the last sheet signs nothing one can see (Party documents keep the
// signatures with body text). The verification block joins them when
// the three fit on one page.
func (r *pdfWriter) closing() {
	p := r.pdf
	p.Ln(2)
	r.font("", pdfBodySize)
	text := 0.0
	for _, c := range r.m.Closing {
		text += float64(len(r.pdf.SplitText(c, r.textW()))) * pdfBodyLine
	}
	together := text + r.signaturesHeight()
	if all := together + r.verificationHeight(); all < pdfPageH-pdfMarginT-pdfMarginB {
		r.room(all)
	} else if together < pdfPageH-pdfMarginT-pdfMarginB {
		r.room(together)
	}
	for _, c := range r.m.Closing {
		r.paragraph(c, "")
	}
	r.signatures()
	r.verification()
}

// signaturesHeight is the height signatures takes, its gap above included.
func (r *pdfWriter) signaturesHeight() float64 {
	s := r.m.Signatures
	height := 2*pdfBodyLine + pdfHeadGap + pdfBodyLine
	return max(height, 2*pdfBodyLine+float64(len(s.Members))*(pdfSignatureGap+pdfBodyLine)) + 6
}

// verificationHeight is the height verification takes at most (the QR
// code beside its lines), its gap above included.
func (r *pdfWriter) verificationHeight() float64 { return pdfQrSize + 12 }

// signatures draws the two blocks side by side, kept on one page when they
// fit on one: the members on the left, the head on the right.
func (r *pdfWriter) signatures() {
	p := r.pdf
	s := r.m.Signatures
	const colW = pdfTextW / 2
	if height := r.signaturesHeight(); height < pdfPageH-pdfMarginT-pdfMarginB {
		r.room(height)
	}
	p.Ln(6)
	top := p.GetY()
	block := func(x float64, title string) {
		p.SetXY(x, p.GetY())
		r.font("B", pdfBodySize)
		p.CellFormat(colW, pdfBodyLine, title, "", 2, "C", false, 0, "")
		r.font("I", pdfBodySize-1)
		p.CellFormat(colW, pdfBodyLine, s.Hint, "", 2, "C", false, 0, "")
	}
	rightX := pdfMarginL + colW
	p.SetY(top)
	block(rightX, s.HeadTitle)
	if s.Head != "" {
		p.SetXY(rightX, p.GetY()+pdfHeadGap)
		r.font("B", pdfBodySize)
		p.CellFormat(colW, pdfBodyLine, s.Head, "", 2, "C", false, 0, "")
	}
	rightEnd, rightPage := p.GetY(), p.PageNo()
	p.SetY(top)
	block(pdfMarginL, s.MembersTitle)
	for _, name := range s.Members {
		if p.GetY()+pdfSignatureGap+pdfBodyLine > pdfPageH-pdfMarginB {
			p.AddPage()
		} else {
			p.SetY(p.GetY() + pdfSignatureGap)
		}
		r.font("", pdfBodySize)
		p.SetX(pdfMarginL)
		p.CellFormat(colW, pdfBodyLine, name, "", 2, "C", false, 0, "")
	}
	if p.PageNo() == rightPage {
		p.SetY(max(p.GetY(), rightEnd))
	}
	p.SetX(pdfMarginL)
}

// verification draws the QR code of the verify page beside the log head
// hash in full, under a rule.
func (r *pdfWriter) verification() {
	p := r.pdf
	v := r.m.Verify
	r.room(r.verificationHeight())
	p.Ln(8)
	y := p.GetY()
	p.Line(pdfMarginL, y, pdfPageW-pdfMarginR, y)
	y += 3
	textX := pdfMarginL
	if len(v.QR) > 0 {
		p.ImageOptions("qr", pdfMarginL, y, pdfQrSize, pdfQrSize, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
		textX += pdfQrSize + 5
	}
	w := pdfPageW - pdfMarginR - textX
	p.SetLeftMargin(textX)
	p.SetXY(textX, y)
	r.font("B", 10)
	p.MultiCell(w, 5, v.Heading, "", "L", false)
	if v.Hash != "" {
		r.font("B", 8.5)
		p.SetX(textX)
		p.CellFormat(w, 5, v.Hash, "", 1, "L", false, 0, "")
	}
	r.font("", 9.5)
	for _, l := range v.Lines {
		p.SetX(textX)
		p.MultiCell(w, 5, l, "", "L", false)
	}
	p.SetLeftMargin(pdfMarginL)
	p.SetY(max(p.GetY(), y+pdfQrSize))
}
