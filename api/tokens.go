package api

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/text/unicode/norm"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Bearer tokens (DESIGN §5.5, §7.1): issued by an admin, shown once, kept
// as their SHA-256. Each expires; a counter or viewer token may be scoped
// to one contest (and its further rounds, scope.go); an admin can list and
// revoke them.

type tokenRecord struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Contest, when set, is the one contest the token works on, with the
	// rounds that follow it (Record.Next).
	Contest   string `json:"contest,omitempty"`
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
	Expires   string `json:"expires"` // RFC 3339
}

// Token lifetimes when the request names none. A desk's token lasts a
// congress day; a viewer's (a projector, the higher committee's script)
// a congress of up to three days; an admin token, which can do
// everything, no longer than a session.
const (
	tokenLifeCounter = 24 * time.Hour
	tokenLifeViewer  = 72 * time.Hour
	tokenLifeAdmin   = 12 * time.Hour
	tokenLifeMin     = time.Minute
	tokenLifeMax     = 30 * 24 * time.Hour
)

func defaultLifetime(r Role) time.Duration {
	switch r {
	case roleAdmin:
		return tokenLifeAdmin
	case roleViewer:
		return tokenLifeViewer
	}
	return tokenLifeCounter
}

// expiry is when the token stops working. A token stored before tokens
// expired has none: it lasts its role's default lifetime from when it was
// made (so most such tokens have expired by now).
func (t tokenRecord) expiry() time.Time {
	if e, err := time.Parse(time.RFC3339, t.Expires); err == nil {
		return e
	}
	if c, err := time.Parse(time.RFC3339, t.Created); err == nil {
		return c.Add(defaultLifetime(t.Role))
	}
	return time.Time{}
}

// tokenView is a token as GET /api/v1/tokens lists it: never its secret.
func (t tokenRecord) view() fiber.Map {
	m := fiber.Map{"id": t.ID, "name": t.Name, "role": t.Role, "created": t.Created, "created_by": t.CreatedBy,
		"expires": t.expiry().UTC().Format(time.RFC3339)}
	if t.Contest != "" {
		m["contest"] = t.Contest
	}
	return m
}

// tokenRow is a token as the pages list it (the users page, a round's
// control page).
type tokenRow struct {
	tokenRecord
	Expires string // RFC 3339, for a token stored without one too
	Expired bool
}

func (t tokenRecord) row(now time.Time) tokenRow {
	return tokenRow{tokenRecord: t, Expires: t.expiry().UTC().Format(time.RFC3339), Expired: !now.Before(t.expiry())}
}

// tokenRequest is the body of POST /api/v1/tokens.
type tokenRequest struct {
	Role    Role   `json:"role"`
	Name    string `json:"name"`
	Contest string `json:"contest"`
	// Expires (RFC 3339) or Lifetime ("24h", "90m"): at most one.
	Expires  string `json:"expires"`
	Lifetime string `json:"lifetime"`
}

// tokenExpiry is when a token issued now for role ends: the time asked
// for, or the role's default.
func (s *Server) tokenExpiry(role Role, expires, lifetime string) (time.Time, error) {
	now := s.now()
	var life time.Duration
	switch {
	case expires != "" && lifetime != "":
		return time.Time{}, errorf(tally.Invalid, "lifetime", "give expires or lifetime, not both")
	case expires != "":
		e, err := time.Parse(time.RFC3339, expires)
		if err != nil {
			return time.Time{}, errorf(tally.Invalid, "expires", "must be an RFC 3339 time such as 2026-05-14T17:00:00+07:00")
		}
		life = e.Sub(now)
	case lifetime != "":
		d, err := time.ParseDuration(lifetime)
		if err != nil {
			return time.Time{}, errorf(tally.Invalid, "lifetime", `must be a duration such as "24h" or "90m"`)
		}
		life = d
	default:
		life = defaultLifetime(role)
	}
	field := "lifetime"
	if expires != "" {
		field = "expires"
	}
	if life < tokenLifeMin || life > tokenLifeMax {
		return time.Time{}, errorf(tally.Invalid, field, "a token lasts from 1 minute to 30 days (720h)")
	}
	return now.Add(life).Truncate(time.Second), nil
}

// createToken issues a bearer token: POST /api/v1/tokens {"role", "name",
// "contest"?, "expires"? | "lifetime"?}. The token is shown once; the
// store keeps only its SHA-256.
func (s *Server) createToken(c *fiber.Ctx) error {
	var req tokenRequest
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
	expires, err := s.tokenExpiry(req.Role, req.Expires, req.Lifetime)
	if err != nil {
		return err
	}
	ctx, cancel := storeCtx()
	defer cancel()
	if req.Contest != "" {
		if req.Role == roleAdmin {
			return errorf(tally.Invalid, "contest", "an admin token cannot be limited to one contest; issue a counter or viewer token")
		}
		if err := s.contestExists(ctx, req.Contest); err != nil {
			return err
		}
	}
	token, rec, err := s.issueToken(ctx, c, tokenRecord{Role: req.Role, Name: req.Name, Contest: req.Contest}, expires)
	if err != nil {
		return err
	}
	answer := rec.view()
	answer["token"] = token
	return c.Status(fiber.StatusCreated).JSON(answer)
}

// contestExists is nil for a contest that exists, else a 400 naming the
// field contest.
func (s *Server) contestExists(ctx context.Context, id string) error {
	_, err := s.store.Contest(ctx, id)
	if tally.ErrorKind(err) == tally.NotFound {
		return errorf(tally.Invalid, "contest", "no contest %.100q", id)
	}
	return err
}

// issueToken makes a token for rec (role, name, contest) and stores only
// its SHA-256; the API and the desk-token form of the setup page both
// issue through it.
func (s *Server) issueToken(ctx context.Context, c *fiber.Ctx, rec tokenRecord, expires time.Time) (string, tokenRecord, error) {
	if err := s.rateLimit(ctx, "tokens", who(c), s.limits.Tokens); err != nil {
		return "", tokenRecord{}, err
	}
	token := randomToken("kp_", 24)
	rec.ID = digest(token)[:12]
	rec.Created = s.now().UTC().Format(time.RFC3339)
	rec.CreatedBy = who(c)
	rec.Expires = expires.UTC().Format(time.RFC3339)
	data, _ := json.Marshal(rec)
	if err := s.store.PutItem(ctx, itemToken, digest(token), data); err != nil {
		return "", tokenRecord{}, err
	}
	return token, rec, nil
}

// storedTokens lists the tokens in the store, oldest first, with their
// keys (the tokens' SHA-256) beside them.
func (s *Server) storedTokens(ctx context.Context) ([]string, []tokenRecord, error) {
	all, err := s.store.ListItems(ctx, itemToken)
	if err != nil {
		return nil, nil, err
	}
	type stored struct {
		key string
		rec tokenRecord
	}
	list := make([]stored, 0, len(all))
	for k, data := range all {
		var t tokenRecord
		if json.Unmarshal(data, &t) == nil {
			list = append(list, stored{k, t})
		}
	}
	slices.SortFunc(list, func(a, b stored) int {
		return cmp.Or(strings.Compare(a.rec.Created, b.rec.Created), strings.Compare(a.rec.ID, b.rec.ID))
	})
	keys, recs := make([]string, len(list)), make([]tokenRecord, len(list))
	for i, st := range list {
		keys[i], recs[i] = st.key, st.rec
	}
	return keys, recs, nil
}

// listTokens: GET /api/v1/tokens[?contest=ID] (admin) → {"tokens": [...]},
// expired ones included (with their expiry), secrets never.
func (s *Server) listTokens(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	_, recs, err := s.storedTokens(ctx)
	if err != nil {
		return err
	}
	out := make([]fiber.Map, 0, len(recs))
	for _, t := range recs {
		if contest := c.Query("contest"); contest != "" && t.Contest != contest {
			continue
		}
		out = append(out, t.view())
	}
	return c.JSON(fiber.Map{"tokens": out})
}

// deleteToken: DELETE /api/v1/tokens/{id} (admin) revokes a token: it is
// refused at once on this instance, on the others when the notice arrives
// (and after credentialTTL at worst), and the sessions begun with it end
// at once everywhere.
func (s *Server) deleteToken(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	n, err := s.revokeToken(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"id": c.Params("id"), "sessions_ended": n})
}

// revokeToken deletes the token with this id and ends its sessions; it
// returns how many sessions ended.
func (s *Server) revokeToken(ctx context.Context, id string) (int, error) {
	keys, recs, err := s.storedTokens(ctx)
	if err != nil {
		return 0, err
	}
	i := slices.IndexFunc(recs, func(t tokenRecord) bool { return t.ID == id })
	if i < 0 {
		return 0, errorf(tally.NotFound, "id", "no token %.40q", id)
	}
	key := keys[i]
	if err := s.store.DeleteItem(ctx, itemToken, key); err != nil {
		return 0, err
	}
	s.changed(ctx, noticeToken+key)
	return s.endSessions(ctx, func(r sessionRecord) bool { return r.TokenKey == key })
}

// patchToken: PATCH /api/v1/tokens/{id} {"name": "Bàn 2"} (admin)
// renames a desk: the name the log records for what it keys from then on
// (entries already keyed keep the name they were keyed under).
func (s *Server) patchToken(c *fiber.Ctx) error {
	var req struct {
		Name *string `json:"name"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return errorf(tally.Invalid, "name", "required: the desk's new name")
	}
	ctx, cancel := storeCtx()
	defer cancel()
	t, err := s.renameToken(ctx, c.Params("id"), *req.Name)
	if err != nil {
		return err
	}
	return c.JSON(t.view())
}

// renameToken sets a token's name (the API and the users page); the
// sessions signed in with it take the new name at their next request.
func (s *Server) renameToken(ctx context.Context, id, name string) (tokenRecord, error) {
	name, err := cleanDisplayName("name", name)
	if err != nil {
		return tokenRecord{}, err
	}
	if name == "" {
		return tokenRecord{}, errorf(tally.Invalid, "name", "required: the desk's new name")
	}
	keys, recs, err := s.storedTokens(ctx)
	if err != nil {
		return tokenRecord{}, err
	}
	i := slices.IndexFunc(recs, func(t tokenRecord) bool { return t.ID == id })
	if i < 0 {
		return tokenRecord{}, errorf(tally.NotFound, "id", "no token %.40q", id)
	}
	var t tokenRecord
	swapped, err := s.swapItem(ctx, itemToken, keys[i], func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, errorf(tally.NotFound, "id", "no token %.40q", id)
		}
		t = tokenRecord{}
		if err := json.Unmarshal(old, &t); err != nil {
			return nil, err
		}
		t.Name = name
		data, _ := json.Marshal(t)
		return data, nil
	})
	if err != nil {
		return tokenRecord{}, err
	}
	if !swapped {
		return tokenRecord{}, errorf(tally.Conflict, "id", "token %.40q is being changed by someone else; try again", id)
	}
	s.changed(ctx, noticeToken+keys[i])
	return t, nil
}

// errUnknownToken is the refusal of a token that is not (or no longer)
// in the store.
func errUnknownToken() error {
	return errorf(tally.Unauthorized, "", "unknown, expired or revoked token")
}

// tokenByKey finds a token by its SHA-256: from the cache while it holds
// (credentials.go), else from the store.
func (s *Server) tokenByKey(ctx context.Context, key string) (tokenRecord, error) {
	now := s.now()
	if t, ok := s.creds.tokens.get(key, now); ok {
		return t, nil
	}
	data, err := s.store.Item(ctx, itemToken, key)
	if tally.ErrorKind(err) == tally.NotFound {
		return tokenRecord{}, errUnknownToken()
	}
	if err != nil {
		return tokenRecord{}, err
	}
	var t tokenRecord
	if err := json.Unmarshal(data, &t); err != nil {
		return tokenRecord{}, err
	}
	expires := t.expiry()
	if !now.Before(expires) {
		return tokenRecord{}, errUnknownToken()
	}
	until := now.Add(credentialTTL)
	if expires.Before(until) {
		until = expires // never cached past its expiry
	}
	s.creds.tokens.put(key, t, until)
	return t, nil
}

// tokenPrincipal finds who a bearer token belongs to.
func (s *Server) tokenPrincipal(ctx context.Context, token string) (*principal, error) {
	t, err := s.tokenByKey(ctx, digest(token))
	if err != nil {
		return nil, err
	}
	return t.principal(), nil
}

func (t tokenRecord) principal() *principal {
	return &principal{ID: "token:" + t.ID, Name: t.Name, Role: t.Role, Contest: t.Contest}
}
