package db

import (
	"context"
	"database/sql"
	"fmt"
)

// Rekey recomputes keyColumn of table with key for the rows whose key has
// non-ASCII after the @: an address key written before the one address
// parser defined it (an international domain as typed, where the key is
// now its A-label). A new key that would break a unique index is left as
// it was (UPDATE OR IGNORE): the same person under both spellings. Only
// the table's owner calls it, with its own names (SQL names written in
// code, never input). It returns how many keys changed.
//
// Keys this old exist only in SQLite files written by earlier versions
// (the SQL is SQLite's): a PostgreSQL database is made, or copied with
// moteplass db copy, from one that has been through this already.
func Rekey(ctx context.Context, tx *sql.Tx, table, idColumn, keyColumn string, key func(string) string) (int, error) {
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT %s, %s FROM %s
		WHERE substr(%[2]s, instr(%[2]s, '@') + 1) GLOB '*[^ -~]*'`, idColumn, keyColumn, table))
	if err != nil {
		return 0, fmt.Errorf("db: rekey %s: %w", table, err)
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
			return 0, fmt.Errorf("db: rekey %s: %w", table, err)
		}
		if k := key(r.key); k != r.key {
			stale = append(stale, row{r.id, k})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("db: rekey %s: %w", table, err)
	}
	changed := 0
	for _, r := range stale {
		res, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE OR IGNORE %s SET %s = ? WHERE %s = ?`, table, keyColumn, idColumn), r.key, r.id)
		if err != nil {
			return changed, fmt.Errorf("db: rekey %s: %w", table, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			changed++
		}
	}
	return changed, nil
}
