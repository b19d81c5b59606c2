package registration

// Personal calendar feeds (issue 4): one subscribable calendar per address,
// across events, at a secret URL the manage page shows. It lists the events
// the address has a confirmed place at, from 30 days back and all future
// ones; an event the organiser cancelled stays, with STATUS:CANCELLED, until
// it would have ended. Unlike the public feeds it keeps the online meeting
// link: whoever holds the address is registered.
//
// The token is stored as it is (see migration 007_feeds.sql for why) and
// the person can reset it from any of their manage pages: the old address
// then answers 404.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/secret"
	"github.com/moteplass/moteplass/internal/web"
)

// feedHistory is how far back a personal feed reaches, as the public feeds.
const feedHistory = 30 * 24 * time.Hour

// feedCreateTimeout bounds the write that makes a person's feed the first
// time their manage page is shown. In a rush of sign-ups the writer queue
// can be long; the page is then shown without the feed rather than late.
const feedCreateTimeout = 2 * time.Second

// PersonalFeed is the feed of one address.
type PersonalFeed struct {
	EmailNorm string
	Token     string
	CreatedAt time.Time
}

// FeedLinks are what the manage page shows of a person's feed: its
// address and the subscribe buttons (events.SubscribeLinks); all empty
// when there is none to show.
type FeedLinks struct {
	events.SubscribeLinks
	Reset string // where the reset form posts
}

// feedFilter selects a personal feed by token or by address.
type feedFilter struct {
	Token     string
	EmailNorm string
}

// findFeed returns the feed that matches f, or ErrNotFound.
func findFeed(ctx context.Context, q RowQuerier, f feedFilter) (PersonalFeed, error) {
	query := `SELECT email_norm, token, created_at FROM personal_feeds WHERE `
	var arg string
	switch {
	case f.Token != "":
		query, arg = query+`token = ?`, f.Token
	case f.EmailNorm != "":
		query, arg = query+`email_norm = ?`, f.EmailNorm
	default:
		return PersonalFeed{}, ErrNotFound
	}
	var pf PersonalFeed
	err := q.QueryRowContext(ctx, query, arg).Scan(&pf.EmailNorm, &pf.Token, &pf.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return pf, ErrNotFound
	}
	if err != nil {
		return pf, fmt.Errorf("registration: feed: %w", err)
	}
	pf.CreatedAt = pf.CreatedAt.UTC()
	return pf, nil
}

// PersonalFeed returns the feed of an address, making it the first time.
func (s *Service) PersonalFeed(ctx context.Context, emailNorm string) (PersonalFeed, error) {
	pf, err := findFeed(ctx, s.DB.Read(), feedFilter{EmailNorm: emailNorm})
	if !errors.Is(err, ErrNotFound) {
		return pf, err
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := ensurePersonalFeed(ctx, tx, now, emailNorm); err != nil {
			return err
		}
		pf, err = findFeed(ctx, tx, feedFilter{EmailNorm: emailNorm})
		return err
	})
	return pf, err
}

const qFeed = `INSERT INTO personal_feeds (email_norm, token, created_at) VALUES (?, ?, ?)
	ON CONFLICT (email_norm) DO NOTHING`

// ensurePersonalFeed makes an address's feed unless it has one. Another
// transaction may have made it meanwhile: then that one stays.
func ensurePersonalFeed(ctx context.Context, tx Tx, now time.Time, emailNorm string) error {
	raw, _ := secret.New()
	if _, err := tx.ExecContext(ctx, qFeed, emailNorm, raw, now); err != nil {
		return fmt.Errorf("registration: create feed: %w", err)
	}
	return nil
}

// ResetPersonalFeed gives an address's feed a new token (making the feed if
// there was none). The old address stops working at once.
func (s *Service) ResetPersonalFeed(ctx context.Context, emailNorm string) (PersonalFeed, error) {
	var pf PersonalFeed
	err := s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		raw, _ := secret.New()
		if _, err := tx.ExecContext(ctx, `INSERT INTO personal_feeds (email_norm, token, created_at) VALUES (?, ?, ?)
			ON CONFLICT (email_norm) DO UPDATE SET token = excluded.token, created_at = excluded.created_at`,
			emailNorm, raw, now); err != nil {
			return fmt.Errorf("registration: reset feed: %w", err)
		}
		var err error
		pf, err = findFeed(ctx, tx, feedFilter{EmailNorm: emailNorm})
		return err
	})
	return pf, err
}

// DeletePersonalFeed removes an address's feed, for the erasure of a
// person's data; the address then answers 404.
func DeletePersonalFeed(ctx context.Context, tx *sql.Tx, emailNorm string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM personal_feeds WHERE email_norm = ?`, emailNorm); err != nil {
		return fmt.Errorf("registration: delete feed: %w", err)
	}
	return nil
}

// The events of a personal feed: a confirmed place, not older than the
// history, and not a cancelled event that is over.
const qFeedEvents = `SELECT DISTINCT r.event_id FROM registrations r JOIN events e ON e.id = r.event_id
	WHERE r.email_norm = ? AND r.status = 'confirmed' AND e.ends_at >= ?
	AND (e.status = 'published' OR (e.status = 'cancelled' AND e.ends_at > ?))`

// feedContent is what a personal feed is built from.
type feedContent struct {
	Events []events.Event
	Lang   string // of the person's latest registration: the feed's name
	// Modified is the newest change that can alter the feed: of its events,
	// of any of the person's registrations (one cancelled leaves the feed),
	// or of the feed itself.
	Modified time.Time
}

// personalFeedContent reads the events of a feed at now, soonest first.
func (s *Service) personalFeedContent(ctx context.Context, pf PersonalFeed, now time.Time) (feedContent, error) {
	fc := feedContent{Lang: "nb", Modified: pf.CreatedAt}
	read := s.DB.Read()
	var lang string
	var updated time.Time
	err := read.QueryRowContext(ctx, `SELECT lang, updated_at FROM registrations WHERE email_norm = ?
		ORDER BY updated_at DESC, id DESC LIMIT 1`, pf.EmailNorm).Scan(&lang, &updated)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fc, fmt.Errorf("registration: feed: latest registration: %w", err)
	default:
		fc.Lang = web.SupportedLang(lang)
		if updated.After(fc.Modified) {
			fc.Modified = updated.UTC()
		}
	}

	rows, err := read.QueryContext(ctx, qFeedEvents, pf.EmailNorm, now.Add(-feedHistory).UTC(), now.UTC())
	if err != nil {
		return fc, fmt.Errorf("registration: feed events: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fc, fmt.Errorf("registration: feed events: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fc, fmt.Errorf("registration: feed events: %w", err)
	}

	// A person attends a handful of events: one lookup each is cheaper
	// than reading every event of the period.
	store := events.Store{DB: s.DB}
	for _, id := range ids {
		evs, _, err := store.FindEvents(ctx, events.EventFilter{ID: id})
		if err != nil {
			return fc, err
		}
		fc.Events = append(fc.Events, evs...)
	}
	if err := store.AttachAgendas(ctx, fc.Events); err != nil {
		return fc, err
	}
	slices.SortFunc(fc.Events, func(a, b events.Event) int {
		if c := a.StartsAt.Compare(b.StartsAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	for _, ev := range fc.Events {
		if ev.UpdatedAt.After(fc.Modified) {
			fc.Modified = ev.UpdatedAt
		}
	}
	return fc, nil
}

// NewFeeds serves the personal feeds of h's registrations: GET and HEAD
// /feeds/{token}.ics, and the reset of a feed's address from the manage
// page (POST /r/{token}/feed/reset).
func NewFeeds(h *Handler) *Feeds {
	return &Feeds{Handler: h, cache: web.NewPageCache(time.Hour, 1000)}
}

// Feeds serves the personal feeds, each built once per change of the
// data (as the public feeds) and kept by token.
type Feeds struct {
	*Handler
	cache *web.PageCache
}

// Serve is GET /feeds/{token}.ics.
func (f *Feeds) Serve(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex")
	token, ok := strings.CutSuffix(c.Param("file"), ".ics")
	if !ok || !secret.WellFormed(token) {
		f.R.Fail(c, web.ErrNotFound)
		return
	}
	// An entry is only used at the generation it was built at, so a reset
	// (a write) retires the old token's entry at once.
	gen := f.Service.DB.Generation()
	page, ok := f.cache.Get(token, gen)
	if !ok {
		var err error
		if page, err = f.build(c.Request.Context(), token); err != nil {
			f.R.Fail(c, err)
			return
		}
		f.cache.Put(token, gen, page)
	}
	// personal: no shared cache may keep it
	events.WriteCalendar(c, page, "private, max-age=900", "")
}

func (f *Feeds) build(ctx context.Context, token string) (web.CachedPage, error) {
	pf, err := findFeed(ctx, f.Service.DB.Read(), feedFilter{Token: token})
	if err != nil {
		return web.CachedPage{}, err
	}
	now := f.now()
	fc, err := f.Service.personalFeedContent(ctx, pf, now)
	if err != nil {
		return web.CachedPage{}, err
	}
	name := f.R.Catalogue().T(fc.Lang, "feed.calendar_name")
	body, err := events.FeedCalendar(name, fc.Events, f.Events.BaseURL, now)
	if err != nil {
		return web.CachedPage{}, err
	}
	return web.CachedPage{Body: body, ETag: events.CalendarETag(body), Modified: fc.Modified.UTC().Truncate(time.Second)}, nil
}

// Reset is POST /r/{token}/feed/reset: a new address for the person's feed,
// then back to the manage page.
func (f *Feeds) Reset(c *gin.Context) {
	l, ok := f.lookupProven(c)
	if !ok {
		return
	}
	if _, err := f.Service.ResetPersonalFeed(c.Request.Context(), l.Registration.EmailNorm); err != nil {
		f.R.Fail(c, err)
		return
	}
	f.redirect(c, "/r/"+c.Param("token"), "flash.feed.reset")
}

// feedLinks are the manage page's links to the person's feed, made the
// first time. A failure leaves the block out rather than the page.
func (h *Handler) feedLinks(c *gin.Context, r Registration) FeedLinks {
	if r.Cancelled() || r.EmailNorm == "" {
		return FeedLinks{}
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), feedCreateTimeout)
	defer cancel()
	pf, err := h.Service.PersonalFeed(ctx, r.EmailNorm)
	if err != nil {
		c.Error(err)
		return FeedLinks{}
	}
	return FeedLinksFor(h.Events.BaseURL, pf.Token, h.R.T(c, "feed.calendar_name"), "/r/"+c.Param("token")+"/feed/reset")
}

// FeedLinksFor are the addresses of the feed with token under baseURL,
// named name in the calendars that ask for one.
func FeedLinksFor(baseURL, token, name, reset string) FeedLinks {
	u := strings.TrimRight(baseURL, "/") + "/feeds/" + token + ".ics"
	return FeedLinks{SubscribeLinks: events.SubscribeLinksFor(u, name), Reset: reset}
}
