package registration_test

// After signing up (issue 14): the manage page offers Google Calendar,
// Outlook (personal and work accounts) and Apple/.ics for a confirmed place
// only; a waiting-list place is told that the invitation comes with a
// place. The personal feed has subscribe buttons for each calendar.

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/moteplass/moteplass/internal/app/apptest"
)

var calButtonRE = regexp.MustCompile(`<a class="cal-button" href="([^"]*)"`)

// calendarButtons are the "add to calendar" links of a page's status box,
// by host (the .ics by its path).
func calendarButtons(t *testing.T, body string) map[string]*url.URL {
	t.Helper()
	out := map[string]*url.URL{}
	box := body
	if i := strings.Index(body, `aria-labelledby="edit-h"`); i > 0 {
		box = body[:i]
	}
	if i := strings.Index(box, `cal-subscribe`); i > 0 {
		box = box[:i] // the personal feed's buttons are not "add this event"
	}
	for _, m := range calButtonRE.FindAllStringSubmatch(box, -1) {
		u, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		key := u.Host
		if key == "" {
			key = "ics"
		}
		out[key] = u
	}
	return out
}

func TestManagePageCalendarButtons(t *testing.T) {
	a := newApp(t)
	ev := createEvent(t, a, capacity(1))
	client := apptest.NewClient(t, a.Router)
	confirmed := mustSignUp(t, a, ev.Slug, "Åse Ødegård", "ase@example.no")
	waiting := mustSignUp(t, a, ev.Slug, "Bjørn Ærlig", "bjorn@example.no")

	rec := client.Get("/r/" + confirmed + "?lang=nb")
	apptest.Want(t, rec, http.StatusOK)
	apptest.Says(t, rec, "Du har plass.", "Legg i kalenderen", "Google Kalender", "Outlook.com", "Outlook (jobb eller skole)", "Apple Kalender og andre (.ics)")
	b := calendarButtons(t, rec.Body.String())
	if len(b) != 4 {
		t.Fatalf("buttons %v", b)
	}
	if g := b["calendar.google.com"]; g.Path != "/calendar/render" || g.Query().Get("action") != "TEMPLATE" || g.Query().Get("text") != ev.Title ||
		g.Query().Get("dates") != ev.StartsAt.UTC().Format("20060102T150405Z")+"/"+ev.EndsAt.UTC().Format("20060102T150405Z") {
		t.Errorf("Google %v", g)
	}
	for _, host := range []string{"outlook.live.com", "outlook.office.com"} {
		o := b[host]
		q := o.Query()
		if o.Path != "/calendar/0/deeplink/compose" || q.Get("subject") != ev.Title ||
			q.Get("startdt") != ev.StartsAt.UTC().Format("2006-01-02T15:04:05Z") || q.Get("enddt") != ev.EndsAt.UTC().Format("2006-01-02T15:04:05Z") ||
			!strings.Contains(q.Get("body"), "/events/"+ev.Slug) {
			t.Errorf("%s %v", host, o)
		}
	}
	if ics := b["ics"]; ics.Path != "/events/"+ev.Slug+".ics" {
		t.Errorf(".ics %v", ics)
	} else {
		apptest.Want(t, client.Get(ics.Path), http.StatusOK)
	}

	rec = client.Get("/r/" + waiting + "?lang=nb")
	apptest.Want(t, rec, http.StatusOK)
	apptest.Says(t, rec, "Du står på ventelisten som nummer 1.", "får du plass, sender vi deg en kalenderinvitasjon på e-post")
	apptest.DoesNotSay(t, rec, "Legg i kalenderen", "Google Kalender")
	if b := calendarButtons(t, rec.Body.String()); len(b) != 0 || strings.Contains(rec.Body.String(), "/events/"+ev.Slug+".ics") {
		t.Errorf("a waiting-list place is offered calendar links: %v", b)
	}
	rec = client.Get("/r/" + waiting + "?lang=en")
	apptest.Says(t, rec, "if a place frees up, we email you a calendar invitation")

	// once cancelled: no buttons
	client.PostForm("/r/"+confirmed+"/cancel", url.Values{})
	rec = client.Get("/r/" + confirmed + "?lang=nb")
	if b := calendarButtons(t, rec.Body.String()); len(b) != 0 {
		t.Errorf("a cancelled place is offered calendar links: %v", b)
	}
	// the event page before sign-up has the same buttons
	rec = client.Get("/events/" + ev.Slug + "?lang=nb")
	if b := calendarButtons(t, rec.Body.String()); len(b) != 4 {
		t.Errorf("event page buttons %v", b)
	}
}

func TestPersonalFeedSubscribeButtons(t *testing.T) {
	a := newApp(t)
	ev := createEvent(t, a, nil)
	token := mustSignUpMailed(t, a, ev.Slug, "Åse Ødegård", "ase@example.no")
	rec := apptest.NewClient(t, a.Router).Get("/r/" + token + "?lang=nb")
	apptest.Want(t, rec, http.StatusOK)
	body := rec.Body.String()
	apptest.Says(t, rec, "Din personlige kalender", "Kalenderen din henter nye og endrede arrangementer av seg selv.")
	m := regexp.MustCompile(`readonly value="(http://localhost:8080/feeds/[A-Za-z0-9_-]+\.ics)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no read-only field with the feed's address: %.3000s", apptest.Text(rec.Body.Bytes()))
	}
	feed := m[1]
	webcal := "webcal://" + strings.TrimPrefix(feed, "http://")
	i := strings.Index(body, "cal-subscribe")
	links := map[string]*url.URL{}
	for _, m := range calButtonRE.FindAllStringSubmatch(body[i:], -1) {
		u, _ := url.Parse(html.UnescapeString(m[1]))
		key := u.Host
		if u.Scheme == "webcal" {
			key = "webcal"
		}
		links[key] = u
	}
	if g := links["calendar.google.com"]; g == nil || g.Path != "/calendar/r" || g.Query().Get("cid") != webcal {
		t.Errorf("Google %v", g)
	}
	for _, host := range []string{"outlook.live.com", "outlook.office.com"} {
		if o := links[host]; o == nil || o.Path != "/calendar/0/addfromweb" || o.Query().Get("url") != feed || o.Query().Get("name") != "Møteplass – mine arrangementer" {
			t.Errorf("%s %v", host, o)
		}
	}
	if w := links["webcal"]; w == nil || w.String() != webcal {
		t.Errorf("Apple %v", w)
	}
	apptest.Want(t, apptest.NewClient(t, a.Router).Get(strings.TrimPrefix(feed, "http://localhost:8080")), http.StatusOK)
}
