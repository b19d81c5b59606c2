package registration_test

// Helpers shared by the tests of this package: they start the real app
// (apptest: the real router, a SQLite file in t.TempDir()), create events,
// fill in the form like a person would, and read the outcome back from the
// database.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/registration"
)

// newApp is the real app on an empty database (tests create their events:
// the demo's organiser logins take seconds to hash under -race).
func newApp(t testing.TB, configure ...func(c *app.Config)) *app.App {
	t.Helper()
	opt := apptest.Options{}
	if len(configure) > 0 {
		opt.Config = configure[0]
	}
	return apptest.New(t, opt)
}

// newDemoApp is the real app with the demo data.
func newDemoApp(t testing.TB) *app.App {
	t.Helper()
	return apptest.New(t, apptest.Options{Demo: true})
}

// fixedClock sets the app's clock to at (and returns it, for arithmetic).
func fixedClock(a *app.App, at time.Time) time.Time {
	a.DB.Now = func() time.Time { return at }
	return at
}

var eventSeq atomic.Int64

// createEvent adds a published event in Bergen, open for registration,
// starting in ten days (by the app's clock); change can adjust it.
func createEvent(t testing.TB, a *app.App, change func(e *events.Event)) events.Event {
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
		Status: events.StatusPublished, Region: region, Organiser: org,
	}
	if change != nil {
		change(&e)
	}
	err = a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return events.CreateEvent(ctx, tx, now, &e) })
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// capacity is a createEvent change setting the number of seats.
func capacity(n int) func(e *events.Event) { return func(e *events.Event) { e.Capacity = n } }

// validForm is a complete, valid sign-up.
func validForm(name, email string) url.Values {
	return url.Values{
		"name": {name}, "email": {email}, "organisation": {"Statens vegvesen"}, "role": {"Seksjonssjef"},
		"level": {"middle"}, "sector": {"state"}, "region": {"Bergen"}, "phone": {"912 34 567"},
		"dietary": {"Vegetar"}, "accessibility": {""}, "health_consent": {"1"}, "topics": {"Tillit i ledergruppen"},
	}
}

// with returns a copy of v with name set to value ("" removes it).
func with(v url.Values, kv ...string) url.Values {
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

// signUp posts the form for slug from a fresh browser and returns the
// response and that browser.
func signUp(t testing.TB, a *app.App, slug string, form url.Values) (*httptest.ResponseRecorder, *apptest.Client) {
	t.Helper()
	c := apptest.NewClient(t, a.Router)
	c.Get("/events/" + slug)
	return c.PostForm("/events/"+slug+"/registrations", form), c
}

// mustSignUp signs up and returns the manage token from the redirect.
func mustSignUp(t testing.TB, a *app.App, slug, name, email string) string {
	t.Helper()
	rec, _ := signUp(t, a, slug, validForm(name, email))
	return tokenOf(t, rec)
}

// tokenOf is the manage token a sign-up redirected to.
func tokenOf(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/r/") {
		t.Fatalf("sign-up: status %d, Location %q, want 303 to /r/{token}; page: %.400s", rec.Code, loc, apptest.Text(rec.Body.Bytes()))
	}
	return strings.TrimPrefix(loc, "/r/")
}

// mailedToken is the manage token in the confirmation email (see
// apptest.MailedToken): a link that proves the address.
func mailedToken(t testing.TB, a *app.App, address, slug string) string {
	t.Helper()
	return apptest.MailedToken(t, a, address, slug)
}

// mustSignUpMailed signs up and returns the manage token from the
// confirmation email.
func mustSignUpMailed(t testing.TB, a *app.App, slug, name, email string) string {
	t.Helper()
	mustSignUp(t, a, slug, name, email)
	return mailedToken(t, a, email, slug)
}

// consentsOf are the consents of one question, oldest first.
func consentsOf(t testing.TB, a *app.App, regID int64, q registration.ConsentQuestion) []registration.Consent {
	t.Helper()
	all, err := registration.FindConsents(context.Background(), a.DB.Read(), regID)
	if err != nil {
		t.Fatal(err)
	}
	var out []registration.Consent
	for _, c := range all {
		if c.Kind == q.Kind {
			out = append(out, c)
		}
	}
	return out
}

func mustNotContain(t testing.TB, rec *httptest.ResponseRecorder, texts ...string) {
	t.Helper()
	body := rec.Body.String()
	for _, s := range texts {
		if strings.Contains(body, s) {
			t.Errorf("page contains %q, it must not", s)
		}
	}
}

// eventID is the id of a demo event.
func eventID(t testing.TB, a *app.App, slug string) int64 {
	t.Helper()
	id, err := registration.EventIDBySlug(context.Background(), a.DB.Read(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// regs lists an event's registrations (confirmed, waiting in order with
// positions, cancelled).
func regs(t testing.TB, a *app.App, eventID int64) []registration.Registration {
	t.Helper()
	rs, err := registration.FindRegistrations(context.Background(), a.DB.Read(), registration.Filter{EventID: eventID})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// counts is (confirmed, waiting) for an event, counted row by row. It
// also fails the test unless the counts the triggers keep on the event
// (which the capacity rule reads) say the same.
func counts(t testing.TB, a *app.App, eventID int64) (confirmed, waiting int) {
	t.Helper()
	var keptConfirmed, keptWaiting int
	err := a.DB.Read().QueryRow(`SELECT
		(SELECT COUNT(*) FROM registrations WHERE event_id = ? AND status = 'confirmed'),
		(SELECT COUNT(*) FROM registrations WHERE event_id = ? AND status = 'waiting'),
		confirmed_count, waitlist_count FROM events WHERE id = ?`, eventID, eventID, eventID).
		Scan(&confirmed, &waiting, &keptConfirmed, &keptWaiting)
	if err != nil {
		t.Fatal(err)
	}
	if keptConfirmed != confirmed || keptWaiting != waiting {
		t.Errorf("event %d keeps %d confirmed, %d waiting; its rows say %d and %d", eventID, keptConfirmed, keptWaiting, confirmed, waiting)
	}
	return confirmed, waiting
}

// byEmail finds one registration by address.
func byEmail(t testing.TB, a *app.App, eventID int64, email string) registration.Registration {
	t.Helper()
	rs, err := registration.FindRegistrations(context.Background(), a.DB.Read(),
		registration.Filter{EventID: eventID, EmailNorm: registration.NormalizeEmail(email)})
	if err != nil || len(rs) == 0 {
		t.Fatalf("no registration for %s (%v)", email, err)
	}
	return rs[len(rs)-1]
}

// apiEvent reads the public JSON API for slug.
func apiEvent(t testing.TB, a *app.App, slug string) events.APIEvent {
	t.Helper()
	rec := apptest.NewClient(t, a.Router).Get("/api/v1/events/" + slug)
	apptest.Want(t, rec, http.StatusOK)
	var out events.APIEvent
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// notices records what the service asked to be told, like the outbox will.
type notices struct {
	mu   sync.Mutex
	list []registration.Notice
}

func recordNotices(a *app.App) *notices {
	n := &notices{}
	a.Registrations.Notify = func(ctx context.Context, tx registration.Tx, now time.Time, notice registration.Notice) error {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.list = append(n.list, notice)
		return nil
	}
	return n
}

func (n *notices) kinds() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, x := range n.list {
		out = append(out, x.Kind+":"+x.Registration.Email)
	}
	return out
}

func (n *notices) last() registration.Notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.list) == 0 {
		return registration.Notice{}
	}
	return n.list[len(n.list)-1]
}

func (n *notices) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.list)
}
