package registration

// The dashboard pages: /admin/dashboard (every published event of the
// user's organisation, or of all organisations per region for an admin)
// and /admin/events/:id/dashboard (one event). Charts are inline SVG with
// the numbers in a table beside them.

import (
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/organisers"
)

// ChartView is a chart and its numbers as the page shows them.
type ChartView struct {
	ID        string
	Title     string
	SVG       template.HTML
	LabelHead string
	ValueHead string
	Rows      []Bar
}

// DashboardPage is the data of /admin/dashboard.
type DashboardPage struct {
	IsAdmin      bool
	Organisation string
	Overview     Overview
	Charts       []ChartView
}

// EventDashboardPage is the data of /admin/events/:id/dashboard.
type EventDashboardPage struct {
	Event     events.Event
	EventBase string
	Tally     Tally
	Ended     bool
	// Days are the days on which people signed up, with the running total.
	Days     []DayCount
	Timeline template.HTML
	Charts   []ChartView
}

// barChart makes a chart and its table from bars.
func (h *AttendeesHandler) barChart(c *gin.Context, id, titleKey, labelKey string, bars []Bar) ChartView {
	title := h.R.T(c, titleKey)
	return ChartView{
		ID: id, Title: title, LabelHead: h.R.T(c, labelKey), ValueHead: h.R.T(c, "dashboard.col.count"), Rows: bars,
		SVG: BarChart{ID: id, Title: title, Desc: h.R.T(c, "dashboard.bar_desc"), Bars: bars, Empty: h.R.T(c, "dashboard.empty")}.SVG(),
	}
}

// mixCharts are the leader levels and the sectors of a tally.
func (h *AttendeesHandler) mixCharts(c *gin.Context, t Tally) []ChartView {
	levels := make([]Bar, len(t.Levels))
	for i, l := range t.Levels {
		levels[i] = Bar{Label: h.R.T(c, "registration.level."+l.Key), Value: l.N}
	}
	sectors := make([]Bar, len(t.Sectors))
	for i, s := range t.Sectors {
		sectors[i] = Bar{Label: h.R.T(c, "registration.sector."+s.Key), Value: s.N}
	}
	return []ChartView{
		h.barChart(c, "chart-levels", "dashboard.chart.levels", "dashboard.col.level", levels),
		h.barChart(c, "chart-sectors", "dashboard.chart.sectors", "dashboard.col.sector", sectors),
	}
}

// Dashboard is GET /admin/dashboard: the published events of the user's
// organisation (every one, for admins) in numbers.
func (h *AttendeesHandler) Dashboard(c *gin.Context) {
	u := organisers.CurrentUser(c)
	ctx := c.Request.Context()
	p := DashboardPage{IsAdmin: u.IsAdmin()}
	f := events.EventFilter{Statuses: []events.Status{events.StatusPublished}}
	var orgID int64
	if !u.IsAdmin() {
		orgs, err := h.Events.FindOrganisers(ctx)
		if err != nil {
			h.R.Fail(c, err)
			return
		}
		found := false
		for _, o := range orgs {
			if o.ID == u.OrganiserID {
				f.Organiser, p.Organisation, orgID, found = o.Slug, o.Name, o.ID, true
			}
		}
		if !found {
			h.R.Fail(c, organisers.ErrForbidden)
			return
		}
	}
	evs, _, err := h.Events.FindEvents(ctx, f)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	regions, err := h.Events.FindRegions(ctx)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	rows, err := statRowsByEvent(ctx, h.Service.DB.Read(), orgID)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	p.Overview = Summarise(evs, rows, h.now(), regionNames(regions))
	if p.IsAdmin {
		bars := make([]Bar, len(p.Overview.Regions))
		for i, r := range p.Overview.Regions {
			bars[i] = Bar{Label: r.Region, Value: r.Tally.Confirmed}
		}
		p.Charts = append(p.Charts, h.barChart(c, "chart-regions", "dashboard.chart.regions", "dashboard.col.region", bars))
	} else {
		bars := make([]Bar, len(p.Overview.Events))
		lang, cat := web.Lang(c), h.R.Catalogue()
		for i, r := range p.Overview.Events {
			bars[i] = Bar{Label: cat.ShortDate(lang, r.Event.StartsAt, web.Oslo) + " " + strconv.Itoa(r.Event.StartsAt.In(web.Oslo).Year()) + ": " + r.Event.Title, Value: r.Tally.Confirmed}
		}
		p.Charts = append(p.Charts, h.barChart(c, "chart-events", "dashboard.chart.events", "dashboard.col.event", bars))
	}
	p.Charts = append(p.Charts, h.mixCharts(c, p.Overview.All)...)
	h.render(c, http.StatusOK, "admin_dashboard", h.R.T(c, "dashboard.title"), p)
}

// EventDashboard is GET /admin/events/{id}/dashboard: the event in numbers.
func (h *AttendeesHandler) EventDashboard(c *gin.Context) {
	ev, err := h.event(c, organisers.Manage)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	rows, err := eventStatRows(c.Request.Context(), h.Service.DB.Read(), ev.ID)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	now := h.now()
	ended := ev.Past(now)
	p := EventDashboardPage{Event: ev, EventBase: eventPath(ev.ID), Ended: ended, Tally: TallyEvent(rows, ev.Capacity, ended)}

	// registrations over time, up to today or the start
	times := make([]time.Time, 0, len(rows))
	for _, r := range rows {
		times = append(times, r.CreatedAt)
	}
	until := now
	if ev.StartsAt.Before(until) {
		until = ev.StartsAt
	}
	days := Cumulative(times, until, web.Oslo)
	lang, cat := web.Lang(c), h.R.Catalogue()
	pts := make([]LinePoint, len(days))
	for i, d := range days {
		pts[i] = LinePoint{Label: cat.ShortDate(lang, d.Day, web.Oslo), Value: d.Total}
		if d.New > 0 {
			p.Days = append(p.Days, d)
		}
	}
	p.Timeline = LineChart{ID: "chart-timeline", Title: h.R.T(c, "dashboard.chart.timeline"), Desc: h.R.T(c, "dashboard.line_desc"),
		Points: pts, Empty: h.R.T(c, "dashboard.empty")}.SVG()

	t := p.Tally
	status := []Bar{
		{Label: h.R.T(c, "attendees.status.confirmed"), Value: t.Confirmed},
		{Label: h.R.T(c, "attendees.status.waiting"), Value: t.Waiting},
		{Label: h.R.T(c, "attendees.status.cancelled"), Value: t.Cancelled},
		{Label: h.R.T(c, "attendees.status.attended"), Value: t.Attended},
	}
	p.Charts = append(p.Charts, h.barChart(c, "chart-status", "dashboard.chart.status", "dashboard.col.status", status))
	p.Charts = append(p.Charts, h.mixCharts(c, t)...)
	h.render(c, http.StatusOK, "admin_dashboard_event", h.R.T(c, "dashboard.event_title", "Title", ev.Title), p)
}
