package files

import (
	"image"
	"image/color"
)

// toGray converts a decoded image to 8-bit gray. The fast paths cover what
// scanners produce: JPEG's luma plane is the gray image itself (BT.601, the
// same weights as color.GrayModel), so colour JPEGs cost no conversion.
// Transparent pixels are composed over white paper.
func toGray(m image.Image) *image.Gray {
	b := m.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch m := m.(type) {
	case *image.Gray:
		if m.Rect.Min == (image.Point{}) && m.Stride == m.Rect.Dx() {
			return m
		}
		for y := 0; y < b.Dy(); y++ {
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.YCbCr:
		for y := 0; y < b.Dy(); y++ {
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], m.Y[m.YOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.Gray16:
		for y := 0; y < b.Dy(); y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < b.Dx(); x++ {
				g.Pix[y*g.Stride+x] = row[2*x]
			}
		}
	case *image.Paletted:
		var lut [256]uint8
		for i, c := range m.Palette {
			lut[i] = grayOverWhite(c)
		}
		for y := 0; y < b.Dy(); y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < b.Dx(); x++ {
				g.Pix[y*g.Stride+x] = lut[row[x]]
			}
		}
	case *image.NRGBA:
		for y := 0; y < b.Dy(); y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < b.Dx(); x++ {
				p := row[4*x : 4*x+4]
				v := (19595*uint32(p[0]) + 38470*uint32(p[1]) + 7471*uint32(p[2]) + 1<<15) >> 16
				a := uint32(p[3])
				g.Pix[y*g.Stride+x] = uint8((v*a + 255*(255-a)) / 255)
			}
		}
	default:
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				g.Pix[y*g.Stride+x] = grayOverWhite(m.At(b.Min.X+x, b.Min.Y+y))
			}
		}
	}
	return g
}

// grayOverWhite is c's luma composed over white paper.
func grayOverWhite(c color.Color) uint8 {
	r, gr, bl, a := c.RGBA() // alpha-premultiplied, 16 bit
	w := 0xffff - a
	y := (19595*(r+w) + 38470*(gr+w) + 7471*(bl+w) + 1<<15) >> 24
	return uint8(y)
}

// orient applies an EXIF orientation (1–8): the transform that turns the
// stored pixels into the displayed page. Other values leave the image as is.
func orient(src *image.Gray, o int) *image.Gray {
	if o < 2 || o > 8 {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewGray(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		row := dst.Pix[y*dst.Stride : y*dst.Stride+dw]
		for x := range row {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			row[x] = src.Pix[sy*src.Stride+sx]
		}
	}
	return dst
}

// rotation is the EXIF orientation that turns a page clockwise by deg
// degrees (a PDF page's /Rotate), a multiple of 90.
func rotation(deg int) int {
	switch ((deg % 360) + 360) % 360 {
	case 90:
		return 6
	case 180:
		return 3
	case 270:
		return 8
	}
	return 1
}
