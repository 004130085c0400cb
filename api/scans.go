package api

import (
	"github.com/kiemphieu/kiemphieu/scan"
	"github.com/kiemphieu/kiemphieu/tally"
)

// Scanned ballots (issue 14, DESIGN §7.4). A page's record and its image are
// items of the store, by contest and the page's image hash:
//
//	scans:<contest>   <sha256>  the page's record (scanPage, JSON)
//	scanimg:<contest> <sha256>  the page's image (gray JPEG, no metadata)
//
// Images are secret ballots: the counting committee's alone, never in a log
// line, an error, the audit or an export.
func scansKind(contest string) string      { return "scans:" + contest }
func scanImagesKind(contest string) string { return "scanimg:" + contest }

// scanPage is one received page and what became of it.
type scanPage struct {
	Image  string      `json:"image"` // sha256 of the decoded page's pixels
	Batch  string      `json:"batch"`
	File   int         `json:"file"`
	Page   int         `json:"page"`
	Status scan.Status `json:"status"`
	Reason string      `json:"reason,omitempty"`
	// Reading is the machine's reading, row by row; Ballot the ballot it
	// proposes (§5.2 without id); Doubtful the candidate ids a person must
	// look at.
	Reading  []scan.NameReading `json:"reading,omitempty"`
	Ballot   *tally.Ballot      `json:"ballot,omitempty"`
	Doubtful []string           `json:"doubtful,omitempty"`
	// Corners are the corner marks' centres in image pixels, in
	// Layout.Marks order, as found: the review page's overlay maps the
	// layout onto the image with them.
	Corners    [4][2]float64 `json:"corners,omitempty"`
	UpsideDown bool          `json:"upside_down,omitempty"`
	Width      int           `json:"width"`
	Height     int           `json:"height"`
	// Stack and Position (verified entry: the scanner is one desk's
	// reading of tệp S, phiếu thứ k).
	Stack    int    `json:"stack,omitempty"`
	Position int    `json:"position,omitempty"`
	TestPage int    `json:"test_page,omitempty"`
	Time     string `json:"time"`
	// Settled: a person confirmed or corrected the page (By, at Settled),
	// or it was counted as read; BallotID is the id it went into the log
	// (or the keying) under.
	Settled  string `json:"settled,omitempty"`
	By       string `json:"by,omitempty"`
	BallotID string `json:"ballot_id,omitempty"`
}
