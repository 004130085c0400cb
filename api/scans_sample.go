package api

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/scan"
	"github.com/kiemphieu/kiemphieu/tally"
)

// The blind re-keying sample (single entry, issue 14): the committee may
// require that a share of the pages the machine read be keyed again by a
// person who does not see the machine's reading. A page drawn into the
// sample is held, not counted, until it is re-keyed: the same reading
// counts it; a different one makes it a doubtful page ("sample_differs")
// that another desk settles with both readings in view.
//
// The draw is one page in every Every() read automatically, at a place
// within each block drawn when the block starts (math/rand/v2's ChaCha8,
// seeded by the runtime): so at least Percent of every whole block is
// re-keyed, and an uploader cannot tell which pages will be.

// scanSampleKind holds the round's sample (key "sample": scanSample).
func scanSampleKind(contest string) string { return "scansample:" + contest }

type scanSample struct {
	Percent int    `json:"percent"` // 0: no sample
	By      string `json:"by,omitempty"`
	Time    string `json:"time,omitempty"`
	// Seen counts the pages read automatically since the sample was set;
	// Pick is the place (0 … Every-1) drawn in the current block.
	Seen int `json:"seen"`
	Pick int `json:"pick"`
}

// minSamplePercent is the least share a committee may require: less would
// not be a check worth its name (issue 14: "a random ≥ 5% sample").
const minSamplePercent = 5

// Every is the block one page is drawn from: 100/Percent pages, so that
// the share re-keyed is at least Percent.
func (s scanSample) Every() int { return 100 / s.Percent }

func (s *Server) scanSample(ctx context.Context, contest string) (scanSample, []byte, error) {
	var sm scanSample
	data, err := s.store.Item(ctx, scanSampleKind(contest), "sample")
	switch {
	case tally.ErrorKind(err) == tally.NotFound:
		return sm, nil, nil
	case err != nil:
		return sm, nil, err
	}
	return sm, data, json.Unmarshal(data, &sm)
}

// drawSample says whether the next page the machine read goes into the
// sample, and advances the draw.
func (s *Server) drawSample(ctx context.Context, contest string) (bool, error) {
	for range 20 {
		sm, old, err := s.scanSample(ctx, contest)
		if err != nil || sm.Percent == 0 {
			return false, err
		}
		k := sm.Every()
		i := sm.Seen % k
		if i == 0 {
			sm.Pick = rand.IntN(k)
		}
		sm.Seen++
		data, _ := json.Marshal(sm)
		swapped, err := s.store.SwapItem(ctx, scanSampleKind(contest), "sample", old, data)
		if err != nil {
			return false, err
		}
		if swapped {
			return i == sm.Pick, nil
		}
	}
	return false, errorf(tally.Unavailable, "sample", "the sample's draw is contended: send the page again")
}

// putScanSample: PUT /api/v1/contests/:id/scans/sample (admin)
// {"percent": N}: the committee's sample for the pages read from now on,
// N from 5 to 100, or 0 for none. Single entry only (verified entry has
// its own independent reading), before the round closes.
func (s *Server) putScanSample(c *fiber.Ctx) error {
	var req struct {
		Percent *int `json:"percent"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Percent == nil || *req.Percent != 0 && (*req.Percent < minSamplePercent || *req.Percent > 100) {
		return refused(errorf(tally.Invalid, "percent", "must be 0 (no sample) or a whole number from %d to 100", minSamplePercent), "refusal.scans.sample_percent", minSamplePercent)
	}
	ctx, cancel := storeCtx()
	defer cancel()
	rec, err := s.store.Contest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	switch {
	case rec.Contest.Entry.Verified():
		return errorf(tally.Conflict, "entry", "the round is keyed by verified entry: every paper already has an independent second reading")
	case rec.State != tally.StateDraft && rec.State != tally.StateOpen:
		return notOpen(rec.State)
	}
	sm := scanSample{Percent: *req.Percent, By: principalOf(c).Name, Time: s.stamp()}
	data, _ := json.Marshal(sm)
	if err := s.store.PutItem(ctx, scanSampleKind(rec.Contest.ID), "sample", data); err != nil {
		return err
	}
	return c.JSON(sm)
}

// sampleView is the sample as GET …/scans reports it.
type sampleView struct {
	Percent  int `json:"percent"`
	Drawn    int `json:"drawn"`    // pages drawn into the sample
	Rekeyed  int `json:"rekeyed"`  // of them, keyed again
	Agreed   int `json:"agreed"`   // keyed again as the machine read them
	Differed int `json:"differed"` // keyed again otherwise
}

func sampleOf(sm scanSample, pages []scanPage) sampleView {
	v := sampleView{Percent: sm.Percent}
	for _, p := range pages {
		if !p.Sample {
			continue
		}
		v.Drawn++
		if p.Rekey != nil {
			v.Rekeyed++
			if p.Reason == "sample_differs" {
				v.Differed++
			} else {
				v.Agreed++
			}
		}
	}
	return v
}

// rekeySample records a person's blind keying b of a sampled page: the
// machine's reading counts when the two agree (the page is settled, its
// ballot appended as read); otherwise the page becomes doubtful
// ("sample_differs") and waits, uncounted, for another desk.
func (s *Server) rekeySample(c *fiber.Ctx, ctx context.Context, cc *cachedContest, old []byte, p scanPage, b tally.Ballot, by *principal) error {
	p.Rekey, p.RekeyBy, p.RekeyDesk = &b, by.Name, by.ID
	if sameReading(*p.Ballot, b) {
		// The count first, then the record (as postScanConfirm).
		if err := s.countScanned(ctx, cc, &p, *p.Ballot, scannerDeskName+" (nhập lại mẫu: "+by.Name+")", by.ID, scannerDeskName); err != nil {
			return err
		}
		p.Settled, p.By, p.BallotID = s.stamp(), scannerDeskName, scanBallotID(cc, &p)
	} else {
		p.Status, p.Reason = scan.StatusDoubtful, "sample_differs"
	}
	data, _ := json.Marshal(p)
	swapped, err := s.store.SwapItem(ctx, scansKind(cc.ID), p.Image, old, data)
	if err != nil {
		return err
	}
	if !swapped {
		return errorf(tally.Conflict, "image", "the page was settled by another desk at the same moment: reload it")
	}
	p.RekeyDesk = "" // the desk's id is the committee's (blindScanner)
	return c.Status(fiber.StatusCreated).JSON(p)
}

// sameReading says whether two readings of a paper are the same ballot,
// whatever their ids and the order the struck names were typed in.
func sameReading(a, b tally.Ballot) bool {
	a.ID, b.ID = "", ""
	a.Struck, b.Struck = slices.Sorted(slices.Values(a.Struck)), slices.Sorted(slices.Values(b.Struck))
	return tally.BallotDigest(&a) == tally.BallotDigest(&b)
}
