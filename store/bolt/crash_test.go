package bolt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/store/storetest"
	"github.com/kiemphieu/kiemphieu/tally"
)

// Environment of the crash child: the test binary run again by
// TestCrashKeepsAcknowledged, appending until it is killed.
const (
	childEnv = "KP_BOLT_CHILD" // the cycle number; set only in the child
	pathEnv  = "KP_BOLT_PATH"  // the store file
	retryEnv = "KP_BOLT_RETRY" // a file of acknowledged lines to retry
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(crashChild())
	}
	os.Exit(m.Run())
}

const crashContestID = "crash"

func crashContest() *tally.Contest {
	c, err := tally.ParseContest([]byte(`{"id":"` + crashContestID + `","title":"Bầu Chi ủy","kind":"committee","seats":3,"ballot":"strike",
		"electorate":{"congress":"members","convened":30},
		"candidates":[{"id":"c1","name":"Nguyễn Văn An"},{"id":"c2","name":"Trần Thị Bình"},
		{"id":"c3","name":"Lê Văn Cường"},{"id":"c4","name":"Phạm Thị Dung"}]}`))
	if err != nil {
		panic(err)
	}
	return c
}

// crashAppend is the ballot with the given id: its content is derived from
// the id, so that a retry in a later life of the child sends the same.
func crashAppend(c *tally.Contest, id string) tally.Append {
	h := fnv.New32a()
	h.Write([]byte(id))
	bits := h.Sum32()
	b := tally.Ballot{ID: id, Struck: []string{}}
	if bits%17 == 0 {
		b = tally.Ballot{ID: id, Invalid: tally.ReasonWriteIn, Note: "ghi thêm tên"}
	} else {
		for i, cand := range c.Candidates {
			if bits>>(i+5)&1 == 1 {
				b.Struck = append(b.Struck, cand.ID)
			}
		}
	}
	m, err := c.Mark(b, c.Index())
	if err != nil {
		panic(err)
	}
	r, keys := c.Effect(m)
	return tally.Append{Ballot: &b, Reason: r, Keys: keys, Desk: "d1", Time: "2026-11-21T09:00:00Z"}
}

func crashVoid(id string) tally.Append {
	return tally.Append{Void: &tally.Void{Ballot: id, Reason: "gõ nhầm"}, Desk: "d1", Time: "2026-11-21T09:05:00Z"}
}

// crashChild appends from 8 goroutines, retrying on error, and prints
// "B id seq hash" (a ballot) or "V id seq hash" (a void) only once Append
// has returned; it first starts retrying the acknowledged lines of earlier
// lives it was given, printing "R ok …" or "R BAD …". The parent kills it.
func crashChild() int {
	cycle := os.Getenv(childEnv)
	c := crashContest()
	s, err := Open(os.Getenv(pathEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...) // one write: whole lines only
	}
	// The parent kills the child well before this; it only bounds a child
	// whose parent died.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	appendRetry := func(a tally.Append) (tally.Receipt, bool, bool) {
		for {
			rcpt, created, err := s.Append(ctx, crashContestID, a)
			if err == nil {
				return rcpt, created, true
			}
			if ctx.Err() != nil {
				return rcpt, false, false
			}
			fmt.Fprintln(os.Stderr, "child: append:", err)
			time.Sleep(10 * time.Millisecond)
		}
	}
	var retries []string
	if f := os.Getenv(retryEnv); f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 1
		}
		retries = strings.Split(string(data), "\n")
	}
	say("READY")
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, line := range retries {
			f := strings.Fields(line)
			if len(f) != 4 {
				continue
			}
			a := crashAppend(c, f[1])
			if f[0] == "V" {
				a = crashVoid(f[1])
			}
			rcpt, created, ok := appendRetry(a)
			if !ok {
				return
			}
			if got := fmt.Sprintf("%s %s %d %s", f[0], f[1], rcpt.Seq, rcpt.Hash); created || got != line {
				say("R BAD %s: got %s created=%v", line, got, created)
			} else {
				say("R ok %s", line)
			}
		}
	})
	for g := range 8 {
		wg.Go(func() {
			for i := range 5000 {
				id := fmt.Sprintf("k%s-g%d-%d", cycle, g, i)
				rcpt, _, ok := appendRetry(crashAppend(c, id))
				if !ok {
					return
				}
				say("B %s %d %s", id, rcpt.Seq, rcpt.Hash)
				if i%5 == 4 {
					rcpt, _, ok := appendRetry(crashVoid(id))
					if !ok {
						return
					}
					say("V %s %d %s", id, rcpt.Seq, rcpt.Hash)
				}
			}
		})
	}
	wg.Wait()
	s.Close()
	return 0
}

// TestCrashKeepsAcknowledged kills a child process appending to the store
// with SIGKILL at a random moment, three times over the same file, and
// checks that everything acknowledged survived exactly as acknowledged,
// that the chain verifies and that the counters equal a replay; each new
// life of the child retries some earlier acknowledged ballots and voids and
// must get their original receipts back.
func TestCrashKeepsAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("no executable:", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "crash.db")
	c := crashContest()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateContest(testCtx(t), &tally.Record{Contest: c, State: tally.StateOpen}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	var acked []string // "B|V id seq hash" lines
	for cycle := 1; cycle <= 3; cycle++ {
		var retry []string
		for _, i := range rng.Perm(len(acked)) {
			if len(retry) == 40 {
				break
			}
			retry = append(retry, acked[i])
		}
		retryFile := filepath.Join(dir, fmt.Sprintf("retry-%d", cycle))
		if err := os.WriteFile(retryFile, []byte(strings.Join(retry, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		lines, stderr := runChild(t, exe, cycle, path, retryFile, 200*time.Millisecond+time.Duration(rng.IntN(600))*time.Millisecond)
		var fresh, retried int
		for _, line := range lines {
			switch {
			case line == "READY":
			case strings.HasPrefix(line, "R ok "):
				retried++
			case strings.HasPrefix(line, "B "), strings.HasPrefix(line, "V "):
				acked = append(acked, line)
				fresh++
			default:
				t.Fatalf("cycle %d: child said %q (stderr: %s)", cycle, line, stderr)
			}
		}
		t.Logf("cycle %d: %d acknowledged, %d of %d retries answered", cycle, fresh, retried, len(retry))
		if fresh == 0 {
			t.Fatalf("cycle %d: nothing acknowledged before the kill (stderr: %s)", cycle, stderr)
		}
		checkCrashLog(t, path, c, acked, rng)
	}
}

// runChild runs one life of the child and kills it after the delay,
// counted from when it has opened the store; it returns its stdout lines.
func runChild(t *testing.T, exe string, cycle int, path, retryFile string, after time.Duration) ([]string, string) {
	t.Helper()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strconv.Itoa(cycle), pathEnv+"="+path, retryEnv+"="+retryFile)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	done := make(chan []string)
	go func() {
		var lines []string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if sc.Text() == "READY" {
				close(ready)
			}
		}
		io.Copy(io.Discard, stdout)
		done <- lines
	}()
	select {
	case <-ready:
		time.Sleep(after)
	case <-time.After(20 * time.Second):
		t.Error("the child did not open the store within 20 s")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	lines := <-done
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != -1 {
		t.Fatalf("child ended with %v before the kill (stderr: %s)", err, stderr.String())
	}
	return lines, stderr.String()
}

// checkCrashLog reopens the file and checks it against every line ever
// acknowledged.
func checkCrashLog(t *testing.T, path string, c *tally.Contest, acked []string, rng *rand.Rand) {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	entries := storetest.CheckLog(t, s, c)
	ballots := map[string]bool{}
	for _, e := range entries {
		if e.Ballot != nil {
			if ballots[e.Ballot.ID] {
				t.Fatalf("ballot %s is in the log twice", e.Ballot.ID)
			}
			ballots[e.Ballot.ID] = true
		}
	}
	for _, line := range acked {
		var kind, id, hash string
		var seq int64
		if _, err := fmt.Sscanf(line, "%s %s %d %s", &kind, &id, &seq, &hash); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if seq < 1 || seq > int64(len(entries)) {
			t.Fatalf("acknowledged %q is past the end of the log (%d entries)", line, len(entries))
		}
		e := entries[seq-1]
		switch {
		case e.Hash != hash:
			t.Fatalf("acknowledged %q: entry %d has hash %s", line, seq, e.Hash)
		case kind == "B" && (e.Ballot == nil || e.Ballot.ID != id):
			t.Fatalf("acknowledged %q: entry %d is %+v", line, seq, e)
		case kind == "V" && (e.Void == nil || e.Void.Ballot != id):
			t.Fatalf("acknowledged %q: entry %d is %+v", line, seq, e)
		}
	}
	// Retries after the restart get the original receipts.
	for range 10 {
		line := acked[rng.IntN(len(acked))]
		f := strings.Fields(line)
		a := crashAppend(c, f[1])
		if f[0] == "V" {
			a = crashVoid(f[1])
		}
		rcpt, created, err := s.Append(testCtx(t), c.ID, a)
		if err != nil || created || fmt.Sprintf("%s %s %d %s", f[0], f[1], rcpt.Seq, rcpt.Hash) != line {
			t.Fatalf("retry of %q: %+v created=%v err=%v", line, rcpt, created, err)
		}
	}
	if counters, _, _ := s.Counters(testCtx(t), c.ID); reflect.DeepEqual(counters, map[string]int64{}) {
		t.Fatal("no counters")
	}
}
