package scan

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
