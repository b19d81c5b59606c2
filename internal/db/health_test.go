package db

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
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
