package events_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/smtptest"
)

// The organiser's contact address is every registrant's Reply-To: the
// addresses of the trust issue's break 5 get a message or are taken, never
// a 500, and one beyond ASCII before the @ only while the relay offers
// SMTPUTF8.
func TestOrganisationContactAddress(t *testing.T) {
	for _, relayUTF8 := range []bool{true, false} {
		t.Run(fmt.Sprintf("relay SMTPUTF8 %v", relayUTF8), func(t *testing.T) {
			srv := smtptest.Start(t)
			if relayUTF8 {
				srv = smtptest.StartUTF8(t)
			}
			a := apptest.New(t, apptest.Options{Demo: true, Config: func(c *app.Config) {
				c.SMTPHost, c.SMTPPort, c.SMTPTLS = "127.0.0.1", srv.Port, "none"
			}})
			if _, err := a.Mailer.Probe(context.Background()); err != nil {
				t.Fatal(err)
			}
			admin := apptest.DemoLogin(t, a.Router, admAdmin)
			for i, tc := range []struct {
				addr string
				utf8 bool // valid, needs SMTPUTF8
				ok   bool
			}{
				{"bjørn@example.no", true, true},
				{"ØYVIND@example.no", true, true},
				{"post@bærum.no", false, true},
				{"a@x_y.no", false, false},
				{"a@x-.no", false, false},
				{"a@[127.0.0.1]", false, false},
				{"a@x\u202e.no", false, false},
			} {
				name := fmt.Sprintf("Testorganisasjon %d", i)
				rec := admin.PostForm("/admin/organisations", url.Values{"name": {name}, "kind": {"public"}, "contact_email": {tc.addr}})
				switch {
				case tc.ok && (!tc.utf8 || relayUTF8):
					apptest.Want(t, rec, http.StatusSeeOther)
				case tc.utf8:
					apptest.Want(t, rec, http.StatusUnprocessableEntity)
					apptest.Says(t, rec, "Vi kan dessverre ikke sende e-post med æ, ø, å")
				default:
					apptest.Want(t, rec, http.StatusUnprocessableEntity)
					apptest.Says(t, rec, "Skriv en gyldig e-postadresse")
				}
				if rec.Code == http.StatusUnprocessableEntity && !strings.Contains(rec.Body.String(), `value="`+name+`"`) {
					t.Errorf("%s: the form lost the typed name", tc.addr)
				}
			}
		})
	}
}
