package registration_test

// A volunteer at the door with a phone: headless Chromium (chromedp) logs
// in, opens the check-in page, searches by name, taps "check in" and
// "undo" (plain forms: the page has no script), and finds every button a large touch
// target and nothing wider than the phone. Skipped without Chromium, unless
// CI is set (see browser_test.go).

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/moteplass/moteplass/internal/app/apptest"
)

func TestBrowserCheckInOnAPhone(t *testing.T) {
	w := attSetup(t, capacity(3))
	a := w.a
	ase, _ := signUpAs(t, a, w.ev, "Åse Ødegård", "ase@example.no")
	signUpAs(t, a, w.ev, "Bjørn Ærlig", "bjorn@example.no")
	signUpAs(t, a, w.ev, "Ola Nordmann", "ola@example.no")
	signUpAs(t, a, w.ev, "Vera Venteliste", "vera@example.no")
	base := apptest.Serve(t, a)

	b := apptest.Phone(t)
	do, text, eval := b.Do, b.Text, b.Eval
	// the page has no script (checkin_test.go); the browser only fills in
	// and submits forms
	do("log in", chromedp.Navigate(base+"/admin/login?lang=nb&next="+attPath(w.ev, "/checkin")),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), w.users["checkin"].Email),
		chromedp.SendKeys(chromedp.CSS("#password"), attPassword),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#ci-q")))
	if got := text(".status-box"); got != "0 av 3 sjekket inn" {
		t.Fatalf("counts %q", got)
	}
	small := eval(`[...document.querySelectorAll('main button, main input:not([type=hidden])')]
		.filter(e => e.getBoundingClientRect().height < 44).map(e => e.outerHTML.slice(0, 80))`)
	wide := eval(`document.documentElement.scrollWidth > document.documentElement.clientWidth ? [String(document.documentElement.scrollWidth)] : []`)
	if len(small) > 0 || len(wide) > 0 {
		t.Errorf("touch targets under 44px %v; page wider than the phone %v", small, wide)
	}
	b.Screenshot("moteplass-checkin-phone.png")

	// the results page has a "show everyone" link the first page has not
	do("search", chromedp.SendKeys(chromedp.CSS("#ci-q"), "ødeg"), chromedp.Submit(chromedp.CSS("#ci-q")),
		chromedp.WaitVisible(chromedp.CSS("form[role=search] a.button-link")))
	if got := text("#ci-shown"); got != "1 treff på «ødeg»." {
		t.Fatalf("search: %q", got)
	}
	row := fmt.Sprintf("#p-%d", ase.ID)
	// each tap loads a new page: wait for the button it leaves behind
	do("check in", chromedp.Click(chromedp.CSS(row+" button")), chromedp.WaitVisible(chromedp.CSS(row+" button.secondary")))
	if got := text(".status-box"); got != "1 av 3 sjekket inn" {
		t.Fatalf("after check-in: %q", got)
	}
	if got := text(row); !strings.Contains(got, "Sjekket inn kl.") || !strings.Contains(got, "Angre innsjekking") {
		t.Fatalf("the row says %q", got)
	}
	b.Screenshot("moteplass-checkin-phone-done.png")
	do("undo", chromedp.Click(chromedp.CSS(row+" button")), chromedp.WaitVisible(chromedp.CSS(row+" button.submit-wide")))
	if got := text(".status-box"); got != "0 av 3 sjekket inn" {
		t.Fatalf("after undo: %q", got)
	}
	if got := attendee(t, a, w.ev.ID, ase.ID); !got.CheckedInAt.IsZero() {
		t.Fatal("still checked in")
	}
}
