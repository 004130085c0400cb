package api

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// The downloads of a certified round — the minutes (print view and PDF)
// and export.csv, .xlsx, .jsonl — are rendered once and then served from
// memory (security review, finding 18: an anonymous minutes.pdf of a
// 10,000-candidate round cost 0.38 s of CPU on every request). A certified
// round is frozen, but not everything a rendering reads is its log: the
// key is a digest of all of it, so that a change of any part is a new
// entry, never a stale answer:
//   - the route and the round's id;
//   - the record without its contest definition (which no longer changes
//     once a round is opened: the contest cache relies on it too) — the
//     head, the log's version, the times, and what can still change after
//     certification: the link to a next round (a re-vote), the import
//     notes, and any field added later;
//   - the congress record and the round's notes, as stored (the congress
//     keeps changing after a round is certified — votes on later rounds,
//     appointments — while what the round's minutes print stays: the
//     minutes take the votes recorded up to the certification, and PUT
//     refuses a change of the rest (checkFrozen); a new key per change
//     renders the same minutes again, never a stale one);
//   - for the minutes, the base URL of the verify link and its QR code;
//   - the page language;
//   - the audience: anonymous, or the principal (its role and id), so that
//     what only some readers may see (notes, say) is served to no other
//     reader; a kept download goes only to a reader who passed the access
//     check before it, as the one it was rendered for did.
//
// The verified-entry journal is not in the key: keyings and decisions are
// taken only while a round is open. A rendering that comes to read
// anything else must add it to downloadKey.
//
// Browsers get the digest as a strong ETag with Cache-Control "private,
// no-cache": they revalidate, and an unchanged download is a 304. The
// downloads of a round not certified are rendered per request, with
// Cache-Control: no-store, as before; anonymous renderings (live rounds,
// and certified ones not in memory) are rate-limited per address
// (RateLimits.Render).
const (
	downloadCacheBytes   = 64 << 20 // all entries
	downloadCacheEntries = 256
	downloadEntryBytes   = 16 << 20 // a larger rendering is served, not kept
)

// certifiedCache is the middleware of the downloads, after the result's
// access check and before renderLimit; byURL says the rendering prints the
// base URL (the minutes).
func (s *Server) certifiedCache(byURL bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx, cancel := storeCtx()
		key, certified, err := s.downloadKey(ctx, c, byURL)
		cancel()
		if err != nil {
			return err
		}
		if !certified {
			c.Set(fiber.HeaderCacheControl, "no-store")
			return c.Next()
		}
		etag := `"` + key[:32] + `"`
		if etagMatch(c.Get(fiber.HeaderIfNoneMatch), etag) {
			c.Set(fiber.HeaderETag, etag)
			c.Set(fiber.HeaderCacheControl, "private, no-cache")
			c.Status(fiber.StatusNotModified)
			return nil
		}
		e, render := s.downloads.get(key)
		if !render {
			select {
			case <-e.ready:
			case <-time.After(storeTimeout):
			}
			if e.done() {
				return e.serve(c, etag)
			}
			// The rendering it waited for failed or is slow: its own.
		} else {
			defer s.downloads.finish(e) // also when the rendering panics
		}
		if err := c.Next(); err != nil {
			return err
		}
		if c.Response().StatusCode() != fiber.StatusOK {
			return nil
		}
		c.Set(fiber.HeaderETag, etag)
		c.Set(fiber.HeaderCacheControl, "private, no-cache")
		if render && c.Method() == fiber.MethodGet {
			e.keep(c)
		}
		return nil
	}
}

// downloadKey is the digest of what a download of the request's round
// depends on (see above), and whether the round is certified.
func (s *Server) downloadKey(ctx context.Context, c *fiber.Ctx, byURL bool) (string, bool, error) {
	id := c.Params("id")
	rec, _ := c.Locals(localRecord{}).(*tally.Record)
	if rec == nil {
		var err error
		if rec, err = s.store.Contest(ctx, id); err != nil {
			return "", false, err
		}
	}
	if rec.State != tally.StateCertified {
		return "", false, nil
	}
	shallow := *rec
	shallow.Contest = nil
	record, err := json.Marshal(shallow)
	if err != nil {
		return "", false, err
	}
	h := sha256.New()
	part := func(b []byte) {
		var n [8]byte
		for i, l := 0, len(b); i < 8; i, l = i+1, l>>8 {
			n[i] = byte(l)
		}
		h.Write(n[:])
		h.Write(b)
	}
	part([]byte(c.Route().Path))
	part([]byte(id))
	part(record)
	for _, item := range []struct{ kind, key string }{{itemCongress, rec.Congress}, {itemNotes, id}} {
		var data []byte
		if item.key != "" {
			data, err = s.store.Item(ctx, item.kind, item.key)
			if err != nil && tally.ErrorKind(err) != tally.NotFound {
				return "", false, err
			}
		}
		part(data)
	}
	if byURL {
		part([]byte(s.baseURL(c)))
	}
	lang := c.Query("lang")
	if lang == "" {
		lang = c.Cookies(langCookie)
	}
	part([]byte(web.ParseLang(lang)))
	audience := "anonymous"
	if p := principalOf(c); p != nil {
		audience = string(p.Role) + " " + p.ID
	}
	part([]byte(audience))
	return hex.EncodeToString(h.Sum(nil)), true, nil
}

// localRecord is the key of the record the access check read for an
// anonymous request (resultPublic): the same request need not read it twice.
type localRecord struct{}

// renderLimit is the rate limit of anonymous renderings per address, after
// the access check (a refused request costs nothing and tells nothing).
func (s *Server) renderLimit(c *fiber.Ctx) error {
	if principalOf(c) == nil {
		ctx, cancel := storeCtx()
		defer cancel()
		if err := s.rateLimit(ctx, "render", c.IP(), s.limits.Render); err != nil {
			return err
		}
	}
	return c.Next()
}

// etagMatch says whether an If-None-Match header names etag (or is *).
func etagMatch(header, etag string) bool {
	for v := range strings.SplitSeq(header, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == etag || v == "*" {
			return true
		}
	}
	return false
}

// downloadCache holds renderings of certified rounds, least recently used
// first out, within downloadCacheBytes and downloadCacheEntries. The zero
// value is ready to use.
type downloadCache struct {
	mu    sync.Mutex
	m     map[string]*download
	order list.List // of *download, most recently used at the front
	bytes int
}

// download is one rendering: pending until ready is closed, then kept
// (body set) or dropped.
type download struct {
	key   string
	ready chan struct{}
	elem  *list.Element

	// Set before ready is closed, read only after.
	body        []byte
	contentType string
	disposition string
}

// get returns the entry of key; render is true when the caller must render
// it (and then call keep and finish), false when it is kept or being
// rendered by another request.
func (d *downloadCache) get(key string) (e *download, render bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[string]*download{}
	}
	if e := d.m[key]; e != nil {
		if e.elem != nil {
			d.order.MoveToFront(e.elem)
		}
		return e, false
	}
	e = &download{key: key, ready: make(chan struct{})}
	d.m[key] = e
	return e, true
}

// keep copies the rendering in c's response into e.
func (e *download) keep(c *fiber.Ctx) {
	body := c.Response().Body()
	if len(body) > downloadEntryBytes {
		return
	}
	e.body = append([]byte(nil), body...)
	e.contentType = string(c.Response().Header.ContentType())
	e.disposition = string(c.Response().Header.Peek(fiber.HeaderContentDisposition))
}

// finish publishes e: kept when it has a body, else forgotten, so that a
// later request renders again. Entries beyond the bounds go, oldest first.
func (d *downloadCache) finish(e *download) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e.body == nil {
		delete(d.m, e.key)
		close(e.ready)
		return
	}
	e.elem = d.order.PushFront(e)
	d.bytes += len(e.body)
	close(e.ready)
	for d.order.Len() > downloadCacheEntries || d.bytes > downloadCacheBytes {
		old := d.order.Remove(d.order.Back()).(*download)
		delete(d.m, old.key)
		d.bytes -= len(old.body)
	}
}

// done says whether e was rendered and kept.
func (e *download) done() bool {
	select {
	case <-e.ready:
		return e.body != nil
	default:
		return false
	}
}

// serve answers from a kept rendering.
func (e *download) serve(c *fiber.Ctx, etag string) error {
	c.Set(fiber.HeaderContentType, e.contentType)
	if e.disposition != "" {
		c.Set(fiber.HeaderContentDisposition, e.disposition)
	}
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	return c.Send(e.body) // shared, never written to
}
