package registration_test

// The personal calendar feed (feed.go): the block on the manage page, what
// the feed lists and leaves out, its HTTP behaviour, and resetting its
// address. Helpers here are prefixed feed.

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/icaljs"
	"github.com/moteplass/moteplass/registration"
)

var feedURLRE = regexp.MustCompile(`http://localhost:8080/feeds/([A-Za-z0-9_-]{43})\.ics`)

// feedTokenOn is the feed token the manage page of token shows ("" for none).
func feedTokenOn(t testing.TB, c *apptest.Client, token string) string {
	t.Helper()
	rec := c.Get("/r/" + token)
	apptest.Want(t, rec, http.StatusOK)
	m := feedURLRE.FindStringSubmatch(rec.Body.String())
	if m == nil {
		return ""
	}
	if !strings.Contains(rec.Body.String(), `href="webcal://localhost:8080/feeds/`+m[1]+`.ics"`) {
		t.Errorf("the manage page shows the feed without its webcal:// link")
	}
	return m[1]
}

// feedGet fetches a feed with extra request headers (name, value, ...).
func feedGet(t testing.TB, a *app.App, method, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	a.Router.ServeHTTP(rec, req)
	return rec
}

// feedDecode parses a calendar with go-ical.
func feedDecode(t testing.TB, b []byte) *ical.Calendar {
	t.Helper()
	cal, err := ical.NewDecoder(bytes.NewReader(b)).Decode()
	if err != nil {
		t.Fatalf("go-ical cannot read the feed: %v\n%s", err, b)
	}
	return cal
}

// feedEvents maps the UIDs of a calendar's events to the events.
func feedEvents(t testing.TB, cal *ical.Calendar) map[string]*ical.Component {
	t.Helper()
	out := map[string]*ical.Component{}
	for _, c := range cal.Children {
		if c.Name != ical.CompEvent {
			continue
		}
		uid := c.Props.Get(ical.PropUID).Value
		if out[uid] != nil {
			t.Errorf("two VEVENTs with UID %s", uid)
		}
		out[uid] = c
	}
	return out
}

func feedUID(id int64) string { return "event-" + strconv.FormatInt(id, 10) + "@localhost" }

// feedInsertRegistration writes a confirmed registration straight into the
// table, for events that no longer take sign-ups (past ones).
func feedInsertRegistration(t testing.TB, a *app.App, eventID int64, email string) {
	t.Helper()
	ctx := context.Background()
	err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO registrations (event_id, status, name, email, email_norm,
			organisation, level, sector, created_at, updated_at, queued_at)
			VALUES (?, 'confirmed', 'Kari Nordmann', ?, ?, 'Testetaten', 'middle', 'state', ?, ?, ?)`,
			eventID, email, registration.NormalizeEmail(email), now, now, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// feedCancelEvent changes an event's status the way the organiser's cancel
// does (a new sequence, a new updated_at).
func feedCancelEvent(t testing.TB, a *app.App, eventID int64) {
	t.Helper()
	ctx := context.Background()
	err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `UPDATE events SET status = 'cancelled', sequence = sequence + 1, updated_at = ? WHERE id = ?`, now, eventID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// feedAt is a createEvent change moving the event to start days from now
// (negative: in the past) and last two hours.
func feedAt(a *app.App, days int) func(e *events.Event) {
	return func(e *events.Event) {
		start := a.DB.Now().Add(time.Duration(days) * 24 * time.Hour).Truncate(time.Second)
		e.StartsAt, e.EndsAt = start, start.Add(2*time.Hour)
	}
}

func TestPersonalFeed(t *testing.T) {
	a := newApp(t)
	fixedClock(a, time.Now().UTC().Truncate(time.Second))
	const kari = "kari.nordmann@example.no"

	upcoming := createEvent(t, a, nil)
	online := createEvent(t, a, func(e *events.Event) {
		e.Mode, e.Format, e.OnlineURL = "digital", "digital_meeting", "https://meet.example.no/moteplass-42"
	})
	cancelledByOrganiser := createEvent(t, a, nil)
	cancelledByKari := createEvent(t, a, nil)
	someoneElses := createEvent(t, a, nil)
	recent := createEvent(t, a, feedAt(a, -10))
	old := createEvent(t, a, feedAt(a, -40))
	cancelledAndOver := createEvent(t, a, feedAt(a, -2))

	token := mustSignUpMailed(t, a, upcoming.Slug, "Kari Nordmann", kari)
	// the same person, typed with capitals: the same feed
	onlineToken := mustSignUpMailed(t, a, online.Slug, "Kari Nordmann", "Kari.Nordmann@Example.no")
	mustSignUp(t, a, cancelledByOrganiser.Slug, "Kari Nordmann", kari)
	ownCancel := mustSignUpMailed(t, a, cancelledByKari.Slug, "Kari Nordmann", kari)
	mustSignUp(t, a, someoneElses.Slug, "Ola Nordmann", "ola@example.no")
	for _, ev := range []events.Event{recent, old, cancelledAndOver} {
		feedInsertRegistration(t, a, ev.ID, kari)
	}
	feedCancelEvent(t, a, cancelledByOrganiser.ID)
	feedCancelEvent(t, a, cancelledAndOver.ID)

	c := apptest.NewClient(t, a.Router)
	apptest.Want(t, c.PostForm("/r/"+ownCancel+"/cancel", url.Values{}), http.StatusSeeOther)

	feed := feedTokenOn(t, c, token)
	if feed == "" {
		t.Fatal("the manage page shows no personal calendar")
	}
	t.Run("one feed per address", func(t *testing.T) {
		if got := feedTokenOn(t, c, onlineToken); got != feed {
			t.Errorf("the second event's manage page shows feed %q, the first %q", got, feed)
		}
		if got := feedTokenOn(t, c, ownCancel); got != "" {
			t.Error("the page of a cancelled registration offers the feed")
		}
		apptest.Says(t, c.Get("/r/"+token), "Din personlige kalender", "Kalenderen din henter nye og endrede arrangementer av seg selv.", "Apple Kalender (iPhone, iPad, Mac)", "Lag ny adresse")
	})

	path := "/feeds/" + feed + ".ics"
	rec := feedGet(t, a, http.MethodGet, path)
	apptest.Want(t, rec, http.StatusOK)
	body := rec.Body.Bytes()

	t.Run("headers", func(t *testing.T) {
		for name, want := range map[string]string{
			"Content-Type":    "text/calendar; charset=utf-8",
			"Referrer-Policy": "no-referrer",
			"X-Robots-Tag":    "noindex",
			"Cache-Control":   "private, max-age=900",
		} {
			if got := rec.Header().Get(name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if rec.Header().Get("ETag") == "" {
			t.Error("no ETag")
		}
		if _, err := http.ParseTime(rec.Header().Get("Last-Modified")); err != nil {
			t.Errorf("Last-Modified %q: %v", rec.Header().Get("Last-Modified"), err)
		}
	})

	t.Run("what it lists", func(t *testing.T) {
		cal := feedDecode(t, body)
		if m := cal.Props.Get(ical.PropMethod); m == nil || m.Value != "PUBLISH" {
			t.Errorf("METHOD = %v, want PUBLISH", m)
		}
		if name, _ := cal.Props.Text("X-WR-CALNAME"); name != "Møteplass – mine arrangementer" {
			t.Errorf("X-WR-CALNAME = %q", name)
		}
		evs := feedEvents(t, cal)
		var got []string
		for uid := range evs {
			got = append(got, uid)
		}
		slices.Sort(got)
		want := []string{feedUID(upcoming.ID), feedUID(online.ID), feedUID(cancelledByOrganiser.ID), feedUID(recent.ID)}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("the feed lists %v, want %v (upcoming, online, cancelled by the organiser, 10 days ago)", got, want)
		}
		if ve := evs[feedUID(cancelledByOrganiser.ID)]; ve != nil {
			if s := ve.Props.Get(ical.PropStatus).Value; s != "CANCELLED" {
				t.Errorf("the cancelled event has STATUS %s", s)
			}
			if seq := ve.Props.Get(ical.PropSequence).Value; seq != "1" {
				t.Errorf("the cancelled event has SEQUENCE %s, want 1", seq)
			}
		}
		if ve := evs[feedUID(upcoming.ID)]; ve != nil && ve.Props.Get(ical.PropStatus).Value != "CONFIRMED" {
			t.Errorf("the upcoming event has STATUS %s", ve.Props.Get(ical.PropStatus).Value)
		}
		if ve := evs[feedUID(online.ID)]; ve != nil {
			if loc, _ := ve.Props.Text(ical.PropLocation); loc != online.OnlineURL {
				t.Errorf("the online event's LOCATION is %q, want its meeting link", loc)
			}
		}
		if !strings.Contains(string(body), "BEGIN:VTIMEZONE") {
			t.Error("no VTIMEZONE")
		}
	})

	t.Run("ical.js reads it", func(t *testing.T) {
		cal := feedICALJS(t, body)
		if cal.Method != "PUBLISH" || len(cal.Events) != 4 {
			t.Fatalf("ical.js read METHOD %s and %d events, want PUBLISH and 4", cal.Method, len(cal.Events))
		}
		for _, ev := range cal.Events {
			if ev.Start == nil || ev.Start.TZID != "Europe/Oslo" {
				t.Errorf("event %s: start %+v, want in Europe/Oslo", ev.UID, ev.Start)
			}
		}
	})

	t.Run("revalidation and HEAD", func(t *testing.T) {
		etag, modified := rec.Header().Get("ETag"), rec.Header().Get("Last-Modified")
		apptest.Want(t, feedGet(t, a, http.MethodGet, path, "If-None-Match", etag), http.StatusNotModified)
		apptest.Want(t, feedGet(t, a, http.MethodGet, path, "If-None-Match", `"something-else"`), http.StatusOK)
		apptest.Want(t, feedGet(t, a, http.MethodGet, path, "If-Modified-Since", modified), http.StatusNotModified)
		head := feedGet(t, a, http.MethodHead, path)
		apptest.Want(t, head, http.StatusOK)
		if head.Body.Len() != 0 {
			t.Errorf("HEAD has a body of %d bytes", head.Body.Len())
		}
		if head.Header().Get("ETag") != etag || head.Header().Get("Content-Type") != "text/calendar; charset=utf-8" {
			t.Errorf("HEAD headers %v", head.Header())
		}
	})

	t.Run("a new place shows at once and moves Last-Modified", func(t *testing.T) {
		// An event made before Kari's previous registrations: its own
		// updated_at is older than the feed's Last-Modified, yet the feed
		// changed, so a client that sends only If-Modified-Since must not
		// get 304.
		later := createEvent(t, a, nil)
		etag, modified := rec.Header().Get("ETag"), rec.Header().Get("Last-Modified")
		fixedClock(a, a.DB.Now().Add(time.Hour))
		mustSignUp(t, a, later.Slug, "Kari Nordmann", kari)
		again := feedGet(t, a, http.MethodGet, path, "If-Modified-Since", modified)
		apptest.Want(t, again, http.StatusOK)
		if again.Header().Get("ETag") == etag {
			t.Error("the ETag did not change")
		}
		if _, ok := feedEvents(t, feedDecode(t, again.Body.Bytes()))[feedUID(later.ID)]; !ok {
			t.Error("the new event is not in the feed")
		}
	})

	t.Run("in the person's language", func(t *testing.T) {
		en := apptest.NewClient(t, a.Router)
		en.Header.Set("Accept-Language", "en")
		en.Get("/events/" + upcoming.Slug)
		r := en.PostForm("/events/"+upcoming.Slug+"/registrations", validForm("Emma Smith", "emma@example.no"))
		tokenOf(t, r)
		enToken := mailedToken(t, a, "emma@example.no", upcoming.Slug)
		enFeed := feedTokenOn(t, en, enToken)
		cal := feedDecode(t, feedGet(t, a, http.MethodGet, "/feeds/"+enFeed+".ics").Body.Bytes())
		if name, _ := cal.Props.Text("X-WR-CALNAME"); name != "Møteplass – my events" {
			t.Errorf("X-WR-CALNAME = %q, want the English name", name)
		}
		apptest.Says(t, en.Get("/r/"+enToken), "Your personal calendar", "Make a new address")
	})

	t.Run("addresses that are no feed", func(t *testing.T) {
		unknown := strings.Repeat("A", 43)
		for _, p := range []string{"/feeds/" + unknown + ".ics", "/feeds/" + feed, "/feeds/" + feed + ".txt", "/feeds/abc.ics", "/feeds/" + feed[:42] + "*.ics"} {
			rec := feedGet(t, a, http.MethodGet, p)
			if rec.Code != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", p, rec.Code)
			}
			if rec.Header().Get("X-Robots-Tag") != "noindex" || rec.Header().Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("%s: 404 without noindex and no-referrer", p)
			}
		}
	})

	t.Run("reset", func(t *testing.T) {
		// without the CSRF token: refused
		req := httptest.NewRequest(http.MethodPost, "/r/"+token+"/feed/reset", strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		apptest.Want(t, c.Do(req), http.StatusForbidden)
		apptest.Want(t, feedGet(t, a, http.MethodGet, path), http.StatusOK)

		rec := c.PostForm("/r/"+token+"/feed/reset", url.Values{})
		apptest.Want(t, rec, http.StatusSeeOther)
		if loc := rec.Header().Get("Location"); loc != "/r/"+token {
			t.Errorf("reset redirects to %q", loc)
		}
		if rec.Header().Get("Referrer-Policy") != "no-referrer" {
			t.Error("the reset answer may send the manage token on as a Referer")
		}
		page := c.Follow(rec)
		apptest.Says(t, page, "Kalenderen din har fått ny adresse.")
		fresh := feedURLRE.FindStringSubmatch(page.Body.String())
		if fresh == nil || fresh[1] == feed {
			t.Fatalf("after the reset the page shows %v, the old feed was %s", fresh, feed)
		}
		apptest.Want(t, feedGet(t, a, http.MethodGet, path), http.StatusNotFound)
		apptest.Want(t, feedGet(t, a, http.MethodGet, "/feeds/"+fresh[1]+".ics"), http.StatusOK)
		if got := feedTokenOn(t, c, onlineToken); got != fresh[1] {
			t.Errorf("the other manage page shows %s, want the new feed %s", got, fresh[1])
		}
		// a manage link that does not exist resets nothing
		apptest.Want(t, c.PostForm("/r/"+strings.Repeat("B", 43)+"/feed/reset", url.Values{}), http.StatusNotFound)
	})

	t.Run("erasure removes it", func(t *testing.T) {
		pf, err := a.Registrations.PersonalFeed(context.Background(), registration.NormalizeEmail(kari))
		if err != nil {
			t.Fatal(err)
		}
		err = a.DB.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error {
			return registration.DeletePersonalFeed(context.Background(), tx, pf.EmailNorm)
		})
		if err != nil {
			t.Fatal(err)
		}
		apptest.Want(t, feedGet(t, a, http.MethodGet, "/feeds/"+pf.Token+".ics"), http.StatusNotFound)
	})
}

// Two first views of manage pages at once make one feed, not two.
func TestPersonalFeedMadeOnce(t *testing.T) {
	a := newApp(t)
	var wg sync.WaitGroup
	tokens := make([]string, 8)
	errs := make([]error, 8)
	for i := range tokens {
		wg.Go(func() {
			pf, err := a.Registrations.PersonalFeed(context.Background(), "per@example.no")
			tokens[i], errs[i] = pf.Token, err
		})
	}
	wg.Wait()
	for i := range tokens {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if tokens[i] != tokens[0] {
			t.Errorf("feed %d is %s, feed 0 %s", i, tokens[i], tokens[0])
		}
	}
}

func TestFeedLinksFor(t *testing.T) {
	for base, want := range map[string]string{
		"https://moteplass.example.no":  "webcal://moteplass.example.no/feeds/T.ics",
		"https://moteplass.example.no/": "webcal://moteplass.example.no/feeds/T.ics",
		"http://localhost:8080":         "webcal://localhost:8080/feeds/T.ics",
	} {
		l := registration.FeedLinksFor(base, "T", "Mine", "/r/x/feed/reset")
		if string(l.Webcal) != want || l.HTTPS != strings.TrimRight(base, "/")+"/feeds/T.ics" {
			t.Errorf("%s: %+v", base, l)
		}
	}
}

// feedICALJSCalendar is what events/testdata/icaljs/parse.mjs prints, as
// far as these tests read it.
type feedICALJSCalendar struct {
	Method string `json:"method"`
	Events []struct {
		UID    string `json:"uid"`
		Status string `json:"status"`
		Start  *struct {
			TZID string `json:"tzid"`
		} `json:"start"`
	} `json:"events"`
}

// feedICALJS reads a calendar with ical.js (Mozilla's parser), through the
// script of events' tests. Without node or the package it skips, except in
// CI.
func feedICALJS(t *testing.T, b []byte) feedICALJSCalendar {
	t.Helper()
	var cal feedICALJSCalendar
	icaljs.Parse(t, b, &cal)
	return cal
}
