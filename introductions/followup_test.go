package introductions_test

// Tests of the follow-up after an event (followup.go, handlers.go) through
// the real router and a real SQLite file: who takes part (consent and
// attendance), the organiser's edits under the hard rules, regenerating,
// approval and the emails in the outbox (only what people agreed to
// share), the "stop future introductions" link, network seeds, the "did
// you meet?" reminders with an injected clock, and who may do what.
//
// Helpers here are prefixed fu so they never clash with the package's
// other test files.

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
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
			res, err := tx.ExecContext(ctx, `INSERT INTO registrations (event_id, status, name, email, email_norm,
				organisation, role, level, sector, region, phone, dietary, accessibility, topics, lang, intro_consent,
				created_at, updated_at, queued_at, cancelled_at, checked_in_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'Bergen', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				eventID, p.Status, p.Name, email, strings.ToLower(email), p.Org, p.Role, p.Level, p.Sector,
				p.Phone, p.Dietary, p.Accessibility, p.Topics, p.Lang, consent, now, now, now, cancelled, checkedIn)
			if err != nil {
				return err
			}
			if ids[i], err = res.LastInsertId(); err != nil {
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

func TestFollowupTakesConsentedAttendees(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.DemoLogin(t, a.Router, fuOrganiser)

	t.Run("attendance taken: consented and checked in only", func(t *testing.T) {
		ev := fuEvent(t, a, "dfo", 3*time.Hour)
		ids := fuRegister(t, a, ev.ID,
			fuPerson{Name: "Ada Inne", Org: "Skatteetaten", Consent: true, CheckedIn: true},
			fuPerson{Name: "Berit Utensamtykke", Org: "NAV", Consent: false, CheckedIn: true},
			fuPerson{Name: "Cecilie Ikkemøtt", Org: "Kystverket", Consent: true, CheckedIn: false},
			fuPerson{Name: "Dag Inne", Org: "Husbanken", Consent: true, CheckedIn: true},
		)
		page := cl.Get(fuPath(ev.ID, ""))
		apptest.Want(t, page, http.StatusOK)
		apptest.Says(t, page, "2 deltakere var til stede og har sagt ja", "Lag forslag til introduksjoner")
		if n := fuCount(t, a, `SELECT COUNT(*) FROM intro_rounds WHERE event_id = ?`, ev.ID); n != 0 {
			t.Fatalf("a GET made a round")
		}
		fuGenerate(t, cl, ev.ID)
		groups := fuGroups(t, a, ev.ID, introductions.KindIntro)
		if g := fuGroupOf(groups, ids[0]); g == 0 || fuGroupOf(groups, ids[3]) != g {
			t.Errorf("the two who agreed and came are not grouped: %v", groups)
		}
		for _, i := range []int{1, 2} {
			if fuGroupOf(groups, ids[i]) != 0 {
				t.Errorf("registration %d is in a group: %v", i, groups)
			}
		}
		page = cl.Get(fuPath(ev.ID, ""))
		apptest.Says(t, page, "Ada Inne", "Dag Inne", "Gruppe 1")
		apptest.DoesNotSay(t, page, "Berit Utensamtykke", "Cecilie Ikkemøtt")
	})

	t.Run("no attendance taken: consented with a confirmed place", func(t *testing.T) {
		ev := fuEvent(t, a, "dfo", 3*time.Hour)
		ids := fuRegister(t, a, ev.ID,
			fuPerson{Name: "Eli Bekreftet", Org: "Skatteetaten", Consent: true},
			fuPerson{Name: "Frode Bekreftet", Org: "NAV", Consent: true},
			fuPerson{Name: "Gro Venteliste", Org: "Kystverket", Consent: true, Status: "waiting"},
			fuPerson{Name: "Hans Avmeldt", Org: "Husbanken", Consent: true, Status: "cancelled"},
			fuPerson{Name: "Ivar Utensamtykke", Org: "Lånekassen", Consent: false},
			fuPerson{Name: "Jorunn Bekreftet", Org: "Statens vegvesen", Consent: true},
		)
		page := cl.Get(fuPath(ev.ID, ""))
		apptest.Says(t, page, "Det ble ikke registrert oppmøte", "3 av dem har sagt ja")
		fuGenerate(t, cl, ev.ID)
		groups := fuGroups(t, a, ev.ID, introductions.KindIntro)
		for i, want := range []bool{true, true, false, false, false, true} {
			if got := fuGroupOf(groups, ids[i]) != 0; got != want {
				t.Errorf("registration %d grouped = %v, want %v", i, got, want)
			}
		}
	})

	t.Run("withdrawn before approval: dropped, nothing about them sent", func(t *testing.T) {
		ev := fuEvent(t, a, "dfo", 3*time.Hour)
		ids := fuRegister(t, a, ev.ID,
			fuPerson{Name: "Kari Blir", Org: "Skatteetaten", Consent: true, Topics: "Tillit"},
			fuPerson{Name: "Lars Trekker", Org: "NAV", Consent: true, Topics: "Hemmelig tema"},
			fuPerson{Name: "Mona Blir", Org: "Kystverket", Consent: true},
			fuPerson{Name: "Nils Blir", Org: "Husbanken", Consent: true},
		)
		fuGenerate(t, cl, ev.ID)
		if g := fuGroupOf(fuGroups(t, a, ev.ID, introductions.KindIntro), ids[1]); g == 0 {
			t.Fatal("Lars is in no group before he withdraws")
		}
		// Lars unticks the box on his manage page (registration/ does this
		// with a consent row; the follow-up only reads intro_consent).
		if err := a.DB.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error {
			_, err := tx.Exec(`UPDATE registrations SET intro_consent = 0 WHERE id = ?`, ids[1])
			return err
		}); err != nil {
			t.Fatal(err)
		}
		page := cl.Get(fuPath(ev.ID, ""))
		apptest.Says(t, page, "1 person i forslaget har trukket samtykket")
		confirm := cl.Get(fuPath(ev.ID, "/approve"))
		apptest.Want(t, confirm, http.StatusOK)
		apptest.Says(t, confirm, "3 e-poster går ut", "1 person har trukket samtykket")
		before := len(fuOutbox(t, a, "introduction"))
		fuApprove(t, cl, ev.ID)
		mails := fuOutbox(t, a, "introduction")[before:]
		if len(mails) != 3 {
			t.Fatalf("%d emails, want 3 (not to Lars)", len(mails))
		}
		for _, m := range mails {
			if m.To == "lars.trekker@fu.example.no" {
				t.Errorf("Lars got an introduction")
			}
			for _, body := range []string{m.Text, m.HTML} {
				if strings.Contains(body, "Lars") || strings.Contains(body, "Hemmelig tema") || strings.Contains(body, "lars.trekker") {
					t.Errorf("an email to %s tells about Lars", m.To)
				}
			}
		}
		if g := fuGroupOf(fuGroups(t, a, ev.ID, introductions.KindIntro), ids[1]); g != 0 {
			t.Errorf("Lars is still in group %d after the round was sent", g)
		}
	})

	t.Run("before the event has ended: refused", func(t *testing.T) {
		ev := fuEvent(t, a, "dfo", -2*time.Hour)
		fuRegister(t, a, ev.ID, fuPerson{Name: "Ole Snart", Org: "A", Consent: true}, fuPerson{Name: "Per Snart", Org: "B", Consent: true})
		page := cl.Get(fuPath(ev.ID, ""))
		apptest.Says(t, page, "når arrangementet er over")
		apptest.DoesNotSay(t, page, "Lag forslag til introduksjoner")
		rec := cl.PostForm(fuPath(ev.ID, ""), url.Values{})
		apptest.Want(t, rec, http.StatusConflict)
		apptest.Says(t, rec, "når arrangementet er over")
	})
}

// fuSix are six people who make two groups of three: Anne and Bjørn work
// at the same agency, Cato and Dina are top leaders in the state.
var fuSix = []fuPerson{
	{Name: "Anne Aas", Org: "Skatteetaten", Role: "HR-sjef", Level: "middle", Topics: "Rekruttering", Consent: true,
		Phone: "+47 911 22 333", Dietary: "Kosher-ABC", Accessibility: "Teleslynge-XYZ"},
	{Name: "Bjørn Berg", Org: "Skatteetaten", Role: "HR-sjef", Level: "middle", Topics: "Rekruttering", Consent: true,
		Phone: "+47 922 33 444", Dietary: "Glutenfri-DEF"},
	{Name: "Cato Dahl", Org: "Kystverket", Role: "Direktør", Level: "top", Topics: "Omstilling", Consent: true},
	{Name: "Dina Eide", Org: "Husbanken", Role: "Direktør", Level: "top", Topics: "Omstilling", Consent: true, Lang: "en"},
	{Name: "Eva Fjeld", Org: "Bergen kommune", Role: "Kommunalsjef", Level: "middle", Sector: "municipal", Topics: "Samarbeid stat og kommune", Consent: true},
	{Name: "Finn Gran", Org: "Sparebanken Vest", Role: "IT-sjef", Level: "first_line", Sector: "private", Topics: "KI i praksis", Consent: true},
}

func TestFollowupOrganiserEditsAndApproval(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.DemoLogin(t, a.Router, fuOrganiser)
	ev := fuEvent(t, a, "dfo", 24*time.Hour)
	ids := fuRegister(t, a, ev.ID, fuSix...)
	anne, bjorn, cato, dina, eva, finn := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]
	fuGenerate(t, cl, ev.ID)

	groups := fuGroups(t, a, ev.ID, introductions.KindIntro)
	if len(groups) != 2 {
		t.Fatalf("groups %v, want two of three", groups)
	}
	for g, ms := range groups {
		if len(ms) != 3 {
			t.Fatalf("group %d has %d members, want 3: %v", g, len(ms), groups)
		}
	}
	page := cl.Get(fuPath(ev.ID, ""))
	apptest.Want(t, page, http.StatusOK)
	apptest.Says(t, page, "Gruppe 1", "Gruppe 2", "Anne Aas", "Skatteetaten", "HR-sjef", "Mellomleder", "Toppleder", "Dere ")

	t.Run("a move that would put one organisation together is refused", func(t *testing.T) {
		rec := cl.PostForm(fuPath(ev.ID, "/move"), url.Values{"registration": {fmt.Sprint(anne)}, "group": {fmt.Sprint(fuGroupOf(groups, bjorn))}})
		apptest.Want(t, rec, http.StatusConflict)
		apptest.Says(t, rec, "Anne Aas ble ikke flyttet: Bjørn Berg", "samme virksomhet")
		if got := fuGroups(t, a, ev.ID, introductions.KindIntro); fuGroupOf(got, anne) != fuGroupOf(groups, anne) {
			t.Errorf("Anne moved anyway")
		}
	})

	t.Run("a move that would put two top leaders of one sector together is refused", func(t *testing.T) {
		rec := cl.PostForm(fuPath(ev.ID, "/move"), url.Values{"registration": {fmt.Sprint(cato)}, "group": {fmt.Sprint(fuGroupOf(groups, dina))}})
		apptest.Want(t, rec, http.StatusConflict)
		apptest.Says(t, rec, "Cato Dahl ble ikke flyttet: Dina Eide", "toppleder i samme sektor")
	})

	t.Run("a move within the rules is made", func(t *testing.T) {
		from := fuGroupOf(groups, finn)
		var to int64
		for g := range groups {
			if g != from {
				to = g
			}
		}
		rec := cl.PostForm(fuPath(ev.ID, "/move"), url.Values{"registration": {fmt.Sprint(finn)}, "group": {fmt.Sprint(to)}})
		apptest.Want(t, rec, http.StatusSeeOther)
		apptest.Says(t, cl.Follow(rec), "Personen er flyttet")
		got := fuGroups(t, a, ev.ID, introductions.KindIntro)
		if fuGroupOf(got, finn) != to || len(got[to]) != 4 || len(got[from]) != 2 {
			t.Errorf("after the move: %v", got)
		}
		if n := fuCount(t, a, `SELECT edited FROM intro_groups WHERE id = ?`, to); n != 1 {
			t.Errorf("the group is not marked edited")
		}
	})

	t.Run("a person can be taken out of a group", func(t *testing.T) {
		got := fuGroups(t, a, ev.ID, introductions.KindIntro)
		rec := cl.PostForm(fuPath(ev.ID, "/remove"), url.Values{"registration": {fmt.Sprint(eva)}})
		apptest.Want(t, rec, http.StatusSeeOther)
		after := fuGroups(t, a, ev.ID, introductions.KindIntro)
		if fuGroupOf(after, eva) != 0 || len(after[fuGroupOf(got, eva)]) != len(got[fuGroupOf(got, eva)])-1 {
			t.Errorf("after removing Eva: %v", after)
		}
		page := cl.Follow(rec)
		apptest.Says(t, page, "Personen er tatt ut av gruppen", "Ikke med i noen gruppe (1)", "Eva Fjeld", "Tatt ut av arrangøren")
	})

	t.Run("regenerating makes a new proposal with a new seed", func(t *testing.T) {
		var seed int64
		a.DB.Read().QueryRow(`SELECT seed FROM intro_rounds WHERE event_id = ?`, ev.ID).Scan(&seed)
		rec := cl.PostForm(fuPath(ev.ID, "/regenerate"), url.Values{})
		apptest.Want(t, rec, http.StatusSeeOther)
		var seed2 int64
		a.DB.Read().QueryRow(`SELECT seed FROM intro_rounds WHERE event_id = ?`, ev.ID).Scan(&seed2)
		if seed2 == seed {
			t.Errorf("the seed did not change")
		}
		groups = fuGroups(t, a, ev.ID, introductions.KindIntro)
		if len(groups) != 2 || fuGroupOf(groups, eva) == 0 {
			t.Errorf("after regenerating: %v", groups)
		}
		if n := fuCount(t, a, `SELECT COUNT(*) FROM intro_left_out l JOIN intro_rounds r ON r.id = l.round_id WHERE r.event_id = ?`, ev.ID); n != 0 {
			t.Errorf("%d left out after regenerating", n)
		}
		metrics := httptest.NewRecorder()
		a.Router.ServeHTTP(metrics, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if !strings.Contains(metrics.Body.String(), "moteplass_matching_runs_total 2") {
			t.Errorf("matching runs not counted: %s", regexp.MustCompile(`(?m)^moteplass_matching.*$`).FindString(metrics.Body.String()))
		}
	})

	t.Run("approval sends one email per member with only what they agreed to share", func(t *testing.T) {
		confirm := cl.Get(fuPath(ev.ID, "/approve"))
		apptest.Want(t, confirm, http.StatusOK)
		apptest.Says(t, confirm, "6 e-poster går ut, én til hver person i 2 grupper", "Ja, send 6 e-poster")
		if n := len(fuOutbox(t, a, "introduction")); n != 0 {
			t.Fatalf("%d emails before approval", n)
		}
		rec := cl.PostForm(fuPath(ev.ID, "/approve"), url.Values{})
		apptest.Want(t, rec, http.StatusSeeOther)
		apptest.Says(t, cl.Follow(rec), "Introduksjonene er sendt")

		mails := fuOutbox(t, a, "introduction")
		if len(mails) != 6 {
			t.Fatalf("%d emails, want 6", len(mails))
		}
		byEmail := map[string]fuPerson{}
		idOf := map[string]int64{}
		for i, p := range fuSix {
			byEmail[p.email()] = p
			idOf[p.email()] = ids[i]
		}
		for _, m := range mails {
			me, ok := byEmail[m.To]
			if !ok {
				t.Fatalf("email to a stranger %s", m.To)
			}
			if m.ReplyTo != ev.Organiser.ContactEmail {
				t.Errorf("reply-to %q", m.ReplyTo)
			}
			if me.Lang == "en" && !strings.HasPrefix(m.Subject, "Meet other leaders from") {
				t.Errorf("English reader got subject %q", m.Subject)
			}
			if me.Lang != "en" && !strings.HasPrefix(m.Subject, "Møt andre ledere fra") {
				t.Errorf("subject %q", m.Subject)
			}
			group := groups[fuGroupOf(groups, idOf[m.To])]
			for email, other := range byEmail {
				inGroup := slices.Contains(group, idOf[email]) && email != m.To
				for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
					for _, shared := range []string{other.Name, other.Role, other.Topics, email} {
						if inGroup && !strings.Contains(body, shared) {
							t.Errorf("%s part to %s lacks %q of %s", part, m.To, shared, other.Name)
						}
					}
					if inGroup && !strings.Contains(body, strings.ReplaceAll(other.Org, "&", "&amp;")) {
						t.Errorf("%s part to %s lacks the organisation of %s", part, m.To, other.Name)
					}
					if !inGroup && email != m.To && strings.Contains(body, other.Name) {
						t.Errorf("%s part to %s names %s of another group", part, m.To, other.Name)
					}
					for _, private := range []string{other.Phone, other.Dietary, other.Accessibility} {
						if private != "" && strings.Contains(body, private) {
							t.Errorf("%s part to %s shows %q", part, m.To, private)
						}
					}
					for _, never := range []string{"Mellomleder", "Toppleder", "Førstelinjeleder", "mellomledere", "toppledere",
						"middle", "first_line", "municipal", "Middle manager", "Top leader", "Ledernivå", "Sektor", "sector"} {
						if strings.Contains(body, never) {
							t.Errorf("%s part to %s shows level or sector (%q)", part, m.To, never)
						}
					}
				}
			}
			for _, want := range []string{"Hvorfor dere:", "/introductions/stop/"} {
				if me.Lang != "en" && !strings.Contains(m.Text, want) {
					t.Errorf("text to %s lacks %q", m.To, want)
				}
			}
			if me.Lang == "en" && !strings.Contains(m.Text, "Why you:") {
				t.Errorf("English text lacks the reason")
			}
			if !strings.HasPrefix(m.Dedupe, "introduction:") {
				t.Errorf("dedupe key %q", m.Dedupe)
			}
		}
	})

	t.Run("after approval nothing can be changed or sent again", func(t *testing.T) {
		rec := cl.PostForm(fuPath(ev.ID, "/move"), url.Values{"registration": {fmt.Sprint(finn)}, "group": {"new"}})
		apptest.Want(t, rec, http.StatusConflict)
		apptest.Says(t, rec, "allerede sendt")
		apptest.Want(t, cl.PostForm(fuPath(ev.ID, "/approve"), url.Values{}), http.StatusConflict)
		apptest.Want(t, cl.PostForm(fuPath(ev.ID, "/regenerate"), url.Values{}), http.StatusConflict)
		// a second click on "generate" changes nothing
		apptest.Want(t, cl.PostForm(fuPath(ev.ID, ""), url.Values{}), http.StatusConflict)
		if n := len(fuOutbox(t, a, "introduction")); n != 6 {
			t.Errorf("%d emails after the second tries", n)
		}
		page := cl.Get(fuPath(ev.ID, ""))
		apptest.Says(t, page, "Introduksjonene er sendt", "0 av 2")
		apptest.DoesNotSay(t, page, "Flytt til")
	})

	t.Run("people introduced before are kept apart at the next event", func(t *testing.T) {
		next := fuEvent(t, a, "dfo", time.Hour)
		// Anne and Cato were in a group or not; take two who were.
		var pair []fuPerson
		for _, ms := range groups {
			for _, id := range ms[:2] {
				pair = append(pair, fuSix[slices.Index(ids, id)])
			}
			break
		}
		nids := fuRegister(t, a, next.ID, pair[0], pair[1],
			fuPerson{Name: "Ny Person En", Org: "Lånekassen", Consent: true},
			fuPerson{Name: "Ny Person To", Org: "Statens vegvesen", Consent: true})
		for range 3 {
			fuGenerate(t, cl, next.ID)
			got := fuGroups(t, a, next.ID, introductions.KindIntro)
			if g := fuGroupOf(got, nids[0]); g != 0 && g == fuGroupOf(got, nids[1]) {
				t.Fatalf("%s and %s were introduced again: %v", pair[0].Name, pair[1].Name, got)
			}
			apptest.Want(t, cl.PostForm(fuPath(next.ID, "/regenerate"), url.Values{}), http.StatusSeeOther)
		}
	})
}

func TestFollowupStopLink(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.DemoLogin(t, a.Router, fuOrganiser)
	ev := fuEvent(t, a, "dfo", time.Hour)
	stopper := fuPerson{Name: "Siri Stopp", Org: "Lånekassen", Consent: true, Lang: "en"}
	fuRegister(t, a, ev.ID, stopper, fuPerson{Name: "Tor Videre", Org: "NAV", Consent: true})
	later := fuEvent(t, a, "dfo", -48*time.Hour) // she has signed up for a later one too
	fuRegister(t, a, later.ID, stopper)
	fuGenerate(t, cl, ev.ID)
	fuApprove(t, cl, ev.ID)

	var link string
	for _, m := range fuOutbox(t, a, "introduction") {
		if m.To == stopper.email() {
			link = fuLink(t, m.Text, "/introductions/stop/")
		}
	}
	if !strings.Contains(link, "lang=en") {
		t.Errorf("the link %q does not keep her language", link)
	}
	visitor := apptest.NewClient(t, a.Router)
	page := visitor.Get(link)
	apptest.Want(t, page, http.StatusOK)
	apptest.Says(t, page, "No more introductions", "Yes, do not introduce me again")
	if page.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("the page with the token may leak it as a referrer")
	}
	if n := fuCount(t, a, `SELECT COUNT(*) FROM registrations WHERE email_norm = ? AND intro_consent = 1`, stopper.email()); n != 2 {
		t.Fatalf("a GET changed consent (%d left)", n)
	}
	path := strings.SplitN(link, "?", 2)[0]
	rec := visitor.PostForm(path, url.Values{})
	apptest.Want(t, rec, http.StatusSeeOther)
	apptest.Says(t, visitor.Follow(rec), "We will not introduce you to anyone again")

	if n := fuCount(t, a, `SELECT COUNT(*) FROM registrations WHERE email_norm = ? AND intro_consent = 1`, stopper.email()); n != 0 {
		t.Errorf("%d registrations still agree", n)
	}
	if n := fuCount(t, a, `SELECT COUNT(*) FROM consents c JOIN registrations r ON r.id = c.registration_id
		WHERE r.email_norm = ? AND c.granted = 0 AND c.wording_version = ? AND c.lang = 'en' AND c.wording LIKE 'I do not want%'`,
		stopper.email(), introductions.StopWordingVersion); n != 2 {
		t.Errorf("%d consent rows for the withdrawal, want 2", n)
	}

	t.Run("she is in no later proposal", func(t *testing.T) {
		again := fuEvent(t, a, "dfo", time.Hour)
		ids := fuRegister(t, a, again.ID, stopper, fuPerson{Name: "Ulf Ny", Org: "NAV", Consent: true},
			fuPerson{Name: "Vera Ny", Org: "Kystverket", Consent: true})
		// her new sign-up said yes again before she clicked? No: she signed
		// up before; this one was made with the box unticked by the form.
		a.DB.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error {
			_, err := tx.Exec(`UPDATE registrations SET intro_consent = 0 WHERE id = ?`, ids[0])
			return err
		})
		fuGenerate(t, cl, again.ID)
		if g := fuGroupOf(fuGroups(t, a, again.ID, introductions.KindIntro), ids[0]); g != 0 {
			t.Errorf("she is in group %d", g)
		}
		apptest.DoesNotSay(t, cl.Get(fuPath(again.ID, "")), "Siri Stopp")
	})

	t.Run("unknown and malformed links", func(t *testing.T) {
		apptest.Want(t, visitor.Get("/introductions/stop/"+strings.Repeat("A", 43)), http.StatusNotFound)
		apptest.Want(t, visitor.Get("/introductions/stop/nonsense"), http.StatusNotFound)
		apptest.Want(t, visitor.PostForm("/introductions/stop/"+strings.Repeat("A", 43), url.Values{}), http.StatusNotFound)
	})
}

// fuSeedPeople are twelve HR leaders at the same level from twelve agencies:
// a network seed.
func fuSeedPeople() []fuPerson {
	orgs := []string{"Skatteetaten", "NAV", "Kystverket", "Husbanken", "Lånekassen", "Statens vegvesen",
		"Fiskeridirektoratet", "Havforskningsinstituttet", "Universitetet i Bergen", "Sjøfartsdirektoratet",
		"Helsedirektoratet", "Digitaliseringsdirektoratet"}
	out := make([]fuPerson, len(orgs))
	for i, o := range orgs {
		out[i] = fuPerson{Name: fmt.Sprintf("Nettverksperson %02d", i+1), Org: o, Role: "HR-sjef", Level: "middle", Consent: true,
			Topics: "Rekruttering", Phone: "+47 900 00 0" + fmt.Sprintf("%02d", i)}
	}
	out[3].Lang = "en"
	return out
}

func TestFollowupNetworkSeed(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.DemoLogin(t, a.Router, fuOrganiser)
	ev := fuEvent(t, a, "dfo", 2*time.Hour)
	people := fuSeedPeople()
	fuRegister(t, a, ev.ID, people...)
	fuGenerate(t, cl, ev.ID)
	seeds := fuGroups(t, a, ev.ID, introductions.KindSeed)
	if len(seeds) != 1 {
		t.Fatalf("seeds %v, want one of twelve", seeds)
	}
	var seedID int64
	for g, ms := range seeds {
		seedID = g
		if len(ms) != 12 {
			t.Fatalf("the seed has %d members", len(ms))
		}
	}
	page := cl.Get(fuPath(ev.ID, ""))
	apptest.Says(t, page, "Forslag til nettverk (1)", "Nettverk 1", "Start et nettverk", "rollen «HR-sjef»")

	seriesBefore := fuCount(t, a, `SELECT COUNT(*) FROM series`)
	rec := cl.PostForm(fuPath(ev.ID, fmt.Sprintf("/seeds/%d/start", seedID)), url.Values{})
	apptest.Want(t, rec, http.StatusSeeOther)
	apptest.Says(t, cl.Follow(rec), "Nettverket er startet")
	if n := fuCount(t, a, `SELECT COUNT(*) FROM series`); n != seriesBefore+1 {
		t.Fatalf("%d series, want %d", n, seriesBefore+1)
	}
	var meetingID int64
	a.DB.Read().QueryRow(`SELECT network_event_id FROM intro_groups WHERE id = ?`, seedID).Scan(&meetingID)
	store := &events.Store{DB: a.DB}
	meeting, err := store.FindEvent(context.Background(), events.EventFilter{ID: meetingID, Statuses: events.Statuses})
	if err != nil {
		t.Fatalf("first meeting: %v", err)
	}
	wantStart := ev.StartsAt.In(events.Oslo).AddDate(0, 0, 28)
	switch {
	case meeting.Status != "draft":
		t.Errorf("status %s, want draft", meeting.Status)
	case meeting.Series == nil || !strings.Contains(meeting.Series.Title, ev.Title):
		t.Errorf("series %+v", meeting.Series)
	case meeting.Format != "network_meeting":
		t.Errorf("format %s", meeting.Format)
	case !meeting.StartsAt.Equal(wantStart) || meeting.StartsAt.In(events.Oslo).Format("15:04") != ev.StartsAt.In(events.Oslo).Format("15:04"):
		t.Errorf("starts %v, want %v", meeting.StartsAt, wantStart)
	case meeting.EndsAt.Sub(meeting.StartsAt) != ev.EndsAt.Sub(ev.StartsAt):
		t.Errorf("lasts %v", meeting.EndsAt.Sub(meeting.StartsAt))
	case meeting.Capacity != 12+5:
		t.Errorf("capacity %d, want 17", meeting.Capacity)
	case !meeting.InvitationOnly || len(meeting.InviteCode) < 8:
		t.Errorf("invitation only %v, code %q", meeting.InvitationOnly, meeting.InviteCode)
	case meeting.Region.ID != ev.Region.ID || meeting.Venue == nil || meeting.Venue.ID != ev.Venue.ID:
		t.Errorf("region %v venue %v", meeting.Region, meeting.Venue)
	case meeting.Organiser.ID != ev.Organiser.ID:
		t.Errorf("organiser %v", meeting.Organiser)
	}
	if n := len(fuOutbox(t, a, "introduction_network")); n != 0 {
		t.Errorf("%d invitations to a draft", n)
	}

	t.Run("a started seed is not started twice", func(t *testing.T) {
		apptest.Want(t, cl.PostForm(fuPath(ev.ID, fmt.Sprintf("/seeds/%d/start", seedID)), url.Values{}), http.StatusConflict)
		apptest.Want(t, cl.PostForm(fuPath(ev.ID, "/regenerate"), url.Values{}), http.StatusConflict)
	})

	t.Run("invitations wait until the meeting is published", func(t *testing.T) {
		rec := cl.PostForm(fuPath(ev.ID, fmt.Sprintf("/seeds/%d/invite", seedID)), url.Values{})
		apptest.Want(t, rec, http.StatusConflict)
		apptest.Says(t, rec, "Publiser det første møtet")
	})

	t.Run("the members are invited with the code", func(t *testing.T) {
		a.DB.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error {
			_, err := tx.Exec(`UPDATE events SET status = 'published' WHERE id = ?`, meetingID)
			return err
		})
		rec := cl.PostForm(fuPath(ev.ID, fmt.Sprintf("/seeds/%d/invite", seedID)), url.Values{})
		apptest.Want(t, rec, http.StatusSeeOther)
		mails := fuOutbox(t, a, "introduction_network")
		if len(mails) != 12 {
			t.Fatalf("%d invitations, want 12", len(mails))
		}
		for _, m := range mails {
			for _, want := range []string{meeting.InviteCode, "/events/" + meeting.Slug, "/introductions/stop/"} {
				if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
					t.Errorf("invitation to %s lacks %q", m.To, want)
				}
			}
			if m.To == people[3].email() {
				if !strings.Contains(m.Text, "set the agenda yourselves") {
					t.Errorf("English invitation: %s", m.Text)
				}
			} else if !strings.Contains(m.Text, "Dagsordenen setter dere selv") {
				t.Errorf("invitation lacks the agenda note: %s", m.Text)
			}
			if strings.Contains(m.Text, "+47 900") {
				t.Errorf("invitation shows a phone number")
			}
		}
		apptest.Want(t, cl.PostForm(fuPath(ev.ID, fmt.Sprintf("/seeds/%d/invite", seedID)), url.Values{}), http.StatusConflict)
		apptest.Says(t, cl.Get(fuPath(ev.ID, "")), "Invitasjonene er sendt")
	})
}

// fuSent sets up a sent round of one group of three and returns it.
func fuSent(t testing.TB, a *app.App) (events.Event, []int64) {
	t.Helper()
	cl := apptest.DemoLogin(t, a.Router, fuOrganiser)
	ev := fuEvent(t, a, "dfo", time.Hour)
	ids := fuRegister(t, a, ev.ID,
		fuPerson{Name: "Wenche Møtt", Org: "Skatteetaten", Consent: true},
		fuPerson{Name: "Xander Ikkemøtt", Org: "NAV", Consent: true, Lang: "en"},
		fuPerson{Name: "Yngve Svarerikke", Org: "Kystverket", Consent: true})
	fuGenerate(t, cl, ev.ID)
	fuApprove(t, cl, ev.ID)
	return ev, ids
}

func TestFollowupDidYouMeet(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	ev, _ := fuSent(t, a)
	f := fuFollowup(t, a)
	ctx := context.Background()
	start := time.Now()

	if n, err := f.QueueMeetReminders(ctx); err != nil || n != 0 {
		t.Fatalf("reminders right after sending: %d, %v", n, err)
	}
	a.DB.Now = func() time.Time { return start.Add(13 * 24 * time.Hour) }
	if n, err := f.QueueMeetReminders(ctx); err != nil || n != 0 {
		t.Fatalf("reminders after 13 days: %d, %v", n, err)
	}
	a.DB.Now = func() time.Time { return start.Add(15 * 24 * time.Hour) }
	if n, err := f.QueueMeetReminders(ctx); err != nil || n != 3 {
		t.Fatalf("reminders after 15 days: %d, %v", n, err)
	}
	if n, err := f.QueueMeetReminders(ctx); err != nil || n != 0 {
		t.Fatalf("reminders queued twice: %d, %v", n, err)
	}
	mails := fuOutbox(t, a, "did_you_meet")
	if len(mails) != 3 {
		t.Fatalf("%d reminders in the outbox", len(mails))
	}
	links := map[string]string{}
	for _, m := range mails {
		links[m.To] = m.Text
		if !strings.HasPrefix(m.Dedupe, "intro-met:") {
			t.Errorf("dedupe key %q", m.Dedupe)
		}
	}

	wenche, xander, yngve := "wenche.mott@fu.example.no", "xander.ikkemott@fu.example.no", "yngve.svarerikke@fu.example.no"
	if !strings.Contains(links[wenche], "Xander Ikkemøtt") || !strings.Contains(links[wenche], "Yngve Svarerikke") {
		t.Errorf("the reminder does not name the others: %s", links[wenche])
	}

	visitor := apptest.NewClient(t, a.Router)
	answered := 0
	answer := func(email, which string, words ...string) {
		t.Helper()
		link := fuLink(t, links[email], "/introductions/met/")
		if !strings.Contains(link, "answer="+which) {
			link = strings.Replace(link, "answer=yes", "answer="+which, 1)
		}
		page := visitor.Get(link)
		apptest.Want(t, page, http.StatusOK)
		apptest.Says(t, page, words[:3]...)
		if n := fuCount(t, a, `SELECT COUNT(*) FROM intro_members WHERE met IS NOT NULL`); n != answered {
			t.Fatalf("a GET recorded an answer")
		}
		rec := visitor.PostForm(strings.SplitN(link, "?", 2)[0], url.Values{"answer": {which}})
		apptest.Want(t, rec, http.StatusSeeOther)
		apptest.Says(t, visitor.Follow(rec), words[3])
		answered++
	}
	answer(wenche, "yes", "Møttes dere?", "Ja, vi møttes", "Nei, ikke ennå", "Takk! Vi har registrert svaret ditt: «Ja, vi møttes».")
	answer(xander, "no", "Did you meet?", "Yes, we met", "No, not yet", "Thank you! We have recorded your answer: “No, not yet”.")

	cl := apptest.DemoLogin(t, a.Router, fuOrganiser) // the old session ran out in the meantime
	page := cl.Get(fuPath(ev.ID, ""))
	apptest.Want(t, page, http.StatusOK)
	apptest.Says(t, page, "Grupper som har møttes 1 av 1", "Svarte «Ja, vi møttes» 1", "Svarte «Nei, ikke ennå» 1", "Har ikke svart 1",
		"Spørsmålet om de har møttes er sendt")

	t.Run("the answer can be changed", func(t *testing.T) {
		link := fuLink(t, links[wenche], "/introductions/met/")
		path := strings.SplitN(link, "?", 2)[0]
		apptest.Want(t, visitor.PostForm(path, url.Values{"answer": {"no"}}), http.StatusSeeOther)
		apptest.Says(t, cl.Get(fuPath(ev.ID, "")), "Grupper som har møttes 0 av 1", "Svarte «Nei, ikke ennå» 2")
		apptest.Want(t, visitor.PostForm(path, url.Values{"answer": {"maybe"}}), http.StatusBadRequest)
	})

	t.Run("the page in the reader's language", func(t *testing.T) {
		link := fuLink(t, links[xander], "/introductions/met/")
		page := apptest.NewClient(t, a.Router).Get(link)
		apptest.Says(t, page, "Did you meet?", "Wenche Møtt", "Yes, we met", "No, not yet")
	})

	t.Run("links run out", func(t *testing.T) {
		a.DB.Now = func() time.Time { return start.Add(90 * 24 * time.Hour) }
		link := fuLink(t, links[yngve], "/introductions/met/")
		apptest.Want(t, visitor.Get(link), http.StatusGone)
		apptest.Want(t, visitor.Get("/introductions/met/"+strings.Repeat("B", 43)), http.StatusNotFound)
	})
}

func TestFollowupReminderJobRunsInTheApp(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	fuSent(t, a)
	later := time.Now().Add(15 * 24 * time.Hour)
	a.DB.Now = func() time.Time { return later }
	apptest.Serve(t, a)
	deadline := time.Now().Add(10 * time.Second)
	for len(fuOutbox(t, a, "did_you_meet")) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(fuOutbox(t, a, "did_you_meet")); n != 3 {
		t.Fatalf("the app's job queued %d reminders, want 3", n)
	}
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
