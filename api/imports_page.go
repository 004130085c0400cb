package api

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// The imports page (/imports, admin) is where the district's technical
// assistant imports a ward's export and keeps the keys of the wards; it
// also shows this instance's own key, for the superior committee. Its
// forms are plain HTML forms (no script), answered with the page again;
// every refusal is said in the page's language, naming the field by its
// label, with the API's words below as the technical detail.

// refusal is an API error with the words a page says it in: a message key
// of package web and its arguments.
type refusal struct {
	err  *tally.Error
	key  string
	args []any
}

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

func refused(e *tally.Error, key string, args ...any) error {
	return &refusal{err: e, key: key, args: args}
}

// fieldLabels name the fields of an import or a key registration as the
// page labels them; any other field is a part of the file.
var fieldLabels = map[string]string{
	"head":              "imports.field.head",
	"congress":          "imports.field.congress",
	"record.state":      "imports.field.state",
	"record.contest.id": "imports.field.round_id",
	"label":             "keys.field.label",
	"public_key":        "keys.field.public_key",
	"fingerprint":       "keys.field.fingerprint",
}

func fieldLabel(l web.Lang, field string) string {
	if k, ok := fieldLabels[field]; ok {
		return l.T(k)
	}
	if strings.HasPrefix(field, "record.signature") {
		return l.T("imports.field.signature")
	}
	return l.T("imports.field.file")
}

type importsData struct {
	Self       selfKey
	Keys       []registeredKey
	Congresses []*tally.CongressRecord
	// What the forms held when a refusal sends them back.
	Congress, Head, Label, PublicKey, Fingerprint string
	Done                                          *importDone
	Notice                                        string
	Refusal                                       *pageRefusal
}

// pageRefusal is a refusal as the page shows it, beside its form.
type pageRefusal struct {
	Form    string // "import" or "key"
	Field   string // the field's label
	Message string
	Detail  string // the API's message
}

// importDone is the round just imported, as the page reports it.
type importDone struct {
	ID, Title, Head string
	Round           int
	// Anchor says what tied it to its minutes; Unregistered is the
	// fingerprint of a signing key not registered here (offered for
	// registration), with its public key.
	Anchor                  string
	Unregistered, PublicKey string
}

func (s *Server) importPageRoutes() {
	s.pageGet("/imports", s.requirePage(roleAdmin), s.importsPage)
	s.pagePost("/imports", bodyUpTo(maxBody), s.requirePage(roleAdmin), s.importForm)
	s.pagePost("/imports/keys", s.requirePage(roleAdmin), s.keyForm)
	s.pagePost("/imports/keys/:fingerprint/delete", s.requirePage(roleAdmin), s.keyDeleteForm)
}

// importsData reads what the page always shows.
func (s *Server) importsData(ctx context.Context) (*importsData, error) {
	self, err := s.selfKey(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := s.registeredKeys(ctx)
	if err != nil {
		return nil, err
	}
	congresses, err := s.congresses(ctx)
	if err != nil {
		return nil, err
	}
	return &importsData{Self: self, Keys: keys, Congresses: congresses}, nil
}

// importsPage: GET /imports[?imported=ID | ?key_added=FP | ?key_removed=FP]
// (the answers of the forms, which redirect here after a success).
func (s *Server) importsPage(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	defer cancel()
	d, err := s.importsData(ctx)
	if err != nil {
		return err
	}
	l := s.lang(c)
	if id := c.Query("imported"); id != "" {
		if d.Done, err = s.importDone(ctx, l, id); err != nil {
			return err
		}
		if d.Done != nil && d.Done.Unregistered != "" {
			d.PublicKey, d.Fingerprint = d.Done.PublicKey, d.Done.Unregistered
		}
	}
	for _, k := range d.Keys {
		if fp := tally.FingerprintKey(k.Fingerprint); fp == c.Query("key_added") {
			d.Notice = l.T("keys.added", k.Fingerprint, k.Label)
		}
	}
	if fp := c.Query("key_removed"); fp != "" {
		d.Notice = l.T("keys.removed", fp)
	}
	return s.render(c, fiber.StatusOK, "imports", s.page(c, "imports.title", d))
}

// importDone describes a round imported here, or nil if there is none.
func (s *Server) importDone(ctx context.Context, l web.Lang, id string) (*importDone, error) {
	rec, err := s.store.Contest(ctx, id)
	if tally.ErrorKind(err) == tally.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if rec.Imported == "" || rec.State != tally.StateCertified {
		return nil, nil
	}
	r := &importDone{ID: id, Title: rec.Contest.Title, Round: rec.Contest.Round, Head: rec.Head, Anchor: l.T("imports.done.anchor_head")}
	pub, _ := tally.CheckSignature(rec) // checked at import
	switch {
	case strings.HasPrefix(rec.ImportAnchor, "key:"):
		label := ""
		if k, err := s.registeredKey(ctx, pub); err == nil && k != nil {
			label = k.Label
		}
		r.Anchor = l.T("imports.done.anchor_key", tally.Fingerprint(pub), label)
	case pub == nil:
		r.Anchor += " " + l.T("imports.done.unsigned")
	default:
		k, err := s.registeredKey(ctx, pub)
		if err != nil {
			return nil, err
		}
		if k == nil {
			r.Unregistered, r.PublicKey = tally.Fingerprint(pub), rec.Signature.PublicKey
		}
	}
	return r, nil
}

// importForm: POST /imports (multipart: file, congress, head, _csrf).
func (s *Server) importForm(c *fiber.Ctx) error {
	l := s.lang(c)
	congress, head := c.FormValue("congress"), strings.TrimSpace(c.FormValue("head"))
	var rec *tally.Record
	body, err := formFile(c, "file")
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), importTimeout)
		rec, err = s.importExport(ctx, body, congress, head)
		cancel()
	}
	if err == nil {
		return c.Redirect("/imports?imported="+url.QueryEscape(rec.Contest.ID), fiber.StatusSeeOther)
	}
	return s.refusePage(c, l, "import", err, func(d *importsData) { d.Congress, d.Head = congress, head })
}

// formFile reads an uploaded file (bounded by the body limit).
func formFile(c *fiber.Ctx, name string) ([]byte, error) {
	// The form is parsed from the body as readBody read it (up to the
	// route's limit), never from the connection.
	if _, err := requestBody(c); err != nil {
		return nil, err
	}
	fh, err := c.FormFile(name)
	if err != nil || fh.Size == 0 {
		return nil, refused(errorf(tally.Invalid, "file", "required: the round's export (export.jsonl) as downloaded where it was counted"), "imports.refused.no_file")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxBody))
}

// keyForm: POST /imports/keys (label, public_key, fingerprint, _csrf).
func (s *Server) keyForm(c *fiber.Ctx) error {
	l := s.lang(c)
	req := keyRequest{Label: c.FormValue("label"), PublicKey: strings.TrimSpace(c.FormValue("public_key")), Fingerprint: strings.TrimSpace(c.FormValue("fingerprint"))}
	ctx, cancel := storeCtx()
	k, err := s.addKey(ctx, req, who(c))
	cancel()
	if err == nil {
		return c.Redirect("/imports?key_added="+tally.FingerprintKey(k.Fingerprint), fiber.StatusSeeOther)
	}
	return s.refusePage(c, l, "key", err, func(d *importsData) {
		d.Label, d.PublicKey, d.Fingerprint = req.Label, req.PublicKey, req.Fingerprint
	})
}

// keyDeleteForm: POST /imports/keys/{fingerprint}/delete (_csrf).
func (s *Server) keyDeleteForm(c *fiber.Ctx) error {
	ctx, cancel := storeCtx()
	err := s.removeKey(ctx, c.Params("fingerprint"), who(c))
	cancel()
	if err == nil {
		return c.Redirect("/imports?key_removed="+url.QueryEscape(c.Params("fingerprint")), fiber.StatusSeeOther)
	}
	return s.refusePage(c, s.lang(c), "key", err, nil)
}

// refusePage shows the page again with a refusal beside its form, in the
// status the API gives. A failure of the service itself is not a refusal:
// it goes to the error handler.
func (s *Server) refusePage(c *fiber.Ctx, l web.Lang, form string, err error, keep func(*importsData)) error {
	switch tally.ErrorKind(err) {
	case tally.Invalid, tally.Conflict, tally.NotFound, tally.TooLarge:
	default:
		return err
	}
	ctx, cancel := storeCtx()
	defer cancel()
	d, derr := s.importsData(ctx)
	if derr != nil {
		return derr
	}
	if keep != nil {
		keep(d)
	}
	p := tally.Problems(err)[0]
	r := &pageRefusal{Form: form, Field: fieldLabel(l, p.Field), Detail: err.Error()}
	var rf *refusal
	switch {
	case errors.As(err, &rf):
		r.Message = l.T(rf.key, rf.args...)
	case p.Field == "congress":
		r.Message = l.T("imports.refused.congress")
	default:
		r.Message = l.T("imports.refused.file")
	}
	d.Refusal = r
	return s.render(c, statusOf[tally.ErrorKind(err)], "imports", s.page(c, "imports.title", d))
}
