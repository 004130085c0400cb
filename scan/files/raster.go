package files

import (
	"bytes"
	"encoding/binary"
	"image/jpeg"
	"image/png"
)

// decodeJPEG decodes a JPEG (baseline or progressive) and applies its EXIF
// orientation. Nothing else of the metadata is carried over.
func decodeJPEG(data []byte, limits Limits) Page {
	p := Page{Index: 1}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		p.Err = refuse(CodeCorrupt, "the JPEG could not be read: %v", err)
		return p
	}
	if e := checkPixels(cfg.Width, cfg.Height, limits); e != nil {
		p.Err = e
		return p
	}
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		p.Err = refuse(CodeCorrupt, "the JPEG could not be decoded: %v", err)
		return p
	}
	meta := jpegMeta(data)
	p.Image = orient(toGray(m), meta.orientation)
	p.DPI = meta.dpi
	return p
}

type jpegInfo struct {
	orientation int
	dpi         float64
}

// jpegMeta reads the JFIF density (APP0) and, from the EXIF block (APP1),
// IFD0's Orientation and resolution: the only metadata the pages use.
// Markers are walked up to the first scan; damage just ends the walk.
func jpegMeta(b []byte) jpegInfo {
	var info jpegInfo
	var exifDPI float64
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			break
		}
		marker := b[i+1]
		if marker == 0xFF { // fill byte
			i++
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image
			break
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			break
		}
		seg := b[i+4 : i+2+n]
		switch {
		case marker == 0xE0 && len(seg) >= 12 && string(seg[:5]) == "JFIF\x00":
			x := float64(binary.BigEndian.Uint16(seg[8:]))
			switch seg[7] {
			case 1:
				info.dpi = x
			case 2:
				info.dpi = x * 2.54
			}
		case marker == 0xE1 && len(seg) >= 14 && string(seg[:6]) == "Exif\x00\x00":
			t := parseTIFFTags(seg[6:], 0)
			info.orientation = t.orientation
			exifDPI = t.dpi
		}
		i += 2 + n
	}
	if info.dpi == 0 {
		info.dpi = exifDPI
	}
	return info
}

// decodePNG decodes a PNG of any depth (1–16 bit, gray, colour, palette).
func decodePNG(data []byte, limits Limits) Page {
	p := Page{Index: 1}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		p.Err = refuse(CodeCorrupt, "the PNG could not be read: %v", err)
		return p
	}
	if e := checkPixels(cfg.Width, cfg.Height, limits); e != nil {
		p.Err = e
		return p
	}
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		p.Err = refuse(CodeCorrupt, "the PNG could not be decoded: %v", err)
		return p
	}
	p.Image = toGray(m)
	p.DPI = pngDPI(data)
	return p
}

// pngDPI reads the pHYs chunk (pixels per metre) if it comes before the
// image data, as the spec requires.
func pngDPI(b []byte) float64 {
	for i := 8; i+12 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		if n < 0 || n > len(b)-i-12 || typ == "IDAT" {
			break
		}
		if typ == "pHYs" && n == 9 && b[i+16] == 1 {
			return float64(binary.BigEndian.Uint32(b[i+8:])) * 0.0254
		}
		i += 12 + n
	}
	return 0
}
