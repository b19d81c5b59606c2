package app_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
)

// TestDevMailboxIsForAdminsOnly: with no mail server set (the default),
// the outbox is shown at /dev/mailbox. It holds every manage link and
// password reset link, so a visitor, an organiser or check-in staff who
// opens it gets nothing; a logged-in admin sees the mail.
func TestDevMailboxIsForAdminsOnly(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	ev := privEvent(t, a, "dfo", 10*24*time.Hour, 10)
	privSignUp(t, a, ev.Slug, privForm("Mona Mottaker", "mona.mottaker@example.no"))
	var id int64
	if err := a.DB.Read().QueryRow(`SELECT MAX(id) FROM outbox WHERE to_address_norm = ?`, "mona.mottaker@example.no").Scan(&id); err != nil {
		t.Fatal(err)
	}
	base := "/dev/mailbox"
	one := base + "/" + strconv.FormatInt(id, 10)
	paths := []string{base, one, one + "/html", one + "/raw"}

	visitor := apptest.NewClient(t, a.Router)
	for _, p := range paths {
		rec := visitor.Get(p)
		apptest.Want(t, rec, http.StatusSeeOther)
		if loc := rec.Header().Get("Location"); !strings.HasPrefix(loc, "/admin/login") {
			t.Errorf("%s: a visitor is sent to %q", p, loc)
		}
		if strings.Contains(rec.Body.String(), "/r/") || strings.Contains(rec.Body.String(), "Mona") {
			t.Errorf("%s shows mail to a visitor", p)
		}
	}
	for _, login := range []string{"arrangor@dfo.example.no", "innsjekk@dfo.example.no"} {
		cl := apptest.DemoLogin(t, a.Router, login)
		for _, p := range paths {
			rec := cl.Get(p)
			apptest.Want(t, rec, http.StatusForbidden)
			if strings.Contains(rec.Body.String(), "/r/") {
				t.Errorf("%s shows mail to %s", p, login)
			}
		}
	}
	admin := apptest.DemoLogin(t, a.Router, "admin@moteplass.example.no")
	rec := admin.Get(one + "/raw")
	apptest.Want(t, rec, http.StatusOK)
	if !strings.Contains(rec.Body.String(), "/r/") {
		t.Error("the admin does not see the message")
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Error("the mailbox may be cached")
	}
}

// TestSecurityTxt: /.well-known/security.txt (RFC 9116) says where to
// report a vulnerability and has not expired.
func TestSecurityTxt(t *testing.T) {
	a := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.SecurityContact = "sikkerhet@example.no" }})
	rec := apptest.NewClient(t, a.Router).Get("/.well-known/security.txt")
	apptest.Want(t, rec, http.StatusOK)
	body := rec.Body.String()
	if !strings.Contains(body, "Contact: mailto:sikkerhet@example.no\n") || !strings.Contains(body, "Canonical: http://localhost:8080/.well-known/security.txt") {
		t.Errorf("security.txt:\n%s", body)
	}
	var expires time.Time
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "Expires: "); ok {
			expires, _ = time.Parse(time.RFC3339, v)
		}
	}
	if !expires.After(time.Now().AddDate(0, 11, 0)) {
		t.Errorf("Expires %v: less than a year ahead", expires)
	}
}
