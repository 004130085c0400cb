package redistest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cluster is a local Redis Cluster of masters, without replicas or with
// one per master (StartClusterReplicas), each node a redis-server with its
// own data directory, AOF (appendfsync always) and ports, joined by
// `redis-cli --cluster create`.
type Cluster struct {
	// Nodes are the masters, in the order of Addrs and URL.
	Nodes []*Server
	// Replicas[i] replicates Nodes[i] (StartClusterReplicas); nil without.
	Replicas []*Server
}

// StartCluster starts a cluster of n ≥ 3 masters for t and stops it when
// t ends. Like Start, it skips loudly without redis-server (or
// redis-cli), and fails under CI.
func StartCluster(t testing.TB, n int) *Cluster { return startCluster(t, n, 0) }

// StartClusterReplicas starts a cluster of n ≥ 3 masters with one replica
// each.
func StartClusterReplicas(t testing.TB, n int) *Cluster { return startCluster(t, n, 1) }

func startCluster(t testing.TB, n, replicas int) *Cluster {
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
	for i := range n * (1 + replicas) {
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
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	cmd := exec.Command("redis-cli", args...)
	out, err := runBounded(cmd, 30*time.Second)
	if err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.waitOK(startTimeout); err != nil {
		t.Fatalf("redistest: %v\n%s", err, out)
	}
	if replicas > 0 {
		// The replicas' roles reach every node by gossip, a moment after
		// the cluster says it is ok.
		deadline := time.Now().Add(startTimeout)
		for err = c.sortRoles(); err != nil; err = c.sortRoles() {
			if time.Now().After(deadline) {
				t.Fatalf("redistest: %v\n%s", err, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
		for _, r := range c.Replicas {
			if err := r.WaitInSync(startTimeout); err != nil {
				t.Fatalf("redistest: cluster replica: %v", err)
			}
		}
	}
	return c
}

// sortRoles splits the nodes redis-cli made masters from their replicas,
// by CLUSTER NODES: Nodes become the masters, Replicas[i] Nodes[i]'s.
func (c *Cluster) sortRoles() error {
	table, err := c.Nodes[0].do("CLUSTER", "NODES")
	if err != nil {
		return fmt.Errorf("CLUSTER NODES: %w", err)
	}
	byPort := map[string]*Server{}
	for _, s := range c.Nodes {
		byPort[strconv.Itoa(s.port)] = s
	}
	ids := map[string]*Server{}     // node id → server
	masterOf := map[string]string{} // replica's id → its master's id
	var masterIDs []string
	for line := range strings.SplitSeq(strings.TrimSpace(table), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		_, port, _ := strings.Cut(addr, ":")
		s := byPort[port]
		if s == nil {
			return fmt.Errorf("CLUSTER NODES names %s, not one of ours", f[1])
		}
		ids[f[0]] = s
		switch {
		case strings.Contains(f[2], "master"):
			masterIDs = append(masterIDs, f[0])
		case strings.Contains(f[2], "slave"):
			masterOf[f[0]] = f[3]
		}
	}
	var masters, reps []*Server
	for _, m := range masterIDs {
		var rep *Server
		for r, of := range masterOf {
			if of == m {
				rep = ids[r]
			}
		}
		if rep == nil {
			return fmt.Errorf("master %s has no replica:\n%s", m, table)
		}
		masters, reps = append(masters, ids[m]), append(reps, rep)
	}
	c.Nodes, c.Replicas = masters, reps
	return nil
}

// Failover kills master i (SIGKILL) and promotes its replica at once
// (CLUSTER FAILOVER TAKEOVER: no vote of the other masters, as an operator
// does when the master is known dead), which becomes Nodes[i]; the dead
// master becomes Replicas[i], not running: RestartReplica brings it back as
// a replica of the new master. It waits until the cluster is whole again.
func (c *Cluster) Failover(t testing.TB, i int) {
	t.Helper()
	m, r := c.Nodes[i], c.Replicas[i]
	m.Kill()
	if _, err := r.do("CLUSTER", "FAILOVER", "TAKEOVER"); err != nil {
		t.Fatalf("redistest: CLUSTER FAILOVER TAKEOVER on %s: %v", r.Addr(), err)
	}
	c.Nodes[i], c.Replicas[i] = r, m
	if err := c.waitMaster(r, startTimeout); err != nil {
		t.Fatalf("redistest: failover of master %d: %v", i, err)
	}
	if err := c.waitOK(startTimeout); err != nil {
		t.Fatalf("redistest: failover of master %d: %v", i, err)
	}
}

// RestartReplica starts Replicas[i] again (after Failover) and waits until
// it is a replica of Nodes[i] in sync: the old master, on its return,
// learns from the cluster that its slots have moved and follows.
func (c *Cluster) RestartReplica(t testing.TB, i int) {
	t.Helper()
	r := c.Replicas[i]
	r.Restart(t)
	deadline := time.Now().Add(startTimeout)
	for {
		info, err := r.do("INFO", "replication")
		if err == nil && strings.Contains(info, "role:slave") && strings.Contains(info, "master_port:"+strconv.Itoa(c.Nodes[i].port)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: the old master %s is not a replica of %s: %v %.300s", r.Addr(), c.Nodes[i].Addr(), err, info)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := r.WaitInSync(startTimeout); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	if err := c.waitOK(startTimeout); err != nil {
		t.Fatalf("redistest: %v", err)
	}
}

// waitMaster waits until s says it is a master.
func (c *Cluster) waitMaster(s *Server, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		info, err := s.do("INFO", "replication")
		if err == nil && strings.Contains(info, "role:master") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not a master after %v: %v", s.Addr(), timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
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
		for _, s := range append(slices.Clone(c.Nodes), c.Replicas...) {
			if !s.Running() {
				continue // a master killed by Failover, not yet back
			}
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
