package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
)

// The writer does not checkpoint the write-ahead log (wal_autocheckpoint
// is 0 on its connection). SQLite's automatic checkpoint runs inside the
// commit that fills the log past 1,000 pages: it copies those pages into
// the database file and fsyncs it, and under a sign-up rush that made one
// commit in five up to ten times slower than the others, with every
// waiting writer behind it. The DB checkpoints on a connection of its own
// instead, beside the writer (a PASSIVE checkpoint takes no write lock), a
// few times a second until every commit is copied.
//
// While commits follow each other closely the log grows: it can only start
// over when a checkpoint has copied all of it before the next commit
// begins. It does so as soon as a rush eases, and the file is then cut
// back to journalSizeLimit. Should writes never ease, a log past
// restartAbove frames is emptied by a TRUNCATE checkpoint, which makes
// writers wait while it runs (well under a second).
const checkpointEvery = 250 * time.Millisecond

// journalSizeLimit is what the log file is cut back to when it starts over.
const journalSizeLimit = 16 << 20

// restartAbove is the length of the log (in pages of 4 KB: 256 MB) past
// which the checkpointer empties it even while writes go on.
const restartAbove = 65536

// checkpointer runs the background checkpoints.
type checkpointer struct {
	conn     *sql.DB
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	frames   int  // in the log at the last checkpoint (loop only)
	failing  bool // the last checkpoint failed (loop only)

	// The files of the database as they were opened (see checkFiles);
	// loop only.
	dbFile, walFile os.FileInfo
}

func (d *DB) startCheckpointer(path string) error {
	// A TRUNCATE checkpoint (restartAbove) keeps new writers waiting while
	// it waits for readers, so it gives up soon and tries again later.
	c, err := sql.Open("sqlite", dsn(path, false)+"&_pragma=busy_timeout(200)")
	if err != nil {
		return fmt.Errorf("db: open %s for checkpoints: %w", path, err)
	}
	c.SetMaxOpenConns(1)
	c.SetMaxIdleConns(1)
	c.SetConnMaxLifetime(0)
	d.ckpt.conn, d.ckpt.stop, d.ckpt.done = c, make(chan struct{}), make(chan struct{})
	d.ckpt.dbFile, _ = os.Stat(path)
	d.ckpt.walFile, _ = os.Stat(path + "-wal")
	go d.checkpointLoop()
	return nil
}

func (d *DB) checkpointLoop() {
	defer close(d.ckpt.done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	var copied uint64 // the generation whose commits are all copied
	for {
		select {
		case <-d.ckpt.stop:
			return
		case <-tick.C:
		}
		if d.checkFiles(); d.health.lost.Load() != nil {
			return // nothing more is written; only a restart helps
		}
		g := d.Generation()
		if g == copied {
			continue
		}
		all, err := d.checkpoint(context.Background())
		switch {
		case err != nil && !d.ckpt.failing:
			// the log then grows until checkpoints succeed again
			d.logger().Warn("database checkpoint failed", "reason", describe(err), "sqlite", sqliteMessage(err))
		case err == nil && d.ckpt.failing:
			d.logger().Info("database checkpoints succeed again")
		}
		d.ckpt.failing = err != nil
		if err == nil && all {
			copied = g
		}
	}
}

// checkpoint copies the committed pages of the log that no reader still
// needs into the database file, and says whether that was all of them.
func (d *DB) checkpoint(ctx context.Context) (all bool, err error) {
	mode := "PASSIVE"
	if d.ckpt.frames > restartAbove {
		mode = "TRUNCATE"
	}
	var busy, copied int
	if err := d.ckpt.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &d.ckpt.frames, &copied); err != nil {
		return false, fmt.Errorf("db: checkpoint: %w", err)
	}
	return busy == 0 && copied == d.ckpt.frames, nil
}

// A file of the database deleted or replaced under the running server (an
// operator cleaning up, a restore done without stopping it) is not seen by
// SQLite: it keeps writing to the files it has open, which nobody will
// open again. A write-ahead log deleted this way takes every commit not
// yet copied into the database file with it at the next crash (an outside
// test lost 55 of 781 acknowledged sign-ups to a kill -9 that way; the
// process test in cmd/moteplass repeats it). So each round
// the checkpointer compares the files at the database's path with those
// it opened (device and inode), and when one is gone or another file:
//
//   - the log: every commit is copied into the database file at once,
//     through the writer's connection, which still has the old log open,
//     so a crash after that loses nothing;
//   - the database file: a copy of the database as the server sees it is
//     written beside it (VACUUM INTO), since the old file is reachable
//     through the open connections only;
//
// then writes are refused (ErrUnavailable) until a restart, Health
// reports it, and the log says what happened and what to do.

// checkFiles compares the database's files with the ones it opened.
func (d *DB) checkFiles() {
	if d.ckpt.dbFile == nil {
		d.ckpt.dbFile, _ = os.Stat(d.path)
	}
	if d.ckpt.walFile == nil {
		// the log exists from the first read or write on
		d.ckpt.walFile, _ = os.Stat(d.path + "-wal")
	}
	if seen := changed(d.path, d.ckpt.dbFile); seen != "" {
		d.lostFile(seen, false)
	} else if seen := changed(d.path+"-wal", d.ckpt.walFile); seen != "" {
		d.lostFile(seen, true)
	}
}

// changed says how the file at path differs from was: "" when it is the
// same file (or the question cannot be answered now).
func changed(path string, was os.FileInfo) string {
	if was == nil {
		return ""
	}
	now, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no file at its path"
	case err == nil && !os.SameFile(was, now):
		// also what a deleted file looks like once a new connection
		// has made a new one
		return "another file at its path"
	}
	return ""
}

// lostFile handles the loss of the log (wal) or of the database file,
// seen as described by seen.
func (d *DB) lostFile(seen string, wal bool) {
	log := d.logger()
	name, what := d.path, "database file"
	if wal {
		name, what = d.path+"-wal", "write-ahead log"
	}
	log.Error("the database's "+what+" was deleted or replaced while the server runs (never delete, move or replace the files of a running database); "+
		"writes are refused from now on: restart the server", "file", name, "seen", seen)
	// no writer may be halfway through while the last commits are saved
	select {
	case d.gate <- struct{}{}:
		defer func() { <-d.gate }()
	case <-d.ckpt.stop:
		return
	}
	d.health.lost.Store(&unhealthy{fmt.Sprintf("database cannot be written since %s: its %s was deleted or replaced under the server; restart it",
		time.Now().UTC().Format(time.RFC3339), what)})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if wal {
		if err := d.saveLog(ctx); err != nil {
			log.Error("could not copy the deleted write-ahead log into the database file: the last commits are in the deleted log only; "+
				"stop the server cleanly (not kill -9: closing copies the log) and start it again", "error", err)
			return
		}
		log.Error("every commit of the deleted write-ahead log is copied into the database file; writes stay refused: restart the server now "+
			"(nothing is lost, even by a crash)", "file", d.path)
		return
	}
	rescue := fmt.Sprintf("%s.rescued-%s", d.path, time.Now().UTC().Format("20060102T150405Z"))
	if _, err := d.write.ExecContext(ctx, `VACUUM INTO ?`, rescue); err != nil {
		log.Error("could not copy the database: its changes since the file was lost are only in the server's open files; "+
			"do not stop the server before the file is restored", "error", err)
		return
	}
	log.Error("a copy of the database as the server had it is written; stop the server, put the copy in place of the database file "+
		"(see Restoring in docs/DEPLOY.md) and start it again", "copy", rescue)
}

// saveLog copies every commit in the write-ahead log into the database
// file and fsyncs it, waiting for readers of older snapshots to finish.
// The caller holds the writer gate.
func (d *DB) saveLog(ctx context.Context) error {
	for {
		var busy, frames, copied int
		err := d.write.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied)
		if err != nil {
			return fmt.Errorf("db: checkpoint: %w", err)
		}
		if busy == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("db: checkpoint: %w: readers hold the write-ahead log", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stopCheckpointer ends the checkpoints; closing twice is harmless.
func (d *DB) stopCheckpointer() error {
	if d.ckpt.stop == nil {
		return nil // PostgreSQL: nothing to checkpoint
	}
	d.ckpt.stopOnce.Do(func() { close(d.ckpt.stop) })
	<-d.ckpt.done
	return d.ckpt.conn.Close()
}
