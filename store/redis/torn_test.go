package redis_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/store/redis"
	"github.com/kiemphieu/kiemphieu/store/storetest"
	"github.com/kiemphieu/kiemphieu/tally"
)

// TestTornScriptInAOF is the crash campaign's defect made deterministic: a
// kill -9 during the AOF write of an append tears the script's MULTI block
// in the middle of a command. The test writes the first ballots, tears the
// AOF inside the last append's block (in its final meta write, after the
// log and seen writes, as the kill did), then restarts redis-server twice
// with a ballot appended in between.
//
// With aof-load-truncated no (what the service asks for, and what redistest
// runs) the first restart is refused and repaired by redis-check-aof --fix,
// which drops the whole torn block: the log verifies after both restarts.
// With Redis's default yes, Redis 7.0 keeps the block open and the second
// restart applies the torn batch together with the next one; the store
// then refuses to append rather than fork the chain.
func TestTornScriptInAOF(t *testing.T) {
	for _, tc := range []struct {
		name          string
		loadTruncated bool
	}{
		{"aof-load-truncated no", false},
		{"aof-load-truncated yes", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.StartWith(t, redistest.Options{AOFLoadTruncated: tc.loadTruncated})
			s := open(t, srv.URL())
			c := createOpen(t, s, "torn-1")
			for _, id := range []string{"b1", "b2", "b3"} {
				appendBallot(t, s, c, id)
			}
			s.Close()
			srv.Kill()
			tearLastScript(t, srv.Dir())

			srv.Restart(t)
			wantRepairs := 1 // the torn block, cut by redis-check-aof --fix
			if tc.loadTruncated {
				wantRepairs = 0 // Redis cut it itself, inside the block
			}
			if got := len(srv.Repairs()); got != wantRepairs {
				t.Fatalf("%d AOF repairs (%q)", got, srv.Repairs())
			}
			s = open(t, srv.URL())
			if entries := storetest.CheckLog(t, s, c); len(entries) != 2 {
				t.Fatalf("after the first restart: %d entries, want 2 (b3's append was torn)", len(entries))
			}
			appendBallot(t, s, c, "b4")
			s.Close()
			srv.Kill()
			srv.Restart(t)
			s = open(t, srv.URL())

			if !tc.loadTruncated {
				entries := storetest.CheckLog(t, s, c)
				var ids []string
				for _, e := range entries {
					ids = append(ids, e.Ballot.ID)
				}
				if got := strings.Join(ids, " "); got != "b1 b2 b4" {
					t.Fatalf("log after the second restart: %s, want b1 b2 b4", got)
				}
				appendBallot(t, s, c, "b5")
				return
			}
			// Redis merged the torn batch into b4's: the list is longer than
			// the meta's seq.
			entries, err := s.Entries(context.Background(), c.ID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 4 {
				t.Fatalf("with aof-load-truncated yes: %d entries; want 4 (Redis 7.0 merged b3 back in) — has the loader been fixed?", len(entries))
			}
			_, _, err = s.Append(context.Background(), c.ID, storetest.BallotAppend(t, c, tally.Ballot{ID: "b5", Struck: []string{"c1"}}, "d1"))
			if err == nil || !strings.Contains(err.Error(), "holds 4 entries but its meta says seq 3") {
				t.Fatalf("append to a log longer than its meta: %v; want a refusal naming both", err)
			}
			if entries, _ := s.Entries(context.Background(), c.ID, 0, 0); len(entries) != 4 {
				t.Fatalf("the refused append wrote: %d entries", len(entries))
			}
		})
	}
}

func appendBallot(t *testing.T, s *redis.Store, c *tally.Contest, id string) {
	t.Helper()
	if _, _, err := s.Append(testCtx(t), c.ID, storetest.BallotAppend(t, c, tally.Ballot{ID: id, Struck: []string{"c1"}}, "d1")); err != nil {
		t.Fatalf("append %s: %v", id, err)
	}
}

// tearLastScript cuts the AOF inside the last MULTI block, a few bytes
// into its last HSET (the meta write), as a kill during the write would.
func tearLastScript(t *testing.T, dir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "appendonlydir", "*.incr.aof"))
	if err != nil || len(files) != 1 {
		t.Fatalf("incr AOF files: %v, %v", files, err)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	multi := bytes.LastIndex(data, []byte("MULTI\r\n"))
	hset := bytes.LastIndex(data, []byte("$4\r\nHSET\r\n"))
	if multi < 0 || hset < multi || !bytes.Contains(data[multi:hset], []byte("RPUSH")) {
		t.Fatalf("no append script with a log write at the end of the AOF:\n%q", data[max(0, len(data)-600):])
	}
	if err := os.Truncate(files[0], int64(hset+6)); err != nil {
		t.Fatal(err)
	}
}
