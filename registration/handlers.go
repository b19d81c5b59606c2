package registration

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
)

// Handler serves the sign-up form's POST and the manage pages.
//
// Database calls take c.Request.Context(), never the *gin.Context itself:
// gin reuses a Context for the next request once the handler returns, while
// database/sql may still be watching the context it was given.
type Handler struct {
	Service  *Service
	Events   *events.Handler // renders the event page with the form state
	R        *web.Renderer
	Cookies  web.Cookies
	Limiter  *web.Limiter // sign-ups and link requests per client address
	ClientIP web.ClientIP
	// Timeout bounds how long a sign-up waits for the database; past it the
	// person gets "try again" (503) and nothing is stored.
	Timeout time.Duration
	// RelayUTF8 reports whether mail can be sent to addresses with
	// non-ASCII before the @ (the mail worker's AcceptsUTF8); nil: it
	// cannot. The forms refuse such addresses while it says no.
	RelayUTF8 func() bool
}

// NewHandler wires the registration pages. A busy or slow database is
// "many are signing up right now, nothing is saved" (503).
func NewHandler(s *Service, ev *events.Handler, r *web.Renderer, ck web.Cookies, lim *web.Limiter, ip web.ClientIP) *Handler {
	return &Handler{Service: s, Events: ev, R: r.WithBusyPage("error.busy"), Cookies: ck, Limiter: lim, ClientIP: ip, Timeout: 5 * time.Second}
}

func (h *Handler) now() time.Time { return h.Service.DB.Now().UTC() }

// allow applies the per-address limit; it answers 429 itself when spent.
func (h *Handler) allow(c *gin.Context) bool {
	if h.Limiter.Allow(h.ClientIP.Of(c)) {
		return true
	}
	c.Header("Retry-After", "60")
	h.R.Fail(c, web.Errorf(http.StatusTooManyRequests, "error.rate_limited"))
	return false
}

// SignUp is POST /events/{slug}/registrations: parse, validate, register,
// then Post/Redirect/Get to the manage page, which shows the status.
func (h *Handler) SignUp(c *gin.Context) {
	if !h.allow(c) {
		return
	}
	slug := c.Param("slug")
	eventID, err := EventIDBySlug(c.Request.Context(), h.Service.Reads(c.Request.Context()), slug)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	if c.PostForm(FieldHoneypot) != "" {
		// A bot: answer as if it worked, store nothing.
		h.redirect(c, "/events/"+slug+"/registered", "flash.registration.received")
		return
	}
	f := ParseForm(c.Request.PostForm)
	d, ok := f.Validate(EmailRuleFor(h.RelayUTF8))
	if !ok {
		h.renderForm(c, slug, f)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), h.Timeout)
	defer cancel()
	res, err := h.Service.Register(ctx, eventID, Input{
		Details: d, InviteCode: f.Values[FieldInviteCode], Lang: web.Lang(c),
		Wordings: WordingsIn(h.R.Catalogue(), web.Lang(c)),
	})
	switch {
	case errors.Is(err, ErrInviteCode):
		h.renderForm(c, slug, f)
	case err != nil:
		h.R.Fail(c, err)
	case res.Duplicate:
		// Nothing is created and nothing about the registration is shown:
		// the link goes to the address, not to whoever typed it.
		flash := "flash.registration.duplicate"
		if !res.LinkSent {
			flash = "flash.registration.duplicate_recent"
		}
		h.redirect(c, "/events/"+slug+"/registered", flash)
	case res.Registration.Waiting():
		h.redirect(c, "/r/"+res.Token, "flash.registration.waiting")
	default:
		h.redirect(c, "/r/"+res.Token, "flash.registration.confirmed")
	}
}

func (h *Handler) redirect(c *gin.Context, to, flash string) {
	web.SetFlash(c, h.Cookies, flash)
	c.Redirect(http.StatusSeeOther, to)
}

// renderForm shows the event page again with the form as typed and a
// message per field (422). If the event meanwhile stopped taking
// registrations, that is the answer instead.
func (h *Handler) renderForm(c *gin.Context, slug string, f *Form) {
	ev, err := h.Events.Store.FindEventBySlug(c.Request.Context(), slug)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	if err := CheckOpen(ev, h.now()); err != nil {
		h.R.Fail(c, err)
		return
	}
	if ev.InvitationOnly && !InviteCodeMatches(ev.InviteCode, f.Values[FieldInviteCode]) {
		if f.Values[FieldInviteCode] == "" {
			f.Fail(FieldInviteCode, "invite_code_missing", 0)
		} else {
			f.Fail(FieldInviteCode, "invite_code_wrong", 0)
		}
	}
	body, err := h.Events.RenderDetail(c, ev, f)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	web.WriteHTML(c, http.StatusUnprocessableEntity, body)
}

// ReceivedPage is the "check your email" page after a sign-up that did not
// lead to a manage page (a second sign-up with the same address).
type ReceivedPage struct {
	Event events.Event
}

// Received is GET /events/{slug}/registered: "check your email".
func (h *Handler) Received(c *gin.Context) {
	ev, err := h.Events.Store.FindEventBySlug(c.Request.Context(), c.Param("slug"))
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	p := h.R.NewPage(c, h.R.T(c, "registration.received.title"), ReceivedPage{Event: ev})
	p.Meta.NoIndex = true
	h.R.Render(c, http.StatusOK, "registration_received", p)
}

// ManagePage is the data of /r/{token}: the registration, its event, and
// the form to change the details.
type ManagePage struct {
	Registration Registration
	Event        events.Event
	Form         *Form
	Action       string // the manage page's own URL, for its forms
	CancelURL    string
	ICSPath      string
	CanEdit      bool
	CanCancel    bool
	CanSignUp    bool // cancelled, and the event takes registrations
	// Proven is true when the page was opened from a link in an email:
	// only then does it offer what spans the person's registrations (the
	// feed, the data download and erasure). Otherwise EmailURL sends them
	// such a link.
	Proven   bool
	EmailURL string
	Feed     FeedLinks // the person's own calendar feed (feed.go), when Proven
	// Calendar adds the event to a calendar: for a confirmed place at an
	// event that is neither cancelled nor over. A waiting-list place gets
	// none (its invitation comes by email with the place).
	Calendar *events.CalendarLinks
}

// Manage is GET /r/{token}: the registration's page behind its link.
func (h *Handler) Manage(c *gin.Context) {
	l, ok := h.lookup(c)
	if !ok {
		return
	}
	h.renderManage(c, http.StatusOK, l, FormFor(l.Registration))
}

func (h *Handler) renderManage(c *gin.Context, status int, l Link, f *Form) {
	now := h.now()
	token := c.Param("token")
	r, ev := l.Registration, l.Event
	mp := ManagePage{
		Registration: r, Event: ev, Form: f,
		Action: "/r/" + token, CancelURL: "/r/" + token + "/cancel", ICSPath: "/events/" + ev.Slug + ".ics",
		CanEdit:   !r.Cancelled(),
		CanCancel: !r.Cancelled() && !ev.Started(now),
		CanSignUp: r.Cancelled() && ev.RegistrationStateAt(now) == events.RegistrationOpen,
		Proven:    l.Scope.Proven(),
		EmailURL:  "/r/" + token + "/email",
	}
	if mp.Proven {
		mp.Feed = h.feedLinks(c, r)
	}
	if r.Confirmed() && !ev.Cancelled() && !ev.Past(now) {
		links := events.AddLinks(ev, h.Events.BaseURL)
		mp.Calendar = &links
	}
	p := h.R.NewPage(c, h.R.T(c, "manage.title"), mp)
	p.Meta.NoIndex = true
	p.Now = now
	h.R.Render(c, status, "manage", p)
}

// lookup opens the manage link of the request, answering 404 or 410 itself.
func (h *Handler) lookup(c *gin.Context) (Link, bool) {
	l, err := h.Service.Lookup(c.Request.Context(), c.Param("token"))
	if errors.Is(err, ErrTokenExpired) {
		h.expired(c, l.Event)
		return l, false
	}
	if err != nil {
		h.R.Fail(c, err)
		return l, false
	}
	return l, true
}

// lookupProven opens a manage link for what spans the person's
// registrations: only a link from an email will do. The browser's link
// after a sign-up gets a page that says where to find one (403).
func (h *Handler) lookupProven(c *gin.Context) (Link, bool) {
	l, ok := h.lookup(c)
	if ok && !l.Scope.Proven() {
		h.R.Fail(c, &web.Error{Status: http.StatusForbidden, Key: "error.manage.needs_email"})
		return l, false
	}
	return l, ok
}

// ExpiredPage explains an expired manage link and how to get a new one.
type ExpiredPage struct {
	Event events.Event
}

func (h *Handler) expired(c *gin.Context, ev events.Event) {
	p := h.R.NewPage(c, h.R.T(c, "manage.expired.title"), ExpiredPage{Event: ev})
	p.Meta.NoIndex = true
	h.R.Render(c, http.StatusGone, "manage_expired", p)
}

// Update is POST /r/{token}: new details or new answers to the consent
// questions.
func (h *Handler) Update(c *gin.Context) {
	l, ok := h.lookup(c)
	if !ok {
		return
	}
	r := l.Registration
	f := ParseForm(c.Request.PostForm)
	f.Values[FieldEmail] = r.Email
	d, valid := f.Validate(EmailFixed)
	if !valid {
		h.renderManage(c, http.StatusUnprocessableEntity, l, f)
		return
	}
	if _, err := h.Service.Update(c.Request.Context(), r.ID, l.Scope, d, web.Lang(c), WordingsIn(h.R.Catalogue(), web.Lang(c))); err != nil {
		h.R.Fail(c, err)
		return
	}
	h.redirect(c, "/r/"+c.Param("token"), "flash.registration.updated")
}

// EmailLink is POST /r/{token}/email: send a link for this registration to
// its address (throttled), for what the browser's own link cannot open.
// It tells nobody anything they did not know: the address is the one the
// form was filled in with.
func (h *Handler) EmailLink(c *gin.Context) {
	l, ok := h.lookup(c)
	if !ok {
		return
	}
	if !h.allow(c) {
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), h.Timeout)
	defer cancel()
	sent, err := h.Service.SendLink(ctx, l.Registration.ID)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	flash := "flash.registration.link_emailed"
	if !sent {
		flash = "flash.registration.link_recently_emailed"
	}
	h.redirect(c, "/r/"+c.Param("token"), flash)
}

// CancelPage asks "are you sure?" before cancelling.
type CancelPage struct {
	Registration Registration
	Event        events.Event
	Action       string
	Back         string
}

// CancelForm is GET /r/{token}/cancel: "are you sure?".
func (h *Handler) CancelForm(c *gin.Context) {
	l, ok := h.lookup(c)
	if !ok {
		return
	}
	r, ev := l.Registration, l.Event
	token := c.Param("token")
	if r.Cancelled() {
		c.Redirect(http.StatusSeeOther, "/r/"+token)
		return
	}
	if ev.Started(h.now()) {
		h.R.Fail(c, ErrTooLate)
		return
	}
	p := h.R.NewPage(c, h.R.T(c, "manage.cancel.title"), CancelPage{
		Registration: r, Event: ev, Action: "/r/" + token + "/cancel", Back: "/r/" + token,
	})
	p.Meta.NoIndex = true
	h.R.Render(c, http.StatusOK, "manage_cancel", p)
}

// Cancel is POST /r/{token}/cancel: the registration is cancelled.
func (h *Handler) Cancel(c *gin.Context) {
	l, ok := h.lookup(c)
	if !ok {
		return
	}
	if _, _, err := h.Service.Cancel(c.Request.Context(), l.Registration.ID); err != nil {
		h.R.Fail(c, err)
		return
	}
	h.redirect(c, "/r/"+c.Param("token"), "flash.registration.cancelled")
}

// LostPage is the "send me my link" form.
type LostPage struct {
	Form *Form
}

// LostForm is GET /r: the form that emails a lost manage link.
func (h *Handler) LostForm(c *gin.Context) {
	h.renderLost(c, http.StatusOK, nil)
}

func (h *Handler) renderLost(c *gin.Context, status int, f *Form) {
	p := h.R.NewPage(c, h.R.T(c, "manage.lost.title"), LostPage{Form: f})
	p.Meta.NoIndex = true
	h.R.Render(c, status, "manage_lost", p)
}

// Lost is POST /r: email fresh manage links for an address's registrations.
// The answer is the same whether or not there are any.
func (h *Handler) Lost(c *gin.Context) {
	if !h.allow(c) {
		return
	}
	if c.PostForm(FieldHoneypot) != "" {
		h.redirect(c, "/r", "flash.registration.links_sent")
		return
	}
	f := ParseForm(c.Request.PostForm)
	addr, ok := f.Email(EmailRuleFor(h.RelayUTF8))
	if !ok {
		h.renderLost(c, http.StatusUnprocessableEntity, f)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), h.Timeout)
	defer cancel()
	if _, err := h.Service.ResendLinks(ctx, addr); err != nil {
		h.R.Fail(c, err)
		return
	}
	h.redirect(c, "/r", "flash.registration.links_sent")
}
