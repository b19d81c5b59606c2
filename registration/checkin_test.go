package registration_test

// Check-in at the door, the way a volunteer does it on a phone: search by
// name without JavaScript, one tap to check in, undo; and the QR code a
// person shows, which opens their entry for logged-in staff only.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/registration"
)

func TestCheckInAtTheDoorOnAPhone(t *testing.T) {
	w := attSetup(t, capacity(3))
	a := w.a
	ase, _ := signUpAs(t, a, w.ev, "Åse Ødegård", "ase@example.no")
	signUpAs(t, a, w.ev, "Bjørn Ærlig", "bjorn@example.no")
	signUpAs(t, a, w.ev, "Ola Nordmann", "ola@example.no")
	vera, _ := signUpAs(t, a, w.ev, "Vera Venteliste", "vera@example.no")

	phone := w.login(t, "checkin")
	phone.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148")
	base := attPath(w.ev, "/checkin")

	rec := phone.Get(base)
	apptest.Want(t, rec, http.StatusOK)
	body := rec.Body.String()
	if !strings.Contains(body, `name="viewport" content="width=device-width, initial-scale=1"`) {
		t.Error("the page has no viewport for phones")
	}
	if strings.Contains(body, "<script") {
		t.Error("the check-in page needs JavaScript")
	}
	apptest.Says(t, rec, "0 av 3 sjekket inn", "Åse Ødegård", "Bjørn Ærlig", "Ola Nordmann", "Sjekk inn : Åse Ødegård",
		"Vera Venteliste", "Står på venteliste (nr. 1)")
	if n := strings.Count(body, `<button type="submit" class="submit-wide">`); n != 3 {
		t.Errorf("%d check-in buttons, want one per confirmed person (3)", n)
	}

	// search by name, lower case, without the accents' case
	rec = phone.Get(base + "?q=" + url.QueryEscape("ødeg"))
	apptest.Says(t, rec, "1 treff på «ødeg»", "Åse Ødegård")
	apptest.DoesNotSay(t, rec, "Bjørn Ærlig")

	// one tap
	rec = phone.PostForm(fmt.Sprintf("%s/%d", base, ase.ID), url.Values{"q": {"ødeg"}})
	apptest.Want(t, rec, http.StatusSeeOther)
	if loc := rec.Header().Get("Location"); loc != fmt.Sprintf("%s?q=%s#p-%d", base, url.QueryEscape("ødeg"), ase.ID) {
		t.Errorf("back to %q, want the search with the person in view", loc)
	}
	rec = attFollow(t, phone, rec)
	apptest.Says(t, rec, "Sjekket inn.", "1 av 3 sjekket inn", "Sjekket inn kl.", "Angre innsjekking")
	if got := attendee(t, a, w.ev.ID, ase.ID); got.CheckedInAt.IsZero() {
		t.Fatal("not checked in")
	}
	// a second tap (two volunteers, or a double tap) changes nothing
	apptest.Says(t, attFollow(t, phone, phone.PostForm(fmt.Sprintf("%s/%d", base, ase.ID), url.Values{})), "allerede sjekket inn", "1 av 3")

	// undo
	rec = attFollow(t, phone, phone.PostForm(fmt.Sprintf("%s/%d/undo", base, ase.ID), url.Values{}))
	apptest.Says(t, rec, "Innsjekkingen er angret", "0 av 3 sjekket inn")
	if got := attendee(t, a, w.ev.ID, ase.ID); !got.CheckedInAt.IsZero() {
		t.Fatal("still checked in after undo")
	}

	// someone on the waiting list cannot be checked in
	rec = attFollow(t, phone, phone.PostForm(fmt.Sprintf("%s/%d", base, vera.ID), url.Values{}))
	apptest.Says(t, rec, "har ikke bekreftet plass")
	if got := attendee(t, a, w.ev.ID, vera.ID); !got.CheckedInAt.IsZero() {
		t.Fatal("a waiting person was checked in")
	}

	in, undo := auditLog(t, a, registration.ActionCheckIn), auditLog(t, a, registration.ActionCheckInUndo)
	if len(in) != 1 || len(undo) != 1 || in[0].ObjectID != ase.ID || in[0].UserID != w.users["checkin"].ID {
		t.Fatalf("audit: %+v %+v", in, undo)
	}
	// the organiser's list shows attendance
	attFollow(t, phone, phone.PostForm(fmt.Sprintf("%s/%d", base, ase.ID), url.Values{}))
	list := w.login(t, "organiser").Get(attPath(w.ev, "/attendees?status=attended"))
	apptest.Says(t, list, "Åse Ødegård", "Sjekket inn kl.", "Viser 1 av 4")
	// the volunteer sees no more than the check-in page
	apptest.Want(t, phone.Get(attPath(w.ev, "/attendees")), http.StatusForbidden)
	apptest.Want(t, phone.Get(attPath(w.ev, "/attendees.csv")), http.StatusForbidden)
	apptest.Want(t, phone.Get(attPath(w.other, "/checkin")), http.StatusForbidden)
}

func TestCheckinQRCode(t *testing.T) {
	w := attSetup(t, capacity(3))
	a := w.a
	kari, token := signUpAs(t, a, w.ev, "Kari Kode", "kari@example.no")
	ctx := context.Background()

	// the PNG behind the manage link, for the manage page and the email
	rec := apptest.NewClient(t, a.Router).Get("/r/" + token + "/qr.png")
	apptest.Want(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "image/png" || !bytes.HasPrefix(rec.Body.Bytes(), []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("not a PNG: %q", ct)
	}
	if rec.Header().Get("Referrer-Policy") != "no-referrer" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("the QR code's response may leak its link: %v", rec.Header())
	}
	code, err := a.Registrations.CheckinCode(ctx, kari.ID)
	if err != nil || len(code) != 22 {
		t.Fatalf("code %q (%v)", code, err)
	}
	if again, _ := a.Registrations.CheckinCode(ctx, kari.ID); again != code {
		t.Fatal("the code changed")
	}
	png, err := a.Registrations.CheckinQR(ctx, kari.ID, "https://moteplass.example.no")
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("CheckinQR: %v", err)
	}
	svg, err := a.Registrations.CheckinQRSVG(ctx, kari.ID, "https://moteplass.example.no", "QR-kode for innsjekking")
	if err != nil || !strings.HasPrefix(string(svg), "<svg") || !strings.Contains(string(svg), `role="img"`) ||
		!strings.Contains(string(svg), "<title>QR-kode for innsjekking</title>") {
		t.Fatalf("CheckinQRSVG: %.200s (%v)", svg, err)
	}

	entry := "/admin/checkin/" + code
	// not logged in: to the login page, which comes back here
	rec = apptest.NewClient(t, a.Router).Get(entry)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/admin/login?next=") {
		t.Fatalf("anonymous: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	phone := w.login(t, "checkin")
	rec = phone.Get(entry)
	apptest.Want(t, rec, http.StatusOK)
	apptest.Says(t, rec, "Kari Kode", "fra QR-koden", "Sjekk inn : Kari Kode")
	rec = phone.PostForm(fmt.Sprintf("%s/%d", attPath(w.ev, "/checkin"), kari.ID), url.Values{"code": {code}})
	apptest.Want(t, rec, http.StatusSeeOther)
	if loc := rec.Header().Get("Location"); loc != entry {
		t.Errorf("back to %q, want the entry", loc)
	}
	apptest.Says(t, attFollow(t, phone, rec), "Sjekket inn kl.", "1 av 1 sjekket inn")

	// unknown and malformed codes, and another organisation's staff
	apptest.Want(t, phone.Get("/admin/checkin/AAAAAAAAAAAAAAAAAAAAAA"), http.StatusNotFound)
	apptest.Want(t, phone.Get("/admin/checkin/"+fmt.Sprint(kari.ID)), http.StatusNotFound)
	apptest.Want(t, w.login(t, "other").Get(entry), http.StatusForbidden)

	// a cancelled registration has no QR code
	if _, _, err := a.Registrations.Cancel(ctx, kari.ID); err != nil {
		t.Fatal(err)
	}
	apptest.Want(t, apptest.NewClient(t, a.Router).Get("/r/"+token+"/qr.png"), http.StatusNotFound)
	apptest.Want(t, apptest.NewClient(t, a.Router).Get("/r/not-a-token/qr.png"), http.StatusNotFound)
}
