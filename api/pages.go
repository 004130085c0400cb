package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// The pages (DESIGN §5.7) are rendered here from package web's templates;
// their scripts call the JSON API with the session's CSRF token.

const (
	langCookie  = "kp_lang"
	loginCookie = "kp_login" // the sign-in form's CSRF token (double submit)
)

// pageRoutes mounts the pages and their assets. Pages and the downloads
// share the audit and authentication of the API.
func (s *Server) pageRoutes() {
	app := s.app
	app.Use("/static", func(c *fiber.Ctx) error {
		// Asset URLs carry the build's digest (web.Asset), so they may be
		// cached for good.
		if c.Query("v") != "" {
			c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		}
		return c.Next()
	}, filesystem.New(filesystem.Config{Root: http.FS(web.Static())}))

	s.pageGet("/", s.homePage)
	s.pageGet("/login", s.loginPage)
	s.pagePost("/login", s.loginForm)
	s.pagePost("/logout", s.logoutForm)

	s.pageGet("/contests/:id/desk", s.requirePage(roleCounter), s.deskPage)
	s.pageGet("/contests/:id/screen", s.requireResultPage, s.screenPage)
	s.pageGet("/contests/:id/stacks", s.requirePage(roleAdmin), s.stacksPage)
	s.pageGet("/contests/:id/scans", s.requirePage(roleCounter), s.scansPage)

	// Downloads for people (DESIGN §5.7): the results with the result's
	// visibility; the per-ballot log, as GET …/log, only to those signed
	// in (docs/architecture.md, "Who reads the per-ballot log"). Those of
	// certified rounds are kept (certified.go).
	s.pageGet("/contests/:id/export.csv", s.requireResultAccess, s.certifiedCache(false), s.renderLimit, s.exportCSV)
	s.pageGet("/contests/:id/export.xlsx", s.requireResultAccess, s.certifiedCache(false), s.renderLimit, s.exportXLSX)
	s.pageGet("/contests/:id/export.jsonl", s.require(roleViewer), s.certifiedCache(false), s.renderLimit, s.exportLog)

	// Setup (api/setup.go, api/ballotpaper.go).
	s.pageGet("/congresses/new", s.requirePage(roleAdmin), s.congressSetupPage)
	s.pageGet("/congresses/:id/setup", s.requirePage(roleAdmin), s.congressSetupPage)
	s.pageGet("/contests/new", s.requirePage(roleAdmin), s.contestNewPage)
	s.pageGet("/contests/:id/setup", s.requirePage(roleAdmin), s.contestSetupPage)
	s.pageGet("/contests/:id/edit", s.requirePage(roleAdmin), s.contestEditPage)
	s.pagePost("/contests/:id/tokens", s.requirePage(roleAdmin), s.deskTokenForm)
	s.pagePost("/contests/:id/tokens/:token/revoke", s.requirePage(roleAdmin), s.revokeTokenForm)
	s.pageGet("/contests/:id/ballot-paper", s.requirePage(roleViewer), s.ballotPaperPage)
	s.pageGet("/contests/:id/ballot-paper.pdf", s.requirePage(roleViewer), s.renderLimit, s.ballotPaperPDF)
	s.pageGet("/contests/:id/test-deck.pdf", s.requirePage(roleViewer), s.renderLimit, s.testDeckPDF)

	// The higher committee's roll-up (api/rollup.go).
	s.pageGet("/rollup", s.requirePage(roleViewer), s.rollupPage)

	// The minutes and the verify page (api/minutes.go, api/verify.go).
	s.minutesRoutes()

	// Users, tokens and passwords (api/account.go).
	s.accountRoutes()
	s.firstRunRoutes()
}

// pageGet and pagePost mount a page route behind the pages' middleware:
// per route rather than as a group, because a group's middleware would
// also run for every other route under its prefix. contestScope keeps a
// token issued for one contest to it (scope.go).
func (s *Server) pageGet(path string, h ...fiber.Handler) {
	s.app.Get(path, append([]fiber.Handler{s.securityHeaders, s.audit, s.authenticate, s.contestScope}, h...)...)
}

func (s *Server) pagePost(path string, h ...fiber.Handler) {
	s.app.Post(path, append([]fiber.Handler{s.securityHeaders, s.audit, s.authenticate, s.contestScope}, h...)...)
}

// securityHeaders gives the pages and downloads the pages' policy
// (pageCSP) in place of the API's; the headers every response carries are
// responseHeaders' (headers.go).
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentSecurityPolicy, pageCSP)
	return c.Next()
}

// lang is the page language: ?lang= (remembered in a cookie), the cookie,
// or Vietnamese.
func (s *Server) lang(c *fiber.Ctx) web.Lang {
	if q := c.Query("lang"); q != "" {
		l := web.ParseLang(q)
		c.Cookie(&fiber.Cookie{Name: langCookie, Value: string(l), Path: "/", SameSite: fiber.CookieSameSiteLaxMode,
			Secure: s.cfg.SecureCookies, Expires: s.now().Add(365 * 24 * time.Hour)})
		return l
	}
	return web.ParseLang(c.Cookies(langCookie))
}

// page builds what every template gets for this request.
func (s *Server) page(c *fiber.Ctx, titleKey string, data any, args ...any) *web.Page {
	l := s.lang(c)
	p := &web.Page{Lang: l, Title: l.T(titleKey, args...), Path: samePath(c.Path()), Data: data}
	if pr := principalOf(c); pr != nil {
		username, account := strings.CutPrefix(pr.ID, "user:")
		if !account {
			username = ""
		}
		p.User = &web.User{Name: pr.Name, Username: username, Role: string(pr.Role), Account: account}
		p.CSRF = pr.csrf
	}
	return p
}

// render writes a page.
func (s *Server) render(c *fiber.Ctx, status int, name string, p *web.Page) error {
	c.Status(status)
	c.Type("html", "utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.pages.Render(c, name, p)
}

// requirePage admits a signed-in principal of at least the role; others
// are sent to sign in and come back.
func (s *Server) requirePage(min Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principalOf(c)
		if p == nil {
			return c.Redirect("/login?next="+c.OriginalURL(), fiber.StatusSeeOther)
		}
		if roleRank[p.Role] < roleRank[min] {
			return errorf(tally.Forbidden, "", "the %s role may not open this page; it needs %s", p.Role, min)
		}
		if err := scopeAllows(c, p); err != nil {
			return err
		}
		if err := checkCSRF(c, p); err != nil {
			return err
		}
		return c.Next()
	}
}

// wantsHTML tells whether an error should be a page rather than JSON: a
// browser's request (it accepts text/html) outside the JSON API.
func wantsHTML(c *fiber.Ctx) bool {
	return !strings.HasPrefix(c.Path(), "/api/") && strings.Contains(c.Get(fiber.HeaderAccept), "text/html")
}

// errorPage renders an error for people, with the same status the API
// would give.
func (s *Server) errorPage(c *fiber.Ctx, status int, message string) error {
	p := s.page(c, "error.title", struct{ Message, RequestID string }{message, requestID(c)})
	c.Set(fiber.HeaderContentSecurityPolicy, pageCSP) // also for routes no page handler matched
	return s.render(c, status, "error", p)
}

func (s *Server) homePage(c *fiber.Ctx) error {
	type group struct {
		Congress *tally.CongressRecord
		Contests []*tally.Record
	}
	var groups []group
	if p := principalOf(c); p != nil {
		ctx, cancel := storeCtx()
		defer cancel()
		congresses, err := s.congresses(ctx)
		if err != nil {
			return err
		}
		recs, err := s.store.Contests(ctx)
		if err != nil {
			return err
		}
		recs = visibleRounds(p, recs)
		index := map[string]int{}
		for _, cg := range congresses {
			index[cg.ID] = len(groups)
			groups = append(groups, group{Congress: cg})
		}
		var loose []*tally.Record
		for _, r := range recs {
			if i, ok := index[r.Congress]; ok {
				groups[i].Contests = append(groups[i].Contests, r)
			} else {
				loose = append(loose, r)
			}
		}
		if len(loose) > 0 {
			groups = append(groups, group{Contests: loose})
		}
		if p.Contest != "" {
			// A desk of one contest sees its congress, not the others.
			groups = slices.DeleteFunc(groups, func(g group) bool { return len(g.Contests) == 0 })
		}
		for _, g := range groups {
			// Rounds of one election together, in the order they were made.
			slices.SortStableFunc(g.Contests, func(a, b *tally.Record) int { return strings.Compare(a.Created, b.Created) })
		}
	}
	return s.render(c, fiber.StatusOK, "home", s.page(c, "home.title", struct{ Groups any }{groups}))
}

// safeNext keeps a return address on this site: a path, never "//host".
// Browsers drop TAB, CR and LF from a URL and read "\" as "/" (the WHATWG
// URL parser), so "/\t/evil.example" is "//evil.example" to them (finding
// 15): a return address with a backslash or any control character, a
// scheme, or "//" is refused for "/".
func safeNext(next string) string {
	if len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || !utf8.ValidString(next) {
		return "/"
	}
	for _, r := range next {
		if r == '\\' || unicode.IsControl(r) {
			return "/"
		}
	}
	return next
}

type loginData struct {
	Error, Next, Username, FormToken string
	// FirstRun: nobody can sign in yet; the page points at the link the
	// service printed at start (firstrun.go).
	FirstRun bool
}

// loginPage shows the sign-in form: a user name and password, or a token
// handed to a desk (DESIGN §5.7).
func (s *Server) loginPage(c *fiber.Ctx) error {
	d := loginData{Next: safeNext(c.Query("next"))}
	if c.Query("expired") != "" {
		d.Error = s.lang(c).T("login.expired")
	}
	return s.renderLogin(c, fiber.StatusOK, d)
}

// loginFormLife is how long a sign-in form may wait to be posted.
const loginFormLife = time.Hour

// loginFormToken signs a sign-in form for the browser holding nonce (its
// kp_login cookie), at the client's address, until expires: a token minted
// for another browser, address or time does not pass. The key is the
// instances' shared one (formKey).
func (s *Server) loginFormToken(ctx context.Context, c *fiber.Ctx, nonce string, expires int64) (string, error) {
	key, err := s.formKey(ctx)
	if err != nil {
		return "", err
	}
	exp := strconv.FormatInt(expires, 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("kiemphieu login form\x00" + nonce + "\x00" + c.IP() + "\x00" + exp))
	return exp + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

// loginFormValid checks the form's _csrf against the browser's cookie.
func (s *Server) loginFormValid(ctx context.Context, c *fiber.Ctx) (bool, error) {
	nonce, form := c.Cookies(loginCookie), c.FormValue("_csrf")
	exp, _, ok := strings.Cut(form, ".")
	expires, err := strconv.ParseInt(exp, 10, 64)
	if nonce == "" || !ok || err != nil || s.now().Unix() > expires {
		return false, nil
	}
	want, err := s.loginFormToken(ctx, c, nonce, expires)
	if err != nil {
		return false, err
	}
	return hmac.Equal([]byte(form), []byte(want)), nil
}

func (s *Server) renderLogin(c *fiber.Ctx, status int, d loginData) error {
	// Login CSRF: the form carries a token that must match a cookie only
	// this site can set, so another site cannot sign a browser in as
	// someone else. The token is the cookie's signature (bound to the
	// client's address and an expiry), so that a cookie planted by a
	// sibling site, or one minted for the attacker's own browser, does not
	// come with a token that passes (finding 14).
	ctx, cancel := storeCtx()
	defer cancel()
	nonce := randomToken("", 18)
	token, err := s.loginFormToken(ctx, c, nonce, s.now().Add(loginFormLife).Unix())
	if err != nil {
		return err
	}
	d.FormToken = token
	d.FirstRun = s.firstRunPending(ctx)
	c.Cookie(&fiber.Cookie{Name: loginCookie, Value: nonce, Path: "/login", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteStrictMode, Secure: s.cfg.SecureCookies, SessionOnly: true})
	return s.render(c, status, "login", s.page(c, "login.title", d))
}

// loginForm signs in from the form, with a password or a token, under the
// same lockout and rate limit as the API, and starts a session.
func (s *Server) loginForm(c *fiber.Ctx) error {
	l := s.lang(c)
	d := loginData{Next: safeNext(c.FormValue("next")), Username: c.FormValue("username")}
	ctx, cancel := storeCtx()
	defer cancel()
	if ok, err := s.loginFormValid(ctx, c); err != nil {
		return err
	} else if !ok {
		d.Error = l.T("login.expired")
		return s.renderLogin(c, fiber.StatusForbidden, d)
	}
	var rec sessionRecord
	err := s.signInLimit(ctx, c)
	switch token, password := strings.TrimSpace(c.FormValue("token")), c.FormValue("password"); {
	case err != nil:
	case token != "":
		rec, err = s.tokenSession(ctx, c, token)
	case d.Username != "" && password != "":
		var u userRecord
		if u, err = s.checkPassword(ctx, c, d.Username, password); err == nil {
			rec = sessionRecord{Username: u.Username, Role: u.Role, PasswordVersion: u.PasswordVersion}
		}
	default:
		d.Error = l.T("login.missing")
		return s.renderLogin(c, fiber.StatusBadRequest, d)
	}
	var locked *lockedError
	switch {
	case errors.As(err, &locked):
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(locked.retry/time.Second)))
		d.Error = l.T("login.locked", int(locked.retry/time.Second))
		if locked.limited {
			d.Error = l.T("login.limited", int(locked.retry/time.Second))
		}
		return s.renderLogin(c, fiber.StatusTooManyRequests, d)
	case tally.ErrorKind(err) == tally.Unauthorized:
		d.Error = l.T("login.failed")
		return s.renderLogin(c, fiber.StatusUnauthorized, d)
	case tally.ErrorKind(err) == tally.Invalid:
		d.Error, d.Username = l.T("login.username_long", maxUsername), ""
		return s.renderLogin(c, fiber.StatusBadRequest, d)
	case err != nil:
		return err
	}
	if _, _, err := s.startSession(ctx, c, rec); err != nil {
		return err
	}
	c.ClearCookie(loginCookie)
	return c.Redirect(d.Next, fiber.StatusSeeOther)
}

// logoutForm ends the session (the form carries the CSRF token) and goes
// back to the sign-in page.
func (s *Server) logoutForm(c *fiber.Ctx) error {
	if err := s.logout(c); err != nil {
		return err
	}
	return c.Redirect("/login", fiber.StatusSeeOther)
}
