package events

import (
	"bytes"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ical "github.com/emersion/go-ical"

	"github.com/moteplass/moteplass/internal/icaljs"
)

var updateICal = flag.Bool("update-ical", false, "rewrite testdata/ical_request.golden.ics")

const icalTestBase = "https://moteplass.example.no"

// icalTestNow is the DTSTAMP of every calendar written by these tests.
var icalTestNow = time.Date(2026, 11, 2, 10, 30, 0, 0, time.UTC)

func icalFloat(f float64) *float64 { return &f }

// icalLongSummary is a long Norwegian text with every character that needs
// escaping and a CRLF, for the folding of long values.
var icalLongSummary = strings.Repeat("Nettverket samler ledere fra kommuner, fylkeskommunen og statlige etater i Nordland; "+
	"vi deler erfaringer med omstilling, rekruttering og samarbeid på tvers av forvaltningsnivåene. ", 6) +
	"Sti på fellesområdet: \\\\server\\delt\\møteplass.\r\nSiste linje – æøå ÆØÅ 🎉"

// icalCase is one event of the test feed with what every parser must read
// back. The expected values are written out, not computed by the code under
// test; StartsAt/EndsAt are given in UTC and want* in Oslo wall time.
type icalCase struct {
	name            string
	ev              Event
	wantUID         string
	wantStart       time.Time // the instant
	wantLocalStart  string    // DTSTART value, Oslo wall time
	wantLocalEnd    string    // "" when there is no DTEND
	wantOffset      int       // seconds east of UTC at the start (CET 3600, CEST 7200)
	wantSummary     string
	wantDescription string
	wantLocation    string
	wantGeo         []float64
	wantURL         string
	wantStatus      string
	wantSequence    int
	wantOrganizer   string // "" when there is no ORGANIZER
	wantOrganizerCN string
}

func icalCases() []icalCase {
	trondelag := Organiser{ID: 1, Name: "Statsforvalteren i Trøndelag, stab; HR", ContactEmail: "post@sftrondelag.example.no"}
	nordland := Organiser{ID: 2, Name: "Nordland fylkeskommune", ContactEmail: "moteplass@nfk.example.no"}
	return []icalCase{
		{
			name: "winter physical event with GEO and agenda",
			ev: Event{
				ID: 101, Slug: "moteplass-trondheim-januar",
				Title:   `Møteplass Trøndelag: økonomi, styring; læring \ ledelse`,
				Summary: "Vi møtes for å dele erfaringer, og for å lære av hverandre; ta med kollegaer.\r\nKaffe fra 08:30 – «velkommen»! \\n er ikke et linjeskift.",
				Mode:    "physical", Status: StatusPublished, Sequence: 2,
				StartsAt: time.Date(2027, 1, 14, 8, 0, 0, 0, time.UTC),
				EndsAt:   time.Date(2027, 1, 14, 10, 30, 0, 0, time.UTC),
				Venue: &Venue{Name: "Scandic Nidelven", Street: "Havnegata 1-3", Postcode: "7010", City: "Trondheim",
					Latitude: icalFloat(63.4336), Longitude: icalFloat(10.4024)},
				Organiser: trondelag,
				UpdatedAt: time.Date(2026, 10, 20, 13, 14, 15, 0, time.UTC),
				Agenda: []AgendaItem{
					{Position: 1, StartsAt: time.Date(2027, 1, 14, 8, 0, 0, 0, time.UTC), Title: "Velkommen og presentasjonsrunde", Introducer: "Kari Nordmann"},
					{Position: 2, StartsAt: time.Date(2027, 1, 14, 8, 15, 0, 0, time.UTC), Title: "Økonomistyring i praksis, del 1; budsjett", Introducer: "Per Ås (Statsforvalteren)"},
					{Position: 3, Title: "Lunsj"},
				},
			},
			wantUID:        "event-101@moteplass.example.no",
			wantStart:      time.Date(2027, 1, 14, 8, 0, 0, 0, time.UTC),
			wantLocalStart: "20270114T090000",
			wantLocalEnd:   "20270114T113000",
			wantOffset:     3600,
			wantSummary:    `Møteplass Trøndelag: økonomi, styring; læring \ ledelse`,
			wantDescription: "Vi møtes for å dele erfaringer, og for å lære av hverandre; ta med kollegaer.\nKaffe fra 08:30 – «velkommen»! \\n er ikke et linjeskift." +
				"\n\n09:00 Velkommen og presentasjonsrunde (Kari Nordmann)\n09:15 Økonomistyring i praksis, del 1; budsjett (Per Ås (Statsforvalteren))\nLunsj" +
				"\n\nhttps://moteplass.example.no/events/moteplass-trondheim-januar",
			wantLocation:    "Scandic Nidelven, Havnegata 1-3, 7010 Trondheim",
			wantGeo:         []float64{63.4336, 10.4024},
			wantURL:         "https://moteplass.example.no/events/moteplass-trondheim-januar",
			wantStatus:      "CONFIRMED",
			wantSequence:    2,
			wantOrganizer:   "mailto:post@sftrondelag.example.no",
			wantOrganizerCN: "Statsforvalteren i Trøndelag, stab; HR",
		},
		{
			name: "summer hybrid event with a long description",
			ev: Event{
				ID: 102, Slug: "ledernettverk-bodo-juli",
				Title:   "Ledernettverk Nordland – sommermøte i Bodø",
				Summary: icalLongSummary,
				Mode:    "hybrid", Status: StatusPublished,
				StartsAt:  time.Date(2027, 7, 8, 7, 0, 0, 0, time.UTC),
				EndsAt:    time.Date(2027, 7, 8, 13, 0, 0, 0, time.UTC),
				Venue:     &Venue{Name: "Bodø rådhus", Street: "Kongens gate 18", Postcode: "8006", City: "Bodø"},
				OnlineURL: "https://teams.example.no/l/meetup-join/abc?context=x,y;z",
				Organiser: nordland,
			},
			wantUID:        "event-102@moteplass.example.no",
			wantStart:      time.Date(2027, 7, 8, 7, 0, 0, 0, time.UTC),
			wantLocalStart: "20270708T090000",
			wantLocalEnd:   "20270708T150000",
			wantOffset:     7200,
			wantSummary:    "Ledernettverk Nordland – sommermøte i Bodø",
			wantDescription: strings.ReplaceAll(icalLongSummary, "\r\n", "\n") +
				"\n\nhttps://teams.example.no/l/meetup-join/abc?context=x,y;z" +
				"\n\nhttps://moteplass.example.no/events/ledernettverk-bodo-juli",
			wantLocation:    "Bodø rådhus, Kongens gate 18, 8006 Bodø",
			wantURL:         "https://moteplass.example.no/events/ledernettverk-bodo-juli",
			wantStatus:      "CONFIRMED",
			wantOrganizer:   "mailto:moteplass@nfk.example.no",
			wantOrganizerCN: "Nordland fylkeskommune",
		},
		{
			name: "digital event without venue or organiser email, first day of winter time",
			ev: Event{
				ID: 103, Slug: "digitalt-frokostseminar",
				Title: "Digitalt frokostseminar", Mode: "digital", Status: StatusPublished, Sequence: 1,
				StartsAt:  time.Date(2027, 10, 31, 8, 0, 0, 0, time.UTC),
				EndsAt:    time.Date(2027, 10, 31, 9, 30, 0, 0, time.UTC),
				OnlineURL: "https://meet.example.no/rom/ledernettverk?pwd=a;b,c",
				Organiser: Organiser{ID: 3, Name: "KS Agenda"},
			},
			wantUID:         "event-103@moteplass.example.no",
			wantStart:       time.Date(2027, 10, 31, 8, 0, 0, 0, time.UTC),
			wantLocalStart:  "20271031T090000",
			wantLocalEnd:    "20271031T103000",
			wantOffset:      3600,
			wantSummary:     "Digitalt frokostseminar",
			wantDescription: "https://moteplass.example.no/events/digitalt-frokostseminar",
			wantLocation:    "https://meet.example.no/rom/ledernettverk?pwd=a;b,c",
			wantURL:         "https://moteplass.example.no/events/digitalt-frokostseminar",
			wantStatus:      "CONFIRMED",
			wantSequence:    1,
		},
		{
			name: "cancelled event on the first day of summer time",
			ev: Event{
				ID: 104, Slug: "avlyst-moteplass-oslo",
				Title: "Møteplass Oslo (avlyst)", Summary: "Avlyst på grunn av sykdom.", Mode: "physical",
				Status: StatusCancelled, Sequence: 3,
				StartsAt:  time.Date(2027, 3, 28, 7, 0, 0, 0, time.UTC),
				EndsAt:    time.Date(2027, 3, 28, 9, 0, 0, 0, time.UTC),
				Venue:     &Venue{Name: "Oslo rådhus", Postcode: "0037", City: "Oslo", Latitude: icalFloat(59.9119), Longitude: icalFloat(10.7336)},
				Organiser: trondelag,
			},
			wantUID:         "event-104@moteplass.example.no",
			wantStart:       time.Date(2027, 3, 28, 7, 0, 0, 0, time.UTC),
			wantLocalStart:  "20270328T090000",
			wantLocalEnd:    "20270328T110000",
			wantOffset:      7200,
			wantSummary:     "Møteplass Oslo (avlyst)",
			wantDescription: "Avlyst på grunn av sykdom.\n\nhttps://moteplass.example.no/events/avlyst-moteplass-oslo",
			wantLocation:    "Oslo rådhus, 0037 Oslo",
			wantGeo:         []float64{59.9119, 10.7336},
			wantURL:         "https://moteplass.example.no/events/avlyst-moteplass-oslo",
			wantStatus:      "CANCELLED",
			wantSequence:    3,
			wantOrganizer:   "mailto:post@sftrondelag.example.no",
			wantOrganizerCN: "Statsforvalteren i Trøndelag, stab; HR",
		},
		{
			name: "last day of winter time, no end time",
			ev: Event{
				ID: 105, Slug: "lordagsmote",
				Title: "Lørdagsmøte", Mode: "physical", Status: StatusPublished,
				StartsAt:  time.Date(2027, 3, 27, 8, 0, 0, 0, time.UTC),
				Venue:     &Venue{Name: "Tromsø bibliotek", City: "Tromsø"},
				Organiser: nordland,
			},
			wantUID:         "event-105@moteplass.example.no",
			wantStart:       time.Date(2027, 3, 27, 8, 0, 0, 0, time.UTC),
			wantLocalStart:  "20270327T090000",
			wantOffset:      3600,
			wantSummary:     "Lørdagsmøte",
			wantDescription: "https://moteplass.example.no/events/lordagsmote",
			wantLocation:    "Tromsø bibliotek, Tromsø",
			wantURL:         "https://moteplass.example.no/events/lordagsmote",
			wantStatus:      "CONFIRMED",
			wantOrganizer:   "mailto:moteplass@nfk.example.no",
			wantOrganizerCN: "Nordland fylkeskommune",
		},
		{
			name: "last day of summer time",
			ev: Event{
				ID: 106, Slug: "hostmote",
				Title: "Høstmøte", Mode: "physical", Status: StatusPublished,
				StartsAt:  time.Date(2027, 10, 30, 7, 0, 0, 0, time.UTC),
				EndsAt:    time.Date(2027, 10, 30, 8, 0, 0, 0, time.UTC),
				Organiser: nordland,
			},
			wantUID:         "event-106@moteplass.example.no",
			wantStart:       time.Date(2027, 10, 30, 7, 0, 0, 0, time.UTC),
			wantLocalStart:  "20271030T090000",
			wantLocalEnd:    "20271030T100000",
			wantOffset:      7200,
			wantSummary:     "Høstmøte",
			wantDescription: "https://moteplass.example.no/events/hostmote",
			wantURL:         "https://moteplass.example.no/events/hostmote",
			wantStatus:      "CONFIRMED",
			wantOrganizer:   "mailto:moteplass@nfk.example.no",
			wantOrganizerCN: "Nordland fylkeskommune",
		},
	}
}

func icalCaseEvents(cases []icalCase) []Event {
	evs := make([]Event, len(cases))
	for i, c := range cases {
		evs[i] = c.ev
	}
	return evs
}

// icalCheckLines checks the RFC 5545 line rules on raw output: every line
// ends in CRLF, holds no other CR or LF, is at most 75 octets and is valid
// UTF-8 on its own (so no fold split a character); continuation lines start
// with a space, and no fold falls inside a backslash escape.
func icalCheckLines(t testing.TB, b []byte) {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Fatalf("output does not end in CRLF: %q", b[max(0, len(b)-20):])
	}
	lines := bytes.Split(b[:len(b)-2], []byte("\r\n"))
	escapeOpen := false // the logical line so far ends in an unfinished escape
	for i, line := range lines {
		switch {
		case len(line) == 0:
			t.Fatalf("line %d is empty", i+1)
		case bytes.ContainsAny(line, "\r\n"):
			t.Fatalf("line %d holds a bare CR or LF: %q", i+1, line)
		case len(line) > 75:
			t.Fatalf("line %d has %d octets, more than 75: %q", i+1, len(line), line)
		case !utf8.Valid(line):
			t.Fatalf("line %d is not valid UTF-8 on its own (a fold split a character): %q", i+1, line)
		case i == 0 && line[0] == ' ':
			t.Fatalf("first line is a continuation: %q", line)
		}
		body := line
		if line[0] == ' ' {
			if escapeOpen {
				t.Fatalf("line %d: a fold inside a backslash escape: %q / %q", i+1, lines[i-1], line)
			}
			body = line[1:]
		} else {
			escapeOpen = false // a new content line
		}
		for _, c := range body {
			if escapeOpen {
				escapeOpen = false
			} else if c == '\\' {
				escapeOpen = true
			}
		}
	}
}

func icalDecode(t testing.TB, b []byte) *ical.Calendar {
	t.Helper()
	cal, err := ical.NewDecoder(bytes.NewReader(b)).Decode()
	if err != nil {
		t.Fatalf("go-ical cannot decode the output: %v\n%s", err, b)
	}
	return cal
}

func icalFindEvent(t testing.TB, cal *ical.Calendar, uid string) *ical.Component {
	t.Helper()
	var found *ical.Component
	for _, c := range cal.Children {
		if c.Name == ical.CompEvent && c.Props.Get(ical.PropUID) != nil && c.Props.Get(ical.PropUID).Value == uid {
			if found != nil {
				t.Fatalf("two VEVENTs with UID %s", uid)
			}
			found = c
		}
	}
	if found == nil {
		t.Fatalf("no VEVENT with UID %s", uid)
	}
	return found
}

// icalProp is the one property name of comp; it fails when there is not
// exactly one.
func icalProp(t testing.TB, comp *ical.Component, name string) *ical.Prop {
	t.Helper()
	if n := len(comp.Props[name]); n != 1 {
		t.Fatalf("%s has %d %s properties, want 1", comp.Name, n, name)
	}
	return &comp.Props[name][0]
}

func icalTextOf(t testing.TB, comp *ical.Component, name string) string {
	t.Helper()
	s, err := icalProp(t, comp, name).Text()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

func icalWant[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

// icalCheckEvent checks one decoded VEVENT against its case.
func icalCheckEvent(t *testing.T, ve *ical.Component, c icalCase) {
	t.Helper()
	icalWant(t, "DTSTAMP", icalProp(t, ve, ical.PropDateTimeStamp).Value, "20261102T103000Z")

	start := icalProp(t, ve, ical.PropDateTimeStart)
	icalWant(t, "DTSTART;TZID", start.Params.Get(ical.ParamTimezoneID), "Europe/Oslo")
	icalWant(t, "DTSTART value", start.Value, c.wantLocalStart)
	gotStart, err := start.DateTime(nil)
	if err != nil {
		t.Fatalf("DTSTART: %v", err)
	}
	if !gotStart.Equal(c.wantStart) {
		t.Errorf("DTSTART instant = %v, want %v", gotStart.UTC(), c.wantStart)
	}
	if h := gotStart.In(Oslo).Hour(); h != 9 {
		t.Errorf("DTSTART in Oslo is %02d:00, want 09:00", h)
	}
	if _, off := gotStart.In(Oslo).Zone(); off != c.wantOffset {
		t.Errorf("DTSTART offset %d, want %d", off, c.wantOffset)
	}

	if c.wantLocalEnd == "" {
		if ve.Props.Get(ical.PropDateTimeEnd) != nil {
			t.Errorf("DTEND present for an event without an end")
		}
	} else {
		end := icalProp(t, ve, ical.PropDateTimeEnd)
		icalWant(t, "DTEND;TZID", end.Params.Get(ical.ParamTimezoneID), "Europe/Oslo")
		icalWant(t, "DTEND value", end.Value, c.wantLocalEnd)
		gotEnd, err := end.DateTime(nil)
		if err != nil {
			t.Fatalf("DTEND: %v", err)
		}
		if !gotEnd.Equal(c.ev.EndsAt) {
			t.Errorf("DTEND instant = %v, want %v", gotEnd.UTC(), c.ev.EndsAt)
		}
	}

	icalWant(t, "SUMMARY", icalTextOf(t, ve, ical.PropSummary), c.wantSummary)
	icalWant(t, "DESCRIPTION", icalTextOf(t, ve, ical.PropDescription), c.wantDescription)
	if c.wantLocation == "" {
		if ve.Props.Get(ical.PropLocation) != nil {
			t.Errorf("LOCATION present, want none")
		}
	} else {
		icalWant(t, "LOCATION", icalTextOf(t, ve, ical.PropLocation), c.wantLocation)
	}
	if c.wantGeo == nil {
		if ve.Props.Get(ical.PropGeo) != nil {
			t.Errorf("GEO present, want none")
		}
	} else {
		icalWant(t, "GEO", icalProp(t, ve, ical.PropGeo).Value,
			strconv.FormatFloat(c.wantGeo[0], 'f', -1, 64)+";"+strconv.FormatFloat(c.wantGeo[1], 'f', -1, 64))
	}
	icalWant(t, "URL", icalProp(t, ve, ical.PropURL).Value, c.wantURL)
	icalWant(t, "STATUS", icalProp(t, ve, ical.PropStatus).Value, c.wantStatus)
	seq, err := icalProp(t, ve, ical.PropSequence).Int()
	if err != nil {
		t.Fatalf("SEQUENCE: %v", err)
	}
	icalWant(t, "SEQUENCE", seq, c.wantSequence)
	if c.wantOrganizer == "" {
		if ve.Props.Get(ical.PropOrganizer) != nil {
			t.Errorf("ORGANIZER present, want none")
		}
	} else {
		org := icalProp(t, ve, ical.PropOrganizer)
		icalWant(t, "ORGANIZER", org.Value, c.wantOrganizer)
		icalWant(t, "ORGANIZER;CN", org.Params.Get(ical.ParamCommonName), c.wantOrganizerCN)
	}
	if !c.ev.UpdatedAt.IsZero() {
		lm, err := icalProp(t, ve, ical.PropLastModified).DateTime(nil)
		if err != nil || !lm.Equal(c.ev.UpdatedAt) {
			t.Errorf("LAST-MODIFIED = %v (%v), want %v", lm, err, c.ev.UpdatedAt)
		}
	}
}

func TestFeedCalendarRoundTrip(t *testing.T) {
	cases := icalCases()
	b, err := FeedCalendar("Møteplass – Trøndelag; Nordland, Oslo", icalCaseEvents(cases), icalTestBase+"/", icalTestNow)
	if err != nil {
		t.Fatal(err)
	}
	icalCheckLines(t, b)
	cal := icalDecode(t, b)

	for name, want := range map[string]string{
		ical.PropMethod:        "PUBLISH",
		ical.PropProductID:     ProductID,
		ical.PropVersion:       "2.0",
		ical.PropCalendarScale: "GREGORIAN",
		"X-WR-TIMEZONE":        "Europe/Oslo",
		"X-PUBLISHED-TTL":      "PT1H",
	} {
		icalWant(t, name, icalProp(t, cal.Component, name).Value, want)
	}
	icalWant(t, "X-WR-CALNAME", icalTextOf(t, cal.Component, "X-WR-CALNAME"), "Møteplass – Trøndelag; Nordland, Oslo")
	icalWant(t, "NAME", icalTextOf(t, cal.Component, ical.PropName), "Møteplass – Trøndelag; Nordland, Oslo")
	refresh := icalProp(t, cal.Component, ical.PropRefreshInterval)
	icalWant(t, "REFRESH-INTERVAL", refresh.Value, "PT1H")
	icalWant(t, "REFRESH-INTERVAL;VALUE", refresh.Params.Get(ical.ParamValue), "DURATION")

	t.Run("one VTIMEZONE for Europe/Oslo with EU summer time, first", func(t *testing.T) {
		var tzs []*ical.Component
		for _, c := range cal.Children {
			if c.Name == ical.CompTimezone {
				tzs = append(tzs, c)
			}
		}
		if len(tzs) != 1 || cal.Children[0] != tzs[0] {
			t.Fatalf("want exactly one VTIMEZONE as the first component, got %d", len(tzs))
		}
		tz := tzs[0]
		icalWant(t, "TZID", icalProp(t, tz, ical.PropTimezoneID).Value, "Europe/Oslo")
		type rule struct{ name, from, to, start, rrule string }
		want := map[string]rule{
			"CET":  {ical.CompTimezoneStandard, "+0200", "+0100", "19701025T030000", "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"},
			"CEST": {ical.CompTimezoneDaylight, "+0100", "+0200", "19700329T020000", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"},
		}
		if len(tz.Children) != 2 {
			t.Fatalf("VTIMEZONE has %d rules, want 2", len(tz.Children))
		}
		for _, c := range tz.Children {
			name := icalProp(t, c, ical.PropTimezoneName).Value
			w, ok := want[name]
			if !ok {
				t.Fatalf("unexpected TZNAME %q", name)
			}
			got := rule{c.Name, icalProp(t, c, ical.PropTimezoneOffsetFrom).Value, icalProp(t, c, ical.PropTimezoneOffsetTo).Value,
				icalProp(t, c, ical.PropDateTimeStart).Value, icalProp(t, c, ical.PropRecurrenceRule).Value}
			icalWant(t, name, got, w)
		}
	})

	if n := len(cal.Events()); n != len(cases) {
		t.Fatalf("%d VEVENTs, want %d", n, len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			icalCheckEvent(t, icalFindEvent(t, cal, c.wantUID), c)
		})
	}
}

func TestFeedCalendarEmpty(t *testing.T) {
	b, err := FeedCalendar("Tom", nil, icalTestBase, icalTestNow)
	if err != nil {
		t.Fatal(err)
	}
	icalCheckLines(t, b)
	if n := len(icalDecode(t, b).Events()); n != 0 {
		t.Fatalf("%d VEVENTs, want 0", n)
	}
}

// icalInvitationAttendee has a name that must be quoted (comma) and a double
// quote, which a parameter cannot hold and becomes '.
var icalInvitationAttendee = Attendee{Name: `Ola "Nordmann", Bodø`, Email: "ola.nordmann@kommune.example.no", Status: "confirmed"}

const icalInvitationAttendeeCN = `Ola 'Nordmann', Bodø`

func TestInvitationRoundTrip(t *testing.T) {
	c := icalCases()[0]
	cancelled := c.ev
	cancelled.Status = StatusCancelled
	cancelled.Sequence = c.ev.Sequence + 1 // as the store does on cancelling

	gone := icalInvitationAttendee
	gone.Status = "cancelled"

	tests := []struct {
		name         string
		ev           Event
		att          Attendee
		method       string
		wantMethod   string
		wantStatus   string
		wantSequence int
		wantPartstat string
	}{
		{"confirmed registration gets REQUEST", c.ev, icalInvitationAttendee, "REQUEST", "REQUEST", "CONFIRMED", 2, "ACCEPTED"},
		{"method is case-insensitive", c.ev, icalInvitationAttendee, "request", "REQUEST", "CONFIRMED", 2, "ACCEPTED"},
		{"cancelled registration gets CANCEL above the REQUEST", c.ev, gone, "CANCEL", "CANCEL", "CANCELLED", 3, "DECLINED"},
		{"cancelled event gets CANCEL above its new sequence", cancelled, icalInvitationAttendee, "CANCEL", "CANCEL", "CANCELLED", 4, "ACCEPTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Invitation(tt.ev, tt.att, tt.method, icalTestBase, icalTestNow)
			if err != nil {
				t.Fatal(err)
			}
			icalCheckLines(t, b)
			cal := icalDecode(t, b)
			icalWant(t, "METHOD", icalProp(t, cal.Component, ical.PropMethod).Value, tt.wantMethod)
			icalWant(t, "PRODID", icalProp(t, cal.Component, ical.PropProductID).Value, ProductID)
			if n := len(cal.Events()); n != 1 {
				t.Fatalf("%d VEVENTs, want 1", n)
			}
			ve := icalFindEvent(t, cal, "event-101@moteplass.example.no")

			want := c
			want.wantStatus = tt.wantStatus
			want.wantSequence = tt.wantSequence
			icalCheckEvent(t, ve, want)

			org := icalProp(t, ve, ical.PropOrganizer)
			icalWant(t, "ORGANIZER", org.Value, "mailto:post@sftrondelag.example.no")
			icalWant(t, "ORGANIZER;CN", org.Params.Get(ical.ParamCommonName), "Statsforvalteren i Trøndelag, stab; HR")
			att := icalProp(t, ve, ical.PropAttendee)
			icalWant(t, "ATTENDEE", att.Value, "mailto:ola.nordmann@kommune.example.no")
			icalWant(t, "ATTENDEE;CN", att.Params.Get(ical.ParamCommonName), icalInvitationAttendeeCN)
			icalWant(t, "ATTENDEE;PARTSTAT", att.Params.Get(ical.ParamParticipationStatus), tt.wantPartstat)
			icalWant(t, "ATTENDEE;ROLE", att.Params.Get(ical.ParamRole), "REQ-PARTICIPANT")
			icalWant(t, "ATTENDEE;RSVP", att.Params.Get(ical.ParamRSVP), "FALSE")
		})
	}
}

// TestSequence pins the SEQUENCE rules: the event's own number in feeds and
// REQUESTs, one more in a CANCEL, so a CANCEL always outranks the REQUEST
// sent for the same state of the event.
func TestSequence(t *testing.T) {
	seqOf := func(t *testing.T, b []byte) int {
		t.Helper()
		ev := icalDecode(t, b).Events()
		if len(ev) != 1 {
			t.Fatalf("%d VEVENTs, want 1", len(ev))
		}
		n, err := icalProp(t, ev[0].Component, ical.PropSequence).Int()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, n := range []int{0, 1, 7, 1000} {
		t.Run("sequence "+strconv.Itoa(n), func(t *testing.T) {
			ev := icalCases()[0].ev
			ev.Sequence = n
			feed, err := FeedCalendar("x", []Event{ev}, icalTestBase, icalTestNow)
			if err != nil {
				t.Fatal(err)
			}
			req, err := Invitation(ev, icalInvitationAttendee, MethodRequest, icalTestBase, icalTestNow)
			if err != nil {
				t.Fatal(err)
			}
			cancel, err := Invitation(ev, icalInvitationAttendee, MethodCancel, icalTestBase, icalTestNow)
			if err != nil {
				t.Fatal(err)
			}
			icalWant(t, "feed SEQUENCE", seqOf(t, feed), n)
			icalWant(t, "REQUEST SEQUENCE", seqOf(t, req), n)
			if got := seqOf(t, cancel); got <= seqOf(t, req) || got != n+1 {
				t.Errorf("CANCEL SEQUENCE = %d, want %d (more than the REQUEST's %d)", got, n+1, n)
			}
		})
	}
}

func TestInvitationErrors(t *testing.T) {
	ev := icalCases()[0].ev
	noOrganiserEmail := ev
	noOrganiserEmail.Organiser.ContactEmail = " "
	cancelledEvent := ev
	cancelledEvent.Status = StatusCancelled
	cancelledReg := icalInvitationAttendee
	cancelledReg.Status = "cancelled"

	tests := []struct {
		name   string
		ev     Event
		att    Attendee
		method string
	}{
		{"unknown method", ev, icalInvitationAttendee, "PUBLISH"},
		{"empty method", ev, icalInvitationAttendee, ""},
		{"no organiser email", noOrganiserEmail, icalInvitationAttendee, MethodRequest},
		{"no attendee email", ev, Attendee{Name: "Kari"}, MethodRequest},
		{"REQUEST for a cancelled event", cancelledEvent, icalInvitationAttendee, MethodRequest},
		{"REQUEST for a cancelled registration", ev, cancelledReg, MethodRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Invitation(tt.ev, tt.att, tt.method, icalTestBase, icalTestNow)
			if err == nil {
				t.Fatalf("no error; got\n%s", b)
			}
			if !strings.HasPrefix(err.Error(), "events: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestUIDDoesNotFollowSlug(t *testing.T) {
	ev := icalCases()[0].ev
	renamed := ev
	renamed.Slug = "nytt-navn"
	renamed.Title = "Nytt navn"
	for _, e := range []Event{ev, renamed} {
		b, err := FeedCalendar("x", []Event{e}, "https://moteplass.example.no:8443/sub", icalTestNow)
		if err != nil {
			t.Fatal(err)
		}
		ve := icalDecode(t, b).Events()[0]
		icalWant(t, "UID", icalProp(t, ve.Component, ical.PropUID).Value, "event-101@moteplass.example.no")
		icalWant(t, "URL", icalProp(t, ve.Component, ical.PropURL).Value, "https://moteplass.example.no:8443/sub/events/"+e.Slug)
	}
}

func TestICalFold(t *testing.T) {
	tests := []struct {
		name string
		line string
		want []string // physical lines without CRLF
	}{
		{"short line untouched", "SUMMARY:kort", []string{"SUMMARY:kort"}},
		{"75 octets untouched", strings.Repeat("a", 75), []string{strings.Repeat("a", 75)}},
		{"76 octets folded", strings.Repeat("a", 76), []string{strings.Repeat("a", 75), " a"}},
		{"two-octet ø straddling 75 moves down", strings.Repeat("a", 74) + "ø", []string{strings.Repeat("a", 74), " ø"}},
		{"ø ending exactly at 75 stays", strings.Repeat("a", 73) + "øb", []string{strings.Repeat("a", 73) + "ø", " b"}},
		{"four-octet emoji moves down whole", strings.Repeat("a", 73) + "🎉", []string{strings.Repeat("a", 73), " 🎉"}},
		{"continuations hold 74 octets after the space", strings.Repeat("b", 75+74+1),
			[]string{strings.Repeat("b", 75), " " + strings.Repeat("b", 74), " b"}},
		{"only æ", strings.Repeat("æ", 80), []string{strings.Repeat("æ", 37), " " + strings.Repeat("æ", 37), " " + strings.Repeat("æ", 6)}},
		{"escape \\n kept on one line", strings.Repeat("a", 74) + `\nb`, []string{strings.Repeat("a", 74), ` \nb`}},
		{"escaped backslash at the cut is whole", strings.Repeat("a", 73) + `\\b`, []string{strings.Repeat("a", 73) + `\\`, " b"}},
		{"three backslashes: the third moves down", strings.Repeat("a", 72) + `\\\,`, []string{strings.Repeat("a", 72) + `\\`, ` \,`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(icalFold([]byte(tt.line + "\r\n")))
			want := strings.Join(tt.want, "\r\n") + "\r\n"
			if got != want {
				t.Fatalf("fold:\n got %q\nwant %q", got, want)
			}
			icalCheckLines(t, []byte(got))
			if unfolded := strings.ReplaceAll(got, "\r\n ", ""); unfolded != tt.line+"\r\n" {
				t.Fatalf("unfolds to %q", unfolded)
			}
		})
	}
}

func TestICalCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"æøå ÆØÅ, ; \\ 🎉", "æøå ÆØÅ, ; \\ 🎉"},
		{"a\r\nb\rc\nd", "a\nb\nc\nd"},
		{"\r\r\n\n", "\n\n\n"},
		{"tab\there", "tab\there"},
		{"nul\x00bel\x07esc\x1bdel\x7f", "nulbelescdel"},
		{"bad \xff\xfe utf-8", "bad \ufffd\ufffd utf-8"},
		{"cut ø \xc3", "cut ø \ufffd"},
	}
	for _, tt := range tests {
		icalWant(t, strconv.Quote(tt.in), icalCleanText(tt.in), tt.want)
	}
}

// TestInvitationGolden keeps one whole REQUEST in testdata, so a reviewer
// sees the exact bytes a registrant's calendar gets. Rewrite it with
// go test ./events/ -run TestInvitationGolden -update-ical.
func TestInvitationGolden(t *testing.T) {
	b, err := Invitation(icalCases()[0].ev, icalInvitationAttendee, MethodRequest, icalTestBase, icalTestNow)
	if err != nil {
		t.Fatal(err)
	}
	icalCheckLines(t, b)
	golden := filepath.Join("testdata", "ical_request.golden.ics")
	if *updateICal {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	// Compared without CRs, in case a git setting turned the file's CRLFs
	// into LFs; icalCheckLines above holds the output to CRLF.
	lf := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")) }
	if !bytes.Equal(lf(b), lf(want)) {
		t.Fatalf("invitation differs from %s (rerun with -update-ical if the change is intended):\n%s", golden, b)
	}
}

func TestGoogleCalendarURL(t *testing.T) {
	c := icalCases()[0]
	u, err := url.Parse(GoogleCalendarURL(c.ev, icalTestBase))
	if err != nil {
		t.Fatal(err)
	}
	icalWant(t, "host+path", u.Host+u.Path, "calendar.google.com/calendar/render")
	if strings.Contains(u.RawQuery, "+") {
		t.Errorf("query holds a '+', which some readers take for a space: %s", u.RawQuery)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"action":   "TEMPLATE",
		"text":     c.wantSummary,
		"dates":    "20270114T080000Z/20270114T103000Z",
		"details":  c.wantDescription,
		"location": c.wantLocation,
		"ctz":      "Europe/Oslo",
	} {
		icalWant(t, k, q.Get(k), want)
	}
}

func TestOutlookCalendarURL(t *testing.T) {
	c := icalCases()[1]
	u, err := url.Parse(OutlookCalendarURL(c.ev, icalTestBase))
	if err != nil {
		t.Fatal(err)
	}
	icalWant(t, "host+path", u.Host+u.Path, "outlook.office.com/calendar/0/deeplink/compose")
	if strings.Contains(u.RawQuery, "+") {
		t.Errorf("query holds a '+', which Outlook shows as a '+': %s", u.RawQuery)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"subject":  c.wantSummary,
		"startdt":  "2027-07-08T07:00:00Z",
		"enddt":    "2027-07-08T13:00:00Z",
		"body":     c.wantDescription,
		"location": c.wantLocation,
		"path":     "/calendar/action/compose",
		"rru":      "addevent",
	} {
		icalWant(t, k, q.Get(k), want)
	}
}

func TestCalendarURLsWithoutEnd(t *testing.T) {
	c := icalCases()[4] // no EndsAt
	g, _ := url.Parse(GoogleCalendarURL(c.ev, icalTestBase))
	icalWant(t, "google dates", g.Query().Get("dates"), "20270327T080000Z/20270327T080000Z")
	o, _ := url.Parse(OutlookCalendarURL(c.ev, icalTestBase))
	icalWant(t, "outlook enddt", o.Query().Get("enddt"), "2027-03-27T08:00:00Z")
}

// The independent parser: ical.js, run by Node from testdata/icaljs.

type icaljsTime struct {
	Instant       string `json:"instant"`
	Local         string `json:"local"`
	TZID          string `json:"tzid"`
	OffsetSeconds int    `json:"offsetSeconds"`
}

type icaljsAddress struct {
	Value    string  `json:"value"`
	CN       *string `json:"cn"`
	Partstat *string `json:"partstat"`
	Role     *string `json:"role"`
	RSVP     *string `json:"rsvp"`
}

type icaljsEvent struct {
	UID         string          `json:"uid"`
	Summary     string          `json:"summary"`
	Description string          `json:"description"`
	Location    string          `json:"location"`
	URL         string          `json:"url"`
	Status      string          `json:"status"`
	Sequence    int             `json:"sequence"`
	Geo         []float64       `json:"geo"`
	DTStamp     string          `json:"dtstamp"`
	Start       *icaljsTime     `json:"start"`
	End         *icaljsTime     `json:"end"`
	Organizer   *icaljsAddress  `json:"organizer"`
	Attendees   []icaljsAddress `json:"attendees"`
}

type icaljsCalendar struct {
	Method    string        `json:"method"`
	ProdID    string        `json:"prodid"`
	Version   string        `json:"version"`
	CalName   string        `json:"calname"`
	Timezones []string      `json:"timezones"`
	Events    []icaljsEvent `json:"events"`
}

// icaljsParse runs testdata/icaljs/parse.mjs on b. Without node or the
// installed package (npm ci --prefix events/testdata/icaljs) the test is
// skipped on a developer's machine and fails in CI (env CI set).
func icaljsParse(t *testing.T, b []byte) icaljsCalendar {
	t.Helper()
	var cal icaljsCalendar
	icaljs.Parse(t, b, &cal)
	return cal
}

func icaljsCheckEvent(t *testing.T, got icaljsEvent, c icalCase) {
	t.Helper()
	icalWant(t, "UID", got.UID, c.wantUID)
	icalWant(t, "SUMMARY", got.Summary, c.wantSummary)
	icalWant(t, "DESCRIPTION", got.Description, c.wantDescription)
	icalWant(t, "LOCATION", got.Location, c.wantLocation)
	icalWant(t, "URL", got.URL, c.wantURL)
	icalWant(t, "STATUS", got.Status, c.wantStatus)
	icalWant(t, "SEQUENCE", got.Sequence, c.wantSequence)
	icalWant(t, "DTSTAMP", got.DTStamp, "2026-11-02T10:30:00.000Z")
	if len(got.Geo) != len(c.wantGeo) || (len(c.wantGeo) == 2 && (got.Geo[0] != c.wantGeo[0] || got.Geo[1] != c.wantGeo[1])) {
		t.Errorf("GEO = %v, want %v", got.Geo, c.wantGeo)
	}
	if got.Start == nil {
		t.Fatalf("no start")
	}
	// ical.js knows no time zones but the file's VTIMEZONE: the instant and
	// the offset come from our CET/CEST rules.
	icalWant(t, "start instant", got.Start.Instant, c.wantStart.Format("2006-01-02T15:04:05.000Z"))
	icalWant(t, "start TZID", got.Start.TZID, "Europe/Oslo")
	icalWant(t, "start offset", got.Start.OffsetSeconds, c.wantOffset)
	if !strings.HasSuffix(got.Start.Local, "T09:00:00") {
		t.Errorf("start local = %s, want 09:00", got.Start.Local)
	}
	wantEnd := c.ev.EndsAt
	if wantEnd.IsZero() {
		wantEnd = c.wantStart // no DTEND: the event ends where it starts
	}
	if got.End == nil {
		t.Fatalf("no end")
	}
	icalWant(t, "end instant", got.End.Instant, wantEnd.UTC().Format("2006-01-02T15:04:05.000Z"))
	if c.wantOrganizer == "" {
		if got.Organizer != nil {
			t.Errorf("ORGANIZER = %+v, want none", got.Organizer)
		}
	} else {
		if got.Organizer == nil {
			t.Fatalf("no ORGANIZER")
		}
		icalWant(t, "ORGANIZER", got.Organizer.Value, c.wantOrganizer)
		icalWant(t, "ORGANIZER;CN", icalDeref(got.Organizer.CN), c.wantOrganizerCN)
	}
}

func icalDeref(s *string) string {
	if s == nil {
		return "<none>"
	}
	return *s
}

func TestFeedCalendarICALJS(t *testing.T) {
	cases := icalCases()
	b, err := FeedCalendar("Møteplass – Trøndelag; Nordland, Oslo", icalCaseEvents(cases), icalTestBase, icalTestNow)
	if err != nil {
		t.Fatal(err)
	}
	cal := icaljsParse(t, b)
	icalWant(t, "METHOD", cal.Method, "PUBLISH")
	icalWant(t, "PRODID", cal.ProdID, ProductID)
	icalWant(t, "VERSION", cal.Version, "2.0")
	// ical.js reads X- properties it does not know raw, without unescaping.
	icalWant(t, "X-WR-CALNAME", cal.CalName, `Møteplass – Trøndelag\; Nordland\, Oslo`)
	icalWant(t, "VTIMEZONEs", strings.Join(cal.Timezones, ","), "Europe/Oslo")
	if len(cal.Events) != len(cases) {
		t.Fatalf("ical.js read %d events, want %d", len(cal.Events), len(cases))
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			icaljsCheckEvent(t, cal.Events[i], c)
			if len(cal.Events[i].Attendees) != 0 {
				t.Errorf("a feed event has attendees: %+v", cal.Events[i].Attendees)
			}
		})
	}
}

func TestInvitationICALJS(t *testing.T) {
	c := icalCases()[0]
	parse := func(method string) icaljsEvent {
		t.Helper()
		b, err := Invitation(c.ev, icalInvitationAttendee, method, icalTestBase, icalTestNow)
		if err != nil {
			t.Fatal(err)
		}
		cal := icaljsParse(t, b)
		icalWant(t, "METHOD", cal.Method, method)
		if len(cal.Events) != 1 {
			t.Fatalf("ical.js read %d events, want 1", len(cal.Events))
		}
		return cal.Events[0]
	}
	req, cancel := parse(MethodRequest), parse(MethodCancel)

	want := c
	icaljsCheckEvent(t, req, want)
	want.wantStatus, want.wantSequence = "CANCELLED", c.ev.Sequence+1
	icaljsCheckEvent(t, cancel, want)
	if cancel.Sequence <= req.Sequence {
		t.Errorf("CANCEL SEQUENCE %d is not above REQUEST SEQUENCE %d", cancel.Sequence, req.Sequence)
	}
	for _, ev := range []icaljsEvent{req, cancel} {
		if len(ev.Attendees) != 1 {
			t.Fatalf("%d attendees, want 1", len(ev.Attendees))
		}
		a := ev.Attendees[0]
		icalWant(t, "ATTENDEE", a.Value, "mailto:ola.nordmann@kommune.example.no")
		icalWant(t, "ATTENDEE;CN", icalDeref(a.CN), icalInvitationAttendeeCN)
		icalWant(t, "ATTENDEE;PARTSTAT", icalDeref(a.Partstat), "ACCEPTED")
		icalWant(t, "ATTENDEE;ROLE", icalDeref(a.Role), "REQ-PARTICIPANT")
		icalWant(t, "ATTENDEE;RSVP", icalDeref(a.RSVP), "FALSE")
	}
}

func BenchmarkFeed1000(b *testing.B) {
	cases := icalCases()
	evs := make([]Event, 1000)
	for i := range evs {
		evs[i] = cases[i%len(cases)].ev
		evs[i].ID = int64(i + 1)
	}
	b.ReportAllocs()
	var size int
	for b.Loop() {
		out, err := FeedCalendar("Alle møteplasser", evs, icalTestBase, icalTestNow)
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	b.ReportMetric(float64(size), "bytes/feed")
}
