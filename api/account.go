package api

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// The account pages: /users for the admin (users added, renamed, disabled
// and enabled, passwords reset; every token listed, renamed and revoked) and
// /password for a person changing their own. They are plain forms with
// _csrf, and call what the JSON API calls.

func (s *Server) accountRoutes() {
	s.pageGet("/users", s.requirePage(roleAdmin), s.usersPage)
	s.pagePost("/users", s.requirePage(roleAdmin), s.createUserForm)
	s.pagePost("/users/:name/disabled", s.requirePage(roleAdmin), s.disableUserForm)
	s.pagePost("/users/:name/password", s.requirePage(roleAdmin), s.resetPasswordForm)
	s.pagePost("/users/:name/name", s.requirePage(roleAdmin), s.renameUserForm)
	s.pagePost("/tokens/:id/revoke", s.requirePage(roleAdmin), s.revokeTokenListForm)
	s.pagePost("/tokens/:id/name", s.requirePage(roleAdmin), s.renameTokenForm)
	s.pageGet("/password", s.requirePage(roleViewer), s.passwordPage)
	s.pagePost("/password", s.requirePage(roleViewer), s.passwordForm)
}

type usersData struct {
	Done, Error string
	Users       []userRecord
	Tokens      []tokenRow
}

func (s *Server) usersPage(c *fiber.Ctx) error {
	return s.renderUsers(c, fiber.StatusOK, usersData{})
}

func (s *Server) renderUsers(c *fiber.Ctx, status int, d usersData) error {
	ctx, cancel := storeCtx()
	defer cancel()
	var err error
	if d.Users, err = s.users(ctx); err != nil {
		return err
	}
	_, tokens, err := s.storedTokens(ctx)
	if err != nil {
		return err
	}
	for _, t := range slices.Backward(tokens) { // newest first
		d.Tokens = append(d.Tokens, t.row(s.now()))
	}
	return s.render(c, status, "users", s.page(c, "users.title", d))
}

// accountError is a refusal as a person reads it: in the page's language,
// naming the field by its label.
func accountError(l web.Lang, err error) string {
	var locked *lockedError
	if errors.As(err, &locked) {
		return l.T("login.locked", int(locked.retry/time.Second))
	}
	field := ""
	if ps := tally.Problems(err); len(ps) > 0 {
		field = ps[0].Field
	}
	switch kind := tally.ErrorKind(err); {
	case field == "password":
		return l.T("account.error.password")
	case field == "old_password":
		return l.T("account.error.old_password")
	case field == "username" && kind == tally.Conflict:
		return l.T("account.error.username_taken")
	case field == "username" && kind == tally.Invalid:
		return l.T("account.error.username")
	case field == "role":
		return l.T("account.error.role")
	case field == "name" && kind == tally.Invalid:
		return l.T("account.error.name", maxDisplayName)
	case field == "disabled" && kind == tally.Conflict:
		return l.T("account.error.self")
	case kind == tally.NotFound:
		return l.T("account.error.not_found")
	}
	return l.T("account.error.other", err.Error())
}

// accountDone renders the users page after a form: the notice, or the
// refusal (with its status) when err is one a person can mend.
func (s *Server) accountDone(c *fiber.Ctx, err error, done string) error {
	if err != nil {
		switch tally.ErrorKind(err) {
		case tally.Internal, tally.Unavailable:
			return err
		}
		status := statusOf[tally.ErrorKind(err)]
		return s.renderUsers(c, status, usersData{Error: accountError(s.lang(c), err)})
	}
	return s.renderUsers(c, fiber.StatusOK, usersData{Done: done})
}

// createUserForm: POST /users (username, name, password, role), as POST
// /api/v1/users.
func (s *Server) createUserForm(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	u, err := s.addUser(ctx, c.FormValue("username"), c.FormValue("name"), c.FormValue("password"), Role(c.FormValue("role")))
	if err != nil {
		return s.accountDone(c, err, "")
	}
	return s.accountDone(c, nil, s.lang(c).T("users.done.created", u.Username))
}

func (s *Server) disableUserForm(c *fiber.Ctx) error {
	disabled := c.FormValue("disabled") == "true"
	ctx, cancel := storeCtx()
	defer cancel()
	u, n, err := s.setDisabled(ctx, c, userParam(c), disabled)
	if err != nil {
		return s.accountDone(c, err, "")
	}
	done := s.lang(c).T("users.done.enabled", u.Username)
	if disabled {
		done = s.lang(c).T("users.done.disabled", u.Username, n)
	}
	return s.accountDone(c, nil, done)
}

func (s *Server) resetPasswordForm(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	u, n, _, err := s.changePassword(ctx, c, userParam(c), "", c.FormValue("password"))
	if err != nil {
		return s.accountDone(c, err, "")
	}
	return s.accountDone(c, nil, s.lang(c).T("users.done.reset", u.Username, n))
}

// renameUserForm: POST /users/{name}/name (name), as PATCH
// /api/v1/users/{name} {"name"}.
func (s *Server) renameUserForm(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	u, err := s.renameUser(ctx, userParam(c), c.FormValue("name"))
	if err != nil {
		return s.accountDone(c, err, "")
	}
	return s.accountDone(c, nil, s.lang(c).T("users.done.renamed", u.Username, u.displayName()))
}

// renameTokenForm: POST /tokens/{id}/name (name), as PATCH
// /api/v1/tokens/{id}.
func (s *Server) renameTokenForm(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	t, err := s.renameToken(ctx, c.Params("id"), c.FormValue("name"))
	if err != nil {
		return s.accountDone(c, err, "")
	}
	return s.accountDone(c, nil, s.lang(c).T("users.done.token_renamed", t.ID, t.Name))
}

func (s *Server) revokeTokenListForm(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	n, err := s.revokeToken(ctx, c.Params("id"))
	if err != nil {
		return s.accountDone(c, err, "")
	}
	return s.accountDone(c, nil, s.lang(c).T("users.done.revoked", c.Params("id"), n))
}

type passwordData struct {
	Done, Error string
}

// passwordPage: GET /password, for a person signed in with a password.
func (s *Server) passwordPage(c *fiber.Ctx) error {
	if err := requireAccount(c); err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "password", s.page(c, "password.title", passwordData{}))
}

// passwordForm: POST /password (old_password, password, confirm). The
// other sessions end; this browser gets a new session.
func (s *Server) passwordForm(c *fiber.Ctx) error {
	if err := requireAccount(c); err != nil {
		return err
	}
	l := s.lang(c)
	p := principalOf(c)
	if c.FormValue("password") != c.FormValue("confirm") {
		return s.render(c, fiber.StatusBadRequest, "password", s.page(c, "password.title", passwordData{Error: l.T("account.error.confirm")}))
	}
	ctx, cancel := storeCtx()
	defer cancel()
	// By the user name in the id: p.Name is the full name printed.
	_, _, _, err := s.changePassword(ctx, c, strings.TrimPrefix(p.ID, "user:"), c.FormValue("old_password"), c.FormValue("password"))
	if err != nil {
		switch tally.ErrorKind(err) {
		case tally.Internal, tally.Unavailable:
			return err
		}
		var locked *lockedError
		if errors.As(err, &locked) {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(locked.retry/time.Second)))
		}
		return s.render(c, statusOf[tally.ErrorKind(err)], "password", s.page(c, "password.title", passwordData{Error: accountError(l, err)}))
	}
	// The page is drawn for the new session (its CSRF token).
	return s.render(c, fiber.StatusOK, "password", s.page(c, "password.title", passwordData{Done: l.T("password.done")}))
}

// requireAccount refuses a desk signed in with a token: it has no password.
func requireAccount(c *fiber.Ctx) error {
	if p := principalOf(c); p == nil || !strings.HasPrefix(p.ID, "user:") {
		return errorf(tally.Forbidden, "", "only a person signed in with a password has one to change")
	}
	return nil
}
