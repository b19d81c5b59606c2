package events_test

// Tests of what every public page shares, through the real router:
// languages, the error pages, /healthz, security headers and static files.

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/templates"
)

func TestLanguages(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)

	t.Run("bokmål is the default", func(t *testing.T) {
		rec := get(t, a.Router, "/")
		if !strings.Contains(rec.Body.String(), `<html lang="nb">`) || rec.Header().Get("Content-Language") != "nb" {
			t.Fatal("not bokmål")
		}
		if !strings.Contains(rec.Body.String(), `<a href="/?lang=en" lang="en" hreflang="en">English</a>`) {
			t.Error("no switch to English")
		}
	})

	t.Run("Accept-Language: en gives English", func(t *testing.T) {
		rec := get(t, a.Router, "/", "Accept-Language", "en-GB,en;q=0.9")
		if !strings.Contains(rec.Body.String(), `<html lang="en">`) || !strings.Contains(apptest.Text(rec.Body.Bytes()), "Meeting places for leaders") {
			t.Fatal("not English")
		}
		if !strings.Contains(rec.Body.String(), `hreflang="nb">Norsk (bokmål)</a>`) {
			t.Error("no switch to bokmål")
		}
	})

	t.Run("the switch keeps the filters", func(t *testing.T) {
		body := get(t, a.Router, "/?region=oslo&format=meeting_place").Body.String()
		if !strings.Contains(body, `href="/?format=meeting_place&amp;lang=en&amp;region=oslo"`) {
			t.Errorf("language link drops the filters")
		}
	})

	t.Run("?lang=en is remembered in a cookie", func(t *testing.T) {
		c := apptest.NewClient(t, a.Router)
		rec := c.Get("/?lang=en")
		if !strings.Contains(rec.Body.String(), `<html lang="en">`) {
			t.Fatal("?lang=en did not give English")
		}
		var ck *http.Cookie
		for _, x := range rec.Result().Cookies() {
			if x.Name == "lang" {
				ck = x
			}
		}
		if ck == nil || ck.Value != "en" || ck.MaxAge < 30*24*3600 {
			t.Fatalf("lang cookie %+v", ck)
		}
		// later pages, without ?lang, stay in English
		for _, p := range []string{"/", "/events/partnerforum-styring-og-ledelse", "/finnes-ikke"} {
			if !strings.Contains(c.Get(p).Body.String(), `<html lang="en">`) {
				t.Errorf("%s forgot the choice of English", p)
			}
		}
		// the cookie beats Accept-Language
		c.Header.Set("Accept-Language", "nb")
		if !strings.Contains(c.Get("/").Body.String(), `<html lang="en">`) {
			t.Error("Accept-Language overrode the chosen language")
		}
		// and switching back is remembered too
		c.Get("/?lang=nb")
		c.Header.Del("Accept-Language")
		if !strings.Contains(c.Get("/").Body.String(), `<html lang="nb">`) {
			t.Error("the switch back to bokmål was not remembered")
		}
	})
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	for _, c := range []struct {
		name   string
		path   string
		header []string
		lang   string
		title  string
	}{
		{"an unknown route in bokmål", "/finnes-ikke", nil, "nb", "Fant ikke siden"},
		{"an unknown event in bokmål", "/events/finnes-ikke", nil, "nb", "Fant ikke siden"},
		{"an unknown region", "/regions/atlantis", nil, "nb", "Fant ikke siden"},
		{"an unknown organiser", "/organisers/ingen", nil, "nb", "Fant ikke siden"},
		{"English by Accept-Language", "/events/finnes-ikke", []string{"Accept-Language", "en"}, "en", "Page not found"},
		{"English by ?lang=en", "/finnes-ikke?lang=en", nil, "en", "Page not found"},
		{"English by cookie", "/finnes-ikke", []string{"Cookie", "lang=en"}, "en", "Page not found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := get(t, a.Router, c.path, c.header...)
			apptest.Want(t, rec, http.StatusNotFound)
			checkHTML(t, rec)
			if !strings.Contains(rec.Body.String(), `<html lang="`+c.lang+`">`) {
				t.Errorf("not in %s", c.lang)
			}
			text := apptest.Text(rec.Body.Bytes())
			if !strings.Contains(text, c.title) {
				t.Errorf("no %q: %s", c.title, text)
			}
			if !strings.Contains(rec.Body.String(), `<meta name="robots" content="noindex">`) {
				t.Error("an error page may be indexed")
			}
			if !strings.Contains(rec.Body.String(), `href="/"`) {
				t.Error("no way back to the front page")
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	a := apptest.New(t, apptest.Options{})
	rec := get(t, a.Router, "/healthz")
	if rec.Code != http.StatusOK || rec.Body.String() != "ok\n" {
		t.Fatalf("healthz: %d %q", rec.Code, rec.Body.String())
	}
	if rec := request(t, a.Router, http.MethodHead, "/healthz"); rec.Code != http.StatusOK {
		t.Fatalf("HEAD healthz: %d", rec.Code)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	for _, p := range []string{"/", "/events/partnerforum-styring-og-ledelse", "/finnes-ikke", "/api/v1/events", "/healthz", "/?format=x"} {
		t.Run(p, func(t *testing.T) {
			checkSecurityHeaders(t, get(t, a.Router, p))
		})
	}
	t.Run("no HSTS over plain http", func(t *testing.T) {
		if h := get(t, a.Router, "/").Header().Get("Strict-Transport-Security"); h != "" {
			t.Errorf("HSTS over http: %q", h)
		}
	})
	t.Run("HSTS and secure cookies over https", func(t *testing.T) {
		s := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.BaseURL = "https://moteplass.example.no" }})
		rec := get(t, s.Router, "/?lang=en")
		if h := rec.Header().Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=") {
			t.Errorf("no HSTS: %q", h)
		}
		for _, ck := range rec.Result().Cookies() {
			if !ck.Secure {
				t.Errorf("cookie %s is not Secure", ck.Name)
			}
		}
	})
	t.Run("pages are not stored by shared caches", func(t *testing.T) {
		if cc := get(t, a.Router, "/").Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
	})
	t.Run("the CSRF cookie is HttpOnly and SameSite", func(t *testing.T) {
		for _, ck := range get(t, a.Router, "/").Result().Cookies() {
			if ck.Name == "csrf" && (!ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode) {
				t.Errorf("csrf cookie %+v", ck)
			}
		}
	})
}

func TestStaticFiles(t *testing.T) {
	t.Parallel()
	a := apptest.New(t, apptest.Options{})
	body := get(t, a.Router, "/").Body.String()
	m := regexp.MustCompile(`<link rel="stylesheet" href="(/static/([0-9a-f]+)/style\.css)">`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no stylesheet link")
	}
	want, err := fs.ReadFile(templates.FS, "static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(want)
	if !strings.HasPrefix(hex.EncodeToString(sum[:]), m[2]) {
		t.Errorf("the URL hash %s is not the file's hash", m[2])
	}
	rec := get(t, a.Router, m[1])
	apptest.Want(t, rec, http.StatusOK)
	if rec.Body.String() != string(want) {
		t.Error("the stylesheet served is not the embedded file")
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/css; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	cc := rec.Header().Get("Cache-Control")
	if !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") || !strings.Contains(cc, "public") {
		t.Errorf("Cache-Control %q, want a year, immutable", cc)
	}
	checkSecurityHeaders(t, rec)
	if rec := get(t, a.Router, "/static/"+m[2]+"/missing.css"); rec.Code != http.StatusNotFound {
		t.Errorf("missing file: %d", rec.Code)
	}
}
