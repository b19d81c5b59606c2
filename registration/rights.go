package registration

// What the data rights (privacy/) need of the registrations: a person's
// registrations for their download, finding and forgetting them for an
// erasure, and what retention removes when. The rules of the rights
// themselves, across domains, are in privacy/.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/moteplass/moteplass/events"
)

// ErasedName is the name an anonymised registration keeps, so organisers'
// lists and counts still have a row to show.
const ErasedName = "Slettet"

// ErasedEmail is the placeholder address of anonymised registration id:
// unique (the one-per-address index holds), and no one's address (.invalid
// is reserved, RFC 2606).
func ErasedEmail(id int64) string { return fmt.Sprintf("erased-%d@invalid", id) }

// ExportRegistration is one registration with every field stored.
type ExportRegistration struct {
	ID            int64              `json:"id"`
	Event         events.ExportEvent `json:"event"`
	Status        string             `json:"status"`
	Position      int                `json:"waiting_list_position,omitempty"`
	Name          string             `json:"name"`
	Email         string             `json:"email"`
	Organisation  string             `json:"organisation"`
	Role          string             `json:"role"`
	Level         string             `json:"level"`
	Sector        string             `json:"sector"`
	Region        string             `json:"region"`
	Phone         string             `json:"phone"`
	Dietary       string             `json:"dietary"`
	Accessibility string             `json:"accessibility"`
	Topics        string             `json:"topics"`
	Language      string             `json:"language"`
	IntroConsent  bool               `json:"introductions_consent"`
	CreatedAt     time.Time          `json:"created_at"`
	UpdatedAt     time.Time          `json:"updated_at"`
	QueuedAt      time.Time          `json:"queued_at"`
	CancelledAt   *time.Time         `json:"cancelled_at,omitempty"`
	CheckedInAt   *time.Time         `json:"checked_in_at,omitempty"`
	Consents      []ExportConsent    `json:"consents"`
}

// ExportConsent is one recorded answer to a consent question.
type ExportConsent struct {
	Kind           string    `json:"kind"`
	Granted        bool      `json:"granted"`
	WordingVersion string    `json:"wording_version"`
	Wording        string    `json:"wording"`
	Language       string    `json:"language"`
	RecordedAt     time.Time `json:"recorded_at"`
}

func exportTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// ExportRegistrations are the registrations of the address emailNorm, for
// the person's download: every field stored, the place in line, and the
// consent history.
func ExportRegistrations(ctx context.Context, q Querier, emailNorm string) ([]ExportRegistration, error) {
	out := []ExportRegistration{}
	if emailNorm == "" {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.status, r.name, r.email, r.organisation, r.role, r.level, r.sector,
		r.region, r.phone, r.dietary, r.accessibility, r.topics, r.lang, r.intro_consent, r.created_at, r.updated_at,
		r.queued_at, r.cancelled_at, r.checked_in_at,
		e.id, e.slug, e.title, e.starts_at, e.ends_at, o.name
		FROM registrations r JOIN events e ON e.id = r.event_id JOIN organisers o ON o.id = e.organiser_id
		WHERE r.email_norm = ? ORDER BY e.starts_at, r.id`, emailNorm)
	if err != nil {
		return out, fmt.Errorf("registration: export: %w", err)
	}
	for rows.Next() {
		var r ExportRegistration
		var consent int
		var cancelled, checkedIn sql.NullTime
		if err := rows.Scan(&r.ID, &r.Status, &r.Name, &r.Email, &r.Organisation, &r.Role, &r.Level, &r.Sector,
			&r.Region, &r.Phone, &r.Dietary, &r.Accessibility, &r.Topics, &r.Language, &consent, &r.CreatedAt,
			&r.UpdatedAt, &r.QueuedAt, &cancelled, &checkedIn,
			&r.Event.ID, &r.Event.Slug, &r.Event.Title, &r.Event.StartsAt, &r.Event.EndsAt, &r.Event.Organiser); err != nil {
			rows.Close()
			return out, fmt.Errorf("registration: export: %w", err)
		}
		r.IntroConsent = consent != 0
		r.CreatedAt, r.UpdatedAt, r.QueuedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC(), r.QueuedAt.UTC()
		r.Event.StartsAt, r.Event.EndsAt = r.Event.StartsAt.UTC(), r.Event.EndsAt.UTC()
		r.CancelledAt, r.CheckedInAt = exportTime(cancelled), exportTime(checkedIn)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("registration: export: %w", err)
	}
	for i := range out {
		r := &out[i]
		if r.Status == StatusWaiting {
			reg := Registration{ID: r.ID, EventID: r.Event.ID, Status: r.Status, QueuedAt: r.QueuedAt}
			if r.Position, err = Position(ctx, q, reg); err != nil {
				return out, err
			}
		}
		consents, err := FindConsents(ctx, q, r.ID)
		if err != nil {
			return out, err
		}
		r.Consents = make([]ExportConsent, len(consents))
		for j, c := range consents {
			r.Consents[j] = ExportConsent{Kind: c.Kind, Granted: c.Granted, WordingVersion: c.WordingVersion,
				Wording: c.Wording, Language: c.Lang, RecordedAt: c.RecordedAt.UTC()}
		}
	}
	return out, nil
}

// FeedSince is when the address's personal calendar feed was made, nil
// when it has none.
func FeedSince(ctx context.Context, q RowQuerier, emailNorm string) (*time.Time, error) {
	var feed sql.NullTime
	err := q.QueryRowContext(ctx, `SELECT created_at FROM personal_feeds WHERE email_norm = ?`, emailNorm).Scan(&feed)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("registration: export feed: %w", err)
	}
	return exportTime(feed), nil
}

// Erasable are the registrations an erasure takes, with the organiser and
// the slug of each of their events.
type Erasable struct {
	Registrations []Registration
	Organiser     map[int64]int64  // event id -> organiser id
	slug          map[int64]string // event id -> slug
}

// EventPaths are the event pages the registrations' emails link to.
func (e Erasable) EventPaths() []string {
	var out []string
	for _, slug := range e.slug {
		out = append(out, "/events/"+slug)
	}
	slices.Sort(out)
	return out
}

// FindErasable finds the registrations of the address norm that an
// erasure takes: all of them, or those for events of organiserID when it
// is not 0. None is ErrNotFound.
func FindErasable(ctx context.Context, q Querier, norm string, organiserID int64) (Erasable, error) {
	out := Erasable{Organiser: map[int64]int64{}, slug: map[int64]string{}}
	all, err := FindRegistrations(ctx, q, Filter{EmailNorm: norm})
	if err != nil {
		return out, err
	}
	for _, r := range all {
		if _, ok := out.Organiser[r.EventID]; !ok {
			var org int64
			var slug string
			if err := q.QueryRowContext(ctx, `SELECT organiser_id, slug FROM events WHERE id = ?`, r.EventID).Scan(&org, &slug); err != nil {
				return out, fmt.Errorf("registration: erase: event of %d: %w", r.ID, err)
			}
			out.Organiser[r.EventID], out.slug[r.EventID] = org, slug
		}
		if organiserID == 0 || out.Organiser[r.EventID] == organiserID {
			out.Registrations = append(out.Registrations, r)
		}
	}
	for id := range out.slug {
		if !slices.ContainsFunc(out.Registrations, func(r Registration) bool { return r.EventID == id }) {
			delete(out.slug, id)
		}
	}
	if len(out.Registrations) == 0 {
		return out, ErrNotFound
	}
	return out, nil
}

func appendDistinct(list []string, v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return list
	}
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// GiveUpPlaces cancels the live registrations among regs whose event has
// not started (a person who erases their data is not coming), and gives
// freed places to the waiting list, in the caller's transaction.
func (s *Service) GiveUpPlaces(ctx context.Context, tx *sql.Tx, now time.Time, regs []Registration) (givenUp, promoted int, err error) {
	freed := map[int64]bool{}
	var order []int64
	for _, r := range regs {
		if r.Cancelled() {
			continue
		}
		ev, err := lockEvent(ctx, tx, r.EventID)
		if err != nil {
			return 0, 0, err
		}
		// as it is now that the event is locked (another instance may
		// have changed it since it was read)
		if r, err = findRegistration(ctx, tx, r.ID); err != nil {
			return 0, 0, err
		}
		if ev.Started(now) || r.Cancelled() {
			continue
		}
		if err := setStatus(ctx, tx, now, r.ID, r.Status, StatusCancelled); err != nil {
			return 0, 0, err
		}
		givenUp++
		if r.Confirmed() && !freed[r.EventID] {
			freed[r.EventID] = true
			order = append(order, r.EventID)
		}
	}
	for _, id := range order {
		p, err := s.PromoteWaiting(ctx, tx, now, id)
		if err != nil {
			return 0, 0, err
		}
		promoted += len(p)
	}
	return givenUp, promoted, nil
}

// Forget removes the personal data of the registrations ids and their
// manage links, keeping what organisers' figures need (status, level,
// sector, attendance, times): name ErasedName, address ErasedEmail(id),
// organisation, role, region, phone, needs and topics emptied, the
// check-in code gone, anonymised_at set. Consent records stay (wording,
// version, time, answer: none of it personal once the registration is
// anonymised). Erasure and retention both use it; the links and draft
// introductions of other packages are theirs to forget.
func Forget(ctx context.Context, tx *sql.Tx, now time.Time, ids []int64) error {
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `DELETE FROM manage_tokens WHERE registration_id = ?`, id); err != nil {
			return fmt.Errorf("registration: forget %d: %w", id, err)
		}
		placeholder := ErasedEmail(id)
		if _, err := tx.ExecContext(ctx, `UPDATE registrations SET name = ?, email = ?, email_norm = ?,
			organisation = '', role = '', region = '', phone = '', dietary = '', accessibility = '', topics = '',
			health_consent = 0, checkin_code = NULL, anonymised_at = ?, updated_at = ? WHERE id = ?`,
			ErasedName, placeholder, placeholder, now, now, id); err != nil {
			return fmt.Errorf("registration: forget %d: %w", id, err)
		}
	}
	return nil
}

// ErasureItem is one registration an erasure will remove, as the
// confirmation page lists it.
type ErasureItem struct {
	Title    string
	StartsAt time.Time
	Status   string
	// GivesUp is true for a place or a waiting-list entry for an event
	// that has not started: it goes to the next in line.
	GivesUp bool
}

// ErasurePreview lists what Erase would remove for the address.
func (s *Service) ErasurePreview(ctx context.Context, emailNorm string) ([]ErasureItem, error) {
	now := s.DB.Now().UTC()
	rows, err := s.DB.Read().QueryContext(ctx, `SELECT e.title, e.starts_at, r.status FROM registrations r
		JOIN events e ON e.id = r.event_id WHERE r.email_norm = ? ORDER BY e.starts_at, r.id`, emailNorm)
	if err != nil {
		return nil, fmt.Errorf("registration: erasure preview: %w", err)
	}
	defer rows.Close()
	var out []ErasureItem
	for rows.Next() {
		var it ErasureItem
		if err := rows.Scan(&it.Title, &it.StartsAt, &it.Status); err != nil {
			return nil, fmt.Errorf("registration: erasure preview: %w", err)
		}
		it.StartsAt = it.StartsAt.UTC()
		it.GivesUp = it.Status != StatusCancelled && it.StartsAt.After(now)
		out = append(out, it)
	}
	return out, rows.Err()
}

// EventDue is an event whose registrations retention will act on.
type EventDue struct {
	ID, OrganiserID int64
}

// EventsWithPersonalData lists the events that ended before cutoff and
// still have registrations with personal data.
func EventsWithPersonalData(ctx context.Context, q Querier, cutoff time.Time) ([]EventDue, error) {
	rows, err := q.QueryContext(ctx, `SELECT e.id, e.organiser_id FROM events e WHERE e.ends_at < ?
		AND EXISTS (SELECT 1 FROM registrations r WHERE r.event_id = e.id AND r.anonymised_at IS NULL)
		ORDER BY e.ends_at, e.id`, cutoff)
	if err != nil {
		return nil, fmt.Errorf("registration: retention: %w", err)
	}
	defer rows.Close()
	var out []EventDue
	for rows.Next() {
		var e EventDue
		if err := rows.Scan(&e.ID, &e.OrganiserID); err != nil {
			return nil, fmt.Errorf("registration: retention: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// WithPersonalData are the registrations of an event that still hold
// personal data, and their addresses.
func WithPersonalData(ctx context.Context, tx *sql.Tx, eventID int64) ([]int64, []string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, email_norm FROM registrations WHERE event_id = ? AND anonymised_at IS NULL ORDER BY id`, eventID)
	if err != nil {
		return nil, nil, fmt.Errorf("registration: retention of %d: %w", eventID, err)
	}
	defer rows.Close()
	var ids []int64
	var addresses []string
	for rows.Next() {
		var id int64
		var norm string
		if err := rows.Scan(&id, &norm); err != nil {
			return nil, nil, fmt.Errorf("registration: retention of %d: %w", eventID, err)
		}
		ids = append(ids, id)
		addresses = appendDistinct(addresses, norm)
	}
	return ids, addresses, rows.Err()
}

// DeleteOrphanFeeds deletes the personal calendar feeds of the addresses
// that have no registration left.
func DeleteOrphanFeeds(ctx context.Context, tx *sql.Tx, addresses []string) error {
	for _, a := range addresses {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM registrations WHERE email_norm = ?`, a).Scan(&n); err != nil {
			return fmt.Errorf("registration: retention: %w", err)
		}
		if n == 0 {
			if err := DeletePersonalFeed(ctx, tx, a); err != nil {
				return err
			}
		}
	}
	return nil
}

// EventsWithNeeds lists the events that ended before cutoff whose
// registrations still hold dietary or accessibility needs.
func EventsWithNeeds(ctx context.Context, q Querier, cutoff time.Time) ([]EventDue, error) {
	rows, err := q.QueryContext(ctx, `SELECT e.id, e.organiser_id FROM events e WHERE e.ends_at < ?
		AND EXISTS (SELECT 1 FROM registrations r WHERE r.event_id = e.id AND (r.dietary <> '' OR r.accessibility <> ''))
		ORDER BY e.ends_at, e.id`, cutoff.UTC())
	if err != nil {
		return nil, fmt.Errorf("registration: retention of needs: %w", err)
	}
	defer rows.Close()
	var out []EventDue
	for rows.Next() {
		var e EventDue
		if err := rows.Scan(&e.ID, &e.OrganiserID); err != nil {
			return nil, fmt.Errorf("registration: retention of needs: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ForgetNeeds removes the dietary and accessibility needs (health data) of
// an event's registrations, and their consent's current answer, and says
// how many registrations had some.
func ForgetNeeds(ctx context.Context, tx *sql.Tx, now time.Time, eventID int64) (int, error) {
	res, err := tx.ExecContext(ctx, `UPDATE registrations SET dietary = '', accessibility = '', health_consent = 0,
		needs_removed_at = ?, updated_at = ? WHERE event_id = ? AND (dietary <> '' OR accessibility <> '')`, now, now, eventID)
	if err != nil {
		return 0, fmt.Errorf("registration: forget the needs at %d: %w", eventID, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
