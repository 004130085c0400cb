package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

// statusOf maps an error kind to its HTTP status, in one place (wtf style).
var statusOf = map[tally.Kind]int{
	tally.Invalid:      http.StatusBadRequest,
	tally.Conflict:     http.StatusConflict,
	tally.NotFound:     http.StatusNotFound,
	tally.Unauthorized: http.StatusUnauthorized,
	tally.Forbidden:    http.StatusForbidden,
	tally.TooLarge:     http.StatusRequestEntityTooLarge,
	tally.Unavailable:  http.StatusServiceUnavailable,
	tally.TooMany:      http.StatusTooManyRequests,
	tally.Unsupported:  http.StatusUnsupportedMediaType,
	tally.Internal:     http.StatusInternalServerError,
}

// errorBody is the error contract of DESIGN §5.5:
// {"error": {"code": "...", "message": "..."}}, with the field at fault and,
// for a contest with several problems, all of them.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	Field    string    `json:"field,omitempty"`
	Problems []problem `json:"problems,omitempty"`
	// Said is the refusal as a person reads it (said.go), in the page's
	// language, naming the field by its label; only for a signed-in page
	// (a session), whose scripts show it instead of Message. Scripts with
	// a token get the codes and the English alone, as before.
	Said string `json:"said,omitempty"`
}

type problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Said    string `json:"said,omitempty"`
}

// errorHandler is the one place where errors become responses. Internal
// errors are logged and shown as a generic message: internals never leak.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	if requestID(c) == "" {
		// Refused by fasthttp itself (a body over the limit), before
		// requestLog ran: every response still carries an id.
		id := newRequestID()
		c.Locals(localRequestID, id)
		c.Set(fiber.HeaderXRequestID, id)
		s.setSecurityHeaders(&c.Response().Header)
	}
	var locked *lockedError
	if errors.As(err, &locked) {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(locked.retry/time.Second)))
	}
	body := errorBody{}
	var fe *fiber.Error
	switch {
	case errors.As(err, &fe):
		// Fiber's and fasthttp's own refusals: a body or headers over the
		// limit, a request not read in time, a malformed one.
		kind := tally.Internal
		switch {
		case fe.Code == http.StatusNotFound:
			kind = tally.NotFound
		case fe.Code == http.StatusRequestEntityTooLarge || fe.Code == http.StatusRequestHeaderFieldsTooLarge:
			kind = tally.TooLarge
		case fe.Code >= 400 && fe.Code < 500:
			kind = tally.Invalid
		}
		body.Error = errorDetail{Code: string(kind), Message: fe.Message}
		c.Status(fe.Code)
	default:
		kind := tally.ErrorKind(err)
		status := statusOf[kind]
		if status == 0 {
			status = http.StatusInternalServerError
		}
		c.Status(status)
		if kind == tally.Internal {
			s.log.Error("internal error", slog.String("request_id", requestID(c)),
				slog.String("method", c.Method()), slog.String("path", c.Path()), slog.Any("err", err))
			body.Error = errorDetail{Code: string(tally.Internal), Message: "internal error; the request id is " + requestID(c)}
			break
		}
		if kind == tally.Unavailable {
			// Not the client's fault and not a bug: the store cannot take
			// the request now (a full disk, Redis down or out of memory).
			// The operator must see why.
			s.log.Warn("unavailable", slog.String("request_id", requestID(c)),
				slog.String("method", c.Method()), slog.String("path", c.Path()), slog.Any("err", err))
		}
		problems := tally.Problems(err)
		body.Error = errorDetail{Code: string(kind), Message: err.Error(), Field: problems[0].Field}
		// A signed-in page's script shows the words said for people.
		var said func(i int) string
		if p := principalOf(c); p != nil && p.session {
			l, ls := s.lang(c), leaves(err)
			body.Error.Said = bounded(say(l, err), maxErrorMessage)
			said = func(i int) string { return bounded(sayLeaf(l, ls[i]), maxErrorMessage) }
		}
		if kind != tally.Invalid {
			// Several problems are a validation's; anything else is one
			// error with its cause chained ("%w: %w"), shown whole.
			break
		}
		if len(problems) > 1 {
			body.Error.Message = problems[0].Error() + " (and more: see problems)"
			if len(problems) > maxProblems {
				body.Error.Message = fmt.Sprintf("%s (%d problems; the first %d are in problems)", problems[0].Error(), len(problems), maxProblems)
				problems = problems[:maxProblems]
			}
			for i, p := range problems {
				pr := problem{Field: bounded(p.Field, maxErrorField), Message: bounded(p.Message, maxErrorMessage)}
				if said != nil {
					pr.Said = said(i)
				}
				body.Error.Problems = append(body.Error.Problems, pr)
			}
		}
	}
	body.Error.Message = bounded(body.Error.Message, maxErrorMessage)
	body.Error.Field = bounded(body.Error.Field, maxErrorField)
	if wantsHTML(c) {
		// A page says the refusal in its language (said.go); the API's
		// English is for scripts, and the request id on the page ties
		// the two together in the server's log.
		message := s.lang(c).T("refusal.internal")
		if fe == nil && tally.ErrorKind(err) != tally.Internal {
			message = say(s.lang(c), err)
		} else if fe != nil {
			message = s.lang(c).T("refusal." + body.Error.Code)
		}
		return s.errorPage(c, c.Response().StatusCode(), message)
	}
	return c.JSON(body)
}

// Bounds on an error's answer, whatever the input it names: a message
// may quote what the client sent (an unknown field's name, a path into a
// nested document), and is cut rather than grow with it
// (docs/reliability.md, "Security", finding 4).
const (
	maxErrorMessage = 1 << 10
	maxErrorField   = 256
	maxProblems     = 1000
)

// bounded cuts s to at most n bytes, on a character boundary, marking the
// cut with "…".
func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func errorf(kind tally.Kind, field, format string, args ...any) *tally.Error {
	e := tally.Errorf(field, format, args...)
	e.Kind = kind
	return e
}
