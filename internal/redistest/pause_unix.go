//go:build unix

package redistest

import (
	"syscall"
	"testing"
	"time"
)

// Pause stops the server (SIGSTOP) without killing it: it reads nothing,
// answers nothing, and as a replica falls behind its primary, as one
// across a congested link would; Resume lets it go on (SIGCONT).
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused server.
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Signal(sig)
	}
}

// FailoverLagging is Failover with the replica behind: it is paused for
// lag first, so that the writes the master acknowledges meanwhile are
// not on it when the master dies (on loopback a replica is otherwise
// never more than a moment behind). Unix only (SIGSTOP).
func (c *Cluster) FailoverLagging(t testing.TB, i int, lag time.Duration) {
	t.Helper()
	r := c.Replicas[i]
	r.Pause()
	time.Sleep(lag)
	c.Nodes[i].Kill()
	r.Resume()
	c.Failover(t, i)
}
