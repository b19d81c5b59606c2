package app

// The route table: every URL of Møteplass and what stands in front of it,
// read top to bottom. The handlers are the domains' exported methods,
// wired in app.go; no domain registers a route itself, so a route that is
// not here does not exist (routes_test.go holds the router to this file,
// and every page under /admin to a decision about who may use it).

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/introductions"
	"github.com/moteplass/moteplass/organisers"
	"github.com/moteplass/moteplass/privacy"
	"github.com/moteplass/moteplass/registration"
	"github.com/moteplass/moteplass/templates"
)

// pages are the handlers the route table sends requests to.
type pages struct {
	rnd     *web.Renderer
	cookies web.Cookies

	events     *events.Handler                // listings, event pages, calendars, the API
	eventAdmin *events.Admin                  // the organisers' events, series and organisations
	signUps    *registration.Handler          // the sign-up and the manage link's pages
	feeds      *registration.Feeds            // a person's own calendar feed
	attendees  *registration.AttendeesHandler // the organisers' pages about registrations
	rights     *privacy.Handler               // download and erasure
	accounts   *organisers.Handler            // logins, sessions, users, the audit log
	intro      *introductions.Handler         // the introductions after an event
	mailbox    *Mailbox                       // nil: a mail server is configured
}

// routeTable is the router: the middleware every request passes, then
// every route.
func (a *App) routeTable(p pages) *gin.Engine {
	rnd := p.rnd
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(
		web.RequestLog(a.Logger),
		a.Metrics.Middleware,
		rnd.Recovery(),
		web.SecurityHeaders(a.Config.HTTPS()),
		web.Language(p.cookies),
		// before CSRF, which reads the form: every body capped, none
		// multipart, a form too large answered as such
		web.LimitBody(web.MaxFormBytes, func(c *gin.Context, err error) {
			if strings.HasPrefix(c.Request.URL.Path, "/api/") {
				rnd.FailAPI(c, err)
				return
			}
			rnd.Fail(c, err)
		}),
		web.CSRF(p.cookies, func(c *gin.Context) { rnd.Fail(c, web.Errorf(http.StatusForbidden, "error.csrf")) }),
	)
	r.NoRoute(rnd.NotFound)
	r.NoMethod(func(c *gin.Context) { rnd.Fail(c, web.Errorf(http.StatusMethodNotAllowed, "error.bad_request")) })

	// The site's own.
	r.GET("/metrics", a.Metrics.Handler(a.Config.MetricsToken))
	r.GET("/healthz", a.healthz)
	r.HEAD("/healthz", a.healthz)
	r.GET("/static/:hash/*name", web.StaticHandler(templates.FS))
	r.GET("/privacy", a.privacy(rnd))
	r.GET("/.well-known/security.txt", a.securityTxt)

	// The events, for everyone: the listings and event pages (from the
	// page cache), the calendars to subscribe to, and the JSON API.
	// /events/{slug}.ics is EventPage's too. Pages and calendars answer
	// HEAD as well.
	ev := p.events
	r.GET("/", ev.Listing)
	r.HEAD("/", ev.Listing)
	r.GET("/regions/:slug", ev.RegionListing)
	r.HEAD("/regions/:slug", ev.RegionListing)
	r.GET("/organisers/:slug", ev.OrganiserListing)
	r.HEAD("/organisers/:slug", ev.OrganiserListing)
	r.GET("/events/:slug", ev.EventPage)
	r.HEAD("/events/:slug", ev.EventPage)
	r.GET("/calendar.ics", ev.FeedAll)
	r.HEAD("/calendar.ics", ev.FeedAll)
	r.GET("/regions/:slug/calendar.ics", ev.FeedRegion)
	r.HEAD("/regions/:slug/calendar.ics", ev.FeedRegion)
	r.GET("/organisers/:slug/calendar.ics", ev.FeedOrganiser)
	r.HEAD("/organisers/:slug/calendar.ics", ev.FeedOrganiser)
	r.GET("/api/v1/events", ev.APIListing)
	r.GET("/api/v1/events/:slug", ev.APIDetail)

	// Signing up, and a person's own calendar feed (its token is the
	// secret; the feed sets its own no-referrer).
	reg := p.signUps
	r.POST("/events/:slug/registrations", reg.SignUp)
	r.GET("/events/:slug/registered", reg.Received)
	r.GET("/feeds/:file", p.feeds.Serve)
	r.HEAD("/feeds/:file", p.feeds.Serve)

	// The manage link's pages. The token in the path is the person's key,
	// so none of them is cached, indexed or sent on as a referrer.
	m := r.Group("/r", web.Private)
	m.GET("", reg.LostForm)
	m.POST("", reg.Lost)
	m.GET("/:token", reg.Manage)
	m.POST("/:token", reg.Update)
	m.GET("/:token/cancel", reg.CancelForm)
	m.POST("/:token/cancel", reg.Cancel)
	m.POST("/:token/email", reg.EmailLink)
	m.GET("/:token/qr.png", p.attendees.QRCode)
	m.POST("/:token/feed/reset", p.feeds.Reset)
	m.GET("/:token/export.json", p.rights.Export)
	m.GET("/:token/delete", p.rights.DeleteForm)
	m.POST("/:token/delete", p.rights.Delete)

	// The links in the introduction emails, private for the same reason.
	intro := r.Group("/introductions", web.Private)
	intro.GET("/stop/:token", p.intro.StopForm)
	intro.POST("/stop/:token", p.intro.Stop)
	intro.GET("/met/:token", p.intro.MeetForm)
	intro.POST("/met/:token", p.intro.Meet)

	// Who may use an organiser page. Authenticate (on the groups below)
	// puts the logged-in user on the request; Require turns away everyone
	// without one of the roles. Which organisation's event or series a
	// user may touch, each page checks itself (events.ForUser).
	acc := p.accounts
	anyRole := acc.Require(organisers.RoleAdmin, organisers.RoleOrganiser, organisers.RoleCheckIn)
	manage := acc.Require(organisers.RoleAdmin, organisers.RoleOrganiser)
	onlyAdmin := acc.Require(organisers.RoleAdmin)

	// The development mailbox, only without a mail server (see Mailbox).
	if p.mailbox != nil {
		mb := r.Group("/dev/mailbox", web.Private, acc.Authenticate, onlyAdmin)
		mb.GET("", p.mailbox.list)
		mb.GET("/:id", p.mailbox.show)
		mb.GET("/:id/html", p.mailbox.html)
		mb.GET("/:id/raw", p.mailbox.raw)
	}

	admin := r.Group("/admin", acc.Authenticate)

	// Getting in: open to everyone.
	admin.GET("/login", acc.LoginForm)
	admin.POST("/login", acc.Login)
	admin.POST("/logout", acc.Logout)
	admin.GET("/reset", acc.ResetRequestForm)
	admin.POST("/reset", acc.ResetRequest)
	admin.GET("/reset/:token", acc.ResetForm)
	admin.POST("/reset/:token", acc.Reset)

	// The organisers' home, their events and series; the admins' users
	// and organisations; the audit log and erasure on a person's request.
	ea := p.eventAdmin
	admin.GET("", anyRole, ea.Home)
	admin.GET("/users", onlyAdmin, acc.Users)
	admin.POST("/users", onlyAdmin, acc.CreateUser)
	admin.GET("/organisations", onlyAdmin, ea.Organisations)
	admin.POST("/organisations", onlyAdmin, ea.CreateOrganisation)
	admin.GET("/audit", manage, acc.Audit)
	admin.GET("/erase", manage, p.rights.EraseForm)
	admin.POST("/erase", manage, p.rights.Erase)
	admin.GET("/events/new", manage, ea.NewEvent)
	admin.POST("/events", manage, ea.CreateEvent)
	admin.GET("/events/:id", manage, ea.EditEvent)
	admin.POST("/events/:id", manage, ea.SaveEvent)
	admin.POST("/events/:id/publish", manage, ea.Publish)
	admin.POST("/events/:id/unpublish", manage, ea.Unpublish)
	admin.POST("/events/:id/duplicate", manage, ea.Duplicate)
	admin.GET("/events/:id/cancel", manage, ea.CancelForm)
	admin.POST("/events/:id/cancel", manage, ea.Cancel)
	admin.GET("/series/new", manage, ea.NewSeries)
	admin.POST("/series", manage, ea.CreateSeries)
	admin.GET("/series/:id", manage, ea.ShowSeries)
	admin.POST("/series/:id", manage, ea.SaveSeries)

	// An event's registrations: the attendee list and its CSV, adding and
	// removing by hand, messages to a group, the numbers; check-in at the
	// door (and from a person's QR code), which volunteers may use too.
	at := p.attendees
	admin.GET("/dashboard", manage, at.Dashboard)
	admin.GET("/checkin/:code", anyRole, at.CheckinByCode)
	event := admin.Group("/events/:id")
	event.GET("/attendees", manage, at.List)
	event.GET("/attendees.csv", manage, at.ExportCSV)
	event.GET("/attendees/new", manage, at.AddForm)
	event.POST("/attendees", manage, at.Add)
	event.POST("/attendees/:reg/move", manage, at.Move)
	event.GET("/attendees/:reg/remove", manage, at.RemoveForm)
	event.POST("/attendees/:reg/remove", manage, at.Remove)
	event.GET("/checkin", anyRole, at.CheckinPage)
	event.POST("/checkin/:reg", anyRole, at.CheckIn)
	event.POST("/checkin/:reg/undo", anyRole, at.CheckInUndo)
	event.GET("/message", manage, at.MessageForm)
	event.POST("/message/preview", manage, at.MessagePreview)
	event.POST("/message", manage, at.MessageSend)
	event.GET("/dashboard", manage, at.EventDashboard)

	// The introductions after an event: the proposal, its edits, approval
	// and the network seeds.
	followup := admin.Group("/events/:id/followup", manage)
	followup.GET("", p.intro.Show)
	followup.POST("", p.intro.Generate)
	followup.POST("/regenerate", p.intro.Regenerate)
	followup.POST("/move", p.intro.Move)
	followup.POST("/remove", p.intro.Remove)
	followup.GET("/approve", p.intro.ApproveForm)
	followup.POST("/approve", p.intro.Approve)
	followup.POST("/seeds/:group/start", p.intro.StartNetwork)
	followup.POST("/seeds/:group/invite", p.intro.InviteNetwork)
	return r
}
