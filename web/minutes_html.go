package web

import (
	"embed"
	"html/template"
	"io"
)

//go:embed templates/minutes.html
var minutesFS embed.FS

// minutesPage is parsed once: a broken template fails at start, not on the
// first print.
var minutesPage = template.Must(template.ParseFS(minutesFS, "templates/minutes.html"))

// RenderMinutesHTML writes the minutes as a standalone A4 print page.
// html/template escapes every value by context: names are user input.
func RenderMinutesHTML(w io.Writer, m *Minutes) error {
	return minutesPage.ExecuteTemplate(w, "minutes.html", m)
}
