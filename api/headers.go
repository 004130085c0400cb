package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// Security headers on every response (security review, finding 19): the
// JSON API, /static, the stream, the downloads, and the error pages of
// unmatched routes and of methods the server does not know, not only the
// pages. The API's documents are data: nothing in them may load, run or be
// framed. The pages replace that policy with theirs (securityHeaders in
// pages.go, errorPage).
const (
	apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	// pageCSP: scripts and styles from this origin only (data blocks in
	// <script type="application/json"> are not scripts), inline style
	// attributes allowed for the printed documents, QR codes as data: URLs.
	pageCSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
		"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	// hsts: a year, this host only (the service's name may share a domain
	// with sites it does not speak for).
	hsts = "max-age=31536000"
)

// responseHeaders is the first middleware of every route.
func (s *Server) responseHeaders(c *fiber.Ctx) error {
	s.setSecurityHeaders(&c.Response().Header)
	return c.Next()
}

// setSecurityHeaders sets the headers every response carries, also those
// written outside the routes (errors of fasthttp itself, unknown methods).
// Strict-Transport-Security only when people reach the service over
// https (Config.PublicURL): a browser that has seen it goes on asking for
// https, and sends the Secure session cookie only there.
func (s *Server) setSecurityHeaders(h *fasthttp.ResponseHeader) {
	h.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	h.Set(fiber.HeaderXFrameOptions, "DENY")
	h.Set(fiber.HeaderReferrerPolicy, "same-origin")
	h.Set(fiber.HeaderContentSecurityPolicy, apiCSP)
	if strings.HasPrefix(strings.ToLower(s.cfg.PublicURL), "https://") {
		h.Set(fiber.HeaderStrictTransportSecurity, hsts)
	}
}

// samePath is a request path as pages link to it (the language switch,
// sign-in's return): always a path on this site. The path is the request's
// as sent (still percent-encoded), and "//evil.example/x" or
// "/\evil.example" would be another host to a browser: leading slashes
// and backslashes are folded into one slash. html/template escapes the
// rest (a backslash or a tab further on becomes %5c or %09).
func samePath(p string) string {
	return "/" + strings.TrimLeft(p, "/\\")
}
