package registration_test

// The data rights from the manage link, end to end through the real router,
// a real SQLite file and a real (in-process) SMTP server: the download
// holds everything about the person and nothing about anyone else, and an
// erasure leaves neither the name nor the address readable anywhere, in
// any column of any table or in the bytes of the database and WAL files.
// Helpers here are prefixed pv.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/smtptest"
	"github.com/moteplass/moteplass/organisers"
	"github.com/moteplass/moteplass/registration"
)

// The person whose data is exported and erased: values found nowhere else.
const (
	pvName  = "Ingrid Zorro-Hallvardsen"
	pvLast  = "Zorro-Hallvardsen"
	pvEmail = "Unik.Test.Adresse@Example.no" // typed with capitals; stored lower-cased too
	pvNorm  = "unik.test.adresse@example.no"
	pvPhone = "+47 411 22 333"
)

// pvMailApp is the app sending its outbox to a fresh SMTP server.
func pvMailApp(t testing.TB) (*app.App, *smtptest.Server) {
	t.Helper()
	srv := smtptest.Start(t)
	a := newApp(t, func(c *app.Config) {
		c.SMTPHost, c.SMTPPort, c.SMTPTLS = "127.0.0.1", srv.Port, "none"
		c.MailFrom = "moteplass@moteplass.example.no"
	})
	a.Accounts.BcryptCost = 4
	return a, srv
}

// pvSendAll runs the outbox worker until nothing is due.
func pvSendAll(t testing.TB, a *app.App) {
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
	t.Fatal("the outbox never emptied")
}

// pvAdmin creates an admin login and returns a browser logged in with it.
func pvAdmin(t testing.TB, a *app.App) *apptest.Client {
	t.Helper()
	ctx := context.Background()
	u := organisers.User{Email: "personvern.admin@moteplass.example.no", Name: "Pia Admin", Role: organisers.RoleAdmin}
	if err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		return a.Accounts.CreateUser(ctx, tx, now, &u, "passord-for-testing-1234")
	}); err != nil {
		t.Fatal(err)
	}
	cl := apptest.NewClient(t, a.Router)
	rec := cl.PostForm("/admin/login", url.Values{"email": {u.Email}, "password": {"passord-for-testing-1234"}})
	apptest.Want(t, rec, http.StatusSeeOther)
	return cl
}

// pvFinding is where a needle was found.
type pvFinding struct{ Table, Column, Value string }

// pvScan reads every column of every table (sqlite_master), cast to text,
// and reports where each needle occurs, case-insensitively.
func pvScan(t testing.TB, a *app.App, needles ...string) map[string][]pvFinding {
	t.Helper()
	q := a.DB.Read()
	rows, err := q.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("only %d tables: is the scan broken?", len(tables))
	}
	found := map[string][]pvFinding{}
	for _, table := range tables {
		cols, err := q.Query(`SELECT name FROM pragma_table_info(?)`, table)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for cols.Next() {
			var c string
			if err := cols.Scan(&c); err != nil {
				t.Fatal(err)
			}
			names = append(names, c)
		}
		cols.Close()
		for _, col := range names {
			vals, err := q.Query(fmt.Sprintf(`SELECT CAST(%q AS TEXT) FROM %q`, col, table))
			if err != nil {
				t.Fatalf("%s.%s: %v", table, col, err)
			}
			for vals.Next() {
				var v sql.NullString
				if err := vals.Scan(&v); err != nil {
					t.Fatal(err)
				}
				for _, n := range needles {
					if strings.Contains(strings.ToLower(v.String), strings.ToLower(n)) {
						found[n] = append(found[n], pvFinding{table, col, v.String})
					}
				}
			}
			vals.Close()
		}
	}
	return found
}

// pvFiles reports which needles occur in the bytes of the database file
// and its WAL (read while the app still has them open).
func pvFiles(t testing.TB, a *app.App, needles ...string) map[string][]string {
	t.Helper()
	found := map[string][]string{}
	for _, path := range []string{a.Config.DB, a.Config.DB + "-wal"} {
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ToLower(b)
		for _, n := range needles {
			if bytes.Contains(b, []byte(strings.ToLower(n))) {
				found[n] = append(found[n], path[strings.LastIndex(path, "."):])
			}
		}
	}
	return found
}

// pvWorld is the person with a history: two registrations at two events,
// consents, an introduction sent at the first event, emails sent and
// queued, and other people around them.
type pvWorld struct {
	a      *app.App
	smtp   *smtptest.Server
	past   events.Event // ended; the introduction was sent
	future events.Event // still to come; the person has the only place
	token  string       // the person's manage link for the past event
	token2 string       // for the future event
	peers  []string     // addresses of the two people introduced to them
}

// Other people, distinctive too.
const (
	pvPeerName    = "Vebjørn Kvistadløkken"
	pvPeerEmail   = "vebjorn.kvist@example.no"
	pvPeerPhone   = "+47 977 66 555"
	pvPeerDiet    = "Fiskeallergi-Kvistad"
	pvPeer2Name   = "Solfrid Aasgaardstrand"
	pvPeer2Email  = "solfrid.aa@example.no"
	pvOtherName   = "Torbjørn Utenforsen"
	pvOtherEmail  = "torbjorn.utenfor@example.no"
	pvWaitingName = "Wenche Ventelistesen"
)

func pvSetUp(t *testing.T) *pvWorld {
	t.Helper()
	a, srv := pvMailApp(t)
	w := &pvWorld{a: a, smtp: srv, peers: []string{pvPeerEmail, pvPeer2Email}}
	t0 := fixedClock(a, time.Now().UTC().Truncate(time.Second))
	w.past = createEvent(t, a, func(e *events.Event) {
		e.StartsAt, e.EndsAt = t0.Add(24*time.Hour), t0.Add(27*time.Hour)
	})
	w.future = createEvent(t, a, func(e *events.Event) {
		e.StartsAt, e.EndsAt, e.Capacity = t0.Add(30*24*time.Hour), t0.Add(30*24*time.Hour+2*time.Hour), 1
	})
	consent := func(v url.Values) url.Values { v.Set("intro_consent", "1"); return v }
	rec, _ := signUp(t, a, w.past.Slug, consent(with(validForm(pvName, pvEmail),
		"organisation", "Zorro-direktoratet", "phone", pvPhone, "topics", "Tillit i Zorro-etaten")))
	tokenOf(t, rec)
	w.token = mailedToken(t, a, pvEmail, w.past.Slug)
	rec, _ = signUp(t, a, w.past.Slug, consent(with(validForm(pvPeerName, pvPeerEmail),
		"organisation", "Kystverket", "phone", pvPeerPhone, "dietary", pvPeerDiet, "level", "middle")))
	tokenOf(t, rec)
	rec, _ = signUp(t, a, w.past.Slug, consent(with(validForm(pvPeer2Name, pvPeer2Email), "organisation", "Husbanken")))
	tokenOf(t, rec)
	// someone at the same event who is in no introduction
	mustSignUp(t, a, w.past.Slug, pvOtherName, pvOtherEmail)

	// the future event: the person has the only seat, someone waits
	w.token2 = mustSignUpMailed(t, a, w.future.Slug, pvName, pvEmail)
	rec, _ = signUp(t, a, w.future.Slug, validForm(pvWaitingName, "wenche.vente@example.no"))
	tokenOf(t, rec)
	pvSendAll(t, a)

	// The person changes their answer twice: two more consent records.
	cl := apptest.NewClient(t, a.Router)
	cl.Get("/r/" + w.token)
	form := with(validForm(pvName, pvEmail), "organisation", "Zorro-direktoratet", "phone", pvPhone, "topics", "Tillit i Zorro-etaten")
	apptest.Want(t, cl.PostForm("/r/"+w.token, form), http.StatusSeeOther)
	apptest.Want(t, cl.PostForm("/r/"+w.token, consent(form)), http.StatusSeeOther)

	// After the event: the organiser introduces the three who agreed.
	fixedClock(a, t0.Add(2*24*time.Hour))
	admin := pvAdmin(t, a)
	path := "/admin/events/" + strconv.FormatInt(w.past.ID, 10) + "/followup"
	apptest.Want(t, admin.PostForm(path, url.Values{}), http.StatusSeeOther)
	apptest.Want(t, admin.PostForm(path+"/approve", url.Values{}), http.StatusSeeOther)
	var introduced int
	if err := a.DB.Read().QueryRow(`SELECT COUNT(*) FROM outbox WHERE kind = 'introduction'`).Scan(&introduced); err != nil || introduced != 3 {
		t.Fatalf("%d introduction emails (%v), want 3: the three who agreed in one group", introduced, err)
	}
	pvSendAll(t, a)

	// A request for the link again: queued, not sent, at the erasure.
	apptest.Want(t, apptest.NewClient(t, a.Router).PostForm("/r", url.Values{"email": {pvEmail}}), http.StatusSeeOther)
	var queued int
	a.DB.Read().QueryRow(`SELECT COUNT(*) FROM outbox WHERE to_address_norm = ? AND status IN ('queued', 'held')`, pvNorm).Scan(&queued)
	if queued == 0 {
		t.Fatal("no queued mail to the person: the scenario needs some")
	}
	return w
}

func TestExportHoldsEverythingAboutThePersonAndNothingElse(t *testing.T) {
	w := pvSetUp(t)
	rec := apptest.NewClient(t, w.a.Router).Get("/r/" + w.token + "/export.json")
	apptest.Want(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := rec.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".json") {
		t.Errorf("Content-Disposition %q, want an attachment", cd)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	body := rec.Body.String()
	var ex registration.Export
	if err := json.Unmarshal(rec.Body.Bytes(), &ex); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	if ex.Email != pvNorm || ex.Format != registration.ExportFormat {
		t.Errorf("email %q, format %q", ex.Email, ex.Format)
	}

	t.Run("both registrations with every field and their consents", func(t *testing.T) {
		if len(ex.Registrations) != 2 {
			t.Fatalf("%d registrations, want 2", len(ex.Registrations))
		}
		byEvent := map[int64]registration.ExportRegistration{}
		for _, r := range ex.Registrations {
			byEvent[r.Event.ID] = r
		}
		r, ok := byEvent[w.past.ID]
		if !ok || r.Event.Title != w.past.Title || r.Event.Organiser == "" {
			t.Fatalf("no registration for %q: %+v", w.past.Title, ex.Registrations)
		}
		if r.Name != pvName || r.Email != pvEmail || r.Organisation != "Zorro-direktoratet" || r.Role != "Seksjonssjef" ||
			r.Level != "middle" || r.Sector != "state" || r.Region != "Bergen" || r.Phone != pvPhone ||
			r.Dietary != "Vegetar" || r.Topics != "Tillit i Zorro-etaten" || r.Status != "confirmed" || !r.IntroConsent ||
			r.Language != "nb" || r.CreatedAt.IsZero() || r.QueuedAt.IsZero() {
			t.Errorf("registration at the past event: %+v", r)
		}
		var intro []registration.ExportConsent
		for _, c := range r.Consents {
			if c.Kind == registration.IntroConsent.Kind {
				intro = append(intro, c)
			}
		}
		if len(intro) != 3 || len(r.Consents) != 4 || r.Consents[1].Kind != "health" || !r.Consents[1].Granted {
			t.Fatalf("consent records %+v, want introductions yes, no, yes and the needs' own", r.Consents)
		}
		for i, want := range []bool{true, false, true} {
			c := intro[i]
			if c.Granted != want || c.WordingVersion != registration.IntroConsentVersion || c.Wording == "" || c.RecordedAt.IsZero() {
				t.Errorf("consent %d: %+v, want granted=%v with wording", i, c, want)
			}
		}
		if f, ok := byEvent[w.future.ID]; !ok || f.Status != "confirmed" || f.Name != pvName {
			t.Errorf("registration at the future event: %+v", f)
		}
	})

	t.Run("the introduction with only what the others shared", func(t *testing.T) {
		if len(ex.Introductions) != 1 {
			t.Fatalf("%d introductions, want 1", len(ex.Introductions))
		}
		in := ex.Introductions[0]
		if in.Event.ID != w.past.ID || in.SentAt.IsZero() || len(in.Others) != 2 {
			t.Fatalf("introduction: %+v", in)
		}
		names := map[string]registration.ExportContact{}
		for _, o := range in.Others {
			names[o.Name] = o
		}
		peer, ok := names[pvPeerName]
		if !ok || peer.Organisation != "Kystverket" || peer.Email != pvPeerEmail || peer.Role == "" || peer.Topics == "" {
			t.Errorf("the peer as shared: %+v", in.Others)
		}
		if _, ok := names[pvPeer2Name]; !ok {
			t.Errorf("the second peer is missing: %+v", in.Others)
		}
	})

	t.Run("every email to them", func(t *testing.T) {
		kinds := map[string][]string{}
		for _, e := range ex.Emails {
			kinds[e.Kind] = append(kinds[e.Kind], e.Status)
			if e.Subject == "" || e.CreatedAt.IsZero() || (e.Status == "sent") != (e.SentAt != nil) {
				t.Errorf("email %+v", e)
			}
		}
		for kind, status := range map[string]string{"registration_confirmed": "sent", "introduction": "sent", "manage_link": "queued"} {
			if !strings.Contains(strings.Join(kinds[kind], ","), status) {
				t.Errorf("no %s email with status %s: %v", kind, status, kinds)
			}
		}
		var n int
		w.a.DB.Read().QueryRow(`SELECT COUNT(*) FROM outbox WHERE to_address_norm = ?`, pvNorm).Scan(&n)
		if n != len(ex.Emails) || n < 4 {
			t.Errorf("%d emails in the export, %d in the outbox", len(ex.Emails), n)
		}
	})

	t.Run("nothing about anyone else", func(t *testing.T) {
		for _, s := range []string{pvOtherName, pvOtherEmail, pvWaitingName, pvPeerPhone, pvPeerDiet, "wenche.vente"} {
			if strings.Contains(body, s) {
				t.Errorf("the export holds %q", s)
			}
		}
		// the peers appear only in the introduction
		var rest registration.Export
		json.Unmarshal(rec.Body.Bytes(), &rest)
		rest.Introductions = nil
		b, _ := json.Marshal(rest)
		for _, s := range []string{pvPeerName, pvPeerEmail, pvPeer2Name, pvPeer2Email} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%q appears outside the introduction", s)
			}
		}
	})

	t.Run("a wrong or missing link gets nothing", func(t *testing.T) {
		cl := apptest.NewClient(t, w.a.Router)
		apptest.Want(t, cl.Get("/r/"+strings.Repeat("A", 43)+"/export.json"), http.StatusNotFound)
		apptest.Want(t, cl.Get("/r/kort/export.json"), http.StatusNotFound)
	})
}

func TestErasureLeavesNoTrace(t *testing.T) {
	w := pvSetUp(t)
	a := w.a
	ctx := context.Background()

	// The scans see the person before: otherwise they would prove nothing.
	before := pvScan(t, a, pvLast, pvNorm)
	for _, n := range []string{pvLast, pvNorm} {
		if len(before[n]) == 0 {
			t.Fatalf("the scan does not find %q before the erasure", n)
		}
	}
	tables := map[string]bool{}
	for _, f := range append(before[pvLast], before[pvNorm]...) {
		tables[f.Table] = true
	}
	for _, table := range []string{"registrations", "outbox"} {
		if !tables[table] {
			t.Errorf("before the erasure the person is not in %s: %v", table, tables)
		}
	}
	if found := pvFiles(t, a, pvLast, pvNorm); len(found[pvLast]) == 0 || len(found[pvNorm]) == 0 {
		t.Fatalf("the files do not hold the person before the erasure: %v", found)
	}
	var tokens, introTokens, members int
	a.DB.Read().QueryRow(`SELECT COUNT(*) FROM manage_tokens t JOIN registrations r ON r.id = t.registration_id WHERE r.email_norm = ?`, pvNorm).Scan(&tokens)
	a.DB.Read().QueryRow(`SELECT COUNT(*) FROM intro_tokens t JOIN registrations r ON r.id = t.registration_id WHERE r.email_norm = ?`, pvNorm).Scan(&introTokens)
	if tokens == 0 || introTokens == 0 {
		t.Fatalf("%d manage tokens, %d introduction tokens before: the scenario needs both", tokens, introTokens)
	}
	past := regs(t, a, w.past.ID)
	pastIDs := map[int64]bool{}
	for _, r := range past {
		pastIDs[r.ID] = true
	}
	person := byEmail(t, a, w.past.ID, pvEmail)
	if code, err := a.Registrations.CheckinCode(ctx, person.ID); err != nil || code == "" {
		t.Fatalf("check-in code: %q, %v", code, err)
	}
	statsBefore := pvStats(t, a, w.past.ID)

	// The confirmation page lists both events; the POST erases.
	cl := apptest.NewClient(t, a.Router)
	page := cl.Get("/r/" + w.token + "/delete")
	apptest.Want(t, page, http.StatusOK)
	apptest.Says(t, page, w.past.Title, w.future.Title, "Ja, slett alt om meg", pvEmail)
	rec := cl.PostForm("/r/"+w.token+"/delete", url.Values{})
	apptest.Want(t, rec, http.StatusSeeOther)
	if loc := rec.Header().Get("Location"); loc != "/privacy" {
		t.Fatalf("redirect to %q", loc)
	}
	apptest.Says(t, cl.Follow(rec), "Dataene dine er slettet")

	t.Run("the name is nowhere, the address only in the confirmation", func(t *testing.T) {
		found := pvScan(t, a, pvLast, pvNorm, pvPhone, "Zorro-direktoratet", "Zorro-etaten")
		for _, n := range []string{pvLast, pvPhone, "Zorro-direktoratet", "Zorro-etaten"} {
			if len(found[n]) > 0 {
				t.Errorf("%q is still in %v", n, found[n])
			}
		}
		for _, f := range found[pvNorm] {
			var kind string
			a.DB.Read().QueryRow(`SELECT kind FROM outbox WHERE to_address_norm = ?`, pvNorm).Scan(&kind)
			if f.Table != "outbox" || kind != registration.KindDataErased {
				t.Errorf("the address is still in %s.%s (%s)", f.Table, f.Column, kind)
			}
		}
		if files := pvFiles(t, a, pvLast, pvPhone); len(files) > 0 {
			t.Errorf("the files still hold %v", files)
		}
	})

	t.Run("registrations are anonymised, figures kept", func(t *testing.T) {
		var name, email, org, phone, status string
		var anonymised sql.NullTime
		a.DB.Read().QueryRow(`SELECT name, email, organisation, phone, status, anonymised_at FROM registrations WHERE id = ?`, person.ID).
			Scan(&name, &email, &org, &phone, &status, &anonymised)
		if name != registration.ErasedName || email != registration.ErasedEmail(person.ID) || org != "" || phone != "" ||
			!anonymised.Valid || status != "confirmed" {
			t.Errorf("after: %q %q %q %q %s %v", name, email, org, phone, status, anonymised)
		}
		if got := pvStats(t, a, w.past.ID); got != statsBefore {
			t.Errorf("figures of the past event changed:\n%s\nwant\n%s", got, statsBefore)
		}
		var codes int
		a.DB.Read().QueryRow(`SELECT COUNT(*) FROM registrations WHERE anonymised_at IS NOT NULL AND checkin_code IS NOT NULL`).Scan(&codes)
		if codes != 0 {
			t.Errorf("%d anonymised registrations keep a check-in code", codes)
		}
		if n := len(regs(t, a, w.past.ID)); n != len(pastIDs) {
			t.Errorf("%d registrations at the past event, want %d", n, len(pastIDs))
		}
	})

	t.Run("the place at the future event went to the next in line", func(t *testing.T) {
		rs := regs(t, a, w.future.ID)
		statuses := map[string]string{}
		for _, r := range rs {
			statuses[r.Name] = r.Status
		}
		if statuses[registration.ErasedName] != "cancelled" || statuses[pvWaitingName] != "confirmed" {
			t.Errorf("statuses %v", statuses)
		}
		var promoted int
		a.DB.Read().QueryRow(`SELECT COUNT(*) FROM outbox WHERE kind = 'registration_promoted' AND to_address_norm = 'wenche.vente@example.no'`).Scan(&promoted)
		if promoted != 1 {
			t.Errorf("%d promotion emails to the next in line", promoted)
		}
	})

	t.Run("links are gone, the sent introduction keeps its group", func(t *testing.T) {
		var n int
		a.DB.Read().QueryRow(`SELECT COUNT(*) FROM manage_tokens WHERE registration_id = ?`, person.ID).Scan(&n)
		if n != 0 {
			t.Errorf("%d manage tokens left", n)
		}
		a.DB.Read().QueryRow(`SELECT COUNT(*) FROM intro_tokens WHERE registration_id = ?`, person.ID).Scan(&n)
		if n != 0 {
			t.Errorf("%d introduction tokens left", n)
		}
		a.DB.Read().QueryRow(`SELECT COUNT(*) FROM intro_members WHERE registration_id = ?`, person.ID).Scan(&members)
		if members != 1 {
			t.Errorf("%d memberships in the sent round, want 1 (pointing to the anonymised row)", members)
		}
		for _, tok := range []string{w.token, w.token2} {
			apptest.Want(t, apptest.NewClient(t, a.Router).Get("/r/"+tok), http.StatusNotFound)
		}
		// the peers' introduction emails named the person: gone too
		for _, peer := range w.peers {
			a.DB.Read().QueryRow(`SELECT COUNT(*) FROM outbox WHERE to_address_norm = ? AND kind = 'introduction'`, peer).Scan(&n)
			if n != 0 {
				t.Errorf("%d introductions naming the person are still in %s's mail", n, peer)
			}
		}
	})

	t.Run("the audit log counts without the address", func(t *testing.T) {
		var detail string
		if err := a.DB.Read().QueryRow(`SELECT detail FROM audit_log WHERE action = 'erasure'`).Scan(&detail); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(detail, "erasure of 2 registrations") {
			t.Errorf("audit detail %q", detail)
		}
	})

	// The confirmation goes out, and the commit that records it sent
	// deletes it: from then on the address is nowhere, in no table and in
	// neither file, with nothing else to wait for.
	pvSendAll(t, a)
	var confirmation *smtptest.Message
	for _, m := range w.smtp.Messages() {
		if len(m.To) == 1 && strings.EqualFold(m.To[0], pvEmail) && strings.Contains(string(m.Data), "Subject: Dataene dine er slettet") {
			m := m
			confirmation = &m
		}
	}
	if confirmation == nil {
		t.Fatal("no confirmation of the erasure arrived")
	}
	if strings.Contains(string(confirmation.Data), pvLast) || strings.Contains(string(confirmation.Data), "Ingrid") {
		t.Error("the confirmation holds the name")
	}
	found := pvScan(t, a, pvLast, pvNorm, "unik.test")
	if len(found) > 0 {
		t.Errorf("right after the confirmation was sent: %v", found)
	}
	if files := pvFiles(t, a, pvLast, pvNorm, "unik.test"); len(files) > 0 {
		t.Errorf("right after the confirmation was sent the files still hold %v", files)
	}
	if wal, err := os.Stat(a.Config.DB + "-wal"); err == nil && wal.Size() != 0 {
		t.Logf("WAL is %d bytes after the confirmation was sent", wal.Size())
	}
}

// pvStats is an event's figures: counts by status, level, sector and
// attendance.
func pvStats(t testing.TB, a *app.App, eventID int64) string {
	t.Helper()
	rows, err := a.DB.Read().Query(`SELECT status, level, sector, checked_in_at IS NOT NULL, COUNT(*) FROM registrations
		WHERE event_id = ? GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`, eventID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var status, level, sector string
		var in, n int
		if err := rows.Scan(&status, &level, &sector, &in, &n); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s %s checked-in=%d: %d\n", status, level, sector, in, n)
	}
	return b.String()
}

func TestErasureOfAnUnknownAddressChangesNothing(t *testing.T) {
	a, _ := pvMailApp(t)
	ev := createEvent(t, a, nil)
	mustSignUp(t, a, ev.Slug, "Kari Blirværende", "kari.blir@example.no")
	gen := a.DB.Generation()
	_, err := a.Registrations.Erase(context.Background(), nil, "ingen.slik@example.no", registration.EraseOptions{})
	if err != registration.ErrNotFound {
		t.Fatalf("err %v, want ErrNotFound", err)
	}
	if a.DB.Generation() != gen {
		t.Error("something was written")
	}
	// an organiser may erase only people of their own events
	var otherOrg int64
	if err := a.DB.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error {
		o := events.Organiser{Slug: "andre", Name: "Andre", Kind: "public", ContactEmail: "post@andre.example.no"}
		err := events.CreateOrganiser(context.Background(), tx, &o)
		otherOrg = o.ID
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_, err = a.Registrations.Erase(context.Background(), nil, "kari.blir@example.no", registration.EraseOptions{OrganiserID: otherOrg})
	if err != registration.ErrNotFound {
		t.Fatalf("another organiser: err %v, want ErrNotFound", err)
	}
	if r := byEmail(t, a, ev.ID, "kari.blir@example.no"); r.Name != "Kari Blirværende" {
		t.Errorf("the registration changed: %+v", r)
	}
}
