package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// csrfPlaceholder stands in for the visitor's CSRF token in rendered HTML, so
// that a rendered page can be cached and shared: the real token is put in
// when the page is written (see writeHTML).
const csrfPlaceholder = "__MOTEPLASS_CSRF_TOKEN__"

// Page is the envelope every page template receives; Data is the page's own
// typed struct.
type Page struct {
	Lang      string
	Title     string
	CSRF      string
	Flash     string
	Notices   []string
	Path      string
	RawQuery  string
	BaseURL   string
	Canonical string
	Meta      Meta
	User      any
	Now       time.Time
	Data      any
}

// Meta is what a page tells search engines and link previews.
type Meta struct {
	Description string
	OGType      string
	JSONLD      template.JS // a JSON document, already marshalled
	NoIndex     bool
}

// Renderer holds one parsed template set per page and language, parsed at
// start-up so a broken template stops the program rather than a request.
type Renderer struct {
	sets    map[string]map[string]*template.Template // lang -> page -> set
	cat     *Catalogue
	assets  map[string]string // file name -> hashed URL
	baseURL string
	busy    string // the page for a busy database, "" for "try again shortly" (WithBusyPage)
}

// NewRenderer parses layouts/*.html + partials/*.html with each pages/*.html
// and emails are rendered separately by their domain.
func NewRenderer(fsys fs.FS, cat *Catalogue, baseURL string) (*Renderer, error) {
	r := &Renderer{sets: map[string]map[string]*template.Template{}, cat: cat, baseURL: baseURL}
	var err error
	if r.assets, err = hashAssets(fsys); err != nil {
		return nil, err
	}
	common, err := fs.Glob(fsys, "layouts/*.html")
	if err != nil {
		return nil, err
	}
	partials, err := fs.Glob(fsys, "partials/*.html")
	if err != nil {
		return nil, err
	}
	common = append(common, partials...)
	pages, err := fs.Glob(fsys, "pages/*.html")
	if err != nil {
		return nil, err
	}
	for _, lang := range Languages {
		r.sets[lang] = map[string]*template.Template{}
		base, err := template.New("base").Funcs(r.Funcs(lang)).ParseFS(fsys, common...)
		if err != nil {
			return nil, fmt.Errorf("web: parse layouts: %w", err)
		}
		for _, p := range pages {
			name := strings.TrimSuffix(path.Base(p), ".html")
			set, err := template.Must(base.Clone()).ParseFS(fsys, p)
			if err != nil {
				return nil, fmt.Errorf("web: parse %s: %w", p, err)
			}
			r.sets[lang][name] = set
		}
	}
	return r, nil
}

// FirstName is the first of a person's names, for a greeting ("Hei
// Kari,"): a double name written with a hyphen stays whole.
func FirstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return name
}

// Signer is who signs an email about v, for its closing line: the
// organiser of the event an email is about (v has SignedBy), else "" and
// the email is signed by Møteplass.
func Signer(v any) string {
	if s, ok := v.(interface{ SignedBy() string }); ok {
		return s.SignedBy()
	}
	return ""
}

// Funcs are the template functions, bound to one language.
func (r *Renderer) Funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"t":   func(key string, args ...any) string { return r.cat.T(lang, key, args...) },
		"msg": func(m Message) string { return r.cat.T(lang, m.Key, m.Args...) },
		// tk translates a key built from a prefix and a value, e.g. tk
		// "format." .Format; the value may be of a string type of its own
		// (events.Status)
		"tk":         func(prefix string, v any) string { return r.cat.T(lang, prefix+fmt.Sprint(v)) },
		"date":       func(t time.Time) string { return r.cat.Date(lang, t, Oslo) },
		"shortdate":  func(t time.Time) string { return r.cat.ShortDate(lang, t, Oslo) },
		"clock":      func(t time.Time) string { return r.cat.Clock(lang, t, Oslo) },
		"isodate":    func(t time.Time) string { return t.In(Oslo).Format(time.RFC3339) },
		"asset":      func(name string) string { return r.assets[name] },
		"paragraphs": Paragraphs,
		"firstName":  FirstName,
		"signer":     Signer,
		"langURL":    LangURL,
		"nok":        func(n int) string { return FormatNOK(lang, n) },
		"add":        func(a, b int) int { return a + b },
		"seq": func(n int) []int {
			s := make([]int, n)
			for i := range s {
				s[i] = i + 1
			}
			return s
		},
		"dict": func(kv ...any) map[string]any {
			m := make(map[string]any, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"trimScheme": func(u string) string { return strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://") },
		"list":       func(v ...string) []string { return v },
		"contains": func(list []string, v string) bool {
			for _, x := range list {
				if x == v {
					return true
				}
			}
			return false
		},
	}
}

// Oslo is where every time is shown.
var Oslo = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		panic("web: time zone Europe/Oslo is missing: " + err.Error())
	}
	return loc
}()

// Catalogue returns the message catalogue the renderer translates with.
func (r *Renderer) Catalogue() *Catalogue { return r.cat }

// RenderBytes renders page into HTML with the CSRF placeholder in place of
// the token; use it for pages that are cached.
func (r *Renderer) RenderBytes(page string, p *Page) ([]byte, error) {
	set, ok := r.sets[p.Lang][page]
	if !ok {
		return nil, fmt.Errorf("web: no page template %q", page)
	}
	p.CSRF = csrfPlaceholder
	if p.BaseURL == "" {
		p.BaseURL = r.baseURL
	}
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, "base", p); err != nil {
		return nil, fmt.Errorf("web: render %s: %w", page, err)
	}
	return buf.Bytes(), nil
}

// Render renders page with the request's envelope filled in and writes it.
// A template error becomes a clean 500 page, never half a page.
func (r *Renderer) Render(c *gin.Context, status int, page string, p *Page) {
	r.fill(c, p)
	body, err := r.RenderBytes(page, p)
	if err != nil {
		c.Error(err)
		r.renderError(c, http.StatusInternalServerError, "error.internal")
		return
	}
	WriteHTML(c, status, body)
}

// fill puts the request's language, path, flash and user into p.
func (r *Renderer) fill(c *gin.Context, p *Page) {
	p.Lang = Lang(c)
	p.Path = c.Request.URL.Path
	p.RawQuery = c.Request.URL.RawQuery
	p.BaseURL = r.baseURL
	if p.Flash == "" {
		p.Flash = TakeFlash(c, r.cat)
	}
	if p.User == nil {
		p.User, _ = c.Get(userKey)
	}
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
}

// NewPage is a page envelope for this request, before rendering.
func (r *Renderer) NewPage(c *gin.Context, title string, data any) *Page {
	p := &Page{Title: title, Data: data}
	r.fill(c, p)
	return p
}

// WriteHTML writes a rendered page, putting the visitor's CSRF token where
// the placeholder stands. The copy with the token is made in a pooled
// buffer: a fresh 16 KB copy per request made the garbage collector the
// largest cost of serving a cached page (see cmd/pageload).
func WriteHTML(c *gin.Context, status int, body []byte) {
	c.Header("Cache-Control", "no-store")
	i := bytes.Index(body, csrfPlaceholderBytes)
	if i < 0 {
		c.Data(status, "text/html; charset=utf-8", body)
		return
	}
	buf := htmlBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	token := CSRFToken(c)
	for i >= 0 {
		buf.Write(body[:i])
		buf.WriteString(token)
		body = body[i+len(csrfPlaceholderBytes):]
		i = bytes.Index(body, csrfPlaceholderBytes)
	}
	buf.Write(body)
	c.Data(status, "text/html; charset=utf-8", buf.Bytes()) // the writer copies or sends it before returning
	htmlBuffers.Put(buf)
}

var (
	csrfPlaceholderBytes = []byte(csrfPlaceholder)
	htmlBuffers          = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// T translates for the request's language.
func (r *Renderer) T(c *gin.Context, key string, args ...any) string {
	return r.cat.T(Lang(c), key, args...)
}

// ErrorPage is the data of the error page.
type ErrorPage struct {
	Status  int
	Message string
	Hint    string
}

func (r *Renderer) renderError(c *gin.Context, status int, key string, args ...any) {
	lang := Lang(c)
	p := &Page{
		Title: r.cat.T(lang, key+".title"),
		Data:  ErrorPage{Status: status, Message: r.cat.T(lang, key+".message", args...), Hint: r.cat.T(lang, key+".hint")},
		Meta:  Meta{NoIndex: true},
	}
	r.fill(c, p)
	body, err := r.RenderBytes("error", p)
	if err != nil {
		c.Error(err)
		c.String(http.StatusInternalServerError, "Internal Server Error")
		return
	}
	WriteHTML(c, status, body)
}

// hashAssets maps each static file to a URL with its content hash, so the
// files can be cached for a year and still change on upgrade.
func hashAssets(fsys fs.FS) (map[string]string, error) {
	m := map[string]string{}
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		m[name] = "/static/" + hex.EncodeToString(sum[:6]) + "/" + name
		return nil
	})
	return m, err
}

// StaticHandler serves embedded static files under /static/{hash}/{name}.
func StaticHandler(fsys fs.FS) gin.HandlerFunc {
	return func(c *gin.Context) {
		name := strings.TrimPrefix(c.Param("name"), "/")
		b, err := fs.ReadFile(fsys, path.Join("static", path.Clean("/"+name)))
		if err != nil {
			c.Status(http.StatusNotFound)
			return
		}
		ctype := "application/octet-stream"
		switch path.Ext(name) {
		case ".css":
			ctype = "text/css; charset=utf-8"
		case ".svg":
			ctype = "image/svg+xml"
		case ".js":
			ctype = "text/javascript; charset=utf-8"
		case ".ico":
			ctype = "image/x-icon"
		}
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
		c.Data(http.StatusOK, ctype, b)
	}
}

// LangURL is the current page in another language.
func LangURL(p *Page, lang string) string {
	q, _ := url.ParseQuery(p.RawQuery)
	q.Set("lang", lang)
	return p.Path + "?" + q.Encode()
}

// Paragraphs turns plain text into HTML paragraphs with line breaks and
// links, escaping everything else: organisers write descriptions as text.
func Paragraphs(s string) template.HTML {
	var b strings.Builder
	s = strings.ReplaceAll(s, "\r\n", "\n")
	for _, para := range strings.Split(s, "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>")
			}
			b.WriteString(linkify(line))
		}
		b.WriteString("</p>\n")
	}
	return template.HTML(b.String())
}

// linkify escapes a line and turns http(s) URLs in it into links.
func linkify(line string) string {
	var b strings.Builder
	for _, word := range strings.SplitAfter(line, " ") {
		trimmed := strings.TrimRight(word, " ")
		core := strings.TrimRight(trimmed, ".,;:!?)")
		u, err := url.Parse(core)
		if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			esc := template.HTMLEscapeString(core)
			b.WriteString(`<a href="` + esc + `" rel="noopener">` + esc + `</a>`)
			b.WriteString(template.HTMLEscapeString(word[len(core):]))
			continue
		}
		b.WriteString(template.HTMLEscapeString(word))
	}
	return b.String()
}

// FormatNOK writes an amount in kroner: "1 500 kr" / "NOK 1,500".
func FormatNOK(lang string, n int) string {
	digits := fmt.Sprint(n)
	sep := "\u00a0"
	if lang == "en" {
		sep = ","
	}
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(d)
	}
	if lang == "en" {
		return "NOK " + b.String()
	}
	return b.String() + "\u00a0kr"
}
