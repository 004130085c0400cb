// Command gen writes the source images for the committed fixtures (see
// ../README.md): an uncompressed bilevel TIFF and a baseline JPEG, both a
// 200 dpi A4 page with a black square in its top-left corner.
package main

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"log"
	"os"
)

func main() {
	const w, h = 1654, 2339
	rb := (w + 7) / 8
	bits := make([]byte, rb*h) // WhiteIsZero: 0 bits are white
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if x < w/10 && y < h/10 {
				bits[y*rb+x/8] |= 0x80 >> (x % 8)
			} else {
				g.Pix[y*w+x] = 255
			}
		}
	}
	var t bytes.Buffer
	le := binary.LittleEndian
	t.WriteString("II*\x00")
	binary.Write(&t, le, uint32(8))
	type entry struct {
		tag, typ uint16
		val      uint32
	}
	const nEntries = 11
	dataOff := uint32(8 + 2 + 12*nEntries + 4)
	resOff := dataOff
	stripOff := resOff + 8
	entries := []entry{
		{256, 4, w}, {257, 4, h}, {258, 3, 1}, {259, 3, 1}, {262, 3, 0},
		{273, 4, stripOff}, {277, 3, 1}, {278, 4, h}, {279, 4, uint32(len(bits))},
		{282, 5, resOff}, {296, 3, 2},
	}
	binary.Write(&t, le, uint16(len(entries)))
	for _, e := range entries {
		binary.Write(&t, le, e.tag)
		binary.Write(&t, le, e.typ)
		binary.Write(&t, le, uint32(1))
		if e.typ == 3 {
			binary.Write(&t, le, uint16(e.val))
			binary.Write(&t, le, uint16(0))
		} else {
			binary.Write(&t, le, e.val)
		}
	}
	binary.Write(&t, le, uint32(0))
	binary.Write(&t, le, uint32(200))
	binary.Write(&t, le, uint32(1))
	t.Write(bits)
	if err := os.WriteFile("bilevel.tif", t.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	var j bytes.Buffer
	if err := jpeg.Encode(&j, g, &jpeg.Options{Quality: 85}); err != nil {
		log.Fatal(err)
	}
	jb := j.Bytes()
	app0 := []byte{0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 2, 1, 0, 200, 0, 200, 0, 0}
	out := append(append(append([]byte{}, jb[:2]...), app0...), jb[2:]...)
	if err := os.WriteFile("baseline.jpg", out, 0o644); err != nil {
		log.Fatal(err)
	}
}
