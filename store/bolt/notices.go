package bolt

import (
	"context"
	"sync"
)

// The file is held by one process, so the notices of the embedded store
// only go from one part of that process to another (two api servers on one
// Store, in tests); they are never written to the file.

// noticeBacklog is how many notices a listener may fall behind before it
// is told, with an empty notice, that it missed some.
const noticeBacklog = 256

type noticeHub struct {
	mu   sync.Mutex
	subs map[*noticeSub]struct{}
}

type noticeSub struct {
	pending []string // guarded by noticeHub.mu
	lost    bool     // guarded by noticeHub.mu: pending overflowed
	wake    chan struct{}
}

// Notify gives message to every listener of Notices on this Store. It
// never blocks: a listener that falls behind is sent an empty notice in
// place of what it missed.
func (s *Store) Notify(ctx context.Context, message string) error {
	h := &s.notices
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		if len(sub.pending) >= noticeBacklog {
			sub.pending, sub.lost = sub.pending[:0], true
		} else {
			sub.pending = append(sub.pending, message)
		}
		select {
		case sub.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// Notices returns the messages of Notify from now on, until ctx is done or
// the store closes. The first message is always empty, as is one standing
// for notices a slow listener missed: a listener that keeps copies must
// then drop them all.
func (s *Store) Notices(ctx context.Context) <-chan string {
	out := make(chan string)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		close(out)
		return out
	}
	sub := &noticeSub{pending: []string{""}, wake: make(chan struct{}, 1)}
	sub.wake <- struct{}{}
	h := &s.notices
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[*noticeSub]struct{}{}
	}
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	s.watchers.Add(1)
	go func() {
		defer s.watchers.Done()
		defer close(out)
		defer func() {
			h.mu.Lock()
			delete(h.subs, sub)
			h.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.done:
				return
			case <-sub.wake:
			}
			h.mu.Lock()
			batch := sub.pending
			if sub.lost {
				batch = append([]string{""}, batch...)
			}
			sub.pending, sub.lost = nil, false
			h.mu.Unlock()
			if !deliver(ctx, s.done, out, batch) {
				return
			}
		}
	}()
	return out
}
