package api

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// The results screen (DESIGN §5.7) for the projector in the hall: bars of
// votes against the legal denominator, live from the SSE stream.

// screenData is the page's JSON data block: the result as it is now, so
// that the screen shows it before the stream connects, and the
// committee's paper count of ballots collected, which the result does not
// carry (it is in the round notes, readable through the API by viewers
// only).
type screenData struct {
	Contest   string            `json:"contest"`
	Title     string            `json:"title"`
	Round     int               `json:"round"`
	Seats     int               `json:"seats"`
	Ballot    string            `json:"ballot"`
	Kind      string            `json:"kind"` // opinion and introduction say what they decide
	State     tally.State       `json:"state"`
	Collected *int              `json:"collected,omitempty"`
	Result    json.RawMessage   `json:"result"`
	Messages  map[string]string `json:"messages"`
	// Warnings are the words of the figures' warnings (tally.Warning,
	// web/i18n_warnings.go), which the script checks on every result.
	Warnings map[string]string `json:"warnings"`
}

// screenPage serves GET /contests/:id/screen.
func (s *Server) screenPage(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	id := c.Params("id")
	rec, err := s.store.Contest(ctx, id)
	if err != nil {
		return err
	}
	snap, err := s.broker.Snapshot(ctx, id)
	if err != nil {
		return err
	}
	notes, err := s.notes(ctx, id)
	if err != nil {
		return err
	}
	ct := rec.Contest
	p := s.page(c, "screen.title", nil, ct.Title)
	// The snapshot's state is the one its result was computed in; the
	// record's may be newer (closed since), and the badges depend on it.
	d := screenData{Contest: ct.ID, Title: ct.Title, Round: ct.Round, Seats: ct.Seats, Ballot: string(ct.Ballot),
		Kind: string(ct.Kind), State: rec.State, Collected: notes.Collected, Result: snap.JSON, Messages: p.Lang.Messages("screen."),
		Warnings: p.Lang.Messages("warning.")}
	p.Wide = true
	p.Data = d
	return s.render(c, fiber.StatusOK, "screen", p)
}
