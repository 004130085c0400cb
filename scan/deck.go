package scan

import (
	"fmt"
	"math"
)

// Stroke is a pen line drawn on a paper: a polyline in page millimetres,
// Width mm wide, of gray level Gray (0 black … 255 white). The test deck's
// PDF draws strokes as vectors; the synthetic scans draw them on the
// rasterised paper.
type Stroke struct {
	Points [][2]float64
	Width  float64
	Gray   uint8
}

// DeckPage is one page of a round's test deck (bộ phiếu thử): what is drawn
// on it and what the recogniser must make of it. Test pages carry their
// number in the QR code (Meta.TestPage) and are never counted.
type DeckPage struct {
	Page    int    // 1-based: Meta.TestPage
	Title   string // printed on the page, in Vietnamese ("Phiếu trắng", "Gạch đủ tên", …)
	Strokes []Stroke
	Expect  Expectation
}

// Expectation is what the recogniser must read on a test page.
type Expectation struct {
	Status Status
	// Struck (strike papers): candidate ids read as struck; Marks (approve
	// papers): candidate id → "agree", "disagree", "both", "none" for every
	// row; Doubtful: candidate ids that must be sent to a person.
	Struck   []string
	Marks    map[string]string
	Doubtful []string
}

// Ink levels of the deck's pens: a dark ballpoint, and a light one the
// recogniser may only send to a person (between Thresholds.Ink and Faint).
const (
	deckInk   uint8 = 20
	deckFaint uint8 = 180
	deckWidth       = 0.6
)

// TestDeck is the round's test deck: pages whose marks are known, printed
// and scanned before the vote opens to show the recogniser reads this
// printer and this scanner as it should. An Expectation is the machine's
// reading, not the ballot's verdict: a blank strike paper reads as no name
// struck, whatever the seats make of it.
func TestDeck(l *Layout) []DeckPage {
	var pages []DeckPage
	add := func(title string, strokes []Stroke, e Expectation) {
		pages = append(pages, DeckPage{Page: len(pages) + 1, Title: title, Strokes: strokes, Expect: e})
	}
	ids := make([]string, len(l.Rows))
	for i, r := range l.Rows {
		ids[i] = r.Candidate
	}
	if l.Style == "approve" {
		marks := func(f func(i int) string) map[string]string {
			m := make(map[string]string, len(l.Rows))
			for i, r := range l.Rows {
				m[r.Candidate] = f(i)
			}
			return m
		}
		var all []Stroke
		for _, r := range l.Rows {
			all = append(all, cross(r.Agree, deckInk)...)
		}
		add("Đồng ý tất cả", all, Expectation{Status: StatusRead, Marks: marks(func(int) string { return "agree" })})
		var dis []Stroke
		for _, r := range l.Rows {
			dis = append(dis, cross(r.Disagree, deckInk)...)
		}
		add("Không đồng ý tất cả", dis, Expectation{Status: StatusRead, Marks: marks(func(int) string { return "disagree" })})
		// Alternating agree and disagree: a reading that swaps columns or rows shows.
		var alt []Stroke
		for i, r := range l.Rows {
			box := r.Agree
			if i%2 == 1 {
				box = r.Disagree
			}
			alt = append(alt, cross(box, deckInk)...)
		}
		add("Đồng ý, không đồng ý xen kẽ", alt, Expectation{Status: StatusRead, Marks: marks(func(i int) string {
			return map[bool]string{false: "agree", true: "disagree"}[i%2 == 1]
		})})
		r0 := l.Rows[0]
		both := append(cross(r0.Agree, deckInk), cross(r0.Disagree, deckInk)...)
		add("Người thứ nhất đánh cả hai ô", both, Expectation{Status: StatusRead, Marks: marks(func(i int) string {
			return map[bool]string{true: "both", false: "none"}[i == 0]
		})})
		add("Không đánh ô nào", nil, Expectation{Status: StatusRead, Marks: marks(func(int) string { return "none" })})
		add("Dấu X mờ (người thứ nhất)", cross(r0.Agree, deckFaint), Expectation{Status: StatusDoubtful,
			Marks:    marks(func(i int) string { return map[bool]string{true: "agree", false: "none"}[i == 0] }),
			Doubtful: []string{r0.Candidate}})
		return pages
	}

	n := len(l.Rows)
	add("Phiếu trắng (không gạch tên nào)", nil, Expectation{Status: StatusRead})
	// k names struck in full, each in one of the ways delegates strike.
	kinds := []struct {
		title string
		draw  func(Row, uint8) []Stroke
	}{
		{"gạch thẳng", straight}, {"gạch xiên", slanted}, {"gạch lượn", wavy}, {"gạch hai nét", double},
	}
	for k, kind := range kinds {
		var strokes []Stroke
		var struck []string
		for i := k % n; i < n; i += 2 {
			strokes = append(strokes, kind.draw(l.Rows[i], deckInk)...)
			struck = append(struck, l.Rows[i].Candidate)
		}
		add(fmt.Sprintf("Gạch đủ tên, %s (%d người)", kind.title, len(struck)), strokes,
			Expectation{Status: StatusRead, Struck: struck})
	}
	r0 := l.Rows[0]
	add("Gạch nửa tên (người thứ nhất)", partial(r0, deckInk), Expectation{Status: StatusDoubtful, Doubtful: []string{r0.Candidate}})
	add("Gạch mờ (người thứ nhất)", straight(r0, deckFaint), Expectation{Status: StatusDoubtful, Doubtful: []string{r0.Candidate}})
	if n > 1 {
		// Every name but the last struck: one name kept, an over-vote
		// whenever fewer than seats are kept (the verdict is the tally's).
		var strokes []Stroke
		for _, r := range l.Rows[:n-1] {
			strokes = append(strokes, straight(r, deckInk)...)
		}
		add("Chỉ giữ lại người cuối cùng", strokes, Expectation{Status: StatusRead, Struck: ids[:n-1]})
	}
	var all []Stroke
	for _, r := range l.Rows {
		all = append(all, straight(r, deckInk)...)
	}
	add("Gạch tất cả các tên", all, Expectation{Status: StatusRead, Struck: ids})
	return pages
}

// nameSpan is where a strike through the whole row's name runs: through
// the first clear zone to the end of the last, at the band's middle.
func nameSpan(r Row) (x0, x1, y float64) {
	first, last := r.Clear[0], r.Clear[len(r.Clear)-1]
	// A full strike runs through both margins, as the paper asks ("gạch
	// ngang cả họ và tên"), a little beyond each.
	return first.X - 0.5, last.Right() + 0.5, r.Band.Y + r.Band.H/2
}

func straight(r Row, gray uint8) []Stroke {
	x0, x1, y := nameSpan(r)
	return []Stroke{{Points: [][2]float64{{x0, y}, {x1, y}}, Width: deckWidth, Gray: gray}}
}

// slanted rises across the name, kept inside the band clear of its edges.
func slanted(r Row, gray uint8) []Stroke {
	x0, x1, y := nameSpan(r)
	d := r.Band.H/2 - Edge - 1
	return []Stroke{{Points: [][2]float64{{x0, y + d}, {x1, y - d}}, Width: deckWidth, Gray: gray}}
}

func wavy(r Row, gray uint8) []Stroke {
	x0, x1, y := nameSpan(r)
	a := r.Band.H/2 - Edge - 1.2
	var pts [][2]float64
	for x := x0; x < x1; x += 1 {
		pts = append(pts, [2]float64{x, y + a*math.Sin((x-x0)/3)})
	}
	pts = append(pts, [2]float64{x1, y + a*math.Sin((x1-x0)/3)})
	return []Stroke{{Points: pts, Width: deckWidth, Gray: gray}}
}

func double(r Row, gray uint8) []Stroke {
	x0, x1, y := nameSpan(r)
	return []Stroke{
		{Points: [][2]float64{{x0, y - 0.9}, {x1, y - 0.9}}, Width: deckWidth, Gray: gray},
		{Points: [][2]float64{{x0, y + 0.9}, {x1, y + 0.9}}, Width: deckWidth, Gray: gray},
	}
}

// partial strikes the first half of the name only.
func partial(r Row, gray uint8) []Stroke {
	x0, x1, y := nameSpan(r)
	return []Stroke{{Points: [][2]float64{{x0, y}, {x0 + (x1-x0)*0.45, y}}, Width: deckWidth, Gray: gray}}
}

// cross is an X inside a box.
func cross(b Rect, gray uint8) []Stroke {
	in := b.Inset(0.6)
	return []Stroke{
		{Points: [][2]float64{{in.X, in.Y}, {in.Right(), in.Bottom()}}, Width: deckWidth, Gray: gray},
		{Points: [][2]float64{{in.Right(), in.Y}, {in.X, in.Bottom()}}, Width: deckWidth, Gray: gray},
	}
}
