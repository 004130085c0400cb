//go:build unix

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/proof"
	"github.com/kiemphieu/kiemphieu/internal/redistest"
)

// TestServeFlagsRedisWait: --redis-wait and --redis-wait-timeout, from a
// flag or the environment; what cannot work is refused naming the setting.
func TestServeFlagsRedisWait(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		wait    int
		timeout time.Duration
		wantErr string
	}{
		{name: "none by default", args: []string{"--redis-url", "redis://r:6379/0"}},
		{name: "flags", args: []string{"--redis-url", "redis://r:6379/0", "--redis-wait", "1", "--redis-wait-timeout", "500ms"}, wait: 1, timeout: 500 * time.Millisecond},
		{name: "environment", env: map[string]string{"KIEMPHIEU_REDIS_WAIT": "2", "KIEMPHIEU_REDIS_WAIT_TIMEOUT": "2s"}, args: []string{"--redis-url", "redis://r:6379/0"}, wait: 2, timeout: 2 * time.Second},
		{name: "not a number", args: []string{"--redis-url", "redis://r:6379/0", "--redis-wait", "one"}, wantErr: "KIEMPHIEU_REDIS_WAIT"},
		{name: "negative", env: map[string]string{"KIEMPHIEU_REDIS_WAIT": "-1"}, args: []string{"--redis-url", "redis://r:6379/0"}, wantErr: "KIEMPHIEU_REDIS_WAIT"},
		{name: "zero timeout", args: []string{"--redis-url", "redis://r:6379/0", "--redis-wait", "1", "--redis-wait-timeout", "0s"}, wantErr: "KIEMPHIEU_REDIS_WAIT_TIMEOUT"},
		{name: "timeout not a duration", env: map[string]string{"KIEMPHIEU_REDIS_WAIT_TIMEOUT": "soon"}, args: []string{"--redis-url", "redis://r:6379/0"}, wantErr: "KIEMPHIEU_REDIS_WAIT_TIMEOUT"},
		{name: "embedded store", args: []string{"--redis-url", "", "--redis-wait", "1"}, wantErr: "needs --redis-url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := serveFlagsWith(t, tc.args, tc.env, tc.wantErr, "KIEMPHIEU_REDIS_WAIT", "KIEMPHIEU_REDIS_WAIT_TIMEOUT", "KIEMPHIEU_REDIS_URL")
			if cfg == nil {
				return
			}
			if cfg.RedisWait != tc.wait || cfg.RedisWaitTimeout != tc.timeout {
				t.Errorf("wait %d, timeout %v; want %d, %v", cfg.RedisWait, cfg.RedisWaitTimeout, tc.wait, tc.timeout)
			}
		})
	}
}

// replicaLag is how far behind its primary the campaign's replica is kept
// (a delaying proxy on the replication link): on loopback replication
// takes well under a millisecond and a failover would hardly ever catch
// a write in flight.
const replicaLag = 100 * time.Millisecond

// TestE2EReplicaFailover: the service on a Redis primary with one replica
// 100 ms behind it, reached through a floating address (a proxy, as a
// virtual IP or HAProxy would be); desks key ballots with retries; the
// primary is killed (SIGKILL) mid-entry, the replica promoted (REPLICAOF
// NO ONE), the address moved to it (the service keeps running) and a new
// replica started; entry goes on. Then every acknowledged ballot is looked
// for in the promoted primary's log.
//
//   - Without WAIT (KIEMPHIEU_REDIS_WAIT=0, Redis's asynchronous
//     replication): the ballots acknowledged in the last ~100 ms before
//     the kill are lost. That is the loss window; it is measured and
//     reported, not a failure.
//   - With KIEMPHIEU_REDIS_WAIT=1: no acknowledged ballot may be lost; the
//     ballots in flight at the kill are answered 503 and retried.
//
// Either way the log verifies, no ballot is in it twice, and the result
// is the recount of what it holds.
func TestE2EReplicaFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end failover test: not with -short")
	}
	for _, wait := range []int{0, 1} {
		t.Run("wait="+strconv.Itoa(wait), func(t *testing.T) { replicaFailover(t, wait) })
	}
}

func replicaFailover(t *testing.T, wait int) {
	seed := e2eSeed(t)
	rng := rand.New(rand.NewPCG(seed, 11))
	failovers := proof.Size("REPLICA_FAILOVERS", 2, 6)
	primary := redistest.Start(t)
	replica, _ := redistest.StartReplica(t, primary, replicaLag)
	front := redistest.StartProxy(t, primary.Addr(), 0)
	srv := startChild(t, "kiemphieu", "serve", "--data", t.TempDir(), "--redis-url", front.URL(),
		"--redis-wait", strconv.Itoa(wait), "--redis-wait-timeout", "1s", "--admin-token", e2eAdminToken)
	admin := &apiClient{base: srv.base(), token: e2eAdminToken, hc: newHTTPClient(t, 30*time.Second)}
	const desks = 8
	r := openRound(t, admin, fmt.Sprintf("e2e-failover-w%d", wait), "certified", desks)
	maker := newBallotMaker(seed)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute+time.Duration(failovers)*15*time.Second)
	defer cancel()
	posters := make([]poster, desks)
	for d := range posters {
		posters[d] = ballotPoster(t, srv.base(), r.id, r.desks[d].token)
	}

	// The price of waiting: one desk alone, one ballot after another.
	var lat []time.Duration
	pst := deskStats{statuses: map[int]int{}}
	var packs []ack
	for n := range proof.Size("REPLICA_LATENCY_BALLOTS", 40, 200) {
		id := fmt.Sprintf("%s-p1-%05d", r.id, n+1)
		start := time.Now()
		a, err := keyBallot(ctx, &pst, posters[0], id, ballotBody(maker.ballot(id, 100, n)))
		if err != nil {
			t.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		a.desk = r.desks[0].name
		packs = append(packs, a)
	}
	slices.Sort(lat)
	p50, p95 := lat[len(lat)/2], lat[len(lat)*95/100]
	t.Logf("one desk alone: %d ballots, median %v, p95 %v", len(lat), p50, p95)

	// The desks, and the failovers under them.
	var stop atomic.Bool
	var acked atomic.Int64
	done := make(chan []deskStats, 1)
	go func() { done <- runDesks(ctx, r, "d", maker, posters, &stop, 100000, &acked) }()
	var downs []time.Duration
	last := int64(0)
	for cycle := 1; cycle <= failovers; cycle++ {
		select {
		case <-time.After(time.Duration(300+rng.IntN(501)) * time.Millisecond):
		case stats := <-done:
			t.Fatalf("the desks stopped before failover %d: %s", cycle, summarize(t, stats))
		}
		for i := 0; acked.Load() == last && i < 500; i++ {
			time.Sleep(20 * time.Millisecond)
		}
		now := acked.Load()
		if now == last {
			t.Fatalf("failover %d: no ballot acknowledged in the 10 s before it", cycle)
		}
		start := time.Now()
		primary.Kill()
		if err := replica.Promote(); err != nil {
			t.Fatal(err)
		}
		// The floating address moves; the instance is not restarted: its
		// connections break, go-redis dials again and reaches the promoted
		// primary, whose log the committer finds shorter (STALE) and
		// links to.
		front.Retarget(replica.Addr())
		downs = append(downs, time.Since(start))
		primary = replica
		// A new replica for the next failover, as an operator would add.
		replica, _ = redistest.StartReplica(t, primary, replicaLag)
		t.Logf("failover %d: primary killed with %d acknowledged; service on the promoted replica after %v",
			cycle, now, downs[len(downs)-1].Round(time.Millisecond))
		last = acked.Load()
	}
	for i := 0; acked.Load() == last && i < 500; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	s := summarize(t, append(<-done, deskStats{acks: packs, statuses: pst.statuses, transport: pst.transport}))
	if acked.Load() == last {
		t.Errorf("no ballot acknowledged after the last failover")
	}
	if t.Failed() {
		t.FailNow()
	}
	la := auditLog(t, r, s.acks, wait == 0)
	survivors := map[string]ack{}
	var lostIDs []string
	entered := map[string]bool{}
	for _, e := range la.entries {
		entered[e.Ballot.ID] = true
	}
	for id, a := range s.acks {
		if entered[id] {
			survivors[id] = a
		} else {
			lostIDs = append(lostIDs, id)
		}
	}
	slices.Sort(lostIDs)
	if len(lostIDs) > 0 {
		t.Logf("acknowledged and lost: %d ballots, e.g. %v", len(lostIDs), lostIDs[:min(5, len(lostIDs))])
	}
	proof.Report(t, "seed", seed, "")
	proof.Report(t, "wait", wait, "replicas (KIEMPHIEU_REDIS_WAIT)")
	proof.Reportf(t, "replica_lag", "ms", "%d", replicaLag.Milliseconds())
	proof.Report(t, "failovers", failovers, "primary SIGKILL + replica promoted")
	proof.Report(t, "acknowledged", len(s.acks), "ballots")
	proof.Report(t, "acknowledged_lost", la.lost, "ballots")
	proof.Report(t, "duplicated", la.duplicated, "log entries")
	proof.Report(t, "unacknowledged_in_log", la.phantom, "log entries")
	proof.Report(t, "acknowledged_after_lost_reply", s.again, "ballots (200 on a retry)")
	proof.Report(t, "answered_503", s.statuses[http.StatusServiceUnavailable], "requests (retried)")
	proof.Report(t, "transport_errors", s.transport, "requests (retried)")
	proof.Reportf(t, "latency_p50", "ms", "%.1f", float64(p50.Microseconds())/1000)
	proof.Reportf(t, "latency_p95", "ms", "%.1f", float64(p95.Microseconds())/1000)
	proof.Reportf(t, "failover_outage_max", "ms", "%d", slices.Max(downs).Milliseconds())
	if t.Failed() {
		t.FailNow()
	}
	n := recountAndClose(t, r, survivors, la)
	t.Logf("wait=%d: %d failovers: %s; %d lost; log of %d entries verified, recount equal, round closed", wait, failovers, s, la.lost, n)
	srv.stop()
}

// clusterLag is how long a cluster master's replica is paused (SIGSTOP)
// before the master is killed: the writes of that moment are on the
// master only. (A cluster replica follows the address its master
// announces, so the proxy of the single-server campaign cannot sit in
// between.)
const clusterLag = 200 * time.Millisecond

// TestE2EClusterReplicaFailover: the service on a Redis Cluster of 3
// masters, each with a replica; desks key ballots into 3 rounds; a
// master is killed (SIGKILL) mid-entry with its replica 200 ms behind,
// the replica takes over (CLUSTER FAILOVER TAKEOVER) and the cluster
// client follows; the old master comes back as the new one's replica.
// Without WAIT the ballots of the lag are lost (measured); with
// KIEMPHIEU_REDIS_WAIT=1 none acknowledged may be.
func TestE2EClusterReplicaFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end failover test: not with -short")
	}
	for _, wait := range []int{0, 1} {
		t.Run("wait="+strconv.Itoa(wait), func(t *testing.T) { clusterReplicaFailover(t, wait) })
	}
}

func clusterReplicaFailover(t *testing.T, wait int) {
	seed := e2eSeed(t)
	rng := rand.New(rand.NewPCG(seed, 13))
	failovers := proof.Size("CLUSTER_REPLICA_FAILOVERS", 2, 6)
	cluster := redistest.StartClusterReplicas(t, 3)
	srv := startChild(t, "kiemphieu", "serve", "--data", t.TempDir(), "--redis-url", cluster.URL(),
		"--redis-wait", strconv.Itoa(wait), "--redis-wait-timeout", "1s", "--admin-token", e2eAdminToken)
	admin := &apiClient{base: srv.base(), token: e2eAdminToken, hc: newHTTPClient(t, 30*time.Second)}
	maker := newBallotMaker(seed)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute+time.Duration(failovers)*20*time.Second)
	defer cancel()

	const nrounds, desks = 3, 3
	rounds := make([]*round, nrounds)
	posters := make([][]poster, nrounds)
	for i := range rounds {
		r := openRound(t, admin, fmt.Sprintf("e2e-clfail-w%d-%d", wait, i), "certified", desks)
		rounds[i] = r
		for d := range desks {
			posters[i] = append(posters[i], ballotPoster(t, srv.base(), r.id, r.desks[d].token))
		}
	}

	// The price of waiting (replicas on loopback, not held back): one desk
	// alone, one ballot after another.
	var lat []time.Duration
	pst := deskStats{statuses: map[int]int{}}
	var packs []ack
	for n := range proof.Size("REPLICA_LATENCY_BALLOTS", 40, 200) {
		id := fmt.Sprintf("%s-p1-%05d", rounds[0].id, n+1)
		start := time.Now()
		a, err := keyBallot(ctx, &pst, posters[0][0], id, ballotBody(maker.ballot(id, 100, n)))
		if err != nil {
			t.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		a.desk = rounds[0].desks[0].name
		packs = append(packs, a)
	}
	slices.Sort(lat)
	p50, p95 := lat[len(lat)/2], lat[len(lat)*95/100]
	t.Logf("one desk alone: %d ballots, median %v, p95 %v", len(lat), p50, p95)

	done := make(chan []deskStats, nrounds)
	var stop atomic.Bool
	var acked atomic.Int64
	for i, r := range rounds {
		go func() { done <- runDesks(ctx, r, "d", maker, posters[i], &stop, 100000, &acked) }()
	}
	// holder is the master that holds a round's keys now.
	holder := func(r *round) int {
		for i, m := range cluster.Nodes {
			if v, err := m.Do("EXISTS", "kp:{"+r.id+"}:record"); err == nil && v == "1" {
				return i
			}
		}
		t.Fatalf("no master holds round %s", r.id)
		return -1
	}
	var downs []time.Duration
	last := int64(0)
	for cycle := 1; cycle <= failovers; cycle++ {
		time.Sleep(time.Duration(300+rng.IntN(501)) * time.Millisecond)
		for i := 0; acked.Load() == last && i < 500; i++ {
			time.Sleep(20 * time.Millisecond)
		}
		now := acked.Load()
		if now == last {
			t.Fatalf("failover %d: no ballot acknowledged in the 10 s before it", cycle)
		}
		victim := holder(rounds[cycle%nrounds])
		start := time.Now()
		cluster.FailoverLagging(t, victim, clusterLag)
		downs = append(downs, time.Since(start)-clusterLag)
		cluster.RestartReplica(t, victim)
		t.Logf("failover %d: master %d killed with %d acknowledged, its replica %v behind; took over after %v; old master back as its replica after %v",
			cycle, victim, now, clusterLag, downs[len(downs)-1].Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		last = acked.Load()
	}
	for i := 0; acked.Load() == last && i < 500; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	stats := []deskStats{{acks: packs, statuses: pst.statuses, transport: pst.transport}}
	for range rounds {
		stats = append(stats, <-done...)
	}
	s := summarize(t, stats)
	if acked.Load() == last {
		t.Errorf("no ballot acknowledged after the last failover")
	}
	if t.Failed() {
		t.FailNow()
	}
	var lost, duplicated, phantom int
	var entries int64
	for _, r := range rounds {
		acks := map[string]ack{}
		for id, a := range s.acks {
			if strings.HasPrefix(id, r.id+"-") {
				acks[id] = a
			}
		}
		la := auditLog(t, r, acks, wait == 0)
		lost, duplicated, phantom = lost+la.lost, duplicated+la.duplicated, phantom+la.phantom
		in := map[string]bool{}
		for _, e := range la.entries {
			in[e.Ballot.ID] = true
		}
		survivors := map[string]ack{}
		for id, a := range acks {
			if in[id] {
				survivors[id] = a
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		entries += recountAndClose(t, r, survivors, la)
	}
	proof.Report(t, "seed", seed, "")
	proof.Report(t, "wait", wait, "replicas (KIEMPHIEU_REDIS_WAIT)")
	proof.Report(t, "masters", len(cluster.Nodes), "each with a replica")
	proof.Reportf(t, "replica_lag", "ms", "%d", clusterLag.Milliseconds())
	proof.Report(t, "failovers", failovers, "master SIGKILL + CLUSTER FAILOVER TAKEOVER")
	proof.Report(t, "acknowledged", len(s.acks), "ballots")
	proof.Report(t, "acknowledged_lost", lost, "ballots")
	proof.Report(t, "duplicated", duplicated, "log entries")
	proof.Report(t, "unacknowledged_in_log", phantom, "log entries")
	proof.Report(t, "answered_503", s.statuses[http.StatusServiceUnavailable], "requests (retried)")
	proof.Report(t, "transport_errors", s.transport, "requests (retried)")
	proof.Reportf(t, "latency_p50", "ms", "%.1f", float64(p50.Microseconds())/1000)
	proof.Reportf(t, "latency_p95", "ms", "%.1f", float64(p95.Microseconds())/1000)
	proof.Reportf(t, "takeover_max", "ms", "%d", slices.Max(downs).Milliseconds())
	t.Logf("wait=%d: %d failovers: %s; %d lost; %d log entries verified, recounts equal, rounds closed", wait, failovers, s, lost, entries)
	srv.stop()
}
