package mailer

import (
	"context"
	"database/sql"
	"fmt"
)

// Queued reports whether a message with this dedupe key is in the outbox
// (in any state), so "send once" callers can skip building it again.
func Queued(ctx context.Context, tx *sql.Tx, dedupeKey string) (bool, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE dedupe_key = ?`, dedupeKey).Scan(&n); err != nil {
		return false, fmt.Errorf("mailer: queued %s: %w", dedupeKey, err)
	}
	return n > 0, nil
}
