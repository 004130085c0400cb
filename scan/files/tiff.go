package files

import (
	"bytes"
	"encoding/binary"

	"github.com/hhrutter/tiff"
)

// tiffTags is what the pages take from a TIFF (or EXIF) IFD.
type tiffTags struct {
	orientation int
	dpi         float64
	next        uint32 // offset of the next IFD, 0 at the end
	thumbnail   bool   // NewSubfileType says reduced resolution
	ok          bool
}

// parseTIFFTags reads the IFD at off (0: the first) of the TIFF structure b.
// hhrutter/tiff decodes one IFD at a given offset but does not walk the
// chain, nor report resolution or orientation; this small reader does.
func parseTIFFTags(b []byte, off uint32) tiffTags {
	var t tiffTags
	if len(b) < 8 {
		return t
	}
	var bo binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return t
	}
	if off == 0 {
		off = bo.Uint32(b[4:])
	}
	if uint64(off)+2 > uint64(len(b)) {
		return t
	}
	n := int(bo.Uint16(b[off:]))
	if uint64(off)+2+12*uint64(n)+4 > uint64(len(b)) {
		return t
	}
	var xres float64
	unit := 2 // inch, the default
	for i := 0; i < n; i++ {
		e := b[int(off)+2+12*i:]
		tag, typ, count := bo.Uint16(e), bo.Uint16(e[2:]), bo.Uint32(e[4:])
		short := func() int {
			if typ == 3 {
				return int(bo.Uint16(e[8:]))
			}
			return int(bo.Uint32(e[8:]))
		}
		switch tag {
		case 254: // NewSubfileType
			t.thumbnail = short()&1 != 0
		case 274: // Orientation
			t.orientation = short()
		case 282: // XResolution, a RATIONAL stored at an offset
			if typ == 5 && count == 1 {
				at := uint64(bo.Uint32(e[8:]))
				if at+8 <= uint64(len(b)) {
					num, den := bo.Uint32(b[at:]), bo.Uint32(b[at+4:])
					if den != 0 {
						xres = float64(num) / float64(den)
					}
				}
			}
		case 296: // ResolutionUnit
			unit = short()
		}
	}
	switch unit {
	case 2:
		t.dpi = xres
	case 3:
		t.dpi = xres * 2.54
	}
	t.next = bo.Uint32(b[int(off)+2+12*n:])
	t.ok = true
	return t
}

// decodeTIFF walks the IFD chain (every page, skipping reduced-resolution
// thumbnails) and decodes one page at a time through hhrutter/tiff, which
// reads CCITT G3/G4, LZW, Deflate, PackBits and JPEG-in-TIFF.
func decodeTIFF(data []byte, limits Limits, emit func(Page) error) error {
	var offs []uint32
	var tags []tiffTags
	seen := map[uint32]bool{}
	for off := uint32(0); ; {
		t := parseTIFFTags(data, off)
		if !t.ok {
			if len(offs) == 0 {
				return refuse(CodeCorrupt, "the TIFF has no readable page")
			}
			break // a damaged chain ends the file; the pages before it stand
		}
		if off == 0 {
			off = binary.LittleEndian.Uint32(data[4:])
			if data[0] == 'M' {
				off = binary.BigEndian.Uint32(data[4:])
			}
		}
		seen[off] = true
		if !t.thumbnail {
			if len(offs) == limits.MaxPages {
				return refuse(CodeTooManyPages, "the TIFF has more than %d pages", limits.MaxPages)
			}
			offs = append(offs, off)
			tags = append(tags, t)
		}
		if t.next == 0 || seen[t.next] {
			break
		}
		off = t.next
	}
	r := bytes.NewReader(data)
	for i, off := range offs {
		p := Page{Index: i + 1, DPI: tags[i].dpi}
		cfg, err := tiff.DecodeConfigAt(r, int64(off))
		if err != nil {
			p.Err = refuse(CodeCorrupt, "TIFF page %d could not be read: %v", i+1, err)
		} else if e := checkPixels(cfg.Width, cfg.Height, limits); e != nil {
			p.Err = e
		} else if m, err := tiff.DecodeAt(r, int64(off)); err != nil {
			p.Err = refuse(CodeCorrupt, "TIFF page %d could not be decoded: %v", i+1, err)
		} else {
			p.Image = orient(toGray(m), tags[i].orientation)
		}
		if p.Err != nil {
			p.DPI = 0
		}
		if err := emit(p); err != nil {
			return err
		}
	}
	return nil
}
