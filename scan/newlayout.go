package scan

import (
	"errors"
	"fmt"
	"strings"
)

// Paper is what a round's ballot prints: the header's lines and the list.
type Paper struct {
	Meta Meta // Contest, Congress, Round, Style and TestPage; NewLayout sets Layout and Digest
	// Header lines as printed (upper case where the ballot prints them so):
	// Superior and Organization on the left under the stamp, Heading
	// ("PHIẾU BẦU CỬ"), Title (the contest), Note (the round and seats),
	// Instruction (how to mark).
	Superior, Organization, Congress  string
	Heading, Title, Note, Instruction string
	List                              []Candidate
}

// Geometry of the paper (LayoutVersion 1). Rows sit on a fixed pitch with
// a clear margin before and after each name (research §7.2: pitch ≥ 7 mm,
// margins ≥ 3 mm, boxes ≥ 6 mm).
const (
	contentL     = 18.0  // left edge of the printed content
	contentR     = 192.0 // right edge
	rowsTop      = 60.0  // first row's top
	rowsBottom   = 256.0 // last row's bottom: 28 names a column, 56 a sheet
	strikePitch  = 7.0
	approvePitch = 8.5
	columnGap    = 8.0
	numberW      = 9.0 // "12." before the name
	clearMargin  = 4.0 // clear before and after a name
	clearTol     = 0.4 // kept white between a clear zone and the printed ink (registration)
	wordGapMin   = 2.4 // between the words of a name
	nameSize     = 12.0
	minNameSize  = 9.0
	approveBox   = 7.0 // side of an approve box
	approveColW  = 26.0
	boxStroke    = 0.35
	qrSide       = 22.0
)

// Capacities: one column of a strike list, two columns, and an approve
// table (one column: its boxes need the width).
var (
	StrikeColumn = fit(rowsBottom-rowsTop, strikePitch)
	StrikeMax    = 2 * StrikeColumn
	ApproveMax   = fit(rowsBottom-rowsTop-approvePitch, approvePitch) // less the table's head row
)

func fit(length, pitch float64) int { return int(length / pitch) }

// ErrTooMany is returned for a list longer than one sheet holds at the
// pitch a scanner reads; such a round is counted by hand from the HTML
// print view.
var ErrTooMany = errors.New("too many names for one machine-readable sheet")

// mm per point.
const pt = 25.4 / 72

// textRect is where a line's ink may lie: Vietnamese capitals carry stacked
// diacritics (Ễ, Ặ) up to about the em above the baseline; descenders go
// about a quarter em below.
func textRect(x, baseline, w, size float64, align string) Rect {
	switch align {
	case "C":
		x -= w / 2
	case "R":
		x -= w
	}
	em := size * pt
	return Rect{x, baseline - 0.95*em, w, 1.2 * em}
}

// NewLayout lays out a round's machine-readable ballot. Only strike and
// approve papers can be read by machine; an introduction ballot (names
// written by hand) is not.
func NewLayout(p Paper, measure Measure) (*Layout, error) {
	style := p.Meta.Style
	switch {
	case style != "strike" && style != "approve":
		return nil, fmt.Errorf("a %q ballot cannot be read by machine: only strike and approve papers", style)
	case len(p.List) == 0:
		return nil, errors.New("the list is empty")
	case style == "strike" && len(p.List) > StrikeMax, style == "approve" && len(p.List) > ApproveMax:
		return nil, fmt.Errorf("%w: %d names, at most %d on a %s paper", ErrTooMany, len(p.List),
			map[string]int{"strike": StrikeMax, "approve": ApproveMax}[style], style)
	}
	l := &Layout{Style: style, Meta: p.Meta}
	l.Meta.Layout = LayoutVersion
	l.Meta.Digest = ListDigest(p.Meta.Contest, p.Meta.Round, style, p.List)

	in, s := MarkInset, MarkSize
	l.Marks = [4]Mark{
		{Rect{in, in, s, s}, MarkSolid},
		{Rect{PageW - in - s, in, s, s}, MarkSolid},
		{Rect{PageW - in - s, PageH - in - s, s, s}, MarkRing},
		{Rect{in, PageH - in - s, s, s}, MarkSolid},
	}
	// The QR code sits bottom left, away from the stamp (top left) and the
	// names; the printed image includes its quiet zone.
	l.QR = Rect{contentL, PageH - in - qrSide - 2, qrSide, qrSide}
	l.Stamp = Rect{contentL, 17, 56, 22}
	l.Header = Rect{contentL, 16, contentR - contentL, rowsTop - 1 - 16}
	l.Watched = Rect{contentL - 4, rowsTop - 1, contentR - contentL + 8, l.QR.Y - 2 - (rowsTop - 1)}
	l.Boxes = append(l.Boxes, Box{Rect: l.Stamp, Stroke: 0.25, Dashed: true})

	text := func(s string, x, baseline, size float64, bold, italic bool, align string) {
		if s == "" {
			return
		}
		w := measure(s, size, bold)
		l.Texts = append(l.Texts, Text{Text: s, X: x, Baseline: baseline, Size: size, Bold: bold, Italic: italic,
			Align: align, Rect: textRect(x, baseline, w, size, align)})
	}
	// Header: under the stamp box, the convening committee; on the right,
	// the Party's name; then the heading, the contest, the round and seats,
	// and how to mark.
	text("Dấu của cấp ủy triệu tập", l.Stamp.X+l.Stamp.W/2, l.Stamp.Y+l.Stamp.H/2+1, 8, false, true, "C")
	mid := (contentL + 60 + contentR) / 2
	text("ĐẢNG CỘNG SẢN VIỆT NAM", mid+10, 22, 12, true, false, "C")
	text(p.Superior, mid+10, 27, 9, false, false, "C")
	text(p.Organization, mid+10, 31, 9, false, false, "C")
	text(p.Congress, mid+10, 35, 9, false, false, "C")
	text(p.Heading, PageW/2, 45.5, 15, true, false, "C")
	text(p.Title, PageW/2, 51, 11, true, false, "C")
	text(p.Note, PageW/2, 54.8, 9, false, false, "C")
	text(p.Instruction, PageW/2, 58.3, 9, false, true, "C")
	text("In đúng tỉ lệ 100% (không chọn “vừa trang”). Không gấp phiếu qua các tên.",
		l.QR.Right()+4, l.QR.Y+l.QR.H/2+1, 7.5, false, true, "L")

	if style == "approve" {
		l.layApprove(p.List, measure, text)
	} else {
		l.layStrike(p.List, measure, text)
	}
	return l, nil
}

// layStrike sets the rows of a strike paper: number, then the name word by
// word with the clear zones around and between the words.
func (l *Layout) layStrike(list []Candidate, measure Measure, text func(string, float64, float64, float64, bool, bool, string)) {
	l.Columns = 1
	perColumn := len(list)
	if len(list) > StrikeColumn {
		l.Columns, perColumn = 2, (len(list)+1)/2
	}
	colW := (contentR - contentL - float64(l.Columns-1)*columnGap) / float64(l.Columns)
	// One size for every name of the paper, the largest at which the
	// longest name fits its column with its margins.
	size := nameSize
	for ; size > minNameSize; size -= 0.5 {
		if numberW+2*clearMargin+maxNameWidth(list, size, measure) <= colW {
			break
		}
	}
	for i, c := range list {
		col, k := i/perColumn, i%perColumn
		x0 := contentL + float64(col)*(colW+columnGap)
		band := Rect{x0, rowsTop + float64(k)*strikePitch, colW, strikePitch}
		baseline := band.Y + band.H/2 + 0.35*size*pt
		text(fmt.Sprintf("%d.", i+1), x0+numberW-2, baseline, size, false, false, "R")
		row := Row{Candidate: c.ID, Number: i + 1, Name: c.Name, Band: band}
		zoneTop, zoneH := band.Y+Edge, band.H-2*Edge
		x := x0 + numberW + clearMargin
		row.Clear = append(row.Clear, Rect{x - clearMargin + clearTol, zoneTop, clearMargin - 2*clearTol, zoneH})
		for j, w := range strings.Fields(c.Name) {
			if j > 0 {
				row.Clear = append(row.Clear, Rect{x - wordGapMin + clearTol, zoneTop, wordGapMin - 2*clearTol, zoneH})
			}
			ww := measure(w, size, false)
			text(w, x, baseline, size, false, false, "L")
			row.Words = append(row.Words, l.Texts[len(l.Texts)-1].Rect)
			x += ww + wordGapMin
		}
		x -= wordGapMin
		row.Clear = append(row.Clear, Rect{x + clearTol, zoneTop, clearMargin - 2*clearTol, zoneH})
		l.Rows = append(l.Rows, row)
	}
}

func maxNameWidth(list []Candidate, size float64, measure Measure) float64 {
	var most float64
	for _, c := range list {
		w := 0.0
		for j, word := range strings.Fields(c.Name) {
			if j > 0 {
				w += wordGapMin
			}
			w += measure(word, size, false)
		}
		most = max(most, w)
	}
	return most
}

// layApprove sets the table of an approve paper: Số TT | Họ và tên | Đồng
// ý | Không đồng ý, a box in each of the last two columns. No grid lines:
// only the boxes are outlined, so that everything else in the voting area
// is white and any mark there shows.
func (l *Layout) layApprove(list []Candidate, measure Measure, text func(string, float64, float64, float64, bool, bool, string)) {
	l.Columns = 1
	agreeX := contentR - 2*approveColW
	disagreeX := contentR - approveColW
	head := rowsTop + approvePitch*0.7
	text("Số TT", contentL+numberW/2, head, 9, true, false, "C")
	text("Họ và tên", contentL+numberW+4, head, 9, true, false, "L")
	text("Đồng ý", agreeX+approveColW/2, head, 9, true, false, "C")
	text("Không đồng ý", disagreeX+approveColW/2, head, 9, true, false, "C")
	size := nameSize
	for ; size > minNameSize; size -= 0.5 {
		if numberW+4+maxNameWidth(list, size, measure)+4 <= agreeX-contentL {
			break
		}
	}
	for i, c := range list {
		band := Rect{contentL, rowsTop + approvePitch*float64(i+1), contentR - contentL, approvePitch}
		baseline := band.Y + band.H/2 + 0.35*size*pt
		text(fmt.Sprintf("%d", i+1), contentL+numberW/2, baseline, size, false, false, "C")
		text(c.Name, contentL+numberW+4, baseline, size, false, false, "L")
		row := Row{Candidate: c.ID, Number: i + 1, Name: c.Name, Band: band,
			Words: []Rect{l.Texts[len(l.Texts)-1].Rect}}
		by := band.Y + (band.H-approveBox)/2
		agree := Rect{agreeX + (approveColW-approveBox)/2, by, approveBox, approveBox}
		disagree := Rect{disagreeX + (approveColW-approveBox)/2, by, approveBox, approveBox}
		l.Boxes = append(l.Boxes, Box{Rect: agree, Stroke: boxStroke}, Box{Rect: disagree, Stroke: boxStroke})
		// Scored inside the outline, clear of it by the registration tolerance.
		row.Agree, row.Disagree = agree.Inset(boxStroke+clearTol), disagree.Inset(boxStroke+clearTol)
		l.Rows = append(l.Rows, row)
	}
}
