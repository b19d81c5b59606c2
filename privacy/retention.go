package privacy

// Retention: personal data is kept only as long as it is needed. A job in
// the application (internal/app, daily and at start-up) runs
// Retention.Run:
//
//   - NeedsRetention (30 days) after an event has ended, the dietary and
//     accessibility needs of its registrations are removed: they are
//     health data, kept under a consent of their own that promises it.
//   - Days after an event has ended, its registrations are anonymised as an
//     erasure does (registration.Forget, introductions.Forget): names,
//     addresses and everything typed go; status, level, sector, attendance
//     and times stay, so the organiser's figures do not change. A personal
//     calendar feed goes with the last registration of its address.
//   - Sent mail is deleted from the outbox after SentMail (30 days), and
//     failed mail queued that long ago (mailer.PruneSent).
//   - Manage links that expired more than TokenGrace ago are deleted (until
//     then their page says "expired" rather than "unknown"), and so are
//     expired introduction links.
//
// Then the write-ahead log is emptied (db.EraseTraces), as after an erasure.

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/introductions"
	"github.com/moteplass/moteplass/mailer"
	"github.com/moteplass/moteplass/organisers"
	"github.com/moteplass/moteplass/registration"
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
	DB *db.DB
	// Days after an event ends that its registrations are anonymised.
	Days int
	// SentMail is how long sent mail stays in the outbox.
	SentMail time.Duration
	// TokenGrace is how long an expired manage link is kept.
	TokenGrace time.Duration
}

// NewRetention is the policy with days and the default periods.
func NewRetention(d *db.DB, days int) *Retention {
	return &Retention{DB: d, Days: days, SentMail: DefaultSentMailRetention, TokenGrace: DefaultTokenGrace}
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

// Apply removes the needs and anonymises the registrations of every event
// past its limit (one transaction per event, so the single writer is never
// held long), then prunes mail and links.
func (r *Retention) Apply(ctx context.Context) (Retained, error) {
	var out Retained
	if r.Days < 1 {
		return out, fmt.Errorf("privacy: retention of %d days", r.Days)
	}
	var err error
	if out.Needs, err = r.removeNeeds(ctx); err != nil {
		return out, err
	}
	if out.Events, out.Registrations, err = r.anonymise(ctx); err != nil {
		return out, err
	}
	err = r.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		var err error
		if out.Mail, err = mailer.PruneSent(ctx, tx, now.Add(-durationOr(r.SentMail, DefaultSentMailRetention))); err != nil {
			return err
		}
		if out.Links, err = registration.DeleteExpiredTokens(ctx, tx, now.Add(-durationOr(r.TokenGrace, DefaultTokenGrace))); err != nil {
			return err
		}
		n, err := introductions.DeleteExpiredTokens(ctx, tx, now)
		out.Links += n
		return err
	})
	if err != nil {
		return out, err
	}
	if out.Needs > 0 || out.Registrations > 0 || out.Mail > 0 || out.Links > 0 {
		if err := r.DB.EraseTraces(ctx, TablesWithPersonalData...); err != nil {
			return out, err
		}
	}
	return out, nil
}

// removeNeeds removes the needs of the registrations of every event that
// ended more than NeedsRetention ago.
func (r *Retention) removeNeeds(ctx context.Context) (int, error) {
	due, err := registration.EventsWithNeeds(ctx, r.DB.Read(), r.DB.Now().UTC().Add(-NeedsRetention))
	if err != nil {
		return 0, err
	}
	total := 0
	for _, ev := range due {
		err := r.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
			n, err := registration.ForgetNeeds(ctx, tx, now, ev.ID)
			if err != nil {
				return err
			}
			total += n
			return organisers.Audit(ctx, tx, now, nil, ev.OrganiserID, "retention", "event", ev.ID,
				fmt.Sprintf("removed the needs of %d registrations 30 days after the event", n))
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// anonymise forgets the registrations of every event that ended more than
// Days ago.
func (r *Retention) anonymise(ctx context.Context) (eventsDone, regs int, err error) {
	cutoff := r.DB.Now().UTC().AddDate(0, 0, -r.Days)
	due, err := registration.EventsWithPersonalData(ctx, r.DB.Read(), cutoff)
	if err != nil {
		return 0, 0, err
	}
	for _, ev := range due {
		n := 0
		err := r.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
			ids, addresses, err := registration.WithPersonalData(ctx, tx, ev.ID)
			if err != nil || len(ids) == 0 {
				return err
			}
			if err := introductions.Forget(ctx, tx, ids); err != nil {
				return err
			}
			if err := registration.Forget(ctx, tx, now, ids); err != nil {
				return err
			}
			if err := registration.DeleteOrphanFeeds(ctx, tx, addresses); err != nil {
				return err
			}
			n = len(ids)
			return organisers.Audit(ctx, tx, now, nil, ev.OrganiserID, "retention", "event", ev.ID,
				fmt.Sprintf("anonymised %d registrations %d days after the event", n, r.Days))
		})
		if err != nil {
			return eventsDone, regs, err
		}
		if n > 0 {
			eventsDone++
			regs += n
		}
	}
	return eventsDone, regs, nil
}

func durationOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
