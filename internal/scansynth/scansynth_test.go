package scansynth

import (
	"bytes"
	"image/png"
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
