package scan

// Status is what became of a page.
type Status string

const (
	// StatusRead: every name sure, no stray ink; the proposed ballot may be
	// counted without a person (single entry) or is the scanner desk's
	// keying (verified entry). The api still sends a proposed invalid
	// ballot to a person.
	StatusRead Status = "read"
	// StatusDoubtful: a name or box between the thresholds, faint ink, ink
	// running into a neighbour, stray ink: a counter confirms or corrects.
	StatusDoubtful Status = "doubtful"
	// StatusRejected: the page could not be read at all (a corner mark not
	// found, no QR code or another round's, a skew beyond the limit): the
	// paper is keyed by hand. Nothing is guessed.
	StatusRejected Status = "rejected"
)

// Thresholds are the recogniser's bars, recorded with the contest (issue
// 14: configuration, shown on the test deck before opening).
type Thresholds struct {
	// Ink is the gray level at or below which a pixel is ink for the
	// decision (dark ballpoint); Faint the more sensitive level that can
	// only send a name to a person (a light pen, a pencil).
	Ink, Faint uint8
	// Struck: a name whose clear zones' columns are inked at least this
	// share (at the Ink level) is struck. Doubt: a share at least this (at
	// either level) and below Struck is doubtful; below it, kept.
	Struck, Doubt float64
	// Marked: an approve box inked at least this share of its inside is
	// marked; MarkDoubt up to Marked is doubtful; below, empty.
	Marked, MarkDoubt float64
	// The second measure of a box inked between MarkDoubt and Marked: a
	// thin ✓ of a dark pen inks less of a box than a faint scribble may at
	// the Ink level, but only the pen reaches Dark. A box whose pixels at
	// or below Dark are at least MarkDoubt of its inside and span at least
	// Span of its width and of its height is marked (a dot or a nick is
	// not: it spans little).
	Dark uint8
	Span float64
	// Stray: new ink outside the rows and the template, in mm², that sends
	// the page to a person.
	Stray float64
}

// DefaultThresholds are the bars the synthetic set was measured with
// (docs/benchmarks.md): a pilot's real ballots must confirm them.
func DefaultThresholds() Thresholds {
	return Thresholds{Ink: 140, Faint: 215, Struck: 0.90, Doubt: 0.05, Marked: 0.07, MarkDoubt: 0.02, Dark: 125, Span: 0.5, Stray: 0.5}
}

// NameReading is the machine's reading of one row.
type NameReading struct {
	Candidate string `json:"candidate"`
	// Struck (strike papers) or Mark (approve papers: "agree",
	// "disagree", "both", "none") is the proposal; Doubtful says a person
	// must look, and Why says why ("partial", "faint", "neighbour",
	// "stray", "box").
	Struck   bool   `json:"struck,omitempty"`
	Mark     string `json:"mark,omitempty"`
	Doubtful bool   `json:"doubtful,omitempty"`
	Why      string `json:"why,omitempty"`
	// Scores: the share of clear columns inked at the Ink and Faint
	// levels (strike), the share of each box's inside inked (approve).
	Coverage float64 `json:"coverage"`
	Faint    float64 `json:"faint"`
	Agree    float64 `json:"agree,omitempty"`
	Disagree float64 `json:"disagree,omitempty"`
}

// Reading is what Read made of a page.
type Reading struct {
	Status Status `json:"status"`
	// Reason: why a page was rejected or doubtful, a code ("no_corner_marks",
	// "no_qr", "foreign_qr", "layout_version", "skew", "names", "stray").
	Reason string `json:"reason,omitempty"`
	Meta   Meta   `json:"-"`
	// UpsideDown: the page was fed turned round and was read turned back.
	UpsideDown bool          `json:"upside_down,omitempty"`
	Names      []NameReading `json:"names,omitempty"`
	// Stray are the regions of stray ink, in page millimetres.
	Stray []Rect `json:"stray,omitempty"`
	// ToImage maps page millimetres to the image's pixels (the review
	// page's overlay); nil when the corner marks were not found.
	ToImage func(x, y float64) (float64, float64) `json:"-"`
}
