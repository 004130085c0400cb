package api

import (
	"bufio"
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
	br := bufio.NewReader(r)
	head, _ := br.Peek(8)
	var (
		img image.Image
		err error
	)
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		img, err = jpeg.Decode(br)
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		img, err = png.Decode(br)
	default:
		return errorf(tally.Invalid, "file", "%.100q is neither a JPEG nor a PNG image", name)
	}
	if err != nil {
		return errorf(tally.Invalid, "file", "%.100q could not be decoded: %.200v", name, err)
	}
	return fn(0, grayOf(img))
}

// grayOf is img in 8-bit gray (a gray JPEG decodes so already).
func grayOf(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok {
		return g
	}
	g := image.NewGray(img.Bounds())
	draw.Draw(g, g.Bounds(), img, img.Bounds().Min, draw.Src)
	return g
}
