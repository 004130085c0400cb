package redis

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiemphieu/kiemphieu/tally"
)

// subscribeWait bounds how long Watch waits for Redis to confirm its
// subscription before it returns; past that the subscription goes live in
// the background (go-redis reconnects and subscribes again).
const subscribeWait = 5 * time.Second

// Watch reports changes to any contest, made through any instance, until
// ctx is done or the store closes; then the channel is closed. Delivery is
// at-most-once (Redis pub/sub): a watcher must re-read the newest state on
// each change rather than count on seeing every version. Notices published
// while the subscription was down (Redis restarted, the connection
// dropped) are lost, so when go-redis subscribes again Watch reports every
// contest once, at its current version: otherwise the last changes before
// the reconnection would reach no watcher until the next change.
func (s *Store) Watch(ctx context.Context) <-chan tally.Change {
	out := make(chan tally.Change, 64)
	ps := s.subscribe(ctx, changesChannel)
	if ps == nil {
		close(out)
		return out
	}
	// With the subscription confirmations, which tell a reconnection.
	msgs := ps.ChannelWithSubscriptions()

	go func() {
		defer s.wg.Done()
		defer close(out)
		defer ps.Close()
		for {
			select {
			case msg, ok := <-msgs:
				if !ok {
					return
				}
				var changes []tally.Change
				switch m := msg.(type) {
				case *goredis.Subscription:
					if m.Kind != "subscribe" {
						continue
					}
					changes = s.resync(ctx)
				case *goredis.Message:
					ch, ok := parseChange(m.Payload)
					if !ok {
						slog.Warn("redis: ignoring a malformed change notice", "channel", m.Channel, "payload", m.Payload)
						continue
					}
					changes = []tally.Change{ch}
				}
				for _, ch := range changes {
					select {
					case out <- ch:
					case <-ctx.Done():
						return
					case <-s.ctx.Done():
						return
					}
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

// subscribe subscribes to channel for a watcher goroutine (counted in
// s.wg, which the caller's goroutine must mark done), and waits for the
// confirmation so that the subscription is live when it returns, in the
// usual case. It returns nil when the store is closed.
func (s *Store) subscribe(ctx context.Context, channel string) *goredis.PubSub {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.wg.Add(1)
	s.mu.Unlock()
	ps := s.rdb.Subscribe(ctx, channel)
	wctx, cancel := context.WithTimeout(ctx, subscribeWait)
	defer cancel()
	if _, err := ps.Receive(wctx); err != nil && ctx.Err() == nil {
		slog.Warn("redis: subscribing", "channel", channel, "err", err)
	}
	return ps
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

// resync lists every contest at its current version, for a watcher whose
// subscription has just come back. A failure is logged and yields nothing:
// the watcher's own periodic re-read still heals.
func (s *Store) resync(ctx context.Context) []tally.Change {
	ctx, cancel := context.WithTimeout(ctx, subscribeWait)
	defer cancel()
	ids, err := s.rdb.SMembers(ctx, contestsKey).Result()
	if err != nil {
		slog.Warn("redis: re-reading the contests after a resubscription", "err", err)
		return nil
	}
	slices.Sort(ids)
	seqs := make([]*goredis.StringCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			seqs[i] = p.HGet(ctx, keysFor(id).meta, "seq")
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		slog.Warn("redis: re-reading the contests after a resubscription", "err", err)
		return nil
	}
	out := make([]tally.Change, 0, len(ids))
	for i, id := range ids {
		v, err := optInt(seqs[i])
		if err != nil {
			continue
		}
		out = append(out, tally.Change{Contest: id, Version: v})
	}
	return out
}
