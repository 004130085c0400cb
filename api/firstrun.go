package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// First run (DESIGN §7.3): a service started with no user and no
// KIEMPHIEU_ADMIN_TOKEN has nobody who can sign in. It draws a one-time
// code, keeps only its SHA-256 in the store, and the command prints the
// link …/setup?code=…; that page creates the first admin (the secretary,
// by the full name the minutes print) and signs them in. The code works
// once, for 24 hours at most, and only until the next start draws another
// (the newest link printed is the one that works, on every instance of a
// shared store). Once any user exists the page is closed for good.

const (
	itemSetup     = "setup"
	setupKey      = "first-run"
	firstRunLife  = 24 * time.Hour
	firstRunBytes = 24 // 192 bits: not guessable within any rate limit
)

type firstRunRecord struct {
	Hash    string `json:"hash"`    // SHA-256 of the code, hex
	Expires string `json:"expires"` // RFC 3339
	// Used is set by the sign-up that spent the code (compare-and-set):
	// two forms posted at once cannot both make an admin.
	Used bool `json:"used,omitempty"`
}

// FirstRun draws the first-run code when the service has nobody who can
// sign in: no admin token configured and no user stored. It returns ""
// otherwise. The command calls it once at start and prints the link.
func (s *Server) FirstRun(ctx context.Context) (string, error) {
	if s.cfg.AdminToken != "" {
		return "", nil
	}
	users, err := s.store.ListItems(ctx, itemUser)
	if err != nil || len(users) > 0 {
		return "", err
	}
	code := randomToken("", firstRunBytes)
	data, _ := json.Marshal(firstRunRecord{Hash: digest(code), Expires: s.now().Add(firstRunLife).UTC().Format(time.RFC3339)})
	if err := s.store.PutItem(ctx, itemSetup, setupKey, data); err != nil {
		return "", err
	}
	return code, nil
}

// firstRunState says what a first-run code is worth now.
type firstRunState int

const (
	firstRunOpen    firstRunState = iota // the code is right: the form may be used
	firstRunDone                         // someone can sign in already: the page is closed
	firstRunExpired                      // no code pending, or it has expired
	firstRunWrong                        // a code is pending, but not this one
)

// firstRun reads the pending code and checks code against it; the stored
// record is returned for the compare-and-set that spends it.
func (s *Server) firstRun(ctx context.Context, code string) (firstRunState, []byte, error) {
	if s.cfg.AdminToken != "" {
		return firstRunDone, nil, nil
	}
	data, err := s.store.Item(ctx, itemSetup, setupKey)
	if tally.ErrorKind(err) == tally.NotFound {
		// Users made with an admin token before, then the token removed:
		// no code was drawn, and the service is set up.
		users, err := s.store.ListItems(ctx, itemUser)
		if err != nil {
			return 0, nil, err
		}
		if len(users) > 0 {
			return firstRunDone, nil, nil
		}
		return firstRunExpired, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	var rec firstRunRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return 0, nil, err
	}
	expires, err := time.Parse(time.RFC3339, rec.Expires)
	switch {
	case rec.Used:
		return firstRunDone, data, nil
	case err != nil || !s.now().Before(expires):
		return firstRunExpired, data, nil
	case len(code) > 2*firstRunBytes || subtle.ConstantTimeCompare([]byte(digest(code)), []byte(rec.Hash)) != 1:
		return firstRunWrong, data, nil
	}
	return firstRunOpen, data, nil
}

type firstRunData struct {
	Code, Error string
	// Closed, when set, is why the form is not shown (an i18n key).
	Closed             string
	Name, Username     string
	MinPassword, MaxID int
}

func (s *Server) firstRunRoutes() {
	s.pageGet("/setup", s.firstRunPage)
	s.pagePost("/setup", s.firstRunForm)
}

// closedKey is the page's message for a state other than open.
var closedKey = map[firstRunState]string{
	firstRunDone:    "firstrun.closed.done",
	firstRunExpired: "firstrun.closed.expired",
	firstRunWrong:   "firstrun.closed.wrong",
}

var closedStatus = map[firstRunState]int{
	firstRunDone:    fiber.StatusGone,
	firstRunExpired: fiber.StatusGone,
	firstRunWrong:   fiber.StatusForbidden,
}

func (s *Server) renderFirstRun(c *fiber.Ctx, status int, d firstRunData) error {
	d.MinPassword, d.MaxID = minPassword, maxUsername
	return s.render(c, status, "firstrun", s.page(c, "firstrun.title", d))
}

// firstRunPage: GET /setup?code=… — the form, or why there is none.
func (s *Server) firstRunPage(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	code := c.Query("code")
	state, _, err := s.firstRun(ctx, code)
	if err != nil {
		return err
	}
	if state != firstRunOpen {
		return s.renderFirstRun(c, closedStatus[state], firstRunData{Closed: closedKey[state]})
	}
	return s.renderFirstRun(c, fiber.StatusOK, firstRunData{Code: code})
}

// firstRunForm: POST /setup (code, name, username, password, confirm)
// makes the first admin and signs them in. The form needs no CSRF token of
// its own: the code is a secret another site cannot know. Anonymous, so
// it is under the sign-in rate limit, and the code is checked before any
// bcrypt is spent.
func (s *Server) firstRunForm(c *fiber.Ctx) error {
	l := s.lang(c)
	d := firstRunData{Code: c.FormValue("code"), Name: c.FormValue("name"), Username: c.FormValue("username")}
	ctx, cancel := storeCtx()
	defer cancel()
	refuse := func(err error) error {
		var locked *lockedError
		if errors.As(err, &locked) {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(locked.retry/time.Second)))
		}
		d.Error = accountError(l, err)
		if ps := tally.Problems(err); len(ps) > 0 && ps[0].Field == "password" {
			d.Error = l.T("firstrun.error.password", minPassword) // the field's label here is "Mật khẩu"
		}
		return s.renderFirstRun(c, statusOf[tally.ErrorKind(err)], d)
	}
	if err := s.signInLimit(ctx, c); err != nil {
		return refuse(err)
	}
	state, old, err := s.firstRun(ctx, d.Code)
	if err != nil {
		return err
	}
	if state != firstRunOpen {
		return s.renderFirstRun(c, closedStatus[state], firstRunData{Closed: closedKey[state]})
	}
	if c.FormValue("password") != c.FormValue("confirm") {
		d.Error = l.T("account.error.confirm_first")
		return s.renderFirstRun(c, fiber.StatusBadRequest, d)
	}
	if tally.CleanText(d.Name) == "" {
		d.Error = l.T("firstrun.error.name")
		return s.renderFirstRun(c, fiber.StatusBadRequest, d)
	}
	u, err := newUser(d.Username, d.Name, c.FormValue("password"), roleAdmin)
	if err != nil {
		return refuse(err)
	}
	// Spend the code, then store the user: of two forms posted at once,
	// one spends it and the other finds the page closed.
	var rec firstRunRecord
	json.Unmarshal(old, &rec)
	rec.Used = true
	used, _ := json.Marshal(rec)
	spent, err := s.store.SwapItem(ctx, itemSetup, setupKey, old, used)
	if err != nil {
		return err
	}
	if !spent {
		return s.renderFirstRun(c, fiber.StatusGone, firstRunData{Closed: closedKey[firstRunDone]})
	}
	if err := s.storeNewUser(ctx, &u); err != nil {
		if tally.ErrorKind(err) == tally.Conflict {
			return refuse(err)
		}
		return err
	}
	s.log.Info("first run: the first admin was created", slog.String("username", u.Username), slog.String("request_id", requestID(c)))
	if _, _, err := s.startSession(ctx, c, sessionRecord{Username: u.Username, Role: u.Role, PasswordVersion: u.PasswordVersion}); err != nil {
		return err
	}
	return c.Redirect("/", fiber.StatusSeeOther)
}

// firstRunPending tells the sign-in page to point at the printed link:
// nobody can sign in yet.
func (s *Server) firstRunPending(ctx context.Context) bool {
	state, _, err := s.firstRun(ctx, "")
	return err == nil && state == firstRunWrong
}
