package api_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/kiemphieu/kiemphieu/scan"
)

// TestScanSample: in single entry the committee requires a blind
// re-keying sample. A page drawn into it is held uncounted, its reading
// shown to no counter; keyed again the same, it counts as read; keyed
// otherwise, it waits as doubtful for another desk. At 50% exactly one
// page of every two is drawn; the round does not close while a sampled
// page waits.
func TestScanSample(t *testing.T) {
	l := testPaper(t, "smp1")
	pages := make([][]byte, len(l.Rows))
	for i := range l.Rows {
		pages[i] = jpegOf(t, struckPaper(t, l, i, 1))
	}
	forEachScanStore(t, func(e *scanEnv) {
		t := e.t
		mustStatus(t, e.do("POST", "/api/v1/contests", contestDef("smp1"), asAdmin), http.StatusCreated)
		mustStatus(t, e.do("POST", "/api/v1/contests", verifiedDef("smp2", "double"), asAdmin), http.StatusCreated)
		sample := func(id string, percent any) *response {
			return e.do("PUT", "/api/v1/contests/"+id+"/scans/sample", map[string]any{"percent": percent}, asAdmin)
		}
		mustError(t, sample("smp1", 3), http.StatusBadRequest, "percent")
		mustError(t, sample("smp1", 101), http.StatusBadRequest, "percent")
		mustError(t, sample("smp2", 5), http.StatusConflict, "entry")
		a := bearer(e.token("counter", "Bàn 1"))
		b := bearer(e.token("counter", "Bàn 2"))
		mustStatus(t, e.do("PUT", "/api/v1/contests/smp1/scans/sample", map[string]any{"percent": 5}, a), http.StatusForbidden)
		mustStatus(t, sample("smp1", 100), http.StatusOK)
		mustStatus(t, e.do("POST", "/api/v1/contests/smp1/open", nil, asAdmin), http.StatusOK)

		// Every page drawn (100%): held, blind, not counted.
		p := e.uploadOK("smp1", a, filePart(pages[2])).Pages[0]
		if p.Status != string(scan.StatusRead) || !p.Sample || p.Ballot != nil || p.BallotID != "" || p.Settled != "" {
			t.Fatalf("sampled page = %+v, want read, in the sample, its reading hidden, not counted", p)
		}
		if ids := e.logIDs("smp1"); len(ids) != 0 {
			t.Fatalf("a sampled page is in the log before it is re-keyed: %v", ids)
		}
		mustError(t, e.do("POST", "/api/v1/contests/smp1/close", map[string]int{"issued": 9}, asAdmin), http.StatusConflict, "scans")
		// Keyed again the same (c3, row 3): counted as read.
		confirm := func(page scanPageJSON, auth opt, struck ...string) *response {
			return e.do("POST", "/api/v1/contests/smp1/scans/"+page.Image, map[string]any{"ballot": map[string]any{"struck": struck}}, auth)
		}
		r := confirm(p, a, "c3")
		mustStatus(t, r, http.StatusCreated)
		var got scanPageJSON
		decode(t, r, &got)
		if got.Settled == "" || got.BallotID != "scan-"+p.Image || got.RekeyBy != "Bàn 1" || got.Ballot == nil || len(got.Ballot.Struck) != 1 {
			t.Fatalf("re-keyed page = %+v, want settled as read", got)
		}
		if ids := e.logIDs("smp1"); len(ids) != 1 || ids[0] != "scan-"+p.Image {
			t.Fatalf("log = %v, want the re-keyed page", ids)
		}
		mustStatus(t, confirm(p, a, "c3"), http.StatusOK) // a retry

		// Keyed otherwise: doubtful, uncounted, for another desk.
		q := e.uploadOK("smp1", a, filePart(pages[1])).Pages[0]
		r = confirm(q, a, "c4")
		mustStatus(t, r, http.StatusCreated)
		got = scanPageJSON{}
		decode(t, r, &got)
		if got.Status != "doubtful" || got.Reason != "sample_differs" || got.Settled != "" || got.Ballot == nil || got.Ballot.Struck[0] != "c2" {
			t.Fatalf("re-keyed otherwise = %+v, want doubtful (sample_differs) showing the machine's c2", got)
		}
		if ids := e.logIDs("smp1"); len(ids) != 1 {
			t.Fatalf("log = %v: a disagreement was counted", ids)
		}
		mustError(t, confirm(q, a, "c4"), http.StatusConflict, "image")
		r = confirm(q, b, "c2")
		mustStatus(t, r, http.StatusCreated)
		if bytes.Contains(r.body, []byte("rekey_desk")) {
			t.Errorf("a counter is told the re-keying desk's id: %s", r.body)
		}
		if ids := e.logIDs("smp1"); len(ids) != 2 {
			t.Fatalf("log = %v, want the settled disagreement counted", ids)
		}

		// 50%: one page of every two.
		mustStatus(t, sample("smp1", 50), http.StatusOK)
		up := e.uploadOK("smp1", a, filePart(pages[0]), filePart(pages[3]))
		if drawn := btoi(up.Pages[0].Sample) + btoi(up.Pages[1].Sample); drawn != 1 {
			t.Errorf("at 50%%, %d of 2 pages drawn: %+v", drawn, up.Pages)
		}
		var list struct {
			Sample struct{ Percent, Drawn, Rekeyed, Agreed, Differed int } `json:"sample"`
		}
		decode(t, e.do("GET", "/api/v1/contests/smp1/scans", nil, a), &list)
		if s := list.Sample; s.Percent != 50 || s.Drawn != 3 || s.Rekeyed != 2 || s.Agreed != 1 || s.Differed != 1 {
			t.Errorf("sample = %+v, want 50%%: 3 drawn, 2 re-keyed, 1 agreed, 1 differed", s)
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
