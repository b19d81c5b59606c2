package privacy_test

// The world the tests build on: the real app (apptest: the real router, a
// SQLite file in t.TempDir()), events, and sign-ups filled in as a person
// would.

import (
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/registration"
)

func newApp(t testing.TB, configure ...func(c *app.Config)) *app.App {
	t.Helper()
	opt := apptest.Options{}
	if len(configure) > 0 {
		opt.Config = configure[0]
	}
	return apptest.New(t, opt)
}

func createEvent(t testing.TB, a *app.App, change func(e *events.Event)) events.Event {
	t.Helper()
	return apptest.CreateEvent(t, a, change)
}

func fixedClock(a *app.App, at time.Time) time.Time { return apptest.FixedClock(a, at) }

func validForm(name, email string) url.Values { return apptest.SignUpForm(name, email) }

func with(v url.Values, kv ...string) url.Values { return apptest.With(v, kv...) }

func signUp(t testing.TB, a *app.App, slug string, form url.Values) (*httptest.ResponseRecorder, *apptest.Client) {
	t.Helper()
	return apptest.SignUp(t, a, slug, form)
}

func tokenOf(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	return apptest.TokenOf(t, rec)
}

// mustSignUp signs up and returns the browser's link.
func mustSignUp(t testing.TB, a *app.App, slug, name, email string) string {
	t.Helper()
	rec, _ := signUp(t, a, slug, validForm(name, email))
	return tokenOf(t, rec)
}

// mustSignUpMailed signs up and returns the link of the confirmation
// email, which proves the address.
func mustSignUpMailed(t testing.TB, a *app.App, slug, name, email string) string {
	t.Helper()
	mustSignUp(t, a, slug, name, email)
	return apptest.MailedToken(t, a, email, slug)
}

func mailedToken(t testing.TB, a *app.App, address, slug string) string {
	t.Helper()
	return apptest.MailedToken(t, a, address, slug)
}

func regs(t testing.TB, a *app.App, eventID int64) []registration.Registration {
	t.Helper()
	return apptest.Registrations(t, a, eventID)
}

func byEmail(t testing.TB, a *app.App, eventID int64, email string) registration.Registration {
	t.Helper()
	return apptest.ByEmail(t, a, eventID, email)
}
