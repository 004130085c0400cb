package api

import (
	"maps"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// The counting desk (DESIGN §5.7): a keyboard-first page where a counter
// keys paper ballots. The page is rendered once; its script (desk.js)
// previews each ballot's validity with the same rules as tally.Contest.Mark
// and Classify, makes the ballot ids, and keeps a queue in localStorage so
// that nothing keyed is lost to a reload or a dropped connection.

// deskCandidate is what the desk's script needs of a candidate.
type deskCandidate struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func deskCandidates(list []tally.Candidate) []deskCandidate {
	out := make([]deskCandidate, len(list))
	for i, cand := range list {
		out[i] = deskCandidate{ID: cand.ID, Name: cand.Name}
	}
	return out
}

// keyingMessages are the messages a page that keys or names ballots hands
// its script: those under each prefix, and every invalid ballot's reason.
func keyingMessages(l web.Lang, prefixes ...string) map[string]string {
	out := map[string]string{}
	for _, prefix := range prefixes {
		maps.Copy(out, l.Messages(prefix))
	}
	for _, r := range tally.Reasons() {
		k := "reason." + r.String()
		out[k] = l.T(k)
	}
	return out
}

// deskData is the page's JSON data block (the CSP forbids inline scripts).
type deskData struct {
	Contest string `json:"contest"`
	Title   string `json:"title"`
	Round   int    `json:"round"`
	Ballot  string `json:"ballot"` // strike | approve | name
	Kind    string `json:"kind"`   // opinion: each row its own question
	Seats   int    `json:"seats"`
	// Elects: the kind elects (tally.ContestKind.Elects), so a ballot of
	// several names that agrees with nobody is invalid (no_vote).
	Elects     bool            `json:"elects"`
	State      tally.State     `json:"state"`
	Candidates []deskCandidate `json:"candidates"` // in ballot order
	// Entry and Required: a verified round (double, triple) is keyed by
	// stack and position, each keying sent to …/keyings.
	Entry    tally.EntryMode   `json:"entry"`
	Required int               `json:"required"`
	Messages map[string]string `json:"messages"`
	// Next is the round that follows this one, once made: a desk left on
	// a closed round is pointed at it (desk.js asks again until it exists).
	Next string `json:"next,omitempty"`
}

// deskPage serves GET /contests/:id/desk to counters and admins. A round
// that is not open gets the page with a plain notice and no entry field:
// the server would refuse every ballot anyway.
func (s *Server) deskPage(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	rec, err := s.store.Contest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	ct := rec.Contest
	d := deskData{Contest: ct.ID, Title: ct.Title, Round: ct.Round, Ballot: string(ct.Ballot), Kind: string(ct.Kind), Seats: ct.Seats,
		Elects: ct.Kind.Elects(), State: rec.State, Candidates: deskCandidates(ct.Candidates), Entry: ct.Entry, Required: ct.Entry.Desks(), Next: rec.Next}
	p := s.page(c, "desk.title", nil, ct.Title)
	d.Messages = keyingMessages(p.Lang, "desk.")
	p.Wide = true
	p.Data = d
	return s.render(c, fiber.StatusOK, "desk", p)
}
