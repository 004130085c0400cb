package web

import (
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// The roll-up page builds message keys from kinds and outcomes: each needs
// its text in both languages, and the Vietnamese one is tally's wording.
func TestRollupMessagesDefined(t *testing.T) {
	for _, k := range []tally.ContestKind{tally.KindCommittee, tally.KindStandingCommittee, tally.KindSecretary,
		tally.KindDeputySecretary, tally.KindInspectionCommittee, tally.KindInspectionChair, tally.KindInspectionViceChair, tally.KindDelegates,
		tally.KindAlternates, tally.KindOther} {
		m, ok := messages["rollup.kind."+string(k)]
		if !ok || m[0] != k.Vietnamese() {
			t.Errorf("rollup.kind.%s = %q, want Vietnamese %q", k, m, k.Vietnamese())
		}
	}
	for _, o := range []tally.ElectionOutcome{tally.OutcomeFilledFirstRound, tally.OutcomeFilledLaterRound,
		tally.OutcomeFellShort, tally.OutcomePending, tally.OutcomeAppointed} {
		if _, ok := messages["rollup.outcome."+string(o)]; !ok {
			t.Errorf("rollup.outcome.%s is not defined", o)
		}
	}
}

// A roll-up with nothing certified yet still prints, the same bytes twice,
// without the clock.
func TestRollupPDFWithoutCertifiedRounds(t *testing.T) {
	r, err := tally.ComputeRollup(tally.RollupInput{Organization: "Đảng bộ Phường 4",
		Congresses: []*tally.CongressRecord{{ID: "a", Organization: "Đảng bộ Phường 4", Name: "Đại hội"}}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := RollupPDF(BuildRollupReport(r))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := RollupPDF(BuildRollupReport(r))
	if string(a) != string(b) || len(a) == 0 {
		t.Error("two renderings of one roll-up differ")
	}
}
