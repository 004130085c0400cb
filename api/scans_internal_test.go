package api

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"slices"
	"testing"

	"github.com/kiemphieu/kiemphieu/scan"
	"github.com/kiemphieu/kiemphieu/web"
)

// TestLimitedBody: a body past its limit fails (a cut stack must not pass
// for a whole one); one exactly at it ends.
func TestLimitedBody(t *testing.T) {
	for _, tc := range []struct {
		size, limit int
		over        bool
	}{{10, 10, false}, {9, 10, false}, {11, 10, true}, {0, 0, false}, {1, 0, true}} {
		b := &limitedBody{r: bytes.NewReader(make([]byte, tc.size)), left: int64(tc.limit)}
		n, err := io.Copy(io.Discard, b)
		if over := errors.Is(err, errScanTooLarge); over != tc.over || !tc.over && (err != nil || n != int64(tc.size)) {
			t.Errorf("%d bytes, limit %d: read %d, %v; want over %v", tc.size, tc.limit, n, err, tc.over)
		}
	}
}

// TestCheckDeck: the test deck's check passes a page read as the deck
// drew it and names each difference otherwise; a page not received is
// neither passed nor failed; the latest scan of a page is the one checked.
func TestCheckDeck(t *testing.T) {
	p := scan.Paper{Meta: scan.Meta{Contest: "d1", Round: 1, Style: "strike"}, Heading: "PHIẾU BẦU CỬ", Title: "Bầu thử",
		List: []scan.Candidate{{ID: "c1", Name: "Nguyễn Văn An"}, {ID: "c2", Name: "Trần Thị Bình"}, {ID: "c3", Name: "Lê Văn Cường"}}}
	l, err := web.PaperLayout(p)
	if err != nil {
		t.Fatal(err)
	}
	deck := scan.TestDeck(l)
	// asDrawn is the record of a page read exactly as the deck expects.
	asDrawn := func(dp scan.DeckPage, at string) scanPage {
		sp := scanPage{TestPage: dp.Page, Status: dp.Expect.Status, Time: at, Doubtful: dp.Expect.Doubtful}
		for _, r := range l.Rows {
			sp.Reading = append(sp.Reading, scan.NameReading{Candidate: r.Candidate, Struck: slices.Contains(dp.Expect.Struck, r.Candidate)})
		}
		return sp
	}
	var pages []scanPage
	for _, dp := range deck[1:] {
		pages = append(pages, asDrawn(dp, "2026-12-02T10:00:00Z"))
	}
	// Page 2 scanned again later, read wrong: name 1 taken for kept and
	// the page for doubtful.
	wrong := asDrawn(deck[1], "2026-12-02T10:05:00Z")
	wrong.Status = scan.StatusDoubtful
	wrong.Reading[0].Struck = !wrong.Reading[0].Struck
	pages = append(pages, wrong)
	got := checkDeck(l, pages)
	if len(got) != len(deck) {
		t.Fatalf("%d checks for %d pages", len(got), len(deck))
	}
	if got[0].Received || got[0].Pass {
		t.Errorf("page 1 (not received) = %+v", got[0])
	}
	want := []deckProblem{{Code: "status", Got: "doubtful", Want: "read"}, {Code: "struck", Candidate: "c1", Got: struckWord(!slices.Contains(deck[1].Expect.Struck, "c1")), Want: struckWord(slices.Contains(deck[1].Expect.Struck, "c1"))}}
	if !got[1].Received || got[1].Pass || !reflect.DeepEqual(got[1].Problems, want) {
		t.Errorf("page 2 (read wrong) = %+v, want problems %+v", got[1], want)
	}
	for _, c := range got[2:] {
		if !c.Received || !c.Pass {
			t.Errorf("page %d (read as drawn) = %+v", c.Page, c)
		}
	}
}
