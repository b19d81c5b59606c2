package registration_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/registration"
	"github.com/moteplass/moteplass/templates"
)

// TestEmailsComposedAheadStayRight: a sign-up's email is composed before
// its transaction, from what the sign-up will most likely get (see
// registration.Draft). Here something happens between the two, the way it
// does in a rush, and the email queued must still be the right one.
func TestEmailsComposedAheadStayRight(t *testing.T) {
	cases := []struct {
		name     string
		seats    int
		before   []string                   // signed up first
		between  func(a *app.App, id int64) // after the draft, before the transaction
		wantKind string
		want     string // in the text and the HTML
	}{
		{"nothing happens in between", 1, nil, nil,
			"registration_confirmed", "Du har fått plass på «Testmøte"},
		{"the last seat goes to someone else", 1, nil, func(a *app.App, id int64) {
			register(t, a, id, "kari@example.no")
		}, "registration_waiting", "Du er nummer 1 på ventelisten."},
		{"a seat is freed", 1, []string{"per@example.no"}, func(a *app.App, id int64) {
			if _, err := a.Registrations.ChangeCapacity(context.Background(), id, 2); err != nil {
				t.Fatal(err)
			}
		}, "registration_confirmed", "Du har fått plass på «Testmøte"},
		{"the organiser renames the event", 5, nil, func(a *app.App, id int64) {
			if _, err := a.DB.Write().Exec(`UPDATE events SET title = 'Nytt navn', updated_at = ? WHERE id = ?`,
				time.Now().UTC().Add(time.Hour), id); err != nil {
				t.Fatal(err)
			}
		}, "registration_confirmed", "Du har fått plass på «Nytt navn»"},
		{"the place in line is filled in", 1, []string{"per@example.no", "paal@example.no"}, func(a *app.App, id int64) {
			register(t, a, id, "kari@example.no")
		}, "registration_waiting", "Du er nummer 3 på ventelisten."},
		{"the same person cancelled earlier", 2, []string{"ola@example.no"}, func(a *app.App, id int64) {
			// between the draft and the transaction: the invitation it
			// holds was made before this cancellation
			r := byEmail(t, a, id, "ola@example.no")
			if _, _, err := a.Registrations.Cancel(context.Background(), r.ID); err != nil {
				t.Fatal(err)
			}
		}, "registration_confirmed", "Du har fått plass på «Testmøte"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newApp(t)
			ev := createEvent(t, a, capacity(c.seats))
			for _, email := range c.before {
				register(t, a, ev.ID, email)
			}
			draft, drafted := a.Registrations.Draft, 0
			a.Registrations.Draft = func(ctx context.Context, q registration.RowQuerier, now time.Time, n registration.Notice) (*registration.Draft, error) {
				d, err := draft(ctx, q, now, n)
				if drafted++; drafted == 1 && c.between != nil {
					c.between(a, ev.ID)
				}
				return d, err
			}
			email := "ola@example.no"
			register(t, a, ev.ID, email)
			if drafted == 0 {
				t.Fatal("no email was composed ahead")
			}
			var kind, text, html, cal string
			err := a.DB.Read().QueryRow(`SELECT kind, text_body, html_body, calendar FROM outbox
				WHERE to_address_norm = ? ORDER BY id DESC LIMIT 1`, email).Scan(&kind, &text, &html, &cal)
			if err != nil {
				t.Fatal(err)
			}
			if kind != c.wantKind || !strings.Contains(text, c.want) || !strings.Contains(html, strings.ReplaceAll(c.want, "«", "&laquo;")) && !strings.Contains(html, c.want) {
				t.Errorf("%s email, want %s saying %q:\n%s", kind, c.wantKind, c.want, text)
			}
			if strings.Contains(text+html, "987654321") {
				t.Errorf("the position mark was left in:\n%s", text)
			}
			// an invitation outranks the CANCEL sent for the earlier registration
			if c.name == "the same person cancelled earlier" && !strings.Contains(cal, "SEQUENCE:2") {
				t.Errorf("invitation after a cancellation:\n%s", cal)
			}
		})
	}
}

// register signs email up for the event straight through the service,
// as the form does.
func register(t *testing.T, a *app.App, eventID int64, email string) registration.Result {
	t.Helper()
	res, err := a.Registrations.Register(context.Background(), eventID, registration.Input{Lang: "nb",
		Details: registration.Details{Name: "Åse Øvrebø", Email: email, Organisation: "NAV", Level: "middle", Sector: "state"}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestSkeletonEmailsMatchRendering: a sign-up's email is a copy of one
// rendered with marks for the name, the link and the place in line. For
// names that need escaping in HTML, in both languages, confirmed and
// waiting, the copy must be byte for byte what rendering the templates
// for the person gives.
func TestSkeletonEmailsMatchRendering(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	cat, err := web.LoadCatalogue(templates.FS, "locales")
	if err != nil {
		t.Fatal(err)
	}
	rnd, err := web.NewRenderer(templates.FS, cat, a.Config.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	emails, err := web.NewEmails(templates.FS, rnd)
	if err != nil {
		t.Fatal(err)
	}
	ev := createEvent(t, a, capacity(3))
	store := events.Store{DB: a.DB}
	names := []string{
		"Åse Øvrebø-Dæhlie", "Seán O'Brien", `Kari "Kiki" Nordmann`, "Ola & Kari <AS>", "A+B Consulting",
		"Ærlig Ås", "Jean-Luc d'Alembert", "Zoë Ñúñez", "<script>alert(1)</script>", "名前 テスト",
	}
	for i, name := range names {
		lang := []string{"nb", "en"}[i%2]
		email := fmt.Sprintf("person%d@example.no", i)
		res, err := a.Registrations.Register(ctx, ev.ID, registration.Input{Lang: lang, Details: registration.Details{
			Name: name, Email: email, Organisation: "NAV", Level: "middle", Sector: "state"}})
		if err != nil {
			t.Fatal(err)
		}
		full, err := store.FindEvent(ctx, events.EventFilter{ID: ev.ID})
		if err != nil {
			t.Fatal(err)
		}
		template := map[bool]string{true: "registration_confirmed", false: "registration_waiting"}[res.Registration.Confirmed()]
		want, err := emails.Render(template, lang, a.Config.BaseURL, registration.MessageData{
			Name: name, Event: full, Position: res.Registration.Position,
			ManageURL: a.Config.BaseURL + "/r/" + res.Token, EventURL: a.Config.BaseURL + "/events/" + ev.Slug,
		})
		if err != nil {
			t.Fatal(err)
		}
		var subject, text, html string
		if err := a.DB.Read().QueryRow(`SELECT subject, text_body, html_body FROM outbox WHERE to_address_norm = ?`, email).
			Scan(&subject, &text, &html); err != nil {
			t.Fatal(err)
		}
		if subject != want.Subject || text != want.Text || html != want.HTML {
			t.Errorf("%s (%s, %s): the copy differs from rendering\n--- copy:\n%s\n--- rendered:\n%s", name, lang, template, html, want.HTML)
		}
	}
}
