package registration_test

import (
	"bytes"
	"image/png"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/moteplass/moteplass/internal/smtptest"
	"github.com/moteplass/moteplass/registration"
)

// TestConfirmationCarriesItsQRCodeInline: Outlook blocks remote images by
// default, so the check-in QR code travels inside the confirmation (an
// inline image/png in multipart/related, which the HTML shows by its
// Content-ID), holds this person's check-in address, and the code is
// printed as text in both parts; a waiting-list email has none.
func TestConfirmationCarriesItsQRCodeInline(t *testing.T) {
	srv := smtptest.Start(t)
	a := ntMailApp(t, srv, true)
	ntDeliver(t, a, srv) // whatever the demo queued
	ev := ntEvent(t, a, "Ledermøte med QR-kode", 1)

	mustSignUp(t, a, ev.Slug, "Kari Nordmann", "kari.qr@bergen.kommune.example.no")
	msgs := ntDeliver(t, a, srv)
	ntWantCount(t, msgs, 1, "sign-up")
	m := msgs[0]
	var code string
	if err := a.DB.Read().QueryRow(`SELECT checkin_code FROM registrations WHERE email_norm = ?`,
		"kari.qr@bergen.kommune.example.no").Scan(&code); err != nil || code == "" {
		t.Fatalf("the registration has no check-in code (%q, %v)", code, err)
	}

	img := m.Part("image/png")
	if img == nil {
		t.Fatalf("no image in %s", m.Structure)
	}
	if !strings.Contains(m.Structure, "multipart/related(") {
		t.Errorf("the image is not part of the HTML (multipart/related): %s", m.Structure)
	}
	if img.ContentID != "<qr@moteplass>" || img.Disposition != "inline" {
		t.Errorf("image Content-ID %q, disposition %q: want <qr@moteplass>, inline", img.ContentID, img.Disposition)
	}
	if !strings.Contains(m.HTML, `src="cid:qr@moteplass"`) {
		t.Errorf("the HTML does not show the inline image")
	}
	if strings.Contains(m.HTML, "qr.png") || strings.Contains(m.HTML, `src="http`) {
		t.Errorf("the HTML still loads a remote image")
	}
	if _, err := png.Decode(bytes.NewReader(img.Body)); err != nil {
		t.Fatalf("the image is not a PNG: %v", err)
	}
	// the same content drawn the same way gives the same bytes
	want, err := qrcode.Encode(registration.CheckinURL(a.Config.BaseURL, code), qrcode.Medium, registration.CheckinQRSize)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(img.Body, want) {
		t.Errorf("the QR code does not hold this person's check-in address")
	}
	for part, body := range map[string]string{"text": m.Text, "HTML": m.HTML} {
		if !strings.Contains(body, code) {
			t.Errorf("the %s part does not print the check-in code %s", part, code)
		}
	}
	for part, body := range map[string]string{"text": m.Text, "HTML": m.HTML} {
		if !strings.Contains(body, "Vennlig hilsen "+ev.Organiser.Name) {
			t.Errorf("the %s part is not signed by the organiser %s", part, ev.Organiser.Name)
		}
	}
	if !strings.HasPrefix(strings.TrimSpace(m.Text), "Hei Kari,") {
		t.Errorf("the greeting is not by first name: %.40q", m.Text)
	}

	mustSignUp(t, a, ev.Slug, "Ola Venter", "ola.qr@example.no") // the event is full
	msgs = ntDeliver(t, a, srv)
	ntWantCount(t, msgs, 1, "sign-up to the waiting list")
	if msgs[0].Part("image/png") != nil || strings.Contains(msgs[0].HTML, "cid:") {
		t.Errorf("a waiting-list email carries a check-in QR code: %s", msgs[0].Structure)
	}
}
