package events_test

// Tests of the listing through the real router and a real SQLite file in
// t.TempDir(): the coming events soonest first, the filters (and the notice
// for a value not understood), the date range and pagination.

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app/apptest"
)

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
	// the demo moves an event off a holiday, so the one-day case asks for
	// the day the partner forum is on (21 days away, or the next working day)
	var partnerDay, digitalDay string
	for _, e := range all {
		switch e.Slug {
		case "partnerforum-styring-og-ledelse":
			partnerDay = e.StartsAt.In(events.Oslo).Format("2006-01-02")
		case "digitalt-ledermote-ki-i-forvaltningen": // 10 days away, or the next working day
			digitalDay = max(e.StartsAt.In(events.Oslo).Format("2006-01-02"), osloDay(12))
		}
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
		{"a to date alone ends the list", "", digitalDay, []string{"tid-for-ledelse-bergen-psykologisk-trygghet", "digitalt-ledermote-ki-i-forvaltningen"},
			[]string{"ledermoteplass-bergen-tillitsreform", "administrasjonssjefer-stavanger-mote-1"}},
		{"one day includes events on that day", partnerDay, partnerDay, []string{"partnerforum-styring-og-ledelse"}, []string{"tid-for-ledelse-bergen-kunstig-intelligens"}},
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
