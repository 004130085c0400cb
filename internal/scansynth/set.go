package scansynth

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	"github.com/kiemphieu/kiemphieu/scan"
	"github.com/kiemphieu/kiemphieu/web"
)

// Kinds of page.
const (
	KindBallot  = "ballot"  // a paper of the round
	KindForeign = "foreign" // another contest's paper
	KindBlank   = "blank"   // a white sheet
)

// Doubt levels of a name's truth.
const (
	// DoubtMust: the machine must send the name to a person (a partial or
	// faint strike, a faint box mark): never struck, kept or marked by it.
	DoubtMust = "must"
	// DoubtMay: stray ink in the row (a dot, a tick): the reading must be
	// the voter's intent or doubtful, never the other way.
	DoubtMay = "may"
)

// NameTruth is what a careful counter reads on one row.
type NameTruth struct {
	Candidate string `json:"candidate"`
	Pen       string `json:"pen"` // the mark drawn (Mark* constants)
	Faint     bool   `json:"faint,omitempty"`
	// Struck (strike papers) or Mark ("agree", "disagree", "both",
	// "none") is the voter's intent.
	Struck bool   `json:"struck,omitempty"`
	Mark   string `json:"mark,omitempty"`
	Doubt  string `json:"doubt,omitempty"`
}

// Truth is one page's expected reading.
type Truth struct {
	Page    int    `json:"page"`
	File    string `json:"file,omitempty"`
	Kind    string `json:"kind"`
	Contest string `json:"contest,omitempty"`
	Style   string `json:"style,omitempty"`
	// Must is the status the page must get: "rejected" (foreign, blank),
	// "doubtful" (a name must be doubtful, or stray ink in the voting
	// area), or "" (no constraint beyond the names').
	Must scan.Status `json:"must,omitempty"`
	// Ordinary: a paper of the round marked only with clear strikes or box
	// marks: the recogniser should read it without a person (≥95% bar).
	Ordinary bool        `json:"ordinary"`
	Stray    bool        `json:"stray,omitempty"` // ink in the voting area outside the rows
	Names    []NameTruth `json:"names,omitempty"`
	Acq      Acquisition `json:"acquisition"`
}

// Page is one synthetic scan.
type Page struct {
	JPEG  []byte
	Image *image.Gray // the decoded JPEG: what the recogniser sees
	Truth Truth
}

// Spec is a set to generate.
type Spec struct {
	Layout  *scan.Layout // the round's paper
	Foreign *scan.Layout // another contest's paper (nil: none in the set)
	DPI     int
	Seed    uint64
}

// Generate makes page n (1-based) of the set: the same spec, seed and n
// give the same page, whatever else is generated.
func (s Spec) Generate(n int) (Page, error) {
	rng := rand.New(rand.NewPCG(s.Seed, uint64(n)))
	t := Truth{Page: n, Kind: KindBallot}
	l := s.Layout
	k := rng.IntN(100)
	switch {
	case k < 4:
		t.Kind, t.Must = KindBlank, scan.StatusRejected
	case k < 9 && s.Foreign != nil:
		t.Kind, t.Must, l = KindForeign, scan.StatusRejected, s.Foreign
	}
	t.Acq = RandomAcquisition(rng)
	dpi := float64(s.DPI)
	var raster *image.Gray
	if t.Kind == KindBlank {
		// The size of the printed paper's raster, so that a blank sheet
		// is the same page size as the others of the batch.
		paper, err := Blank(l, s.DPI)
		if err != nil {
			return Page{}, err
		}
		raster = paper
		for i := range raster.Pix {
			raster.Pix[i] = 255
		}
	} else {
		var err error
		if raster, err = Blank(l, s.DPI); err != nil {
			return Page{}, err
		}
		t.Contest, t.Style = l.Meta.Contest, l.Style
		// Hard pages: a few names with marks that must (or may) go to a
		// person; the rest ordinary.
		hard := t.Kind == KindBallot && rng.IntN(100) < 25
		var strokes []scan.Stroke
		for i, r := range l.Rows {
			nt, st := markRow(rng, l.Style, r, hard && rng.IntN(len(l.Rows)) < 2 || hard && i == len(l.Rows)/2)
			if nt.Doubt == DoubtMust {
				t.Must = scan.StatusDoubtful
			}
			strokes = append(strokes, st...)
			t.Names = append(t.Names, nt)
		}
		if t.Kind == KindBallot && rng.IntN(100) < 4 {
			if st := strayStrokes(rng, l); st != nil {
				t.Stray, t.Must = true, scan.StatusDoubtful
				strokes = append(strokes, st...)
			}
		}
		Draw(raster, dpi, strokes)
		t.Ordinary = t.Kind == KindBallot && t.Must == ""
		for _, nt := range t.Names {
			t.Ordinary = t.Ordinary && nt.Doubt == ""
		}
		if t.Kind == KindForeign {
			t.Names = nil // nothing of another contest's paper is read
		}
	}
	jp, img, err := Acquire(raster, dpi, t.Acq, rng)
	if err != nil {
		return Page{}, err
	}
	return Page{JPEG: jp, Image: img, Truth: t}, nil
}

// markRow draws the voter's mark on one row; hard allows the marks a
// person must look at.
func markRow(rng *rand.Rand, style string, r scan.Row, hard bool) (NameTruth, []scan.Stroke) {
	nt := NameTruth{Candidate: r.Candidate, Pen: MarkNone}
	pen := RandomPen(rng)
	if style == "approve" {
		nt.Mark = "none"
		kinds := []string{MarkX, MarkCheck, MarkFill}
		kind := kinds[rng.IntN(len(kinds))]
		if hard {
			nt.Faint, nt.Doubt, pen = true, DoubtMust, FaintPen(rng)
		}
		var st []scan.Stroke
		switch k := rng.IntN(100); {
		case k < 55:
			nt.Mark, st = "agree", boxStrokes(rng, r.Agree, kind, pen)
		case k < 88:
			nt.Mark, st = "disagree", boxStrokes(rng, r.Disagree, kind, pen)
		case k < 93:
			nt.Mark = "both"
			st = append(boxStrokes(rng, r.Agree, kind, pen), boxStrokes(rng, r.Disagree, kind, pen)...)
		default:
			nt.Faint, nt.Doubt = false, "" // nothing drawn: nothing to doubt
		}
		if len(st) > 0 {
			nt.Pen = kind
		}
		return nt, st
	}
	if hard {
		switch rng.IntN(4) {
		case 0:
			nt.Pen, nt.Doubt = MarkPartial, DoubtMust
			return nt, partialStrokes(rng, r, pen)
		case 1:
			nt.Pen, nt.Faint, nt.Doubt, nt.Struck = MarkStraight, true, DoubtMust, true
			return nt, strikeStrokes(rng, r, MarkStraight, FaintPen(rng))
		case 2:
			nt.Pen, nt.Doubt = MarkDot, DoubtMay
			return nt, dotStrokes(rng, r, pen)
		default:
			nt.Pen, nt.Doubt = MarkTick, DoubtMay
			return nt, tickStrokes(rng, r, pen)
		}
	}
	if rng.IntN(100) < 40 {
		return nt, nil
	}
	kinds := []string{MarkStraight, MarkStraight, MarkSlanted, MarkWavy, MarkDouble}
	nt.Pen, nt.Struck = kinds[rng.IntN(len(kinds))], true
	return nt, strikeStrokes(rng, r, nt.Pen, pen)
}

// strayStrokes puts ink in the voting area clear of every row and of the
// printed text: a doodle, a note, a pen's slip. The spot is drawn until it
// is: below the last row is not enough, since on a two-column paper the
// first column runs lower than the last row (a stroke there fell on row
// 28 of a 55-name paper, where a counter reads it as part of that name's
// strike, not as stray ink). Nil when the paper leaves no room.
func strayStrokes(rng *rand.Rand, l *scan.Layout) []scan.Stroke {
	w := l.Watched
	pen := RandomPen(rng)
	// A 55-name paper's only room is under the second column, and few of
	// the spots drawn there are clear: draw enough.
	for range 5000 {
		x, y := uniform(rng, w.X+3, w.Right()-11), uniform(rng, w.Y+3, w.Bottom()-5)
		dx, dy := uniform(rng, 2, 8), uniform(rng, -2, 2)
		// The stroke's box with a margin the recogniser's registration
		// and the pen's width stay inside.
		box := scan.Rect{X: x - 2, Y: min(y, y+dy) - 2, W: dx + 4, H: math.Abs(dy) + 4}
		if clearOfRows(box, l) {
			return []scan.Stroke{pen.line([2]float64{x, y}, [2]float64{x + dx, y + dy})}
		}
	}
	return nil
}

func clearOfRows(box scan.Rect, l *scan.Layout) bool {
	hit := func(r scan.Rect) bool {
		return box.X < r.Right() && r.X < box.Right() && box.Y < r.Bottom() && r.Y < box.Bottom()
	}
	for _, r := range l.Rows {
		if hit(r.Band) {
			return false
		}
	}
	for _, t := range l.Texts {
		if hit(t.Rect) {
			return false
		}
	}
	for _, b := range l.Boxes {
		if hit(b.Rect) {
			return false
		}
	}
	return true
}

var families = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"}
var middles = []string{"Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quốc", "Xuân", "Thu"}
var givens = []string{"An", "Bình", "Cường", "Dũng", "Giang", "Hải", "Hạnh", "Khánh", "Lâm", "Linh", "Mai", "Nam", "Phương", "Quân", "Sơn", "Thảo", "Tuấn", "Việt", "Yến", "Hường"}

// Paper is a round's paper with n seeded Vietnamese names, as the
// accuracy test and scangen print it.
func Paper(contest, style string, n int, seed uint64) scan.Paper {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	p := scan.Paper{
		Meta:     scan.Meta{Congress: "dh-2026", Contest: contest, Round: 1, Style: style},
		Superior: "ĐẢNG BỘ TỈNH THỬ NGHIỆM", Organization: "ĐẢNG BỘ XÃ MẪU", Congress: "ĐẠI HỘI LẦN THỨ XV",
		Heading: "PHIẾU BẦU CỬ", Title: "BAN CHẤP HÀNH ĐẢNG BỘ KHÓA XV", Note: "Lần bầu thứ nhất — bầu 9 người",
		Instruction: "Gạch ngang cả họ và tên người không bầu",
	}
	if style == "approve" {
		p.Heading, p.Instruction = "PHIẾU BIỂU QUYẾT", "Đánh dấu X vào một ô cho mỗi người"
	}
	for i := range n {
		name := families[rng.IntN(len(families))] + " " + middles[rng.IntN(len(middles))] + " " + givens[rng.IntN(len(givens))]
		if rng.IntN(4) == 0 {
			name = families[rng.IntN(len(families))] + " " + name
		}
		p.List = append(p.List, scan.Candidate{ID: fmt.Sprintf("c%02d", i+1), Name: name})
	}
	return p
}

// Layouts lays out the round's paper and a foreign one (another contest,
// same style) in the PDF's metrics.
func Layouts(style string, n int, seed uint64) (round, foreign *scan.Layout, err error) {
	if round, err = web.PaperLayout(Paper("bch", style, n, seed)); err != nil {
		return nil, nil, err
	}
	if foreign, err = web.PaperLayout(Paper("ubkt", style, n, seed+1)); err != nil {
		return nil, nil, err
	}
	return round, foreign, nil
}
