package events_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
)

func TestAddLinks(t *testing.T) {
	start := time.Date(2027, 1, 14, 9, 0, 0, 0, events.Oslo) // 08:00Z in winter
	summer := time.Date(2027, 6, 10, 13, 0, 0, 0, events.Oslo)
	for _, c := range []struct {
		name           string
		ev             events.Event
		dates          string // Google's
		startdt, enddt string // Outlook's
		location       string
		mustNotCarry   string
	}{
		{"in a room, winter", events.Event{Slug: "mote", Title: "Møte om tillit & ærlighet", StartsAt: start, EndsAt: start.Add(150 * time.Minute),
			Venue: &events.Venue{Name: "Bryggen", Street: "Bryggen 1", Postcode: "5003", City: "Bergen"}},
			"20270114T080000Z/20270114T103000Z", "2027-01-14T08:00:00Z", "2027-01-14T10:30:00Z", "Bryggen", ""},
		{"online, summer: the meeting link stays out", events.Event{Slug: "digitalt", Title: "Digitalt", Mode: "digital", StartsAt: summer, EndsAt: summer.Add(time.Hour),
			OnlineURL: "https://teams.example.no/hemmelig"},
			"20270610T110000Z/20270610T120000Z", "2027-06-10T11:00:00Z", "2027-06-10T12:00:00Z", "", "hemmelig"},
		{"no end", events.Event{Slug: "uten-slutt", Title: "Uten slutt", StartsAt: start},
			"20270114T080000Z/20270114T080000Z", "2027-01-14T08:00:00Z", "2027-01-14T08:00:00Z", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := events.AddLinks(c.ev, "https://moteplass.example.no")
			if l.ICS != "/events/"+c.ev.Slug+".ics" {
				t.Errorf("ICS %q", l.ICS)
			}
			g, err := url.Parse(l.Google)
			if err != nil {
				t.Fatal(err)
			}
			gq := g.Query()
			if g.Host+g.Path != "calendar.google.com/calendar/render" || gq.Get("action") != "TEMPLATE" || gq.Get("text") != c.ev.Title || gq.Get("dates") != c.dates {
				t.Errorf("Google %s", l.Google)
			}
			if !strings.Contains(gq.Get("details"), "https://moteplass.example.no/events/"+c.ev.Slug) || !strings.Contains(gq.Get("location"), c.location) {
				t.Errorf("Google details %q location %q", gq.Get("details"), gq.Get("location"))
			}
			for host, raw := range map[string]string{"outlook.live.com": l.OutlookLive, "outlook.office.com": l.OutlookOffice} {
				o, err := url.Parse(raw)
				if err != nil {
					t.Fatal(err)
				}
				q := o.Query()
				if o.Scheme != "https" || o.Host != host || o.Path != "/calendar/0/deeplink/compose" {
					t.Errorf("%s: %s", host, raw)
				}
				if q.Get("subject") != c.ev.Title || q.Get("startdt") != c.startdt || q.Get("enddt") != c.enddt ||
					!strings.Contains(q.Get("body"), "/events/"+c.ev.Slug) || !strings.Contains(q.Get("location"), c.location) {
					t.Errorf("%s: %v", host, q)
				}
				if strings.Contains(o.RawQuery, "+") {
					t.Errorf("%s: a '+' in %s", host, o.RawQuery)
				}
			}
			if c.mustNotCarry != "" {
				for _, s := range []string{l.Google, l.OutlookLive, l.OutlookOffice} {
					if strings.Contains(s, c.mustNotCarry) {
						t.Errorf("a link carries %q: %s", c.mustNotCarry, s)
					}
				}
			}
		})
	}
}

func TestSubscribeLinksFor(t *testing.T) {
	for _, c := range []struct{ feed, webcal string }{
		{"https://moteplass.example.no/regions/bergen/calendar.ics", "webcal://moteplass.example.no/regions/bergen/calendar.ics"},
		{"http://localhost:8080/calendar.ics?format=meeting_place&q=%C3%B8vre", "webcal://localhost:8080/calendar.ics?format=meeting_place&q=%C3%B8vre"},
	} {
		l := events.SubscribeLinksFor(c.feed, "Møteplasser i Bergen")
		if string(l.Webcal) != c.webcal || l.HTTPS != c.feed {
			t.Errorf("%s: webcal %s", c.feed, l.Webcal)
		}
		g, _ := url.Parse(l.Google)
		if g.Host+g.Path != "calendar.google.com/calendar/r" || g.Query().Get("cid") != c.webcal {
			t.Errorf("Google %s", l.Google)
		}
		for host, raw := range map[string]string{"outlook.live.com": l.OutlookLive, "outlook.office.com": l.OutlookOffice} {
			o, _ := url.Parse(raw)
			if o.Host != host || o.Path != "/calendar/0/addfromweb" || o.Query().Get("url") != c.feed || o.Query().Get("name") != "Møteplasser i Bergen" {
				t.Errorf("%s: %s", host, raw)
			}
		}
	}
}
