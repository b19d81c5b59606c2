package events

// Networks (series): create a network with all its meetings in one go, and
// change the future meetings of a network together. Each meeting is an
// ordinary event; a change to the whole series goes through the same
// Store.Change as one event's, so OnChange runs for each meeting.

import (
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/organisers"
)

// SeriesForm is the new-network form as typed.
type SeriesForm struct {
	Title, Description, Region, OrganiserID string

	VenueName, VenueStreet, VenuePostcode, VenueCity string
	VenueLat, VenueLon, VenueAccess                  string

	Capacity       string
	Language       string // the meetings' language; their titles are in it
	InvitationOnly bool
	InviteCode     string
	Levels, Roles  []string

	Count, FirstDate, StartTime, Duration, Interval string
	// Hosts is one host organisation per line, in meeting order.
	Hosts string
}

// Bounds of a new series.
const (
	maxMeetings = 12
	maxInterval = 52
)

// ParseSeriesForm reads the posted new-network form.
func ParseSeriesForm(v url.Values) SeriesForm {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	return SeriesForm{
		Title: g("title"), Description: strings.TrimSpace(normaliseNewlines(v.Get("description"))), Region: g("region"), OrganiserID: g("organiser_id"),
		VenueName: g("venue_name"), VenueStreet: g("venue_street"), VenuePostcode: g("venue_postcode"), VenueCity: g("venue_city"),
		VenueLat: g("venue_lat"), VenueLon: g("venue_lon"), VenueAccess: g("venue_access"),
		Capacity: g("capacity"), Language: g("language"), InvitationOnly: v.Get("invitation_only") != "", InviteCode: g("invite_code"),
		Levels: v["levels"], Roles: v["roles"],
		Count: g("count"), FirstDate: g("first_date"), StartTime: g("start_time"), Duration: g("duration"), Interval: g("interval"),
		Hosts: strings.TrimSpace(normaliseNewlines(v.Get("hosts"))),
	}
}

// NewSeriesForm is the form of a new network: the note's "about five hours,
// often starting with lunch", every eight weeks.
func NewSeriesForm(organiserID int64) SeriesForm {
	f := SeriesForm{Capacity: "20", Language: "nb", Count: "5", StartTime: "11:30", Duration: "5", Interval: "8", InvitationOnly: true}
	if organiserID != 0 {
		f.OrganiserID = strconv.FormatInt(organiserID, 10)
	}
	return f
}

// HostList is the hosts typed, one per line, blank lines dropped.
func (f SeriesForm) HostList() []string {
	var out []string
	for _, l := range strings.Split(f.Hosts, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// plan checks the form and lays out the series and its meetings (drafts,
// not yet saved: no slugs, the venue without an ID).
func (f SeriesForm) plan(fc formContext) (Series, []Event, FormErrors) {
	var errs FormErrors
	T := fc.T
	se := Series{Title: f.Title, Description: f.Description}
	text(&errs, T, "title", f.Title, maxTitle-30, true)
	text(&errs, T, "description", f.Description, maxDescription, false)
	region, ok := fc.region(f.Region)
	if !ok {
		errs.add("region", T("admin.error.region"))
	}
	var org Organiser
	if fc.ChooseOrganiser {
		id, _ := strconv.ParseInt(f.OrganiserID, 10, 64)
		if org, ok = fc.organiser(id); !ok {
			errs.add("organiser_id", T("admin.error.organiser"))
		}
	} else if org, ok = fc.organiser(fc.OwnOrganiser); !ok {
		errs.add("organiser_id", T("admin.error.organiser"))
	}
	se.OrganiserID = org.ID
	venue, _ := venueFields(&errs, T, f.VenueName, f.VenueStreet, f.VenuePostcode, f.VenueCity, f.VenueLat, f.VenueLon, f.VenueAccess)
	capacity, ok := number(f.Capacity)
	if !ok || capacity < 1 || capacity > maxCapacity {
		errs.add("capacity", T("admin.error.capacity", "Max", maxCapacity))
	}
	if f.InvitationOnly && f.InviteCode == "" {
		errs.add("invite_code", T("admin.error.invite_code"))
	} else {
		text(&errs, T, "invite_code", f.InviteCode, maxInviteCode, false)
	}
	levels := subset(&errs, T, "levels", f.Levels, Levels)
	roles := subset(&errs, T, "roles", f.Roles, Roles)
	choose(&errs, T, "language", f.Language, EventLanguages)

	count, ok := number(f.Count)
	if !ok || count < 1 || count > maxMeetings {
		errs.add("count", T("admin.error.count", "Max", maxMeetings))
		count = 0
	}
	y, mo, d, okDate := parseDate(f.FirstDate)
	if !okDate {
		if f.FirstDate == "" {
			errs.add("first_date", T("admin.error.date_required"))
		} else {
			errs.add("first_date", T("admin.error.date"))
		}
	}
	hh, mm, okClock := parseClock(f.StartTime)
	if !okClock {
		errs.add("start_time", T("admin.error.time"))
	}
	minutes, okDur := duration(f.Duration)
	if !okDur {
		errs.add("duration", T("admin.error.duration"))
	}
	interval, ok := number(f.Interval)
	if !ok || interval < 1 || interval > maxInterval {
		errs.add("interval", T("admin.error.interval", "Max", maxInterval))
	}
	hosts := f.HostList()
	if count > 0 && len(hosts) > count {
		errs.add("hosts", T("admin.error.hosts", "Hosts", len(hosts), "Count", count))
	}
	for _, h := range hosts {
		if runes(h) > maxShort {
			errs.add("hosts", T("admin.error.too_long", "Max", maxShort))
		}
	}
	if errs.Any() {
		return se, nil, errs
	}

	meetings := make([]Event, count)
	for k := range count {
		// the same wall-clock time in Oslo, summer or winter
		day := d + 7*interval*k
		ev := Event{
			Title:  fc.TIn(f.Language, "admin.series.meeting_title", "Title", f.Title, "K", k+1, "N", count),
			Format: "network_meeting", Mode: "physical", Description: f.Description,
			StartsAt: time.Date(y, mo, day, hh, mm, 0, 0, Oslo).UTC(),
			EndsAt:   time.Date(y, mo, day, hh, mm+minutes, 0, 0, Oslo).UTC(),
			Region:   region, Organiser: org, Venue: &venue, Capacity: capacity,
			Sector: "public", InvitationOnly: f.InvitationOnly, InviteCode: f.InviteCode,
			// a network is run by its members; its themes are theirs
			Facilitation: "self_run", Theme: "both", Language: f.Language, Status: StatusDraft,
			Levels: levels, Roles: roles,
		}
		if k < len(hosts) {
			ev.Host = hosts[k]
		}
		meetings[k] = ev
	}
	return se, meetings, errs
}

var hoursMinutesRE = regexp.MustCompile(`^([0-9]{1,2})[:.]([0-9]{2})$`)

// duration reads a length in hours ("5", "4,5", "4.5") or hours and
// minutes ("4:30"), between a quarter of an hour and a day.
func duration(s string) (minutes int, ok bool) {
	s = strings.TrimSpace(s)
	if m := hoursMinutesRE.FindStringSubmatch(s); m != nil && strings.Contains(s, ":") {
		h, _ := strconv.Atoi(m[1])
		mi, _ := strconv.Atoi(m[2])
		minutes = h*60 + mi
		ok = mi < 60
	} else {
		f, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
		minutes, ok = int(f*60+0.5), err == nil && f == f
	}
	return minutes, ok && minutes >= 15 && minutes <= 24*60
}

// SeriesFormPage is the data of the new-network page.
type SeriesFormPage struct {
	Form            SeriesForm
	Errors          FormErrors
	Regions         []Region
	Organisers      []Organiser
	ChooseOrganiser bool
	Organisation    string
	Vocabulary      Vocabulary
	MaxMeetings     int
}

// NewSeries is GET /admin/series/new: the empty series form.
func (a *Admin) NewSeries(c *gin.Context) {
	a.renderSeriesForm(c, http.StatusOK, NewSeriesForm(organisers.CurrentUser(c).OrganiserID), FormErrors{})
}

func (a *Admin) renderSeriesForm(c *gin.Context, status int, form SeriesForm, errs FormErrors) {
	fc, err := a.formContext(c)
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	p := SeriesFormPage{Form: form, Errors: a.labelled(c, errs), Regions: fc.Regions, Organisers: fc.Organisers,
		ChooseOrganiser: fc.ChooseOrganiser, Vocabulary: vocabulary, MaxMeetings: maxMeetings}
	if o, ok := organiserByID(fc.Organisers, fc.OwnOrganiser); ok {
		p.Organisation = o.Name
	}
	a.render(c, status, "admin_series_form", a.R.T(c, "admin.series.new_title"), p)
}

// CreateSeries is POST /admin/series: a series and its meetings.
func (a *Admin) CreateSeries(c *gin.Context) {
	u := organisers.CurrentUser(c)
	if err := c.Request.ParseForm(); err != nil {
		a.R.Fail(c, web.ErrBadRequest)
		return
	}
	form := ParseSeriesForm(c.Request.PostForm)
	fc, err := a.formContext(c)
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	se, meetings, errs := form.plan(fc)
	if errs.Any() {
		a.renderSeriesForm(c, http.StatusUnprocessableEntity, form, errs)
		return
	}
	err = a.Store.DB.Tx(c.Request.Context(), func(tx *sql.Tx, now time.Time) error {
		if err := u.May(organisers.Manage, se.OrganiserID); err != nil {
			return err
		}
		var err error
		if se.Slug, err = uniqueSlug(c.Request.Context(), tx, "series", Slugify(se.Title), 0); err != nil {
			return err
		}
		if err := CreateSeries(c.Request.Context(), tx, &se); err != nil {
			return err
		}
		venue := *meetings[0].Venue
		if err := CreateVenue(c.Request.Context(), tx, &venue); err != nil {
			return err
		}
		for i := range meetings {
			ev := &meetings[i]
			ev.Series, ev.Venue = &se, &venue
			if err := prepareEvent(c.Request.Context(), tx, ev); err != nil {
				return err
			}
			if err := CreateEvent(c.Request.Context(), tx, now, ev); err != nil {
				return err
			}
			if err := organisers.Audit(c.Request.Context(), tx, now, u, se.OrganiserID, "event_create", "event", ev.ID, "series "+strconv.FormatInt(se.ID, 10)); err != nil {
				return err
			}
		}
		return organisers.Audit(c.Request.Context(), tx, now, u, se.OrganiserID, "series_create", "series", se.ID, strconv.Itoa(len(meetings))+" meetings")
	})
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	web.SetFlash(c, a.acc.Cookies, "flash.series_created")
	c.Redirect(http.StatusSeeOther, seriesAdminPath(se.ID))
}

func seriesAdminPath(id int64) string { return "/admin/series/" + strconv.FormatInt(id, 10) }

// ---- one network and its meetings ----

// SeriesEditForm changes every future meeting of a network at once.
type SeriesEditForm struct {
	Title, Description                               string
	VenueName, VenueStreet, VenuePostcode, VenueCity string
	VenueLat, VenueLon, VenueAccess                  string
	Capacity                                         string
}

// SeriesPage is the data of a network's page.
type SeriesPage struct {
	Series       Series
	Organisation string
	Meetings     []Event
	Future       []Event // the meetings a change to the series applies to
	Form         SeriesEditForm
	Errors       FormErrors
}

// loadSeries reads the series of the :id in the path and its meetings, if
// the user may manage it.
func (a *Admin) loadSeries(c *gin.Context) (Series, []Event, error) {
	u := organisers.CurrentUser(c)
	id := web.ParseID(c.Param("id"))
	if id == 0 {
		return Series{}, nil, hidden(u)
	}
	se, err := a.Store.FindSeries(c.Request.Context(), id)
	if errors.Is(err, ErrNotFound) {
		return se, nil, hidden(u)
	}
	if err != nil {
		return se, nil, err
	}
	if err := u.May(organisers.Manage, se.OrganiserID); err != nil {
		return Series{}, nil, err
	}
	meetings, _, err := a.Store.FindEvents(c.Request.Context(), EventFilter{SeriesID: id, Statuses: Statuses})
	return se, meetings, err
}

// futureMeetings are the meetings a change to the whole series reaches:
// those not yet started and not cancelled.
func futureMeetings(meetings []Event, now time.Time) []Event {
	var out []Event
	for _, m := range meetings {
		if !m.Started(now) && !m.Cancelled() {
			out = append(out, m)
		}
	}
	return out
}

// seriesEditFormOf is what the series form shows: the series' title and
// description, and the place and size of the next meeting.
func seriesEditFormOf(se Series, future []Event) SeriesEditForm {
	f := SeriesEditForm{Title: se.Title, Description: se.Description}
	if len(future) == 0 {
		return f
	}
	next := EventFormOf(future[0])
	f.VenueName, f.VenueStreet, f.VenuePostcode, f.VenueCity = next.VenueName, next.VenueStreet, next.VenuePostcode, next.VenueCity
	f.VenueLat, f.VenueLon, f.VenueAccess, f.Capacity = next.VenueLat, next.VenueLon, next.VenueAccess, next.Capacity
	return f
}

func parseSeriesEditForm(v url.Values) SeriesEditForm {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	return SeriesEditForm{
		Title: g("title"), Description: strings.TrimSpace(normaliseNewlines(v.Get("description"))),
		VenueName: g("venue_name"), VenueStreet: g("venue_street"), VenuePostcode: g("venue_postcode"), VenueCity: g("venue_city"),
		VenueLat: g("venue_lat"), VenueLon: g("venue_lon"), VenueAccess: g("venue_access"), Capacity: g("capacity"),
	}
}

func (f SeriesEditForm) venueFields() [7]string {
	return [7]string{f.VenueName, f.VenueStreet, f.VenuePostcode, f.VenueCity, f.VenueLat, f.VenueLon, f.VenueAccess}
}

// ShowSeries is GET /admin/series/{id}: the series and its meetings.
func (a *Admin) ShowSeries(c *gin.Context) {
	se, meetings, err := a.loadSeries(c)
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	future := futureMeetings(meetings, a.Now())
	a.renderSeries(c, http.StatusOK, se, meetings, seriesEditFormOf(se, future), FormErrors{})
}

func (a *Admin) renderSeries(c *gin.Context, status int, se Series, meetings []Event, form SeriesEditForm, errs FormErrors) {
	p := SeriesPage{Series: se, Meetings: meetings, Future: futureMeetings(meetings, a.Now()), Form: form, Errors: a.labelled(c, errs)}
	if orgs, err := a.Store.FindOrganisers(c.Request.Context()); err == nil {
		if o, ok := organiserByID(orgs, se.OrganiserID); ok {
			p.Organisation = o.Name
		}
	}
	a.render(c, status, "admin_series", se.Title, p)
}

// SaveSeries applies what changed in the series form (against what it
// showed) to every future meeting, each through change, in one transaction.
func (a *Admin) SaveSeries(c *gin.Context) {
	u := organisers.CurrentUser(c)
	se, meetings, err := a.loadSeries(c)
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	if err := c.Request.ParseForm(); err != nil {
		a.R.Fail(c, web.ErrBadRequest)
		return
	}
	fc, err := a.formContext(c)
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	T := fc.T
	future := futureMeetings(meetings, a.Now())
	shown := seriesEditFormOf(se, future)
	form := parseSeriesEditForm(c.Request.PostForm)
	if c.PostForm("back") != "" {
		a.renderSeries(c, http.StatusOK, se, meetings, form, FormErrors{})
		return
	}

	var errs FormErrors
	text(&errs, T, "title", form.Title, maxTitle-30, true)
	text(&errs, T, "description", form.Description, maxDescription, false)
	venueChanged := form.venueFields() != shown.venueFields()
	var venue Venue
	if venueChanged {
		venue, _ = venueFields(&errs, T, form.VenueName, form.VenueStreet, form.VenuePostcode, form.VenueCity, form.VenueLat, form.VenueLon, form.VenueAccess)
	}
	capacityChanged := form.Capacity != shown.Capacity
	capacity, ok := number(form.Capacity)
	if capacityChanged && (!ok || capacity < 1 || capacity > maxCapacity) {
		errs.add("capacity", T("admin.error.capacity", "Max", maxCapacity))
	}
	if errs.Any() {
		a.renderSeries(c, http.StatusUnprocessableEntity, se, meetings, form, errs)
		return
	}
	titleChanged, descChanged := form.Title != shown.Title, form.Description != shown.Description

	if venueChanged && c.PostForm("confirmed") != "1" {
		n := 0
		for _, m := range future {
			if m.Status == StatusPublished && m.Physical() {
				n += m.ConfirmedCount
			}
		}
		if n > 0 {
			a.render(c, http.StatusOK, "admin_event_confirm", T("admin.confirm.title"), ConfirmPage{
				Heading: T("admin.confirm.title"),
				Message: T("admin.confirm.series_place", "Count", n, "Meetings", len(future)),
				Action:  seriesAdminPath(se.ID), Fields: hiddenFields(c), Confirm: T("admin.confirm.save"), Back: T("admin.confirm.back"),
			})
			return
		}
	}

	oldTitle := se.Title
	err = a.Store.DB.Tx(c.Request.Context(), func(tx *sql.Tx, now time.Time) error {
		se.Title, se.Description = form.Title, form.Description
		if err := updateSeries(c.Request.Context(), tx, se); err != nil {
			return err
		}
		if venueChanged {
			if err := CreateVenue(c.Request.Context(), tx, &venue); err != nil {
				return err
			}
		}
		for _, m := range future {
			_, err := a.Store.Change(c.Request.Context(), tx, now, u, m.ID, "event_update", func(ev *Event) error {
				if titleChanged && strings.HasPrefix(ev.Title, oldTitle) {
					ev.Title = form.Title + strings.TrimPrefix(ev.Title, oldTitle)
				}
				if descChanged {
					ev.Description = form.Description
				}
				if venueChanged && ev.Physical() {
					v := venue
					ev.Venue = &v
				}
				if capacityChanged {
					ev.Capacity = capacity
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return organisers.Audit(c.Request.Context(), tx, now, u, se.OrganiserID, "series_update", "series", se.ID, strconv.Itoa(len(future))+" meetings")
	})
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	web.SetFlash(c, a.acc.Cookies, "flash.series_saved")
	c.Redirect(http.StatusSeeOther, seriesAdminPath(se.ID))
}
