package redistest

import (
	"strings"
	"testing"
)

func TestStartKillRestart(t *testing.T) {
	s := Start(t)
	if _, err := s.do("SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if err := s.ready(); err == nil {
		t.Fatal("server still answers after Kill")
	}
	s.Restart(t)
	got, err := s.do("GET", "k")
	if err != nil || got != "v" {
		t.Fatalf("after restart GET k = %q, %v; want the AOF to have kept v", got, err)
	}
	info, err := s.do("INFO", "persistence")
	if err != nil || !strings.Contains(info, "aof_enabled:1") {
		t.Fatalf("AOF is not enabled: %v\n%s", err, info)
	}
	if !strings.HasPrefix(s.URL(), "redis://127.0.0.1:") {
		t.Fatalf("URL %q", s.URL())
	}
}

func TestCluster(t *testing.T) {
	c := StartCluster(t, 3)
	if len(c.Addrs()) != 3 || !strings.Contains(c.URL(), "?addr=") {
		t.Fatalf("Addrs %v URL %q", c.Addrs(), c.URL())
	}
	for _, s := range c.Nodes {
		info, err := s.do("CLUSTER", "INFO")
		if err != nil || !strings.Contains(info, "cluster_slots_assigned:16384") || !strings.Contains(info, "cluster_known_nodes:3") {
			t.Fatalf("node %s: %v\n%s", s.Addr(), err, info)
		}
	}
	c.KillAll()
	c.RestartAll(t)
	c.Flush(t)
}
