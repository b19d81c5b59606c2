package mailer

import (
	"context"
	"database/sql"

	"github.com/moteplass/moteplass/internal/db"
)

// Rekey brings the outbox's address keys (to_address_norm) written before
// ParseAddress defined them to Address.Key (see db.Rekey), so a person's
// data export and erasure find their mail by either spelling.
func Rekey(ctx context.Context, tx *sql.Tx) (int, error) {
	return db.Rekey(ctx, tx, "outbox", "id", "to_address_norm", NormalizeAddress)
}
