package events

import (
	"encoding/json"
	"errors"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/web"
)

// Handler serves the public event pages and the JSON API.
type Handler struct {
	Store     *Store
	R         *web.Renderer
	Cache     *web.PageCache // rendered HTML pages
	FeedCache *web.PageCache // built calendar feeds
	BaseURL   string
	Now       func() time.Time
	// RelayUTF8 reports whether mail can carry addresses with non-ASCII
	// before the @ (the mail worker's AcceptsUTF8); nil: it cannot. An
	// organiser's contact address is every registrant's Reply-To.
	RelayUTF8 func() bool
	// NextSteps says what is next after an event (nil: nothing).
	NextSteps NextSteps
}

// NewHandler wires the event pages to a database and a renderer.
func NewHandler(d *db.DB, r *web.Renderer, baseURL string) *Handler {
	return &Handler{
		Store:     &Store{DB: d},
		R:         r,
		Cache:     web.NewPageCache(30*time.Second, 2000),
		FeedCache: web.NewPageCache(time.Hour, 500),
		BaseURL:   strings.TrimRight(baseURL, "/"),
		// read the clock through d, so a clock set on d later (tests) counts
		Now: func() time.Time { return d.Now() },
	}
}

// The public pages, each served from the page cache (see cached). The
// routes are in internal/app/routes.go.

// Listing is GET /: the coming events, filtered by the query.
func (h *Handler) Listing(c *gin.Context) { h.cached(c, h.list) }

// RegionListing is GET /regions/{slug}: the listing of one region.
func (h *Handler) RegionListing(c *gin.Context) { h.cached(c, h.region) }

// OrganiserListing is GET /organisers/{slug}: the listing of one organiser.
func (h *Handler) OrganiserListing(c *gin.Context) { h.cached(c, h.organiser) }

// EventPage is GET /events/{slug}: the event's page. /events/{slug}.ics,
// the event to add to a calendar, shares the route: a path parameter is
// the whole segment, so the router cannot tell the two apart.
func (h *Handler) EventPage(c *gin.Context) {
	if strings.HasSuffix(c.Param("slug"), ".ics") {
		h.eventICS(c)
		return
	}
	h.cached(c, h.detail)
}

// cached serves a page from the page cache when the data has not changed
// since it was rendered, else renders it. Pages differ only by language
// and URL; the CSRF token is put in at write time.
func (h *Handler) cached(c *gin.Context, render func(c *gin.Context) (int, []byte, error)) {
	useCache := !web.HasFlash(c)
	key := web.Lang(c) + "|" + c.Request.URL.Path + "?" + c.Request.URL.RawQuery
	gen := h.Store.DB.Generation()
	if useCache {
		if page, ok := h.Cache.Get(key, gen); ok {
			web.WriteHTML(c, http.StatusOK, page.Body)
			return
		}
	}
	status, body, err := render(c)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	if useCache && status == http.StatusOK {
		h.Cache.Put(key, gen, web.CachedPage{Body: body})
	}
	web.WriteHTML(c, status, body)
}

// ListPage is the data of the listing pages (/, a region, an organiser).
type ListPage struct {
	Query                          ListQuery
	Events                         []Event
	Total                          int
	Page                           int
	Pages                          int
	PrevURL                        string
	NextURL                        string
	Regions                        []Region
	Region                         *Region    // on a region's page
	Organiser                      *Organiser // on an organiser's page
	FeedPath                       string     // the calendar feed of exactly this list
	Subscribe                      SubscribeLinks
	Formats, Levels, Roles, Themes []string
	// Chips are the filters in force, each a link to the list without it.
	Chips []Chip
	// PastURL is this list's past events (on the upcoming view),
	// UpcomingURL its coming ones (on the past view).
	PastURL, UpcomingURL string
	BasePath             string // the list without any filter
}

// Chip is one filter in force: what it shows, and the same list without it.
type Chip struct {
	Label     string
	RemoveURL string
}

func (h *Handler) list(c *gin.Context) (int, []byte, error) {
	return h.renderList(c, ListPage{})
}

func (h *Handler) region(c *gin.Context) (int, []byte, error) {
	r, err := h.Store.FindRegionBySlug(c.Request.Context(), c.Param("slug"))
	if err != nil {
		return 0, nil, err
	}
	return h.renderList(c, ListPage{Region: &r})
}

func (h *Handler) organiser(c *gin.Context) (int, []byte, error) {
	o, err := h.Store.FindOrganiserBySlug(c.Request.Context(), c.Param("slug"))
	if err != nil {
		return 0, nil, err
	}
	return h.renderList(c, ListPage{Organiser: &o})
}

func (h *Handler) renderList(c *gin.Context, lp ListPage) (int, []byte, error) {
	q := ParseListQuery(c.Request.URL.Query())
	if lp.Region != nil {
		q.Region = lp.Region.Slug
	}
	if lp.Organiser != nil {
		q.Organiser = lp.Organiser.Slug
	}
	regions, err := h.Store.FindRegions(c.Request.Context())
	if err != nil {
		return 0, nil, err
	}
	if q.Region != "" && !hasRegion(regions, q.Region) {
		q.Ignored = append(q.Ignored, "region")
		q.Region = ""
	}
	evs, total, err := h.Store.FindEvents(c.Request.Context(), q.Filter(h.Now()))
	if err != nil {
		return 0, nil, err
	}
	// a region's or organiser's page names it in its path, so the page
	// links, the canonical URL and the form carry only the other filters
	if lp.Region != nil {
		q.Region = ""
	}
	if lp.Organiser != nil {
		q.Organiser = ""
	}
	lp.Query, lp.Events, lp.Total, lp.Page, lp.Regions = q, evs, total, q.Page, regions
	lp.Pages = int(math.Ceil(float64(total) / PageSize))
	lp.Formats, lp.Levels, lp.Roles, lp.Themes = Formats, Levels, Roles, Themes
	path := c.Request.URL.Path
	if q.Page > 1 {
		lp.PrevURL = q.PageURL(path, q.Page-1)
	}
	if q.Page < lp.Pages {
		lp.NextURL = q.PageURL(path, q.Page+1)
	}
	lp.FeedPath = feedPath(lp, q)

	lang := web.Lang(c)
	cat := h.R.Catalogue()
	title, feedName := cat.T(lang, "list.title"), cat.T(lang, "calendar.all")
	switch {
	case lp.Region != nil:
		title = cat.T(lang, "region.title", "Region", lp.Region.Name)
		feedName = title
		if q.Past() {
			title = cat.T(lang, "region.past_title", "Region", lp.Region.Name)
		}
	case lp.Organiser != nil:
		title = lp.Organiser.Name
		feedName = lp.Organiser.Name + " – " + cat.T(lang, "site.name")
	case q.Past():
		title = cat.T(lang, "list.past_title")
	}
	lp.Subscribe = SubscribeLinksFor(h.BaseURL+lp.FeedPath, feedName)
	other := q
	other.When = ""
	if !q.Past() {
		other.When = WhenPast
		lp.PastURL = other.PageURL(path, 1)
	} else {
		lp.UpcomingURL = other.PageURL(path, 1)
	}
	chips, err := h.chips(c, q, path, regions)
	if err != nil {
		return 0, nil, err
	}
	lp.Chips = chips
	lp.BasePath = path
	p := h.R.NewPage(c, title, lp)
	p.Now = h.Now()
	p.Canonical = h.BaseURL + q.PageURL(path, q.Page)
	p.Meta.Description = cat.T(lang, "site.description")
	for _, name := range q.Ignored {
		p.Notices = append(p.Notices, cat.T(lang, "notice.ignored_param", "Param", cat.T(lang, "filter."+name)))
	}
	status := http.StatusOK
	if len(q.Ignored) > 0 {
		// the list is shown, with the notice; a 400 tells crawlers and
		// scripts the URL was wrong
		status = http.StatusBadRequest
	}
	body, err := h.R.RenderBytes("list", p)
	return status, body, err
}

// chips are the filters of q in force, in the form's order, each with
// the list at path without it (from its first page).
func (h *Handler) chips(c *gin.Context, q ListQuery, path string, regions []Region) ([]Chip, error) {
	lang := web.Lang(c)
	cat := h.R.Catalogue()
	var chips []Chip
	add := func(label string, clear func(q *ListQuery)) {
		without := q
		clear(&without)
		chips = append(chips, Chip{Label: label, RemoveURL: without.PageURL(path, 1)})
	}
	if q.Q != "" {
		add(cat.T(lang, "filter.chip_q", "Text", q.Q), func(q *ListQuery) { q.Q = "" })
	}
	if q.Past() {
		add(cat.T(lang, "list.past"), func(q *ListQuery) { q.When = "" })
	}
	for _, r := range regions {
		if r.Slug == q.Region {
			add(r.Name, func(q *ListQuery) { q.Region = "" })
		}
	}
	if q.Organiser != "" {
		o, err := h.Store.FindOrganiserBySlug(c.Request.Context(), q.Organiser)
		switch {
		case err == nil:
			add(o.Name, func(q *ListQuery) { q.Organiser = "" })
		case errors.Is(err, ErrNotFound):
			add(q.Organiser, func(q *ListQuery) { q.Organiser = "" })
		default:
			return nil, err
		}
	}
	// the enum filters show the form's wording of their value
	valueKey := map[string]string{"format": "format.", "level": "level.", "role": "role.", "theme": "theme.",
		"price": "filter.price_", "access": "filter.access_", "mode": "filter.mode_"}
	for _, p := range filterParams {
		if v := *p.field(&q); v != "" {
			field := p.field
			add(cat.T(lang, valueKey[p.name]+v), func(q *ListQuery) { *field(q) = "" })
		}
	}
	for _, d := range []struct {
		key   string
		value string
		clear func(q *ListQuery)
	}{
		{"filter.chip_from", q.From, func(q *ListQuery) { q.From = "" }},
		{"filter.chip_to", q.To, func(q *ListQuery) { q.To = "" }},
	} {
		if d.value != "" {
			day, _ := time.ParseInLocation("2006-01-02", d.value, Oslo)
			add(cat.T(lang, d.key, "Date", cat.Date(lang, day, Oslo)), d.clear)
		}
	}
	return chips, nil
}

// feedPath is the calendar subscription for the list being looked at:
// the coming events of its filters, whichever view (upcoming or past) is
// shown.
func feedPath(lp ListPage, q ListQuery) string {
	q.When = ""
	v := q.Values()
	base := "/calendar.ics"
	switch {
	case lp.Region != nil:
		v.Del("region")
		base = "/regions/" + lp.Region.Slug + "/calendar.ics"
	case lp.Organiser != nil:
		v.Del("organiser")
		base = "/organisers/" + lp.Organiser.Slug + "/calendar.ics"
	}
	if len(v) == 0 {
		return base
	}
	return base + "?" + v.Encode()
}

func hasRegion(rs []Region, slug string) bool {
	for _, r := range rs {
		if r.Slug == slug {
			return true
		}
	}
	return false
}

// DetailPage is the data of an event's page. Form is the registration
// form's state, filled in by the registration package when it re-renders
// the page with errors; nil shows an empty form.
type DetailPage struct {
	Event      Event
	Form       any
	State      RegistrationState
	Past       bool
	MapURL     string
	Feed       string
	ICSPath    string
	Calendar   *CalendarLinks // nil for a cancelled event
	Registered bool
}

func (h *Handler) detail(c *gin.Context) (int, []byte, error) {
	ev, err := h.Store.FindEventBySlug(c.Request.Context(), c.Param("slug"))
	if err != nil {
		return 0, nil, err
	}
	body, err := h.RenderDetail(c, ev, nil)
	return http.StatusOK, body, err
}

// RenderDetail renders an event's page with a registration form state.
func (h *Handler) RenderDetail(c *gin.Context, ev Event, form any) ([]byte, error) {
	now := h.Now()
	dp := DetailPage{
		Event:   ev,
		Form:    form,
		State:   ev.RegistrationStateAt(now),
		Past:    ev.Past(now),
		ICSPath: "/events/" + ev.Slug + ".ics",
	}
	if ev.Venue != nil {
		dp.MapURL = mapURL(ev.Venue)
	}
	if !ev.Cancelled() {
		links := AddLinks(ev, h.BaseURL)
		dp.Calendar = &links
	}
	p := h.R.NewPage(c, ev.Title, dp)
	p.Now = now
	p.Canonical = h.BaseURL + "/events/" + ev.Slug
	p.Meta = Meta(ev, h.BaseURL)
	return h.R.RenderBytes("event", p)
}

// mapURL links to the venue on OpenStreetMap: coordinates when known,
// otherwise a search for the address.
func mapURL(v *Venue) string {
	if v.HasGeo() {
		return "https://www.openstreetmap.org/?mlat=" + fmtCoord(*v.Latitude) + "&mlon=" + fmtCoord(*v.Longitude) + "#map=17/" + fmtCoord(*v.Latitude) + "/" + fmtCoord(*v.Longitude)
	}
	q := strings.TrimSpace(v.Street + ", " + v.Postcode + " " + v.City)
	return "https://www.openstreetmap.org/search?query=" + url.QueryEscape(q)
}

// Meta is the OpenGraph description and schema.org JSON-LD of an event.
func Meta(ev Event, baseURL string) web.Meta {
	b, _ := json.Marshal(JSONLD(ev, baseURL))
	return web.Meta{
		Description: ev.Summary,
		OGType:      "event",
		JSONLD:      template.JS(b),
	}
}

// JSONLD is the schema.org Event for search engines.
func JSONLD(ev Event, baseURL string) map[string]any {
	status := "https://schema.org/EventScheduled"
	if ev.Cancelled() {
		status = "https://schema.org/EventCancelled"
	}
	mode := map[string]string{
		"physical": "https://schema.org/OfflineEventAttendanceMode",
		"digital":  "https://schema.org/OnlineEventAttendanceMode",
		"hybrid":   "https://schema.org/MixedEventAttendanceMode",
	}[ev.Mode]
	pageURL := baseURL + "/events/" + ev.Slug
	var locations []any
	if ev.Venue != nil {
		place := map[string]any{
			"@type": "Place",
			"name":  ev.Venue.Name,
			"address": map[string]any{
				"@type": "PostalAddress", "streetAddress": ev.Venue.Street, "postalCode": ev.Venue.Postcode,
				"addressLocality": ev.Venue.City, "addressRegion": ev.Region.Name, "addressCountry": "NO",
			},
		}
		if ev.Venue.HasGeo() {
			place["geo"] = map[string]any{"@type": "GeoCoordinates", "latitude": *ev.Venue.Latitude, "longitude": *ev.Venue.Longitude}
		}
		locations = append(locations, place)
	}
	if ev.Digital() {
		locations = append(locations, map[string]any{"@type": "VirtualLocation", "url": pageURL})
	}
	availability := "https://schema.org/InStock"
	if ev.Full() {
		availability = "https://schema.org/SoldOut"
	}
	ld := map[string]any{
		"@context":                "https://schema.org",
		"@type":                   "Event",
		"name":                    ev.Title,
		"description":             ev.Summary,
		"startDate":               ev.StartsAt.In(Oslo).Format(time.RFC3339),
		"endDate":                 ev.EndsAt.In(Oslo).Format(time.RFC3339),
		"eventStatus":             status,
		"eventAttendanceMode":     mode,
		"location":                locations,
		"url":                     pageURL,
		"inLanguage":              ev.Language,
		"maximumAttendeeCapacity": ev.Capacity,
		"organizer": map[string]any{
			"@type": "Organization", "name": ev.Organiser.Name, "url": ev.Organiser.Website, "email": ev.Organiser.ContactEmail,
		},
		"offers": map[string]any{
			"@type": "Offer", "price": ev.PriceNOK, "priceCurrency": "NOK", "availability": availability, "url": pageURL,
		},
	}
	return ld
}
