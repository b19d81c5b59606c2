// Package apptest starts the real application for tests: the real router,
// a real SQLite file in t.TempDir(), and a browser-like client that keeps
// cookies and carries the CSRF token.
package apptest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/demo"
	"github.com/moteplass/moteplass/internal/pgtest"
)

// Options adjust the configuration of a test app.
type Options struct {
	Demo   bool                // load the demo data
	Config func(c *app.Config) // further changes
	Log    io.Writer           // where the request log goes (default: discarded)
}

// New starts an app with its database in a temporary folder. It is closed
// when the test ends.
func New(t testing.TB, opt Options) *app.App {
	t.Helper()
	return NewOn(t, DatabaseFor(t), opt)
}

// NewOn starts an app on the database dsn names, which other apps of the
// test may share (two instances on one PostgreSQL database). It is closed
// when the test ends.
func NewOn(t testing.TB, dsn string, opt Options) *app.App {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.DB = dsn
	cfg.Addr = "127.0.0.1:0"
	cfg.Demo = "off"
	cfg.SignupRate = 0
	if opt.Demo {
		cfg.Demo = "auto"
	}
	if opt.Config != nil {
		opt.Config(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("apptest: config: %v", err)
	}
	w := opt.Log
	if w == nil {
		w = io.Discard
		// MOTEPLASS_TEST_LOG=1 shows the app's log (a 500's cause)
		if os.Getenv("MOTEPLASS_TEST_LOG") != "" {
			w = os.Stderr
		}
	}
	a, err := app.NewApp(context.Background(), cfg, slog.New(slog.NewJSONHandler(w, nil)))
	if err != nil {
		t.Fatalf("apptest: start: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// DatabaseFor is a new, empty database for the test: a SQLite file in
// t.TempDir(), or with MOTEPLASS_TEST_DB=postgres a PostgreSQL database
// of its own (internal/pgtest: a throwaway server from the machine's own
// binaries, or the one MOTEPLASS_TEST_PG_URL names).
func DatabaseFor(t testing.TB) string {
	t.Helper()
	if pgtest.Enabled() {
		return pgtest.URL(t)
	}
	return filepath.Join(t.TempDir(), "moteplass.db")
}

// SQLiteOnly skips a test of what only SQLite has (its files, its write
// lock) when the suite runs on PostgreSQL; why says where PostgreSQL's
// side of it is tested or written down.
func SQLiteOnly(t testing.TB, why string) {
	t.Helper()
	if pgtest.Enabled() {
		t.Skip("SQLite only: " + why)
	}
}

// Client talks to the app's router in-process, like a browser: it keeps
// cookies and fills in the CSRF token on forms.
type Client struct {
	t      testing.TB
	h      http.Handler
	jar    *cookiejar.Jar
	Header http.Header // sent with every request (e.g. Accept-Language)
}

// NewClient is a fresh browser for a.
func NewClient(t testing.TB, h http.Handler) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, h: h, jar: jar, Header: http.Header{}}
}

var base, _ = url.Parse("http://localhost:8080/")

// Do sends req through the router and returns the recorded response.
func (c *Client) Do(req *http.Request) *httptest.ResponseRecorder {
	c.t.Helper()
	u := base.ResolveReference(req.URL)
	for _, ck := range c.jar.Cookies(u) {
		req.AddCookie(ck)
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	c.jar.SetCookies(u, rec.Result().Cookies())
	return rec
}

// Get fetches path.
func (c *Client) Get(path string) *httptest.ResponseRecorder {
	c.t.Helper()
	return c.Do(httptest.NewRequest(http.MethodGet, path, nil))
}

// PostForm posts form to path, adding the CSRF token from the cookie jar
// (fetching / first if the client has none yet).
func (c *Client) PostForm(path string, form url.Values) *httptest.ResponseRecorder {
	c.t.Helper()
	if form.Get("csrf_token") == "" {
		form.Set("csrf_token", c.CSRFToken())
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(req)
}

// CSRFToken is the token this client's forms carry.
func (c *Client) CSRFToken() string {
	c.t.Helper()
	for _, ck := range c.jar.Cookies(base) {
		if ck.Name == "csrf" {
			return ck.Value
		}
	}
	c.Get("/")
	for _, ck := range c.jar.Cookies(base) {
		if ck.Name == "csrf" {
			return ck.Value
		}
	}
	c.t.Fatal("apptest: no csrf cookie")
	return ""
}

// Follow fetches the Location of a redirect.
func (c *Client) Follow(rec *httptest.ResponseRecorder) *httptest.ResponseRecorder {
	c.t.Helper()
	loc := rec.Header().Get("Location")
	if loc == "" {
		c.t.Fatalf("apptest: no redirect (status %d)", rec.Code)
	}
	return c.Get(loc)
}

var tagRE = regexp.MustCompile(`(?s)<[^>]*>`)
var spaceRE = regexp.MustCompile(`\s+`)

// Text is the visible text of an HTML body, tags removed and spaces folded,
// for assertions on what a user reads.
func Text(body []byte) string {
	s := tagRE.ReplaceAllString(string(body), " ")
	s = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`).Replace(s)
	return strings.TrimSpace(spaceRE.ReplaceAllString(s, " "))
}

// Contains reports whether the visible text of body contains s.
func Contains(body *bytes.Buffer, s string) bool { return strings.Contains(Text(body.Bytes()), s) }

// Login is a browser logged in through the login form; the test fails if
// the login does not succeed.
func Login(t testing.TB, h http.Handler, email, password string) *Client {
	t.Helper()
	cl := NewClient(t, h)
	rec := cl.PostForm("/admin/login", url.Values{"email": {email}, "password": {password}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login as %s: status %d", email, rec.Code)
	}
	return cl
}

// DemoLogin logs in with one of the demo logins (internal/demo).
func DemoLogin(t testing.TB, h http.Handler, email string) *Client {
	t.Helper()
	return Login(t, h, email, demo.Password)
}

// Want fails the test unless rec has status want, showing what the page
// said (the start of its visible text) and where it redirected.
func Want(t testing.TB, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		text := Text(rec.Body.Bytes())
		if len(text) > 800 {
			text = text[:800]
		}
		t.Fatalf("status %d, want %d (Location %q); page: %s", rec.Code, want, rec.Header().Get("Location"), text)
	}
}

// Says fails the test unless the visible text of the page holds every s.
func Says(t testing.TB, rec *httptest.ResponseRecorder, texts ...string) {
	t.Helper()
	text := Text(rec.Body.Bytes())
	for _, s := range texts {
		if !strings.Contains(text, s) {
			t.Errorf("page does not say %q; it says: %.1500s", s, text)
		}
	}
}

// DoesNotSay fails the test if the visible text of the page holds any s.
func DoesNotSay(t testing.TB, rec *httptest.ResponseRecorder, texts ...string) {
	t.Helper()
	text := Text(rec.Body.Bytes())
	for _, s := range texts {
		if strings.Contains(text, s) {
			t.Errorf("page says %q, it must not", s)
		}
	}
}

var manageLinkRE = regexp.MustCompile(`/r/([A-Za-z0-9_-]{43})`)

// MailedToken is the manage token in the newest email to address about the
// event slug. That link proves the address; the browser's link after a
// sign-up (its redirect) does not, so tests of what spans a person's
// registrations (download, erasure, the personal feed) take this one.
func MailedToken(t testing.TB, a *app.App, address, slug string) string {
	t.Helper()
	rows, err := a.DB.Read().Query(`SELECT text_body FROM outbox WHERE to_address_norm = ? ORDER BY id DESC`,
		strings.ToLower(strings.TrimSpace(address)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			t.Fatal(err)
		}
		if m := manageLinkRE.FindStringSubmatch(text); m != nil && strings.Contains(text, "/events/"+slug) {
			return m[1]
		}
	}
	t.Fatalf("apptest: no email to %s with a manage link for %s", address, slug)
	return ""
}

// EditForm is the organiser's edit form of a saved event, filled in as a
// browser posts it.
func EditForm(ev events.Event) url.Values {
	f := events.EventFormOf(ev)
	v := url.Values{
		"title": {f.Title}, "slug": {f.Slug}, "summary": {f.Summary}, "description": {f.Description},
		"format": {f.Format}, "mode": {f.Mode}, "region": {f.Region}, "organiser_id": {f.OrganiserID},
		"venue_name": {f.VenueName}, "venue_street": {f.VenueStreet}, "venue_postcode": {f.VenuePostcode}, "venue_city": {f.VenueCity},
		"venue_lat": {f.VenueLat}, "venue_lon": {f.VenueLon}, "venue_access": {f.VenueAccess}, "online_url": {f.OnlineURL},
		"start_date": {f.StartDate}, "start_time": {f.StartTime}, "end_date": {f.EndDate}, "end_time": {f.EndTime},
		"capacity": {f.Capacity}, "price": {f.Price}, "opens_date": {f.OpensDate}, "opens_time": {f.OpensTime},
		"closes_date": {f.ClosesDate}, "closes_time": {f.ClosesTime}, "levels": f.Levels, "roles": f.Roles,
		"sector": {f.Sector}, "facilitation": {f.Facilitation}, "theme": {f.Theme}, "language": {f.Language},
		"invite_code": {f.InviteCode}, "host": {f.Host},
	}
	if f.InvitationOnly {
		v.Set("invitation_only", "1")
	}
	for i, r := range f.Agenda {
		p := "agenda." + strconv.Itoa(i) + "."
		v.Set(p+"time", r.Time)
		v.Set(p+"title", r.Title)
		v.Set(p+"introducer", r.Introducer)
	}
	return v
}
