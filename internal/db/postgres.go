package db

// PostgreSQL, for more than one machine: the same code and the same
// behaviour as SQLite (see dialect.go for what the driver rewrites), with
// what a server shared by several app instances needs besides:
//
//   - row locks (FOR UPDATE) in the SQL keep instances apart, where SQLite
//     has one writer for the whole file;
//   - each instance tells the others of its commits (NOTIFY on the
//     channel moteplass_changes), so its page caches (keyed on Generation)
//     follow the others' writes; while its listener is not connected (and
//     so may miss notifications) it looks at the server's write position
//     every half second instead;
//   - migrations take an advisory lock, so instances starting together
//     apply each one once.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
)

// Options are the settings of a database; zero values take the defaults.
type Options struct {
	// ReadConns bounds the read pool (default 8 on SQLite, 16 on
	// PostgreSQL). The write pool is one connection per instance.
	ReadConns int
	// LockTimeout bounds a wait for a row lock (default 5 s), and
	// StatementTimeout any statement (default 30 s); past either the
	// statement fails as ErrBusy and the user is asked to try again.
	LockTimeout, StatementTimeout time.Duration
	// NoMigrate opens the database as it is, applying no migrations: the
	// source of moteplass db copy, which a copy must not change.
	NoMigrate bool
}

func (o Options) withDefaults(d Dialect) Options {
	if o.ReadConns <= 0 {
		o.ReadConns = map[Dialect]int{SQLite: 8, Postgres: 16}[d]
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = 5 * time.Second
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = 30 * time.Second
	}
	return o
}

// changesChannel is where instances announce their commits.
const changesChannel = "moteplass_changes"

// migrationLock is the advisory lock key held while migrating.
const migrationLock = 7270001

// LockDemo is the key of LockTx held while the demo is loaded (internal/demo).
// The keys are numbered here, in one place, so that no two uses share one.
const LockDemo = 7270002

// LockTx makes tx wait until no other instance's transaction holds key,
// and holds it until tx ends: the transactions of every instance that
// take key run one after the other, and each sees what the one before it
// committed (PostgreSQL's READ COMMITTED takes a new snapshot for each
// statement, so for those after the lock). On PostgreSQL it is an
// advisory transaction lock; on SQLite every write transaction already
// holds the one write lock of the file (BEGIN IMMEDIATE), so there is
// nothing to take.
func (d *DB) LockTx(ctx context.Context, tx *sql.Tx, key int64) error {
	if d.dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, key); err != nil {
		return fmt.Errorf("db: wait for lock %d: %w", key, err)
	}
	return nil
}

// postgres is what a PostgreSQL DB adds to DB.
type postgres struct {
	config   *pgx.ConnConfig
	instance string // this process's name in notifications
	// listening is set while the listener is connected and hears every
	// notification (PostgreSQL delivers each to every connected listener)
	listening atomic.Bool
	stop      chan struct{}
	done      sync.WaitGroup
	stopOnce  sync.Once
}

var pgRewrites = &rewrites{rewrite: numberPlaceholders, keepableText: true}

// openPostgres opens the database at a postgres:// URL and migrates it.
func openPostgres(ctx context.Context, dsn string, opt Options) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = "moteplass"
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.RuntimeParams["lock_timeout"] = fmt.Sprint(opt.LockTimeout.Milliseconds())
	cfg.RuntimeParams["statement_timeout"] = fmt.Sprint(opt.StatementTimeout.Milliseconds())
	// an idle transaction that forgot to end must not hold locks for long
	cfg.RuntimeParams["idle_in_transaction_session_timeout"] = fmt.Sprint(max(opt.StatementTimeout, time.Minute).Milliseconds())
	open := func() *sql.DB {
		c := stdlib.GetConnector(*cfg, stdlib.OptionAfterConnect(utcTimes))
		return sql.OpenDB(connector{base: c, rw: pgRewrites})
	}
	w := open()
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(10 * time.Minute)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open PostgreSQL at %s: %w", redacted(cfg), Classify(err))
	}
	id := make([]byte, 8)
	rand.Read(id)
	d := &DB{write: w, dialect: Postgres, Now: time.Now, gate: make(chan struct{}, 1),
		pg: &postgres{config: cfg, instance: hex.EncodeToString(id), stop: make(chan struct{})}}
	if err := d.migrateUnless(ctx, opt.NoMigrate); err != nil {
		w.Close()
		return nil, err
	}
	d.read = open()
	d.read.SetMaxOpenConns(opt.ReadConns)
	d.read.SetMaxIdleConns(opt.ReadConns)
	d.read.SetConnMaxIdleTime(10 * time.Minute)
	d.startProbes()
	d.pg.done.Add(2)
	go d.listen()
	go d.watchWrites()
	return d, nil
}

// utcTimes makes every scanned timestamp UTC, as SQLite's are.
func utcTimes(_ context.Context, c *pgx.Conn) error {
	c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
		Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
	return nil
}

// redacted is the server's address without the password, for messages.
func redacted(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}

// Dialect is the database engine.
func (d *DB) Dialect() Dialect { return d.dialect }

// announce tells the other instances of a commit; it runs inside the
// transaction, so the notification goes out when (and if) it commits.
func (d *DB) announce(ctx context.Context, tx *sql.Tx) error {
	if d.pg == nil {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_notify(?, ?)`, changesChannel, d.pg.instance)
	return err
}

// listen hears the other instances' commits on a connection of its own and
// moves this one's generation, so its caches are rebuilt. It reconnects
// after a failure; what it missed meanwhile, watchWrites finds.
func (d *DB) listen() {
	defer d.pg.done.Done()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-d.pg.stop; cancel() }()
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := d.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		d.logger().Warn("db: listening for other instances' changes failed; trying again", "error", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

func (d *DB) listenOnce(ctx context.Context) error {
	c, err := pgx.ConnectConfig(ctx, d.pg.config)
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	if _, err := c.Exec(ctx, `LISTEN `+changesChannel); err != nil {
		return err
	}
	d.pg.listening.Store(true)
	defer d.pg.listening.Store(false)
	// what happened while nobody listened is unknown: caches start over
	d.changedElsewhere()
	for {
		n, err := c.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload != d.pg.instance {
			d.changedElsewhere()
		}
	}
}

// watchWrites is the fallback for notifications missed while the listener
// is not connected: then it looks at the server's write position twice a
// second and moves the generation when it has moved (writes of this
// instance, and of other databases on the server, move it too: a cache
// rebuilt once more is the price, paid only while the listener is down).
func (d *DB) watchWrites() {
	defer d.pg.done.Done()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	var last string
	for {
		select {
		case <-d.pg.stop:
			return
		case <-t.C:
		}
		if d.pg.listening.Load() {
			last = ""
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var lsn string
		err := d.read.QueryRowContext(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&lsn)
		cancel()
		if err != nil {
			continue
		}
		if last != "" && lsn != last {
			d.changedElsewhere()
		}
		last = lsn
	}
}

// changedElsewhere is a commit of another instance: caches see a new
// generation, and the hooks run (the mail worker looks for mail).
func (d *DB) changedElsewhere() {
	d.generation.Add(1)
	d.runHooks()
}

func (d *DB) stopPostgres() {
	if d.pg == nil {
		return
	}
	d.pg.stopOnce.Do(func() { close(d.pg.stop) })
	d.pg.done.Wait()
}

// classifyPostgres is Classify for PostgreSQL: a unique violation is
// ErrUnique; a lock, a deadlock, a serialization failure, a timeout and
// too many connections are ErrBusy (try again); a server that is gone,
// full, read-only or shutting down is ErrUnavailable.
func classifyPostgres(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return fmt.Errorf("%w: %w", ErrUnique, err)
		case pe.Code == "40001", pe.Code == "40P01", pe.Code == "55P03", pe.Code == "57014", pe.Code == "53300":
			return fmt.Errorf("%w: %w", ErrBusy, err)
		case strings.HasPrefix(pe.Code, "53"), strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "57P"),
			pe.Code == "25006", strings.HasPrefix(pe.Code, "58"), strings.HasPrefix(pe.Code, "XX"):
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return err
	}
	// the server is gone: the connection could not be made or broke (a
	// deadline of the caller's is not that, and stays as it is)
	var ce *pgconn.ConnectError
	var oe *net.OpError
	if errors.As(err, &ce) || errors.As(err, &oe) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// vacuum rewrites tables into new files (VACUUM FULL), so what their
// deleted and updated rows held is in no file of the database any more: a
// plain VACUUM only marks the space free, and the bytes stay until the
// page is reused (tested in privacy/). The rewrite locks each table while
// it runs: about 0.1 s for an outbox of 20,000 messages, measured; an
// erasure is rare. Table names are the callers' SQL names, never input.
func (d *DB) vacuum(ctx context.Context, tables []string) error {
	if len(tables) == 0 {
		return nil
	}
	if _, err := d.write.ExecContext(ctx, `VACUUM FULL `+strings.Join(tables, ", ")); err != nil {
		return fmt.Errorf("db: vacuum: %w", Classify(err))
	}
	return nil
}
