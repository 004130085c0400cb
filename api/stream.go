package api

import (
	"bufio"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Heartbeat is how often an idle stream sends a comment, so that proxies
// keep it open and a vanished client is noticed (fasthttp only sees a
// closed connection when a write fails).
var Heartbeat = 15 * time.Second

// stream serves GET /contests/{id}/stream (SSE): the current result at
// once (also to a reconnect with Last-Event-ID), then a `tally` event with
// the newest result whenever it changes, at most four a second, with the
// version as the event id; a `state` event when the round opens, closes or
// is certified.
func (s *Server) stream(c *fiber.Ctx) error {
	id := c.Params("id")
	sub, err := s.broker.Subscribe(id)
	if err != nil {
		return err
	}
	ctx, cancel := storeCtx()
	snap, err := s.broker.Snapshot(ctx, id)
	cancel()
	if err != nil {
		s.broker.Unsubscribe(sub)
		return err
	}
	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderConnection, "keep-alive")
	c.Set("X-Accel-Buffering", "no")
	// The writer runs on its own goroutine after this handler returns:
	// it must not touch c.
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer s.broker.Unsubscribe(sub)
		fmt.Fprint(w, "retry: 2000\n\n")
		lastVer, lastState := writeSnapshot(w, snap, -1, "")
		if w.Flush() != nil {
			return
		}
		beat := time.NewTicker(Heartbeat)
		defer beat.Stop()
		for {
			select {
			case next, ok := <-sub.C:
				if !ok {
					fmt.Fprint(w, "event: bye\ndata: {}\n\n")
					w.Flush()
					return
				}
				lastVer, lastState = writeSnapshot(w, next, lastVer, lastState)
			case <-beat.C:
				fmt.Fprint(w, ": ping\n\n")
			}
			if w.Flush() != nil {
				return // the viewer has gone
			}
		}
	})
	return nil
}

// writeSnapshot writes the events a viewer has not seen yet.
func writeSnapshot(w *bufio.Writer, snap *Snapshot, lastVer int64, lastState tally.State) (int64, tally.State) {
	if snap.State != lastState {
		fmt.Fprintf(w, "event: state\ndata: {\"state\":%q}\n\n", snap.State)
	}
	if snap.Version != lastVer {
		fmt.Fprintf(w, "id: %d\nevent: tally\ndata: %s\n\n", snap.Version, snap.JSON)
	}
	return snap.Version, snap.State
}
