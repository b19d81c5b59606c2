package registration

// Retention: personal data is kept only as long as it is needed. A job in
// the application (internal/app, daily and at start-up) runs
// Retention.Run:
//
//   - NeedsRetention (30 days) after an event has ended, the dietary and
//     accessibility needs of its registrations are removed: they are
//     health data, kept under a consent of their own that promises it.
//   - Days after an event has ended, its registrations are anonymised as an
//     erasure does (forgetRegistrations): names, addresses and everything
//     typed go; status, level, sector, attendance and times stay, so the
//     organiser's figures do not change. A personal calendar feed goes
//     with the last registration of its address.
//   - Sent mail is deleted from the outbox after SentMail (30 days), and
//     failed mail queued that long ago (mailer.PruneSent).
//   - Manage links that expired more than TokenGrace ago are deleted (until
//     then their page says "expired" rather than "unknown"), and so are
//     expired introduction links (DeleteExpiredLinks).
//
// Then the write-ahead log is emptied (db.EraseTraces), as after an erasure.

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/moteplass/moteplass/mailer"
	"github.com/moteplass/moteplass/organisers"
)

// NeedsRetention is how long after an event dietary and accessibility
// needs are kept. The consent wording (consent.health-v1) promises it, so
// it is not a setting: a new period needs a new wording.
const NeedsRetention = 30 * 24 * time.Hour

// Defaults of Retention.
const (
	DefaultSentMailRetention = 30 * 24 * time.Hour
	DefaultTokenGrace        = 30 * 24 * time.Hour
)

// Retention is the policy and the job that applies it.
type Retention struct {
	Service *Service
	// Days after an event ends that its registrations are anonymised.
	Days int
	// SentMail is how long sent mail stays in the outbox.
	SentMail time.Duration
	// TokenGrace is how long an expired manage link is kept.
	TokenGrace time.Duration
	// DeleteExpiredLinks deletes other packages' expired links in the same
	// transaction (introductions.DeleteExpiredTokens); nil for none.
	DeleteExpiredLinks func(ctx context.Context, tx *sql.Tx, before time.Time) (int64, error)
}

// NewRetention is the policy with days and the default periods.
func NewRetention(s *Service, days int) *Retention {
	return &Retention{Service: s, Days: days, SentMail: DefaultSentMailRetention, TokenGrace: DefaultTokenGrace}
}

// Retained is what one run removed.
type Retained struct {
	Needs         int   // registrations whose needs were removed
	Events        int   // events whose registrations were anonymised
	Registrations int   // registrations anonymised
	Mail          int64 // outbox messages pruned
	Links         int64 // expired links deleted
}

// Run applies the policy once; it is the job's function.
func (r *Retention) Run(ctx context.Context) error {
	_, err := r.Apply(ctx)
	return err
}

// Apply anonymises the registrations of every event that ended more than
// Days ago (one transaction per event, so the single writer is never held
// long), then prunes mail and links.
func (r *Retention) Apply(ctx context.Context) (Retained, error) {
	var out Retained
	if r.Days < 1 {
		return out, fmt.Errorf("registration: retention of %d days", r.Days)
	}
	s := r.Service
	var err error
	if out.Needs, err = r.removeNeeds(ctx); err != nil {
		return out, err
	}
	cutoff := s.DB.Now().UTC().AddDate(0, 0, -r.Days)
	due, err := eventsPastRetention(ctx, s.DB.Read(), cutoff)
	if err != nil {
		return out, err
	}
	for _, ev := range due {
		n := 0
		err := s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
			ids, addresses, err := idsWithPersonalData(ctx, tx, ev.id)
			if err != nil || len(ids) == 0 {
				return err
			}
			if err := forgetRegistrations(ctx, tx, now, ids); err != nil {
				return err
			}
			if err := deleteOrphanFeeds(ctx, tx, addresses); err != nil {
				return err
			}
			n = len(ids)
			return organisers.Audit(ctx, tx, now, nil, ev.organiserID, "retention", "event", ev.id,
				fmt.Sprintf("anonymised %d registrations %d days after the event", n, r.Days))
		})
		if err != nil {
			return out, err
		}
		if n > 0 {
			out.Events++
			out.Registrations += n
		}
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		var err error
		if out.Mail, err = mailer.PruneSent(ctx, tx, now.Add(-durationOr(r.SentMail, DefaultSentMailRetention))); err != nil {
			return err
		}
		if out.Links, err = DeleteExpiredTokens(ctx, tx, now.Add(-durationOr(r.TokenGrace, DefaultTokenGrace))); err != nil {
			return err
		}
		if r.DeleteExpiredLinks != nil {
			n, err := r.DeleteExpiredLinks(ctx, tx, now)
			if err != nil {
				return err
			}
			out.Links += n
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	if out.Needs > 0 || out.Registrations > 0 || out.Mail > 0 || out.Links > 0 {
		if err := s.DB.EraseTraces(ctx); err != nil {
			return out, err
		}
	}
	return out, nil
}

// removeNeeds removes the needs of the registrations of every event that
// ended more than NeedsRetention ago, one transaction per event.
func (r *Retention) removeNeeds(ctx context.Context) (int, error) {
	s := r.Service
	rows, err := s.DB.Read().QueryContext(ctx, `SELECT e.id, e.organiser_id FROM events e WHERE e.ends_at < ?
		AND EXISTS (SELECT 1 FROM registrations r WHERE r.event_id = e.id AND (r.dietary <> '' OR r.accessibility <> ''))
		ORDER BY e.ends_at, e.id`, s.DB.Now().UTC().Add(-NeedsRetention))
	if err != nil {
		return 0, fmt.Errorf("registration: retention of needs: %w", err)
	}
	var due []retentionEvent
	for rows.Next() {
		var e retentionEvent
		if err := rows.Scan(&e.id, &e.organiserID); err != nil {
			rows.Close()
			return 0, fmt.Errorf("registration: retention of needs: %w", err)
		}
		due = append(due, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("registration: retention of needs: %w", err)
	}
	total := 0
	for _, ev := range due {
		err := s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
			res, err := tx.ExecContext(ctx, `UPDATE registrations SET dietary = '', accessibility = '', health_consent = 0,
				needs_removed_at = ?, updated_at = ? WHERE event_id = ? AND (dietary <> '' OR accessibility <> '')`, now, now, ev.id)
			if err != nil {
				return fmt.Errorf("registration: retention of needs at %d: %w", ev.id, err)
			}
			n, _ := res.RowsAffected()
			total += int(n)
			return organisers.Audit(ctx, tx, now, nil, ev.organiserID, "retention", "event", ev.id,
				fmt.Sprintf("removed the needs of %d registrations 30 days after the event", n))
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func durationOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

type retentionEvent struct {
	id, organiserID int64
}

// eventsPastRetention lists the events that ended before cutoff and still
// have registrations with personal data.
func eventsPastRetention(ctx context.Context, q Querier, cutoff time.Time) ([]retentionEvent, error) {
	rows, err := q.QueryContext(ctx, `SELECT e.id, e.organiser_id FROM events e WHERE e.ends_at < ?
		AND EXISTS (SELECT 1 FROM registrations r WHERE r.event_id = e.id AND r.anonymised_at IS NULL)
		ORDER BY e.ends_at, e.id`, cutoff)
	if err != nil {
		return nil, fmt.Errorf("registration: retention: %w", err)
	}
	defer rows.Close()
	var out []retentionEvent
	for rows.Next() {
		var e retentionEvent
		if err := rows.Scan(&e.id, &e.organiserID); err != nil {
			return nil, fmt.Errorf("registration: retention: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// idsWithPersonalData are the registrations of an event that still hold
// personal data, and their addresses.
func idsWithPersonalData(ctx context.Context, tx *sql.Tx, eventID int64) ([]int64, []string, error) {
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

// deleteOrphanFeeds deletes the personal calendar feeds of the addresses
// that have no registration left.
func deleteOrphanFeeds(ctx context.Context, tx *sql.Tx, addresses []string) error {
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
