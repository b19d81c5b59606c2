package events

// Tests of the "add to Google Calendar" and "add to Outlook" links.

import (
	"net/url"
	"strings"
	"testing"
)

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
