package db_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/pgtest"
)

// TestEraseTracesOnPostgresLeavesNoDeletedRowInTheTableFile: on
// PostgreSQL a deleted row stays in its heap page until the page is
// rewritten; erasure promises the bytes are gone from the database. The
// table's file on disk is read after a checkpoint: without EraseTraces the
// deleted name is still there (so the test can fail), after it it is not.
func TestEraseTracesOnPostgresLeavesNoDeletedRowInTheTableFile(t *testing.T) {
	if !pgtest.Enabled() {
		t.Skip("PostgreSQL only: MOTEPLASS_TEST_DB=postgres")
	}
	for _, erase := range []bool{false, true} {
		ctx := context.Background()
		d, err := db.Open(ctx, pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		if pgtest.DataDir() == "" {
			t.Skip("the server's files are not on this machine (" + pgtest.EnvURL + ")")
		}
		const secret = "kari-nordmann-erased-person"
		write := func(q string, args ...any) {
			t.Helper()
			if err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
				_, err := tx.ExecContext(ctx, q, args...)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		write(`INSERT INTO regions (slug, name) VALUES (?, ?)`, "kept", "Bergen")
		write(`INSERT INTO regions (slug, name) VALUES (?, ?)`, "gone", secret)
		write(`DELETE FROM regions WHERE slug = ?`, "gone")
		if erase {
			if err := d.EraseTraces(ctx, "regions"); err != nil {
				t.Fatal(err)
			}
		}
		var file string
		if err := d.Read().QueryRowContext(ctx, `SELECT pg_relation_filepath('regions')`).Scan(&file); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Read().ExecContext(ctx, `CHECKPOINT`); err != nil { // pages from memory to the file
			t.Fatal(err)
		}
		heap, err := os.ReadFile(filepath.Join(pgtest.DataDir(), file))
		if err != nil {
			t.Fatal(err)
		}
		found := bytes.Contains(heap, []byte(secret))
		switch {
		case erase && found:
			t.Errorf("after EraseTraces the deleted row is still in the table's file %s", file)
		case !erase && !found:
			t.Errorf("without EraseTraces the deleted row should still be in the file (else this test proves nothing)")
		}
		if !bytes.Contains(heap, []byte("Bergen")) {
			t.Errorf("the row kept is not in the table's file (erase %v)", erase)
		}
	}
}

// TestInstancesStartingTogetherOnAnEmptyPostgresMigrateOnce: four
// instances open one empty database at the same moment, as after a
// deployment; each starts, and each migration is recorded once.
func TestInstancesStartingTogetherOnAnEmptyPostgresMigrateOnce(t *testing.T) {
	if !pgtest.Enabled() {
		t.Skip("PostgreSQL only: MOTEPLASS_TEST_DB=postgres")
	}
	ctx := context.Background()
	url := pgtest.URL(t)
	const instances = 4
	errs := make(chan error, instances)
	opened := make(chan *db.DB, instances)
	start := make(chan struct{})
	for range instances {
		go func() {
			<-start
			d, err := db.Open(ctx, url)
			errs <- err
			opened <- d
		}()
	}
	close(start)
	for range instances {
		if err := <-errs; err != nil {
			t.Errorf("an instance did not start: %v", err)
		}
		if d := <-opened; d != nil {
			t.Cleanup(func() { d.Close() })
		}
	}
	d, _ := mustOpen(t) // SQLite: the same migrations, applied once
	var want, got, distinct int
	if err := d.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	pg, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if err := pg.Read().QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT name) FROM schema_migrations`).Scan(&got, &distinct); err != nil {
		t.Fatal(err)
	}
	if got != want || distinct != want {
		t.Errorf("%d migrations recorded (%d distinct), want each of %d once", got, distinct, want)
	}
}
