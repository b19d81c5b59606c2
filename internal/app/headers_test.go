package app_test

// Every route of the real router carries the security headers, whatever it
// answers (a page, a redirect, JSON, a calendar, a 401, a 404). The table
// is made from a.Router.Routes(), so a route added later is checked
// without anyone remembering to add it here; parameters get real values.

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/demo"
)

// privHeaders checks one response's security headers.
func privHeaders(t *testing.T, what string, h http.Header, https bool) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	directives := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		if name != "" {
			directives[name] = value
		}
	}
	script, ok := directives["script-src"]
	if !ok {
		script, ok = directives["default-src"]
	}
	switch {
	case csp == "":
		t.Errorf("%s: no Content-Security-Policy", what)
	case !ok:
		t.Errorf("%s: CSP %q limits no scripts", what, csp)
	case strings.Contains(script, "'unsafe-inline'") || strings.Contains(script, "'unsafe-eval'") || strings.Contains(script, "*"):
		t.Errorf("%s: scripts allowed from %q", what, script)
	}
	// The development mailbox shows an email's HTML part in an iframe of
	// its own page: that one response is sandboxed and may be framed by
	// the same origin only (it exists only when no mail server is set).
	// (A visitor who is not logged in as an admin is sent to the login.)
	sandboxed := strings.HasPrefix(what, "GET /dev/mailbox/:id/html ") && h.Get("Location") == ""
	switch {
	case sandboxed:
		if _, ok := directives["sandbox"]; !ok || directives["default-src"] != "'none'" || h.Get("X-Frame-Options") != "SAMEORIGIN" {
			t.Errorf("%s: the mailbox's HTML part is not sandboxed: CSP %q, X-Frame-Options %q", what, csp, h.Get("X-Frame-Options"))
		}
	case directives["frame-ancestors"] != "'none'":
		t.Errorf("%s: frame-ancestors %q, want 'none'", what, directives["frame-ancestors"])
	}
	object, ok := directives["object-src"]
	if !ok {
		object = directives["default-src"]
	}
	if object != "'none'" {
		t.Errorf("%s: object-src %q, want 'none'", what, object)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", what, got)
	}
	switch got := h.Get("Referrer-Policy"); got {
	case "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin":
	default:
		t.Errorf("%s: Referrer-Policy %q", what, got)
	}
	if pp := h.Get("Permissions-Policy"); !strings.Contains(pp, "camera=()") || !strings.Contains(pp, "geolocation=()") {
		t.Errorf("%s: Permissions-Policy %q", what, pp)
	}
	hsts := h.Get("Strict-Transport-Security")
	if https {
		m := regexp.MustCompile(`max-age=(\d+)`).FindStringSubmatch(hsts)
		if m == nil {
			t.Errorf("%s: Strict-Transport-Security %q over https", what, hsts)
		} else if age, _ := strconv.Atoi(m[1]); age < 365*24*3600 {
			t.Errorf("%s: HSTS max-age %d, want at least a year", what, age)
		}
	} else if hsts != "" {
		t.Errorf("%s: Strict-Transport-Security %q over plain http", what, hsts)
	}
}

// privParams fills a route's parameters with real values.
type privParams struct {
	eventSlug, eventID, token, asset, outboxID string
}

var paramRE = regexp.MustCompile(`[:*][A-Za-z_]+`)

func (p privParams) fill(route string) string {
	return paramRE.ReplaceAllStringFunc(route, func(param string) string {
		switch {
		case param == ":slug" && strings.HasPrefix(route, "/regions/"):
			return "bergen"
		case param == ":slug" && strings.HasPrefix(route, "/organisers/"):
			return "dfo"
		case param == ":slug":
			return p.eventSlug
		case param == ":token" && strings.HasPrefix(route, "/r/"):
			return p.token
		case param == ":token":
			return strings.Repeat("x", 43)
		case param == ":id" && strings.HasPrefix(route, "/dev/mailbox/"):
			return p.outboxID
		case param == ":id" && strings.HasPrefix(route, "/admin/events/"):
			return p.eventID
		case param == ":hash":
			return strings.Split(strings.TrimPrefix(p.asset, "/static/"), "/")[0]
		case param == "*name":
			return "style.css"
		case param == ":file":
			return strings.Repeat("y", 43) + ".ics"
		}
		return "1"
	})
}

func TestEveryRouteCarriesTheSecurityHeaders(t *testing.T) {
	for _, https := range []bool{false, true} {
		name := "http"
		if https {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			a := apptest.New(t, apptest.Options{Demo: true, Config: func(c *app.Config) {
				if https {
					c.BaseURL = "https://moteplass.example.no"
				}
			}})
			ev := privEvent(t, a, "dfo", 10*24*time.Hour, 20)
			p := privParams{eventSlug: ev.Slug, eventID: strconv.FormatInt(ev.ID, 10), outboxID: "1"}
			p.token = privSignUp(t, a, ev.Slug, privForm("Hilde Hodesen", "hilde.hode@example.no"))
			home := apptest.NewClient(t, a.Router).Get("/")
			p.asset = regexp.MustCompile(`/static/[0-9a-f]+/style\.css`).FindString(home.Body.String())
			if p.asset == "" {
				t.Fatal("no stylesheet link on /")
			}
			a.DB.Read().QueryRow(`SELECT CAST(MIN(id) AS TEXT) FROM outbox`).Scan(&p.outboxID)

			// Over plain http the admin pages are visited logged in, so
			// their handlers answer rather than the login redirect. (Over
			// https the session cookie is Secure and this in-process client
			// does not send it; the headers come from the middleware all the
			// same.)
			cl := apptest.NewClient(t, a.Router)
			if !https {
				cl = apptest.Login(t, a.Router, "admin@moteplass.example.no", demo.Password)
			}
			routes := a.Router.Routes()
			if len(routes) < 40 {
				t.Fatalf("only %d routes: is the table broken?", len(routes))
			}
			// GET and HEAD first; POSTs after (they change things), logout
			// and erasure last.
			last := func(path string) int {
				switch {
				case strings.HasSuffix(path, "/logout"):
					return 3
				case strings.HasSuffix(path, "/delete"):
					return 2
				}
				return 1
			}
			seen := map[string]bool{}
			statuses := map[int]int{}
			for pass := 0; pass <= 3; pass++ {
				for _, r := range routes {
					isPost := r.Method != http.MethodGet && r.Method != http.MethodHead
					if (pass == 0) == isPost || (pass > 0 && last(r.Path) != pass) {
						continue
					}
					path := p.fill(r.Path)
					var rec *httptest.ResponseRecorder
					if isPost {
						rec = cl.PostForm(path, url.Values{})
					} else {
						rec = cl.Do(httptest.NewRequest(r.Method, path, nil))
					}
					what := r.Method + " " + r.Path + " (" + strconv.Itoa(rec.Code) + ")"
					privHeaders(t, what, rec.Header(), https)
					if rec.Code >= 500 {
						t.Errorf("%s: server error: %.300s", what, apptest.Text(rec.Body.Bytes()))
					}
					seen[r.Method+" "+r.Path] = true
					statuses[rec.Code]++
				}
			}
			if len(seen) != len(routes) {
				t.Errorf("checked %d of %d routes", len(seen), len(routes))
			}
			if !https && statuses[http.StatusOK] < 25 {
				t.Errorf("only %d answers were 200 (%v): the values do not reach the handlers", statuses[http.StatusOK], statuses)
			}
			t.Logf("%d routes, statuses %v", len(seen), statuses)

			// and what no route answers
			for _, c := range []struct{ method, path string }{
				{http.MethodGet, "/finnes-ikke"},
				{http.MethodDelete, "/events/" + ev.Slug},
				{http.MethodPost, "/healthz"},
			} {
				rec := apptest.NewClient(t, a.Router).Do(httptest.NewRequest(c.method, c.path, nil))
				privHeaders(t, c.method+" "+c.path+" ("+strconv.Itoa(rec.Code)+")", rec.Header(), https)
			}
		})
	}
}
