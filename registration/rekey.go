package registration

import (
	"context"
	"database/sql"
	"time"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/mailer"
)

// RekeyEmails brings the address keys stored before mailer.ParseAddress
// defined them to today's (NormalizeEmail): the key was the address
// lower-cased, and an international domain stayed as typed (ola@bærum.no);
// now it is an A-label (ola@xn--brum-voa.no). Without this, the duplicate
// rule, the personal feed, the data export and the erasure of such a person
// would miss what was stored under the old key. It looks only at keys with
// non-ASCII after the @, so after the first run it finds nothing to do;
// run it at start, before serving. It returns how many keys changed.
func RekeyEmails(ctx context.Context, d *db.DB) (int, error) {
	total := 0
	err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		total = 0
		for _, t := range []struct{ table, id, key string }{
			{"registrations", "id", "email_norm"},
			{"personal_feeds", "rowid", "email_norm"},
			// organisers' logins compare keys the same way
			{"users", "id", "email"},
		} {
			n, err := mailer.Rekey(ctx, tx, t.table, t.id, t.key)
			if err != nil {
				return err
			}
			total += n
		}
		n, err := mailer.RekeyQueued(ctx, tx)
		total += n
		return err
	})
	return total, err
}
