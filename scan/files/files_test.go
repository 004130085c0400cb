package files

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"testing"

	"github.com/hhrutter/tiff"
)

// page is a synthetic A4 sheet w×h with a black square in its top-left
// corner, so orientation can be checked from where the square lands.
func page(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i := range g.Pix {
		g.Pix[i] = 255
	}
	for y := 0; y < h/10; y++ {
		for x := 0; x < w/10; x++ {
			g.Pix[y*g.Stride+x] = 0
		}
	}
	return g
}

// corner names the corner holding the dark square.
func corner(t *testing.T, g *image.Gray) string {
	t.Helper()
	b := g.Bounds()
	at := func(x, y int) bool { return g.GrayAt(x, y).Y < 128 }
	w, h := b.Dx(), b.Dy()
	switch {
	case at(5, 5):
		return "top-left"
	case at(w-6, 5):
		return "top-right"
	case at(5, h-6):
		return "bottom-left"
	case at(w-6, h-6):
		return "bottom-right"
	}
	return "none"
}

func encJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withSegment inserts a JPEG marker segment right after SOI.
func withSegment(j []byte, marker byte, body []byte) []byte {
	seg := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(body)+2))
	out := append([]byte{}, j[:2]...)
	out = append(out, seg...)
	out = append(out, body...)
	return append(out, j[2:]...)
}

// exif is an APP1 body holding IFD0 with Orientation, in byte order bo.
func exif(bo binary.ByteOrder, orientation uint16) []byte {
	b := []byte("Exif\x00\x00")
	t := make([]byte, 8+2+12+4)
	if bo == binary.LittleEndian {
		copy(t, "II*\x00")
	} else {
		copy(t, "MM\x00*")
	}
	bo.PutUint32(t[4:], 8)
	bo.PutUint16(t[8:], 1)
	bo.PutUint16(t[10:], 274)
	bo.PutUint16(t[12:], 3)
	bo.PutUint32(t[14:], 1)
	bo.PutUint16(t[18:], orientation)
	return append(b, t...)
}

func jfif(unit byte, density uint16) []byte {
	b := []byte("JFIF\x00\x01\x02\x00\x00\x00\x00\x00\x00\x00")
	b[7] = unit
	binary.BigEndian.PutUint16(b[8:], density)
	binary.BigEndian.PutUint16(b[10:], density)
	return b
}

func encPNG(t testing.TB, m image.Image, dpi float64) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	p := b.Bytes()
	if dpi == 0 {
		return p
	}
	body := make([]byte, 9)
	binary.BigEndian.PutUint32(body, uint32(dpi/0.0254+0.5))
	binary.BigEndian.PutUint32(body[4:], uint32(dpi/0.0254+0.5))
	body[8] = 1
	chunk := make([]byte, 8, 21)
	binary.BigEndian.PutUint32(chunk, 9)
	copy(chunk[4:], "pHYs")
	chunk = append(chunk, body...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	ihdrEnd := 8 + 25
	return append(append(append([]byte{}, p[:ihdrEnd]...), chunk...), p[ihdrEnd:]...)
}

func encTIFF(t testing.TB, m image.Image, c tiff.CompressionType) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tiff.Encode(&b, m, &tiff.Options{Compression: c}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pdfImg is one page's image XObject for makePDF; a nil page has none.
type pdfImg struct {
	w, h   int
	filter string // "" for none
	cs     string
	bpc    int
	data   []byte
	rotate int
	box    [2]float64 // MediaBox width, height in points
}

// makePDF writes a minimal PDF, one page per image, with a correct xref.
func makePDF(pages []*pdfImg) []byte {
	var b bytes.Buffer
	var offs []int
	obj := func(s string, stream []byte) int {
		offs = append(offs, b.Len())
		n := len(offs)
		fmt.Fprintf(&b, "%d 0 obj\n%s", n, s)
		if stream != nil {
			fmt.Fprintf(&b, "\nstream\n")
			b.Write(stream)
			fmt.Fprintf(&b, "\nendstream")
		}
		fmt.Fprintf(&b, "\nendobj\n")
		return n
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>", nil)
	offs = append(offs, -1) // 2: the page tree, written last
	var kids []int
	for _, p := range pages {
		box := p.box
		if box == [2]float64{} {
			box = [2]float64{595.28, 841.89}
		}
		content := []byte(fmt.Sprintf("q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q", box[0], box[1]))
		res := "<< >>"
		if p.data != nil {
			f := ""
			if p.filter != "" {
				f = "/Filter /" + p.filter
			}
			cs := "/ColorSpace /" + p.cs
			if p.cs == "" {
				cs = ""
			}
			im := obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d %s /BitsPerComponent %d %s /Length %d >>",
				p.w, p.h, cs, p.bpc, f, len(p.data)), p.data)
			res = fmt.Sprintf("<< /XObject << /Im0 %d 0 R >> >>", im)
		}
		c := obj(fmt.Sprintf("<< /Length %d >>", len(content)), content)
		kids = append(kids, obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Rotate %d /Resources %s /Contents %d 0 R >>",
			box[0], box[1], p.rotate, res, c), nil))
	}
	offs[1] = b.Len()
	fmt.Fprintf(&b, "2 0 obj\n<< /Type /Pages /Count %d /Kids [", len(kids))
	for _, k := range kids {
		fmt.Fprintf(&b, "%d 0 R ", k)
	}
	b.WriteString("] >>\nendobj\n")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return b.Bytes()
}

func deflate(b []byte) []byte {
	var out bytes.Buffer
	w := zlib.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// pack1 packs a gray image into 1-bit rows (white = 1).
func pack1(g *image.Gray) []byte {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	rb := (w + 7) / 8
	out := make([]byte, rb*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if g.Pix[y*g.Stride+x] >= 128 {
				out[y*rb+x/8] |= 0x80 >> (x % 8)
			}
		}
	}
	return out
}

type got struct {
	code   string // the page's refusal, "" for a good page
	corner string
	w, h   int
	dpi    float64
}

func collect(t *testing.T, data []byte, name string, l Limits) ([]got, error) {
	t.Helper()
	var out []got
	err := Pages(bytes.NewReader(data), name, l, func(p Page) error {
		if p.Index != len(out)+1 {
			t.Errorf("page Index %d, want %d", p.Index, len(out)+1)
		}
		var g got
		if p.Err != nil {
			var e *Error
			if !errors.As(p.Err, &e) {
				t.Fatalf("page error %v is not a *Error", p.Err)
			}
			g.code = e.Code
		} else {
			g.corner = corner(t, p.Image)
			g.w, g.h, g.dpi = p.Image.Rect.Dx(), p.Image.Rect.Dy(), float64(int(p.DPI+0.5))
		}
		out = append(out, g)
		return nil
	})
	return out, err
}

func TestPages(t *testing.T) {
	a4 := page(1654, 2339) // 200 dpi
	rgb := image.NewRGBA(a4.Rect)
	for i, v := range a4.Pix {
		rgb.Pix[4*i], rgb.Pix[4*i+1], rgb.Pix[4*i+2], rgb.Pix[4*i+3] = v, v, v, 255
	}
	pal := image.NewPaletted(a4.Rect, color.Palette{color.Black, color.White})
	g16 := image.NewGray16(a4.Rect)
	for i, v := range a4.Pix {
		pal.Pix[i] = v / 255
		g16.Pix[2*i], g16.Pix[2*i+1] = v, v
	}
	j := encJPEG(t, a4)
	var progressive []byte
	if b, err := os.ReadFile("testdata/progressive.jpg"); err == nil {
		progressive = b
	}
	g4, _ := os.ReadFile("testdata/g4-3pages.tif")
	tests := []struct {
		name  string
		file  string
		data  []byte
		limit Limits
		want  []got
		fail  string // the whole file's refusal
	}{
		{name: "jpeg gray", file: "a.jpg", data: j, want: []got{{corner: "top-left", w: 1654, h: 2339}}},
		{name: "jpeg colour, jfif 200 dpi", file: "a.jpg", data: withSegment(encJPEG(t, rgb), 0xE0, jfif(1, 200)), want: []got{{corner: "top-left", w: 1654, h: 2339, dpi: 200}}},
		{name: "jpeg jfif dots per cm", file: "a.jpg", data: withSegment(j, 0xE0, jfif(2, 79)), want: []got{{corner: "top-left", w: 1654, h: 2339, dpi: 201}}},
		{name: "jpeg exif 6 rotates clockwise", file: "a.jpg", data: withSegment(j, 0xE1, exif(binary.BigEndian, 6)), want: []got{{corner: "top-right", w: 2339, h: 1654}}},
		{name: "jpeg exif 3 little-endian", file: "a.jpg", data: withSegment(j, 0xE1, exif(binary.LittleEndian, 3)), want: []got{{corner: "bottom-right", w: 1654, h: 2339}}},
		{name: "jpeg exif 8", file: "a.jpg", data: withSegment(j, 0xE1, exif(binary.LittleEndian, 8)), want: []got{{corner: "bottom-left", w: 2339, h: 1654}}},
		{name: "jpeg exif 2 mirrors", file: "a.jpg", data: withSegment(j, 0xE1, exif(binary.LittleEndian, 2)), want: []got{{corner: "top-right", w: 1654, h: 2339}}},
		{name: "jpeg 100 dpi is low", file: "a.jpg", data: withSegment(encJPEG(t, page(827, 1170)), 0xE0, jfif(1, 100)), want: []got{{code: CodeLowResolution}}},
		{name: "jpeg small without dpi is low", file: "a.jpg", data: encJPEG(t, page(827, 1170)), want: []got{{code: CodeLowResolution}}},
		{name: "camera photo's 72 dpi is a placeholder", file: "a.jpg", data: withSegment(encJPEG(t, page(3024, 4032)), 0xE0, jfif(1, 72)), want: []got{{corner: "top-left", w: 3024, h: 4032, dpi: 72}}},
		{name: "jpeg progressive", file: "p.jpg", data: progressive, want: []got{{corner: "top-left", w: 1654, h: 2339, dpi: 200}}},
		{name: "jpeg truncated", file: "a.jpg", data: j[:len(j)/2], want: []got{{code: CodeCorrupt}}},
		{name: "png 1 bit palette", file: "a.png", data: encPNG(t, pal, 200), want: []got{{corner: "top-left", w: 1654, h: 2339, dpi: 200}}},
		{name: "png 16 bit", file: "a.png", data: encPNG(t, g16, 0), want: []got{{corner: "top-left", w: 1654, h: 2339}}},
		{name: "png rgba", file: "a.png", data: encPNG(t, rgb, 300), want: []got{{corner: "top-left", w: 1654, h: 2339, dpi: 300}}},
		{name: "png pixel bomb", file: "a.png", data: encPNG(t, a4, 0), limit: Limits{MaxPixels: 1_000_000}, want: []got{{code: CodeTooLarge}}},
		{name: "tiff lzw (the encoder states 72 dpi: a placeholder at this size)", file: "a.tif", data: encTIFF(t, a4, tiff.LZW), want: []got{{corner: "top-left", w: 1654, h: 2339, dpi: 72}}},
		{name: "tiff deflate rgb", file: "a.tif", data: encTIFF(t, rgb, tiff.Deflate), want: []got{{corner: "top-left", w: 1654, h: 2339, dpi: 72}}},
		{name: "tiff g4 three pages", file: "a.tif", data: g4, want: []got{
			{corner: "top-left", w: 1654, h: 2339, dpi: 200}, {corner: "top-left", w: 1654, h: 2339, dpi: 200}, {corner: "top-left", w: 1654, h: 2339, dpi: 200}}},
		{name: "tiff g4 too many pages", file: "a.tif", data: g4, limit: Limits{MaxPages: 2}, fail: CodeTooManyPages},
		{name: "pdf dct", file: "a.pdf", data: makePDF([]*pdfImg{{w: 1654, h: 2339, filter: "DCTDecode", cs: "DeviceGray", bpc: 8, data: j}}),
			want: []got{{corner: "top-left", w: 1654, h: 2339, dpi: 200}}},
		{name: "pdf flate gray rotated 90, a jbig2 page, a vector page", file: "a.pdf", data: makePDF([]*pdfImg{
			{w: 1654, h: 2339, filter: "FlateDecode", cs: "DeviceGray", bpc: 8, data: deflate(a4.Pix), rotate: 90},
			{w: 1654, h: 2339, filter: "JBIG2Decode", cs: "DeviceGray", bpc: 1, data: []byte("not really jbig2")},
			{},
		}), want: []got{{corner: "top-right", w: 2339, h: 1654, dpi: 200}, {code: CodeJBIG2}, {code: CodeVectorPDF}}},
		{name: "pdf 1 bit flate, jpx page", file: "a.pdf", data: makePDF([]*pdfImg{
			{w: 1654, h: 2339, filter: "FlateDecode", cs: "DeviceGray", bpc: 1, data: deflate(pack1(a4))},
			{w: 1654, h: 2339, filter: "JPXDecode", cs: "DeviceRGB", bpc: 8, data: []byte("jpx")},
		}), want: []got{{corner: "top-left", w: 1654, h: 2339, dpi: 200}, {code: CodeJPX}}},
		{name: "pdf with only a QR-sized image is vector", file: "a.pdf", data: makePDF([]*pdfImg{
			{w: 200, h: 200, filter: "FlateDecode", cs: "DeviceGray", bpc: 8, data: deflate(make([]byte, 200*200))}}),
			want: []got{{code: CodeVectorPDF}}},
		{name: "pdf low resolution", file: "a.pdf", data: makePDF([]*pdfImg{
			{w: 827, h: 1170, filter: "DCTDecode", cs: "DeviceGray", bpc: 8, data: encJPEG(t, page(827, 1170))}}),
			want: []got{{code: CodeLowResolution}}},
		{name: "pdf too many pages", file: "a.pdf", data: makePDF([]*pdfImg{{}, {}, {}}), limit: Limits{MaxPages: 2}, fail: CodeTooManyPages},
		{name: "pdf broken", file: "a.pdf", data: []byte("%PDF-1.4\nnothing else"), fail: CodeCorrupt},
		{name: "heic", file: "IMG_0001.HEIC", data: []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), fail: CodeHEIC},
		{name: "heic by name", file: "IMG_0001.HEIC", data: []byte("garbage"), fail: CodeHEIC},
		{name: "webp", file: "a.bin", data: []byte("RIFF\x10\x00\x00\x00WEBPVP8 "), fail: CodeWebP},
		{name: "text named jpg", file: "a.jpg", data: []byte("hello"), fail: CodeCorrupt},
		{name: "unknown", file: "a.docx", data: []byte("PK\x03\x04"), fail: CodeUnknownFormat},
		{name: "empty", file: "", data: nil, fail: CodeUnknownFormat},
		{name: "too large", file: "a.jpg", data: j, limit: Limits{MaxBytes: 1000}, fail: CodeTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.data == nil && tt.name != "empty" {
				t.Fatalf("fixture missing (see testdata/README.md)")
			}
			pages, err := collect(t, tt.data, tt.file, tt.limit)
			if tt.fail != "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != tt.fail {
					t.Fatalf("err = %v, want a %q refusal", err, tt.fail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(pages) != fmt.Sprint(tt.want) {
				t.Errorf("pages\n got %v\nwant %v", pages, tt.want)
			}
		})
	}
}

func TestPagesStopsWhenFnFails(t *testing.T) {
	data := makePDF([]*pdfImg{{}, {}, {}})
	stop := errors.New("stop")
	calls := 0
	err := Pages(bytes.NewReader(data), "a.pdf", Limits{}, func(Page) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("err %v after %d calls, want stop after 1", err, calls)
	}
}

func FuzzPages(f *testing.F) {
	small := page(64, 90)
	f.Add(encJPEG(f, small))
	f.Add(withSegment(encJPEG(f, small), 0xE1, exif(binary.LittleEndian, 6)))
	f.Add(encPNG(f, small, 200))
	f.Add(encTIFF(f, small, tiff.LZW))
	f.Add(makePDF([]*pdfImg{{w: 64, h: 90, filter: "FlateDecode", cs: "DeviceGray", bpc: 8, data: deflate(small.Pix), box: [2]float64{64, 90}}}))
	if g4, err := os.ReadFile("testdata/g4-3pages.tif"); err == nil {
		f.Add(g4)
	}
	limits := Limits{MaxBytes: 1 << 20, MaxPages: 4, MaxPixels: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		err := Pages(bytes.NewReader(data), "f", limits, func(p Page) error {
			n++
			if n > limits.MaxPages {
				t.Fatalf("%d pages, limit %d", n, limits.MaxPages)
			}
			if (p.Err == nil) == (p.Image == nil) {
				t.Fatalf("page %d: Err %v with image %v", p.Index, p.Err, p.Image != nil)
			}
			if p.Image != nil && p.Image.Rect.Dx()*p.Image.Rect.Dy() > limits.MaxPixels {
				t.Fatalf("page of %v pixels, limit %d", p.Image.Rect, limits.MaxPixels)
			}
			return nil
		})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("whole-file error %v is not a *Error", err)
			}
		}
	})
}

// BenchmarkDecodeJPEG200 is the ceiling the recogniser's speed is compared
// with: decoding one 200 dpi A4 gray JPEG to a page, nothing else.
func BenchmarkDecodeJPEG200(b *testing.B) {
	data := withSegment(encJPEG(b, page(1654, 2339)), 0xE0, jfif(1, 200))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Pages(bytes.NewReader(data), "a.jpg", Limits{}, func(p Page) error { return p.Err }); err != nil {
			b.Fatal(err)
		}
	}
}
