package benchgen

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// TestPresets checks that every preset is a valid contest and that its
// JSONL lines decode to the Markings the generator draws with the same
// seed, so the fold and the recount benchmarks count the same ballots.
func TestPresets(t *testing.T) {
	for name, spec := range Presets {
		c, err := spec.Contest()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var buf bytes.Buffer
		const n = 3000
		if err := spec.WriteBallots(&buf, c, n); err != nil {
			t.Fatal(err)
		}
		lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
		if len(lines) != n {
			t.Fatalf("%s: %d lines, want %d", name, len(lines), n)
		}
		dec, g := tally.NewBallotDecoder(c), spec.NewGen(c)
		invalid := 0
		for i, line := range lines {
			_, got, err := dec.Decode(line)
			if err != nil {
				t.Fatalf("%s line %d: %v\n%s", name, i+1, err, line)
			}
			want := g.Marking()
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s line %d: decoded %+v, generated %+v", name, i+1, got, want)
			}
			if c.Classify(got) != tally.Valid {
				invalid++
			}
		}
		if invalid == 0 || invalid > n/20 {
			t.Errorf("%s: %d of %d ballots invalid, want a few", name, invalid, n)
		}
	}
}
