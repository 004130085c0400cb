package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// An introduction round's log export recounts offline as its ballots do
// (A, B and C named once each for 2 places: all three tied at the cut-off),
// and a named list altered in the log is found by its hash.
func TestRecountIntroductionLog(t *testing.T) {
	dir := t.TempDir()
	contestJSON, err := os.ReadFile(filepath.Join("..", "..", "examples", "ex12b-introduction-tie-at-cutoff", "contest.json"))
	if err != nil {
		t.Fatal(err)
	}
	contest := writeFile(t, dir, "contest.json", string(contestJSON))
	ballots := []tally.Ballot{
		{ID: "b1", Named: []string{"A", "B"}}, {ID: "b2", Named: []string{"C"}},
		{ID: "b3", Named: []string{}}, {ID: "b4", Named: []string{"A", "B", "C"}},
	}
	var log []tally.Entry
	var kept, export strings.Builder
	for i := range ballots {
		seq, prev := int64(0), tally.GenesisHash
		if n := len(log); n > 0 {
			seq, prev = log[n-1].Seq, log[n-1].Hash
		}
		e := tally.Entry{Ballot: &ballots[i], Desk: "Bàn 1", Time: "2026-11-21T09:00:00Z"}
		e.Link(seq, prev)
		log = append(log, e)
		line, _ := ballots[i].MarshalJSON()
		kept.Write(append(line, '\n'))
		entry, _ := e.MarshalJSON()
		export.Write(append(entry, '\n'))
	}
	code, fromLog, errOut := runCLI(t, "recount", contest, writeFile(t, dir, "log.jsonl", export.String()))
	if code != exitOK {
		t.Fatalf("log: exit %d: %s", code, errOut)
	}
	_, fromBallots, _ := runCLI(t, "recount", contest, writeFile(t, dir, "ballots.jsonl", kept.String()))
	if fromLog != fromBallots {
		t.Fatalf("the log's recount differs from its ballots':\n%s\n%s", fromLog, fromBallots)
	}
	for _, want := range []string{`"elected":[]`, `"tied":["A","B","C"]`, `"revote_seats":2`, `"no_vote":1`, `"over_vote":1`} {
		if !strings.Contains(strings.Join(strings.Fields(fromLog), ""), want) {
			t.Errorf("recount lacks %s:\n%s", want, fromLog)
		}
	}
	tampered := strings.Replace(export.String(), `"named":["C"]`, `"named":["D"]`, 1)
	code, _, errOut = runCLI(t, "recount", contest, writeFile(t, dir, "tampered.jsonl", tampered))
	if code != exitBadUsage || !strings.Contains(errOut, "tampered.jsonl:2: hash: entry 2 has been altered") {
		t.Fatalf("tampered log: exit %d: %s", code, errOut)
	}
}
