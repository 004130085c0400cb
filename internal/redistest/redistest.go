// Package redistest starts a real redis-server for tests: on a free loopback
// port, with its data in a test's temporary directory and the durability
// settings the service requires (appendonly yes, appendfsync always). A
// test can kill it (SIGKILL, as a power cut would) and start it again on the
// same port and data.
//
// Without redis-server on PATH the tests that need it are skipped, loudly,
// except in CI (the CI environment variable is set), where that is a
// failure: scripts/test installs the Debian package.
package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a server may take to answer PING with its
// data loaded.
const startTimeout = 20 * time.Second

// Server is a redis-server process owned by a test.
type Server struct {
	bin    string
	port   int
	dir    string
	logDir string
	fsync  string // appendfsync
	// bus is the cluster bus port of a cluster node (0: not a node).
	bus int
	// loadTruncated runs the server with aof-load-truncated yes, Redis's
	// default, which the service must not use (see start).
	loadTruncated bool
	repairs       []string // what each AOF repair of Restart reported
	password      string   // requirepass; empty for none
	tls           *TLS     // a TLS port beside the plain one; nil for none
	tlsPort       int
	replicaOf     string   // host:port of the primary (StartReplica); empty for a primary
	args          []string // Options.Args

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Start starts a redis-server for t and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// Options change what Start does, for the tests of failures.
type Options struct {
	// Dir is the data directory (the AOF); default a new temporary
	// directory. The server's log is kept elsewhere (LogPath), so that it
	// still says why when Dir's filesystem is full.
	Dir string
	// AppendFsync is the appendfsync policy: "always" (the default, what
	// the service requires) or "everysec".
	AppendFsync string
	// AOFLoadTruncated runs the server with Redis's default
	// aof-load-truncated yes, under which Redis ≤ 7.x can merge a script torn
	// by a crash into the next one: for the test that shows what the store
	// does then.
	AOFLoadTruncated bool
	// Password makes the server require it (requirepass), as a deployment
	// must: URL then carries it, and Do and the readiness checks send AUTH.
	Password string
	// TLS, when set, opens a TLS port beside the plain one (TLSAddr), with
	// these PEM files; clients are not asked for certificates.
	TLS *TLS
	// Args are more redis-server arguments, after the harness's own: for
	// the tests of start-up (--key-load-delay makes loading slow).
	Args []string
}

// TLS names a server's certificate, its key and the CA that signed it.
type TLS struct {
	Cert, Key, CA string
}

// StartWith is Start with options.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server not found: install it (apt-get install redis-server) — scripts/test does this")
		}
		t.Skip("SKIPPING: redis-server not installed; these tests run in CI")
	}
	s := &Server{bin: bin, dir: o.Dir, logDir: t.TempDir(), fsync: o.AppendFsync, loadTruncated: o.AOFLoadTruncated,
		password: o.Password, tls: o.TLS, args: o.Args}
	if s.dir == "" {
		s.dir = t.TempDir()
	} else if err := os.MkdirAll(s.dir, 0o700); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	// A free port can be taken by someone else between our probe and the
	// server's bind: try a few.
	for attempt := 0; ; attempt++ {
		s.port = freePort(t)
		if s.tls != nil {
			s.tlsPort = freePort(t)
		}
		err = s.start()
		if err == nil {
			break
		}
		if attempt == 4 {
			t.Fatalf("redistest: %v", err)
		}
	}
	t.Cleanup(s.stop)
	return s
}

// Launch starts a redis-server outside a test, with its data in dir, the
// same settings as Start and on a free loopback port: for tools such as
// internal/cmd/loadtest. The caller must Close it. Like Start's, the server
// is killed by the kernel if the thread that started it exits first.
func Launch(dir string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redistest: redis-server not found: install it (apt-get install redis-server)")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	s := &Server{bin: bin, dir: dir}
	for attempt := 0; ; attempt++ {
		if s.port, err = pickPort(); err != nil {
			return nil, fmt.Errorf("redistest: finding a free port: %w", err)
		}
		if err = s.start(); err == nil {
			return s, nil
		}
		if attempt == 4 {
			return nil, fmt.Errorf("redistest: %w", err)
		}
	}
}

// Close stops a server started by Launch: SHUTDOWN NOSAVE, then SIGKILL
// after 5 s.
func (s *Server) Close() { s.stop() }

// URL is the server's address as a redis:// URL, with its password.
func (s *Server) URL() string {
	u := url.URL{Scheme: "redis", Host: s.Addr(), Path: "/0"}
	if s.password != "" {
		u.User = url.UserPassword("", s.password)
	}
	return u.String()
}

// TLSAddr is the host:port of the TLS port (Options.TLS).
func (s *Server) TLSAddr() string { return "127.0.0.1:" + strconv.Itoa(s.tlsPort) }

// Addr is the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Dir is the server's data directory (the AOF is under it).
func (s *Server) Dir() string { return s.dir }

// LogPath is the server's log file.
func (s *Server) LogPath() string { return filepath.Join(s.logDir, "redis.log") }

// Running says whether the server process is still running (it exits by
// itself on a failed AOF write with appendfsync always).
func (s *Server) Running() bool {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Do sends one command (CONFIG SET, INFO, …) on a new connection and
// returns a simple, integer or bulk string reply; an error reply is an
// error.
func (s *Server) Do(args ...string) (string, error) { return s.do(args...) }

// Kill kills the server with SIGKILL, as a crash or a power cut would, and
// waits for it to exit. Only what Redis had fsynced to its AOF survives.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Restart starts the server again on the same port and data directory,
// after Kill or a crash, and waits until it has loaded its data.
//
// When the server refuses to load an AOF whose end a crash tore (as it does
// with aof-load-truncated no), Restart does what docs/reliability.md tells an
// operator to do: `redis-check-aof --fix`, which cuts the file before the
// torn command or, inside a MULTI block, before the whole block; then it
// starts the server again. Repairs lists what each repair reported.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Kill()
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		if err = s.start(); err == nil {
			return
		}
		if TornAOF(err) {
			report, ferr := s.repairAOF()
			if ferr != nil {
				t.Fatalf("redistest: restart: %v\nrepairing the AOF: %v", err, ferr)
			}
			s.mu.Lock()
			s.repairs = append(s.repairs, report)
			s.mu.Unlock()
			continue
		}
		time.Sleep(100 * time.Millisecond) // the port may still be held
	}
	t.Fatalf("redistest: restart: %v", err)
}

// TryStart starts a killed server once, as the machine's service manager
// would after a power cut, without repairing anything: it returns nil once
// the server has loaded its data, else why it did not start (Redis's log's
// end included; TornAOF says whether it refused a torn AOF). Restart then
// does the operator's repair.
func (s *Server) TryStart() error {
	s.Kill()
	return s.start()
}

// Repairs returns, for each AOF Restart had to repair, redis-check-aof's
// line saying how much it cut.
func (s *Server) Repairs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.repairs)
}

// TornAOF says whether a failed start (of TryStart, say) was Redis
// refusing an AOF whose end is torn: it ends in the middle of a command
// (aof-load-truncated no), or, after a power cut that let a later page of
// the file reach the disk before an earlier one, the bytes after the last
// whole command are not a command at all. redis-check-aof --fix cuts both.
func TornAOF(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "Unexpected end of file reading the append only file") ||
		strings.Contains(err.Error(), "Bad file format reading the append only file"))
}

// repairAOF runs redis-check-aof --fix on the server's AOF manifest and
// returns the line that says what it cut.
func (s *Server) repairAOF() (string, error) {
	bin, err := exec.LookPath("redis-check-aof")
	if err != nil {
		return "", fmt.Errorf("redis-check-aof not found (Debian: redis-tools): %w", err)
	}
	manifest := filepath.Join(s.dir, "appendonlydir", "appendonly.aof.manifest")
	cmd := exec.Command(bin, "--fix", manifest)
	cmd.Stdin = strings.NewReader("y\n") // "Continue? [y/N]"
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%w\n%s", err, out)
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		if strings.Contains(line, "This will shrink") {
			return strings.TrimSpace(line), nil
		}
	}
	return "", fmt.Errorf("redis-check-aof --fix cut nothing:\n%s", out)
}

func (s *Server) start() error {
	if s.logDir == "" {
		s.logDir = s.dir
	}
	if s.fsync == "" {
		s.fsync = "always"
	}
	// A crash can tear the AOF's last write. With yes (Redis's default)
	// Redis ≤ 7.x cuts a torn script inside its MULTI block and a later
	// script then completes it: see Restart and store/redis's appendScript.
	loadTruncated := "no"
	if s.loadTruncated {
		loadTruncated = "yes"
	}
	logPath := s.LogPath()
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--appendonly", "yes",
		"--appendfsync", s.fsync,
		"--aof-load-truncated", loadTruncated,
		"--save", "",
		"--daemonize", "no",
		"--logfile", logPath,
	}
	if s.password != "" {
		args = append(args, "--requirepass", s.password)
	}
	if s.tls != nil {
		args = append(args, "--tls-port", strconv.Itoa(s.tlsPort), "--tls-cert-file", s.tls.Cert,
			"--tls-key-file", s.tls.Key, "--tls-ca-cert-file", s.tls.CA, "--tls-auth-clients", "no")
	}
	s.mu.Lock()
	replicaOf := s.replicaOf
	s.mu.Unlock()
	if replicaOf != "" {
		host, port, _ := strings.Cut(replicaOf, ":")
		args = append(args, "--replicaof", host, port)
		if s.password != "" {
			args = append(args, "--masterauth", s.password)
		}
	}
	if s.bus != 0 {
		// The bus port is chosen apart: port+10000, the default, may be
		// taken or beyond 65535 for a high ephemeral port.
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(s.bus), "--cluster-node-timeout", "2000")
	}
	args = append(args, s.args...)
	// No cmd.Dir: --dir says where the data is, and Redis changes into it
	// itself. A cmd.Dir makes the forked child chdir before exec, and when
	// the directory is on a FUSE layer served by this very process (the
	// power-cut tests) that chdir waits for the layer while the parent's
	// vfork holds up the garbage collector's stop-the-world, which the
	// layer's goroutines then wait for: a deadlock, seen once in 100 cuts.
	cmd := exec.Command(s.bin, args...)
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	if err := s.waitReady(done); err != nil {
		_ = cmd.Process.Kill()
		<-done
		tail, _ := os.ReadFile(logPath)
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("redis-server on port %d: %w\n--- redis.log (end) ---\n%s", s.port, err, tail)
	}
	return nil
}

// waitReady polls until the server answers PING and reports it is not
// loading, the process exits, or startTimeout passes.
func (s *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("exited during start-up")
		default:
		}
		last = s.ready()
		if last == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %v: %v", startTimeout, last)
}

func (s *Server) ready() error {
	reply, err := s.do("PING")
	if err != nil {
		return err
	}
	if reply != "PONG" {
		return fmt.Errorf("PING: %q", reply)
	}
	info, err := s.do("INFO", "persistence")
	if err != nil {
		return err
	}
	if !strings.Contains(info, "loading:0") {
		return errors.New("still loading its data")
	}
	return nil
}

// do sends one command on a new connection and returns a simple or bulk
// string reply: enough RESP for PING, INFO and SHUTDOWN, with no client
// library in between.
func (s *Server) do(args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	var req bytes.Buffer
	commands := [][]string{args}
	if s.password != "" {
		commands = [][]string{{"AUTH", s.password}, args}
	}
	for _, args := range commands {
		fmt.Fprintf(&req, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if _, err := conn.Write(req.Bytes()); err != nil {
		return "", err
	}
	rd := bufio.NewReader(conn)
	if s.password != "" {
		if line, err := rd.ReadString('\n'); err != nil {
			return "", err
		} else if !strings.HasPrefix(line, "+OK") {
			return "", fmt.Errorf("AUTH: %q", strings.TrimSpace(line))
		}
	}
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case strings.HasPrefix(line, "+"), strings.HasPrefix(line, ":"):
		return line[1:], nil
	case strings.HasPrefix(line, "-"):
		return "", errors.New(line[1:])
	case strings.HasPrefix(line, "$"):
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", fmt.Errorf("bad bulk reply %q", line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

// stop shuts the server down without saving (its AOF is already written)
// and waits for it to exit, killing it if it does not.
func (s *Server) stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_, _ = s.do("SHUTDOWN", "NOSAVE") // the connection drops as it exits
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	port, err := pickPort()
	if err != nil {
		t.Fatalf("redistest: finding a free port: %v", err)
	}
	return port
}

func pickPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
