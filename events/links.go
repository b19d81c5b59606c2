package events

// Calendar buttons: what a person on a phone taps to put one event in a
// calendar (AddLinks), or to subscribe to a feed (SubscribeLinksFor).
// A downloaded .ics is a one-off copy and webcal:// does nothing on
// Android or in Google Calendar on the web, so each calendar gets its own
// link. The event page, the manage page, the listings and the personal
// feed all build them here.

import (
	"html/template"
	"net/url"
	"strings"
)

// CalendarLinks add one event to a calendar.
type CalendarLinks struct {
	Google        string // Google Calendar's prefilled new event
	OutlookLive   string // Outlook.com (personal Microsoft accounts)
	OutlookOffice string // Outlook on the web for work and school (Microsoft 365)
	ICS           string // the .ics file: Apple Calendar, and any other app
}

// AddLinks are the "add to calendar" links of ev; the .ics path is
// relative to the site. An event's public text only: the online meeting
// link is left to the registrants' invitations, as on the event page.
func AddLinks(ev Event, baseURL string) CalendarLinks {
	ev = withoutOnlineLinks([]Event{ev})[0]
	return CalendarLinks{
		Google:        GoogleCalendarURL(ev, baseURL),
		OutlookLive:   outlookComposeURL("outlook.live.com", ev, baseURL),
		OutlookOffice: outlookComposeURL("outlook.office.com", ev, baseURL),
		ICS:           "/events/" + ev.Slug + ".ics",
	}
}

// SubscribeLinks subscribe a calendar to a feed: it then fetches new and
// changed events by itself.
type SubscribeLinks struct {
	HTTPS string // the feed's address, to copy into any calendar
	// Webcal is the same address as webcal://, which opens Apple
	// Calendar's (and other apps') "subscribe" dialogue. html/template
	// would refuse the scheme in an href as a plain string.
	Webcal        template.URL
	Google        string // Google Calendar's "add by URL", with the webcal address
	OutlookLive   string // Outlook.com's "add from web"
	OutlookOffice string // the same for work and school accounts
}

// SubscribeLinksFor are the subscribe links of the feed at feedURL (an
// absolute http(s) address), named name in Outlook.
func SubscribeLinksFor(feedURL, name string) SubscribeLinks {
	webcal := feedURL
	for _, scheme := range []string{"https://", "http://"} {
		if rest, ok := strings.CutPrefix(feedURL, scheme); ok {
			webcal = "webcal://" + rest
			break
		}
	}
	outlook := func(host string) string {
		return "https://" + host + "/calendar/0/addfromweb?" + linkQuery("url", feedURL, "name", name)
	}
	return SubscribeLinks{
		HTTPS:         feedURL,
		Webcal:        template.URL(webcal),
		Google:        "https://calendar.google.com/calendar/r?" + linkQuery("cid", webcal),
		OutlookLive:   outlook("outlook.live.com"),
		OutlookOffice: outlook("outlook.office.com"),
	}
}

// linkQuery encodes key/value pairs in order, spaces as %20 (as icalQuery,
// for the same reason: Outlook has shown "+" as a plus).
func linkQuery(kv ...string) string {
	var sb strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(kv[i] + "=" + strings.ReplaceAll(url.QueryEscape(kv[i+1]), "+", "%20"))
	}
	return sb.String()
}
