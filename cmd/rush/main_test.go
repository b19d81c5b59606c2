package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
)

// TestRushSmall runs the whole tool against the real app on loopback: the
// HTTP rush, its checks from the database, then the raw limit in the same
// run and the two side by side. It asserts nothing about speed.
func TestRushSmall(t *testing.T) {
	code, out := rushAgainstApp(t, 0, "-n", "60", "-seats", "20", "-c", "8")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		"ok: 20 confirmed of 20 seats, 40 waiting in a gap-free line, no address twice, no 5xx, one email each",
		"(raw: database only)", "ok: 20 confirmed of 20 seats, 40 waiting",
		"side by side: HTTP ", "of the raw limit's",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
}

// TestRushRefusesAnEventWithSignUps: the checks count every registration
// of the event, so it must start empty.
func TestRushRefusesAnEventWithSignUps(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	var slug string
	if err := a.DB.Read().QueryRow(`SELECT slug FROM events WHERE confirmed_count > 0 LIMIT 1`).Scan(&slug); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	code := run(context.Background(), []string{"-raw", "-db", a.Config.DB, "-event", slug, "-n", "5"}, &out, &errs)
	if code != 2 || !strings.Contains(errs.String(), "already has registrations") {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
}

func TestRushRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-n", "0"}, {"-c", "0"}, {"-seats", "-1"}, {"-nope"}} {
		var out, errs bytes.Buffer
		if code := run(context.Background(), args, &out, &errs); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errs.String())
		}
	}
}

// TestRushFailsWhenSignUpsAreMissing: against a server that turns most
// sign-ups away (its rate limit on), the checks must fail, not pass.
func TestRushFailsWhenSignUpsAreMissing(t *testing.T) {
	code, out := rushAgainstApp(t, 2, "-n", "20", "-seats", "5", "-c", "4")
	if code != 1 || !strings.Contains(out, "FAIL:") || !strings.Contains(out, "status 429") {
		t.Fatalf("exit %d, want 1 with the failures listed:\n%s", code, out)
	}
}

// rushAgainstApp runs the tool against the real app (with signupRate
// sign-ups per address per minute) on loopback and returns its exit
// status and everything it printed.
func rushAgainstApp(t *testing.T, signupRate int, args ...string) (int, string) {
	t.Helper()
	a := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.SignupRate = signupRate }})
	srv := httptest.NewServer(a.Router)
	defer srv.Close()
	var out bytes.Buffer
	code := run(context.Background(), append([]string{"-url", srv.URL, "-db", a.Config.DB}, args...), &out, &out)
	return code, out.String()
}
