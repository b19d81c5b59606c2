package db

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHealthFollowsTheWrites: a write that fails because the storage
// cannot be written makes Health say so (with the reason, and a line in
// the log); with no further traffic the probe finds out when the fault is
// gone, and Health is nil again. Writes that fail for other reasons (a
// unique constraint, a caller's own error) say nothing about the storage.
func TestHealthFollowsTheWrites(t *testing.T) {
	ctx := context.Background()
	d, logs := openTest(t)
	if err := d.Health(ctx); err != nil {
		t.Fatalf("a new database: %v", err)
	}
	insert := func(slug string) error {
		return d.Tx(ctx, func(tx *sql.Tx, _ time.Time) error {
			_, err := tx.Exec(`INSERT INTO regions (slug, name) VALUES (?, ?)`, slug, slug)
			return err
		})
	}
	if err := insert("a"); err != nil {
		t.Fatal(err)
	}
	if err := insert("a"); !errors.Is(err, ErrUnique) {
		t.Fatalf("a duplicate: %v", err)
	}
	if err := d.Tx(ctx, func(*sql.Tx, time.Time) error { return errors.New("the caller's own") }); err == nil {
		t.Fatal("the caller's error was lost")
	}
	if err := d.Health(ctx); err != nil {
		t.Fatalf("after failures that are not the storage's: %v", err)
	}

	// the writer's connection refuses to write, as a file system gone
	// read-only does: every write, the probe's too, fails
	if _, err := d.write.ExecContext(ctx, `PRAGMA query_only = 1`); err != nil {
		t.Fatal(err)
	}
	if err := insert("b"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a write to a read-only database: %v, want ErrUnavailable", err)
	}
	err := d.Health(ctx)
	if err == nil || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("health after a failed write: %v, want ErrUnavailable", err)
	}
	for _, want := range []string{"cannot be written", "read-only", "SQLITE_READONLY"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("health says %q, without %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("health is more than one line: %q", err)
	}
	// Batch reports the same way
	if err := d.Batch(ctx, func(tx *sql.Tx, _ time.Time) error {
		_, err := tx.Exec(`INSERT INTO regions (slug, name) VALUES ('c', 'c')`)
		return err
	}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a batched write to a read-only database: %v", err)
	}
	if !strings.Contains(logs.String(), "database cannot be written") {
		t.Errorf("the log does not say the database cannot be written:\n%s", logs)
	}
	// a few probes later it still cannot be written
	waitFor(t, "a failed probe", func() bool { return d.health.probes.Load() >= 2 })
	if err := d.Health(ctx); err == nil {
		t.Fatal("healthy again while every write still fails")
	}

	// the fault goes away; nobody writes, the probe finds out
	if _, err := d.write.ExecContext(ctx, `PRAGMA query_only = 0`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitFor(t, "health to recover", func() bool { return d.Health(ctx) == nil })
	t.Logf("healthy again %s after the fault went away, with no traffic", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(logs.String(), "database can be written again") {
		t.Errorf("the log does not say the database recovered:\n%s", logs)
	}
	if err := insert("b"); err != nil {
		t.Fatalf("a write after recovery: %v", err)
	}
}

// TestIdleProbeFindsAFault: a database nobody writes to is probed now and
// then, so health does not stay green for a fault no user has hit yet.
func TestIdleProbeFindsAFault(t *testing.T) {
	was := probeWhenIdle
	t.Cleanup(func() { probeWhenIdle = was }) // after the database is closed
	probeWhenIdle = 100 * time.Millisecond
	ctx := context.Background()
	d, _ := openTest(t)
	if _, err := d.write.ExecContext(ctx, `PRAGMA query_only = 1`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the idle probe to find the fault", func() bool { return d.Health(ctx) != nil })
	if err := d.Health(ctx); !strings.Contains(err.Error(), "read-only") {
		t.Errorf("health: %v", err)
	}
}

// TestProbeChangesNoData: a probe is not a change of the application's
// data: page caches keyed on the generation stay valid, commit hooks (the
// mail worker's wake-up) do not run.
func TestProbeChangesNoData(t *testing.T) {
	ctx := context.Background()
	d, _ := openTest(t)
	hooks := 0
	d.OnCommit(func() { hooks++ })
	g := d.Generation()
	if err := d.probe(ctx); err != nil {
		t.Fatal(err)
	}
	if d.Generation() != g || hooks != 0 {
		t.Errorf("a probe moved the generation %d -> %d and ran %d hooks", g, d.Generation(), hooks)
	}
}

// TestDeletedWriteAheadLog: an operator deletes the -wal file of a running
// database. The checkpointer sees that the file is gone, copies every
// committed change into the database file at once (through the connection
// that still has the old log open), says so loudly in the log, refuses
// further writes and reports it in Health. The database file alone, which
// is all a crash would leave, then holds every acknowledged commit.
func TestDeletedWriteAheadLog(t *testing.T) {
	for _, how := range []string{"deleted", "replaced"} {
		t.Run(how, func(t *testing.T) {
			ctx := context.Background()
			d, logs := openTest(t)
			path := d.path
			// A long read keeps the ordinary checkpoints from copying the
			// commits below, as readers under a rush do: they are in the
			// log only.
			reader, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := reader.QueryRow(`SELECT COUNT(*) FROM regions`).Scan(new(int)); err != nil {
				t.Fatal(err)
			}
			const n = 40
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := d.Batch(ctx, func(tx *sql.Tx, _ time.Time) error {
						_, err := tx.Exec(`INSERT INTO regions (slug, name) VALUES (?, ?)`, "r"+strconv.Itoa(i), "R")
						return err
					}); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if err := os.Remove(path + "-wal"); err != nil {
				t.Fatal(err)
			}
			if how == "replaced" {
				if err := os.WriteFile(path+"-wal", nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			// writes carry on into the old log until the loss is seen
			afterErr := d.Tx(ctx, func(tx *sql.Tx, _ time.Time) error {
				_, err := tx.Exec(`INSERT INTO regions (slug, name) VALUES ('after', 'After')`)
				return err
			})
			if afterErr != nil && !errors.Is(afterErr, ErrUnavailable) {
				t.Fatal(afterErr)
			}
			time.Sleep(50 * time.Millisecond)
			reader.Rollback()
			waitFor(t, "health to report the lost log", func() bool { return d.Health(ctx) != nil })
			herr := d.Health(ctx)
			for _, want := range []string{"write-ahead log", "restart"} {
				if !strings.Contains(herr.Error(), want) {
					t.Errorf("health says %q, without %q", herr, want)
				}
			}
			if !errors.Is(herr, ErrUnavailable) {
				t.Errorf("health: %v, want ErrUnavailable", herr)
			}
			for _, want := range []string{`"level":"ERROR"`, "write-ahead log", "restart"} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("the log lacks %q:\n%s", want, logs)
				}
			}
			err = d.Tx(ctx, func(tx *sql.Tx, _ time.Time) error {
				_, err := tx.Exec(`INSERT INTO regions (slug, name) VALUES ('refused', 'R')`)
				return err
			})
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("a write after the log was lost: %v, want ErrUnavailable", err)
			}
			if err := d.Batch(ctx, func(tx *sql.Tx, _ time.Time) error { return nil }); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("a batched write after the log was lost: %v, want ErrUnavailable", err)
			}
			// reads carry on, from the database file
			var all int
			if err := d.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM regions WHERE slug GLOB 'r[0-9]*'`).Scan(&all); err != nil || all != n {
				t.Errorf("a read after the log was saved: %d rows, %v", all, err)
			}
			// the probe does not make it healthy again
			time.Sleep(2 * probeEvery)
			if d.Health(ctx) == nil {
				t.Fatal("healthy again without a restart")
			}

			// What a kill -9 leaves: the database file, with no log beside it.
			crash := filepath.Join(t.TempDir(), "after-crash.db")
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(crash, body, 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := sql.Open("sqlite", "file:"+crash)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var kept, after int
			if err := c.QueryRow(`SELECT COUNT(*) FROM regions WHERE slug GLOB 'r[0-9]*'`).Scan(&kept); err != nil {
				t.Fatal(err)
			}
			c.QueryRow(`SELECT COUNT(*) FROM regions WHERE slug = 'after'`).Scan(&after)
			if kept != n {
				t.Errorf("the database file holds %d of the %d acknowledged commits", kept, n)
			}
			if afterErr == nil && after != 1 {
				t.Error("the write acknowledged after the log was deleted is not in the database file")
			}
		})
	}
}

// TestReplacedDatabaseFile: the database file itself deleted under the
// server (or moved, or replaced by a restore done while it runs): writes
// would go to a file nobody will open again, so they are refused, health
// says so, and a copy of the data, which only the open connections can
// still reach, is written beside it.
func TestReplacedDatabaseFile(t *testing.T) {
	ctx := context.Background()
	d, logs := openTest(t)
	if err := d.Tx(ctx, func(tx *sql.Tx, _ time.Time) error {
		_, err := tx.Exec(`INSERT INTO regions (slug, name) VALUES ('before', 'B')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(d.path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "health to report the moved file", func() bool { return d.Health(ctx) != nil })
	waitFor(t, "writes to be refused", func() bool { return d.health.lost.Load() != nil })
	if err := d.Health(ctx); !strings.Contains(err.Error(), "database file") {
		t.Errorf("health: %v", err)
	}
	err := d.Tx(ctx, func(tx *sql.Tx, _ time.Time) error {
		_, err := tx.Exec(`INSERT INTO regions (slug, name) VALUES ('x', 'X')`)
		return err
	})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a write to a moved database: %v", err)
	}
	if !strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("nothing in the log:\n%s", logs)
	}
	// the data, reachable through the open files only, is copied beside it
	waitFor(t, "the copy", func() bool { return strings.Contains(logs.String(), "rescued-") })
	copies, _ := filepath.Glob(d.path + ".rescued-*")
	if len(copies) != 1 {
		t.Fatalf("copies: %v", copies)
	}
	c, err := sql.Open("sqlite", "file:"+copies[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var n int
	if err := c.QueryRow(`SELECT COUNT(*) FROM regions WHERE slug = 'before'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the copy holds %d of the row written before (%v)", n, err)
	}
}

// openTest opens a database in t.TempDir() that logs into the returned buffer.
func openTest(t *testing.T) (*DB, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "health.db"))
	if err != nil {
		t.Fatal(err)
	}
	d.SetLogger(slog.New(slog.NewJSONHandler(logs, nil)))
	t.Cleanup(func() { d.Close() })
	return d, logs
}

// waitFor polls cond until it holds; a minute is far more than any of
// these needs (a few probe rounds), so it only stops a test that hangs.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
