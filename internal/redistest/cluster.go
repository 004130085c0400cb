package redistest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cluster is a local Redis Cluster of masters without replicas, each a
// redis-server with its own data directory, AOF (appendfsync always) and
// ports, joined by `redis-cli --cluster create`.
type Cluster struct {
	Nodes []*Server
}

// StartCluster starts a cluster of n ≥ 3 masters for t and stops it when
// t ends. Like Start, it skips loudly without redis-server (or
// redis-cli), and fails under CI.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 3 {
		t.Fatalf("redistest: a cluster needs at least 3 masters, not %d", n)
	}
	bin, err := exec.LookPath("redis-server")
	if err == nil {
		_, err = exec.LookPath("redis-cli")
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server or redis-cli not found: install them (apt-get install redis-server redis-tools) — scripts/test does this")
		}
		t.Skip("SKIPPING: redis-server or redis-cli not installed; these tests run in CI")
	}
	c := &Cluster{}
	root := t.TempDir()
	for i := range n {
		s := &Server{bin: bin, dir: filepath.Join(root, "node"+strconv.Itoa(i))}
		if err := os.MkdirAll(s.dir, 0o700); err != nil {
			t.Fatal(err)
		}
		for attempt := 0; ; attempt++ {
			s.port, s.bus = freePort(t), freePort(t)
			if err = s.start(); err == nil {
				break
			}
			if attempt == 4 {
				t.Fatalf("redistest: cluster node %d: %v", i, err)
			}
		}
		t.Cleanup(s.stop)
		c.Nodes = append(c.Nodes, s)
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	cmd := exec.Command("redis-cli", args...)
	out, err := runBounded(cmd, 30*time.Second)
	if err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.waitOK(startTimeout); err != nil {
		t.Fatalf("redistest: %v\n%s", err, out)
	}
	return c
}

// Addrs are the masters' host:port addresses.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		out[i] = s.Addr()
	}
	return out
}

// URL is the cluster as store/redis.Open takes it: the first master, then
// the others as addr parameters.
func (c *Cluster) URL() string {
	addrs := c.Addrs()
	var b strings.Builder
	b.WriteString("redis://" + addrs[0])
	for i, a := range addrs[1:] {
		if i == 0 {
			b.WriteString("?")
		} else {
			b.WriteString("&")
		}
		b.WriteString("addr=" + a)
	}
	return b.String()
}

// Flush empties every master (between the tests sharing a cluster).
func (c *Cluster) Flush(t testing.TB) {
	t.Helper()
	for _, s := range c.Nodes {
		if _, err := s.do("FLUSHALL", "SYNC"); err != nil {
			t.Fatalf("redistest: FLUSHALL on %s: %v", s.Addr(), err)
		}
	}
}

// KillAll kills every node (SIGKILL); RestartAll starts them again on
// their data and waits until the cluster is whole.
func (c *Cluster) KillAll() {
	for _, s := range c.Nodes {
		s.Kill()
	}
}

// RestartAll starts every node again (after KillAll or crashes) and waits
// until the cluster reports itself whole.
func (c *Cluster) RestartAll(t testing.TB) {
	t.Helper()
	for _, s := range c.Nodes {
		s.Restart(t)
	}
	if err := c.waitOK(startTimeout); err != nil {
		t.Fatalf("redistest: cluster restart: %v", err)
	}
}

// KillNode kills master i (SIGKILL): with no replicas its slots are down
// until RestartNode.
func (c *Cluster) KillNode(i int) { c.Nodes[i].Kill() }

// RestartNode starts master i again on its data and waits until the
// cluster is whole.
func (c *Cluster) RestartNode(t testing.TB, i int) {
	t.Helper()
	c.Nodes[i].Restart(t)
	if err := c.waitOK(startTimeout); err != nil {
		t.Fatalf("redistest: restarting node %d: %v", i, err)
	}
}

// waitOK waits until every node says cluster_state:ok.
func (c *Cluster) waitOK(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var bad error
		for _, s := range c.Nodes {
			info, err := s.do("CLUSTER", "INFO")
			if err == nil && !strings.Contains(info, "cluster_state:ok") {
				err = errors.New("cluster_state is not ok")
			}
			if err != nil {
				bad = fmt.Errorf("node %s: %w", s.Addr(), err)
				break
			}
		}
		if bad == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster not ready after %v: %w", timeout, bad)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runBounded runs cmd and kills it after d.
func runBounded(cmd *exec.Cmd, d time.Duration) ([]byte, error) {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return []byte(out.String()), err
	case <-time.After(d):
		_ = cmd.Process.Kill()
		<-done
		return []byte(out.String()), fmt.Errorf("timed out after %v", d)
	}
}
