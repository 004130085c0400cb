package redis

// # Replicas
//
// Redis replicates asynchronously: a primary answers a write once it is in
// its own memory and AOF, and sends it to its replicas after. A primary
// that dies before its replicas have a write takes the write with it when
// a replica is promoted: the ballot was acknowledged and is gone (measured
// in docs/reliability.md, "Replica failover").
//
// With Options.Wait = N (KIEMPHIEU_REDIS_WAIT, or the URL's wait=N) every
// write that matters for the record is followed, on the same connection,
// by WAIT N timeout, and is acknowledged only when N replicas have
// confirmed it. WAIT counts the replication offset of the client's own
// last write, so it must go on the connection that wrote: the committer
// sends its script call and the WAIT in one pipeline to the contest's
// master (on Cluster the client of the master for the contest's hash
// slot: a keyless WAIT through the cluster client would go to any node).
//
// An answer taken from what the log already holds (a ballot retried, a
// void repeated) is acknowledged as durably as the first: its committer
// writes a small key in the contest's slot (kp:{C}:wait) and WAITs for
// that write. The replication stream is ordered, so a replica that has the
// later write has the ballot too. A WAIT alone would not do: a connection
// that wrote nothing has offset 0, which every replica has already, and
// Redis would answer at once.
//
// When fewer than N replicas confirm within the timeout the write is in
// the primary's log but is not acknowledged: the caller gets
// tally.Unavailable (503), and a retry with the same id is answered from
// the log once the replicas have it (created=false).
//
// Which writes wait: every Append (ballots and voids), Update (the
// record: opening, closing, certifying a round), CreateContest, and the
// items — PutItem, SwapItem (the tokens', users' and sessions' CAS),
// DeleteItem — and AppendAudit. Not waited for: the rate limits (hits.go,
// counters that expire within their window anyway), the notices and the
// contest index (advisory; Contests tolerates it) and pub/sub.

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Options change what Open does.
type Options struct {
	// Wait is the number of replicas that must confirm a write before it
	// is acknowledged (WAIT Wait WaitTimeout); 0 waits for none, as Redis
	// does by itself.
	Wait int
	// WaitTimeout bounds each WAIT; default DefaultWaitTimeout. It must be
	// positive (WAIT N 0 blocks for ever) and shorter than the client's
	// read timeout, which also bounds the WAIT's reply.
	WaitTimeout time.Duration
}

// DefaultWaitTimeout is WaitTimeout when none is given.
const DefaultWaitTimeout = time.Second

// waitMargin is how much shorter than the read timeout a WAIT's timeout
// must be: the same read also waits for the script's reply.
const waitMargin = 500 * time.Millisecond

// The URL's query options that are ours, not go-redis's (which refuses
// options it does not know).
const (
	urlWait        = "wait"
	urlWaitTimeout = "wait_timeout"
)

// waitOptions takes wait and wait_timeout out of a Redis URL's query and
// merges them with o: a URL option and a different Options value is an
// error naming both. It returns the URL without them.
func waitOptions(raw string, o Options) (string, Options, error) {
	u, err := neturl.Parse(raw)
	if err != nil {
		return raw, o, nil // newClient says what is wrong with it, without quoting it
	}
	q := u.Query()
	if !q.Has(urlWait) && !q.Has(urlWaitTimeout) {
		return raw, o, nil
	}
	if v := q.Get(urlWait); q.Has(urlWait) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return "", o, fmt.Errorf("the URL's wait=%q must be a number of replicas, 0 or more", v)
		}
		if o.Wait != 0 && o.Wait != n {
			return "", o, fmt.Errorf("the URL says wait=%d but KIEMPHIEU_REDIS_WAIT says %d: give one", n, o.Wait)
		}
		o.Wait = n
	}
	if v := q.Get(urlWaitTimeout); q.Has(urlWaitTimeout) {
		d, err := time.ParseDuration(v)
		if err != nil {
			return "", o, fmt.Errorf("the URL's wait_timeout=%q must be a duration such as 500ms", v)
		}
		if d <= 0 {
			return "", o, fmt.Errorf("the URL's wait_timeout=%q must be positive: WAIT with a timeout of 0 blocks for ever", v)
		}
		if o.WaitTimeout != 0 && o.WaitTimeout != d {
			return "", o, fmt.Errorf("the URL says wait_timeout=%v but KIEMPHIEU_REDIS_WAIT_TIMEOUT says %v: give one", d, o.WaitTimeout)
		}
		o.WaitTimeout = d
	}
	q.Del(urlWait)
	q.Del(urlWaitTimeout)
	u.RawQuery = q.Encode()
	return u.String(), o, nil
}

// check completes o and checks it against the client's read timeout.
func (o *Options) check(readTimeout time.Duration) error {
	switch {
	case o.Wait < 0:
		return fmt.Errorf("KIEMPHIEU_REDIS_WAIT (wait) must be 0 or more replicas, not %d", o.Wait)
	case o.WaitTimeout < 0:
		return fmt.Errorf("KIEMPHIEU_REDIS_WAIT_TIMEOUT (wait_timeout) must be positive, not %v: WAIT with a timeout of 0 blocks for ever", o.WaitTimeout)
	case o.WaitTimeout == 0:
		o.WaitTimeout = DefaultWaitTimeout
	}
	if o.Wait > 0 && readTimeout > 0 && o.WaitTimeout > readTimeout-waitMargin {
		return fmt.Errorf("KIEMPHIEU_REDIS_WAIT_TIMEOUT (wait_timeout) %v must be at least %v shorter than the Redis read timeout %v (the URL's read_timeout), which bounds the WAIT's reply",
			o.WaitTimeout, waitMargin, readTimeout)
	}
	return nil
}

// master is the client of the server that holds key: the one server, or
// on Cluster the master of key's slot, so that a WAIT goes on a connection
// to the server that took the write.
func (s *Store) master(ctx context.Context, key string) (*goredis.Client, error) {
	switch c := s.rdb.(type) {
	case *goredis.Client:
		return c, nil
	case *goredis.ClusterClient:
		return c.MasterForKey(ctx, key)
	}
	return nil, fmt.Errorf("redis store: unexpected client %T", s.rdb)
}

// moved reloads the cluster's slot map after an error that says it has
// changed (a failover, a resharding) or that the master is gone: the
// pipelines sent to one master do not follow MOVED by themselves.
func (s *Store) moved(err error) {
	cc, ok := s.rdb.(*goredis.ClusterClient)
	if !ok || err == nil {
		return
	}
	var rerr goredis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		if !hasPrefix(msg, "MOVED ") && !hasPrefix(msg, "ASK ") && !hasPrefix(msg, "CLUSTERDOWN") &&
			!hasPrefix(msg, "READONLY ") && !hasPrefix(msg, "TRYAGAIN") && !hasPrefix(msg, "LOADING") {
			return
		}
	}
	cc.ReloadState(s.ctx)
}

// replicated runs the commands that cmds queues on one connection to the
// master of key, then WAIT, and says whether enough replicas confirmed
// them. Without Options.Wait it is a plain pipeline.
func (s *Store) replicated(ctx context.Context, key string, cmds func(p goredis.Pipeliner) error) error {
	if s.opt.Wait == 0 {
		_, err := s.rdb.Pipelined(ctx, cmds)
		return err
	}
	cl, err := s.master(ctx, key)
	if err != nil {
		s.moved(err)
		return err
	}
	var w *goredis.Cmd
	_, err = cl.Pipelined(ctx, func(p goredis.Pipeliner) error {
		if err := cmds(p); err != nil {
			return err
		}
		w = s.queueWait(ctx, p)
		return nil
	})
	if err != nil {
		s.moved(err)
		return err
	}
	n, err := w.Int64()
	if err != nil {
		return err
	}
	return s.enough(n, "the write")
}

// enough says whether n replicas are enough, as a tally.Unavailable error
// when they are not.
func (s *Store) enough(n int64, what string) error {
	if n >= int64(s.opt.Wait) {
		return nil
	}
	return &tally.Error{Kind: tally.Unavailable, Message: fmt.Sprintf(
		"%s is on the Redis primary but only %d of the %d replicas asked for (KIEMPHIEU_REDIS_WAIT) confirmed it within %v: not acknowledged; a retry with the same id is safe",
		what, n, s.opt.Wait, s.opt.WaitTimeout)}
}

// evalAppend is the committer's script call followed by WAIT, in one
// pipeline to the contest's master; replicas is how many confirmed
// (meaningful when the script wrote).
func (c *committer) evalAppend(keys []string, args []any) (res []string, replicas int64, err error) {
	ctx := c.s.ctx
	cl, err := c.s.master(ctx, c.k.log)
	if err != nil {
		c.s.moved(err)
		return nil, 0, err
	}
	run := func() (*goredis.Cmd, *goredis.Cmd, error) {
		var ev, w *goredis.Cmd
		_, err := cl.Pipelined(ctx, func(p goredis.Pipeliner) error {
			ev = appendScript.EvalSha(ctx, p, keys, args...)
			w = c.s.queueWait(ctx, p)
			return nil
		})
		return ev, w, err
	}
	ev, w, err := run()
	if ev != nil && ev.Err() != nil && strings.HasPrefix(ev.Err().Error(), "NOSCRIPT") {
		if lerr := appendScript.Load(ctx, cl).Err(); lerr != nil {
			return nil, 0, lerr
		}
		ev, w, err = run()
	}
	if ev != nil && ev.Err() != nil {
		c.s.moved(ev.Err())
		return nil, 0, ev.Err()
	}
	if err != nil {
		c.s.moved(err)
		return nil, 0, err
	}
	if res, err = ev.StringSlice(); err != nil {
		return nil, 0, err
	}
	replicas, err = w.Int64()
	return res, replicas, err
}

// queueWait queues WAIT in a pipeline (go-redis's Pipeliner has no Wait;
// the pipeline's read timeout, checked against WaitTimeout by Open,
// bounds its reply).
func (s *Store) queueWait(ctx context.Context, p goredis.Pipeliner) *goredis.Cmd {
	return p.Do(ctx, "WAIT", s.opt.Wait, s.opt.WaitTimeout.Milliseconds())
}

// syncReplicas makes an answer taken from the log as durable as the write
// that put it there: a write to the contest's wait key, then WAIT for it
// (see "Replicas" above).
func (c *committer) syncReplicas() error {
	return c.s.replicated(c.s.ctx, c.k.wait, func(p goredis.Pipeliner) error {
		p.Set(c.s.ctx, c.k.wait, c.s.token, 0)
		return nil
	})
}
