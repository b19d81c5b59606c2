package app_test

// A backup taken while people sign up (goroutines through the real service,
// a real SQLite file): it opens, passes PRAGMA integrity_check, holds every
// sign-up acknowledged before it began, and restores as docs/DEPLOY.md says
// (stop, copy into place, start).

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/registration"
)

func TestBackupDuringASignUpRush(t *testing.T) {
	a := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	if a.DB.Dialect() == db.Postgres {
		// the server's own tools back PostgreSQL up (docs/DEPLOY.md); the
		// command says so rather than write half a backup
		if err := a.DB.Backup(ctx, filepath.Join(t.TempDir(), "x.db")); err == nil || !strings.Contains(err.Error(), "pg_dump") {
			t.Fatalf("backup on PostgreSQL: %v, want a pointer to pg_dump", err)
		}
		return
	}
	ev := privEvent(t, a, "dfo", 10*24*time.Hour, 1_000_000)

	// Some bulk first, so that the backup takes long enough for sign-ups
	// to happen while it runs.
	if err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		for i := 0; i < 20000; i++ {
			email := fmt.Sprintf("fyll.%d@example.no", i)
			if _, err := tx.ExecContext(ctx, `INSERT INTO registrations (event_id, status, name, email, email_norm, organisation,
				level, sector, topics, created_at, updated_at, queued_at) VALUES (?, 'waiting', ?, ?, ?, 'Fyll', 'middle', 'state', ?, ?, ?, ?)`,
				ev.ID, fmt.Sprintf("Fyll %d", i), email, email, strings.Repeat("tema ", 40), now, now, now); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	var (
		mu        sync.Mutex
		acked     []int64 // registration ids, in the order they were acknowledged
		stop      atomic.Bool
		wg        sync.WaitGroup
		failures  atomic.Int64
		seq       atomic.Int64
		inBackup  atomic.Bool
		duringRun atomic.Int64
	)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				n := seq.Add(1)
				res, err := a.Registrations.Register(ctx, ev.ID, registration.Input{Lang: "nb", Details: registration.Details{
					Name: fmt.Sprintf("Rush %d", n), Email: fmt.Sprintf("rush.%d@example.no", n), Organisation: "Rushetaten",
					Level: "middle", Sector: "state"}})
				if err != nil {
					failures.Add(1)
					continue
				}
				mu.Lock()
				acked = append(acked, res.Registration.ID)
				mu.Unlock()
				if inBackup.Load() {
					duringRun.Add(1)
				}
			}
		}()
	}
	// let the rush get going
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 100 {
			break
		}
		time.Sleep(time.Millisecond)
	}

	path := filepath.Join(t.TempDir(), "backup.db")
	mu.Lock()
	before := append([]int64(nil), acked...)
	mu.Unlock()
	inBackup.Store(true)
	started := time.Now()
	err := a.DB.Backup(ctx, path)
	took := time.Since(started)
	inBackup.Store(false)
	// the rush goes on a little after the backup, then stops
	time.Sleep(20 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if failures.Load() > 0 {
		t.Errorf("%d sign-ups failed during the backup", failures.Load())
	}
	t.Logf("backup took %v; %d sign-ups before it, %d while it ran, %d in all", took, len(before), duringRun.Load(), len(acked))
	// VACUUM INTO reads one snapshot on a connection of its own: writers go
	// on meanwhile. (A quick backup may see no commit at all on a slow
	// disk, so only a long one without any is an error.)
	if duringRun.Load() == 0 && took > time.Second {
		t.Errorf("no sign-up was acknowledged during a backup of %v: writers were blocked", took)
	}

	b, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var check string
	if err := b.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q (%v)", check, err)
	}
	have := map[int64]bool{}
	rows, err := b.Query(`SELECT id FROM registrations WHERE name LIKE 'Rush %'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		have[id] = true
	}
	rows.Close()
	missing := 0
	for _, id := range before {
		if !have[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d sign-ups acknowledged before the backup are not in it", missing, len(before))
	}
	if len(have) < len(before) || len(have) > len(acked) {
		t.Errorf("the backup holds %d sign-ups; %d were acknowledged before it, %d in all", len(have), len(before), len(acked))
	}

	// Restore: the app stops, the copy takes the database's place, the app
	// starts on it.
	restored := filepath.Join(t.TempDir(), "moteplass.db")
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(restored)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	in.Close()
	out.Close()
	cfg := app.DefaultConfig()
	cfg.DB, cfg.Demo, cfg.Addr = restored, "off", "127.0.0.1:0"
	r, err := app.NewApp(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("start on the restored copy: %v", err)
	}
	defer r.Close()
	rec := apptest.NewClient(t, r.Router).Get("/events/" + ev.Slug)
	apptest.Want(t, rec, 200)
}
