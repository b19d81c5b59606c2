package registration

// The check-in page, used on a phone at the door: search by name (a plain
// GET form, no JavaScript), one button per person to mark them as attended
// and one to undo it, and the counts. The QR code a person shows opens
// their entry alone (/admin/checkin/{code}).

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/organisers"
)

// CheckinPage is the data of the check-in page.
type CheckinPage struct {
	Event  events.Event
	Base   string // /admin/events/{id}/checkin
	Query  string
	Rows   []Attendee
	Shown  int
	Total  int // confirmed
	Done   int // checked in
	Open   bool
	Single bool   // one person's entry, opened from their QR code
	Code   string // the code of that entry, for the forms to come back to
	// CanManage shows the organiser's links (the list, moving people).
	CanManage bool
}

// checkinRows are the people the check-in page lists: everyone confirmed,
// and those on the waiting list (shown, so staff can tell them why there
// is no button), that match the search, by name.
func checkinRows(all []Attendee, query string) []Attendee {
	var out []Attendee
	for _, a := range all {
		if a.Cancelled() || a.Anonymised || !a.MatchesSearch(query) {
			continue
		}
		out = append(out, a)
	}
	slices.SortStableFunc(out, func(x, y Attendee) int {
		if x.Confirmed() != y.Confirmed() {
			if x.Confirmed() {
				return -1
			}
			return 1
		}
		return strings.Compare(foldText(x.Name), foldText(y.Name))
	})
	return out
}

// CheckinPage is GET /admin/events/{id}/checkin: check-in at the door.
func (h *AttendeesHandler) CheckinPage(c *gin.Context) {
	ev, err := h.event(c, organisers.CheckIn)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	h.renderCheckin(c, ev, searchParam(c.Query("q")), 0, "")
}

// renderCheckin shows the page for a search, or for one registration.
func (h *AttendeesHandler) renderCheckin(c *gin.Context, ev events.Event, q string, only int64, code string) {
	all, err := FindAttendees(c.Request.Context(), h.Service.DB.Read(), ev.ID)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	// at the door, that someone has needs is enough (and all a screen
	// seen by others in the queue should show)
	HideNeeds(all)
	counts := CountAttendees(all)
	p := CheckinPage{
		Event: ev, Base: eventPath(ev.ID) + "/checkin", Query: q, Total: counts.Confirmed, Done: counts.Attended,
		Open: ev.Status == events.StatusPublished, CanManage: organisers.CurrentUser(c).CanManage(ev.Organiser.ID),
	}
	if only != 0 {
		p.Single, p.Code = true, code
		for _, a := range all {
			if a.ID == only {
				p.Rows = []Attendee{a}
			}
		}
	} else {
		p.Rows = checkinRows(all, q)
	}
	p.Shown = len(p.Rows)
	h.render(c, http.StatusOK, "admin_checkin", h.R.T(c, "checkin.title", "Title", ev.Title), p)
}

// CheckinByCode is GET /admin/checkin/:code, the address in a person's QR
// code: their entry alone, for staff who may check in at the event.
func (h *AttendeesHandler) CheckinByCode(c *gin.Context) {
	code := c.Param("code")
	regID, eventID, err := h.Service.FindCheckinCode(c.Request.Context(), code)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	ev, err := events.ForUser(c.Request.Context(), h.Service.DB.Read(), organisers.CurrentUser(c), eventID, organisers.CheckIn)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	h.renderCheckin(c, ev, "", regID, code)
}

// CheckIn is POST /admin/events/{id}/checkin/{reg}.
func (h *AttendeesHandler) CheckIn(c *gin.Context) { h.setCheckedIn(c, true) }

// CheckInUndo is POST /admin/events/{id}/checkin/{reg}/undo.
func (h *AttendeesHandler) CheckInUndo(c *gin.Context) { h.setCheckedIn(c, false) }

func (h *AttendeesHandler) setCheckedIn(c *gin.Context, in bool) {
	ev, err := h.event(c, organisers.CheckIn)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	regID := web.ParseID(c.Param("reg"))
	if regID == 0 {
		h.R.Fail(c, ErrNotFound)
		return
	}
	changed, err := h.Service.SetCheckedIn(c.Request.Context(), organisers.CurrentUser(c), ev.ID, regID, in)
	if err != nil && !errors.Is(err, ErrNotConfirmed) {
		h.R.Fail(c, err)
		return
	}
	flash := "flash.checkin.done"
	switch {
	case errors.Is(err, ErrNotConfirmed):
		flash = "flash.checkin.not_confirmed"
	case !in:
		flash = "flash.checkin.undone"
	case !changed:
		flash = "flash.checkin.already"
	}
	// back where the button was: the person's own entry, or the list with
	// the search kept and the person's row in view
	back := eventPath(ev.ID) + "/checkin"
	if code := c.PostForm("code"); code != "" && wellFormedCheckinCode(code) {
		back = "/admin/checkin/" + code
	} else {
		if q := searchParam(c.PostForm("q")); q != "" {
			back += "?" + url.Values{"q": {q}}.Encode()
		}
		back += "#p-" + c.Param("reg")
	}
	h.redirect(c, back, flash)
}

// QRCode is GET /r/{token}/qr.png: the QR code of the registration's
// check-in entry, for the manage page and the confirmation email. A
// cancelled registration, or a link that expired, has none.
func (h *AttendeesHandler) QRCode(c *gin.Context) {
	l, err := h.Service.Lookup(c.Request.Context(), c.Param("token"))
	r := l.Registration
	if err != nil || r.Cancelled() {
		h.R.Fail(c, web.ErrNotFound)
		return
	}
	png, err := h.Service.CheckinQR(c.Request.Context(), r.ID, h.Mail.BaseURL)
	if errors.Is(err, ErrNotFound) {
		h.R.Fail(c, web.ErrNotFound)
		return
	}
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	c.Data(http.StatusOK, "image/png", png)
}
