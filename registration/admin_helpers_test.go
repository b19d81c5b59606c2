package registration_test

// Helpers of the tests of the organisers' registration pages (admin*.go,
// checkin*.go, csv.go, dashboard*.go). They are prefixed att so they never
// clash with the package's other test helpers. Each test starts the real
// app on an empty database, creates its events and its organiser logins
// (with the cheapest bcrypt cost) and logs in through the login form.

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/organisers"
	"github.com/moteplass/moteplass/registration"
)

const attPassword = "et langt passord for tester"

type httpRecorder = httptest.ResponseRecorder

// attWorld is an app with a DFØ event, another organisation's event and a
// login for every role.
type attWorld struct {
	a     *app.App
	ev    events.Event // DFØ's
	other events.Event // NHH's
	// users by name: admin, organiser (DFØ), checkin (DFØ), other (organiser at NHH)
	users map[string]organisers.User
}

var attSeq atomic.Int64

// attSetup starts an app with a DFØ event (changed by change) and an NHH
// event, and the four logins.
func attSetup(t testing.TB, change func(e *events.Event)) *attWorld {
	t.Helper()
	a := newApp(t)
	w := &attWorld{a: a, users: map[string]organisers.User{}}
	w.ev = createEvent(t, a, change)
	ctx := context.Background()
	nhh := events.Organiser{Slug: "nhh", Name: "NHH Executive", Kind: "organisation", ContactEmail: "executive@nhh.example.no"}
	err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return events.CreateOrganiser(ctx, tx, &nhh) })
	if err != nil {
		t.Fatal(err)
	}
	w.other = createEvent(t, a, func(e *events.Event) { e.Organiser = nhh; e.Title = "NHH-møte" })
	store := organisers.Store{DB: a.DB, BcryptCost: bcrypt.MinCost}
	n := attSeq.Add(1)
	for name, u := range map[string]organisers.User{
		"admin":     {Name: "Ada Admin", Role: organisers.RoleAdmin},
		"organiser": {Name: "Ola Arrangør", Role: organisers.RoleOrganiser, OrganiserID: w.ev.Organiser.ID},
		"checkin":   {Name: "Kari Innsjekk", Role: organisers.RoleCheckIn, OrganiserID: w.ev.Organiser.ID},
		"other":     {Name: "Nils NHH", Role: organisers.RoleOrganiser, OrganiserID: nhh.ID},
	} {
		u.Email = fmt.Sprintf("%s-%d@org.example.no", name, n)
		err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return store.CreateUser(ctx, tx, now, &u, attPassword) })
		if err != nil {
			t.Fatal(err)
		}
		w.users[name] = u
	}
	return w
}

// login is a browser logged in as one of the world's users.
func (w *attWorld) login(t testing.TB, name string) *apptest.Client {
	t.Helper()
	cl := apptest.NewClient(t, w.a.Router)
	rec := cl.PostForm("/admin/login", url.Values{"email": {w.users[name].Email}, "password": {attPassword}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login as %s: status %d", name, rec.Code)
	}
	return cl
}

// user is one of the world's users, for calling the service directly.
func (w *attWorld) user(name string) *organisers.User {
	u := w.users[name]
	return &u
}

func attPath(ev events.Event, rest string) string {
	return fmt.Sprintf("/admin/events/%d%s", ev.ID, rest)
}

// attFollow follows a redirect and returns the page it leads to. The
// fragment (#p-12) stays behind, as a browser keeps it to itself.
func attFollow(t testing.TB, cl *apptest.Client, rec *httptest.ResponseRecorder) *httptest.ResponseRecorder {
	t.Helper()
	apptest.Want(t, rec, http.StatusSeeOther)
	loc, _, _ := strings.Cut(rec.Header().Get("Location"), "#")
	return cl.Get(loc)
}

// attendee is one registration of an event with its attendance.
func attendee(t testing.TB, a *app.App, eventID, regID int64) registration.Attendee {
	t.Helper()
	all, err := registration.FindAttendees(context.Background(), a.DB.Read(), eventID)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range all {
		if x.ID == regID {
			return x
		}
	}
	t.Fatalf("no registration %d in event %d", regID, eventID)
	return registration.Attendee{}
}

// outboxRow is a queued email as the tests look at it.
type outboxRow struct {
	Kind, To, ReplyTo, Subject, Text, HTML, Method string
}

// outbox lists the queued emails of a kind ("" for all), oldest first.
func outbox(t testing.TB, a *app.App, kind string) []outboxRow {
	t.Helper()
	rows, err := a.DB.Read().Query(`SELECT kind, to_address, reply_to, subject, text_body, html_body, calendar_method
		FROM outbox WHERE ? = '' OR kind = ? ORDER BY id`, kind, kind)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		if err := rows.Scan(&r.Kind, &r.To, &r.ReplyTo, &r.Subject, &r.Text, &r.HTML, &r.Method); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// auditRow is one line of the audit log.
type auditRow struct {
	UserID     int64
	Action     string
	ObjectType string
	ObjectID   int64
	Detail     string
}

func auditLog(t testing.TB, a *app.App, action string) []auditRow {
	t.Helper()
	rows, err := a.DB.Read().Query(`SELECT COALESCE(user_id, 0), action, object_type, COALESCE(object_id, 0), detail
		FROM audit_log WHERE ? = '' OR action = ? ORDER BY id`, action, action)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.UserID, &r.Action, &r.ObjectType, &r.ObjectID, &r.Detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

var manageLinkRE = regexp.MustCompile(`/r/([A-Za-z0-9_-]{43})`)

// signUpAs signs a person up through the public form and returns the
// registration and its manage token.
func signUpAs(t testing.TB, a *app.App, ev events.Event, name, email string, kv ...string) (registration.Registration, string) {
	t.Helper()
	rec, _ := signUp(t, a, ev.Slug, with(validForm(name, email), kv...))
	token := tokenOf(t, rec)
	return byEmail(t, a, ev.ID, email), token
}
