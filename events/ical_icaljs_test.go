package events

// The calendars read by an independent parser: ical.js, run by Node from
// testdata/icaljs.

import (
	"strings"
	"testing"

	"github.com/moteplass/moteplass/internal/icaljs"
)

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
