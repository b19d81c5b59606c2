// Package db opens the database (a SQLite file, or PostgreSQL when
// MOTEPLASS_DB is a postgres:// URL), applies the embedded migrations and
// offers the one way the application writes: a transaction through DB.Tx.
//
// SQLite allows one writer at a time. Instead of letting many connections
// fight for the write lock (and spin on busy_timeout), writes go through a
// pool of exactly one connection, so they queue in Go, in arrival order, and
// reads use a separate pool that WAL lets run beside the writer. On
// PostgreSQL each process writes the same way (one connection, in arrival
// order, commits shared by Batch); several processes on one database are
// kept apart by the row locks the SQL takes (FOR UPDATE). The SQL is plain
// and the same for both (see dialect.go): times are stored as UTC
// TIMESTAMP values, booleans as 0/1.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrUnique is returned (wrapped) when an insert or update breaks a UNIQUE
// constraint, so domain code can turn it into a user-facing message.
var ErrUnique = errors.New("db: unique constraint violated")

// ErrBusy is returned (wrapped) when the database stayed locked past the
// busy timeout. Handlers answer it with "try again", never a 500.
var ErrBusy = errors.New("db: database is busy")

// ErrUnavailable is returned (wrapped) when the storage itself cannot be
// used: the disk is full, the file system is read-only or failing, a file
// cannot be opened or is damaged, or a file of the database was lost under
// the running server (see Health). Nothing of the failed write is stored.
// Handlers answer it with "try again shortly" (503), never a 500.
var ErrUnavailable = errors.New("db: storage unavailable")

// DB holds the write and read pools.
type DB struct {
	write   *sql.DB
	read    *sql.DB
	path    string // the SQLite file ("" on PostgreSQL)
	dialect Dialect
	// pg is what PostgreSQL adds: its settings and the listener that
	// hears other instances' commits (nil on SQLite).
	pg *postgres

	// log is where the database reports faults of its storage (SetLogger).
	log atomic.Pointer[slog.Logger]

	// Now is the clock; tests replace it. Transactions fix "now" once at
	// their start (see Tx) so one change has one timestamp.
	Now func() time.Time

	// generation increases after every committed write. Caches of rendered
	// pages key on it, so a cached page is never older than the last write.
	generation atomic.Uint64

	// onCommit runs after every committed Tx, and on PostgreSQL after
	// every other instance's commit (see changedElsewhere). The listener
	// that hears those runs from the open, before the app has registered
	// its hooks, so the list is replaced whole (OnCommit), never changed
	// where a reader may be reading it.
	onCommit atomic.Pointer[[]func()]

	// gate admits writers one at a time in arrival order (see Tx).
	gate chan struct{}
	// batch queues the callers of Batch.
	batch batchQueue
	// ckpt checkpoints the write-ahead log beside the writer.
	ckpt checkpointer
	// health is whether the database can be written (see Health).
	health health
}

// Synchronous is the durability setting. FULL makes SQLite fsync the WAL on
// every commit, so a confirmed place survives a power loss or a crash of the
// machine, not only of the process (NORMAL would keep the last commits at risk
// on power loss). Measured cost is in the README.
const Synchronous = "FULL"

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	// busy_timeout first so the journal_mode change itself can wait for a lock.
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+Synchronous+")")
	// Erased personal data must not stay readable in free pages: deleted
	// and overwritten content is zeroed (see EraseTraces for the WAL).
	q.Add("_pragma", "secure_delete(1)")
	q.Set("_time_format", "sqlite")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
		// never create the file: a reader opened after the database file
		// was deleted under the server would make a new, empty one at its
		// path, which a restart would then take for the database (and
		// whose shared memory clashes with the open one's)
		q.Set("mode", "rw")
	} else {
		// checkpoints are made beside the writer (see checkpointer)
		q.Add("_pragma", "wal_autocheckpoint(0)")
		// Batch gives each caller a savepoint; the pages it changes are
		// copied to a statement journal, which SQLite would spill to a
		// temporary file past 64 KB (a sign-up with its email is about
		// that): one write syscall per page, a fifth of a sign-up's time.
		q.Add("_pragma", "temp_store(MEMORY)")
		q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", journalSizeLimit))
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens the database dsn names, with the default settings, and
// migrates it: a SQLite file (created if missing) or a postgres:// URL.
func Open(ctx context.Context, dsn string) (*DB, error) { return OpenWith(ctx, dsn, Options{}) }

// OpenWith is Open with settings.
func OpenWith(ctx context.Context, dsn string, opt Options) (*DB, error) {
	d := DialectOf(dsn)
	opt = opt.withDefaults(d)
	if d == Postgres {
		return openPostgres(ctx, dsn, opt)
	}
	return openSQLite(ctx, dsn, opt)
}

// sqliteRewrites drop row locks (see dialect.go).
var sqliteRewrites = &rewrites{rewrite: dropRowLocks}

// openSQLitePool opens a pool on the file with the settings of dsn.
func openSQLitePool(path string, readOnly bool) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn(path, readOnly))
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(connector{base: c, rw: sqliteRewrites}), nil
}

func openSQLite(ctx context.Context, path string, opt Options) (*DB, error) {
	w, err := openSQLitePool(path, false)
	if err != nil {
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	d := &DB{write: w, path: path, dialect: SQLite, Now: time.Now, gate: make(chan struct{}, 1)}
	if err := d.migrateUnless(ctx, opt.NoMigrate); err != nil {
		w.Close()
		return nil, err
	}
	r, err := openSQLitePool(path, true)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(opt.ReadConns)
	r.SetMaxIdleConns(opt.ReadConns)
	d.read = r
	if err := d.startCheckpointer(path); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	d.startProbes()
	return d, nil
}

// Close stops the checkpoints and probes and closes the pools; the WAL is
// checkpointed by SQLite when the last connection closes.
func (d *DB) Close() error {
	d.stopProbes()
	d.stopPostgres()
	return errors.Join(d.stopCheckpointer(), d.read.Close(), d.write.Close())
}

// SetLogger sets where the database reports faults of its storage (a
// write that fails for want of space, a file lost under the server);
// slog's default logger until then.
func (d *DB) SetLogger(l *slog.Logger) { d.log.Store(l) }

func (d *DB) logger() *slog.Logger {
	if l := d.log.Load(); l != nil {
		return l
	}
	return slog.Default()
}

// Read is the pool for queries that change nothing.
func (d *DB) Read() *sql.DB { return d.read }

// Write is the single-connection pool for maintenance tasks that cannot run
// inside a transaction (VACUUM, checkpoints, backups).
func (d *DB) Write() *sql.DB { return d.write }

// Ping checks that the database answers a query (see Health for whether
// it can be written).
func (d *DB) Ping(ctx context.Context) error {
	var one int
	return d.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Generation is a number that changes after every committed write.
func (d *DB) Generation() uint64 { return d.generation.Load() }

// Tx runs fn in a write transaction and commits it when fn returns nil.
// now is fixed once, at the start, in UTC.
//
// Writers are admitted first come, first served: database/sql hands its one
// writer connection to a random waiter, so under a rush some writers would
// wait many turns; goroutines blocked on a channel send are woken in order,
// which keeps every writer's wait close to the average. Waiting ends with ctx.
func (d *DB) Tx(ctx context.Context, fn func(tx *sql.Tx, now time.Time) error) error {
	select {
	case d.gate <- struct{}{}:
		defer func() { <-d.gate }()
	case <-ctx.Done():
		return fmt.Errorf("db: waiting to write: %w", ctx.Err())
	}
	if err := d.refusal(); err != nil {
		return err
	}
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return d.failed(fmt.Errorf("db: begin: %w", Classify(err)))
	}
	defer tx.Rollback()
	if err := fn(tx, d.Now().UTC().Truncate(time.Microsecond)); err != nil {
		return d.failed(Classify(err))
	}
	if err := d.announce(ctx, tx); err != nil {
		return d.failed(fmt.Errorf("db: announce: %w", Classify(err)))
	}
	if err := tx.Commit(); err != nil {
		return d.failed(fmt.Errorf("db: commit: %w", Classify(err)))
	}
	d.committed()
	return nil
}

// committed marks a commit: the database can be written, caches see a
// new generation, hooks run.
func (d *DB) committed() {
	d.wrote()
	d.generation.Add(1)
	d.runHooks()
}

// OnCommit registers fn to run after every committed transaction, e.g. to
// wake the mail worker once the messages a change queued are visible.
// Register before the database is written; fn must be quick and not block.
func (d *DB) OnCommit(fn func()) {
	for {
		old := d.onCommit.Load()
		var fns []func()
		if old != nil {
			fns = append(fns, *old...)
		}
		fns = append(fns, fn)
		if d.onCommit.CompareAndSwap(old, &fns) {
			return
		}
	}
}

// runHooks runs the OnCommit hooks.
func (d *DB) runHooks() {
	if fns := d.onCommit.Load(); fns != nil {
		for _, fn := range *fns {
			fn()
		}
	}
}

// Touch marks the data as changed without a transaction of ours (after a
// maintenance statement on Write()).
func (d *DB) Touch() { d.generation.Add(1) }

// Classify wraps the engine's constraint, busy and storage errors in the
// package sentinels (ErrUnique, ErrBusy, ErrUnavailable); other errors, and
// errors already classified, come back unchanged.
func Classify(err error) error {
	if err == nil || errors.Is(err, ErrUnique) || errors.Is(err, ErrBusy) || errors.Is(err, ErrUnavailable) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return classifyCode(se.Code(), err)
	}
	return classifyPostgres(err)
}

// classifyCode is Classify for an error with SQLite result code code
// (primary code in the low byte, the extended code above it).
func classifyCode(code int, err error) error {
	switch code & 0xff {
	case sqlite3.SQLITE_CONSTRAINT:
		if code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return fmt.Errorf("%w: %w", ErrUnique, err)
		}
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("%w: %w", ErrBusy, err)
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// NullTime turns a zero time into SQL NULL and any other into UTC.
func NullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// Bool stores a boolean as 0/1, which SQLite and PostgreSQL (as SMALLINT) read alike.
func Bool(b bool) int {
	if b {
		return 1
	}
	return 0
}

// EraseTraces removes what deleted and overwritten rows of tables leave
// behind in the database's own files, after an erasure of personal data.
// On SQLite, which zeroes deleted content in the database file
// (secure_delete), it moves every committed change into that file and
// empties the write-ahead log, where old copies would stay (tables does
// not matter: the log is the whole file's). On PostgreSQL, where a
// deleted row's bytes stay in its page until the page is rewritten, it
// rewrites the tables (see vacuum). What PostgreSQL keeps elsewhere (its
// WAL, archives, replicas) is in docs/DEPLOY.md.
func (d *DB) EraseTraces(ctx context.Context, tables ...string) error {
	if d.dialect == Postgres {
		return d.vacuum(ctx, tables)
	}
	// A reader holding an old snapshot keeps the WAL from being emptied;
	// readers are short, so try a few times before giving up.
	for attempt := 0; ; attempt++ {
		var busy, frames, done int
		err := d.write.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done)
		if err != nil {
			return fmt.Errorf("db: checkpoint: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if attempt == 20 {
			return fmt.Errorf("db: checkpoint: %w: readers hold the write-ahead log", ErrBusy)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("db: checkpoint: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Backup writes a consistent copy of the database to path, which must not
// exist. It runs beside a serving app on a connection of its own: VACUUM
// INTO reads one snapshot, and in WAL mode writers carry on meanwhile. The
// copy is compact and has no free pages, so erased data is not carried into
// backups.
func (d *DB) Backup(ctx context.Context, path string) error {
	if d.dialect == Postgres {
		return errors.New("db: backup: on PostgreSQL, use pg_dump or the server's own backups (docs/DEPLOY.md)")
	}
	conn, err := d.read.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	defer conn.Close()
	// the read pool's connections are query_only; VACUUM INTO writes only
	// the new file, but SQLite still asks for the flag to be off
	if _, err := conn.ExecContext(ctx, `PRAGMA query_only = 0`); err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA query_only = 1`)
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("db: backup to %s: %w", path, err)
	}
	return nil
}
