package registration

// The organisers' pages about an event's registrations, under /admin:
//
//	/admin/events/:id/attendees          the list: search, status filter,
//	                                     needs at a glance, move, remove
//	/admin/events/:id/attendees.csv      the list as CSV (csv.go)
//	/admin/events/:id/attendees/new      add a registration by hand
//	/admin/events/:id/checkin            check-in at the door (checkin_page.go)
//	/admin/checkin/:code                 one person's check-in entry (QR code)
//	/admin/events/:id/message            a message to a group (admin_message_page.go)
//	/admin/events/:id/dashboard          the event in numbers (dashboard_page.go)
//	/admin/dashboard                     every event in numbers
//
// Admins and the event's organisers may use all of them; check-in volunteers
// of the organisation only the check-in pages (the roles are Require's in
// the route table, internal/app/routes.go; the organisation is checked here,
// by events.ForUser). Another organisation's event, or an id that does not
// exist, gets the same 403 (an admin a 404), so ids cannot be probed. Every
// change is a POST with the CSRF token, answered with a redirect and a flash
// message (PRG), and is written to the audit log in its own transaction.
//
// Database calls take c.Request.Context(), never the *gin.Context: gin
// reuses a Context once the handler returns.

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/organisers"
)

// AttendeesHandler serves the organisers' registration pages.
type AttendeesHandler struct {
	Service *Service
	Mail    *Mail // the removal and organiser emails; BaseURL for QR codes
	Events  *events.Store
	R       *web.Renderer
	Acc     *organisers.Handler // who is asking, Require, the flash cookies
	// RelayUTF8: as Handler.RelayUTF8, for add-by-hand.
	RelayUTF8 func() bool
}

// NewAttendeesHandler wires the organisers' registration pages; a busy
// database is "a lot is happening, nothing has changed" (503).
func NewAttendeesHandler(s *Service, m *Mail, r *web.Renderer, acc *organisers.Handler) *AttendeesHandler {
	return &AttendeesHandler{Service: s, Mail: m, Events: &events.Store{DB: s.DB}, R: r.WithBusyPage("error.attendees.busy"), Acc: acc}
}

// ---- finding what the user may see ----

// event reads the event of the :id in the path if the user may do need
// with it (events.ForUser).
func (h *AttendeesHandler) event(c *gin.Context, need organisers.Need) (events.Event, error) {
	return events.ForUser(c.Request.Context(), h.Service.DB.Read(), organisers.CurrentUser(c), web.ParseID(c.Param("id")), need)
}

// attendee reads the :reg of the path, which must be a registration of ev.
func (h *AttendeesHandler) attendee(c *gin.Context, ev events.Event) (Attendee, error) {
	id := web.ParseID(c.Param("reg"))
	if id == 0 {
		return Attendee{}, ErrNotFound
	}
	return findAttendee(c.Request.Context(), h.Service.DB.Read(), ev.ID, id)
}

// render renders an organiser page, never indexed. A form sent back with
// errors says so first in its title, which screen readers announce.
func (h *AttendeesHandler) render(c *gin.Context, status int, page, title string, data any) {
	if status == http.StatusUnprocessableEntity {
		title = h.R.T(c, "admin.error_prefix") + " " + title
	}
	p := h.R.NewPage(c, title, data)
	p.Meta.NoIndex = true
	p.Now = h.now()
	h.R.Render(c, status, page, p)
}

func (h *AttendeesHandler) now() time.Time { return h.Service.DB.Now().UTC() }

func (h *AttendeesHandler) redirect(c *gin.Context, to, flash string) {
	web.SetFlash(c, h.Acc.Cookies, flash)
	c.Redirect(http.StatusSeeOther, to)
}

func eventPath(id int64) string { return "/admin/events/" + strconv.FormatInt(id, 10) }

// listURL is the attendee list with a search and a filter kept.
func listURL(eventID int64, query, status string) string {
	return eventPath(eventID) + "/attendees" + queryString(query, status)
}

func queryString(query, status string) string {
	v := url.Values{}
	if q := strings.TrimSpace(query); q != "" {
		v.Set("q", q)
	}
	if s := CleanFilter(status); s != "" {
		v.Set("status", s)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// maxQuery bounds a search, in bytes.
const maxQuery = 200

func searchParam(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxQuery {
		s = s[:maxQuery]
	}
	return strings.ToValidUTF8(s, "")
}

// ---- the list ----

// AttendeesPage is the data of the attendee list.
type AttendeesPage struct {
	Event     events.Event
	EventBase string // /admin/events/{id}
	Base      string // /admin/events/{id}/attendees
	Query     string
	Status    string
	Filters   []string
	Rows      []Attendee // those that match the search and the filter
	Total     int        // every registration
	Counts    AttendeeCounts
	Needs     Needs
	// CanChange: registrations can be moved and removed (the event is not
	// cancelled and not over).
	CanChange bool
	CanAdd    bool // published and not over
	CSVURL    string
}

// List is GET /admin/events/{id}/attendees: the list, with search and status
// filter.
func (h *AttendeesHandler) List(c *gin.Context) {
	ev, err := h.event(c, organisers.Manage)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	all, err := h.attendeesFor(c, ev)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	now := h.now()
	q, status := searchParam(c.Query("q")), CleanFilter(c.Query("status"))
	p := AttendeesPage{
		Event: ev, EventBase: eventPath(ev.ID), Base: eventPath(ev.ID) + "/attendees",
		Query: q, Status: status, Filters: AttendeeFilters,
		Rows: FilterAttendees(all, q, status), Total: len(all),
		Counts: CountAttendees(all), Needs: SummariseNeeds(all),
		CanChange: !ev.Cancelled() && !ev.Past(now),
		CanAdd:    ev.Status == events.StatusPublished && !ev.Past(now),
		CSVURL:    eventPath(ev.ID) + "/attendees.csv" + queryString(q, status),
	}
	h.render(c, http.StatusOK, "admin_attendees", h.R.T(c, "attendees.title", "Title", ev.Title), p)
}

// attendeesFor is every registration of ev as the logged-in user may see
// it: needs as text only for those who MayReadNeeds.
func (h *AttendeesHandler) attendeesFor(c *gin.Context, ev events.Event) ([]Attendee, error) {
	all, err := FindAttendees(c.Request.Context(), h.Service.DB.Read(), ev.ID)
	if err == nil && !MayReadNeeds(organisers.CurrentUser(c), ev) {
		HideNeeds(all)
	}
	return all, err
}

// ---- move between the waiting list and a place ----

// AttendeesMovePage asks before confirming someone beyond the capacity.
type AttendeesMovePage struct {
	Event    events.Event
	Attendee Attendee
	Action   string
	Back     string
	Query    string
	Status   string
}

// Move is POST /admin/events/{id}/attendees/{reg}/move: to or from the
// waiting list.
func (h *AttendeesHandler) Move(c *gin.Context) {
	ev, err := h.event(c, organisers.Manage)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	a, err := h.attendee(c, ev)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	q, status := searchParam(c.PostForm("q")), CleanFilter(c.PostForm("status"))
	to := c.PostForm("to")
	if to != StatusConfirmed && to != StatusWaiting {
		h.R.Fail(c, web.Errorf(http.StatusUnprocessableEntity, "error.attendees.move_target"))
		return
	}
	over := c.PostForm("over_capacity") == "1"
	_, err = h.Service.MoveRegistration(c.Request.Context(), organisers.CurrentUser(c), ev.ID, a.ID, to, over)
	if errors.Is(err, ErrOverCapacity) {
		h.render(c, http.StatusOK, "admin_attendees_move", h.R.T(c, "attendees.move.over_title"), AttendeesMovePage{
			Event: ev, Attendee: a, Action: c.Request.URL.Path, Back: listURL(ev.ID, q, status), Query: q, Status: status,
		})
		return
	}
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	flash := "flash.attendees.moved_waiting"
	if to == StatusConfirmed {
		flash = "flash.attendees.moved_confirmed"
	}
	h.redirect(c, listURL(ev.ID, q, status), flash)
}

// ---- add by hand ----

// AttendeesAddPage is the form for a registration an organiser types in.
type AttendeesAddPage struct {
	Event  events.Event
	Form   *Form
	Lang   string // of the person's emails
	Action string
	Back   string
	// Existing is the registration an address already has (a duplicate).
	Existing *Registration
}

// AddForm is GET /admin/events/{id}/attendees/new: the form to add a
// registration by hand.
func (h *AttendeesHandler) AddForm(c *gin.Context) {
	ev, err := h.event(c, organisers.Manage)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	if err := h.canAdd(ev); err != nil {
		h.R.Fail(c, err)
		return
	}
	h.renderAdd(c, http.StatusOK, ev, nil, "nb", nil)
}

func (h *AttendeesHandler) canAdd(ev events.Event) error {
	if ev.Status != events.StatusPublished {
		return ErrEventNotOpen
	}
	if ev.Past(h.now()) {
		return ErrEventOver
	}
	return nil
}

func (h *AttendeesHandler) renderAdd(c *gin.Context, status int, ev events.Event, f *Form, lang string, existing *Registration) {
	h.render(c, status, "admin_attendees_new", h.R.T(c, "attendees.add.title"), AttendeesAddPage{
		Event: ev, Form: f, Lang: lang, Action: eventPath(ev.ID) + "/attendees", Back: listURL(ev.ID, "", ""), Existing: existing,
	})
}

// Add is POST /admin/events/{id}/attendees: a registration added by hand.
func (h *AttendeesHandler) Add(c *gin.Context) {
	ev, err := h.event(c, organisers.Manage)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	if err := c.Request.ParseForm(); err != nil {
		h.R.Fail(c, web.ErrBadRequest)
		return
	}
	lang := web.SupportedLang(c.PostForm("lang"))
	f := ParseForm(c.Request.PostForm)
	d, ok := f.Validate(EmailRuleFor(h.RelayUTF8))
	if !ok {
		h.renderAdd(c, http.StatusUnprocessableEntity, ev, f, lang, nil)
		return
	}
	res, err := h.Service.AddByHand(c.Request.Context(), organisers.CurrentUser(c), ev.ID, Input{
		Details: d, Lang: lang, Wordings: WordingsIn(h.R.Catalogue(), lang),
	})
	if errors.Is(err, ErrAlreadyRegistered) {
		f.Fail(FieldEmail, "admin_already_registered", 0)
		existing := res.Registration
		h.renderAdd(c, http.StatusUnprocessableEntity, ev, f, lang, &existing)
		return
	}
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	flash := "flash.attendees.added_confirmed"
	if res.Registration.Waiting() {
		flash = "flash.attendees.added_waiting"
	}
	h.redirect(c, listURL(ev.ID, "", ""), flash)
}

// ---- remove with a reason ----

// AttendeesRemovePage asks for the reason before removing someone.
type AttendeesRemovePage struct {
	Event    events.Event
	Attendee Attendee
	Action   string
	Back     string
	Query    string
	Status   string
	Reason   string
	Error    string // a catalogue key, when the reason is missing or too long
	// Promotes: the person has a place and someone waits for one.
	Promotes bool
	Max      int
}

// RemoveForm is GET /admin/events/{id}/attendees/{reg}/remove: "are you
// sure?", with a reason.
func (h *AttendeesHandler) RemoveForm(c *gin.Context) {
	ev, a, ok := h.removable(c)
	if !ok {
		return
	}
	q, status := searchParam(c.Query("q")), CleanFilter(c.Query("status"))
	h.renderRemove(c, http.StatusOK, ev, a, q, status, "", "")
}

// removable reads the event and the registration of a removal, answering
// itself when either cannot be had or the registration is already gone.
func (h *AttendeesHandler) removable(c *gin.Context) (events.Event, Attendee, bool) {
	ev, err := h.event(c, organisers.Manage)
	if err != nil {
		h.R.Fail(c, err)
		return ev, Attendee{}, false
	}
	a, err := h.attendee(c, ev)
	if err != nil {
		h.R.Fail(c, err)
		return ev, a, false
	}
	switch {
	case ev.Cancelled():
		err = ErrEventNotOpen
	case ev.Past(h.now()):
		err = ErrEventOver
	case a.Cancelled():
		err = ErrWrongStatus
	}
	if err != nil {
		h.R.Fail(c, err)
		return ev, a, false
	}
	return ev, a, true
}

func (h *AttendeesHandler) renderRemove(c *gin.Context, status int, ev events.Event, a Attendee, q, filter, reason, errKey string) {
	h.render(c, status, "admin_attendees_remove", h.R.T(c, "attendees.remove.title"), AttendeesRemovePage{
		Event: ev, Attendee: a, Action: c.Request.URL.Path, Back: listURL(ev.ID, q, filter), Query: q, Status: filter,
		Reason: reason, Error: errKey, Promotes: a.Confirmed() && ev.WaitlistCount > 0, Max: MaxReason,
	})
}

// Remove is POST /admin/events/{id}/attendees/{reg}/remove.
func (h *AttendeesHandler) Remove(c *gin.Context) {
	ev, a, ok := h.removable(c)
	if !ok {
		return
	}
	q, status := searchParam(c.PostForm("q")), CleanFilter(c.PostForm("status"))
	reason := strings.TrimSpace(strings.ReplaceAll(c.PostForm("reason"), "\r\n", "\n"))
	errKey := ""
	switch {
	case reason == "":
		errKey = "attendees.remove.reason_required"
	case len([]rune(reason)) > MaxReason:
		errKey = "attendees.remove.reason_too_long"
	case hasControl(reason, true):
		errKey = "attendees.remove.reason_invalid"
	}
	if errKey != "" {
		h.renderRemove(c, http.StatusUnprocessableEntity, ev, a, q, status, reason, errKey)
		return
	}
	_, promoted, err := h.Service.RemoveRegistration(c.Request.Context(), organisers.CurrentUser(c), ev.ID, a.ID, reason, h.Mail)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	flash := "flash.attendees.removed"
	if len(promoted) > 0 {
		flash = "flash.attendees.removed_promoted"
	}
	h.redirect(c, listURL(ev.ID, q, status), flash)
}
