package app_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/demo"
)

// TestTheOrganiserFindsTheFollowUpByLinksOnly: after an event, the
// organiser's home says what is next on the event's row ("17 of 26 agreed
// to be introduced: propose introductions") and that line leads to the
// follow-up; so does every page of the event (its page, the attendee list,
// the dashboard, check-in). Nobody has to know the follow-up's address.
func TestTheOrganiserFindsTheFollowUpByLinksOnly(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	base := apptest.Serve(t, a)
	b := apptest.Phone(t)
	b.LogIn(base, "arrangor@dfo.example.no", demo.Password)

	b.Do("open the home", chromedp.Navigate(base+"/admin"), chromedp.WaitVisible(chromedp.CSS("main table")))
	next := b.Text("a.next-step")
	if !strings.Contains(next, "sa ja til å bli introdusert: foreslå introduksjoner") {
		t.Fatalf("the past event's row says %q, want how many agreed and what to do", next)
	}
	b.Do("follow the next step", chromedp.Click(chromedp.CSS("a.next-step")), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if h := b.Text("main h1"); h != "Introduksjoner etter arrangementet" {
		t.Fatalf("the next step leads to %q, not the follow-up", h)
	}
	followup := b.Eval(`[location.pathname]`)[0]
	event := strings.TrimSuffix(followup, "/followup")

	for _, page := range []string{event, event + "/attendees", event + "/dashboard", event + "/checkin"} {
		b.Do("open "+page, chromedp.Navigate(base+page), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if got := b.Eval(`Array.from(document.querySelectorAll('main a[href$="/followup"]')).map(a => a.textContent.trim())`); len(got) == 0 {
			t.Errorf("%s has no link to the follow-up", page)
		}
	}
	b.Do("from the event's page", chromedp.Navigate(base+event), chromedp.WaitVisible(chromedp.CSS("main h1")),
		chromedp.Click(chromedp.CSS(`nav a[href$="/followup"]`)), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if h := b.Text("main h1"); h != "Introduksjoner etter arrangementet" {
		t.Errorf("the event's tools lead to %q", h)
	}
	b.Screenshot("followup-from-home")
}
