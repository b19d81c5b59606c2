package events_test

// Tests of the public pages through the real router and a real SQLite file
// in t.TempDir(): the listing and its filters, pagination, the event page
// (dates, place, programme, seats, JSON-LD, OpenGraph), languages, the error
// pages, security headers, static files, and a table of hostile inputs that
// must never produce a 5xx.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/templates"
)

// ---- helpers shared by the tests of this package ----

// newDemoApp is the real app with the demo data in a fresh database.
func newDemoApp(t testing.TB) *app.App {
	t.Helper()
	return apptest.New(t, apptest.Options{Demo: true})
}

// request sends one request through the router with optional header
// name/value pairs and returns the recorded response.
func request(t testing.TB, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func get(t testing.TB, h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	return request(t, h, http.MethodGet, target, header...)
}

var cardRE = regexp.MustCompile(`<h3 class="card-title"><a href="/events/([^"]+)">`)

// cardSlugs lists the events shown as cards on a listing page, in order.
func cardSlugs(body []byte) []string {
	var out []string
	for _, m := range cardRE.FindAllSubmatch(body, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

var noticeRE = regexp.MustCompile(`(?s)<div class="notice" role="status">(.*?)</div>`)

// notices are the "we ignored a value" messages on a page.
func notices(body []byte) []string {
	var out []string
	for _, m := range noticeRE.FindAllSubmatch(body, -1) {
		out = append(out, html.UnescapeString(string(m[1])))
	}
	return out
}

func store(a *app.App) *events.Store { return &events.Store{DB: a.DB} }

// allEvents is every published or cancelled event, past ones included,
// soonest first: the oracle the filter tests select from in Go.
func allEvents(t testing.TB, a *app.App) []events.Event {
	t.Helper()
	evs, _, err := store(a).FindEvents(context.Background(), events.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// upcoming is what the default listing should show at now: events that
// have not ended.
func upcoming(evs []events.Event, now time.Time) []events.Event {
	var out []events.Event
	for _, e := range evs {
		if !e.EndsAt.Before(now) {
			out = append(out, e)
		}
	}
	return out
}

func slugsOf(evs []events.Event) []string {
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.Slug)
	}
	return out
}

func selectEvents(evs []events.Event, keep func(e events.Event) bool) []events.Event {
	var out []events.Event
	for _, e := range evs {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// osloDay is the date days from today in Oslo, as the filter form writes it.
func osloDay(days int) string {
	return time.Now().In(events.Oslo).AddDate(0, 0, days).Format("2006-01-02")
}

// oslo is a wall-clock time in Oslo.
func oslo(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, events.Oslo)
}

// newEvent is a published, free, open, physical meeting place in region,
// run by organiser, with the IDs looked up in the database.
func newEvent(t testing.TB, a *app.App, slug, region, organiser string, start, end time.Time) *events.Event {
	t.Helper()
	ctx := context.Background()
	r, err := store(a).FindRegionBySlug(ctx, region)
	if err != nil {
		t.Fatalf("region %s: %v", region, err)
	}
	o, err := store(a).FindOrganiserBySlug(ctx, organiser)
	if err != nil {
		t.Fatalf("organiser %s: %v", organiser, err)
	}
	return &events.Event{
		Slug: slug, Title: "Testmøte " + slug, Summary: "Et møte laget av testene.",
		Format: "meeting_place", Mode: "physical", StartsAt: start.UTC(), EndsAt: end.UTC(),
		Region: r, Organiser: o, Capacity: 50, Sector: "public", Facilitation: "facilitated",
		Theme: "leadership", Language: "nb", Status: events.StatusPublished,
	}
}

// addEvents writes events (and their venues, when new) in one transaction.
func addEvents(t testing.TB, a *app.App, evs ...*events.Event) {
	t.Helper()
	ctx := context.Background()
	err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		for _, e := range evs {
			if e.Venue != nil && e.Venue.ID == 0 {
				if err := events.CreateVenue(ctx, tx, e.Venue); err != nil {
					return err
				}
			}
			if err := events.CreateEvent(ctx, tx, now, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("add events: %v", err)
	}
}

// addRegistrations writes n registrations with status (confirmed, waiting
// or cancelled) straight into the table: the registration package is not
// under test here, only how the pages count them.
func addRegistrations(t testing.TB, a *app.App, eventID int64, status string, n int) {
	t.Helper()
	ctx := context.Background()
	err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		for i := 0; i < n; i++ {
			email := fmt.Sprintf("%s-%d-%d@test.example.no", status, eventID, i)
			if _, err := tx.ExecContext(ctx, `INSERT INTO registrations (event_id, status, name, email, email_norm,
				organisation, level, sector, created_at, updated_at, queued_at)
				VALUES (?, ?, ?, ?, ?, ?, 'middle', 'state', ?, ?, ?)`,
				eventID, status, "Test Testesen", email, email, "Testetaten", now, now, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("add registrations: %v", err)
	}
}

func f64(f float64) *float64 { return &f }

// checkHTML asserts what every HTML page must satisfy: a content type, no
// leftover CSRF placeholder, and the security headers.
func checkHTML(t testing.TB, rec *httptest.ResponseRecorder) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if strings.Contains(rec.Body.String(), "__MOTEPLASS_CSRF_TOKEN__") {
		t.Error("the CSRF placeholder reached the visitor")
	}
	checkSecurityHeaders(t, rec)
}

func checkSecurityHeaders(t testing.TB, rec *httptest.ResponseRecorder) {
	t.Helper()
	for name, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "strict-origin-when-cross-origin",
		"Permissions-Policy":      "camera=()",
	} {
		if got := rec.Header().Get(name); !strings.Contains(got, want) {
			t.Errorf("header %s = %q, want it to contain %q", name, got, want)
		}
	}
}

// ---- the listing ----

func TestListShowsUpcomingEventsSoonestFirst(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	rec := get(t, a.Router, "/")
	apptest.Want(t, rec, http.StatusOK)
	checkHTML(t, rec)

	want := slugsOf(upcoming(allEvents(t, a), time.Now()))
	got := cardSlugs(rec.Body.Bytes())
	if !slices.Equal(got, want) {
		t.Fatalf("cards:\n got %v\nwant %v", got, want)
	}
	if len(got) < 15 {
		t.Fatalf("the demo should show most of its events on /, got %d", len(got))
	}
	text := apptest.Text(rec.Body.Bytes())
	for _, s := range []string{"Møteplasser for ledere", fmt.Sprintf("%d arrangementer", len(want)), "Tromsø", "Bodø"} {
		if !strings.Contains(text, s) {
			t.Errorf("the front page does not say %q", s)
		}
	}
	if n := len(notices(rec.Body.Bytes())); n != 0 {
		t.Errorf("%d notices on a plain front page", n)
	}
}

// filterCase is one filter value, the rule an event must meet to be listed
// (written here, independently of the SQL), and events it must and must not
// show in the demo, so the rule is tied to real data.
type filterCase struct {
	param, value string
	keep         func(e events.Event) bool
	has, hasNot  []string
}

func filterCases() []filterCase {
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	var cases []filterCase
	for _, r := range []string{"oslo", "bergen", "trondheim", "stavanger", "tromso", "kristiansand", "bodo"} {
		cases = append(cases, filterCase{param: "region", value: r, keep: func(e events.Event) bool { return e.Region.Slug == r }})
	}
	for _, f := range events.Formats {
		cases = append(cases, filterCase{param: "format", value: f, keep: func(e events.Event) bool { return e.Format == f }})
	}
	for _, l := range events.Levels {
		cases = append(cases, filterCase{param: "level", value: l, keep: func(e events.Event) bool { return in(e.Levels, l) }})
	}
	for _, r := range events.Roles {
		cases = append(cases, filterCase{param: "role", value: r, keep: func(e events.Event) bool { return in(e.Roles, r) }})
	}
	for _, th := range []string{"leadership", "subject"} {
		cases = append(cases, filterCase{param: "theme", value: th, keep: func(e events.Event) bool { return e.Theme == th || e.Theme == "both" }})
	}
	cases = append(cases,
		filterCase{param: "price", value: "free", keep: func(e events.Event) bool { return e.PriceNOK == 0 },
			has: []string{"regional-topplederkonferanse-trondheim"}, hasNot: []string{"varkonferansen-nhh"}},
		filterCase{param: "price", value: "paid", keep: func(e events.Event) bool { return e.PriceNOK > 0 },
			has: []string{"varkonferansen-nhh"}, hasNot: []string{"regional-topplederkonferanse-trondheim"}},
		filterCase{param: "access", value: "open", keep: func(e events.Event) bool { return !e.InvitationOnly },
			has: []string{"partnerforum-styring-og-ledelse"}, hasNot: []string{"administrasjonssjefer-stavanger-mote-1"}},
		filterCase{param: "access", value: "invitation", keep: func(e events.Event) bool { return e.InvitationOnly },
			has: []string{"administrasjonssjefer-stavanger-mote-1", "administrasjonssjefer-stavanger-mote-4"}, hasNot: []string{"partnerforum-styring-og-ledelse"}},
		filterCase{param: "mode", value: "physical", keep: func(e events.Event) bool { return e.Mode == "physical" || e.Mode == "hybrid" },
			has: []string{"it-sikkerhet-for-ledere-bodo", "partnerforum-styring-og-ledelse"}, hasNot: []string{"digitalt-ledermote-ki-i-forvaltningen"}},
		filterCase{param: "mode", value: "digital", keep: func(e events.Event) bool { return e.Mode == "digital" || e.Mode == "hybrid" },
			has: []string{"it-sikkerhet-for-ledere-bodo", "digitalt-ledermote-ki-i-forvaltningen"}, hasNot: []string{"partnerforum-styring-og-ledelse"}},
	)
	// anchors for the enum filters
	anchors := map[string]filterCase{
		"region=stavanger":       {has: []string{"administrasjonssjefer-stavanger-mote-1", "mellomlederforum-stavanger-hr"}, hasNot: []string{"partnerforum-styring-og-ledelse"}},
		"format=conference":      {has: []string{"regional-topplederkonferanse-trondheim", "varkonferansen-nhh"}, hasNot: []string{"tid-for-ledelse-bergen-kunstig-intelligens"}},
		"level=top":              {has: []string{"regional-topplederkonferanse-trondheim", "partnerforum-styring-og-ledelse"}, hasNot: []string{"tid-for-ledelse-bergen-kunstig-intelligens"}},
		"level=first_line":       {has: []string{"forstelinjeledere-trondheim-ny-som-leder"}, hasNot: []string{"regional-topplederkonferanse-trondheim"}},
		"role=hr":                {has: []string{"ledermoteplass-nord-rekruttering", "regional-topplederkonferanse-trondheim"}, hasNot: []string{"okonomiforum-virksomhetsstyring-oslo"}},
		"theme=subject":          {has: []string{"okonomiforum-virksomhetsstyring-oslo", "administrasjonssjefer-stavanger-mote-1"}, hasNot: []string{"partnerforum-styring-og-ledelse"}},
		"theme=leadership":       {has: []string{"partnerforum-styring-og-ledelse", "varkonferansen-nhh"}, hasNot: []string{"okonomiforum-virksomhetsstyring-oslo"}},
		"format=digital_meeting": {has: []string{"digitalt-ledermote-ki-i-forvaltningen"}, hasNot: []string{"it-sikkerhet-for-ledere-bodo"}},
	}
	for i, c := range cases {
		if an, ok := anchors[c.param+"="+c.value]; ok {
			cases[i].has, cases[i].hasNot = an.has, an.hasNot
		}
	}
	return cases
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	all := upcoming(allEvents(t, a), time.Now())
	for _, c := range filterCases() {
		t.Run(c.param+"="+c.value+" lists exactly the matching events", func(t *testing.T) {
			rec := get(t, a.Router, "/?"+c.param+"="+c.value)
			apptest.Want(t, rec, http.StatusOK)
			want := slugsOf(selectEvents(all, c.keep))
			got := cardSlugs(rec.Body.Bytes())
			if !slices.Equal(got, want) {
				t.Fatalf("cards:\n got %v\nwant %v", got, want)
			}
			for _, s := range c.has {
				if !slices.Contains(got, s) {
					t.Errorf("%s is missing", s)
				}
			}
			for _, s := range c.hasNot {
				if slices.Contains(got, s) {
					t.Errorf("%s should be filtered out", s)
				}
			}
			if len(got) == len(all) && len(c.hasNot) > 0 {
				t.Errorf("the filter filtered nothing")
			}
			if n := notices(rec.Body.Bytes()); len(n) != 0 {
				t.Errorf("a valid filter got notices: %v", n)
			}
			// the form shows the choice
			sel := fmt.Sprintf(`<option value="%s" selected>`, c.value)
			if !strings.Contains(rec.Body.String(), sel) {
				t.Errorf("the form does not show %s=%s as selected", c.param, c.value)
			}
		})
	}

	t.Run("filters combine", func(t *testing.T) {
		rec := get(t, a.Router, "/?region=bergen&format=breakfast_seminar&level=middle")
		apptest.Want(t, rec, http.StatusOK)
		want := slugsOf(selectEvents(all, func(e events.Event) bool {
			return e.Region.Slug == "bergen" && e.Format == "breakfast_seminar" && (len(e.Levels) == 0 || slices.Contains(e.Levels, "middle"))
		}))
		if got := cardSlugs(rec.Body.Bytes()); !slices.Equal(got, want) || len(got) != 3 {
			t.Fatalf("cards %v, want the 3 Tid for ledelse breakfasts %v", got, want)
		}
	})

	t.Run("a region page lists only its region", func(t *testing.T) {
		rec := get(t, a.Router, "/regions/tromso")
		apptest.Want(t, rec, http.StatusOK)
		want := slugsOf(selectEvents(all, func(e events.Event) bool { return e.Region.Slug == "tromso" }))
		if got := cardSlugs(rec.Body.Bytes()); !slices.Equal(got, want) || len(got) == 0 {
			t.Fatalf("cards %v, want %v", got, want)
		}
		if !strings.Contains(apptest.Text(rec.Body.Bytes()), "Møteplasser i Tromsø") {
			t.Error("the region page has no region title")
		}
	})

	t.Run("an organiser page lists only its events", func(t *testing.T) {
		rec := get(t, a.Router, "/organisers/dfo")
		apptest.Want(t, rec, http.StatusOK)
		want := slugsOf(selectEvents(all, func(e events.Event) bool { return e.Organiser.Slug == "dfo" }))
		if got := cardSlugs(rec.Body.Bytes()); !slices.Equal(got, want) || len(got) == 0 {
			t.Fatalf("cards %v, want %v", got, want)
		}
	})

	t.Run("a filter with no match says so and offers a reset", func(t *testing.T) {
		rec := get(t, a.Router, "/?region=kristiansand&access=invitation")
		apptest.Want(t, rec, http.StatusOK)
		text := apptest.Text(rec.Body.Bytes())
		if len(cardSlugs(rec.Body.Bytes())) != 0 || !strings.Contains(text, "Ingen kommende arrangementer passer") || !strings.Contains(text, "Vis alle arrangementer") {
			t.Fatalf("no empty state: %s", text)
		}
	})
}

func TestListDateRange(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	all := allEvents(t, a)
	day := func(s string) time.Time {
		d, err := time.ParseInLocation("2006-01-02", s, events.Oslo)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, c := range []struct {
		name     string
		from, to string
		has      []string
		hasNot   []string
	}{
		{"from and to bound both ends", osloDay(20), osloDay(50), []string{"partnerforum-styring-og-ledelse", "regional-topplederkonferanse-trondheim"},
			[]string{"tid-for-ledelse-bergen-psykologisk-trygghet", "frokostmote-beredskap-i-nord"}},
		{"a from date in the past shows past events", osloDay(-30), "", []string{"ledermoteplass-bergen-tillitsreform", "varkonferansen-nhh"}, nil},
		{"a to date alone ends the list", "", osloDay(12), []string{"tid-for-ledelse-bergen-psykologisk-trygghet", "digitalt-ledermote-ki-i-forvaltningen"},
			[]string{"ledermoteplass-bergen-tillitsreform", "administrasjonssjefer-stavanger-mote-1"}},
		{"one day includes events on that day", osloDay(21), osloDay(21), []string{"partnerforum-styring-og-ledelse"}, []string{"tid-for-ledelse-bergen-kunstig-intelligens"}},
		{"to before from lists nothing", osloDay(30), osloDay(10), nil, []string{"partnerforum-styring-og-ledelse"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := "/?"
			if c.from != "" {
				q += "from=" + c.from + "&"
			}
			if c.to != "" {
				q += "to=" + c.to
			}
			rec := get(t, a.Router, q)
			apptest.Want(t, rec, http.StatusOK)
			from := time.Now()
			if c.from != "" {
				from = day(c.from)
			}
			want := slugsOf(selectEvents(all, func(e events.Event) bool {
				if e.EndsAt.Before(from) {
					return false
				}
				return c.to == "" || e.StartsAt.Before(day(c.to).AddDate(0, 0, 1))
			}))
			got := cardSlugs(rec.Body.Bytes())
			if !slices.Equal(got, want) {
				t.Fatalf("cards:\n got %v\nwant %v", got, want)
			}
			for _, s := range c.has {
				if !slices.Contains(got, s) {
					t.Errorf("%s is missing", s)
				}
			}
			for _, s := range c.hasNot {
				if slices.Contains(got, s) {
					t.Errorf("%s should not be listed", s)
				}
			}
			if c.from != "" && !strings.Contains(rec.Body.String(), `name="from" value="`+c.from+`"`) {
				t.Error("the form does not keep the from date")
			}
		})
	}
}

func TestListPagination(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	// 25 more events in Oslo, on days the demo does not use
	var extra []*events.Event
	for i := 0; i < 25; i++ {
		d := time.Now().In(events.Oslo).AddDate(0, 0, 200+i)
		start := oslo(d.Year(), d.Month(), d.Day(), 10, 0)
		extra = append(extra, newEvent(t, a, fmt.Sprintf("ekstra-%02d", i), "oslo", "digdir", start, start.Add(2*time.Hour)))
	}
	addEvents(t, a, extra...)
	all := upcoming(allEvents(t, a), time.Now())
	if len(all) <= 2*events.PageSize {
		t.Fatalf("want more than two pages of events, have %d", len(all))
	}
	pages := (len(all) + events.PageSize - 1) / events.PageSize

	t.Run("the pages together list every event once, in order", func(t *testing.T) {
		var seen []string
		path := "/"
		for n := 1; n <= pages; n++ {
			rec := get(t, a.Router, path)
			apptest.Want(t, rec, http.StatusOK)
			got := cardSlugs(rec.Body.Bytes())
			wantLen := events.PageSize
			if n == pages {
				wantLen = len(all) - (pages-1)*events.PageSize
			}
			if len(got) != wantLen {
				t.Fatalf("page %d has %d cards, want %d", n, len(got), wantLen)
			}
			text := apptest.Text(rec.Body.Bytes())
			if !strings.Contains(text, fmt.Sprintf("Side %d av %d", n, pages)) {
				t.Errorf("page %d does not say which page it is", n)
			}
			if !strings.Contains(text, fmt.Sprintf("%d arrangementer", len(all))) {
				t.Errorf("page %d does not give the total", n)
			}
			if n > 1 {
				prev := fmt.Sprintf(`rel="prev" href="/?page=%d"`, n-1)
				if n == 2 {
					prev = `rel="prev" href="/"`
				}
				if !strings.Contains(rec.Body.String(), prev) {
					t.Errorf("page %d: no link %s", n, prev)
				}
			}
			seen = append(seen, got...)
			m := regexp.MustCompile(`rel="next" href="([^"]+)"`).FindStringSubmatch(rec.Body.String())
			if n == pages {
				if m != nil {
					t.Errorf("the last page links to a next page %s", m[1])
				}
				break
			}
			if m == nil {
				t.Fatalf("page %d has no next link", n)
			}
			path = html.UnescapeString(m[1])
			if path != fmt.Sprintf("/?page=%d", n+1) {
				t.Errorf("next link %q", path)
			}
		}
		if want := slugsOf(all); !slices.Equal(seen, want) {
			t.Fatalf("pages listed\n %v\nwant\n %v", seen, want)
		}
	})

	t.Run("page 2 keeps the filters", func(t *testing.T) {
		rec := get(t, a.Router, "/?region=oslo&page=2")
		apptest.Want(t, rec, http.StatusOK)
		oslo := slugsOf(selectEvents(all, func(e events.Event) bool { return e.Region.Slug == "oslo" }))
		if got := cardSlugs(rec.Body.Bytes()); !slices.Equal(got, oslo[events.PageSize:]) {
			t.Fatalf("page 2 of Oslo: %v, want %v", got, oslo[events.PageSize:])
		}
		if !strings.Contains(rec.Body.String(), `rel="prev" href="/?region=oslo"`) {
			t.Error("the previous link drops the region")
		}
		// a region's page has the region in its path, not again in the query
		rec = get(t, a.Router, "/regions/oslo")
		if !strings.Contains(rec.Body.String(), `rel="next" href="/regions/oslo?page=2"`) {
			t.Error("the region page has no next link to /regions/oslo?page=2")
		}
		if !strings.Contains(rec.Body.String(), `<link rel="canonical" href="http://localhost:8080/regions/oslo">`) {
			t.Error("the region page's canonical URL is not /regions/oslo")
		}
		rec = get(t, a.Router, "/regions/oslo?page=2")
		if !strings.Contains(rec.Body.String(), `rel="prev" href="/regions/oslo"`) {
			t.Error("page 2 of a region does not link back to /regions/oslo")
		}
	})

	t.Run("a page past the end is empty, not an error", func(t *testing.T) {
		rec := get(t, a.Router, fmt.Sprintf("/?page=%d", pages+1))
		apptest.Want(t, rec, http.StatusOK)
		if n := len(cardSlugs(rec.Body.Bytes())); n != 0 {
			t.Fatalf("%d cards past the last page", n)
		}
	})
}

// ---- the event page ----

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

// ---- languages and errors ----

func TestLanguages(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)

	t.Run("bokmål is the default", func(t *testing.T) {
		rec := get(t, a.Router, "/")
		if !strings.Contains(rec.Body.String(), `<html lang="nb">`) || rec.Header().Get("Content-Language") != "nb" {
			t.Fatal("not bokmål")
		}
		if !strings.Contains(rec.Body.String(), `<a href="/?lang=en" lang="en" hreflang="en">English</a>`) {
			t.Error("no switch to English")
		}
	})

	t.Run("Accept-Language: en gives English", func(t *testing.T) {
		rec := get(t, a.Router, "/", "Accept-Language", "en-GB,en;q=0.9")
		if !strings.Contains(rec.Body.String(), `<html lang="en">`) || !strings.Contains(apptest.Text(rec.Body.Bytes()), "Meeting places for leaders") {
			t.Fatal("not English")
		}
		if !strings.Contains(rec.Body.String(), `hreflang="nb">Norsk (bokmål)</a>`) {
			t.Error("no switch to bokmål")
		}
	})

	t.Run("the switch keeps the filters", func(t *testing.T) {
		body := get(t, a.Router, "/?region=oslo&format=meeting_place").Body.String()
		if !strings.Contains(body, `href="/?format=meeting_place&amp;lang=en&amp;region=oslo"`) {
			t.Errorf("language link drops the filters")
		}
	})

	t.Run("?lang=en is remembered in a cookie", func(t *testing.T) {
		c := apptest.NewClient(t, a.Router)
		rec := c.Get("/?lang=en")
		if !strings.Contains(rec.Body.String(), `<html lang="en">`) {
			t.Fatal("?lang=en did not give English")
		}
		var ck *http.Cookie
		for _, x := range rec.Result().Cookies() {
			if x.Name == "lang" {
				ck = x
			}
		}
		if ck == nil || ck.Value != "en" || ck.MaxAge < 30*24*3600 {
			t.Fatalf("lang cookie %+v", ck)
		}
		// later pages, without ?lang, stay in English
		for _, p := range []string{"/", "/events/partnerforum-styring-og-ledelse", "/finnes-ikke"} {
			if !strings.Contains(c.Get(p).Body.String(), `<html lang="en">`) {
				t.Errorf("%s forgot the choice of English", p)
			}
		}
		// the cookie beats Accept-Language
		c.Header.Set("Accept-Language", "nb")
		if !strings.Contains(c.Get("/").Body.String(), `<html lang="en">`) {
			t.Error("Accept-Language overrode the chosen language")
		}
		// and switching back is remembered too
		c.Get("/?lang=nb")
		c.Header.Del("Accept-Language")
		if !strings.Contains(c.Get("/").Body.String(), `<html lang="nb">`) {
			t.Error("the switch back to bokmål was not remembered")
		}
	})
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	for _, c := range []struct {
		name   string
		path   string
		header []string
		lang   string
		title  string
	}{
		{"an unknown route in bokmål", "/finnes-ikke", nil, "nb", "Fant ikke siden"},
		{"an unknown event in bokmål", "/events/finnes-ikke", nil, "nb", "Fant ikke siden"},
		{"an unknown region", "/regions/atlantis", nil, "nb", "Fant ikke siden"},
		{"an unknown organiser", "/organisers/ingen", nil, "nb", "Fant ikke siden"},
		{"English by Accept-Language", "/events/finnes-ikke", []string{"Accept-Language", "en"}, "en", "Page not found"},
		{"English by ?lang=en", "/finnes-ikke?lang=en", nil, "en", "Page not found"},
		{"English by cookie", "/finnes-ikke", []string{"Cookie", "lang=en"}, "en", "Page not found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := get(t, a.Router, c.path, c.header...)
			apptest.Want(t, rec, http.StatusNotFound)
			checkHTML(t, rec)
			if !strings.Contains(rec.Body.String(), `<html lang="`+c.lang+`">`) {
				t.Errorf("not in %s", c.lang)
			}
			text := apptest.Text(rec.Body.Bytes())
			if !strings.Contains(text, c.title) {
				t.Errorf("no %q: %s", c.title, text)
			}
			if !strings.Contains(rec.Body.String(), `<meta name="robots" content="noindex">`) {
				t.Error("an error page may be indexed")
			}
			if !strings.Contains(rec.Body.String(), `href="/"`) {
				t.Error("no way back to the front page")
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	a := apptest.New(t, apptest.Options{})
	rec := get(t, a.Router, "/healthz")
	if rec.Code != http.StatusOK || rec.Body.String() != "ok\n" {
		t.Fatalf("healthz: %d %q", rec.Code, rec.Body.String())
	}
	if rec := request(t, a.Router, http.MethodHead, "/healthz"); rec.Code != http.StatusOK {
		t.Fatalf("HEAD healthz: %d", rec.Code)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	for _, p := range []string{"/", "/events/partnerforum-styring-og-ledelse", "/finnes-ikke", "/api/v1/events", "/healthz", "/?format=x"} {
		t.Run(p, func(t *testing.T) {
			checkSecurityHeaders(t, get(t, a.Router, p))
		})
	}
	t.Run("no HSTS over plain http", func(t *testing.T) {
		if h := get(t, a.Router, "/").Header().Get("Strict-Transport-Security"); h != "" {
			t.Errorf("HSTS over http: %q", h)
		}
	})
	t.Run("HSTS and secure cookies over https", func(t *testing.T) {
		s := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.BaseURL = "https://moteplass.example.no" }})
		rec := get(t, s.Router, "/?lang=en")
		if h := rec.Header().Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=") {
			t.Errorf("no HSTS: %q", h)
		}
		for _, ck := range rec.Result().Cookies() {
			if !ck.Secure {
				t.Errorf("cookie %s is not Secure", ck.Name)
			}
		}
	})
	t.Run("pages are not stored by shared caches", func(t *testing.T) {
		if cc := get(t, a.Router, "/").Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
	})
	t.Run("the CSRF cookie is HttpOnly and SameSite", func(t *testing.T) {
		for _, ck := range get(t, a.Router, "/").Result().Cookies() {
			if ck.Name == "csrf" && (!ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode) {
				t.Errorf("csrf cookie %+v", ck)
			}
		}
	})
}

func TestStaticFiles(t *testing.T) {
	t.Parallel()
	a := apptest.New(t, apptest.Options{})
	body := get(t, a.Router, "/").Body.String()
	m := regexp.MustCompile(`<link rel="stylesheet" href="(/static/([0-9a-f]+)/style\.css)">`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no stylesheet link")
	}
	want, err := fs.ReadFile(templates.FS, "static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(want)
	if !strings.HasPrefix(hex.EncodeToString(sum[:]), m[2]) {
		t.Errorf("the URL hash %s is not the file's hash", m[2])
	}
	rec := get(t, a.Router, m[1])
	apptest.Want(t, rec, http.StatusOK)
	if rec.Body.String() != string(want) {
		t.Error("the stylesheet served is not the embedded file")
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/css; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	cc := rec.Header().Get("Cache-Control")
	if !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") || !strings.Contains(cc, "public") {
		t.Errorf("Cache-Control %q, want a year, immutable", cc)
	}
	checkSecurityHeaders(t, rec)
	if rec := get(t, a.Router, "/static/"+m[2]+"/missing.css"); rec.Code != http.StatusNotFound {
		t.Errorf("missing file: %d", rec.Code)
	}
}

// ---- hostile input ----

// badInput is a request that must be answered without a 5xx.
type badInput struct {
	name   string
	method string
	target string
	header []string
	want   []int  // acceptable statuses
	notice string // the filter label a notice must name ("" = no notice expected)
	absent []string
}

func TestHostileInputNeverFails(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	long := strings.Repeat("a", 10<<10)
	ok, bad, nf := []int{200}, []int{400}, []int{404}
	script := "%3Cscript%3Ealert(1)%3C%2Fscript%3E"
	cases := []badInput{
		{name: "unknown format", target: "/?format=webinar", want: bad, notice: "Type"},
		{name: "unknown level", target: "/?level=ceo", want: bad, notice: "Ledernivå"},
		{name: "unknown role", target: "/?role=chef", want: bad, notice: "Fagområde"},
		{name: "unknown theme", target: "/?theme=sport", want: bad, notice: "Tema"},
		{name: "price as a number", target: "/?price=0", want: bad, notice: "Pris"},
		{name: "access as a boolean", target: "/?access=true", want: bad, notice: "Påmelding"},
		{name: "mode hybrid is not a filter value", target: "/?mode=hybrid", want: bad, notice: "Form"},
		{name: "page=0", target: "/?page=0", want: bad, notice: "side"},
		{name: "page=-1", target: "/?page=-1", want: bad, notice: "side"},
		{name: "page=10^9", target: "/?page=1000000000", want: bad, notice: "side"},
		{name: "page=10^30", target: "/?page=1000000000000000000000000000000", want: bad, notice: "side"},
		{name: "page=abc", target: "/?page=abc", want: bad, notice: "side"},
		{name: "page=1.5", target: "/?page=1.5", want: bad, notice: "side"},
		{name: "the deepest page allowed", target: "/?page=1000", want: ok},
		{name: "10 kB format", target: "/?format=" + long, want: bad, notice: "Type"},
		{name: "10 kB region", target: "/?region=" + long, want: bad, notice: "Region"},
		{name: "10 kB unknown parameter", target: "/?x=" + long, want: ok},
		{name: "invalid UTF-8 format", target: "/?format=%ff%fe", want: bad, notice: "Type"},
		{name: "invalid UTF-8 region", target: "/?region=%ff%fe", want: bad, notice: "Region"},
		{name: "invalid UTF-8 date", target: "/?from=%ff%fe", want: bad, notice: "Fra dato"},
		{name: "SQL in region", target: "/?region=oslo'%20OR%20'1'='1", want: bad, notice: "Region"},
		{name: "SQL in format", target: "/?format=conference'%3B%20DROP%20TABLE%20events%3B--", want: bad, notice: "Type"},
		{name: "SQL in organiser", target: "/?organiser=x%22%20OR%201%3D1", want: bad, notice: "Arrangør"},
		{name: "script in format", target: "/?format=" + script, want: bad, notice: "Type", absent: []string{"<script>alert(1)"}},
		{name: "script in an unknown parameter", target: "/?x=" + script, want: ok, absent: []string{"<script>alert(1)"}},
		{name: "attribute breakout in from", target: "/?from=%22%3E%3Cimg%20src%3Dx%3E", want: bad, notice: "Fra dato", absent: []string{`"><img src=x>`}},
		{name: "null byte in format", target: "/?format=%00", want: bad, notice: "Type"},
		{name: "null byte in region", target: "/?region=osl%00o", want: bad, notice: "Region"},
		{name: "repeated parameter, good first", target: "/?format=conference&format=webinar", want: ok},
		{name: "repeated parameter, bad first", target: "/?format=webinar&format=conference", want: bad, notice: "Type"},
		{name: "unknown region slug", target: "/?region=atlantis", want: bad, notice: "Region"},
		{name: "region in capitals", target: "/?region=Oslo", want: bad, notice: "Region"},
		{name: "month 13, day 45", target: "/?from=2026-13-45", want: bad, notice: "Fra dato"},
		{name: "30 February", target: "/?to=2026-02-30", want: bad, notice: "Til dato"},
		{name: "a date in words", target: "/?from=yesterday", want: bad, notice: "Fra dato"},
		{name: "a Norwegian date", target: "/?from=07.01.2027", want: bad, notice: "Fra dato"},
		{name: "several bad values at once", target: "/?format=x&level=y&page=z", want: bad, notice: "Ledernivå"},
		{name: "unknown language", target: "/?lang=xx", want: ok},
		{name: "script as language", target: "/?lang=" + script, want: ok, absent: []string{"<script>alert(1)"}},
		{name: "garbage Accept-Language", target: "/", header: []string{"Accept-Language", strings.Repeat(";q=,", 2000)}, want: ok},
		{name: "garbage lang cookie", target: "/", header: []string{"Cookie", "lang=%3Cscript%3E"}, want: ok},
		{name: "garbage csrf cookie", target: "/", header: []string{"Cookie", "csrf=" + long}, want: ok},
		{name: "region page with a bad filter", target: "/regions/oslo?format=x", want: bad, notice: "Type"},
		{name: "unknown region page", target: "/regions/atlantis", want: nf},
		{name: "encoded slashes in a region", target: "/regions/%2F..%2F..%2Fetc%2Fpasswd", want: nf},
		{name: "very long region", target: "/regions/" + long, want: nf},
		{name: "encoded slash in an event slug", target: "/events/a%2Fb", want: nf},
		{name: "path traversal in an event slug", target: "/events/..%2F..%2Fgo.mod", want: nf},
		{name: "very long event slug", target: "/events/" + long, want: nf},
		{name: "invalid UTF-8 event slug", target: "/events/%ff%fe", want: nf},
		{name: "null byte event slug", target: "/events/%00", want: nf},
		{name: "SQL event slug", target: "/events/x'%20OR%20'1'%3D'1", want: nf},
		{name: "script event slug", target: "/events/" + script, want: nf, absent: []string{"<script>alert(1)"}},
		{name: "unicode event slug", target: "/events/m%C3%B8te", want: nf},
		{name: "unknown organiser", target: "/organisers/" + long, want: nf},
		{name: "static path traversal", target: "/static/x/../../go.mod", want: nf},
		{name: "static encoded traversal", target: "/static/x/..%2f..%2flocales%2fcommon.nb.toml", want: nf},
		{name: "static dot-dot into another folder", target: "/static/x/../locales/common.nb.toml", want: nf},
		{name: "static folder", target: "/static/x/", want: nf},
		{name: "static null byte", target: "/static/x/style.css%00.png", want: nf},
		{name: "HEAD on the front page", method: http.MethodHead, target: "/", want: []int{200, 405}},
		{name: "HEAD on an event", method: http.MethodHead, target: "/events/partnerforum-styring-og-ledelse", want: []int{200, 405}},
		{name: "POST on the front page", method: http.MethodPost, target: "/", want: []int{403, 405}},
		{name: "PUT on an event", method: http.MethodPut, target: "/events/partnerforum-styring-og-ledelse", want: []int{403, 405}},
		{name: "DELETE on a region", method: http.MethodDelete, target: "/regions/oslo", want: []int{403, 405}},
	}
	if len(cases) < 20 {
		t.Fatal("the table must have at least 20 cases")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := c.method
			if method == "" {
				method = http.MethodGet
			}
			rec := request(t, a.Router, method, c.target, c.header...)
			if rec.Code >= 500 {
				t.Fatalf("%s %.80s: %d", method, c.target, rec.Code)
			}
			if !slices.Contains(c.want, rec.Code) {
				t.Fatalf("%s %.80s: status %d, want one of %v", method, c.target, rec.Code, c.want)
			}
			checkSecurityHeaders(t, rec)
			body := rec.Body.String()
			for _, s := range c.absent {
				if strings.Contains(body, s) {
					t.Errorf("the page contains %q unescaped", s)
				}
			}
			if rec.Code == http.StatusMethodNotAllowed && rec.Header().Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
			if method != http.MethodGet || rec.Code == http.StatusNotFound {
				return
			}
			ns := notices(rec.Body.Bytes())
			if c.notice == "" {
				if len(ns) != 0 {
					t.Errorf("unexpected notices %v", ns)
				}
				if len(cardSlugs(rec.Body.Bytes())) == 0 && !strings.Contains(c.target, "page=1000") {
					t.Error("the list is empty")
				}
				return
			}
			found := false
			for _, n := range ns {
				if strings.Contains(n, "«"+c.notice+"»") {
					found = true
				}
			}
			if !found {
				t.Errorf("no notice naming «%s»: %v", c.notice, ns)
			}
			// the list is still shown, with the bad value left out
			if len(cardSlugs(rec.Body.Bytes())) == 0 {
				t.Error("a bad value emptied the list instead of being ignored")
			}
		})
	}

	t.Run("the notice is in English on English pages", func(t *testing.T) {
		rec := get(t, a.Router, "/?format=webinar&lang=en")
		ns := notices(rec.Body.Bytes())
		if len(ns) != 1 || !strings.Contains(ns[0], "“Type”") || !strings.Contains(ns[0], "not applied") {
			t.Errorf("English notice %v", ns)
		}
	})

	t.Run("POST with a valid CSRF token is refused with 405", func(t *testing.T) {
		c := apptest.NewClient(t, a.Router)
		rec := c.PostForm("/", url.Values{})
		if rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Header().Get("Allow"), "GET") {
			t.Errorf("POST /: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
		}
	})

	t.Run("the data survived", func(t *testing.T) {
		if n := len(allEvents(t, a)); n < 18 {
			t.Fatalf("%d events left", n)
		}
	})
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
