package apptest

// What the tests of several packages build a world from: an event open
// for sign-ups, a sign-up form filled in as a person would, the browser
// that posts it, and the registrations read back.

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/registration"
)

var eventSeq atomic.Int64

// CreateEvent adds a published event of DFØ in Bergen, open for
// registration, starting in ten days by the app's clock (the region and
// the organiser are made when missing); change can adjust it first.
func CreateEvent(t testing.TB, a *app.App, change func(e *events.Event)) events.Event {
	t.Helper()
	ctx := context.Background()
	store := events.Store{DB: a.DB}
	region, err := store.FindRegionBySlug(ctx, "bergen")
	org, err2 := store.FindOrganiserBySlug(ctx, "dfo")
	if err != nil || err2 != nil {
		region = events.Region{Slug: "bergen", Name: "Bergen"}
		org = events.Organiser{Slug: "dfo", Name: "DFØ", Kind: "public", ContactEmail: "post@dfo.example.no"}
		err = a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
			if err := events.CreateRegion(ctx, tx, &region, 1); err != nil {
				return err
			}
			return events.CreateOrganiser(ctx, tx, &org)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	seq := eventSeq.Add(1)
	now := a.DB.Now()
	e := events.Event{
		Slug: fmt.Sprintf("testmote-%d", seq), Title: fmt.Sprintf("Testmøte %d", seq),
		Summary: "Et møte for tester.", Format: "meeting_place", Mode: "physical",
		StartsAt: now.Add(10 * 24 * time.Hour).Truncate(time.Second), EndsAt: now.Add(10*24*time.Hour + 3*time.Hour).Truncate(time.Second),
		Capacity: 10, Sector: "public", Facilitation: "facilitated", Theme: "leadership", Language: "nb",
		Status: "published", Region: region, Organiser: org,
	}
	if change != nil {
		change(&e)
	}
	if err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return events.CreateEvent(ctx, tx, now, &e) }); err != nil {
		t.Fatal(err)
	}
	return e
}

// FixedClock sets the app's clock to at (and returns it, for arithmetic).
func FixedClock(a *app.App, at time.Time) time.Time {
	a.DB.Now = func() time.Time { return at }
	return at
}

// SignUpForm is a complete, valid sign-up (with a dietary need, and the
// consent it needs).
func SignUpForm(name, email string) url.Values {
	return url.Values{
		"name": {name}, "email": {email}, "organisation": {"Statens vegvesen"}, "role": {"Seksjonssjef"},
		"level": {"middle"}, "sector": {"state"}, "region": {"Bergen"}, "phone": {"912 34 567"},
		"dietary": {"Vegetar"}, "accessibility": {""}, "health_consent": {"1"}, "topics": {"Tillit i ledergruppen"},
	}
}

// With returns a copy of v with each name set to its value ("" removes it).
func With(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	return out
}

// SignUp posts form for slug from a fresh browser and returns the answer
// and that browser.
func SignUp(t testing.TB, a *app.App, slug string, form url.Values) (*httptest.ResponseRecorder, *Client) {
	t.Helper()
	c := NewClient(t, a.Router)
	c.Get("/events/" + slug)
	return c.PostForm("/events/"+slug+"/registrations", form), c
}

// TokenOf is the manage token a sign-up redirected the browser to (a
// link that opens that registration only, see registration.Scope).
func TokenOf(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/r/") {
		t.Fatalf("sign-up: status %d, Location %q, want 303 to /r/{token}; page: %.400s", rec.Code, loc, Text(rec.Body.Bytes()))
	}
	return strings.TrimPrefix(loc, "/r/")
}

// Registrations lists an event's registrations (confirmed, waiting in
// order with positions, cancelled).
func Registrations(t testing.TB, a *app.App, eventID int64) []registration.Registration {
	t.Helper()
	rs, err := registration.FindRegistrations(context.Background(), a.DB.Read(), registration.Filter{EventID: eventID})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// ByEmail is the newest registration of an address for an event.
func ByEmail(t testing.TB, a *app.App, eventID int64, email string) registration.Registration {
	t.Helper()
	rs, err := registration.FindRegistrations(context.Background(), a.DB.Read(),
		registration.Filter{EventID: eventID, EmailNorm: registration.NormalizeEmail(email)})
	if err != nil || len(rs) == 0 {
		t.Fatalf("no registration for %s (%v)", email, err)
	}
	return rs[len(rs)-1]
}
