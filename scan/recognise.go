package scan

import (
	"image"
	"math"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// The recogniser (issue 14, research §3.6): corner marks found, never
// inferred; a homography from their centres; the QR code read through it;
// then new ink measured where the template is white. Every step that
// cannot be sure rejects the page or sends a name to a person.

// Geometry the recogniser allows (LayoutVersion 1).
const (
	cornerSearch  = 25.0 // mm: the square at each image corner searched for a mark
	markMin       = 5.0  // mm: a mark's bounding box side, 6 mm printed, a little more when the page is turned
	markMax       = 7.6
	maxSkew       = 5.0  // degrees
	maxDistortion = 0.08 // the quad's sides and diagonals may differ in scale by this share (a phone's keystone)
	templateGrow  = 0.5  // mm: printed ink's rectangles grown by this (registration)
	strikeReach   = 3.0  // mm: a strike may overshoot the first and last clear zone by this
	markReach     = 2.5  // mm: an approve mark may overflow its box by this
	strayStep     = 0.25 // mm: the grid the watched area is sampled on for stray ink
	neighbourInk  = 3    // pixels of new ink in a band's edge that mean a stroke runs into the next name
	bgTile        = 8.0  // mm: the background estimate's tile
	qrPxPerMM     = 8.0  // the QR code is resampled upright at this resolution
	qrQuiet       = 3.0  // mm of extra white around the sampled code
)

// Read reads one page image against the layout of the round it is meant
// for. A page whose QR code names another contest, round, list or layout
// version is rejected; a test-deck page of this round is read, and its
// Meta.TestPage says which.
func Read(img *image.Gray, l *Layout, th Thresholds) Reading {
	if img == nil || l == nil || img.Bounds().Dx() < 200 || img.Bounds().Dy() < 200 {
		return Reading{Status: StatusRejected, Reason: "no_corner_marks"}
	}
	p := newPage(img)
	h, upside, reason := p.register(l, th)
	if reason != "" {
		return Reading{Status: StatusRejected, Reason: reason}
	}
	r := Reading{UpsideDown: upside, ToImage: h.apply}
	meta, reason := p.readQR(l, h)
	if reason != "" {
		return Reading{Status: StatusRejected, Reason: reason, UpsideDown: upside, ToImage: h.apply}
	}
	r.Meta = meta

	tmpl := l.template()
	for _, row := range l.Rows {
		if l.Style == "approve" {
			r.Names = append(r.Names, p.scoreApprove(row, h, th))
		} else {
			r.Names = append(r.Names, p.scoreStrike(row, tmpl, h, th))
		}
	}
	r.Stray = p.stray(l, tmpl, h, th)
	for _, s := range r.Stray {
		cx, cy := s.X+s.W/2, s.Y+s.H/2
		for i, row := range l.Rows {
			if row.Band.Contains(cx, cy) && !r.Names[i].Doubtful {
				r.Names[i].Doubtful, r.Names[i].Why = true, "stray"
			}
		}
	}
	r.Status = StatusRead
	switch {
	case len(r.Stray) > 0:
		r.Status, r.Reason = StatusDoubtful, "stray"
	case anyDoubtful(r.Names):
		r.Status, r.Reason = StatusDoubtful, "names"
	}
	return r
}

func anyDoubtful(names []NameReading) bool {
	for _, n := range names {
		if n.Doubtful {
			return true
		}
	}
	return false
}

// page is the image with a coarse estimate of its paper's background, so
// that a gray scan or a phone photo's lighting gradient is not ink.
type page struct {
	img        *image.Gray
	w, h       int
	ppm        float64 // pixels per millimetre
	tile       int     // background tile side, pixels
	tilesX, ty int
	bg         []int // per tile: the paper's level there
}

func newPage(img *image.Gray) *page {
	b := img.Bounds()
	if b.Min != (image.Point{}) {
		// Sub-images are copied so that pixel (x, y) is Pix[y*Stride+x].
		c := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
		for y := 0; y < b.Dy(); y++ {
			copy(c.Pix[y*c.Stride:y*c.Stride+b.Dx()], img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):])
		}
		img = c
	}
	p := &page{img: img, w: b.Dx(), h: b.Dy(), ppm: float64(b.Dx()) / PageW}
	p.tile = max(8, int(bgTile*p.ppm))
	p.tilesX, p.ty = (p.w+p.tile-1)/p.tile, (p.h+p.tile-1)/p.tile
	// A high percentile per tile is the paper there (ink covers far less
	// than a tenth of any 8 mm tile but the QR code's and the marks'); the
	// largest of the 3×3 neighbours keeps a tile under a mark white.
	level := make([]int, p.tilesX*p.ty)
	var hist [256]int
	for ty := 0; ty < p.ty; ty++ {
		for tx := 0; tx < p.tilesX; tx++ {
			hist = [256]int{}
			n := 0
			for y := ty * p.tile; y < min(p.h, (ty+1)*p.tile); y += 2 {
				row := img.Pix[y*img.Stride:]
				for x := tx * p.tile; x < min(p.w, (tx+1)*p.tile); x += 2 {
					hist[row[x]]++
					n++
				}
			}
			want, acc, v := n/10, 0, 255
			for ; v > 0; v-- {
				acc += hist[v]
				if acc > want {
					break
				}
			}
			level[ty*p.tilesX+tx] = v
		}
	}
	p.bg = make([]int, len(level))
	for ty := 0; ty < p.ty; ty++ {
		for tx := 0; tx < p.tilesX; tx++ {
			m := 0
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					x, y := tx+dx, ty+dy
					if x >= 0 && y >= 0 && x < p.tilesX && y < p.ty {
						m = max(m, level[y*p.tilesX+x])
					}
				}
			}
			// A tile darker than this is not paper (a scanner's black
			// border): its pixels are judged on the raw level.
			p.bg[ty*p.tilesX+tx] = max(m, 160)
		}
	}
	return p
}

// at is pixel (x, y)'s level relative to the paper around it: 255 is the
// paper, 0 black. Outside the image is white.
func (p *page) at(x, y int) uint8 {
	if x < 0 || y < 0 || x >= p.w || y >= p.h {
		return 255
	}
	v := int(p.img.Pix[y*p.img.Stride+x]) * 255 / p.bg[(y/p.tile)*p.tilesX+x/p.tile]
	return uint8(min(v, 255))
}

// atMM is the level at page millimetres (x, y) through the homography.
func (p *page) atMM(h *homography, x, y float64) uint8 {
	u, v := h.apply(x, y)
	return p.at(int(math.Floor(u)), int(math.Floor(v)))
}

// blob is a mark candidate found in an image corner.
type blob struct {
	cx, cy float64 // centre, pixels
	ring   bool
}

// register finds the four marks, tells the page's orientation from the
// ring and solves the homography from the layout's millimetres to the
// image's pixels.
func (p *page) register(l *Layout, th Thresholds) (*homography, bool, string) {
	s := int(cornerSearch * p.ppm)
	regions := [4]image.Rectangle{ // in the image's own corners: TL, TR, BR, BL
		image.Rect(0, 0, s, s),
		image.Rect(p.w-s, 0, p.w, s),
		image.Rect(p.w-s, p.h-s, p.w, p.h),
		image.Rect(0, p.h-s, s, p.h),
	}
	var found [4]blob
	ring := -1
	for i, r := range regions {
		b, ok := p.findMark(r.Intersect(image.Rect(0, 0, p.w, p.h)), th.Ink)
		if !ok {
			return nil, false, "no_corner_marks"
		}
		found[i] = b
		if b.ring {
			if ring >= 0 {
				return nil, false, "no_corner_marks"
			}
			ring = i
		}
	}
	// The ring is printed bottom right: seen top left, the page was fed
	// turned round and layout corner i is image corner i+2. Seen anywhere
	// else (or not at all) the page is mirrored or not this paper.
	shift := 0
	switch ring {
	case BottomRight:
	case TopLeft:
		shift = 2
	default:
		return nil, false, "no_corner_marks"
	}
	var src, dst [4][2]float64
	for i, m := range l.Marks {
		src[i][0], src[i][1] = m.Centre()
		b := found[(i+shift)%4]
		dst[i] = [2]float64{b.cx, b.cy}
	}
	h, ok := solveHomography(src, dst)
	if !ok {
		return nil, false, "skew"
	}
	if !squareEnough(src, dst, shift == 2) {
		return nil, false, "skew"
	}
	return h, shift == 2, ""
}

// squareEnough: the marks' quad in the image is the printed rectangle
// turned by at most maxSkew, its sides and diagonals at one scale (within
// maxDistortion): a fold, a page fed at an angle or a print "fit to page"
// in one direction is rejected, not read.
func squareEnough(src, dst [4][2]float64, upside bool) bool {
	angle := math.Atan2(dst[TopRight][1]-dst[TopLeft][1], dst[TopRight][0]-dst[TopLeft][0]) * 180 / math.Pi
	if upside {
		angle = math.Mod(angle+360, 360) - 180
	}
	if math.Abs(angle) > maxSkew {
		return false
	}
	pairs := [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 0}, {0, 2}, {1, 3}}
	lo, hi := math.Inf(1), 0.0
	for _, pr := range pairs {
		mm := math.Hypot(src[pr[0]][0]-src[pr[1]][0], src[pr[0]][1]-src[pr[1]][1])
		px := math.Hypot(dst[pr[0]][0]-dst[pr[1]][0], dst[pr[0]][1]-dst[pr[1]][1])
		k := px / mm
		lo, hi = min(lo, k), max(hi, k)
	}
	return lo > 0 && hi/lo-1 <= maxDistortion
}

// findMark returns the one mark in the region: a connected blob of ink
// about MarkSize square, solid or a ring with a white centre. None, more
// than one, or a blob of the right size that is neither, and there is no
// mark.
func (p *page) findMark(r image.Rectangle, ink uint8) (blob, bool) {
	w, h := r.Dx(), r.Dy()
	if w <= 0 || h <= 0 {
		return blob{}, false
	}
	mask := make([]bool, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			mask[y*w+x] = p.at(r.Min.X+x, r.Min.Y+y) <= ink
		}
	}
	ink0 := append([]bool(nil), mask...) // components clears mask
	var found []blob
	bad := false
	components(mask, w, h, func(c component) {
		bw, bh := float64(c.x1-c.x0+1)/p.ppm, float64(c.y1-c.y0+1)/p.ppm
		if c.x0 == 0 || c.y0 == 0 || c.x1 == w-1 || c.y1 == h-1 {
			return // cut by the region's edge: not a whole mark (the QR code, a scanner's border)
		}
		if bw < markMin || bw > markMax || bh < markMin || bh > markMax {
			return
		}
		fill := float64(c.n) / float64((c.x1-c.x0+1)*(c.y1-c.y0+1))
		if fill < 0.55 {
			return
		}
		// The centre: a 1.2 mm square, white in a ring (its hole is 2.8 mm).
		mx, my := (c.x0+c.x1)/2, (c.y0+c.y1)/2
		d := int(0.6 * p.ppm)
		dark, all := 0, 0
		for y := my - d; y <= my+d; y++ {
			for x := mx - d; x <= mx+d; x++ {
				all++
				if ink0[y*w+x] {
					dark++
				}
			}
		}
		b := blob{cx: float64(r.Min.X) + c.sx/float64(c.n) + 0.5, cy: float64(r.Min.Y) + c.sy/float64(c.n) + 0.5}
		switch {
		case dark*5 < all && fill < 0.9:
			b.ring = true
		case dark*5 > all*4 && fill >= 0.85:
		default:
			bad = true // mark-sized, neither solid nor a ring
			return
		}
		found = append(found, b)
	})
	if bad || len(found) != 1 {
		return blob{}, false
	}
	return found[0], true
}

// component is one 8-connected region of a mask: its pixel count, bounding
// box and the sums of its coordinates.
type component struct {
	n              int
	x0, y0, x1, y1 int
	sx, sy         float64
}

// components calls fn for every 8-connected region of set cells of mask
// (w×h, row-major). It clears mask.
func components(mask []bool, w, h int, fn func(component)) {
	var stack []int
	for i, set := range mask {
		if !set {
			continue
		}
		mask[i] = false
		stack = append(stack[:0], i)
		c := component{x0: w, y0: h, x1: -1, y1: -1}
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := j%w, j/w
			c.n++
			c.sx += float64(x)
			c.sy += float64(y)
			c.x0, c.x1, c.y0, c.y1 = min(c.x0, x), max(c.x1, x), min(c.y0, y), max(c.y1, y)
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= w || ny >= h {
						continue
					}
					if k := ny*w + nx; mask[k] {
						mask[k] = false
						stack = append(stack, k)
					}
				}
			}
		}
		fn(c)
	}
}

// readQR samples the layout's QR rectangle upright through the homography
// and decodes it; the code must be this round's.
func (p *page) readQR(l *Layout, h *homography) (Meta, string) {
	r := l.QR.Inset(-qrQuiet)
	n := int(r.W * qrPxPerMM)
	m := int(r.H * qrPxPerMM)
	up := image.NewGray(image.Rect(0, 0, n, m))
	for y := 0; y < m; y++ {
		for x := 0; x < n; x++ {
			up.Pix[y*up.Stride+x] = p.atMM(h, r.X+(float64(x)+0.5)/qrPxPerMM, r.Y+(float64(y)+0.5)/qrPxPerMM)
		}
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(up)
	if err != nil {
		return Meta{}, "no_qr"
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return Meta{}, "no_qr"
	}
	meta, err := ParseMeta(res.GetText())
	switch {
	case err != nil:
		return Meta{}, "foreign_qr"
	case meta.Layout != l.Meta.Layout:
		return meta, "layout_version"
	case meta.Contest != l.Meta.Contest, meta.Round != l.Meta.Round, meta.Style != l.Meta.Style, meta.Digest != l.Meta.Digest:
		return meta, "foreign_qr"
	}
	return meta, ""
}

// template is where printed ink may lie: the texts' rectangles and the
// boxes' outlines, grown by the registration tolerance. New ink is
// counted only outside it.
func (l *Layout) template() []Rect {
	var t []Rect
	for _, x := range l.Texts {
		t = append(t, x.Rect.Inset(-templateGrow))
	}
	for _, b := range l.Boxes {
		g := b.Stroke/2 + templateGrow
		r := b.Rect
		t = append(t, Rect{r.X - g, r.Y - g, r.W + 2*g, 2 * g}, Rect{r.X - g, r.Bottom() - g, r.W + 2*g, 2 * g},
			Rect{r.X - g, r.Y - g, 2 * g, r.H + 2*g}, Rect{r.Right() - g, r.Y - g, 2 * g, r.H + 2*g})
	}
	return t
}

func overlaps(a, b Rect) bool {
	return a.X < b.Right() && b.X < a.Right() && a.Y < b.Bottom() && b.Y < a.Bottom()
}

func inAny(rs []Rect, x, y float64) bool {
	for _, r := range rs {
		if r.Contains(x, y) {
			return true
		}
	}
	return false
}

// strikeSpan is the part of a strike row's band where a strike's ink is
// expected: from the first clear zone to the last, and a little beyond.
func strikeSpan(row Row) Rect {
	if len(row.Clear) == 0 {
		return row.Band
	}
	first, last := row.Clear[0], row.Clear[len(row.Clear)-1]
	x0 := max(row.Band.X, first.X-strikeReach)
	x1 := min(row.Band.Right(), last.Right()+strikeReach)
	return Rect{x0, row.Band.Y, x1 - x0, row.Band.H}
}

// scoreStrike measures a strike row: the share of its clear zones'
// columns (one pixel wide) holding new ink at the Ink and at the Faint
// level, and new ink in the band's top or bottom Edge.
func (p *page) scoreStrike(row Row, tmpl []Rect, h *homography, th Thresholds) NameReading {
	nr := NameReading{Candidate: row.Candidate}
	var near []Rect
	for _, t := range tmpl {
		if overlaps(t, row.Band) {
			near = append(near, t)
		}
	}
	step := 1 / p.ppm
	cols, inked, faint := 0, 0, 0
	for _, z := range row.Clear {
		for x := z.X + step/2; x < z.Right(); x += step {
			all, valid := 0, 0
			hitInk, hitFaint := false, false
			for y := z.Y + step/2; y < z.Bottom(); y += step {
				all++
				if inAny(near, x, y) {
					continue
				}
				valid++
				v := p.atMM(h, x, y)
				hitInk = hitInk || v <= th.Ink
				hitFaint = hitFaint || v <= th.Faint
			}
			if valid*2 < all {
				continue // the column is mostly printed ink: not a clear column
			}
			cols++
			if hitInk {
				inked++
			}
			if hitFaint {
				faint++
			}
		}
	}
	if cols > 0 {
		nr.Coverage = float64(inked) / float64(cols)
		nr.Faint = float64(faint) / float64(cols)
	}
	// New ink in the band's edges: a stroke running into the next name.
	span := strikeSpan(row)
	edgeInk := 0
	for _, y0 := range []float64{row.Band.Y, row.Band.Bottom() - Edge} {
		for y := y0 + step/2; y < y0+Edge; y += step {
			for x := span.X + step/2; x < span.Right(); x += step {
				if !inAny(near, x, y) && p.atMM(h, x, y) <= th.Ink {
					edgeInk++
				}
			}
		}
	}
	nr.Struck = nr.Coverage >= th.Struck
	switch {
	case nr.Struck:
	case nr.Coverage >= th.Doubt:
		nr.Doubtful, nr.Why = true, "partial"
	case nr.Faint >= th.Doubt:
		// The sensitive level can only send a name to a person.
		nr.Doubtful, nr.Why = true, "faint"
	}
	if edgeInk >= neighbourInk && !nr.Doubtful {
		nr.Doubtful, nr.Why = true, "neighbour"
	}
	return nr
}

// scoreApprove measures an approve row's two boxes: the share of each
// inside inked, and whether a dark pen's stroke spans it (Thresholds.Dark).
func (p *page) scoreApprove(row Row, h *homography, th Thresholds) NameReading {
	nr := NameReading{Candidate: row.Candidate}
	type boxScore struct {
		ink, faint float64
		dark       bool // a dark stroke spans the box
	}
	share := func(r Rect) boxScore {
		step := 1 / p.ppm
		n, a, b, d := 0, 0, 0, 0
		x0, y0, x1, y1 := r.Right(), r.Bottom(), r.X, r.Y
		for y := r.Y + step/2; y < r.Bottom(); y += step {
			for x := r.X + step/2; x < r.Right(); x += step {
				n++
				v := p.atMM(h, x, y)
				if v <= th.Ink {
					a++
				}
				if v <= th.Faint {
					b++
				}
				if v <= th.Dark {
					d++
					x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
				}
			}
		}
		if n == 0 {
			return boxScore{}
		}
		dark := float64(d)/float64(n) >= th.MarkDoubt && (x1-x0) >= th.Span*r.W && (y1-y0) >= th.Span*r.H
		return boxScore{ink: float64(a) / float64(n), faint: float64(b) / float64(n), dark: dark}
	}
	ag, di := share(row.Agree), share(row.Disagree)
	nr.Agree, nr.Disagree = ag.ink, di.ink
	nr.Coverage = max(ag.ink, di.ink)
	nr.Faint = max(ag.faint, di.faint)
	marked := func(b boxScore) bool { return b.ink >= th.Marked || b.ink >= th.MarkDoubt && b.dark }
	a, d := marked(ag), marked(di)
	switch {
	case a && d:
		nr.Mark = "both"
	case a:
		nr.Mark = "agree"
	case d:
		nr.Mark = "disagree"
	default:
		nr.Mark = "none"
	}
	doubt := func(b boxScore) string {
		switch {
		case marked(b):
			return ""
		case b.ink >= th.MarkDoubt:
			return "box"
		case b.faint >= th.MarkDoubt:
			return "faint"
		}
		return ""
	}
	if why := doubt(ag); why != "" {
		nr.Doubtful, nr.Why = true, why
	} else if why := doubt(di); why != "" {
		nr.Doubtful, nr.Why = true, why
	}
	return nr
}

// stray finds new ink in the watched area where no mark belongs: outside
// the template, outside the strike spans of the rows and the approve
// boxes' surroundings. Regions of at least th.Stray mm² are returned, in
// page millimetres.
func (p *page) stray(l *Layout, tmpl []Rect, h *homography, th Thresholds) []Rect {
	w := l.Watched
	nx, ny := int(w.W/strayStep), int(w.H/strayStep)
	if nx <= 0 || ny <= 0 {
		return nil
	}
	excluded := make([]bool, nx*ny)
	cover := func(r Rect) {
		x0, y0 := int(math.Floor((r.X-w.X)/strayStep)), int(math.Floor((r.Y-w.Y)/strayStep))
		x1, y1 := int(math.Ceil((r.Right()-w.X)/strayStep)), int(math.Ceil((r.Bottom()-w.Y)/strayStep))
		for y := max(0, y0); y < min(ny, y1); y++ {
			for x := max(0, x0); x < min(nx, x1); x++ {
				excluded[y*nx+x] = true
			}
		}
	}
	for _, t := range tmpl {
		cover(t)
	}
	for _, row := range l.Rows {
		if l.Style == "approve" {
			cover(row.Agree.Inset(-markReach - 1))
			cover(row.Disagree.Inset(-markReach - 1))
		} else {
			cover(strikeSpan(row))
		}
	}
	mask := make([]bool, nx*ny)
	for y := 0; y < ny; y++ {
		for x := 0; x < nx; x++ {
			if !excluded[y*nx+x] {
				mask[y*nx+x] = p.atMM(h, w.X+(float64(x)+0.5)*strayStep, w.Y+(float64(y)+0.5)*strayStep) <= th.Ink
			}
		}
	}
	var out []Rect
	components(mask, nx, ny, func(c component) {
		if float64(c.n)*strayStep*strayStep < th.Stray {
			return
		}
		out = append(out, Rect{w.X + float64(c.x0)*strayStep, w.Y + float64(c.y0)*strayStep,
			float64(c.x1-c.x0+1) * strayStep, float64(c.y1-c.y0+1) * strayStep})
	})
	return out
}

// homography maps page millimetres to image pixels.
type homography [8]float64

func (h *homography) apply(x, y float64) (float64, float64) {
	d := h[6]*x + h[7]*y + 1
	return (h[0]*x + h[1]*y + h[2]) / d, (h[3]*x + h[4]*y + h[5]) / d
}

// solveHomography is the direct linear transform from four point pairs:
// an 8×8 system, solved by Gaussian elimination with partial pivoting.
func solveHomography(src, dst [4][2]float64) (*homography, bool) {
	var a [8][9]float64
	for i := range 4 {
		X, Y, x, y := src[i][0], src[i][1], dst[i][0], dst[i][1]
		a[2*i] = [9]float64{X, Y, 1, 0, 0, 0, -X * x, -Y * x, x}
		a[2*i+1] = [9]float64{0, 0, 0, X, Y, 1, -X * y, -Y * y, y}
	}
	for c := range 8 {
		piv := c
		for r := c + 1; r < 8; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[piv][c]) {
				piv = r
			}
		}
		if math.Abs(a[piv][c]) < 1e-12 {
			return nil, false
		}
		a[c], a[piv] = a[piv], a[c]
		for r := range 8 {
			if r == c {
				continue
			}
			f := a[r][c] / a[c][c]
			for k := c; k < 9; k++ {
				a[r][k] -= f * a[c][k]
			}
		}
	}
	var h homography
	for i := range 8 {
		h[i] = a[i][8] / a[i][i]
	}
	return &h, true
}
