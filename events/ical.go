package events

// iCalendar (RFC 5545) output: the public feeds (METHOD:PUBLISH) and the
// invitations mailed to registrants (METHOD:REQUEST and METHOD:CANCEL, RFC 5546),
// plus the "add to calendar" links for Google and Outlook on the web.
//
// Everything here is a pure function of its arguments: no clock, no database.
// go-ical holds the data model and writes the properties; two things it does not
// do are done here, each in one small step:
//
//   - Folding. go-ical's Encoder writes every property as a single line, however
//     long (encodeProp in its encoder.go). RFC 5545 §3.1 says lines SHOULD NOT be
//     longer than 75 octets, and several clients do break on longer ones, so the
//     encoded bytes go through icalFold, which folds at 75 octets and never inside
//     a UTF-8 sequence.
//   - Text clean-up. go-ical escapes TEXT values correctly (\\, \;, \, and newline
//     as \n), but a CR in a value makes its Encoder fail, and control characters
//     and invalid UTF-8 would pass through although RFC 5545 forbids them.
//     icalCleanText normalises every text first; see its comment for the rule.

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	ical "github.com/emersion/go-ical"
)

// ProductID is the PRODID of every calendar this application writes.
const ProductID = "-//Moteplass//Moteplass//NB"

// iTIP methods (RFC 5546) that the calendars carry.
const (
	MethodPublish = "PUBLISH" // feeds and .ics downloads
	MethodRequest = "REQUEST" // a registrant's invitation, or its update
	MethodCancel  = "CANCEL"  // a cancelled registration or a cancelled event
)

// Attendee is the registrant an invitation is addressed to.
type Attendee struct {
	Name   string
	Email  string
	Status string // the registration's status, e.g. confirmed, cancelled
	// EarlierCancels counts the address's earlier registrations for the
	// event that were cancelled; it raises the SEQUENCE (InvitationSequence).
	EarlierCancels int
}

// icalTZID is the one time zone every DTSTART/DTEND is written in.
const icalTZID = "Europe/Oslo"

// FeedCalendar is a METHOD:PUBLISH calendar with one VEVENT per event, for the
// subscribable feeds and for .ics downloads. now is the DTSTAMP.
//
// Each VEVENT carries SEQUENCE ev.Sequence, which the store raises on every
// change that matters (time, place, cancellation: NextSequence). A cancelled
// event stays in the feed with STATUS:CANCELLED so that subscribers see it
// cancelled rather than silently gone.
func FeedCalendar(name string, evs []Event, baseURL string, now time.Time) ([]byte, error) {
	cal := icalCalendar(MethodPublish)
	// The name twice: X-WR-CALNAME is the de facto property most clients
	// read; NAME is its RFC 7986 successor. Both are TEXT, escaped as such
	// (ical.js reads X- properties raw, so there "a, b" shows as "a\, b").
	cal.Props.Set(icalTextProp(ical.PropName, name))
	cal.Props.Set(icalTextProp("X-WR-CALNAME", name))
	cal.Props.Set(&ical.Prop{Name: "X-WR-TIMEZONE", Params: ical.Params{}, Value: icalTZID})
	// RFC 7986 wants VALUE=DURATION spelled out; go-ical's SetValueType drops
	// it because DURATION is the default type it knows for this property.
	cal.Props.Set(&ical.Prop{Name: ical.PropRefreshInterval, Params: ical.Params{ical.ParamValue: {"DURATION"}}, Value: "PT1H"})
	cal.Props.Set(&ical.Prop{Name: "X-PUBLISHED-TTL", Params: ical.Params{}, Value: "PT1H"})

	for i := range evs {
		ve := icalEvent(&evs[i], baseURL, now)
		icalSetSequence(ve, evs[i].Sequence)
		cal.Children = append(cal.Children, ve)
	}
	return icalEncode(cal)
}

// Invitation is the calendar mailed to one registrant: METHOD:REQUEST when the
// registration is confirmed (or the event changed), METHOD:CANCEL when the
// registration or the whole event is cancelled. Every message for an event has
// the same UID, so a calendar updates or removes the one entry it has.
//
// Its SEQUENCE is InvitationSequence's: ev.Sequence for a REQUEST, one more
// for a CANCEL (so it outranks the REQUEST sent for the same state of the
// event; for a cancelled event the store has already raised ev.Sequence and
// the +1 does no harm), two more for each of att's EarlierCancels.
//
// A REQUEST for a cancelled event or for a registration whose status is
// "cancelled" is a caller's mistake and returns an error.
func Invitation(ev Event, att Attendee, method string, baseURL string, now time.Time) ([]byte, error) {
	method = strings.ToUpper(method)
	if method != MethodRequest && method != MethodCancel {
		return nil, fmt.Errorf("events: invitation method %q: want %s or %s", method, MethodRequest, MethodCancel)
	}
	if method == MethodRequest && (ev.Cancelled() || att.Status == "cancelled") {
		return nil, errors.New("events: a REQUEST invitation for a cancelled event or registration; send CANCEL")
	}
	if icalAddress(ev.Organiser.ContactEmail) == "" {
		return nil, errors.New("events: invitation needs the organiser's contact email")
	}
	email := icalAddress(att.Email)
	if email == "" {
		return nil, errors.New("events: invitation needs the attendee's email")
	}

	cal := icalCalendar(method)
	ve := icalEvent(&ev, baseURL, now)

	// PARTSTAT: the registrant took the place (ACCEPTED); a registrant who
	// cancelled has DECLINED. RSVP=FALSE: no reply is expected, the
	// registration itself is the answer.
	partstat := "ACCEPTED"
	if att.Status == "cancelled" {
		partstat = "DECLINED"
	}
	attendee := &ical.Prop{
		Name: ical.PropAttendee,
		Params: ical.Params{
			ical.ParamParticipationStatus: {partstat},
			ical.ParamRole:                {"REQ-PARTICIPANT"},
			ical.ParamRSVP:                {"FALSE"},
		},
		Value: "mailto:" + email,
	}
	if att.Name != "" {
		attendee.Params.Set(ical.ParamCommonName, icalParamText(att.Name))
	}
	ve.Props.Set(attendee)

	if method == MethodCancel {
		ve.Props.Set(&ical.Prop{Name: ical.PropStatus, Params: ical.Params{}, Value: "CANCELLED"})
	}
	icalSetSequence(ve, InvitationSequence(ev.Sequence, method, att.EarlierCancels))
	cal.Children = append(cal.Children, ve)
	return icalEncode(cal)
}

// GoogleCalendarURL is an "add to Google Calendar" link that opens a prefilled
// new event. Times are given in UTC; ctz only picks the zone the form shows.
func GoogleCalendarURL(ev Event, baseURL string) string {
	start, end := icalLinkTimes(&ev)
	const f = "20060102T150405Z"
	q := []string{
		"action", "TEMPLATE",
		"text", ev.Title,
		"dates", start.Format(f) + "/" + end.Format(f),
		"details", icalDescription(&ev, baseURL),
		"location", icalLocation(&ev),
		"ctz", icalTZID,
	}
	return "https://calendar.google.com/calendar/render?" + icalQuery(q)
}

// OutlookCalendarURL is an "add to calendar" link for Outlook on the web
// (Microsoft 365 accounts). Times are RFC 3339 in UTC, the form that link is
// known to read. Outlook on the web has been reported to ignore newlines in
// the body; that would be a limitation of the link, not of this text.
func OutlookCalendarURL(ev Event, baseURL string) string {
	return outlookComposeURL("outlook.office.com", ev, baseURL)
}

// outlookComposeURL is Outlook's compose deep link on host: outlook.live.com
// for personal accounts (Outlook.com), outlook.office.com for work and
// school. Both read the same parameters.
func outlookComposeURL(host string, ev Event, baseURL string) string {
	start, end := icalLinkTimes(&ev)
	q := []string{
		"subject", ev.Title,
		"startdt", start.Format(time.RFC3339),
		"enddt", end.Format(time.RFC3339),
		"body", icalDescription(&ev, baseURL),
		"location", icalLocation(&ev),
		"path", "/calendar/action/compose",
		"rru", "addevent",
	}
	return "https://" + host + "/calendar/0/deeplink/compose?" + icalQuery(q)
}

// icalQuery encodes key/value pairs in the order given, each value cleaned
// like a calendar's TEXT (so CRLF arrives as LF). Spaces become %20,
// not "+": Outlook on the web has shown a literal "+" for a space in its
// compose links, and %20 means a space to every reader of a query string.
func icalQuery(kv []string) string {
	var sb strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(kv[i])
		sb.WriteByte('=')
		// QueryEscape writes a literal "+" as %2B, so every "+" left is a space.
		sb.WriteString(strings.ReplaceAll(url.QueryEscape(icalCleanText(kv[i+1])), "+", "%20"))
	}
	return sb.String()
}

// icalLinkTimes are the start and end in UTC; a missing or inverted end
// becomes the start, as the links need both.
func icalLinkTimes(ev *Event) (time.Time, time.Time) {
	start := ev.StartsAt.UTC()
	end := ev.EndsAt.UTC()
	if !end.After(start) {
		end = start
	}
	return start, end
}

// icalCalendar is a VCALENDAR with the properties every calendar here has and
// the Europe/Oslo VTIMEZONE as its first child.
func icalCalendar(method string) *ical.Calendar {
	cal := ical.NewCalendar()
	cal.Props.Set(&ical.Prop{Name: ical.PropProductID, Params: ical.Params{}, Value: ProductID})
	cal.Props.Set(&ical.Prop{Name: ical.PropVersion, Params: ical.Params{}, Value: "2.0"})
	cal.Props.Set(&ical.Prop{Name: ical.PropCalendarScale, Params: ical.Params{}, Value: "GREGORIAN"})
	cal.Props.Set(&ical.Prop{Name: ical.PropMethod, Params: ical.Params{}, Value: method})
	cal.Children = append(cal.Children, icalOsloTimezone())
	return cal
}

// icalOsloTimezone describes Europe/Oslo as it has been since 1996 (EU summer
// time): CET +0100 in winter, CEST +0200 from 02:00 on the last Sunday of March
// to 03:00 on the last Sunday of October. RFC 5545 requires a VTIMEZONE for
// every TZID used, and a client without a time zone database of its own
// (ical.js, Thunderbird's parser, is one; the tests check with it) reads the
// rules only from here. The DTSTARTs are the usual 1970 anchors (both are
// last Sundays of their month).
func icalOsloTimezone() *ical.Component {
	tz := ical.NewComponent(ical.CompTimezone)
	tz.Props.Set(&ical.Prop{Name: ical.PropTimezoneID, Params: ical.Params{}, Value: icalTZID})
	tz.Props.Set(&ical.Prop{Name: "X-LIC-LOCATION", Params: ical.Params{}, Value: icalTZID})

	rule := func(name, tzname, from, to, start, rrule string) *ical.Component {
		c := ical.NewComponent(name)
		c.Props.Set(&ical.Prop{Name: ical.PropTimezoneName, Params: ical.Params{}, Value: tzname})
		c.Props.Set(&ical.Prop{Name: ical.PropTimezoneOffsetFrom, Params: ical.Params{}, Value: from})
		c.Props.Set(&ical.Prop{Name: ical.PropTimezoneOffsetTo, Params: ical.Params{}, Value: to})
		c.Props.Set(&ical.Prop{Name: ical.PropDateTimeStart, Params: ical.Params{}, Value: start})
		c.Props.Set(&ical.Prop{Name: ical.PropRecurrenceRule, Params: ical.Params{}, Value: rrule})
		return c
	}
	tz.Children = []*ical.Component{
		rule(ical.CompTimezoneDaylight, "CEST", "+0100", "+0200", "19700329T020000", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"),
		rule(ical.CompTimezoneStandard, "CET", "+0200", "+0100", "19701025T030000", "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"),
	}
	return tz
}

// icalEvent is the VEVENT shared by feeds and invitations, with STATUS from
// the event (CONFIRMED or CANCELLED). SEQUENCE and ATTENDEE depend on the
// method and are the callers' to add.
func icalEvent(ev *Event, baseURL string, now time.Time) *ical.Component {
	ve := ical.NewComponent(ical.CompEvent)
	p := ve.Props
	p.Set(&ical.Prop{Name: ical.PropUID, Params: ical.Params{}, Value: icalUID(ev.ID, baseURL)})
	p.SetDateTime(ical.PropDateTimeStamp, now.UTC())
	p.SetDateTime(ical.PropDateTimeStart, ev.StartsAt.In(Oslo))
	if ev.EndsAt.After(ev.StartsAt) {
		p.SetDateTime(ical.PropDateTimeEnd, ev.EndsAt.In(Oslo))
	}
	p.Set(icalTextProp(ical.PropSummary, ev.Title))
	p.Set(icalTextProp(ical.PropDescription, icalDescription(ev, baseURL)))
	if loc := icalLocation(ev); loc != "" {
		p.Set(icalTextProp(ical.PropLocation, loc))
	}
	if ev.Venue.HasGeo() {
		p.Set(&ical.Prop{Name: ical.PropGeo, Params: ical.Params{},
			Value: strconv.FormatFloat(*ev.Venue.Latitude, 'f', -1, 64) + ";" + strconv.FormatFloat(*ev.Venue.Longitude, 'f', -1, 64)})
	}
	p.Set(&ical.Prop{Name: ical.PropURL, Params: ical.Params{}, Value: icalEventURL(baseURL, ev.Slug)})
	if email := icalAddress(ev.Organiser.ContactEmail); email != "" {
		org := &ical.Prop{Name: ical.PropOrganizer, Params: ical.Params{}, Value: "mailto:" + email}
		if ev.Organiser.Name != "" {
			org.Params.Set(ical.ParamCommonName, icalParamText(ev.Organiser.Name))
		}
		p.Set(org)
	}
	if !ev.CreatedAt.IsZero() {
		p.SetDateTime(ical.PropCreated, ev.CreatedAt.UTC())
	}
	if !ev.UpdatedAt.IsZero() {
		p.SetDateTime(ical.PropLastModified, ev.UpdatedAt.UTC())
	}
	status := "CONFIRMED"
	if ev.Cancelled() {
		status = "CANCELLED"
	}
	p.Set(&ical.Prop{Name: ical.PropStatus, Params: ical.Params{}, Value: status})
	p.Set(&ical.Prop{Name: ical.PropTransparency, Params: ical.Params{}, Value: "OPAQUE"})
	return ve
}

func icalSetSequence(ve *ical.Component, seq int) {
	ve.Props.Set(&ical.Prop{Name: ical.PropSequence, Params: ical.Params{}, Value: strconv.Itoa(seq)})
}

// icalUID is "event-{id}@{host of baseURL}": derived from the id, so editing
// the slug or the title never makes a calendar show the event twice.
func icalUID(id int64, baseURL string) string {
	host := "moteplass"
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return "event-" + strconv.FormatInt(id, 10) + "@" + host
}

// icalEventURL is the public page of the event.
func icalEventURL(baseURL, slug string) string {
	return strings.TrimRight(baseURL, "/") + "/events/" + url.PathEscape(slug)
}

// icalLocation is the venue as one line ("Name, Street, 7010 Trondheim"), or
// the online address of a digital event.
func icalLocation(ev *Event) string {
	if ev.Venue == nil {
		return ev.OnlineURL
	}
	v := ev.Venue
	parts := make([]string, 0, 3)
	for _, s := range []string{v.Name, v.Street, strings.TrimSpace(v.Postcode + " " + v.City)} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

// icalDescription is the summary, then one line per agenda item
// ("09:00 Title (introducer)", Oslo time), then for a hybrid event its online
// address, then the event's page; blocks are separated by an empty line.
//
// Each piece is cleaned before the joins: a summary ending in CR must not
// merge with the LF that follows it into one line end.
func icalDescription(ev *Event, baseURL string) string {
	var blocks []string
	if ev.Summary != "" {
		blocks = append(blocks, icalCleanText(ev.Summary))
	}
	if len(ev.Agenda) > 0 {
		lines := make([]string, 0, len(ev.Agenda))
		for _, it := range ev.Agenda {
			var sb strings.Builder
			if !it.StartsAt.IsZero() {
				sb.WriteString(it.StartsAt.In(Oslo).Format("15:04"))
				sb.WriteByte(' ')
			}
			sb.WriteString(icalCleanText(it.Title))
			if it.Introducer != "" {
				sb.WriteString(" (" + icalCleanText(it.Introducer) + ")")
			}
			lines = append(lines, sb.String())
		}
		blocks = append(blocks, strings.Join(lines, "\n"))
	}
	if ev.Venue != nil && ev.OnlineURL != "" {
		blocks = append(blocks, icalCleanText(ev.OnlineURL))
	}
	blocks = append(blocks, icalEventURL(baseURL, ev.Slug))
	return strings.Join(blocks, "\n\n")
}

// icalTextProp is a TEXT property with its value cleaned and escaped. The
// VALUE=TEXT that go-ical adds to properties it does not know (X-WR-CALNAME)
// is dropped: TEXT is the default for unknown properties anyway.
func icalTextProp(name, text string) *ical.Prop {
	p := ical.NewProp(name)
	p.SetText(icalCleanText(text))
	p.Params.Del(ical.ParamValue)
	return p
}

// icalCleanText is the one normalisation every TEXT value gets before go-ical
// escapes it (the fuzz test states the same rule independently):
//   - invalid UTF-8: each bad byte becomes U+FFFD;
//   - CRLF and a lone CR become LF (escaped as \n), so a text typed on any
//     system comes back with LF line ends;
//   - the other control characters RFC 5545 forbids in TEXT (U+0000–U+0008,
//     U+000B–U+001F, U+007F) are dropped; TAB and LF stay.
func icalCleanText(s string) string {
	if icalIsClean(s) {
		return s // the common case, without a copy
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for i, r := range s {
		switch {
		case r == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				continue // the LF that follows is written on its own
			}
			sb.WriteByte('\n')
		case r == '\t' || r == '\n':
			sb.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			// dropped
		default:
			sb.WriteRune(r) // an invalid byte comes here as utf8.RuneError
		}
	}
	return sb.String()
}

func icalIsClean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f {
			return false
		}
	}
	return utf8.ValidString(s)
}

// icalParamText makes a name safe as a parameter value (CN): a parameter can
// hold neither a line break nor a double quote, and go-ical refuses the quote.
// Line breaks and tabs become spaces and " becomes '. (RFC 6868's ^-escapes
// would keep them, but Outlook and Google do not read those.)
func icalParamText(s string) string {
	s = icalCleanText(s)
	return strings.Map(func(r rune) rune {
		switch r {
		case '\n', '\t':
			return ' '
		case '"':
			return '\''
		}
		return r
	}, s)
}

// icalAddress is an email address fit for a mailto: value: trimmed, with no
// spaces or control characters (which would break the content line).
func icalAddress(email string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, email)
}

// icalEncode writes the calendar with go-ical and folds its lines.
func icalEncode(cal *ical.Calendar) ([]byte, error) {
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("events: encode calendar: %w", err)
	}
	return icalFold(buf.Bytes()), nil
}

// icalFold folds content lines longer than 75 octets (RFC 5545 §3.1): the
// first piece has at most 75 octets, each continuation is a space followed by
// at most 74 more, so no physical line exceeds 75 octets before its CRLF.
// A cut is moved back to the start of a UTF-8 sequence, so that "ø" (2 octets)
// or an emoji (4) never ends up split across two lines: the RFC forbids it,
// and clients that decode line by line show garbage.
//
// A cut also keeps a backslash escape ("\n", "\,") on one line. RFC 5545
// allows a fold there, since unfolding comes before unescaping, but a parser
// that unescapes line by line would show "\" and a stray "n".
//
// The input is go-ical's output: lines end in CRLF and hold no other CR or LF
// (its encoder refuses them in values).
func icalFold(in []byte) []byte {
	const (
		maxOctets = 75
		crlf      = "\r\n"
	)
	out := make([]byte, 0, len(in)+len(in)/32)
	for len(in) > 0 {
		var line []byte
		if i := bytes.Index(in, []byte(crlf)); i >= 0 {
			line, in = in[:i], in[i+len(crlf):]
		} else {
			line, in = in, nil
		}
		limit := maxOctets
		for len(line) > limit {
			cut := limit
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			if cut == 0 { // not UTF-8 at all; cannot happen with cleaned text
				cut = limit
			}
			if icalEscapeOpen(line[:cut]) && cut > 1 {
				cut-- // the backslash goes down with the character it escapes
			}
			out = append(out, line[:cut]...)
			out = append(out, crlf+" "...)
			line = line[cut:]
			limit = maxOctets - 1 // the leading space counts
		}
		out = append(out, line...)
		out = append(out, crlf...)
	}
	return out
}

// icalEscapeOpen reports whether b ends inside an escape: in an odd run of
// backslashes, whose last one escapes the byte that would follow.
func icalEscapeOpen(b []byte) bool {
	n := 0
	for n < len(b) && b[len(b)-1-n] == '\\' {
		n++
	}
	return n%2 == 1
}
