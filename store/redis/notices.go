package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

// noticesChannel carries the messages of Notify between the instances on
// one Redis (the api's: "this credential changed, drop your copy").
const noticesChannel = "kp:notices"

// Notify publishes message to every instance listening with Notices.
// Delivery is at most once (pub/sub): a listener must not depend on it
// for more than speed.
func (s *Store) Notify(ctx context.Context, message string) error {
	if err := s.rdb.Publish(ctx, noticesChannel, message).Err(); err != nil {
		return classify(err)
	}
	return nil
}

// Notices returns the messages of Notify, from any instance, until ctx is
// done or the store closes. Each time the subscription is (re)made — the
// first time, and after Redis restarted or the connection dropped, when
// notices may have been published unseen — it sends an empty message: a
// listener that keeps copies must then drop them all.
func (s *Store) Notices(ctx context.Context) <-chan string {
	out := make(chan string, 64)
	ps := s.subscribe(ctx, noticesChannel)
	if ps == nil {
		close(out)
		return out
	}
	// The first confirmation was taken by Receive: say so, as a later
	// resubscription will.
	out <- ""
	msgs := ps.ChannelWithSubscriptions()
	go func() {
		defer s.wg.Done()
		defer close(out)
		defer ps.Close()
		for {
			var m string
			select {
			case msg, ok := <-msgs:
				if !ok {
					return
				}
				switch msg := msg.(type) {
				case *goredis.Subscription:
					if msg.Kind != "subscribe" {
						continue
					}
					m = ""
				case *goredis.Message:
					m = msg.Payload
				default:
					continue
				}
			case <-ctx.Done():
				return
			case <-s.ctx.Done():
				return
			}
			select {
			case out <- m:
			case <-ctx.Done():
				return
			case <-s.ctx.Done():
				return
			}
		}
	}()
	return out
}
