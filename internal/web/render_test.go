package web_test

import (
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/templates"
)

func init() { gin.SetMode(gin.ReleaseMode) }

func TestParagraphs(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     template.HTML
	}{
		{"empty", "", ""},
		{"only blank lines", "\n\n \n\n", ""},
		{"one line", "Hei", "<p>Hei</p>\n"},
		{"two paragraphs", "Første.\n\nAndre.", "<p>Første.</p>\n<p>Andre.</p>\n"},
		{"a line break", "Linje 1\nLinje 2", "<p>Linje 1<br>Linje 2</p>\n"},
		{"Windows line ends", "a\r\n\r\nb\r\nc", "<p>a</p>\n<p>b<br>c</p>\n"},
		{"extra blank lines", "\n\n\na\n\n\n\nb\n\n", "<p>a</p>\n<p>b</p>\n"},
		{"HTML is escaped", "<script>alert('x')</script> & <b>fet</b>", "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;fet&lt;/b&gt;</p>\n"},
		{"a link", "Les mer: https://www.digdir.no", `<p>Les mer: <a href="https://www.digdir.no" rel="noopener">https://www.digdir.no</a></p>` + "\n"},
		{"a link ending a sentence", "Se https://example.no/program.", `<p>Se <a href="https://example.no/program" rel="noopener">https://example.no/program</a>.</p>` + "\n"},
		{"a link in brackets", "(se https://example.no)", `<p>(se <a href="https://example.no" rel="noopener">https://example.no</a>)</p>` + "\n"},
		{"a link with a query", "http://example.no/?a=1&b=2", `<p><a href="http://example.no/?a=1&amp;b=2" rel="noopener">http://example.no/?a=1&amp;b=2</a></p>` + "\n"},
		{"two links", "https://a.no og https://b.no", `<p><a href="https://a.no" rel="noopener">https://a.no</a> og <a href="https://b.no" rel="noopener">https://b.no</a></p>` + "\n"},
		{"javascript: is not a link", "javascript:alert(1)", "<p>javascript:alert(1)</p>\n"},
		{"data: is not a link", "data:text/html,<script>x</script>", "<p>data:text/html,&lt;script&gt;x&lt;/script&gt;</p>\n"},
		{"ftp is not a link", "ftp://example.no", "<p>ftp://example.no</p>\n"},
		{"a scheme alone is not a link", "https://", "<p>https://</p>\n"},
		{"quotes cannot leave the attribute", `https://x.no/"onmouseover="alert(1)`, `<p><a href="https://x.no/&#34;onmouseover=&#34;alert(1" rel="noopener">https://x.no/&#34;onmouseover=&#34;alert(1</a>)</p>` + "\n"},
		{"Norwegian letters", "Møte på Bodø – «velkommen»", "<p>Møte på Bodø – «velkommen»</p>\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := web.Paragraphs(c.in); got != c.want {
				t.Errorf("Paragraphs(%q)\n got %q\nwant %q", c.in, got, c.want)
			}
		})
	}
}

// allowedTag is the markup Paragraphs may write.
var allowedTag = regexp.MustCompile(`<p>|</p>|<br>|<a href="https?://[^"<>]*" rel="noopener">|</a>`)

// FuzzParagraphs: whatever organisers type, the output has no markup but
// paragraphs, line breaks and http(s) links.
func FuzzParagraphs(f *testing.F) {
	for _, s := range []string{"", "a\n\nb", "<script>", "https://x.no/\"><script>", "http://a.no?x=<b>&y='", "\r\n\r\n", "javascript:x", "https://ø.no"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := string(web.Paragraphs(s))
		rest := allowedTag.ReplaceAllString(out, "")
		if strings.ContainsAny(rest, "<>") {
			t.Fatalf("markup outside the allowed tags: %q -> %q", s, out)
		}
		if strings.Count(out, "<a ") != strings.Count(out, "</a>") || strings.Count(out, "<p>") != strings.Count(out, "</p>") {
			t.Fatalf("unbalanced: %q", out)
		}
	})
}

func TestFormatNOK(t *testing.T) {
	const nb = "\u00a0"
	for _, c := range []struct {
		n      int
		nb, en string
	}{
		{0, "0" + nb + "kr", "NOK 0"},
		{5, "5" + nb + "kr", "NOK 5"},
		{999, "999" + nb + "kr", "NOK 999"},
		{1000, "1" + nb + "000" + nb + "kr", "NOK 1,000"},
		{1500, "1" + nb + "500" + nb + "kr", "NOK 1,500"},
		{12345, "12" + nb + "345" + nb + "kr", "NOK 12,345"},
		{100000, "100" + nb + "000" + nb + "kr", "NOK 100,000"},
		{1234567, "1" + nb + "234" + nb + "567" + nb + "kr", "NOK 1,234,567"},
	} {
		if got := web.FormatNOK("nb", c.n); got != c.nb {
			t.Errorf("FormatNOK(nb, %d) = %q, want %q", c.n, got, c.nb)
		}
		if got := web.FormatNOK("en", c.n); got != c.en {
			t.Errorf("FormatNOK(en, %d) = %q, want %q", c.n, got, c.en)
		}
	}
}

func TestLangURL(t *testing.T) {
	for _, c := range []struct {
		path, raw, lang, want string
	}{
		{"/", "", "en", "/?lang=en"},
		{"/", "lang=en", "nb", "/?lang=nb"},
		{"/regions/oslo", "format=conference&page=2", "en", "/regions/oslo?format=conference&lang=en&page=2"},
		{"/", "q=%3Cscript%3E", "en", "/?lang=en&q=%3Cscript%3E"},
		{"/", "%zz", "en", "/?lang=en"}, // an unparsable query is dropped
	} {
		if got := web.LangURL(&web.Page{Path: c.path, RawQuery: c.raw}, c.lang); got != c.want {
			t.Errorf("LangURL(%s?%s, %s) = %q, want %q", c.path, c.raw, c.lang, got, c.want)
		}
	}
}

func TestStaticHandler(t *testing.T) {
	fsys := fstest.MapFS{
		"static/style.css":     {Data: []byte("body{}")},
		"static/img/logo.svg":  {Data: []byte("<svg/>")},
		"secret.toml":          {Data: []byte("password")},
		"locales/common.toml":  {Data: []byte("x")},
		"static/../secret.txt": {Data: []byte("never")},
	}
	r := gin.New()
	r.GET("/static/:hash/*name", web.StaticHandler(fsys))
	for _, c := range []struct {
		target string
		status int
		ctype  string
	}{
		{"/static/abc/style.css", 200, "text/css; charset=utf-8"},
		{"/static/abc/img/logo.svg", 200, "image/svg+xml"},
		{"/static/abc/missing.css", 404, ""},
		{"/static/abc/../secret.toml", 404, ""},
		{"/static/abc/../../secret.toml", 404, ""},
		{"/static/abc/..%2fsecret.toml", 404, ""},
		{"/static/abc/%2e%2e/locales/common.toml", 404, ""},
		{"/static/abc/", 404, ""},
		{"/static/abc/img", 404, ""},
		{"/static/abc/style.css%00", 404, ""},
	} {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.target, nil))
		if rec.Code != c.status {
			t.Errorf("%s: %d, want %d", c.target, rec.Code, c.status)
			continue
		}
		if c.status != 200 {
			if strings.Contains(rec.Body.String(), "password") {
				t.Errorf("%s leaked a file outside static/", c.target)
			}
			continue
		}
		if ct := rec.Header().Get("Content-Type"); ct != c.ctype {
			t.Errorf("%s: Content-Type %q, want %q", c.target, ct, c.ctype)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", c.target, cc)
		}
	}
}

// newRenderer is the real renderer over the real templates.
func newRenderer(t testing.TB) *web.Renderer {
	t.Helper()
	cat, err := web.LoadCatalogue(templates.FS, "locales")
	if err != nil {
		t.Fatal(err)
	}
	r, err := web.NewRenderer(templates.FS, cat, "https://moteplass.example.no")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// errorRouter serves one route that fails with err (or panics).
func errorRouter(t *testing.T, rnd *web.Renderer, fail func(c *gin.Context)) *gin.Engine {
	r := gin.New()
	r.Use(rnd.Recovery(), web.Language(web.Cookies{}), web.CSRF(web.Cookies{}, func(c *gin.Context) { c.AbortWithStatus(http.StatusForbidden) }))
	r.GET("/x", fail)
	r.NoRoute(rnd.NotFound)
	return r
}

func TestErrorPages(t *testing.T) {
	rnd := newRenderer(t)
	secret := errors.New("sql: connection refused at /var/lib/secret.db")
	for _, c := range []struct {
		name   string
		fail   func(c *gin.Context)
		status int
		text   string
	}{
		{"a safe error shows its message", func(c *gin.Context) { rnd.Fail(c, web.ErrBadRequest) }, 400, "Vi forsto ikke adressen"},
		{"a not-found error", func(c *gin.Context) { rnd.Fail(c, web.ErrNotFound) }, 404, "Fant ikke siden"},
		{"a wrapped safe error", func(c *gin.Context) { rnd.Fail(c, &web.Error{Status: 403, Key: "error.csrf", Err: secret}) }, 403, "Skjemaet er utløpt"},
		{"an internal error is a 500 without details", func(c *gin.Context) { rnd.Fail(c, secret) }, 500, "Noe gikk galt hos oss"},
		{"a panic is a 500 without details", func(c *gin.Context) { panic(secret) }, 500, "Noe gikk galt hos oss"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// gin's recovery prints the stack of the expected panic
			defer func(w io.Writer) { gin.DefaultErrorWriter = w }(gin.DefaultErrorWriter)
			gin.DefaultErrorWriter = io.Discard
			rec := httptest.NewRecorder()
			errorRouter(t, rnd, c.fail).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d", rec.Code, c.status)
			}
			body := rec.Body.String()
			if !strings.Contains(body, c.text) {
				t.Errorf("no %q", c.text)
			}
			if strings.Contains(body, "secret") || strings.Contains(body, "sql:") {
				t.Error("the cause reached the user")
			}
			if !strings.Contains(body, `<meta name="robots" content="noindex">`) {
				t.Error("an error page may be indexed")
			}
		})
	}

	t.Run("FailAPI answers JSON without details", func(t *testing.T) {
		for _, c := range []struct {
			err    error
			status int
			code   string
		}{{web.ErrNotFound, 404, "error.not_found"}, {secret, 500, "error.internal"}} {
			rec := httptest.NewRecorder()
			errorRouter(t, rnd, func(g *gin.Context) { rnd.FailAPI(g, c.err) }).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x?lang=en", nil))
			if rec.Code != c.status || !strings.Contains(rec.Body.String(), `"error":"`+c.code+`"`) || strings.Contains(rec.Body.String(), "secret") {
				t.Errorf("%d %s", rec.Code, rec.Body.String())
			}
		}
	})
}

func TestRendererParsesEveryPage(t *testing.T) {
	// NewRenderer parses every page at start-up; a broken one stops it
	newRenderer(t)
	broken := fstest.MapFS{
		"layouts/base.html":   {Data: []byte(`{{define "base"}}{{template "content" .}}{{end}}`)},
		"pages/broken.html":   {Data: []byte(`{{define "content"}}{{if}}{{end}}`)},
		"locales/x.nb.toml":   {Data: []byte(`"a" = "b"`)},
		"static/style.css":    {Data: []byte(``)},
		"partials/empty.html": {Data: []byte(``)},
	}
	cat, err := web.LoadCatalogue(broken, "locales")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := web.NewRenderer(broken, cat, "http://x"); err == nil {
		t.Fatal("a broken page template was accepted")
	}
}
