package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/organisers"
)

// adminCmd runs `moteplass admin create --email ... [--name ...] [--role admin]
// [--organiser slug]`. The password comes from MOTEPLASS_ADMIN_PASSWORD or,
// when that is unset, the first line of standard input (a prompt).
func adminCmd(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "usage: moteplass admin create --email EMAIL [--name NAME] [--role admin|organiser|checkin] [--organiser SLUG]")
		return 2
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the login's email address (required)")
	name := fs.String("name", "", "the person's name (default: the part of the email before @)")
	role := fs.String("role", organisers.RoleAdmin, "admin, organiser or checkin")
	org := fs.String("organiser", "", "the organisation's slug (required for organiser and checkin)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *email == "" {
		fmt.Fprintln(stderr, "moteplass admin create: --email is required")
		return 2
	}
	if *name == "" {
		*name, _, _ = strings.Cut(*email, "@")
	}
	cfg, err := app.LoadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "moteplass: configuration: %v\n", err)
		return 2
	}
	password := getenv("MOTEPLASS_ADMIN_PASSWORD")
	if password == "" {
		fmt.Fprintf(stdout, "Password (at least %d characters): ", organisers.MinPasswordLength)
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(stderr, "moteplass admin create: read password: %v\n", err)
			return 1
		}
		password = strings.TrimRight(line, "\r\n")
	}
	ctx := context.Background()
	d, err := db.Open(ctx, cfg.DB)
	if err != nil {
		fmt.Fprintf(stderr, "moteplass: %v\n", err)
		return 1
	}
	defer d.Close()
	u := organisers.User{Email: *email, Name: *name, Role: *role}
	if *org != "" {
		o, err := (&events.Store{DB: d}).FindOrganiserBySlug(ctx, *org)
		if err != nil {
			fmt.Fprintf(stderr, "moteplass admin create: no organiser %q\n", *org)
			return 2
		}
		u.OrganiserID = o.ID
	}
	accounts := organisers.NewStore(d)
	err = d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := accounts.CreateUser(ctx, tx, now, &u, password); err != nil {
			return err
		}
		return organisers.Audit(ctx, tx, now, nil, u.OrganiserID, "user_create", "user", u.ID, "command line")
	})
	if errors.Is(err, db.ErrUnique) {
		fmt.Fprintf(stderr, "moteplass admin create: there is already a user %s\n", u.Email)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "moteplass admin create: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "created %s %s (id %d)\n", u.Role, u.Email, u.ID)
	return 0
}
