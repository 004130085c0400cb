package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Role is what a principal may do. Roles are ordered: an admin may do what
// a counter may, and a counter what a viewer may.
type Role string

const (
	roleViewer  Role = "viewer"  // read contests, results, logs, streams
	roleCounter Role = "counter" // also key and void ballots of open contests
	roleAdmin   Role = "admin"   // also set up, open, close, certify; issue tokens
)

var roleRank = map[Role]int{roleViewer: 1, roleCounter: 2, roleAdmin: 3}

// principal is who is making a request. Name is what the log records as the
// desk (a token's name or a user name): it identifies the counter, never a
// voter.
type principal struct {
	ID   string
	Name string
	Role Role
	// Contest, for a token issued for one contest, is that contest: the
	// principal may act on it and its further rounds only (scope.go).
	Contest string
	// csrf is the session's token when the request came with a session
	// cookie; unsafe methods must echo it in X-CSRF-Token.
	csrf    string
	session bool
}

// Items kinds.
const (
	itemToken   = "token"
	itemUser    = "user"
	itemSession = "session"
)

// Session lifetimes: ended after 30 minutes without a request, and after 12
// hours in any case (VotingWorks' auto-lock; OWASP ASVS 3.3.2 level 2).
// The cookie itself has no expiry: it ends with the browser, so that a
// desk PC shared by the counting committee does not sign the next person
// in after a restart.
const (
	sessionIdle     = 30 * time.Minute
	sessionAbsolute = 12 * time.Hour
	sessionTouch    = time.Minute // refresh last-seen at most this often
	sessionCookie   = "kp_session"
	minPassword     = 10
)

type sessionRecord struct {
	Username string `json:"username"` // the user, or the name of the token signed in with
	Role     Role   `json:"role"`
	// Token is the id of the token a desk signed in with ("bootstrap" for
	// KIEMPHIEU_ADMIN_TOKEN); empty for users.
	Token string `json:"token,omitempty"`
	// TokenKey is that token's SHA-256, the key of its item: the session
	// lasts only while the token does (revoked, expired: ended).
	TokenKey string `json:"token_key,omitempty"`
	// PasswordVersion is the user's when they signed in: the session ends
	// when the password changes.
	PasswordVersion int `json:"password_version,omitempty"`
	// No CSRF token: it is derived from the session id (csrfToken), so
	// that the store holds neither (the id only as its SHA-256).
	Created  int64 `json:"created"`   // unix seconds
	LastSeen int64 `json:"last_seen"` // unix seconds
}

func decodeSession(data []byte) (sessionRecord, error) {
	var rec sessionRecord
	err := json.Unmarshal(data, &rec)
	return rec, err
}

func randomToken(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// csrfToken is a session's CSRF token: derived from the session id, so
// that it need not be stored, and not from what is stored (the id's
// SHA-256), so that a copy of the store gives no CSRF token.
func csrfToken(sessionID string) string {
	sum := sha256.Sum256([]byte("kiemphieu csrf\x00" + sessionID))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func digest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func who(c *fiber.Ctx) string {
	if p, ok := c.Locals(localPrincipal).(*principal); ok && p != nil {
		return p.ID
	}
	return "anonymous"
}

func principalOf(c *fiber.Ctx) *principal {
	p, _ := c.Locals(localPrincipal).(*principal)
	return p
}

// bootstrap is the principal of KIEMPHIEU_ADMIN_TOKEN, when token is it.
func (s *Server) bootstrap(token string) *principal {
	if s.cfg.AdminToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.AdminToken)) == 1 {
		return &principal{ID: "token:bootstrap", Name: "admin", Role: roleAdmin}
	}
	return nil
}

// bootstrapKey stands for KIEMPHIEU_ADMIN_TOKEN in the sessions begun
// with it, so that they end when the token is changed. It is labelled, so
// that it is not the plain SHA-256 the store keeps of issued tokens (the
// bootstrap token is chosen by a person, not drawn at random).
func bootstrapKey(token string) string { return digest("kiemphieu bootstrap session\x00" + token) }

// authenticate finds the principal of a request from a bearer token or a
// session cookie. Bad credentials are refused; none at all is anonymous,
// and each route says what it requires.
func (s *Server) authenticate(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || token == "" {
			return errorf(tally.Unauthorized, "", "the Authorization header must be \"Bearer <token>\"")
		}
		if p := s.bootstrap(token); p != nil {
			c.Locals(localPrincipal, p)
			return c.Next()
		}
		p, err := s.tokenPrincipal(ctx, token)
		if err != nil {
			return err
		}
		c.Locals(localPrincipal, p)
		return c.Next()
	}
	if id := c.Cookies(sessionCookie); id != "" {
		p, err := s.session(c, id)
		if err != nil {
			return err
		}
		if p != nil {
			c.Locals(localPrincipal, p)
		}
	}
	return c.Next()
}

// session loads and refreshes a session, or returns nil when it has ended
// — expired, or its credential revoked, expired, disabled or its password
// changed (the cookie is then cleared).
func (s *Server) session(c *fiber.Ctx, id string) (*principal, error) {
	ctx, cancel := storeCtx()
	defer cancel()
	key := digest(id)
	data, err := s.store.Item(ctx, itemSession, key)
	if tally.ErrorKind(err) == tally.NotFound {
		s.clearSessionCookie(c)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rec, err := decodeSession(data)
	if err != nil {
		return nil, err
	}
	now := s.now()
	p, err := s.sessionPrincipal(ctx, rec)
	if err != nil && tally.ErrorKind(err) != tally.Unauthorized {
		return nil, err
	}
	if err != nil || now.Sub(time.Unix(rec.LastSeen, 0)) > sessionIdle || now.Sub(time.Unix(rec.Created, 0)) > sessionAbsolute {
		s.store.DeleteItem(ctx, itemSession, key)
		s.clearSessionCookie(c)
		return nil, nil
	}
	if now.Sub(time.Unix(rec.LastSeen, 0)) > sessionTouch {
		rec.LastSeen = now.Unix()
		data, _ := json.Marshal(rec)
		if err := s.store.PutItem(ctx, itemSession, key, data); err != nil {
			if tally.ErrorKind(err) != tally.Unavailable {
				return nil, err
			}
			// The store takes no writes now (a full disk, Redis out of
			// memory): the session stays valid as it is, so that reading
			// the results still works; it is refreshed on a later request.
			s.log.Warn("session not refreshed: the store refuses writes", slog.String("request_id", requestID(c)), slog.Any("err", err))
		}
	}
	p.csrf, p.session = csrfToken(id), true
	return p, nil
}

// sessionPrincipal is who a session is, from the credential it was
// started with as it is now: an error of kind Unauthorized when that
// credential no longer holds.
func (s *Server) sessionPrincipal(ctx context.Context, rec sessionRecord) (*principal, error) {
	ended := errorf(tally.Unauthorized, "", "the session has ended")
	switch {
	case rec.Token == "bootstrap":
		// KIEMPHIEU_ADMIN_TOKEN, as long as this instance still has it.
		if s.cfg.AdminToken == "" || subtle.ConstantTimeCompare([]byte(rec.TokenKey), []byte(bootstrapKey(s.cfg.AdminToken))) != 1 {
			return nil, ended
		}
		return &principal{ID: "token:bootstrap", Name: "admin", Role: roleAdmin}, nil
	case rec.TokenKey != "":
		t, err := s.tokenByKey(ctx, rec.TokenKey)
		if err != nil {
			return nil, err
		}
		return t.principal(), nil
	case rec.Token != "":
		return nil, ended // a token session from before sessions named their token's key
	}
	u, err := s.userByName(ctx, rec.Username)
	if tally.ErrorKind(err) == tally.NotFound || err == nil && (u.Disabled || u.PasswordVersion != rec.PasswordVersion) {
		return nil, ended
	}
	if err != nil {
		return nil, err
	}
	return u.principal(), nil
}

// require admits principals of at least the given role, within their
// scope (scope.go). Requests that authenticate with a session cookie must
// also carry the session's CSRF token on unsafe methods; bearer tokens are
// not sent by browsers on their own, so they need none.
func (s *Server) require(min Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principalOf(c)
		if p == nil {
			return errorf(tally.Unauthorized, "", "sign in or send a bearer token")
		}
		if roleRank[p.Role] < roleRank[min] {
			return errorf(tally.Forbidden, "", "the %s role may not do this; it needs %s", p.Role, min)
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

func checkCSRF(c *fiber.Ctx, p *principal) error {
	if !p.session {
		return nil
	}
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return nil
	}
	got := c.Get("X-CSRF-Token")
	if got == "" {
		got = c.FormValue("_csrf") // the pages' plain forms (sign-out)
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.csrf)) != 1 {
		return errorf(tally.Forbidden, "X-CSRF-Token", "missing or wrong CSRF token")
	}
	return nil
}

// requireJSON refuses a body that is not declared application/json. A
// page of another site can post a form (text/plain, urlencoded,
// multipart) to this origin without asking; it cannot send
// application/json without a CORS preflight, which is never granted. So
// the sign-in API cannot be driven from another site (login CSRF,
// finding 14).
func requireJSON(c *fiber.Ctx) error {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != fiber.MIMEApplicationJSON {
		return errorf(tally.Unsupported, "Content-Type", "must be application/json (the sign-in page posts its own form)")
	}
	return nil
}

// login checks a password and starts a session: a fresh random id in an
// HttpOnly, SameSite=Strict cookie (never reused: no session fixation), and
// a CSRF token the page sends back in X-CSRF-Token.
func (s *Server) login(c *fiber.Ctx) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	ctx, cancel := storeCtx()
	defer cancel()
	if err := s.signInLimit(ctx, c); err != nil {
		return err
	}
	u, err := s.checkPassword(ctx, c, req.Username, req.Password)
	if err != nil {
		return err
	}
	rec, csrf, err := s.startSession(ctx, c, sessionRecord{Username: u.Username, Role: u.Role, PasswordVersion: u.PasswordVersion})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"username": u.Username, "role": u.Role, "csrf_token": csrf,
		"expires": time.Unix(rec.Created, 0).Add(sessionAbsolute).UTC().Format(time.RFC3339)})
}

// tokenSession checks a token typed into (or scanned onto) the sign-in
// page and returns the session it starts. Token sign-ins are not locked
// (lockout.go): only the address's sign-in rate limit bounds them.
func (s *Server) tokenSession(ctx context.Context, c *fiber.Ctx, token string) (sessionRecord, error) {
	if p := s.bootstrap(token); p != nil {
		return sessionRecord{Username: p.Name, Role: p.Role, Token: "bootstrap", TokenKey: bootstrapKey(token)}, nil
	}
	t, err := s.tokenByKey(ctx, digest(token))
	if tally.ErrorKind(err) == tally.Unauthorized {
		s.log.Warn("token sign-in refused", slog.String("request_id", requestID(c)))
	}
	if err != nil {
		return sessionRecord{}, err
	}
	return sessionRecord{Username: t.Name, Role: t.Role, Token: t.ID, TokenKey: digest(token)}, nil
}

// startSession stores a new session for rec's user or token, sets its
// cookie and returns its CSRF token; the id is fresh on every sign-in, and
// a session cookie the client already had is never adopted. The cookie
// has no expiry (it ends with the browser); the server ends the session
// after sessionIdle or sessionAbsolute.
func (s *Server) startSession(ctx context.Context, c *fiber.Ctx, rec sessionRecord) (sessionRecord, string, error) {
	id := randomToken("", 32)
	csrf := csrfToken(id)
	now := s.now()
	rec.Created, rec.LastSeen = now.Unix(), now.Unix()
	data, _ := json.Marshal(rec)
	if err := s.store.PutItem(ctx, itemSession, digest(id), data); err != nil {
		return rec, "", err
	}
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: id, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
		Secure: s.cfg.SecureCookies, SessionOnly: true})
	p, err := s.sessionPrincipal(ctx, rec)
	if err != nil {
		return rec, "", err
	}
	p.csrf, p.session = csrf, true
	c.Locals(localPrincipal, p)
	return rec, csrf, nil
}

func (s *Server) logout(c *fiber.Ctx) error {
	if id := c.Cookies(sessionCookie); id != "" {
		if p := principalOf(c); p != nil {
			if err := checkCSRF(c, p); err != nil {
				return err
			}
		}
		ctx, cancel := storeCtx()
		defer cancel()
		if err := s.store.DeleteItem(ctx, itemSession, digest(id)); err != nil && tally.ErrorKind(err) != tally.NotFound {
			return err
		}
	}
	s.clearSessionCookie(c)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
		Secure: s.cfg.SecureCookies, Expires: time.Unix(1, 0)})
}

// auditLog serves the audit log as JSONL: GET /api/v1/audit?after=N&limit=M.
func (s *Server) auditLog(c *fiber.Ctx) error {
	after, err := strconv.ParseInt(c.Query("after", "0"), 10, 64)
	if err != nil || after < 0 {
		return errorf(tally.Invalid, "after", "must be a whole number ≥ 0")
	}
	limit, err := strconv.Atoi(c.Query("limit", "1000"))
	if err != nil || limit < 1 || limit > 10000 {
		return errorf(tally.Invalid, "limit", "must be between 1 and 10000")
	}
	ctx, cancel := storeCtx()
	defer cancel()
	lines, err := s.store.Audit(ctx, after, limit)
	if err != nil {
		return err
	}
	c.Type("jsonl", "utf-8")
	c.Set(fiber.HeaderContentType, "application/jsonl; charset=utf-8")
	for _, l := range lines {
		c.Write(l)
		c.Write([]byte{'\n'})
	}
	return nil
}
