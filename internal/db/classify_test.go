package db

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	sqlite3 "modernc.org/sqlite/lib"
)

// TestClassifyCodes: every SQLite result code that says the storage itself
// cannot be used (a full disk, a read-only or failing file system, a file
// that cannot be opened or is damaged), extended codes included, is
// ErrUnavailable; busy and unique keep their sentinels; anything else is
// left alone, so it stays an internal error.
func TestClassifyCodes(t *testing.T) {
	for _, c := range []struct {
		name string
		code int
		want error // nil: the error comes back unchanged
	}{
		{"disk full", sqlite3.SQLITE_FULL, ErrUnavailable},
		{"read-only database", sqlite3.SQLITE_READONLY, ErrUnavailable},
		{"read-only: file moved", sqlite3.SQLITE_READONLY_DBMOVED, ErrUnavailable},
		{"read-only: cannot lock", sqlite3.SQLITE_READONLY_CANTLOCK, ErrUnavailable},
		{"read-only: recovery", sqlite3.SQLITE_READONLY_RECOVERY, ErrUnavailable},
		{"read-only: directory", sqlite3.SQLITE_READONLY_DIRECTORY, ErrUnavailable},
		{"I/O error", sqlite3.SQLITE_IOERR, ErrUnavailable},
		{"I/O error writing", sqlite3.SQLITE_IOERR_WRITE, ErrUnavailable},
		{"I/O error reading", sqlite3.SQLITE_IOERR_READ, ErrUnavailable},
		{"short read", sqlite3.SQLITE_IOERR_SHORT_READ, ErrUnavailable},
		{"fsync failed", sqlite3.SQLITE_IOERR_FSYNC, ErrUnavailable},
		{"shared memory", sqlite3.SQLITE_IOERR_SHMOPEN, ErrUnavailable},
		{"delete failed", sqlite3.SQLITE_IOERR_DELETE, ErrUnavailable},
		{"cannot open", sqlite3.SQLITE_CANTOPEN, ErrUnavailable},
		{"cannot open: a directory", sqlite3.SQLITE_CANTOPEN_ISDIR, ErrUnavailable},
		{"corrupt", sqlite3.SQLITE_CORRUPT, ErrUnavailable},
		{"corrupt index", sqlite3.SQLITE_CORRUPT_INDEX, ErrUnavailable},
		{"not a database", sqlite3.SQLITE_NOTADB, ErrUnavailable},
		{"busy", sqlite3.SQLITE_BUSY, ErrBusy},
		{"busy snapshot", sqlite3.SQLITE_BUSY_SNAPSHOT, ErrBusy},
		{"locked", sqlite3.SQLITE_LOCKED, ErrBusy},
		{"unique", sqlite3.SQLITE_CONSTRAINT_UNIQUE, ErrUnique},
		{"primary key", sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, ErrUnique},
		{"foreign key", sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, nil},
		{"not null", sqlite3.SQLITE_CONSTRAINT_NOTNULL, nil},
		{"SQL error", sqlite3.SQLITE_ERROR, nil},
		{"misuse", sqlite3.SQLITE_MISUSE, nil},
		{"out of memory", sqlite3.SQLITE_NOMEM, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cause := errors.New("the driver's error")
			got := classifyCode(c.code, cause)
			if c.want == nil {
				if got != cause {
					t.Fatalf("code %d became %v, want it unchanged", c.code, got)
				}
				return
			}
			if !errors.Is(got, c.want) || !errors.Is(got, cause) {
				t.Fatalf("code %d: %v, want %v wrapping the cause", c.code, got, c.want)
			}
			for _, other := range []error{ErrUnavailable, ErrBusy, ErrUnique} {
				if other != c.want && errors.Is(got, other) {
					t.Errorf("code %d is also %v", c.code, other)
				}
			}
		})
	}
}

// TestClassifyRealErrors: the errors SQLite really returns for a full
// database, a read-only connection, a file that cannot be opened and a file
// that is not a database are ErrUnavailable.
func TestClassifyRealErrors(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "classify.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.write.ExecContext(ctx, `CREATE TABLE blobs (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := d.write.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// the database may not grow: a new page is "database or disk is full"
	if _, err := d.write.ExecContext(ctx, `PRAGMA max_page_count = `+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	full := d.Tx(ctx, func(tx *sql.Tx, _ time.Time) error {
		_, err := tx.Exec(`INSERT INTO blobs (b) VALUES (randomblob(100000))`)
		return err
	})
	if !errors.Is(full, ErrUnavailable) {
		t.Errorf("a full database: %v, want ErrUnavailable", full)
	}
	if _, err := d.write.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}

	_, readOnly := d.read.ExecContext(ctx, `INSERT INTO blobs (b) VALUES (1)`) // the read pool is query_only
	if !errors.Is(Classify(readOnly), ErrUnavailable) {
		t.Errorf("a read-only connection: %v, want ErrUnavailable", Classify(readOnly))
	}

	c, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "missing", "x.db"), false))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.PingContext(ctx); !errors.Is(Classify(err), ErrUnavailable) {
		t.Errorf("a database that cannot be opened: %v, want ErrUnavailable", Classify(err))
	}

	junk := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("this is not a database "), 200), 0o600); err != nil {
		t.Fatal(err)
	}
	j, err := sql.Open("sqlite", dsn(junk, false))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.PingContext(ctx); !errors.Is(Classify(err), ErrUnavailable) {
		t.Errorf("a file that is not a database: %v, want ErrUnavailable", Classify(err))
	}
}
