package events

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// APIEvent is an event in the read-only JSON API for integrations.
type APIEvent struct {
	Slug           string    `json:"slug"`
	Title          string    `json:"title"`
	Summary        string    `json:"summary"`
	Region         APIRef    `json:"region"`
	Organiser      APIRef    `json:"organiser"`
	Format         string    `json:"format"`
	Mode           string    `json:"mode"`
	StartsAt       string    `json:"starts_at"`
	EndsAt         string    `json:"ends_at"`
	Capacity       int       `json:"capacity"`
	SeatsLeft      int       `json:"seats_left"`
	ConfirmedCount int       `json:"confirmed_count"`
	WaitlistCount  int       `json:"waitlist_count"`
	Status         string    `json:"status"`
	PriceNOK       int       `json:"price_nok"`
	InvitationOnly bool      `json:"invitation_only"`
	Levels         []string  `json:"levels"`
	Roles          []string  `json:"roles"`
	Theme          string    `json:"theme"`
	Sector         string    `json:"sector"`
	Venue          *APIVenue `json:"venue,omitempty"`
	Series         *APIRef   `json:"series,omitempty"`
	URL            string    `json:"url"`
	ICSURL         string    `json:"ics_url"`
}

// APIRef names a related object.
type APIRef struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// APIVenue is where an event takes place.
type APIVenue struct {
	Name      string   `json:"name"`
	Street    string   `json:"street"`
	Postcode  string   `json:"postcode"`
	City      string   `json:"city"`
	Latitude  *float64 `json:"latitude,omitempty"`
	Longitude *float64 `json:"longitude,omitempty"`
}

func (h *Handler) apiEvent(ev Event) APIEvent {
	a := APIEvent{
		Slug: ev.Slug, Title: ev.Title, Summary: ev.Summary,
		Region:    APIRef{Slug: ev.Region.Slug, Name: ev.Region.Name},
		Organiser: APIRef{Slug: ev.Organiser.Slug, Name: ev.Organiser.Name},
		Format:    ev.Format, Mode: ev.Mode,
		StartsAt: ev.StartsAt.In(Oslo).Format(time.RFC3339),
		EndsAt:   ev.EndsAt.In(Oslo).Format(time.RFC3339),
		Capacity: ev.Capacity, SeatsLeft: ev.SeatsLeft(),
		ConfirmedCount: ev.ConfirmedCount, WaitlistCount: ev.WaitlistCount,
		Status: string(ev.Status), PriceNOK: ev.PriceNOK, InvitationOnly: ev.InvitationOnly,
		Levels: nonNil(ev.Levels), Roles: nonNil(ev.Roles), Theme: ev.Theme, Sector: ev.Sector,
		URL:    h.BaseURL + "/events/" + ev.Slug,
		ICSURL: h.BaseURL + "/events/" + ev.Slug + ".ics",
	}
	if v := ev.Venue; v != nil {
		a.Venue = &APIVenue{Name: v.Name, Street: v.Street, Postcode: v.Postcode, City: v.City, Latitude: v.Latitude, Longitude: v.Longitude}
	}
	if s := ev.Series; s != nil {
		a.Series = &APIRef{Slug: s.Slug, Name: s.Title}
	}
	return a
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// APIList is a page of events.
type APIList struct {
	Events  []APIEvent `json:"events"`
	Page    int        `json:"page"`
	PerPage int        `json:"per_page"`
	Total   int        `json:"total"`
	Next    string     `json:"next,omitempty"`
}

// APIListing is GET /api/v1/events: a page of events, filtered as the
// listing is.
func (h *Handler) APIListing(c *gin.Context) {
	q := ParseListQuery(c.Request.URL.Query())
	if q.Region != "" {
		// as on the pages: an unknown region is a bad value, not an empty list
		if _, err := h.Store.FindRegionBySlug(c.Request.Context(), q.Region); errors.Is(err, ErrNotFound) {
			q.Ignored = append(q.Ignored, "region")
		} else if err != nil {
			h.R.FailAPI(c, err)
			return
		}
	}
	if len(q.Ignored) > 0 {
		c.JSON(http.StatusBadRequest, gin.H{
			"error":   "bad_parameter",
			"message": "these parameters have values that are not understood: " + strings.Join(q.Ignored, ", "),
			"params":  q.Ignored,
		})
		return
	}
	evs, total, err := h.Store.FindEvents(c.Request.Context(), q.Filter(h.Now()))
	if err != nil {
		h.R.FailAPI(c, err)
		return
	}
	out := APIList{Events: make([]APIEvent, 0, len(evs)), Page: q.Page, PerPage: PageSize, Total: total}
	for _, ev := range evs {
		out.Events = append(out.Events, h.apiEvent(ev))
	}
	if q.Page*PageSize < total {
		out.Next = h.BaseURL + q.PageURL("/api/v1/events", q.Page+1)
	}
	c.JSON(http.StatusOK, out)
}

// APIDetail is GET /api/v1/events/{slug}: one event.
func (h *Handler) APIDetail(c *gin.Context) {
	ev, err := h.Store.FindEventBySlug(c.Request.Context(), c.Param("slug"))
	if err != nil {
		h.R.FailAPI(c, err)
		return
	}
	c.JSON(http.StatusOK, h.apiEvent(ev))
}

func fmtCoord(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }
