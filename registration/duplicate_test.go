package registration_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/registration"
)

// TestDuplicate: a second sign-up with a registered address creates
// nothing and shows nothing of the registration; the link goes to the
// address (throttled), and the page says whether it went.
func TestDuplicate(t *testing.T) {
	a := newApp(t)
	n := recordNotices(a)
	openSlug, id := openEvent(t, a)
	token := mustSignUp(t, a, openSlug, "Kari Nordmann", "kari.nordmann@example.no")

	for _, email := range []string{"kari.nordmann@example.no", "  KARI.Nordmann@Example.NO  ", "Kari.Nordmann@example.no"} {
		rec, c := signUp(t, a, openSlug, validForm("Kari N.", email))
		apptest.Want(t, rec, http.StatusSeeOther)
		if loc := rec.Header().Get("Location"); loc != "/events/"+openSlug+"/registered" {
			t.Fatalf("redirect to %q", loc)
		}
		page := c.Follow(rec)
		apptest.Want(t, page, http.StatusOK)
		// the confirmation went moments ago, so no link is sent now, and
		// the page does not say one was (it used to)
		apptest.Says(t, page, "allerede påmeldt", "ble sendt til adressen for noen minutter siden", "Sjekk e-posten din")
		mustNotContain(t, page, "Vi har sendt lenken", token, "/r/"+token, "Du har plass", "venteliste som nummer", "Kari Nordmann")
	}
	if got := len(regs(t, a, id)); got != 1 {
		t.Errorf("%d registrations, want 1", got)
	}
	// the sign-up's own email carried a link moments ago: no second one yet
	if got := n.kinds(); len(got) != 1 {
		t.Errorf("notices %v, want only the confirmation", got)
	}
	// later, a second attempt sends a fresh link to the address
	fixedClock(a, time.Now().Add(10*time.Minute))
	rec, later := signUp(t, a, openSlug, validForm("Kari", "KARI.NORDMANN@example.no"))
	apptest.Want(t, rec, http.StatusSeeOther)
	apptest.Says(t, later.Follow(rec), "allerede påmeldt", "Vi har sendt lenken")
	nt := n.last()
	if nt.Kind != registration.NoticeManageLink || nt.Registration.Email != "kari.nordmann@example.no" || nt.Token == "" || nt.Token == token {
		t.Fatalf("notice %+v", nt)
	}
	page := apptest.NewClient(t, a.Router).Get("/r/" + nt.Token)
	apptest.Want(t, page, http.StatusOK)
	apptest.Says(t, page, "Kari Nordmann")

	// once cancelled, the address may sign up again
	c := apptest.NewClient(t, a.Router)
	apptest.Want(t, c.PostForm("/r/"+token+"/cancel", url.Values{}), http.StatusSeeOther)
	cancelled := c.Get("/r/" + token)
	apptest.Says(t, cancelled, "Avmeldt")
	if strings.Contains(cancelled.Body.String(), "<dt>Påmeldt</dt>") {
		t.Error("a cancelled registration is labelled Påmeldt")
	}
	tokenOf(t, func() *httptest.ResponseRecorder {
		r, _ := signUp(t, a, openSlug, validForm("Kari", "kari.nordmann@example.no"))
		return r
	}())
}
