package introductions_test

// The "did you meet?" reminders, with an injected clock, and the answers.

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
)

// fuSent sets up a sent round of one group of three and returns it.
func fuSent(t testing.TB, a *app.App) (events.Event, []int64) {
	t.Helper()
	cl := apptest.DemoLogin(t, a.Router, fuOrganiser)
	ev := fuEvent(t, a, "dfo", time.Hour)
	ids := fuRegister(t, a, ev.ID,
		fuPerson{Name: "Wenche Møtt", Org: "Skatteetaten", Consent: true},
		fuPerson{Name: "Xander Ikkemøtt", Org: "NAV", Consent: true, Lang: "en"},
		fuPerson{Name: "Yngve Svarerikke", Org: "Kystverket", Consent: true})
	fuGenerate(t, cl, ev.ID)
	fuApprove(t, cl, ev.ID)
	return ev, ids
}

func TestFollowupDidYouMeet(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	ev, _ := fuSent(t, a)
	f := fuFollowup(t, a)
	ctx := context.Background()
	start := time.Now()

	if n, err := f.QueueMeetReminders(ctx); err != nil || n != 0 {
		t.Fatalf("reminders right after sending: %d, %v", n, err)
	}
	a.DB.Now = func() time.Time { return start.Add(13 * 24 * time.Hour) }
	if n, err := f.QueueMeetReminders(ctx); err != nil || n != 0 {
		t.Fatalf("reminders after 13 days: %d, %v", n, err)
	}
	a.DB.Now = func() time.Time { return start.Add(15 * 24 * time.Hour) }
	if n, err := f.QueueMeetReminders(ctx); err != nil || n != 3 {
		t.Fatalf("reminders after 15 days: %d, %v", n, err)
	}
	if n, err := f.QueueMeetReminders(ctx); err != nil || n != 0 {
		t.Fatalf("reminders queued twice: %d, %v", n, err)
	}
	mails := fuOutbox(t, a, "did_you_meet")
	if len(mails) != 3 {
		t.Fatalf("%d reminders in the outbox", len(mails))
	}
	links := map[string]string{}
	for _, m := range mails {
		links[m.To] = m.Text
		if !strings.HasPrefix(m.Dedupe, "intro-met:") {
			t.Errorf("dedupe key %q", m.Dedupe)
		}
	}

	wenche, xander, yngve := "wenche.mott@fu.example.no", "xander.ikkemott@fu.example.no", "yngve.svarerikke@fu.example.no"
	if !strings.Contains(links[wenche], "Xander Ikkemøtt") || !strings.Contains(links[wenche], "Yngve Svarerikke") {
		t.Errorf("the reminder does not name the others: %s", links[wenche])
	}

	visitor := apptest.NewClient(t, a.Router)
	answered := 0
	answer := func(email, which string, words ...string) {
		t.Helper()
		link := fuLink(t, links[email], "/introductions/met/")
		if !strings.Contains(link, "answer="+which) {
			link = strings.Replace(link, "answer=yes", "answer="+which, 1)
		}
		page := visitor.Get(link)
		apptest.Want(t, page, http.StatusOK)
		apptest.Says(t, page, words[:3]...)
		if n := fuCount(t, a, `SELECT COUNT(*) FROM intro_members WHERE met IS NOT NULL`); n != answered {
			t.Fatalf("a GET recorded an answer")
		}
		rec := visitor.PostForm(strings.SplitN(link, "?", 2)[0], url.Values{"answer": {which}})
		apptest.Want(t, rec, http.StatusSeeOther)
		apptest.Says(t, visitor.Follow(rec), words[3])
		answered++
	}
	answer(wenche, "yes", "Møttes dere?", "Ja, vi møttes", "Nei, ikke ennå", "Takk! Vi har registrert svaret ditt: «Ja, vi møttes».")
	answer(xander, "no", "Did you meet?", "Yes, we met", "No, not yet", "Thank you! We have recorded your answer: “No, not yet”.")

	cl := apptest.DemoLogin(t, a.Router, fuOrganiser) // the old session ran out in the meantime
	page := cl.Get(fuPath(ev.ID, ""))
	apptest.Want(t, page, http.StatusOK)
	apptest.Says(t, page, "Grupper som har møttes 1 av 1", "Svarte «Ja, vi møttes» 1", "Svarte «Nei, ikke ennå» 1", "Har ikke svart 1",
		"Spørsmålet om de har møttes er sendt")

	t.Run("the answer can be changed", func(t *testing.T) {
		link := fuLink(t, links[wenche], "/introductions/met/")
		path := strings.SplitN(link, "?", 2)[0]
		apptest.Want(t, visitor.PostForm(path, url.Values{"answer": {"no"}}), http.StatusSeeOther)
		apptest.Says(t, cl.Get(fuPath(ev.ID, "")), "Grupper som har møttes 0 av 1", "Svarte «Nei, ikke ennå» 2")
		apptest.Want(t, visitor.PostForm(path, url.Values{"answer": {"maybe"}}), http.StatusBadRequest)
	})

	t.Run("the page in the reader's language", func(t *testing.T) {
		link := fuLink(t, links[xander], "/introductions/met/")
		page := apptest.NewClient(t, a.Router).Get(link)
		apptest.Says(t, page, "Did you meet?", "Wenche Møtt", "Yes, we met", "No, not yet")
	})

	t.Run("links run out", func(t *testing.T) {
		a.DB.Now = func() time.Time { return start.Add(90 * 24 * time.Hour) }
		link := fuLink(t, links[yngve], "/introductions/met/")
		apptest.Want(t, visitor.Get(link), http.StatusGone)
		apptest.Want(t, visitor.Get("/introductions/met/"+strings.Repeat("B", 43)), http.StatusNotFound)
	})
}

func TestFollowupReminderJobRunsInTheApp(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	fuSent(t, a)
	later := time.Now().Add(15 * 24 * time.Hour)
	a.DB.Now = func() time.Time { return later }
	apptest.Serve(t, a)
	deadline := time.Now().Add(10 * time.Second)
	for len(fuOutbox(t, a, "did_you_meet")) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(fuOutbox(t, a, "did_you_meet")); n != 3 {
		t.Fatalf("the app's job queued %d reminders, want 3", n)
	}
}
