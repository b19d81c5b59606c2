// Command moteplass serves Møteplass and runs its administrative tasks.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/moteplass/moteplass/internal/app"
)

const usage = `usage:
  moteplass [serve]               serve the web application (the default)
  moteplass admin create --email EMAIL [--role admin|organiser|checkin] [--organiser SLUG]
                                  create a login (password from MOTEPLASS_ADMIN_PASSWORD or a prompt)
  moteplass backup FILE           write a consistent copy of the database while it serves
  moteplass db copy --from SRC --to DST
                                  copy a whole database (SQLite file or postgres:// URL) into an empty one
  moteplass match [--seed N] [--group-size 3] [--csv]
                                  match people for introductions (JSON or CSV on stdin)`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status.
func run(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(getenv, stderr)
	case "admin":
		return adminCmd(args, getenv, stdin, stdout, stderr)
	case "match":
		return matchCmd(args, stdin, stdout, stderr)
	case "backup":
		return backupCmd(args, getenv, stdout, stderr)
	case "db":
		return dbCmd(args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "moteplass: unknown command %q\n%s\n", cmd, usage)
	return 2
}

func serve(getenv func(string) string, stderr io.Writer) int {
	cfg, err := app.LoadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "moteplass: configuration: %v\n", err)
		return 2
	}
	logger := app.NewLogger(stderr, cfg.LogLevel)
	if getenv("GOGC") == "" {
		// The heap that stays is small (templates, caches: about 25 MB) and
		// a sign-up allocates about 50 KB, so with Go's default of 100 a
		// rush collects several times a second, and every collection slows
		// the single writer that all sign-ups wait for. 400 costs about
		// 100 MB more memory and makes a quarter of the collections (the
		// README has the figures). GOGC in the environment wins.
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	a, err := app.NewApp(ctx, cfg, logger)
	if err != nil {
		fmt.Fprintf(stderr, "moteplass: %v\n", err)
		return 1
	}
	defer a.Close()
	if err := a.Listen(); err != nil {
		fmt.Fprintf(stderr, "moteplass: %v\n", err)
		return 1
	}
	logger.Info("serving", "addr", a.Addr(), "base_url", cfg.BaseURL, "db", cfg.DB)
	if err := a.Serve(ctx); err != nil {
		logger.Error("serve", "error", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}
