package mailer

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Stored is an outbox row: the message and what happened to it.
type Stored struct {
	Message
	ID int64
	// MessageID is the Message-ID header, <outbox-...@domain>. Before the
	// first attempt it holds only the random local part (see Enqueue).
	MessageID     string
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	// LastError is what the mail server answered, a network error, or
	// HeldReason.
	LastError string
	CreatedAt time.Time
	SentAt    time.Time // zero until sent
}

// queryer is what the finders need: *sql.DB and *sql.Tx both have it.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const storedColumns = `id, kind, to_address, to_name, reply_to, subject, text_body, html_body,
	calendar, calendar_method, qr_code, message_id, dedupe_key, delete_when_sent, status, attempts,
	next_attempt_at, last_error, created_at, sent_at`

// messagesQuery is the SELECT of findMessages. where and tail are SQL
// written in this package, never user input.
func messagesQuery(where, tail string) string {
	return `SELECT ` + storedColumns + ` FROM outbox WHERE ` + where + ` ` + tail
}

// findMessages serves List, Get and the worker's claim.
func findMessages(ctx context.Context, q queryer, where, tail string, args ...any) ([]Stored, error) {
	rows, err := q.QueryContext(ctx, messagesQuery(where, tail), args...)
	if err != nil {
		return nil, fmt.Errorf("mailer: find messages: %w", err)
	}
	defer rows.Close()
	var out []Stored
	for rows.Next() {
		var (
			s        Stored
			calendar string
			dedupe   sql.NullString
			sentAt   sql.NullTime
		)
		if err := rows.Scan(&s.ID, &s.Kind, &s.To, &s.ToName, &s.ReplyTo, &s.Subject, &s.TextBody, &s.HTMLBody,
			&calendar, &s.CalendarMethod, &s.QRCode, &s.MessageID, &dedupe, &s.DeleteWhenSent, &s.Status, &s.Attempts,
			&s.NextAttemptAt, &s.LastError, &s.CreatedAt, &sentAt); err != nil {
			return nil, fmt.Errorf("mailer: scan message: %w", err)
		}
		if calendar != "" {
			s.Calendar = []byte(calendar)
		}
		s.DedupeKey = dedupe.String
		s.SentAt = sentAt.Time
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mailer: find messages: %w", err)
	}
	return out, nil
}

// List returns messages newest first, for the development mailbox.
func List(ctx context.Context, r *sql.DB, limit, offset int) ([]Stored, error) {
	if limit <= 0 {
		limit = 50
	}
	return findMessages(ctx, r, `1 = 1`, `ORDER BY id DESC LIMIT ? OFFSET ?`, limit, max(offset, 0))
}

// Get returns one message, or ErrNotFound.
func Get(ctx context.Context, r *sql.DB, id int64) (Stored, error) {
	found, err := findMessages(ctx, r, `id = ?`, ``, id)
	if err != nil {
		return Stored{}, err
	}
	if len(found) == 0 {
		return Stored{}, ErrNotFound
	}
	return found[0], nil
}

// Raw returns the message as the worker would send it with cfg, headers and
// all (RFC 5322), for the development mailbox's "view as it arrives". Only
// the multipart boundaries differ from send to send.
func Raw(ctx context.Context, r *sql.DB, cfg Config, id int64) ([]byte, error) {
	s, err := Get(ctx, r, id)
	if err != nil {
		return nil, err
	}
	// as a relay with SMTPUTF8 would get it: the development mailbox
	// (no relay) shows every message
	m, err := compose(s, cfg, true)
	if err != nil {
		return nil, fmt.Errorf("mailer: compose message %d: %w", id, err)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("mailer: write message %d: %w", id, err)
	}
	return buf.Bytes(), nil
}

// Summary is what a data export shows of one email sent to a person.
type Summary struct {
	ID        int64
	Kind      string
	Subject   string
	Status    string
	CreatedAt time.Time
	SentAt    time.Time // zero if not sent
}

// ForAddress lists the mail to one address, oldest first, for a person's
// data export. emailNorm is compared after NormalizeAddress.
func ForAddress(ctx context.Context, r *sql.DB, emailNorm string) ([]Summary, error) {
	rows, err := r.QueryContext(ctx, `SELECT id, kind, subject, status, created_at, sent_at
		FROM outbox WHERE to_address_norm = ? ORDER BY id`, NormalizeAddress(emailNorm))
	if err != nil {
		return nil, fmt.Errorf("mailer: mail for address: %w", err)
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var (
			s      Summary
			sentAt sql.NullTime
		)
		if err := rows.Scan(&s.ID, &s.Kind, &s.Subject, &s.Status, &s.CreatedAt, &sentAt); err != nil {
			return nil, fmt.Errorf("mailer: scan mail for address: %w", err)
		}
		s.SentAt = sentAt.Time
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mailer: mail for address: %w", err)
	}
	return out, nil
}

// PruneSent deletes mail sent before olderThan, and failed mail queued
// before it: neither will be sent again, and both hold personal data. Run it
// daily with now minus 30 days. It returns the number of messages deleted.
func PruneSent(ctx context.Context, tx *sql.Tx, olderThan time.Time) (int64, error) {
	olderThan = olderThan.UTC()
	res, err := tx.ExecContext(ctx, `DELETE FROM outbox
		WHERE (status = 'sent' AND sent_at < ?) OR (status = 'failed' AND created_at < ?)`,
		olderThan, olderThan)
	if err != nil {
		return 0, fmt.Errorf("mailer: prune sent mail: %w", err)
	}
	return res.RowsAffected()
}

// QueueDepth is the number of messages waiting to be sent (queued or being
// sent). Held messages are not counted: nothing will send them until a mail
// server is configured.
func QueueDepth(ctx context.Context, r *sql.DB) (int, error) {
	var n int
	err := r.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'sending')`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("mailer: queue depth: %w", err)
	}
	return n, nil
}
