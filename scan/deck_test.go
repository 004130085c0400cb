package scan_test

import (
	"testing"

	"github.com/kiemphieu/kiemphieu/scan"
)

func TestTestDeck(t *testing.T) {
	measure := func(s string, size float64, bold bool) float64 { return float64(len([]rune(s))) * size * 0.18 }
	list := []scan.Candidate{{ID: "a", Name: "Nguyễn Văn An"}, {ID: "b", Name: "Lê Thị Bình"}, {ID: "c", Name: "Trần Cường"}}
	for _, style := range []string{"strike", "approve"} {
		l, err := scan.NewLayout(scan.Paper{Meta: scan.Meta{Contest: "x", Round: 1, Style: style}, List: list}, measure)
		if err != nil {
			t.Fatal(err)
		}
		deck := scan.TestDeck(l)
		var doubtful int
		for i, p := range deck {
			if p.Page != i+1 || p.Title == "" {
				t.Errorf("%s page %d: number %d, title %q", style, i+1, p.Page, p.Title)
			}
			if p.Expect.Status == scan.StatusDoubtful {
				doubtful++
			}
			for _, st := range p.Strokes {
				for _, pt := range st.Points {
					if !l.Watched.Contains(pt[0], pt[1]) {
						t.Errorf("%s page %d (%s): stroke point %v outside the voting area", style, p.Page, p.Title, pt)
					}
				}
			}
			if style == "approve" && len(p.Expect.Marks) != len(list) {
				t.Errorf("approve page %d: marks for %d rows, want %d", p.Page, len(p.Expect.Marks), len(list))
			}
		}
		if doubtful == 0 || len(deck) < 6 {
			t.Errorf("%s deck: %d pages, %d doubtful", style, len(deck), doubtful)
		}
	}
}
