package web_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/web"
)

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func cookieOf(rec *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func csrfRouter() *gin.Engine {
	r := gin.New()
	r.Use(web.CSRF(web.Cookies{}, func(c *gin.Context) { c.String(http.StatusForbidden, "csrf") }))
	r.GET("/form", func(c *gin.Context) { c.String(http.StatusOK, web.CSRFToken(c)) })
	r.POST("/form", func(c *gin.Context) { c.String(http.StatusOK, "saved") })
	return r
}

func TestCSRF(t *testing.T) {
	r := csrfRouter()
	first := serve(r, httptest.NewRequest(http.MethodGet, "/form", nil))
	ck := cookieOf(first, "csrf")
	if ck == nil || len(ck.Value) < 32 || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
		t.Fatalf("csrf cookie %+v", ck)
	}
	if first.Body.String() != ck.Value {
		t.Fatal("the page's token is not the cookie's")
	}
	token := ck.Value

	post := func(form url.Values, cookie string, header ...string) int {
		req := httptest.NewRequest(http.MethodPost, "/form", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != "" {
			req.Header.Set("Cookie", "csrf="+cookie)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return serve(r, req).Code
	}
	for _, c := range []struct {
		name   string
		form   url.Values
		cookie string
		header []string
		want   int
	}{
		{"the matching token passes", url.Values{"csrf_token": {token}}, token, nil, 200},
		{"the token in a header passes", url.Values{}, token, []string{"X-CSRF-Token", token}, 200},
		{"no token", url.Values{}, token, nil, 403},
		{"no cookie", url.Values{"csrf_token": {token}}, "", nil, 403},
		{"a wrong token", url.Values{"csrf_token": {token[:len(token)-1] + "x"}}, token, nil, 403},
		{"a short cookie is not trusted", url.Values{"csrf_token": {"short"}}, "short", nil, 403},
		{"an empty token matching nothing", url.Values{"csrf_token": {""}}, token, nil, 403},
	} {
		if got := post(c.form, c.cookie, c.header...); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}

	t.Run("a returning visitor keeps the token", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/form", nil)
		req.Header.Set("Cookie", "csrf="+token)
		rec := serve(r, req)
		if cookieOf(rec, "csrf") != nil || rec.Body.String() != token {
			t.Fatal("the token was replaced")
		}
	})
	t.Run("every visitor gets a different token", func(t *testing.T) {
		other := cookieOf(serve(r, httptest.NewRequest(http.MethodGet, "/form", nil)), "csrf")
		if other == nil || other.Value == token {
			t.Fatal("two visitors share a token")
		}
	})
}

func TestWriteHTMLPutsTheVisitorsToken(t *testing.T) {
	rnd := newRenderer(t)
	r := gin.New()
	r.Use(web.Language(web.Cookies{}), web.CSRF(web.Cookies{}, func(c *gin.Context) { c.AbortWithStatus(403) }))
	var body []byte
	r.GET("/", func(c *gin.Context) {
		p := rnd.NewPage(c, "T", nil)
		// a cached page is rendered once, with a placeholder for the token
		if body == nil {
			b, err := rnd.RenderBytes("error", p)
			if err != nil {
				t.Fatal(err)
			}
			body = append(b, []byte(`<input name="csrf_token" value="`+p.CSRF+`">`)...)
		}
		web.WriteHTML(c, http.StatusOK, body)
	})
	a := serve(r, httptest.NewRequest(http.MethodGet, "/", nil))
	b := serve(r, httptest.NewRequest(http.MethodGet, "/", nil))
	ta, tb := cookieOf(a, "csrf").Value, cookieOf(b, "csrf").Value
	if !strings.Contains(a.Body.String(), `value="`+ta+`"`) || !strings.Contains(b.Body.String(), `value="`+tb+`"`) {
		t.Fatal("a visitor's form does not carry their own token")
	}
	if strings.Contains(a.Body.String(), tb) || strings.Contains(b.Body.String(), ta) {
		t.Fatal("a cached page carried another visitor's token")
	}
	if a.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", a.Header().Get("Cache-Control"))
	}
}

func TestLanguageMiddleware(t *testing.T) {
	r := gin.New()
	r.Use(web.Language(web.Cookies{Secure: true}))
	r.GET("/", func(c *gin.Context) { c.String(http.StatusOK, web.Lang(c)) })

	rec := serve(r, httptest.NewRequest(http.MethodGet, "/?lang=en", nil))
	ck := cookieOf(rec, "lang")
	if rec.Body.String() != "en" || ck == nil || ck.Value != "en" || !ck.Secure || ck.MaxAge != 365*24*3600 {
		t.Fatalf("lang %q, cookie %+v", rec.Body.String(), ck)
	}
	if rec.Header().Get("Content-Language") != "en" || !strings.Contains(rec.Header().Get("Vary"), "Accept-Language") || !strings.Contains(rec.Header().Get("Vary"), "Cookie") {
		t.Errorf("headers %v", rec.Header())
	}

	req := httptest.NewRequest(http.MethodGet, "/?lang=en", nil)
	req.Header.Set("Cookie", "lang=en")
	if rec := serve(r, req); cookieOf(rec, "lang") != nil {
		t.Error("the same choice set the cookie again")
	}
	req = httptest.NewRequest(http.MethodGet, "/?lang=xx", nil)
	if rec := serve(r, req); cookieOf(rec, "lang") != nil || rec.Body.String() != "nb" {
		t.Error("an unknown language was remembered")
	}
	req = httptest.NewRequest(http.MethodGet, "/?lang=NB", nil)
	req.Header.Set("Cookie", "lang=en")
	if rec := serve(r, req); rec.Body.String() != "nb" || cookieOf(rec, "lang") == nil || cookieOf(rec, "lang").Value != "nb" {
		t.Error("switching back to bokmål was not remembered")
	}
}

func TestSecurityHeadersMiddleware(t *testing.T) {
	for _, https := range []bool{false, true} {
		r := gin.New()
		r.Use(web.SecurityHeaders(https))
		r.GET("/", func(c *gin.Context) { c.String(200, "ok") })
		rec := serve(r, httptest.NewRequest(http.MethodGet, "/", nil))
		csp := rec.Header().Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("CSP lacks %s", d)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("CSP allows unsafe code: %s", csp)
		}
		if got := rec.Header().Get("Strict-Transport-Security") != ""; got != https {
			t.Errorf("https=%v: HSTS present %v", https, got)
		}
	}
}

func TestRequestLogHasNoPersonalData(t *testing.T) {
	var buf bytes.Buffer
	r := gin.New()
	r.Use(web.RequestLog(slog.New(slog.NewJSONHandler(&buf, nil))))
	r.GET("/r/:token", func(c *gin.Context) { c.String(200, "ok") })
	r.POST("/fail", func(c *gin.Context) {
		c.Error(errFor("database is locked"))
		c.String(500, "x")
	})
	req := httptest.NewRequest(http.MethodGet, "/r/SECRET-TOKEN?email=ola@example.no", nil)
	req.RemoteAddr = "198.51.100.23:4444"
	req.Header.Set("X-Forwarded-For", "203.0.113.99")
	serve(r, req)
	serve(r, httptest.NewRequest(http.MethodPost, "/fail", strings.NewReader("name=Kari")))
	serve(r, httptest.NewRequest(http.MethodGet, "/nowhere/ola@example.no", nil))
	log := buf.String()
	for _, leak := range []string{"SECRET-TOKEN", "ola@example.no", "198.51.100.23", "203.0.113.99", "Kari"} {
		if strings.Contains(log, leak) {
			t.Errorf("the log contains %q:\n%s", leak, log)
		}
	}
	for _, want := range []string{`"route":"/r/:token"`, `"status":200`, `"route":"unmatched"`, `"level":"ERROR"`, `database is locked`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %s:\n%s", want, log)
		}
	}
	if n := strings.Count(log, "\n"); n != 3 {
		t.Errorf("%d log lines for 3 requests", n)
	}
}

type errFor string

func (e errFor) Error() string { return string(e) }

func TestFlash(t *testing.T) {
	cat := loadCatalogue(t)
	// find a real flash key, whichever domain defines one
	var key string
	for name, langs := range catalogueFiles(t) {
		_ = name
		for k := range langs["nb"] {
			if strings.HasPrefix(k, "flash.") {
				key = k
				break
			}
		}
	}
	if key == "" {
		t.Skip("no flash.* messages in the catalogue yet")
	}
	r := gin.New()
	r.Use(web.Language(web.Cookies{}))
	r.POST("/do", func(c *gin.Context) {
		web.SetFlash(c, web.Cookies{}, key)
		c.Redirect(http.StatusSeeOther, "/done")
	})
	r.GET("/done", func(c *gin.Context) {
		has := web.HasFlash(c)
		msg := web.TakeFlash(c, cat)
		again := web.TakeFlash(c, cat) // same request: same message
		if msg != again {
			t.Errorf("TakeFlash twice: %q then %q", msg, again)
		}
		c.String(http.StatusOK, "%v|%s", has, msg)
	})
	set := serve(r, httptest.NewRequest(http.MethodPost, "/do", nil))
	fl := cookieOf(set, "flash")
	if fl == nil || !fl.HttpOnly {
		t.Fatalf("flash cookie %+v", fl)
	}
	req := httptest.NewRequest(http.MethodGet, "/done", nil)
	req.AddCookie(fl)
	rec := serve(r, req)
	if want := "true|" + cat.T("nb", key); rec.Body.String() != want {
		t.Errorf("got %q, want %q", rec.Body.String(), want)
	}
	if c := cookieOf(rec, "flash"); c == nil || c.MaxAge >= 0 {
		t.Error("the flash was not cleared")
	}
	// a forged flash cookie shows nothing
	for _, forged := range []string{"error.internal", "%3Cscript%3E", "flash.no_such_message"} {
		req := httptest.NewRequest(http.MethodGet, "/done", nil)
		req.Header.Set("Cookie", "flash="+forged)
		if rec := serve(r, req); rec.Body.String() != "true|" {
			t.Errorf("forged flash %q showed %q", forged, rec.Body.String())
		}
	}
}

func TestLanguageMiddlewareRemembersHeaders(t *testing.T) {
	r := gin.New()
	r.Use(web.Language(web.Cookies{}))
	r.GET("/", func(c *gin.Context) { c.String(http.StatusOK, web.Lang(c)) })
	pick := func(accept, cookie string) string {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if accept != "" {
			req.Header.Set("Accept-Language", accept)
		}
		if cookie != "" {
			req.Header.Set("Cookie", "lang="+cookie)
		}
		return serve(r, req).Body.String()
	}
	// the same answers as PickLanguage, the first time and when remembered,
	// and after the memory started over (more than 512 distinct headers)
	for round := 0; round < 2; round++ {
		for i := 0; i < 600; i++ {
			h := fmt.Sprintf("de-DE;q=0.9,en;q=0.%d", i%9+1)
			if i%2 == 0 {
				h = fmt.Sprintf("nn;q=0.%d,en;q=0.1,x-%d", i%9+1, i)
			}
			if got, want := pick(h, ""), web.PickLanguage("", "", h); got != want {
				t.Fatalf("%q: %s, want %s", h, got, want)
			}
		}
	}
	if pick("en-GB,en;q=0.9", "nb") != "nb" {
		t.Error("the cookie must beat a remembered header")
	}
	if pick(strings.Repeat("en,", 200), "") != "en" {
		t.Error("a long header")
	}
	if pick("", "") != "nb" {
		t.Error("no header")
	}
}

func TestWriteHTMLUnderLoad(t *testing.T) {
	// many visitors at once, each must get their own token in every place
	// the page has one, and a page without a placeholder comes out as is
	r := gin.New()
	r.Use(web.CSRF(web.Cookies{}, func(c *gin.Context) { c.AbortWithStatus(403) }))
	withForms := []byte("<form>__MOTEPLASS_CSRF_TOKEN__</form><p>" + strings.Repeat("x", 20000) + "</p><form>__MOTEPLASS_CSRF_TOKEN__</form>")
	plain := []byte("<p>" + strings.Repeat("y", 5000) + "</p>")
	r.GET("/forms", func(c *gin.Context) { web.WriteHTML(c, http.StatusOK, withForms) })
	r.GET("/plain", func(c *gin.Context) { web.WriteHTML(c, http.StatusTeapot, plain) })
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				rec := serve(r, httptest.NewRequest(http.MethodGet, "/forms", nil))
				token := cookieOf(rec, "csrf").Value
				want := strings.ReplaceAll(string(withForms), "__MOTEPLASS_CSRF_TOKEN__", token)
				if rec.Body.String() != want {
					t.Errorf("a page with another visitor's token or a damaged page")
					return
				}
				rec = serve(r, httptest.NewRequest(http.MethodGet, "/plain", nil))
				if rec.Code != http.StatusTeapot || rec.Body.String() != string(plain) || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
					t.Errorf("plain page: %d %q", rec.Code, rec.Header().Get("Content-Type"))
					return
				}
			}
		}()
	}
	wg.Wait()
	if string(withForms[:6]) != "<form>" || !bytes.Contains(withForms, []byte("__MOTEPLASS_CSRF_TOKEN__")) {
		t.Fatal("WriteHTML changed the cached page itself")
	}
}
