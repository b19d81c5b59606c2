package events

// The organiser's event form: the values as typed, parsing them into an
// Event and a message per field. No Gin and no I/O here: the handler passes
// in what the form is checked against (regions, organisers, who is asking)
// and a function that translates into the user's language.

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// EventForm is the event form as typed: strings, so that a form with an
// error comes back exactly as the organiser left it.
type EventForm struct {
	Title, Slug, Summary, Description string
	Format, Mode, Region, OrganiserID string

	VenueName, VenueStreet, VenuePostcode, VenueCity string
	VenueLat, VenueLon, VenueAccess                  string
	OnlineURL                                        string

	StartDate, StartTime, EndDate, EndTime       string
	Capacity, Price                              string
	OpensDate, OpensTime, ClosesDate, ClosesTime string

	Levels, Roles                         []string
	Sector, Facilitation, Theme, Language string
	InvitationOnly                        bool
	InviteCode, Host                      string
	Agenda                                []AgendaRow
}

// AgendaRow is one line of the agenda as typed.
type AgendaRow struct {
	Time, Title, Introducer string
}

// Blank reports whether nothing was typed in the row.
func (r AgendaRow) Blank() bool {
	return strings.TrimSpace(r.Time) == "" && strings.TrimSpace(r.Title) == "" && strings.TrimSpace(r.Introducer) == ""
}

// EmptyAgendaRows is how many empty agenda rows the form offers.
const EmptyAgendaRows = 3

// maxAgendaRows bounds what a posted form can make us read.
const maxAgendaRows = 200

// Languages events can be held in.
var EventLanguages = []string{"nb", "en"}

// FieldError is one message of a form, for the summary at the top; Field is
// the name of the input (its id is "f-" + Field).
type FieldError struct {
	Field   string
	Label   string // the field's label, filled in before rendering
	Message string
}

// FormErrors are a form's messages by field, in the order of the form.
type FormErrors struct {
	List    []FieldError
	ByField map[string]string
}

func (e *FormErrors) add(field, msg string) {
	if e.ByField == nil {
		e.ByField = map[string]string{}
	}
	if _, dup := e.ByField[field]; dup {
		return
	}
	e.ByField[field] = msg
	e.List = append(e.List, FieldError{Field: field, Message: msg})
}

// Any reports whether there is at least one message.
func (e FormErrors) Any() bool { return len(e.List) > 0 }

// formContext is what a form is checked against.
type formContext struct {
	Regions    []Region
	Organisers []Organiser
	// ChooseOrganiser is true for admins; others always get OwnOrganiser.
	ChooseOrganiser bool
	OwnOrganiser    int64
	// T translates a catalogue key into the user's language, TIn into
	// another (an event's own language).
	T   func(key string, args ...any) string
	TIn func(lang, key string, args ...any) string
}

func (fc formContext) region(slug string) (Region, bool) {
	for _, r := range fc.Regions {
		if r.Slug == slug {
			return r, true
		}
	}
	return Region{}, false
}

func (fc formContext) organiser(id int64) (Organiser, bool) {
	for _, o := range fc.Organisers {
		if o.ID == id {
			return o, true
		}
	}
	return Organiser{}, false
}

// ParseEventForm reads the posted form.
func ParseEventForm(v url.Values) EventForm {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f := EventForm{
		Title: g("title"), Slug: g("slug"), Summary: g("summary"), Description: strings.TrimSpace(normaliseNewlines(v.Get("description"))),
		Format: g("format"), Mode: g("mode"), Region: g("region"), OrganiserID: g("organiser_id"),
		VenueName: g("venue_name"), VenueStreet: g("venue_street"), VenuePostcode: g("venue_postcode"), VenueCity: g("venue_city"),
		VenueLat: g("venue_lat"), VenueLon: g("venue_lon"), VenueAccess: g("venue_access"), OnlineURL: g("online_url"),
		StartDate: g("start_date"), StartTime: g("start_time"), EndDate: g("end_date"), EndTime: g("end_time"),
		Capacity: g("capacity"), Price: g("price"),
		OpensDate: g("opens_date"), OpensTime: g("opens_time"), ClosesDate: g("closes_date"), ClosesTime: g("closes_time"),
		Levels: v["levels"], Roles: v["roles"],
		Sector: g("sector"), Facilitation: g("facilitation"), Theme: g("theme"), Language: g("language"),
		InvitationOnly: v.Get("invitation_only") != "", InviteCode: g("invite_code"), Host: g("host"),
	}
	for i := 0; i < maxAgendaRows; i++ {
		p := "agenda." + strconv.Itoa(i) + "."
		if _, ok := v[p+"title"]; !ok {
			break
		}
		f.Agenda = append(f.Agenda, AgendaRow{Time: g(p + "time"), Title: g(p + "title"), Introducer: g(p + "introducer")})
	}
	return f
}

// NewEventForm is the form of a new event, with the usual choices made.
func NewEventForm(organiserID int64) EventForm {
	f := EventForm{Format: "meeting_place", Mode: "physical", Sector: "public", Facilitation: "facilitated",
		Theme: "leadership", Language: "nb", Price: "0", StartTime: "09:00", EndTime: "12:00"}
	if organiserID != 0 {
		f.OrganiserID = strconv.FormatInt(organiserID, 10)
	}
	return f.WithEmptyAgendaRows()
}

// EventFormOf is the form of a saved event.
func EventFormOf(e Event) EventForm {
	f := EventForm{
		Title: e.Title, Slug: e.Slug, Summary: e.Summary, Description: e.Description,
		Format: e.Format, Mode: e.Mode, Region: e.Region.Slug, OrganiserID: strconv.FormatInt(e.Organiser.ID, 10),
		OnlineURL: e.OnlineURL, Capacity: strconv.Itoa(e.Capacity), Price: strconv.Itoa(e.PriceNOK),
		Levels: e.Levels, Roles: e.Roles, Sector: e.Sector, Facilitation: e.Facilitation, Theme: e.Theme, Language: e.Language,
		InvitationOnly: e.InvitationOnly, InviteCode: e.InviteCode, Host: e.Host,
	}
	f.StartDate, f.StartTime = formDate(e.StartsAt), formClock(e.StartsAt)
	f.EndDate, f.EndTime = formDate(e.EndsAt), formClock(e.EndsAt)
	if !e.RegistrationOpensAt.IsZero() {
		f.OpensDate, f.OpensTime = formDate(e.RegistrationOpensAt), formClock(e.RegistrationOpensAt)
	}
	if !e.RegistrationClosesAt.IsZero() {
		f.ClosesDate, f.ClosesTime = formDate(e.RegistrationClosesAt), formClock(e.RegistrationClosesAt)
	}
	if v := e.Venue; v != nil {
		f.VenueName, f.VenueStreet, f.VenuePostcode, f.VenueCity, f.VenueAccess = v.Name, v.Street, v.Postcode, v.City, v.Accessibility
		if v.HasGeo() {
			f.VenueLat, f.VenueLon = strconv.FormatFloat(*v.Latitude, 'f', -1, 64), strconv.FormatFloat(*v.Longitude, 'f', -1, 64)
		}
	}
	for _, it := range e.Agenda {
		row := AgendaRow{Title: it.Title, Introducer: it.Introducer}
		if !it.StartsAt.IsZero() {
			row.Time = formClock(it.StartsAt)
		}
		f.Agenda = append(f.Agenda, row)
	}
	return f.WithEmptyAgendaRows()
}

// WithEmptyAgendaRows drops blank agenda rows and adds EmptyAgendaRows
// empty ones, so there is always room for more.
func (f EventForm) WithEmptyAgendaRows() EventForm {
	rows := make([]AgendaRow, 0, len(f.Agenda)+EmptyAgendaRows)
	for _, r := range f.Agenda {
		if !r.Blank() {
			rows = append(rows, r)
		}
	}
	for range EmptyAgendaRows {
		rows = append(rows, AgendaRow{})
	}
	f.Agenda = rows
	return f
}

func formDate(t time.Time) string  { return t.In(Oslo).Format("2006-01-02") }
func formClock(t time.Time) string { return t.In(Oslo).Format("15:04") }

func normaliseNewlines(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// Limits on what is typed (runes).
const (
	maxTitle       = 200
	maxSummary     = 500
	maxDescription = 20000
	maxShort       = 200
	maxAccess      = 1000
	maxURL         = 500
	maxInviteCode  = 40
	maxCapacity    = 100000
	maxPrice       = 1000000
)

// apply checks the form and writes its values onto e: a new event, or a
// copy of the saved one. e.Venue is kept (same ID) when the venue fields
// are unchanged and becomes a new Venue (ID 0) when they changed. e.Slug
// is "" when a slug must be made from the title.
//
// Each step checks one group of fields, and the steps' order is the order
// of the messages in the summary at the top of the form. It follows the
// form's fieldsets but for three fields, checked where they always were:
// the organiser (about) after mode and region (place), the invitation
// (registration) with the target group, the language (about) with form
// and theme.
func (f EventForm) apply(e *Event, fc formContext) FormErrors {
	var errs FormErrors
	T := fc.T
	f.applyAbout(e, &errs, T)
	f.applyModeAndRegion(e, &errs, fc)
	f.applyOrganiser(e, &errs, fc)
	f.applyWhere(e, &errs, T)
	start, okStart := f.applyWhen(e, &errs, T)
	f.applyPlacesAndPrice(e, &errs, T)
	f.applyWindow(e, &errs, T, start, okStart)
	f.applyTarget(e, &errs, T)
	f.applyFormAndTheme(e, &errs, T)
	f.applyAgenda(e, &errs, T, start, okStart)
	return errs
}

// applyAbout: the title, the address (slug), the texts and the format.
func (f EventForm) applyAbout(e *Event, errs *FormErrors, T func(string, ...any) string) {
	text(errs, T, "title", f.Title, maxTitle, true)
	e.Title = f.Title
	e.Slug = ""
	if f.Slug != "" {
		if e.Slug = Slugify(f.Slug); e.Slug == "" {
			errs.add("slug", T("admin.error.slug"))
		}
	}
	text(errs, T, "summary", f.Summary, maxSummary, false)
	e.Summary = f.Summary
	text(errs, T, "description", f.Description, maxDescription, false)
	e.Description = f.Description
	choose(errs, T, "format", f.Format, Formats)
	e.Format = f.Format
}

// applyModeAndRegion: physical, digital or hybrid, and the region.
func (f EventForm) applyModeAndRegion(e *Event, errs *FormErrors, fc formContext) {
	choose(errs, fc.T, "mode", f.Mode, Modes)
	e.Mode = f.Mode
	if r, ok := fc.region(f.Region); ok {
		e.Region = r
	} else {
		errs.add("region", fc.T("admin.error.region"))
	}
}

// applyOrganiser: an admin chooses the organiser; everyone else's events
// are their own organisation's, whatever was posted.
func (f EventForm) applyOrganiser(e *Event, errs *FormErrors, fc formContext) {
	if fc.ChooseOrganiser {
		id, _ := strconv.ParseInt(f.OrganiserID, 10, 64)
		if o, ok := fc.organiser(id); ok {
			e.Organiser = o
		} else {
			errs.add("organiser_id", fc.T("admin.error.organiser"))
		}
	} else if o, ok := fc.organiser(fc.OwnOrganiser); ok {
		// organisers never choose: it is their own organisation
		e.Organiser = o
	} else {
		errs.add("organiser_id", fc.T("admin.error.organiser"))
	}
}

// applyWhere: the venue of a physical or hybrid event, the link of a
// digital or hybrid one.
func (f EventForm) applyWhere(e *Event, errs *FormErrors, T func(string, ...any) string) {
	physical := f.Mode != "digital"
	if physical {
		v, ok := f.venue(errs, T)
		if ok {
			if e.Venue != nil && sameVenue(*e.Venue, v) {
				v.ID = e.Venue.ID
			}
			e.Venue = &v
		}
	} else {
		e.Venue = nil
	}
	if f.OnlineURL != "" || f.Mode == "digital" || f.Mode == "hybrid" {
		if f.OnlineURL == "" {
			errs.add("online_url", T("admin.error.online_url_required"))
		} else if !webURL(f.OnlineURL) || len(f.OnlineURL) > maxURL {
			errs.add("online_url", T("admin.error.url"))
		}
	}
	e.OnlineURL = f.OnlineURL
}

// applyWhen: the start and the end. The start, and whether it could be
// read, is what the registration window and the agenda are checked
// against.
func (f EventForm) applyWhen(e *Event, errs *FormErrors, T func(string, ...any) string) (start time.Time, okStart bool) {
	start, okStart = wallTime(errs, T, "start_date", "start_time", f.StartDate, f.StartTime, "", true)
	var end time.Time
	okEnd := false
	if _, _, _, ok := parseDate(f.StartDate); f.EndDate == "" && !ok {
		// no end date and no usable start date: the start date's message
		// says what to fix; only the end time is checked here
		if _, _, ok := parseClock(f.EndTime); !ok {
			key := "admin.error.time"
			if f.EndTime == "" {
				key = "admin.error.time_required"
			}
			errs.add("end_time", T(key))
		}
	} else {
		endDate := f.EndDate
		if endDate == "" {
			endDate = f.StartDate // the end date defaults to the start date
		}
		end, okEnd = wallTime(errs, T, "end_date", "end_time", endDate, f.EndTime, "", true)
	}
	if okStart && okEnd && !end.After(start) {
		errs.add("end_time", T("admin.error.end_before_start"))
	}
	e.StartsAt, e.EndsAt = start, end
	return start, okStart
}

// applyPlacesAndPrice: how many, and what it costs.
func (f EventForm) applyPlacesAndPrice(e *Event, errs *FormErrors, T func(string, ...any) string) {
	if n, ok := number(f.Capacity); !ok || n < 1 || n > maxCapacity {
		errs.add("capacity", T("admin.error.capacity", "Max", maxCapacity))
	} else {
		e.Capacity = n
	}
	if n, ok := number(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(f.Price, ",-"), ".-"), "kr")); !ok || n < 0 || n > maxPrice {
		errs.add("price", T("admin.error.price"))
	} else {
		e.PriceNOK = n
	}
}

// applyWindow: when registration opens and closes, both optional, both
// before the start.
func (f EventForm) applyWindow(e *Event, errs *FormErrors, T func(string, ...any) string, start time.Time, okStart bool) {
	opens, okOpens := wallTime(errs, T, "opens_date", "opens_time", f.OpensDate, f.OpensTime, "00:00", false)
	closes, okCloses := wallTime(errs, T, "closes_date", "closes_time", f.ClosesDate, f.ClosesTime, "23:59", false)
	e.RegistrationOpensAt, e.RegistrationClosesAt = opens, closes
	if okOpens && okCloses && !opens.IsZero() && !closes.IsZero() && !closes.After(opens) {
		errs.add("closes_date", T("admin.error.closes_before_opens"))
	}
	if okStart && okCloses && !closes.IsZero() && closes.After(start) {
		errs.add("closes_date", T("admin.error.closes_after_start"))
	}
	if okStart && okOpens && !opens.IsZero() && !opens.Before(start) {
		errs.add("opens_date", T("admin.error.opens_after_start"))
	}
}

// applyTarget: who it is for (levels, roles, sector), and whether only
// those with the invitation code may sign up.
func (f EventForm) applyTarget(e *Event, errs *FormErrors, T func(string, ...any) string) {
	e.Levels = subset(errs, T, "levels", f.Levels, Levels)
	e.Roles = subset(errs, T, "roles", f.Roles, Roles)
	choose(errs, T, "sector", f.Sector, Sectors)
	e.Sector = f.Sector
	e.InvitationOnly = f.InvitationOnly
	e.InviteCode = f.InviteCode
	if f.InvitationOnly && f.InviteCode == "" {
		errs.add("invite_code", T("admin.error.invite_code"))
	} else {
		text(errs, T, "invite_code", f.InviteCode, maxInviteCode, false)
	}
}

// applyFormAndTheme: the form of the event (facilitation) and its theme,
// its language and its host.
func (f EventForm) applyFormAndTheme(e *Event, errs *FormErrors, T func(string, ...any) string) {
	choose(errs, T, "facilitation", f.Facilitation, Facilitations)
	e.Facilitation = f.Facilitation
	choose(errs, T, "theme", f.Theme, Themes)
	e.Theme = f.Theme
	choose(errs, T, "language", f.Language, EventLanguages)
	e.Language = f.Language
	text(errs, T, "host", f.Host, maxShort, false)
	e.Host = f.Host
}

// applyAgenda: blank rows are dropped; times are on the start day.
func (f EventForm) applyAgenda(e *Event, errs *FormErrors, T func(string, ...any) string, start time.Time, okStart bool) {
	e.Agenda = nil
	for i, r := range f.Agenda {
		if r.Blank() {
			continue
		}
		field := "agenda." + strconv.Itoa(i) + ".title"
		it := AgendaItem{Title: r.Title, Introducer: r.Introducer}
		switch {
		case r.Title == "":
			errs.add(field, T("admin.error.agenda_title", "Row", i+1))
		case runes(r.Title) > maxShort || runes(r.Introducer) > maxShort:
			errs.add(field, T("admin.error.too_long", "Max", maxShort))
		}
		if r.Time != "" {
			hh, mm, ok := parseClock(r.Time)
			if !ok {
				errs.add("agenda."+strconv.Itoa(i)+".time", T("admin.error.agenda_time", "Row", i+1))
			} else if okStart {
				d := start.In(Oslo)
				it.StartsAt = time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, Oslo).UTC()
			}
		}
		e.Agenda = append(e.Agenda, it)
	}
}

// venue reads the venue fields; a physical or hybrid event needs at least
// a name and a city.
func (f EventForm) venue(errs *FormErrors, T func(string, ...any) string) (Venue, bool) {
	return venueFields(errs, T, f.VenueName, f.VenueStreet, f.VenuePostcode, f.VenueCity, f.VenueLat, f.VenueLon, f.VenueAccess)
}

func venueFields(errs *FormErrors, T func(string, ...any) string, name, street, postcode, city, lat, lon, access string) (Venue, bool) {
	n := len(errs.List)
	v := Venue{Name: name, Street: street, Postcode: postcode, City: city, Accessibility: access}
	if name == "" {
		errs.add("venue_name", T("admin.error.venue_name"))
	} else {
		text(errs, T, "venue_name", name, maxShort, true)
	}
	text(errs, T, "venue_street", street, maxShort, false)
	if postcode != "" && !postcodeRE.MatchString(postcode) {
		errs.add("venue_postcode", T("admin.error.postcode"))
	}
	if city == "" {
		errs.add("venue_city", T("admin.error.venue_city"))
	} else {
		text(errs, T, "venue_city", city, maxShort, false)
	}
	if lat != "" || lon != "" {
		la, okLa := coordinate(lat, 90)
		lo, okLo := coordinate(lon, 180)
		if !okLa {
			errs.add("venue_lat", T("admin.error.latitude"))
		}
		if !okLo {
			errs.add("venue_lon", T("admin.error.longitude"))
		}
		if okLa && okLo {
			v.Latitude, v.Longitude = &la, &lo
		}
	}
	text(errs, T, "venue_access", access, maxAccess, false)
	return v, len(errs.List) == n
}

var postcodeRE = regexp.MustCompile(`^[0-9]{4}$`)

// sameVenue reports whether two venues say the same in every field.
func sameVenue(a, b Venue) bool {
	return a.Name == b.Name && a.Street == b.Street && a.Postcode == b.Postcode && a.City == b.City &&
		a.Accessibility == b.Accessibility && sameCoord(a.Latitude, b.Latitude) && sameCoord(a.Longitude, b.Longitude)
}

func sameCoord(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return fmtCoord(*a) == fmtCoord(*b)
}

func text(errs *FormErrors, T func(string, ...any) string, field, v string, max int, required bool) {
	switch {
	case required && v == "":
		errs.add(field, T("admin.error.required"))
	case runes(v) > max:
		errs.add(field, T("admin.error.too_long", "Max", max))
	}
}

func runes(s string) int { return len([]rune(s)) }

func choose(errs *FormErrors, T func(string, ...any) string, field, v string, allowed []string) {
	for _, a := range allowed {
		if a == v {
			return
		}
	}
	errs.add(field, T("admin.error.choose"))
}

// subset keeps the known values of vs in vocabulary order.
func subset(errs *FormErrors, T func(string, ...any) string, field string, vs, allowed []string) []string {
	var out []string
	for _, a := range allowed {
		for _, v := range vs {
			if v == a {
				out = append(out, a)
				break
			}
		}
	}
	if len(out) != len(dedupe(vs)) {
		errs.add(field, T("admin.error.choose"))
	}
	return out
}

func dedupe(vs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range vs {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// number reads a whole number as people type it: "1500", "1 500".
func number(s string) (int, bool) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u00a0' || r == '\u202f' {
			return -1
		}
		return r
	}, s)
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// coordinate reads a decimal degree with a point or a comma.
func coordinate(s string, max float64) (float64, bool) {
	f, err := strconv.ParseFloat(strings.Replace(strings.TrimSpace(s), ",", ".", 1), 64)
	if err != nil || f != f || f < -max || f > max {
		return 0, false
	}
	return f, true
}

func webURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.ContainsAny(s, " \t\n")
}

// parseDate reads 2026-03-29 (what a date input sends) or 29.03.2026.
func parseDate(s string) (y int, m time.Month, d int, ok bool) {
	for _, layout := range []string{"2006-01-02", "2.1.2006"} {
		if t, err := time.Parse(layout, s); err == nil && t.Year() >= 2000 && t.Year() < 2200 {
			return t.Year(), t.Month(), t.Day(), true
		}
	}
	return 0, 0, 0, false
}

var clockRE = regexp.MustCompile(`^([0-9]{1,2})[:.]([0-9]{2})$`)

// parseClock reads 09:00 (what a time input sends), 9:00 or 09.00.
func parseClock(s string) (hh, mm int, ok bool) {
	m := clockRE.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, false
	}
	hh, _ = strconv.Atoi(m[1])
	mm, _ = strconv.Atoi(m[2])
	return hh, mm, hh < 24 && mm < 60
}

// wallTime reads a date and a time of day in Oslo into UTC. An optional
// pair may be left empty (zero time, ok); its time defaults to defClock.
func wallTime(errs *FormErrors, T func(string, ...any) string, dateField, clockField, date, clock, defClock string, required bool) (time.Time, bool) {
	if date == "" && clock == "" && !required {
		return time.Time{}, true
	}
	ok := true
	y, mo, d, okDate := parseDate(date)
	if !okDate {
		ok = false
		if date == "" {
			errs.add(dateField, T("admin.error.date_required"))
		} else {
			errs.add(dateField, T("admin.error.date"))
		}
	}
	if clock == "" {
		clock = defClock
	}
	hh, mm, okClock := parseClock(clock)
	if !okClock {
		ok = false
		if clock == "" {
			errs.add(clockField, T("admin.error.time_required"))
		} else {
			errs.add(clockField, T("admin.error.time"))
		}
	}
	if !ok {
		return time.Time{}, false
	}
	return time.Date(y, mo, d, hh, mm, 0, 0, Oslo).UTC(), true
}

// cloneEvent is a deep copy, so a change can be made beside the original.
func cloneEvent(e Event) Event {
	c := e
	if e.Venue != nil {
		v := *e.Venue
		c.Venue = &v
	}
	if e.Series != nil {
		s := *e.Series
		c.Series = &s
	}
	c.Levels = append([]string(nil), e.Levels...)
	c.Roles = append([]string(nil), e.Roles...)
	c.Agenda = append([]AgendaItem(nil), e.Agenda...)
	return c
}
