package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/kiemphieu/kiemphieu/tally"
)

// Request bodies (docs/architecture.md, "Request bodies"). The server
// streams them (fasthttp StreamRequestBody): nothing is reserved from a
// Content-Length header, and a body is read only when a handler asks for
// it, as it arrives, up to its route's limit. Nothing decodes a
// Content-Encoding: a compressed body is refused before it is read.
//
// Every read goes through readBody: requestBody and decodeBody in the
// handlers, formValue for c.FormValue, importCandidates before FormFile.
// Fiber's c.Body() would decode gzip, br and deflate, stacked and without
// a limit (docs/reliability.md, "Security", finding 3); it is not used.

// maxRequestBody is what a request may send unless its route allows more
// (bodyUpTo): a ballot or a keying with marks for hundreds of names, a
// sign-in, a void, a transition.
const maxRequestBody = 64 << 10

// bodyState is one request's body as readBody left it.
type bodyState struct {
	limit int
	read  bool // readBody has run
	whole bool // ... and read the body to its end
	data  []byte
	err   error
}

// guardBody runs first for every request: it refuses a compressed body
// (415, before anything reads it) and sets the default body limit.
func (s *Server) guardBody(c *fiber.Ctx) error {
	var coding string
	c.Request().Header.VisitAll(func(k, v []byte) {
		if coding == "" && strings.EqualFold(string(k), fiber.HeaderContentEncoding) && !identity(v) {
			coding = string(v)
		}
	})
	if coding != "" {
		c.Set(fiber.HeaderAcceptEncoding, "identity")
		return errorf(tally.Unsupported, fiber.HeaderContentEncoding,
			"%.40q is not accepted: send the body as it is, without a Content-Encoding", coding)
	}
	c.Context().SetUserValue(localBody, &bodyState{limit: maxRequestBody})
	return c.Next()
}

// identity reports whether a Content-Encoding value names no coding.
func identity(v []byte) bool {
	for _, f := range bytes.Split(v, []byte(",")) {
		if f = bytes.TrimSpace(f); len(f) > 0 && !bytes.EqualFold(f, []byte("identity")) {
			return false
		}
	}
	return true
}

// bodyUpTo raises the body limit of a route that takes a document (a
// contest, a congress, an import, a candidate file). It goes before
// require: the body is still read only by the handler, after sign-in.
func bodyUpTo(limit int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		bodyOf(c.Context()).limit = limit
		return c.Next()
	}
}

func bodyOf(ctx *fasthttp.RequestCtx) *bodyState {
	st, _ := ctx.UserValue(localBody).(*bodyState)
	if st == nil { // a route guardBody did not run for (fasthttp's own answers)
		st = &bodyState{limit: maxRequestBody}
		ctx.SetUserValue(localBody, st)
	}
	return st
}

// requestBody is the request's body, read once, at most its route's
// limit; the slice is the handler's to keep.
func requestBody(c *fiber.Ctx) ([]byte, error) { return readBody(c.Context()) }

func readBody(ctx *fasthttp.RequestCtx) ([]byte, error) {
	st := bodyOf(ctx)
	if !st.read {
		st.read = true
		st.data, st.err = readBodyUpTo(&ctx.Request, st.limit)
		st.whole = st.err == nil
	}
	return st.data, st.err
}

func readBodyUpTo(req *fasthttp.Request, limit int) ([]byte, error) {
	if n := req.Header.ContentLength(); n > limit {
		return nil, tooLarge(limit)
	}
	r := req.BodyStream()
	if r == nil { // already in memory, or none
		b := req.Body()
		if len(b) > limit {
			return nil, tooLarge(limit)
		}
		return bytes.Clone(b), nil
	}
	// Grows with what arrives (io.ReadAll), not with what the header says.
	data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, fiber.NewError(http.StatusRequestTimeout, "the body did not arrive in time")
	case err != nil:
		return nil, errorf(tally.Invalid, "", "the body could not be read: %.200v", err)
	case len(data) > limit:
		return nil, tooLarge(limit)
	}
	req.SetBodyRaw(data) // for PostArgs and MultipartForm, which read req.Body()
	return data, nil
}

func tooLarge(limit int) error {
	return errorf(tally.TooLarge, "", "the body is over %d bytes, the most this request may send", limit)
}

// endBody runs after every handler. A body it did not read to its end
// (refused before its handler read it, or over its limit) is still on the
// connection, and would be read as the next request: it is read and
// dropped, up to maxBody within drainTime, so that the client, still
// sending, gets its answer (closing a socket with unread data resets the
// connection, and the answer is lost) and the connection stays usable;
// past either bound the connection is closed after the answer.
func endBody(ctx *fasthttp.RequestCtx) {
	if n := ctx.Request.Header.ContentLength(); n == 0 || n == -2 { // -2: none
		return
	}
	if st, _ := ctx.UserValue(localBody).(*bodyState); st != nil && st.whole {
		return
	}
	r := ctx.Request.BodyStream()
	switch {
	case r == nil: // read whole by someone (nothing is left), or none
		return
	case ctx.Request.Header.ContentLength() > maxBody:
		ctx.SetConnectionClose()
		return
	}
	ctx.Conn().SetReadDeadline(time.Now().Add(drainTime))
	if n, err := io.CopyN(io.Discard, r, maxBody+1); !errors.Is(err, io.EOF) || n > maxBody {
		ctx.SetConnectionClose()
	}
}

// drainTime bounds how long endBody waits for the rest of a body.
const drainTime = 2 * time.Second

// decodeBody decodes a JSON request body strictly: unknown fields and
// trailing data are errors naming the field.
func decodeBody(c *fiber.Ctx, v any) error {
	body, err := requestBody(c)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return errorf(tally.Invalid, "", "a JSON body is required")
	}
	return tally.DecodeJSON(body, v, "request")
}

// formValue is c.FormValue (fasthttp's Server.FormValueFunc): the query,
// then a URL-encoded body read by readBody. A multipart body only on a
// route that takes a document (bodyUpTo: the imports page's upload, whose
// _csrf, congress and head travel beside the file), parsed from the body
// readBody read, never from the connection; the pages' other forms are
// URL-encoded.
func formValue(ctx *fasthttp.RequestCtx, key string) []byte {
	if v := ctx.QueryArgs().Peek(key); len(v) > 0 {
		return v
	}
	ct := ctx.Request.Header.ContentType()
	switch {
	case bytes.HasPrefix(ct, []byte(fiber.MIMEApplicationForm)):
		if _, err := readBody(ctx); err != nil {
			return nil
		}
		return ctx.PostArgs().Peek(key)
	case bytes.HasPrefix(ct, []byte(fiber.MIMEMultipartForm)) && bodyOf(ctx).limit > maxRequestBody:
		if _, err := readBody(ctx); err != nil {
			return nil
		}
		f, err := ctx.MultipartForm()
		if err != nil || len(f.Value[key]) == 0 {
			return nil
		}
		return []byte(f.Value[key][0])
	}
	return nil
}
