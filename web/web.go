// Package web holds the pages people use: the templates and assets,
// embedded in the binary and parsed once at start (miniflux style). The
// handlers that fill them live in package api, beside the JSON API they
// call from the browser.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/kiemphieu/kiemphieu/tally"
)

//go:embed templates static
var files embed.FS

// Static is the tree of assets served under /static/.
func Static() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the directory is embedded: it is always there
	}
	return sub
}

// assetVersion is a digest of every embedded asset: asset URLs carry it,
// so browsers may cache them for a long time and still get a new build's.
var assetVersion = func() string {
	h := sha256.New()
	fs.WalkDir(files, "static", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := files.ReadFile(name)
			h.Write([]byte(name))
			h.Write(data)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

// Asset is the URL of a static file, with the build's asset version.
func Asset(name string) string { return "/static/" + name + "?v=" + assetVersion }

// Pages are the page templates, each parsed with the shared layout.
type Pages struct {
	pages map[string]*template.Template
}

// Page is what every page template gets: the language, who is signed in,
// the CSRF token for the page's requests, and the page's own data.
type Page struct {
	Lang  Lang
	Title string // the page's title, already translated
	// Path is the request path, for the language switch and the sign-in
	// link's return address.
	Path string
	User *User
	// CSRF is the session's token; the page's scripts send it in
	// X-CSRF-Token and its forms in the _csrf field.
	CSRF string
	// Wide pages (the desk, the screen) drop the reading-width column.
	Wide bool
	Data any
}

// User is who is signed in, as pages show it.
type User struct {
	Name string // as printed: a person's full name, a desk's name
	// Username is what a person signs in with (empty for a desk).
	Username string
	Role     string // admin | counter | viewer
	// Account: a person signed in with a password (who may change it),
	// not a desk with a token.
	Account bool
}

// roleRank orders the roles as package api does: admin ⊃ counter ⊃ viewer.
var roleRank = map[string]int{"viewer": 1, "counter": 2, "admin": 3}

// Can reports whether the user holds at least the role.
func (u *User) Can(role string) bool {
	if u == nil {
		return false
	}
	return roleRank[u.Role] >= roleRank[role]
}

// T translates a message key into the page's language.
func (p *Page) T(key string, args ...any) string { return p.Lang.T(key, args...) }

// New parses every page template once, each with the layout.
func New() (*Pages, error) {
	funcs := template.FuncMap{
		"join":  strings.Join,
		"add":   func(a, b int) int { return a + b },
		"roman": tally.RomanOrdinal,
		"asset": Asset,
		"clock": ClockTime,
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: layout: %w", err)
	}
	names, err := fs.Glob(files, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	p := &Pages{pages: map[string]*template.Template{}}
	for _, name := range names {
		t, err := template.Must(layout.Clone()).ParseFS(files, name)
		if err != nil {
			return nil, fmt.Errorf("web: %s: %w", name, err)
		}
		p.pages[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	return p, nil
}

// Render writes the named page (templates/pages/<name>.html in the layout).
func (p *Pages) Render(w io.Writer, name string, page *Page) error {
	t, ok := p.pages[name]
	if !ok {
		return fmt.Errorf("web: no page %q", name)
	}
	return t.ExecuteTemplate(w, "layout.html", page)
}
