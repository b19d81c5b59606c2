package registration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/web"
)

// DefaultResendInterval is the least time between two emails with a manage
// link for the same registration sent on request (a second sign-up with
// the same address, "send me my link"), so the form cannot flood an inbox.
const DefaultResendInterval = 5 * time.Minute

// Service changes registrations. Each method is one transaction; the
// lower-case helpers and PromoteWaiting take the caller's transaction.
type Service struct {
	DB *db.DB
	// Notify is called inside the transaction of every change a person
	// should hear about (nil: nobody is told). Its error undoes the change.
	// It runs while every other sign-up waits for the single writer, so it
	// must be quick, and it must not start a transaction of its own.
	Notify NotifyFunc
	// TokenLifetime is how long after the event ends a manage link works.
	TokenLifetime time.Duration
	// ResendInterval throttles manage-link emails sent on request.
	ResendInterval time.Duration
	// GroupCommit lets concurrent sign-ups share a transaction and its
	// commit (db.Batch): each is still decided alone, in arrival order, and
	// answered only once it is on disk. Off, each has a transaction of its
	// own (how cmd/rush -raw measures the limit it is compared with).
	GroupCommit bool

	// prepared and readPrepared hold the sign-up path's statements on the
	// writer and on the read pool (see wtx, rpool).
	prepareOnce  sync.Once
	prepared     map[string]*sql.Stmt
	readPrepared map[string]*sql.Stmt
	// events keeps the events that notices were last made for.
	events eventCache
}

// eventCacheTTL bounds how long a cached event serves notices.
const eventCacheTTL = 10 * time.Second

// eventCache holds the whole event for the notices of sign-ups: a rush
// signs up for one event thousands of times a minute, and reading it in
// full (joins, counts) inside the single writer each time would halve the
// sign-ups per second. An entry serves while the event's updated_at is the
// one read in the transaction, and at most eventCacheTTL (the names of a
// series or an organiser can change without touching the event).
type eventCache struct {
	mu sync.Mutex
	m  map[int64]cachedEvent
}

type cachedEvent struct {
	ev events.Event
	at time.Time
}

// get returns the whole event for seats (read by readSeats in tx).
func (c *eventCache) get(ctx context.Context, tx *sql.Tx, seats events.Event) (events.Event, error) {
	c.mu.Lock()
	e, ok := c.m[seats.ID]
	c.mu.Unlock()
	if ok && e.ev.UpdatedAt.Equal(seats.UpdatedAt) && time.Since(e.at) < eventCacheTTL {
		return e.ev, nil
	}
	ev, err := lockEvent(ctx, tx, seats.ID)
	if err != nil {
		return ev, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 1000 {
		c.m = map[int64]cachedEvent{}
	}
	c.m[seats.ID] = cachedEvent{ev: ev, at: time.Now()}
	return ev, nil
}

// NewService is a service with the default lifetimes.
func NewService(d *db.DB) *Service {
	return &Service{DB: d, TokenLifetime: DefaultTokenLifetime, ResendInterval: DefaultResendInterval, GroupCommit: true}
}

// Input is a sign-up as the form gives it.
type Input struct {
	Details
	InviteCode string
	Lang       string // nb or en: the page's language
	// Wordings are the consent texts shown (the catalogue entries of
	// IntroConsent and HealthConsent in Lang), stored with the answers.
	Wordings Wordings
}

// Result is the outcome of a sign-up.
type Result struct {
	Registration Registration
	// Token is the browser's link to the new registration (/r/{Token}), a
	// ScopePage link: it opens this registration only, and nothing else
	// about the address (the confirmation email carries a link that does).
	// Empty for a duplicate.
	Token string
	// Duplicate is true when the address already had a live registration:
	// nothing was created, and (throttled) a manage link was sent to it.
	// A handler must not show the registration's status or link.
	Duplicate bool
	// LinkSent says whether a duplicate's link was sent now (false: one
	// went within ResendInterval, and the page must not say it was sent).
	LinkSent bool
}

// Register signs a person up for an event: a place while seats are free,
// else the waiting list. The capacity check and the insert are one write
// transaction, so concurrent sign-ups cannot overbook.
func (s *Service) Register(ctx context.Context, eventID int64, in Input) (Result, error) {
	s.prepare(ctx)
	var res Result
	var err error
	write := s.DB.Tx
	if s.GroupCommit {
		write = s.DB.Batch
	}
	for attempt := 0; attempt < 2; attempt++ {
		err = write(ctx, func(tx *sql.Tx, now time.Time) error {
			var err error
			res, err = s.register(ctx, wtx{Tx: tx, prepared: s.prepared}, now, eventID, in)
			return err
		})
		// A unique violation means a writer outside this process got the
		// same address in first; the second pass sees it as a duplicate.
		if !errors.Is(err, db.ErrUnique) {
			break
		}
	}
	return res, err
}

// prepare prepares the sign-up path's statements, once. It must run
// outside a transaction (the writer pool has one connection). A statement
// that fails to prepare is simply run unprepared.
func (s *Service) prepare(ctx context.Context) {
	// not with the request's cancellation: this is done once for all
	ctx = context.WithoutCancel(ctx)
	s.prepareOnce.Do(func() {
		s.prepared = prepareAll(ctx, s.DB.Write(), hotQueries)
		s.readPrepared = prepareAll(ctx, s.DB.Read(), hotReads)
	})
}

func prepareAll(ctx context.Context, pool *sql.DB, queries []string) map[string]*sql.Stmt {
	m := map[string]*sql.Stmt{}
	for _, q := range queries {
		if st, err := pool.PrepareContext(ctx, q); err == nil {
			m[q] = st
		}
	}
	return m
}

// Reads is the read pool with the sign-up path's reads prepared.
func (s *Service) Reads(ctx context.Context) Querier {
	s.prepare(ctx)
	return rpool{DB: s.DB.Read(), prepared: s.readPrepared}
}

func (s *Service) register(ctx context.Context, tx wtx, now time.Time, eventID int64, in Input) (Result, error) {
	// The decision reads only what it needs (a handful of columns and the
	// confirmed count): this runs inside the single writer, so its cost is
	// what limits sign-ups per second.
	ev, err := readSeats(ctx, tx, eventID)
	if err != nil {
		return Result{}, err
	}
	if err := CheckOpen(ev, now); err != nil {
		return Result{}, err
	}
	if ev.InvitationOnly && !InviteCodeMatches(ev.InviteCode, in.InviteCode) {
		return Result{}, ErrInviteCode
	}
	norm := NormalizeEmail(in.Email)
	if existing, ok, err := findLive(ctx, tx, eventID, norm); err != nil {
		return Result{}, err
	} else if ok {
		sent, err := s.sendLink(ctx, tx.Tx, now, eventID, existing)
		if err != nil {
			return Result{}, err
		}
		return Result{Registration: existing, Duplicate: true, LinkSent: sent}, nil
	}

	r := Registration{
		EventID: eventID, Status: Admit(ev.Capacity, ev.ConfirmedCount), EmailNorm: norm, Lang: web.SupportedLang(in.Lang),
		Details: in.Details, CreatedAt: now, UpdatedAt: now, QueuedAt: now,
	}
	r.Email = in.Email
	if err := insertRegistration(ctx, tx, &r); err != nil {
		return Result{}, err
	}
	if err := recordConsents(ctx, tx, now, Registration{}, r, in.Wordings); err != nil {
		return Result{}, err
	}
	// One link for the email, which proves the address when it is opened,
	// and one for the browser, which proves nothing (see Scope).
	mailToken, err := createToken(ctx, tx, now, s.expiry(ev), r.ID, ScopeMail)
	if err != nil {
		return Result{}, err
	}
	pageToken, err := createToken(ctx, tx, now, s.expiry(ev), r.ID, ScopePage)
	if err != nil {
		return Result{}, err
	}
	// the person's calendar feed, made here rather than when the manage page
	// is first opened, so that opening it after a sign-up is a pure read
	if err := ensurePersonalFeed(ctx, tx, now, norm); err != nil {
		return Result{}, err
	}
	if s.Notify != nil {
		// the message needs the whole event, counted with this sign-up,
		// and the place in line
		full, err := s.events.get(ctx, tx.Tx, ev)
		if err != nil {
			return Result{}, err
		}
		full.ConfirmedCount, full.WaitlistCount = ev.ConfirmedCount, ev.WaitlistCount
		if r.Confirmed() {
			full.ConfirmedCount++
		} else {
			// a new sign-up is last in line
			full.WaitlistCount++
			r.Position = full.WaitlistCount
		}
		kind := NoticeConfirmed
		if r.Waiting() {
			kind = NoticeWaiting
		}
		if err := s.Notify(ctx, tx, now, Notice{Kind: kind, Event: full, Registration: r, Token: mailToken}); err != nil {
			return Result{}, fmt.Errorf("registration: notify %s: %w", kind, err)
		}
	}
	return Result{Registration: r, Token: pageToken}, nil
}

// Link is what a manage link opens: one registration, its event, and what
// the link proves about its holder.
type Link struct {
	Registration Registration
	Event        events.Event
	Scope        Scope
}

// Lookup opens a manage link: the registration (with its waiting-list
// position), its event and the link's scope. An expired link returns
// ErrTokenExpired with the event (and the registration) filled in, so the
// page can point to the event; an unknown one ErrTokenUnknown.
func (s *Service) Lookup(ctx context.Context, token string) (Link, error) {
	now := s.DB.Now().UTC()
	id, scope, err := registrationForToken(ctx, s.DB.Read(), now, token)
	if err != nil && !errors.Is(err, ErrTokenExpired) {
		return Link{}, err
	}
	expired := err
	r, err := findRegistration(ctx, s.DB.Read(), id)
	if errors.Is(err, ErrNotFound) {
		return Link{}, ErrTokenUnknown
	}
	if err != nil {
		return Link{}, err
	}
	store := events.Store{DB: s.DB}
	ev, err := store.FindEvent(ctx, events.EventFilter{ID: r.EventID, Statuses: events.Statuses})
	if err != nil {
		return Link{}, fmt.Errorf("registration: event of %d: %w", r.ID, err)
	}
	return Link{Registration: r, Event: ev, Scope: scope}, expired
}

// Update changes a person's details and their answers to the consent
// questions (a consent row for each answer that changes). The address
// stays. Through a link from an email (scope mail), the browser links of
// the registration stop working: what the person stores from now on is not
// for whoever filled in the sign-up form.
func (s *Service) Update(ctx context.Context, regID int64, scope Scope, d Details, lang string, w Wordings) (Registration, error) {
	var r Registration
	err := s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		was, err := findRegistration(ctx, tx, regID)
		if err != nil {
			return err
		}
		if was.Cancelled() {
			return ErrCancelled
		}
		r = was
		d.Email = was.Email
		r.Details, r.Lang, r.UpdatedAt = d, web.SupportedLang(lang), now
		if err := updateDetails(ctx, tx, now, r); err != nil {
			return err
		}
		if scope.Proven() {
			if err := revokePageTokens(ctx, tx, r.ID); err != nil {
				return err
			}
		}
		return recordConsents(ctx, tx, now, was, r, w)
	})
	return r, err
}

// recordConsents stores each consent answer of r that differs from was's
// (a new registration: was is the zero value, so a granted one is recorded).
func recordConsents(ctx context.Context, tx Tx, now time.Time, was, r Registration, w Wordings) error {
	for _, c := range []struct {
		q        ConsentQuestion
		was, now bool
		wording  string
	}{
		{IntroConsent, was.IntroConsent, r.IntroConsent, w.Intro},
		{HealthConsent, was.HealthConsent, r.HealthConsent, w.Health},
	} {
		if c.was == c.now {
			continue
		}
		if err := recordConsent(ctx, tx, now, r.ID, c.q, c.now, r.Lang, c.wording); err != nil {
			return err
		}
	}
	return nil
}

// Cancel cancels a registration. A confirmed place goes to the first on the
// waiting list in the same transaction; promoted lists who got one.
// Cancelling twice is not an error; cancelling after the start is (ErrTooLate).
func (s *Service) Cancel(ctx context.Context, regID int64) (r Registration, promoted []Registration, err error) {
	err = s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		if r, err = findRegistration(ctx, tx, regID); err != nil {
			return err
		}
		if r.Cancelled() {
			return nil
		}
		ev, err := lockEvent(ctx, tx, r.EventID)
		if err != nil {
			return err
		}
		// as it is now that the event is locked: another instance may
		// have changed it in between (a promotion, the same cancel)
		if r, err = findRegistration(ctx, tx, regID); err != nil || r.Cancelled() {
			return err
		}
		if ev.Started(now) {
			return ErrTooLate
		}
		was := r.Status
		if err := setStatus(ctx, tx, now, r.ID, was, StatusCancelled); err != nil {
			return err
		}
		r.Status, r.CancelledAt, r.UpdatedAt, r.Position = StatusCancelled, now, now, 0
		if was == StatusConfirmed {
			ev.ConfirmedCount--
		} else {
			ev.WaitlistCount--
		}
		if err := s.notifyWithToken(ctx, tx, now, NoticeCancelled, ev, r); err != nil {
			return err
		}
		if was == StatusConfirmed {
			promoted, err = s.PromoteWaiting(ctx, tx, now, r.EventID)
		}
		return err
	})
	if err != nil {
		return r, nil, err
	}
	return r, promoted, nil
}

// ChangeCapacity sets an event's number of seats and, in the same
// transaction, gives freed seats to the waiting list in order. Lowering it
// below the confirmed count takes no place away; new sign-ups then wait.
func (s *Service) ChangeCapacity(ctx context.Context, eventID int64, capacity int) (promoted []Registration, err error) {
	if capacity < 0 {
		return nil, ErrCapacity
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := events.SetCapacity(ctx, tx, now, eventID, capacity); errors.Is(err, events.ErrNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		promoted, err = s.PromoteWaiting(ctx, tx, now, eventID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return promoted, nil
}

// PromoteWaiting moves people from the waiting list to free seats, first
// in line first, and tells each (Notice "promoted"). It takes the caller's
// write transaction, so organiser features that free seats (removing a
// registration, raising the capacity) promote atomically. Nobody is
// promoted for a cancelled or finished event.
func (s *Service) PromoteWaiting(ctx context.Context, tx *sql.Tx, now time.Time, eventID int64) ([]Registration, error) {
	ev, err := lockEvent(ctx, tx, eventID)
	if err != nil {
		return nil, err
	}
	if ev.Cancelled() || ev.Past(now) {
		return nil, nil
	}
	n := Promotions(ev.Capacity, ev.ConfirmedCount, ev.WaitlistCount)
	if n == 0 {
		return nil, nil
	}
	next, err := FindRegistrations(ctx, tx, Filter{EventID: eventID, Statuses: []string{StatusWaiting}, Limit: n})
	if err != nil {
		return nil, err
	}
	for i := range next {
		if err := setStatus(ctx, tx, now, next[i].ID, StatusWaiting, StatusConfirmed); err != nil {
			return nil, err
		}
		next[i].Status, next[i].QueuedAt, next[i].UpdatedAt, next[i].Position = StatusConfirmed, now, now, 0
	}
	ev.ConfirmedCount += len(next)
	ev.WaitlistCount -= len(next)
	for _, r := range next {
		if err := s.notifyWithToken(ctx, tx, now, NoticePromoted, ev, r); err != nil {
			return nil, err
		}
	}
	return next, nil
}

// ResendLinks sends a fresh manage link for every live registration of an
// address whose event has not ended (throttled per registration). It says
// how many were sent; a handler must not tell the visitor.
func (s *Service) ResendLinks(ctx context.Context, email string) (int, error) {
	sent := 0
	err := s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		sent = 0
		regs, err := FindRegistrations(ctx, tx, Filter{EmailNorm: NormalizeEmail(email), Statuses: []string{StatusConfirmed, StatusWaiting}})
		if err != nil {
			return err
		}
		for _, r := range regs {
			ev, err := readSeats(ctx, tx, r.EventID)
			if err != nil {
				return err
			}
			if ev.Past(now) {
				continue
			}
			ok, err := s.sendLink(ctx, tx, now, r.EventID, r)
			if err != nil {
				return err
			}
			if ok {
				sent++
			}
		}
		return nil
	})
	return sent, err
}

// SendLink emails a fresh manage link for one registration to its address,
// unless one went within ResendInterval; sent says whether it did.
func (s *Service) SendLink(ctx context.Context, regID int64) (sent bool, err error) {
	err = s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		r, err := findRegistration(ctx, tx, regID)
		if err != nil {
			return err
		}
		sent, err = s.sendLink(ctx, tx, now, r.EventID, r)
		return err
	})
	return sent, err
}

// sendLink tells a person their manage link again, unless one was made
// for the registration within ResendInterval.
func (s *Service) sendLink(ctx context.Context, tx *sql.Tx, now time.Time, eventID int64, r Registration) (sent bool, err error) {
	if s.Notify == nil {
		return false, nil
	}
	last, err := lastMailTokenAt(ctx, tx, r.ID)
	if err != nil {
		return false, err
	}
	if !last.IsZero() && now.Sub(last) < s.ResendInterval {
		return false, nil
	}
	ev, err := lockEvent(ctx, tx, eventID)
	if err != nil {
		return false, err
	}
	if r.Position, err = Position(ctx, tx, r); err != nil {
		return false, err
	}
	return true, s.notifyWithToken(ctx, tx, now, NoticeManageLink, ev, r)
}

// notifyWithToken makes a fresh manage token for the message and calls Notify.
func (s *Service) notifyWithToken(ctx context.Context, tx *sql.Tx, now time.Time, kind string, ev events.Event, r Registration) error {
	if s.Notify == nil {
		return nil
	}
	token, err := createToken(ctx, tx, now, s.expiry(ev), r.ID, ScopeMail)
	if err != nil {
		return err
	}
	if err := s.Notify(ctx, tx, now, Notice{Kind: kind, Event: ev, Registration: r, Token: token}); err != nil {
		return fmt.Errorf("registration: notify %s: %w", kind, err)
	}
	return nil
}

func (s *Service) expiry(ev events.Event) time.Time {
	life := s.TokenLifetime
	if life <= 0 {
		life = DefaultTokenLifetime
	}
	return ev.EndsAt.Add(life)
}

func lockEvent(ctx context.Context, tx *sql.Tx, id int64) (events.Event, error) {
	ev, err := events.LockEvent(ctx, tx, id)
	if errors.Is(err, events.ErrNotFound) {
		return ev, ErrNotFound
	}
	return ev, err
}
