package main

import (
	"context"
	"fmt"
	"io"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/db"
)

// backupCmd runs `moteplass backup FILE`: a consistent copy of the database
// while the app keeps serving (VACUUM INTO reads one snapshot; WAL lets
// writers go on meanwhile).
func backupCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: moteplass backup FILE")
		return 2
	}
	cfg, err := app.LoadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "moteplass: configuration: %v\n", err)
		return 2
	}
	ctx := context.Background()
	d, err := db.Open(ctx, cfg.DB)
	if err != nil {
		fmt.Fprintf(stderr, "moteplass: %v\n", err)
		return 1
	}
	defer d.Close()
	if err := d.Backup(ctx, args[0]); err != nil {
		fmt.Fprintf(stderr, "moteplass backup: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "backup written to %s\n", args[0])
	return 0
}
