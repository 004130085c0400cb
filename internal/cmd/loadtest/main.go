// Command loadtest measures the service over HTTP on this machine, as
// docs/benchmarks.md reports it:
//
//	go run ./internal/cmd/loadtest intake   # durable ballot intake beside a bare Fiber handler
//	go run ./internal/cmd/loadtest sse      # SSE fan-out to 10,000 viewers
//	go run ./internal/cmd/loadtest bench    # each path beside its ceiling, one table (make bench)
//	go run ./internal/cmd/loadtest hostile  # intake beside slowloris connections and viewers that stop reading
//
// It starts what it measures itself, on loopback only: the servers as child
// processes (re-executions of this program: `loadtest server`, which builds
// the service exactly as `kiemphieu serve` does), a redis-server of its own
// in a temporary directory (appendonly yes, appendfsync always), and the
// SSE viewers in child processes (`loadtest viewers`). Every run is bounded
// by -timeout; the children die with it (SIGTERM, then SIGKILL, and the
// kernel's parent-death signal if this process is killed).
//
// `loadtest server` has an opt-in -pprof listener, for profiling the
// service under load; the product (`kiemphieu serve`) has none.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	args := os.Args[2:]
	var err error
	switch os.Args[1] {
	case "intake":
		err = runIntake(args)
	case "sse":
		err = runSSE(args)
	case "bench":
		err = runBench(args)
	case "hashlines":
		err = runHashLines(args)
	case "hostile":
		err = runHostile(args)
	case "server":
		err = runServerChild(args)
	case "viewers":
		err = runViewers(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadtest %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: loadtest bench|intake|sse|hostile [flags]   (-h for the flags of each)
internal: loadtest server|viewers|hashlines [flags] (started by the others)`)
	os.Exit(2)
}

// raiseNofile sets the soft limit of open files to the hard limit, for
// this process and (because it is set explicitly) its children.
func raiseNofile() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return lim.Cur, nil
}

// machine describes where the figures come from.
func machine() string {
	cpu := "unknown"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	load := ""
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	return fmt.Sprintf("nproc %d, CPU %q, %s %s/%s, %s, load average before %s",
		runtime.NumCPU(), cpu, runtime.Version(), runtime.GOOS, runtime.GOARCH,
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), load)
}

// child is a process this program started: a server or a viewer group.
type child struct {
	name  string
	cmd   *exec.Cmd
	lines chan string // its stdout, line by line; closed at EOF
	stdin io.WriteCloser
	log   string // where its stderr goes
	done  chan struct{}
}

// startChild re-executes this program with args; its stderr goes to
// logPath. A nice above 0 runs it (every thread) at that lower priority.
func startChild(name, logPath string, nice int, args ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if nice != 0 {
		args = append([]string{"-n", strconv.Itoa(nice), exe}, args...)
		if exe, err = exec.LookPath("nice"); err != nil {
			return nil, err
		}
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	// Pdeathsig fires when the starting thread exits: keep it.
	runtime.LockOSThread()
	err = cmd.Start()
	runtime.UnlockOSThread()
	logf.Close()
	if err != nil {
		return nil, err
	}
	c := &child{name: name, cmd: cmd, lines: make(chan string, 16), stdin: in, log: logPath, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	go func() {
		cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// expect waits for a line starting with prefix and returns the rest.
func (c *child) expect(ctx context.Context, prefix string, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				return "", fmt.Errorf("%s exited before saying %q; its log:\n%s", c.name, prefix, tail(c.log))
			}
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				return strings.TrimSpace(rest), nil
			}
		case <-t.C:
			return "", fmt.Errorf("%s did not say %q within %v; its log:\n%s", c.name, prefix, timeout, tail(c.log))
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop asks the child to end (SIGTERM, stdin closed) and kills it after
// grace.
func (c *child) stop(grace time.Duration) {
	select {
	case <-c.done:
		return
	default:
	}
	c.stdin.Close()
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		c.cmd.Process.Kill()
		<-c.done
	}
}

func tail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 3000 {
		data = data[len(data)-3000:]
	}
	return string(data)
}

// rssKiB reads VmRSS of a process.
func rssKiB(pid int) (int64, error) { return statusKiB(pid, "VmRSS") }

// statusKiB reads a field of /proc/PID/status in kB (VmRSS, RssAnon: the
// resident memory that is not the store's mapped file).
func statusKiB(pid int, field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no " + field + " in /proc/PID/status")
}

// latencies are durations in nanoseconds.
type latencies []int64

type summary struct {
	N              int
	P50, P99, Max  time.Duration
	Mean           time.Duration
	P90, P999, Min time.Duration
}

func (l latencies) summary() summary {
	if len(l) == 0 {
		return summary{}
	}
	s := slices.Clone(l)
	slices.Sort(s)
	q := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.5) - 1
		i = max(0, min(i, len(s)-1))
		return time.Duration(s[i])
	}
	var sum int64
	for _, v := range s {
		sum += v
	}
	return summary{N: len(s), P50: q(0.50), P90: q(0.90), P99: q(0.99), P999: q(0.999),
		Max: time.Duration(s[len(s)-1]), Min: time.Duration(s[0]), Mean: time.Duration(sum / int64(len(s)))}
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string {
	v := float64(d) / 1e6
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

// fetchProfile saves a pprof profile from a server's -pprof listener.
func fetchProfile(pprofAddr, what, path string) error {
	resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/" + what)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("pprof %s: %s %s", what, resp.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// profiler collects a CPU profile of a server over a window, in the
// background.
type profiler struct {
	wg   sync.WaitGroup
	errs []error
	mu   sync.Mutex
}

func (p *profiler) cpu(pprofAddr, path string, d time.Duration) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		secs := max(1, int(d/time.Second))
		if err := fetchProfile(pprofAddr, "profile?seconds="+strconv.Itoa(secs), path); err != nil {
			p.mu.Lock()
			p.errs = append(p.errs, err)
			p.mu.Unlock()
		} else {
			fmt.Fprintf(os.Stderr, "loadtest: CPU profile written to %s\n", path)
		}
	}()
}

func (p *profiler) wait() error {
	p.wg.Wait()
	return errors.Join(p.errs...)
}

func absDir(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return filepath.Abs(dir)
}

// trimNum groups thousands: 12345.6 → "12,346".
func trimNum(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b bytes.Buffer
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
