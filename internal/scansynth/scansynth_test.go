package scansynth

import (
	"bytes"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/kiemphieu/kiemphieu/scan"
)

func needPdftoppm(t *testing.T) {
	t.Helper()
	if !HavePdftoppm() {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftoppm (poppler-utils) is required under CI")
		}
		t.Skip("SKIPPED LOUDLY: pdftoppm (poppler-utils) not installed: no synthetic scans")
	}
}

// The set is seeded: the same page twice is the same bytes, and the pages
// carry ink where the truth says a strike is.
func TestGenerate(t *testing.T) {
	needPdftoppm(t)
	for _, style := range []string{"strike", "approve"} {
		l, f, err := Layouts(style, 10, 7)
		if err != nil {
			t.Fatal(err)
		}
		s := Spec{Layout: l, Foreign: f, DPI: 150, Seed: 42}
		kinds := map[string]int{}
		for n := 1; n <= 12; n++ {
			p, err := s.Generate(n)
			if err != nil {
				t.Fatal(err)
			}
			q, _ := s.Generate(n)
			if !bytes.Equal(p.JPEG, q.JPEG) || !reflect.DeepEqual(p.Truth, q.Truth) {
				t.Fatalf("%s page %d: not reproducible", style, n)
			}
			if w := p.Image.Rect.Dx(); w != 1241 { // 210 mm at 150 dpi, rounded as pdftoppm does
				t.Errorf("%s page %d: width %d px at 150 dpi", style, n, w)
			}
			kinds[p.Truth.Kind]++
			if p.Truth.Kind == KindBallot && len(p.Truth.Names) != len(l.Rows) {
				t.Errorf("%s page %d: %d names in the truth, %d rows", style, n, len(p.Truth.Names), len(l.Rows))
			}
			if n <= 3 {
				dir := filepath.Join("..", "..", "artifacts", "scan")
				os.MkdirAll(dir, 0o755)
				var buf bytes.Buffer
				png.Encode(&buf, p.Image)
				os.WriteFile(filepath.Join(dir, style+"-"+string(rune('0'+n))+".png"), buf.Bytes(), 0o644)
			}
		}
		if kinds[KindBallot] == 0 {
			t.Errorf("%s: no ballot among 12 pages: %v", style, kinds)
		}
	}
}

// A drawn stroke darkens the raster to about the pen's gray along its
// middle and leaves the rest white.
func TestDraw(t *testing.T) {
	l, _, err := Layouts("strike", 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	_ = l
	g := whitePage(100)
	Draw(g, 100, []scan.Stroke{{Points: [][2]float64{{10, 10}, {50, 10}}, Width: 0.8, Gray: 40}})
	k := 100 / 25.4
	if v := g.GrayAt(int(30*k), int(10*k)).Y; v > 120 {
		t.Errorf("middle of the stroke: gray %d, want dark", v)
	}
	if v := g.GrayAt(int(30*k), int(14*k)).Y; v != 255 {
		t.Errorf("4 mm off the stroke: gray %d, want white", v)
	}
}

// Stray ink is drawn clear of every row and of the printed text, inside
// the watched area, on every layout of the accuracy set: on the 55-name
// paper the first column runs lower than the last row, and a stroke "below
// the last row" fell on row 28's strike, where a counter reads it as part
// of the name's mark, not as stray ink.
func TestStrayClearOfRows(t *testing.T) {
	for _, tc := range []struct {
		style string
		names int
	}{{"strike", 20}, {"strike", 55}, {"approve", 12}} {
		l, _, err := Layouts(tc.style, tc.names, 7)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, uint64(tc.names)))
		for i := range 500 {
			st := strayStrokes(rng, l)
			if len(st) != 1 || len(st[0].Points) != 2 {
				t.Fatalf("%s-%d, stroke %d: %+v, want one line", tc.style, tc.names, i, st)
			}
			a, b := st[0].Points[0], st[0].Points[1]
			box := scan.Rect{X: min(a[0], b[0]), Y: min(a[1], b[1]), W: math.Abs(b[0] - a[0]), H: math.Abs(b[1] - a[1])}
			if !clearOfRows(box.Inset(-st[0].Width), l) {
				t.Fatalf("%s-%d, stroke %d at %+v: touches a row or printed text", tc.style, tc.names, i, box)
			}
			w := l.Watched
			if box.X < w.X || box.Y < w.Y || box.Right() > w.Right() || box.Bottom() > w.Bottom() {
				t.Fatalf("%s-%d, stroke %d at %+v: outside the watched area %+v", tc.style, tc.names, i, box, w)
			}
		}
	}
}
