package registration_test

// A person on a phone: headless Chromium (driven with chromedp) opens an
// event page at 390×844, fills in the form with a name with æ, ø and å,
// signs up, opens the manage link, cancels (with the confirmation step) and
// sees the seat come back. Skipped without Chromium, unless CI is set.

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app/apptest"
)

func seatsLeft(t *testing.T, base, slug string) int {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/events/" + slug)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ev events.APIEvent
	if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil {
		t.Fatal(err)
	}
	return ev.SeatsLeft
}

func TestBrowserSignUpAndCancelOnAPhone(t *testing.T) {
	a := newApp(t)
	ev := createEvent(t, a, capacity(5))
	base := apptest.Serve(t, a)

	b := apptest.Phone(t)
	ctx, do, text, eval := b.Ctx, b.Do, b.Text, b.Eval

	page := base + "/events/" + ev.Slug + "?lang=nb"
	do("open the event page on a phone", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#reg-name")))
	// every field has a label, every choice and button is a large touch
	// target, and nothing is wider than the phone
	unlabelled := eval(`[...document.querySelectorAll('form.registration-form input:not([type=hidden]), form.registration-form textarea')]
		.filter(e => e.labels.length === 0).map(e => e.name)`)
	small := eval(`[...document.querySelectorAll('.choice-item, .check, form.registration-form button, form.registration-form input:not([type=hidden]):not([type=radio]):not([type=checkbox]):not([tabindex="-1"])')]
		.filter(e => e.getBoundingClientRect().height < 44).map(e => e.outerHTML.slice(0, 60))`)
	wide := eval(`document.documentElement.scrollWidth > document.documentElement.clientWidth ? [String(document.documentElement.scrollWidth)] : []`)
	if len(unlabelled) > 0 || len(small) > 0 || len(wide) > 0 {
		t.Errorf("unlabelled %v; touch targets under 44px %v; page wider than the phone %v", unlabelled, small, wide)
	}
	if n := seatsLeft(t, base, ev.Slug); n != 5 {
		t.Fatalf("%d seats left before", n)
	}

	// sending the empty form shows what to fix, at the form, without script
	do("send the empty form", chromedp.Click(chromedp.CSS("form.registration-form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".error-summary")))
	links := eval(`[...document.querySelectorAll('.error-summary a')].map(a => a.getAttribute('href'))`)
	invalid := eval(`[...document.querySelectorAll('[aria-invalid=true]')].map(e => e.id)`)
	if strings.Join(links, " ") != "#reg-name #reg-email #reg-organisation #reg-role #reg-level-top #reg-sector-state #reg-region" || len(invalid) < 7 {
		t.Errorf("error summary links %v, invalid fields %v", links, invalid)
	}
	b.Screenshot("moteplass-registration-phone-errors.png")

	name := "Åse Øvrebø-Dæhlie"
	do("fill in the form",
		chromedp.SendKeys(chromedp.CSS("#reg-name"), name),
		chromedp.SendKeys(chromedp.CSS("#reg-email"), "ase.ovrebo@vegvesen.example.no"),
		chromedp.SendKeys(chromedp.CSS("#reg-organisation"), "Statens vegvesen"),
		chromedp.SendKeys(chromedp.CSS("#reg-role"), "Seksjonssjef"),
		chromedp.Click(chromedp.CSS("#reg-level-middle")),
		chromedp.Click(chromedp.CSS("#reg-sector-state")),
		chromedp.SendKeys(chromedp.CSS("#reg-region"), "Bergen"),
		chromedp.SendKeys(chromedp.CSS("#reg-phone"), "912 34 567"),
		chromedp.SendKeys(chromedp.CSS("#reg-topics"), "Psykologisk trygghet i ledergruppen"),
		chromedp.Click(chromedp.CSS("#reg-intro_consent")),
	)
	if typed, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#reg-name"))); err != nil || typed != name {
		t.Errorf("the name field holds %q (%v)", typed, err)
	}
	b.Screenshot("moteplass-registration-phone.png")

	do("sign up", chromedp.Click(chromedp.CSS("form.registration-form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".status-line")))
	status, flash := text(".status-line"), text(".flash")
	b.Screenshot("moteplass-registration-phone-manage.png")
	manageURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(status, "Du har plass.") || !strings.Contains(flash, "Du er påmeldt!") || !strings.Contains(manageURL, "/r/") {
		t.Fatalf("after signing up: %q, %q at %s (%v)", status, flash, manageURL, err)
	}
	// the calendar buttons are there and visible on the phone, each a
	// large touch target within the screen's width
	buttons := eval(`[...document.querySelectorAll('.status-box .cal-button')].filter(a => {
		const r = a.getBoundingClientRect(), s = getComputedStyle(a);
		return r.width > 0 && r.height >= 44 && r.right <= document.documentElement.clientWidth && s.visibility === 'visible';
	}).map(a => a.textContent.trim() + ' ' + (a.hostname === location.hostname ? a.getAttribute('href') : a.hostname))`)
	if got := strings.Join(buttons, " | "); len(buttons) != 4 || !strings.Contains(got, "Google Kalender calendar.google.com") ||
		!strings.Contains(got, "Outlook.com outlook.live.com") || !strings.Contains(got, "Outlook (jobb eller skole) outlook.office.com") ||
		!strings.Contains(got, "Apple Kalender og andre (.ics) /events/"+ev.Slug+".ics") {
		t.Errorf("visible calendar buttons after signing up: %v", buttons)
	}
	// what the phone's screen shows there (the full page is in -manage.png)
	do("scroll to the calendar buttons", chromedp.ScrollIntoView(chromedp.CSS(".status-box .cal-buttons")))
	if shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err != nil {
		t.Error(err)
	} else if path := filepath.Join(os.TempDir(), "moteplass-registration-phone-calendar.png"); os.WriteFile(path, shot, 0o644) == nil {
		t.Logf("screenshot: %s", path)
	}
	if n := seatsLeft(t, base, ev.Slug); n != 4 {
		t.Fatalf("%d seats left after signing up", n)
	}
	if r := byEmail(t, a, ev.ID, "ase.ovrebo@vegvesen.example.no"); r.Name != name || !r.IntroConsent || r.Level != "middle" {
		t.Errorf("stored %+v", r)
	}

	do("open the manage link and ask to cancel",
		chromedp.Navigate(manageURL),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/cancel"]`)),
		chromedp.Click(chromedp.CSS(`a[href$="/cancel"]`)),
		chromedp.WaitVisible(chromedp.CSS("button.danger")),
	)
	if q := text("h1"); q != "Vil du melde deg av?" {
		t.Fatalf("the confirmation step asks %q", q)
	}
	if n := seatsLeft(t, base, ev.Slug); n != 4 {
		t.Fatal("the confirmation page cancelled already")
	}
	do("confirm", chromedp.Click(chromedp.CSS("button.danger")), chromedp.WaitVisible(chromedp.CSS(".status-line")))
	if s := text(".status-line"); !strings.Contains(s, "Denne påmeldingen er meldt av.") {
		t.Fatalf("after cancelling: %q", s)
	}
	do("the seat is back on the event page", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#reg-name")))
	if body := text("main"); !strings.Contains(body, "5 av 5 plasser er ledige.") {
		t.Errorf("the event page does not show the seat back: %.600s", body)
	}
	if n := seatsLeft(t, base, ev.Slug); n != 5 {
		t.Errorf("%d seats left after cancelling", n)
	}
}
