package redis

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/store/storetest"
	"github.com/kiemphieu/kiemphieu/tally"
)

// TestBatchSemantics drives one batch through the committer directly, so
// that what shares a batch is certain: requests are settled in arrival
// order, later ones see earlier ones, and one request's failure is its
// own.
func TestBatchSemantics(t *testing.T) {
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := storetest.NewContest(t, "bch-1")
	if err := s.CreateContest(ctx, &tally.Record{Contest: c, State: tally.StateOpen}); err != nil {
		t.Fatal(err)
	}
	ballot := func(id string, struck ...string) tally.Append {
		if struck == nil {
			struck = []string{}
		}
		return storetest.BallotAppend(t, c, tally.Ballot{ID: id, Struck: struck}, "d1")
	}
	void := func(id string) tally.Append {
		return tally.Append{Void: &tally.Void{Ballot: id, Reason: "sửa"}, Desk: "d1", Time: "2026-11-21T09:05:00Z"}
	}
	// Already in the log before the batch: s1 (later voided in the batch),
	// s2 (voided before the batch), s3.
	var before []tally.Receipt
	for _, a := range []tally.Append{ballot("s1", "c1"), ballot("s2", "c2"), void("s2"), ballot("s3", "c3")} {
		r, _, err := s.Append(ctx, c.ID, a)
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, r)
	}

	type want struct {
		seq     int64 // 0: an error of kind
		created bool
		kind    tally.Kind
		same    int // index of an earlier request whose receipt this one gets, or -1
	}
	reqs := []struct {
		a tally.Append
		w want
	}{
		{ballot("b1", "c1"), want{seq: 5, created: true, same: -1}},                 // 0
		{ballot("b1", "c1"), want{seq: 5, same: 0}},                                 // 1: a retry within the batch
		{ballot("b1", "c2"), want{kind: tally.Conflict, same: -1}},                  // 2: other content, same id
		{void("b1"), want{seq: 6, created: true, same: -1}},                         // 3: void of a ballot earlier in the batch
		{void("b1"), want{seq: 6, same: 3}},                                         // 4: the void retried
		{void("b9"), want{kind: tally.NotFound, same: -1}},                          // 5: no such ballot
		{void("b7"), want{kind: tally.NotFound, same: -1}},                          // 6: b7 comes later
		{ballot("b7", "c4"), want{seq: 7, created: true, same: -1}},                 // 7
		{ballot("s3", "c3"), want{seq: before[3].Seq, same: -1}},                    // 8: in the log before
		{ballot("s3", "c1"), want{kind: tally.Conflict, same: -1}},                  // 9
		{void("s2"), want{seq: before[2].Seq, same: -1}},                            // 10: voided before
		{void("s1"), want{seq: 8, created: true, same: -1}},                         // 11: void of a ballot in the log
		{ballot("b8"), want{seq: 9, created: true, same: -1}},                       // 12: an over-vote
		{tally.Append{Ballot: nil, Void: nil}, want{kind: tally.Invalid, same: -1}}, // 13: refused before the batch
	}

	k := &committer{s: s, contest: c.ID, k: keysFor(c.ID)}
	batch := make([]*request, 0, len(reqs))
	for _, r := range reqs[:len(reqs)-1] {
		batch = append(batch, newRequest(ctx, r.a))
	}
	k.commit(batch)
	got := make([]result, len(reqs))
	for i, r := range batch {
		got[i] = <-r.reply
	}
	_, _, err = s.Append(ctx, c.ID, reqs[len(reqs)-1].a)
	got[len(reqs)-1] = result{err: err}

	for i, r := range reqs {
		g := got[i]
		if r.w.kind != "" {
			if g.err == nil || tally.ErrorKind(g.err) != r.w.kind {
				t.Errorf("request %d: %+v, want an error of kind %s", i, g, r.w.kind)
			}
			continue
		}
		if g.err != nil || g.rcpt.Seq != r.w.seq || g.created != r.w.created {
			t.Errorf("request %d: %+v, want seq %d created=%v", i, g, r.w.seq, r.w.created)
		}
		if r.w.same >= 0 && g.rcpt != got[r.w.same].rcpt {
			t.Errorf("request %d: receipt %+v, want that of request %d, %+v", i, g.rcpt, r.w.same, got[r.w.same].rcpt)
		}
	}
	if got[8].rcpt != before[3] || got[10].rcpt != before[2] {
		t.Errorf("retries of earlier entries: %+v %+v, want %+v %+v", got[8].rcpt, got[10].rcpt, before[3], before[2])
	}
	if !got[3].rcpt.Valid || got[3].rcpt.Reason != "" {
		t.Errorf("a void's receipt is {seq, hash, valid: true}; got %+v", got[3].rcpt)
	}
	if got[12].rcpt.Valid || got[12].rcpt.Reason != "over_vote" {
		t.Errorf("over-vote receipt %+v", got[12].rcpt)
	}
	entries := storetest.CheckLog(t, s, c)
	if len(entries) != 9 {
		t.Fatalf("%d entries, want 9", len(entries))
	}
	if v := entries[5].Void; v == nil || v.Ballot != "b1" || v.Seq != 5 {
		t.Fatalf("entry 6 = %+v, want the void of b1 (seq 5)", entries[5])
	}
	if v := entries[7].Void; v == nil || v.Ballot != "s1" || v.Seq != before[0].Seq {
		t.Fatalf("entry 8 = %+v, want the void of s1", entries[7])
	}
}

// TestUnavailable: with Redis gone an Append fails as Unavailable and is
// not acknowledged; once Redis is back, the same store carries on (and
// loads its script again).
func TestUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := storetest.NewContest(t, "bch-1")
	if err := s.CreateContest(ctx, &tally.Record{Contest: c, State: tally.StateOpen}); err != nil {
		t.Fatal(err)
	}
	a := storetest.BallotAppend(t, c, tally.Ballot{ID: "b1", Struck: []string{"c1"}}, "d1")
	if _, _, err := s.Append(ctx, c.ID, a); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	b := storetest.BallotAppend(t, c, tally.Ballot{ID: "b2", Struck: []string{"c2"}}, "d1")
	if _, _, err := s.Append(ctx, c.ID, b); tally.ErrorKind(err) != tally.Unavailable {
		t.Fatalf("Append with Redis down: %v (kind %s), want kind unavailable", err, tally.ErrorKind(err))
	}
	if _, err := s.Contest(ctx, c.ID); tally.ErrorKind(err) != tally.Unavailable {
		t.Fatalf("Contest with Redis down: %v, want kind unavailable", err)
	}
	srv.Restart(t)
	r, created, err := s.Append(ctx, c.ID, b)
	if err != nil || !created || r.Seq != 2 {
		t.Fatalf("Append after restart: %+v created=%v %v", r, created, err)
	}
	storetest.CheckLog(t, s, c)

	// Refusing writes (a full disk, an AOF error) is Unavailable too.
	if _, err := s.rdb.ConfigSet(ctx, "maxmemory", "1").Result(); err != nil {
		t.Fatal(err)
	}
	x := storetest.BallotAppend(t, c, tally.Ballot{ID: "b3", Struck: []string{"c3"}}, "d1")
	if _, _, err := s.Append(ctx, c.ID, x); tally.ErrorKind(err) != tally.Unavailable {
		t.Fatalf("Append over maxmemory: %v (kind %s), want kind unavailable", err, tally.ErrorKind(err))
	}
	if _, err := s.rdb.ConfigSet(ctx, "maxmemory", "0").Result(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Append(ctx, c.ID, x); err != nil {
		t.Fatal(err)
	}

	s.Close()
	if _, _, err := s.Append(ctx, c.ID, x); tally.ErrorKind(err) != tally.Unavailable {
		t.Fatalf("Append after Close: %v, want kind unavailable", err)
	}
}

// TestDurabilityWarning: Open warns, and still opens, when the server
// would acknowledge writes it has not fsynced.
func TestDurabilityWarning(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	open := func() string {
		var buf bytes.Buffer
		old := slog.Default()
		slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
		defer slog.SetDefault(old)
		s, err := Open(ctx, srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		return buf.String()
	}
	if log := open(); log != "" {
		t.Fatalf("warning with appendfsync always: %s", log)
	}
	s, err := Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	err = s.rdb.ConfigSet(ctx, "appendfsync", "everysec").Err()
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if log := open(); !strings.Contains(log, "NOT durable") || !strings.Contains(log, "appendfsync=everysec") {
		t.Fatalf("no warning with appendfsync everysec; log: %q", log)
	}
	if log := open(); strings.Contains(log, "aof-load-truncated") {
		t.Fatalf("warning with aof-load-truncated no: %q", log)
	}
	s, err = Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	err = s.rdb.ConfigSet(ctx, "aof-load-truncated", "yes").Err()
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if log := open(); !strings.Contains(log, "aof-load-truncated=yes") {
		t.Fatalf("no warning with aof-load-truncated yes; log: %q", log)
	}
}

// TestCommitterRetires: a committer left idle retires, and Appends racing
// its retirement go to its successor; none is lost or doubled.
func TestCommitterRetires(t *testing.T) {
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.idle = 200 * time.Microsecond
	c := storetest.NewContest(t, "bch-1")
	if err := s.CreateContest(ctx, &tally.Record{Contest: c, State: tally.StateOpen}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for d := range 4 {
		wg.Go(func() {
			for i := range 50 {
				a := storetest.BallotAppend(t, c, tally.Ballot{ID: fmt.Sprintf("d%d-%d", d, i), Struck: []string{"c1"}}, "d1")
				if _, created, err := s.Append(ctx, c.ID, a); err != nil || !created {
					t.Errorf("%s: created=%v %v", a.Ballot.ID, created, err)
					return
				}
				time.Sleep(time.Duration(i%3) * 300 * time.Microsecond)
			}
		})
	}
	wg.Wait()
	if entries := storetest.CheckLog(t, s, c); len(entries) != 200 {
		t.Fatalf("%d entries, want 200", len(entries))
	}
	time.Sleep(50 * time.Millisecond)
	s.mu.Lock()
	n := len(s.committers)
	s.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d committers left after idling", n)
	}
}
