package registration_test

// Break 5 of the trust issue: addresses the form took ended in 500 at the
// outbox. Every form that takes an address now uses mailer.ParseAddress, and
// refuses a local part beyond ASCII (bjørn@) only while the relay cannot
// send to it (no SMTPUTF8), in the person's language.

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/smtptest"
	"github.com/moteplass/moteplass/mailer"
	"github.com/moteplass/moteplass/organisers"
	"github.com/moteplass/moteplass/privacy"
	"github.com/moteplass/moteplass/registration"
)

// The addresses of the report, and what each comes to.
var adrReported = []struct {
	addr  string
	utf8  bool // valid, but needs SMTPUTF8
	valid bool
}{
	{"bjørn@example.no", true, true},
	{"ØYVIND@example.no", true, true},
	{"a@x_y.no", false, false},
	{"a@x-.no", false, false},
	{"a@[127.0.0.1]", false, false},
	{"a@x\u202e.no", false, false},
}

const (
	adrNeedsUTF8NB = "Vi kan dessverre ikke sende e-post til adresser med æ, ø, å eller andre spesialtegn før @. Bruk gjerne en annen adresse."
	adrNeedsUTF8EN = "Unfortunately we cannot send email to addresses with æ, ø, å or other special characters before the @. Please use another address."
	adrInvalidNB   = "Skriv inn e-postadressen slik: navn@virksomhet.no."
)

// adrApp is the app sending through a relay that offers SMTPUTF8 or not,
// after the worker has asked it (as it does at start).
func adrApp(t *testing.T, relayUTF8 bool) (*app.App, *smtptest.Server) {
	t.Helper()
	srv := smtptest.Start(t)
	if relayUTF8 {
		srv = smtptest.StartUTF8(t)
	}
	a := ntMailApp(t, srv, false)
	if _, err := a.Mailer.Probe(context.Background()); err != nil {
		t.Fatalf("probe: %v", err)
	}
	return a, srv
}

// adrOrganiser logs in an organiser of ev's organisation.
func adrOrganiser(t *testing.T, a *app.App, organiserID int64) *apptest.Client {
	t.Helper()
	ctx := context.Background()
	store := organisers.Store{DB: a.DB, BcryptCost: bcrypt.MinCost}
	u := organisers.User{Name: "Ola Arrangør", Role: organisers.RoleOrganiser, OrganiserID: organiserID,
		Email: fmt.Sprintf("arrangor-%d@org.example.no", time.Now().UnixNano())}
	if err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return store.CreateUser(ctx, tx, now, &u, attPassword) }); err != nil {
		t.Fatal(err)
	}
	return apptest.Login(t, a.Router, u.Email, attPassword)
}

// adrWant checks the answer to a form with addr: a redirect when the
// address is taken, else the form again (422) with the right message and
// what was typed; never a 500.
func adrWant(t *testing.T, rec *httpRecorder, taken bool, msg string, typed ...string) {
	t.Helper()
	if taken {
		apptest.Want(t, rec, http.StatusSeeOther)
		return
	}
	apptest.Want(t, rec, http.StatusUnprocessableEntity)
	apptest.Says(t, rec, msg)
	for _, s := range typed {
		if !strings.Contains(rec.Body.String(), s) {
			t.Errorf("the form lost %q", s)
		}
	}
}

func TestReportedAddressesAtEveryForm(t *testing.T) {
	for _, relayUTF8 := range []bool{true, false} {
		t.Run(fmt.Sprintf("relay SMTPUTF8 %v", relayUTF8), func(t *testing.T) {
			a, _ := adrApp(t, relayUTF8)
			ev := createEvent(t, a, capacity(100))
			admin := adrOrganiser(t, a, ev.Organiser.ID)
			for i, tc := range adrReported {
				taken := tc.valid && (!tc.utf8 || relayUTF8)
				msg := adrInvalidNB
				if tc.utf8 {
					msg = adrNeedsUTF8NB
				}
				name := fmt.Sprintf("Person Nummer%d", i)

				// sign-up
				cl := apptest.NewClient(t, a.Router)
				rec := cl.PostForm("/events/"+ev.Slug+"/registrations", validForm(name, tc.addr))
				adrWant(t, rec, taken, msg, name, "Statens vegvesen", "Tillit i ledergruppen")

				// "send me my link"
				rec = apptest.NewClient(t, a.Router).PostForm("/r", url.Values{"email": {tc.addr}})
				adrWant(t, rec, taken, msg)

				// the organiser's add-by-hand (the address is new here only
				// when sign-up refused it)
				addr := tc.addr
				if taken {
					addr = strings.Replace(addr, "@", "+lagt-til@", 1)
				}
				rec = admin.PostForm(attPath(ev, "/attendees"), with(validForm(name+" Telefon", addr), "lang", "nb"))
				adrWant(t, rec, taken, msg, name+" Telefon")
			}
		})
	}
}

// The message is in the person's language.
func TestNeedsUTF8MessageInEnglish(t *testing.T) {
	a, _ := adrApp(t, false)
	ev := createEvent(t, a, nil)
	cl := apptest.NewClient(t, a.Router)
	cl.Header.Set("Accept-Language", "en")
	rec := cl.PostForm("/events/"+ev.Slug+"/registrations", validForm("Bjørn Berg", "bjørn@example.no"))
	apptest.Want(t, rec, http.StatusUnprocessableEntity)
	apptest.Says(t, rec, adrNeedsUTF8EN)
}

// With SMTPUTF8 the person signed up as bjørn@ gets the confirmation at
// that address; an international domain arrives as an A-label, and its two
// spellings are one person.
func TestUTF8SignUpIsDelivered(t *testing.T) {
	a, srv := adrApp(t, true)
	ev := createEvent(t, a, capacity(10))
	cl := apptest.NewClient(t, a.Router)
	apptest.Want(t, cl.PostForm("/events/"+ev.Slug+"/registrations", validForm("Bjørn Berg", "bjørn@example.no")), http.StatusSeeOther)
	apptest.Want(t, cl.PostForm("/events/"+ev.Slug+"/registrations", validForm("Ola Bærum", "ola@Bærum.no")), http.StatusSeeOther)
	got := ntDeliver(t, a, srv)
	if len(got) != 2 {
		t.Fatalf("%d messages, want 2", len(got))
	}
	if got[0].Envelope.To[0] != "bjørn@example.no" || !got[0].Envelope.UTF8 || !strings.Contains(got[0].Header.Get("To"), "<bjørn@example.no>") {
		t.Errorf("envelope %q (SMTPUTF8 %v), To %q", got[0].Envelope.To, got[0].Envelope.UTF8, got[0].Header.Get("To"))
	}
	if got[1].Envelope.To[0] != "ola@xn--brum-voa.no" || !strings.Contains(got[1].Header.Get("To"), "<ola@xn--brum-voa.no>") {
		t.Errorf("envelope %q, To %q; want the A-label", got[1].Envelope.To, got[1].Header.Get("To"))
	}

	// the A-label spelling is the same person: a duplicate, no new place
	rec := cl.PostForm("/events/"+ev.Slug+"/registrations", validForm("Ola Bærum", "OLA@xn--brum-voa.no"))
	apptest.Want(t, rec, http.StatusSeeOther)
	if loc := rec.Header().Get("Location"); !strings.HasSuffix(loc, "/registered") {
		t.Errorf("the A-label spelling signed up again (redirect to %s)", loc)
	}
	var n int
	if err := a.DB.Read().QueryRow(`SELECT COUNT(*) FROM registrations WHERE event_id = ?`, ev.ID).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d registrations (%v), want 2", n, err)
	}
}

// Keys stored before the one parser kept an international domain as typed;
// at start they become A-labels, so the data export (and erasure, and the
// duplicate rule) finds the person by either spelling.
func TestRekeyEmailsStoredBefore(t *testing.T) {
	apptest.SQLiteOnly(t, "keys from before the one address parser exist only in SQLite files of earlier versions (db.Rekey)")
	a := newApp(t)
	ev := createEvent(t, a, nil)
	cl := apptest.NewClient(t, a.Router)
	apptest.Want(t, cl.PostForm("/events/"+ev.Slug+"/registrations", validForm("Ola Bærum", "Ola@Bærum.no")), http.StatusSeeOther)
	apptest.Want(t, cl.PostForm("/events/"+ev.Slug+"/registrations", validForm("Bjørn Berg", "bjørn@example.no")), http.StatusSeeOther)
	// as the code before wrote them: trimmed and lower-cased
	for _, q := range []string{
		`UPDATE registrations SET email_norm = 'ola@bærum.no' WHERE email_norm = 'ola@xn--brum-voa.no'`,
		`UPDATE outbox SET to_address_norm = 'ola@bærum.no' WHERE to_address_norm = 'ola@xn--brum-voa.no'`,
		`UPDATE personal_feeds SET email_norm = 'ola@bærum.no' WHERE email_norm = 'ola@xn--brum-voa.no'`,
	} {
		if _, err := a.DB.Write().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if ex, _ := a.Privacy.Export(ctx, registration.NormalizeEmail("OLA@xn--brum-voa.no")); len(ex.Registrations) != 0 {
		t.Fatal("the set-up did not store the old key")
	}
	n, err := app.RekeyAddresses(ctx, a.DB)
	if err != nil || n != 3 {
		t.Fatalf("RekeyAddresses = %d, %v; want 3 keys changed", n, err)
	}
	for _, spelling := range []string{"OLA@xn--brum-voa.no", "ola@bærum.no"} {
		ex, err := a.Privacy.Export(ctx, registration.NormalizeEmail(spelling))
		if err != nil || len(ex.Registrations) != 1 || len(ex.Emails) == 0 {
			t.Errorf("export for %s: %d registrations, %d emails, %v", spelling, len(ex.Registrations), len(ex.Emails), err)
		}
	}
	var feeds int
	a.DB.Read().QueryRow(`SELECT COUNT(*) FROM personal_feeds WHERE email_norm = 'ola@xn--brum-voa.no'`).Scan(&feeds)
	if feeds != 1 {
		t.Errorf("%d personal feeds under the new key, want 1", feeds)
	}
	// a UTF-8 local part is already its key; a second run finds nothing
	if n, err := app.RekeyAddresses(ctx, a.DB); err != nil || n != 0 {
		t.Errorf("second run: %d, %v", n, err)
	}
}

// Erasure finds mail that names a UTF-8 address in any case: the outbox is
// searched with SQLite's lower(), which folds only ASCII letters.
func TestEraseFindsUTF8AddressInOtherMail(t *testing.T) {
	a, _ := adrApp(t, true)
	ev := createEvent(t, a, nil)
	apptest.Want(t, apptest.NewClient(t, a.Router).PostForm("/events/"+ev.Slug+"/registrations",
		validForm("Øyvind Ås", "ØYVIND@example.no")), http.StatusSeeOther)
	// as an introduction shares the address with the others of a group
	ctx := context.Background()
	err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		_, err := mailer.Enqueue(ctx, tx, now, mailer.Message{Kind: "introduction", To: "kari@example.no",
			Subject: "Dere ble kjent", TextBody: "Skriv til Øyvind: ØYVIND@example.no\n"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	store := organisers.Store{DB: a.DB, BcryptCost: bcrypt.MinCost}
	u := organisers.User{Name: "Ada Admin", Role: organisers.RoleAdmin, Email: "ada@org.example.no"}
	if err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return store.CreateUser(ctx, tx, now, &u, attPassword) }); err != nil {
		t.Fatal(err)
	}
	admin := apptest.Login(t, a.Router, u.Email, attPassword)
	apptest.Want(t, admin.PostForm("/admin/erase", url.Values{"email": {"øyvind@example.no"}, "confirm": {"1"}}), http.StatusSeeOther)
	var left int
	a.DB.Read().QueryRow(`SELECT COUNT(*) FROM outbox WHERE text_body LIKE '%example.no%' AND kind <> ?`, privacy.KindDataErased).Scan(&left)
	if left != 0 {
		t.Errorf("%d messages still hold the erased address", left)
	}
}
