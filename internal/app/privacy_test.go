package app_test

// Data rights as the application wires them: the manage page links to the
// download and the erasure, organisers erase on request under the rules of
// who may, the audit log counts without naming, and the retention job runs
// at start-up. Helpers shared by this package's privacy, headers, logscan,
// backup and metrics tests are here, prefixed priv.

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/demo"
	"github.com/moteplass/moteplass/organisers"
)

var privSeq atomic.Int64

// privEvent creates a published event of organiser orgSlug (created if
// missing) starting in startsIn, for three hours.
func privEvent(t testing.TB, a *app.App, orgSlug string, startsIn time.Duration, capacity int) events.Event {
	t.Helper()
	ctx := context.Background()
	var ev events.Event
	err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := tx.QueryRowContext(ctx, `SELECT id FROM regions WHERE slug = 'bergen'`).Scan(&ev.Region.ID); err != nil {
			r := events.Region{Slug: "bergen", Name: "Bergen"}
			if err := events.CreateRegion(ctx, tx, &r, 1); err != nil {
				return err
			}
			ev.Region = r
		}
		if err := tx.QueryRowContext(ctx, `SELECT id, contact_email FROM organisers WHERE slug = ?`, orgSlug).
			Scan(&ev.Organiser.ID, &ev.Organiser.ContactEmail); err != nil {
			o := events.Organiser{Slug: orgSlug, Name: "Arrangør " + orgSlug, Kind: "public", ContactEmail: "post@" + orgSlug + ".example.no"}
			if err := events.CreateOrganiser(ctx, tx, &o); err != nil {
				return err
			}
			ev.Organiser = o
		}
		start := now.Add(startsIn).Truncate(time.Minute)
		n := privSeq.Add(1)
		ev.Slug, ev.Title = fmt.Sprintf("personvern-test-%d", n), fmt.Sprintf("Personverntest %d", n)
		ev.Format, ev.Mode, ev.Sector, ev.Facilitation, ev.Theme, ev.Language, ev.Status =
			"meeting_place", "physical", "public", "facilitated", "leadership", "nb", "published"
		ev.StartsAt, ev.EndsAt, ev.Capacity = start, start.Add(3*time.Hour), capacity
		return events.CreateEvent(ctx, tx, now, &ev)
	})
	if err != nil {
		t.Fatalf("create event: %v", err)
	}
	return ev
}

// privForm is a complete sign-up.
func privForm(name, email string) url.Values {
	return url.Values{
		"name": {name}, "email": {email}, "organisation": {"Statens vegvesen"}, "role": {"Seksjonssjef"},
		"level": {"middle"}, "sector": {"state"}, "region": {"Bergen"}, "phone": {"912 34 567"},
		"dietary": {"Vegetar"}, "health_consent": {"1"}, "topics": {"Tillit i ledergruppen"}, "intro_consent": {"1"},
	}
}

// privSignUp signs up through the router from a fresh browser and returns
// the manage token of the confirmation email (the one that proves the
// address, and so opens the data rights).
func privSignUp(t testing.TB, a *app.App, slug string, form url.Values) string {
	t.Helper()
	c := apptest.NewClient(t, a.Router)
	c.Get("/events/" + slug)
	rec := c.PostForm("/events/"+slug+"/registrations", form)
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/r/") {
		t.Fatalf("sign-up for %s: %d %q: %.300s", slug, rec.Code, loc, apptest.Text(rec.Body.Bytes()))
	}
	return apptest.MailedToken(t, a, form.Get("email"), slug)
}

// privUser creates an account (cheap hashing) and returns a logged-in browser.
func privUser(t testing.TB, a *app.App, role string, organiserID int64, email string) *apptest.Client {
	t.Helper()
	a.Accounts.BcryptCost = 4
	ctx := context.Background()
	u := organisers.User{Email: email, Name: "Test " + role, Role: role, OrganiserID: organiserID}
	if err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		return a.Accounts.CreateUser(ctx, tx, now, &u, "et-langt-passord-1234")
	}); err != nil {
		t.Fatal(err)
	}
	return apptest.Login(t, a.Router, email, "et-langt-passord-1234")
}

func privCount(t testing.TB, a *app.App, query string, args ...any) int {
	t.Helper()
	var n int
	if err := a.DB.Read().QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestManagePageLinksToTheRights(t *testing.T) {
	a := apptest.New(t, apptest.Options{})
	ev := privEvent(t, a, "dfo", 10*24*time.Hour, 10)
	token := privSignUp(t, a, ev.Slug, privForm("Rita Rettighet", "rita.rett@example.no"))
	page := apptest.NewClient(t, a.Router).Get("/r/" + token)
	apptest.Want(t, page, http.StatusOK)
	body := page.Body.String()
	for _, want := range []string{`href="/r/` + token + `/export.json"`, `href="/r/` + token + `/delete"`, "Last ned dataene mine", "Slett dataene mine"} {
		if !strings.Contains(body, want) {
			t.Errorf("the manage page lacks %s", want)
		}
	}
	en := apptest.NewClient(t, a.Router).Get("/r/" + token + "?lang=en")
	if text := apptest.Text(en.Body.Bytes()); !strings.Contains(text, "Download my data") || !strings.Contains(text, "Delete my data") {
		t.Error("the English manage page lacks the links")
	}
	exp := apptest.NewClient(t, a.Router).Get("/r/" + token + "/export.json")
	apptest.Want(t, exp, http.StatusOK)
	for h, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"} {
		if got := exp.Header().Get(h); got != want {
			t.Errorf("export %s: %q, want %q", h, got, want)
		}
	}
}

func TestOrganiserErasesOnRequest(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	var dfo, other int64
	if err := a.DB.Read().QueryRow(`SELECT id FROM organisers WHERE slug = 'dfo'`).Scan(&dfo); err != nil {
		t.Fatal(err)
	}
	own := privEvent(t, a, "dfo", 10*24*time.Hour, 50)
	elsewhere := privEvent(t, a, "annen-arrangor", 12*24*time.Hour, 50)
	if err := a.DB.Read().QueryRow(`SELECT organiser_id FROM events WHERE id = ?`, elsewhere.ID).Scan(&other); err != nil || other == dfo {
		t.Fatalf("another organiser: %d (%v)", other, err)
	}
	const addr = "per.sletteonske@example.no"
	privSignUp(t, a, own.Slug, privForm("Per Sletteønske", addr))
	privSignUp(t, a, elsewhere.Slug, privForm("Per Sletteønske", addr))
	const onlyElsewhere = "kun.andre@example.no"
	privSignUp(t, a, elsewhere.Slug, privForm("Kun Andre", onlyElsewhere))

	t.Run("not logged in", func(t *testing.T) {
		cl := apptest.NewClient(t, a.Router)
		rec := cl.Get("/admin/erase")
		apptest.Want(t, rec, http.StatusSeeOther)
		if !strings.HasPrefix(rec.Header().Get("Location"), "/admin/login") {
			t.Errorf("redirect to %q", rec.Header().Get("Location"))
		}
		apptest.Want(t, cl.PostForm("/admin/erase", url.Values{"email": {addr}, "confirm": {"1"}}), http.StatusUnauthorized)
	})
	t.Run("check-in staff may not", func(t *testing.T) {
		cl := apptest.Login(t, a.Router, "innsjekk@dfo.example.no", demo.Password)
		apptest.Want(t, cl.Get("/admin/erase"), http.StatusForbidden)
		apptest.Want(t, cl.PostForm("/admin/erase", url.Values{"email": {addr}, "confirm": {"1"}}), http.StatusForbidden)
	})

	organiser := apptest.Login(t, a.Router, "arrangor@dfo.example.no", demo.Password)
	t.Run("the form and its checks", func(t *testing.T) {
		page := organiser.Get("/admin/erase")
		apptest.Want(t, page, http.StatusOK)
		if !apptest.Contains(page.Body, "Slett en persons data") {
			t.Error("no title")
		}
		rec := organiser.PostForm("/admin/erase", url.Values{"email": {addr}})
		apptest.Want(t, rec, http.StatusUnprocessableEntity)
		if !apptest.Contains(rec.Body, "Kryss av for at forespørselen kommer fra personen selv") {
			t.Error("no message for the missing confirmation")
		}
		apptest.Want(t, organiser.PostForm("/admin/erase", url.Values{"email": {"ikke en adresse"}, "confirm": {"1"}}), http.StatusUnprocessableEntity)
	})
	t.Run("someone only at another organiser's events is not found", func(t *testing.T) {
		gen := a.DB.Generation()
		rec := organiser.PostForm("/admin/erase", url.Values{"email": {onlyElsewhere}, "confirm": {"1"}})
		apptest.Want(t, rec, http.StatusNotFound)
		if !apptest.Contains(rec.Body, "Ingenting er slettet") {
			t.Error("no message")
		}
		if a.DB.Generation() != gen {
			t.Error("something was written")
		}
		unknown := organiser.PostForm("/admin/erase", url.Values{"email": {"finnes.ikke@example.no"}, "confirm": {"1"}})
		apptest.Want(t, unknown, http.StatusNotFound)
		if apptest.Text(unknown.Body.Bytes()) != strings.ReplaceAll(apptest.Text(rec.Body.Bytes()), onlyElsewhere, "finnes.ikke@example.no") {
			t.Error("an unknown address and another organiser's person get different answers")
		}
	})
	t.Run("the organiser erases only what is at their own events", func(t *testing.T) {
		rec := organiser.PostForm("/admin/erase", url.Values{"email": {" Per.Sletteonske@Example.no "}, "confirm": {"1"}})
		apptest.Want(t, rec, http.StatusSeeOther)
		if !apptest.Contains(organiser.Follow(rec).Body, "Dataene er slettet") {
			t.Error("no confirmation")
		}
		if n := privCount(t, a, `SELECT COUNT(*) FROM registrations WHERE event_id = ? AND anonymised_at IS NOT NULL AND name = 'Slettet'`, own.ID); n != 1 {
			t.Errorf("%d anonymised registrations at the organiser's event, want 1", n)
		}
		// the registration with another organisation is theirs, untouched
		var name, status string
		if err := a.DB.Read().QueryRow(`SELECT name, status FROM registrations WHERE event_id = ? AND email_norm = ?`, elsewhere.ID, addr).
			Scan(&name, &status); err != nil || name != "Per Sletteønske" || status != "confirmed" {
			t.Errorf("the registration with another organiser: %q %q (%v)", name, status, err)
		}
		var org sql.NullInt64
		var detail string
		if err := a.DB.Read().QueryRow(`SELECT organiser_id, detail FROM audit_log WHERE action = 'erasure'`).Scan(&org, &detail); err != nil {
			t.Fatal(err)
		}
		if org.Int64 != dfo || detail != "erasure of 1 registrations on the person's request" {
			t.Errorf("audit: organiser %v, %q", org, detail)
		}
		if n := privCount(t, a, `SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%sletteonske%' OR detail LIKE '%Sletteønske%'`); n != 0 {
			t.Error("the audit log names the person")
		}
		if n := privCount(t, a, `SELECT COUNT(*) FROM outbox WHERE to_address_norm = ? AND kind = 'data_erased'`, addr); n != 1 {
			t.Errorf("%d confirmations queued, want 1", n)
		}
		// the other organisation's mail to the person stays
		if n := privCount(t, a, `SELECT COUNT(*) FROM outbox WHERE to_address_norm = ? AND instr(text_body, ?) > 0`, addr, "/events/"+elsewhere.Slug); n == 0 {
			t.Error("the mail about the other organisation's event went too")
		}
		if n := privCount(t, a, `SELECT COUNT(*) FROM outbox WHERE to_address_norm = ? AND instr(text_body, ?) > 0`, addr, "/events/"+own.Slug); n != 0 {
			t.Errorf("%d emails about the organiser's own event are left", n)
		}
		audit := organiser.Get("/admin/audit")
		if !apptest.Contains(audit.Body, "Sletting av personopplysninger") {
			t.Error("the audit page does not show the erasure")
		}
	})
	t.Run("an admin's erasure is in every affected organisation's log", func(t *testing.T) {
		admin := apptest.Login(t, a.Router, "admin@moteplass.example.no", demo.Password)
		apptest.Want(t, admin.PostForm("/admin/erase", url.Values{"email": {addr}, "confirm": {"1"}}), http.StatusSeeOther)
		if n := privCount(t, a, `SELECT COUNT(*) FROM registrations WHERE name LIKE 'Per %' OR email_norm = ?`, addr); n != 0 {
			t.Errorf("%d registrations still hold the person", n)
		}
		if n := privCount(t, a, `SELECT COUNT(*) FROM audit_log WHERE action = 'erasure' AND organiser_id = ?`, other); n != 1 {
			t.Errorf("the other organisation's log has %d erasures, want 1", n)
		}
	})
	t.Run("an admin erases anyone", func(t *testing.T) {
		admin := apptest.Login(t, a.Router, "admin@moteplass.example.no", demo.Password)
		apptest.Want(t, admin.PostForm("/admin/erase", url.Values{"email": {onlyElsewhere}, "confirm": {"1"}}), http.StatusSeeOther)
		if n := privCount(t, a, `SELECT COUNT(*) FROM registrations WHERE email_norm = ?`, onlyElsewhere); n != 0 {
			t.Errorf("%d registrations left", n)
		}
	})
}

// TestRetentionJobRunsAtStartUp starts the real program: the retention job
// runs at once, so an event past the limit is anonymised within moments.
func TestRetentionJobRunsAtStartUp(t *testing.T) {
	a := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.RetentionDays = 30 }})
	ev := privEvent(t, a, "dfo", 10*24*time.Hour, 10)
	privSignUp(t, a, ev.Slug, privForm("Gunnar Gammeldata", "gunnar.gammel@example.no"))
	a.DB.Now = func() time.Time { return ev.EndsAt.Add(31 * 24 * time.Hour) }
	apptest.Serve(t, a)
	deadline := time.Now().Add(10 * time.Second)
	for privCount(t, a, `SELECT COUNT(*) FROM registrations WHERE event_id = ? AND anonymised_at IS NOT NULL`, ev.ID) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the retention job did not anonymise the event at start-up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := privCount(t, a, `SELECT COUNT(*) FROM registrations WHERE name = 'Gunnar Gammeldata'`); n != 0 {
		t.Error("the name is still there")
	}
}
