package db

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Write health. A database that answers queries may still be unable to
// store anything (a full disk, a file system gone read-only or failing),
// and then a health check that only reads says "ok" while every sign-up
// fails. So the DB remembers what its real writes found: a write that
// failed for want of usable storage (ErrUnavailable) marks it not
// writable, with the time and the reason; a commit marks it writable
// again. Health reads that state, which costs nothing and never waits
// behind the writers of a rush.
//
// A database marked not writable is probed every probeEvery, so it is
// found writable again as soon as the fault is gone, without a user having
// to try first; one nobody has written to for probeWhenIdle is probed too,
// so a fault is found before the first user meets it.

// probeEvery is how often the probe runs while the database cannot be
// written (and how often the idle database is looked at).
var probeEvery = 2 * time.Second

// probeWhenIdle is how long without a successful write before the probe
// runs on a database that was writable.
var probeWhenIdle = time.Minute

// probeHeadroom is the room the probe asks the file system for. A full
// disk often still takes a small write (SQLite reuses the space its log
// file already has, and a one-row update fits), so a probe of one commit
// alone would report recovery while sign-ups, which need new pages, still
// fail. A megabyte beside the database is the room a few sign-ups need.
const probeHeadroom = 1 << 20

// health is the write health of the database.
type health struct {
	mu        sync.Mutex
	failedAt  time.Time // when writes began to fail; zero while they succeed
	reason    string    // why they fail, in a few words
	lastWrite time.Time // of the last write that succeeded (a commit or a probe)

	// lost is set once, when a file of the database was lost under the
	// running server (see checkFiles): writes are refused until restart.
	lost atomic.Pointer[unhealthy]

	probes     atomic.Int64 // probes run (tests wait for them)
	stop, done chan struct{}
	stopOnce   sync.Once
}

// unhealthy is what Health says is wrong: one line, for /healthz and the
// log, that never holds personal data (it is built from result codes).
type unhealthy struct{ msg string }

func (u *unhealthy) Error() string { return u.msg }
func (u *unhealthy) Unwrap() error { return ErrUnavailable }

// Health says, in one line, why the database cannot be written or read;
// nil when it can. It writes nothing and waits for no writer: the write
// side is what the last writes and probes found, the read side one row
// read from the read pool. The error wraps ErrUnavailable.
func (d *DB) Health(ctx context.Context) error {
	if lost := d.health.lost.Load(); lost != nil {
		return lost
	}
	h := &d.health
	h.mu.Lock()
	failedAt, reason := h.failedAt, h.reason
	h.mu.Unlock()
	if !failedAt.IsZero() {
		return &unhealthy{fmt.Sprintf("database cannot be written since %s: %s", failedAt.UTC().Format(time.RFC3339), reason)}
	}
	// a row of a real table, not SELECT 1, which reads no file at all
	var probed time.Time
	if err := d.read.QueryRowContext(ctx, `SELECT probed_at FROM health_probe WHERE id = 1`).Scan(&probed); err != nil {
		return &unhealthy{"database cannot be read: " + describe(err)}
	}
	return nil
}

// refusal is the error for a write while writes are refused, else nil.
func (d *DB) refusal() error {
	if lost := d.health.lost.Load(); lost != nil {
		return fmt.Errorf("db: write refused: %w", lost)
	}
	return nil
}

// failed records a write that failed with err, and returns err.
func (d *DB) failed(err error) error {
	if !errors.Is(err, ErrUnavailable) || d.health.lost.Load() != nil {
		return err // the caller's own error, a constraint, a busy lock: nothing about the storage
	}
	reason, now := describe(err), time.Now()
	h := &d.health
	h.mu.Lock()
	first := h.failedAt.IsZero()
	if first {
		h.failedAt = now
	}
	h.reason = reason
	h.mu.Unlock()
	if first {
		d.logger().Error("database cannot be written; sign-ups and changes get \"try again shortly\" until it can",
			"reason", reason, "sqlite", sqliteMessage(err))
	}
	return err
}

// wrote records a write that succeeded.
func (d *DB) wrote() {
	now := time.Now()
	h := &d.health
	h.mu.Lock()
	failedAt := h.failedAt
	h.failedAt, h.reason, h.lastWrite = time.Time{}, "", now
	h.mu.Unlock()
	if !failedAt.IsZero() {
		d.logger().Info("database can be written again", "after", now.Sub(failedAt).Round(time.Millisecond).String())
	}
}

func (d *DB) startProbes() {
	d.health.lastWrite = time.Now()
	d.health.stop, d.health.done = make(chan struct{}), make(chan struct{})
	go d.probeLoop()
}

func (d *DB) stopProbes() {
	d.health.stopOnce.Do(func() { close(d.health.stop) })
	<-d.health.done
}

func (d *DB) probeLoop() {
	defer close(d.health.done)
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	for {
		select {
		case <-d.health.stop:
			return
		case <-tick.C:
		}
		if d.health.lost.Load() != nil {
			continue // only a restart helps
		}
		h := &d.health
		h.mu.Lock()
		due := !h.failedAt.IsZero() || time.Since(h.lastWrite) >= probeWhenIdle
		h.mu.Unlock()
		if due {
			ctx, cancel := context.WithTimeout(context.Background(), 2*probeEvery)
			d.probe(ctx)
			cancel()
		}
	}
}

// probe tries a small real write and records what it found: room for a
// file beside the database, then a commit to the one-row health_probe
// table. It is not a change of the application's data: the generation
// stays and the commit hooks do not run. A probe that only waited too long
// for the writer (a rush) says nothing about the storage.
func (d *DB) probe(ctx context.Context) error {
	d.health.probes.Add(1)
	err := d.probeWrite(ctx)
	switch {
	case err == nil:
		d.wrote()
	case errors.Is(err, ErrUnavailable):
		d.failed(err)
	}
	return err
}

func (d *DB) probeWrite(ctx context.Context) error {
	// the room a SQLite file grows into is the disk beside it; a
	// PostgreSQL server looks after its own
	if d.path != "" {
		if err := d.headroom(); err != nil {
			return fmt.Errorf("db: probe: %w: %w", ErrUnavailable, err)
		}
	}
	select {
	case d.gate <- struct{}{}:
		defer func() { <-d.gate }()
	case <-ctx.Done():
		return fmt.Errorf("db: probe: waiting to write: %w", ctx.Err())
	}
	if err := d.refusal(); err != nil {
		return err
	}
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: probe: begin: %w", Classify(err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE health_probe SET probed_at = ? WHERE id = 1`, time.Now().UTC()); err != nil {
		return fmt.Errorf("db: probe: %w", Classify(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: probe: commit: %w", Classify(err))
	}
	return nil
}

// headroomBytes are what the probe writes: random, so that a file system
// that compresses cannot store them in less than their size.
var headroomBytes = sync.OnceValue(func() []byte {
	b := make([]byte, probeHeadroom)
	rand.Read(b)
	return b
})

// headroom writes probeHeadroom bytes to a file beside the database, syncs
// and removes it.
func (d *DB) headroom() error {
	name := d.path + "-probe"
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(name)
	_, err = f.Write(headroomBytes())
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// describe says in a few words what err means for the storage, from its
// SQLite result code or system error number (never its text, which could
// carry more than that).
func describe(err error) string {
	var se *sqlite.Error
	var pe *pgconn.PgError
	var errno syscall.Errno
	switch {
	case errors.As(err, &se):
		return describeCode(se.Code())
	case errors.As(err, &pe):
		return describePostgres(pe.Code)
	case errors.As(err, &errno):
		switch errno {
		case syscall.ENOSPC:
			return "the disk is full (no space left on device)"
		case syscall.EDQUOT:
			return "the disk quota is used up"
		case syscall.EROFS:
			return "the file system is read-only"
		case syscall.EIO:
			return "input/output error (EIO)"
		case syscall.EACCES, syscall.EPERM:
			return "no permission to write beside the database file"
		}
		return "cannot write beside the database file (" + errno.Error() + ")"
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time"
	}
	return "an unexpected error (see the log)"
}

func describeCode(code int) string {
	what := "an error"
	switch code & 0xff {
	case sqlite3.SQLITE_FULL:
		what = "the disk is full"
	case sqlite3.SQLITE_READONLY:
		what = "the database is read-only"
	case sqlite3.SQLITE_IOERR:
		what = "input/output error"
	case sqlite3.SQLITE_CANTOPEN:
		what = "a file of the database cannot be opened"
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		what = "the database reads as damaged (a failing disk can cause this)"
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		what = "the database is locked"
	}
	return what + " (" + codeName(code) + ")"
}

// describePostgres is describe for a PostgreSQL error code (SQLSTATE).
func describePostgres(code string) string {
	what := "an error"
	switch {
	case code == "25006":
		what = "the database is read-only"
	case code == "53100":
		what = "the database server's disk is full"
	case strings.HasPrefix(code, "53"):
		what = "the database server is out of resources"
	case strings.HasPrefix(code, "08"):
		what = "the database server cannot be reached"
	case strings.HasPrefix(code, "57P"):
		what = "the database server is shutting down or restarting"
	case strings.HasPrefix(code, "58"), strings.HasPrefix(code, "XX"):
		what = "the database server reports a fault of its storage"
	}
	return what + " (SQLSTATE " + code + ")"
}

// codeName is the name of a SQLite result code, e.g. SQLITE_IOERR_WRITE.
func codeName(code int) string {
	s := sqlite.ErrorCodeString[code]
	if i, j := strings.LastIndex(s, "(SQLITE_"), strings.LastIndex(s, ")"); i >= 0 && j > i {
		return s[i+1 : j]
	}
	if code > 0xff {
		return codeName(code&0xff) + ", extended code " + strconv.Itoa(code)
	}
	return "SQLite code " + strconv.Itoa(code)
}

// sqliteMessage is SQLite's own message for err, for the log: it names
// the fault, never the data.
func sqliteMessage(err error) string {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Error()
	}
	return describe(err)
}
