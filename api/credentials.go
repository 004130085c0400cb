package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Every request with a bearer token, and every request of a session, needs
// the credential behind it: the token's record, or the user's. With Redis
// each read is a round trip that waits behind the AOF fsync, so an
// instance keeps what it read for credentialTTL (worth about a third of
// the Redis intake: docs/benchmarks.md). A revocation must still take
// hold at once on every instance: the instance that changes a credential
// drops its own copy, deletes the sessions made with it (sessions are read
// from the store on every request), and sends a notice through the store
// (Notices: Redis pub/sub), on which every other instance drops its copy.
// A notice that is lost (pub/sub delivers at most once) costs at most
// credentialTTL: the copy then expires and the store is asked again. When
// the subscription comes back after a break every copy is dropped, since
// notices may have been missed meanwhile.

// Notices passes short messages between the instances on one store
// (store.Notify, store.Notices).
type Notices interface {
	Notify(ctx context.Context, message string) error
	// Notices sends every message, and an empty one first and whenever
	// some may have been missed, until ctx is done.
	Notices(ctx context.Context) <-chan string
}

// credentialTTL is how long a credential read from the store is trusted
// without asking again, when no notice says it changed.
const credentialTTL = 10 * time.Second

// credentialCacheMax bounds each cache; past it the cache starts afresh
// (desks re-read their token on their next ballot).
const credentialCacheMax = 10000

// Notices' messages: "token <SHA-256 of the token>", "user <name>".
const (
	noticeToken = "token "
	noticeUser  = "user "
)

type cached[T any] struct {
	v     T
	until time.Time
}

// credentialCache keeps what was read of one kind of credential, by key.
type credentialCache[T any] struct {
	mu sync.Mutex
	m  map[string]cached[T]
}

func (c *credentialCache[T]) get(key string, now time.Time) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || !now.Before(e.until) {
		var zero T
		return zero, false
	}
	return e.v, true
}

func (c *credentialCache[T]) put(key string, v T, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= credentialCacheMax {
		c.m = map[string]cached[T]{}
	}
	c.m[key] = cached[T]{v: v, until: until}
}

func (c *credentialCache[T]) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

func (c *credentialCache[T]) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}

// credentials is what the server keeps in memory about credentials.
type credentials struct {
	tokens credentialCache[tokenRecord] // by the token's SHA-256
	users  credentialCache[userRecord]  // by user name

	// previous caches each round's Record.Previous, which never changes
	// once the round exists: a scope check walks it (scope.go).
	previous credentialCache[string]

	refused      refusedAudit // audit.go
	lockoutCalls atomic.Int64 // lockout.go: reservations, to sweep now and then

	secretMu sync.Mutex
	secret   []byte // formKey
	// listenMu guards stop, done and stopped: Shutdown may run while Serve
	// is still starting, in another goroutine (a SIGTERM at start-up).
	listenMu sync.Mutex
	stop     context.CancelFunc
	done     chan struct{}
	stopped  bool
}

// listen drops cached credentials on the notices of other instances until
// stopListening; after stopListening it starts nothing.
func (s *Server) listen() {
	s.creds.listenMu.Lock()
	defer s.creds.listenMu.Unlock()
	if s.creds.stopped || s.creds.stop != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.creds.stop, s.creds.done = cancel, make(chan struct{})
	ch := s.store.Notices(ctx)
	go func() {
		defer close(s.creds.done)
		for m := range ch {
			s.forget(m)
		}
	}()
}

// stopListening ends listen, if it was started.
func (s *Server) stopListening() {
	s.creds.listenMu.Lock()
	defer s.creds.listenMu.Unlock()
	s.creds.stopped = true
	if s.creds.stop != nil {
		s.creds.stop()
		<-s.creds.done
	}
}

// forget drops what a notice names; an empty notice drops everything.
func (s *Server) forget(notice string) {
	switch {
	case notice == "":
		s.creds.tokens.clear()
		s.creds.users.clear()
	case strings.HasPrefix(notice, noticeToken):
		s.creds.tokens.drop(strings.TrimPrefix(notice, noticeToken))
	case strings.HasPrefix(notice, noticeUser):
		s.creds.users.drop(strings.TrimPrefix(notice, noticeUser))
	}
}

// changed tells every instance, this one first, that a credential changed.
// A failure is logged, not returned: the change is in the store already,
// and other instances see it within credentialTTL.
func (s *Server) changed(ctx context.Context, notice string) {
	s.forget(notice)
	if err := s.store.Notify(ctx, notice); err != nil {
		s.log.Warn("credential change not announced: other instances see it within the cache's lifetime",
			slog.String("notice", strings.SplitN(notice, " ", 2)[0]), slog.Duration("ttl", credentialTTL), slog.Any("err", err))
	}
}

// endSessions deletes every session for which match is true: the sessions
// of a revoked token, a disabled user, a changed password. Sessions are
// read from the store on every request, so on every instance they end at
// once.
func (s *Server) endSessions(ctx context.Context, match func(sessionRecord) bool) (int, error) {
	all, err := s.store.ListItems(ctx, itemSession)
	if err != nil {
		return 0, err
	}
	n := 0
	for key, data := range all {
		rec, err := decodeSession(data)
		if err != nil || !match(rec) {
			continue
		}
		if err := s.store.DeleteItem(ctx, itemSession, key); err != nil && tally.ErrorKind(err) != tally.NotFound {
			return n, err
		}
		n++
	}
	return n, nil
}

// itemSecret holds the server's keys, shared by the instances on one store.
const itemSecret = "secret"

// formKey is the key that signs the sign-in form's tokens (pages.go). It
// is made once, by whichever instance needs it first (SwapItem: one
// wins), and kept in the store so that a form served by one instance can
// be posted to another.
func (s *Server) formKey(ctx context.Context) ([]byte, error) {
	s.creds.secretMu.Lock()
	defer s.creds.secretMu.Unlock()
	if s.creds.secret != nil {
		return s.creds.secret, nil
	}
	b := make([]byte, 32)
	rand.Read(b)
	fresh := []byte(base64.RawURLEncoding.EncodeToString(b))
	if _, err := s.store.SwapItem(ctx, itemSecret, "login-form", nil, fresh); err != nil {
		return nil, err
	}
	key, err := s.store.Item(ctx, itemSecret, "login-form")
	if err != nil {
		return nil, err
	}
	s.creds.secret = key
	return key, nil
}
