package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"

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
const (
	sessionIdle     = 30 * time.Minute
	sessionAbsolute = 12 * time.Hour
	sessionTouch    = time.Minute // refresh last-seen at most this often
	sessionCookie   = "kp_session"
	minPassword     = 10
)

type tokenRecord struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Role      Role   `json:"role"`
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
}

type userRecord struct {
	Username string `json:"username"`
	Role     Role   `json:"role"`
	Hash     string `json:"hash"` // bcrypt
	Created  string `json:"created"`
}

type sessionRecord struct {
	Username string `json:"username"` // the user, or the name of the token signed in with
	Role     Role   `json:"role"`
	// Token is the id of the token a desk signed in with; empty for users.
	Token string `json:"token,omitempty"`
	// No CSRF token: it is derived from the session id (csrfToken), so
	// that the store holds neither (the id only as its SHA-256).
	Created  int64 `json:"created"`   // unix seconds
	LastSeen int64 `json:"last_seen"` // unix seconds
}

func (r sessionRecord) principal(csrf string) *principal {
	p := &principal{ID: "user:" + r.Username, Name: r.Username, Role: r.Role, csrf: csrf, session: true}
	if r.Token != "" {
		p.ID = "token:" + r.Token
	}
	return p
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
		if s.cfg.AdminToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.AdminToken)) == 1 {
			c.Locals(localPrincipal, &principal{ID: "token:bootstrap", Name: "admin", Role: roleAdmin})
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

// tokenTTL is how long a token found in the store is trusted without
// asking the store again. Every ballot carries its desk's token, and with
// Redis the lookup is a round trip that waits behind the AOF fsync: this
// cache is worth about a third of the Redis intake (docs/benchmarks.md).
// The price: a token removed from the store keeps working on an instance
// for up to tokenTTL.
const tokenTTL = 10 * time.Second

type cachedToken struct {
	p     *principal
	until time.Time
}

// tokenPrincipal finds who a bearer token belongs to.
func (s *Server) tokenPrincipal(ctx context.Context, token string) (*principal, error) {
	key := digest(token)
	now := s.now()
	s.tokens.mu.Lock()
	ct, ok := s.tokens.m[key]
	s.tokens.mu.Unlock()
	if ok && now.Before(ct.until) {
		return ct.p, nil
	}
	data, err := s.store.Item(ctx, itemToken, key)
	if tally.ErrorKind(err) == tally.NotFound {
		return nil, errorf(tally.Unauthorized, "", "unknown or revoked token")
	}
	if err != nil {
		return nil, err
	}
	var t tokenRecord
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, err
	}
	p := &principal{ID: "token:" + t.ID, Name: t.Name, Role: t.Role}
	s.tokens.mu.Lock()
	if len(s.tokens.m) >= 10000 {
		clear(s.tokens.m) // bounded: desks re-enter on their next ballot
	}
	s.tokens.m[key] = cachedToken{p: p, until: now.Add(tokenTTL)}
	s.tokens.mu.Unlock()
	return p, nil
}

// session loads and refreshes a session, or returns nil when it has
// expired (the cookie is then cleared).
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
	var rec sessionRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, err
	}
	now := s.now()
	if now.Sub(time.Unix(rec.LastSeen, 0)) > sessionIdle || now.Sub(time.Unix(rec.Created, 0)) > sessionAbsolute {
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
	return rec.principal(csrfToken(id)), nil
}

// require admits principals of at least the given role. Requests that
// authenticate with a session cookie must also carry the session's CSRF
// token on unsafe methods; bearer tokens are not sent by browsers on their
// own, so they need none.
func (s *Server) require(min Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principalOf(c)
		if p == nil {
			return errorf(tally.Unauthorized, "", "sign in or send a bearer token")
		}
		if roleRank[p.Role] < roleRank[min] {
			return errorf(tally.Forbidden, "", "the %s role may not do this; it needs %s", p.Role, min)
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

// createToken issues a bearer token: POST /api/v1/tokens {"role", "name"}.
// The token is shown once; the store keeps only its SHA-256.
func (s *Server) createToken(c *fiber.Ctx) error {
	var req struct {
		Role Role   `json:"role"`
		Name string `json:"name"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(norm.NFC.String(req.Name))
	if roleRank[req.Role] == 0 {
		return errorf(tally.Invalid, "role", `must be "admin", "counter" or "viewer"; got %q`, req.Role)
	}
	if req.Name == "" {
		req.Name = string(req.Role)
	}
	if utf8.RuneCountInString(req.Name) > 100 {
		return errorf(tally.Invalid, "name", "too long (at most 100 characters)")
	}
	ctx, cancel := storeCtx()
	defer cancel()
	token, rec, err := s.issueToken(ctx, c, req.Role, req.Name)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"token": token, "id": rec.ID, "name": rec.Name, "role": rec.Role})
}

// issueToken makes a token and stores only its SHA-256; the API and the
// desk-token form of the setup page both issue through it.
func (s *Server) issueToken(ctx context.Context, c *fiber.Ctx, role Role, name string) (string, tokenRecord, error) {
	if err := s.rateLimit(ctx, "tokens", who(c), s.limits.Tokens); err != nil {
		return "", tokenRecord{}, err
	}
	token := randomToken("kp_", 24)
	rec := tokenRecord{ID: digest(token)[:12], Name: name, Role: role, Created: s.now().UTC().Format(time.RFC3339), CreatedBy: who(c)}
	data, _ := json.Marshal(rec)
	if err := s.store.PutItem(ctx, itemToken, digest(token), data); err != nil {
		return "", tokenRecord{}, err
	}
	return token, rec, nil
}

// createUser adds a person who signs in with a password:
// POST /api/v1/users {"username", "password", "role"}.
func (s *Server) createUser(c *fiber.Ctx) error {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Role     Role   `json:"role"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	req.Username = strings.ToLower(strings.TrimSpace(norm.NFC.String(req.Username)))
	switch {
	case req.Username == "" || utf8.RuneCountInString(req.Username) > 64 || strings.ContainsAny(req.Username, " \t:/"):
		return errorf(tally.Invalid, "username", "must be 1–64 characters without spaces, ':' or '/'")
	case utf8.RuneCountInString(req.Password) < minPassword || len(req.Password) > 72:
		return errorf(tally.Invalid, "password", "must be %d to 72 characters", minPassword)
	case roleRank[req.Role] == 0:
		return errorf(tally.Invalid, "role", `must be "admin", "counter" or "viewer"; got %q`, req.Role)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(req.Password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	ctx, cancel := storeCtx()
	defer cancel()
	if _, err := s.store.Item(ctx, itemUser, req.Username); err == nil {
		return errorf(tally.Conflict, "username", "user %q already exists", req.Username)
	} else if tally.ErrorKind(err) != tally.NotFound {
		return err
	}
	data, _ := json.Marshal(userRecord{Username: req.Username, Role: req.Role, Hash: string(hash), Created: s.now().UTC().Format(time.RFC3339)})
	if err := s.store.PutItem(ctx, itemUser, req.Username, data); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"username": req.Username, "role": req.Role})
}

// login checks a password and starts a session: a fresh random id in an
// HttpOnly, SameSite=Strict cookie (never reused: no session fixation), and
// a CSRF token the page sends back in X-CSRF-Token.
func (s *Server) login(c *fiber.Ctx) error {
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
	rec, csrf, err := s.startSession(ctx, c, sessionRecord{Username: u.Username, Role: u.Role})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"username": u.Username, "role": u.Role, "csrf_token": csrf,
		"expires": time.Unix(rec.Created, 0).Add(sessionAbsolute).UTC().Format(time.RFC3339)})
}

// checkPassword finds the user and checks the password, under the
// sign-in lockout of the user name.
func (s *Server) checkPassword(ctx context.Context, c *fiber.Ctx, username, password string) (userRecord, error) {
	username = strings.ToLower(strings.TrimSpace(norm.NFC.String(username)))
	lock := "user:" + username
	if err := s.checkLockout(ctx, lock); err != nil {
		return userRecord{}, err
	}
	data, err := s.store.Item(ctx, itemUser, username)
	var u userRecord
	if err == nil {
		err = json.Unmarshal(data, &u)
	} else if tally.ErrorKind(err) != tally.NotFound {
		return u, err
	}
	// Compare against a hash even for unknown users, so timing does not
	// tell which user names exist.
	hash := []byte(u.Hash)
	if err != nil {
		hash = dummyHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || err != nil {
		s.log.Warn("login refused", slog.String("username", username), slog.String("request_id", requestID(c)))
		return u, s.loginFailed(ctx, lock, errorf(tally.Unauthorized, "", "wrong user name or password"))
	}
	return u, s.loginSucceeded(ctx, lock)
}

// checkToken finds a bearer token's principal for a sign-in with a token
// (a desk's), under the lockout of the client's address: tokens have no
// name to lock.
func (s *Server) checkToken(ctx context.Context, c *fiber.Ctx, token string) (*principal, error) {
	lock := "ip:" + c.IP()
	if err := s.checkLockout(ctx, lock); err != nil {
		return nil, err
	}
	if s.cfg.AdminToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.AdminToken)) == 1 {
		return &principal{ID: "token:bootstrap", Name: "admin", Role: roleAdmin}, s.loginSucceeded(ctx, lock)
	}
	p, err := s.tokenPrincipal(ctx, token)
	if tally.ErrorKind(err) == tally.Unauthorized {
		s.log.Warn("token sign-in refused", slog.String("request_id", requestID(c)))
		return nil, s.loginFailed(ctx, lock, err)
	}
	if err != nil {
		return nil, err
	}
	return p, s.loginSucceeded(ctx, lock)
}

// startSession stores a new session for rec's user or token, sets its
// cookie and returns its CSRF token; the id is fresh on every sign-in, and
// a session cookie the client already had is never adopted.
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
		Secure: s.cfg.SecureCookies, Expires: now.Add(sessionAbsolute)})
	c.Locals(localPrincipal, rec.principal(csrf))
	return rec, csrf, nil
}

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password of anyone"), bcrypt.DefaultCost)

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

// auditEvent is one line of the audit log: who did what, when, how it
// ended. It never holds a secret (tokens appear by id, passwords never).
type auditEvent struct {
	Time      string `json:"time"`
	RequestID string `json:"request_id"`
	Who       string `json:"who"`
	Role      Role   `json:"role,omitempty"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	Outcome   string `json:"outcome"` // "ok" or the error code
}

// audit records every admin action, every sign-in and every refused request.
func (s *Server) audit(c *fiber.Ctx) error {
	err := c.Next()
	status := c.Response().StatusCode()
	outcome := "ok"
	if err != nil {
		var fe *fiber.Error
		if errors.As(err, &fe) {
			status, outcome = fe.Code, "error"
		} else {
			kind := tally.ErrorKind(err)
			status, outcome = statusOf[kind], string(kind)
		}
	}
	p := principalOf(c)
	admin := p != nil && p.Role == roleAdmin && c.Method() != fiber.MethodGet
	signIn := strings.HasSuffix(c.Path(), "/login") || strings.HasSuffix(c.Path(), "/logout")
	if !admin && !signIn && status < 400 {
		return err
	}
	ev := auditEvent{Time: s.now().UTC().Format(time.RFC3339Nano), RequestID: requestID(c), Who: who(c),
		Method: c.Method(), Path: loggedPath(c), Status: status, Outcome: outcome}
	if p != nil {
		ev.Role = p.Role
	} else if token, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer "); ok && token != "" {
		// A refused token is named as tokens are (the start of its
		// SHA-256), so that repeated attempts can be told apart.
		ev.Who = "token:" + digest(token)[:12] + "?"
	}
	line, _ := json.Marshal(ev)
	ctx, cancel := storeCtx()
	defer cancel()
	if aerr := s.store.AppendAudit(ctx, line); aerr != nil {
		s.log.Error("audit log write failed", slog.Any("err", aerr), slog.String("event", string(line)))
	}
	return err
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
