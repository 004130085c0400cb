package tally_test

import (
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

func TestVerifyExport(t *testing.T) {
	c := logContest(t)
	log := sampleLog(t)
	count, err := tally.Replay(c, log)
	if err != nil {
		t.Fatal(err)
	}
	res := count.Result()
	version := int64(len(log))
	res.Version = &version
	head := log[len(log)-1].Hash
	closed := &tally.Record{Contest: c, State: tally.StateClosed, Head: head, Version: version}

	got, recounted, err := tally.VerifyExport(closed, log, res)
	if err != nil || got != head || recounted.Ballots.Total != res.Ballots.Total {
		t.Fatalf("a sound export: head %s, err %v", got, err)
	}
	open := &tally.Record{Contest: c, State: tally.StateOpen}
	if _, _, err := tally.VerifyExport(open, log, res); err != nil {
		t.Fatalf("an open round's export: %v", err)
	}

	tests := []struct {
		name, field string
		rec         *tally.Record
		entries     []tally.Entry
		res         *tally.Result
	}{
		{"no record", "record", nil, log, res},
		{"an entry altered", "log[0].hash", closed, func() []tally.Entry {
			l := sampleLog(t)
			l[0].Ballot = &tally.Ballot{ID: "b1", Struck: []string{"b"}}
			return l
		}(), res},
		{"entries cut off after close", "record.head", closed, log[:len(log)-1], res},
		{"another result", "result", closed, log, func() *tally.Result {
			r := *res
			r.Elected = []string{"a"}
			return &r
		}()},
		{"no result", "result", closed, log, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tally.VerifyExport(tt.rec, tt.entries, tt.res)
			if err == nil {
				t.Fatal("accepted")
			}
			if got := tally.Problems(err)[0].Field; got != tt.field {
				t.Errorf("field %q, want %q (%v)", got, tt.field, err)
			}
		})
	}
	if _, _, err := tally.VerifyExport(&tally.Record{Contest: &tally.Contest{ID: "x"}}, log, res); err == nil || !strings.Contains(err.Error(), "title") {
		t.Errorf("an invalid contest in the record: %v", err)
	}
}

// CheckStoreRules refuses what no store writes, though the chain and the
// recount verify: an export relinked around such an entry would stop an
// import part-way (finding 16), so it is refused before anything is stored.
func TestCheckStoreRules(t *testing.T) {
	c := logContest(t)
	if err := tally.CheckStoreRules(c, sampleLog(t)); err != nil {
		t.Fatalf("a store's own log: %v", err)
	}
	relinked := func(edit func([]tally.Entry) []tally.Entry) []tally.Entry {
		var out []tally.Entry
		for _, e := range edit(sampleLog(t)) {
			out = appendEntry(out, e)
		}
		return out
	}
	tests := []struct {
		name, field string
		edit        func([]tally.Entry) []tally.Entry
	}{
		{"a ballot id twice", "log[1].ballot.id", func(l []tally.Entry) []tally.Entry {
			l[1].Ballot = &tally.Ballot{ID: "b1", Struck: []string{}}
			return l
		}},
		{"the same ballot twice", "log[1].ballot.id", func(l []tally.Entry) []tally.Entry {
			l[1].Ballot = l[0].Ballot
			return l
		}},
		{"a void of no ballot", "log[4].void.ballot", func(l []tally.Entry) []tally.Entry {
			l[4].Void = &tally.Void{Seq: 3, Ballot: "b9", Reason: "x"}
			return l
		}},
		{"a void naming another entry", "log[4].void.seq", func(l []tally.Entry) []tally.Entry {
			l[4].Void = &tally.Void{Seq: 2, Ballot: "b3", Reason: "x"}
			return l
		}},
		{"a ballot voided twice", "log[6].void.ballot", func(l []tally.Entry) []tally.Entry {
			return append(l, tally.Entry{Void: &tally.Void{Seq: 3, Ballot: "b3", Reason: "again"}, Desk: "d1", Time: "2026-11-21T08:02:00Z"})
		}},
		{"an entry without a time", "log[0].time", func(l []tally.Entry) []tally.Entry {
			l[0].Time = ""
			return l
		}},
		{"neither ballot nor void", "log[2]", func(l []tally.Entry) []tally.Entry {
			l[2].Ballot = nil
			return l
		}},
		{"a ballot of another contest", "log[0].ballot", func(l []tally.Entry) []tally.Entry {
			l[0].Ballot = &tally.Ballot{ID: "b1", Struck: []string{"z"}}
			return l
		}},
		{"a committee's ruling, not one on sight", "log[3].ballot", func(l []tally.Entry) []tally.Entry {
			l[3].Ballot = &tally.Ballot{ID: "b4", Invalid: tally.ReasonOverVote}
			return l
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := relinked(tt.edit)
			if _, err := tally.VerifyChain(log); err != nil {
				t.Fatalf("the relinked log must pass the chain check: %v", err)
			}
			err := tally.CheckStoreRules(c, log)
			if err == nil {
				t.Fatal("accepted")
			}
			if got := tally.Problems(err)[0].Field; got != tt.field {
				t.Errorf("field %q, want %q (%v)", got, tt.field, err)
			}
		})
	}
}
