package mailer

import (
	"context"
	"database/sql"
	"fmt"
)

// RekeyQueued brings the outbox's address keys (to_address_norm) written
// before ParseAddress defined them, when a key was the address trimmed and
// lower-cased, to Address.Key: an international domain becomes an A-label,
// so a person's data export and erasure find their mail by either
// spelling. Only keys with non-ASCII after the @ can differ; it returns how
// many changed. Run it in the transaction that rekeys the registrations.
func RekeyQueued(ctx context.Context, tx *sql.Tx) (int, error) {
	return Rekey(ctx, tx, "outbox", "id", "to_address_norm")
}

// Rekey does the same for a table of another package that keys people by
// address (registrations, personal feeds): it recomputes keyColumn with
// NormalizeAddress for the rows whose key has non-ASCII after the @. A new
// key that would break a unique index is left as it was (UPDATE OR
// IGNORE): the same person under both spellings. table, idColumn and
// keyColumn are SQL names written in code, never input.
func Rekey(ctx context.Context, tx *sql.Tx, table, idColumn, keyColumn string) (int, error) {
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT %s, %s FROM %s
		WHERE substr(%[2]s, instr(%[2]s, '@') + 1) GLOB '*[^ -~]*'`, idColumn, keyColumn, table))
	if err != nil {
		return 0, fmt.Errorf("mailer: rekey %s: %w", table, err)
	}
	type row struct {
		id  any
		key string
	}
	var stale []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.key); err != nil {
			rows.Close()
			return 0, fmt.Errorf("mailer: rekey %s: %w", table, err)
		}
		if k := NormalizeAddress(r.key); k != r.key {
			stale = append(stale, row{r.id, k})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("mailer: rekey %s: %w", table, err)
	}
	changed := 0
	for _, r := range stale {
		res, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE OR IGNORE %s SET %s = ? WHERE %s = ?`, table, keyColumn, idColumn), r.key, r.id)
		if err != nil {
			return changed, fmt.Errorf("mailer: rekey %s: %w", table, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			changed++
		}
	}
	return changed, nil
}
