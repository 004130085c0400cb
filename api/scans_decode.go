package api

import (
	"errors"
	"image"
	"io"

	"github.com/kiemphieu/kiemphieu/scan/files"
	"github.com/kiemphieu/kiemphieu/tally"
)

// decodePages reads one uploaded file's pages with scan/files (JPEG with
// its EXIF orientation, PNG, multi-page TIFF, PDFs of scanned images). fn
// gets each page's index in the file (0-based) and either its gray pixels
// or why that page cannot be read (a JBIG2 or JPEG 2000 image, a
// resolution below 150 dpi, a corrupt page): that page is rejected and the
// others go on. A file refused whole is a 400 (413 when too large) naming
// the "file" field, with the refusal's code.
func decodePages(r io.Reader, name string, fn func(idx int, img *image.Gray, refused *files.Error) error) error {
	err := files.Pages(r, name, files.Limits{MaxBytes: maxScanBody, MaxPages: maxScanPages, MaxPixels: maxPagePixels},
		func(p files.Page) error {
			var fe *files.Error
			if p.Err != nil && !errors.As(p.Err, &fe) {
				fe = &files.Error{Code: files.CodeCorrupt, Message: p.Err.Error()}
			}
			return fn(p.Index-1, p.Image, fe)
		})
	var fe *files.Error
	if errors.As(err, &fe) {
		kind := tally.Invalid
		if fe.Code == files.CodeTooLarge || fe.Code == files.CodeTooManyPages {
			kind = tally.TooLarge
		}
		return errorf(kind, "file", "%.100q: %s (%s)", name, fe.Message, fe.Code)
	}
	return err
}

// maxPagePixels bounds a page's pixels before they are allocated: A4 at
// 600 dpi is 4961 × 7016, 35 Mpx.
const maxPagePixels = 36_000_000
