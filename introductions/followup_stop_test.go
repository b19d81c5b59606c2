package introductions_test

// The "stop future introductions" link.

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/introductions"
)

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
