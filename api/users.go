package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"

	"github.com/kiemphieu/kiemphieu/tally"
)

// People who sign in with a password: made by an admin, disabled and
// enabled by an admin, their password changed by themselves (with the old
// one) or reset by an admin. A session lasts only while its user is
// enabled and has the password it signed in with.

type userRecord struct {
	Username string `json:"username"`
	// Name is the person's full name as the minutes and the audit log
	// print it ("Nguyễn Thị Lan"); empty for users made before names, who
	// are then printed by their user name.
	Name    string `json:"name,omitempty"`
	Role    Role   `json:"role"`
	Hash    string `json:"hash"` // bcrypt
	Created string `json:"created"`
	// Disabled users cannot sign in, and their sessions end.
	Disabled bool `json:"disabled,omitempty"`
	// PasswordVersion counts the changes of the password; a session
	// records the one it signed in with and ends when it moves on.
	PasswordVersion int    `json:"password_version,omitempty"`
	PasswordChanged string `json:"password_changed,omitempty"` // RFC 3339
}

// userView is a user as the API shows it: never the hash.
func (u userRecord) view() fiber.Map {
	m := fiber.Map{"username": u.Username, "name": u.displayName(), "role": u.Role, "created": u.Created, "disabled": u.Disabled}
	if u.PasswordChanged != "" {
		m["password_changed"] = u.PasswordChanged
	}
	return m
}

// displayName is who the user is on paper: the full name, else the user
// name.
func (u userRecord) displayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Username
}

func (u userRecord) principal() *principal {
	return &principal{ID: "user:" + u.Username, Name: u.displayName(), Role: u.Role}
}

// maxDisplayName bounds a person's or a desk's name: a Vietnamese full name
// with its title fits in far less.
const maxDisplayName = 100

// cleanDisplayName is a name as printed: NFC, spaces collapsed, at most
// maxDisplayName characters; empty is allowed (the user name stands in).
func cleanDisplayName(field, name string) (string, error) {
	if len(name) > 4*maxDisplayName {
		return "", errorf(tally.Invalid, field, "too long (at most %d characters)", maxDisplayName)
	}
	name = tally.CleanText(name)
	if utf8.RuneCountInString(name) > maxDisplayName {
		return "", errorf(tally.Invalid, field, "too long (at most %d characters)", maxDisplayName)
	}
	return name, nil
}

const (
	maxUsername      = 64
	maxUsernameBytes = 4 * maxUsername // before normalization: what is read at all
)

// cleanUsername is a user name as stored: NFC, trimmed, lower case. A name
// over the limit is refused before anything is stored, logged or hashed
// (finding 9: a 4 MB name cost 9 MB of Redis per failed sign-in).
func cleanUsername(name string) (string, error) {
	if len(name) > maxUsernameBytes {
		return "", errorf(tally.Invalid, "username", "too long (at most %d characters)", maxUsername)
	}
	name = strings.ToLower(strings.TrimSpace(norm.NFC.String(name)))
	if utf8.RuneCountInString(name) > maxUsername {
		return "", errorf(tally.Invalid, "username", "too long (at most %d characters)", maxUsername)
	}
	return name, nil
}

// userParam is the user name in the path, percent-decoded (Fiber leaves
// path parameters as they came, and names may be Vietnamese).
func userParam(c *fiber.Ctx) string {
	if name, err := url.PathUnescape(c.Params("name")); err == nil {
		return name
	}
	return c.Params("name")
}

func checkNewPassword(field, password string) error {
	if utf8.RuneCountInString(password) < minPassword || len(password) > 72 {
		return errorf(tally.Invalid, field, "must be %d to 72 characters", minPassword)
	}
	return nil
}

// createUser adds a person who signs in with a password:
// POST /api/v1/users {"username", "password", "role", "name"}; name, the
// full name the minutes print, is optional.
func (s *Server) createUser(c *fiber.Ctx) error {
	var req struct {
		Username string `json:"username"`
		Name     string `json:"name"`
		Password string `json:"password"`
		Role     Role   `json:"role"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	ctx, cancel := storeCtx()
	defer cancel()
	u, err := s.addUser(ctx, req.Username, req.Name, req.Password, req.Role)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"username": u.Username, "name": u.displayName(), "role": u.Role})
}

// addUser stores a new user (the API, the users page, the first-run
// page); a name taken is a conflict, decided by compare-and-set.
func (s *Server) addUser(ctx context.Context, username, fullName, password string, role Role) (userRecord, error) {
	u, err := newUser(username, fullName, password, role)
	if err != nil {
		return u, err
	}
	return u, s.storeNewUser(ctx, &u)
}

// storeNewUser stores u, stamped with its creation time, unless the user
// name is taken (compare-and-set: a conflict).
func (s *Server) storeNewUser(ctx context.Context, u *userRecord) error {
	u.Created = s.now().UTC().Format(time.RFC3339)
	data, _ := json.Marshal(u)
	created, err := s.store.SwapItem(ctx, itemUser, u.Username, nil, data)
	if err != nil {
		return err
	}
	if !created {
		return errorf(tally.Conflict, "username", "user %q already exists", u.Username)
	}
	return nil
}

// newUser checks a new user's fields and hashes the password; nothing is
// stored.
func newUser(username, fullName, password string, role Role) (userRecord, error) {
	display, derr := cleanDisplayName("name", fullName)
	name, err := cleanUsername(username)
	switch {
	case err != nil || name == "" || strings.ContainsAny(name, " \t:/"):
		return userRecord{}, errorf(tally.Invalid, "username", "must be 1–%d characters without spaces, ':' or '/'", maxUsername)
	case checkNewPassword("password", password) != nil:
		return userRecord{}, checkNewPassword("password", password)
	case roleRank[role] == 0:
		return userRecord{}, errorf(tally.Invalid, "role", `must be "admin", "counter" or "viewer"; got %q`, role)
	case derr != nil:
		return userRecord{}, derr
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return userRecord{}, err
	}
	return userRecord{Username: name, Name: display, Role: role, Hash: string(hash)}, nil
}

// listUsers: GET /api/v1/users (admin) → {"users": [...]}, by name,
// without their hashes.
func (s *Server) listUsers(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	users, err := s.users(ctx)
	if err != nil {
		return err
	}
	out := make([]fiber.Map, len(users))
	for i, u := range users {
		out[i] = u.view()
	}
	return c.JSON(fiber.Map{"users": out})
}

func (s *Server) users(ctx context.Context) ([]userRecord, error) {
	all, err := s.store.ListItems(ctx, itemUser)
	if err != nil {
		return nil, err
	}
	out := make([]userRecord, 0, len(all))
	for _, data := range all {
		var u userRecord
		if json.Unmarshal(data, &u) == nil {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b userRecord) int { return strings.Compare(a.Username, b.Username) })
	return out, nil
}

// patchUser: PATCH /api/v1/users/{name} {"disabled": true|false,
// "name": "…"} (admin), either or both. Disabling ends the user's sessions
// on every instance; an admin cannot disable the account it is signed in
// with (the last admin would be shut out). A new name is what the minutes
// and the audit log print from then on; what was recorded keeps the old.
func (s *Server) patchUser(c *fiber.Ctx) error {
	var req struct {
		Disabled *bool   `json:"disabled"`
		Name     *string `json:"name"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Disabled == nil && req.Name == nil {
		return errorf(tally.Invalid, "disabled", `required: true to disable the user, false to enable (or "name" to rename)`)
	}
	ctx, cancel := storeCtx()
	defer cancel()
	var u userRecord
	var err error
	if req.Name != nil {
		if u, err = s.renameUser(ctx, userParam(c), *req.Name); err != nil {
			return err
		}
	}
	ended := 0
	if req.Disabled != nil {
		if u, ended, err = s.setDisabled(ctx, c, userParam(c), *req.Disabled); err != nil {
			return err
		}
	}
	answer := u.view()
	answer["sessions_ended"] = ended
	return c.JSON(answer)
}

// renameUser sets the full name a user is printed by (the API and the
// users page); empty goes back to the user name.
func (s *Server) renameUser(ctx context.Context, username, fullName string) (userRecord, error) {
	display, err := cleanDisplayName("name", fullName)
	if err != nil {
		return userRecord{}, err
	}
	username, err = cleanUsername(username)
	if err != nil {
		return userRecord{}, err
	}
	return s.updateUser(ctx, username, func(u *userRecord) error {
		u.Name = display
		return nil
	})
}

// setDisabled disables or enables a user (the API and the users page).
func (s *Server) setDisabled(ctx context.Context, c *fiber.Ctx, name string, disabled bool) (userRecord, int, error) {
	name, err := cleanUsername(name)
	if err != nil {
		return userRecord{}, 0, err
	}
	if disabled && principalOf(c).ID == "user:"+name {
		return userRecord{}, 0, errorf(tally.Conflict, "disabled", "you cannot disable the account you are signed in with")
	}
	u, err := s.updateUser(ctx, name, func(u *userRecord) error {
		u.Disabled = disabled
		return nil
	})
	if err != nil || !disabled {
		return u, 0, err
	}
	n, err := s.endUserSessions(ctx, name)
	return u, n, err
}

// setPassword: POST /api/v1/users/{name}/password. A user changes their
// own with {"old_password", "password"} (the old one is checked under the
// sign-in lockout); an admin resets another's with {"password"}. Every
// session of the user ends; one changing their own password gets a new
// session in the same answer ({"csrf_token", "expires"}).
func (s *Server) setPassword(c *fiber.Ctx) error {
	var req struct {
		OldPassword string `json:"old_password"`
		Password    string `json:"password"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	ctx, cancel := storeCtx()
	defer cancel()
	u, ended, csrf, err := s.changePassword(ctx, c, userParam(c), req.OldPassword, req.Password)
	if err != nil {
		return err
	}
	answer := fiber.Map{"username": u.Username, "password_changed": u.PasswordChanged, "sessions_ended": ended}
	if csrf != "" {
		answer["csrf_token"] = csrf
		answer["expires"] = s.now().Add(sessionAbsolute).UTC().Format(time.RFC3339)
	}
	return c.JSON(answer)
}

// changePassword sets name's password (the API and the password page). It
// returns the CSRF token of the new session when the user changed their
// own.
func (s *Server) changePassword(ctx context.Context, c *fiber.Ctx, name, old, password string) (userRecord, int, string, error) {
	p := principalOf(c)
	name, err := cleanUsername(name)
	if err != nil {
		return userRecord{}, 0, "", err
	}
	own := p.ID == "user:"+name
	switch {
	case !own && p.Role != roleAdmin:
		return userRecord{}, 0, "", errorf(tally.Forbidden, "", "only an admin may set another user's password")
	case own && old == "":
		return userRecord{}, 0, "", errorf(tally.Invalid, "old_password", "required: your present password")
	}
	if err := checkNewPassword("password", password); err != nil {
		return userRecord{}, 0, "", err
	}
	if own {
		if _, err := s.checkPassword(ctx, c, name, old); err != nil {
			if tally.ErrorKind(err) == tally.Unauthorized {
				return userRecord{}, 0, "", errorf(tally.Unauthorized, "old_password", "the present password is wrong")
			}
			return userRecord{}, 0, "", err
		}
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return userRecord{}, 0, "", err
	}
	u, err := s.updateUser(ctx, name, func(u *userRecord) error {
		u.Hash = string(hash)
		u.PasswordVersion++
		u.PasswordChanged = s.now().UTC().Format(time.RFC3339)
		return nil
	})
	if err != nil {
		return u, 0, "", err
	}
	n, err := s.endUserSessions(ctx, name)
	if err != nil || !own || !p.session {
		return u, n, "", err
	}
	_, csrf, err := s.startSession(ctx, c, sessionRecord{Username: u.Username, Role: u.Role, PasswordVersion: u.PasswordVersion})
	return u, n, csrf, err
}

// updateUser changes a user's record by fn, by compare-and-set (a disable
// and a password change at the same moment both hold), and tells every
// instance.
func (s *Server) updateUser(ctx context.Context, name string, fn func(u *userRecord) error) (userRecord, error) {
	var u userRecord
	swapped, err := s.swapItem(ctx, itemUser, name, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, errorf(tally.NotFound, "username", "no user %q", name)
		}
		u = userRecord{}
		if err := json.Unmarshal(old, &u); err != nil {
			return nil, err
		}
		if err := fn(&u); err != nil {
			return nil, err
		}
		data, _ := json.Marshal(u)
		return data, nil
	})
	if err != nil {
		return userRecord{}, err
	}
	if !swapped {
		return userRecord{}, errorf(tally.Conflict, "username", "user %q is being changed by someone else; try again", name)
	}
	s.changed(ctx, noticeUser+name)
	return u, nil
}

func (s *Server) endUserSessions(ctx context.Context, name string) (int, error) {
	return s.endSessions(ctx, func(r sessionRecord) bool { return r.Token == "" && r.Username == name })
}

// userByName finds a user for a session: from the cache while it holds,
// else from the store.
func (s *Server) userByName(ctx context.Context, name string) (userRecord, error) {
	now := s.now()
	if u, ok := s.creds.users.get(name, now); ok {
		return u, nil
	}
	data, err := s.store.Item(ctx, itemUser, name)
	if err != nil {
		return userRecord{}, err
	}
	var u userRecord
	if err := json.Unmarshal(data, &u); err != nil {
		return userRecord{}, err
	}
	s.creds.users.put(name, u, now.Add(credentialTTL))
	return u, nil
}

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password of anyone"), bcrypt.DefaultCost)

// checkPassword finds the user and checks the password under the sign-in
// lockout (lockout.go): the attempt is counted before bcrypt runs. A
// disabled user is refused as a wrong password would be.
func (s *Server) checkPassword(ctx context.Context, c *fiber.Ctx, username, password string) (userRecord, error) {
	username, err := cleanUsername(username)
	if err != nil {
		return userRecord{}, err
	}
	reserved, err := s.reserveSignIn(ctx, username, c.IP())
	if err != nil {
		return userRecord{}, err
	}
	// Read from the store, not the cache: a password changed a moment ago
	// on another instance must not still let the old one in.
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
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || err != nil || u.Disabled {
		s.log.Warn("login refused", slog.String("username", username), slog.String("request_id", requestID(c)),
			slog.Bool("disabled", u.Disabled))
		return u, s.failedSignIn(reserved, errorf(tally.Unauthorized, "", "wrong user name or password"))
	}
	return u, s.signedIn(ctx, username, c.IP())
}
