package scansynth

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"

	"github.com/kiemphieu/kiemphieu/scan"
)

// Draw draws strokes on a page raster of dpi as antialiased thick lines:
// each pixel takes the pen's gray in proportion to how much of it the
// line covers, and ink only ever darkens (a second stroke over the first
// does not lighten it).
func Draw(g *image.Gray, dpi float64, strokes []scan.Stroke) {
	k := dpi / 25.4
	for _, s := range strokes {
		half := s.Width * k / 2
		for i := 1; i < len(s.Points); i++ {
			ax, ay := s.Points[i-1][0]*k, s.Points[i-1][1]*k
			bx, by := s.Points[i][0]*k, s.Points[i][1]*k
			segment(g, ax, ay, bx, by, half, float64(s.Gray))
		}
		if len(s.Points) == 1 {
			x, y := s.Points[0][0]*k, s.Points[0][1]*k
			segment(g, x, y, x, y, half, float64(s.Gray))
		}
	}
}

func segment(g *image.Gray, ax, ay, bx, by, half, gray float64) {
	b := g.Rect
	x0, x1 := int(math.Floor(min(ax, bx)-half-1)), int(math.Ceil(max(ax, bx)+half+1))
	y0, y1 := int(math.Floor(min(ay, by)-half-1)), int(math.Ceil(max(ay, by)+half+1))
	x0, y0, x1, y1 = max(x0, b.Min.X), max(y0, b.Min.Y), min(x1, b.Max.X), min(y1, b.Max.Y)
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			px, py := float64(x)+0.5, float64(y)+0.5
			t := 0.0
			if l2 > 0 {
				t = math.Max(0, math.Min(1, ((px-ax)*dx+(py-ay)*dy)/l2))
			}
			d := math.Hypot(px-(ax+t*dx), py-(ay+t*dy))
			cov := math.Max(0, math.Min(1, half+0.5-d))
			if cov == 0 {
				continue
			}
			i := g.PixOffset(x, y)
			old := float64(g.Pix[i])
			if v := old*(1-cov) + gray*cov; v < old {
				g.Pix[i] = uint8(v + 0.5)
			}
		}
	}
}

// Acquisition is what the scanner did to a page.
type Acquisition struct {
	Rotate     float64 `json:"rotate_deg"` // skew, degrees, about the page's centre
	Scale      float64 `json:"scale"`      // 1 ± 1%
	ShiftX     float64 `json:"shift_x_mm"`
	ShiftY     float64 `json:"shift_y_mm"`
	UpsideDown bool    `json:"upside_down,omitempty"`
	Blur       string  `json:"blur"` // "none", "box", "gaussian"
	BlurSigma  float64 `json:"blur_sigma_px,omitempty"`
	Noise      float64 `json:"noise_sigma"`
	Quality    int     `json:"jpeg_quality"`
}

// RandomAcquisition draws a scanner's faults: skew ±2.5°, scale ±1%,
// shift ±2 mm, a small blur, noise σ 4–8, JPEG quality 60–90, and one
// page in eight fed upside down.
func RandomAcquisition(rng *rand.Rand) Acquisition {
	a := Acquisition{
		Rotate: uniform(rng, -2.5, 2.5), Scale: 1 + uniform(rng, -0.01, 0.01),
		ShiftX: uniform(rng, -2, 2), ShiftY: uniform(rng, -2, 2),
		UpsideDown: rng.IntN(8) == 0,
		Noise:      uniform(rng, 4, 8), Quality: 60 + rng.IntN(31),
	}
	switch rng.IntN(3) {
	case 0:
		a.Blur = "none"
	case 1:
		a.Blur = "box"
	default:
		a.Blur, a.BlurSigma = "gaussian", uniform(rng, 0.4, 0.9)
	}
	return a
}

func uniform(rng *rand.Rand, lo, hi float64) float64 { return lo + rng.Float64()*(hi-lo) }

// Acquire passes a page raster through the scanner: the page moved on the
// glass (bilinear resampling, white where the page does not reach), then
// blurred, noised and JPEG-compressed. It returns the JPEG file and the
// image a decoder gets from it (what the recogniser sees).
func Acquire(src *image.Gray, dpi float64, a Acquisition, rng *rand.Rand) ([]byte, *image.Gray, error) {
	g := transform(src, dpi, a)
	switch a.Blur {
	case "box":
		g = convolve(g, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3})
	case "gaussian":
		g = convolve(g, gaussian(a.BlurSigma))
	}
	for i, v := range g.Pix {
		g.Pix[i] = clamp8(float64(v) + rng.NormFloat64()*a.Noise)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, g, &jpeg.Options{Quality: a.Quality}); err != nil {
		return nil, nil, err
	}
	img, err := jpeg.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), ToGray(img), nil
}

// ToGray converts a decoded image to gray (JPEG decodes gray files to
// *image.Gray already).
func ToGray(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok {
		return g
	}
	b := img.Bounds()
	g := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g.Set(x, y, img.At(x, y))
		}
	}
	return g
}

func clamp8(v float64) uint8 {
	return uint8(math.Max(0, math.Min(255, math.Round(v))))
}

// transform maps the page onto the scanner's image: the output pixel p
// shows the page at the inverse of (turn 180° if upside down, then rotate
// and scale about the centre, then shift).
func transform(src *image.Gray, dpi float64, a Acquisition) *image.Gray {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dst := image.NewGray(src.Rect)
	cx, cy := float64(w)/2, float64(h)/2
	th := a.Rotate * math.Pi / 180
	if a.UpsideDown {
		th += math.Pi
	}
	cos, sin := math.Cos(th), math.Sin(th)
	sx, sy := a.ShiftX*dpi/25.4, a.ShiftY*dpi/25.4
	for y := range h {
		for x := range w {
			// Inverse: undo the shift, then the rotation and scale.
			u, v := float64(x)+0.5-cx-sx, float64(y)+0.5-cy-sy
			px := (cos*u+sin*v)/a.Scale + cx - 0.5
			py := (-sin*u+cos*v)/a.Scale + cy - 0.5
			dst.Pix[y*dst.Stride+x] = bilinear(src, px, py)
		}
	}
	return dst
}

func bilinear(g *image.Gray, x, y float64) uint8 {
	x0, y0 := int(math.Floor(x)), int(math.Floor(y))
	fx, fy := x-float64(x0), y-float64(y0)
	at := func(x, y int) float64 {
		if x < 0 || y < 0 || x >= g.Rect.Dx() || y >= g.Rect.Dy() {
			return 255
		}
		return float64(g.Pix[y*g.Stride+x])
	}
	v := (at(x0, y0)*(1-fx)+at(x0+1, y0)*fx)*(1-fy) + (at(x0, y0+1)*(1-fx)+at(x0+1, y0+1)*fx)*fy
	return uint8(v + 0.5)
}

func gaussian(sigma float64) []float64 {
	r := int(math.Ceil(2.5 * sigma))
	k := make([]float64, 2*r+1)
	var sum float64
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	return k
}

// convolve applies the separable kernel k along rows, then columns.
func convolve(g *image.Gray, k []float64) *image.Gray {
	w, h, r := g.Rect.Dx(), g.Rect.Dy(), len(k)/2
	tmp := make([]float64, w*h)
	for y := range h {
		for x := range w {
			var s float64
			for i, c := range k {
				xx := min(max(x+i-r, 0), w-1)
				s += c * float64(g.Pix[y*g.Stride+xx])
			}
			tmp[y*w+x] = s
		}
	}
	out := image.NewGray(g.Rect)
	for y := range h {
		for x := range w {
			var s float64
			for i, c := range k {
				yy := min(max(y+i-r, 0), h-1)
				s += c * tmp[yy*w+x]
			}
			out.Pix[y*out.Stride+x] = clamp8(s)
		}
	}
	return out
}

func whitePage(dpi float64) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, int(scan.PageW*dpi/25.4+0.5), int(scan.PageH*dpi/25.4+0.5)))
	for i := range g.Pix {
		g.Pix[i] = 255
	}
	return g
}
