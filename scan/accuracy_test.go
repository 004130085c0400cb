package scan_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/kiemphieu/kiemphieu/internal/scansynth"
	"github.com/kiemphieu/kiemphieu/scan"
)

// TestScanAccuracy reads a seeded synthetic set made from the real
// ballot PDF (internal/scansynth: pdftoppm raster, varied pens, rotation,
// scale, blur, noise, JPEG 60–90, pages upside down, foreign and blank
// pages) and holds the recogniser to issue 14's bars: no wrong reading on
// a page read automatically; every mark a person must see sent to one;
// foreign and blank pages rejected; ≥ 95% of ordinary pages read
// automatically. KP_PROOF=full reads 300 pages a style, else 40.
func TestScanAccuracy(t *testing.T) {
	if !scansynth.HavePdftoppm() {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftoppm (poppler-utils) is needed: scripts/test installs it")
		}
		t.Skip("SKIPPED: pdftoppm (poppler-utils) is not installed")
	}
	pages := 40
	if os.Getenv("KP_PROOF") == "full" {
		pages = 300
	}
	th := scan.DefaultThresholds()
	for _, tc := range []struct {
		style string
		names int
	}{{"strike", 20}, {"strike", 55}, {"approve", 12}} {
		t.Run(fmt.Sprintf("%s-%d", tc.style, tc.names), func(t *testing.T) {
			round, foreign, err := scansynth.Layouts(tc.style, tc.names, 7)
			if err != nil {
				t.Fatal(err)
			}
			spec := scansynth.Spec{Layout: round, Foreign: foreign, DPI: 200, Seed: 2026}
			var auto, wrong, ordinary, ordinaryAuto, mustDoubt, missedDoubt, rejectWanted, rejected int
			for n := 1; n <= pages; n++ {
				p, err := spec.Generate(n)
				if err != nil {
					t.Fatal(err)
				}
				r := scan.Read(p.Image, round, th)
				tr := p.Truth
				if tr.Must == scan.StatusRejected {
					rejectWanted++
					if r.Status == scan.StatusRejected {
						rejected++
					} else {
						t.Errorf("page %d (%s): %s, want rejected", n, tr.Kind, r.Status)
					}
					continue
				}
				if tr.Ordinary {
					ordinary++
				}
				if r.Status == scan.StatusRejected {
					continue // keyed by hand: slow, never wrong
				}
				for i, nt := range tr.Names {
					got := r.Names[i]
					if nt.Doubt == scansynth.DoubtMust {
						mustDoubt++
						if !got.Doubtful {
							missedDoubt++
							t.Errorf("page %d row %d (%s, faint %v): not sent to a person (coverage %.2f, faint %.2f)", n, i+1, nt.Pen, nt.Faint, got.Coverage, got.Faint)
						}
					}
				}
				if tr.Must == scan.StatusDoubtful && r.Status == scan.StatusRead {
					t.Errorf("page %d: read automatically, but a person must see it (stray %v)", n, tr.Stray)
				}
				if r.Status != scan.StatusRead {
					continue
				}
				auto++
				if tr.Ordinary {
					ordinaryAuto++
				}
				for i, nt := range tr.Names {
					got := r.Names[i]
					if (tc.style == "strike" && got.Struck != nt.Struck) || (tc.style == "approve" && got.Mark != nt.Mark) {
						wrong++
						t.Errorf("page %d row %d (%s): read struck=%v mark=%q, truth struck=%v mark=%q", n, i+1, nt.Pen, got.Struck, got.Mark, nt.Struck, nt.Mark)
					}
				}
			}
			share := 0.0
			if ordinary > 0 {
				share = float64(ordinaryAuto) / float64(ordinary)
			}
			name := t.Name()
			t.Logf("PROOF %s pages = %d", name, pages)
			t.Logf("PROOF %s read_automatically = %d pages", name, auto)
			t.Logf("PROOF %s wrong_readings_on_automatic_pages = %d names", name, wrong)
			t.Logf("PROOF %s ordinary_read_automatically = %.3f share (%d of %d)", name, share, ordinaryAuto, ordinary)
			t.Logf("PROOF %s must_doubt_sent_to_a_person = %d of %d names", name, mustDoubt-missedDoubt, mustDoubt)
			t.Logf("PROOF %s foreign_or_blank_rejected = %d of %d pages", name, rejected, rejectWanted)
			if ordinary > 0 && share < 0.95 {
				t.Errorf("%.1f%% of ordinary pages read automatically (%d of %d), want ≥ 95%%", 100*share, ordinaryAuto, ordinary)
			}
		})
	}
}
