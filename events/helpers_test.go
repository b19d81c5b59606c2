package events_test

// Helpers shared by the tests of this package (events_test): the demo app,
// requests through the real router, events and registrations written
// straight to the database, and the checks every page gets.

import (
	"context"
	"database/sql"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
)

// newDemoApp is the real app with the demo data in a fresh database.
func newDemoApp(t testing.TB) *app.App {
	t.Helper()
	return apptest.New(t, apptest.Options{Demo: true})
}

// request sends one request through the router with optional header
// name/value pairs and returns the recorded response.
func request(t testing.TB, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func get(t testing.TB, h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	return request(t, h, http.MethodGet, target, header...)
}

var cardRE = regexp.MustCompile(`<h3 class="card-title"><a href="/events/([^"]+)">`)

// cardSlugs lists the events shown as cards on a listing page, in order.
func cardSlugs(body []byte) []string {
	var out []string
	for _, m := range cardRE.FindAllSubmatch(body, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

var noticeRE = regexp.MustCompile(`(?s)<div class="notice" role="status">(.*?)</div>`)

// notices are the "we ignored a value" messages on a page.
func notices(body []byte) []string {
	var out []string
	for _, m := range noticeRE.FindAllSubmatch(body, -1) {
		out = append(out, html.UnescapeString(string(m[1])))
	}
	return out
}

func store(a *app.App) *events.Store { return &events.Store{DB: a.DB} }

// allEvents is every published or cancelled event, past ones included,
// soonest first: the oracle the filter tests select from in Go.
func allEvents(t testing.TB, a *app.App) []events.Event {
	t.Helper()
	evs, _, err := store(a).FindEvents(context.Background(), events.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// upcoming is what the default listing should show at now: events that
// have not ended.
func upcoming(evs []events.Event, now time.Time) []events.Event {
	var out []events.Event
	for _, e := range evs {
		if !e.EndsAt.Before(now) {
			out = append(out, e)
		}
	}
	return out
}

func slugsOf(evs []events.Event) []string {
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.Slug)
	}
	return out
}

func selectEvents(evs []events.Event, keep func(e events.Event) bool) []events.Event {
	var out []events.Event
	for _, e := range evs {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// osloDay is the date days from today in Oslo, as the filter form writes it.
func osloDay(days int) string {
	return time.Now().In(events.Oslo).AddDate(0, 0, days).Format("2006-01-02")
}

// oslo is a wall-clock time in Oslo.
func oslo(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, events.Oslo)
}

// newEvent is a published, free, open, physical meeting place in region,
// run by organiser, with the IDs looked up in the database.
func newEvent(t testing.TB, a *app.App, slug, region, organiser string, start, end time.Time) *events.Event {
	t.Helper()
	ctx := context.Background()
	r, err := store(a).FindRegionBySlug(ctx, region)
	if err != nil {
		t.Fatalf("region %s: %v", region, err)
	}
	o, err := store(a).FindOrganiserBySlug(ctx, organiser)
	if err != nil {
		t.Fatalf("organiser %s: %v", organiser, err)
	}
	return &events.Event{
		Slug: slug, Title: "Testmøte " + slug, Summary: "Et møte laget av testene.",
		Format: "meeting_place", Mode: "physical", StartsAt: start.UTC(), EndsAt: end.UTC(),
		Region: r, Organiser: o, Capacity: 50, Sector: "public", Facilitation: "facilitated",
		Theme: "leadership", Language: "nb", Status: events.StatusPublished,
	}
}

// addEvents writes events (and their venues, when new) in one transaction.
func addEvents(t testing.TB, a *app.App, evs ...*events.Event) {
	t.Helper()
	ctx := context.Background()
	err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		for _, e := range evs {
			if e.Venue != nil && e.Venue.ID == 0 {
				if err := events.CreateVenue(ctx, tx, e.Venue); err != nil {
					return err
				}
			}
			if err := events.CreateEvent(ctx, tx, now, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("add events: %v", err)
	}
}

// addRegistrations writes n registrations with status (confirmed, waiting
// or cancelled) straight into the table: the registration package is not
// under test here, only how the pages count them.
func addRegistrations(t testing.TB, a *app.App, eventID int64, status string, n int) {
	t.Helper()
	ctx := context.Background()
	err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		for i := 0; i < n; i++ {
			email := fmt.Sprintf("%s-%d-%d@test.example.no", status, eventID, i)
			if _, err := tx.ExecContext(ctx, `INSERT INTO registrations (event_id, status, name, email, email_norm,
				organisation, level, sector, created_at, updated_at, queued_at)
				VALUES (?, ?, ?, ?, ?, ?, 'middle', 'state', ?, ?, ?)`,
				eventID, status, "Test Testesen", email, email, "Testetaten", now, now, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("add registrations: %v", err)
	}
}

func f64(f float64) *float64 { return &f }

// checkHTML asserts what every HTML page must satisfy: a content type, no
// leftover CSRF placeholder, and the security headers.
func checkHTML(t testing.TB, rec *httptest.ResponseRecorder) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if strings.Contains(rec.Body.String(), "__MOTEPLASS_CSRF_TOKEN__") {
		t.Error("the CSRF placeholder reached the visitor")
	}
	checkSecurityHeaders(t, rec)
}

func checkSecurityHeaders(t testing.TB, rec *httptest.ResponseRecorder) {
	t.Helper()
	for name, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "strict-origin-when-cross-origin",
		"Permissions-Policy":      "camera=()",
	} {
		if got := rec.Header().Get(name); !strings.Contains(got, want) {
			t.Errorf("header %s = %q, want it to contain %q", name, got, want)
		}
	}
}
