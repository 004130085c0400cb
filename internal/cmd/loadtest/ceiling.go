package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"github.com/kiemphieu/kiemphieu/internal/benchgen"
	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/store/redis"
	"github.com/kiemphieu/kiemphieu/tally"
)

// The ceilings of `loadtest bench`: the same work as the service's path
// with everything of the service taken away but the part that cannot be
// (the Redis script and its AOF fsync, bbolt's commit, reading and hashing
// the log, writing the event to the sockets).

// rawEntry is a ballot entry as the stores write it: the log line, the
// seen value of the Redis store and the counter keys.
type rawEntry struct {
	entry  []byte
	stored []byte
	keys   []string
	hash   string
}

// rawEntries builds n realistic entries from the ballot tails (the
// `million` preset), linked one after the other from the genesis: the
// sizes and contents the stores write.
func rawEntries(tails [][]byte) ([]rawEntry, error) {
	c, err := benchgen.Million.Contest()
	if err != nil {
		return nil, err
	}
	index := c.Index()
	out := make([]rawEntry, len(tails))
	seq, head := int64(0), tally.GenesisHash
	now := time.Now().UTC().Format(time.RFC3339)
	for i, t := range tails {
		line := append([]byte(`{"id":"raw-`+strconv.Itoa(i)+`"`), t...)
		b, err := tally.ParseBallot(line)
		if err != nil {
			return nil, fmt.Errorf("ballot %d: %w", i, err)
		}
		m, err := c.Mark(b, index)
		if err != nil {
			return nil, fmt.Errorf("ballot %d: %w", i, err)
		}
		reason, keys := c.Effect(m)
		e := tally.Entry{Ballot: &b, Desk: "Bàn kiểm phiếu 1", Time: now}
		e.Link(seq, head)
		seq, head = e.Seq, e.Hash
		line, _ = e.MarshalJSON()
		// The Redis store's seen value (store/redis stored).
		st := map[string]any{"seq": e.Seq, "hash": e.Hash, "valid": reason == tally.Valid, "digest": tally.BallotDigest(&b), "keys": keys}
		if reason != tally.Valid {
			st["reason"] = reason.String()
		}
		stored, _ := json.Marshal(st)
		out[i] = rawEntry{entry: line, stored: stored, keys: keys, hash: e.Hash}
	}
	return out, nil
}

// timedLoop runs conns workers calling op back to back for warmup+duration
// and counts, as drive does, the calls that started after the warm-up and
// ended before the end.
func timedLoop(ctx context.Context, conns int, warmup, duration time.Duration, op func(w, n int) error) loadResult {
	start := time.Now()
	from, end := start.Add(warmup), start.Add(warmup+duration)
	type worker struct {
		lat      latencies
		ok, errs int
		firstErr string
	}
	ws := make([]worker, conns)
	var wg sync.WaitGroup
	for w := range ws {
		wg.Go(func() {
			me := &ws[w]
			for n := 0; ctx.Err() == nil; n++ {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				err := op(w, n)
				t1 := time.Now()
				if t0.Before(from) || t1.After(end) {
					continue
				}
				if err != nil {
					me.errs++
					if me.firstErr == "" {
						me.firstErr = err.Error()
					}
					continue
				}
				me.ok++
				me.lat = append(me.lat, int64(t1.Sub(t0)))
			}
		})
	}
	wg.Wait()
	res := loadResult{elapsed: duration}
	for _, w := range ws {
		res.lat = append(res.lat, w.lat...)
		res.ok += w.ok
		res.errs += w.errs
		if res.firstErr == "" {
			res.firstErr = w.firstErr
		}
	}
	return res
}

// rawRedis runs the store's append script (store/redis RawAppend) on a
// redis-server with appendfsync always from callers connections of
// go-redis, back to back, batch ballots per call, each connection on a
// contest of its own (one log each: no compare-and-set is lost), with the
// store's keys and realistic entries, seen values and counter keys; no
// HTTP, no authentication, no checks, no linking (the entries are built
// beforehand and reused under new ids). A result counts ballots: one call
// is batch of them.
//
// With callers = 1 and batch = the load test's connections it is the
// ceiling of the Redis-backed intake: the store's committer makes one call
// at a time per contest, carrying every append waiting (at most one per
// connection). With callers = connections and batch = 1 it is the script
// called once per ballot from as many connections — which the store's
// batching beats.
func rawRedis(ctx context.Context, dir string, callers, batch int, warmup, duration time.Duration, entries []rawEntry) (loadResult, error) {
	rs, err := redistest.Launch(filepath.Join(dir, "redis"))
	if err != nil {
		return loadResult{}, err
	}
	defer rs.Close()
	s, err := redis.Open(ctx, rs.URL())
	if err != nil {
		return loadResult{}, err
	}
	contests := make([]string, callers)
	for w := range contests {
		contests[w] = "raw-" + strconv.Itoa(w)
		if err := createOpen(ctx, s, contests[w]); err != nil {
			s.Close()
			return loadResult{}, err
		}
	}
	s.Close()
	rdb := goredis.NewClient(&goredis.Options{Addr: rs.Addr(), PoolSize: callers, MinIdleConns: callers})
	defer rdb.Close()
	seqs := make([]int64, callers)
	heads := make([]string, callers)
	items := make([][]redis.RawBallot, callers)
	for w := range heads {
		heads[w] = tally.GenesisHash
		items[w] = make([]redis.RawBallot, batch)
	}
	res := timedLoop(ctx, callers, warmup, duration, func(w, n int) error {
		for i := range items[w] {
			e := &entries[(w*7919+n*batch+i)%len(entries)]
			items[w][i] = redis.RawBallot{ID: "raw-" + strconv.Itoa(w) + "-" + strconv.Itoa(n) + "-" + strconv.Itoa(i),
				Entry: e.entry, Stored: e.stored, Keys: e.keys, Hash: e.hash}
		}
		seq, err := redis.RawAppend(ctx, rdb, contests[w], seqs[w], heads[w], items[w])
		if err != nil {
			return err
		}
		seqs[w], heads[w] = seq, items[w][batch-1].Hash
		return nil
	})
	res.ok *= batch
	return res, nil
}

func createOpen(ctx context.Context, s interface {
	CreateContest(context.Context, *tally.Record) error
	Update(context.Context, string, func(*tally.Record, int64) error) (*tally.Record, error)
}, id string) error {
	c, err := benchgen.Million.Contest()
	if err != nil {
		return err
	}
	c.ID = id
	if err := s.CreateContest(ctx, &tally.Record{Contest: c, State: tally.StateDraft}); err != nil {
		return err
	}
	_, err = s.Update(ctx, id, func(rec *tally.Record, _ int64) error {
		rec.State = tally.StateOpen
		return nil
	})
	return err
}

// rawBolt is the ceiling of the embedded intake: conns goroutines hand a
// realistic entry to one writer goroutine, which commits what is waiting
// (up to 1,000, as store/bolt) in one bbolt transaction — one fsync —
// appending each entry to a log bucket under its sequence number, and
// answers each once committed; no HTTP, no authentication, no checks, no
// seen index, counters or linking.
func rawBolt(ctx context.Context, dir string, conns int, warmup, duration time.Duration, entries []rawEntry) (loadResult, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return loadResult{}, err
	}
	db, err := bolt.Open(filepath.Join(dir, "raw.db"), 0o600, &bolt.Options{})
	if err != nil {
		return loadResult{}, err
	}
	defer db.Close()
	logBucket := []byte("log")
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(logBucket)
		return err
	}); err != nil {
		return loadResult{}, err
	}
	type req struct {
		entry []byte
		reply chan error
	}
	queue := make(chan *req, conns)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var seq uint64
		batch := make([]*req, 0, 1000)
		for r := range queue {
			batch = append(batch[:0], r)
		fill:
			for len(batch) < 1000 {
				select {
				case r, ok := <-queue:
					if !ok {
						break fill
					}
					batch = append(batch, r)
				default:
					break fill
				}
			}
			err := db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket(logBucket)
				for _, r := range batch {
					seq++
					var k [8]byte
					binary.BigEndian.PutUint64(k[:], seq)
					if err := b.Put(k[:], r.entry); err != nil {
						return err
					}
				}
				return nil
			})
			for _, r := range batch {
				r.reply <- err
			}
		}
	}()
	replies := make([]chan error, conns)
	for w := range replies {
		replies[w] = make(chan error, 1)
	}
	res := timedLoop(ctx, conns, warmup, duration, func(w, n int) error {
		queue <- &req{entry: entries[(w*7919+n)%len(entries)].entry, reply: replies[w]}
		return <-replies[w]
	})
	close(queue)
	<-done
	return res, nil
}

// writeLog writes a log export of n ballot entries (the `million` preset,
// linked from the genesis) as `kiemphieu recount` reads it, and the
// contest beside it.
func writeLog(dir string, n int) (contestPath, logPath string, size int64, err error) {
	contestPath, logPath = filepath.Join(dir, "contest.json"), filepath.Join(dir, "log.jsonl")
	if err := os.WriteFile(contestPath, benchgen.Million.ContestJSON(), 0o644); err != nil {
		return "", "", 0, err
	}
	c, err := benchgen.Million.Contest()
	if err != nil {
		return "", "", 0, err
	}
	f, err := os.Create(logPath)
	if err != nil {
		return "", "", 0, err
	}
	defer f.Close()
	if err := benchgen.Million.WriteLog(f, c, n, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return "", "", 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return "", "", 0, err
	}
	return contestPath, logPath, st.Size(), f.Close()
}

// runHashLines is `loadtest hashlines FILE`: the ceiling of a recount of
// a log export, as a process like `kiemphieu recount`: read the file line
// by line (the same scanner and buffer) and SHA-256 every line. It prints
// the number of lines and the last digest.
func runHashLines(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: loadtest hashlines FILE")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	var sum [32]byte
	for sc.Scan() {
		sum = sha256.Sum256(sc.Bytes())
		n++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Printf("%d %x\n", n, sum)
	return nil
}
