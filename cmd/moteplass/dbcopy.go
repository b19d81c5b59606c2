package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/moteplass/moteplass/internal/db"
)

const dbUsage = "usage: moteplass db copy --from SRC --to DST   (each a SQLite file or a postgres:// URL)"

// dbCmd runs `moteplass db copy --from SRC --to DST`: the whole database
// into an empty one, of either engine (see db.Copy). The source is opened
// as it is, without migrating it, so a copy never changes it; the target
// is migrated first, as the app would at its start.
func dbCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "copy" {
		fmt.Fprintln(stderr, dbUsage)
		return 2
	}
	flags := flag.NewFlagSet("db copy", flag.ContinueOnError)
	flags.SetOutput(stderr)
	from := flags.String("from", "", "the database to copy: a SQLite file or a postgres:// URL")
	to := flags.String("to", "", "the empty database to copy into: a SQLite file (made if missing) or a postgres:// URL")
	if err := flags.Parse(args[1:]); err != nil {
		return 2
	}
	if *from == "" || *to == "" || flags.NArg() > 0 {
		fmt.Fprintln(stderr, dbUsage)
		return 2
	}
	if *from == *to {
		fmt.Fprintln(stderr, "moteplass db copy: --from and --to are the same database")
		return 2
	}
	// opening a SQLite path that is not there would make an empty database
	if db.DialectOf(*from) == db.SQLite {
		if _, err := os.Stat(*from); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "moteplass db copy: no database at %s\n", *from)
			return 1
		}
	}

	// Ctrl-C rolls the copy back: the target stays empty.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The reading of a large table is one statement that lasts as long as
	// that table's copy: the serving default (30 s) would cut it short.
	opt := db.Options{ReadConns: 2, StatementTimeout: time.Hour}
	srcOpt := opt
	srcOpt.NoMigrate = true
	src, err := db.OpenWith(ctx, *from, srcOpt)
	if err != nil {
		fmt.Fprintf(stderr, "moteplass db copy: the source: %v\n", err)
		return 1
	}
	defer src.Close()
	dst, err := db.OpenWith(ctx, *to, opt)
	if err != nil {
		fmt.Fprintf(stderr, "moteplass db copy: the target: %v\n", err)
		return 1
	}
	defer dst.Close()

	fmt.Fprintf(stdout, "copying %s (%s) into %s (%s)\n", shown(*from), src.Dialect(), shown(*to), dst.Dialect())
	start := time.Now()
	counts, err := db.Copy(ctx, src, dst, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "moteplass: %v\n", err) // the error says "db copy: ..."
		return 1
	}
	fmt.Fprintf(stdout, "copied %d rows in %s; the counts agree\n", counts.Rows(), time.Since(start).Round(time.Millisecond))
	return 0
}

// shown is a database's name for the output: a URL without its password.
func shown(dsn string) string {
	if db.DialectOf(dsn) != db.Postgres {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "the PostgreSQL URL given"
	}
	return u.Redacted()
}
