package scan

import (
	"errors"
	"strings"
	"testing"
)

// fixedMeasure is a stand-in font: every rune 2.2 mm at 12 pt.
func fixedMeasure(text string, size float64, _ bool) float64 {
	return float64(len([]rune(text))) * 2.2 * size / 12
}

func list(n int) []Candidate {
	out := make([]Candidate, n)
	for i := range out {
		out[i] = Candidate{ID: "c" + strings.Repeat("x", i%3) + string(rune('a'+i%26)), Name: "Nguyễn Thị Thu Hương"}
	}
	return out
}

func TestMetaRoundTrip(t *testing.T) {
	m := Meta{Congress: "dh-2025", Contest: "bch.r1", Round: 2, Style: "strike", Layout: LayoutVersion, Digest: "0123456789abcdef", TestPage: 3}
	got, err := ParseMeta(m.Encode())
	if err != nil || got != m {
		t.Fatalf("ParseMeta(Encode) = %+v, %v; want %+v", got, err, m)
	}
	for _, bad := range []string{"", "hello", "KP1|a|b", "KP2|a|b|1|strike|1|d|0", "KP1|a||1|strike|1|d|0", "KP1|a|b|0|strike|1|d|0", "KP1|a|b|x|strike|1|d|0", "KP1|a|b|1|strike|1|d|-1"} {
		if _, err := ParseMeta(bad); err == nil {
			t.Errorf("ParseMeta(%q) accepted", bad)
		}
	}
}

func TestListDigestNamesTheList(t *testing.T) {
	a := ListDigest("c", 1, "strike", list(5))
	for name, d := range map[string]string{
		"round":   ListDigest("c", 2, "strike", list(5)),
		"order":   ListDigest("c", 1, "strike", append(list(5)[1:], list(5)[0])),
		"names":   ListDigest("c", 1, "strike", list(6)),
		"style":   ListDigest("c", 1, "approve", list(5)),
		"contest": ListDigest("d", 1, "strike", list(5)),
	} {
		if d == a {
			t.Errorf("another %s gives the same digest %s", name, a)
		}
	}
}

func TestNewLayoutGeometry(t *testing.T) {
	for _, tc := range []struct {
		style   string
		n, cols int
	}{{"strike", 7, 1}, {"strike", StrikeColumn, 1}, {"strike", StrikeColumn + 1, 2}, {"strike", StrikeMax, 2}, {"approve", 3, 1}, {"approve", ApproveMax, 1}} {
		l, err := NewLayout(Paper{Meta: Meta{Contest: "c", Round: 1, Style: tc.style}, Heading: "PHIẾU BẦU CỬ", List: list(tc.n)}, fixedMeasure)
		if err != nil {
			t.Fatalf("%s %d: %v", tc.style, tc.n, err)
		}
		if len(l.Rows) != tc.n || l.Columns != tc.cols {
			t.Fatalf("%s %d: %d rows in %d columns", tc.style, tc.n, len(l.Rows), l.Columns)
		}
		if l.Meta.Layout != LayoutVersion || len(l.Meta.Digest) != 16 {
			t.Errorf("meta %+v", l.Meta)
		}
		for i, r := range l.Rows {
			// Every row inside the voting area, no two bands overlapping.
			if !inside(r.Band, l.Watched) {
				t.Errorf("%s %d: row %d band %+v outside the watched area %+v", tc.style, tc.n, i, r.Band, l.Watched)
			}
			for j := range i {
				if overlap(r.Band, l.Rows[j].Band) {
					t.Errorf("rows %d and %d overlap", j, i)
				}
			}
			if tc.style == "strike" {
				if len(r.Clear) != len(r.Words)+1 {
					t.Errorf("row %d: %d clear zones for %d words", i, len(r.Clear), len(r.Words))
				}
				for _, c := range r.Clear {
					if !inside(c, r.Band) || c.W <= 0 {
						t.Errorf("row %d: clear zone %+v outside its band", i, c)
					}
					for _, w := range r.Words {
						if overlap(c, w) {
							t.Errorf("row %d: clear zone %+v on a word %+v", i, c, w)
						}
					}
				}
			} else if r.Agree.W < 6-2*(boxStroke+clearTol) || !inside(r.Agree, r.Band) || !inside(r.Disagree, r.Band) || overlap(r.Agree, r.Disagree) {
				t.Errorf("row %d: boxes %+v %+v", i, r.Agree, r.Disagree)
			}
		}
		for _, m := range l.Marks {
			if overlap(m.Rect, l.Watched) || overlap(m.Rect, l.QR) {
				t.Errorf("corner mark %+v in the voting area or the QR code", m.Rect)
			}
		}
		if overlap(l.QR, l.Watched) || overlap(l.Stamp, l.Watched) {
			t.Errorf("QR %+v or stamp %+v in the voting area %+v", l.QR, l.Stamp, l.Watched)
		}
	}
}

func TestNewLayoutRefuses(t *testing.T) {
	for name, p := range map[string]Paper{
		"name style":   {Meta: Meta{Contest: "c", Round: 1, Style: "name"}, List: list(3)},
		"empty list":   {Meta: Meta{Contest: "c", Round: 1, Style: "strike"}},
		"too many":     {Meta: Meta{Contest: "c", Round: 1, Style: "strike"}, List: list(StrikeMax + 1)},
		"too many yes": {Meta: Meta{Contest: "c", Round: 1, Style: "approve"}, List: list(ApproveMax + 1)},
	} {
		_, err := NewLayout(p, fixedMeasure)
		if err == nil {
			t.Errorf("%s: laid out", name)
		}
		if strings.HasPrefix(name, "too many") && !errors.Is(err, ErrTooMany) {
			t.Errorf("%s: %v, want ErrTooMany", name, err)
		}
	}
}

func inside(a, b Rect) bool {
	return a.X >= b.X && a.Y >= b.Y && a.Right() <= b.Right()+1e-9 && a.Bottom() <= b.Bottom()+1e-9
}

func overlap(a, b Rect) bool {
	return a.X < b.Right() && b.X < a.Right() && a.Y < b.Bottom() && b.Y < a.Bottom()
}
