package api

import (
	"bytes"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/kiemphieu/kiemphieu/tally"
)

// decodePages is the intake's stand-in for scan/files' files.Pages, which
// the scan-files branch is writing (TIFF, PDF, EXIF orientation, the
// refusals): until it merges, a file is one JPEG or PNG page, decoded with
// the standard library. The integrator replaces this file with a call to
// files.Pages; nothing else in the intake depends on how a page was
// decoded. fn gets each page's index in the file (0-based) and its gray
// pixels; an error of fn ends the file.
func decodePages(r io.Reader, name string, fn func(idx int, img *image.Gray) error) error {
	// The file is read whole (the body is bounded by its route) so that its
	// dimensions are checked before its pixels are allocated.
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	var decode func(io.Reader) (image.Image, error)
	var config func(io.Reader) (image.Config, error)
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		decode, config = jpeg.Decode, jpeg.DecodeConfig
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		decode, config = png.Decode, png.DecodeConfig
	default:
		return errorf(tally.Invalid, "file", "%.100q is neither a JPEG nor a PNG image", name)
	}
	cfg, err := config(bytes.NewReader(data))
	if err != nil {
		return errorf(tally.Invalid, "file", "%.100q could not be decoded: %.200v", name, err)
	}
	if cfg.Width > maxPageSide || cfg.Height > maxPageSide {
		return errorf(tally.TooLarge, "file", "%.100q is %d×%d pixels: a page is at most %d pixels a side (A4 at 600 dpi)", name, cfg.Width, cfg.Height, maxPageSide)
	}
	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return errorf(tally.Invalid, "file", "%.100q could not be decoded: %.200v", name, err)
	}
	return fn(0, grayOf(img))
}

// maxPageSide bounds a page's pixels before they are allocated: A4 at
// 600 dpi is 4961 × 7016.
const maxPageSide = 7200

// grayOf is img in 8-bit gray (a gray JPEG decodes so already).
func grayOf(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok {
		return g
	}
	g := image.NewGray(img.Bounds())
	draw.Draw(g, g.Bounds(), img, img.Bounds().Min, draw.Src)
	return g
}
