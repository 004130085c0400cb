//go:build unix

package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/proof"
	"github.com/kiemphieu/kiemphieu/internal/redistest"
)

// TestE2EClusterInstances: two service processes on a local Redis Cluster
// of 3 masters (docs/reliability.md, "Redis Cluster and several
// instances").
//
//  1. A screen on B follows ballots keyed on A: B's stream reaches the
//     final version, with A's result, within 2 s of the last
//     acknowledgement (pub/sub crosses the cluster bus).
//  2. Desks key ballots to both instances, each desk at home on one and
//     retrying on the other; one instance or the other is killed with
//     SIGKILL during entry and started again. Afterwards the oracle of
//     checkRound: every acknowledged ballot in the log exactly once, the
//     chain verifies, the result equals `kiemphieu recount` of the log,
//     the round closes.
//
// Several rounds are open at once so that their keys are on different
// masters.
func TestE2EClusterInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: not with -short")
	}
	seed := e2eSeed(t)
	rng := rand.New(rand.NewPCG(seed, 7))
	cluster := redistest.StartCluster(t, 3)
	url := cluster.URL()
	a := startChild(t, "kiemphieu-A", "serve", "--data", t.TempDir(), "--redis-url", url, "--admin-token", e2eAdminToken)
	b := startChild(t, "kiemphieu-B", "serve", "--data", t.TempDir(), "--redis-url", url, "--admin-token", e2eAdminToken)
	servers := []*child{a, b}
	adminA := &apiClient{base: a.base(), token: e2eAdminToken, hc: newHTTPClient(t, 30*time.Second)}
	adminB := &apiClient{base: b.base(), token: e2eAdminToken, hc: newHTTPClient(t, 30*time.Second)}
	maker := newBallotMaker(seed)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// 1. The screen on B, the desks on A, for three rounds at once.
	var lags []time.Duration
	streamed := 0
	for i := range 3 {
		r := openRound(t, adminA, "e2e-cl-s"+strconv.Itoa(i), "certified", 3)
		events := openStream(t, ctx, b.base(), r.id, e2eAdminToken)
		nextTally(t, events, 0, time.Now().Add(5*time.Second))
		s, _, lag := keyAndFollow(t, ctx, r, "s", maker, a.base(), adminA, events, len(r.desks), proof.Size("CLUSTER_STREAM_BALLOTS", 20, 200))
		lags = append(lags, lag)
		resultA := adminA.must(t, "GET", "/api/v1/contests/"+r.id+"/result", nil, http.StatusOK)
		sameJSON(t, "A's and B's results", resultA, adminB.must(t, "GET", "/api/v1/contests/"+r.id+"/result", nil, http.StatusOK))
		streamed += len(s.acks)
		checkRound(t, r, s.acks)
		t.Logf("%s: %s; B's stream reached the final version %v after the last acknowledgement", r.id, s, lag.Round(time.Millisecond))
	}

	// 2. Kill -9 one instance or the other during entry.
	cycles := proof.Size("CLUSTER_KILLS", 2, 8)
	const desks = 6
	r := openRound(t, adminA, "e2e-cl-k", "certified", desks)
	posters := make([]poster, desks)
	for d := range posters {
		home := [2]poster{
			ballotPoster(t, servers[d%2].base(), r.id, r.desks[d].token),
			ballotPoster(t, servers[1-d%2].base(), r.id, r.desks[d].token),
		}
		// Odd attempts at home, even ones at the other instance: a desk
		// whose instance died retries on the one that lives.
		posters[d] = func(ctx context.Context, attempt int, body []byte) (int, []byte, error) {
			return home[(attempt+1)%2](ctx, attempt, body)
		}
	}
	var stop atomic.Bool
	var acked atomic.Int64
	done := make(chan []deskStats, 1)
	go func() { done <- runDesks(ctx, r, "k", maker, posters, &stop, 5000, &acked) }()
	var downs []time.Duration
	last := int64(0)
	for cycle := 1; cycle <= cycles; cycle++ {
		wait := time.Duration(200+rng.IntN(601)) * time.Millisecond
		select {
		case <-time.After(wait):
		case stats := <-done:
			t.Fatalf("the desks stopped before kill %d: %s", cycle, summarize(t, stats))
		}
		for i := 0; acked.Load() == last && i < 250; i++ {
			time.Sleep(20 * time.Millisecond)
		}
		now := acked.Load()
		if now == last {
			t.Fatalf("kill %d: no ballot acknowledged in the 5 s before it", cycle)
		}
		last = now
		victim := servers[cycle%2]
		start := time.Now()
		victim.kill()
		victim.restart()
		downs = append(downs, time.Since(start))
		t.Logf("kill %d: %s killed after %v of load (%d acknowledged so far), back after %v", cycle, victim.name, wait, now, time.Since(start).Round(time.Millisecond))
	}
	time.Sleep(300 * time.Millisecond)
	if acked.Load() == last {
		t.Errorf("no ballot acknowledged after the last kill")
	}
	stop.Store(true)
	s := summarize(t, <-done)
	if t.Failed() {
		t.FailNow()
	}
	n := checkRound(t, r, s.acks)
	t.Logf("%d kills: %s; log of %d entries verified, recount equal, round closed", cycles, s, n)

	// 3. Kill -9 each Redis master in turn during entry (no replicas: its
	// slots are down until it is back): the rounds whose keys it holds
	// answer 503, the desks retry, nothing acknowledged is lost.
	mrounds := make([]*round, 3)
	mdone := make(chan []deskStats, len(mrounds))
	var mstop atomic.Bool
	var macked atomic.Int64
	for i := range mrounds {
		mr := openRound(t, adminA, "e2e-cl-m"+strconv.Itoa(i), "certified", 2)
		mrounds[i] = mr
		ps := make([]poster, len(mr.desks))
		for d := range ps {
			home := [2]poster{ballotPoster(t, a.base(), mr.id, mr.desks[d].token), ballotPoster(t, b.base(), mr.id, mr.desks[d].token)}
			ps[d] = func(ctx context.Context, attempt int, body []byte) (int, []byte, error) {
				return home[(attempt+d)%2](ctx, attempt, body)
			}
		}
		go func() { mdone <- runDesks(ctx, mr, "m", maker, ps, &mstop, 5000, &macked) }()
	}
	var mdowns []time.Duration
	for i := range cluster.Nodes {
		time.Sleep(time.Duration(200+rng.IntN(401)) * time.Millisecond)
		before := macked.Load()
		start := time.Now()
		cluster.KillNode(i)
		time.Sleep(time.Duration(100+rng.IntN(300)) * time.Millisecond)
		cluster.RestartNode(t, i)
		mdowns = append(mdowns, time.Since(start))
		t.Logf("master %d killed with %d acknowledged; cluster whole again after %v", i, before, time.Since(start).Round(time.Millisecond))
	}
	time.Sleep(500 * time.Millisecond)
	mstop.Store(true)
	var mstats []deskStats
	for range mrounds {
		mstats = append(mstats, <-mdone...)
	}
	ms := summarize(t, mstats)
	if t.Failed() {
		t.FailNow()
	}
	mn := int64(0)
	for _, mr := range mrounds {
		acks := map[string]ack{}
		for id, x := range ms.acks {
			if len(id) > len(mr.id) && id[:len(mr.id)+1] == mr.id+"-" {
				acks[id] = x
			}
		}
		mn += checkRound(t, mr, acks)
	}
	t.Logf("%d master kills: %s; %d log entries verified, recounts equal, rounds closed", len(cluster.Nodes), ms, mn)
	cancel()
	a.stop()
	b.stop()

	proof.Report(t, "masters", len(cluster.Nodes), "redis masters")
	proof.Report(t, "instances", len(servers), "service instances")
	proof.Report(t, "stream_ballots", streamed, "ballots keyed on A, watched on B")
	proof.Reportf(t, "stream_lag_max", "ms", "%d", slices.Max(lags).Milliseconds())
	proof.Report(t, "instance_kills", cycles, "SIGKILL")
	proof.Report(t, "acknowledged", len(s.acks), "ballots")
	proof.Report(t, "acknowledged_after_lost_reply", s.again, "ballots (200 on retry)")
	proof.Report(t, "acknowledged_lost", 0, "ballots")
	proof.Report(t, "duplicated", int64(n)-int64(len(s.acks)), "entries")
	proof.Reportf(t, "outage_max", "ms", "%d", slices.Max(downs).Milliseconds())
	proof.Report(t, "master_kills", len(cluster.Nodes), "SIGKILL of a redis master")
	proof.Report(t, "master_kill_acknowledged", len(ms.acks), "ballots")
	proof.Report(t, "master_kill_refused_503", ms.statuses[http.StatusServiceUnavailable], "responses (retried)")
	proof.Report(t, "master_kill_transport_errors", ms.transport, "requests (retried)")
	proof.Report(t, "master_kill_lost", 0, "ballots")
	proof.Report(t, "master_kill_duplicated", mn-int64(len(ms.acks)), "entries")
	proof.Reportf(t, "master_outage_max", "ms", "%d", slices.Max(mdowns).Milliseconds())
}
