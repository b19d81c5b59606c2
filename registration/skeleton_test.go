package registration_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/registration"
)

// TestSignUpEmailsFollowTheEvent: sign-up emails are copied from a
// skeleton made once per event version; after the organiser changes the
// event, the next email must show the change.
func TestSignUpEmailsFollowTheEvent(t *testing.T) {
	a := newApp(t)
	ev := createEvent(t, a, capacity(5))
	register(t, a, ev.ID, "kari@example.no")
	if _, err := a.DB.Write().Exec(`UPDATE events SET title = 'Nytt navn', updated_at = ? WHERE id = ?`,
		time.Now().UTC().Add(time.Hour), ev.ID); err != nil {
		t.Fatal(err)
	}
	register(t, a, ev.ID, "ola@example.no")
	for email, want := range map[string]string{"kari@example.no": "«" + ev.Title + "»", "ola@example.no": "«Nytt navn»"} {
		var text string
		if err := a.DB.Read().QueryRow(`SELECT text_body FROM outbox WHERE to_address_norm = ?`, email).Scan(&text); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "Du har fått plass på "+want) {
			t.Errorf("%s got:\n%s\nwant it to name %s", email, text, want)
		}
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
	emails := ntMailer(t, a).Emails // rendering as the app's Mail renders
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
		// the email's own link (the browser got another, see Scope)
		mailed := mailedToken(t, a, email, ev.Slug)
		if mailed == res.Token {
			t.Fatal("the email carries the browser's link")
		}
		data := registration.MessageData{
			Name: name, Event: full, Position: res.Registration.Position,
			ManageURL: a.Config.BaseURL + "/r/" + mailed, EventURL: a.Config.BaseURL + "/events/" + ev.Slug,
		}
		if res.Registration.Confirmed() {
			if err := a.DB.Read().QueryRow(`SELECT checkin_code FROM registrations WHERE id = ?`, res.Registration.ID).
				Scan(&data.CheckinCode); err != nil {
				t.Fatal(err)
			}
		}
		want, err := emails.Render(template, lang, a.Config.BaseURL, data)
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
