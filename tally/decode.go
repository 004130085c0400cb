package tally

// BallotDecoder decodes the ballots of one contest (JSONL lines, DESIGN
// §5.2) straight into Markings, for recounts that read millions of them.
type BallotDecoder struct {
	contest *Contest
	index   map[string]int
}

// NewBallotDecoder returns a decoder for ballots of a validated contest.
func NewBallotDecoder(c *Contest) *BallotDecoder {
	return &BallotDecoder{contest: c, index: c.Index()}
}

// Decode decodes and resolves one ballot. It accepts and refuses exactly
// what ParseBallot followed by Contest.Mark does. The Marking's slices are
// only valid until the next call.
func (d *BallotDecoder) Decode(line []byte) (id string, m Marking, err error) {
	b, err := ParseBallot(line)
	if err != nil {
		return "", Marking{}, err
	}
	m, err = d.contest.Mark(b, d.index)
	return b.ID, m, err
}
