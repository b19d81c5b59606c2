package registration_test

// Tests of the attendee list and the organiser's changes to registrations
// (registration/admin*.go) through the real router and a SQLite file:
// search and filters, moving between the waiting list and a place (with
// the explicit "over capacity"), adding by hand, removing with a reason,
// and that nobody outside the organisation sees or changes anything.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/registration"
)

// TestFilterAttendees is the pure search and filter: case-insensitive
// with æ, ø and å (also typed decomposed), every word must match, and the
// status filters.
func TestFilterAttendees(t *testing.T) {
	mk := func(id int64, status, name, org, email string, checkedIn bool) registration.Attendee {
		a := registration.Attendee{Registration: registration.Registration{ID: id, Status: status,
			Details: registration.Details{Name: name, Organisation: org, Email: email}}}
		if checkedIn {
			a.CheckedInAt = time.Date(2026, 3, 5, 8, 0, 0, 0, time.UTC)
		}
		return a
	}
	all := []registration.Attendee{
		mk(1, "confirmed", "Åse Ødegård", "Statens vegvesen", "ase.odegard@vegvesen.example.no", true),
		mk(2, "confirmed", "Bjørn Ærlig", "NAV Vestland", "bjorn@nav.example.no", false),
		mk(3, "waiting", "Kari Vik", "Bergen kommune", "kari.vik@bergen.kommune.example.no", false),
		mk(4, "cancelled", "Kari Marie Vik", "Skatteetaten", "kmv@skatteetaten.example.no", true),
	}
	ids := func(as []registration.Attendee) string {
		var s []string
		for _, a := range as {
			s = append(s, strconv.FormatInt(a.ID, 10))
		}
		return strings.Join(s, ",")
	}
	for _, c := range []struct {
		name, q, status, want string
	}{
		{"everyone", "", "", "1,2,3,4"},
		{"lower case finds upper case æøå", "ødegård", "", "1"},
		{"upper case finds lower case", "ÆRLIG", "", "2"},
		{"decomposed å finds composed", "A\u030Ase", "", "1"},
		{"organisation", "vegvesen", "", "1"},
		{"email", "nav.example", "", "2"},
		{"every word", "kari vik", "", "3,4"},
		{"words in any field", "vik skatteetaten", "", "4"},
		{"no match", "oslo", "", ""},
		{"confirmed", "", "confirmed", "1,2"},
		{"waiting", "", "waiting", "3"},
		{"cancelled", "", "cancelled", "4"},
		{"attended leaves out the cancelled", "", "attended", "1"},
		{"confirmed not checked in", "", "not_checked_in", "2"},
		{"search and filter", "kari", "waiting", "3"},
		{"unknown filter filters nothing", "", "everything", "1,2,3,4"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ids(registration.FilterAttendees(all, c.q, c.status)); got != c.want {
				t.Errorf("FilterAttendees(%q, %q) = %s, want %s", c.q, c.status, got, c.want)
			}
		})
	}
	counts := registration.CountAttendees(all)
	if counts != (registration.AttendeeCounts{Confirmed: 2, Waiting: 1, Cancelled: 1, Attended: 1}) {
		t.Errorf("counts %+v", counts)
	}
}

func TestAttendeeListSearchFilterAndNeeds(t *testing.T) {
	w := attSetup(t, capacity(3))
	a := w.a
	signUpAs(t, a, w.ev, "Åse Ødegård", "ase@vegvesen.example.no", "dietary", "Glutenfri", "topics", "Tillit i ledergruppen")
	signUpAs(t, a, w.ev, "Bjørn Ærlig", "bjorn@nav.example.no", "organisation", "NAV Vestland", "dietary", "", "accessibility", "Rullestol", "topics", "")
	signUpAs(t, a, w.ev, "Ola Nordmann", "ola@uib.example.no", "organisation", "Universitetet i Bergen", "dietary", "", "topics", "")
	signUpAs(t, a, w.ev, "Kari Vik", "kari@bergen.example.no", "organisation", "Bergen kommune", "sector", "municipal", "dietary", "Vegetar", "topics", "")
	cancelled, _ := signUpAs(t, a, w.ev, "Per Hansen", "per@skatt.example.no", "organisation", "Skatteetaten", "dietary", "Nøtter", "topics", "")
	if _, _, err := a.Registrations.Cancel(context.Background(), cancelled.ID); err != nil {
		t.Fatal(err)
	}

	cl := w.login(t, "organiser")
	rec := cl.Get(attPath(w.ev, "/attendees"))
	apptest.Want(t, rec, http.StatusOK)
	apptest.Says(t, rec, "Åse Ødegård", "Bjørn Ærlig", "Ola Nordmann", "Kari Vik", "Per Hansen",
		"3 bekreftet av 3 plasser", "1 på venteliste", "1 avmeldt", "0 sjekket inn",
		"Viser 5 av 5",
		// the needs of the live registrations, not of the cancelled
		"2 med allergier eller matbehov", "Åse Ødegård (Statens vegvesen): Glutenfri", "Kari Vik (Bergen kommune): Vegetar",
		"1 med behov for tilrettelegging", "Rullestol", "1 forslag til tema", "Tillit i ledergruppen",
		"nr. 1", "Gi plass", "Flytt til venteliste", "ingen andre får den automatisk")
	apptest.DoesNotSay(t, rec, "Nøtter")

	for _, c := range []struct {
		query string
		want  []string
		not   []string
	}{
		{"q=%C3%B8deg%C3%A5rd", []string{"Åse Ødegård", "Viser 1 av 5"}, []string{"Bjørn Ærlig"}},  // ødegård
		{"q=%C3%86RLIG", []string{"Bjørn Ærlig", "Viser 1 av 5"}, []string{"Åse Ødegård"}},         // ÆRLIG
		{"q=universitetet", []string{"Ola Nordmann"}, []string{"Kari Vik"}},                        // organisation
		{"q=bergen.example", []string{"Kari Vik"}, []string{"Ola Nordmann"}},                       // email
		{"status=waiting", []string{"Kari Vik", "nr. 1", "Viser 1 av 5"}, []string{"Åse Ødegård"}}, // waiting list
		{"status=cancelled", []string{"Per Hansen", "Viser 1 av 5"}, []string{"Kari Vik"}},         // cancelled
		{"q=zzz", []string{"Ingen passer til søket", "Viser 0 av 5"}, nil},                         // nothing
	} {
		t.Run(c.query, func(t *testing.T) {
			rec := cl.Get(attPath(w.ev, "/attendees?"+c.query))
			apptest.Want(t, rec, http.StatusOK)
			apptest.Says(t, rec, c.want...)
			text := apptest.Text(rec.Body.Bytes())
			// the names in the needs block are not part of the search
			list := text[strings.Index(text, "Påmeldte"):]
			for _, s := range c.not {
				if strings.Contains(list, s) {
					t.Errorf("the list shows %q", s)
				}
			}
		})
	}

	// the check-in volunteer and the admin
	apptest.Want(t, w.login(t, "checkin").Get(attPath(w.ev, "/attendees")), http.StatusForbidden)
	apptest.Want(t, w.login(t, "admin").Get(attPath(w.ev, "/attendees")), http.StatusOK)
}

func TestMoveBetweenWaitingListAndPlace(t *testing.T) {
	w := attSetup(t, capacity(2))
	a := w.a
	anna, _ := signUpAs(t, a, w.ev, "Anna Berg", "anna@example.no")
	signUpAs(t, a, w.ev, "Bo Lie", "bo@example.no")
	cato, _ := signUpAs(t, a, w.ev, "Cato Dahl", "cato@example.no")
	if !cato.Waiting() {
		t.Fatalf("Cato is %s, want waiting", cato.Status)
	}
	cl := w.login(t, "organiser")
	move := func(reg registration.Registration, kv ...string) *httpRecorder {
		form := url.Values{"q": {"dahl"}, "status": {""}}
		for i := 0; i+1 < len(kv); i += 2 {
			form.Set(kv[i], kv[i+1])
		}
		return cl.PostForm(attPath(w.ev, fmt.Sprintf("/attendees/%d/move", reg.ID)), form)
	}
	before := len(outbox(t, a, ""))

	t.Run("confirming beyond the capacity asks first", func(t *testing.T) {
		rec := move(cato, "to", "confirmed")
		apptest.Want(t, rec, http.StatusOK)
		apptest.Says(t, rec, "Alle plassene er tatt", "2 av 2 plasser er allerede bekreftet", "Cato Dahl", "Gi plass utover kapasiteten")
		if got := attendee(t, a, w.ev.ID, cato.ID); !got.Waiting() {
			t.Fatalf("Cato is %s before the confirmation", got.Status)
		}
		if n := len(outbox(t, a, "")); n != before {
			t.Fatalf("%d emails queued before the confirmation", n-before)
		}
	})

	t.Run("with over capacity the person gets the place and an email", func(t *testing.T) {
		rec := move(cato, "to", "confirmed", "over_capacity", "1")
		apptest.Want(t, rec, http.StatusSeeOther)
		if loc := rec.Header().Get("Location"); loc != attPath(w.ev, "/attendees?q=dahl") {
			t.Errorf("redirect to %q, want the list with the search kept", loc)
		}
		if got := attendee(t, a, w.ev.ID, cato.ID); !got.Confirmed() {
			t.Fatalf("Cato is %s", got.Status)
		}
		if c, wt := counts(t, a, w.ev.ID); c != 3 || wt != 0 {
			t.Fatalf("confirmed %d, waiting %d; want 3 over 2 seats, 0", c, wt)
		}
		mails := outbox(t, a, "registration_promoted")
		if len(mails) != 1 || mails[0].To != "cato@example.no" || mails[0].Method != "REQUEST" {
			t.Fatalf("promotion emails: %+v", mails)
		}
		log := auditLog(t, a, registration.ActionMove)
		if len(log) != 1 || log[0].ObjectID != cato.ID || log[0].Detail != "waiting→confirmed, over capacity" || log[0].UserID != w.users["organiser"].ID {
			t.Fatalf("audit: %+v", log)
		}
		page := cl.Get(attPath(w.ev, "/attendees"))
		apptest.Says(t, page, "3 bekreftet av 2 plasser", "flere enn kapasiteten")
	})

	t.Run("moving a confirmed person to the waiting list promotes nobody", func(t *testing.T) {
		rec := move(anna, "to", "waiting")
		page := attFollow(t, cl, rec)
		apptest.Says(t, page, "Plassen står ledig: ingen andre har fått den")
		got := attendee(t, a, w.ev.ID, anna.ID)
		if !got.Waiting() || got.Position != 1 {
			t.Fatalf("Anna is %s at %d", got.Status, got.Position)
		}
		if c, wt := counts(t, a, w.ev.ID); c != 2 || wt != 1 {
			t.Fatalf("confirmed %d, waiting %d; want 2, 1", c, wt)
		}
		mails := outbox(t, a, "registration_waiting") // Cato's from the sign-up, and Anna's
		if len(mails) != 2 || mails[1].To != "anna@example.no" || !strings.Contains(mails[1].Text, "nummer 1") {
			t.Fatalf("waiting emails: %+v", mails)
		}
		if n := len(outbox(t, a, "registration_promoted")); n != 1 {
			t.Fatalf("%d promotion emails, want still 1", n)
		}
	})

	t.Run("and back, now that every seat is taken again", func(t *testing.T) {
		apptest.Want(t, move(anna, "to", "confirmed"), http.StatusOK) // asks
		apptest.Want(t, move(anna, "to", "confirmed", "over_capacity", "1"), http.StatusSeeOther)
		if got := attendee(t, a, w.ev.ID, anna.ID); !got.Confirmed() {
			t.Fatalf("Anna is %s", got.Status)
		}
	})

	t.Run("a move from the wrong status is refused", func(t *testing.T) {
		apptest.Want(t, move(anna, "to", "confirmed", "over_capacity", "1"), http.StatusConflict)
		apptest.Want(t, move(anna, "to", "elsewhere"), http.StatusUnprocessableEntity)
	})
}

func TestAddByHandAfterTheDeadline(t *testing.T) {
	w := attSetup(t, func(e *events.Event) {
		e.Capacity = 1
		e.InvitationOnly, e.InviteCode = true, "HEMMELIG"
		e.RegistrationClosesAt = e.StartsAt.Add(-9 * 24 * time.Hour) // closed a day ago
		e.RegistrationOpensAt = e.StartsAt.Add(-30 * 24 * time.Hour)
	})
	a := w.a
	if rec, _ := signUp(t, a, w.ev.Slug, validForm("Kari Nett", "kari@example.no")); rec.Code == http.StatusSeeOther {
		t.Fatal("the public form took a sign-up after the deadline")
	}
	cl := w.login(t, "organiser")
	rec := cl.Get(attPath(w.ev, "/attendees/new"))
	apptest.Want(t, rec, http.StatusOK)
	apptest.Says(t, rec, "Legg til deltaker", "Fullt navn", "E-postadresse", "Ledernivå", "fristen og invitasjonskoden gjelder ikke")

	t.Run("a form with errors comes back with them", func(t *testing.T) {
		rec := cl.PostForm(attPath(w.ev, "/attendees"), with(validForm("", "ikke-en-adresse"), "lang", "nb"))
		apptest.Want(t, rec, http.StatusUnprocessableEntity)
		apptest.Says(t, rec, "Skriv inn navnet ditt.", "Skriv inn e-postadressen slik")
	})

	t.Run("a phone sign-up gets a place and the usual email", func(t *testing.T) {
		rec := cl.PostForm(attPath(w.ev, "/attendees"), with(validForm("Trude Telefon", "trude@example.no"), "lang", "en"))
		page := attFollow(t, cl, rec)
		apptest.Says(t, page, "Deltakeren er lagt til med bekreftet plass", "Trude Telefon")
		r := byEmail(t, a, w.ev.ID, "trude@example.no")
		if !r.Confirmed() || r.Lang != "en" || r.Organisation != "Statens vegvesen" {
			t.Fatalf("registration: %+v", r)
		}
		mails := outbox(t, a, "registration_confirmed")
		if len(mails) != 1 || mails[0].To != "trude@example.no" || !manageLinkRE.MatchString(mails[0].Text) ||
			!strings.Contains(mails[0].Subject, "Registered") {
			t.Fatalf("confirmation emails: %+v", mails)
		}
		log := auditLog(t, a, registration.ActionAdd)
		if len(log) != 1 || log[0].ObjectID != r.ID || log[0].Detail != "confirmed" {
			t.Fatalf("audit: %+v", log)
		}
	})

	t.Run("the same address again is refused", func(t *testing.T) {
		rec := cl.PostForm(attPath(w.ev, "/attendees"), with(validForm("Trude T", "TRUDE@example.no"), "lang", "nb"))
		apptest.Want(t, rec, http.StatusUnprocessableEntity)
		apptest.Says(t, rec, "allerede påmeldt", "status: Bekreftet")
	})

	t.Run("when every seat is taken the person waits", func(t *testing.T) {
		rec := cl.PostForm(attPath(w.ev, "/attendees"), with(validForm("Vera Vente", "vera@example.no"), "lang", "nb"))
		apptest.Says(t, attFollow(t, cl, rec), "satt på ventelisten")
		if r := byEmail(t, a, w.ev.ID, "vera@example.no"); !r.Waiting() || r.Position != 1 {
			t.Fatalf("Vera: %s at %d", r.Status, r.Position)
		}
		if mails := outbox(t, a, "registration_waiting"); len(mails) != 1 || mails[0].To != "vera@example.no" {
			t.Fatalf("waiting emails: %+v", mails)
		}
	})

	t.Run("a draft takes nobody", func(t *testing.T) {
		draft := createEvent(t, a, func(e *events.Event) { e.Status = events.StatusDraft })
		apptest.Want(t, cl.Get(attPath(draft, "/attendees/new")), http.StatusConflict)
		apptest.Want(t, cl.PostForm(attPath(draft, "/attendees"), validForm("Dora Draft", "dora@example.no")), http.StatusConflict)
	})
}

func TestRemoveWithReasonPromotesTheFirstWaiting(t *testing.T) {
	w := attSetup(t, capacity(1))
	a := w.a
	anna, _ := signUpAs(t, a, w.ev, "Anna Berg", "anna@example.no")
	bo, _ := signUpAs(t, a, w.ev, "Bo Lie", "bo@example.no")
	cl := w.login(t, "organiser")
	path := attPath(w.ev, fmt.Sprintf("/attendees/%d/remove", anna.ID))

	rec := cl.Get(path)
	apptest.Want(t, rec, http.StatusOK)
	apptest.Says(t, rec, "Fjern påmeldingen til Anna Berg", "går med en gang til den første på ventelisten", "lagres ikke i endringsloggen")

	apptest.Want(t, cl.PostForm(path, url.Values{"reason": {"  "}}), http.StatusUnprocessableEntity)
	if got := attendee(t, a, w.ev.ID, anna.ID); !got.Confirmed() {
		t.Fatal("removed without a reason")
	}

	reason := "Møtet er bare for ledere i Vestland, og du jobber i Oslo.\nTa gjerne kontakt om spørsmål."
	page := attFollow(t, cl, cl.PostForm(path, url.Values{"reason": {reason}}))
	apptest.Says(t, page, "Den første på ventelisten har fått plassen")

	if got := attendee(t, a, w.ev.ID, anna.ID); !got.Cancelled() {
		t.Fatalf("Anna is %s", got.Status)
	}
	if got := attendee(t, a, w.ev.ID, bo.ID); !got.Confirmed() {
		t.Fatalf("Bo is %s, want promoted", got.Status)
	}
	removed := outbox(t, a, registration.EmailRemoved)
	if len(removed) != 1 {
		t.Fatalf("%d removal emails", len(removed))
	}
	m := removed[0]
	if m.To != "anna@example.no" || m.ReplyTo != w.ev.Organiser.ContactEmail || m.Method != "CANCEL" ||
		!strings.Contains(m.Text, reason) || !strings.Contains(m.Subject, w.ev.Title) {
		t.Fatalf("removal email: %+v", m)
	}
	if !strings.Contains(m.HTML, "Møtet er bare for ledere i Vestland, og du jobber i Oslo.<br>Ta gjerne") {
		t.Errorf("the HTML part does not carry the reason: %.2000s", m.HTML)
	}
	if p := outbox(t, a, "registration_promoted"); len(p) != 1 || p[0].To != "bo@example.no" {
		t.Fatalf("promotion emails: %+v", p)
	}
	log := auditLog(t, a, registration.ActionRemove)
	if len(log) != 1 || log[0].ObjectID != anna.ID || log[0].Detail != fmt.Sprintf("confirmed→cancelled; promoted %d", bo.ID) {
		t.Fatalf("audit: %+v", log)
	}
	for _, r := range auditLog(t, a, "") {
		if strings.Contains(r.Detail, "Vestland") || strings.Contains(r.Detail, "Anna") || strings.Contains(r.Detail, "anna@") {
			t.Errorf("the audit log holds personal data: %+v", r)
		}
	}

	// removing twice is refused, and nothing more is sent
	apptest.Want(t, cl.PostForm(path, url.Values{"reason": {reason}}), http.StatusConflict)
	if n := len(outbox(t, a, registration.EmailRemoved)); n != 1 {
		t.Fatalf("%d removal emails after a second try", n)
	}

	// the audit log page shows the actions translated
	audit := w.login(t, "admin").Get("/admin/audit")
	apptest.Says(t, audit, "Påmelding fjernet av arrangør")
}

// TestRemoveAfterSigningUpAgain: someone who cancelled, signed up again and
// is then removed by the organiser gets a CANCEL their calendar takes. Each
// calendar message to the address must outrank the one before (RFC 5546
// §2.1.5); a removal's CANCEL below the second sign-up's REQUEST would be
// ignored and leave the meeting in their calendar.
func TestRemoveAfterSigningUpAgain(t *testing.T) {
	w := attSetup(t, nil)
	a := w.a
	const anna = "anna@example.no"
	_, token := signUpAs(t, a, w.ev, "Anna Berg", anna)
	apptest.Want(t, apptest.NewClient(t, a.Router).PostForm("/r/"+token+"/cancel", url.Values{}), http.StatusSeeOther)
	signUpAs(t, a, w.ev, "Anna Berg", anna)
	var again int64
	if err := a.DB.Read().QueryRow(`SELECT id FROM registrations WHERE event_id = ? AND email_norm = ? AND status <> 'cancelled'`,
		w.ev.ID, anna).Scan(&again); err != nil {
		t.Fatal(err)
	}
	path := attPath(w.ev, fmt.Sprintf("/attendees/%d/remove", again))
	cl := w.login(t, "organiser")
	attFollow(t, cl, cl.PostForm(path, url.Values{"reason": {"Møtet er for ledere i Vestland."}}))

	rows, err := a.DB.Read().Query(`SELECT kind, calendar_method, calendar FROM outbox WHERE to_address = ? AND calendar <> '' ORDER BY id`, anna)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	last := -1
	for rows.Next() {
		var kind, method, cal string
		if err := rows.Scan(&kind, &method, &cal); err != nil {
			t.Fatal(err)
		}
		c, err := ical.NewDecoder(strings.NewReader(cal)).Decode()
		if err != nil || len(c.Events()) != 1 {
			t.Fatalf("%s: calendar %v", kind, err)
		}
		seq := ntSequence(t, c.Events()[0].Component)
		got = append(got, fmt.Sprintf("%s %s %d", kind, method, seq))
		if seq <= last {
			t.Errorf("%s (%s) has SEQUENCE %d, the message before %d", kind, method, seq, last)
		}
		last = seq
	}
	if len(got) != 4 || !strings.HasPrefix(got[3], registration.EmailRemoved+" CANCEL") {
		t.Errorf("calendar messages to %s: %q; want two sign-ups, a cancellation and the removal", anna, got)
	}
}

// TestAnotherOrganisationSeesNothing tries every page and change of the
// attendee pages as an organiser of another organisation, with the DFØ
// event's id, ids that do not exist and a DFØ registration under their own
// event's id: always 403 (404 for a registration under an event they may
// manage), and nothing changes, nothing is sent, nothing is logged.
func TestAnotherOrganisationSeesNothing(t *testing.T) {
	w := attSetup(t, capacity(1))
	a := w.a
	anna, _ := signUpAs(t, a, w.ev, "Anna Hemmelig", "anna@example.no")
	bo, _ := signUpAs(t, a, w.ev, "Bo Skjult", "bo@example.no")
	code, err := a.Registrations.CheckinCode(context.Background(), anna.ID)
	if err != nil {
		t.Fatal(err)
	}
	mailsBefore := len(outbox(t, a, ""))
	cl := w.login(t, "other")
	reg := strconv.FormatInt(anna.ID, 10)
	form := url.Values{"to": {"waiting"}, "reason": {"Fordi"}, "group": {"confirmed"}, "subject": {"Hei"}, "body": {"Tekst"},
		"over_capacity": {"1"}}
	for k, v := range validForm("Inntrenger", "inn@example.no") {
		form[k] = v
	}
	for _, id := range []string{strconv.FormatInt(w.ev.ID, 10), "999999", "0", "-1", "abc"} {
		for _, c := range []struct{ method, path string }{
			{"GET", "/attendees"}, {"GET", "/attendees.csv"}, {"GET", "/attendees.csv?sep=comma"}, {"GET", "/attendees/new"},
			{"POST", "/attendees"}, {"POST", "/attendees/" + reg + "/move"}, {"GET", "/attendees/" + reg + "/remove"},
			{"POST", "/attendees/" + reg + "/remove"}, {"GET", "/checkin"}, {"GET", "/checkin?q=anna"}, {"POST", "/checkin/" + reg},
			{"POST", "/checkin/" + reg + "/undo"}, {"GET", "/message"}, {"POST", "/message/preview"}, {"POST", "/message"},
			{"GET", "/dashboard"},
		} {
			path := "/admin/events/" + id + c.path
			var rec *httpRecorder
			if c.method == "GET" {
				rec = cl.Get(path)
			} else {
				rec = cl.PostForm(path, form)
			}
			if rec.Code != http.StatusForbidden {
				t.Errorf("%s %s: %d, want 403", c.method, path, rec.Code)
			}
			if strings.Contains(rec.Body.String(), "Hemmelig") || strings.Contains(rec.Body.String(), "anna@") {
				t.Errorf("%s %s shows the DFØ registration", c.method, path)
			}
		}
	}
	// a DFØ registration under their own event: not found, nothing done
	for _, c := range []struct{ method, path string }{
		{"POST", "/attendees/" + reg + "/move"}, {"GET", "/attendees/" + reg + "/remove"}, {"POST", "/attendees/" + reg + "/remove"},
		{"POST", "/checkin/" + reg}, {"POST", "/checkin/" + reg + "/undo"},
	} {
		path := attPath(w.other, c.path)
		var rec *httpRecorder
		if c.method == "GET" {
			rec = cl.Get(path)
		} else {
			rec = cl.PostForm(path, form)
		}
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", c.method, path, rec.Code)
		}
	}
	// the QR code's entry
	if rec := cl.Get("/admin/checkin/" + code); rec.Code != http.StatusForbidden || strings.Contains(rec.Body.String(), "Hemmelig") {
		t.Errorf("check-in by code: %d", rec.Code)
	}
	// the overview has only their own events
	rec := cl.Get("/admin/dashboard")
	apptest.Want(t, rec, http.StatusOK)
	apptest.DoesNotSay(t, rec, w.ev.Title)
	apptest.Says(t, rec, w.other.Title)

	if got := attendee(t, a, w.ev.ID, anna.ID); !got.Confirmed() || !got.CheckedInAt.IsZero() {
		t.Errorf("Anna changed: %s, checked in %v", got.Status, got.CheckedInAt)
	}
	if got := attendee(t, a, w.ev.ID, bo.ID); !got.Waiting() {
		t.Errorf("Bo changed: %s", got.Status)
	}
	if n := len(outbox(t, a, "")); n != mailsBefore {
		t.Errorf("%d emails were queued", n-mailsBefore)
	}
	for _, r := range auditLog(t, a, "") {
		if r.UserID == w.users["other"].ID {
			t.Errorf("the other organisation's user is in the audit log: %+v", r)
		}
	}
	if rs := regs(t, a, w.ev.ID); len(rs) != 2 {
		t.Errorf("%d registrations, want 2", len(rs))
	}
}

// TestPagesSayEverythingInBothLanguages opens every page of this file set
// in bokmål and in English and looks for catalogue keys shown as such (a
// key missing in a language shows as itself).
func TestPagesSayEverythingInBothLanguages(t *testing.T) {
	w := attSetup(t, capacity(1))
	a := w.a
	anna, _ := signUpAs(t, a, w.ev, "Anna Berg", "anna@example.no", "dietary", "Vegetar", "accessibility", "Teleslynge")
	bo, _ := signUpAs(t, a, w.ev, "Bo Lie", "bo@example.no")
	code, err := a.Registrations.CheckinCode(t.Context(), anna.ID)
	if err != nil {
		t.Fatal(err)
	}
	key := regexp.MustCompile(`\b(attendees|checkin|dashboard|message|email|error|flash|registration|audit|admin)\.[a-z_]+(\.[a-z_.]+)?\b`)
	for _, lang := range []string{"nb", "en"} {
		cl := w.login(t, "admin")
		cl.Get("/?lang=" + lang)
		for _, p := range []string{
			attPath(w.ev, "/attendees"), attPath(w.ev, "/attendees?status=not_checked_in&q=anna"), attPath(w.ev, "/attendees/new"),
			attPath(w.ev, fmt.Sprintf("/attendees/%d/remove", anna.ID)), attPath(w.ev, "/checkin"), "/admin/checkin/" + code,
			attPath(w.ev, "/message"), attPath(w.ev, "/dashboard"), "/admin/dashboard", attPath(w.ev, ""), "/admin",
		} {
			rec := cl.Get(p)
			apptest.Want(t, rec, http.StatusOK)
			if m := key.FindString(apptest.Text(rec.Body.Bytes())); m != "" {
				t.Errorf("%s in %s shows the key %q", p, lang, m)
			}
		}
		for _, c := range []struct {
			path string
			form url.Values
			want int
		}{
			{attPath(w.ev, fmt.Sprintf("/attendees/%d/move", bo.ID)), url.Values{"to": {"confirmed"}}, http.StatusOK},
			{attPath(w.ev, "/message/preview"), url.Values{"group": {"confirmed"}, "subject": {"Hei"}, "body": {"Tekst"}}, http.StatusOK},
			{attPath(w.ev, "/message/preview"), url.Values{"group": {"waiting"}, "subject": {""}, "body": {strings.Repeat("x", 10001)}}, http.StatusUnprocessableEntity},
			{attPath(w.ev, fmt.Sprintf("/attendees/%d/remove", anna.ID)), url.Values{"reason": {strings.Repeat("x", 1001)}}, http.StatusUnprocessableEntity},
			{attPath(w.ev, "/attendees"), url.Values{"name": {""}}, http.StatusUnprocessableEntity},
		} {
			rec := cl.PostForm(c.path, c.form)
			apptest.Want(t, rec, c.want)
			if m := key.FindString(apptest.Text(rec.Body.Bytes())); m != "" {
				t.Errorf("POST %s in %s shows the key %q", c.path, lang, m)
			}
		}
		// the CSV's headings and values
		csvRec := cl.Get(attPath(w.ev, "/attendees.csv"))
		if m := key.FindString(csvRec.Body.String()); m != "" {
			t.Errorf("the CSV in %s shows the key %q", lang, m)
		}
		// the emails
		for _, m := range outbox(t, a, "") {
			if k := key.FindString(m.Subject + m.Text); k != "" {
				t.Errorf("email %s shows the key %q", m.Kind, k)
			}
		}
	}
	rec := w.login(t, "admin").Get("/admin/audit?lang=en")
	apptest.Says(t, rec, "Participant list downloaded as CSV")
	if m := key.FindString(apptest.Text(rec.Body.Bytes())); m != "" {
		t.Errorf("the audit log shows the key %q", m)
	}
}
