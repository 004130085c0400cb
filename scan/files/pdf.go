package files

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"math"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/filter"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

func init() {
	// pdfcpu would otherwise write a config directory under the user's home
	// on first use; the defaults compiled into it are all this package needs.
	model.ConfigPath = "disable"
}

// pdfImage is one image XObject of a page.
type pdfImage struct {
	sd   *types.StreamDict
	w, h int
	last string // the image's own compression: the last filter
}

// decodePDF yields one page per PDF page: the page's largest image, rotated
// by the page's /Rotate. pdfcpu parses the file and undoes the generic
// filters (Flate, LZW, RunLength, CCITT); the samples are turned into gray
// here, and DCT images go straight to image/jpeg, so no image is re-encoded.
func decodePDF(data []byte, limits Limits, emit func(Page) error) error {
	conf := model.NewDefaultConfiguration()
	ctx, err := api.ReadContext(bytes.NewReader(data), conf)
	if err != nil {
		return refuse(CodeCorrupt, "the PDF could not be read: %v", err)
	}
	if err := ctx.EnsurePageCount(); err != nil || ctx.PageCount < 1 {
		return refuse(CodeCorrupt, "the PDF has no readable pages")
	}
	if ctx.PageCount > limits.MaxPages {
		return refuse(CodeTooManyPages, "the PDF has %d pages, more than %d", ctx.PageCount, limits.MaxPages)
	}
	for n := 1; n <= ctx.PageCount; n++ {
		p := pdfPage(ctx, n, limits)
		if err := emit(p); err != nil {
			return err
		}
	}
	return nil
}

func pdfPage(ctx *model.Context, n int, limits Limits) Page {
	p := Page{Index: n}
	_, _, attrs, err := ctx.PageDict(n, false)
	if err != nil || attrs == nil || attrs.MediaBox == nil {
		p.Err = refuse(CodeCorrupt, "PDF page %d could not be read", n)
		return p
	}
	imgs, err := pageImages(ctx, attrs.Resources)
	if err != nil {
		p.Err = refuse(CodeCorrupt, "PDF page %d: %v", n, err)
		return p
	}
	// One JBIG2 or JPEG 2000 image refuses the page even beside others: a
	// "high compression" scan keeps the ink in a JBIG2 layer over a JPEG
	// background, and the background alone would read as a blank ballot.
	var best *pdfImage
	for i := range imgs {
		switch imgs[i].last {
		case filter.JBIG2:
			p.Err = refuse(CodeJBIG2, "PDF page %d is compressed with JBIG2: set the scanner to JPEG, TIFF or a compatible PDF", n)
			return p
		case filter.JPX:
			p.Err = refuse(CodeJPX, "PDF page %d is compressed with JPEG 2000: set the scanner to JPEG, TIFF or a compatible PDF", n)
			return p
		}
		if best == nil || imgs[i].w*imgs[i].h > best.w*best.h {
			best = &imgs[i]
		}
	}
	box := attrs.MediaBox
	if attrs.CropBox != nil {
		box = attrs.CropBox
	}
	bw, bh := box.Width(), box.Height()
	if best == nil || !covers(best.w, best.h, bw, bh) {
		p.Err = refuse(CodeVectorPDF, "PDF page %d holds no scanned image covering the page: send the scan, not the ballot file", n)
		return p
	}
	if e := checkPixels(best.w, best.h, limits); e != nil {
		p.Err = e
		return p
	}
	g, err := decodePDFImage(ctx, best, limits)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = refuse(CodeCorrupt, "PDF page %d: %v", n, err)
		}
		p.Err = e
		return p
	}
	// The image fills the page: its pixels over the box's inches, matching
	// sides by orientation (a landscape image on a portrait box is placed
	// turned by the content stream).
	long, short := math.Max(bw, bh), math.Min(bw, bh)
	if long > 0 && short > 0 {
		p.DPI = math.Min(float64(max(best.w, best.h))/(long/72), float64(min(best.w, best.h))/(short/72))
	}
	p.Image = orient(g, rotation(attrs.Rotate))
	return p
}

// covers says whether an image of w×h pixels can be the whole page of
// bw×bh points: the same shape within 8%. A QR code or a logo on a vector
// page is far from A4's shape; a scan is the page's shape.
func covers(w, h int, bw, bh float64) bool {
	if w <= 0 || h <= 0 || bw <= 0 || bh <= 0 {
		return false
	}
	ri := float64(min(w, h)) / float64(max(w, h))
	rb := math.Min(bw, bh) / math.Max(bw, bh)
	return math.Abs(ri-rb) <= 0.08*rb
}

// pageImages lists the image XObjects in a page's resources.
func pageImages(ctx *model.Context, res types.Dict) ([]pdfImage, error) {
	if res == nil {
		return nil, nil
	}
	o, ok := res.Find("XObject")
	if !ok {
		return nil, nil
	}
	xobjs, err := ctx.DereferenceDict(o)
	if err != nil || xobjs == nil {
		return nil, err
	}
	var out []pdfImage
	for _, v := range xobjs {
		sd, _, err := ctx.DereferenceStreamDict(v)
		if err != nil || sd == nil {
			continue
		}
		if st := sd.Dict.NameEntry("Subtype"); st == nil || *st != "Image" {
			continue
		}
		im := pdfImage{sd: sd}
		if im.w, err = intEntry(ctx, sd.Dict, "Width"); err != nil {
			return nil, err
		}
		if im.h, err = intEntry(ctx, sd.Dict, "Height"); err != nil {
			return nil, err
		}
		if fpl := sd.FilterPipeline; len(fpl) > 0 {
			im.last = fpl[len(fpl)-1].Name
		}
		out = append(out, im)
	}
	return out, nil
}

func intEntry(ctx *model.Context, d types.Dict, key string) (int, error) {
	o, ok := d.Find(key)
	if !ok {
		return 0, fmt.Errorf("image without %s", key)
	}
	i, err := ctx.DereferenceInteger(o)
	if err != nil || i == nil {
		return 0, fmt.Errorf("image %s is not an integer", key)
	}
	return i.Value(), nil
}

// decodePDFImage turns one image XObject into gray.
func decodePDFImage(ctx *model.Context, im *pdfImage, limits Limits) (*image.Gray, error) {
	sd := im.sd
	if im.last == filter.DCT {
		raw, err := undoFilters(sd, limits)
		if err != nil {
			return nil, err
		}
		m, err := jpeg.Decode(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("DCT image: %w", err)
		}
		if b := m.Bounds(); b.Dx() != im.w || b.Dy() != im.h {
			return nil, fmt.Errorf("DCT image is %d×%d, its dictionary says %d×%d", b.Dx(), b.Dy(), im.w, im.h)
		}
		return toGray(m), nil
	}
	comp := 1
	mask := false
	if b := sd.BooleanEntry("ImageMask"); b != nil && *b {
		mask = true
	} else if im.last != filter.CCITTFax {
		c, err := pdfcpu.ColorSpaceComponents(ctx.XRefTable, sd)
		if err != nil {
			return nil, refuse(CodeCorrupt, "the image's colour space is not supported (%v)", err)
		}
		comp = c
	}
	bpc := 1
	if !mask {
		if i := sd.IntEntry("BitsPerComponent"); i != nil {
			bpc = *i
		}
	}
	switch bpc {
	case 1, 2, 4, 8, 16:
	default:
		return nil, fmt.Errorf("%d bits per component", bpc)
	}
	if comp != 1 && comp != 3 && comp != 4 {
		return nil, refuse(CodeCorrupt, "the image has %d colour components", comp)
	}
	if err := indexedColourSpace(ctx, sd); err != nil {
		return nil, err
	}
	rowBytes := (im.w*comp*bpc + 7) / 8
	need := int64(rowBytes) * int64(im.h)
	if err := sd.DecodeWithLimit(need + 1024); err != nil {
		return nil, fmt.Errorf("image data: %w", err)
	}
	if int64(len(sd.Content)) < need {
		return nil, fmt.Errorf("image data is %d bytes, %d expected", len(sd.Content), need)
	}
	g := samplesToGray(sd.Content, im.w, im.h, comp, bpc, rowBytes)
	// An image mask paints its 0 samples (black ink) unless Decode is
	// [1 0]: the same sense as a 1-bit gray image.
	if hasInvertedDecode(sd) {
		for i := range g.Pix {
			g.Pix[i] = 255 - g.Pix[i]
		}
	}
	sd.Content = nil // let the page's samples go with the page
	return g, nil
}

// indexedColourSpace refuses palette images: scanners do not write them,
// and their lookup tables would need their own decoding.
func indexedColourSpace(ctx *model.Context, sd *types.StreamDict) error {
	o, err := ctx.DereferenceDictEntry(sd.Dict, "ColorSpace")
	if err != nil {
		return nil
	}
	if a, ok := o.(types.Array); ok && len(a) > 0 {
		if n, ok := a[0].(types.Name); ok && (n == "Indexed" || n == "I") {
			return refuse(CodeCorrupt, "the PDF's image uses a palette (Indexed colour space), which is not read: scan in gray or colour")
		}
	}
	return nil
}

// undoFilters applies the filters before a DCT image's own (say, an
// ASCII85 wrapping), leaving the JPEG bytes.
func undoFilters(sd *types.StreamDict, limits Limits) ([]byte, error) {
	fpl := sd.FilterPipeline
	if len(fpl) == 1 {
		return sd.Raw, nil
	}
	var b []byte = sd.Raw
	for _, f := range fpl[:len(fpl)-1] {
		fl, err := filter.NewFilter(f.Name, nil, limits.MaxBytes)
		if err != nil {
			return nil, err
		}
		r, err := fl.Decode(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(r); err != nil {
			return nil, err
		}
		b = buf.Bytes()
	}
	return b, nil
}

// hasInvertedDecode says whether the image's Decode array maps its first
// component 1→0 (an inverted gray or bilevel image).
func hasInvertedDecode(sd *types.StreamDict) bool {
	a := sd.ArrayEntry("Decode")
	if len(a) < 2 {
		return false
	}
	lo, ok1 := number(a[0])
	hi, ok2 := number(a[1])
	return ok1 && ok2 && lo > hi
}

func number(o types.Object) (float64, bool) {
	switch v := o.(type) {
	case types.Integer:
		return float64(v), true
	case types.Float:
		return float64(v), true
	}
	return 0, false
}

// samplesToGray converts packed samples (1–16 bits, 1, 3 or 4 components:
// gray, RGB, CMYK) to 8-bit gray.
func samplesToGray(b []byte, w, h, comp, bpc, rowBytes int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	maxv := uint32(1)<<bpc - 1
	sample := func(row []byte, i int) uint32 {
		switch bpc {
		case 8:
			return uint32(row[i])
		case 16:
			return uint32(row[2*i])<<8 | uint32(row[2*i+1])
		}
		bit := i * bpc
		return uint32(row[bit/8]>>(8-bpc-bit%8)) & maxv
	}
	scale := func(v uint32) uint32 { return v * 255 / maxv }
	for y := 0; y < h; y++ {
		row := b[y*rowBytes : (y+1)*rowBytes]
		out := g.Pix[y*g.Stride : y*g.Stride+w]
		for x := range out {
			switch comp {
			case 1:
				out[x] = uint8(scale(sample(row, x)))
			case 3:
				r, gr, bl := scale(sample(row, 3*x)), scale(sample(row, 3*x+1)), scale(sample(row, 3*x+2))
				out[x] = uint8((19595*r + 38470*gr + 7471*bl + 1<<15) >> 16)
			case 4:
				c, m, yy, k := scale(sample(row, 4*x)), scale(sample(row, 4*x+1)), scale(sample(row, 4*x+2)), scale(sample(row, 4*x+3))
				r, gr, bl := (255-c)*(255-k)/255, (255-m)*(255-k)/255, (255-yy)*(255-k)/255
				out[x] = uint8((19595*r + 38470*gr + 7471*bl + 1<<15) >> 16)
			}
		}
	}
	return g
}
