package registration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/mailer"
)

// RowQuerier is what reads one row: *sql.DB (the read pool), *sql.Tx.
type RowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Querier is what reads rows: *sql.DB (the read pool), *sql.Tx.
type Querier interface {
	RowQuerier
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Tx is a write transaction as the store functions and Notify use it: a
// *sql.Tx, or the sign-up path's with prepared statements (wtx).
type Tx interface {
	Querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// wtx is a write transaction that runs the statements of the sign-up path
// prepared (once per process, on the single writer connection) instead of
// parsing them on every call: parsing SQL was a third of the CPU time of a
// sign-up, and this time is spent while every other writer waits.
type wtx struct {
	*sql.Tx
	prepared map[string]*sql.Stmt
}

func (t wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st, ok := t.prepared[query]; ok {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := t.prepared[query]; ok {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := t.prepared[query]; ok {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

// hotQueries are prepared: every sign-up runs them.
var hotQueries = []string{qSeats, qLive, qInsert, qConsent, qToken, qFeed, qEarlierCancels, mailer.EnqueueQuery}

// rpool is the read pool running the sign-up path's reads prepared (each
// connection of the pool prepares a statement once, on first use).
type rpool struct {
	*sql.DB
	prepared map[string]*sql.Stmt
}

func (p rpool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := p.prepared[query]; ok {
		return st.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, query, args...)
}

func (p rpool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := p.prepared[query]; ok {
		return st.QueryRowContext(ctx, args...)
	}
	return p.DB.QueryRowContext(ctx, query, args...)
}

// hotReads are prepared on the read pool: every sign-up runs them before
// its transaction.
var hotReads = []string{qEventBySlug}

// regColumns is the one SELECT list of a registration.
const regColumns = `id, event_id, status, name, email, email_norm, organisation, role, level, sector,
	region, phone, dietary, accessibility, topics, lang, intro_consent, health_consent, created_at, updated_at, queued_at, cancelled_at`

type scanner interface{ Scan(dest ...any) error }

func scanRegistration(s scanner) (Registration, error) {
	var r Registration
	var consent, health int
	var cancelled sql.NullTime
	err := s.Scan(&r.ID, &r.EventID, &r.Status, &r.Name, &r.Email, &r.EmailNorm, &r.Organisation, &r.Role,
		&r.Level, &r.Sector, &r.Region, &r.Phone, &r.Dietary, &r.Accessibility, &r.Topics, &r.Lang, &consent,
		&health, &r.CreatedAt, &r.UpdatedAt, &r.QueuedAt, &cancelled)
	if err != nil {
		return r, err
	}
	r.IntroConsent, r.HealthConsent = consent != 0, health != 0
	r.CreatedAt, r.UpdatedAt, r.QueuedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC(), r.QueuedAt.UTC()
	if cancelled.Valid {
		r.CancelledAt = cancelled.Time.UTC()
	}
	return r, nil
}

// Filter selects registrations. Zero fields do not filter.
type Filter struct {
	ID        int64
	EventID   int64
	EmailNorm string
	Statuses  []string // default: every status
	Limit     int
}

// FindRegistrations returns the registrations that match f: per event, the
// confirmed first, then the waiting list in order, then the cancelled. A
// waiting registration carries its position.
func FindRegistrations(ctx context.Context, q Querier, f Filter) ([]Registration, error) {
	var conds []string
	var args []any
	if f.ID != 0 {
		conds, args = append(conds, "id = ?"), append(args, f.ID)
	}
	if f.EventID != 0 {
		conds, args = append(conds, "event_id = ?"), append(args, f.EventID)
	}
	if f.EmailNorm != "" {
		conds, args = append(conds, "email_norm = ?"), append(args, f.EmailNorm)
	}
	if len(f.Statuses) > 0 {
		conds = append(conds, "status IN (?"+strings.Repeat(", ?", len(f.Statuses)-1)+")")
		for _, s := range f.Statuses {
			args = append(args, s)
		}
	}
	query := "SELECT " + regColumns + " FROM registrations"
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	query += ` ORDER BY event_id, CASE status WHEN 'confirmed' THEN 0 WHEN 'waiting' THEN 1 ELSE 2 END, queued_at, id`
	if f.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("registration: find: %w", err)
	}
	var regs []Registration
	for rows.Next() {
		r, err := scanRegistration(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("registration: find: %w", err)
		}
		regs = append(regs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("registration: find: %w", err)
	}
	// Positions: counted in order when the whole waiting list of an event
	// is in the result, else asked one by one.
	whole := f.EventID != 0 && f.ID == 0 && f.EmailNorm == "" && f.Limit == 0
	n := 0
	for i := range regs {
		if !regs[i].Waiting() {
			continue
		}
		if whole {
			n++
			regs[i].Position = n
			continue
		}
		if regs[i].Position, err = Position(ctx, q, regs[i]); err != nil {
			return nil, err
		}
	}
	return regs, nil
}

// findRegistration returns one registration (with its position) or ErrNotFound.
func findRegistration(ctx context.Context, q Querier, id int64) (Registration, error) {
	regs, err := FindRegistrations(ctx, q, Filter{ID: id})
	if err != nil {
		return Registration{}, err
	}
	if len(regs) == 0 {
		return Registration{}, ErrNotFound
	}
	return regs[0], nil
}

// findLive returns the live (not cancelled) registration of an address for
// an event, if there is one.
const qLive = "SELECT " + regColumns + " FROM registrations WHERE event_id = ? AND email_norm = ? AND status <> 'cancelled'"

func findLive(ctx context.Context, q RowQuerier, eventID int64, emailNorm string) (Registration, bool, error) {
	r, err := scanRegistration(q.QueryRowContext(ctx, qLive, eventID, emailNorm))
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("registration: find live: %w", err)
	}
	return r, true, nil
}

const qSeats = `SELECT e.id, e.status, e.starts_at, e.ends_at, e.registration_opens_at,
	e.registration_closes_at, e.capacity, e.invitation_only, e.invite_code, e.updated_at,
	e.confirmed_count, e.waitlist_count
	FROM events e WHERE e.id = ? FOR UPDATE`

// readSeats reads, in the write transaction, what the capacity rule and
// the registration window need, and locks the event's row until the
// transaction ends (so another instance's sign-up for the event waits,
// and the count it reads includes this one): a few columns of the event and its counts
// of confirmed and waiting registrations (kept on the event by triggers,
// see migration 008, so reading them costs the same however long the
// queue).
func readSeats(ctx context.Context, tx RowQuerier, eventID int64) (events.Event, error) {
	var ev events.Event
	var opens, closes sql.NullTime
	var invitationOnly int
	err := tx.QueryRowContext(ctx, qSeats, eventID).Scan(&ev.ID, &ev.Status, &ev.StartsAt, &ev.EndsAt, &opens, &closes,
		&ev.Capacity, &invitationOnly, &ev.InviteCode, &ev.UpdatedAt, &ev.ConfirmedCount, &ev.WaitlistCount)
	if errors.Is(err, sql.ErrNoRows) {
		return ev, ErrNotFound
	}
	if err != nil {
		return ev, fmt.Errorf("registration: seats of %d: %w", eventID, err)
	}
	ev.StartsAt, ev.EndsAt = ev.StartsAt.UTC(), ev.EndsAt.UTC()
	if opens.Valid {
		ev.RegistrationOpensAt = opens.Time.UTC()
	}
	if closes.Valid {
		ev.RegistrationClosesAt = closes.Time.UTC()
	}
	ev.InvitationOnly = invitationOnly != 0
	return ev, nil
}

// Position is a waiting registration's place in line: the number of waiting
// registrations of the event before it by (queued_at, id), plus one. Being
// counted, positions never have gaps. It is 0 for one that is not waiting.
func Position(ctx context.Context, q RowQuerier, r Registration) (int, error) {
	if !r.Waiting() {
		return 0, nil
	}
	var n int
	err := q.QueryRowContext(ctx, qBefore, r.EventID, r.QueuedAt.UTC(), r.ID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("registration: position: %w", err)
	}
	return n + 1, nil
}

// The waiting list before a point, as row values so the index on
// (event_id, status, queued_at, id) bounds the count.
const qBefore = `SELECT COUNT(*) FROM registrations
	WHERE event_id = ? AND status = 'waiting' AND (queued_at, id) < (?, ?)`

// insertRegistration stores a new registration and sets its ID.
const qInsert = `INSERT INTO registrations (event_id, status, name, email, email_norm,
	organisation, role, level, sector, region, phone, dietary, accessibility, topics, lang, intro_consent,
	health_consent, created_at, updated_at, queued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	RETURNING id`

func insertRegistration(ctx context.Context, tx Tx, r *Registration) error {
	err := tx.QueryRowContext(ctx, qInsert,
		r.EventID, r.Status, r.Name, r.Email, r.EmailNorm, r.Organisation, r.Role, r.Level, r.Sector, r.Region,
		r.Phone, r.Dietary, r.Accessibility, r.Topics, r.Lang, db.Bool(r.IntroConsent), db.Bool(r.HealthConsent),
		r.CreatedAt.UTC(), r.UpdatedAt.UTC(), r.QueuedAt.UTC()).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("registration: insert: %w", err)
	}
	return nil
}

// Seed stores a registration as it is given, status and times included,
// with its consents (in the wordings w): no capacity rule, no emails, no
// links. It is for data that describes a past (the demo); a sign-up is
// Register.
func Seed(ctx context.Context, tx *sql.Tx, r *Registration, w Wordings) error {
	if err := insertRegistration(ctx, tx, r); err != nil {
		return err
	}
	return recordConsents(ctx, tx, r.CreatedAt, Registration{}, *r, w)
}

// updateDetails writes what a person changed on the manage page. The
// address is not among it: it identifies the registration.
func updateDetails(ctx context.Context, tx Tx, now time.Time, r Registration) error {
	_, err := tx.ExecContext(ctx, `UPDATE registrations SET name = ?, organisation = ?, role = ?, level = ?,
		sector = ?, region = ?, phone = ?, dietary = ?, accessibility = ?, topics = ?, lang = ?, intro_consent = ?,
		health_consent = ?, updated_at = ? WHERE id = ?`,
		r.Name, r.Organisation, r.Role, r.Level, r.Sector, r.Region, r.Phone, r.Dietary, r.Accessibility,
		r.Topics, r.Lang, db.Bool(r.IntroConsent), db.Bool(r.HealthConsent), now, r.ID)
	if err != nil {
		return fmt.Errorf("registration: update %d: %w", r.ID, err)
	}
	return nil
}

// setStatus moves a registration to status. Promotion and joining the
// waiting list restart queued_at; cancelling records when.
func setStatus(ctx context.Context, tx Tx, now time.Time, id int64, from, to string) error {
	var res sql.Result
	var err error
	if to == StatusCancelled {
		res, err = tx.ExecContext(ctx, `UPDATE registrations SET status = ?, cancelled_at = ?, updated_at = ? WHERE id = ? AND status = ?`,
			to, now, now, id, from)
	} else {
		res, err = tx.ExecContext(ctx, `UPDATE registrations SET status = ?, queued_at = ?, updated_at = ? WHERE id = ? AND status = ?`,
			to, now, now, id, from)
	}
	if err != nil {
		return fmt.Errorf("registration: %s -> %s for %d: %w", from, to, id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("registration: %s -> %s for %d: status changed under us", from, to, id)
	}
	return nil
}

// recordConsent stores one answer to a consent question with the wording shown.
const qConsent = `INSERT INTO consents (registration_id, kind, granted, wording_version, wording, lang, recorded_at)
	VALUES (?, ?, ?, ?, ?, ?, ?)`

func recordConsent(ctx context.Context, tx Tx, now time.Time, regID int64, q ConsentQuestion, granted bool, lang, wording string) error {
	_, err := tx.ExecContext(ctx, qConsent, regID, q.Kind, db.Bool(granted), q.Version, wording, lang, now)
	if err != nil {
		return fmt.Errorf("registration: consent for %d: %w", regID, err)
	}
	return nil
}

// Consent is one recorded answer to a consent question.
type Consent struct {
	Kind           string // introductions, health
	Granted        bool
	WordingVersion string
	Wording        string
	Lang           string
	RecordedAt     time.Time
}

// FindConsents returns a registration's consent history, oldest first.
func FindConsents(ctx context.Context, q Querier, regID int64) ([]Consent, error) {
	rows, err := q.QueryContext(ctx, `SELECT kind, granted, wording_version, wording, lang, recorded_at FROM consents
		WHERE registration_id = ? ORDER BY recorded_at, id`, regID)
	if err != nil {
		return nil, fmt.Errorf("registration: consents: %w", err)
	}
	defer rows.Close()
	var cs []Consent
	for rows.Next() {
		var c Consent
		var granted int
		if err := rows.Scan(&c.Kind, &granted, &c.WordingVersion, &c.Wording, &c.Lang, &c.RecordedAt); err != nil {
			return nil, fmt.Errorf("registration: consents: %w", err)
		}
		c.Granted = granted != 0
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

const qEventBySlug = `SELECT id FROM events WHERE slug = ? AND status IN ('published', 'cancelled')`

// EventIDBySlug finds the event a sign-up is for, cheaply, before the
// write transaction reads it in full.
func EventIDBySlug(ctx context.Context, q RowQuerier, slug string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, qEventBySlug, slug).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("registration: event %q: %w", slug, err)
	}
	return id, nil
}
