package events

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/web"
)

// feedHistory is how far back feeds reach: subscribers keep last month's
// events in their calendars.
const feedHistory = 30 * 24 * time.Hour

// publicCalendar lets shared caches keep public calendars for a quarter
// of an hour.
const publicCalendar = "public, max-age=900"

// The subscription feeds, each served as serveFeed says; the routes (GET
// and HEAD) are in internal/app/routes.go. /events/{slug}.ics, one event,
// shares its route with the event page (EventPage).

// FeedAll is GET /calendar.ics: the whole calendar.
func (h *Handler) FeedAll(c *gin.Context) {
	h.serveFeed(c, func(q *ListQuery) (string, error) {
		return h.R.T(c, "calendar.all"), nil
	})
}

// FeedRegion is GET /regions/{slug}/calendar.ics.
func (h *Handler) FeedRegion(c *gin.Context) {
	h.serveFeed(c, func(q *ListQuery) (string, error) {
		r, err := h.Store.FindRegionBySlug(c.Request.Context(), c.Param("slug"))
		if err != nil {
			return "", err
		}
		q.Region = r.Slug
		return h.R.T(c, "region.title", "Region", r.Name), nil
	})
}

// FeedOrganiser is GET /organisers/{slug}/calendar.ics.
func (h *Handler) FeedOrganiser(c *gin.Context) {
	h.serveFeed(c, func(q *ListQuery) (string, error) {
		o, err := h.Store.FindOrganiserBySlug(c.Request.Context(), c.Param("slug"))
		if err != nil {
			return "", err
		}
		q.Organiser = o.Slug
		return o.Name + " – " + h.R.T(c, "site.name"), nil
	})
}

// serveFeed answers a subscription feed. The feed is built once per change
// of the data (and at most hourly otherwise, as events age out), then served
// from memory with ETag and Last-Modified, answering 304 to revalidation.
func (h *Handler) serveFeed(c *gin.Context, scope func(q *ListQuery) (string, error)) {
	q := ParseListQuery(c.Request.URL.Query())
	if len(q.Ignored) > 0 {
		h.R.Fail(c, web.ErrBadRequest)
		return
	}
	// a feed is what is coming (and the last month): the past view of a
	// listing subscribes to the same feed as its upcoming view
	q.When = ""
	key := "feed|" + web.Lang(c) + "|" + c.Request.URL.Path + "?" + q.Values().Encode()
	gen := h.Store.DB.Generation()
	page, ok := h.FeedCache.Get(key, gen)
	if !ok {
		name, err := scope(&q)
		if err != nil {
			h.R.Fail(c, err)
			return
		}
		now := h.Now()
		f := q.Filter(now)
		if q.From == "" {
			f.From = now.Add(-feedHistory)
		}
		f.Limit, f.Offset = 0, 0
		evs, _, err := h.Store.FindEvents(c.Request.Context(), f)
		if err != nil {
			h.R.Fail(c, err)
			return
		}
		if err := h.Store.AttachAgendas(c.Request.Context(), evs); err != nil {
			h.R.Fail(c, err)
			return
		}
		body, err := FeedCalendar(name, withoutOnlineLinks(evs), h.BaseURL, now)
		if err != nil {
			h.R.Fail(c, err)
			return
		}
		prev, hadPrev := h.FeedCache.Last(key)
		page = carryModified(calendarPage(body, evs, now), prev, hadPrev, now)
		h.FeedCache.Put(key, gen, page)
	}
	WriteCalendar(c, page, publicCalendar, "")
}

// eventICS serves /events/{slug}.ics: one event to add to a calendar.
func (h *Handler) eventICS(c *gin.Context) {
	ev, err := h.Store.FindEventBySlug(c.Request.Context(), strings.TrimSuffix(c.Param("slug"), ".ics"))
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	body, err := FeedCalendar(ev.Title, withoutOnlineLinks([]Event{ev}), h.BaseURL, h.Now())
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	WriteCalendar(c, calendarPage(body, []Event{ev}, h.Now()), publicCalendar, ev.Slug+".ics")
}

// withoutOnlineLinks drops the meeting links from events for public
// calendars: like the event page, feeds leave the link to the registrants'
// invitations, so a meeting cannot be joined by whoever finds the feed.
func withoutOnlineLinks(evs []Event) []Event {
	for i := range evs {
		evs[i].OnlineURL = ""
	}
	return evs
}

// calendarPage adds validators: the ETag of the content and the newest
// change of its events.
func calendarPage(body []byte, evs []Event, now time.Time) web.CachedPage {
	modified := time.Time{}
	for _, ev := range evs {
		if ev.UpdatedAt.After(modified) {
			modified = ev.UpdatedAt
		}
	}
	if modified.IsZero() {
		modified = now
	}
	return web.CachedPage{Body: body, ETag: CalendarETag(body), Modified: modified.UTC().Truncate(time.Second)}
}

// CalendarETag is a strong validator of a calendar's content, leaving out
// the DTSTAMP lines, which change on every build.
func CalendarETag(body []byte) string {
	sum := sha256.New()
	for line := range bytes.SplitAfterSeq(body, []byte("\r\n")) {
		if !bytes.HasPrefix(line, []byte("DTSTAMP")) {
			sum.Write(line)
		}
	}
	return `"` + hex.EncodeToString(sum.Sum(nil)[:16]) + `"`
}

// carryModified keeps Last-Modified steady across rebuilds that changed
// nothing, and moves it to now when the content changed: the newest
// updated_at of the listed events alone could go backwards when an event
// leaves a feed, and a client sending only If-Modified-Since would then
// miss the change.
func carryModified(page, prev web.CachedPage, hadPrev bool, now time.Time) web.CachedPage {
	switch {
	case !hadPrev:
	case prev.ETag == page.ETag:
		page.Modified = prev.Modified
	case !page.Modified.After(prev.Modified):
		// a second past what clients hold, even if that was in the future
		page.Modified = now.UTC().Truncate(time.Second)
		if next := prev.Modified.Add(time.Second); next.After(page.Modified) {
			page.Modified = next
		}
	}
	return page
}

// WriteCalendar writes an iCalendar response, or 304 when the client's copy
// is current. HEAD gets the headers only. cacheControl says who may keep it
// (public feeds: shared caches too; personal feeds: private).
func WriteCalendar(c *gin.Context, page web.CachedPage, cacheControl, filename string) {
	h := c.Writer.Header()
	h.Set("ETag", page.ETag)
	h.Set("Last-Modified", page.Modified.Format(http.TimeFormat))
	h.Set("Cache-Control", cacheControl)
	if filename != "" {
		h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	}
	if notModified(c.Request, page) {
		c.Status(http.StatusNotModified)
		return
	}
	if c.Request.Method == http.MethodHead {
		h.Set("Content-Type", "text/calendar; charset=utf-8")
		c.Status(http.StatusOK)
		return
	}
	c.Data(http.StatusOK, "text/calendar; charset=utf-8", page.Body)
}

// notModified follows RFC 9110: If-None-Match wins over If-Modified-Since.
func notModified(r *http.Request, page web.CachedPage) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == page.ETag || tag == "*" {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !page.Modified.After(t)
	}
	return false
}
