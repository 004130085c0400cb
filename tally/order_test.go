package tally_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// domain-rules §3.3: ballot order is by given name (tên), then family name
// (họ), then middle names (tên đệm), with Vietnamese collation: Đ after D,
// Ô before Ơ, tone marks only a secondary key.
func TestSortBallotOrder(t *testing.T) {
	tests := []struct {
		name string
		want []string // names in ballot order
	}{
		{"the brief's list", []string{
			"Nguyễn Văn An",
			"Lê Đức Anh",   // "Anh" after its prefix "An"
			"Trần Thị Ánh", // the same letters with a tone: after the toneless
			"Đỗ Văn Bình",
			"Phạm Thị Dung", // D …
			"Hoàng Văn Đức", // … then Đ
			"Bùi Ôn",        // Ô …
			"Ngô Ơn",        // … then Ơ
		}},
		{"letters of the Vietnamese alphabet", []string{
			"X Anh", "X Ăn", "X Ân", "X Bình", "X Cúc", "X Dung", "X Đào", "X Em", "X Êm",
			"X Giang", "X Hà", "X Inh", "X Khoa", "X Lan", "X Minh", "X Nga", "X Oanh", "X Ông", "X Ơn",
			"X Phúc", "X Quang", "X Sơn", "X Tâm", "X Uyên", "X Ưng", "X Vinh", "X Xuân", "X Yến",
		}},
		{"tones are secondary to the letters", []string{
			"X Án", "X Anh", // á before the longer "anh": letters first
			"X Ha", "X Hà", "X Hải", // "hai" is longer than "ha"
			"X Hàm", "X Han",
		}},
		{"tones in the traditional order", []string{"X Ba", "X Bà", "X Bả", "X Bã", "X Bá", "X Bạ"}},
		{"given name, then family name", []string{"Lê Văn An", "Nguyễn Văn An", "Trần Văn An", "Đặng Văn Bảo"}},
		{"given and family names, then middle names", []string{"Nguyễn An", "Nguyễn Thị An", "Nguyễn Văn An", "Nguyễn Văn Anh"}},
		{"family name Đ after D", []string{"Dương Văn Hùng", "Đinh Văn Hùng", "Đỗ Văn Hùng", "Hà Văn Hùng"}},
		{"several middle names", []string{"Tôn Nữ Thị An", "Tôn Thất An", "Tôn Thất Bảo An"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cands := make([]tally.Candidate, len(tt.want))
			for i, n := range tt.want {
				cands[i] = cand(fmt.Sprintf("c%02d", i), n)
			}
			rng := rand.New(rand.NewPCG(7, uint64(len(tt.want))))
			for range 50 {
				rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
				tally.SortBallotOrder(cands)
				var got []string
				for _, c := range cands {
					got = append(got, c.Name)
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("ballot order:\n got %q\nwant %q", got, tt.want)
				}
			}
		})
	}
}

// Namesakes are ordered elder first, unknown birth dates last, then by id:
// the order is total and never depends on the order names were typed in.
func TestSortBallotOrderNamesakes(t *testing.T) {
	want := []tally.Candidate{
		{ID: "z", Name: "Nguyễn Văn An", BirthDate: "1960-01-01"},
		{ID: "b", Name: "Nguyễn Văn An", BirthDate: "1970-05-05"},
		{ID: "c", Name: "Nguyễn Văn An", BirthDate: "1970-05-06"},
		{ID: "a", Name: "Nguyễn Văn An"},
		{ID: "d", Name: "Nguyễn Văn An"},
	}
	cands := slices.Clone(want)
	rng := rand.New(rand.NewPCG(11, 12))
	for range 100 {
		rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
		tally.SortBallotOrder(cands)
		if got := idsOf(cands); !slices.Equal(got, idsOf(want)) {
			t.Fatalf("order = %v, want %v", got, idsOf(want))
		}
	}
}

// ParseContest puts the candidates into ballot order whatever the order of
// the file.
func TestParseContestBallotOrder(t *testing.T) {
	want := []string{"c1", "c2", "c3", "c4", "c5", "c6"} // An, Bình, Cường, Dung, Đức, Hạnh
	m := contestMap(t)
	cs := m["candidates"].([]any)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 30 {
		rng.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
		c := mustParseContestMap(t, m)
		if got := idsOf(c.Candidates); !slices.Equal(got, want) {
			t.Fatalf("ballot order = %v, want %v", got, want)
		}
	}
}

func TestNameParts(t *testing.T) {
	tests := []struct{ name, family, middle, given string }{
		{"Nguyễn Văn An", "Nguyễn", "Văn", "An"},
		{"Ngô Ơn", "Ngô", "", "Ơn"},
		{"Tôn Nữ Thị Bảo An", "Tôn", "Nữ Thị Bảo", "An"},
		{"An", "", "", "An"},
		{"  Lê   Văn  Tám ", "Lê", "Văn", "Tám"},
		{"", "", "", ""},
	}
	for _, tt := range tests {
		f, m, g := tally.NameParts(tt.name)
		if got, want := [3]string{f, m, g}, [3]string{tt.family, tt.middle, tt.given}; got != want {
			t.Errorf("NameParts(%q) = %q, want %q", tt.name, got, want)
		}
	}
}
