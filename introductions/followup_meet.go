package introductions

// "Did you meet?": the reminders MeetAfter after the introductions, and
// the answers from their one-click links.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/db"
)

// QueueMeetReminders asks everyone introduced at least MeetAfter ago
// "did you meet?", once per membership (a dedupe key in the outbox, and the
// round's reminded_at), with one-click links for "yes" and "not yet".
// People who have since withdrawn their consent are not asked.
func (f *Followup) QueueMeetReminders(ctx context.Context) (int, error) {
	// Most hours nothing is due: look first, so the job does not write.
	var due int
	now := f.DB.Now().UTC()
	if err := f.DB.Read().QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM intro_rounds WHERE status = 'sent' AND reminded_at IS NULL AND sent_at <= ?) +
		(SELECT COUNT(*) FROM intro_tokens WHERE expires_at < ?)`, now.Add(-f.MeetAfter), now).Scan(&due); err != nil {
		return 0, fmt.Errorf("introductions: reminders due: %w", err)
	}
	if due == 0 {
		return 0, nil
	}
	queued := 0
	err := f.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		queued = 0
		rows, err := tx.QueryContext(ctx, `SELECT id, event_id FROM intro_rounds
			WHERE status = 'sent' AND reminded_at IS NULL AND sent_at <= ? ORDER BY sent_at, id`, now.Add(-f.MeetAfter))
		if err != nil {
			return fmt.Errorf("introductions: rounds due: %w", err)
		}
		var due [][2]int64
		for rows.Next() {
			var r [2]int64
			if err := rows.Scan(&r[0], &r[1]); err != nil {
				rows.Close()
				return fmt.Errorf("introductions: rounds due: %w", err)
			}
			due = append(due, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("introductions: rounds due: %w", err)
		}
		for _, r := range due {
			n, err := f.remindRound(ctx, tx, now, r[1])
			if err != nil {
				return err
			}
			queued += n
			if _, err := tx.ExecContext(ctx, `UPDATE intro_rounds SET reminded_at = ? WHERE id = ?`, now, r[0]); err != nil {
				return fmt.Errorf("introductions: reminded: %w", err)
			}
		}
		_, err = DeleteExpiredTokens(ctx, tx, now)
		return err
	})
	if err != nil {
		return 0, err
	}
	return queued, nil
}

func (f *Followup) remindRound(ctx context.Context, tx *sql.Tx, now time.Time, eventID int64) (int, error) {
	ev, err := events.LockEvent(ctx, tx, eventID)
	if err != nil {
		return 0, err
	}
	p, err := FindProposal(ctx, tx, eventID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, g := range p.Groups {
		for _, m := range g.Members {
			if !m.Consents || m.Answer != "" {
				continue
			}
			key := fmt.Sprintf("intro-met:%d", m.ID)
			if done, err := queuedAlready(ctx, tx, key); err != nil || done {
				if err != nil {
					return n, err
				}
				continue
			}
			answer, err := createToken(ctx, tx, now, m.RegistrationID, m.ID, purposeMet, f.AnswerLinkLifetime)
			if err != nil {
				return n, err
			}
			stop, err := createToken(ctx, tx, now, m.RegistrationID, 0, purposeStop, f.StopLinkLifetime)
			if err != nil {
				return n, err
			}
			page := f.link("/introductions/met/", answer, m.Lang)
			data := MeetEmail{Name: m.Name, Event: ev, YesURL: page + "&answer=yes", NoURL: page + "&answer=no",
				StopURL: f.link("/introductions/stop/", stop, m.Lang)}
			for _, o := range g.Members {
				if o.ID != m.ID {
					data.Others = append(data.Others, o.Name)
				}
			}
			if err := f.queue(ctx, tx, now, mailMeet, m.Participant, ev, data, key); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// Answer records a member's answer to "did you meet?" from the link in the
// reminder. Answering again changes the answer.
func (f *Followup) Answer(ctx context.Context, raw string, yes bool) error {
	return f.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		t, err := findToken(ctx, tx, now, raw, purposeMet)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE intro_members SET met = ?, answered_at = ? WHERE id = ?`, db.Bool(yes), now, t.MemberID); err != nil {
			return fmt.Errorf("introductions: answer: %w", err)
		}
		return nil
	})
}

// MeetQuestion is what the answer page shows.
type MeetQuestion struct {
	Event  events.Event
	Others []string
	Answer string // "", yes, no
}

// Question reads what a "did you meet?" link is about.
func (f *Followup) Question(ctx context.Context, raw string) (MeetQuestion, error) {
	var q MeetQuestion
	t, err := findToken(ctx, f.DB.Read(), f.DB.Now().UTC(), raw, purposeMet)
	if err != nil {
		return q, err
	}
	var groupID, eventID int64
	err = f.DB.Read().QueryRowContext(ctx, `SELECT m.group_id, ro.event_id,
		CASE WHEN m.met IS NULL THEN '' WHEN m.met = 1 THEN 'yes' ELSE 'no' END
		FROM intro_members m JOIN intro_rounds ro ON ro.id = m.round_id WHERE m.id = ?`, t.MemberID).Scan(&groupID, &eventID, &q.Answer)
	if errors.Is(err, sql.ErrNoRows) {
		return q, ErrNotFound
	}
	if err != nil {
		return q, fmt.Errorf("introductions: question: %w", err)
	}
	store := &events.Store{DB: f.DB}
	if q.Event, err = store.FindEvent(ctx, events.EventFilter{ID: eventID, Statuses: events.Statuses}); err != nil {
		return q, err
	}
	rows, err := f.DB.Read().QueryContext(ctx, `SELECT r.name FROM intro_members m JOIN registrations r ON r.id = m.registration_id
		WHERE m.group_id = ? AND m.id <> ? ORDER BY r.id`, groupID, t.MemberID)
	if err != nil {
		return q, fmt.Errorf("introductions: question: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return q, fmt.Errorf("introductions: question: %w", err)
		}
		q.Others = append(q.Others, name)
	}
	return q, rows.Err()
}
