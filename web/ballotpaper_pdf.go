package web

import (
	"bytes"
	"fmt"
	"sync"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/skip2/go-qrcode"

	"github.com/kiemphieu/kiemphieu/scan"
)

// The machine-readable ballot (issue 14): a PDF drawn from a scan.Layout,
// so that what is printed is exactly where the recogniser looks. Marks, box
// outlines and the QR code are vector shapes: sharp at any printer's
// resolution.

// paperMeasure measures text in the paper's font with fpdf's own metrics,
// the ones BallotPaperPDF prints with. fpdf is not safe for concurrent use:
// one instance, behind a lock.
var paperMeasure = sync.OnceValue(func() scan.Measure {
	p := newPDF(time.Time{}, "", "", 0, 0)
	var mu sync.Mutex
	return func(text string, size float64, bold bool) float64 {
		mu.Lock()
		defer mu.Unlock()
		style := ""
		if bold {
			style = "B"
		}
		p.SetFont(pdfFont, style, size)
		return p.GetStringWidth(text)
	}
})

// PaperLayout lays out a round's machine-readable ballot in the font the
// PDF prints with: the layout both BallotPaperPDF and the recogniser use.
func PaperLayout(paper scan.Paper) (*scan.Layout, error) {
	return scan.NewLayout(paper, paperMeasure())
}

// BallotPaperPDF draws copies pages of the layout. Every page is the same
// paper: nothing on it tells one ballot from another (the QR code carries
// the round, never a serial). marks, when not nil, draws on page i (0-based)
// after the paper is printed: the test deck's pre-marked pages.
func BallotPaperPDF(l *scan.Layout, copies int, marks func(p *fpdf.Fpdf, i int)) ([]byte, error) {
	if copies < 1 {
		copies = 1
	}
	layouts := make([]*scan.Layout, copies)
	for i := range layouts {
		layouts[i] = l
	}
	return PapersPDF(layouts, marks)
}

// PapersPDF draws one page per layout: the test deck, whose pages differ
// in their QR code (Meta.TestPage) and printed title. marks as for
// BallotPaperPDF.
func PapersPDF(layouts []*scan.Layout, marks func(p *fpdf.Fpdf, i int)) ([]byte, error) {
	if len(layouts) == 0 {
		return nil, fmt.Errorf("no page to print")
	}
	p := newPDF(time.Time{}, "Phiếu bầu — "+layouts[0].Meta.Contest, "", 0, 0)
	p.SetAutoPageBreak(false, 0)
	var bitmap [][]bool
	var last string
	for i, l := range layouts {
		if code := l.Meta.Encode(); code != last || bitmap == nil {
			q, err := qrcode.New(code, qrcode.Medium)
			if err != nil {
				return nil, fmt.Errorf("ballot QR code: %w", err)
			}
			bitmap, last = q.Bitmap(), code
		}
		p.AddPage()
		drawPaper(p, l, bitmap)
		if marks != nil {
			marks(p, i)
		}
	}
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func drawPaper(p *fpdf.Fpdf, l *scan.Layout, qr [][]bool) {
	p.SetFillColor(0, 0, 0)
	p.SetDrawColor(0, 0, 0)
	for _, m := range l.Marks {
		r := m.Rect
		p.Rect(r.X, r.Y, r.W, r.H, "F")
		if m.Shape == scan.MarkRing {
			in := r.Inset(scan.RingStroke)
			p.SetFillColor(255, 255, 255)
			p.Rect(in.X, in.Y, in.W, in.H, "F")
			p.SetFillColor(0, 0, 0)
		}
	}
	if n := len(qr); n > 0 {
		cell := l.QR.W / float64(n)
		for y, line := range qr {
			for x, dark := range line {
				if dark {
					p.Rect(l.QR.X+float64(x)*cell, l.QR.Y+float64(y)*cell, cell, cell, "F")
				}
			}
		}
	}
	for _, b := range l.Boxes {
		p.SetLineWidth(b.Stroke)
		if b.Dashed {
			p.SetDashPattern([]float64{1.2, 1}, 0)
		}
		p.Rect(b.Rect.X, b.Rect.Y, b.Rect.W, b.Rect.H, "D")
		p.SetDashPattern(nil, 0)
	}
	for _, t := range l.Texts {
		style := ""
		if t.Bold {
			style += "B"
		}
		if t.Italic && !t.Bold {
			style += "I"
		}
		p.SetFont(pdfFont, style, t.Size)
		w := p.GetStringWidth(t.Text)
		x := t.X
		switch t.Align {
		case "C":
			x -= w / 2
		case "R":
			x -= w
		}
		p.Text(x, t.Baseline, t.Text)
	}
}
