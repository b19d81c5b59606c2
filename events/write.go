package events

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/moteplass/moteplass/internal/db"
)

// CreateRegion inserts a region and sets its ID.
func CreateRegion(ctx context.Context, tx *sql.Tx, r *Region, order int) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO regions (slug, name, sort_order) VALUES (?, ?, ?) RETURNING id`, r.Slug, r.Name, order).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("events: create region %s: %w", r.Slug, err)
	}
	return nil
}

// CreateOrganiser inserts an organiser and sets its ID.
func CreateOrganiser(ctx context.Context, tx *sql.Tx, o *Organiser) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO organisers (slug, name, kind, contact_email, website) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		o.Slug, o.Name, o.Kind, o.ContactEmail, o.Website).Scan(&o.ID)
	if err != nil {
		return fmt.Errorf("events: create organiser %s: %w", o.Slug, err)
	}
	return nil
}

// CreateVenue inserts a venue and sets its ID.
func CreateVenue(ctx context.Context, tx *sql.Tx, v *Venue) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO venues (name, street, postcode, city, latitude, longitude, accessibility) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		v.Name, v.Street, v.Postcode, v.City, v.Latitude, v.Longitude, v.Accessibility).Scan(&v.ID)
	if err != nil {
		return fmt.Errorf("events: create venue: %w", err)
	}
	return nil
}

// CreateSeries inserts a network series and sets its ID.
func CreateSeries(ctx context.Context, tx *sql.Tx, s *Series) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO series (slug, title, description, organiser_id) VALUES (?, ?, ?, ?) RETURNING id`,
		s.Slug, s.Title, s.Description, s.OrganiserID).Scan(&s.ID)
	if err != nil {
		return fmt.Errorf("events: create series %s: %w", s.Slug, err)
	}
	return nil
}

// CreateEvent inserts an event with its target groups and agenda, and sets
// its ID. e.Region.ID and e.Organiser.ID must be set.
func CreateEvent(ctx context.Context, tx *sql.Tx, now time.Time, e *Event) error {
	var venueID, seriesID any
	if e.Venue != nil {
		venueID = e.Venue.ID
	}
	if e.Series != nil {
		seriesID = e.Series.ID
	}
	e.CreatedAt, e.UpdatedAt = now, now
	err := tx.QueryRowContext(ctx, `INSERT INTO events (slug, title, summary, description, format, mode,
		starts_at, ends_at, region_id, venue_id, online_url, capacity, registration_opens_at, registration_closes_at,
		price_nok, sector, invitation_only, invite_code, facilitation, theme, language, status, organiser_id,
		series_id, host, sequence, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.Slug, e.Title, e.Summary, e.Description, e.Format, e.Mode,
		e.StartsAt.UTC(), e.EndsAt.UTC(), e.Region.ID, venueID, e.OnlineURL, e.Capacity,
		db.NullTime(e.RegistrationOpensAt), db.NullTime(e.RegistrationClosesAt),
		e.PriceNOK, e.Sector, db.Bool(e.InvitationOnly), e.InviteCode, e.Facilitation, e.Theme, e.Language, e.Status,
		e.Organiser.ID, seriesID, e.Host, e.Sequence, now, now).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("events: create event %s: %w", e.Slug, err)
	}
	return replaceDetails(ctx, tx, e)
}

// replaceDetails writes the target levels, roles and agenda of e anew.
func replaceDetails(ctx context.Context, tx *sql.Tx, e *Event) error {
	for _, q := range []string{
		`DELETE FROM event_levels WHERE event_id = ?`,
		`DELETE FROM event_roles WHERE event_id = ?`,
		`DELETE FROM agenda_items WHERE event_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, e.ID); err != nil {
			return fmt.Errorf("events: clear details of %d: %w", e.ID, err)
		}
	}
	for _, l := range e.Levels {
		if _, err := tx.ExecContext(ctx, `INSERT INTO event_levels (event_id, level) VALUES (?, ?)`, e.ID, l); err != nil {
			return fmt.Errorf("events: level %s: %w", l, err)
		}
	}
	for _, r := range e.Roles {
		if _, err := tx.ExecContext(ctx, `INSERT INTO event_roles (event_id, role) VALUES (?, ?)`, e.ID, r); err != nil {
			return fmt.Errorf("events: role %s: %w", r, err)
		}
	}
	for i, it := range e.Agenda {
		if _, err := tx.ExecContext(ctx, `INSERT INTO agenda_items (event_id, position, starts_at, title, introducer) VALUES (?, ?, ?, ?, ?)`,
			e.ID, i+1, db.NullTime(it.StartsAt), it.Title, it.Introducer); err != nil {
			return fmt.Errorf("events: agenda item: %w", err)
		}
	}
	return nil
}

// SetCapacity sets an event's number of seats (ErrNotFound for no such
// event). Who gets the seats freed is the registrations' business: call
// it in their transaction.
func SetCapacity(ctx context.Context, tx *sql.Tx, now time.Time, id int64, capacity int) error {
	res, err := tx.ExecContext(ctx, `UPDATE events SET capacity = ?, updated_at = ? WHERE id = ?`, capacity, now, id)
	if err != nil {
		return fmt.Errorf("events: capacity of %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return ErrNotFound
	}
	return nil
}

// UpdateEvent writes every column of e (found by e.ID) and its target groups
// and agenda anew. e.Region.ID and e.Organiser.ID must be set; a venue must
// already exist (CreateVenue first for a new one).
func UpdateEvent(ctx context.Context, tx *sql.Tx, now time.Time, e *Event) error {
	var venueID, seriesID any
	if e.Venue != nil {
		venueID = e.Venue.ID
	}
	if e.Series != nil {
		seriesID = e.Series.ID
	}
	e.UpdatedAt = now
	res, err := tx.ExecContext(ctx, `UPDATE events SET slug = ?, title = ?, summary = ?, description = ?, format = ?, mode = ?,
		starts_at = ?, ends_at = ?, region_id = ?, venue_id = ?, online_url = ?, capacity = ?, registration_opens_at = ?,
		registration_closes_at = ?, price_nok = ?, sector = ?, invitation_only = ?, invite_code = ?, facilitation = ?,
		theme = ?, language = ?, status = ?, organiser_id = ?, series_id = ?, host = ?, sequence = ?, updated_at = ?
		WHERE id = ?`,
		e.Slug, e.Title, e.Summary, e.Description, e.Format, e.Mode,
		e.StartsAt.UTC(), e.EndsAt.UTC(), e.Region.ID, venueID, e.OnlineURL, e.Capacity, db.NullTime(e.RegistrationOpensAt),
		db.NullTime(e.RegistrationClosesAt), e.PriceNOK, e.Sector, db.Bool(e.InvitationOnly), e.InviteCode, e.Facilitation,
		e.Theme, e.Language, e.Status, e.Organiser.ID, seriesID, e.Host, e.Sequence, now, e.ID)
	if err != nil {
		return fmt.Errorf("events: update event %d: %w", e.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("events: update event %d: %w", e.ID, err)
	} else if n == 0 {
		return ErrNotFound
	}
	return replaceDetails(ctx, tx, e)
}

// prepareEvent makes a slug from the title when none was typed and saves a
// new venue, inside the transaction that saves the event.
func prepareEvent(ctx context.Context, tx *sql.Tx, ev *Event) error {
	if ev.Slug == "" {
		slug, err := uniqueSlug(ctx, tx, "events", Slugify(ev.Title), ev.ID)
		if err != nil {
			return err
		}
		ev.Slug = slug
	}
	if ev.Venue != nil && ev.Venue.ID == 0 {
		// venues are shared between events: a changed venue is a new row
		return CreateVenue(ctx, tx, ev.Venue)
	}
	return nil
}
