package db

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCheckpointsAreLeftToTheCheckpointer: commits never copy the log into
// the database file themselves (that made some commits of a rush ten
// times slower); the checkpointer does, and the writer then starts the log
// over, so it does not grow without end.
func TestCheckpointsAreLeftToTheCheckpointer(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "log.db")
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.stopCheckpointer(); err != nil { // as if it had not come round yet
		t.Fatal(err)
	}
	if _, err := d.write.ExecContext(ctx, `CREATE TABLE blobs (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	// four pages a commit: well past the 1,000 pages of SQLite's automatic checkpoint
	const commits, pages = 400, 4 * 400
	for i := range commits {
		err := d.Tx(ctx, func(tx *sql.Tx, _ time.Time) error {
			_, err := tx.Exec(`INSERT INTO blobs (b) SELECT randomblob(3000) FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4)`)
			return err
		})
		if err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
	}
	frames, copied := checkpointWith(t, path)
	if frames < pages {
		t.Fatalf("the log has %d frames after %d commits of %d pages: the writer checkpointed it", frames, commits, pages)
	}
	if copied != frames {
		t.Fatalf("a checkpoint copied %d of %d frames", copied, frames)
	}
	if err := d.Tx(ctx, func(tx *sql.Tx, _ time.Time) error {
		_, err := tx.Exec(`INSERT INTO blobs (b) VALUES (randomblob(3000))`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if after, _ := checkpointWith(t, path); after > 10 {
		t.Fatalf("after a checkpoint the next commit left %d frames in the log: it was not started over", after)
	}

	// a log that grew past restartAbove is emptied, file and all
	if d.ckpt.conn, err = sql.Open("sqlite", dsn(path, false)); err != nil {
		t.Fatal(err)
	}
	d.ckpt.frames = restartAbove + 1
	if all, err := d.checkpoint(ctx); err != nil || !all {
		t.Fatalf("checkpoint: all %v, %v", all, err)
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() != 0 {
		t.Fatalf("the log after a long one was checkpointed: %v bytes (%v), want emptied", fi.Size(), err)
	}
}

// checkpointWith checkpoints from a connection of its own, as the
// checkpointer does, and says how many frames the log had and were copied.
func checkpointWith(t *testing.T, path string) (frames, copied int) {
	t.Helper()
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatal(err)
	}
	c, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var busy int
	if err := c.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
		t.Fatal(err)
	}
	return frames, copied
}
