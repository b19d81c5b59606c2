package introductions_test

// Tests of the follow-up after an event (followup*.go, handlers.go) through
// the real router and a real SQLite file: who takes part (consent and
// attendance), the organiser's edits under the hard rules, regenerating,
// approval and the emails in the outbox (only what people agreed to
// share), the "stop future introductions" link, network seeds, the "did
// you meet?" reminders with an injected clock, and who may do what. The
// tests of each action are in its followup_*_test.go; this file has the
// helpers and the tests of the page as a whole.
//
// Helpers here are prefixed fu so they never clash with the package's
// other test files.

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/introductions"
	"github.com/moteplass/moteplass/introductions/match"
	"github.com/moteplass/moteplass/templates"
)

const (
	fuAdmin     = "admin@moteplass.example.no"
	fuOrganiser = "arrangor@dfo.example.no" // organiser at DFØ
	fuCheckIn   = "innsjekk@dfo.example.no" // check-in volunteer at DFØ
)

// fuPerson is one registration as a test writes it.
type fuPerson struct {
	Name, Org, Role, Level, Sector, Topics string
	Lang                                   string // default nb
	Status                                 string // default confirmed
	Consent, CheckedIn                     bool
	Email                                  string // default from the name
	// details never to be shared
	Phone, Dietary, Accessibility string
}

func (p fuPerson) email() string {
	if p.Email != "" {
		return p.Email
	}
	local := strings.NewReplacer(" ", ".", "ø", "o", "å", "a", "æ", "ae", "é", "e").Replace(strings.ToLower(p.Name))
	return local + "@fu.example.no"
}

var fuSlugs atomic.Int64

// fuEvent creates a published event of organiser orgSlug that ended
// endedAgo before now (negative: it is still to come), in Bergen at a venue.
func fuEvent(t testing.TB, a *app.App, orgSlug string, endedAgo time.Duration) events.Event {
	t.Helper()
	ctx := context.Background()
	var ev events.Event
	err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := tx.QueryRowContext(ctx, `SELECT id FROM regions WHERE slug = 'bergen'`).Scan(&ev.Region.ID); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT id, contact_email FROM organisers WHERE slug = ?`, orgSlug).
			Scan(&ev.Organiser.ID, &ev.Organiser.ContactEmail); err != nil {
			return err
		}
		v := &events.Venue{Name: "Bryggen konferansesenter", Street: "Bryggen 1", Postcode: "5003", City: "Bergen"}
		if err := events.CreateVenue(ctx, tx, v); err != nil {
			return err
		}
		end := now.Add(-endedAgo).Truncate(time.Minute)
		ev.Slug = fmt.Sprintf("fu-event-%d", fuSlugs.Add(1))
		ev.Title = "Ledermøte om tillit " + ev.Slug
		ev.Format, ev.Mode, ev.Sector, ev.Facilitation, ev.Theme, ev.Language, ev.Status =
			"meeting_place", "physical", "public", "facilitated", "leadership", "nb", "published"
		ev.StartsAt, ev.EndsAt, ev.Capacity, ev.Venue = end.Add(-2*time.Hour), end, 100, v
		return events.CreateEvent(ctx, tx, now, &ev)
	})
	if err != nil {
		t.Fatalf("create event: %v", err)
	}
	return ev
}

// fuRegister writes registrations straight into the table and returns
// their ids, in order.
func fuRegister(t testing.TB, a *app.App, eventID int64, people ...fuPerson) []int64 {
	t.Helper()
	ctx := context.Background()
	ids := make([]int64, len(people))
	err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		for i, p := range people {
			if p.Lang == "" {
				p.Lang = "nb"
			}
			if p.Status == "" {
				p.Status = "confirmed"
			}
			if p.Role == "" {
				p.Role = "Avdelingsdirektør"
			}
			if p.Level == "" {
				p.Level = "middle"
			}
			if p.Sector == "" {
				p.Sector = "state"
			}
			var checkedIn, cancelled any
			if p.CheckedIn {
				checkedIn = now
			}
			if p.Status == "cancelled" {
				cancelled = now
			}
			consent := 0
			if p.Consent {
				consent = 1
			}
			email := p.email()
			err := tx.QueryRowContext(ctx, `INSERT INTO registrations (event_id, status, name, email, email_norm,
				organisation, role, level, sector, region, phone, dietary, accessibility, topics, lang, intro_consent,
				created_at, updated_at, queued_at, cancelled_at, checked_in_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'Bergen', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				eventID, p.Status, p.Name, email, strings.ToLower(email), p.Org, p.Role, p.Level, p.Sector,
				p.Phone, p.Dietary, p.Accessibility, p.Topics, p.Lang, consent, now, now, now, cancelled, checkedIn).Scan(&ids[i])
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return ids
}

func fuPath(eventID int64, rest string) string {
	return "/admin/events/" + strconv.FormatInt(eventID, 10) + "/followup" + rest
}

// fuGroups reads the stored groups of an event's round: registration ids
// by group id, for kind intro or seed.
func fuGroups(t testing.TB, a *app.App, eventID int64, kind string) map[int64][]int64 {
	t.Helper()
	rows, err := a.DB.Read().Query(`SELECT m.group_id, m.registration_id FROM intro_members m
		JOIN intro_rounds r ON r.id = m.round_id WHERE r.event_id = ? AND m.kind = ? ORDER BY m.registration_id`, eventID, kind)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64][]int64{}
	for rows.Next() {
		var g, r int64
		if err := rows.Scan(&g, &r); err != nil {
			t.Fatal(err)
		}
		out[g] = append(out[g], r)
	}
	return out
}

// fuGroupOf is the introduction group a registration is in (0: none).
func fuGroupOf(groups map[int64][]int64, regID int64) int64 {
	for g, ms := range groups {
		if slices.Contains(ms, regID) {
			return g
		}
	}
	return 0
}

func fuCount(t testing.TB, a *app.App, query string, args ...any) int {
	t.Helper()
	var n int
	if err := a.DB.Read().QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// fuMail is an outbox row.
type fuMail struct {
	To, Subject, Text, HTML, ReplyTo, Dedupe string
}

func fuOutbox(t testing.TB, a *app.App, kind string) []fuMail {
	t.Helper()
	rows, err := a.DB.Read().Query(`SELECT to_address, subject, text_body, html_body, reply_to, COALESCE(dedupe_key, '')
		FROM outbox WHERE kind = ? ORDER BY id`, kind)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []fuMail
	for rows.Next() {
		var m fuMail
		if err := rows.Scan(&m.To, &m.Subject, &m.Text, &m.HTML, &m.ReplyTo, &m.Dedupe); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// fuFollowup is a Followup on the app's database, for calling the job
// directly.
func fuFollowup(t testing.TB, a *app.App) *introductions.Followup {
	t.Helper()
	cat, err := web.LoadCatalogue(templates.FS, "locales")
	if err != nil {
		t.Fatal(err)
	}
	rnd, err := web.NewRenderer(templates.FS, cat, a.Config.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	emails, err := web.NewEmails(templates.FS, rnd)
	if err != nil {
		t.Fatal(err)
	}
	return introductions.NewFollowup(a.DB, emails, cat, a.Config.BaseURL)
}

// fuLink finds a link to path (with its token) in an email's text.
func fuLink(t testing.TB, text, path string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(path) + `[A-Za-z0-9_-]{43}(\?[^\s]*)?`).FindString(text)
	if m == "" {
		t.Fatalf("no %s link in %q", path, text)
	}
	return m
}

func fuGenerate(t testing.TB, cl *apptest.Client, eventID int64) {
	t.Helper()
	rec := cl.PostForm(fuPath(eventID, ""), url.Values{})
	apptest.Want(t, rec, http.StatusSeeOther)
	if loc := rec.Header().Get("Location"); loc != fuPath(eventID, "") {
		t.Fatalf("redirect to %q", loc)
	}
}

func fuApprove(t testing.TB, cl *apptest.Client, eventID int64) {
	t.Helper()
	apptest.Want(t, cl.PostForm(fuPath(eventID, "/approve"), url.Values{}), http.StatusSeeOther)
}

func TestFollowupAccess(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	own := fuEvent(t, a, "dfo", time.Hour)
	other := fuEvent(t, a, "nhh", time.Hour)
	for _, ev := range []events.Event{own, other} {
		fuRegister(t, a, ev.ID, fuPerson{Name: "Åse Én", Org: "A", Consent: true}, fuPerson{Name: "Øyvind To", Org: "B", Consent: true})
	}
	organiser := apptest.DemoLogin(t, a.Router, fuOrganiser)
	admin := apptest.DemoLogin(t, a.Router, fuAdmin)
	checkin := apptest.DemoLogin(t, a.Router, fuCheckIn)
	anonymous := apptest.NewClient(t, a.Router)
	missing := events.Event{ID: 999999}

	for _, c := range []struct {
		name   string
		client *apptest.Client
		ev     events.Event
		get    int
		post   int
	}{
		{"the organiser, their own event", organiser, own, http.StatusOK, http.StatusSeeOther},
		{"the organiser, another organisation's event", organiser, other, http.StatusForbidden, http.StatusForbidden},
		{"the organiser, no such event", organiser, missing, http.StatusForbidden, http.StatusForbidden},
		{"a check-in volunteer", checkin, own, http.StatusForbidden, http.StatusForbidden},
		{"an admin, any event", admin, other, http.StatusOK, http.StatusSeeOther},
		{"an admin, no such event", admin, missing, http.StatusNotFound, http.StatusNotFound},
		{"anonymous", anonymous, own, http.StatusSeeOther, http.StatusUnauthorized},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := c.client.Get(fuPath(c.ev.ID, ""))
			apptest.Want(t, rec, c.get)
			if c.client == anonymous && !strings.HasPrefix(rec.Header().Get("Location"), "/admin/login") {
				t.Errorf("anonymous sent to %q", rec.Header().Get("Location"))
			}
			rounds := fuCount(t, a, `SELECT COUNT(*) FROM intro_rounds`)
			apptest.Want(t, c.client.PostForm(fuPath(c.ev.ID, ""), url.Values{}), c.post)
			if c.post != http.StatusSeeOther {
				if n := fuCount(t, a, `SELECT COUNT(*) FROM intro_rounds`); n != rounds {
					t.Errorf("a refused request made a round")
				}
				for _, path := range []string{"/move", "/remove", "/approve", "/regenerate", "/seeds/1/start", "/seeds/1/invite"} {
					if rec := c.client.PostForm(fuPath(c.ev.ID, path), url.Values{"registration": {"1"}, "group": {"1"}}); rec.Code != c.post {
						t.Errorf("POST %s: %d, want %d", path, rec.Code, c.post)
					}
				}
				if c.get != http.StatusSeeOther {
					apptest.Want(t, c.client.Get(fuPath(c.ev.ID, "/approve")), c.get)
				}
			}
		})
	}
	t.Run("a form without the CSRF token is refused", func(t *testing.T) {
		fresh := fuEvent(t, a, "dfo", time.Hour)
		fuRegister(t, a, fresh.ID, fuPerson{Name: "Åse Én", Org: "A", Consent: true}, fuPerson{Name: "Øyvind To", Org: "B", Consent: true})
		rec := organiser.PostForm(fuPath(fresh.ID, ""), url.Values{"csrf_token": {"forged-forged-forged-forged-forged-1234"}})
		apptest.Want(t, rec, http.StatusForbidden)
	})
}

func TestFollowupErasureRemovesFromDraft(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.DemoLogin(t, a.Router, fuOrganiser)
	ev := fuEvent(t, a, "dfo", time.Hour)
	ids := fuRegister(t, a, ev.ID,
		fuPerson{Name: "Rune Slettes", Org: "NAV", Consent: true},
		fuPerson{Name: "Sara Blir", Org: "Kystverket", Consent: true},
		fuPerson{Name: "Trine Blir", Org: "Husbanken", Consent: true})
	fuGenerate(t, cl, ev.ID)
	if err := a.DB.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error {
		_, err := tx.Exec(`DELETE FROM registrations WHERE id = ?`, ids[0])
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := fuCount(t, a, `SELECT COUNT(*) FROM intro_members WHERE registration_id = ?`, ids[0]); n != 0 {
		t.Errorf("the erased registration is still in %d groups", n)
	}
	page := cl.Get(fuPath(ev.ID, ""))
	apptest.Want(t, page, http.StatusOK)
	apptest.DoesNotSay(t, page, "Rune Slettes")
	apptest.Says(t, page, "Sara Blir", "Trine Blir")
}

func TestFollowupPageInEnglish(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.DemoLogin(t, a.Router, fuAdmin)
	ev := fuEvent(t, a, "dfo", time.Hour)
	fuRegister(t, a, ev.ID, fuSix...)
	page := cl.Get(fuPath(ev.ID, "?lang=en"))
	apptest.Says(t, page, "Introductions after the event", "6 of them agreed", "Propose introductions")
	fuGenerate(t, cl, ev.ID)
	page = cl.Get(fuPath(ev.ID, ""))
	apptest.Says(t, page, "Group 1", "Group 2", "Middle manager", "Top leader", "Move to", "Take out", "Approve and send", "You ")
	confirm := cl.Get(fuPath(ev.ID, "/approve"))
	apptest.Says(t, confirm, "6 emails go out, one to each person in 2 groups")
}

// fuSources is the package's source files that match pattern, tests left
// out, as one text.
func fuSources(t *testing.T, pattern string) string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no source files %s: %v", pattern, err)
	}
	var b strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(src)
	}
	return b.String()
}

// TestFollowupCatalogue checks that both languages have the same keys, and
// that every key the follow-up's code and templates name is in them.
func TestFollowupCatalogue(t *testing.T) {
	keys := map[string]map[string]bool{}
	for _, lang := range []string{"nb", "en"} {
		b, err := templates.FS.ReadFile("locales/introductions." + lang + ".toml")
		if err != nil {
			t.Fatal(err)
		}
		keys[lang] = map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^"([^"]+)"\s*=`).FindAllStringSubmatch(string(b), -1) {
			keys[lang][m[1]] = true
		}
	}
	for k := range keys["nb"] {
		if !keys["en"][k] {
			t.Errorf("%s is missing in English", k)
		}
	}
	for k := range keys["en"] {
		if !keys["nb"][k] {
			t.Errorf("%s is missing in Norwegian", k)
		}
	}
	used := regexp.MustCompile(`"((?:followup|intro)\.[a-z0-9_.]*[a-z0-9_]|flash\.followup_[a-z_]+)"`)
	var sources []string
	for _, f := range []string{"pages/followup.html", "pages/followup_approve.html", "pages/intro_stop.html", "pages/intro_met.html",
		"email/introduction.html", "email/introduction.txt", "email/introduction_network.html", "email/introduction_network.txt",
		"email/did_you_meet.html", "email/did_you_meet.txt"} {
		b, err := templates.FS.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, string(b))
	}
	sources = append(sources, fuSources(t, "*.go"))
	for _, src := range sources {
		for _, m := range used.FindAllStringSubmatch(src, -1) {
			k := m[1]
			if strings.HasPrefix(k, "followup.refused.rule_") || k == "intro.expired" || k == "intro.busy" {
				continue // built from a rule name, or an error page's prefix
			}
			if !keys["nb"][k] {
				t.Errorf("%s is used but not in the catalogue", k)
			}
		}
	}
	// the audit log names each action in the catalogue
	actions := regexp.MustCompile(`"((?:introductions|network)_(?:[a-z]+))"`).FindAllStringSubmatch(fuSources(t, "followup*.go"), -1)
	actions = slices.DeleteFunc(actions, func(m []string) bool { return m[1] == "network_meeting" }) // an event format
	if len(actions) < 7 {
		t.Errorf("found %d audit actions", len(actions))
	}
	for _, m := range actions {
		if !keys["nb"]["audit.action."+m[1]] {
			t.Errorf("audit.action.%s is missing", m[1])
		}
	}
	for _, rule := range []string{match.RuleOrganisation, match.RuleTopSector, match.RulePublicOnly} {
		if !keys["nb"]["followup.refused.rule_"+rule] {
			t.Errorf("no message for the rule %s", rule)
		}
	}
	for _, prefix := range []string{"intro.expired", "intro.busy"} {
		for _, part := range []string{".title", ".message", ".hint"} {
			if !keys["nb"][prefix+part] {
				t.Errorf("%s%s is missing", prefix, part)
			}
		}
	}
}
