package registration

// What the introductions package needs to change in registrations: the
// "stop future introductions" link in its emails withdraws the consent of
// every registration of one address, with a consent row for each.

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/moteplass/moteplass/internal/db"
)

// WithdrawIntroductions sets intro_consent to 0 on every registration of
// the address emailNorm that still has it, and records the withdrawal in
// consents with the wording the person saw (version and text, in lang).
// It returns the ids of the registrations it changed.
func WithdrawIntroductions(ctx context.Context, tx *sql.Tx, now time.Time, emailNorm, lang, version, wording string) ([]int64, error) {
	if emailNorm == "" {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM registrations WHERE email_norm = ? AND intro_consent = 1 ORDER BY id`, emailNorm)
	if err != nil {
		return nil, fmt.Errorf("registration: withdraw introductions: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("registration: withdraw introductions: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("registration: withdraw introductions: %w", err)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE registrations SET intro_consent = 0, updated_at = ? WHERE id = ?`, now, id); err != nil {
			return nil, fmt.Errorf("registration: withdraw introductions of %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO consents (registration_id, kind, granted, wording_version, wording, lang, recorded_at)
			VALUES (?, 'introductions', ?, ?, ?, ?, ?)`, id, db.Bool(false), version, wording, lang, now); err != nil {
			return nil, fmt.Errorf("registration: consent for %d: %w", id, err)
		}
	}
	return ids, nil
}
