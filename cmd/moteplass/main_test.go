package main

import (
	"bytes"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// env is a fake environment for run.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "m.db")
	vars := map[string]string{"MOTEPLASS_DB": dbPath, "MOTEPLASS_DEMO": "off", "MOTEPLASS_ADMIN_PASSWORD": "et langt passord her"}

	tests := []struct {
		name   string
		args   []string
		stdin  string
		vars   map[string]string
		status int
		out    string // in stdout
		err    string // in stderr
	}{
		{"unknown command", []string{"fly"}, "", vars, 2, "", `unknown command "fly"`},
		{"help", []string{"help"}, "", vars, 0, "moteplass admin create", ""},
		{"bad configuration", []string{"serve"}, "", map[string]string{"MOTEPLASS_ADDR": "nowhere"}, 2, "", "MOTEPLASS_ADDR"},
		{"admin create", []string{"admin", "create", "--email", "Sjef@Example.no"}, "", vars, 0, "created admin sjef@example.no", ""},
		{"admin create twice", []string{"admin", "create", "--email", "sjef@example.no"}, "", vars, 1, "", "already a user"},
		{"admin create without email", []string{"admin", "create"}, "", vars, 2, "", "--email is required"},
		{"organiser of an unknown organisation", []string{"admin", "create", "--email", "o@example.no", "--role", "organiser", "--organiser", "nope"}, "", vars, 2, "", `no organiser "nope"`},
		{"password from the prompt", []string{"admin", "create", "--email", "p@example.no"}, "et annet langt passord\n",
			map[string]string{"MOTEPLASS_DB": dbPath}, 0, "created admin p@example.no", ""},
		{"short password from the prompt", []string{"admin", "create", "--email", "q@example.no"}, "kort\n",
			map[string]string{"MOTEPLASS_DB": dbPath}, 1, "", "at least 12"},
		{"backup", []string{"backup", filepath.Join(dir, "copy.db")}, "", vars, 0, "backup written", ""},
		{"backup needs a file", []string{"backup"}, "", vars, 2, "", "usage"},
		{"match", []string{"match", "--seed", "1"}, `[{"id":"a","name":"A","organisation":"X","level":"middle","role":"hr","sector":"state"},{"id":"b","name":"B","organisation":"Y","level":"middle","role":"hr","sector":"state"}]`, vars, 0, `"introductions"`, ""},
		{"match with bad input", []string{"match"}, `[{"id":"a"}]`, vars, 2, "", "organisation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			got := run(tt.args, env(tt.vars), strings.NewReader(tt.stdin), &out, &errb)
			if got != tt.status {
				t.Fatalf("status %d, want %d\nstdout: %s\nstderr: %s", got, tt.status, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tt.out) {
				t.Errorf("stdout %q lacks %q", out.String(), tt.out)
			}
			if !strings.Contains(errb.String(), tt.err) {
				t.Errorf("stderr %q lacks %q", errb.String(), tt.err)
			}
		})
	}

	// the backup is a whole database with the admins in it
	copyDB, err := sql.Open("sqlite", filepath.Join(dir, "copy.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	var check string
	var users int
	copyDB.QueryRow(`PRAGMA integrity_check`).Scan(&check)
	copyDB.QueryRow(`SELECT COUNT(*) FROM users`).Scan(&users)
	if check != "ok" || users != 2 {
		t.Errorf("backup: integrity %q, %d users (want ok, 2)", check, users)
	}
}
