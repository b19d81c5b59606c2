package events

// The organisers' pages: their home with their events, creating and
// editing an event, publishing, unpublishing, duplicating and cancelling
// it. Every change to a saved event goes through Store.Change (change.go),
// which locks the event, saves it, runs OnChange (registration tells the
// registrants) and writes the audit log, all in one transaction; the pages
// here parse, render and redirect.

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/organisers"
)

// Admin serves the organiser pages of events, on the /admin group (which
// runs organisers' Authenticate) behind Require: check-in volunteers see
// only the home list; everything else is for organisers and admins, and
// each event or series is checked against the user's organisation. It
// reads who is asking from organisers' middleware and uses its cookies for
// flash messages. The routes are in internal/app/routes.go.
type Admin struct {
	*Handler
	acc *organisers.Handler
}

// NewAdmin serves the organiser pages next to the public ones of h.
func NewAdmin(h *Handler, acc *organisers.Handler) *Admin {
	return &Admin{Handler: h, acc: acc}
}

// ---- home ----

// HomePage is the data of the organiser's home.
type HomePage struct {
	Upcoming, Past []HomeRow
	Series         []Series
	CanEdit        bool // organisers and admins; check-in volunteers only check in
	IsAdmin        bool
	Organisation   string // the user's organisation ("" for admins)
	MaxPast        int
}

// HomeRow is one event in the organiser's list and what the user may do with it.
type HomeRow struct {
	Event      Event
	CanEdit    bool
	CanCheckIn bool
	Next       *NextStep // after the event, for those who may edit it
}

// maxPast is how many past events the home page lists.
const maxPast = 50

// Home is GET /admin: the organiser's events, upcoming and past, and series.
func (a *Admin) Home(c *gin.Context) {
	u := organisers.CurrentUser(c)
	orgs, err := a.Store.FindOrganisers(c.Request.Context())
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	f := EventFilter{Statuses: Statuses}
	if u.Role == organisers.RoleCheckIn {
		// volunteers check people in at published events only
		f.Statuses = []Status{StatusPublished}
	}
	hp := HomePage{CanEdit: u.Role != organisers.RoleCheckIn, IsAdmin: u.IsAdmin(), MaxPast: maxPast}
	if !u.IsAdmin() {
		o, ok := organiserByID(orgs, u.OrganiserID)
		if !ok {
			a.R.Fail(c, organisers.ErrForbidden)
			return
		}
		f.Organiser, hp.Organisation = o.Slug, o.Name
	}
	evs, _, err := a.Store.FindEvents(c.Request.Context(), f)
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	now := a.Now()
	for _, ev := range evs {
		row := HomeRow{Event: ev, CanEdit: u.CanManage(ev.Organiser.ID), CanCheckIn: u.CanCheckIn(ev.Organiser.ID) && ev.Status == StatusPublished}
		if ev.Past(now) {
			hp.Past = append(hp.Past, row)
		} else {
			hp.Upcoming = append(hp.Upcoming, row)
		}
	}
	// the most recent past events first
	slices.Reverse(hp.Past)
	if len(hp.Past) > maxPast {
		hp.Past = hp.Past[:maxPast]
	}
	if err := a.addNextSteps(c.Request.Context(), hp.Past); err != nil {
		a.R.Fail(c, err)
		return
	}
	if hp.CanEdit {
		org := u.OrganiserID
		if u.IsAdmin() {
			org = 0
		}
		if hp.Series, err = a.Store.FindSeriesList(c.Request.Context(), org); err != nil {
			a.R.Fail(c, err)
			return
		}
	}
	a.render(c, http.StatusOK, "admin_home", a.R.T(c, "admin.home.title"), hp)
}

// addNextSteps puts each editable row's next step on it.
func (a *Admin) addNextSteps(ctx context.Context, rows []HomeRow) error {
	var evs []Event
	for _, r := range rows {
		if r.CanEdit {
			evs = append(evs, r.Event)
		}
	}
	steps, err := a.nextSteps(ctx, evs)
	for i := range rows {
		if s, ok := steps[rows[i].Event.ID]; ok && rows[i].CanEdit {
			rows[i].Next = &s
		}
	}
	return err
}

func organiserByID(orgs []Organiser, id int64) (Organiser, bool) {
	for _, o := range orgs {
		if o.ID == id {
			return o, true
		}
	}
	return Organiser{}, false
}

// render renders an organiser page, never indexed. A form sent back with
// errors says so first in its title, which screen readers announce.
func (a *Admin) render(c *gin.Context, status int, page, title string, data any, notices ...string) {
	if status == http.StatusUnprocessableEntity {
		title = a.R.T(c, "admin.error_prefix") + " " + title
	}
	p := a.R.NewPage(c, title, data)
	p.Meta.NoIndex = true
	p.Now = a.Now()
	p.Notices = append(p.Notices, notices...)
	a.R.Render(c, status, page, p)
}

// ---- finding what the user may change ----

// loadEvent reads the event of the :id in the path, with its agenda, if
// the user may manage it.
func (a *Admin) loadEvent(c *gin.Context) (Event, error) {
	return ForUser(c.Request.Context(), a.Store.DB.Read(), organisers.CurrentUser(c), web.ParseID(c.Param("id")), organisers.Manage)
}

// formContext is what the forms are checked against, for this user.
func (a *Admin) formContext(c *gin.Context) (formContext, error) {
	u := organisers.CurrentUser(c)
	regions, err := a.Store.FindRegions(c.Request.Context())
	if err != nil {
		return formContext{}, err
	}
	orgs, err := a.Store.FindOrganisers(c.Request.Context())
	if err != nil {
		return formContext{}, err
	}
	lang, cat := web.Lang(c), a.R.Catalogue()
	return formContext{
		Regions: regions, Organisers: orgs, ChooseOrganiser: u.IsAdmin(), OwnOrganiser: u.OrganiserID,
		T:   func(key string, args ...any) string { return cat.T(lang, key, args...) },
		TIn: cat.T,
	}, nil
}

// ---- the event form ----

// EventFormPage is the data of the new-event and edit-event pages.
type EventFormPage struct {
	New    bool
	Action string
	// Event is the saved event (when editing): status, counts, addresses.
	Event           Event
	Form            EventForm
	Errors          FormErrors
	Regions         []Region
	Organisers      []Organiser
	ChooseOrganiser bool
	Organisation    string // the organiser's own, shown when not chosen
	Vocabulary      Vocabulary
	// What may be done with the saved event now.
	CanPublish, CanUnpublish, CanCancel bool
	LiveRegistrations                   int
	Next                                *NextStep // after the event
}

// Vocabulary holds the closed lists the forms choose from.
type Vocabulary struct {
	Formats, Modes, Levels, Roles, Sectors, Facilitations, Themes, Languages []string
}

var vocabulary = Vocabulary{Formats: Formats, Modes: Modes, Levels: Levels, Roles: Roles, Sectors: Sectors,
	Facilitations: Facilitations, Themes: Themes, Languages: EventLanguages}

// NewEvent is GET /admin/events/new: the empty event form.
func (a *Admin) NewEvent(c *gin.Context) {
	u := organisers.CurrentUser(c)
	a.renderEventForm(c, http.StatusOK, Event{}, NewEventForm(u.OrganiserID), FormErrors{})
}

// EditEvent is GET /admin/events/{id}: the event form.
func (a *Admin) EditEvent(c *gin.Context) {
	ev, err := a.loadEvent(c)
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	a.renderEventForm(c, http.StatusOK, ev, EventFormOf(ev), FormErrors{})
}

func (a *Admin) renderEventForm(c *gin.Context, status int, ev Event, form EventForm, errs FormErrors, notices ...string) {
	fc, err := a.formContext(c)
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	p := EventFormPage{
		New: ev.ID == 0, Action: "/admin/events", Event: ev, Form: form, Errors: a.labelled(c, errs),
		Regions: fc.Regions, Organisers: fc.Organisers, ChooseOrganiser: fc.ChooseOrganiser, Vocabulary: vocabulary,
	}
	if o, ok := organiserByID(fc.Organisers, fc.OwnOrganiser); ok {
		p.Organisation = o.Name
	}
	title := a.R.T(c, "admin.event.new_title")
	if ev.ID != 0 {
		p.Action = eventAdminPath(ev.ID)
		p.LiveRegistrations = ev.ConfirmedCount + ev.WaitlistCount
		p.CanPublish = ev.Status == StatusDraft
		p.CanUnpublish = ev.Status == StatusPublished && p.LiveRegistrations == 0
		p.CanCancel = ev.Status == StatusPublished
		steps, err := a.nextSteps(c.Request.Context(), []Event{ev})
		if err != nil {
			a.R.Fail(c, err)
			return
		}
		if s, ok := steps[ev.ID]; ok {
			p.Next = &s
		}
		title = a.R.T(c, "admin.event.edit_title", "Title", ev.Title)
		if !p.ChooseOrganiser {
			p.Organisation = ev.Organiser.Name
		}
	}
	a.render(c, status, "admin_event_form", title, p, notices...)
}

// labelled names each message's field for the error summary.
func (a *Admin) labelled(c *gin.Context, errs FormErrors) FormErrors {
	for i, e := range errs.List {
		if rest, ok := strings.CutPrefix(e.Field, "agenda."); ok {
			n, _, _ := strings.Cut(rest, ".")
			row, _ := strconv.Atoi(n)
			errs.List[i].Label = a.R.T(c, "admin.agenda.row", "Row", row+1)
			continue
		}
		errs.List[i].Label = a.R.T(c, "admin.field."+e.Field)
	}
	return errs
}

func eventAdminPath(id int64) string { return "/admin/events/" + strconv.FormatInt(id, 10) }

// checkSlug adds a message when a typed address is another event's.
func (a *Admin) checkSlug(c *gin.Context, errs *FormErrors, slug string, id int64, T func(string, ...any) string) error {
	if slug == "" {
		return nil
	}
	taken, err := slugTaken(c.Request.Context(), a.Store.DB.Read(), "events", slug, id)
	if err != nil {
		return err
	}
	if taken {
		errs.add("slug", T("admin.error.slug_taken"))
	}
	return nil
}

// CreateEvent is POST /admin/events: a new draft from the form.
func (a *Admin) CreateEvent(c *gin.Context) {
	u := organisers.CurrentUser(c)
	if err := c.Request.ParseForm(); err != nil {
		a.R.Fail(c, web.ErrBadRequest)
		return
	}
	form := ParseEventForm(c.Request.PostForm)
	fc, err := a.formContext(c)
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	var ev Event
	errs := form.apply(&ev, fc)
	if err := a.checkSlug(c, &errs, ev.Slug, 0, fc.T); err != nil {
		a.R.Fail(c, err)
		return
	}
	if errs.Any() {
		a.renderEventForm(c, http.StatusUnprocessableEntity, Event{}, form, errs)
		return
	}
	ev.Status = StatusDraft
	err = a.Store.DB.Tx(c.Request.Context(), func(tx *sql.Tx, now time.Time) error {
		if err := prepareEvent(c.Request.Context(), tx, &ev); err != nil {
			return err
		}
		if err := CreateEvent(c.Request.Context(), tx, now, &ev); err != nil {
			return err
		}
		return organisers.Audit(c.Request.Context(), tx, now, u, ev.Organiser.ID, "event_create", "event", ev.ID, "")
	})
	if errors.Is(err, db.ErrUnique) {
		// someone took the typed address meanwhile
		errs.add("slug", fc.T("admin.error.slug_taken"))
		a.renderEventForm(c, http.StatusUnprocessableEntity, Event{}, form, errs)
		return
	}
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	web.SetFlash(c, a.acc.Cookies, "flash.event_created")
	c.Redirect(http.StatusSeeOther, eventAdminPath(ev.ID))
}

// errStale means the event changed between the form and the save so that
// the form no longer fits; the user sees the form again.
var errStale = errors.New("events: the event changed while it was edited")

// SaveEvent is POST /admin/events/{id}: the form's changes to the event.
func (a *Admin) SaveEvent(c *gin.Context) {
	u := organisers.CurrentUser(c)
	before, err := a.loadEvent(c)
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	if err := c.Request.ParseForm(); err != nil {
		a.R.Fail(c, web.ErrBadRequest)
		return
	}
	form := ParseEventForm(c.Request.PostForm)
	if c.PostForm("back") != "" {
		// back from the confirmation, to change something
		a.renderEventForm(c, http.StatusOK, before, form, FormErrors{})
		return
	}
	fc, err := a.formContext(c)
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	after := cloneEvent(before)
	errs := form.apply(&after, fc)
	if err := a.checkSlug(c, &errs, after.Slug, before.ID, fc.T); err != nil {
		a.R.Fail(c, err)
		return
	}
	if errs.Any() {
		a.renderEventForm(c, http.StatusUnprocessableEntity, before, form, errs)
		return
	}
	ch := Change{Before: before, After: after}
	if needsConfirmation(ch) && c.PostForm("confirmed") != "1" {
		a.render(c, http.StatusOK, "admin_event_confirm", a.R.T(c, "admin.confirm.title"), ConfirmPage{
			Heading: a.R.T(c, "admin.confirm.title"),
			Message: a.R.T(c, "admin.confirm.time_or_place", "Count", before.ConfirmedCount),
			Action:  eventAdminPath(before.ID), Fields: hiddenFields(c), Confirm: a.R.T(c, "admin.confirm.save"),
			Back: a.R.T(c, "admin.confirm.back"), Event: before,
		})
		return
	}
	err = a.Store.DB.Tx(c.Request.Context(), func(tx *sql.Tx, now time.Time) error {
		_, err := a.Store.Change(c.Request.Context(), tx, now, u, before.ID, "event_update", func(ev *Event) error {
			if errs := form.apply(ev, fc); errs.Any() {
				return errStale
			}
			return nil
		})
		return err
	})
	switch {
	case errors.Is(err, db.ErrUnique):
		errs.add("slug", fc.T("admin.error.slug_taken"))
		a.renderEventForm(c, http.StatusUnprocessableEntity, before, form, errs)
		return
	case errors.Is(err, errStale):
		a.renderEventForm(c, http.StatusConflict, before, form, errs, a.R.T(c, "admin.refused.stale"))
		return
	case err != nil:
		a.R.Fail(c, err)
		return
	}
	web.SetFlash(c, a.acc.Cookies, "flash.event_saved")
	c.Redirect(http.StatusSeeOther, eventAdminPath(before.ID))
}

// ConfirmPage asks "are you sure?" before a change that reaches registrants.
type ConfirmPage struct {
	Heading, Message string
	Action           string        // where the confirming form posts
	Fields           []HiddenField // the form as typed, carried over
	Confirm          string        // the confirming button
	Danger           bool
	Note             string
	Back             string // a button back to the form with what was typed
	BackURL          string // or a plain link back
	Event            Event
}

// HiddenField is one posted value, carried through a confirmation.
type HiddenField struct{ Name, Value string }

// hiddenFields is the posted form, without the token and the buttons.
func hiddenFields(c *gin.Context) []HiddenField {
	var out []HiddenField
	keys := make([]string, 0, len(c.Request.PostForm))
	for k := range c.Request.PostForm {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch k {
		case web.CSRFField, "confirmed", "back":
			continue
		}
		for _, v := range c.Request.PostForm[k] {
			out = append(out, HiddenField{Name: k, Value: v})
		}
	}
	return out
}

// ---- publish, unpublish, cancel, duplicate ----

// statusChange runs one of the buttons on the event's page through
// Store.Change.
func (a *Admin) statusChange(c *gin.Context, action, flash string, edit func(ev *Event) error) {
	u := organisers.CurrentUser(c)
	ev, err := a.loadEvent(c)
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	err = a.Store.DB.Tx(c.Request.Context(), func(tx *sql.Tx, now time.Time) error {
		_, err := a.Store.Change(c.Request.Context(), tx, now, u, ev.ID, action, edit)
		return err
	})
	if a.refused(c, ev, err) {
		return
	}
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	web.SetFlash(c, a.acc.Cookies, flash)
	c.Redirect(http.StatusSeeOther, eventAdminPath(ev.ID))
}

// refused shows the event's page with the reason when err is a refusal
// of the button.
func (a *Admin) refused(c *gin.Context, ev Event, err error) bool {
	r, ok := web.AsConflict(err)
	if !ok {
		return false
	}
	a.renderEventForm(c, http.StatusConflict, ev, EventFormOf(ev), FormErrors{}, a.R.T(c, r.Key, r.Args...))
	return true
}

// Publish is POST /admin/events/{id}/publish.
func (a *Admin) Publish(c *gin.Context) {
	a.statusChange(c, "event_publish", "flash.event_published", toPublished)
}

// Unpublish is POST /admin/events/{id}/unpublish: back to a draft.
func (a *Admin) Unpublish(c *gin.Context) {
	a.statusChange(c, "event_unpublish", "flash.event_unpublished", toDraft)
}

// CancelForm is GET /admin/events/{id}/cancel: "are you sure?", and how
// many registrants hear of it.
func (a *Admin) CancelForm(c *gin.Context) {
	ev, err := a.loadEvent(c)
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	if a.refused(c, ev, cancelCheck(ev)) {
		return
	}
	msg := a.R.T(c, "admin.cancel.message_none")
	if n := ev.ConfirmedCount + ev.WaitlistCount; n > 0 {
		msg = a.R.T(c, "admin.cancel.message", "Count", n)
	}
	a.render(c, http.StatusOK, "admin_event_confirm", a.R.T(c, "admin.cancel.title", "Title", ev.Title), ConfirmPage{
		Heading: a.R.T(c, "admin.cancel.heading"),
		Message: msg, Note: a.R.T(c, "admin.cancel.note"),
		Action: eventAdminPath(ev.ID) + "/cancel", Confirm: a.R.T(c, "admin.cancel.confirm"), Danger: true,
		BackURL: eventAdminPath(ev.ID), Event: ev,
	})
}

// Cancel is POST /admin/events/{id}/cancel.
func (a *Admin) Cancel(c *gin.Context) {
	a.statusChange(c, "event_cancel", "flash.event_cancelled", toCancelled)
}

// Duplicate copies an event as a new draft: same dates, text, place,
// target groups and agenda, no registrations. The organiser changes what
// differs on the copy's page.
func (a *Admin) Duplicate(c *gin.Context) {
	u := organisers.CurrentUser(c)
	src, err := a.loadEvent(c)
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	suffix := a.R.T(c, "admin.duplicate.suffix")
	var cp Event
	err = a.Store.DB.Tx(c.Request.Context(), func(tx *sql.Tx, now time.Time) error {
		ev, err := ForUser(c.Request.Context(), tx, u, src.ID, organisers.Manage)
		if err != nil {
			return err
		}
		cp = cloneEvent(ev)
		cp.ID, cp.Status, cp.Sequence, cp.ConfirmedCount, cp.WaitlistCount = 0, StatusDraft, 0, 0, 0
		cp.Title = ev.Title + suffix
		if runes(cp.Title) > maxTitle {
			cp.Title = ev.Title
		}
		if cp.Slug, err = uniqueSlug(c.Request.Context(), tx, "events", Slugify(ev.Slug+" "+suffix), 0); err != nil {
			return err
		}
		if err := CreateEvent(c.Request.Context(), tx, now, &cp); err != nil {
			return err
		}
		return organisers.Audit(c.Request.Context(), tx, now, u, cp.Organiser.ID, "event_duplicate", "event", cp.ID, "from "+strconv.FormatInt(ev.ID, 10))
	})
	if err != nil {
		a.R.Fail(c, err)
		return
	}
	web.SetFlash(c, a.acc.Cookies, "flash.event_duplicated")
	c.Redirect(http.StatusSeeOther, eventAdminPath(cp.ID))
}
