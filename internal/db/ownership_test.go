package db_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// owners says which package owns the tables each migration creates: the
// package whose code may write them. Everyone else calls the owner's
// functions (inside the caller's transaction when it must be atomic). A
// migration that creates a table must be listed here, so a new table
// gets an owner the day it is made.
var owners = map[string]string{
	"001_events.sql":        "events",
	"002_registrations.sql": "registration",
	"003_outbox.sql":        "mailer",
	"004_organisers.sql":    "organisers",
	"005_introductions.sql": "introductions",
	"007_feeds.sql":         "registration",
	"010_capabilities.sql":  "registration",
	"011_health.sql":        "db",
	"013_jobs.sql":          "app",
}

// sharedTables may be written by more than one package, and why.
var sharedTables = map[string]string{
	// the migration runner's own bookkeeping
	"schema_migrations": "db",
}

// domains are the packages whose SQL is checked, by folder.
var domains = map[string]string{
	"events": "events", "registration": "registration", "introductions": "introductions",
	"organisers": "organisers", "mailer": "mailer", "privacy": "privacy",
	"internal/demo": "demo", "internal/app": "app", "internal/db": "db",
}

var (
	createRE = regexp.MustCompile(`(?i)CREATE TABLE\s+(?:IF NOT EXISTS\s+)?(\w+)`)
	renameRE = regexp.MustCompile(`(?i)ALTER TABLE\s+(\w+)\s+RENAME TO\s+(\w+)`)
	// an UPDATE is one when SET follows the table (not "update event %d"
	// in an error message); a table named by %s is not seen (none should be)
	writeRE = regexp.MustCompile(`(?i)\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO\s+(\w+)|UPDATE(?:\s+OR\s+\w+)?\s+(\w+)\s+SET\b|DELETE\s+FROM\s+(\w+))`)
)

// tableOwners reads the owner of every table from the migrations.
func tableOwners(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations (%v)", err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sql := stripSQLComments(string(b))
		for _, m := range renameRE.FindAllStringSubmatch(sql, -1) {
			// a table rebuilt under a temporary name keeps its owner
			if o, ok := out[strings.ToLower(m[2])]; ok {
				out[strings.ToLower(m[1])] = o
			}
		}
		creates := createRE.FindAllStringSubmatch(sql, -1)
		if len(creates) == 0 {
			continue
		}
		owner, ok := owners[filepath.Base(f)]
		if !ok {
			t.Errorf("%s creates tables but has no owner in ownership_test.go", filepath.Base(f))
			continue
		}
		for _, m := range creates {
			out[strings.ToLower(m[1])] = owner
		}
	}
	return out
}

func stripSQLComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestEachTableIsWrittenOnlyByItsOwner parses the SQL in every domain
// package's code (string literals) and fails when a package writes a
// table another package owns.
func TestEachTableIsWrittenOnlyByItsOwner(t *testing.T) {
	tables := tableOwners(t)
	root := filepath.Join("..", "..")
	for dir, pkg := range domains {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			for _, w := range sqlWrites(t, f) {
				if w.table == "%s" {
					if pkg != "db" {
						t.Errorf("%s:%d writes a table named at run time: name it in the SQL so its owner can be checked", rel(f), w.line)
					}
					continue
				}
				owner, ok := tables[w.table]
				if !ok {
					if _, shared := sharedTables[w.table]; !shared {
						t.Errorf("%s:%d writes %s, a table no migration creates", rel(f), w.line, w.table)
					}
					continue
				}
				if owner != pkg {
					t.Errorf("%s:%d: %s writes %s, which %s owns: call %s's function instead", rel(f), w.line, pkg, w.table, owner, owner)
				}
			}
		}
	}
}

// dynamicWriteRE is a write to a table named at run time, which the check
// cannot follow: only internal/db's generic mechanisms may do that.
var dynamicWriteRE = regexp.MustCompile(`(?i)\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+%[sv]`)

type sqlWrite struct {
	table string
	line  int
}

// sqlWrites are the tables the string literals of a Go file write to.
func sqlWrites(t *testing.T, path string) []sqlWrite {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var out []sqlWrite
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return true
		}
		for _, m := range writeRE.FindAllStringSubmatch(stripSQLComments(s), -1) {
			table := strings.ToLower(m[1] + m[2] + m[3])
			out = append(out, sqlWrite{table: table, line: fset.Position(lit.Pos()).Line})
		}
		if dynamicWriteRE.MatchString(s) {
			out = append(out, sqlWrite{table: "%s", line: fset.Position(lit.Pos()).Line})
		}
		return true
	})
	return out
}

func rel(path string) string {
	p, err := filepath.Rel(filepath.Join("..", ".."), path)
	if err != nil {
		return path
	}
	return p
}

// TestTheOwnershipCheckSeesWrites guards the check itself: it must see a
// write in each of the forms the code uses.
func TestTheOwnershipCheckSeesWrites(t *testing.T) {
	dir := t.TempDir()
	src := "package x\nconst q = `INSERT INTO outbox (id) VALUES (?)`\n" +
		"var u = \"UPDATE events SET capacity = ? WHERE id = ?\"\n" +
		"const d = `DELETE FROM intro_tokens WHERE registration_id = ?`\n" +
		"const up = `INSERT INTO personal_feeds (a) VALUES (?) ON CONFLICT (a) DO UPDATE SET a = excluded.a`\n" +
		"const dyn = `UPDATE OR IGNORE %s SET %s = ?`\n" +
		"const msg = \"events: update event %d\"\n"
	path := filepath.Join(dir, "x.go")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range sqlWrites(t, path) {
		got = append(got, w.table)
	}
	want := []string{"outbox", "events", "intro_tokens", "personal_feeds", "%s"}
	if !slices.Equal(got, want) {
		t.Errorf("writes seen: %v, want %v", got, want)
	}
}
