package bolt

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/kiemphieu/kiemphieu/tally"
)

// hub fans changes out to watchers without ever blocking the publisher:
// each watcher keeps the newest pending version per contest, and its own
// goroutine delivers them. A slow watcher misses intermediate versions but
// always ends up with the newest.
type hub struct {
	mu   sync.Mutex
	subs map[*watcher]struct{}
	last map[string]int64 // newest version published per contest
}

type watcher struct {
	pending map[string]int64 // guarded by hub.mu
	wake    chan struct{}    // capacity 1: "pending is not empty"
}

// publish records changes. Versions never go backwards for a contest, even
// when an Update that read version n publishes after an append of n+1.
func (h *hub) publish(changes []tally.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil {
		h.last = map[string]int64{}
	}
	for _, c := range changes {
		v := max(c.Version, h.last[c.Contest])
		h.last[c.Contest] = v
		for w := range h.subs {
			w.pending[c.Contest] = v
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}
}

func (h *hub) add(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[*watcher]struct{}{}
	}
	h.subs[w] = struct{}{}
}

func (h *hub) remove(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, w)
}

// take returns the watcher's pending changes, sorted by contest, and
// clears them.
func (h *hub) take(w *watcher) []tally.Change {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]tally.Change, 0, len(w.pending))
	for _, id := range slices.Sorted(maps.Keys(w.pending)) {
		out = append(out, tally.Change{Contest: id, Version: w.pending[id]})
	}
	clear(w.pending)
	return out
}

// Watch returns a channel that gets a change for each contest whose log
// moved on (after each committed batch, with the new version) or whose
// record changed (after each Update). It never holds up the store: a
// watcher that does not keep up gets only the newest version of each
// contest. The channel is closed when ctx is done or the store closes.
func (s *Store) Watch(ctx context.Context) <-chan tally.Change {
	out := make(chan tally.Change)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		close(out)
		return out
	}
	w := &watcher{pending: map[string]int64{}, wake: make(chan struct{}, 1)}
	s.hub.add(w)
	s.watchers.Add(1)
	go func() {
		defer s.watchers.Done()
		defer close(out)
		defer s.hub.remove(w)
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.done:
				return
			case <-w.wake:
			}
			if !deliver(ctx, s.done, out, s.hub.take(w)) {
				return
			}
		}
	}()
	return out
}

// deliver sends items on out in order; false when ctx is done or the
// store closes (done) first.
func deliver[T any](ctx context.Context, done <-chan struct{}, out chan<- T, items []T) bool {
	for _, it := range items {
		select {
		case out <- it:
		case <-ctx.Done():
			return false
		case <-done:
			return false
		}
	}
	return true
}
