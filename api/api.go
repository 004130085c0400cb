// Package api is the HTTP interface of kiemphieu (DESIGN §5.5) on Fiber v2:
// contests and their lifecycle, ballots into the log, results, the log
// export, the live stream, tokens, logins and the audit log.
package api

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/valyala/fasthttp"

	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// Contests keeps the records of contest rounds.
type Contests interface {
	CreateContest(ctx context.Context, rec *tally.Record) error
	Contest(ctx context.Context, id string) (*tally.Record, error)
	Contests(ctx context.Context) ([]*tally.Record, error)
	Update(ctx context.Context, id string, fn func(rec *tally.Record, version int64) error) (*tally.Record, error)
	// DeleteContest removes a draft whose log is empty; Conflict otherwise.
	DeleteContest(ctx context.Context, id string) error
}

// BallotLog is the append-only log of each round, with its counters.
type BallotLog interface {
	Append(ctx context.Context, contest string, a tally.Append) (tally.Receipt, bool, error)
	Entries(ctx context.Context, contest string, after int64, limit int) ([]tally.Entry, error)
	// BallotEntry is the entry that recorded a ballot id (NotFound when
	// none did): whose desk keyed it, for a void.
	BallotEntry(ctx context.Context, contest, id string) (tally.Entry, error)
	Counters(ctx context.Context, contest string) (map[string]int64, int64, error)
	Watch(ctx context.Context) <-chan tally.Change
}

// Items keeps small records by kind and key: tokens, users, sessions.
type Items interface {
	PutItem(ctx context.Context, kind, key string, value []byte) error
	// SwapItem stores value only if the item holds old now (old nil: only
	// if there is none) and reports whether it did, atomically on every
	// instance: a compare-and-set (sign-in locks, users, papers in
	// verified entry, the instance key).
	SwapItem(ctx context.Context, kind, key string, old, value []byte) (bool, error)
	Item(ctx context.Context, kind, key string) ([]byte, error)
	DeleteItem(ctx context.Context, kind, key string) error
	ListItems(ctx context.Context, kind string) (map[string][]byte, error)
}

// AuditLog keeps who did what, when, and how it ended.
type AuditLog interface {
	AppendAudit(ctx context.Context, line []byte) error
	Audit(ctx context.Context, after int64, limit int) ([][]byte, error)
}

// Pinger says whether the store is reachable (readiness).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Store is everything the server keeps; store/bolt and store/redis are one.
type Store interface {
	Contests
	BallotLog
	Items
	AuditLog
	Pinger
	Limiter
	Notices
}

// Config is the server's configuration (DESIGN §5.6).
type Config struct {
	// AdminToken, when set, is an admin bearer token (bootstrap).
	AdminToken string
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SecureCookies marks session cookies Secure (behind TLS).
	SecureCookies bool
	// PublicURL is the address people reach the service at, for the QR code
	// on printed minutes; empty means the address of each request.
	PublicURL string
	// RateLimits, when set, replace DefaultRateLimits.
	RateLimits *RateLimits
	// TrustedProxies are the addresses (or CIDR ranges) of reverse proxies
	// whose X-Real-IP header names the client: the address that sign-ins
	// and the verify page are limited by and the token lockout locks.
	// Empty: the peer's own address (behind a proxy, everyone shares the
	// proxy's limit). Connections from these addresses are not capped per
	// address (ConnLimits.PerAddr); their streams count by X-Real-IP.
	TrustedProxies []string
	// SigningKey signs every round this instance certifies; nil: the
	// deployment's key kept in the store (InstanceKey), made on first use.
	SigningKey ed25519.PrivateKey
	// Caps on connections and streams (api/listener.go); zero takes the
	// default, which follows the process's descriptor limit (ConnLimitsFor).
	ConnLimits ConnLimits
	// TLS, when set, serves HTTPS with it (cmd/kiemphieu: KIEMPHIEU_TLS);
	// session cookies are then Secure.
	TLS *tls.Config
	// TLSFingerprint is the SHA-256 fingerprint of the certificate served,
	// shown on the desk-token page for the desks to compare with what
	// their browser shows of a self-signed certificate.
	TLSFingerprint string
	// LANAddrs lists the machine's LAN addresses, for links made when the
	// service is bound to a wildcard address (api/lan.go); nil: LANAddrs.
	LANAddrs func() []netip.Addr
}

// Limits on what a client may send (api/body.go: maxRequestBody for any
// other request).
const (
	maxBody      = 4 << 20 // a contest of MaxCandidates names with attributes
	storeTimeout = 10 * time.Second
)

// Server is the HTTP service.
type Server struct {
	app    *fiber.App
	store  Store
	broker *Broker
	log    *slog.Logger
	now    func() time.Time
	cfg    Config
	cache  *contestCache
	pages  *web.Pages
	limits RateLimits
	// creds caches credentials and keeps what sign-ins and the audit log
	// need in memory (credentials.go).
	creds credentials
	conns ConnLimits
	key   struct {
		mu sync.Mutex
		k  ed25519.PrivateKey // signingKey
	}

	// streams counts the SSE streams being written on hijacked
	// connections, which the Fiber server no longer tracks, by client
	// address (api/stream.go).
	streams addrCount
	// appending counts the ballots and voids waiting for the store; the
	// broker paces its fan-out while there are any.
	appending atomic.Int64
	// corrections keeps, per round, the voids and notes of its log read
	// so far, for the minutes (api/minutes.go).
	corrections logCorrections

	// downloads: renderings of certified rounds (certified.go).
	downloads downloadCache

	// bound is the listener's port and the LAN addresses it serves, set
	// by Serve (api/lan.go).
	bound atomic.Pointer[boundAddr]
}

// New builds the server and its routes.
func New(store Store, cfg Config) *Server {
	// Under TLS a session cookie must never travel in clear: a desk that
	// once typed http:// would send it to anyone on the hall's Wi-Fi.
	cfg.SecureCookies = cfg.SecureCookies || cfg.TLS != nil
	s := &Server{store: store, log: cfg.Logger, now: cfg.Now, cfg: cfg, cache: newContestCache()}
	s.key.k = cfg.SigningKey
	s.limits = DefaultRateLimits()
	if cfg.RateLimits != nil {
		s.limits = *cfg.RateLimits
	}
	s.conns = cfg.ConnLimits.orDefaults(ConnLimitsFor(descriptorLimit()))
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	pages, err := web.New()
	if err != nil {
		panic(err) // the templates are embedded: a parse error is a build error, caught by every test
	}
	s.pages = pages
	s.broker = NewBroker(store, store, s.log)
	s.broker.Busy = func() bool { return s.appending.Load() > 0 }
	s.broker.Collected = func(ctx context.Context, id string) (*int, error) {
		n, err := s.notes(ctx, id)
		return n.Collected, err
	}
	fcfg := fiber.Config{
		// Values from fasthttp alias pooled buffers; ballots go into logs,
		// maps and goroutines, so copy everything (DESIGN §6).
		Immutable:    true,
		ErrorHandler: s.errorHandler,
		// Bodies are read by the handlers as they arrive, each route up to
		// its own limit (api/body.go): fasthttp would otherwise reserve
		// Content-Length bytes per connection before a byte of the body
		// came (finding 6). Streaming, fasthttp's BodyLimit is only how
		// much it reads before calling the handler (up to 8 KiB; it waits
		// for them): one byte, so that a body over its route's limit is
		// refused at once. DisablePreParseMultipartForm keeps fasthttp
		// from reading a multipart body of any length before the handler.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		BodyLimit:                    1,
		// Connections being served (streams are not: they are hijacked).
		Concurrency:           s.conns.Requests,
		ReadTimeout:           15 * time.Second,
		IdleTimeout:           75 * time.Second,
		DisableStartupMessage: true,
		// No WriteTimeout: fasthttp sets one deadline per response, which
		// would cut the SSE stream; slow readers are dropped by the broker.
	}
	if len(cfg.TrustedProxies) > 0 {
		// c.IP() reads the header only when the peer is one of these.
		fcfg.ProxyHeader = "X-Real-IP"
		fcfg.EnableIPValidation = true
		fcfg.EnableTrustedProxyCheck = true
		fcfg.TrustedProxies = cfg.TrustedProxies
	}
	s.app = fiber.New(fcfg)
	s.routes()
	// Fiber answers a method it does not know (BREW) itself, in plain
	// text without a request id; answer it as every other error.
	next := s.app.Server().Handler
	s.app.Server().Handler = func(ctx *fasthttp.RequestCtx) {
		if slices.Contains(fiber.DefaultMethods, string(ctx.Method())) {
			next(ctx)
		} else {
			s.unknownMethod(ctx)
		}
		endBody(ctx)
	}
	s.app.Server().FormValueFunc = formValue
	return s
}

// unknownMethod answers a request whose method is none of HTTP's: 405,
// with the error contract and a request id.
func (s *Server) unknownMethod(ctx *fasthttp.RequestCtx) {
	id := newRequestID()
	s.setSecurityHeaders(&ctx.Response.Header)
	ctx.Response.Header.Set(fiber.HeaderXRequestID, id)
	ctx.Response.Header.Set(fiber.HeaderAllow, strings.Join(fiber.DefaultMethods, ", "))
	ctx.SetStatusCode(fiber.StatusMethodNotAllowed)
	ctx.SetContentType(fiber.MIMEApplicationJSONCharsetUTF8)
	body, _ := json.Marshal(errorBody{Error: errorDetail{Code: string(tally.Invalid),
		Message: fmt.Sprintf("unknown method %.40q", ctx.Method())}})
	ctx.SetBody(body)
	s.log.Info("request", slog.String("request_id", id), slog.String("method", fmt.Sprintf("%.40q", ctx.Method())),
		slog.String("path", string(ctx.Path())), slog.Int("status", fiber.StatusMethodNotAllowed), slog.String("who", "anonymous"))
}

// App exposes the Fiber app, for tests (app.Test) and for mounting pages.
func (s *Server) App() *fiber.App { return s.app }

// Serve serves on ln until Shutdown. Accepting goes on after errors that
// pass (out of descriptors), and connections are capped per client
// address (api/listener.go).
func (s *Server) Serve(ln net.Listener) error {
	s.broker.Start()
	s.listen()
	s.bind(ln)
	// TLS above the guard: the guard counts and caps the connections as
	// they are accepted, before a handshake costs anything, and fasthttp
	// sees the *tls.Conn (c.Context().IsTLS(), the https links).
	var l net.Listener = s.guardListener(ln)
	if s.cfg.TLS != nil {
		l = tls.NewListener(l, s.cfg.TLS)
	}
	return s.app.Listener(l)
}

// Shutdown closes the broker first, so that open streams end and the
// server's connections drain, then the server.
func (s *Server) Shutdown(ctx context.Context) error {
	s.broker.Close()
	// The streams are on hijacked connections: wait (within ctx) until each
	// has written its bye, as the server waits for its own connections.
	for s.streams.held() > 0 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	err := s.app.ShutdownWithContext(ctx)
	s.stopListening()
	s.flushRefused(true)
	return err
}

func (s *Server) routes() {
	app := s.app
	app.Use(s.responseHeaders)
	app.Use(s.requestLog)
	app.Use(recover.New())
	app.Use(s.guardBody)
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)

	// audit wraps authenticate, so that requests refused for their
	// credentials (an unknown token, a malformed header) are audited too.
	v1 := app.Group("/api/v1", s.audit, s.authenticate)
	document := bodyUpTo(maxBody) // the routes that take a document; others maxRequestBody
	v1.Post("/login", s.login)
	v1.Post("/logout", s.logout)
	v1.Post("/tokens", s.require(roleAdmin), s.createToken)
	v1.Get("/tokens", s.require(roleAdmin), s.listTokens)
	v1.Delete("/tokens/:id", s.require(roleAdmin), s.deleteToken)
	v1.Patch("/tokens/:id", s.require(roleAdmin), s.patchToken)
	v1.Post("/users", s.require(roleAdmin), s.createUser)
	v1.Get("/users", s.require(roleAdmin), s.listUsers)
	v1.Patch("/users/:name", s.require(roleAdmin), s.patchUser)
	v1.Post("/users/:name/password", s.require(roleViewer), s.setPassword)
	v1.Get("/audit", s.require(roleAdmin), s.auditLog)

	// A token issued for one contest, on the routes of any other (scope.go).
	v1.Use("/contests/:id", s.contestScope)
	v1.Get("/contests", s.require(roleViewer), s.listContests)
	v1.Post("/contests", document, s.require(roleAdmin), s.createContest)
	v1.Post("/contests/check", document, s.require(roleAdmin), s.checkContest)
	v1.Post("/candidates/import", document, s.require(roleAdmin), s.importCandidates)
	s.importRoutes(v1)
	v1.Get("/contests/:id", s.require(roleViewer), s.getContest)
	v1.Put("/contests/:id", document, s.require(roleAdmin), s.putContest)
	v1.Delete("/contests/:id", s.require(roleAdmin), s.deleteContest)
	v1.Post("/contests/:id/withdrawals", s.require(roleAdmin), s.postWithdrawal)
	v1.Post("/contests/:id/nominations", s.require(roleAdmin), s.postNomination)
	v1.Post("/contests/:id/open", s.require(roleAdmin), s.openContest)
	v1.Post("/contests/:id/close", s.require(roleAdmin), s.closeContest)
	v1.Post("/contests/:id/certify", s.require(roleAdmin), s.certifyContest)
	v1.Post("/contests/:id/next", s.require(roleAdmin), s.nextRound)
	v1.Post("/contests/:id/ballots", s.require(roleCounter), s.postBallot)
	v1.Post("/contests/:id/ballots/:ballot/void", s.require(roleCounter), s.voidBallot)
	// Scanned ballots (api/scans.go): the one route whose body is a stack.
	v1.Post("/contests/:id/scans", bodyUpTo(maxScanBody), s.require(roleCounter), s.postScans)
	v1.Get("/contests/:id/scans", s.require(roleCounter), s.getScans)
	v1.Get("/contests/:id/scans/archive", s.require(roleAdmin), s.getScanArchive)
	v1.Put("/contests/:id/scans/sample", s.require(roleAdmin), s.putScanSample)
	v1.Post("/contests/:id/scans/:image", s.require(roleCounter), s.postScanConfirm)
	v1.Get("/contests/:id/scans/:image/image", s.require(roleCounter), s.getScanImage)
	v1.Get("/contests/:id/result", s.requireResultAccess, s.getResult)
	v1.Get("/contests/:id/stream", s.requireResultAccess, s.stream)
	v1.Get("/contests/:id/log", s.require(roleViewer), s.getLog)
	v1.Get("/contests/:id/notes", s.require(roleViewer), s.getNotes)
	// Verified entry (api/verified.go).
	v1.Put("/contests/:id/stacks/:stack", s.require(roleAdmin), s.putStack)
	v1.Get("/contests/:id/stacks", s.require(roleCounter), s.getStacks)
	v1.Post("/contests/:id/keyings", s.require(roleCounter), s.postKeying)
	v1.Get("/contests/:id/disputes", s.require(roleAdmin), s.getDisputes)
	v1.Post("/contests/:id/positions/:stack/:position/decision", s.require(roleAdmin), s.postDecision)
	v1.Get("/contests/:id/journal", s.require(roleViewer), s.getJournal)
	v1.Put("/contests/:id/notes", document, s.require(roleAdmin), s.putNotes)

	v1.Get("/congresses", s.require(roleViewer), s.listCongresses)
	v1.Post("/congresses", document, s.require(roleAdmin), s.createCongress)
	v1.Get("/congresses/:id", s.require(roleViewer), s.getCongress)
	v1.Put("/congresses/:id", document, s.require(roleAdmin), s.putCongress)
	v1.Get("/congresses/:id/votes", s.require(roleViewer), s.getVotes)
	v1.Post("/congresses/:id/votes", s.require(roleAdmin), s.postVote)
	v1.Delete("/congresses/:id/votes/:vid", s.require(roleAdmin), s.deleteVote)
	v1.Delete("/congresses/:id", s.require(roleAdmin), s.deleteCongress)
	s.appointmentRoutes(v1)
	s.rollupRoutes(v1)

	s.pageRoutes()
	s.votePageRoutes()
	s.appointmentPageRoutes()
}

// requestLog gives every request an id and logs it when done. It never
// touches the response body, so the SSE stream is left alone.
//
// The id is always this server's: a client's X-Request-ID (a proxy's, say)
// is kept apart as client_request_id, so that no one can make two requests
// look like one in the logs.
func (s *Server) requestLog(c *fiber.Ctx) error {
	id := newRequestID()
	c.Locals(localRequestID, id)
	if cid := c.Get(fiber.HeaderXRequestID); cid != "" {
		c.Locals(localClientRequestID, bounded(strings.Map(printableASCII, cid), 64))
	}
	c.Set(fiber.HeaderXRequestID, id)
	start := time.Now()
	if err := c.Next(); err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			c.Status(fiber.StatusInternalServerError)
		}
	}
	attrs := []slog.Attr{slog.String("request_id", id), slog.String("method", c.Method()),
		slog.String("path", loggedPath(c)), slog.Int("status", c.Response().StatusCode()),
		slog.Duration("latency", time.Since(start)), slog.String("who", who(c))}
	if cid := clientRequestID(c); cid != "" { // only when a client sent one
		attrs = append(attrs, slog.String("client_request_id", cid))
	}
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
	return nil
}

// ballotPath matches the one path that names a ballot: a void.
var ballotPath = regexp.MustCompile(`^(/api/v1/contests/[^/]+/ballots/)[^/]+(/void/?)$`)

// scanPath matches the paths that name a scanned page by its image hash.
var scanPath = regexp.MustCompile(`^(/api/v1/contests/[^/]+/scans/)[0-9a-fA-F]{64}(/image/?)?$`)

// loggedPath is a request's path as the logs and the audit log record it:
// a ballot's id is replaced by "{ballot}". Neither log records a ballot's
// id or content (docs/reliability.md, "Security"): only the ballot log
// does, which holds nothing about the person who cast it.
// It is cut at maxLoggedPath bytes: a path of 4 KB from anyone is not
// worth 4 KB of the store.
func loggedPath(c *fiber.Ctx) string {
	p := c.Path()
	if strings.Contains(p, "/ballots/") {
		p = ballotPath.ReplaceAllString(p, "${1}{ballot}${2}")
	}
	if strings.Contains(p, "/scans/") { // a page's hash is its ballot's id (scan-<hash>)
		p = scanPath.ReplaceAllString(p, "${1}{image}${2}")
	}
	return bounded(p, maxLoggedPath)
}

const maxLoggedPath = 256

// printableASCII keeps printable ASCII and drops the rest (strings.Map).
func printableASCII(r rune) rune {
	if r < 0x20 || r > 0x7e {
		return -1
	}
	return r
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type localKey int

const (
	localRequestID localKey = iota
	localPrincipal
	localClientRequestID
	localBody // *bodyState (api/body.go)
)

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

func clientRequestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localClientRequestID).(string)
	return id
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "error": "the store is not reachable"})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// storeCtx bounds a store call; the request's own context (fasthttp's)
// only ends at server shutdown.
func storeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), storeTimeout)
}
