package events_test

// The listing for a leader on a phone (issue 14): text search (q=), the
// filters in force as removable chips, the past events of a region, and
// the subscribe buttons of a listing's feed. Through the real router, on
// SQLite (and on PostgreSQL with MOTEPLASS_TEST_DB=postgres).

import (
	"context"
	"database/sql"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
)

// searchWorld is an app with six events, each found by one search.
type searchWorld struct {
	a    *app.App
	slug map[string]string // name in the tests -> slug
}

func newSearchWorld(t *testing.T) searchWorld {
	t.Helper()
	a := apptest.New(t, apptest.Options{})
	w := searchWorld{a: a, slug: map[string]string{}}
	first := apptest.CreateEvent(t, a, func(e *events.Event) { e.Title = "Tillitsbasert ledelse i praksis" })
	w.slug["tillit"] = first.Slug
	ctx := context.Background()
	region := events.Region{Slug: "ovre-ardal", Name: "Øvre Årdal"}
	org := events.Organiser{Slug: "aerlig-etat", Name: "Ærlig Etat", Kind: "public", ContactEmail: "post@aerlig.example.no"}
	if err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := events.CreateRegion(ctx, tx, &region, 2); err != nil {
			return err
		}
		return events.CreateOrganiser(ctx, tx, &org)
	}); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(e *events.Event){
		"percent":   func(e *events.Event) { e.Title = "Digitalt løft"; e.Summary = "Mot 100% digitale tjenester." },
		"hundred":   func(e *events.Event) { e.Title = "100 digitale tjenester"; e.Summary = "Erfaringer fra etatene." },
		"organiser": func(e *events.Event) { e.Title = "Nettverksmøte for HR"; e.Organiser = org },
		"region":    func(e *events.Event) { e.Title = "Lokalt møte"; e.Region = region },
		"capitals":  func(e *events.Event) { e.Title = "ÅPENT MØTE OM ØKONOMI OG ÆRLIGHET" },
	} {
		w.slug[name] = apptest.CreateEvent(t, a, change).Slug
	}
	return w
}

func (w searchWorld) names(slugs []string) []string {
	var out []string
	for _, s := range slugs {
		for name, slug := range w.slug {
			if slug == s {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestListingSearch(t *testing.T) {
	w := newSearchWorld(t)
	for _, c := range []struct {
		name, q string
		want    []string
	}{
		{"a word of the title", "tillitsbasert", []string{"tillit"}},
		{"the title in capitals", "TILLITSBASERT LEDELSE", []string{"tillit"}},
		{"part of a word of the summary", "digitali", nil},
		{"a word of the summary", "erfaringer", []string{"hundred"}},
		{"the organiser, æ typed in lower case", "ærlig etat", []string{"organiser"}},
		{"the organiser, Æ typed in capitals", "ÆRLIG", []string{"capitals", "organiser"}},
		{"the region, ø and å", "øvre årdal", []string{"region"}},
		{"the region in capitals", "ØVRE ÅRDAL", []string{"region"}},
		{"stored in capitals, typed in lower case", "åpent møte om økonomi", []string{"capitals"}},
		{"words in different fields", "bergen dfø tillit", []string{"tillit"}},
		{"% typed is a percent sign", "100%", []string{"percent"}},
		{"% alone matches only a percent sign", "%", []string{"percent"}},
		{"_ typed is an underscore", "l_delse", nil},
		{"the escape character typed", "!", nil},
		{"no match", "kvantefysikk", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := get(t, w.a.Router, "/?q="+url.QueryEscape(c.q))
			apptest.Want(t, rec, http.StatusOK)
			if got := w.names(cardSlugs(rec.Body.Bytes())); !slices.Equal(got, c.want) {
				t.Errorf("q=%q found %v, want %v", c.q, got, c.want)
			}
			// the API shares the filter code
			rec = get(t, w.a.Router, "/api/v1/events?q="+url.QueryEscape(c.q))
			apptest.Want(t, rec, http.StatusOK)
			var list events.APIList
			if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
				t.Fatal(err)
			}
			var slugs []string
			for _, e := range list.Events {
				slugs = append(slugs, e.Slug)
			}
			if got := w.names(slugs); !slices.Equal(got, c.want) || list.Total != len(c.want) {
				t.Errorf("API q=%q found %v (total %d), want %v", c.q, got, list.Total, c.want)
			}
		})
	}
	// the search is kept in the form and in the feed
	rec := get(t, w.a.Router, "/?q=%C3%B8vre")
	apptest.Says(t, rec, "«øvre»")
	if body := rec.Body.String(); !strings.Contains(body, `name="q" value="øvre"`) || !strings.Contains(body, `/calendar.ics?q=%C3%B8vre`) {
		t.Errorf("the search is not in the form or the feed: %.2000s", body)
	}
	// markup typed into the search is text, in the chip, the field and the links
	rec = get(t, w.a.Router, "/?q="+url.QueryEscape(`<script>alert(1)</script>"><img src=x>`))
	apptest.Want(t, rec, http.StatusOK)
	if body := rec.Body.String(); strings.Contains(body, "<script>alert(1)") || strings.Contains(body, `"><img src=x>`) {
		t.Error("the search is not escaped")
	}
	// a search too long is refused with a notice, not a 500
	rec = get(t, w.a.Router, "/?q="+strings.Repeat("a", 101))
	apptest.Want(t, rec, http.StatusBadRequest)
}

var chipRE = regexp.MustCompile(`<a class="chip" href="([^"]*)" aria-label="([^"]*)">`)

// chips are the removable filters of a listing: accessible label -> link.
func chips(t *testing.T, body string) map[string]url.URL {
	t.Helper()
	out := map[string]url.URL{}
	for _, m := range chipRE.FindAllStringSubmatch(body, -1) {
		u, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		out[html.UnescapeString(m[2])] = *u
	}
	return out
}

func TestListingChipsRemoveOneFilter(t *testing.T) {
	w := newSearchWorld(t)
	rec := get(t, w.a.Router, "/?lang=nb&region=bergen&format=meeting_place&price=free&q=tillit&from=2026-01-01")
	apptest.Want(t, rec, http.StatusOK)
	got := chips(t, rec.Body.String())
	want := map[string]string{
		"Fjern filter: Bergen":                     "region",
		"Fjern filter: Møteplass":                  "format",
		"Fjern filter: Gratis":                     "price",
		"Fjern filter: «tillit»":                   "q",
		"Fjern filter: Fra torsdag 1. januar 2026": "from",
	}
	if len(got) != len(want) {
		t.Fatalf("chips %v, want %v", got, want)
	}
	all := url.Values{"region": {"bergen"}, "format": {"meeting_place"}, "price": {"free"}, "q": {"tillit"}, "from": {"2026-01-01"}}
	for label, param := range want {
		u, ok := got[label]
		if !ok {
			t.Errorf("no chip %q among %v", label, got)
			continue
		}
		wantQ := apptest.With(all, param, "")
		if u.Path != "/" || u.Query().Encode() != wantQ.Encode() {
			t.Errorf("chip %q links to %s, want /?%s", label, u.String(), wantQ.Encode())
		}
	}
	// following the region's chip: the other filters stay, the region goes
	u := got["Fjern filter: Bergen"]
	rec = get(t, w.a.Router, u.String())
	apptest.Want(t, rec, http.StatusOK)
	after := chips(t, rec.Body.String())
	if _, ok := after["Fjern filter: Bergen"]; ok || len(after) != 4 {
		t.Errorf("after removing the region: %v", after)
	}
	// the filters are folded, and say how many are in force
	apptest.Says(t, rec, "Søk og filtrer (4 valgt)")
	if !strings.Contains(rec.Body.String(), `<details class="filters">`) {
		t.Error("the filters are not in a folded <details>")
	}
	// without filters: no chips
	rec = get(t, w.a.Router, "/?lang=nb")
	if c := chips(t, rec.Body.String()); len(c) != 0 {
		t.Errorf("chips without filters: %v", c)
	}
	// on a region's page the region is the page, not a chip; the past
	// view is a chip of its own
	rec = get(t, w.a.Router, "/regions/bergen?lang=nb&when=past&format=meeting_place")
	got = chips(t, rec.Body.String())
	if u := got["Fjern filter: Tidligere arrangementer"]; u.String() != "/regions/bergen?format=meeting_place" || len(got) != 2 {
		t.Errorf("region page chips %v", got)
	}
}

func TestRegionPastEvents(t *testing.T) {
	a := apptest.New(t, apptest.Options{})
	now := a.DB.Now()
	day := 24 * time.Hour
	at := func(d time.Duration) func(e *events.Event) {
		return func(e *events.Event) {
			e.StartsAt = now.Add(d).Truncate(time.Second)
			e.EndsAt = e.StartsAt.Add(2 * time.Hour)
		}
	}
	coming := apptest.CreateEvent(t, a, nil)
	older := apptest.CreateEvent(t, a, at(-60*day))
	newer := apptest.CreateEvent(t, a, at(-3*day))
	yearAgo := apptest.CreateEvent(t, a, at(-400*day))
	// elsewhere: not on Bergen's page
	ctx := context.Background()
	oslo := events.Region{Slug: "oslo", Name: "Oslo"}
	if err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return events.CreateRegion(ctx, tx, &oslo, 2) }); err != nil {
		t.Fatal(err)
	}
	apptest.CreateEvent(t, a, func(e *events.Event) { at(-5 * day)(e); e.Region = oslo })

	rec := get(t, a.Router, "/regions/bergen?lang=nb")
	apptest.Want(t, rec, http.StatusOK)
	if got := cardSlugs(rec.Body.Bytes()); !slices.Equal(got, []string{coming.Slug}) {
		t.Errorf("upcoming in Bergen: %v", got)
	}
	if !strings.Contains(rec.Body.String(), `<a href="/regions/bergen?when=past">Tidligere arrangementer</a>`) {
		t.Error(`the region page has no link "Tidligere arrangementer"`)
	}

	rec = get(t, a.Router, "/regions/bergen?lang=nb&when=past")
	apptest.Want(t, rec, http.StatusOK)
	apptest.Says(t, rec, "Tidligere arrangementer i Bergen", "3 tidligere arrangementer", "Kommende arrangementer")
	if got, want := cardSlugs(rec.Body.Bytes()), []string{newer.Slug, older.Slug, yearAgo.Slug}; !slices.Equal(got, want) {
		t.Errorf("past in Bergen: %v, want newest first %v", got, want)
	}
	// the feed offered is the region's, not a feed of the past
	if strings.Contains(rec.Body.String(), "calendar.ics?when") {
		t.Error("the past view offers a feed with when=")
	}
	// the API and a bad value
	rec = get(t, a.Router, "/api/v1/events?region=bergen&when=past")
	var list events.APIList
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || list.Total != 3 || list.Events[0].Slug != newer.Slug {
		t.Errorf("API past: %d %+v (%v)", rec.Code, list, err)
	}
	apptest.Want(t, get(t, a.Router, "/regions/bergen?when=yesterday"), http.StatusBadRequest)
	apptest.Want(t, get(t, a.Router, "/api/v1/events?when=yesterday"), http.StatusBadRequest)
}

var subscribeRE = regexp.MustCompile(`<a class="cal-button" href="([^"]*)"`)

// subscribeLinks are the subscribe buttons' links on a page, by host (and
// scheme for webcal).
func subscribeLinks(t *testing.T, body string) map[string]*url.URL {
	t.Helper()
	i := strings.Index(body, `class="cal-buttons cal-subscribe"`)
	if i < 0 {
		t.Fatal("no subscribe buttons")
	}
	out := map[string]*url.URL{}
	for _, m := range subscribeRE.FindAllStringSubmatch(body[i:], -1) {
		u, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		key := u.Host
		if u.Scheme == "webcal" {
			key = "webcal"
		}
		out[key] = u
	}
	return out
}

func TestListingSubscribeLinks(t *testing.T) {
	a := apptest.New(t, apptest.Options{})
	ev := apptest.CreateEvent(t, a, nil)
	for _, c := range []struct {
		page, feed, name string
	}{
		{"/?lang=nb", "http://localhost:8080/calendar.ics", "Møteplass – alle arrangementer"},
		{"/regions/bergen?lang=nb", "http://localhost:8080/regions/bergen/calendar.ics", "Møteplasser i Bergen"},
		{"/regions/bergen?lang=nb&when=past&format=meeting_place", "http://localhost:8080/regions/bergen/calendar.ics?format=meeting_place", "Møteplasser i Bergen"},
		{"/organisers/dfo?lang=en", "http://localhost:8080/organisers/dfo/calendar.ics", "DFØ – Møteplass"},
	} {
		t.Run(c.page, func(t *testing.T) {
			rec := get(t, a.Router, c.page)
			apptest.Want(t, rec, http.StatusOK)
			body := rec.Body.String()
			links := subscribeLinks(t, body)
			checkSubscribeLinks(t, links, c.feed, c.name)
			if !strings.Contains(body, `readonly value="`+html.EscapeString(c.feed)+`"`) {
				t.Errorf("no read-only field with %s", c.feed)
			}
			// and the feed is there
			u, _ := url.Parse(c.feed)
			apptest.Want(t, get(t, a.Router, u.RequestURI()), http.StatusOK)
		})
	}
	rec := get(t, a.Router, "/?lang=nb")
	apptest.Says(t, rec, "Kalenderen din henter nye og endrede arrangementer av seg selv.")
	_ = ev
}

// checkSubscribeLinks holds the four subscribe links to the feed's address.
func checkSubscribeLinks(t *testing.T, links map[string]*url.URL, feed, name string) {
	t.Helper()
	webcal := "webcal://" + strings.TrimPrefix(strings.TrimPrefix(feed, "https://"), "http://")
	if g := links["calendar.google.com"]; g == nil || g.Path != "/calendar/r" || g.Query().Get("cid") != webcal {
		t.Errorf("Google: %v, want cid=%s", g, webcal)
	}
	for _, host := range []string{"outlook.live.com", "outlook.office.com"} {
		o := links[host]
		if o == nil || o.Scheme != "https" || o.Path != "/calendar/0/addfromweb" || o.Query().Get("url") != feed || o.Query().Get("name") != name {
			t.Errorf("%s: %v, want url=%s name=%s", host, o, feed, name)
		}
		if o != nil && strings.Contains(o.RawQuery, "+") {
			t.Errorf("%s: a '+' in %s", host, o.RawQuery)
		}
	}
	if w := links["webcal"]; w == nil || w.String() != webcal {
		t.Errorf("Apple: %v, want %s", w, webcal)
	}
	if len(links) != 4 {
		t.Errorf("links %v", links)
	}
}
