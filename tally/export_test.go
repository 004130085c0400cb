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
