package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/db"
)

// mustOpen opens a fresh database in t.TempDir() and closes it at the end.
func mustOpen(t testing.TB) (*db.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, path
}

func TestOpenMigrates(t *testing.T) {
	d, path := mustOpen(t)
	ctx := context.Background()
	var n int
	if err := d.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Fatalf("%d migrations recorded", n)
	}
	for _, table := range []string{"regions", "organisers", "venues", "series", "events", "agenda_items", "registrations"} {
		if err := d.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(new(int)); err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	t.Run("opening again applies nothing twice", func(t *testing.T) {
		d2, err := db.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer d2.Close()
		var m int
		if err := d2.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&m); err != nil {
			t.Fatal(err)
		}
		if m != n {
			t.Fatalf("%d migrations after reopening, %d before", m, n)
		}
	})
}

func TestOpenFailsClearly(t *testing.T) {
	// a folder that does not exist
	_, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "missing", "x.db"))
	if err == nil {
		t.Fatal("opened a database in a folder that does not exist")
	}
	// a file that is not a database
	p := filepath.Join(t.TempDir(), "not.db")
	if err := os.WriteFile(p, []byte("this is not a database, but it is long enough to look like a header..........................................."), 0o600); err != nil {
		t.Fatal(err)
	}
	if d, err := db.Open(context.Background(), p); err == nil {
		d.Close()
		t.Fatal("opened a file that is not a database")
	}
}

// TestPragmasOnEveryConnection checks the connection string sets up each
// pooled connection, not only the first.
func TestPragmasOnEveryConnection(t *testing.T) {
	d, _ := mustOpen(t)
	ctx := context.Background()
	pragma := func(c *sql.Conn, name string) string {
		var v string
		if err := c.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	// hold several read connections at once so they are distinct
	var conns []*sql.Conn
	for i := 0; i < 4; i++ {
		c, err := d.Read().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		for name, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000", "query_only": "1"} {
			if got := pragma(c, name); got != want {
				t.Errorf("read connection %d: %s = %s, want %s", i, name, got, want)
			}
		}
		c.Close()
	}
	w, err := d.Write().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for name, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000", "query_only": "0", "synchronous": "2",
		"wal_autocheckpoint": "0", "temp_store": "2", "journal_size_limit": "16777216"} {
		if got := pragma(w, name); got != want {
			t.Errorf("write connection: %s = %s, want %s", name, got, want)
		}
	}
}

func TestReadPoolCannotWrite(t *testing.T) {
	d, _ := mustOpen(t)
	if _, err := d.Read().ExecContext(context.Background(), `INSERT INTO regions (slug, name) VALUES ('x', 'X')`); err == nil {
		t.Fatal("the read pool wrote")
	}
}

func insertRegion(ctx context.Context, tx *sql.Tx, slug string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO regions (slug, name) VALUES (?, ?)`, slug, slug)
	return err
}

func countRegions(t testing.TB, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM regions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTx(t *testing.T) {
	ctx := context.Background()

	t.Run("a commit is visible and moves the generation", func(t *testing.T) {
		d, _ := mustOpen(t)
		gen := d.Generation()
		if err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return insertRegion(ctx, tx, "oslo") }); err != nil {
			t.Fatal(err)
		}
		if countRegions(t, d) != 1 {
			t.Fatal("the committed row is not there")
		}
		if d.Generation() == gen {
			t.Fatal("the generation did not move")
		}
	})

	t.Run("an error rolls back and leaves the generation", func(t *testing.T) {
		d, _ := mustOpen(t)
		gen := d.Generation()
		boom := errors.New("boom")
		err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
			if err := insertRegion(ctx, tx, "oslo"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err %v, want boom", err)
		}
		if countRegions(t, d) != 0 {
			t.Fatal("a failed transaction left a row")
		}
		if d.Generation() != gen {
			t.Fatal("a rollback moved the generation")
		}
	})

	t.Run("now is fixed, in UTC, at the start", func(t *testing.T) {
		d, _ := mustOpen(t)
		fixed := time.Date(2027, 1, 7, 9, 0, 0, 123456789, time.FixedZone("CET", 3600))
		d.Now = func() time.Time { return fixed }
		err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
			if now.Location() != time.UTC || !now.Equal(fixed.Truncate(time.Microsecond)) {
				t.Errorf("now = %s", now)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a duplicate is ErrUnique", func(t *testing.T) {
		d, _ := mustOpen(t)
		if err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return insertRegion(ctx, tx, "oslo") }); err != nil {
			t.Fatal(err)
		}
		err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return insertRegion(ctx, tx, "oslo") })
		if !errors.Is(err, db.ErrUnique) {
			t.Fatalf("err %v, want ErrUnique", err)
		}
		if errors.Is(err, db.ErrBusy) {
			t.Fatal("a duplicate is not busy")
		}
	})

	t.Run("foreign keys are enforced", func(t *testing.T) {
		d, _ := mustOpen(t)
		err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO series (slug, title, organiser_id) VALUES ('s', 'S', 999)`)
			return err
		})
		if err == nil {
			t.Fatal("a row pointing nowhere was accepted")
		}
		if errors.Is(err, db.ErrUnique) {
			t.Fatal("a foreign key error is not ErrUnique")
		}
	})

	t.Run("concurrent writers queue, none is lost or busy", func(t *testing.T) {
		d, _ := mustOpen(t)
		const writers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					errs <- d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
						return insertRegion(ctx, tx, fmt.Sprintf("r-%d-%d", w, i))
					})
				}
			}()
		}
		// readers beside the writers
		stop := make(chan struct{})
		var rwg sync.WaitGroup
		for r := 0; r < 4; r++ {
			rwg.Add(1)
			go func() {
				defer rwg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					var n int
					if err := d.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM regions`).Scan(&n); err != nil {
						errs <- fmt.Errorf("read: %w", err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		rwg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := countRegions(t, d); n != writers*each {
			t.Fatalf("%d rows, want %d", n, writers*each)
		}
	})
}

func TestClassify(t *testing.T) {
	if db.Classify(nil) != nil {
		t.Error("Classify(nil)")
	}
	plain := errors.New("plain")
	if db.Classify(plain) != plain {
		t.Error("a non-SQLite error changed")
	}
}

func TestNullTimeAndBool(t *testing.T) {
	if db.NullTime(time.Time{}) != nil {
		t.Error("a zero time is not NULL")
	}
	at := time.Date(2027, 1, 7, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	if got, ok := db.NullTime(at).(time.Time); !ok || got.Location() != time.UTC || !got.Equal(at) {
		t.Errorf("NullTime = %v", db.NullTime(at))
	}
	if db.Bool(true) != 1 || db.Bool(false) != 0 {
		t.Error("Bool")
	}
}

func TestTimesRoundTripInUTC(t *testing.T) {
	d, _ := mustOpen(t)
	ctx := context.Background()
	at := time.Date(2027, 3, 28, 1, 30, 0, 0, time.UTC) // the night summer time begins
	err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO organisers (slug, name, contact_email) VALUES ('o', 'O', 'o@example.no')`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO regions (slug, name) VALUES ('r', 'R')`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO events (slug, title, format, starts_at, ends_at, region_id, capacity, organiser_id, status, created_at, updated_at)
			VALUES ('e', 'E', 'conference', ?, ?, 1, 10, 1, 'published', ?, ?)`, db.NullTime(at), db.NullTime(at.Add(time.Hour)), now, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var got time.Time
	if err := d.Read().QueryRowContext(ctx, `SELECT starts_at FROM events WHERE slug = 'e'`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !got.Equal(at) {
		t.Fatalf("stored %s, read %s", at, got)
	}
	// and the range queries of the event list compare correctly
	var n int
	if err := d.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE starts_at >= ? AND starts_at < ?`,
		at.Add(-time.Minute), at.Add(time.Minute)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("range query found %d (%v)", n, err)
	}
}

func TestCloseCheckpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "close.db")
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error { return insertRegion(context.Background(), tx, "x") }); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("the WAL is still %d bytes after Close: not checkpointed", fi.Size())
	}
}

func TestBackup(t *testing.T) {
	d, _ := mustOpen(t)
	ctx := context.Background()
	if err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return insertRegion(ctx, tx, "oslo") }); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	if err := d.Backup(ctx, dst); err != nil {
		t.Fatal(err)
	}
	c, err := db.Open(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n := countRegions(t, c); n != 1 {
		t.Fatalf("the copy has %d regions", n)
	}
	if err := d.Backup(ctx, dst); err == nil {
		t.Fatal("a backup overwrote an existing file")
	}
}

func TestOnCommit(t *testing.T) {
	d, _ := mustOpen(t)
	ctx := context.Background()
	var calls int
	d.OnCommit(func() { calls++ })
	if err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return insertRegion(ctx, tx, "a") }); err != nil {
		t.Fatal(err)
	}
	_ = d.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return errors.New("rolled back") })
	if calls != 1 {
		t.Fatalf("OnCommit ran %d times for one commit and one rollback", calls)
	}
}

func TestEraseTracesEmptiesTheWAL(t *testing.T) {
	d, path := mustOpen(t)
	ctx := context.Background()
	if err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return insertRegion(ctx, tx, "a") }); err != nil {
		t.Fatal(err)
	}
	if err := d.EraseTraces(ctx); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Fatalf("the WAL has %d bytes after EraseTraces", fi.Size())
	}
	if countRegions(t, d) != 1 {
		t.Fatal("the data is gone")
	}
}
