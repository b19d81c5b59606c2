package db

import (
	"context"
	"database/sql"
	"fmt"
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

// stopCheckpointer ends the checkpoints; closing twice is harmless.
func (d *DB) stopCheckpointer() error {
	d.ckpt.stopOnce.Do(func() { close(d.ckpt.stop) })
	<-d.ckpt.done
	return d.ckpt.conn.Close()
}
