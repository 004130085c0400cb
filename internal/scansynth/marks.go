package scansynth

import (
	"math"
	"math/rand/v2"

	"github.com/kiemphieu/kiemphieu/scan"
)

// Pen is what a voter wrote with.
type Pen struct {
	Gray  uint8
	Width float64 // mm
}

// RandomPen: black (gray 15–50) or blue ballpoint on a gray scan (70–110),
// 0.4–0.8 mm wide.
func RandomPen(rng *rand.Rand) Pen {
	g := 15 + rng.IntN(36)
	if rng.IntN(2) == 0 {
		g = 70 + rng.IntN(41)
	}
	return Pen{Gray: uint8(g), Width: uniform(rng, 0.4, 0.8)}
}

// FaintPen: a light pen or pencil (gray 150–195): visible, too light to
// decide on.
func FaintPen(rng *rand.Rand) Pen {
	return Pen{Gray: uint8(150 + rng.IntN(46)), Width: uniform(rng, 0.4, 0.8)}
}

func (p Pen) line(pts ...[2]float64) scan.Stroke {
	return scan.Stroke{Points: pts, Width: p.Width, Gray: p.Gray}
}

// Kinds of pen marks on a strike paper's name.
const (
	MarkNone     = "none"
	MarkStraight = "straight" // full strike, a straight line
	MarkSlanted  = "slanted"
	MarkWavy     = "wavy"
	MarkDouble   = "double"  // two parallel lines
	MarkPartial  = "partial" // the family name only: 25–55% of the name
	MarkDot      = "dot"     // a stray dot in the row
	MarkTick     = "tick"    // a tick after the name
	// Approve papers.
	MarkX     = "x"
	MarkCheck = "check"
	MarkFill  = "fill"
)

// nameSpan is the x extent of the printed name and its clear zones, and
// the y of the strike (the middle of the letters' x-height).
func nameSpan(r scan.Row) (clearL, nameL, nameR, clearR, y float64) {
	first, last := r.Words[0], r.Words[len(r.Words)-1]
	clearL, clearR = r.Clear[0].X, r.Clear[len(r.Clear)-1].Right()
	// The word rect runs from 0.95 em above the baseline to 0.25 em below:
	// the x-height's middle is about 0.55 of the way down.
	return clearL, first.X, last.Right(), clearR, first.Y + 0.6*first.H
}

// strikeStrokes draws a full strike of the given kind through row r: it
// starts in the clear margin before the name and ends in the one after,
// across both (into the margins up to their outer edge, and a little
// beyond at most).
func strikeStrokes(rng *rand.Rand, r scan.Row, kind string, pen Pen) []scan.Stroke {
	cl, _, _, cr, y := nameSpan(r)
	x0 := cl - uniform(rng, 0, 0.8)
	x1 := cr + uniform(rng, 0, 0.8)
	y += uniform(rng, -0.5, 0.5)
	switch kind {
	case MarkSlanted:
		d := uniform(rng, 0.8, 1.8) * sign(rng)
		return []scan.Stroke{pen.line([2]float64{x0, y - d/2}, [2]float64{x1, y + d/2})}
	case MarkWavy:
		amp, period, phase := uniform(rng, 0.3, 0.7), uniform(rng, 5, 10), uniform(rng, 0, 2*math.Pi)
		var pts [][2]float64
		for x := x0; x < x1; x += 0.5 {
			pts = append(pts, [2]float64{x, y + amp*math.Sin(phase+2*math.Pi*(x-x0)/period)})
		}
		pts = append(pts, [2]float64{x1, y + amp*math.Sin(phase+2*math.Pi*(x1-x0)/period)})
		return []scan.Stroke{{Points: pts, Width: pen.Width, Gray: pen.Gray}}
	case MarkDouble:
		gap := uniform(rng, 0.9, 1.4)
		return []scan.Stroke{
			pen.line([2]float64{x0, y - gap/2}, [2]float64{x1, y - gap/2 + uniform(rng, -0.2, 0.2)}),
			pen.line([2]float64{x0 + uniform(rng, -0.3, 0.3), y + gap/2}, [2]float64{x1 + uniform(rng, -0.3, 0.3), y + gap/2}),
		}
	}
	return []scan.Stroke{pen.line([2]float64{x0, y}, [2]float64{x1, y + uniform(rng, -0.3, 0.3)})}
}

func sign(rng *rand.Rand) float64 {
	if rng.IntN(2) == 0 {
		return -1
	}
	return 1
}

// partialStrokes strikes the family name only: from the margin before the
// name across 25–55% of its width.
func partialStrokes(rng *rand.Rand, r scan.Row, pen Pen) []scan.Stroke {
	cl, nl, nr, _, y := nameSpan(r)
	x0 := cl + uniform(rng, 0, 1.5)
	x1 := nl + uniform(rng, 0.25, 0.55)*(nr-nl)
	return []scan.Stroke{pen.line([2]float64{x0, y}, [2]float64{x1, y + uniform(rng, -0.3, 0.3)})}
}

// dotStrokes: a pen rested on the paper, somewhere on the name's line.
func dotStrokes(rng *rand.Rand, r scan.Row, pen Pen) []scan.Stroke {
	cl, _, _, cr, y := nameSpan(r)
	x := uniform(rng, cl, cr)
	return []scan.Stroke{{Points: [][2]float64{{x, y + uniform(rng, -1, 1)}}, Width: uniform(rng, 0.6, 1.0), Gray: pen.Gray}}
}

// tickStrokes: a ✓ in the margin after the name.
func tickStrokes(rng *rand.Rand, r scan.Row, pen Pen) []scan.Stroke {
	_, _, nr, _, y := nameSpan(r)
	x := nr + uniform(rng, 0.6, 1.2)
	return []scan.Stroke{pen.line([2]float64{x, y - 0.3}, [2]float64{x + 0.8, y + 1.0}, [2]float64{x + 2.4, y - 1.6})}
}

// boxStrokes marks an approve box (its inside r) with an X, a ✓ or a
// scribbled fill.
func boxStrokes(rng *rand.Rand, r scan.Rect, kind string, pen Pen) []scan.Stroke {
	j := func() float64 { return uniform(rng, -0.4, 0.4) }
	switch kind {
	case MarkCheck:
		return []scan.Stroke{pen.line(
			[2]float64{r.X + 0.15*r.W + j(), r.Y + 0.55*r.H + j()},
			[2]float64{r.X + 0.42*r.W + j(), r.Y + 0.88*r.H + j()},
			[2]float64{r.X + 0.9*r.W + j(), r.Y + 0.1*r.H + j()})}
	case MarkFill:
		var pts [][2]float64
		step := pen.Width * 1.1
		for y, left := r.Y+0.3, true; y < r.Bottom()-0.2; y, left = y+step, !left {
			if left {
				pts = append(pts, [2]float64{r.X + 0.3, y}, [2]float64{r.Right() - 0.3, y + step/2})
			} else {
				pts = append(pts, [2]float64{r.Right() - 0.3, y}, [2]float64{r.X + 0.3, y + step/2})
			}
		}
		return []scan.Stroke{{Points: pts, Width: pen.Width, Gray: pen.Gray}}
	}
	return []scan.Stroke{
		pen.line([2]float64{r.X + 0.1*r.W + j(), r.Y + 0.1*r.H + j()}, [2]float64{r.X + 0.9*r.W + j(), r.Y + 0.9*r.H + j()}),
		pen.line([2]float64{r.X + 0.9*r.W + j(), r.Y + 0.1*r.H + j()}, [2]float64{r.X + 0.1*r.W + j(), r.Y + 0.9*r.H + j()}),
	}
}
