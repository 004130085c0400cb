// Package redis keeps the contests and their ballot logs in Redis, so that
// several instances of the service can share them (DESIGN §2, §3).
//
// # Keys
//
// Every key of one contest carries the contest id as its hash tag, so that
// one Lua script or MULTI may touch them all, in Redis Cluster too:
//
//	kp:{C}:record    string  the tally.Record as JSON
//	kp:{C}:meta      hash    seq, head (the log's last hash), version (= seq)
//	kp:{C}:log       list    entry JSON; seq k is at index k−1
//	kp:{C}:seen      hash    ballot id → its receipt, digest and counter keys
//	kp:{C}:voids     hash    voided ballot id → the void's receipt
//	kp:{C}:counters  hash    counter key → value (zeros deleted)
//	kp:{C}:turn      string  the committer whose turn it is to append (short-lived)
//	kp:{C}:wait      string  the last committer that waited for replicas on an answer from the log (replicas.go)
//	kp:contests      set     contest ids (an advisory index)
//	kp:changes       channel "<contest> <version>" after each change
//	kp:hit:<key>     string  a rate limit's counter, expiring with its window (hits.go)
//
// # Appending
//
// The log is hash-chained with SHA-256, which Redis Lua does not have, so
// entries are linked in Go and appended by one Lua script that compares
// the log's (seq, head) with those the entries were linked to: an
// optimistic compare-and-set. Each Store runs one committer per contest,
// which gathers the Appends that arrive while the previous script call is
// in flight into one batch (group commit), links them after the cached
// head and makes one script call for all. When another instance got there
// first the script writes nothing and returns the new (seq, head); the
// committer links the batch again and retries. Ballots already in the log,
// found by the script, are answered from what it stored and dropped from
// the batch.
//
// Under contention between instances a plain compare-and-set starves one
// of them (the busy winner's next call always arrives first), so a
// committer that loses twice in a row claims a short-lived turn
// (kp:{C}:turn, 250 ms at most): while it is held only its holder may
// append, and its next call, linked to the head the losing call returned,
// succeeds and gives the turn back. Two instances both appending flat out
// thus take turns, at a cost of about one extra round trip per batch.
//
// # Durability
//
// A receipt is returned only once the script has succeeded, which with
// `appendonly yes` and `appendfsync always` means Redis has written and
// fsynced its AOF: only with those two settings is an acknowledged ballot
// durable. Open checks them with CONFIG GET and logs a warning when they
// are not so (it cannot check on a managed Redis that forbids CONFIG).
// When Redis cannot be reached or refuses writes (MISCONF, OOM, READONLY,
// LOADING), Append returns an error of kind tally.Unavailable and nothing is
// acknowledged; a retry of the same ballot later returns its receipt if the
// write did happen after all.
//
// A ballot acknowledged as created=false is one the log already held with
// the same content: a desk's retry, or the first submission itself when
// its reply was lost and go-redis sent the script call again. Either
// way the receipt is the stored one.
//
// # Requirements
//
// Redis 7.0 or later (the script declares itself with a #!lua shebang so
// that Redis refuses it up front when it cannot write). On Cluster every
// key of a contest is in one slot; kp:contests and the channel are global.
//
// # Receipts
//
// A ballot's receipt is its entry's seq and hash with the engine's verdict.
// A void's receipt is {seq, hash, valid: true}: the void entry's seq and
// hash; a retried void gets the same receipt back.
//
// # Changes
//
// Watch subscribes to kp:changes. Redis pub/sub is at-most-once (messages
// are lost while a subscriber reconnects), which is enough because a
// watcher re-reads the newest state on every change it does see, and
// because Watch reports every contest once when its subscription comes
// back, so that the changes missed meanwhile are not left unseen.
package redis

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	neturl "net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiemphieu/kiemphieu/tally"
)

const (
	contestsKey    = "kp:contests"
	changesChannel = "kp:changes"
	// updateRetries bounds Update's optimistic retries when appends keep
	// moving the log under it.
	updateRetries = 50
)

// keys are a contest's Redis keys, all under one hash tag.
type keys struct {
	record, meta, log, seen, voids, counters, turn, wait string
}

func keysFor(contest string) keys {
	p := "kp:{" + contest + "}:"
	return keys{record: p + "record", meta: p + "meta", log: p + "log", seen: p + "seen", voids: p + "voids", counters: p + "counters", turn: p + "turn", wait: p + "wait"}
}

// all lists the keys in the order appendScript takes them (it ignores the
// last: deleteScript removes them all).
func (k keys) all() []string {
	return []string{k.record, k.meta, k.log, k.seen, k.voids, k.counters, k.turn, k.wait}
}

// Store is the Redis store. Its methods are safe for concurrent use.
type Store struct {
	rdb   goredis.UniversalClient
	opt   Options       // checked: WaitTimeout set
	token string        // tells this Store's committers from other instances'
	idle  time.Duration // idleTimeout; shorter in tests

	ctx    context.Context // canceled by Close: stops committers and watchers
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	committers map[string]*committer
	closed     bool
	closeOnce  sync.Once
	closeErr   error
}

// Open connects to the Redis at url, checks that it answers, loads the Lua
// scripts (on every master of a cluster) and checks the durability
// settings. The url is one server — redis://[user:pass@]host:port/db,
// rediss:// or unix:// — or a Redis Cluster: some of its masters, the
// first as the host and the others as addr parameters,
// redis://[user:pass@]host1:port1?addr=host2:port2&addr=host3:port3 (the
// client learns the rest of the cluster from them). The query options
// wait=N and wait_timeout=D are Options.Wait and WaitTimeout (replicas.go).
func Open(ctx context.Context, url string) (*Store, error) {
	return OpenWith(ctx, url, Options{})
}

// OpenWith is Open with options; the URL's wait and wait_timeout may give
// them too, but not differently.
func OpenWith(ctx context.Context, url string, o Options) (*Store, error) {
	url, o, err := waitOptions(url, o)
	if err != nil {
		return nil, &tally.Error{Kind: tally.Invalid, Field: "redis_url", Message: err.Error()}
	}
	rdb, addr, readTimeout, err := newClient(url)
	if err != nil {
		return nil, &tally.Error{Kind: tally.Invalid, Field: "redis_url", Message: err.Error()}
	}
	if err := o.check(readTimeout); err != nil {
		rdb.Close()
		return nil, &tally.Error{Kind: tally.Invalid, Field: "redis_wait", Message: err.Error()}
	}
	if err := waitLoaded(ctx, rdb, addr); err != nil {
		rdb.Close()
		return nil, err
	}
	if cc, ok := rdb.(*goredis.ClusterClient); ok {
		// Every master: each holds its own AOF.
		_ = cc.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
			checkDurability(ctx, m, m.Options().Addr)
			return nil
		})
	} else {
		checkDurability(ctx, rdb, addr)
	}
	sctx, cancel := context.WithCancel(context.Background())
	if o.Wait > 0 {
		checkReplicas(ctx, rdb, o.Wait)
	}
	return &Store{rdb: rdb, opt: o, token: newToken(), idle: idleTimeout, ctx: sctx, cancel: cancel, committers: map[string]*committer{}}, nil
}

// ErrUnreachable is in the chain of Open's error when no Redis answered at
// all (refused, reset, timed out), as opposed to one that answered with an
// error: the service then tells the operator how to bring back a Redis
// that refuses to start (cmd/kiemphieu).
var ErrUnreachable = errors.New("no Redis answered")

// loadingPoll is how often Open asks again a Redis that is loading its data.
const loadingPoll = 100 * time.Millisecond

// waitLoaded runs prepare until it succeeds, waiting while Redis answers
// LOADING: after a restart Redis replays its AOF before it takes commands
// (seconds for a large log: docs/reliability.md), and a service started
// with it should wait rather than exit. It waits as long as ctx lets it,
// since each LOADING reply shows Redis at work; any other failure is
// returned at once, as Unavailable, with ErrUnreachable in its chain when
// nothing answered.
func waitLoaded(ctx context.Context, rdb goredis.UniversalClient, addr string) error {
	start := time.Now()
	logged := false
	for {
		err := prepare(ctx, rdb)
		if err == nil {
			if logged {
				slog.Info("redis: loaded its data; starting", slog.String("addr", addr), slog.Duration("waited", time.Since(start).Round(time.Millisecond)))
			}
			return nil
		}
		var rerr goredis.Error
		switch {
		case errors.As(err, &rerr) && hasPrefix(rerr.Error(), "LOADING "):
			if !logged {
				slog.Info("redis: Redis is loading its data (replaying its AOF); waiting for it", slog.String("addr", addr))
				logged = true
			}
			if serr := sleep(ctx, loadingPoll); serr != nil {
				return unavailable(fmt.Errorf("redis at %s: still loading its data after %v: %w", addr, time.Since(start).Round(time.Millisecond), err))
			}
		case errors.As(err, &rerr), ctx.Err() != nil:
			return unavailable(fmt.Errorf("redis at %s: %w", addr, err))
		default:
			return unavailable(fmt.Errorf("redis at %s: %w: %w", addr, ErrUnreachable, err))
		}
	}
}

// prepare checks that Redis answers and loads the Lua scripts.
func prepare(ctx context.Context, rdb goredis.UniversalClient) error {
	if err := rdb.Ping(ctx).Err(); err != nil {
		return err
	}
	for name, script := range map[string]*goredis.Script{"append": appendScript, "hit": hitScript, "swap": swapScript, "delete": deleteScript} {
		if err := script.Load(ctx, rdb).Err(); err != nil {
			return fmt.Errorf("loading the %s script: %w", name, err)
		}
	}
	return nil
}

// newClient connects to a single server's URL, or to a cluster's when it
// has addr parameters. Both clients are a UniversalClient; addr names the
// servers in messages; readTimeout is the client's (0: none).
func newClient(url string) (rdb goredis.UniversalClient, addr string, readTimeout time.Duration, err error) {
	u, err := neturl.Parse(url)
	if err != nil {
		// Not url.Error's message: it quotes the URL, password and all,
		// into the service's log.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, "", 0, fmt.Errorf("not a Redis URL: %w", err)
	}
	if u.Query().Has("addr") {
		copt, err := goredis.ParseClusterURL(url)
		if err != nil {
			return nil, "", 0, err
		}
		rt := effectiveReadTimeout(copt.ReadTimeout) // before NewClusterClient completes copt
		return goredis.NewClusterClient(copt), strings.Join(copt.Addrs, ","), rt, nil
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, "", 0, err
	}
	rt := effectiveReadTimeout(opt.ReadTimeout) // before NewClient completes opt
	return goredis.NewClient(opt), opt.Addr, rt, nil
}

// effectiveReadTimeout is the read timeout go-redis uses for a configured
// one (its Options: 0 is 5 s; -1 and -2 are none).
func effectiveReadTimeout(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return 5 * time.Second
	case d < 0:
		return 0
	}
	return d
}

// checkReplicas warns when the primary has fewer replicas connected than
// every write will wait for: until they connect, nothing is acknowledged.
func checkReplicas(ctx context.Context, rdb goredis.UniversalClient, want int) {
	check := func(c goredis.Cmdable, addr string) {
		info, err := c.Info(ctx, "replication").Result()
		if err != nil {
			return
		}
		for line := range strings.SplitSeq(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_slaves:"); ok {
				if n, err := strconv.Atoi(v); err == nil && n < want {
					slog.Warn("redis: fewer replicas connected than KIEMPHIEU_REDIS_WAIT asks every write to wait for: nothing will be acknowledged until they connect",
						"addr", addr, "connected", n, "wait", want)
				}
			}
		}
	}
	if cc, ok := rdb.(*goredis.ClusterClient); ok {
		_ = cc.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
			check(m, m.Options().Addr)
			return nil
		})
		return
	}
	if c, ok := rdb.(*goredis.Client); ok {
		check(c, c.Options().Addr)
	}
}

// checkDurability warns when the server would acknowledge writes it has not
// fsynced. It never fails: managed Redis services often forbid CONFIG.
func checkDurability(ctx context.Context, rdb goredis.Cmdable, addr string) {
	get := func(name string) (string, error) {
		m, err := rdb.ConfigGet(ctx, name).Result()
		if err != nil {
			return "", err
		}
		return m[name], nil
	}
	aof, err1 := get("appendonly")
	fsync, err2 := get("appendfsync")
	if err := errors.Join(err1, err2); err != nil {
		slog.Warn("redis: cannot check the durability settings; acknowledged ballots are durable only with appendonly yes and appendfsync always",
			"addr", addr, "err", err)
		return
	}
	if aof != "yes" || fsync != "always" {
		slog.Warn("redis: acknowledged ballots are NOT durable: a crash can lose them; set appendonly yes and appendfsync always",
			"addr", addr, "appendonly", aof, "appendfsync", fsync)
	}
	// See appendScript's length guard: the one setting under which a crash
	// can break a log (Redis ≤ 7.x).
	if truncated, err := get("aof-load-truncated"); err == nil && truncated != "no" {
		slog.Warn("redis: a crash during an AOF write can break a ballot log on restart; set aof-load-truncated no and repair a torn AOF with redis-check-aof --fix (docs/reliability.md)",
			"addr", addr, "aof-load-truncated", truncated)
	}
}

// Close stops the committers (pending Appends fail as Unavailable) and the
// watchers, and closes the connections.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		s.wg.Wait()
		s.closeErr = s.rdb.Close()
	})
	return s.closeErr
}

// CreateContest stores a new contest record; one with the same id is a
// conflict.
func (s *Store) CreateContest(ctx context.Context, rec *tally.Record) error {
	if rec == nil || rec.Contest == nil {
		return &tally.Error{Kind: tally.Invalid, Field: "contest", Message: "is missing"}
	}
	id := rec.Contest.ID
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("redis store: encoding contest %q: %w", id, err)
	}
	k := keysFor(id)
	var setnx *goredis.BoolCmd
	err = s.replicated(ctx, k.record, func(p goredis.Pipeliner) error {
		setnx = p.SetNX(ctx, k.record, data, 0)
		return nil
	})
	if err != nil && tally.ErrorKind(err) != tally.Unavailable {
		return classify(err)
	}
	if err != nil {
		return err
	}
	ok := setnx.Val()
	if !ok {
		return &tally.Error{Kind: tally.Conflict, Field: "id", Message: fmt.Sprintf("a contest %q already exists", id)}
	}
	// The index is a separate command (its key is in another slot): if this
	// fails the record exists but is not listed. The index is advisory:
	// Contests tolerates ids whose record has vanished, and a retried
	// CreateContest (a conflict) adds the id again.
	if err := s.rdb.SAdd(ctx, contestsKey, id).Err(); err != nil {
		return classify(err)
	}
	s.rdb.Publish(ctx, changesChannel, id+" 0") // best effort: at-most-once anyway
	return nil
}

// Contest returns a contest's record.
func (s *Store) Contest(ctx context.Context, id string) (*tally.Record, error) {
	data, err := s.rdb.Get(ctx, keysFor(id).record).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, classify(err)
	}
	return decodeRecord(id, data)
}

// Contests returns every contest's record, sorted by id.
func (s *Store) Contests(ctx context.Context) ([]*tally.Record, error) {
	ids, err := s.rdb.SMembers(ctx, contestsKey).Result()
	if err != nil {
		return nil, classify(err)
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		return []*tally.Record{}, nil
	}
	// One GET per id in a pipeline rather than an MGET: the records live in
	// different slots.
	cmds := make([]*goredis.StringCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.Get(ctx, keysFor(id).record)
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, classify(err)
	}
	out := make([]*tally.Record, 0, len(ids))
	for i, cmd := range cmds {
		data, err := cmd.Bytes()
		if errors.Is(err, goredis.Nil) {
			continue // listed, but the record is gone
		}
		if err != nil {
			return nil, classify(err)
		}
		rec, err := decodeRecord(ids[i], data)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// errFn carries fn's error out of a WATCH transaction untouched.
type errFn struct{ err error }

func (e errFn) Error() string { return e.err.Error() }

// Update changes a contest's record: fn gets a copy of it and the log's
// version at that moment, and the change is stored only if neither the
// record nor the log moved meanwhile (WATCH); otherwise fn runs again on
// the newer state. An error from fn is returned as it is and changes
// nothing.
func (s *Store) Update(ctx context.Context, id string, fn func(rec *tally.Record, version int64) error) (*tally.Record, error) {
	k := keysFor(id)
	var out *tally.Record
	txf := func(tx *goredis.Tx) error {
		var recCmd *goredis.StringCmd
		var seqCmd *goredis.StringCmd
		// Reads under WATCH, in one round trip (not MULTI: a pipeline).
		_, err := tx.Pipelined(ctx, func(p goredis.Pipeliner) error {
			recCmd = p.Get(ctx, k.record)
			seqCmd = p.HGet(ctx, k.meta, "seq")
			return nil
		})
		if err != nil && !errors.Is(err, goredis.Nil) {
			return err
		}
		data, err := recCmd.Bytes()
		if errors.Is(err, goredis.Nil) {
			return notFound(id)
		}
		if err != nil {
			return err
		}
		version, err := optInt(seqCmd)
		if err != nil {
			return fmt.Errorf("redis store: contest %q: meta seq: %w", id, err)
		}
		rec, err := decodeRecord(id, data)
		if err != nil {
			return err
		}
		if err := fn(rec, version); err != nil {
			return errFn{err}
		}
		newData, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("redis store: encoding contest %q: %w", id, err)
		}
		if out, err = decodeRecord(id, newData); err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			p.Set(ctx, k.record, newData, 0)
			p.Publish(ctx, changesChannel, id+" "+strconv.FormatInt(version, 10))
			return nil
		})
		if err != nil || s.opt.Wait == 0 {
			return err
		}
		// The transaction's connection: WAIT counts its write (replicas.go).
		n, err := tx.Wait(ctx, s.opt.Wait, s.opt.WaitTimeout).Result()
		if err != nil {
			return err
		}
		return s.enough(n, fmt.Sprintf("the change to contest %q", id))
	}
	for attempt := 0; attempt < updateRetries; attempt++ {
		err := s.rdb.Watch(ctx, txf, k.record, k.meta)
		var fe errFn
		switch {
		case err == nil:
			return out, nil
		case errors.As(err, &fe):
			return nil, fe.err
		case errors.Is(err, goredis.TxFailedErr):
			// The record or the log moved: read again after a short pause.
			if err := sleep(ctx, jitter(attempt)); err != nil {
				return nil, unavailable(err)
			}
			continue
		case tally.ErrorKind(err) != tally.Internal:
			return nil, err
		default:
			return nil, classify(err)
		}
	}
	return nil, &tally.Error{Kind: tally.Unavailable, Message: fmt.Sprintf(
		"contest %q kept changing during %d attempts to update it; try again", id, updateRetries)}
}

// deleteScript removes a draft contest whose log is empty, all its keys at
// once (one {contest} hash tag), or nothing.
//
// KEYS: as appendScript's. Replies: "NOTFOUND …", "NOTDRAFT <state>
// <seq>" (errors), or "OK".
var deleteScript = goredis.NewScript(`#!lua
local rec = redis.call('GET', KEYS[1])
if not rec then
  return redis.error_reply('NOTFOUND no such contest')
end
local state = cjson.decode(rec)['state']
local seq = tonumber(redis.call('HGET', KEYS[2], 'seq')) or 0
local llen = redis.call('LLEN', KEYS[3])
if state ~= 'draft' or seq ~= 0 or llen ~= 0 then
  return redis.error_reply('NOTDRAFT ' .. tostring(state) .. ' ' .. math.max(seq, llen))
end
redis.call('DEL', unpack(KEYS))
return 'OK'
`)

// DeleteContest removes a draft round that has no log entries (DESIGN
// §7.2); a round opened, or with anything in its log, is a Conflict. The
// check and the removal are one script; the id leaves the advisory index
// after (another slot), which Contests tolerates if that step fails.
func (s *Store) DeleteContest(ctx context.Context, id string) error {
	k := keysFor(id)
	err := deleteScript.Run(ctx, s.rdb, k.all()).Err()
	if err != nil {
		msg := err.Error()
		switch {
		case hasPrefix(msg, "NOTFOUND"):
			return notFound(id)
		case hasPrefix(msg, "NOTDRAFT "):
			var state string
			var n int64
			fmt.Sscanf(msg, "NOTDRAFT %s %d", &state, &n)
			return &tally.Error{Kind: tally.Conflict, Field: "state", Message: fmt.Sprintf(
				"contest %q is %s with %d log entries: only a draft with an empty log can be deleted", id, state, n)}
		}
		return classify(err)
	}
	if err := s.rdb.SRem(ctx, contestsKey, id).Err(); err != nil {
		return classify(err)
	}
	s.rdb.Publish(ctx, changesChannel, id+" 0") // best effort, as CreateContest
	return nil
}

// Entries returns the log entries after seq after, at most limit of them
// (all when limit ≤ 0).
func (s *Store) Entries(ctx context.Context, contest string, after int64, limit int) ([]tally.Entry, error) {
	k := keysFor(contest)
	after = max(after, 0)
	stop := int64(-1)
	if limit > 0 {
		stop = after + int64(limit) - 1
	}
	var exists *goredis.IntCmd
	var lr *goredis.StringSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		exists = p.Exists(ctx, k.record)
		lr = p.LRange(ctx, k.log, after, stop)
		return nil
	})
	if err != nil {
		return nil, classify(err)
	}
	if exists.Val() == 0 {
		return nil, notFound(contest)
	}
	out := make([]tally.Entry, len(lr.Val()))
	for i, raw := range lr.Val() {
		if err := json.Unmarshal([]byte(raw), &out[i]); err != nil {
			return nil, fmt.Errorf("redis store: contest %q: log entry %d: %w", contest, after+int64(i)+1, err)
		}
	}
	return out, nil
}

// BallotEntry returns the log entry that recorded ballot id: NotFound
// when the log holds no such ballot. The seen hash and the log are written
// by one script call, and an entry never changes: the two reads need no
// transaction.
func (s *Store) BallotEntry(ctx context.Context, contest, id string) (tally.Entry, error) {
	k := keysFor(contest)
	var exists *goredis.IntCmd
	var seen *goredis.StringCmd
	_, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		exists = p.Exists(ctx, k.record)
		seen = p.HGet(ctx, k.seen, id)
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return tally.Entry{}, classify(err)
	}
	if exists.Val() == 0 {
		return tally.Entry{}, notFound(contest)
	}
	raw, err := seen.Result()
	if errors.Is(err, goredis.Nil) {
		return tally.Entry{}, &tally.Error{Kind: tally.NotFound, Field: "ballot", Message: fmt.Sprintf("contest %q has no ballot %q", contest, id)}
	}
	var st stored
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return tally.Entry{}, fmt.Errorf("redis store: contest %q: ballot %q: %w", contest, id, err)
	}
	line, err := s.rdb.LIndex(ctx, k.log, st.Seq-1).Result()
	if err != nil {
		if errors.Is(err, goredis.Nil) {
			return tally.Entry{}, fmt.Errorf("redis store: contest %q: ballot %q: entry %d is missing from the log", contest, id, st.Seq)
		}
		return tally.Entry{}, classify(err)
	}
	var e tally.Entry
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		return tally.Entry{}, fmt.Errorf("redis store: contest %q: log entry %d: %w", contest, st.Seq, err)
	}
	return e, nil
}

// Counters returns the running totals and the log version they match, read
// together in one MULTI.
func (s *Store) Counters(ctx context.Context, contest string) (map[string]int64, int64, error) {
	k := keysFor(contest)
	reply, err := countersScript.Run(ctx, s.rdb, []string{k.record, k.meta, k.counters}).Slice()
	if err != nil {
		return nil, 0, classify(err)
	}
	if len(reply) < 2 || len(reply)%2 != 0 {
		return nil, 0, fmt.Errorf("redis store: contest %q: counters script replied %d values", contest, len(reply))
	}
	if exists, _ := reply[0].(int64); exists == 0 {
		return nil, 0, notFound(contest)
	}
	var version int64
	if v, _ := reply[1].(string); v != "" {
		if version, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, 0, fmt.Errorf("redis store: contest %q: meta seq: %w", contest, err)
		}
	}
	out := make(map[string]int64, len(reply)/2-1)
	for i := 2; i < len(reply); i += 2 {
		key, _ := reply[i].(string)
		v, _ := reply[i+1].(string)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, 0, fmt.Errorf("redis store: contest %q: counter %q: %w", contest, key, err)
		}
		out[key] = n
	}
	return out, version, nil
}

// optInt reads an integer that may be absent (0).
func optInt(cmd *goredis.StringCmd) (int64, error) {
	v, err := cmd.Result()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

func decodeRecord(id string, data []byte) (*tally.Record, error) {
	var rec tally.Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("redis store: decoding contest %q: %w", id, err)
	}
	return &rec, nil
}

func notFound(id string) error {
	return &tally.Error{Kind: tally.NotFound, Field: "contest", Message: fmt.Sprintf("no contest %q", id)}
}

// unavailable wraps err as a tally.Unavailable error: nothing was
// acknowledged. The message says what Redis's refusal means (refusals);
// the cause stays in the chain.
func unavailable(err error) error {
	msg := "the Redis store cannot take the request now: Redis cannot be reached or did not answer in time; nothing was recorded (a retry with the same id is safe)"
	var rerr goredis.Error
	if errors.As(err, &rerr) {
		msg = "the Redis store cannot take the request now"
		for _, r := range refusals {
			if hasPrefix(rerr.Error(), r.prefix) {
				msg = "the Redis store cannot take the request now: " + r.what + "; nothing was recorded (a retry with the same id is safe)"
				break
			}
		}
	}
	return fmt.Errorf("%w: %w", &tally.Error{Kind: tally.Unavailable, Message: msg}, err)
}

// refusals are the error replies with which Redis refuses writes that it
// may accept later, by the prefix of the reply.
var refusals = []struct{ prefix, what string }{
	{"OOM ", "Redis has reached its maxmemory and refuses writes"},
	{"MISCONF ", "Redis cannot write its data to disk (a full disk?) and refuses writes"},
	{"NOREPLICAS ", "Redis has fewer replicas than min-replicas-to-write and refuses writes"},
	{"READONLY ", "this Redis is a read-only replica"},
	{"LOADING ", "Redis is loading its data"},
	{"MASTERDOWN ", "the replica has lost its master"},
	{"BUSY ", "Redis is busy running a script"},
	{"TRYAGAIN ", "Redis Cluster is moving the keys"},
	{"CLUSTERDOWN ", "the Redis Cluster is down"},
}

// classify maps an error from go-redis: Redis's refusals to write and
// every connection problem are Unavailable; a reply that says the command
// itself was wrong (ERR, WRONGTYPE: a bug or foreign data) stays Internal.
func classify(err error) error {
	var rerr goredis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		if hasPrefix(msg, "ERR ") || hasPrefix(msg, "WRONGTYPE") {
			return fmt.Errorf("redis store: %w", err)
		}
	}
	return unavailable(err)
}

func newToken() string {
	var b [12]byte
	_, _ = crand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// jitter is the pause before optimistic retry n: growing, randomised.
func jitter(n int) time.Duration {
	if n < 2 {
		return 0
	}
	ceiling := time.Duration(min(n, 20)) * 250 * time.Microsecond
	return time.Duration(randInt64(int64(ceiling)))
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
