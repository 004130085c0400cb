// Package scansynth makes seeded synthetic scans of the real
// machine-readable ballot (issue 14): the PDF web.BallotPaperPDF prints is
// rasterised by poppler's pdftoppm, pen marks are drawn on the raster, and
// the page goes through a scanner's faults (skew, scale, shift, blur,
// noise, JPEG, upside-down feeding). Every page comes with its truth: what
// a careful counter reads on it, and what the recogniser must not decide.
// The accuracy test of package scan and cmd scangen use it.
package scansynth

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/kiemphieu/kiemphieu/scan"
	"github.com/kiemphieu/kiemphieu/web"
)

var blanks sync.Map // sha256(pdf)+dpi → *image.Gray

// Blank is the printed paper of l rasterised at dpi in gray by pdftoppm:
// the same PDF the printer gets, so that the synthetic scans carry the real
// fonts, outlines and QR code. Cached per layout and resolution; the
// result is a copy the caller may draw on.
func Blank(l *scan.Layout, dpi int) (*image.Gray, error) {
	pdf, err := web.BallotPaperPDF(l, 1, nil)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%x/%d", sha256.Sum256(pdf), dpi)
	if g, ok := blanks.Load(key); ok {
		return clone(g.(*image.Gray)), nil
	}
	g, err := rasterise(pdf, dpi)
	if err != nil {
		return nil, err
	}
	blanks.Store(key, g)
	return clone(g), nil
}

// HavePdftoppm reports whether poppler's rasteriser is installed.
func HavePdftoppm() bool {
	_, err := exec.LookPath("pdftoppm")
	return err == nil
}

func rasterise(pdf []byte, dpi int) (*image.Gray, error) {
	dir, err := os.MkdirTemp("", "scansynth")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "paper.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "page")
	cmd := exec.Command("pdftoppm", "-r", strconv.Itoa(dpi), "-gray", "-singlefile", in, out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pdftoppm: %v: %s", err, msg)
	}
	b, err := os.ReadFile(out + ".pgm")
	if err != nil {
		return nil, err
	}
	return parsePGM(b)
}

// parsePGM reads the binary 8-bit PGM (P5) pdftoppm -gray writes.
func parsePGM(b []byte) (*image.Gray, error) {
	r := bufio.NewReader(bytes.NewReader(b))
	var magic string
	var w, h, maxv int
	if _, err := fmt.Fscan(r, &magic, &w, &h, &maxv); err != nil || magic != "P5" || maxv != 255 || w <= 0 || h <= 0 {
		return nil, fmt.Errorf("pdftoppm: not an 8-bit PGM (%q %d×%d max %d)", magic, w, h, maxv)
	}
	if _, err := r.ReadByte(); err != nil { // the single white space after the header
		return nil, err
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	if _, err := io.ReadFull(r, g.Pix); err != nil {
		return nil, fmt.Errorf("pdftoppm: short PGM: %w", err)
	}
	return g, nil
}

func clone(g *image.Gray) *image.Gray {
	c := image.NewGray(g.Rect)
	copy(c.Pix, g.Pix)
	return c
}
