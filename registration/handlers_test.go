package registration_test

// Sign-up, the waiting list, the manage link and the guards around them,
// through the real router and a SQLite file.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/registration"
	"github.com/moteplass/moteplass/templates"
)

const (
	nearlyFull = "tid-for-ledelse-bergen-psykologisk-trygghet" // capacity 40, 37 confirmed
	demoFull   = "frokostmote-beredskap-i-nord"                // capacity 50, full, 5 waiting
)

// openEvent is a fresh event with 60 seats, open for registration.
func openEvent(t testing.TB, a *app.App) (slug string, id int64) {
	t.Helper()
	ev := createEvent(t, a, capacity(60))
	return ev.Slug, ev.ID
}

func catalogue(t testing.TB) *web.Catalogue {
	t.Helper()
	cat, err := web.LoadCatalogue(templates.FS, "locales")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestEventPageShowsTheForm(t *testing.T) {
	a := newApp(t)
	openSlug, _ := openEvent(t, a)
	cat := catalogue(t)
	for _, lang := range []string{"nb", "en"} {
		t.Run(lang, func(t *testing.T) {
			rec := apptest.NewClient(t, a.Router).Get("/events/" + openSlug + "?lang=" + lang)
			apptest.Want(t, rec, http.StatusOK)
			body := rec.Body.String()
			for _, want := range []string{
				`action="/events/` + openSlug + `/registrations#register"`,
				`name="csrf_token" value="`,
				`name="name" type="text" value="" autocomplete="name"`,
				`name="email" type="email" value="" autocomplete="email" inputmode="email"`,
				`autocomplete="organization"`, `list="reg-role-suggestions"`, `<datalist id="reg-role-suggestions">`,
				`type="radio" id="reg-level-first_line" name="level" value="first_line"`,
				`type="radio" id="reg-sector-municipal" name="sector" value="municipal"`,
				`name="phone" type="tel" value="" autocomplete="tel" inputmode="tel"`,
				`<textarea id="reg-topics" name="topics"`,
				`type="checkbox" id="reg-intro_consent" name="intro_consent" value="1" aria-describedby`,
				`name="website" value="" tabindex="-1" autocomplete="off"`, `aria-hidden="true"`,
				`<legend>` + cat.T(lang, "registration.field.level") + `</legend>`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("the form lacks %s", want)
				}
			}
			apptest.Says(t, rec, cat.T(lang, registration.IntroConsentKey), cat.T(lang, "registration.form.submit"))
			if strings.Contains(body, `name="invite_code"`) || strings.Contains(body, `checked`) {
				t.Error("an open event asks for an invitation code, or something is ticked in advance")
			}
		})
	}
}

func TestSignUp(t *testing.T) {
	a := newApp(t)
	n := recordNotices(a)
	cat := catalogue(t)
	openSlug, id := openEvent(t, a)
	before := apiEvent(t, a, openSlug)

	form := validForm("Åse Øvrebø-Dæhlie", "  Ase.Ovrebo@Vegvesen.Example.NO ")
	form.Set("intro_consent", "1")
	rec, c := signUp(t, a, openSlug, form)
	token := tokenOf(t, rec)

	page := c.Get("/r/" + token)
	apptest.Want(t, page, http.StatusOK)
	apptest.Says(t, page, "Du er påmeldt!", "Du har plass.", "Åse Øvrebø-Dæhlie", "Ase.Ovrebo@Vegvesen.Example.NO",
		"Legg i kalender", "Meld meg av", "Endre opplysningene dine")
	for h, want := range map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
		if got := page.Header().Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if !strings.Contains(page.Body.String(), `<meta name="robots" content="noindex">`) {
		t.Error("the manage page may be indexed")
	}

	r := byEmail(t, a, id, "ase.ovrebo@vegvesen.example.no")
	if r.Status != registration.StatusConfirmed || r.Name != "Åse Øvrebø-Dæhlie" || r.EmailNorm != "ase.ovrebo@vegvesen.example.no" ||
		r.Email != "Ase.Ovrebo@Vegvesen.Example.NO" || r.Level != "middle" || r.Sector != "state" || r.Lang != "nb" || !r.IntroConsent {
		t.Errorf("stored %+v", r)
	}
	consents := consentsOf(t, a, r.ID, registration.IntroConsent)
	if len(consents) != 1 || !consents[0].Granted || consents[0].WordingVersion != "intro-v1" ||
		consents[0].Wording != cat.T("nb", registration.IntroConsentKey) || consents[0].RecordedAt.IsZero() {
		t.Errorf("consents %+v", consents)
	}
	// the needs (dietary "Vegetar") came with a consent of their own
	health := consentsOf(t, a, r.ID, registration.HealthConsent)
	if !r.HealthConsent || r.Dietary != "Vegetar" || len(health) != 1 || !health[0].Granted || health[0].WordingVersion != "health-v1" ||
		health[0].Wording != cat.T("nb", registration.HealthConsent.Key()) {
		t.Errorf("health consent %v, dietary %q, records %+v", r.HealthConsent, r.Dietary, health)
	}

	// only the hash of the token is stored, and only in manage_tokens
	var hashes int
	if err := a.DB.Read().QueryRow(`SELECT COUNT(*) FROM manage_tokens WHERE token_hash = ? AND registration_id = ?`,
		registration.HashToken(token), r.ID).Scan(&hashes); err != nil || hashes != 1 {
		t.Errorf("token hash rows %d (%v)", hashes, err)
	}
	var raw int
	a.DB.Read().QueryRow(`SELECT COUNT(*) FROM manage_tokens WHERE token_hash = ?`, token).Scan(&raw)
	if raw != 0 || len(token) < 22 {
		t.Errorf("raw token stored, or token %q too short for 128 bits", token)
	}

	if got := n.kinds(); len(got) != 1 || got[0] != "confirmed:Ase.Ovrebo@Vegvesen.Example.NO" {
		t.Errorf("notices %v", got)
	}
	if nt := n.last(); nt.Token == "" || nt.Event.ID != id || nt.Event.ConfirmedCount != before.ConfirmedCount+1 {
		t.Errorf("notice %+v", nt)
	}

	after := apiEvent(t, a, openSlug)
	if after.ConfirmedCount != before.ConfirmedCount+1 || after.SeatsLeft != before.SeatsLeft-1 || after.WaitlistCount != 0 {
		t.Errorf("API counts before %d/%d, after %d/%d", before.ConfirmedCount, before.SeatsLeft, after.ConfirmedCount, after.SeatsLeft)
	}
}

func TestSignUpInEnglish(t *testing.T) {
	a := newApp(t)
	cat := catalogue(t)
	openSlug, _ := openEvent(t, a)
	c := apptest.NewClient(t, a.Router)
	c.Header.Set("Accept-Language", "en-GB,en;q=0.8")
	c.Get("/events/" + openSlug)
	form := validForm("Siobhán O'Neill", "siobhan@example.no")
	form.Set("intro_consent", "on")
	rec := c.PostForm("/events/"+openSlug+"/registrations", form)
	page := c.Get("/r/" + tokenOf(t, rec))
	apptest.Says(t, page, "You are registered!", "You have a place.")
	r := byEmail(t, a, eventID(t, a, openSlug), "siobhan@example.no")
	consents := consentsOf(t, a, r.ID, registration.IntroConsent)
	if r.Lang != "en" || len(consents) != 1 || consents[0].Wording != cat.T("en", registration.IntroConsentKey) || consents[0].Lang != "en" {
		t.Errorf("lang %s, consents %+v", r.Lang, consents)
	}
}

func TestNamesPeopleHave(t *testing.T) {
	a := newApp(t)
	openSlug, _ := openEvent(t, a)
	for i, name := range []string{"Åse Øvrebø-Dæhlie", "Per-Olav O'Brien", "Ærlend Ås", "Kjærsti D’Ørsted", "Siv Bø", "Jo"} {
		rec, _ := signUp(t, a, openSlug, validForm(name, fmt.Sprintf("navn%d@example.no", i)))
		tokenOf(t, rec)
	}
}

func TestValidation(t *testing.T) {
	a := newApp(t)
	openSlug, id := openEvent(t, a)
	good := validForm("Kari Nordmann", "kari@example.no")
	for _, tc := range []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"name missing", with(good, "name", ""), "name", "Skriv inn navnet ditt."},
		{"name only spaces", with(good, "name", "   "), "name", "Skriv inn navnet ditt."},
		{"name without letters", with(good, "name", "12345"), "name", "Navnet må inneholde bokstaver."},
		{"name too long", with(good, "name", strings.Repeat("æ", registration.MaxName+1)), "name", "«Fullt navn» kan ha høyst 100 tegn."},
		{"name with a control character", with(good, "name", "Kari\x00Nordmann"), "name", "«Fullt navn» inneholder tegn vi ikke kan lagre."},
		{"email missing", with(good, "email", ""), "email", "Skriv inn e-postadressen din."},
		{"email without domain", with(good, "email", "kari@"), "email", "Skriv inn e-postadressen slik: navn@virksomhet.no."},
		{"email without a dot in the domain", with(good, "email", "kari@localhost"), "email", "Skriv inn e-postadressen slik"},
		{"email with a display name", with(good, "email", "Kari <kari@example.no>"), "email", "Skriv inn e-postadressen slik"},
		{"email with a space", with(good, "email", "kari nordmann@example.no"), "email", "Skriv inn e-postadressen slik"},
		{"email with two dots", with(good, "email", "kari@example..no"), "email", "Skriv inn e-postadressen slik"},
		{"email too long", with(good, "email", strings.Repeat("k", 250)+"@example.no"), "email", "E-postadressen kan ha høyst 254 tegn."},
		{"organisation missing", with(good, "organisation", ""), "organisation", "Skriv inn hvilken virksomhet du jobber i."},
		{"organisation too long", with(good, "organisation", strings.Repeat("a", 151)), "organisation", "«Virksomhet» kan ha høyst 150 tegn."},
		{"role missing", with(good, "role", ""), "role", "Skriv inn stillingen eller funksjonen din."},
		{"level missing", with(good, "level", ""), "level", "Velg ledernivået ditt."},
		{"level unknown", with(good, "level", "boss"), "level", "Velg ledernivået ditt."},
		{"sector missing", with(good, "sector", ""), "sector", "Velg hvilken sektor du jobber i."},
		{"sector unknown", with(good, "sector", "public"), "sector", "Velg hvilken sektor du jobber i."},
		{"region missing", with(good, "region", ""), "region", "Skriv inn hvor du jobber, for eksempel Bergen."},
		{"phone too short", with(good, "phone", "12 34"), "phone", "Skriv inn et telefonnummer med 8 til 15 sifre"},
		{"phone with letters", with(good, "phone", "ring 91234567"), "phone", "Skriv inn et telefonnummer med 8 til 15 sifre"},
		{"dietary too long", with(good, "dietary", strings.Repeat("x", 501)), "dietary", "«Allergier eller matbehov» kan ha høyst 500 tegn."},
		{"accessibility too long", with(good, "accessibility", strings.Repeat("x", 1001)), "accessibility", "kan ha høyst 1000 tegn."},
		{"topics too long", with(good, "topics", strings.Repeat("ø", 1001)), "topics", "«Hva vil du gjerne ta opp?» kan ha høyst 1000 tegn."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := with(tc.form, "organisation", tc.form.Get("organisation"))
			if tc.field != "organisation" {
				form.Set("organisation", "Fiskeridirektoratet – Bergen & Omegn")
			}
			form.Set("intro_consent", "1")
			rec, _ := signUp(t, a, openSlug, form)
			apptest.Want(t, rec, http.StatusUnprocessableEntity)
			apptest.Says(t, rec, "Noe må rettes før du kan melde deg på", tc.msg)
			body := rec.Body.String()
			anchor := "#reg-" + tc.field
			if tc.field == "level" || tc.field == "sector" {
				anchor = map[string]string{"level": "#reg-level-top", "sector": "#reg-sector-state"}[tc.field]
			} else if !strings.Contains(body, `aria-describedby="`) || !strings.Contains(body, `reg-`+tc.field+`-error"`) ||
				!strings.Contains(body, `id="reg-`+tc.field+`-error"`) {
				t.Errorf("the message is not tied to the field %s", tc.field)
			}
			if !strings.Contains(body, `<a href="`+anchor+`">`) {
				t.Errorf("no summary link to %s", anchor)
			}
			// only the wrong field is marked (a radio group marks each button)
			wantInvalid := map[string]int{"level": 4, "sector": 4}[tc.field]
			if wantInvalid == 0 {
				wantInvalid = 1
			}
			if got := strings.Count(body, `aria-invalid="true"`); got != wantInvalid || strings.Count(body, `class="field has-error"`)+strings.Count(body, `class="field choice has-error"`) != 1 {
				t.Errorf("%d fields marked invalid, want %d", got, wantInvalid)
			}
			// what was typed comes back
			if tc.field != "organisation" && !strings.Contains(body, `value="Fiskeridirektoratet – Bergen &amp; Omegn"`) {
				t.Error("the organisation typed did not come back")
			}
			if tc.field != "email" && !strings.Contains(body, `value="kari@example.no"`) {
				t.Error("the email typed did not come back")
			}
			if tc.field != "level" && !strings.Contains(body, `value="middle" checked`) {
				t.Error("the level chosen did not come back")
			}
			if !strings.Contains(body, `name="intro_consent" value="1" checked`) {
				t.Error("the consent ticked did not come back")
			}
			if got := regs(t, a, id); len(got) != 0 {
				t.Errorf("%d registrations stored", len(got))
			}
		})
	}
	t.Run("every error at once, in English", func(t *testing.T) {
		c := apptest.NewClient(t, a.Router)
		c.Get("/events/" + openSlug + "?lang=en")
		rec := c.PostForm("/events/"+openSlug+"/registrations", url.Values{"topics": {"Samarbeid på tvers"}})
		apptest.Want(t, rec, http.StatusUnprocessableEntity)
		apptest.Says(t, rec, "Please correct the following", "Enter your name.", "Enter your email address.",
			"Choose your leadership level.", "Choose the sector you work in.", "Samarbeid på tvers")
		body := rec.Body.String()
		if strings.Index(body, `href="#reg-name"`) > strings.Index(body, `href="#reg-level-top"`) {
			t.Error("the summary is not in the order of the form")
		}
	})
}

func TestRefusals(t *testing.T) {
	a := newDemoApp(t)
	closed := createEvent(t, a, func(e *events.Event) { e.RegistrationClosesAt = time.Now().Add(-time.Hour) })
	soon := createEvent(t, a, func(e *events.Event) {
		e.StartsAt = time.Now().Add(2 * time.Hour)
		e.EndsAt = e.StartsAt.Add(time.Hour)
	})
	for _, tc := range []struct {
		name, slug, title string
		clock             time.Time
	}{
		{"not open yet", "varkonferansen-nhh", "Påmeldingen har ikke åpnet", time.Time{}},
		{"closed", closed.Slug, "Påmeldingen er stengt", time.Time{}},
		{"started", soon.Slug, "Arrangementet har startet", time.Now().Add(3 * time.Hour)},
		{"cancelled", "mellomlederforum-stavanger-hr", "Arrangementet er avlyst", time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.clock.IsZero() {
				fixedClock(a, tc.clock)
				defer fixedClock(a, time.Now())
			}
			id := eventID(t, a, tc.slug)
			before := len(regs(t, a, id))
			for _, form := range []url.Values{validForm("Ola Nordmann", "ola@example.no"), {"name": {""}}} {
				rec, _ := signUp(t, a, tc.slug, form)
				apptest.Want(t, rec, http.StatusConflict)
				apptest.Says(t, rec, tc.title)
			}
			if got := len(regs(t, a, id)); got != before {
				t.Errorf("%d registrations stored", got-before)
			}
		})
	}

	t.Run("invitation only", func(t *testing.T) {
		slug := "administrasjonssjefer-stavanger-mote-1"
		page := apptest.NewClient(t, a.Router).Get("/events/" + slug)
		if !strings.Contains(page.Body.String(), `name="invite_code"`) {
			t.Fatal("no invitation code field")
		}
		id := eventID(t, a, slug)
		before := len(regs(t, a, id))
		for _, tc := range []struct{ code, msg string }{
			{"", "Skriv inn invitasjonskoden."},
			{"ADM-ROGALANDX", "Invitasjonskoden stemmer ikke."},
			{"ADM", "Invitasjonskoden stemmer ikke."},
		} {
			rec, _ := signUp(t, a, slug, with(validForm("Ola Nordmann", "ola@example.no"), "invite_code", tc.code))
			apptest.Want(t, rec, http.StatusUnprocessableEntity)
			apptest.Says(t, rec, tc.msg)
			if !strings.Contains(rec.Body.String(), `id="reg-invite_code-error"`) {
				t.Error("the message is not on the code field")
			}
		}
		// a wrong code with other errors: all are shown
		rec, _ := signUp(t, a, slug, with(validForm("", "ola@example.no"), "invite_code", "nope"))
		apptest.Want(t, rec, http.StatusUnprocessableEntity)
		apptest.Says(t, rec, "Invitasjonskoden stemmer ikke.", "Skriv inn navnet ditt.")
		if got := len(regs(t, a, id)); got != before {
			t.Fatalf("%d registrations stored without a valid code", got-before)
		}
		tokenOf(t, func() *httptest.ResponseRecorder {
			r, _ := signUp(t, a, slug, with(validForm("Ola Nordmann", "ola@example.no"), "invite_code", "  adm-rogaland "))
			return r
		}())
	})
}

func TestWaitingListAndPromotionOnCancel(t *testing.T) {
	a := newApp(t)
	n := recordNotices(a)
	ev := createEvent(t, a, capacity(2))
	names := []string{"Anne", "Bjørn", "Cecilie", "Dag", "Eva"}
	tokens := map[string]string{}
	for _, name := range names {
		tokens[name] = mustSignUp(t, a, ev.Slug, name+" Ås", strings.ToLower(name)+"@example.no")
	}
	want := func(confirmed []string, waiting []string) {
		t.Helper()
		var gotC, gotW []string
		for i, r := range regs(t, a, ev.ID) {
			switch r.Status {
			case registration.StatusConfirmed:
				gotC = append(gotC, strings.TrimSuffix(r.Name, " Ås"))
			case registration.StatusWaiting:
				gotW = append(gotW, strings.TrimSuffix(r.Name, " Ås"))
				if r.Position != len(gotW) {
					t.Errorf("row %d: position %d, want %d", i, r.Position, len(gotW))
				}
			}
		}
		if fmt.Sprint(gotC) != fmt.Sprint(confirmed) || fmt.Sprint(gotW) != fmt.Sprint(waiting) {
			t.Fatalf("confirmed %v waiting %v, want %v %v", gotC, gotW, confirmed, waiting)
		}
		for i, name := range waiting {
			page := apptest.NewClient(t, a.Router).Get("/r/" + tokens[name])
			apptest.Says(t, page, fmt.Sprintf("Du står på ventelisten som nummer %d.", i+1))
		}
	}
	want([]string{"Anne", "Bjørn"}, []string{"Cecilie", "Dag", "Eva"})

	// the redirect after signing up says "waiting"
	rec, c := signUp(t, a, ev.Slug, validForm("Frida Ås", "frida@example.no"))
	apptest.Says(t, c.Follow(rec), "du står på ventelisten", "Du står på ventelisten som nummer 4.")
	tokens["Frida"] = tokenOf(t, rec)

	// leaving the waiting list closes the gap
	c = apptest.NewClient(t, a.Router)
	confirm := c.Get("/r/" + tokens["Dag"] + "/cancel")
	apptest.Want(t, confirm, http.StatusOK)
	apptest.Says(t, confirm, "Vil du melde deg av?", "Ja, meld meg av", "Nei, behold påmeldingen")
	if got := len(regs(t, a, ev.ID)); got != 6 {
		t.Fatal("the confirmation step cancelled already")
	}
	rec = c.PostForm("/r/"+tokens["Dag"]+"/cancel", url.Values{})
	apptest.Want(t, rec, http.StatusSeeOther)
	page := c.Follow(rec)
	apptest.Says(t, page, "Du er meldt av.", "Denne påmeldingen er meldt av.")
	want([]string{"Anne", "Bjørn"}, []string{"Cecilie", "Eva", "Frida"})

	// a confirmed person leaves: the first in line gets the place
	rec = c.PostForm("/r/"+tokens["Anne"]+"/cancel", url.Values{})
	apptest.Want(t, rec, http.StatusSeeOther)
	want([]string{"Bjørn", "Cecilie"}, []string{"Eva", "Frida"})
	apptest.Says(t, apptest.NewClient(t, a.Router).Get("/r/"+tokens["Cecilie"]), "Du har plass.")
	nt := n.last()
	if nt.Kind != registration.NoticePromoted || nt.Registration.Name != "Cecilie Ås" || nt.Token == "" ||
		nt.Event.ConfirmedCount != 2 || nt.Event.WaitlistCount != 2 {
		t.Errorf("last notice %s for %s (%d/%d)", nt.Kind, nt.Registration.Name, nt.Event.ConfirmedCount, nt.Event.WaitlistCount)
	}
	api := apiEvent(t, a, ev.Slug)
	if api.ConfirmedCount != 2 || api.WaitlistCount != 2 || api.SeatsLeft != 0 {
		t.Errorf("API %d confirmed, %d waiting, %d left", api.ConfirmedCount, api.WaitlistCount, api.SeatsLeft)
	}
	// cancelling again changes nothing
	apptest.Want(t, c.PostForm("/r/"+tokens["Anne"]+"/cancel", url.Values{}), http.StatusSeeOther)
	want([]string{"Bjørn", "Cecilie"}, []string{"Eva", "Frida"})
	if got := c.Get("/r/" + tokens["Anne"] + "/cancel"); got.Code != http.StatusSeeOther {
		t.Errorf("the cancel page of a cancelled registration: %d", got.Code)
	}
}

func TestPromotionOnCapacityChange(t *testing.T) {
	a := newApp(t)
	n := recordNotices(a)
	ev := createEvent(t, a, capacity(1))
	for _, name := range []string{"Anne", "Bjørn", "Cecilie", "Dag"} {
		mustSignUp(t, a, ev.Slug, name, strings.ToLower(name)+"@example.no")
	}
	ctx := context.Background()
	promoted, err := a.Registrations.ChangeCapacity(ctx, ev.ID, 3)
	if err != nil || len(promoted) != 2 || promoted[0].Name != "Bjørn" || promoted[1].Name != "Cecilie" {
		t.Fatalf("promoted %v (%v)", promoted, err)
	}
	if c, w := counts(t, a, ev.ID); c != 3 || w != 1 {
		t.Fatalf("%d confirmed, %d waiting", c, w)
	}
	if k := n.kinds(); k[len(k)-2] != "promoted:bjørn@example.no" || k[len(k)-1] != "promoted:cecilie@example.no" {
		t.Errorf("notices %v", k)
	}
	// lowering takes no place away; the next sign-up waits
	if promoted, err := a.Registrations.ChangeCapacity(ctx, ev.ID, 1); err != nil || len(promoted) != 0 {
		t.Fatalf("lowering: %v %v", promoted, err)
	}
	mustSignUp(t, a, ev.Slug, "Eva", "eva@example.no")
	if c, w := counts(t, a, ev.ID); c != 3 || w != 2 {
		t.Fatalf("after lowering: %d confirmed, %d waiting", c, w)
	}
	// raising to more than everyone promotes everyone
	if promoted, err := a.Registrations.ChangeCapacity(ctx, ev.ID, 100); err != nil || len(promoted) != 2 {
		t.Fatalf("raising: %v %v", promoted, err)
	}
	if api := apiEvent(t, a, ev.Slug); api.Capacity != 100 || api.ConfirmedCount != 5 || api.SeatsLeft != 95 || api.WaitlistCount != 0 {
		t.Errorf("API %+v", api)
	}
	if _, err := a.Registrations.ChangeCapacity(ctx, ev.ID, -1); !errors.Is(err, registration.ErrCapacity) {
		t.Errorf("negative capacity: %v", err)
	}
	if _, err := a.Registrations.ChangeCapacity(ctx, 999999, 5); !errors.Is(err, registration.ErrNotFound) {
		t.Errorf("unknown event: %v", err)
	}
}

func TestManageUpdate(t *testing.T) {
	a := newApp(t)
	cat := catalogue(t)
	ev := createEvent(t, a, nil)
	token := mustSignUp(t, a, ev.Slug, "Kari Nordmann", "kari@example.no")
	c := apptest.NewClient(t, a.Router)
	page := c.Get("/r/" + token)
	for _, want := range []string{`action="/r/` + token + `"`, `value="Kari Nordmann"`, `value="middle" checked`, `value="Vegetar"`} {
		if !strings.Contains(page.Body.String(), want) {
			t.Errorf("manage form lacks %s", want)
		}
	}
	if strings.Contains(page.Body.String(), `name="email"`) {
		t.Error("the address can be changed")
	}
	if strings.Contains(page.Body.String(), "has-error") || strings.Contains(page.Body.String(), "aria-invalid") {
		t.Error("the manage form shows errors before anything was sent")
	}

	form := with(validForm("Kari Nordmann-Ødegård", "someone.else@example.no"), "organisation", "Helsedirektoratet", "intro_consent", "1", "level", "top")
	rec := c.PostForm("/r/"+token, form)
	apptest.Want(t, rec, http.StatusSeeOther)
	apptest.Says(t, c.Follow(rec), "Endringene er lagret.", "Kari Nordmann-Ødegård", "Helsedirektoratet")
	r := byEmail(t, a, ev.ID, "kari@example.no")
	if r.Name != "Kari Nordmann-Ødegård" || r.Organisation != "Helsedirektoratet" || r.Level != "top" || !r.IntroConsent || r.Email != "kari@example.no" {
		t.Errorf("stored %+v", r)
	}
	// withdrawing the consent is a second row
	rec = c.PostForm("/r/"+token, with(form, "intro_consent", ""))
	apptest.Want(t, rec, http.StatusSeeOther)
	// saving without a change of answer adds none
	apptest.Want(t, c.PostForm("/r/"+token, with(form, "intro_consent", "", "dietary", "")), http.StatusSeeOther)
	consents := consentsOf(t, a, r.ID, registration.IntroConsent)
	if len(consents) != 2 || !consents[0].Granted || consents[1].Granted || consents[1].Wording != cat.T("nb", registration.IntroConsentKey) {
		t.Errorf("consents %+v", consents)
	}
	// emptying the needs withdrew their consent: granted, then withdrawn
	if health := consentsOf(t, a, r.ID, registration.HealthConsent); len(health) != 2 || !health[0].Granted || health[1].Granted {
		t.Errorf("health consents %+v", health)
	}

	rec = c.PostForm("/r/"+token, with(form, "name", "", "phone", "abc"))
	apptest.Want(t, rec, http.StatusUnprocessableEntity)
	apptest.Says(t, rec, "Skriv inn navnet ditt.", "Skriv inn et telefonnummer", "Helsedirektoratet")
	if rec.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Error("422 manage page without no-referrer")
	}

	// a cancelled registration cannot be changed
	apptest.Want(t, c.PostForm("/r/"+token+"/cancel", url.Values{}), http.StatusSeeOther)
	page = c.Get("/r/" + token)
	apptest.Says(t, page, "Denne påmeldingen er meldt av.", "Meld deg på igjen")
	if strings.Contains(page.Body.String(), "Lagre endringene") {
		t.Error("a cancelled registration shows the edit form")
	}
	apptest.Want(t, c.PostForm("/r/"+token, form), http.StatusConflict)
}

func TestManageTokens(t *testing.T) {
	a := newApp(t)
	ev := createEvent(t, a, nil)
	token := mustSignUpMailed(t, a, ev.Slug, "Kari Nordmann", "kari@example.no")
	c := apptest.NewClient(t, a.Router)

	b := make([]byte, 32)
	rand.Read(b)
	last := "A"
	if strings.HasSuffix(token, "A") {
		last = "B"
	}
	for _, wrong := range []string{base64.RawURLEncoding.EncodeToString(b), "abc", token[:len(token)-1] + last, strings.Repeat("x", 300)} {
		for _, path := range []string{"/r/" + wrong, "/r/" + wrong + "/cancel"} {
			rec := c.Get(path)
			apptest.Want(t, rec, http.StatusNotFound)
			if rec.Header().Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("%s: no no-referrer", path)
			}
		}
		apptest.Want(t, c.PostForm("/r/"+wrong+"/cancel", url.Values{}), http.StatusNotFound)
	}

	// 60 days after the event the link expires
	fixedClock(a, ev.EndsAt.Add(60*24*time.Hour-time.Minute))
	apptest.Want(t, c.Get("/r/"+token), http.StatusOK)
	fixedClock(a, ev.EndsAt.Add(61*24*time.Hour))
	for _, rec := range []*httptest.ResponseRecorder{c.Get("/r/" + token), c.Get("/r/" + token + "/cancel"), c.PostForm("/r/"+token+"/cancel", url.Values{})} {
		apptest.Want(t, rec, http.StatusGone)
		apptest.Says(t, rec, "Lenken er utløpt", "Få en ny lenke", "Se arrangementet")
		mustNotContain(t, rec, "Kari")
		if !strings.Contains(rec.Body.String(), `href="/r"`) || rec.Header().Get("Referrer-Policy") != "no-referrer" {
			t.Error("the expired page does not lead to a new link, or leaks the token")
		}
	}
	if c, _ := counts(t, a, ev.ID); c != 1 {
		t.Error("an expired link cancelled")
	}
}

func TestCancelAfterStart(t *testing.T) {
	a := newApp(t)
	ev := createEvent(t, a, nil)
	token := mustSignUpMailed(t, a, ev.Slug, "Kari Nordmann", "kari@example.no")
	fixedClock(a, ev.StartsAt.Add(time.Minute))
	c := apptest.NewClient(t, a.Router)
	apptest.Says(t, c.Get("/r/"+token), "Arrangementet har startet, så du kan ikke melde deg av her.")
	apptest.Want(t, c.Get("/r/"+token+"/cancel"), http.StatusConflict)
	apptest.Want(t, c.PostForm("/r/"+token+"/cancel", url.Values{}), http.StatusConflict)
	if n, _ := counts(t, a, ev.ID); n != 1 {
		t.Error("cancelled after the start")
	}
}

func TestLostLink(t *testing.T) {
	a := newApp(t)
	n := recordNotices(a)
	ev := createEvent(t, a, nil)
	openSlug, _ := openEvent(t, a)
	mustSignUp(t, a, ev.Slug, "Kari Nordmann", "kari@example.no")
	mustSignUp(t, a, openSlug, "Kari Nordmann", "kari@example.no")
	fixedClock(a, time.Now().Add(time.Hour))

	c := apptest.NewClient(t, a.Router)
	form := c.Get("/r")
	apptest.Want(t, form, http.StatusOK)
	apptest.Says(t, form, "Få lenken til påmeldingen din")
	for _, email := range []string{" KARI@example.no", "nobody@example.no"} {
		before := n.count()
		rec := c.PostForm("/r", url.Values{"email": {email}})
		apptest.Want(t, rec, http.StatusSeeOther)
		apptest.Says(t, c.Follow(rec), "Hvis adressen er påmeldt kommende arrangementer")
		if email == "nobody@example.no" && n.count() != before {
			t.Error("a link went to an address without registrations")
		}
	}
	if k := n.kinds(); len(k) != 4 || k[2] != "manage_link:kari@example.no" || k[3] != "manage_link:kari@example.no" {
		t.Errorf("notices %v", k)
	}
	// asking again at once sends nothing more
	c.PostForm("/r", url.Values{"email": {"kari@example.no"}})
	if n.count() != 4 {
		t.Error("links are not throttled")
	}
	rec := c.PostForm("/r", url.Values{"email": {"kari@"}})
	apptest.Want(t, rec, http.StatusUnprocessableEntity)
	apptest.Says(t, rec, "Skriv inn e-postadressen slik")
}

func TestCSRFAndHoneypot(t *testing.T) {
	a := newApp(t)
	openSlug, id := openEvent(t, a)
	c := apptest.NewClient(t, a.Router)
	c.Get("/events/" + openSlug)

	req := httptest.NewRequest(http.MethodPost, "/events/"+openSlug+"/registrations", strings.NewReader(validForm("Ola", "ola@example.no").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	apptest.Want(t, c.Do(req), http.StatusForbidden)
	apptest.Want(t, c.PostForm("/events/"+openSlug+"/registrations", with(validForm("Ola", "ola@example.no"), "csrf_token", "wrong-wrong-wrong-wrong-wrong-wrong-wrong")), http.StatusForbidden)
	// a browser that never got the cookie
	apptest.Want(t, apptest.NewClient(t, a.Router).Do(req), http.StatusForbidden)
	if got := len(regs(t, a, id)); got != 0 {
		t.Fatalf("%d registrations after CSRF failures", got)
	}

	rec := c.PostForm("/events/"+openSlug+"/registrations", with(validForm("Ola", "ola@example.no"), "website", "https://spam.example.com"))
	apptest.Want(t, rec, http.StatusSeeOther)
	apptest.Says(t, c.Follow(rec), "Takk!", "Sjekk e-posten din")
	if got := len(regs(t, a, id)); got != 0 {
		t.Fatalf("the honeypot stored %d", got)
	}
}

func TestRateLimit(t *testing.T) {
	a := newApp(t, func(c *app.Config) { c.SignupRate = 3 })
	openSlug, _ := openEvent(t, a)
	c := apptest.NewClient(t, a.Router)
	c.Get("/events/" + openSlug)
	for i := 0; i < 3; i++ {
		rec := c.PostForm("/events/"+openSlug+"/registrations", validForm("Ola", fmt.Sprintf("ola%d@example.no", i)))
		tokenOf(t, rec)
	}
	rec := c.PostForm("/events/"+openSlug+"/registrations", validForm("Ola", "ola9@example.no"))
	apptest.Want(t, rec, http.StatusTooManyRequests)
	apptest.Says(t, rec, "For mange forsøk", "Vent et minutt")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// another address is not held back
	req := httptest.NewRequest(http.MethodPost, "/events/"+openSlug+"/registrations", strings.NewReader(with(validForm("Per", "per@example.no"), "csrf_token", c.CSRFToken()).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "198.51.100.7:5555"
	tokenOf(t, c.Do(req))
}

func TestNotifyFailureStoresNothing(t *testing.T) {
	a := newApp(t)
	a.Registrations.Notify = func(ctx context.Context, tx registration.Tx, now time.Time, n registration.Notice) error {
		return errors.New("outbox full")
	}
	openSlug, id := openEvent(t, a)
	rec, _ := signUp(t, a, openSlug, validForm("Ola", "ola@example.no"))
	apptest.Want(t, rec, http.StatusInternalServerError)
	if got := len(regs(t, a, id)); got != 0 {
		t.Errorf("%d stored although the email could not be queued", got)
	}
	var tokens int
	a.DB.Read().QueryRow(`SELECT COUNT(*) FROM manage_tokens`).Scan(&tokens)
	if tokens != 0 {
		t.Errorf("%d tokens left behind", tokens)
	}
}

func TestDemoRegistrations(t *testing.T) {
	a := newDemoApp(t)
	if api := apiEvent(t, a, nearlyFull); api.Capacity != 40 || api.ConfirmedCount != 37 || api.SeatsLeft != 3 || api.WaitlistCount != 0 {
		t.Errorf("%s: %+v", nearlyFull, api)
	}
	if api := apiEvent(t, a, demoFull); api.SeatsLeft != 0 || api.WaitlistCount == 0 || api.ConfirmedCount != api.Capacity {
		t.Errorf("%s is not full with a waiting list: %+v", demoFull, api)
	}
	page := apptest.NewClient(t, a.Router).Get("/events/" + demoFull)
	apptest.Says(t, page, "Sett meg på ventelisten")
	var n, consents, levels, sectors, nonExample, norwegian int
	a.DB.Read().QueryRow(`SELECT COUNT(*), COUNT(DISTINCT level), COUNT(DISTINCT sector),
		SUM(CASE WHEN email LIKE '%.example.no' THEN 0 ELSE 1 END),
		SUM(CASE WHEN name LIKE '%ø%' OR name LIKE '%å%' OR name LIKE '%æ%' OR name LIKE '%Ø%' OR name LIKE '%Å%' THEN 1 ELSE 0 END)
		FROM registrations`).Scan(&n, &levels, &sectors, &nonExample, &norwegian)
	a.DB.Read().QueryRow(`SELECT COUNT(*) FROM consents c JOIN registrations r ON r.id = c.registration_id
		WHERE c.granted = 1 AND c.wording_version = 'intro-v1' AND r.intro_consent = 1`).Scan(&consents)
	if n < 100 || levels != 4 || sectors != 3 || nonExample != 0 || norwegian < 10 || consents < n/2 {
		t.Errorf("%d registrations, %d levels, %d sectors, %d not at example.no, %d with æøå, %d consents", n, levels, sectors, nonExample, norwegian, consents)
	}
	id := eventID(t, a, demoFull)
	confirmed, waiting := checkLine(t, a, id)
	if confirmed != 50 || waiting != 5 {
		t.Errorf("%d/%d", confirmed, waiting)
	}
}

func TestBusyDatabaseMeansTryAgain(t *testing.T) {
	a := newApp(t, func(c *app.Config) { c.DBLockTimeout = time.Second })
	slug, id := openEvent(t, a)
	c := apptest.NewClient(t, a.Router)
	c.Get("/events/" + slug)

	// Another process holds the lock a sign-up needs longer than a sign-up
	// may wait: SQLite's write lock, or PostgreSQL's lock on the event's
	// row (another instance in the middle of a change of it).
	var other *sql.DB
	var hold string
	var args []any
	var err error
	switch a.DB.Dialect() {
	case db.Postgres:
		other, err = sql.Open("pgx", a.Config.DB)
		hold, args = "SELECT id FROM events WHERE id = $1 FOR UPDATE", []any{id}
	default:
		other, err = sql.Open("sqlite", "file:"+a.Config.DB+"?_pragma=busy_timeout(10000)")
		hold = "SELECT 1" // after BEGIN IMMEDIATE, which takes the lock
	}
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	begin := map[db.Dialect]string{db.SQLite: "BEGIN IMMEDIATE", db.Postgres: "BEGIN"}[a.DB.Dialect()]
	if _, err := conn.ExecContext(context.Background(), begin); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), hold, args...); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rec := c.PostForm("/events/"+slug+"/registrations", validForm("Ola Nordmann", "ola@example.no"))
	waited := time.Since(start)
	conn.ExecContext(context.Background(), "ROLLBACK")
	conn.Close()

	apptest.Want(t, rec, http.StatusServiceUnavailable)
	apptest.Says(t, rec, "Mange melder seg på akkurat nå", "Ingenting er lagret", "send skjemaet på nytt")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if len(regs(t, a, id)) != 0 {
		t.Error("something was stored")
	}
	t.Logf("gave up after %s", waited.Round(time.Millisecond))
	// and once the lock is gone, the same form goes through
	tokenOf(t, c.PostForm("/events/"+slug+"/registrations", validForm("Ola Nordmann", "ola@example.no")))
}
