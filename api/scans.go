package api

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/scan"
	scanfiles "github.com/kiemphieu/kiemphieu/scan/files"
	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
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
	// Dismissed: a person set the page aside, with this reason (not a
	// ballot of this round, a blank sheet): it counts nothing.
	Dismissed string `json:"dismissed,omitempty"`
	// Sample: a page the machine read, drawn into the blind re-keying
	// sample (scans_sample.go); Rekey is the person's keying of it, by
	// RekeyDesk (a desk id) as RekeyBy.
	Sample    bool          `json:"sample,omitempty"`
	Rekey     *tally.Ballot `json:"rekey,omitempty"`
	RekeyBy   string        `json:"rekey_by,omitempty"`
	RekeyDesk string        `json:"rekey_desk,omitempty"`
}

// Intake (DESIGN §7.4). POST …/scans takes multipart/form-data read from
// the connection as it arrives: the fields "stack" (required in verified
// entry: the stack the pages are, in order, positions 1, 2, …) and
// "declared" (the stack's paper count, for the reconciliation) before the
// first "file" part, then one or more "file" parts. Each page is decoded
// as it arrives and read by the recogniser beside the next (scanWorkers at
// once), so a stack's answer is ready soon after its last byte.
const (
	// maxScanBody is the one route's body limit: a scanner's stack of 100
	// pages at 200 dpi gray is about 50 MB; every other route keeps its own.
	maxScanBody = 64 << 20
	// maxScanPages bounds one upload's pages (and its answer).
	maxScanPages = 1000
	// scanWorkers pages are read at once: the machine's two cores.
	scanWorkers = 2
	// scanReadTime bounds how long the body may take to arrive.
	scanReadTime = 5 * time.Minute
	// scanTime bounds one upload, reading and storing included.
	scanTime = 10 * time.Minute
	// scanJPEGQuality is the stored image's: enough for a person to read
	// the strikes on the review page, about a tenth of the raw pixels.
	scanJPEGQuality = 85
)

// scannerDesk is the desk the scanner keys as in verified entry: one desk
// of the contest whoever uploads, so that a person's keying of the same
// paper is the independent second reading.
func scannerDeskID(contest string) string { return "scanner:" + contest }

const scannerDeskName = "máy quét"

// scanStacksKind holds the paper count a stack's upload declared, by stack
// number (scanStack): the reconciliation of GET …/scans.
func scanStacksKind(contest string) string { return "scanstacks:" + contest }

// scanCustodyKind holds the committee's choice at certification for the
// round's images (key "images": scanCustody).
func scanCustodyKind(contest string) string { return "scancustody:" + contest }

type scanStack struct {
	Stack    int    `json:"stack"`
	Declared int    `json:"declared"`
	By       string `json:"by"`
	Time     string `json:"time"`
}

type scanCustody struct {
	Images string `json:"images"` // "delete" or "seal"
	By     string `json:"by"`
	Time   string `json:"time"`
}

// scanAnswer is one page in the answer of an upload: its record, and
// whether it was already stored (the same page uploaded before: answered
// as stored, nothing counted twice).
type scanAnswer struct {
	scanPage
	Stored bool `json:"stored,omitempty"`
}

// pageHash is SHA-256 of a page's dimensions and gray pixels: the same
// scan decodes to the same hash however often it is sent.
func pageHash(img *image.Gray) string {
	h := sha256.New()
	b := img.Bounds()
	fmt.Fprintf(h, "%dx%d\x00", b.Dx(), b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		i := img.PixOffset(b.Min.X, y)
		h.Write(img.Pix[i : i+b.Dx()])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// scanUpload is what one upload's pages share.
type scanUpload struct {
	cc       *cachedContest
	rec      *tally.Record
	layout   *scan.Layout
	th       scan.Thresholds
	by       *principal
	batch    string
	stack    int
	size     int // the stack's declared papers (verified entry)
	position int // the last position given
}

// postScans: POST /api/v1/contests/:id/scans (counter).
func (s *Server) postScans(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(context.Background(), scanTime)
	defer cancel()
	cc, rec, err := s.scanContest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	switch {
	case cc.imported:
		return notImported()
	case rec.State != tally.StateOpen && rec.State != tally.StateDraft:
		// Draft: the test deck is read before counting starts.
		return notOpen(rec.State)
	}
	mt, params, err := mime.ParseMediaType(string(c.Request().Header.ContentType()))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return errorf(tally.Unsupported, fiber.HeaderContentType, "send the pages as multipart/form-data with one or more \"file\" parts")
	}
	paper, err := s.scanPaper(ctx, rec)
	if err != nil {
		return err
	}
	layout, err := web.PaperLayout(paper)
	if err != nil {
		return errorf(tally.Conflict, "ballot", "the round's paper cannot be laid out for the scanner: %v", err)
	}
	body, err := scanBody(c)
	if err != nil {
		return err
	}
	up := &scanUpload{cc: cc, rec: rec, layout: layout, th: scan.DefaultThresholds(), by: principalOf(c), batch: rand.Text()[:16]}
	var (
		answers []*scanAnswer
		mu      sync.Mutex
		failed  error
		wg      sync.WaitGroup
		slots   = make(chan struct{}, scanWorkers)
		seen    = map[string]bool{}
		files   int
		declare *int
	)
	fail := func(err error) {
		mu.Lock()
		failed = cmp.Or(failed, err)
		mu.Unlock()
	}
	defer wg.Wait()
	mr := multipart.NewReader(body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return bodyError(err, "the multipart body could not be read")
		}
		switch name := part.FormName(); name {
		case "stack", "declared":
			if files > 0 {
				return errorf(tally.Invalid, name, "send %q before the first file", name)
			}
			n, err := formInt(part, name)
			if err != nil {
				return err
			}
			if name == "stack" {
				if n < 1 || n > tally.MaxStack {
					return errorf(tally.Invalid, "stack", "must be between 1 and %d; got %d", tally.MaxStack, n)
				}
				up.stack = n
			} else {
				if n < 1 || n > tally.MaxStackBallots {
					return errorf(tally.Invalid, "declared", "must be between 1 and %d; got %d", tally.MaxStackBallots, n)
				}
				declare = &n
			}
		case "file":
			if files == 0 {
				if err := s.startScanStack(ctx, up, declare); err != nil {
					return err
				}
			}
			fileIdx := files
			files++
			err := decodePages(part, part.FileName(), func(idx int, img *image.Gray, refused *scanfiles.Error) error {
				if len(answers) >= maxScanPages {
					return errorf(tally.TooLarge, "file", "an upload holds at most %d pages: send the stack in parts", maxScanPages)
				}
				mu.Lock()
				err := failed
				mu.Unlock()
				if err != nil {
					return err
				}
				if refused != nil {
					// A page that cannot be decoded is still a paper of the
					// stack: it is answered rejected, with why, and keyed by
					// hand; nothing is stored.
					a := &scanAnswer{scanPage: scanPage{Batch: up.batch, File: fileIdx, Page: idx + 1,
						Status: scan.StatusRejected, Reason: refused.Code, Time: s.stamp()}}
					if up.stack > 0 {
						up.position++
						a.Stack, a.Position = up.stack, up.position
					}
					answers = append(answers, a)
					return nil
				}
				a := &scanAnswer{scanPage: scanPage{Image: pageHash(img), Batch: up.batch, File: fileIdx, Page: idx + 1}}
				answers = append(answers, a)
				if seen[a.Image] { // the same page twice in one upload: one paper
					a.Stored = true // answered as its first copy, below
					return nil
				}
				seen[a.Image] = true
				if up.stack > 0 {
					up.position++
					a.Stack, a.Position = up.stack, up.position
				}
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer func() { <-slots; wg.Done() }()
					if err := s.scanOne(ctx, up, a, img); err != nil {
						fail(err)
					}
				}()
				return nil
			})
			if err != nil {
				return bodyError(err, "a file could not be read")
			}
		default:
			return errorf(tally.Invalid, name, "unknown part: send \"stack\", \"declared\" and \"file\" parts")
		}
	}
	if files == 0 {
		return errorf(tally.Invalid, "file", "required: one or more \"file\" parts with the scanned pages")
	}
	if err := drainBody(c, body); err != nil {
		return err
	}
	wg.Wait()
	if failed != nil {
		return failed
	}
	// A page repeated within the upload is answered as its first copy.
	first := map[string]*scanAnswer{}
	for _, a := range answers {
		if a.Image == "" { // a page that could not be decoded
			continue
		}
		if f := first[a.Image]; f != nil {
			file, page := a.File, a.Page
			a.scanPage = f.scanPage
			a.File, a.Page, a.Stored = file, page, true
			continue
		}
		first[a.Image] = a
	}
	if answers == nil {
		answers = []*scanAnswer{}
	}
	for _, a := range answers {
		blindScanner(cc, rec, up.by, &a.scanPage)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"batch": up.batch, "pages": answers})
}

// scanBody is the upload's body as a reader of the connection (fasthttp
// streams request bodies) or, when the server already holds the body
// (app.Test, a small request), of memory; either way at most the route's
// limit. Nothing else reads this request's body.
func scanBody(c *fiber.Ctx) (io.Reader, error) {
	st := bodyOf(c.Context())
	if n := c.Request().Header.ContentLength(); n > st.limit {
		return nil, tooLarge(st.limit)
	}
	st.read = true
	// A stack takes longer than the server's ReadTimeout to arrive over an
	// office network: this request's connection gets longer (counters only,
	// after sign-in; fasthttp sets the deadline again for the next request).
	c.Context().Conn().SetReadDeadline(time.Now().Add(scanReadTime))
	r := c.Request().BodyStream()
	if r == nil {
		r = bytes.NewReader(c.Request().Body())
	}
	return &limitedBody{r: r, left: int64(st.limit)}, nil
}

// limitedBody reads at most left bytes, and fails past them (io.LimitReader
// would end quietly, and a cut stack would pass for a whole one).
type limitedBody struct {
	r    io.Reader
	left int64
	over bool
}

var errScanTooLarge = errors.New("over the limit")

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, _ := b.r.Read(one[:]); n > 0 {
			b.over = true
			return 0, errScanTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// drainBody reads what follows the multipart body's last part (an
// epilogue), so that the whole body is read and the connection stays
// usable.
func drainBody(c *fiber.Ctx, body io.Reader) error {
	if _, err := io.Copy(io.Discard, body); err != nil {
		return bodyError(err, "the body could not be read")
	}
	bodyOf(c.Context()).whole = true
	return nil
}

// bodyError is the answer for a body that failed while read: too large, too
// slow, or malformed; an *tally.Error (a page's refusal) passes as it is.
func bodyError(err error, what string) error {
	var te *tally.Error
	switch {
	case errors.Is(err, errScanTooLarge):
		return tooLarge(maxScanBody)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fiber.NewError(http.StatusRequestTimeout, "the body did not arrive in time")
	case errors.As(err, &te):
		return err
	}
	return errorf(tally.Invalid, "file", "%s: %.200v", what, err)
}

// formInt reads a small whole-number form field.
func formInt(r io.Reader, name string) (int, error) {
	data, err := io.ReadAll(io.LimitReader(r, 16))
	if err != nil {
		return 0, bodyError(err, "the form could not be read")
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, errorf(tally.Invalid, name, "must be a whole number; got %.16q", data)
	}
	return n, nil
}

// startScanStack checks the upload's stack before its first page: verified
// entry needs a declared stack; a declared count is recorded for the
// reconciliation.
func (s *Server) startScanStack(ctx context.Context, up *scanUpload, declared *int) error {
	if up.cc.Entry.Verified() {
		if up.stack == 0 {
			return errorf(tally.Invalid, "stack", "required in %s entry: the stack the pages are, in order (positions 1, 2, …)", up.cc.Entry)
		}
		size, err := s.stackSize(ctx, up.cc.ID, up.stack)
		if err != nil {
			return err
		}
		if size == 0 {
			return refused(errorf(tally.Conflict, "stack", "stack %d is not declared: the committee declares it (PUT …/stacks/%d) before it is scanned", up.stack, up.stack), "refusal.scans.undeclared", up.stack)
		}
		up.size = size
	}
	if declared != nil {
		if up.stack == 0 {
			return errorf(tally.Invalid, "declared", "name the stack the count is of (\"stack\")")
		}
		data, _ := json.Marshal(scanStack{Stack: up.stack, Declared: *declared, By: up.by.Name, Time: s.stamp()})
		if err := s.store.PutItem(ctx, scanStacksKind(up.cc.ID), strconv.Itoa(up.stack), data); err != nil {
			return err
		}
	}
	return nil
}

// scanOne reads, stores and (when read) counts one page; a is filled in
// with the page's record as stored.
func (s *Server) scanOne(ctx context.Context, up *scanUpload, a *scanAnswer, img *image.Gray) error {
	cc := up.cc
	if old, err := s.scanRecord(ctx, cc.ID, a.Image); err == nil {
		file, page := a.File, a.Page
		a.scanPage, a.File, a.Page, a.Stored = old, file, page, true
		// Count it again: idempotent, and it heals an upload cut between
		// storing the record and counting the page.
		return s.countRead(ctx, up, &a.scanPage)
	} else if tally.ErrorKind(err) != tally.NotFound {
		return err
	}
	r := s.readPage(cc.ID, up.batch, img, up)
	p := &a.scanPage
	p.Status, p.Reason, p.Reading, p.UpsideDown = r.Status, r.Reason, r.Names, r.UpsideDown
	p.Width, p.Height, p.Time = img.Bounds().Dx(), img.Bounds().Dy(), s.stamp()
	if r.ToImage != nil {
		for i, m := range up.layout.Marks {
			x, y := m.Centre()
			p.Corners[i][0], p.Corners[i][1] = r.ToImage(x, y)
		}
	}
	if p.Status != scan.StatusRejected && (r.Meta.Contest != cc.ID || r.Meta.Round != up.layout.Meta.Round || r.Meta.Digest != up.layout.Meta.Digest) {
		// The recogniser rejects another round's paper; so does the intake.
		p.Status, p.Reason = scan.StatusRejected, "foreign_qr"
	}
	if p.Status != scan.StatusRejected {
		p.TestPage = r.Meta.TestPage
		b, doubtful := proposal(cc, up.layout, r)
		p.Ballot, p.Doubtful = &b, doubtful
		b.ID = "scan"
		m, err := cc.Mark(b, cc.index)
		switch {
		case err != nil:
			p.Status, p.Reason = scan.StatusDoubtful, "ballot"
		case p.Status == scan.StatusRead && cc.Classify(m) != tally.Valid:
			// A machine never declares a ballot invalid on its own.
			p.Status, p.Reason = scan.StatusDoubtful, "invalid"
		}
	}
	if p.TestPage == 0 && up.rec.State != tally.StateOpen {
		// A ballot before counting opened: refused, and not kept (kept, the
		// same page sent once the round is open would be answered as
		// stored, refused for ever).
		p.Status, p.Reason = scan.StatusRejected, "not_open"
		p.Ballot, p.Doubtful, p.Reading = nil, nil, nil
		return nil
	}
	switch {
	case p.TestPage > 0 || p.Status == scan.StatusRejected:
		// A test-deck page never counts; a rejected page is keyed by hand.
	case cc.Entry.Verified() && p.Position > up.size:
		p.Status, p.Reason = scan.StatusRejected, "beyond_stack"
	case p.Status == scan.StatusRead:
		if !cc.Entry.Verified() && up.rec.State == tally.StateOpen {
			sampled, err := s.drawSample(ctx, cc.ID)
			if err != nil {
				return err
			}
			if p.Sample = sampled; sampled {
				break // held for the blind re-keying
			}
		}
		p.Settled, p.By, p.BallotID = p.Time, scannerDeskName, scanBallotID(cc, p)
	}
	// The image first: a record always has its image.
	jpg, err := grayJPEG(img)
	if err != nil {
		return err
	}
	if err := s.store.PutItem(ctx, scanImagesKind(cc.ID), p.Image, jpg); err != nil {
		return err
	}
	data, _ := json.Marshal(p)
	swapped, err := s.store.SwapItem(ctx, scansKind(cc.ID), p.Image, nil, data)
	if err != nil {
		return err
	}
	if !swapped { // the same page, stored by an upload beside this one
		old, err := s.scanRecord(ctx, cc.ID, p.Image)
		if err != nil {
			return err
		}
		file, page := a.File, a.Page
		a.scanPage, a.File, a.Page, a.Stored = old, file, page, true
	}
	return s.countRead(ctx, up, &a.scanPage)
}

// readPage is scan.Read on a worker's goroutine, where a panic would end
// the process: a page the recogniser fails on is rejected ("read_failed")
// and waits for a person like any unreadable page. The log names neither
// the page's pixels nor its hash (its ballot's id): the page's record says
// "read_failed".
func (s *Server) readPage(contest, batch string, img *image.Gray, up *scanUpload) (r scan.Reading) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("the recogniser failed on a page", "contest", contest, "batch", batch, "panic", fmt.Sprint(v))
			r = scan.Reading{Status: scan.StatusRejected, Reason: "read_failed"}
		}
	}()
	return scan.Read(img, up.layout, up.th)
}

// scanBallotID is the id a page goes into the log under: in single entry
// derived from its image, in verified entry its position's.
func scanBallotID(cc *cachedContest, p *scanPage) string {
	if cc.Entry.Verified() {
		return tally.PositionID(p.Stack, p.Position)
	}
	return tally.ScanBallotID(p.Image)
}

// proposal is the ballot a reading proposes (without an id) and the
// candidates a person must look at.
func proposal(cc *cachedContest, l *scan.Layout, r scan.Reading) (tally.Ballot, []string) {
	var b tally.Ballot
	var doubtful []string
	if l.Style == "approve" {
		b.Marks = map[string]tally.Mark{}
	} else {
		b.Struck = []string{}
	}
	for _, n := range r.Names {
		if n.Doubtful {
			doubtful = append(doubtful, n.Candidate)
		}
		if l.Style == "approve" {
			b.Marks[n.Candidate] = map[string]tally.Mark{"agree": tally.MarkAgree, "disagree": tally.MarkDisagree, "both": tally.MarkBoth}[n.Mark]
		} else if n.Struck {
			b.Struck = append(b.Struck, n.Candidate)
		}
	}
	return b, doubtful
}

// countRead counts a page the machine read (and nothing else): appended at
// once in single entry, the scanner desk's keying in verified entry.
// Idempotent: the same page counts once however often it comes.
func (s *Server) countRead(ctx context.Context, up *scanUpload, p *scanPage) error {
	if p.Status != scan.StatusRead || p.TestPage > 0 || p.Settled == "" || p.Ballot == nil || up.rec.State != tally.StateOpen {
		return nil
	}
	err := s.countScanned(ctx, up.cc, p, *p.Ballot, scannerDeskName+" ("+up.by.Name+")", up.by.ID, scannerDeskName)
	if tally.ErrorKind(err) == tally.Conflict {
		// Verified entry: the position was accepted or disputed by the
		// desks before the scanner's reading came; it stays as they left
		// it, and the page says why it was not keyed.
		p.Reason = "position"
		return nil
	}
	return err
}

// countScanned puts a page's ballot b (without an id) into the count: in
// single entry appended to the log under the page's id, for desk and
// deskID; in verified entry keyed as the scanner desk at the page's
// position, and appended once the desks agree.
//
// scanner is the name the scanner desk keys under in verified entry: "máy
// quét", or with the name of the person who confirmed the page, so that
// the journal and the minutes say who read it.
func (s *Server) countScanned(ctx context.Context, cc *cachedContest, p *scanPage, b tally.Ballot, desk, deskID, scanner string) error {
	if !cc.Entry.Verified() {
		b.ID = tally.ScanBallotID(p.Image)
		m, err := cc.Mark(b, cc.index)
		if err != nil {
			return prefixField("ballot", err)
		}
		reason, keys := cc.Effect(m)
		s.appending.Add(1)
		_, created, err := s.store.Append(ctx, cc.ID, tally.Append{Ballot: &b, Reason: reason, Keys: keys, Desk: desk, DeskID: deskID, Time: s.stamp()})
		s.appending.Add(-1)
		if err != nil {
			return err
		}
		if created {
			s.broker.Notify(cc.ID)
		}
		return nil
	}
	body, err := cc.Body(b, p.Stack, p.Position, cc.index)
	if err != nil {
		return prefixField("ballot", err)
	}
	k := tally.Keying{ID: tally.ScanBallotID(p.Image), Stack: p.Stack, Position: p.Position, DeskID: scannerDeskID(cc.ID),
		Desk: scanner, Time: s.stamp(), Ballot: body, Digest: tally.BallotDigest(&body)}
	st, _, err := s.recordKeying(ctx, cc, k)
	if err != nil {
		return err
	}
	if st.Status == tally.PositionAccepted && st.Decision == nil {
		_, err = s.appendAccepted(ctx, cc, st)
	}
	return err
}

// grayJPEG encodes a page for the review: re-encoded from the pixels, so
// nothing of the file it came in (EXIF, a scanner's notes) is kept.
func grayJPEG(img *image.Gray) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: scanJPEGQuality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *Server) scanRecord(ctx context.Context, contest, image string) (scanPage, error) {
	var p scanPage
	data, err := s.store.Item(ctx, scansKind(contest), image)
	if err != nil {
		return p, err
	}
	return p, json.Unmarshal(data, &p)
}

// unsettled says a page waits for a person: doubtful or rejected, neither
// confirmed nor set aside, and no test-deck page.
func (p *scanPage) unsettled() bool {
	return p.TestPage == 0 && (p.Status != scan.StatusRead || p.Sample) && p.Settled == "" && p.Dismissed == ""
}

// postScanConfirm: POST /api/v1/contests/:id/scans/:image (counter)
// {"ballot": {§5.2 without id}} or {"dismiss": "reason"}: a person settles
// a doubtful or rejected page. The ballot is counted as the page's (single
// entry: appended under the page's id, for this desk; verified entry: the
// scanner desk's keying of the page's position); a dismissed page counts
// nothing. 201 with the page; the same settlement again → 200.
func (s *Server) postScanConfirm(c *fiber.Ctx) error {
	var req struct {
		Ballot  json.RawMessage `json:"ballot"`
		Dismiss string          `json:"dismiss"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	hasBallot := len(req.Ballot) > 0 && string(req.Ballot) != "null"
	if hasBallot == (req.Dismiss != "") {
		return errorf(tally.Invalid, "ballot", `send either the ballot as read by a person ({"ballot": {"struck": […]}}) or why the page is set aside ({"dismiss": "…"})`)
	}
	image := c.Params("image")
	if !isImageHash(image) {
		return errorf(tally.Invalid, "image", "must be a page's image hash (64 hex digits)")
	}
	ctx, cancel := storeCtx()
	defer cancel()
	cc, rec, err := s.scanContest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if cc.imported {
		return notImported()
	}
	if rec.State != tally.StateOpen {
		return notOpen(rec.State)
	}
	old, err := s.store.Item(ctx, scansKind(cc.ID), image)
	if err != nil {
		return err
	}
	var p scanPage
	if err := json.Unmarshal(old, &p); err != nil {
		return err
	}
	by := principalOf(c)
	var b tally.Ballot
	if hasBallot {
		b, err = tally.ParseBallotAs(req.Ballot, "scan", "the page names the ballot")
		if err != nil {
			return prefixField("ballot", err)
		}
		b.ID = ""
	} else if req.Dismiss, err = reasonText(req.Dismiss, "say why the page counts nothing"); err != nil {
		return errorf(tally.Invalid, "dismiss", "%s", strings.TrimPrefix(err.Error(), "reason: "))
	}
	switch {
	case p.TestPage > 0:
		return errorf(tally.Conflict, "image", "the page is page %d of the test deck: test pages never count", p.TestPage)
	case p.Sample && p.Rekey == nil && p.Settled == "" && hasBallot:
		return s.rekeySample(c, ctx, cc, old, p, b, by)
	case p.Sample && p.Reason == "sample_differs" && p.Settled == "" && p.RekeyDesk == by.ID:
		return refused(errorf(tally.Conflict, "image", "this desk re-keyed the page: another counter settles it, with both readings in view"), "refusal.scans.rekeyer")
	case p.Status == scan.StatusRead && !p.Sample:
		return errorf(tally.Conflict, "image", "the page was read by the machine and is counted as %s", p.BallotID)
	case p.Settled != "":
		same := p.Dismissed == req.Dismiss && (!hasBallot || p.Ballot != nil && sameReading(*p.Ballot, b))
		if !same {
			return errorf(tally.Conflict, "image", "the page was already settled by %s: it is not settled twice", p.By)
		}
		blindScanner(cc, rec, by, &p)
		return c.JSON(p) // a retry
	}
	if hasBallot {
		if cc.Entry.Verified() {
			if p.Stack == 0 || p.Position == 0 {
				return errorf(tally.Conflict, "image", "the page was uploaded without a stack: key the paper at a desk")
			}
			// The position must lie in its stack as declared now (a page
			// past it was rejected "beyond_stack" until the stack grew).
			if _, _, err := s.paperAt(ctx, cc.ID, p.Stack, p.Position, req.Ballot); err != nil {
				return err
			}
			// One person is one reading: a counter who keyed this paper at
			// a desk does not also give the scanner desk's.
			_, pos, err := s.readPosition(ctx, cc, p.Stack, p.Position)
			if err != nil {
				return err
			}
			for _, k := range pos.Keyings {
				if k.DeskID == by.ID {
					return refused(errorf(tally.Conflict, "image", "this desk keyed stack %d position %d itself: another counter confirms the scanned page, so that the two readings are two people's", p.Stack, p.Position), "refusal.scans.same_desk", p.Stack, p.Position)
				}
			}
		}
		// The count first, then the record: a crash between them leaves
		// the page unsettled, and the same confirmation again finds its
		// ballot counted (same id, same ballot) and settles it.
		if err := s.countScanned(ctx, cc, &p, b, by.Name+" (phiếu quét)", by.ID, scannerDeskName+" (xác nhận: "+by.Name+")"); err != nil {
			return err
		}
		p.Ballot, p.BallotID = &b, scanBallotID(cc, &p)
	} else {
		p.Dismissed = req.Dismiss
	}
	p.Settled, p.By = s.stamp(), by.Name
	data, _ := json.Marshal(p)
	swapped, err := s.store.SwapItem(ctx, scansKind(cc.ID), image, old, data)
	if err != nil {
		return err
	}
	if !swapped {
		return errorf(tally.Conflict, "image", "the page was settled by another desk at the same moment: reload it")
	}
	blindScanner(cc, rec, by, &p)
	return c.Status(fiber.StatusCreated).JSON(p)
}

// blindScanner hides what the machine read on a page it counted, in a
// verified round still being counted, from anyone but an admin: it is the
// scanner desk's keying, and a desk never sees another desk's entry of a
// paper it may still key (getStacks). A doubtful or rejected page keeps its
// reading: the person settling it is the scanner desk.
func blindScanner(cc *cachedContest, rec *tally.Record, by *principal, p *scanPage) {
	if cc.Entry.Verified() && rec.State == tally.StateOpen && by.Role != roleAdmin && p.Status == scan.StatusRead {
		p.Ballot, p.Reading, p.Doubtful = nil, nil, nil
	}
	// A page of the re-keying sample is keyed blind: its reading is shown
	// to no counter until it is re-keyed.
	if p.Sample && p.Rekey == nil && p.Settled == "" && by.Role != roleAdmin {
		p.Ballot, p.Reading, p.Doubtful = nil, nil, nil
	}
	if by.Role != roleAdmin {
		p.RekeyDesk = ""
	}
}

func isImageHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// scanStackView is a stack's reconciliation: the papers its upload
// declared against the pages received (test-deck pages aside).
type scanStackView struct {
	Stack    int  `json:"stack"`
	Declared int  `json:"declared,omitempty"`
	Received int  `json:"received"`
	Mismatch bool `json:"mismatch"`
}

// scanContest is a round's cached definition with its record as stored
// now (its state: the cache's may be older).
func (s *Server) scanContest(ctx context.Context, id string) (*cachedContest, *tally.Record, error) {
	cc, _, err := s.contest(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	rec, err := s.store.Contest(ctx, cc.ID)
	return cc, rec, err
}

// scanPages reads a round's page records, by stack, position and time.
func (s *Server) scanPages(ctx context.Context, contest string) ([]scanPage, error) {
	items, err := s.store.ListItems(ctx, scansKind(contest))
	if err != nil {
		return nil, err
	}
	out := make([]scanPage, 0, len(items))
	for _, v := range items {
		var p scanPage
		if err := json.Unmarshal(v, &p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b scanPage) int {
		return cmp.Or(cmp.Compare(a.Stack, b.Stack), cmp.Compare(a.Position, b.Position), strings.Compare(a.Time, b.Time), strings.Compare(a.Image, b.Image))
	})
	return out, nil
}

// getScans: GET /api/v1/contests/:id/scans (counter): the pages' records
// (never their images) and each stack's reconciliation.
func (s *Server) getScans(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	cc, rec, err := s.scanContest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	pages, err := s.scanPages(ctx, cc.ID)
	if err != nil {
		return err
	}
	items, err := s.store.ListItems(ctx, scanStacksKind(cc.ID))
	if err != nil {
		return err
	}
	stacks := map[int]*scanStackView{}
	for _, v := range items {
		var st scanStack
		if err := json.Unmarshal(v, &st); err != nil {
			return err
		}
		stacks[st.Stack] = &scanStackView{Stack: st.Stack, Declared: st.Declared}
	}
	unsettled := 0
	for i := range pages {
		p := &pages[i]
		blindScanner(cc, rec, principalOf(c), p)
		if p.unsettled() {
			unsettled++
		}
		if p.Stack == 0 || p.TestPage > 0 {
			continue
		}
		if stacks[p.Stack] == nil {
			stacks[p.Stack] = &scanStackView{Stack: p.Stack}
		}
		stacks[p.Stack].Received++
	}
	view := make([]scanStackView, 0, len(stacks))
	for _, st := range stacks {
		st.Mismatch = st.Declared > 0 && st.Declared != st.Received
		view = append(view, *st)
	}
	slices.SortFunc(view, func(a, b scanStackView) int { return cmp.Compare(a.Stack, b.Stack) })
	answer := fiber.Map{"pages": pages, "stacks": view, "unsettled": unsettled}
	if machineReadable(rec.Contest) {
		l, err := s.recordLayout(ctx, rec)
		if err != nil {
			return err
		}
		answer["deck"] = checkDeck(l, pages)
	}
	if !cc.Entry.Verified() {
		sm, _, err := s.scanSample(ctx, cc.ID)
		if err != nil {
			return err
		}
		answer["sample"] = sampleOf(sm, pages)
	}
	return c.JSON(answer)
}

// getScanImage: GET /api/v1/contests/:id/scans/:image/image (counter): a
// page's image for the review, never cached. Once the round is certified
// the images are the committee's custody: deleted, or sealed and given to
// an admin only as one archive (getScanArchive).
func (s *Server) getScanImage(c *fiber.Ctx) error {
	image := c.Params("image")
	if !isImageHash(image) {
		return errorf(tally.Invalid, "image", "must be a page's image hash (64 hex digits)")
	}
	ctx, cancel := storeCtx()
	defer cancel()
	rec, err := s.store.Contest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if rec.State == tally.StateCertified {
		return errorf(tally.Forbidden, "image", "the round is certified: its images were deleted or sealed with the papers (an admin downloads a sealed round's archive)")
	}
	data, err := s.store.Item(ctx, scanImagesKind(rec.Contest.ID), image)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, "image/jpeg")
	return c.Send(data)
}

// getScanArchive: GET /api/v1/contests/:id/scans/archive (admin): a sealed
// round's images as one zip (<hash>.jpg and scans.json, the records), for
// custody with the papers. Only once certified with "scan_images": "seal".
func (s *Server) getScanArchive(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	rec, err := s.store.Contest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	id := rec.Contest.ID
	custody, err := s.scanCustody(ctx, id)
	if err != nil {
		return err
	}
	if rec.State != tally.StateCertified || custody.Images != "seal" {
		return errorf(tally.Conflict, "scan_images", "the archive is of a round certified with its images sealed (\"scan_images\": \"seal\")")
	}
	pages, err := s.scanPages(ctx, id)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range pages {
		data, err := s.store.Item(ctx, scanImagesKind(id), p.Image)
		if tally.ErrorKind(err) == tally.NotFound {
			continue
		}
		if err != nil {
			return err
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: p.Image + ".jpg", Method: zip.Store})
		if err != nil {
			return err
		}
		w.Write(data)
	}
	w, err := zw.Create("scans.json")
	if err != nil {
		return err
	}
	json.NewEncoder(w).Encode(pages)
	if err := zw.Close(); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+id+`-scans.zip"`)
	return c.Send(buf.Bytes())
}

// scanSummary is what the control page says of a round's scans: the
// pages received (test pages aside) and the images' custody, once chosen.
func (s *Server) scanSummary(ctx context.Context, contest string) (pages int, custody string, err error) {
	list, err := s.scanPages(ctx, contest)
	if err != nil {
		return 0, "", err
	}
	for _, p := range list {
		if p.TestPage == 0 {
			pages++
		}
	}
	cu, err := s.scanCustody(ctx, contest)
	return pages, cu.Images, err
}

func (s *Server) scanCustody(ctx context.Context, contest string) (scanCustody, error) {
	var cu scanCustody
	data, err := s.store.Item(ctx, scanCustodyKind(contest), "images")
	switch {
	case tally.ErrorKind(err) == tally.NotFound:
		return cu, nil
	case err != nil:
		return cu, err
	}
	return cu, json.Unmarshal(data, &cu)
}

// checkScansClose refuses to close a round while a scanned page waits for
// a person: its paper would be out of the count.
func (s *Server) checkScansClose(ctx context.Context, contest string) error {
	pages, err := s.scanPages(ctx, contest)
	if err != nil {
		return err
	}
	n := 0
	for i := range pages {
		if pages[i].unsettled() {
			n++
		}
	}
	if n > 0 {
		return refused(errorf(tally.Conflict, "scans", "%d scanned page(s) wait for a counter: confirm, correct or set aside each doubtful or rejected page before closing", n), "refusal.scans.waiting", n)
	}
	return nil
}

// sealOrDelete applies the committee's choice for a certified round's
// images: "delete" removes them (their hashes stay in the log's ballot ids
// and in the records), "seal" keeps them for the admin's archive.
func (s *Server) sealOrDelete(ctx context.Context, contest, choice, by string) error {
	data, _ := json.Marshal(scanCustody{Images: choice, By: by, Time: s.stamp()})
	if err := s.store.PutItem(ctx, scanCustodyKind(contest), "images", data); err != nil {
		return err
	}
	if choice != "delete" {
		return nil
	}
	// By the records, not ListItems: that would read every image.
	pages, err := s.scanPages(ctx, contest)
	if err != nil {
		return err
	}
	for _, p := range pages {
		if err := s.store.DeleteItem(ctx, scanImagesKind(contest), p.Image); err != nil && tally.ErrorKind(err) != tally.NotFound {
			return err
		}
	}
	return nil
}
