package app

import (
	"context"
	"database/sql"
	"time"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/mailer"
	"github.com/moteplass/moteplass/organisers"
	"github.com/moteplass/moteplass/registration"
)

// RekeyAddresses brings every address key stored before the one address
// parser (mailer.ParseAddress) to today's, each table by its owner, in one
// transaction: an international domain becomes an A-label, so look-ups by
// either spelling find the person. After the first run it finds nothing to
// do; it runs at start, before serving, and returns how many keys changed.
func RekeyAddresses(ctx context.Context, d *db.DB) (int, error) {
	if d.Dialect() != db.SQLite {
		return 0, nil // see db.Rekey
	}
	total := 0
	err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		total = 0
		for _, rekey := range []func(context.Context, *sql.Tx) (int, error){registration.Rekey, mailer.Rekey, organisers.Rekey} {
			n, err := rekey(ctx, tx)
			total += n
			if err != nil {
				return err
			}
		}
		return nil
	})
	return total, err
}
