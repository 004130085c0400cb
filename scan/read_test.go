package scan_test

import (
	"image"
	"math"
	"os"
	"testing"

	"github.com/kiemphieu/kiemphieu/internal/scansynth"
	"github.com/kiemphieu/kiemphieu/scan"
	"github.com/kiemphieu/kiemphieu/web"
)

// The recogniser is tested on the real paper: web.BallotPaperPDF
// rasterised by pdftoppm at 200 dpi gray, with pen strokes drawn on the
// raster.

const dpi = 200

var pxPerMM = dpi / 25.4

func paper(contest, style string, n int) scan.Paper {
	names := []string{"Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thị Dung", "Hoàng Văn Em",
		"Vũ Thị Phương Giang", "Đặng Quốc Huy", "Bùi Thị Hạnh"}
	p := scan.Paper{Meta: scan.Meta{Contest: contest, Round: 1, Style: style},
		Superior: "ĐẢNG BỘ TỈNH", Organization: "ĐẢNG BỘ XÃ", Congress: "ĐẠI HỘI LẦN THỨ I",
		Heading: "PHIẾU BẦU CỬ", Title: "BAN CHẤP HÀNH", Note: "Lần 1", Instruction: "Gạch ngang tên"}
	for i := range n {
		p.List = append(p.List, scan.Candidate{ID: string(rune('a' + i)), Name: names[i%len(names)]})
	}
	return p
}

// blank is the rasterised blank paper of a contest (scansynth.Blank, which
// renders each paper once and hands out copies).
func blank(t testing.TB, contest, style string, n int) (*scan.Layout, *image.Gray) {
	t.Helper()
	if !scansynth.HavePdftoppm() {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftoppm is missing: the recogniser's tests need poppler-utils")
		}
		t.Skip("SKIPPED: pdftoppm (poppler-utils) is not installed; the recogniser is not tested")
	}
	l, err := web.PaperLayout(paper(contest, style, n))
	if err != nil {
		t.Fatal(err)
	}
	g, err := scansynth.Blank(l, 200)
	if err != nil {
		t.Fatal(err)
	}
	return l, g
}

func clone(g *image.Gray) *image.Gray {
	c := *g
	c.Pix = append([]uint8(nil), g.Pix...)
	return &c
}

// stroke draws a pen line (page mm) on the unrotated raster.
func stroke(img *image.Gray, s scan.Stroke) {
	r := s.Width / 2 * pxPerMM
	for i := 1; i < len(s.Points); i++ {
		ax, ay := s.Points[i-1][0]*pxPerMM, s.Points[i-1][1]*pxPerMM
		bx, by := s.Points[i][0]*pxPerMM, s.Points[i][1]*pxPerMM
		x0, x1 := int(math.Min(ax, bx)-r-1), int(math.Max(ax, bx)+r+1)
		y0, y1 := int(math.Min(ay, by)-r-1), int(math.Max(ay, by)+r+1)
		dx, dy := bx-ax, by-ay
		ll := dx*dx + dy*dy
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				px, py := float64(x)+0.5, float64(y)+0.5
				t := 0.0
				if ll > 0 {
					t = math.Max(0, math.Min(1, ((px-ax)*dx+(py-ay)*dy)/ll))
				}
				if math.Hypot(px-ax-t*dx, py-ay-t*dy) <= r && image.Pt(x, y).In(img.Rect) {
					if o := img.Pix[y*img.Stride+x]; s.Gray < o {
						img.Pix[y*img.Stride+x] = s.Gray
					}
				}
			}
		}
	}
}

// strike is a pen line through a row's whole name (from the first clear
// zone to the last), share of the way.
func strike(l *scan.Layout, i int, share float64, gray uint8) scan.Stroke {
	row := l.Rows[i]
	x0, x1 := row.Clear[0].X+0.5, row.Clear[len(row.Clear)-1].Right()-0.5
	y := row.Band.Y + row.Band.H/2
	return scan.Stroke{Points: [][2]float64{{x0, y + 0.3}, {x0 + (x1-x0)*share, y - 0.3}}, Width: 0.6, Gray: gray}
}

func cross(r scan.Rect, gray uint8) []scan.Stroke {
	return []scan.Stroke{
		{Points: [][2]float64{{r.X + 0.5, r.Y + 0.5}, {r.Right() - 0.5, r.Bottom() - 0.5}}, Width: 0.6, Gray: gray},
		{Points: [][2]float64{{r.Right() - 0.5, r.Y + 0.5}, {r.X + 0.5, r.Bottom() - 0.5}}, Width: 0.6, Gray: gray},
	}
}

func rotate180(g *image.Gray) *image.Gray {
	c := image.NewGray(g.Rect)
	w, h := g.Rect.Dx(), g.Rect.Dy()
	for y := range h {
		for x := range w {
			c.Pix[(h-1-y)*c.Stride+w-1-x] = g.Pix[y*g.Stride+x]
		}
	}
	return c
}

// rotate turns the image by deg about its centre (nearest neighbour, white
// outside).
func rotate(g *image.Gray, deg float64) *image.Gray {
	c := image.NewGray(g.Rect)
	w, h := g.Rect.Dx(), g.Rect.Dy()
	s, co := math.Sincos(deg * math.Pi / 180)
	cx, cy := float64(w)/2, float64(h)/2
	for y := range h {
		for x := range w {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			sx, sy := int(math.Floor(cx+co*dx+s*dy)), int(math.Floor(cy-s*dx+co*dy))
			v := uint8(255)
			if sx >= 0 && sy >= 0 && sx < w && sy < h {
				v = g.Pix[sy*g.Stride+sx]
			}
			c.Pix[y*c.Stride+x] = v
		}
	}
	return c
}

func paint(g *image.Gray, r scan.Rect, v uint8) {
	for y := int(r.Y * pxPerMM); y < int(r.Bottom()*pxPerMM); y++ {
		for x := int(r.X * pxPerMM); x < int(r.Right()*pxPerMM); x++ {
			g.Pix[y*g.Stride+x] = v
		}
	}
}

func TestReadStrike(t *testing.T) {
	const n = 6
	th := scan.DefaultThresholds()
	for _, tc := range []struct {
		name     string
		draw     func(l *scan.Layout, g *image.Gray) *image.Gray
		status   scan.Status
		reason   string
		struck   []int
		doubtful map[int]string
		upside   bool
	}{
		{name: "blank", draw: nil, status: scan.StatusRead},
		{name: "full strikes", status: scan.StatusRead, struck: []int{0, 3, 5}, draw: func(l *scan.Layout, g *image.Gray) *image.Gray {
			for _, i := range []int{0, 3, 5} {
				stroke(g, strike(l, i, 1, 60))
			}
			return g
		}},
		{name: "partial", status: scan.StatusDoubtful, reason: "names", doubtful: map[int]string{2: "partial"}, draw: func(l *scan.Layout, g *image.Gray) *image.Gray {
			stroke(g, strike(l, 2, 0.4, 60))
			return g
		}},
		{name: "faint", status: scan.StatusDoubtful, reason: "names", doubtful: map[int]string{1: "faint"}, draw: func(l *scan.Layout, g *image.Gray) *image.Gray {
			stroke(g, strike(l, 1, 1, 185))
			return g
		}},
		{name: "upside down", status: scan.StatusRead, struck: []int{1}, upside: true, draw: func(l *scan.Layout, g *image.Gray) *image.Gray {
			stroke(g, strike(l, 1, 1, 60))
			return rotate180(g)
		}},
		{name: "rotated 2°", status: scan.StatusRead, struck: []int{4}, draw: func(l *scan.Layout, g *image.Gray) *image.Gray {
			stroke(g, strike(l, 4, 1, 60))
			return rotate(g, 2)
		}},
		{name: "rotated 8° (marks leave the corners searched)", status: scan.StatusRejected, reason: "no_corner_marks", draw: func(l *scan.Layout, g *image.Gray) *image.Gray {
			return rotate(g, 8)
		}},
		{name: "missing mark", status: scan.StatusRejected, reason: "no_corner_marks", draw: func(l *scan.Layout, g *image.Gray) *image.Gray {
			paint(g, l.Marks[scan.TopRight].Rect.Inset(-1), 255)
			return g
		}},
		{name: "no qr", status: scan.StatusRejected, reason: "no_qr", draw: func(l *scan.Layout, g *image.Gray) *image.Gray {
			paint(g, l.QR, 255)
			return g
		}},
		{name: "stray tick", status: scan.StatusDoubtful, reason: "stray", doubtful: map[int]string{3: "stray"}, draw: func(l *scan.Layout, g *image.Gray) *image.Gray {
			row := l.Rows[3]
			x := strike(l, 3, 1, 60).Points[1][0] + 20
			y := row.Band.Y + row.Band.H/2
			stroke(g, scan.Stroke{Points: [][2]float64{{x, y}, {x + 1.2, y + 1.5}, {x + 4, y - 2}}, Width: 0.6, Gray: 60})
			return g
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, g := blank(t, "bch", "strike", n)
			if tc.draw != nil {
				g = tc.draw(l, g)
			}
			r := scan.Read(g, l, th)
			if r.Status != tc.status || (tc.reason != "" && r.Reason != tc.reason) {
				t.Fatalf("status %s %q, want %s %q; names %+v stray %v", r.Status, r.Reason, tc.status, tc.reason, r.Names, r.Stray)
			}
			if r.UpsideDown != tc.upside {
				t.Errorf("upside down %v, want %v", r.UpsideDown, tc.upside)
			}
			if tc.status == scan.StatusRejected {
				return
			}
			if r.Meta.Contest != "bch" || r.Meta.TestPage != 0 {
				t.Errorf("meta %+v", r.Meta)
			}
			if len(r.Names) != n {
				t.Fatalf("%d names", len(r.Names))
			}
			for i, nr := range r.Names {
				want := contains(tc.struck, i)
				if nr.Struck != want {
					t.Errorf("row %d struck %v (coverage %.2f), want %v", i, nr.Struck, nr.Coverage, want)
				}
				why, doubt := tc.doubtful[i]
				if nr.Doubtful != doubt || nr.Why != why {
					t.Errorf("row %d doubtful %v %q (coverage %.2f faint %.2f), want %v %q", i, nr.Doubtful, nr.Why, nr.Coverage, nr.Faint, doubt, why)
				}
			}
		})
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestReadForeignQR(t *testing.T) {
	l, _ := blank(t, "bch", "strike", 6)
	_, other := blank(t, "ubkt", "strike", 6)
	if r := scan.Read(other, l, scan.DefaultThresholds()); r.Status != scan.StatusRejected || r.Reason != "foreign_qr" {
		t.Fatalf("another contest's paper: %s %q", r.Status, r.Reason)
	}
	l2 := *l
	l2.Meta.Layout = scan.LayoutVersion + 1
	_, g := blank(t, "bch", "strike", 6)
	if r := scan.Read(g, &l2, scan.DefaultThresholds()); r.Status != scan.StatusRejected || r.Reason != "layout_version" {
		t.Fatalf("another layout version: %s %q", r.Status, r.Reason)
	}
}

func TestReadApprove(t *testing.T) {
	l, g := blank(t, "bt", "approve", 5)
	stroke2 := func(ss []scan.Stroke) {
		for _, s := range ss {
			stroke(g, s)
		}
	}
	stroke2(cross(l.Rows[0].Agree, 60))
	stroke2(cross(l.Rows[1].Disagree, 60))
	stroke2(cross(l.Rows[2].Agree, 60))
	stroke2(cross(l.Rows[2].Disagree, 60))
	stroke2(cross(l.Rows[4].Agree, 185))
	r := scan.Read(g, l, scan.DefaultThresholds())
	want := []string{"agree", "disagree", "both", "none", "none"}
	if r.Status != scan.StatusDoubtful || r.Reason != "names" {
		t.Fatalf("status %s %q, want doubtful (the faint cross); %+v", r.Status, r.Reason, r.Names)
	}
	for i, nr := range r.Names {
		if nr.Mark != want[i] {
			t.Errorf("row %d mark %q (agree %.2f disagree %.2f), want %q", i, nr.Mark, nr.Agree, nr.Disagree, want[i])
		}
		if doubt := i == 4; nr.Doubtful != doubt {
			t.Errorf("row %d doubtful %v %q, want %v", i, nr.Doubtful, nr.Why, doubt)
		}
	}
}

func BenchmarkRead200(b *testing.B) {
	l, g := blank(b, "bch", "strike", 30)
	th := scan.DefaultThresholds()
	b.ResetTimer()
	for b.Loop() {
		if r := scan.Read(g, l, th); r.Status != scan.StatusRead {
			b.Fatalf("%s %s", r.Status, r.Reason)
		}
	}
}

// TestReadApproveSecondMeasure: a thin ✓ of a dark pen inks less of its
// box than Marked, and is still read as marked, because its dark pixels
// span the box (Thresholds.Dark, Span); a dark dot inking as much of its
// box spans little and goes to a person, as does a light ✓.
func TestReadApproveSecondMeasure(t *testing.T) {
	l, g := blank(t, "bt2", "approve", 4)
	th := scan.DefaultThresholds()
	check := func(r scan.Rect, width float64, gray uint8) {
		stroke(g, scan.Stroke{Points: [][2]float64{{r.X + 0.8, r.Y + r.H*0.55}, {r.X + r.W*0.4, r.Bottom() - 0.8}, {r.Right() - 0.6, r.Y + 0.7}}, Width: width, Gray: gray})
	}
	check(l.Rows[0].Agree, 0.25, 40)     // thin, dark: marked
	check(l.Rows[1].Disagree, 0.25, 160) // thin, light: a person
	d := l.Rows[2].Agree                 // a dark dot of the same ink
	stroke(g, scan.Stroke{Points: [][2]float64{{d.X + d.W/2 - 0.3, d.Y + d.H/2}, {d.X + d.W/2 + 0.3, d.Y + d.H/2}}, Width: 1.0, Gray: 40})
	r := scan.Read(g, l, th)
	if r.Status == scan.StatusRejected {
		t.Fatalf("rejected: %s", r.Reason)
	}
	thin, light, dot := r.Names[0], r.Names[1], r.Names[2]
	if thin.Agree < th.MarkDoubt || thin.Agree >= th.Marked {
		t.Fatalf("the thin ✓ inks %.3f of its box: the test needs it between MarkDoubt %.2f and Marked %.2f", thin.Agree, th.MarkDoubt, th.Marked)
	}
	if thin.Mark != "agree" || thin.Doubtful {
		t.Errorf("thin dark ✓ (%.3f) = %q doubtful %v %q, want agree, sure", thin.Agree, thin.Mark, thin.Doubtful, thin.Why)
	}
	if light.Mark != "none" || !light.Doubtful {
		t.Errorf("thin light ✓ (%.3f, faint %.3f) = %q doubtful %v, want none and doubtful", light.Disagree, light.Faint, light.Mark, light.Doubtful)
	}
	if dot.Agree < th.MarkDoubt {
		t.Fatalf("the dot inks %.3f of its box: the test needs at least MarkDoubt", dot.Agree)
	}
	if dot.Mark != "none" || !dot.Doubtful || dot.Why != "box" {
		t.Errorf("dark dot (%.3f) = %q doubtful %v %q, want none, doubtful (box)", dot.Agree, dot.Mark, dot.Doubtful, dot.Why)
	}
	if r.Names[3].Mark != "none" || r.Names[3].Doubtful {
		t.Errorf("untouched row = %+v", r.Names[3])
	}
}
