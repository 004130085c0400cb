// Package scan reads photographed or scanned paper ballots (issue 14,
// DESIGN §7.4): a Layout describes the machine-readable ballot once — the
// PDF that is printed (web.BallotPaperPDF) and the recogniser (Read) both
// take their coordinates from it — and Read turns one page image into a
// proposed reading that never guesses: every name is struck, kept or
// doubtful, and a person confirms what is doubtful.
//
// The package is pure: images and a layout in, readings out. No HTTP, no
// store, no file formats (scan/files decodes uploads into pages).
//
// All geometry is in millimetres on an A4 portrait page, origin at the
// top-left corner, y downwards, as printed at 100% scale.
package scan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// LayoutVersion is the version of the geometry NewLayout produces. It is in
// every QR code: a change of geometry (pitch, margins, fonts' widths) must
// bump it, so that a paper printed by one version is never read with the
// coordinates of another.
const LayoutVersion = 1

// Page size (A4 portrait).
const (
	PageW = 210.0
	PageH = 297.0
)

// Rect is a rectangle on the page, in millimetres.
type Rect struct{ X, Y, W, H float64 }

func (r Rect) Right() float64  { return r.X + r.W }
func (r Rect) Bottom() float64 { return r.Y + r.H }

// Inset is r shrunk by d on every side (grown when d < 0).
func (r Rect) Inset(d float64) Rect { return Rect{r.X + d, r.Y + d, r.W - 2*d, r.H - 2*d} }

// Contains reports whether the point (x, y) is inside r.
func (r Rect) Contains(x, y float64) bool {
	return x >= r.X && x < r.Right() && y >= r.Y && y < r.Bottom()
}

// MarkShape tells the corner marks apart, so that a page fed upside down
// (ADF stacks are unsorted) is turned, never read mirrored: three corners
// are solid squares, the bottom-right one a ring.
type MarkShape uint8

const (
	MarkSolid MarkShape = iota // a filled square
	MarkRing                   // a square outline with a white centre
)

// Corner marks: 6 mm squares 10 mm in from the page's edges; a ring's
// stroke is RingStroke wide.
const (
	MarkSize   = 6.0
	MarkInset  = 10.0
	RingStroke = 1.6
)

// Mark is one corner mark (fiducial).
type Mark struct {
	Rect  Rect
	Shape MarkShape
}

// Centre is the mark's centre, the point the recogniser's homography maps.
func (m Mark) Centre() (x, y float64) { return m.Rect.X + m.Rect.W/2, m.Rect.Y + m.Rect.H/2 }

// Corners of Layout.Marks, in this order.
const (
	TopLeft = iota
	TopRight
	BottomRight
	BottomLeft
)

// Text is one line printed on the paper. X is its left edge (Align
// "L"), centre ("C") or right edge ("R"); Baseline its baseline. Rect is
// where its ink may lie (from the font's measured width and the size's
// ascent with Vietnamese stacked diacritics and descent): the template
// the recogniser does not count as new ink.
type Text struct {
	Text     string
	X        float64
	Baseline float64
	Size     float64 // points
	Bold     bool
	Italic   bool
	Align    string // "L", "C" or "R"
	Rect     Rect
}

// Box is a printed outline (an approve box, the stamp box): Stroke mm wide.
type Box struct {
	Rect   Rect
	Stroke float64
	Dashed bool
}

// Row is one candidate's line on the paper.
type Row struct {
	Candidate string // candidate id
	Number    int    // 1-based ballot order
	Name      string // as printed (with "(sinh năm YYYY)" for namesakes)
	// Band is the row's whole zone: ink in it belongs to this name. A
	// stroke that reaches its top or bottom Edge mm runs into the
	// neighbouring name and sends the row to a person.
	Band Rect
	// Words are the printed words of the name (strike papers): the name is
	// printed word by word, WordGap apart, so that a strike shows in the
	// gaps as well as in the margins before and after.
	Words []Rect
	// Clear are the zones of a strike paper's row where the template is
	// white and a strike through the whole name must show: the margin
	// before the first word, every gap between words, the margin after the
	// last. The recogniser measures the share of their columns with new ink.
	Clear []Rect
	// Agree and Disagree are the insides of the đồng ý / không đồng ý boxes
	// of an approve paper (empty on a strike paper).
	Agree, Disagree Rect
}

// Edge is how close to the top or bottom of its band a row's ink may come
// before it counts as running into the neighbouring row.
const Edge = 0.8

// Layout is a contest round's machine-readable ballot: everything printed,
// where, and what the recogniser watches.
type Layout struct {
	Meta  Meta
	Style string // "strike" or "approve"
	Marks [4]Mark
	QR    Rect // the QR code, with its quiet zone
	// Stamp is the convening committee's stamp box (top left); Header the
	// heading, title and instructions. Both are excluded from stray-ink
	// detection: the stamp and the printed header are expected there.
	Stamp  Rect
	Header Rect
	// Watched is the voting area: ink in it outside the rows and outside
	// the template is stray ink, and the page goes to a person.
	Watched Rect
	Texts   []Text
	Boxes   []Box
	Rows    []Row
	Columns int // 1 or 2 (strike papers beyond one column's capacity)
}

// Meta is what the QR code carries: the same on every paper of a round,
// so that nothing on a ballot tells one voter's paper from another's.
type Meta struct {
	Congress string // congress id, may be empty
	Contest  string
	Round    int
	Style    string // "strike" or "approve"
	Layout   int    // LayoutVersion
	// Digest is the first 16 hex digits of SHA-256 over the printed list
	// (ListDigest): a paper of another round, or a misprint whose names
	// differ from the contest's, does not match.
	Digest string
	// TestPage is 0 on a real ballot. A page of the test deck carries its
	// number in the deck (1…), so its reading can be checked against what
	// was printed on it; test pages never count.
	TestPage int
}

const metaPrefix = "KP1"

// Encode is the QR code's text: "KP1|congress|contest|round|style|layout|digest|testpage".
// Ids are [A-Za-z0-9._-], so "|" never occurs in a field.
func (m Meta) Encode() string {
	return strings.Join([]string{metaPrefix, m.Congress, m.Contest, strconv.Itoa(m.Round), m.Style,
		strconv.Itoa(m.Layout), m.Digest, strconv.Itoa(m.TestPage)}, "|")
}

// ParseMeta reads a QR code's text; anything that is not a kiemphieu
// ballot's code is an error (the page is rejected, never read).
func ParseMeta(s string) (Meta, error) {
	f := strings.Split(s, "|")
	if len(f) != 8 || f[0] != metaPrefix {
		return Meta{}, fmt.Errorf("the QR code is not a kiemphieu ballot's")
	}
	round, err1 := strconv.Atoi(f[3])
	layout, err2 := strconv.Atoi(f[5])
	test, err3 := strconv.Atoi(f[7])
	if err1 != nil || err2 != nil || err3 != nil || round < 1 || test < 0 || f[2] == "" {
		return Meta{}, fmt.Errorf("the QR code is not a kiemphieu ballot's")
	}
	return Meta{Congress: f[1], Contest: f[2], Round: round, Style: f[4], Layout: layout, Digest: f[6], TestPage: test}, nil
}

// Candidate is one name of the list, in ballot order, as NewLayout needs it.
type Candidate struct {
	ID   string
	Name string // as printed
}

// ListDigest is the digest of a round's printed list (Meta.Digest).
func ListDigest(contest string, round int, style string, list []Candidate) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%s\x00%d", contest, round, style, LayoutVersion)
	for _, c := range list {
		fmt.Fprintf(h, "\x00%s\x00%s", c.ID, c.Name)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Measure is the printed width in millimetres of text at size points in
// the paper's font (bold or not): the PDF's own metrics, so that the
// layout's word boxes are where the PDF puts the words.
type Measure func(text string, size float64, bold bool) float64
