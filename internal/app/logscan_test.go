package app_test

// No personal data in logs: every main flow runs with distinctive names
// and addresses, with the request log and the application's logger (the
// mail worker's lines included) captured, and none of those values may
// appear in what was written.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/smtptest"
	"github.com/moteplass/moteplass/organisers"
	"github.com/moteplass/moteplass/privacy"
)

func privSendAll(t testing.TB, a *app.App) {
	t.Helper()
	for i := 0; i < 100; i++ {
		n, err := a.Mailer.SendDue(context.Background())
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		if n == 0 {
			return
		}
	}
}

func TestLogsHoldNoPersonalData(t *testing.T) {
	// Distinctive values: any of them in the log is a leak.
	people := []struct{ name, email, phone string }{
		{"Xerxes Loggfrisk", "xerxes.loggfrisk@logg.example.no", "+47 401 99 881"},
		{"Yolanda Skjultnavn", "yolanda.skjult@logg.example.no", "+47 401 99 882"},
		{"Zakarias Usynligsen", "zakarias.usynlig@logg.example.no", "+47 401 99 883"},
		{"Åsmund Hemmeligstad", "asmund.hemmelig@logg.example.no", "+47 401 99 884"},
	}
	const (
		organiserName  = "Olga Loggarrangørsen"
		organiserEmail = "olga.loggarrangor@arr.example.no"
		rejected       = "avvist.mottaker@logg.example.no"
	)
	secrets := []string{organiserName, organiserEmail, rejected, "Loggarrangørsen", "et-langt-passord-1234"}
	for _, p := range people {
		secrets = append(secrets, p.name, p.email, p.phone, strings.Fields(p.name)[1])
	}

	logs := &lockedWriter{}
	srv := smtptest.Start(t, rejected)
	a := apptest.New(t, apptest.Options{Log: logs, Config: func(c *app.Config) {
		c.SMTPHost, c.SMTPPort, c.SMTPTLS = "127.0.0.1", srv.Port, "none"
		c.LogLevel = "debug"
	}})
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Second)
	a.DB.Now = func() time.Time { return t0 }
	ev := privEvent(t, a, "dfo", 24*time.Hour, 2)
	later := privEvent(t, a, "dfo", 20*24*time.Hour, 10)
	form := func(i int) url.Values {
		f := privForm(people[i].name, people[i].email)
		f.Set("phone", people[i].phone)
		f.Set("organisation", "Virksomhet "+strconv.Itoa(i))
		return f
	}
	var tokens []string
	var manageRoutes []string

	// sign up (two confirmed, one waiting), a form with errors, a duplicate
	for i := 0; i < 3; i++ {
		tokens = append(tokens, privSignUp(t, a, ev.Slug, form(i)))
	}
	privSignUp(t, a, later.Slug, form(0))
	bad := form(3)
	bad.Del("level")
	cl := apptest.NewClient(t, a.Router)
	cl.Get("/events/" + ev.Slug)
	apptest.Want(t, cl.PostForm("/events/"+ev.Slug+"/registrations", bad), http.StatusUnprocessableEntity)
	apptest.Want(t, cl.PostForm("/events/"+ev.Slug+"/registrations", form(0)), http.StatusSeeOther)

	// manage: view, update, cancel (which promotes), lost link, every
	// manage route with the person's token
	for _, r := range a.Router.Routes() {
		if strings.HasPrefix(r.Path, "/r/:token") && r.Method == http.MethodGet {
			manageRoutes = append(manageRoutes, r.Path)
		}
	}
	m := apptest.NewClient(t, a.Router)
	for _, path := range manageRoutes {
		m.Get(strings.ReplaceAll(path, ":token", tokens[0]))
	}
	upd := form(0)
	upd.Set("dietary", "Glutenfri")
	upd.Set("health_consent", "1")
	apptest.Want(t, m.PostForm("/r/"+tokens[0], upd), http.StatusSeeOther)
	upd.Set("level", "ugyldig")
	apptest.Want(t, m.PostForm("/r/"+tokens[0], upd), http.StatusUnprocessableEntity)
	apptest.Want(t, m.PostForm("/r/"+tokens[1]+"/cancel", url.Values{}), http.StatusSeeOther)
	apptest.Want(t, m.PostForm("/r", url.Values{"email": {people[0].email}}), http.StatusSeeOther)
	apptest.Want(t, m.PostForm("/r", url.Values{"email": {people[3].email}}), http.StatusSeeOther)
	apptest.Want(t, m.PostForm("/r", url.Values{"email": {people[3].name}}), http.StatusUnprocessableEntity)

	// organisers: a failed and a good login, a password reset, every admin
	// page with the event's id
	var dfo int64
	a.DB.Read().QueryRow(`SELECT id FROM organisers WHERE slug = 'dfo'`).Scan(&dfo)
	privUser(t, a, organisers.RoleOrganiser, dfo, organiserEmail)
	bad2 := apptest.NewClient(t, a.Router)
	apptest.Want(t, bad2.PostForm("/admin/login", url.Values{"email": {organiserEmail}, "password": {"feil-passord-feil"}}), http.StatusUnauthorized)
	apptest.Want(t, bad2.PostForm("/admin/reset", url.Values{"email": {organiserEmail}}), http.StatusOK)
	if _, err := a.Resets.SendQueued(ctx); err != nil { // the reset job's work
		t.Fatal(err)
	}
	org := apptest.Login(t, a.Router, organiserEmail, "et-langt-passord-1234")
	id := strconv.FormatInt(ev.ID, 10)
	admin := 0
	for _, r := range a.Router.Routes() {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Path, "/admin") {
			continue
		}
		path := regexp.MustCompile(`:[a-z_]+`).ReplaceAllStringFunc(r.Path, func(p string) string {
			if p == ":id" {
				return id
			}
			return "1"
		})
		org.Get(path)
		admin++
	}
	if admin < 8 {
		t.Fatalf("only %d admin pages", admin)
	}

	// introductions after the event, then the mail goes out (one address
	// refused by the server)
	a.DB.Now = func() time.Time { return ev.EndsAt.Add(time.Hour) }
	org = apptest.Login(t, a.Router, organiserEmail, "et-langt-passord-1234")
	apptest.Want(t, org.PostForm("/admin/events/"+id+"/followup", url.Values{}), http.StatusSeeOther)
	org.Get("/admin/events/" + id + "/followup")
	org.PostForm("/admin/events/"+id+"/followup/approve", url.Values{})
	late := privEvent(t, a, "dfo", 24*time.Hour, 10)
	privSignUp(t, a, late.Slug, privForm("Avvist Mottaker", rejected))
	privSendAll(t, a)

	// erasure by the person and by the organiser; retention
	apptest.Want(t, m.PostForm("/r/"+tokens[0]+"/delete", url.Values{}), http.StatusSeeOther)
	apptest.Want(t, org.PostForm("/admin/erase", url.Values{"email": {people[2].email}, "confirm": {"1"}}), http.StatusSeeOther)
	apptest.Want(t, org.PostForm("/admin/erase", url.Values{"email": {people[3].email}, "confirm": {"1"}}), http.StatusNotFound)
	a.DB.Now = func() time.Time { return later.EndsAt.Add(400 * 24 * time.Hour) }
	if err := privacy.NewRetention(a.DB, 180).Run(ctx); err != nil {
		t.Fatal(err)
	}
	privSendAll(t, a)
	// a panic's log line and a 404 with a name in the path
	apptest.NewClient(t, a.Router).Do(httptest.NewRequest(http.MethodGet, "/events/"+url.PathEscape(people[3].name), nil))

	out := logs.String()
	// the log was written at all, by the requests and by the mail worker
	for _, want := range []string{`"route":"/events/:slug/registrations"`, `"route":"/r/:token/delete"`, `"route":"/admin/erase"`, `mailer: sent`, `mailer: failed`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log has no %s: is it captured?", want)
		}
	}
	lower := strings.ToLower(out)
	for _, s := range secrets {
		if strings.Contains(lower, strings.ToLower(s)) {
			i := strings.Index(lower, strings.ToLower(s))
			t.Errorf("the log holds %q: …%s…", s, out[max(0, i-200):min(len(out), i+100)])
		}
	}
	for _, tok := range tokens {
		if strings.Contains(out, tok) {
			t.Error("the log holds a manage token")
		}
	}
	t.Logf("%d log lines checked", strings.Count(out, "\n"))
}
