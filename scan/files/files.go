// Package files turns an uploaded file (JPEG, PNG, TIFF, a PDF of scanned
// images) into scanned pages in 8-bit gray. It is the only package that
// imports the image and PDF libraries, so the recogniser stays a pure
// function of gray pixels and the api only streams uploads into it.
package files

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"path"
	"strings"
)

// Page is one scanned page as it came from a file: decoded to 8-bit gray
// (the recogniser reads gray; colour is not kept), EXIF orientation applied,
// no metadata kept.
type Page struct {
	File  int         // index of the file in the upload (set by the caller)
	Index int         // 1-based page within the file
	Image *image.Gray // nil when Err is set
	DPI   float64     // as stated by the file (JFIF/EXIF/TIFF/PNG pHYs/PDF placement), 0 if unknown
	Err   error       // a page that could not be decoded: a *Error naming why (the rest go on)
}

// Error is a refusal of a file or page, with a code for the API and an
// English message; the api maps Code to a Vietnamese sentence for pages.
type Error struct{ Code, Message string }

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// The refusal codes (Error.Code).
const (
	CodeJBIG2         = "jbig2"
	CodeJPX           = "jpx"
	CodeVectorPDF     = "vector_pdf"
	CodeHEIC          = "heic"
	CodeWebP          = "webp"
	CodeUnknownFormat = "unknown_format"
	CodeLowResolution = "low_resolution"
	CodeTooLarge      = "too_large"
	CodeTooManyPages  = "too_many_pages"
	CodeCorrupt       = "corrupt"
)

func refuse(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Limits bound what one file may cost, against decompression bombs. A zero
// field takes its value from DefaultLimits.
type Limits struct {
	MaxBytes  int64 // the file's size
	MaxPages  int   // pages in one file
	MaxPixels int   // pixels of one page, checked before it is decoded
}

// DefaultLimits: a scanner's stack of 100 pages is about 50 MB; an A4 page at
// 600 dpi is 35 Mpx, so 50 Mpx leaves room for A3 at 400 dpi.
var DefaultLimits = Limits{MaxBytes: 256 << 20, MaxPages: 500, MaxPixels: 50_000_000}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxPages <= 0 {
		l.MaxPages = DefaultLimits.MaxPages
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultLimits.MaxPixels
	}
	return l
}

// MinDPI is the resolution below which corner-mark and QR reading begin to
// fail (research §3.6). A page stated in dots per centimetre rounds 150 dpi
// to 59 dpcm = 149.9 dpi, hence the small tolerance in lowResolution.
const MinDPI = 150

// minShortSide is 150 dpi across A4's short side (8.27 in): the bound for a
// page whose file states no resolution.
const minShortSide = 1240

// Pages reads a file and calls fn for each page as it is decoded (a
// multi-page TIFF or PDF page by page, so memory holds about one decoded page
// at a time beside the file's bytes). name is the uploaded file name, used
// only when the content matches no known signature. A whole-file refusal
// returns a *Error; fn returning an error stops and returns that error.
func Pages(r io.Reader, name string, limits Limits, fn func(Page) error) (err error) {
	limits = limits.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, limits.MaxBytes+1))
	if err != nil {
		return fmt.Errorf("files: reading %q: %w", name, err)
	}
	if int64(len(data)) > limits.MaxBytes {
		return refuse(CodeTooLarge, "the file is larger than %d bytes", limits.MaxBytes)
	}
	// The decoders are third-party code fed untrusted bytes: a panic in one
	// of them is a corrupt file, never a crashed request. A panic inside fn
	// is not ours to swallow and is raised again.
	inFn := false
	emit := func(p Page) error {
		if p.Err == nil {
			if e := checkResolution(p); e != nil {
				p.Err, p.Image = e, nil
			}
		}
		inFn = true
		err := fn(p)
		inFn = false
		return err
	}
	defer func() {
		if v := recover(); v != nil {
			if inFn {
				panic(v)
			}
			err = refuse(CodeCorrupt, "the file could not be decoded")
		}
	}()
	switch kind := sniff(data, name); kind {
	case "jpeg":
		return emit(decodeJPEG(data, limits))
	case "png":
		return emit(decodePNG(data, limits))
	case "tiff":
		return decodeTIFF(data, limits, emit)
	case "pdf":
		return decodePDF(data, limits, emit)
	case "heic":
		return refuse(CodeHEIC, "HEIC/HEIF photos cannot be read: choose JPEG in the camera or scanner settings")
	case "webp":
		return refuse(CodeWebP, "WebP images cannot be read: send JPEG or PNG")
	case "corrupt":
		return refuse(CodeCorrupt, "the file is named %q but its content is not of that type", path.Base(name))
	default:
		return refuse(CodeUnknownFormat, "the file is not a JPEG, PNG, TIFF or PDF")
	}
}

// sniff names the format from the content's signature; the file name is
// consulted only when no signature matches.
func sniff(b []byte, name string) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return "jpeg"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")):
		return "tiff"
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "webp"
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		switch string(b[8:12]) {
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1", "avif", "avis":
			return "heic"
		}
	}
	// The PDF header may follow some junk (the spec lets readers look
	// within the first 1024 bytes).
	if bytes.Contains(b[:min(len(b), 1024)], []byte("%PDF-")) {
		return "pdf"
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".heic", ".heif", ".avif":
		return "heic"
	case ".webp":
		return "webp"
	case ".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".pdf":
		return "corrupt"
	}
	return "unknown"
}

// checkResolution refuses a page too coarse for the recogniser. A stated
// resolution that makes the page longer than 17.5 in (A3 is 16.5 in) is a
// placeholder, not a scan — cameras write 72 dpi into 4000-pixel photos —
// and is treated as unknown.
func checkResolution(p Page) *Error {
	b := p.Image.Bounds()
	short, long := min(b.Dx(), b.Dy()), max(b.Dx(), b.Dy())
	if p.DPI > 0 && float64(long)/p.DPI <= 17.5 {
		if p.DPI < MinDPI-1.5 {
			return refuse(CodeLowResolution, "the page is scanned at %.0f dpi; scan at 200 dpi or more", p.DPI)
		}
		return nil
	}
	if short < minShortSide {
		return refuse(CodeLowResolution, "the page is %d×%d pixels, below 150 dpi for A4; scan at 200 dpi or more", b.Dx(), b.Dy())
	}
	return nil
}

// checkPixels refuses a page before it is decoded when its stated size
// exceeds the limit.
func checkPixels(w, h int, limits Limits) *Error {
	if w <= 0 || h <= 0 {
		return refuse(CodeCorrupt, "the image has no size (%d×%d)", w, h)
	}
	if int64(w)*int64(h) > int64(limits.MaxPixels) {
		return refuse(CodeTooLarge, "the page is %d×%d pixels, more than %d", w, h, limits.MaxPixels)
	}
	return nil
}
