package events_test

// Tests of the event page through the real router: dates, place,
// programme, seats, JSON-LD and OpenGraph, cancelled and past events, and
// the meetings of an invitation-only network series.

import (
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
)

// fixtures writes events with fixed dates far in the future, so the page
// can be checked against literal Norwegian dates. Returns them by slug.
func fixtures(t testing.TB, a *app.App) map[string]*events.Event {
	t.Helper()
	winter := newEvent(t, a, "vinterkonferansen", "trondheim", "digdir", oslo(2049, time.January, 7, 9, 0), oslo(2049, time.January, 7, 16, 0))
	winter.Title = "Vinterkonferansen for ledere"
	winter.Summary = "En dag om tillit og styring, med ledere fra hele regionen."
	winter.Description = "Første avsnitt.\n\nAndre avsnitt med lenke: https://www.example.no/program."
	winter.Format = "conference"
	winter.Capacity = 40
	winter.PriceNOK = 1500
	winter.Levels = []string{"top", "middle"}
	winter.Roles = []string{"hr"}
	winter.RegistrationClosesAt = oslo(2048, time.December, 31, 23, 59).UTC()
	winter.Venue = &events.Venue{Name: "Clarion Hotel & Congress", Street: "Brattørkaia 1", Postcode: "7010", City: "Trondheim",
		Latitude: f64(63.44), Longitude: f64(10.4), Accessibility: "Trinnfritt."}
	winter.Agenda = []events.AgendaItem{
		{StartsAt: oslo(2049, time.January, 7, 9, 0).UTC(), Title: "Velkommen", Introducer: "Direktør, Digitaliseringsdirektoratet"},
		{StartsAt: oslo(2049, time.January, 7, 9, 30).UTC(), Title: "Tillit i praksis", Introducer: "Professor, NTNU"},
		{Title: "Lunsj"},
	}

	summer := newEvent(t, a, "sommermote", "bergen", "dfo", oslo(2049, time.June, 17, 10, 0), oslo(2049, time.June, 17, 15, 30))
	summer.Title = "Sommermøtet"

	full := newEvent(t, a, "fullt-mote", "oslo", "partnerforum", oslo(2049, time.March, 4, 8, 0), oslo(2049, time.March, 4, 9, 0))
	full.Capacity = 2

	digital := newEvent(t, a, "digitalt-mote", "oslo", "digdir", oslo(2049, time.February, 10, 13, 0), oslo(2049, time.February, 10, 14, 0))
	digital.Mode = "digital"
	digital.Format = "digital_meeting"
	digital.OnlineURL = "https://meet.example.no/x"

	twoDays := newEvent(t, a, "todagers", "bodo", "uit", oslo(2049, time.January, 7, 12, 0), oslo(2049, time.January, 8, 14, 0))

	hostile := newEvent(t, a, "fiendtlig-tittel", "oslo", "digdir", oslo(2049, time.April, 1, 9, 0), oslo(2049, time.April, 1, 10, 0))
	hostile.Title = `Møte </script><script>alert("title")</script>`
	hostile.Summary = `"><img src=x onerror=alert(1)>`
	hostile.Description = "<b>fet</b> javascript:alert(1)"

	addEvents(t, a, winter, summer, full, digital, twoDays, hostile)
	addRegistrations(t, a, winter.ID, "confirmed", 3)
	addRegistrations(t, a, winter.ID, "cancelled", 2)
	addRegistrations(t, a, full.ID, "confirmed", 2)
	addRegistrations(t, a, full.ID, "waiting", 3)
	return map[string]*events.Event{"winter": winter, "summer": summer, "full": full, "digital": digital, "twoDays": twoDays, "hostile": hostile}
}

var ldRE = regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`)

// jsonLD parses the page's one schema.org block.
func jsonLD(t testing.TB, body []byte) map[string]any {
	t.Helper()
	ms := ldRE.FindAllSubmatch(body, -1)
	if len(ms) != 1 {
		t.Fatalf("%d JSON-LD blocks, want 1", len(ms))
	}
	var m map[string]any
	if err := json.Unmarshal(ms[0][1], &m); err != nil {
		t.Fatalf("JSON-LD does not parse: %v\n%s", err, ms[0][1])
	}
	return m
}

var metaRE = regexp.MustCompile(`<meta (?:property|name)="([^"]+)" content="([^"]*)">`)

// metaTags are the <meta property|name content> pairs of a page.
func metaTags(body []byte) map[string]string {
	m := map[string]string{}
	for _, x := range metaRE.FindAllSubmatch(body, -1) {
		m[string(x[1])] = html.UnescapeString(string(x[2]))
	}
	return m
}

func TestEventPage(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	fx := fixtures(t, a)

	t.Run("shows every fact in bokmål, in Oslo time", func(t *testing.T) {
		rec := get(t, a.Router, "/events/vinterkonferansen")
		apptest.Want(t, rec, http.StatusOK)
		checkHTML(t, rec)
		text := apptest.Text(rec.Body.Bytes())
		for _, want := range []string{
			"Vinterkonferansen for ledere",
			"torsdag 7. januar 2049",
			"kl. 09.00–16.00",
			"Clarion Hotel & Congress", "Brattørkaia 1", "7010 Trondheim", "Vis i kart", "Tilgjengelighet: Trinnfritt.",
			"Velkommen", "Innleder: Direktør, Digitaliseringsdirektoratet", "Tillit i praksis", "Innleder: Professor, NTNU", "Lunsj",
			"37 av 40 plasser er ledige.", // cancelled registrations do not count
			"1\u00a0500\u00a0kr",
			"Målgruppe", "Toppleder", "Mellomleder", "; HR.", "For offentlig sektor.",
			"Arrangør", "Digitaliseringsdirektoratet", "ledernettverk@digdir.example.no",
			"Påmeldingsfrist", "torsdag 31. desember 2048 kl. 23.59",
			"Konferanse", "Trondheim",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("the page does not say %q", want)
			}
		}
		body := rec.Body.String()
		for _, want := range []string{
			`<time datetime="2049-01-07T09:00:00&#43;01:00">`,
			`href="https://www.openstreetmap.org/?mlat=63.440000&amp;mlon=10.400000#map=17/63.440000/10.400000"`,
			`href="mailto:ledernettverk@digdir.example.no"`,
			`href="/organisers/digdir"`,
			`href="/regions/trondheim"`,
			`<p>Første avsnitt.</p>`,
			`<a href="https://www.example.no/program" rel="noopener">https://www.example.no/program</a>.`,
			`href="/events/vinterkonferansen.ics"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the page has no %s", want)
			}
		}
		// the agenda item without a time has no time
		if strings.Count(body, `class="agenda-time"`) != 2 {
			t.Errorf("want 2 agenda times, got %d", strings.Count(body, `class="agenda-time"`))
		}
	})

	t.Run("writes summer times with the summer offset", func(t *testing.T) {
		rec := get(t, a.Router, "/events/sommermote")
		apptest.Want(t, rec, http.StatusOK)
		text := apptest.Text(rec.Body.Bytes())
		for _, want := range []string{"torsdag 17. juni 2049", "kl. 10.00–15.30", "Gratis", "Ledere på alle nivåer", "50 av 50 plasser er ledige."} {
			if !strings.Contains(text, want) {
				t.Errorf("the page does not say %q", want)
			}
		}
		if !strings.Contains(rec.Body.String(), `datetime="2049-06-17T10:00:00&#43;02:00"`) {
			t.Error("the summer start is not written with +02:00")
		}
	})

	t.Run("an event over two days gives the end date", func(t *testing.T) {
		text := apptest.Text(get(t, a.Router, "/events/todagers").Body.Bytes())
		if !strings.Contains(text, "torsdag 7. januar 2049 kl. 12.00–14.00 (fredag 8. januar 2049)") {
			t.Errorf("two-day event: %s", text)
		}
	})

	t.Run("a full event shows the waiting list", func(t *testing.T) {
		text := apptest.Text(get(t, a.Router, "/events/fullt-mote").Body.Bytes())
		for _, want := range []string{"Fullt – nye påmeldinger kommer på venteliste.", "3 står på venteliste."} {
			if !strings.Contains(text, want) {
				t.Errorf("the page does not say %q", want)
			}
		}
		text = apptest.Text(get(t, a.Router, "/?region=oslo&from=2049-03-01&to=2049-03-31").Body.Bytes())
		if !strings.Contains(text, "Fullt – venteliste") {
			t.Error("the card of a full event has no full badge")
		}
	})

	t.Run("a digital event has no map and says it is online", func(t *testing.T) {
		rec := get(t, a.Router, "/events/digitalt-mote")
		text := apptest.Text(rec.Body.Bytes())
		if strings.Contains(text, "Vis i kart") || !strings.Contains(text, "Digitalt – lenken kommer i bekreftelsen") {
			t.Errorf("digital event: %s", text)
		}
		if strings.Contains(rec.Body.String(), "meet.example.no") {
			t.Error("the online meeting link is on the public page (in the Google/Outlook links); it belongs in the registrants' invitations only")
		}
	})

	t.Run("English dates and prices", func(t *testing.T) {
		rec := get(t, a.Router, "/events/vinterkonferansen?lang=en")
		apptest.Want(t, rec, http.StatusOK)
		text := apptest.Text(rec.Body.Bytes())
		for _, want := range []string{"Thursday 7 January 2049", "at 09:00–16:00", "NOK 1,500", "37 of 40 places are free.", "Introduced by: Professor, NTNU", "Registration deadline", "Thursday 31 December 2048 at 23:59"} {
			if !strings.Contains(text, want) {
				t.Errorf("the English page does not say %q", want)
			}
		}
		if !strings.Contains(rec.Body.String(), `<html lang="en">`) {
			t.Error("html lang is not en")
		}
	})

	t.Run("JSON-LD describes the event for search engines", func(t *testing.T) {
		ld := jsonLD(t, get(t, a.Router, "/events/vinterkonferansen").Body.Bytes())
		for k, want := range map[string]any{
			"@context":    "https://schema.org",
			"@type":       "Event",
			"name":        "Vinterkonferansen for ledere",
			"startDate":   "2049-01-07T09:00:00+01:00",
			"endDate":     "2049-01-07T16:00:00+01:00",
			"eventStatus": "https://schema.org/EventScheduled",
			"url":         "http://localhost:8080/events/vinterkonferansen",
		} {
			if ld[k] != want {
				t.Errorf("%s = %v, want %v", k, ld[k], want)
			}
		}
		locs, _ := ld["location"].([]any)
		if len(locs) != 1 {
			t.Fatalf("location %v", ld["location"])
		}
		place := locs[0].(map[string]any)
		addr, _ := place["address"].(map[string]any)
		if place["@type"] != "Place" || place["name"] != "Clarion Hotel & Congress" || addr["streetAddress"] != "Brattørkaia 1" ||
			addr["postalCode"] != "7010" || addr["addressLocality"] != "Trondheim" || addr["addressCountry"] != "NO" {
			t.Errorf("place %v", place)
		}
		if geo, _ := place["geo"].(map[string]any); geo["latitude"] != 63.44 || geo["longitude"] != 10.4 {
			t.Errorf("geo %v", place["geo"])
		}
		offers, _ := ld["offers"].(map[string]any)
		if offers["@type"] != "Offer" || offers["price"] != 1500.0 || offers["priceCurrency"] != "NOK" || offers["availability"] != "https://schema.org/InStock" {
			t.Errorf("offers %v", offers)
		}
		if org, _ := ld["organizer"].(map[string]any); org["name"] != "Digitaliseringsdirektoratet" {
			t.Errorf("organizer %v", ld["organizer"])
		}

		summer := jsonLD(t, get(t, a.Router, "/events/sommermote").Body.Bytes())
		if summer["startDate"] != "2049-06-17T10:00:00+02:00" || summer["endDate"] != "2049-06-17T15:30:00+02:00" {
			t.Errorf("summer dates %v %v", summer["startDate"], summer["endDate"])
		}
		full := jsonLD(t, get(t, a.Router, "/events/fullt-mote").Body.Bytes())
		if offers, _ := full["offers"].(map[string]any); offers["availability"] != "https://schema.org/SoldOut" {
			t.Errorf("a full event is offered as %v", offers["availability"])
		}
		dig := jsonLD(t, get(t, a.Router, "/events/digitalt-mote").Body.Bytes())
		locs, _ = dig["location"].([]any)
		if len(locs) != 1 || locs[0].(map[string]any)["@type"] != "VirtualLocation" || dig["eventAttendanceMode"] != "https://schema.org/OnlineEventAttendanceMode" {
			t.Errorf("digital location %v, mode %v", dig["location"], dig["eventAttendanceMode"])
		}
	})

	t.Run("OpenGraph tags for link previews", func(t *testing.T) {
		rec := get(t, a.Router, "/events/vinterkonferansen")
		m := metaTags(rec.Body.Bytes())
		for k, want := range map[string]string{
			"og:title":       "Vinterkonferansen for ledere",
			"og:type":        "event",
			"og:url":         "http://localhost:8080/events/vinterkonferansen",
			"og:description": fx["winter"].Summary,
			"og:site_name":   "Møteplass",
			"og:locale":      "nb_NO",
			"description":    fx["winter"].Summary,
		} {
			if m[k] != want {
				t.Errorf("%s = %q, want %q", k, m[k], want)
			}
		}
		if !strings.Contains(rec.Body.String(), `<link rel="canonical" href="http://localhost:8080/events/vinterkonferansen">`) {
			t.Error("no canonical link")
		}
		if m := metaTags(get(t, a.Router, "/events/vinterkonferansen?lang=en").Body.Bytes()); m["og:locale"] != "en_GB" {
			t.Errorf("English og:locale %q", m["og:locale"])
		}
	})

	t.Run("text from organisers is escaped everywhere", func(t *testing.T) {
		rec := get(t, a.Router, "/events/fiendtlig-tittel")
		apptest.Want(t, rec, http.StatusOK)
		body := rec.Body.String()
		for _, bad := range []string{`<script>alert("title")`, `<img src=x`, `<b>fet</b>`} {
			if strings.Contains(body, bad) {
				t.Errorf("unescaped %s in the page", bad)
			}
		}
		if ld := jsonLD(t, rec.Body.Bytes()); ld["name"] != fx["hostile"].Title {
			t.Errorf("JSON-LD name %q", ld["name"])
		}
		if m := metaTags(rec.Body.Bytes()); m["og:description"] != fx["hostile"].Summary {
			t.Errorf("og:description %q", m["og:description"])
		}
		if strings.Contains(body, `href="javascript:`) {
			t.Error("a javascript: link")
		}
		// and on the listing
		list := get(t, a.Router, "/?from=2049-04-01&to=2049-04-01").Body.String()
		if strings.Contains(list, `<script>alert("title")`) || strings.Contains(list, "<img src=x") {
			t.Error("unescaped title on the listing")
		}
	})

	t.Run("the page changes as soon as the data does", func(t *testing.T) {
		// the page cache must not serve a page older than the last write
		before := apptest.Text(get(t, a.Router, "/events/sommermote").Body.Bytes())
		if !strings.Contains(before, "50 av 50 plasser er ledige.") {
			t.Fatalf("before: %s", before)
		}
		addRegistrations(t, a, fx["summer"].ID, "confirmed", 1)
		after := apptest.Text(get(t, a.Router, "/events/sommermote").Body.Bytes())
		if !strings.Contains(after, "49 av 50 plasser er ledige.") {
			t.Fatalf("a cached page survived a registration: %s", after)
		}
	})
}

func TestCancelledAndPastEvents(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	const cancelled = "mellomlederforum-stavanger-hr"
	const past = "ledermoteplass-bergen-tillitsreform"

	t.Run("a cancelled event is listed and marked", func(t *testing.T) {
		rec := get(t, a.Router, "/regions/stavanger")
		if !slices.Contains(cardSlugs(rec.Body.Bytes()), cancelled) {
			t.Fatal("the cancelled event is not listed")
		}
		card := cardOf(t, rec.Body.String(), cancelled)
		if !strings.Contains(card, "is-cancelled") || !strings.Contains(card, "Avlyst") {
			t.Errorf("the card is not marked cancelled: %s", card)
		}
	})

	t.Run("a cancelled event's page says so", func(t *testing.T) {
		rec := get(t, a.Router, "/events/"+cancelled)
		apptest.Want(t, rec, http.StatusOK)
		text := apptest.Text(rec.Body.Bytes())
		for _, want := range []string{"Dette arrangementet er avlyst.", "Arrangementet er avlyst, så du kan ikke melde deg på."} {
			if !strings.Contains(text, want) {
				t.Errorf("the page does not say %q", want)
			}
		}
		if strings.Contains(text, "Påmeldingsfrist") {
			t.Error("a cancelled event shows a deadline")
		}
		if ld := jsonLD(t, rec.Body.Bytes()); ld["eventStatus"] != "https://schema.org/EventCancelled" {
			t.Errorf("eventStatus %v", ld["eventStatus"])
		}
		en := apptest.Text(get(t, a.Router, "/events/"+cancelled+"?lang=en").Body.Bytes())
		if !strings.Contains(en, "This event has been cancelled.") {
			t.Error("the English page does not say it is cancelled")
		}
	})

	t.Run("a past event is not in the default listing", func(t *testing.T) {
		for _, p := range []string{"/", "/regions/bergen", "/organisers/dfo"} {
			if slices.Contains(cardSlugs(get(t, a.Router, p).Body.Bytes()), past) {
				t.Errorf("%s lists the past event", p)
			}
		}
	})

	t.Run("a past event is reachable by its slug and marked", func(t *testing.T) {
		rec := get(t, a.Router, "/events/"+past)
		apptest.Want(t, rec, http.StatusOK)
		text := apptest.Text(rec.Body.Bytes())
		if !strings.Contains(text, "Dette arrangementet er gjennomført.") {
			t.Error("the page does not say the event has taken place")
		}
		if strings.Contains(text, "Påmeldingsfrist") {
			t.Error("a past event shows a deadline")
		}
		if !strings.Contains(text, "Arrangementet har startet, så påmeldingen er stengt.") {
			t.Error("a past event does not say registration is closed")
		}
	})

	t.Run("a past event is listed with a from date, and marked", func(t *testing.T) {
		rec := get(t, a.Router, "/?from="+osloDay(-20))
		apptest.Want(t, rec, http.StatusOK)
		if !slices.Contains(cardSlugs(rec.Body.Bytes()), past) {
			t.Fatal("the past event is not listed")
		}
		if card := cardOf(t, rec.Body.String(), past); !strings.Contains(card, "Gjennomført") {
			t.Errorf("the card is not marked as past: %s", card)
		}
	})
}

// cardOf is the HTML of one event's card on a listing.
func cardOf(t testing.TB, body, slug string) string {
	t.Helper()
	i := strings.Index(body, `<a href="/events/`+slug+`">`)
	if i < 0 {
		t.Fatalf("no card for %s", slug)
	}
	start := strings.LastIndex(body[:i], "<article")
	end := strings.Index(body[i:], "</article>")
	return body[start : i+end]
}

func TestNetworkSeriesAndInvitations(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	rec := get(t, a.Router, "/events/administrasjonssjefer-stavanger-mote-2")
	apptest.Want(t, rec, http.StatusOK)
	text := apptest.Text(rec.Body.Bytes())
	for _, want := range []string{
		"Administrasjonssjefnettverket, møte 2 av 4",
		"Nettverk for administrasjonssjefer i direktoratene",
		"Kun for inviterte",
		"Vertskap", "Havindustritilsynet",
		"Drives av deltakerne",
		"Nettverksmøte",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not say %q", want)
		}
	}
	if strings.Contains(rec.Body.String(), "ADM-ROGALAND") {
		t.Error("the invite code is on the public page")
	}
	list := get(t, a.Router, "/?region=stavanger").Body.String()
	var meetings int
	for _, s := range cardSlugs([]byte(list)) {
		if strings.HasPrefix(s, "administrasjonssjefer-stavanger-mote-") {
			meetings++
			if !strings.Contains(cardOf(t, list, s), "Kun for inviterte") {
				t.Errorf("the card of %s does not say it is by invitation", s)
			}
		}
	}
	if meetings != 4 {
		t.Errorf("%d of the network's 4 meetings are listed", meetings)
	}
}
