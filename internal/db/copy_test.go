package db

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openAt opens (and migrates, unless noMigrate) the database at dsn for the test.
func openAt(t *testing.T, dsn string, noMigrate bool) *DB {
	t.Helper()
	d, err := OpenWith(context.Background(), dsn, Options{NoMigrate: noMigrate})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func sqlitePath(t *testing.T, name string) string { return filepath.Join(t.TempDir(), name) }

// needPostgres skips a test that needs a PostgreSQL server.
func needPostgres(t *testing.T) {
	t.Helper()
	if !pgtest.Enabled() {
		t.Skip("needs PostgreSQL: run with MOTEPLASS_TEST_DB=postgres")
	}
}

// at is a time with the precision both engines keep (microseconds).
var at = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

// fill writes a small world that touches every kind of value: ids with
// gaps, NULLs, 0/1 booleans, reals, timestamps, text outside ASCII, a
// token hash, and registrations the seat-count triggers count.
func fill(t *testing.T, d *DB) {
	t.Helper()
	ctx := context.Background()
	stmts := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO regions (id, slug, name, sort_order) VALUES (3, 'tromso', 'Tromsø', 2)`, nil},
		{`INSERT INTO organisers (id, slug, name, kind, contact_email) VALUES (4, 'dfo', 'DFØ', 'public', 'post@dfo.example.no')`, nil},
		{`INSERT INTO venues (id, name, latitude, longitude) VALUES (5, 'Huset', 69.6489, NULL)`, nil},
		{`INSERT INTO series (id, slug, title, organiser_id) VALUES (6, 'nett', 'Nettverket', 4)`, nil},
		{`INSERT INTO events (id, slug, title, format, starts_at, ends_at, region_id, venue_id, capacity,
			registration_opens_at, invitation_only, status, organiser_id, series_id, created_at, updated_at)
			VALUES (7, 'mote', 'Møtet', 'meeting_place', ?, ?, 3, 5, 2, NULL, 1, 'published', 4, 6, ?, ?)`,
			[]any{at.Add(240 * time.Hour), at.Add(243 * time.Hour), at, at}},
		{`INSERT INTO events (id, slug, title, format, starts_at, ends_at, region_id, capacity, status, organiser_id, created_at, updated_at)
			VALUES (9, 'tomt', 'Tomt', 'conference', ?, ?, 3, 0, 'draft', 4, ?, ?)`,
			[]any{at.Add(480 * time.Hour), at.Add(483 * time.Hour), at, at}},
		{`INSERT INTO event_levels (event_id, level) VALUES (7, 'top'), (7, 'middle')`, nil},
		{`INSERT INTO agenda_items (id, event_id, position, starts_at, title) VALUES (1, 7, 1, NULL, 'Velkommen')`, nil},
	}
	for i, status := range []string{"confirmed", "confirmed", "waiting", "cancelled"} {
		stmts = append(stmts, struct {
			q    string
			args []any
		}{`INSERT INTO registrations (id, event_id, status, name, email, email_norm, organisation, level, sector,
			intro_consent, created_at, updated_at, queued_at, cancelled_at)
			VALUES (?, 7, ?, ?, ?, ?, 'Etaten', 'middle', 'state', ?, ?, ?, ?, ?)`,
			[]any{10 + i, status, fmt.Sprintf("Kåre Ødegård %d", i), fmt.Sprintf("Kare%d@Example.no", i),
				fmt.Sprintf("kare%d@example.no", i), i % 2, at, at, at.Add(time.Duration(i) * time.Second),
				NullTime(map[bool]time.Time{true: at}[status == "cancelled"])}})
	}
	stmts = append(stmts, []struct {
		q    string
		args []any
	}{
		{`INSERT INTO manage_tokens (token_hash, registration_id, created_at, expires_at, scope) VALUES (?, 10, ?, ?, 'mail')`,
			[]any{strings.Repeat("ab", 32), at, at.Add(1000 * time.Hour)}},
		{`INSERT INTO consents (id, registration_id, kind, granted, wording_version, wording, lang, recorded_at)
			VALUES (2, 10, 'health', 1, 'health-v1', 'Jeg samtykker «helse».', 'nb', ?)`, []any{at}},
		{`INSERT INTO outbox (id, kind, to_address, to_address_norm, subject, text_body, message_id, dedupe_key,
			status, next_attempt_at, created_at, delete_when_sent) VALUES (8, 'registration_confirmed', 'Kare0@Example.no',
			'kare0@example.no', 'Påmeldt', 'Lenke: /r/x', 'abc', NULL, 'held', ?, ?, 0)`, []any{at, at}},
		{`INSERT INTO users (id, email, name, password_hash, role, created_at) VALUES (2, 'sjef@example.no', 'Sjef', 'x', 'admin', ?)`, []any{at}},
		{`INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ('cd', 2, ?, ?)`, []any{at, at.Add(time.Hour)}},
		{`INSERT INTO audit_log (id, at, user_id, organiser_id, action, object_type, object_id) VALUES (1, ?, 2, 4, 'event_create', 'event', 7)`, []any{at}},
		{`INSERT INTO intro_rounds (id, event_id, seed, status, created_at, updated_at) VALUES (1, 7, 42, 'draft', ?, ?)`, []any{at, at}},
		{`INSERT INTO intro_groups (id, round_id, kind, position, score, edited) VALUES (1, 1, 'intro', 1, 0.75, 1)`, nil},
		{`INSERT INTO intro_members (id, group_id, round_id, kind, registration_id, met) VALUES (1, 1, 1, 'intro', 10, NULL), (2, 1, 1, 'intro', 11, 1)`, nil},
		{`INSERT INTO intro_tokens (token_hash, registration_id, member_id, purpose, created_at, expires_at) VALUES ('ef', 11, 2, 'met', ?, ?)`, []any{at, at}},
		{`INSERT INTO personal_feeds (email_norm, token, created_at) VALUES ('kare0@example.no', 'feedtoken', ?)`, []any{at}},
		{`INSERT INTO jobs (name, holder, lease_until, done_at) VALUES ('reminders', '', NULL, ?)`, []any{at}},
	}...)
	err := d.Tx(ctx, func(tx *sql.Tx, _ time.Time) error {
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
				return fmt.Errorf("%s: %w", s.q, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// dump is every copied table of d as text, rows sorted, each value with
// its Go type, so two databases of either engine compare equal only if
// every value came back as it went in.
func dump(t *testing.T, d *DB) map[string][]string {
	t.Helper()
	ctx := context.Background()
	tables, err := copyOrder(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, table := range tables {
		cols, err := d.columns(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(cols)
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = quote(c)
		}
		rows, err := d.Read().QueryContext(ctx, `SELECT `+strings.Join(names, ", ")+` FROM `+quote(table))
		if err != nil {
			t.Fatal(err)
		}
		values := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range values {
			ptrs[i] = &values[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range values {
				fmt.Fprintf(&b, "%s=%s ", cols[i], shownValue(v))
			}
			out[table] = append(out[table], b.String())
		}
		rows.Close()
		slices.Sort(out[table])
	}
	return out
}

func shownValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return "time:" + v.UTC().Format(time.RFC3339Nano)
	case []byte:
		return "bytes:" + hex.EncodeToString(v)
	}
	return fmt.Sprintf("%T:%v", v, v)
}

func sameDump(t *testing.T, step string, want, got map[string][]string) {
	t.Helper()
	if reflect.DeepEqual(want, got) {
		return
	}
	for table := range want {
		if !slices.Equal(want[table], got[table]) {
			t.Errorf("%s: table %s differs:\nsource: %q\ncopy:   %q", step, table, want[table], got[table])
		}
	}
	if len(want) != len(got) {
		t.Errorf("%s: %d tables, want %d", step, len(got), len(want))
	}
}

// copyInto copies from into to and checks what Copy says.
func copyInto(t *testing.T, from, to *DB) Counts {
	t.Helper()
	var out bytes.Buffer
	counts, err := Copy(context.Background(), from, to, &out)
	if err != nil {
		t.Fatalf("copy: %v\n%s", err, out.String())
	}
	if bad := counts.Mismatched(); len(bad) > 0 {
		t.Fatalf("counts differ in %v", bad)
	}
	for _, want := range []string{"manage_tokens", "registrations", "seat counts: all 2 events agree"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("%s → %s:\n%s", from.Dialect(), to.Dialect(), out.String())
	return counts
}

func TestCopySQLiteToSQLite(t *testing.T) {
	src := openAt(t, sqlitePath(t, "src.db"), false)
	fill(t, src)
	dst := openAt(t, sqlitePath(t, "dst.db"), false)
	counts := copyInto(t, src, dst)
	sameDump(t, "sqlite → sqlite", dump(t, src), dump(t, dst))

	tables, _ := copyOrder(context.Background(), src)
	if len(counts) != len(tables) {
		t.Errorf("%d tables counted, %d copied", len(counts), len(tables))
	}
	for _, c := range counts {
		if c.Table == "registrations" && c.Target != 4 {
			t.Errorf("registrations: %d copied, want 4", c.Target)
		}
	}
}

// TestCopyRoundTripPostgres: SQLite → PostgreSQL → SQLite keeps every
// value (ids, token hashes, booleans, timestamps, NULLs), and the
// PostgreSQL copy gives new rows new ids.
func TestCopyRoundTripPostgres(t *testing.T) {
	needPostgres(t)
	ctx := context.Background()
	src := openAt(t, sqlitePath(t, "src.db"), false)
	fill(t, src)
	want := dump(t, src)

	pgURL := pgtest.URL(t)
	pg := openAt(t, pgURL, false)
	copyInto(t, src, pg)
	sameDump(t, "sqlite → postgres", want, dump(t, pg))

	// the copy's source is opened as the command opens it: not migrated
	pgSrc := openAt(t, pgURL, true)
	back := openAt(t, sqlitePath(t, "back.db"), false)
	copyInto(t, pgSrc, back)
	sameDump(t, "postgres → sqlite", want, dump(t, back))

	// the sequences were moved past the ids copied
	var id int64
	err := pg.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		return tx.QueryRowContext(ctx, `INSERT INTO registrations (event_id, status, name, email, email_norm, organisation,
			level, sector, created_at, updated_at, queued_at) VALUES (7, 'waiting', 'Ny', 'ny@example.no', 'ny@example.no',
			'Etaten', 'top', 'state', ?, ?, ?) RETURNING id`, now, now, now).Scan(&id)
	})
	if err != nil {
		t.Fatalf("a new registration on the copy: %v", err)
	}
	if id != 14 {
		t.Errorf("new registration got id %d, want 14 (after the largest copied, 13)", id)
	}
	var waiting int
	if err := pg.Read().QueryRowContext(ctx, `SELECT waitlist_count FROM events WHERE id = 7`).Scan(&waiting); err != nil || waiting != 2 {
		t.Errorf("waitlist_count %d (%v), want 2: the trigger counts on the copy", waiting, err)
	}
}

func TestCopyRefusesATargetWithData(t *testing.T) {
	targets := map[string]func(t *testing.T) string{"sqlite": func(t *testing.T) string { return sqlitePath(t, "dst.db") }}
	if pgtest.Enabled() {
		targets["postgres"] = func(t *testing.T) string { return pgtest.URL(t) }
	}
	for name, target := range targets {
		t.Run(name, func(t *testing.T) {
			src := openAt(t, sqlitePath(t, "src.db"), false)
			fill(t, src)
			dst := openAt(t, target(t), false)
			err := dst.Tx(context.Background(), func(tx *sql.Tx, _ time.Time) error {
				_, err := tx.Exec(`INSERT INTO regions (id, slug, name) VALUES (1, 'oslo', 'Oslo')`)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			_, err = Copy(context.Background(), src, dst, &out)
			if !errors.Is(err, ErrTargetNotEmpty) || !strings.Contains(err.Error(), "regions: 1") {
				t.Fatalf("copy into a database with a region: %v, want ErrTargetNotEmpty naming regions", err)
			}
			var n int
			dst.Read().QueryRow(`SELECT COUNT(*) FROM registrations`).Scan(&n)
			if n != 0 {
				t.Errorf("the refused copy wrote %d registrations", n)
			}
		})
	}
}

func TestCopyRefusesOtherMigrations(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name, change, says string
	}{
		{"older source", `DELETE FROM schema_migrations WHERE name = 'migrations/013_jobs.sql'`, "older version (it lacks migrations/013_jobs.sql)"},
		{"newer source", `INSERT INTO schema_migrations (name, applied_at) VALUES ('migrations/999_future.sql', CURRENT_TIMESTAMP)`, "newer moteplass"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := openAt(t, sqlitePath(t, "src.db"), false)
			if _, err := src.Write().ExecContext(ctx, tt.change); err != nil {
				t.Fatal(err)
			}
			dst := openAt(t, sqlitePath(t, "dst.db"), false)
			_, err := Copy(ctx, src, dst, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("copy: %v, want an error saying %q", err, tt.says)
			}
		})
	}

	t.Run("not a Møteplass database", func(t *testing.T) {
		src := openAt(t, sqlitePath(t, "other.db"), true)
		dst := openAt(t, sqlitePath(t, "dst.db"), false)
		_, err := Copy(ctx, src, dst, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "not a Møteplass database") {
			t.Fatalf("copy: %v", err)
		}
	})
}

// TestCopyOrder: every table the migrations make is copied (but the
// database's own), each after the tables it refers to.
func TestCopyOrder(t *testing.T) {
	dsns := map[string]string{"sqlite": sqlitePath(t, "order.db")}
	if pgtest.Enabled() {
		dsns["postgres"] = pgtest.URL(t)
	}
	ctx := context.Background()
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			d := openAt(t, dsn, false)
			order, err := copyOrder(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			all, _ := d.tables(ctx)
			for _, table := range all {
				if !notCopied[table] && !slices.Contains(order, table) {
					t.Errorf("table %s is not copied", table)
				}
			}
			for i, table := range order {
				parents, _ := d.parents(ctx, table)
				for _, p := range parents {
					if j := slices.Index(order, p); j > i {
						t.Errorf("%s is copied before %s, which it refers to", table, p)
					}
				}
			}
			for _, want := range []string{"events", "registrations", "manage_tokens", "outbox", "users", "intro_members", "jobs"} {
				if !slices.Contains(order, want) {
					t.Errorf("%s missing from %v", want, order)
				}
			}
			t.Logf("order: %v", order)
		})
	}
}

func TestDependencyOrder(t *testing.T) {
	got, err := dependencyOrder([]string{"c", "b", "a", "self"}, map[string][]string{"a": {"b"}, "b": {"c"}, "self": {"self"}})
	if err != nil || !slices.Equal(got, []string{"c", "self", "b", "a"}) {
		t.Errorf("order %v (%v), want [c self b a]", got, err)
	}
	if _, err := dependencyOrder([]string{"a", "b"}, map[string][]string{"a": {"b"}, "b": {"a"}}); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("a cycle: %v", err)
	}
}

// TestKnownTriggers fails when a migration adds a trigger: if it keeps a
// count or a copy of other rows, the copy would count twice (see
// triggerCounted in copy.go, and add its columns there).
func TestKnownTriggers(t *testing.T) {
	want := []string{"registrations_count_delete", "registrations_count_insert", "registrations_count_update"}
	dsns := map[string]string{"sqlite": sqlitePath(t, "triggers.db")}
	if pgtest.Enabled() {
		dsns["postgres"] = pgtest.URL(t)
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			d := openAt(t, dsn, false)
			q := `SELECT name FROM sqlite_schema WHERE type = 'trigger'`
			if name == "postgres" {
				q = `SELECT DISTINCT trigger_name::text FROM information_schema.triggers WHERE trigger_schema = current_schema()`
			}
			got, err := queryStrings(context.Background(), d.Read(), q)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("triggers %v, want %v: see triggerCounted in copy.go", got, want)
			}
		})
	}
	if !slices.Equal(triggerCounted["events"], []string{"confirmed_count", "waitlist_count"}) {
		t.Errorf("triggerCounted %v", triggerCounted)
	}
}

func TestOpenWithoutMigrating(t *testing.T) {
	d := openAt(t, sqlitePath(t, "bare.db"), true)
	tables, err := d.tables(context.Background())
	if err != nil || len(tables) != 0 {
		t.Errorf("a database opened with NoMigrate has tables %v (%v)", tables, err)
	}
}
