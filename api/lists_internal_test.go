package api

import (
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// opinionAdmits on a hand-built opinion round (phiếu xin ý kiến, 190 Điều
// 14.3; domain-rules Ex 10: 120 present, 37 agree = admitted, 36 = not):
// the engine's opinion count is another area's (issue 12, area D), so the
// rule is checked here on the statuses it gives.
func TestOpinionAdmits(t *testing.T) {
	rec := func(kind tally.ContestKind, congress string, state tally.State) *tally.Record {
		return &tally.Record{Contest: &tally.Contest{ID: "ykien", Kind: kind}, Congress: congress, State: state}
	}
	res := &tally.Result{Candidates: []tally.CandidateResult{
		{ID: "k", Name: "Nguyễn Văn K", Votes: 37, Status: tally.StatusAdmitted},
		{ID: "h", Name: "Lê Thị H", Votes: 36, Status: tally.StatusNotAdmitted},
	}}
	for _, tt := range []struct {
		name string
		rec  *tally.Record
		res  *tally.Result
		who  string
		ok   bool
	}{
		{"admitted (37 of 120)", rec(tally.KindOpinion, "cg", tally.StateClosed), res, "Nguyễn  Văn K", true},
		{"admitted, certified", rec(tally.KindOpinion, "cg", tally.StateCertified), res, "Nguyễn Văn K", true},
		{"not admitted (36 of 120)", rec(tally.KindOpinion, "cg", tally.StateClosed), res, "Lê Thị H", false},
		{"not a nominee there", rec(tally.KindOpinion, "cg", tally.StateClosed), res, "Võ Văn Em", false},
		{"still open", rec(tally.KindOpinion, "cg", tally.StateOpen), nil, "Nguyễn Văn K", false},
		{"another congress", rec(tally.KindOpinion, "other", tally.StateClosed), res, "Nguyễn Văn K", false},
		{"not an opinion ballot", rec(tally.KindCommittee, "cg", tally.StateClosed), res, "Nguyễn Văn K", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := opinionAdmits(tt.rec, tt.res, "cg", tt.who)
			if tt.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if p := tally.Problems(err); len(p) != 1 || p[0].Field != "opinion" || p[0].Kind != tally.Invalid {
				t.Errorf("error %v, want invalid on field opinion", err)
			}
		})
	}
}
