package introductions

// What the data rights (privacy/) need of the introductions tables: what a
// person was introduced in, for their download, and forgetting them. The
// tables hold registration ids only; the personal data is in
// registrations (registration's).

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/moteplass/moteplass/events"
)

// Querier is what reads rows: the read pool or a transaction.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ExportIntroduction is an introduction group the person was sent, with
// the others as they were shared (name, organisation, role, topics,
// address) and the person's answer to "did you meet?".
type ExportIntroduction struct {
	Event  events.ExportEvent `json:"event"`
	SentAt time.Time          `json:"sent_at"`
	Others []ExportContact    `json:"others"`
	Met    string             `json:"did_you_meet,omitempty"` // yes, no
}

// ExportContact is what another person agreed to share in an introduction.
type ExportContact struct {
	Name         string `json:"name"`
	Organisation string `json:"organisation"`
	Role         string `json:"role"`
	Topics       string `json:"topics"`
	Email        string `json:"email"`
}

// Export lists the sent introduction groups the address emailNorm was in.
// The others appear with the fields the introduction email shared
// (Contact); someone erased since is left out. The group's stored reason
// is not included: the organiser's version is made from more than was
// shared.
func Export(ctx context.Context, q Querier, emailNorm string) ([]ExportIntroduction, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.id, m.group_id, ro.sent_at,
		CASE WHEN m.met IS NULL THEN '' WHEN m.met = 1 THEN 'yes' ELSE 'no' END,
		e.id, e.slug, e.title, e.starts_at, e.ends_at, o.name
		FROM intro_members m
		JOIN registrations r ON r.id = m.registration_id
		JOIN intro_rounds ro ON ro.id = m.round_id
		JOIN events e ON e.id = ro.event_id
		JOIN organisers o ON o.id = e.organiser_id
		WHERE r.email_norm = ? AND m.kind = 'intro' AND ro.status = 'sent'
		ORDER BY ro.sent_at, m.id`, emailNorm)
	if err != nil {
		return nil, fmt.Errorf("introductions: export: %w", err)
	}
	type membership struct {
		id, group int64
		intro     ExportIntroduction
	}
	var ms []membership
	for rows.Next() {
		var m membership
		var sent sql.NullTime
		ev := &m.intro.Event
		if err := rows.Scan(&m.id, &m.group, &sent, &m.intro.Met, &ev.ID, &ev.Slug, &ev.Title, &ev.StartsAt, &ev.EndsAt, &ev.Organiser); err != nil {
			rows.Close()
			return nil, fmt.Errorf("introductions: export: %w", err)
		}
		if sent.Valid {
			m.intro.SentAt = sent.Time.UTC()
		}
		ev.StartsAt, ev.EndsAt = ev.StartsAt.UTC(), ev.EndsAt.UTC()
		ms = append(ms, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("introductions: export: %w", err)
	}
	out := make([]ExportIntroduction, 0, len(ms))
	for _, m := range ms {
		others, err := q.QueryContext(ctx, `SELECT r.name, r.organisation, r.role, r.topics, r.email
			FROM intro_members m JOIN registrations r ON r.id = m.registration_id
			WHERE m.group_id = ? AND m.id <> ? AND r.anonymised_at IS NULL ORDER BY m.id`, m.group, m.id)
		if err != nil {
			return nil, fmt.Errorf("introductions: export: %w", err)
		}
		m.intro.Others = []ExportContact{}
		for others.Next() {
			var c ExportContact
			if err := others.Scan(&c.Name, &c.Organisation, &c.Role, &c.Topics, &c.Email); err != nil {
				others.Close()
				return nil, fmt.Errorf("introductions: export: %w", err)
			}
			m.intro.Others = append(m.intro.Others, c)
		}
		others.Close()
		if err := others.Err(); err != nil {
			return nil, fmt.Errorf("introductions: export: %w", err)
		}
		out = append(out, m.intro)
	}
	return out, nil
}

// Peers are the addresses (keys) of everyone who shared an introduction
// group, in any round, with one of the registrations ids: their mail may
// name the person.
func Peers(ctx context.Context, q Querier, ids []int64) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ph, args := inList(ids)
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT r.email_norm FROM intro_members me
		JOIN intro_members other ON other.group_id = me.group_id AND other.id <> me.id
		JOIN registrations r ON r.id = other.registration_id
		WHERE me.registration_id IN (`+ph+`) ORDER BY r.email_norm`, args...)
	if err != nil {
		return nil, fmt.Errorf("introductions: peers: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("introductions: peers: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Forget removes the registrations ids from what is still to come: their
// links (stop, "did you meet?") and their places in rounds not yet sent
// (members and left-out rows). In sent rounds the group stays, pointing to
// the anonymised registration, so the organiser's figures hold.
func Forget(ctx context.Context, tx *sql.Tx, ids []int64) error {
	for _, id := range ids {
		for _, q := range []string{
			`DELETE FROM intro_tokens WHERE registration_id = ?`,
			`DELETE FROM intro_members WHERE registration_id = ? AND round_id IN (SELECT id FROM intro_rounds WHERE status = 'draft')`,
			`DELETE FROM intro_left_out WHERE registration_id = ? AND round_id IN (SELECT id FROM intro_rounds WHERE status = 'draft')`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("introductions: forget %d: %w", id, err)
			}
		}
	}
	return nil
}

func inList(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "?" + strings.Repeat(", ?", len(ids)-1), args
}
