package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// auditEvent is one line of the audit log: who did what, when, how it
// ended. It never holds a secret (tokens appear by id, passwords never).
type auditEvent struct {
	Time string `json:"time"`
	// RequestID is this server's id of the request (X-Request-ID of the
	// answer); ClientRequestID the one the client sent, if any, kept
	// apart: anyone can send any.
	RequestID       string `json:"request_id"`
	ClientRequestID string `json:"client_request_id,omitempty"`
	Who             string `json:"who"`
	// Name is who as the minutes print them: a person's full name, a
	// desk's name (Who stays the id, which a rename does not change).
	Name    string `json:"name,omitempty"`
	Role    Role   `json:"role,omitempty"`
	Method  string `json:"method"`
	Path    string `json:"path"`
	Status  int    `json:"status"`
	Outcome string `json:"outcome"` // "ok", the error code, or "not_recorded"
	// A "not_recorded" line: the address whose refused requests went
	// over the limit, and how many were not written, until when.
	Address string `json:"address,omitempty"`
	Dropped int64  `json:"dropped,omitempty"`
	Until   string `json:"until,omitempty"`
}

// ballotReading matches the routes that carry a reading of a paper
// ballot: a ballot, or a keying of verified entry. They are the log's to
// record (with the desk and the time), not the audit log's: the audit
// log would otherwise hold a line per ballot, and its lines must not be
// joinable to ballots (docs/reliability.md, "Security").
// A scanned page (its upload and its confirmation) is one too.
var ballotReading = regexp.MustCompile(`^/api/v1/contests/[^/]+/(ballots|keyings|scans(/[0-9a-fA-F]{64})?)/?$`)

// audit records every change a signed-in principal makes — an admin's
// every one, a counter's or viewer's except the ballot readings (voids,
// decisions, stacks, passwords are recorded) — every sign-in and sign-out,
// and every refused request. Anonymous refusals are recorded up to
// RateLimits.Refused per client address; beyond, they are counted, and
// the count is written as one "not_recorded" line when the window ends
// (finding 9: a client sending 404s grew the store by 80 MB in 12 s).
func (s *Server) audit(c *fiber.Ctx) error {
	s.flushRefused(false)
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
	unsafe := c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead && c.Method() != fiber.MethodOptions
	acted := p != nil && unsafe && (p.Role == roleAdmin || !ballotReading.MatchString(c.Path()))
	// Sign-ins and sign-outs; not the sign-in page itself, which anyone
	// may fetch as often as they like.
	signIn := c.Method() == fiber.MethodPost && (strings.HasSuffix(c.Path(), "/login") || strings.HasSuffix(c.Path(), "/logout"))
	if !acted && !signIn && status < 400 {
		return err
	}
	ctx, cancel := storeCtx()
	defer cancel()
	if p == nil && status >= 400 && !s.recordRefusal(ctx, c) {
		return err
	}
	ev := auditEvent{Time: s.now().UTC().Format(time.RFC3339Nano), RequestID: requestID(c), ClientRequestID: clientRequestID(c),
		Who: who(c), Method: c.Method(), Path: loggedPath(c), Status: status, Outcome: outcome}
	if p != nil {
		ev.Role, ev.Name = p.Role, p.Name
	} else if token, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer "); ok && token != "" {
		// A refused token is named as tokens are (the start of its
		// SHA-256), so that repeated attempts can be told apart.
		ev.Who = "token:" + digest(token)[:12] + "?"
	}
	s.appendAudit(ctx, ev)
	return err
}

func (s *Server) appendAudit(ctx context.Context, ev auditEvent) {
	line, _ := json.Marshal(ev)
	if err := s.store.AppendAudit(ctx, line); err != nil {
		s.log.Error("audit log write failed", slog.Any("err", err), slog.String("event", string(line)))
	}
}

// refusedAudit counts, per client address, the anonymous refusals this
// instance did not write, until their window ends. Each instance writes
// the count of what it dropped itself, so over several instances the
// "not_recorded" lines add up to what was dropped.
type refusedAudit struct {
	mu   sync.Mutex
	m    map[string]*unrecorded
	next time.Time // the earliest until in m
}

type unrecorded struct {
	count int64
	until time.Time
}

// refusedAddresses bounds the addresses counted apart; beyond, they are
// counted together under "*".
const refusedAddresses = 4096

// recordRefusal counts an anonymous refusal from the request's address
// and tells whether it may still be written.
func (s *Server) recordRefusal(ctx context.Context, c *fiber.Ctx) bool {
	l := s.limits.Refused
	if l.Max <= 0 || l.Window <= 0 {
		return true
	}
	addr := c.IP()
	n, left, err := s.store.Hit(ctx, "audit:"+addr, l.Window)
	if err != nil || n <= l.Max {
		return true // a store that cannot count cannot take the line either: the write logs why
	}
	until := s.now().Add(left)
	r := &s.creds.refused
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]*unrecorded{}
	}
	u := r.m[addr]
	if u == nil {
		if len(r.m) >= refusedAddresses {
			addr = "*"
		}
		if u = r.m[addr]; u == nil {
			u = &unrecorded{}
			r.m[addr] = u
		}
	}
	u.count++
	if until.After(u.until) {
		u.until = until
	}
	if r.next.IsZero() || until.Before(r.next) {
		r.next = until
	}
	return false
}

// flushRefused writes a "not_recorded" line for each address whose window
// has ended — or, at shutdown (all), for every address counted.
func (s *Server) flushRefused(all bool) {
	now := s.now()
	r := &s.creds.refused
	r.mu.Lock()
	if r.next.IsZero() || now.Before(r.next) && !all {
		r.mu.Unlock()
		return
	}
	var due []auditEvent
	r.next = time.Time{}
	for addr, u := range r.m {
		if now.Before(u.until) && !all {
			if r.next.IsZero() || u.until.Before(r.next) {
				r.next = u.until
			}
			continue
		}
		due = append(due, auditEvent{Time: now.UTC().Format(time.RFC3339Nano), RequestID: newRequestID(), Who: "anonymous",
			Outcome: "not_recorded", Address: addr, Dropped: u.count, Until: u.until.UTC().Format(time.RFC3339)})
		delete(r.m, addr)
	}
	r.mu.Unlock()
	slices.SortFunc(due, func(a, b auditEvent) int { return strings.Compare(a.Address, b.Address) })
	ctx, cancel := storeCtx()
	defer cancel()
	for _, ev := range due {
		s.appendAudit(ctx, ev)
	}
}
