package redis

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/kiemphieu/kiemphieu/tally"
)

// subscribeWait bounds how long Watch waits for Redis to confirm its
// subscription before it returns; past that the subscription goes live in
// the background (go-redis reconnects and subscribes again).
const subscribeWait = 5 * time.Second

// Watch reports changes to any contest, made through any instance, until
// ctx is done or the store closes; then the channel is closed. Delivery is
// at-most-once (Redis pub/sub): a watcher must re-read the newest state on
// each change rather than count on seeing every version.
func (s *Store) Watch(ctx context.Context) <-chan tally.Change {
	out := make(chan tally.Change, 64)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		close(out)
		return out
	}
	s.wg.Add(1)
	s.mu.Unlock()

	ps := s.rdb.Subscribe(ctx, changesChannel)
	// Wait for the confirmation so that the subscription is live when Watch
	// returns, in the usual case.
	wctx, cancel := context.WithTimeout(ctx, subscribeWait)
	if _, err := ps.Receive(wctx); err != nil && ctx.Err() == nil {
		slog.Warn("redis: subscribing to changes", "err", err)
	}
	cancel()
	msgs := ps.Channel()

	go func() {
		defer s.wg.Done()
		defer close(out)
		defer ps.Close()
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					return
				}
				ch, ok := parseChange(m.Payload)
				if !ok {
					slog.Warn("redis: ignoring a malformed change notice", "channel", m.Channel, "payload", m.Payload)
					continue
				}
				select {
				case out <- ch:
				case <-ctx.Done():
					return
				case <-s.ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			case <-s.ctx.Done():
				return
			}
		}
	}()
	return out
}

// parseChange reads "<contest> <version>".
func parseChange(payload string) (tally.Change, bool) {
	i := strings.LastIndexByte(payload, ' ')
	if i <= 0 {
		return tally.Change{}, false
	}
	v, err := strconv.ParseInt(payload[i+1:], 10, 64)
	if err != nil {
		return tally.Change{}, false
	}
	return tally.Change{Contest: payload[:i], Version: v}, true
}
