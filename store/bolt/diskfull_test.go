//go:build linux

package bolt

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/proof"
	"github.com/kiemphieu/kiemphieu/internal/smallfs"
	"github.com/kiemphieu/kiemphieu/store/storetest"
	"github.com/kiemphieu/kiemphieu/tally"
)

// The store on a filesystem that fills up (research/perf-reliability.md
// §4 T4; the service-level test is cmd/kiemphieu's TestE2EDiskFull):
// desks append until the filesystem is full; a refused append is kind
// Unavailable and names the cause; what was acknowledged stays readable;
// once space is given back, appends succeed again on the same Store (no
// reopening); after a reopen every acknowledged ballot is in the log once.
func TestDiskFull(t *testing.T) {
	for _, fs := range []struct {
		name  string
		mount func(testing.TB, int64) string
	}{
		{"tmpfs", smallfs.Tmpfs},
		{"ext4", smallfs.Ext4},
	} {
		t.Run(fs.name, func(t *testing.T) {
			room := int64(proof.Size("DISKFULL_ROOM_KIB", 256, 4096)) << 10
			size := room + 4<<20
			if fs.name == "ext4" {
				size = room + 16<<20 // room for the journal and the inode tables
			}
			dir := fs.mount(t, size)
			testDiskFull(t, dir, room)
		})
	}
}

func testDiskFull(t *testing.T, dir string, room int64) {
	path := filepath.Join(dir, "kiemphieu.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	c := createContest(t, s, "full", tally.StateOpen)
	filler := smallfs.Fill(t, dir, room)
	t.Logf("filler of %d KiB leaves %d KiB", filler.Size>>10, room>>10)

	var (
		mu      sync.Mutex
		acked   = map[string]tally.Receipt{}
		refused = map[string]bool{} // ballots refused at least once
		causes  = map[string]int{}
	)
	rng := rand.New(rand.NewPCG(1, 2))
	ballots := map[string]tally.Append{}
	ballot := func(id string) tally.Append {
		mu.Lock()
		defer mu.Unlock()
		a, ok := ballots[id]
		if !ok {
			a = storetest.BallotAppend(t, c, storetest.RandomBallot(rng, c, id), "d1")
			a.Time = "2026-11-21T09:00:00Z"
			ballots[id] = a
		}
		return a
	}
	// appendAll runs desks appending ballots tag<d>-<n> until one of them
	// is refused (full) or every one is acknowledged.
	appendAll := func(tag string, desks, perDesk int, stopAtFull bool) (full bool) {
		var wg sync.WaitGroup
		var stop sync.Once
		done := make(chan struct{})
		for d := range desks {
			wg.Go(func() {
				for n := range perDesk {
					select {
					case <-done:
						return
					default:
					}
					id := fmt.Sprintf("%s%d-%05d", tag, d, n)
					rcpt, _, err := s.Append(testCtx(t), c.ID, ballot(id))
					mu.Lock()
					switch {
					case err == nil:
						acked[id] = rcpt
					case tally.ErrorKind(err) == tally.Unavailable:
						refused[id] = true
						causes[err.Error()]++
						full = true
					default:
						mu.Unlock()
						t.Errorf("append %s: %v (kind %s)", id, err, tally.ErrorKind(err))
						return
					}
					mu.Unlock()
					if err != nil && stopAtFull {
						stop.Do(func() { close(done) })
						return
					}
				}
			})
		}
		wg.Wait()
		return full
	}
	start := time.Now()
	if !appendAll("a", 8, 20000, true) {
		t.Fatal("the filesystem never filled up")
	}
	if t.Failed() {
		t.FailNow()
	}
	before := len(acked)
	t.Logf("%d ballots acknowledged before the filesystem was full (%v)", before, time.Since(start).Round(time.Millisecond))
	for msg, n := range causes {
		t.Logf("refused %d×: %s", n, msg)
		if !strings.Contains(msg, "no space left on device") || !strings.Contains(msg, "nothing was acknowledged") {
			t.Errorf("a refusal does not name the cause: %q", msg)
		}
	}

	// Full: more appends are refused, every time, and the store stays
	// readable.
	for i := range 20 {
		id := fmt.Sprintf("full-%d", i)
		rcpt, _, err := s.Append(testCtx(t), c.ID, ballot(id))
		if err == nil {
			// A freed page can take a ballot or two: that is fine, as
			// long as it is acknowledged only when stored.
			acked[id] = rcpt
			continue
		}
		if tally.ErrorKind(err) != tally.Unavailable || !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("append on a full filesystem: %v (kind %s); want Unavailable, ENOSPC", err, tally.ErrorKind(err))
		}
		refused[id] = true
	}
	// An acknowledged ballot sent again is answered from the log.
	for id, want := range acked {
		got, created, err := s.Append(testCtx(t), c.ID, ballot(id))
		if err != nil || created || got != want {
			t.Fatalf("retry of acknowledged %s on a full filesystem: %+v %v %v; want %+v", id, got, created, err, want)
		}
		break
	}
	entries := storetest.CheckLog(t, s, c)
	if len(entries) != len(acked) {
		t.Fatalf("full: the log has %d entries; %d ballots were acknowledged", len(entries), len(acked))
	}
	// Other writes are refused as Unavailable too (never Internal).
	err = s.PutItem(testCtx(t), "test", "big", make([]byte, 512<<10))
	if err == nil || tally.ErrorKind(err) != tally.Unavailable || !strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("PutItem on a full filesystem: %v (kind %s); want Unavailable naming the cause", err, tally.ErrorKind(err))
	}

	// Space comes back: the same store takes ballots again, the refused
	// ones first (a desk's retries), then new ones.
	if err := filler.Remove(); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	var retried []string
	var firstOK time.Duration // the first acknowledgement after space came back
	for id := range refused {
		if _, ok := acked[id]; !ok {
			retried = append(retried, id)
		}
	}
	for _, id := range retried {
		rcpt, _, err := s.Append(testCtx(t), c.ID, ballot(id))
		if err != nil {
			t.Fatalf("retry of refused %s after space came back: %v", id, err)
		}
		acked[id] = rcpt
		if firstOK == 0 {
			firstOK = time.Since(freed)
		}
	}
	if appendAll("b", 4, 50, false) {
		t.Fatalf("appends refused after space came back: %v", causes)
	}
	recovered := time.Since(freed)
	t.Logf("after space came back: the first acknowledgement after %v; %d refused ballots retried and 200 new ones acknowledged in %v",
		firstOK.Round(time.Millisecond), len(retried), recovered.Round(time.Millisecond))

	// Reopen: everything acknowledged is there once, the chain verifies.
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	entries = storetest.CheckLog(t, s, c)
	if len(entries) != len(acked) {
		t.Fatalf("after reopening: the log has %d entries; %d ballots were acknowledged", len(entries), len(acked))
	}
	for _, e := range entries {
		if want, ok := acked[e.Ballot.ID]; !ok || want.Seq != e.Seq || want.Hash != e.Hash {
			t.Fatalf("entry %d (%s): receipt %+v", e.Seq, e.Ballot.ID, want)
		}
	}
	proof.Report(t, "acknowledged_before_full", before, "ballots")
	proof.Report(t, "refused_while_full", len(refused), "ballots")
	proof.Report(t, "acknowledged_lost", 0, "ballots") // checked above: every receipt in the log, once
	proof.Reportf(t, "seconds_to_recover", "s", "%.3f", firstOK.Seconds())
	proof.Report(t, "acknowledged_total", len(acked), "ballots")
}

// An I/O error (EIO) under the store: ext4's shutdown ioctl (as xfs_io's
// "shutdown", EXT4_IOC_SHUTDOWN without flushing the log) makes every
// later write of the filesystem fail with EIO, as a dying disk would. An
// append is then Unavailable naming the cause and nothing is acknowledged;
// reads of what is cached keep working. Such a filesystem does not come
// back without an unmount, so there is no recovery to measure here.
func TestIOError(t *testing.T) {
	dir := smallfs.Ext4(t, 16<<20)
	path := filepath.Join(dir, "kiemphieu.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := createContest(t, s, "eio", tally.StateOpen)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 50 {
		id := fmt.Sprintf("b%03d", i)
		if _, _, err := s.Append(testCtx(t), c.ID, storetest.BallotAppend(t, c, storetest.RandomBallot(rng, c, id), "d1")); err != nil {
			t.Fatal(err)
		}
	}
	if err := smallfs.Shutdown(dir); err != nil {
		t.Fatalf("shutdown of %s: %v", dir, err)
	}
	_, _, err = s.Append(testCtx(t), c.ID, storetest.BallotAppend(t, c, storetest.RandomBallot(rng, c, "after"), "d1"))
	if tally.ErrorKind(err) != tally.Unavailable || !strings.Contains(err.Error(), "I/O error") {
		t.Fatalf("append after an I/O error: %v (kind %s); want Unavailable naming the I/O error", err, tally.ErrorKind(err))
	}
	t.Logf("refused: %v", err)
	counters, version, err := s.Counters(testCtx(t), c.ID)
	if err != nil || version != 50 || counters[tally.CounterTotal] != 50 {
		t.Fatalf("counters after an I/O error: %v at %d, %v; want 50 ballots", counters, version, err)
	}
	proof.Report(t, "acknowledged_after_eio", 0, "ballots")
}
