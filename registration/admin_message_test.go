package registration_test

// An organiser's message to a group: the preview shows the email and the
// count and sends nothing; the send queues one email per person in the
// chosen group only, each with its own working manage link and Reply-To the
// organiser; sending the same again sends nothing new.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/registration"
)

func TestMessagePreviewAndSend(t *testing.T) {
	w := attSetup(t, capacity(2))
	a := w.a
	anna, _ := signUpAs(t, a, w.ev, "Anna Berg", "anna@example.no")
	signUpAs(t, a, w.ev, "Bo Lie", "bo@example.no")
	signUpAs(t, a, w.ev, "Cato Dahl", "cato@example.no") // waiting
	if _, err := a.Registrations.SetCheckedIn(t.Context(), w.user("organiser"), w.ev.ID, anna.ID, true); err != nil {
		t.Fatal(err)
	}
	before := len(outbox(t, a, ""))
	cl := w.login(t, "organiser")
	base := attPath(w.ev, "/message")

	rec := cl.Get(base)
	apptest.Want(t, rec, http.StatusOK)
	apptest.Says(t, rec, "De som har bekreftet plass (2 personer)", "De som står på venteliste (1 person)", "De som ble sjekket inn (1 person)",
		"Svar går til "+w.ev.Organiser.ContactEmail)

	body := "Hei alle!\n\nHusk å ta med legitimasjon: https://dfo.no/praktisk\nVi ses på Bryggen."
	draft := url.Values{"group": {"confirmed"}, "subject": {"Praktisk informasjon før møtet"}, "body": {body}}

	t.Run("a draft with errors comes back with them", func(t *testing.T) {
		rec := cl.PostForm(base+"/preview", url.Values{"group": {"nobody"}, "subject": {""}, "body": {""}})
		apptest.Want(t, rec, http.StatusUnprocessableEntity)
		apptest.Says(t, rec, "Velg hvem som skal få meldingen.", "Skriv et emne.", "Skriv meldingen.")
		rec = cl.PostForm(base+"/preview", url.Values{"group": {"confirmed"}, "subject": {strings.Repeat("x", 151)}, "body": {"Hei"}})
		apptest.Want(t, rec, http.StatusUnprocessableEntity)
		apptest.Says(t, rec, "Emnet kan ha høyst 150 tegn.")
	})

	t.Run("the preview shows the email and the count, and sends nothing", func(t *testing.T) {
		rec := cl.PostForm(base+"/preview", draft)
		apptest.Want(t, rec, http.StatusOK)
		apptest.Says(t, rec, "Meldingen sendes til 2 personer", "Anna Berg", "Praktisk informasjon før møtet",
			"Husk å ta med legitimasjon", "Hei Anna,", w.ev.Organiser.ContactEmail, "Send til 2 personer")
		if n := len(outbox(t, a, "")); n != before {
			t.Fatalf("the preview queued %d emails", n-before)
		}
		// back to change the text keeps it
		edit := url.Values{"edit": {"1"}}
		for k, v := range draft {
			edit[k] = v
		}
		rec = cl.PostForm(base+"/preview", edit)
		apptest.Want(t, rec, http.StatusOK)
		if !strings.Contains(rec.Body.String(), "Husk å ta med legitimasjon: https://dfo.no/praktisk") {
			t.Error("the form lost the text")
		}
	})

	t.Run("sending queues one email per confirmed person", func(t *testing.T) {
		page := attFollow(t, cl, cl.PostForm(base, draft))
		apptest.Says(t, page, "Meldingen er lagt i kø")
		mails := outbox(t, a, registration.EmailOrganiserMessage)
		if len(mails) != 2 {
			t.Fatalf("%d messages, want 2", len(mails))
		}
		to := map[string]bool{}
		for _, m := range mails {
			to[m.To] = true
			if m.Subject != "Praktisk informasjon før møtet" || m.ReplyTo != w.ev.Organiser.ContactEmail ||
				!strings.Contains(m.Text, "Husk å ta med legitimasjon: https://dfo.no/praktisk") ||
				!strings.Contains(m.HTML, `<a href="https://dfo.no/praktisk" rel="noopener">`) {
				t.Errorf("message: %+v", m)
			}
			link := manageLinkRE.FindStringSubmatch(m.Text)
			if link == nil {
				t.Fatalf("no manage link in %q", m.Text)
			}
			page := apptest.NewClient(t, a.Router).Get("/r/" + link[1])
			apptest.Want(t, page, http.StatusOK)
			if !strings.Contains(apptest.Text(page.Body.Bytes()), m.To) && !strings.Contains(page.Body.String(), m.To) {
				t.Errorf("the link in %s's message opens someone else's page", m.To)
			}
		}
		if !to["anna@example.no"] || !to["bo@example.no"] || to["cato@example.no"] {
			t.Fatalf("sent to %v, want Anna and Bo only", to)
		}
		log := auditLog(t, a, registration.ActionMessageSend)
		if len(log) != 1 || log[0].Detail != "group confirmed, 2 queued" || log[0].ObjectID != w.ev.ID {
			t.Fatalf("audit: %+v", log)
		}
	})

	t.Run("the same message again sends nothing new", func(t *testing.T) {
		apptest.Says(t, attFollow(t, cl, cl.PostForm(base, draft)), "var allerede sendt")
		if n := len(outbox(t, a, registration.EmailOrganiserMessage)); n != 2 {
			t.Fatalf("%d messages after sending twice", n)
		}
	})

	t.Run("the other groups", func(t *testing.T) {
		for group, want := range map[string]string{"waiting": "cato@example.no", "attended": "anna@example.no"} {
			n := len(outbox(t, a, registration.EmailOrganiserMessage))
			apptest.Want(t, cl.PostForm(base, url.Values{"group": {group}, "subject": {"Til " + group}, "body": {"Tekst"}}), http.StatusSeeOther)
			mails := outbox(t, a, registration.EmailOrganiserMessage)[n:]
			if len(mails) != 1 || mails[0].To != want {
				t.Errorf("%s: %+v", group, mails)
			}
		}
	})
}
