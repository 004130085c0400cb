package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Snapshot is a round's result at one version, computed once and served to
// every viewer: GET …/result and each SSE event read it, never the store.
type Snapshot struct {
	Version int64
	State   tally.State
	Result  *tally.Result
	JSON    []byte // the §5.3 result, marshalled once
	// Collected is the committee's paper count of ballots collected (the
	// round notes), which the result does not carry; the screen shows it
	// beside the entered count, so a stream sends it when it changes
	// (a `paper` event). Nil while not counted.
	Collected *int
	paper     string // paperKey(Collected), made once: every stream compares it
	etag      string
	chunk     []byte // the SSE tally event, as one HTTP chunk every stream writes as is
}

// Broker keeps the newest snapshot of each round and fans it out to the
// streams watching it. Bursts are coalesced: a round's subscribers get at
// most one event per Interval, always the newest. Changes arrive from this
// instance (Notify) and from every instance through the store's Watch
// (Redis pub/sub), and a periodic poll heals lost notices.
type Broker struct {
	contests Contests
	ballots  BallotLog
	log      *slog.Logger

	// Interval is the least time between two events of one round (≤ 4 a
	// second); Poll is how often watched rounds are re-read in case a
	// notice was lost. Set them before Start.
	Interval time.Duration
	Poll     time.Duration
	// Busy, when set, says whether ballots are being recorded: a fan-out
	// then paces itself so that they do not queue behind it (fanOut).
	Busy func() bool
	// Collected, when set, reads a round's paper count for its snapshot
	// (Snapshot.Collected). A change of it alone reaches this instance's
	// streams by Notify and the others' by the periodic poll (Poll).
	Collected func(ctx context.Context, id string) (*int, error)

	mu     sync.Mutex
	topics map[string]*topic
	closed bool
	done   chan struct{}
	wg     sync.WaitGroup
}

type topic struct {
	id string

	// refresh serialises recomputation: concurrent readers of a stale
	// snapshot share one store read.
	refresh sync.Mutex

	// Guarded by Broker.mu.
	snap      *Snapshot
	dirty     bool
	scheduled bool
	lastSent  time.Time
	sentVer   int64
	sentState tally.State
	sentPaper string // the Snapshot.paper sent last
	subs      map[*Subscription]struct{}
}

// Subscription receives the newest snapshot of one round. C holds at most
// one snapshot: a slow reader skips versions but never falls behind the
// newest. C is closed when the broker closes.
type Subscription struct {
	C     chan *Snapshot
	topic *topic
}

// NewBroker returns a broker reading records and counters from the store.
func NewBroker(contests Contests, ballots BallotLog, logger *slog.Logger) *Broker {
	return &Broker{contests: contests, ballots: ballots, log: logger, Interval: 250 * time.Millisecond,
		Poll: 5 * time.Second, topics: map[string]*topic{}, done: make(chan struct{})}
}

// Start follows the store's changes and polls watched rounds; after Close
// (a Shutdown while the server was still starting) it starts nothing.
func (b *Broker) Start() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.wg.Add(2) // under mu: Close's Wait comes after closed is set
	b.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	changes := b.ballots.Watch(ctx)
	go func() {
		defer b.wg.Done()
		for {
			select {
			case ch, ok := <-changes:
				if !ok {
					return
				}
				b.Notify(ch.Contest)
			case <-b.done:
				cancel()
				return
			}
		}
	}()
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(b.Poll)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				b.mu.Lock()
				var watched []string
				for id, tp := range b.topics {
					if len(tp.subs) > 0 {
						watched = append(watched, id)
					}
				}
				b.mu.Unlock()
				for _, id := range watched {
					b.Notify(id)
				}
			case <-b.done:
				return
			}
		}
	}()
}

// Close ends every stream (their channels close) and stops the broker.
func (b *Broker) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	close(b.done)
	for _, tp := range b.topics {
		for sub := range tp.subs {
			close(sub.C)
		}
		tp.subs = nil
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *Broker) topicLocked(id string) *topic {
	tp := b.topics[id]
	if tp == nil {
		tp = &topic{id: id, dirty: true, subs: map[*Subscription]struct{}{}}
		b.topics[id] = tp
	}
	return tp
}

// Notify says a round changed: its snapshot is stale, and its subscribers
// get the new one within Interval.
func (b *Broker) Notify(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	tp, ok := b.topics[id]
	if !ok || b.closed {
		return // nobody has looked at it yet: the first look computes it
	}
	tp.dirty = true
	b.scheduleLocked(tp)
}

// scheduleLocked arranges one publication, no sooner than Interval after
// the last.
func (b *Broker) scheduleLocked(tp *topic) {
	if tp.scheduled || len(tp.subs) == 0 {
		return
	}
	tp.scheduled = true
	wait := time.Until(tp.lastSent.Add(b.Interval))
	if wait < 0 {
		wait = 0
	}
	time.AfterFunc(wait, func() { b.publish(tp) })
}

func (b *Broker) publish(tp *topic) {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	snap, err := b.snapshot(ctx, tp)
	b.mu.Lock()
	defer b.mu.Unlock()
	tp.scheduled = false
	if err != nil {
		tp.dirty = true
		// Retry only while someone watches: a stream refused at once (an
		// unknown contest) must not leave a loop behind it.
		if b.closed || len(tp.subs) == 0 {
			return
		}
		b.log.Error("result refresh failed", slog.String("contest", tp.id), slog.Any("err", err))
		tp.scheduled = true
		time.AfterFunc(time.Second, func() { b.publish(tp) })
		return
	}
	if b.closed || (snap.Version == tp.sentVer && snap.State == tp.sentState && snap.paper == tp.sentPaper && !tp.lastSent.IsZero()) {
		return
	}
	tp.lastSent, tp.sentVer, tp.sentState, tp.sentPaper = time.Now(), snap.Version, snap.State, snap.paper
	subs := make([]*Subscription, 0, len(tp.subs))
	for sub := range tp.subs {
		subs = append(subs, sub)
	}
	// tp.scheduled stays set while the subscribers are offered the
	// snapshot, so that no later publication overtakes this one.
	tp.scheduled = true
	b.mu.Unlock()
	b.fanOut(subs, snap)
	b.mu.Lock()
	tp.scheduled = false
	if tp.dirty { // changed again while we read or fanned out: go round once more
		b.scheduleLocked(tp)
	}
}

// A fan-out wakes fanOutBatch streams at a time. Between batches it
// yields the processor, and while ballots are being recorded (Busy) it
// also pauses for fanOutPause.
const (
	fanOutBatch = 32
	fanOutPause = time.Millisecond
)

// fanOut offers snap to subs a batch at a time. Waking every stream at
// once put thousands of them on the run queue ahead of the requests: with
// 10,000 viewers a ballot's reply waited about a second behind each
// publication. Paced, the streams write between requests; while counters
// post, a round to 10,000 viewers takes about 0.4 s of mostly idle time
// instead of a burst (docs/benchmarks.md). The lock is taken per batch:
// Close closes the channels under it, and Subscribe, Unsubscribe and
// Notify are not held up for a whole fan-out.
func (b *Broker) fanOut(subs []*Subscription, snap *Snapshot) {
	for i := 0; i < len(subs); i += fanOutBatch {
		if i > 0 {
			if b.Busy != nil && b.Busy() {
				time.Sleep(fanOutPause)
			} else {
				runtime.Gosched()
			}
		}
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return
		}
		for _, sub := range subs[i:min(i+fanOutBatch, len(subs))] {
			offer(sub.C, snap) // an unsubscribed stream's channel is never closed but by Close
		}
		b.mu.Unlock()
	}
}

// offer puts snap in a one-slot channel, replacing an unread older one.
func offer(ch chan *Snapshot, snap *Snapshot) {
	for {
		select {
		case ch <- snap:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// Subscribe starts following a round. The caller reads the first snapshot
// with Snapshot and must Unsubscribe.
func (b *Broker) Subscribe(id string) (*Subscription, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errorf(tally.Unavailable, "", "the server is shutting down")
	}
	tp := b.topicLocked(id)
	sub := &Subscription{C: make(chan *Snapshot, 1), topic: tp}
	tp.subs[sub] = struct{}{}
	if tp.dirty {
		b.scheduleLocked(tp) // a change may have come before anyone listened
	}
	return sub, nil
}

// Unsubscribe stops a subscription.
func (b *Broker) Unsubscribe(sub *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(sub.topic.subs, sub)
}

// Subscribers counts the streams open on a round.
func (b *Broker) Subscribers(id string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if tp := b.topics[id]; tp != nil {
		return len(tp.subs)
	}
	return 0
}

// Snapshot returns the newest snapshot of a round, recomputing it first if
// it is stale (once, however many callers wait).
func (b *Broker) Snapshot(ctx context.Context, id string) (*Snapshot, error) {
	b.mu.Lock()
	tp := b.topicLocked(id)
	b.mu.Unlock()
	return b.snapshot(ctx, tp)
}

func (b *Broker) snapshot(ctx context.Context, tp *topic) (*Snapshot, error) {
	tp.refresh.Lock()
	defer tp.refresh.Unlock()
	b.mu.Lock()
	snap, dirty := tp.snap, tp.dirty
	tp.dirty = false
	b.mu.Unlock()
	if !dirty && snap != nil {
		return snap, nil
	}
	snap, err := b.compute(ctx, tp.id)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		tp.dirty = true
		if tally.ErrorKind(err) == tally.NotFound && len(tp.subs) == 0 {
			delete(b.topics, tp.id) // don't keep topics for ids that do not exist
		}
		return nil, err
	}
	tp.snap = snap
	return snap, nil
}

func (b *Broker) compute(ctx context.Context, id string) (*Snapshot, error) {
	rec, err := b.contests.Contest(ctx, id)
	if err != nil {
		return nil, err
	}
	counters, version, err := b.ballots.Counters(ctx, id)
	if err != nil {
		return nil, err
	}
	count, err := tally.CountFromCounters(rec.Contest, counters)
	if err != nil {
		return nil, fmt.Errorf("counters of %s: %w", id, err)
	}
	var collected *int
	if b.Collected != nil {
		if collected, err = b.Collected(ctx, id); err != nil {
			return nil, err
		}
	}
	res := count.Result()
	res.Version = &version
	data, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	return &Snapshot{Version: version, State: rec.State, Result: res, JSON: data, Collected: collected, paper: paperKey(collected),
		etag: fmt.Sprintf(`"%d-%s"`, version, rec.State), chunk: tallyChunk(version, data)}, nil
}

// paperKey is a paper count as the `paper` event's data, which also
// tells whether a viewer has seen it: {"collected":N}, or null.
func paperKey(collected *int) string {
	if collected == nil {
		return `{"collected":null}`
	}
	return fmt.Sprintf(`{"collected":%d}`, *collected)
}
