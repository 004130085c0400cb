// Package benchgen generates the large, deterministic contests and ballots
// the benchmarks run on (docs/benchmarks.md): a national congress (1,600
// ballots × 250 candidates, 200 seats) and a million strike ballots × 60
// candidates. It is for benchmarks only; the worked examples in examples/
// have their own generator.
//
// Ballots are random but realistic: a valid strike ballot strikes between
// MinStruck and MaxStruck names, chosen with per-candidate weights so that
// some candidates are struck far more often than others; a few ballots are
// over-votes (too few struck, some untouched), fewer strike every name, and
// fewer still are ruled invalid on sight by the committee.
package benchgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Spec describes a contest and how its ballots are drawn.
type Spec struct {
	Name       string
	Candidates int
	Seats      int
	Kind       tally.ContestKind
	Style      tally.BallotStyle
	Convened   int // delegates convened: the denominator
	// Valid strike ballots strike between MinStruck and MaxStruck names
	// (inclusive); MinStruck must be at least Candidates − Seats.
	MinStruck, MaxStruck int
	// Per-ballot probabilities of the invalid kinds.
	OverVote, NoVote, OnSight float64
	Seed                      uint64
}

// Presets used by the benchmarks and by cmd/benchgen.
var (
	// National: a national congress electing a 200-seat central committee
	// from 250 names; 1,600 delegates.
	National = Spec{Name: "national", Candidates: 250, Seats: 200, Kind: tally.KindCommittee,
		Style: tally.StyleStrike, Convened: 1600, MinStruck: 50, MaxStruck: 65,
		OverVote: 0.01, NoVote: 0.001, OnSight: 0.002, Seed: 2026}
	// Million: 45 seats from 60 names on a million strike ballots, the
	// recount the performance goal is set for (most ballots strike 15–25).
	Million = Spec{Name: "million", Candidates: 60, Seats: 45, Kind: tally.KindDelegates,
		Style: tally.StyleStrike, Convened: 1_020_000, MinStruck: 15, MaxStruck: 25,
		OverVote: 0.01, NoVote: 0.001, OnSight: 0.002, Seed: 2025}
	// Approve: 9 seats, 9 names, approve ballots, for the decoder's other
	// shape.
	Approve = Spec{Name: "approve", Candidates: 9, Seats: 9, Kind: tally.KindInspectionCommittee,
		Style: tally.StyleApprove, Convened: 1_020_000,
		OverVote: 0, NoVote: 0, OnSight: 0.002, Seed: 2024}
)

// Presets lists the presets by name.
var Presets = map[string]Spec{National.Name: National, Million.Name: Million, Approve.Name: Approve}

var (
	families = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"}
	middles  = []string{"Văn", "Thị", "Minh", "Quốc", "Thanh", "Đức", "Hữu", "Ngọc"}
	givens   = []string{"An", "Bình", "Cường", "Dũng", "Đạt", "Giang", "Hà", "Hải", "Hòa", "Hùng", "Khánh", "Lan", "Long", "Mai", "Nam", "Phong", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Thắng", "Trung", "Tuấn", "Vân", "Việt", "Xuân", "Yến"}
)

// ContestJSON is the contest definition, as a contest.json file holds it.
func (s Spec) ContestJSON() []byte {
	type cand struct {
		ID             string `json:"id"`
		Name           string `json:"name"`
		Gender         string `json:"gender"`
		BirthDate      string `json:"birth_date"`
		EthnicMinority bool   `json:"ethnic_minority"`
		Incumbent      bool   `json:"incumbent"`
	}
	r := rand.New(rand.NewPCG(s.Seed, 1))
	width := len(strconv.Itoa(s.Candidates))
	cands := make([]cand, s.Candidates)
	for i := range cands {
		gender := "male"
		if r.IntN(3) == 0 {
			gender = "female"
		}
		cands[i] = cand{
			ID:             fmt.Sprintf("c%0*d", width, i+1),
			Name:           families[i%len(families)] + " " + middles[(i/len(families))%len(middles)] + " " + givens[(i*5+i/len(givens))%len(givens)],
			Gender:         gender,
			BirthDate:      fmt.Sprintf("%d-%02d-%02d", 1960+r.IntN(30), 1+r.IntN(12), 1+r.IntN(28)),
			EthnicMinority: r.IntN(10) == 0,
			Incumbent:      r.IntN(2) == 0,
		}
	}
	congress := "delegates"
	c := map[string]any{
		"id": "bench-" + s.Name, "title": "Benchmark " + s.Name, "kind": s.Kind, "round": 1,
		"seats": s.Seats, "ballot": s.Style,
		"electorate":  map[string]any{"congress": congress, "convened": s.Convened},
		"composition": map[string]any{"reference_date": "2025-10-01", "young_under": 40, "age_bands": []int{40, 50}},
		"candidates":  cands,
	}
	out, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(out, '\n')
}

// Contest parses ContestJSON.
func (s Spec) Contest() (*tally.Contest, error) {
	return tally.ParseContest(s.ContestJSON())
}

// Gen draws the ballots of a contest, one at a time, deterministically.
type Gen struct {
	spec    Spec
	c       *tally.Contest
	r       *rand.Rand
	weights []float64 // cumulative strike weights, ballot order
	agree   []float64 // approve: the chance of an agree row, per candidate
	n       int       // ballots drawn so far
	picked  []bool
	// The ballot last drawn.
	ruling tally.Reason
	struck []int
	marks  []tally.Mark
}

// NewGen returns a generator for c, which must be s.Contest().
func (s Spec) NewGen(c *tally.Contest) *Gen {
	n := len(c.Candidates)
	g := &Gen{spec: s, c: c, r: rand.New(rand.NewPCG(s.Seed, 2)), weights: make([]float64, n),
		agree: make([]float64, n), picked: make([]bool, n), marks: make([]tally.Mark, n)}
	sum := 0.0
	for i := range g.weights {
		sum += 0.2 + 1.8*g.r.Float64() // some names are struck nine times as often as others
		g.weights[i] = sum
		g.agree[i] = 0.4 + 0.55*g.r.Float64()
	}
	return g
}

// pick draws a candidate by weight.
func (g *Gen) pick() int {
	x := g.r.Float64() * g.weights[len(g.weights)-1]
	lo, hi := 0, len(g.weights)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if g.weights[mid] < x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// next draws the next ballot into g.ruling, g.struck and g.marks.
func (g *Gen) next() {
	g.n++
	s, n := g.spec, len(g.c.Candidates)
	g.ruling, g.struck = tally.Valid, g.struck[:0]
	u := g.r.Float64()
	if u < s.OnSight {
		g.ruling = []tally.Reason{tally.ReasonWriteIn, tally.ReasonIdentifyingMark, tally.ReasonNotIssued, tally.ReasonOther}[g.r.IntN(4)]
		return
	}
	u -= s.OnSight
	if s.Style == tally.StyleApprove {
		for i := range g.marks {
			switch v := g.r.Float64(); {
			case v < 0.02:
				g.marks[i] = tally.MarkNone
			case v < 0.03:
				g.marks[i] = tally.MarkBoth
			case v < 0.03+g.agree[i]:
				g.marks[i] = tally.MarkAgree
			default:
				g.marks[i] = tally.MarkDisagree
			}
		}
		return
	}
	var k int
	switch {
	case u < s.NoVote:
		k = n
	case u < s.NoVote+s.OverVote:
		k = g.r.IntN(n - s.Seats) // 0 (untouched) up to one too few
	default:
		k = s.MinStruck + g.r.IntN(s.MaxStruck-s.MinStruck+1)
	}
	clear(g.picked)
	for len(g.struck) < k {
		j := g.pick()
		if k > n/2 {
			j = g.r.IntN(n) // many names: uniform is quicker to fill
		}
		if !g.picked[j] {
			g.picked[j] = true
			g.struck = append(g.struck, j)
		}
	}
}

// Marking draws the next ballot as a Marking with its own slices, as
// Contest.Mark would resolve it.
func (g *Gen) Marking() tally.Marking {
	g.next()
	switch {
	case g.ruling != tally.Valid:
		return tally.Marking{Ruling: g.ruling}
	case g.spec.Style == tally.StyleApprove:
		return tally.Marking{Marks: append([]tally.Mark(nil), g.marks...)}
	}
	m := tally.Marking{Struck: make([]uint16, len(g.struck))}
	for i, j := range g.struck {
		m.Struck[i] = uint16(j)
	}
	return m
}

// AppendLine draws the next ballot and appends it to dst as one compact
// JSONL line, newline included, with id b-0000001, b-0000002, …
func (g *Gen) AppendLine(dst []byte) []byte {
	g.next()
	dst = append(dst, `{"id":"b-`...)
	dst = appendPadded(dst, g.n, 7)
	dst = append(dst, '"')
	switch {
	case g.ruling != tally.Valid:
		dst = append(dst, `,"invalid":"`...)
		dst = append(dst, g.ruling.String()...)
		dst = append(dst, '"')
		if g.ruling == tally.ReasonOther {
			dst = append(dst, `,"note":"Phiếu bị rách đôi"`...)
		}
	case g.spec.Style == tally.StyleApprove:
		dst = append(dst, `,"marks":{`...)
		first := true
		for i, mk := range g.marks {
			if mk == tally.MarkNone && i%2 == 0 {
				continue // a missing candidate is "none"; sometimes it is written
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, '"')
			dst = append(dst, g.c.Candidates[i].ID...)
			dst = append(dst, `":"`...)
			dst = append(dst, mk.String()...)
			dst = append(dst, '"')
		}
		dst = append(dst, '}')
	default:
		dst = append(dst, `,"struck":[`...)
		for i, j := range g.struck {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = append(dst, g.c.Candidates[j].ID...)
			dst = append(dst, '"')
		}
		dst = append(dst, ']')
	}
	return append(dst, "}\n"...)
}

func appendPadded(dst []byte, n, width int) []byte {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// WriteBallots writes n ballots of the contest as JSONL.
func (s Spec) WriteBallots(w io.Writer, c *tally.Contest, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	g := s.NewGen(c)
	var line []byte
	for range n {
		line = g.AppendLine(line[:0])
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteLog writes a log export of n ballot entries of the contest (the
// ballots of WriteBallots, desk "Bàn kiểm phiếu 1", all at time t), linked
// from the genesis, as JSONL: what `kiemphieu recount CONTEST LOG` reads.
func (s Spec) WriteLog(w io.Writer, c *tally.Contest, n int, t string) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	g := s.NewGen(c)
	seq, head := int64(0), tally.GenesisHash
	var line []byte
	for i := range n {
		line = g.AppendLine(line[:0])
		b, err := tally.ParseBallot(line)
		if err != nil {
			return fmt.Errorf("ballot %d: %w", i+1, err)
		}
		e := tally.Entry{Ballot: &b, Desk: "Bàn kiểm phiếu 1", Time: t}
		e.Link(seq, head)
		seq, head = e.Seq, e.Hash
		out, _ := e.MarshalJSON()
		bw.Write(out)
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	}
	return bw.Flush()
}
