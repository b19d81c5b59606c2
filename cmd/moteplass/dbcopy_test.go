package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/pgtest"
)

// countLine is a row of the table db copy prints: table, source, copy.
var countLine = regexp.MustCompile(`(?m)^(\w+) +(\d+) +(\d+)$`)

// dbCopy runs `moteplass db copy` and returns the counts it printed, table
// by table (the copy's; the command has already compared them).
func dbCopy(t *testing.T, from, to string) map[string]int {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run([]string{"db", "copy", "--from", from, "--to", to}, env(nil), nil, &out, &errb); code != 0 {
		t.Fatalf("db copy: status %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
	t.Logf("db copy --from %s --to %s:\n%s", from, to, out.String())
	counts := map[string]int{}
	for _, m := range countLine.FindAllStringSubmatch(out.String(), -1) {
		src, _ := strconv.Atoi(m[2])
		dst, _ := strconv.Atoi(m[3])
		if src != dst {
			t.Errorf("%s: %d rows in the source, %d in the copy", m[1], src, dst)
		}
		counts[m[1]] = dst
	}
	if counts["registrations"] == 0 || counts["manage_tokens"] == 0 || counts["outbox"] == 0 {
		t.Fatalf("counts %v: no registrations, tokens or mail copied", counts)
	}
	return counts
}

// appOn starts the app on the database at dsn (no demo: it is a copy).
func appOn(t *testing.T, dsn string) *app.App {
	t.Helper()
	return apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.DB = dsn }})
}

// opensManage checks that the manage link with token shows name's registration.
func opensManage(t *testing.T, a *app.App, token, name string) {
	t.Helper()
	rec := apptest.NewClient(t, a.Router).Get("/r/" + token)
	apptest.Want(t, rec, http.StatusOK)
	apptest.Says(t, rec, name)
}

func sameCounts(t *testing.T, step string, want, got map[string]int) {
	t.Helper()
	for table, n := range want {
		if got[table] != n {
			t.Errorf("%s: %s has %d rows, the first copy %d", step, table, got[table], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d tables, the first copy %d", step, len(got), len(want))
	}
}

// TestDBCopy: the demo database, with a sign-up whose links went out, is
// copied SQLite → SQLite and (with MOTEPLASS_TEST_DB=postgres) SQLite →
// PostgreSQL → SQLite; on every copy the app opens the old links, and on
// PostgreSQL a new sign-up gets a new id.
func TestDBCopy(t *testing.T) {
	dir := t.TempDir()
	demoPath := filepath.Join(dir, "demo.db")
	demo := apptest.New(t, apptest.Options{Demo: true, Config: func(c *app.Config) { c.DB = demoPath }})
	ev := apptest.CreateEvent(t, demo, nil)
	rec, _ := apptest.SignUp(t, demo, ev.Slug, apptest.SignUpForm("Kari Nordmann", "kari@example.no"))
	pageToken := apptest.TokenOf(t, rec)
	mailToken := apptest.MailedToken(t, demo, "kari@example.no", ev.Slug)
	kari := apptest.ByEmail(t, demo, ev.ID, "kari@example.no")

	sqliteCopy := filepath.Join(dir, "copy.db")
	first := dbCopy(t, demoPath, sqliteCopy)
	t.Run("SQLite to SQLite", func(t *testing.T) {
		a := appOn(t, sqliteCopy)
		opensManage(t, a, pageToken, "Kari Nordmann")
		opensManage(t, a, mailToken, "Kari Nordmann")
	})

	t.Run("into a database with data", func(t *testing.T) {
		var out, errb bytes.Buffer
		code := run([]string{"db", "copy", "--from", demoPath, "--to", sqliteCopy}, env(nil), nil, &out, &errb)
		if code != 1 || !strings.Contains(errb.String(), "target database is not empty") {
			t.Errorf("status %d, stderr %q: want 1 and a refusal", code, errb.String())
		}
	})

	t.Run("SQLite to PostgreSQL and back", func(t *testing.T) {
		if !pgtest.Enabled() {
			t.Skip("needs PostgreSQL: run with MOTEPLASS_TEST_DB=postgres")
		}
		pgURL := pgtest.URL(t)
		sameCounts(t, "SQLite → PostgreSQL", first, dbCopy(t, demoPath, pgURL))
		back := filepath.Join(t.TempDir(), "back.db")
		sameCounts(t, "PostgreSQL → SQLite", first, dbCopy(t, pgURL, back))

		a := appOn(t, back)
		opensManage(t, a, pageToken, "Kari Nordmann")
		opensManage(t, a, mailToken, "Kari Nordmann")

		pg := appOn(t, pgURL)
		opensManage(t, pg, pageToken, "Kari Nordmann")
		opensManage(t, pg, mailToken, "Kari Nordmann")
		// a new sign-up on the PostgreSQL copy: its sequences start past the ids copied
		rec, _ := apptest.SignUp(t, pg, ev.Slug, apptest.SignUpForm("Ola Nordmann", "ola@example.no"))
		opensManage(t, pg, apptest.TokenOf(t, rec), "Ola Nordmann")
		if ola := apptest.ByEmail(t, pg, ev.ID, "ola@example.no"); ola.ID <= kari.ID {
			t.Errorf("the new registration has id %d, not after the copied %d", ola.ID, kari.ID)
		}

		// the PostgreSQL copy is not empty now: a second copy into it is refused
		var out, errb bytes.Buffer
		if code := run([]string{"db", "copy", "--from", demoPath, "--to", pgURL}, env(nil), nil, &out, &errb); code != 1 ||
			!strings.Contains(errb.String(), "not empty") {
			t.Errorf("copy into the used PostgreSQL copy: status %d, stderr %q", code, errb.String())
		}
	})
}

func TestDBCopyUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name   string
		args   []string
		status int
		err    string
	}{
		{"no subcommand", []string{"db"}, 2, "usage: moteplass db copy"},
		{"no target", []string{"db", "copy", "--from", "a.db"}, 2, "usage: moteplass db copy"},
		{"the same database", []string{"db", "copy", "--from", "a.db", "--to", "a.db"}, 2, "the same database"},
		{"no source", []string{"db", "copy", "--from", filepath.Join(dir, "none.db"), "--to", filepath.Join(dir, "b.db")}, 1, "no database at"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tt.args, env(nil), nil, &out, &errb); code != tt.status || !strings.Contains(errb.String(), tt.err) {
				t.Errorf("status %d, stderr %q; want %d and %q", code, errb.String(), tt.status, tt.err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
		t.Error("a copy from a missing file made it")
	}
}
