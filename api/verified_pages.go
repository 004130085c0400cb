package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// stacksData is the JSON data block of the committee's stacks page.
type stacksData struct {
	Contest    string            `json:"contest"`
	Title      string            `json:"title"`
	Ballot     string            `json:"ballot"`
	Entry      tally.EntryMode   `json:"entry"`
	Required   int               `json:"required"`
	State      tally.State       `json:"state"`
	Candidates []deskCandidate   `json:"candidates"` // in ballot order
	Messages   map[string]string `json:"messages"`
}

// stacksPage serves GET /contests/:id/stacks (admin): the counting
// committee's control of a verified round — declare the stacks, follow
// their progress, and decide the disputed positions with the differing
// entries side by side. Its script (stacks.js) calls …/stacks,
// …/disputes and …/decision.
func (s *Server) stacksPage(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	cc, rec, err := s.verifiedContest(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	d := stacksData{Contest: cc.ID, Title: cc.Title, Ballot: string(cc.Ballot), Entry: cc.Entry, Required: cc.Entry.Desks(),
		State: rec.State, Candidates: deskCandidates(cc.Candidates)}
	p := s.page(c, "stacks.title", nil, cc.Title)
	// The desk's parser messages, for "another entry".
	d.Messages = keyingMessages(p.Lang, "stacks.", "desk.")
	d.Messages["mode"] = p.Lang.T("setup.entry." + string(cc.Entry))
	p.Wide = true
	p.Data = d
	return s.render(c, fiber.StatusOK, "stacks", p)
}
