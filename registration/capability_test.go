package registration_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/privacy"
	"github.com/moteplass/moteplass/registration"
)

// The person whose address a stranger knows, and what only she stored.
const (
	capVictim      = "vera.victim@example.no"
	capVictimPhone = "+47 987 65 432"
	capVictimDiet  = "Cøliaki (strengt glutenfri)"
	capMeetingURL  = "https://meet.example.no/hemmelig-rom-7"
)

// TestAnAddressAloneOpensNothing is the attack of the trust issue: a
// stranger who knows only someone's email address signs that address up
// for an open event from their own browser. The page they land on shows
// the one registration they just made and nothing else: not the person's
// other registrations, phone, needs or meeting links, not their calendar
// feed, no download and no erasure. The link in the person's own email
// opens all of it.
func TestAnAddressAloneOpensNothing(t *testing.T) {
	a := newApp(t)
	own := createEvent(t, a, nil)
	online := createEvent(t, a, func(e *events.Event) {
		e.Mode, e.Format, e.OnlineURL = "digital", "digital_meeting", capMeetingURL
	})
	open := createEvent(t, a, nil)

	// Vera signs up herself, twice, with her phone and a health need.
	for _, ev := range []events.Event{own, online} {
		rec, _ := signUp(t, a, ev.Slug, with(validForm("Vera Victim", capVictim), "phone", capVictimPhone, "dietary", capVictimDiet))
		tokenOf(t, rec)
	}
	veraLink := mailedToken(t, a, capVictim, own.Slug)

	// The stranger signs Vera's address up for a third event.
	rec, stranger := signUp(t, a, open.Slug, with(validForm("Vera Victim", capVictim), "phone", "", "dietary", ""))
	page := tokenOf(t, rec)
	if page == mailedToken(t, a, capVictim, open.Slug) {
		t.Fatal("the browser got the link that was emailed")
	}
	secrets := []string{capVictimPhone, capVictimDiet, capMeetingURL, own.Title, online.Title, "/feeds/"}

	t.Run("the page shows the new registration only", func(t *testing.T) {
		rec := stranger.Get("/r/" + page)
		apptest.Want(t, rec, http.StatusOK)
		apptest.Says(t, rec, open.Title, "Du har plass.")
		for _, s := range secrets {
			if strings.Contains(rec.Body.String(), s) {
				t.Errorf("the page after sign-up shows %q", s)
			}
		}
		apptest.Says(t, rec, "Bruk lenken i e-posten vi sendte deg")
	})
	t.Run("no download, no erasure, no feed reset", func(t *testing.T) {
		gen := a.DB.Generation()
		for _, rec := range []struct {
			what string
			got  int
			body string
		}{
			{"download", stranger.Get("/r/" + page + "/export.json").Code, ""},
			{"erasure page", stranger.Get("/r/" + page + "/delete").Code, ""},
			{"erasure", stranger.PostForm("/r/"+page+"/delete", url.Values{}).Code, ""},
			{"feed reset", stranger.PostForm("/r/"+page+"/feed/reset", url.Values{}).Code, ""},
		} {
			if rec.got != http.StatusForbidden {
				t.Errorf("%s with the browser's link: status %d, want 403", rec.what, rec.got)
			}
		}
		body := stranger.Get("/r/" + page + "/export.json").Body.String()
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("the refused download shows %q", s)
			}
		}
		if a.DB.Generation() != gen {
			t.Error("a refused request wrote to the database")
		}
		for _, ev := range []events.Event{own, online} {
			if r := byEmail(t, a, ev.ID, capVictim); r.Name != "Vera Victim" || !r.Confirmed() || r.Phone != capVictimPhone {
				t.Errorf("Vera's registration at %s: %+v", ev.Title, r)
			}
		}
	})
	t.Run("the page can only ask for a link to be emailed to the address", func(t *testing.T) {
		before := len(outbox(t, a, "manage_link"))
		rec := stranger.PostForm("/r/"+page+"/email", url.Values{})
		apptest.Want(t, rec, http.StatusSeeOther)
		mails := outbox(t, a, "manage_link")
		// the confirmation went less than five minutes ago: nothing more
		if len(mails) != before {
			t.Errorf("%d links sent within the resend interval", len(mails)-before)
		}
		apptest.Says(t, stranger.Follow(rec), "Vi sendte deg en lenke for mindre enn fem minutter siden")
	})
	t.Run("a second sign-up with a known address reveals nothing", func(t *testing.T) {
		rec, _ := signUp(t, a, own.Slug, validForm("Hvem som helst", capVictim))
		apptest.Want(t, rec, http.StatusSeeOther)
		if loc := rec.Header().Get("Location"); strings.HasPrefix(loc, "/r/") {
			t.Errorf("a duplicate sign-up leads to %s", loc)
		}
		// (it says "check your email", as for anyone already registered)
		for _, s := range []string{capVictimPhone, capVictimDiet, capMeetingURL, online.Title, "/feeds/", "/r/"} {
			if strings.Contains(stranger.Follow(rec).Body.String(), s) {
				t.Errorf("the duplicate's page shows %q", s)
			}
		}
	})
	t.Run("the emailed link opens everything", func(t *testing.T) {
		vera := apptest.NewClient(t, a.Router)
		rec := vera.Get("/r/" + veraLink)
		apptest.Says(t, rec, "Last ned dataene mine", "Slett dataene mine")
		if !strings.Contains(rec.Body.String(), "/feeds/") {
			t.Error("Vera's own link shows no calendar feed")
		}
		ex := vera.Get("/r/" + veraLink + "/export.json")
		apptest.Want(t, ex, http.StatusOK)
		for _, s := range []string{capVictimPhone, capVictimDiet, own.Title, online.Title, open.Title} {
			if !strings.Contains(ex.Body.String(), s) {
				t.Errorf("Vera's download lacks %q", s)
			}
		}
	})
	t.Run("once Vera changes it from her email, the stranger's link is dead", func(t *testing.T) {
		veraOpen := mailedToken(t, a, capVictim, open.Slug)
		vera := apptest.NewClient(t, a.Router)
		vera.Get("/r/" + veraOpen)
		apptest.Want(t, vera.PostForm("/r/"+veraOpen, with(validForm("Vera Victim", capVictim), "dietary", capVictimDiet)), http.StatusSeeOther)
		rec := stranger.Get("/r/" + page)
		apptest.Want(t, rec, http.StatusNotFound)
		if strings.Contains(rec.Body.String(), capVictimDiet) {
			t.Error("the stranger reads what Vera stored")
		}
		apptest.Want(t, vera.Get("/r/"+veraOpen), http.StatusOK)
	})
}

// TestTheBrowsersLinkExpiresInADay: the page after a sign-up is reachable
// for a day; the link in the email for as long as before.
func TestTheBrowsersLinkExpiresInADay(t *testing.T) {
	a := newApp(t)
	ev := createEvent(t, a, nil)
	page := mustSignUp(t, a, ev.Slug, "Kari Nordmann", "kari@example.no")
	mailed := mailedToken(t, a, "kari@example.no", ev.Slug)
	c := apptest.NewClient(t, a.Router)
	now := a.DB.Now()
	fixedClock(a, now.Add(registration.PageTokenLifetime-time.Minute))
	apptest.Want(t, c.Get("/r/"+page), http.StatusOK)
	fixedClock(a, now.Add(registration.PageTokenLifetime+time.Minute))
	apptest.Want(t, c.Get("/r/"+page), http.StatusGone)
	apptest.Want(t, c.Get("/r/"+mailed), http.StatusOK)
}

// TestNeedsNeedTheirOwnConsent: dietary and accessibility needs are
// health data. Without the consent box they are refused, with what was
// typed kept; with it, the consent is recorded with its wording.
func TestNeedsNeedTheirOwnConsent(t *testing.T) {
	a := newApp(t)
	ev := createEvent(t, a, nil)
	form := with(validForm("Nils Nødvendig", "nils@example.no"), "health_consent", "", "accessibility", "Rullestolplass")
	rec, c := signUp(t, a, ev.Slug, form)
	apptest.Want(t, rec, http.StatusUnprocessableEntity)
	apptest.Says(t, rec, "Kryss av for samtykke hvis vi skal lagre behovene dine")
	for _, kept := range []string{`value="Vegetar"`, "Rullestolplass", `value="Nils Nødvendig"`} {
		if !strings.Contains(rec.Body.String(), kept) {
			t.Errorf("the form lost %s", kept)
		}
	}
	if n, _ := counts(t, a, ev.ID); n != 0 {
		t.Error("stored without consent")
	}
	// in English too
	c.Header.Set("Accept-Language", "en")
	apptest.Says(t, c.PostForm("/events/"+ev.Slug+"/registrations", form), "Tick the consent box if we are to keep your needs")

	// no needs: no consent asked
	rec, _ = signUp(t, a, ev.Slug, with(validForm("Ingen Behov", "ingen@example.no"), "health_consent", "", "dietary", ""))
	apptest.Want(t, rec, http.StatusSeeOther)
	r := byEmail(t, a, ev.ID, "ingen@example.no")
	if r.HealthConsent || len(consentsOf(t, a, r.ID, registration.HealthConsent)) != 0 {
		t.Error("a consent recorded for no needs")
	}
}

// TestNeedsAreShownOnlyToTheEventsOrganisers: the organiser of the event
// reads the needs; an admin and the check-in staff see only that there
// are some, on the list, in the CSV and at the door.
func TestNeedsAreShownOnlyToTheEventsOrganisers(t *testing.T) {
	w := attSetup(t, nil)
	signUpAs(t, w.a, w.ev, "Hanne Helse", "hanne@example.no", "dietary", capVictimDiet, "accessibility", "Teleslynge")
	list := attPath(w.ev, "/attendees")
	for _, tc := range []struct {
		who   string
		path  string
		reads bool
	}{
		{"organiser", list, true},
		{"organiser", list + ".csv", true},
		{"admin", list, false},
		{"admin", list + ".csv", false},
		{"checkin", attPath(w.ev, "/checkin"), false},
		{"organiser", attPath(w.ev, "/checkin"), false},
	} {
		rec := w.login(t, tc.who).Get(tc.path)
		apptest.Want(t, rec, http.StatusOK)
		body := rec.Body.String()
		if strings.HasSuffix(tc.path, ".csv") {
			r := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, registration.BOM)))
			r.Comma = ';'
			rows, err := r.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			body = ""
			for _, row := range rows {
				body += strings.Join(row, "|") + "\n"
			}
		}
		if got := strings.Contains(body, capVictimDiet) && strings.Contains(body, "Teleslynge"); got != tc.reads {
			t.Errorf("%s on %s reads the needs: %v, want %v", tc.who, tc.path, got, tc.reads)
		}
		if !tc.reads && !strings.Contains(body, "matbehov") && !strings.Contains(body, "oppgitt") {
			t.Errorf("%s on %s does not see that there are needs", tc.who, tc.path)
		}
	}
}

// TestNeedsGoThirtyDaysAfterTheEvent: retention removes the needs 30 days
// after the event, long before the rest of the registration.
func TestNeedsGoThirtyDaysAfterTheEvent(t *testing.T) {
	a := newApp(t)
	ev := createEvent(t, a, nil)
	mustSignUp(t, a, ev.Slug, "Kari Nordmann", "kari@example.no")
	retention := privacy.NewRetention(a.DB, 180)
	fixedClock(a, ev.EndsAt.Add(privacy.NeedsRetention-time.Hour))
	if got, err := retention.Apply(t.Context()); err != nil || got.Needs != 0 {
		t.Fatalf("before 30 days: %+v (%v)", got, err)
	}
	fixedClock(a, ev.EndsAt.Add(privacy.NeedsRetention+time.Hour))
	got, err := retention.Apply(t.Context())
	if err != nil || got.Needs != 1 || got.Registrations != 0 {
		t.Fatalf("after 30 days: %+v (%v)", got, err)
	}
	r := byEmail(t, a, ev.ID, "kari@example.no")
	if r.Dietary != "" || r.HealthConsent || r.Name != "Kari Nordmann" {
		t.Errorf("after 30 days: %+v", r)
	}
}

// TestAnOrganiserCannotEraseAnotherOrganisationsAttendees is the attack of
// the trust issue: an organiser of organisation B adds the victim by hand
// to one of B's events and then asks for the victim's erasure. Only what
// is at B's events goes; the victim's registration with organisation A
// stays as it was, and the erasure is in B's audit log alone.
func TestAnOrganiserCannotEraseAnotherOrganisationsAttendees(t *testing.T) {
	w := attSetup(t, nil)
	victim, _ := signUpAs(t, w.a, w.ev, "Vera Victim", capVictim, "phone", capVictimPhone)
	b := w.login(t, "other")
	apptest.Want(t, b.PostForm(attPath(w.other, "/attendees"), with(validForm("Vera Victim", capVictim), "lang", "nb")), http.StatusSeeOther)
	apptest.Want(t, b.PostForm("/admin/erase", url.Values{"email": {capVictim}, "confirm": {"1"}}), http.StatusSeeOther)

	if r := byEmail(t, w.a, w.ev.ID, capVictim); r.ID != victim.ID || r.Name != "Vera Victim" || !r.Confirmed() || r.Phone != capVictimPhone {
		t.Errorf("the registration with organisation A after B's erasure: %+v", r)
	}
	var anonymised int
	w.a.DB.Read().QueryRow(`SELECT COUNT(*) FROM registrations WHERE event_id = ? AND name = ?`, w.other.ID, registration.ErasedName).Scan(&anonymised)
	if anonymised != 1 {
		t.Errorf("%d anonymised registrations at B's event, want 1", anonymised)
	}
	for org, want := range map[int64]int{w.ev.Organiser.ID: 0, w.other.Organiser.ID: 1} {
		var n int
		w.a.DB.Read().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'erasure' AND organiser_id = ?`, org).Scan(&n)
		if n != want {
			t.Errorf("organisation %d's audit log has %d erasures, want %d", org, n, want)
		}
	}
}
