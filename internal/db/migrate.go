package db

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"
)

// Migrations are numbered .sql files, applied in name order, each in its own
// transaction and recorded by name. A shipped migration is never edited:
// changes come as a new file.
//
// One numbered set serves both engines: on PostgreSQL a file's types are
// translated (translateSchema), and where its SQL must differ (a trigger,
// the rebuild of a table) NNN_name.postgres.sql stands in for it. Either
// way the migration is recorded under the plain name, so a database
// copied between the engines knows what it has.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

func (d *DB) migrate(ctx context.Context) error {
	if d.dialect == Postgres {
		// instances that start together migrate one at a time: the second
		// finds every migration recorded. The lock is the session's, on
		// the write pool's one connection, so it is held across the
		// migrations' transactions. It is taken before schema_migrations
		// is made: CREATE TABLE IF NOT EXISTS is no guard against another
		// session making the table at the same moment (the loser fails on
		// a unique index of the catalogue, pg_type_typname_nsp_index).
		if _, err := d.write.ExecContext(ctx, `SELECT pg_advisory_lock(?)`, migrationLock); err != nil {
			return fmt.Errorf("db: wait for other instances' migrations: %w", err)
		}
		defer d.write.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(?)`, migrationLock)
	}
	if _, err := d.write.ExecContext(ctx, translateSchema(d.dialect, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY,
		applied_at TIMESTAMP NOT NULL
	)`)); err != nil {
		return fmt.Errorf("db: create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("db: list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if variant(name) != "" {
			continue // applied in place of its plain file
		}
		if err := d.migrateFile(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// variant is the engine a migration file is a variant for ("" for the
// plain file every engine reads).
func variant(name string) Dialect {
	if strings.HasSuffix(name, ".postgres.sql") {
		return Postgres
	}
	return ""
}

// migrationBody is the SQL of migration name for the database's engine.
func (d *DB) migrationBody(name string) (string, error) {
	if d.dialect == Postgres {
		alt := strings.TrimSuffix(name, ".sql") + ".postgres.sql"
		if body, err := migrationFS.ReadFile(alt); err == nil {
			return string(body), nil
		}
	}
	body, err := migrationFS.ReadFile(name)
	if err != nil {
		return "", err
	}
	return translateSchema(d.dialect, string(body)), nil
}

func (d *DB) migrateFile(ctx context.Context, name string) error {
	return d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
			return fmt.Errorf("db: check migration %s: %w", name, err)
		}
		if n > 0 {
			return nil
		}
		body, err := d.migrationBody(name)
		if err != nil {
			return fmt.Errorf("db: read migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, body); err != nil {
			return fmt.Errorf("db: apply migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, now); err != nil {
			return fmt.Errorf("db: record migration %s: %w", name, err)
		}
		return nil
	})
}
