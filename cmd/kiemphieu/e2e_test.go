//go:build unix

package main

// End-to-end reliability tests of the service as a process
// (research/perf-reliability.md §4, T1, T2, T6, T11): the test binary runs
// itself again as `kiemphieu serve` (or `kiemphieu demo`) on a free
// loopback port, desks post ballots over real HTTP connections, and the
// server — or the redis-server under it — is killed with SIGKILL in the
// middle of the load. Afterwards the oracle is always the same:
//
//   - every ballot a desk saw acknowledged is in the exported log exactly
//     once, with the seq and hash of its receipt, and nothing else is;
//   - the log's hash chain verifies;
//   - the service's result equals `kiemphieu recount` of the exported log
//     (an independent fold), and closing the round (a recount against the
//     running counters) succeeds.
//
// Every loop is bounded in count and time; children are stopped by PID.
// KP_E2E_SEED=n replays a run's kill times and ballots; KP_E2E_CYCLES=n
// sets the number of crashes per crash test.

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/proof"
	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/tally"
)

const (
	// e2eChildEnv, set to "serve" or "demo", makes the test binary be the
	// program: TestMain runs that command with the process's arguments.
	e2eChildEnv = "KP_E2E_CHILD"
	// e2eSeedEnv replays a run: the seed of kill times and ballots.
	e2eSeedEnv = "KP_E2E_SEED"
	// e2eCyclesEnv sets the number of crashes of each crash test (a
	// nightly run: KP_E2E_CYCLES=50 go test -run E2ECrash -timeout 30m).
	e2eCyclesEnv  = "KP_E2E_CYCLES"
	e2eAdminToken = "e2e-admin-token-0123456789abcdef"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(e2eChildEnv); mode != "" {
		if mode != "serve" && mode != "demo" {
			fmt.Fprintf(os.Stderr, "%s=%q: want serve or demo\n", e2eChildEnv, mode)
			os.Exit(exitBadUsage)
		}
		os.Exit(run(append([]string{mode}, os.Args[1:]...), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// e2eSeed is the run's seed: KP_E2E_SEED, else the clock. It is logged so
// that a failure can be replayed.
func e2eSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(e2eSeedEnv); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", e2eSeedEnv, s, err)
		}
		seed = n
	}
	t.Logf("seed %d (replay with %s=%d)", seed, e2eSeedEnv, seed)
	return seed
}

// ---------------------------------------------------------------------------
// Server children

// child is one server process: the test binary run again in e2eChildEnv
// mode, listening on addr, restarted on the same address and arguments.
type child struct {
	t       *testing.T
	name    string
	mode    string
	args    []string // everything but --addr
	addr    string
	logPath string
	logf    *os.File

	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	lives  int
}

// startChild starts a server and waits until /readyz answers.
func startChild(t *testing.T, name, mode string, args ...string) *child {
	t.Helper()
	c := &child{t: t, name: name, mode: mode, args: args, logPath: filepath.Join(t.TempDir(), name+".log")}
	f, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	c.logf = f
	t.Cleanup(c.cleanup)
	// A free port can be taken between the probe and the child's bind.
	for attempt := 0; ; attempt++ {
		c.addr = freeAddr(t)
		err = c.start()
		if err == nil {
			return c
		}
		if attempt == 3 {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func (c *child) base() string { return "http://" + c.addr }

func (c *child) start() error {
	c.lives++
	fmt.Fprintf(c.logf, "=== e2e: %s life %d on %s ===\n", c.name, c.lives, c.addr)
	cmd := exec.Command(os.Args[0], append([]string{"--addr", c.addr}, c.args...)...)
	cmd.Env = childEnv(c.mode)
	cmd.Stdout, cmd.Stderr = c.logf, c.logf
	cmd.SysProcAttr = childSysProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	c.cmd, c.exited = cmd, exited
	if err := waitReady(c.base(), exited, 30*time.Second); err != nil {
		c.kill()
		return fmt.Errorf("life %d: %w\n%s", c.lives, err, c.logTail(3000))
	}
	return nil
}

// childEnv is the environment of a child: ours without KIEMPHIEU_*
// settings (the flags say everything), in the given mode.
func childEnv(mode string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KIEMPHIEU_") || strings.HasPrefix(kv, e2eChildEnv+"=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, e2eChildEnv+"="+mode)
}

// waitReady polls base/readyz until it answers 200, the process exits or
// the time is up.
func waitReady(base string, exited <-chan struct{}, within time.Duration) error {
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("the server exited during start-up")
		default:
		}
		resp, err := hc.Get(base + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/readyz: %s", resp.Status)
		}
		last = err
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %v: %v", within, last)
}

// kill sends SIGKILL to the server (by its PID) and waits until it is gone.
func (c *child) kill() {
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Kill()
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		c.t.Errorf("%s: pid %d still running 10 s after SIGKILL", c.name, c.cmd.Process.Pid)
	}
	c.cmd = nil
}

// restart starts the server again on the same address, data and flags.
func (c *child) restart() time.Duration {
	c.t.Helper()
	start := time.Now()
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = c.start(); err == nil {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond) // the port may still be held
	}
	c.t.Fatalf("%s: restart: %v", c.name, err)
	return 0
}

// stop asks the server to shut down (SIGTERM) and checks that it exits
// cleanly; SIGKILL after 15 s.
func (c *child) stop() {
	c.t.Helper()
	if c.cmd == nil {
		return
	}
	cmd := c.cmd
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			c.t.Errorf("%s: exit status %d after SIGTERM\n%s", c.name, code, c.logTail(3000))
		}
	case <-time.After(15 * time.Second):
		c.t.Errorf("%s: still running 15 s after SIGTERM; killing it", c.name)
		_ = cmd.Process.Kill()
		<-c.exited
	}
	c.cmd = nil
}

// cleanup kills a server still running, then checks its log for data
// races and panics (a race in a SIGKILLed child never reaches its exit
// status), and shows the log's end when the test failed.
func (c *child) cleanup() {
	c.kill()
	data, _ := os.ReadFile(c.logPath)
	for _, bad := range []string{"WARNING: DATA RACE", "panic:", "fatal error:"} {
		if i := bytes.Index(data, []byte(bad)); i >= 0 {
			end := min(len(data), i+4000)
			c.t.Errorf("%s: the server's log has %q:\n%s", c.name, bad, data[i:end])
		}
	}
	if c.t.Failed() {
		c.t.Logf("%s: end of the server's log (%s):\n%s", c.name, c.logPath, c.logTail(4000))
	}
	c.logf.Close()
}

func (c *child) logTail(n int) string {
	data, _ := os.ReadFile(c.logPath)
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// ---------------------------------------------------------------------------
// HTTP

// newHTTPClient is a client of its own (its own connections), as each desk
// is a separate machine.
func newHTTPClient(t *testing.T, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil, // loopback only, whatever the environment says
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: timeout, Transport: tr}
}

type apiClient struct {
	base  string
	token string // "" for anonymous
	hc    *http.Client
}

func (a *apiClient) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, data, nil
}

// must makes a request that has to answer want; body is JSON-encoded
// unless it is already []byte.
func (a *apiClient) must(t *testing.T, method, path string, body any, want int) []byte {
	t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		data = b
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	status, out, err := a.do(ctx, method, path, data)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, status, want, out)
	}
	return out
}

func decodeJSON(t *testing.T, what string, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v\n%.2000s", what, err, data)
	}
}

// ---------------------------------------------------------------------------
// A round: its definition, its desks, and the ballots they key

// e2eContest is a delegate election: 60 names for 45 seats, strike
// ballots (a delegates contest has no surplus limit).
func e2eContest(id string, visibility string) []byte {
	families := []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"}
	middles := []string{"Văn", "Thị", "Đức", "Minh", "Ngọc", "Hữu"}
	givens := []string{"An", "Bình", "Cường", "Dung", "Giang", "Hà", "Hải", "Hương", "Khánh", "Lan", "Long", "Mai", "Nam", "Phong", "Quân", "Sơn", "Thảo", "Trang", "Tuấn", "Yến"}
	var cands []map[string]any
	for i := range 60 {
		cands = append(cands, map[string]any{
			"id":         fmt.Sprintf("c%02d", i+1),
			"name":       fmt.Sprintf("%s %s %s", families[i%len(families)], middles[i%len(middles)], givens[i%len(givens)]),
			"gender":     []string{"male", "female"}[i%3/2],
			"birth_date": fmt.Sprintf("%d-%02d-%02d", 1962+i%30, 1+i%12, 1+i%28),
			"incumbent":  i%4 == 0,
		})
	}
	def := map[string]any{
		"id": id, "title": "Bầu đại biểu dự Đại hội (e2e " + id + ")", "kind": "delegates",
		"seats": 45, "ballot": "strike", "visibility": visibility,
		"electorate":  map[string]any{"congress": "delegates", "convened": 1500, "exclusions": map[string]int{"committee_absent": 4}},
		"composition": map[string]any{"reference_date": "2025-06-30"},
		"candidates":  cands,
	}
	data, err := json.MarshalIndent(def, "", "  ")
	if err != nil {
		panic(err)
	}
	return data
}

// ballotMaker makes the ballots of a run from its seed: ballot n of desk d
// is always the same, so a retry sends the same body.
type ballotMaker struct {
	seed     uint64
	cands    []string
	standing []float64
}

func newBallotMaker(seed uint64) *ballotMaker {
	m := &ballotMaker{seed: seed}
	rng := rand.New(rand.NewPCG(seed, 0))
	for i := range 60 {
		m.cands = append(m.cands, fmt.Sprintf("c%02d", i+1))
		m.standing = append(m.standing, 0.2+0.8*rng.Float64())
	}
	return m
}

func (m *ballotMaker) ballot(id string, desk, n int) tally.Ballot {
	rng := rand.New(rand.NewPCG(m.seed, uint64(desk+1)<<32|uint64(n)))
	switch x := rng.IntN(100); {
	case x < 2: // untouched: an over-vote
		return tally.Ballot{ID: id, Struck: []string{}}
	case x < 3: // every name struck: no vote
		return tally.Ballot{ID: id, Struck: slices.Clone(m.cands)}
	case x < 5:
		return tally.Ballot{ID: id, Invalid: tally.ReasonWriteIn, Note: "ghi thêm tên ngoài danh sách"}
	}
	type scored struct {
		id    string
		score float64
	}
	s := make([]scored, len(m.cands))
	for i, c := range m.cands {
		s[i] = scored{c, m.standing[i] + 0.6*rng.Float64()}
	}
	slices.SortFunc(s, func(a, b scored) int { return cmp.Compare(a.score, b.score) })
	strike := 15 + rng.IntN(4) // at least len − seats
	b := tally.Ballot{ID: id, Struck: []string{}}
	for _, x := range s[:strike] {
		b.Struck = append(b.Struck, x.id)
	}
	rng.Shuffle(len(b.Struck), func(i, j int) { b.Struck[i], b.Struck[j] = b.Struck[j], b.Struck[i] })
	return b
}

func ballotBody(b tally.Ballot) []byte {
	data, err := b.MarshalJSON()
	if err != nil {
		panic(err)
	}
	return data
}

// round is an open contest with its desks' tokens.
type round struct {
	id    string
	def   []byte
	admin *apiClient
	desks []deskToken
}

type deskToken struct{ name, token string }

// openRound creates and opens a contest through admin and issues a counter
// token for each desk.
func openRound(t *testing.T, admin *apiClient, id, visibility string, desks int) *round {
	t.Helper()
	r := &round{id: id, def: e2eContest(id, visibility), admin: admin}
	admin.must(t, "POST", "/api/v1/contests", r.def, http.StatusCreated)
	admin.must(t, "POST", "/api/v1/contests/"+id+"/open", nil, http.StatusOK)
	for d := range desks {
		var tok struct {
			Token, Name string
		}
		name := fmt.Sprintf("Bàn %d", d+1)
		decodeJSON(t, "token", admin.must(t, "POST", "/api/v1/tokens", map[string]string{"role": "counter", "name": name}, http.StatusCreated), &tok)
		if tok.Token == "" || tok.Name != name {
			t.Fatalf("token for %s: %+v", name, tok)
		}
		r.desks = append(r.desks, deskToken{name: name, token: tok.Token})
	}
	return r
}

// ---------------------------------------------------------------------------
// Desks

// ack is a ballot a desk saw acknowledged.
type ack struct {
	id       string
	body     []byte
	desk     string
	status   int // 201 created, 200 already in the log
	receipt  tally.Receipt
	attempts int
	at       time.Time
}

// deskStats is what one desk saw.
type deskStats struct {
	acks      []ack
	transport int         // requests that failed without a response (refused, reset, timeout)
	statuses  map[int]int // responses other than 200 and 201
	err       error       // the desk stopped: a ballot it could not get acknowledged
}

// poster sends one ballot; attempt counts from 1, so a desk can choose
// where a retry goes.
type poster func(ctx context.Context, attempt int, body []byte) (int, []byte, error)

// retryable says whether a desk should send the same ballot again: no
// answer, or the service said it could not take the ballot now.
func retryable(status int) bool {
	return status == http.StatusServiceUnavailable || status == http.StatusBadGateway || status == http.StatusGatewayTimeout
}

// keyBallot sends one ballot until it is acknowledged (201 or 200), the
// same id and body every time, bounded by ctx and maxAttempts.
func keyBallot(ctx context.Context, st *deskStats, post poster, id string, body []byte) (ack, error) {
	const maxAttempts = 2000
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if ctx.Err() != nil {
			return ack{}, fmt.Errorf("ballot %s: not acknowledged after %d attempts: %w", id, attempt-1, ctx.Err())
		}
		status, data, err := post(ctx, attempt, body)
		switch {
		case err != nil:
			st.transport++
		case status == http.StatusCreated || status == http.StatusOK:
			var rc tally.Receipt
			if err := json.Unmarshal(data, &rc); err != nil || rc.Seq < 1 || len(rc.Hash) != 64 {
				return ack{}, fmt.Errorf("ballot %s: %d with a bad receipt %q: %v", id, status, data, err)
			}
			return ack{id: id, body: body, status: status, receipt: rc, attempts: attempt, at: time.Now()}, nil
		case retryable(status):
			st.statuses[status]++
		default:
			st.statuses[status]++
			return ack{}, fmt.Errorf("ballot %s attempt %d: unexpected %d: %s", id, attempt, status, data)
		}
		// Back off a little, as a desk would.
		select {
		case <-time.After(time.Duration(10+rand.IntN(20)) * time.Millisecond):
		case <-ctx.Done():
		}
	}
	return ack{}, fmt.Errorf("ballot %s: not acknowledged after %d attempts", id, maxAttempts)
}

// runDesks runs one goroutine per desk, each keying ballots <tag><d>-<n> from maker
// until stop is set (finishing the ballot in hand), max ballots are keyed
// or ctx ends. acked counts acknowledgements as they come.
func runDesks(ctx context.Context, r *round, tag string, maker *ballotMaker, posters []poster, stop *atomic.Bool, max int, acked *atomic.Int64) []deskStats {
	stats := make([]deskStats, len(posters))
	var wg sync.WaitGroup
	for d := range posters {
		wg.Go(func() {
			st := &stats[d]
			st.statuses = map[int]int{}
			for n := 0; n < max && !stop.Load(); n++ {
				id := fmt.Sprintf("%s-%s%d-%05d", r.id, tag, d+1, n+1)
				a, err := keyBallot(ctx, st, posters[d], id, ballotBody(maker.ballot(id, d, n)))
				if err != nil {
					st.err = fmt.Errorf("%s: %w", r.desks[d].name, err)
					return
				}
				a.desk = r.desks[d].name
				st.acks = append(st.acks, a)
				acked.Add(1)
			}
		})
	}
	wg.Wait()
	return stats
}

// ballotPoster posts to one server as one desk, with a client of its own.
func ballotPoster(t *testing.T, base, contest, token string) poster {
	c := &apiClient{base: base, token: token, hc: newHTTPClient(t, 5*time.Second)}
	path := "/api/v1/contests/" + contest + "/ballots"
	return func(ctx context.Context, _ int, body []byte) (int, []byte, error) {
		return c.do(ctx, "POST", path, body)
	}
}

// loadSummary is what all the desks saw together.
type loadSummary struct {
	acks      map[string]ack
	created   int // acknowledged 201
	again     int // acknowledged 200: the ballot was in the log already (its first reply was lost)
	retried   int // ballots that took more than one attempt
	transport int
	statuses  map[int]int
}

func summarize(t *testing.T, stats []deskStats) loadSummary {
	t.Helper()
	s := loadSummary{acks: map[string]ack{}, statuses: map[int]int{}}
	for _, st := range stats {
		if st.err != nil {
			t.Errorf("desk: %v", st.err)
		}
		s.transport += st.transport
		for k, v := range st.statuses {
			s.statuses[k] += v
		}
		for _, a := range st.acks {
			if _, dup := s.acks[a.id]; dup {
				t.Errorf("ballot %s acknowledged twice by the desks", a.id)
			}
			s.acks[a.id] = a
			if a.status == http.StatusCreated {
				s.created++
			} else {
				s.again++
			}
			if a.attempts > 1 {
				s.retried++
			}
		}
	}
	return s
}

func (s loadSummary) String() string {
	return fmt.Sprintf("%d ballots acknowledged (%d × 201, %d × 200 after a lost reply), %d needed retries; %d transport errors, statuses %v",
		len(s.acks), s.created, s.again, s.retried, s.transport, s.statuses)
}

// ---------------------------------------------------------------------------
// The oracle

// checkRound checks a round after the load against what the desks saw,
// then closes it with issued = the ballots acknowledged. It returns the
// log's length.
func checkRound(t *testing.T, r *round, acks map[string]ack) int64 {
	t.Helper()
	la := auditRoundLog(t, r, acks)
	if t.Failed() {
		t.FailNow()
	}
	return recountAndClose(t, r, acks, la)
}

// roundLog is a round's exported log and what auditRoundLog found in it.
type roundLog struct {
	export  []byte
	entries []tally.Entry
	head    string
	// lost: acknowledged ballots not in the log; duplicated: log entries
	// beyond the first of a ballot id; phantom: entries of ballots no desk
	// saw acknowledged.
	lost, duplicated, phantom int
}

// auditRoundLog exports a round's log and checks it against what the
// desks saw: its hash chain verifies, every entry is a ballot that was
// sent, once, as sent, and every acknowledged ballot is there with its
// receipt. Discrepancies are test errors (not fatal: the caller reports
// the counts first).
func auditRoundLog(t *testing.T, r *round, acks map[string]ack) roundLog {
	t.Helper()
	return auditLog(t, r, acks, false)
}

// auditLog is auditRoundLog; with lostOK an acknowledged ballot missing
// from the log is counted, not an error (a failover without WAIT, whose
// loss is what is measured).
func auditLog(t *testing.T, r *round, acks map[string]ack, lostOK bool) roundLog {
	t.Helper()
	path := "/api/v1/contests/" + r.id
	export := r.admin.must(t, "GET", path+"/log", nil, http.StatusOK)
	var entries []tally.Entry
	sc := bufio.NewScanner(bytes.NewReader(export))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var e tally.Entry
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("log line %d: %v: %s", len(entries)+1, err, sc.Bytes())
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	head, err := tally.VerifyChain(entries)
	if err != nil {
		t.Fatalf("the exported log does not verify: %v", err)
	}
	la := roundLog{export: export, entries: entries, head: head}

	// Every entry is a ballot that was sent, once, as sent; every
	// acknowledged ballot is there with its receipt.
	seen := map[string]int64{}
	for _, e := range entries {
		if e.Ballot == nil {
			t.Errorf("log entry %d is not a ballot: %+v", e.Seq, e)
			continue
		}
		id := e.Ballot.ID
		if first, dup := seen[id]; dup {
			t.Errorf("ballot %s is in the log twice: entries %d and %d", id, first, e.Seq)
			la.duplicated++
			continue
		}
		seen[id] = e.Seq
		a, ok := acks[id]
		if !ok {
			t.Errorf("log entry %d holds ballot %s, which no desk saw acknowledged", e.Seq, id)
			la.phantom++
			continue
		}
		sent, err := tally.ParseBallot(a.body)
		if err != nil {
			t.Fatalf("ballot %s as sent: %v", id, err)
		}
		if got, want := ballotBody(*e.Ballot), ballotBody(sent); !bytes.Equal(got, want) {
			t.Errorf("log entry %d: ballot %s is %s; it was sent as %s", e.Seq, id, got, want)
		}
		if a.receipt.Seq != e.Seq || a.receipt.Hash != e.Hash {
			t.Errorf("ballot %s: receipt (seq %d, %s…) but the log has it at seq %d (%s…)", id, a.receipt.Seq, a.receipt.Hash[:12], e.Seq, e.Hash[:12])
		}
		if e.Desk != a.desk {
			t.Errorf("ballot %s: the log records desk %q; it was keyed at %q", id, e.Desk, a.desk)
		}
	}
	for id := range acks {
		if _, ok := seen[id]; !ok {
			if !lostOK {
				t.Errorf("ballot %s was acknowledged (%+v) but is not in the log", id, acks[id].receipt)
			}
			la.lost++
		}
	}
	if len(entries) != len(acks)-la.lost || !lostOK && la.lost > 0 {
		t.Errorf("the log has %d entries; the desks saw %d ballots acknowledged", len(entries), len(acks))
	}
	return la
}

// recountAndClose checks that the service's result is `kiemphieu recount`
// of the exported log, then closes the round (a recount against the
// running counters). It returns the log's length.
func recountAndClose(t *testing.T, r *round, acks map[string]ack, la roundLog) int64 {
	t.Helper()
	path := "/api/v1/contests/" + r.id
	export, entries, head := la.export, la.entries, la.head

	// The service's result is the recount of its exported log.
	dir := t.TempDir()
	contestFile, logFile := filepath.Join(dir, "contest.json"), filepath.Join(dir, "log.jsonl")
	if err := os.WriteFile(contestFile, r.def, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logFile, export, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"recount", contestFile, logFile}, &out, &errOut); code != exitOK {
		t.Fatalf("kiemphieu recount of the exported log: exit %d: %s", code, errOut.String())
	}
	var recounted, served map[string]any
	decodeJSON(t, "recount output", out.Bytes(), &recounted)
	decodeJSON(t, "result", r.admin.must(t, "GET", path+"/result", nil, http.StatusOK), &served)
	if v, _ := served["version"].(float64); int64(v) != int64(len(entries)) {
		t.Errorf("result version %v; the log has %d entries", served["version"], len(entries))
	}
	delete(served, "version")
	if !reflect.DeepEqual(served, recounted) {
		a, _ := json.MarshalIndent(served, "", " ")
		b, _ := json.MarshalIndent(recounted, "", " ")
		t.Fatalf("GET result differs from kiemphieu recount of the log\nservice:\n%.3000s\nrecount:\n%.3000s", a, b)
	}
	if total := served["ballots"].(map[string]any)["total"].(float64); int(total) != len(acks) {
		t.Errorf("result counts %v ballots; %d were acknowledged", total, len(acks))
	}

	// Closing recounts the log against the running counters.
	var rec struct {
		State   string `json:"state"`
		Head    string `json:"head"`
		Version int64  `json:"version"`
		Issued  *int   `json:"issued"`
	}
	decodeJSON(t, "close", r.admin.must(t, "POST", path+"/close", map[string]int{"issued": len(acks)}, http.StatusOK), &rec)
	if rec.State != "closed" || rec.Head != head || rec.Version != int64(len(entries)) || rec.Issued == nil || *rec.Issued != len(acks) {
		t.Errorf("closed record: state %s, head %.12s…, version %d, issued %v; want closed, %.12s…, %d, %d",
			rec.State, rec.Head, rec.Version, rec.Issued, head, len(entries), len(acks))
	}
	return int64(len(entries))
}

// ---------------------------------------------------------------------------
// Test 1 and 2: crashes under load

// crashRun is a crash test: load from desks while crash is called cycles
// times, each 200–800 ms (seeded) after the service came back.
type crashRun struct {
	server *child // the kiemphieu server the desks post to
	cycles int
	desks  int
	// size names the proof.Size of the cycles (default CRASH_CYCLES) and
	// full their number in the full campaign (default 20).
	size string
	full int
	// budget bounds the load: 30 s and this much per cycle (default 5 s).
	budget time.Duration
	// crash breaks something and repairs it; it returns how long the
	// service was unable to take ballots.
	crash func(t *testing.T, rng *rand.Rand) time.Duration
}

func (cr crashRun) run(t *testing.T, contest string) loadSummary {
	seed := e2eSeed(t)
	// The campaign (make proof) crashes each store 20 times; KP_E2E_CYCLES
	// (or KP_PROOF_CRASH_CYCLES) sets any number.
	cr.cycles = proof.Size(cmp.Or(cr.size, "CRASH_CYCLES"), cr.cycles, cmp.Or(cr.full, 20))
	if v := os.Getenv(e2eCyclesEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			t.Fatalf("%s=%q: want 1–1000", e2eCyclesEnv, v)
		}
		cr.cycles = n
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	admin := &apiClient{base: cr.server.base(), token: e2eAdminToken, hc: newHTTPClient(t, 30*time.Second)}
	r := openRound(t, admin, contest, "certified", cr.desks)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second+time.Duration(cr.cycles)*cmp.Or(cr.budget, 5*time.Second))
	defer cancel()
	var stop atomic.Bool
	var acked atomic.Int64
	posters := make([]poster, cr.desks)
	for d := range posters {
		posters[d] = ballotPoster(t, cr.server.base(), r.id, r.desks[d].token)
	}
	done := make(chan []deskStats, 1)
	start := time.Now()
	go func() {
		done <- runDesks(ctx, r, "d", newBallotMaker(seed), posters, &stop, 2000*(cr.cycles+1), &acked)
	}()

	var downs []time.Duration
	last := int64(0)
	for cycle := 1; cycle <= cr.cycles; cycle++ {
		wait := time.Duration(200+rng.IntN(601)) * time.Millisecond
		select {
		case <-time.After(wait):
		case stats := <-done: // the desks gave up: report why
			cancel()
			t.Fatalf("the desks stopped before crash %d: %s", cycle, summarize(t, stats))
		}
		// Crash under load: on a busy machine the first ballots after a
		// restart may take longer than the wait.
		for i := 0; acked.Load() == last && i < 250; i++ {
			time.Sleep(20 * time.Millisecond)
		}
		now := acked.Load()
		if now == last {
			t.Fatalf("cycle %d: no ballot acknowledged in the 5 s after the service came back", cycle)
		}
		last = now
		down := cr.crash(t, rng)
		downs = append(downs, down)
		t.Logf("crash %d at %v of load (%d acknowledged so far); service back after %v", cycle, wait, now, down.Round(time.Millisecond))
	}
	time.Sleep(300 * time.Millisecond)
	if acked.Load() == last {
		t.Errorf("no ballot acknowledged after the last crash")
	}
	stop.Store(true)
	stats := <-done
	s := summarize(t, stats)
	t.Logf("%d crashes in %v (longest outage %v): %s", cr.cycles, time.Since(start).Round(time.Millisecond), slices.Max(downs).Round(time.Millisecond), s)
	if t.Failed() {
		t.FailNow()
	}
	la := auditRoundLog(t, r, s.acks)
	proof.Report(t, "seed", seed, "")
	proof.Report(t, "cycles", cr.cycles, "crashes")
	proof.Report(t, "acknowledged", len(s.acks), "ballots")
	proof.Report(t, "acknowledged_lost", la.lost, "ballots")
	proof.Report(t, "duplicated", la.duplicated, "log entries")
	proof.Report(t, "unacknowledged_in_log", la.phantom, "log entries")
	proof.Report(t, "acknowledged_after_lost_reply", s.again, "ballots (200 on a retry: in the log already)")
	proof.Report(t, "answered_503", s.statuses[http.StatusServiceUnavailable], "requests")
	proof.Report(t, "transport_errors", s.transport, "requests")
	proof.Report(t, "longest_outage", slices.Max(downs).Round(time.Millisecond), "")
	if t.Failed() {
		t.FailNow()
	}
	n := recountAndClose(t, r, s.acks, la)
	t.Logf("log of %d entries verified, recount equal, round closed", n)
	return s
}

// killServer is the crash of the kiemphieu process itself: SIGKILL, then
// a start on the same address and data.
func killServer(srv *child) func(t *testing.T, rng *rand.Rand) time.Duration {
	return func(t *testing.T, _ *rand.Rand) time.Duration {
		start := time.Now()
		srv.kill()
		srv.restart()
		return time.Since(start)
	}
}

func TestE2ECrashEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end crash test: not with -short")
	}
	srv := startChild(t, "kiemphieu", "serve", "--data", t.TempDir(), "--redis-url", "", "--admin-token", e2eAdminToken)
	crashRun{server: srv, cycles: 4, desks: 8, crash: killServer(srv)}.run(t, "e2e-bolt")
	srv.stop()
}

func TestE2ECrashRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end crash test: not with -short")
	}
	rs := redistest.Start(t)
	srv := startChild(t, "kiemphieu", "serve", "--data", t.TempDir(), "--redis-url", rs.URL(), "--admin-token", e2eAdminToken)
	crashRun{server: srv, cycles: 3, desks: 8, crash: killServer(srv)}.run(t, "e2e-redis")
	srv.stop()
}

// The service keeps running while redis-server is killed under it: the
// desks see 503s (or timeouts) and retry, and nothing acknowledged is lost.
func TestE2ECrashRedisServer(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end crash test: not with -short")
	}
	rs := redistest.Start(t)
	srv := startChild(t, "kiemphieu", "serve", "--data", t.TempDir(), "--redis-url", rs.URL(), "--admin-token", e2eAdminToken)
	probe := &apiClient{base: srv.base(), hc: newHTTPClient(t, 5*time.Second)}
	s := crashRun{server: srv, cycles: 3, desks: 8, crash: func(t *testing.T, rng *rand.Rand) time.Duration {
		start := time.Now()
		rs.Kill()
		// While Redis is down the service says it is not ready.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		status, body, err := probe.do(ctx, "GET", "/readyz", nil)
		cancel()
		if err != nil || status != http.StatusServiceUnavailable {
			t.Errorf("/readyz with redis-server down: %d %s %v; want 503", status, body, err)
		}
		probed := time.Since(start)
		time.Sleep(time.Duration(100+rng.IntN(300)) * time.Millisecond)
		rs.Restart(t)
		restarted := time.Since(start)
		if err := waitReady(srv.base(), srv.exited, 20*time.Second); err != nil {
			t.Fatalf("the service after redis-server came back: %v", err)
		}
		t.Logf("redis-server killed: /readyz said 503 after %v; redis-server down for %v; the service ready %v after the restart",
			probed.Round(time.Millisecond), restarted.Round(time.Millisecond), (time.Since(start) - restarted).Round(time.Millisecond))
		return time.Since(start)
	}}.run(t, "e2e-redis-down")
	if s.transport+s.statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("the desks saw no error while redis-server was down: %s", s)
	}
	// A kill during an AOF write tears it; Restart cut each torn,
	// unacknowledged batch with redis-check-aof --fix (docs/reliability.md).
	proof.Report(t, "aof_repairs", len(rs.Repairs()), "torn AOF ends cut")
	for _, r := range rs.Repairs() {
		t.Logf("AOF repaired: %s", r)
	}
	srv.stop()
}

// ---------------------------------------------------------------------------
// Test 3: two instances on one Redis

// sseEvent is one server-sent event as it arrived.
type sseEvent struct {
	id, event, data string
	at              time.Time
}

// openStream reads a contest's SSE stream over a real connection until ctx
// ends; events arrive on the channel, which is closed when the stream ends.
func openStream(t *testing.T, ctx context.Context, base, contest, token string) <-chan sseEvent {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/contests/"+contest+"/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "text/event-stream")
	hc := newHTTPClient(t, 0) // the stream is bounded by ctx
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
		resp.Body.Close()
		t.Fatalf("stream: %s %s: %s", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	events := make(chan sseEvent, 4096)
	go func() {
		defer close(events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" || ev.data != "" {
					ev.at = time.Now()
					select {
					case events <- ev:
					case <-ctx.Done():
						return
					}
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data += line[6:]
			}
		}
	}()
	return events
}

// nextTally returns the first tally event with an id of at least version,
// or fails the test when the stream ends or deadline passes first.
func nextTally(t *testing.T, events <-chan sseEvent, version int64, deadline time.Time) sseEvent {
	t.Helper()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("the stream ended before a tally event of version %d", version)
			}
			if ev.event != "tally" {
				continue
			}
			v, err := strconv.ParseInt(ev.id, 10, 64)
			if err != nil {
				t.Fatalf("tally event with id %q", ev.id)
			}
			if v >= version {
				return ev
			}
		case <-timer.C:
			t.Fatalf("no tally event of version %d on the stream by the deadline", version)
		}
	}
}

func sameJSON(t *testing.T, what string, a, b []byte) {
	t.Helper()
	var x, y any
	decodeJSON(t, what, a, &x)
	decodeJSON(t, what, b, &y)
	if !reflect.DeepEqual(x, y) {
		t.Fatalf("%s differ:\n%.2000s\n%.2000s", what, a, b)
	}
}

// keyAndFollow keys perDesk ballots at each of the first desks of r on the
// instance at base and checks that the stream events (opened on another
// instance) reach the final version within 2 s of the last
// acknowledgement, with the same result as base's. It returns the desks'
// summary, the event and its lag.
func keyAndFollow(t *testing.T, ctx context.Context, r *round, tag string, maker *ballotMaker, base string, admin *apiClient,
	events <-chan sseEvent, desks, perDesk int) (loadSummary, sseEvent, time.Duration) {
	t.Helper()
	var stop atomic.Bool
	var acked atomic.Int64
	posters := make([]poster, desks)
	for d := range posters {
		posters[d] = ballotPoster(t, base, r.id, r.desks[d].token)
	}
	s := summarize(t, runDesks(ctx, r, tag, maker, posters, &stop, perDesk, &acked))
	if t.Failed() {
		t.FailNow()
	}
	var lastAck time.Time
	for _, x := range s.acks {
		if x.at.After(lastAck) {
			lastAck = x.at
		}
	}
	result := admin.must(t, "GET", "/api/v1/contests/"+r.id+"/result", nil, http.StatusOK)
	var res struct{ Version int64 }
	decodeJSON(t, "result", result, &res)
	ev := nextTally(t, events, res.Version, lastAck.Add(5*time.Second))
	lag := ev.at.Sub(lastAck)
	if ev.id != strconv.FormatInt(res.Version, 10) {
		t.Fatalf("%s: the other instance's stream jumped to version %s; the result is at %d", r.id, ev.id, res.Version)
	}
	if lag > 2*time.Second {
		t.Errorf("%s: the other instance's stream reached the final version %v after the last ballot; want ≤ 2 s", r.id, lag)
	}
	sameJSON(t, "the stream event and the result", []byte(ev.data), result)
	return s, ev, lag
}

func TestE2ETwoInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: not with -short")
	}
	seed := e2eSeed(t)
	rs := redistest.Start(t)
	a := startChild(t, "kiemphieu-A", "serve", "--data", t.TempDir(), "--redis-url", rs.URL(), "--admin-token", e2eAdminToken)
	b := startChild(t, "kiemphieu-B", "serve", "--data", t.TempDir(), "--redis-url", rs.URL(), "--admin-token", e2eAdminToken)
	adminA := &apiClient{base: a.base(), token: e2eAdminToken, hc: newHTTPClient(t, 30*time.Second)}
	adminB := &apiClient{base: b.base(), token: e2eAdminToken, hc: newHTTPClient(t, 30*time.Second)}
	// Contest and tokens are made on A; B knows them through Redis.
	r := openRound(t, adminA, "e2e-two", "certified", 6)
	maker := newBallotMaker(seed)

	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	events := openStream(t, ctx, b.base(), r.id, e2eAdminToken)
	first := nextTally(t, events, 0, time.Now().Add(5*time.Second))
	if first.id != "0" {
		t.Fatalf("the stream's first tally event has id %s; want 0", first.id)
	}

	// keyToA keys perDesk ballots at each of 4 desks on A and checks that
	// B's stream reaches the final version within 2 s of the last
	// acknowledgement, with A's result.
	keyToA := func(phase, tag string, perDesk int) map[string]ack {
		t.Helper()
		s, ev, lag := keyAndFollow(t, ctx, r, tag, maker, a.base(), adminA, events, 4, perDesk)
		t.Logf("%s: %s; B's stream reached version %s %v after the last acknowledgement", phase, s, ev.id, lag.Round(time.Millisecond))
		return s.acks
	}

	// Phase 1: ballots to A, the live result on B.
	acks := keyToA("phase 1", "a", 60)
	if len(acks) != 240 {
		t.Fatalf("phase 1: %d ballots acknowledged; want 240", len(acks))
	}

	// Phase 2: both instances at once, each ballot retried across them.
	type crossStats struct {
		acks                        []ack
		cross, raced, doubt, landed int // ballots by how they were sent; landed: a timed-out first send was in the log
		err                         error
	}
	clients := func(d int) [2]*apiClient {
		return [2]*apiClient{
			{base: a.base(), token: r.desks[d].token, hc: newHTTPClient(t, 5*time.Second)},
			{base: b.base(), token: r.desks[d].token, hc: newHTTPClient(t, 5*time.Second)},
		}
	}
	path := "/api/v1/contests/" + r.id + "/ballots"
	const crossDesks, perDesk = 6, 40
	results := make([]crossStats, crossDesks)
	var wg sync.WaitGroup
	for d := range crossDesks {
		wg.Go(func() {
			cs := &results[d]
			cl := clients(d)
			rng := rand.New(rand.NewPCG(seed, uint64(100+d)))
			st := &deskStats{statuses: map[int]int{}}
			to := func(i int) poster {
				return func(ctx context.Context, _ int, body []byte) (int, []byte, error) {
					return cl[i].do(ctx, "POST", path, body)
				}
			}
			fail := func(format string, args ...any) {
				cs.err = fmt.Errorf("%s: "+format, append([]any{r.desks[d].name}, args...)...)
			}
			for n := range perDesk {
				id := fmt.Sprintf("%s-x%d-%04d", r.id, d+1, n+1)
				body := ballotBody(maker.ballot(id, 100+d, n))
				home := rng.IntN(2)
				var got ack
				switch mode := rng.IntN(3); mode {
				case 0: // acknowledged by one instance, sent again to the other
					cs.cross++
					first, err := keyBallot(ctx, st, to(home), id, body)
					if err != nil {
						fail("%v", err)
						return
					}
					again, err := keyBallot(ctx, st, to(1-home), id, body)
					if err != nil {
						fail("%v", err)
						return
					}
					if first.status != http.StatusCreated || again.status != http.StatusOK || again.receipt != first.receipt {
						fail("ballot %s: %d %+v from one instance, then %d %+v from the other; want 201, then 200 with the same receipt",
							id, first.status, first.receipt, again.status, again.receipt)
						return
					}
					got = first
				case 1: // sent to both at the same moment
					cs.raced++
					var both [2]ack
					var errs [2]error
					var race sync.WaitGroup
					var sts [2]deskStats
					for i := range 2 {
						sts[i].statuses = map[int]int{}
						race.Go(func() { both[i], errs[i] = keyBallot(ctx, &sts[i], to(i), id, body) })
					}
					race.Wait()
					for _, x := range sts {
						st.transport += x.transport
						for k, v := range x.statuses {
							st.statuses[k] += v
						}
					}
					if err := errors.Join(errs[:]...); err != nil {
						fail("%v", err)
						return
					}
					created := 0
					for _, x := range both {
						if x.status == http.StatusCreated {
							created++
						}
					}
					if both[0].receipt != both[1].receipt || created > 1 {
						fail("ballot %s sent to both instances at once: %d %+v and %d %+v; want one receipt, created at most once",
							id, both[0].status, both[0].receipt, both[1].status, both[1].receipt)
						return
					}
					got = both[0]
				case 2: // the first send times out at the client; the retry goes to the other instance
					cs.doubt++
					tctx, tcancel := context.WithTimeout(ctx, time.Duration(rng.IntN(3000))*time.Microsecond)
					_, _, _ = cl[home].do(tctx, "POST", path, body)
					tcancel()
					retry, err := keyBallot(ctx, st, to(1-home), id, body)
					if err != nil {
						fail("%v", err)
						return
					}
					if retry.status == http.StatusOK {
						cs.landed++
					}
					again, err := keyBallot(ctx, st, to(home), id, body)
					if err != nil {
						fail("%v", err)
						return
					}
					if again.status != http.StatusOK || again.receipt != retry.receipt {
						fail("ballot %s: %+v from one instance, then %d %+v from the other", id, retry.receipt, again.status, again.receipt)
						return
					}
					got = retry
				}
				got.desk = r.desks[d].name
				cs.acks = append(cs.acks, got)
			}
			if st.transport > 0 || len(st.statuses) > 0 {
				fail("errors without faults: %d transport, statuses %v", st.transport, st.statuses)
			}
		})
	}
	wg.Wait()
	var cross, raced, doubt, landed int
	for _, cs := range results {
		if cs.err != nil {
			t.Error(cs.err)
		}
		cross, raced, doubt, landed = cross+cs.cross, raced+cs.raced, doubt+cs.doubt, landed+cs.landed
		for _, x := range cs.acks {
			acks[x.id] = x
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("phase 2: %d ballots across both instances: %d acknowledged by one and resent to the other, %d sent to both at once, %d timed out at the client and retried on the other (%d of these had landed)",
		cross+raced+doubt, cross, raced, doubt, landed)

	// Both instances serve the same result, and B's stream has it.
	resultA := adminA.must(t, "GET", "/api/v1/contests/"+r.id+"/result", nil, http.StatusOK)
	sameJSON(t, "A's and B's results", resultA, adminB.must(t, "GET", "/api/v1/contests/"+r.id+"/result", nil, http.StatusOK))
	var res struct{ Version int64 }
	decodeJSON(t, "result", resultA, &res)
	ev := nextTally(t, events, res.Version, time.Now().Add(5*time.Second))
	sameJSON(t, "B's stream event and A's result", []byte(ev.data), resultA)

	// Phase 3: redis-server restarts under both instances; B's open stream
	// still follows A (the change notices resume, not only the poll).
	rs.Kill()
	rs.Restart(t)
	for _, c := range []*child{a, b} {
		if err := waitReady(c.base(), c.exited, 20*time.Second); err != nil {
			t.Fatalf("%s after redis-server restarted: %v", c.name, err)
		}
	}
	maps.Copy(acks, keyToA("phase 3, after a redis-server restart", "c", 10))
	n := checkRound(t, r, acks)
	t.Logf("log of %d entries verified, recount equal, round closed", n)
	cancel() // end the stream before the servers stop
	a.stop()
	b.stop()
}

// ---------------------------------------------------------------------------
// Test 4: the demo

func TestE2EDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: not with -short")
	}
	srv := startChild(t, "kiemphieu-demo", "demo", "--data", t.TempDir(), "--redis-url", "", "--admin-token", e2eAdminToken)
	anon := &apiClient{base: srv.base(), hc: newHTTPClient(t, 10*time.Second)}

	// The committee round is counted, closed and certified: public.
	deadline := time.Now().Add(45 * time.Second)
	var res tally.Result
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		status, body, err := anon.do(ctx, "GET", "/api/v1/contests/demo-bch/result", nil)
		cancel()
		if err == nil && status == http.StatusOK {
			decodeJSON(t, "demo-bch result", body, &res)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo-bch result not public after 45 s: %d %s %v", status, body, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(res.Elected) != 41 || res.Seats != 41 || res.Ballots.Total != 290 {
		t.Errorf("demo-bch: %d elected of %d seats from %d ballots; want 41 of 41 from 290", len(res.Elected), res.Seats, res.Ballots.Total)
	}
	// The rounds are filed under their congress, whose record the minutes
	// print; the demo's people can sign in.
	admin := &apiClient{base: srv.base(), token: e2eAdminToken, hc: anon.hc}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var contest struct {
		Congress string `json:"congress"`
	}
	var congress tally.CongressRecord
	status, body, err := admin.do(ctx, "GET", "/api/v1/contests/demo-bch", nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET demo-bch: %d %s %v", status, body, err)
	}
	decodeJSON(t, "demo-bch", body, &contest)
	status, body, err = admin.do(ctx, "GET", "/api/v1/congresses/"+contest.Congress, nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET the congress %q of demo-bch: %d %s %v", contest.Congress, status, body, err)
	}
	decodeJSON(t, "congress", body, &congress)
	if head, ok := congress.Head(); !ok || head.Name == "" || congress.Organization != "Đảng bộ quận Ba Đình" {
		t.Errorf("demo congress: %+v", congress)
	}
	status, body, err = anon.do(ctx, "POST", "/api/v1/login", []byte(`{"username":"thuky","password":"`+demoPassword+`"}`))
	if err != nil || status != http.StatusOK {
		t.Errorf("the demo's secretary cannot sign in: %d %s %v", status, body, err)
	}

	// The delegates round is still being keyed: its live stream moves, up
	// to the ballots of the slow live desk (after the first 200).
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	events := openStream(t, ctx, srv.base(), "demo-daibieu", "")
	var seen []int64
	var last tally.Result
	for i := 0; len(seen) < 2 || seen[len(seen)-1] <= 200; i++ {
		if i == 1000 {
			t.Fatalf("1000 tally events and the stream is still at %v", seen[len(seen)-1])
		}
		ev := nextTally(t, events, 0, time.Now().Add(15*time.Second)) // the next, whatever its id
		v, _ := strconv.ParseInt(ev.id, 10, 64)
		var r tally.Result
		decodeJSON(t, "tally event", []byte(ev.data), &r)
		if len(seen) > 0 && v <= seen[len(seen)-1] {
			t.Fatalf("tally event ids %v, then %d: not increasing", seen, v)
		}
		if r.Contest != "demo-daibieu" || r.Version == nil || *r.Version != v || (len(seen) > 0 && r.Ballots.Total <= last.Ballots.Total) {
			t.Fatalf("tally event %s: contest %s, version %v, %d ballots (before: %d)", ev.id, r.Contest, r.Version, r.Ballots.Total, last.Ballots.Total)
		}
		seen, last = append(seen, v), r
	}
	t.Logf("demo-daibieu stream: tally events with ids %v", seen)
	cancel()
	srv.stop()
}
