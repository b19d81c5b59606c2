package introductions

// The follow-up's pages: the organiser's page under /admin (the proposal,
// its edits, approval, network seeds and the "did you meet?" numbers) and
// the two public pages the emails link to (stop future introductions, and
// the answer to "did you meet?"). Every change is a POST with the CSRF
// token, answered with a redirect (Post/Redirect/Get); a GET never changes
// anything, so the one-click links in emails open a page with a button.

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/introductions/match"
	"github.com/moteplass/moteplass/organisers"
)

// Handler serves the follow-up pages.
//
// Database calls take c.Request.Context(), never the *gin.Context itself:
// gin reuses a Context once the handler returns.
type Handler struct {
	F       *Followup
	R       *web.Renderer
	Cookies web.Cookies
	Events  *events.Store
}

// NewHandler wires the follow-up pages; a busy database gets the
// follow-up's own "try again in a moment".
func NewHandler(f *Followup, r *web.Renderer, ck web.Cookies) *Handler {
	return &Handler{F: f, R: r.WithBusyPage("intro.busy"), Cookies: ck, Events: &events.Store{DB: f.DB}}
}

func followupPath(eventID int64) string {
	return "/admin/events/" + strconv.FormatInt(eventID, 10) + "/followup"
}

// ---- the organiser's page ----

// FollowupPage is the data of the follow-up page.
type FollowupPage struct {
	Event events.Event
	// Base is the page's path; the forms post to it and below it.
	Base  string
	Ended bool
	// Eligible is how many people may be introduced now.
	Eligible        int
	AttendanceTaken bool
	CanGenerate     bool
	Proposal        *ProposalView // nil before the first proposal
}

// ProposalView is a proposal as the page shows it.
type ProposalView struct {
	Seed      int64
	Sent      bool
	CreatedAt time.Time
	SentAt    time.Time
	// RemindAt is when the "did you meet?" reminder goes out.
	RemindAt time.Time
	Reminded bool
	Groups   []GroupView
	Seeds    []SeedView
	LeftOut  []PersonView
	// Withdrawn counts people in the proposal who no longer agree.
	Withdrawn int
	// NetworkStarted blocks a new proposal: a network came from this one.
	NetworkStarted bool
	Stats          MeetStats
	// Preview is one email of the draft as approval would send it now
	// (nil when sent, or when nothing would be sent).
	Preview *EmailPreview
}

// GroupView is one introduction group.
type GroupView struct {
	ID       int64
	Position int
	Score    float64
	// Reason is what the members are (or were) sent, in the page's
	// language: from what they agreed to share (sharedReason).
	Reason string
	// MixedLevels: the group has leaders of different levels. The
	// organiser is told; the members are not, as they did not agree to
	// share their level.
	MixedLevels bool
	Edited      bool
	Lone        bool // fewer than two members: no email goes to it
	Met         bool // someone in it said they met
	Members     []PersonView
}

// SeedView is one proposed network seed.
type SeedView struct {
	GroupView
	Started  bool
	Invited  bool
	SeriesID int64
	Meeting  *events.Event // the first meeting, once started
}

// PersonView is one person in a group or left out.
type PersonView struct {
	RegistrationID int64
	Name           string
	Organisation   string
	Role           string
	Level          string
	Withdrawn      bool   // no longer agrees: will not be introduced
	Answer         string // to "did you meet?": "", yes, no
	Cause          string // why left out: match, removed, alone
	Reason         string // the matching's reason, in the page's language
	Targets        []Target
}

// Target is a group a person can be moved to.
type Target struct {
	ID       int64
	Position int
}

// MeetStats are the answers to "did you meet?".
type MeetStats struct {
	Groups     int // groups sent
	Met        int // groups where someone said yes
	Yes        int
	No         int
	Unanswered int
}

// loadEvent reads the event of the :id in the path if the user may manage it.
func (h *Handler) loadEvent(c *gin.Context) (events.Event, error) {
	return events.ForUser(c.Request.Context(), h.F.DB.Read(), organisers.CurrentUser(c), web.ParseID(c.Param("id")), organisers.Manage)
}

// Show is GET /admin/events/{id}/followup: the follow-up page.
func (h *Handler) Show(c *gin.Context) {
	ev, err := h.loadEvent(c)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	h.render(c, http.StatusOK, ev)
}

// render shows the follow-up page, with notices (a refused change) if any.
func (h *Handler) render(c *gin.Context, status int, ev events.Event, notices ...string) {
	ctx := c.Request.Context()
	lang := web.Lang(c)
	now := h.F.DB.Now().UTC()
	people, taken, err := Eligible(ctx, h.F.DB.Read(), ev.ID)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	fp := FollowupPage{Event: ev, Base: followupPath(ev.ID), Ended: ev.Past(now), Eligible: len(people), AttendanceTaken: taken}
	p, err := FindProposal(ctx, h.F.DB.Read(), ev.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		fp.CanGenerate = fp.Ended && !ev.Cancelled() && len(people) >= minEligible
	case err != nil:
		h.R.Fail(c, err)
		return
	default:
		pv, err := h.proposalView(ctx, ev, p, lang)
		if err != nil {
			h.R.Fail(c, err)
			return
		}
		fp.Proposal = &pv
	}
	title := h.R.T(c, "followup.title", "Title", ev.Title)
	if status >= 400 {
		title = h.R.T(c, "followup.error_prefix") + " " + title
	}
	pg := h.R.NewPage(c, title, fp)
	pg.Meta.NoIndex = true
	pg.Now = now
	pg.Notices = append(pg.Notices, notices...)
	h.R.Render(c, status, "followup", pg)
}

func personView(p Participant) PersonView {
	return PersonView{RegistrationID: p.RegistrationID, Name: p.Name, Organisation: p.Organisation, Role: p.Role,
		Level: p.Level, Withdrawn: !p.Consents}
}

func (h *Handler) proposalView(ctx context.Context, ev events.Event, p Proposal, lang string) (ProposalView, error) {
	pv := ProposalView{Seed: p.Seed, Sent: p.Sent(), CreatedAt: p.CreatedAt, SentAt: p.SentAt, Reminded: !p.RemindedAt.IsZero()}
	if pv.Sent {
		pv.RemindAt = p.SentAt.Add(h.F.MeetAfter)
	}
	targets := make([]Target, len(p.Groups))
	for i, g := range p.Groups {
		targets[i] = Target{ID: g.ID, Position: g.Position}
	}
	targetsBut := func(id int64) []Target {
		var out []Target
		for _, t := range targets {
			if t.ID != id {
				out = append(out, t)
			}
		}
		return out
	}
	view := func(g StoredGroup, withTargets bool) GroupView {
		gv := GroupView{ID: g.ID, Position: g.Position, Score: g.Score, Reason: g.Reason(lang), Edited: g.Edited}
		// A draft shows what approval (or starting the network) would send
		// now: the reason of those who still agree, as the email builds it.
		agreeing := consenting(g.Members)
		if !pv.Sent || g.Kind == KindSeed {
			r := sharedReason(agreeing)
			gv.Reason = inLang(lang, r.ReasonNB, r.ReasonEN)
		}
		full := make([]match.Person, len(agreeing))
		for i, m := range agreeing {
			full[i] = m.Person()
		}
		gv.MixedLevels = match.Describe(full).MixedLevels
		agree := 0
		for _, m := range g.Members {
			mv := personView(m.Participant)
			mv.Answer = m.Answer
			if withTargets {
				mv.Targets = targetsBut(g.ID)
			}
			if m.Consents {
				agree++
			}
			if m.Answer == "yes" {
				gv.Met = true
			}
			gv.Members = append(gv.Members, mv)
		}
		gv.Lone = agree < 2
		return gv
	}
	for _, g := range p.Groups {
		gv := view(g, !pv.Sent)
		pv.Groups = append(pv.Groups, gv)
		for _, m := range g.Members {
			if !m.Consents {
				pv.Withdrawn++
			}
		}
		if pv.Sent {
			pv.Stats.Groups++
			if gv.Met {
				pv.Stats.Met++
			}
			for _, m := range g.Members {
				switch m.Answer {
				case "yes":
					pv.Stats.Yes++
				case "no":
					pv.Stats.No++
				default:
					pv.Stats.Unanswered++
				}
			}
		}
	}
	for _, s := range p.Seeds {
		sv := SeedView{GroupView: view(s, false), Started: !s.StartedAt.IsZero(), Invited: !s.InvitedAt.IsZero(), SeriesID: s.SeriesID}
		if sv.Started {
			pv.NetworkStarted = true
		}
		if s.NetworkEventID != 0 {
			m, err := h.Events.FindEvent(ctx, events.EventFilter{ID: s.NetworkEventID, Statuses: events.Statuses})
			if err != nil && !errors.Is(err, events.ErrNotFound) {
				return pv, err
			}
			if err == nil {
				sv.Meeting = &m
			}
		}
		pv.Seeds = append(pv.Seeds, sv)
	}
	for _, l := range p.LeftOut {
		v := personView(l.Participant)
		v.Cause, v.Reason = l.Cause, inLang(lang, l.ReasonNB, l.ReasonEN)
		if !pv.Sent {
			v.Targets = targets
		}
		if !l.Consents {
			pv.Withdrawn++
		}
		pv.LeftOut = append(pv.LeftOut, v)
	}
	if !pv.Sent {
		var err error
		if pv.Preview, err = h.F.previewEmail(ev, plan(p)); err != nil {
			return pv, err
		}
	}
	return pv, nil
}

// changed answers a POST on the follow-up page: back to the page with a
// flash on success, the page with the reason for a refusal.
func (h *Handler) changed(c *gin.Context, ev events.Event, err error, flash string) {
	if r, ok := web.AsConflict(err); ok {
		h.render(c, http.StatusConflict, ev, h.R.T(c, r.Key, r.Args...))
		return
	}
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	web.SetFlash(c, h.Cookies, flash)
	c.Redirect(http.StatusSeeOther, followupPath(ev.ID))
}

// Generate is POST /admin/events/{id}/followup: the first proposal.
func (h *Handler) Generate(c *gin.Context) {
	ev, err := h.loadEvent(c)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	err = h.F.Generate(c.Request.Context(), organisers.CurrentUser(c), ev.ID, false)
	h.changed(c, ev, err, "flash.followup_generated")
}

// Regenerate is POST /admin/events/{id}/followup/regenerate: a new proposal.
func (h *Handler) Regenerate(c *gin.Context) {
	ev, err := h.loadEvent(c)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	err = h.F.Generate(c.Request.Context(), organisers.CurrentUser(c), ev.ID, true)
	h.changed(c, ev, err, "flash.followup_regenerated")
}

// Move is POST /admin/events/{id}/followup/move: a person to another group.
func (h *Handler) Move(c *gin.Context) {
	ev, err := h.loadEvent(c)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	regID := web.ParseID(c.PostForm("registration"))
	target := int64(NewGroup)
	if g := c.PostForm("group"); g != "new" {
		if target = web.ParseID(g); target == 0 {
			h.R.Fail(c, web.ErrBadRequest)
			return
		}
	}
	if regID == 0 {
		h.R.Fail(c, web.ErrBadRequest)
		return
	}
	err = h.F.Move(c.Request.Context(), organisers.CurrentUser(c), ev.ID, regID, target)
	h.changed(c, ev, err, "flash.followup_moved")
}

// Remove is POST /admin/events/{id}/followup/remove: a person out of the
// proposal.
func (h *Handler) Remove(c *gin.Context) {
	ev, err := h.loadEvent(c)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	regID := web.ParseID(c.PostForm("registration"))
	if regID == 0 {
		h.R.Fail(c, web.ErrBadRequest)
		return
	}
	err = h.F.Remove(c.Request.Context(), organisers.CurrentUser(c), ev.ID, regID)
	h.changed(c, ev, err, "flash.followup_removed")
}

// ApprovePage is the "are you sure?" before the introductions go out.
type ApprovePage struct {
	Event  events.Event
	Base   string
	Groups int
	Emails int
	// Withdrawn and Alone are people who will not be introduced after all.
	Withdrawn int
	Alone     int
}

// ApproveForm is GET /admin/events/{id}/followup/approve: "send these
// introductions?".
func (h *Handler) ApproveForm(c *gin.Context) {
	ev, err := h.loadEvent(c)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	p, err := FindProposal(c.Request.Context(), h.F.DB.Read(), ev.ID)
	if errors.Is(err, ErrNotFound) {
		h.render(c, http.StatusConflict, ev, h.R.T(c, "followup.refused.no_proposal"))
		return
	}
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	if p.Sent() {
		h.render(c, http.StatusConflict, ev, h.R.T(c, "followup.refused.sent"))
		return
	}
	pl := plan(p)
	if len(pl.Send) == 0 {
		h.render(c, http.StatusConflict, ev, h.R.T(c, "followup.refused.nothing_to_send"))
		return
	}
	pg := h.R.NewPage(c, h.R.T(c, "followup.approve.title", "Title", ev.Title), ApprovePage{
		Event: ev, Base: followupPath(ev.ID), Groups: len(pl.Send), Emails: pl.Emails, Withdrawn: len(pl.Withdrawn), Alone: len(pl.Alone),
	})
	pg.Meta.NoIndex = true
	h.R.Render(c, http.StatusOK, "followup_approve", pg)
}

// Approve is POST /admin/events/{id}/followup/approve: the introductions are
// sent.
func (h *Handler) Approve(c *gin.Context) {
	ev, err := h.loadEvent(c)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	_, err = h.F.Approve(c.Request.Context(), organisers.CurrentUser(c), ev.ID)
	h.changed(c, ev, err, "flash.followup_sent")
}

// StartNetwork is POST /admin/events/{id}/followup/seeds/{group}/start.
func (h *Handler) StartNetwork(c *gin.Context) {
	h.seedAction(c, func(ctx context.Context, u *organisers.User, eventID, groupID int64) error {
		_, err := h.F.StartNetwork(ctx, u, eventID, groupID)
		return err
	}, "flash.followup_network_started")
}

// InviteNetwork is POST /admin/events/{id}/followup/seeds/{group}/invite.
func (h *Handler) InviteNetwork(c *gin.Context) {
	h.seedAction(c, func(ctx context.Context, u *organisers.User, eventID, groupID int64) error {
		_, err := h.F.InviteNetwork(ctx, u, eventID, groupID)
		return err
	}, "flash.followup_network_invited")
}

// seedAction runs an action on one network seed (:group) of the event.
func (h *Handler) seedAction(c *gin.Context, act func(ctx context.Context, u *organisers.User, eventID, groupID int64) error, flash string) {
	ev, err := h.loadEvent(c)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	gid := web.ParseID(c.Param("group"))
	if gid == 0 {
		h.R.Fail(c, web.ErrNotFound)
		return
	}
	h.changed(c, ev, act(c.Request.Context(), organisers.CurrentUser(c), ev.ID, gid), flash)
}

// ---- the pages the emails link to ----

// StopPage is the "stop future introductions" page.
type StopPage struct {
	Action string
	Done   bool
}

// StopForm is GET /introductions/stop/{token}: a button to stop future
// introductions.
func (h *Handler) StopForm(c *gin.Context) {
	token := c.Param("token")
	done := c.Query("done") == "1"
	if !done {
		if err := h.F.CheckStop(c.Request.Context(), token); err != nil {
			h.R.Fail(c, err)
			return
		}
	}
	pg := h.R.NewPage(c, h.R.T(c, "intro.stop.title"), StopPage{Action: "/introductions/stop/" + token, Done: done})
	pg.Meta.NoIndex = true
	h.R.Render(c, http.StatusOK, "intro_stop", pg)
}

// Stop is POST /introductions/stop/{token}.
func (h *Handler) Stop(c *gin.Context) {
	token := c.Param("token")
	lang := web.Lang(c)
	if err := h.F.Stop(c.Request.Context(), token, lang, h.R.T(c, "intro.stop.wording")); err != nil {
		h.R.Fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/introductions/stop/"+token+"?done=1")
}

// MeetPage is the "did you meet?" page.
type MeetPage struct {
	MeetQuestion
	Action string
	// Chosen is the answer the link in the email stood for.
	Chosen string
	Saved  bool
}

// MeetForm is GET /introductions/met/{token}: "did you meet?".
func (h *Handler) MeetForm(c *gin.Context) {
	token := c.Param("token")
	q, err := h.F.Question(c.Request.Context(), token)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	mp := MeetPage{MeetQuestion: q, Action: "/introductions/met/" + token, Saved: c.Query("saved") == "1"}
	switch c.Query("answer") {
	case "yes", "no":
		mp.Chosen = c.Query("answer")
	}
	pg := h.R.NewPage(c, h.R.T(c, "intro.met.title"), mp)
	pg.Meta.NoIndex = true
	h.R.Render(c, http.StatusOK, "intro_met", pg)
}

// Meet is POST /introductions/met/{token}: the answer.
func (h *Handler) Meet(c *gin.Context) {
	token := c.Param("token")
	var yes bool
	switch c.PostForm("answer") {
	case "yes":
		yes = true
	case "no":
	default:
		h.R.Fail(c, web.ErrBadRequest)
		return
	}
	if err := h.F.Answer(c.Request.Context(), token, yes); err != nil {
		h.R.Fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/introductions/met/"+token+"?saved=1")
}

// Hourly is the background job: the "did you meet?" reminders that are
// due, and expired links removed. Register it with the app's every().
func (h *Handler) Hourly(ctx context.Context) error {
	_, err := h.F.QueueMeetReminders(ctx)
	return err
}
