// Package icaljs lets tests read a calendar with a second, independent
// parser: Mozilla's ical.js (the one Thunderbird uses), run by Node through
// events/testdata/icaljs/parse.mjs, which prints what it read as JSON.
package icaljs

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// dir is events/testdata/icaljs, found from this file so tests in any
// package can use it.
func dir() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "events", "testdata", "icaljs")
}

// Parse reads calendar with ical.js and decodes parse.mjs's JSON into v.
// Without node or the installed package (npm ci --prefix
// events/testdata/icaljs) the test is skipped on a developer's machine and
// fails in CI (env CI set).
func Parse(t testing.TB, calendar []byte, v any) {
	t.Helper()
	d := dir()
	_, nodeErr := exec.LookPath("node")
	_, pkgErr := os.Stat(filepath.Join(d, "node_modules", "ical.js", "package.json"))
	if nodeErr != nil || pkgErr != nil {
		msg := "the ical.js check needs node and `npm ci --prefix events/testdata/icaljs`"
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (node: %v, package: %v)", msg, nodeErr, pkgErr)
		}
		t.Skip(msg)
	}
	file := filepath.Join(t.TempDir(), "calendar.ics")
	if err := os.WriteFile(file, calendar, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(d, "parse.mjs"), file)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ical.js could not read the calendar: %v\n%s\n%s", err, stderr.Bytes(), calendar)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("parse.mjs output: %v\n%s", err, out)
	}
}
