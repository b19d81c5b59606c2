package db

// Copy moves a whole database to another, of either engine (moteplass db
// copy): SQLite to PostgreSQL when one machine is no longer enough, and
// back. What it keeps is what the links in emails already sent need: every
// row with its id, and the token hashes byte for byte, so /r/{token},
// /feeds/{token}.ics and the introduction links open the same things on
// the copy.
//
// The copy is plain SQL, table by table: a SELECT of every column on a
// snapshot of the source, an INSERT of the same values on the target, all
// in one transaction of the target, so a failed copy leaves it empty. The
// values go through database/sql as the drivers give them (int64, float64,
// string, []byte, time.Time, nil), which both engines take for the same
// schema: booleans are 0/1 integers on both, timestamps are time.Time
// (TIMESTAMP on SQLite, TIMESTAMPTZ on PostgreSQL), blobs []byte.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// ErrTargetNotEmpty is returned (wrapped) by Copy when the target has data.
var ErrTargetNotEmpty = errors.New("db copy: the target database is not empty")

// ErrCountMismatch is returned (wrapped) by Copy when a table of the copy
// does not have the rows of the source's.
var ErrCountMismatch = errors.New("db copy: row counts differ")

// notCopied are the tables each database keeps of its own: the migrations
// it has (compared before the copy, not copied: the target records its
// own as it is migrated) and the health probe's one row (made by the
// target's migration 011; it holds a time, nothing of the application's).
var notCopied = map[string]bool{"schema_migrations": true, "health_probe": true}

// triggerCounted are the columns triggers keep (008_seat_counts: an event's
// confirmed and waiting registrations). They are not copied: the triggers
// count them again as the registrations are inserted, after their events
// (copying them as well would count every registration twice, and neither
// engine lets a trigger be switched off without more rights than the app's).
// knownTriggers in the tests fails when a new trigger appears, so that it
// is added here if it counts.
var triggerCounted = map[string][]string{"events": {"confirmed_count", "waitlist_count"}}

// TableCount is the number of rows of one table in the source and in the copy.
type TableCount struct {
	Table          string
	Source, Target int64
}

// Counts are a copy's tables, in the order they were copied.
type Counts []TableCount

// Mismatched names the tables whose counts differ.
func (c Counts) Mismatched() []string {
	var out []string
	for _, t := range c {
		if t.Source != t.Target {
			out = append(out, t.Table)
		}
	}
	return out
}

// Rows is the number of rows copied, over all tables.
func (c Counts) Rows() int64 {
	var n int64
	for _, t := range c {
		n += t.Target
	}
	return n
}

// Copy copies every table of from into to, which must be empty and at the
// same migrations (open from with Options.NoMigrate, so the copy never
// changes it, and to with the migrations applied). It writes the counts,
// table by table, to w, and fails with ErrCountMismatch if a table's
// differ. On PostgreSQL the identity sequences are moved past the ids
// copied, so new rows get new ids.
func Copy(ctx context.Context, from, to *DB, w io.Writer) (Counts, error) {
	if err := sameMigrations(ctx, from, to); err != nil {
		return nil, err
	}
	tables, err := copyOrder(ctx, to)
	if err != nil {
		return nil, err
	}
	columns, err := sameColumns(ctx, from, to, tables)
	if err != nil {
		return nil, err
	}
	if err := isEmpty(ctx, to, tables); err != nil {
		return nil, err
	}

	src, err := from.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer src.Rollback()

	counts := make(Counts, len(tables))
	for i, t := range tables {
		counts[i].Table = t
		if counts[i].Source, err = countRows(ctx, src, t); err != nil {
			return nil, fmt.Errorf("db copy: count %s in the source: %w", t, err)
		}
	}
	err = to.Tx(ctx, func(tx *sql.Tx, _ time.Time) error {
		for _, t := range tables {
			if err := copyTable(ctx, src, tx, t, columns[t]); err != nil {
				return err
			}
		}
		if to.dialect == Postgres {
			return resetSequences(ctx, tx, tables)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	for i, t := range counts {
		if counts[i].Target, err = countRows(ctx, to.read, t.Table); err != nil {
			return counts, fmt.Errorf("db copy: count %s in the copy: %w", t.Table, err)
		}
	}
	writeCounts(w, counts)
	if bad := counts.Mismatched(); len(bad) > 0 {
		return counts, fmt.Errorf("%w: %s", ErrCountMismatch, strings.Join(bad, ", "))
	}
	return counts, checkSeatCounts(ctx, src, to.read, w)
}

// querier is a pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// snapshot is a read transaction on one state of the database, so the copy
// is consistent even when the source is still being written to (on SQLite
// a read transaction is a snapshot in WAL mode; PostgreSQL's default, read
// committed, would show each statement the latest commits).
func (d *DB) snapshot(ctx context.Context) (*sql.Tx, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if d.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := d.read.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("db copy: read the source: %w", Classify(err))
	}
	return tx, nil
}

// Migrations are the names of the migrations the database has, in order.
func (d *DB) Migrations(ctx context.Context) ([]string, error) {
	names, err := queryStrings(ctx, d.read, `SELECT name FROM schema_migrations`)
	slices.Sort(names) // in Go: the server's collation may order them otherwise
	return names, err
}

// sameMigrations refuses a copy between databases at different migrations:
// their tables would differ, and a column would be lost or left empty.
func sameMigrations(ctx context.Context, from, to *DB) error {
	src, err := from.Migrations(ctx)
	if err != nil {
		return fmt.Errorf("db copy: the source is not a Møteplass database (no migrations recorded): %w", err)
	}
	dst, err := to.Migrations(ctx)
	if err != nil {
		return fmt.Errorf("db copy: the target's migrations: %w", err)
	}
	if slices.Equal(src, dst) {
		return nil
	}
	missing, extra := difference(dst, src), difference(src, dst)
	switch {
	case len(src) == 0:
		return errors.New("db copy: the source is not a Møteplass database (no migrations recorded)")
	case len(missing) > 0 && len(extra) == 0:
		return fmt.Errorf("db copy: the source is at an older version (it lacks %s): start this version of moteplass on it once, which migrates it, then copy",
			strings.Join(missing, ", "))
	case len(extra) > 0 && len(missing) == 0:
		return fmt.Errorf("db copy: the source was written by a newer moteplass (it has %s): copy with that version",
			strings.Join(extra, ", "))
	}
	return fmt.Errorf("db copy: the databases have different migrations (the source lacks %s and has %s)",
		strings.Join(missing, ", "), strings.Join(extra, ", "))
}

// difference is what of a is not in b.
func difference(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// copyOrder is the tables to copy, each after the tables it refers to, read
// from the database's own schema (its foreign keys) rather than written
// down, so a table a new migration adds is copied without a change here.
func copyOrder(ctx context.Context, d *DB) ([]string, error) {
	all, err := d.tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("db copy: list tables: %w", err)
	}
	var tables []string
	parents := map[string][]string{}
	for _, t := range all {
		if notCopied[t] {
			continue
		}
		tables = append(tables, t)
		if parents[t], err = d.parents(ctx, t); err != nil {
			return nil, fmt.Errorf("db copy: foreign keys of %s: %w", t, err)
		}
	}
	return dependencyOrder(tables, parents)
}

// dependencyOrder sorts tables so that each comes after its parents (the
// tables its foreign keys refer to); among tables free to go, by name, so
// the order is the same every time. A table referring to itself is fine
// (no such table exists yet: its rows would need ordering too).
func dependencyOrder(tables []string, parents map[string][]string) ([]string, error) {
	placed := map[string]bool{}
	rest := slices.Sorted(slices.Values(tables))
	var order []string
	for len(rest) > 0 {
		var next []string
		for _, t := range rest {
			ready := true
			for _, p := range parents[t] {
				if p != t && !placed[p] {
					ready = false
				}
			}
			if ready {
				order = append(order, t)
			} else {
				next = append(next, t)
			}
		}
		if len(next) == len(rest) {
			return nil, fmt.Errorf("db copy: the foreign keys of %s form a cycle", strings.Join(rest, ", "))
		}
		for _, t := range order {
			placed[t] = true
		}
		rest = next
	}
	return order, nil
}

// tables are the database's tables (of the current schema on PostgreSQL),
// sorted in Go: the server's collation may order "_" otherwise.
func (d *DB) tables(ctx context.Context) ([]string, error) {
	q := `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`
	if d.dialect == Postgres {
		q = `SELECT table_name::text FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	names, err := queryStrings(ctx, d.read, q)
	slices.Sort(names)
	return names, err
}

// parents are the tables table's foreign keys refer to.
func (d *DB) parents(ctx context.Context, table string) ([]string, error) {
	if d.dialect == Postgres {
		return queryStrings(ctx, d.read, `SELECT DISTINCT parent.relname::text FROM pg_constraint k
			JOIN pg_class child ON child.oid = k.conrelid
			JOIN pg_class parent ON parent.oid = k.confrelid
			JOIN pg_namespace n ON n.oid = child.relnamespace
			WHERE k.contype = 'f' AND child.relname = ? AND n.nspname = current_schema()
	`, table)
	}
	return queryStrings(ctx, d.read, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, table)
}

// columns are table's columns, in the order of the table.
func (d *DB) columns(ctx context.Context, table string) ([]string, error) {
	if d.dialect == Postgres {
		return queryStrings(ctx, d.read, `SELECT column_name::text FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`, table)
	}
	return queryStrings(ctx, d.read, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
}

// sameColumns is the columns to copy of each table: the target's, less
// those triggers keep, after checking that the source has the same tables
// and columns (the same migrations should make them so; a table or a
// column added by hand would otherwise be lost without a word).
func sameColumns(ctx context.Context, from, to *DB, tables []string) (map[string][]string, error) {
	srcTables, err := from.tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("db copy: list the source's tables: %w", err)
	}
	var srcData []string
	for _, t := range srcTables {
		if !notCopied[t] {
			srcData = append(srcData, t)
		}
	}
	if !slices.Equal(srcData, slices.Sorted(slices.Values(tables))) {
		return nil, fmt.Errorf("db copy: the databases have different tables (source: %s; target: %s)",
			strings.Join(srcData, ", "), strings.Join(slices.Sorted(slices.Values(tables)), ", "))
	}
	out := map[string][]string{}
	for _, t := range tables {
		dst, err := to.columns(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("db copy: columns of %s: %w", t, err)
		}
		src, err := from.columns(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("db copy: columns of %s in the source: %w", t, err)
		}
		if !slices.Equal(slices.Sorted(slices.Values(src)), slices.Sorted(slices.Values(dst))) {
			return nil, fmt.Errorf("db copy: table %s has different columns (source: %s; target: %s)",
				t, strings.Join(src, ", "), strings.Join(dst, ", "))
		}
		out[t] = slices.DeleteFunc(dst, func(c string) bool { return slices.Contains(triggerCounted[t], c) })
	}
	return out, nil
}

// isEmpty refuses a target with rows in any table to be copied: the copy
// keeps the source's ids, which would collide with, or silently mix with,
// what is there.
func isEmpty(ctx context.Context, d *DB, tables []string) error {
	var full []string
	for _, t := range tables {
		n, err := countRows(ctx, d.read, t)
		if err != nil {
			return fmt.Errorf("db copy: count %s in the target: %w", t, err)
		}
		if n > 0 {
			full = append(full, fmt.Sprintf("%s: %d", t, n))
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("%w (rows in %s): copy only into a new, empty database", ErrTargetNotEmpty, strings.Join(full, ", "))
	}
	return nil
}

// copyTable copies the rows of table, the columns named, from src to dst.
// Each row is inserted as it is read, so memory stays flat however large
// the table; the INSERT is prepared once.
func copyTable(ctx context.Context, src, dst *sql.Tx, table string, columns []string) error {
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = quote(c)
	}
	list := strings.Join(names, ", ")
	ins, err := dst.PrepareContext(ctx, `INSERT INTO `+quote(table)+` (`+list+`) VALUES (`+
		strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ")+`)`)
	if err != nil {
		return fmt.Errorf("db copy: prepare %s: %w", table, err)
	}
	defer ins.Close()
	rows, err := src.QueryContext(ctx, `SELECT `+list+` FROM `+quote(table))
	if err != nil {
		return fmt.Errorf("db copy: read %s: %w", table, err)
	}
	defer rows.Close()
	values := make([]any, len(columns))
	ptrs := make([]any, len(columns))
	for i := range values {
		ptrs[i] = &values[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("db copy: read %s: %w", table, err)
		}
		if _, err := ins.ExecContext(ctx, values...); err != nil {
			return fmt.Errorf("db copy: write %s (row %s): %w", table, describeRow(columns, values), err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("db copy: read %s: %w", table, err)
	}
	return nil
}

// describeRow names a row that failed by its first column (its id or
// key), never its other values, which may be a person's data.
func describeRow(columns []string, values []any) string {
	if len(columns) == 0 {
		return "?"
	}
	return fmt.Sprintf("%s %v", columns[0], values[0])
}

// resetSequences moves each identity sequence of the copied tables past
// the largest id copied: the rows came with their ids, which PostgreSQL's
// GENERATED BY DEFAULT takes without moving its sequence, so the next
// sign-up would be given id 1 and collide. (SQLite numbers a new row
// max(id)+1 by itself.)
func resetSequences(ctx context.Context, tx *sql.Tx, tables []string) error {
	rows, err := tx.QueryContext(ctx, `SELECT table_name::text, column_name::text FROM information_schema.columns
		WHERE table_schema = current_schema() AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')
		ORDER BY table_name`)
	if err != nil {
		return fmt.Errorf("db copy: list sequences: %w", err)
	}
	type col struct{ table, column string }
	var cols []col
	for rows.Next() {
		var c col
		if err := rows.Scan(&c.table, &c.column); err != nil {
			rows.Close()
			return fmt.Errorf("db copy: list sequences: %w", err)
		}
		if slices.Contains(tables, c.table) {
			cols = append(cols, c)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("db copy: list sequences: %w", err)
	}
	for _, c := range cols {
		// is_called false: the next value is exactly max+1 (1 for an empty table)
		q := `SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX(` + quote(c.column) + `) FROM ` +
			quote(c.table) + `), 0) + 1, false)`
		if _, err := tx.ExecContext(ctx, q, quote(c.table), c.column); err != nil {
			return fmt.Errorf("db copy: reset the sequence of %s.%s: %w", c.table, c.column, err)
		}
	}
	return nil
}

// seatDrift counts the events whose kept counts (triggerCounted) differ from
// their registrations.
const seatDrift = `SELECT COUNT(*) FROM events e
	WHERE e.confirmed_count <> (SELECT COUNT(*) FROM registrations r WHERE r.event_id = e.id AND r.status = 'confirmed')
	   OR e.waitlist_count <> (SELECT COUNT(*) FROM registrations r WHERE r.event_id = e.id AND r.status = 'waiting')`

// checkSeatCounts verifies that the triggers counted every event's places
// in the copy right, and says so on w. A source whose counts had drifted
// (from before 008, or a bug) is told of: the copy has them recounted.
func checkSeatCounts(ctx context.Context, src *sql.Tx, dst *sql.DB, w io.Writer) error {
	var events, bad, srcBad int64
	if err := dst.QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&events); err != nil {
		return fmt.Errorf("db copy: check seat counts: %w", err)
	}
	if err := dst.QueryRowContext(ctx, seatDrift).Scan(&bad); err != nil {
		return fmt.Errorf("db copy: check seat counts: %w", err)
	}
	if bad > 0 {
		return fmt.Errorf("%w: the seat counts of %d events in the copy differ from their registrations", ErrCountMismatch, bad)
	}
	if err := src.QueryRowContext(ctx, seatDrift).Scan(&srcBad); err != nil {
		return fmt.Errorf("db copy: check seat counts in the source: %w", err)
	}
	fmt.Fprintf(w, "seat counts: all %d events agree with their registrations\n", events)
	if srcBad > 0 {
		fmt.Fprintf(w, "note: in the source, the seat counts of %d events did not; the copy's are recounted\n", srcBad)
	}
	return nil
}

// writeCounts prints the counts as a table: the name, then the rows in
// the source and in the copy.
func writeCounts(w io.Writer, counts Counts) {
	width := len("table")
	var source int64
	for _, c := range counts {
		width = max(width, len(c.Table))
		source += c.Source
	}
	fmt.Fprintf(w, "%-*s %8s %8s\n", width, "table", "source", "copy")
	for _, c := range counts {
		mark := ""
		if c.Source != c.Target {
			mark = "  MISMATCH"
		}
		fmt.Fprintf(w, "%-*s %8d %8d%s\n", width, c.Table, c.Source, c.Target, mark)
	}
	fmt.Fprintf(w, "%-*s %8d %8d\n", width, "all", source, counts.Rows())
}

// countRows counts table's rows; table is a name from the schema.
func countRows(ctx context.Context, q querier, table string) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quote(table)).Scan(&n)
	return n, err
}

// quote makes a name from the schema an SQL identifier ("position" and
// "level" are words of SQL), in the double quotes both engines read.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// queryStrings runs a query of one text column.
func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
