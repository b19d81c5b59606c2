package events_test

// The calendar feeds over HTTP (calendar.go): /calendar.ics with the
// listing's filters, a region's and an organiser's feed, and one event's
// .ics. What each lists and leaves out, the validators (ETag,
// Last-Modified, 304), HEAD, that every served calendar reads in go-ical
// and in ical.js, and that a feed is built once per change of the data.
// Helpers here are prefixed cal.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"
	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/icaljs"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/templates"
)

// The meeting links of calFixtures' online events: no public feed may
// show them.
const (
	calSecretDigital = "https://meet.example.no/hemmelig-digital"
	calSecretHybrid  = "https://meet.example.no/hemmelig-hybrid"
)

// calFixtures adds events around today to the demo: upcoming ones in
// Bergen and Tromsø, a cancelled one, one that ended 10 days ago (still in
// the feeds) and one 40 days ago (gone), a digital and a hybrid one with
// meeting links, and a draft.
func calFixtures(t testing.TB, a *app.App) map[string]*events.Event {
	t.Helper()
	day := func(days, hour int) time.Time {
		d := time.Now().In(events.Oslo).AddDate(0, 0, days)
		return time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, events.Oslo)
	}
	ev := func(slug, region, organiser string, days int) *events.Event {
		return newEvent(t, a, slug, region, organiser, day(days, 9), day(days, 12))
	}
	evs := map[string]*events.Event{
		"bergen":    ev("kal-bergen", "bergen", "dfo", 5),
		"tromso":    ev("kal-tromso", "tromso", "uit", 6),
		"cancelled": ev("kal-avlyst", "bergen", "dfo", 7),
		"recent":    ev("kal-nylig", "bergen", "dfo", -10),
		"old":       ev("kal-gammel", "bergen", "dfo", -40),
		"digital":   ev("kal-digital", "bergen", "dfo", 8),
		"hybrid":    ev("kal-hybrid", "bergen", "dfo", 9),
		"draft":     ev("kal-utkast", "bergen", "dfo", 5),
	}
	evs["cancelled"].Status, evs["cancelled"].Sequence = events.StatusCancelled, 1
	evs["draft"].Status = events.StatusDraft
	evs["digital"].Mode, evs["digital"].Format, evs["digital"].OnlineURL = "digital", "digital_meeting", calSecretDigital
	evs["hybrid"].Mode, evs["hybrid"].OnlineURL = "hybrid", calSecretHybrid
	evs["hybrid"].Venue = &events.Venue{Name: "Bryggen konferansesenter", Street: "Bryggen 1", Postcode: "5003", City: "Bergen"}
	list := make([]*events.Event, 0, len(evs))
	for _, e := range evs {
		list = append(list, e)
	}
	slices.SortFunc(list, func(x, y *events.Event) int { return strings.Compare(x.Slug, y.Slug) })
	addEvents(t, a, list...)
	return evs
}

// calUID is an event's UID in calendars served at the test base URL.
func calUID(id int64) string { return fmt.Sprintf("event-%d@localhost", id) }

// calDecode parses a served calendar with go-ical and returns it with the
// UIDs of its events.
func calDecode(t testing.TB, b []byte) (*ical.Calendar, map[string]*ical.Component) {
	t.Helper()
	cal, err := ical.NewDecoder(bytes.NewReader(b)).Decode()
	if err != nil {
		t.Fatalf("go-ical cannot read the feed: %v\n%.2000s", err, b)
	}
	evs := map[string]*ical.Component{}
	for _, c := range cal.Children {
		if c.Name != ical.CompEvent {
			continue
		}
		uid := c.Props.Get(ical.PropUID).Value
		if evs[uid] != nil {
			t.Errorf("two VEVENTs with UID %s", uid)
		}
		evs[uid] = c
	}
	return cal, evs
}

// calICALJS is what testdata/icaljs/parse.mjs prints, as far as read here.
type calICALJS struct {
	Method  string `json:"method"`
	CalName string `json:"calname"`
	Events  []struct {
		UID    string `json:"uid"`
		Status string `json:"status"`
		Start  *struct {
			Instant string `json:"instant"`
			TZID    string `json:"tzid"`
		} `json:"start"`
	} `json:"events"`
}

// calReadICALJS reads a calendar with ical.js, Mozilla's parser, as
// ical_icaljs_test.go does (that helper lives in package events; this file
// is in events_test). Without node or the package it skips, except in CI.
func calReadICALJS(t *testing.T, b []byte) calICALJS {
	t.Helper()
	var cal calICALJS
	icaljs.Parse(t, b, &cal)
	return cal
}

// calExpected is the oracle: the UIDs a feed should list, from the store,
// selected in Go (published or cancelled, ended at most 30 days ago).
func calExpected(t testing.TB, a *app.App, keep func(e events.Event) bool) []string {
	t.Helper()
	since := time.Now().Add(-30 * 24 * time.Hour)
	var uids []string
	for _, e := range allEvents(t, a) {
		if !e.EndsAt.Before(since) && keep(e) {
			uids = append(uids, calUID(e.ID))
		}
	}
	slices.Sort(uids)
	return uids
}

func calKeys(m map[string]*ical.Component) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestCalendarFeeds(t *testing.T) {
	a := newDemoApp(t)
	fx := calFixtures(t, a)
	all := func(events.Event) bool { return true }
	inBergen := func(e events.Event) bool { return e.Region.Slug == "bergen" }
	feeds := []struct {
		name, path string
		keep       func(e events.Event) bool
		calName    string
	}{
		{"all", "/calendar.ics", all, "Møteplass – alle arrangementer"},
		{"filtered", "/calendar.ics?region=bergen", inBergen, "Møteplass – alle arrangementer"},
		{"two filters", "/calendar.ics?region=bergen&mode=digital", func(e events.Event) bool { return inBergen(e) && e.Digital() }, "Møteplass – alle arrangementer"},
		{"region", "/regions/bergen/calendar.ics", inBergen, ""},
		{"organiser", "/organisers/dfo/calendar.ics", func(e events.Event) bool { return e.Organiser.Slug == "dfo" }, "Direktoratet for forvaltning og økonomistyring (DFØ) – Møteplass"},
		{"one event", "/events/kal-hybrid.ics", func(e events.Event) bool { return e.Slug == "kal-hybrid" }, "Testmøte kal-hybrid"},
	}
	for _, f := range feeds {
		t.Run(f.name, func(t *testing.T) {
			rec := get(t, a.Router, f.path)
			apptest.Want(t, rec, http.StatusOK)
			h := rec.Header()
			if ct := h.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			etag, modified := h.Get("ETag"), h.Get("Last-Modified")
			if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 10 {
				t.Errorf("ETag = %q", etag)
			}
			if _, err := http.ParseTime(modified); err != nil {
				t.Errorf("Last-Modified = %q: %v", modified, err)
			}
			body := rec.Body.Bytes()

			cal, evs := calDecode(t, body)
			if m := cal.Props.Get(ical.PropMethod); m == nil || m.Value != "PUBLISH" {
				t.Errorf("METHOD = %v", m)
			}
			if want := calExpected(t, a, f.keep); !slices.Equal(calKeys(evs), want) {
				t.Errorf("the feed lists\n %v, want\n %v", calKeys(evs), want)
			}
			for _, secret := range []string{calSecretDigital, calSecretHybrid} {
				if bytes.Contains(bytes.ReplaceAll(body, []byte("\r\n "), nil), []byte(secret)) {
					t.Errorf("a public feed shows the meeting link %s", secret)
				}
			}

			js := calReadICALJS(t, body)
			if js.Method != "PUBLISH" || len(js.Events) != len(evs) {
				t.Errorf("ical.js read METHOD %s and %d events, go-ical %d", js.Method, len(js.Events), len(evs))
			}
			if f.calName != "" && js.CalName != f.calName {
				t.Errorf("X-WR-CALNAME (ical.js) = %q, want %q", js.CalName, f.calName)
			}
			for _, e := range js.Events {
				if e.Start == nil || e.Start.TZID != "Europe/Oslo" {
					t.Errorf("%s starts %+v, want in Europe/Oslo", e.UID, e.Start)
				}
			}

			t.Run("HEAD", func(t *testing.T) {
				head := request(t, a.Router, http.MethodHead, f.path)
				apptest.Want(t, head, http.StatusOK)
				if head.Body.Len() != 0 {
					t.Errorf("HEAD has a body of %d bytes", head.Body.Len())
				}
				if head.Header().Get("ETag") != etag || head.Header().Get("Last-Modified") != modified ||
					head.Header().Get("Content-Type") != "text/calendar; charset=utf-8" {
					t.Errorf("HEAD headers %v", head.Header())
				}
			})
			t.Run("revalidation", func(t *testing.T) {
				for _, c := range []struct {
					name   string
					header []string
					want   int
				}{
					{"same ETag", []string{"If-None-Match", etag}, http.StatusNotModified},
					{"ETag in a list", []string{"If-None-Match", `"other", W/` + etag}, http.StatusNotModified},
					{"other ETag", []string{"If-None-Match", `"other"`}, http.StatusOK},
					{"same date", []string{"If-Modified-Since", modified}, http.StatusNotModified},
					{"later date", []string{"If-Modified-Since", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}, http.StatusNotModified},
					{"earlier date", []string{"If-Modified-Since", "Mon, 02 Jan 2006 15:04:05 GMT"}, http.StatusOK},
					{"ETag wins over date", []string{"If-None-Match", `"other"`, "If-Modified-Since", modified}, http.StatusOK},
				} {
					rec := get(t, a.Router, f.path, c.header...)
					if rec.Code != c.want {
						t.Errorf("%s: status %d, want %d", c.name, rec.Code, c.want)
					}
					if c.want == http.StatusNotModified && (rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag) {
						t.Errorf("%s: 304 with %d bytes and ETag %q", c.name, rec.Body.Len(), rec.Header().Get("ETag"))
					}
				}
			})
		})
	}

	t.Run("what the Bergen feed shows", func(t *testing.T) {
		_, evs := calDecode(t, get(t, a.Router, "/calendar.ics?region=bergen").Body.Bytes())
		for _, e := range allEvents(t, a) {
			if ve := evs[calUID(e.ID)]; ve != nil && e.Region.Slug != "bergen" {
				t.Errorf("%s in %s is in the Bergen feed", e.Slug, e.Region.Slug)
			}
		}
		ve := evs[calUID(fx["cancelled"].ID)]
		if ve == nil {
			t.Fatal("the cancelled event is not in the feed")
		}
		if s := ve.Props.Get(ical.PropStatus).Value; s != "CANCELLED" {
			t.Errorf("the cancelled event has STATUS %s", s)
		}
		if s := ve.Props.Get(ical.PropSequence).Value; s != "1" {
			t.Errorf("the cancelled event has SEQUENCE %s", s)
		}
		if evs[calUID(fx["recent"].ID)] == nil {
			t.Error("the event of 10 days ago is not in the feed")
		}
		for _, gone := range []string{"old", "draft", "tromso"} {
			if evs[calUID(fx[gone].ID)] != nil {
				t.Errorf("%s is in the feed", fx[gone].Slug)
			}
		}
		if loc, _ := evs[calUID(fx["digital"].ID)].Props.Text(ical.PropLocation); loc != "" {
			t.Errorf("the digital event's LOCATION is %q, want none in a public feed", loc)
		}
	})

	t.Run("addresses that are no feed", func(t *testing.T) {
		for path, want := range map[string]int{
			"/regions/atlantis/calendar.ics":    http.StatusNotFound,
			"/organisers/ingen/calendar.ics":    http.StatusNotFound,
			"/events/finnes-ikke.ics":           http.StatusNotFound,
			"/events/kal-utkast.ics":            http.StatusNotFound, // a draft
			"/calendar.ics?level=admiral":       http.StatusBadRequest,
			"/calendar.ics?from=i-morgen":       http.StatusBadRequest,
			"/calendar.ics?region=" + "Bergen!": http.StatusBadRequest,
		} {
			if rec := get(t, a.Router, path); rec.Code != want {
				t.Errorf("%s: status %d, want %d", path, rec.Code, want)
			}
		}
	})
}

// calBuildCounter is an events.Handler on the app's database whose clock
// counts the feed builds (serveFeed asks for the time only when it builds).
func calBuildCounter(t testing.TB, a *app.App) (http.Handler, *atomic.Int64) {
	t.Helper()
	cat, err := web.LoadCatalogue(templates.FS, "locales")
	if err != nil {
		t.Fatal(err)
	}
	rnd, err := web.NewRenderer(templates.FS, cat, a.Config.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	h := events.NewHandler(a.DB, rnd, a.Config.BaseURL)
	var builds atomic.Int64
	h.Now = func() time.Time { builds.Add(1); return time.Now() }
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(web.Language(web.Cookies{}))
	// the feeds' routes, as internal/app/routes.go has them
	for path, feed := range map[string]gin.HandlerFunc{
		"/calendar.ics": h.FeedAll, "/regions/:slug/calendar.ics": h.FeedRegion, "/organisers/:slug/calendar.ics": h.FeedOrganiser,
	} {
		r.GET(path, feed)
		r.HEAD(path, feed)
	}
	return r, &builds
}

// calManyEvents adds n published events in one region, starting tomorrow,
// one an hour, and returns them.
func calManyEvents(t testing.TB, a *app.App, n int) []*events.Event {
	t.Helper()
	ctx := context.Background()
	region := events.Region{Slug: "vestland", Name: "Vestland"}
	org := events.Organiser{Slug: "dfo-test", Name: "DFØ", Kind: "public", ContactEmail: "post@dfo.example.no"}
	evs := make([]*events.Event, n)
	start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
	err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := events.CreateRegion(ctx, tx, &region, 1); err != nil {
			return err
		}
		if err := events.CreateOrganiser(ctx, tx, &org); err != nil {
			return err
		}
		venue := &events.Venue{Name: "Bryggen konferansesenter", Street: "Bryggen 1", Postcode: "5003", City: "Bergen"}
		if err := events.CreateVenue(ctx, tx, venue); err != nil {
			return err
		}
		for i := range evs {
			s := start.Add(time.Duration(i) * time.Hour)
			evs[i] = &events.Event{
				Slug: fmt.Sprintf("mote-%04d", i), Title: fmt.Sprintf("Ledermøte nr. %d – tillit, åpenhet og ærlighet", i),
				Summary: "Et møte for ledere i staten og kommunene, med samtale rundt bordene.",
				Format:  "meeting_place", Mode: "physical", StartsAt: s.UTC(), EndsAt: s.Add(2 * time.Hour).UTC(),
				Region: region, Organiser: org, Venue: venue, Capacity: 50, Sector: "public", Facilitation: "facilitated",
				Theme: "leadership", Language: "nb", Status: events.StatusPublished,
				Agenda: []events.AgendaItem{{StartsAt: s.UTC(), Title: "Velkommen", Introducer: "DFØ"}, {Title: "Samtale"}},
			}
			if err := events.CreateEvent(ctx, tx, now, evs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// A feed of 1,000 events is built once per change of the data: requests
// between changes are served from the cache, and the first request after a
// write builds it anew.
func TestCalendarFeedBuiltOncePerChange(t *testing.T) {
	a := apptest.New(t, apptest.Options{})
	evs := calManyEvents(t, a, 1000)
	h, builds := calBuildCounter(t, a)
	fetch := func(header ...string) *bytes.Buffer {
		t.Helper()
		rec := get(t, h, "/calendar.ics", header...)
		if rec.Code != http.StatusOK && rec.Code != http.StatusNotModified {
			t.Fatalf("status %d", rec.Code)
		}
		return rec.Body
	}

	body := fetch()
	if n := bytes.Count(body.Bytes(), []byte("BEGIN:VEVENT")); n != 1000 {
		t.Fatalf("%d events in the feed, want 1000", n)
	}
	etag := get(t, h, "/calendar.ics").Header().Get("ETag")
	for range 5 {
		fetch()
		fetch("If-None-Match", etag)
		request(t, h, http.MethodHead, "/calendar.ics")
	}
	if n := builds.Load(); n != 1 {
		t.Fatalf("%d builds for unchanged data, want 1", n)
	}

	// a write: the next request builds again, with the change in it
	ctx := context.Background()
	err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `UPDATE events SET title = 'Endret tittel', updated_at = ? WHERE id = ?`, now, evs[500].ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if rec := get(t, h, "/calendar.ics", "If-None-Match", etag); rec.Code != http.StatusOK {
		t.Errorf("after a change the old ETag gets %d, want 200", rec.Code)
	}
	if !bytes.Contains(fetch().Bytes(), []byte("SUMMARY:Endret tittel")) {
		t.Error("the rebuilt feed does not have the change")
	}
	for range 3 {
		fetch()
	}
	if n := builds.Load(); n != 2 {
		t.Errorf("%d builds after one change, want 2", n)
	}

	// a write that changes nothing in the feed rebuilds it, with the
	// same ETag: clients still get 304
	etag = get(t, h, "/calendar.ics").Header().Get("ETag")
	a.DB.Touch()
	if rec := get(t, h, "/calendar.ics", "If-None-Match", etag); rec.Code != http.StatusNotModified {
		t.Errorf("a rebuild of the same content answers %d to its ETag, want 304", rec.Code)
	}
	if n := builds.Load(); n != 3 {
		t.Errorf("%d builds, want 3", n)
	}

	// each filter and language is a feed of its own, built once
	for range 2 {
		fetch("Accept-Language", "en")
		get(t, h, "/calendar.ics?mode=physical")
	}
	if n := builds.Load(); n != 5 {
		t.Errorf("%d builds, want 5 (one in English, one filtered)", n)
	}
}

// A client that revalidates with If-Modified-Since alone must not get 304
// when an event left the feed: Last-Modified is the newest updated_at of
// the events still listed, so unpublishing the newest one moves it back.
func TestCalendarFeedLastModifiedWhenAnEventLeaves(t *testing.T) {
	a := apptest.New(t, apptest.Options{})
	evs := calManyEvents(t, a, 3)
	ctx := context.Background()
	touch := func(status string) {
		t.Helper()
		err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
			_, err := tx.ExecContext(ctx, `UPDATE events SET status = ?, updated_at = ? WHERE id = ?`, status, now.Add(2*time.Second), evs[2].ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	touch("published") // the newest change is evs[2]'s
	first := get(t, a.Router, "/calendar.ics")
	apptest.Want(t, first, http.StatusOK)
	touch("draft") // the organiser unpublishes it
	rec := get(t, a.Router, "/calendar.ics", "If-Modified-Since", first.Header().Get("Last-Modified"))
	if rec.Code == http.StatusNotModified {
		t.Error("Last-Modified went back when the newest event left the feed: If-Modified-Since alone got 304 for a changed feed")
	}
	if n := bytes.Count(rec.Body.Bytes(), []byte("BEGIN:VEVENT")); n != 2 {
		t.Errorf("%d events, want 2", n)
	}
}
