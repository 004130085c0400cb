package scan_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"testing"

	"github.com/kiemphieu/kiemphieu/internal/scansynth"
	"github.com/kiemphieu/kiemphieu/scan"
	"github.com/kiemphieu/kiemphieu/web"
)

// benchPage is a 200 dpi gray JPEG (quality 85) of a 28-name strike paper
// printed by web.BallotPaperPDF and rasterised by pdftoppm, every third
// name struck through its margins, and its layout.
func benchPage(b *testing.B) ([]byte, *scan.Layout) {
	b.Helper()
	if !scansynth.HavePdftoppm() {
		if os.Getenv("CI") != "" {
			b.Fatal("pdftoppm (poppler-utils) is needed: scripts/test installs it")
		}
		b.Skip("SKIPPED: pdftoppm (poppler-utils) is not installed")
	}
	names := []string{"Nguyễn Văn An", "Trần Thị Bích Ngọc", "Lê Hoàng Minh", "Phạm Quốc Việt", "Hoàng Thị Thu Hương", "Đặng Văn Dũng", "Võ Thị Ánh Tuyết"}
	var list []scan.Candidate
	for i := range scan.StrikeColumn {
		list = append(list, scan.Candidate{ID: "c" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Name: names[i%len(names)]})
	}
	l, err := web.PaperLayout(scan.Paper{Meta: scan.Meta{Contest: "bench", Round: 1, Style: "strike"},
		Heading: "PHIẾU BẦU CỬ", Title: "Bầu Ban Chấp hành", List: list})
	if err != nil {
		b.Fatal(err)
	}
	g, err := scansynth.Blank(l, 200)
	if err != nil {
		b.Fatal(err)
	}
	ppm := float64(g.Bounds().Dx()) / scan.PageW
	for i, r := range l.Rows {
		if i%3 != 0 {
			continue
		}
		first, last := r.Clear[0], r.Clear[len(r.Clear)-1]
		y := r.Band.Y + r.Band.H/2
		for x := first.X; x <= last.Right(); x += 0.05 {
			for dy := -0.3; dy <= 0.3; dy += 0.05 {
				px, py := int(x*ppm), int((y+dy)*ppm)
				g.Pix[g.PixOffset(px, py)] = 40
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, g, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), l
}

func decodeGray(b *testing.B, data []byte) *image.Gray {
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		b.Fatalf("decoded %T, want *image.Gray", img)
	}
	return g
}

// BenchmarkDecodeJPEG200 is the ceiling: decoding the page alone.
func BenchmarkDecodeJPEG200(b *testing.B) {
	data, _ := benchPage(b)
	b.ResetTimer()
	for b.Loop() {
		decodeGray(b, data)
	}
}

// BenchmarkReadJPEG200 is decoding and reading the page: what one sheet
// costs the intake (goal ≤ 100 ms of CPU).
func BenchmarkReadJPEG200(b *testing.B) {
	data, l := benchPage(b)
	th := scan.DefaultThresholds()
	b.ResetTimer()
	for b.Loop() {
		r := scan.Read(decodeGray(b, data), l, th)
		if r.Status != scan.StatusRead {
			b.Fatalf("status %s (%s), want read", r.Status, r.Reason)
		}
		for i, n := range r.Names {
			if n.Struck != (i%3 == 0) {
				b.Fatalf("row %d: struck %v (coverage %.2f)", i+1, n.Struck, n.Coverage)
			}
		}
	}
}
