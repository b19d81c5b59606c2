package registration_test

// The dashboards: the pure counting (statuses, attendance, no-shows only
// where attendance was taken after the event, the day-by-day line), the
// pure SVG drawing (a table of cases), and the pages' numbers for an event
// built step by step through the real router.

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/registration"
)

func TestTallyEvent(t *testing.T) {
	row := func(status string, in bool, level, sector string) registration.StatRow {
		return registration.StatRow{Status: status, CheckedIn: in, Level: level, Sector: sector}
	}
	rows := []registration.StatRow{
		row("confirmed", true, "top", "state"),
		row("confirmed", true, "middle", "state"),
		row("confirmed", false, "middle", "municipal"),
		row("waiting", false, "first_line", "private"),
		row("cancelled", true, "top", "other"), // checked in, then removed: not counted as attended
		{Status: "confirmed", Level: "other", Sector: "state", N: 2},
	}
	for _, c := range []struct {
		name              string
		rows              []registration.StatRow
		ended             bool
		confirmed, waited int
		attended, noShows int
		rate              int
	}{
		{"before the end no-shows are unknown", rows, false, 5, 1, 2, 0, -1},
		{"after the end the confirmed not checked in", rows, true, 5, 1, 2, 3, 60},
		{"no attendance taken: unknown", []registration.StatRow{row("confirmed", false, "top", "state")}, true, 1, 0, 0, 0, -1},
		{"nobody", nil, true, 0, 0, 0, 0, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := registration.TallyEvent(c.rows, 4, c.ended)
			if got.Confirmed != c.confirmed || got.Waiting != c.waited || got.Attended != c.attended || got.NoShows != c.noShows ||
				got.NoShowPercent() != c.rate {
				t.Errorf("got %+v (rate %d)", got, got.NoShowPercent())
			}
		})
	}
	got := registration.TallyEvent(rows, 4, true)
	if got.Cancelled != 1 || got.Capacity != 4 || got.Fill() != 125 {
		t.Errorf("cancelled %d capacity %d fill %d", got.Cancelled, got.Capacity, got.Fill())
	}
	wantLevels := "top=1 middle=2 first_line=1 other=2"
	if s := counts2s(got.Levels); s != wantLevels {
		t.Errorf("levels %s, want %s", s, wantLevels)
	}
	if s := counts2s(got.Sectors); s != "state=4 municipal=1 private=1 other=0" {
		t.Errorf("sectors %s", s)
	}
	sum := got.Add(registration.TallyEvent([]registration.StatRow{row("confirmed", false, "top", "state")}, 10, true))
	if sum.Events != 2 || sum.Capacity != 14 || sum.Confirmed != 6 || sum.NoShowBase != 5 || sum.NoShows != 3 || counts2s(sum.Levels) != "top=2 middle=2 first_line=1 other=2" {
		t.Errorf("sum %+v", sum)
	}
}

func counts2s(cs []registration.Count) string {
	var s []string
	for _, c := range cs {
		s = append(s, fmt.Sprintf("%s=%d", c.Key, c.N))
	}
	return strings.Join(s, " ")
}

func TestCumulative(t *testing.T) {
	oslo := web.Oslo
	at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, oslo) }
	days := registration.Cumulative([]time.Time{
		at(2, 23).UTC(), // 23:00 in Oslo is 22:00 UTC: still the 2nd
		at(2, 9), at(4, 0).UTC(), at(4, 12), at(5, 8),
	}, at(7, 12), oslo)
	var got []string
	for _, d := range days {
		got = append(got, fmt.Sprintf("%d:%d/%d", d.Day.Day(), d.New, d.Total))
	}
	if s := strings.Join(got, " "); s != "2:2/2 3:0/2 4:2/4 5:1/5 6:0/5 7:0/5" {
		t.Errorf("days %s", s)
	}
	if registration.Cumulative(nil, at(7, 0), oslo) != nil {
		t.Error("no registrations, yet a line")
	}
	// across the change to summer time (29 March 2026) every day is there once
	days = registration.Cumulative([]time.Time{at(28, 10), at(30, 10)}, at(30, 12), oslo)
	if len(days) != 3 || days[2].Total != 2 {
		t.Errorf("across DST: %+v", days)
	}
}

// TestChartSVG is the pure drawing, case by case.
func TestChartSVG(t *testing.T) {
	for _, c := range []struct {
		name string
		svg  template.HTML
		want []string
		not  []string
	}{
		{"bars scale to the largest",
			registration.BarChart{ID: "c1", Title: "Per region", Desc: "Søyler.", Bars: []registration.Bar{{"Bergen", 40}, {"Tromsø", 10}, {"Oslo", 0}}}.SVG(),
			[]string{`role="img"`, `aria-labelledby="c1-t c1-d"`, `<title id="c1-t">Per region</title>`,
				`<desc id="c1-d">Søyler. Bergen: 40; Tromsø: 10; Oslo: 0.</desc>`,
				`width="350" height="16" fill="#0b4f6c"`, `width="87" height="16"`, `width="0" height="16"`,
				`>Bergen</text>`, `>40</text>`, `viewBox="0 0 400 142"`},
			[]string{"<script"}},
		{"labels are escaped and shortened",
			registration.BarChart{ID: "c2", Title: "A & B", Bars: []registration.Bar{{`<Direktoratet for "forvaltning" og økonomistyring (DFØ), region Vestland og Rogaland>`, 3}}}.SVG(),
			[]string{`<title id="c2-t">A &amp; B</title>`, `&lt;Direktoratet for &#34;forvaltning&#34; og økon…</text>`},
			[]string{`<Direktoratet`}},
		{"a tiny value still shows",
			registration.BarChart{ID: "c3", Title: "T", Bars: []registration.Bar{{"A", 1000}, {"B", 1}}}.SVG(),
			[]string{`width="2" height="16"`}, nil},
		{"nothing to draw says so",
			registration.BarChart{ID: "c4", Title: "T", Desc: "D.", Bars: []registration.Bar{{"A", 0}}, Empty: "Ingen påmeldinger ennå."}.SVG(),
			[]string{`<desc id="c4-d">D. Ingen påmeldinger ennå.</desc>`, `>Ingen påmeldinger ennå.</text>`}, []string{"<rect x"}},
		{"a line from the first to the last day",
			registration.LineChart{ID: "l1", Title: "Over tid", Desc: "Linje.", Points: []registration.LinePoint{{"1. mars", 2}, {"2. mars", 2}, {"3. mars", 7}}}.SVG(),
			[]string{`<title id="l1-t">Over tid</title>`, `<desc id="l1-d">Linje. 1. mars: 2. 3. mars: 7.</desc>`,
				`<polyline points="44.0,`, `>1. mars</text>`, `>3. mars</text>`,
				`>7</text>`, `>8</text>`, `>4</text>`, `>0</text>`},
			nil},
		{"one day is a point in the middle",
			registration.LineChart{ID: "l2", Title: "T", Points: []registration.LinePoint{{"1. mars", 5}}}.SVG(),
			[]string{`<circle cx="214.0"`, `text-anchor="middle"`, `>6</text>`}, nil},
		{"no line without points",
			registration.LineChart{ID: "l3", Title: "T", Empty: "Ingen påmeldinger ennå."}.SVG(),
			[]string{`>Ingen påmeldinger ennå.</text>`}, []string{"<polyline"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := string(c.svg)
			if !strings.HasPrefix(s, "<svg ") || !strings.HasSuffix(s, "</svg>") {
				t.Fatalf("not one svg element: %.100s", s)
			}
			for _, w := range c.want {
				if !strings.Contains(s, w) {
					t.Errorf("missing %s in\n%s", w, s)
				}
			}
			for _, n := range c.not {
				if strings.Contains(s, n) {
					t.Errorf("holds %s", n)
				}
			}
		})
	}
	// the line rises left to right with the totals
	s := string(registration.LineChart{ID: "l4", Title: "T", Points: []registration.LinePoint{{"a", 0}, {"b", 5}, {"c", 10}}}.SVG())
	pts := regexp.MustCompile(`points="([^"]+)"`).FindStringSubmatch(s)
	if pts == nil {
		t.Fatal("no polyline")
	}
	if pts[1] != "44.0,196.0 214.0,108.0 384.0,20.0" {
		t.Errorf("points %s", pts[1])
	}
}

// TestEventDashboardNumbers builds an event over some days (sign-ups, a
// cancellation, a check-in), lets it end, and reads the dashboards.
func TestEventDashboardNumbers(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, web.Oslo) // a Monday
	w := attSetup(t, func(e *events.Event) {
		e.Capacity = 3
		e.Title = "Tallmøtet"
		e.StartsAt = start.AddDate(0, 0, 10).UTC()
		e.EndsAt = e.StartsAt.Add(3 * time.Hour)
	})
	a := w.a
	day := func(n int) { fixedClock(a, start.AddDate(0, 0, n).UTC()) }
	day(0)
	anna, _ := signUpAs(t, a, w.ev, "Anna", "anna@example.no", "level", "top", "sector", "state")
	bo, _ := signUpAs(t, a, w.ev, "Bo", "bo@example.no", "level", "middle", "sector", "state")
	day(1)
	signUpAs(t, a, w.ev, "Cato", "cato@example.no", "level", "middle", "sector", "municipal")
	day(3)
	signUpAs(t, a, w.ev, "Dina", "dina@example.no", "level", "first_line", "sector", "private") // waits
	erik, _ := signUpAs(t, a, w.ev, "Erik", "erik@example.no", "level", "other", "sector", "other")
	if _, _, err := a.Registrations.Cancel(context.Background(), erik.ID); err != nil {
		t.Fatal(err)
	}
	// at the door
	day(10)
	for _, r := range []int64{anna.ID, bo.ID} {
		if _, err := a.Registrations.SetCheckedIn(context.Background(), w.user("checkin"), w.ev.ID, r, true); err != nil {
			t.Fatal(err)
		}
	}
	// the day after: log in now (sessions follow the clock)
	day(11)
	cl := w.login(t, "organiser")
	rec := cl.Get(attPath(w.ev, "/dashboard"))
	apptest.Want(t, rec, http.StatusOK)
	apptest.Says(t, rec,
		"Plasser 3", "Bekreftet 3 (100 % av plassene)", "Venteliste 1", "Avmeldt 1", "Sjekket inn 2", "Uteblitt 1 (33 %)",
		// the line's table: the days with sign-ups and the running total
		"Dag Nye påmeldinger Til sammen 2. mars 2 2 3. mars 1 3 5. mars 2 5",
		// the status chart's table
		"Bekreftet 3 På venteliste 1 Avmeldt 1 Sjekket inn 2",
		// the mix of the live registrations
		"Toppleder (i toppledergruppen) 1 Mellomleder 2 Førstelinjeleder 1 Annet 0",
		"Statlig 2 Kommunal eller fylkeskommunal 1 Privat 1")
	body := rec.Body.String()
	for _, s := range []string{
		`<svg xmlns="http://www.w3.org/2000/svg"`, `role="img"`, `<title id="chart-timeline-t">Påmeldinger over tid</title>`,
		`<desc id="chart-timeline-d">Linjediagram over påmeldinger til sammen, dag for dag. 2. mars: 2. 12. mars: 5.</desc>`,
		`<desc id="chart-status-d">Liggende søylediagram. Bekreftet: 3; På venteliste: 1; Avmeldt: 1; Sjekket inn: 2.</desc>`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("the page has no %s", s)
		}
	}
	if n := strings.Count(body, "<svg"); n != 4 {
		t.Errorf("%d charts, want 4 (time, status, levels, sectors)", n)
	}
	if n := strings.Count(body, "<table"); n < 5 {
		t.Errorf("%d tables: every chart needs its numbers beside it", n)
	}
	if strings.Contains(body, "<script") {
		t.Error("the dashboard uses JavaScript")
	}

	// the overview: the organiser's events, and the admin's regions
	rec = cl.Get("/admin/dashboard")
	apptest.Want(t, rec, http.StatusOK)
	apptest.Says(t, rec, "Tallmøtet", "Bekreftede plasser per arrangement")
	apptest.DoesNotSay(t, rec, "NHH-møte")
	rec = w.login(t, "admin").Get("/admin/dashboard")
	apptest.Want(t, rec, http.StatusOK)
	apptest.Says(t, rec, "Per region", "Bergen 2 13 3 1 1 2 1 (33 %)", "Bekreftede plasser per region", "Tallmøtet", "NHH-møte")
	apptest.Want(t, w.login(t, "checkin").Get("/admin/dashboard"), http.StatusForbidden)
}
