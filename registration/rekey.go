package registration

import (
	"context"
	"database/sql"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/mailer"
)

// Rekey brings the address keys of registrations and personal feeds stored
// before mailer.ParseAddress defined them to today's (NormalizeEmail): the
// key was the address lower-cased, and an international domain stayed as
// typed (ola@bærum.no); now it is an A-label (ola@xn--brum-voa.no).
// Without this, the duplicate rule, the personal feed, the data export and
// the erasure of such a person would miss what was stored under the old
// key. See db.Rekey; it returns how many keys changed.
func Rekey(ctx context.Context, tx *sql.Tx) (int, error) {
	total := 0
	for _, t := range []struct{ table, id string }{{"registrations", "id"}, {"personal_feeds", "email_norm"}} {
		n, err := db.Rekey(ctx, tx, t.table, t.id, "email_norm", mailer.NormalizeAddress)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
