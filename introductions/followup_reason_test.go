package introductions_test

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/app/apptest"
)

var (
	fuReasonRe  = regexp.MustCompile(`<span class="reason">([^<]*)</span>`)
	fuPreviewRe = regexp.MustCompile(`(?s)<pre class="email-text" lang="(\w+)">(.*?)</pre>`)
)

// What the organiser approves is what is sent: the reason on the proposal
// page is the reason in every email of the group, built only from what the
// members agreed to share (name, organisation, role, topics: never level,
// region, sector, phone or needs), and the preview on the page is the email
// one of them then gets, but for the personal "stop" link.
func TestFollowupReasonShownIsReasonSent(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.DemoLogin(t, a.Router, fuOrganiser)
	secret := func(p fuPerson) fuPerson {
		p.Consent, p.Phone, p.Dietary, p.Accessibility = true, "+47 400 00 001", "Glutenfri", "Rullestol"
		return p
	}
	cases := []struct {
		name   string
		people []fuPerson
		// what the reason says, and what the page alone says
		reason, organiserOnly string
	}{
		{"first-line leaders in Bergen", []fuPerson{
			secret(fuPerson{Name: "Åse Førstelinje", Org: "NAV Bergen", Role: "HR", Level: "first_line", Topics: "omstilling"}),
			secret(fuPerson{Name: "Bjørn Førstelinje", Org: "Skatteetaten", Role: "hr", Level: "first_line", Topics: "Omstilling; rekruttering"}),
			secret(fuPerson{Name: "Cecilie Førstelinje", Org: "Bergen kommune", Role: "personal", Level: "first_line", Sector: "municipal", Topics: "omstilling"}),
		}, "Dere jobber alle med HR og foreslo «omstilling».", ""},
		{"levels mixed", []fuPerson{
			secret(fuPerson{Name: "Dag Toppleder", Org: "Statsforvalteren", Role: "økonomi", Level: "top"}),
			secret(fuPerson{Name: "Eva Mellomleder", Org: "Universitetet i Bergen", Role: "Økonomi", Level: "middle"}),
			secret(fuPerson{Name: "Finn Mellomleder", Org: "Helse Vest", Role: "finance", Level: "middle", Sector: "municipal"}),
		}, "Dere jobber alle med økonomi og virksomhetsstyring.", "Bare du ser dette: gruppen har ledere på ulike nivåer"},
	}
	// Words of what nobody agreed to share, as a reason could put them.
	unshared := []string{"førstelinjeleder", "mellomleder", "toppleder", "nivå", "Bergen", "stat", "kommun",
		"+47", "Glutenfri", "Rullestol"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := fuEvent(t, a, "dfo", 24*time.Hour)
			ids := fuRegister(t, a, ev.ID, c.people...)
			fuGenerate(t, cl, ev.ID)

			page := cl.Get(fuPath(ev.ID, ""))
			apptest.Want(t, page, http.StatusOK)
			body := page.Body.String()
			reasons := fuReasonRe.FindAllStringSubmatch(body, -1)
			if len(reasons) != 1 {
				t.Fatalf("want one group's reason on the page, found %d", len(reasons))
			}
			reason := html.UnescapeString(reasons[0][1])
			if !strings.HasPrefix(reason, c.reason) {
				t.Errorf("reason on the page %q, want it to start %q", reason, c.reason)
			}
			for _, w := range unshared {
				if strings.Contains(strings.ToLower(reason), strings.ToLower(w)) {
					t.Errorf("reason %q holds %q, which nobody agreed to share", reason, w)
				}
			}
			if c.organiserOnly != "" {
				apptest.Says(t, page, c.organiserOnly)
			}
			apptest.Says(t, page, "Forhåndsvisning av én e-post", "Forhåndsvisning – ikke sendt.")
			pre := fuPreviewRe.FindStringSubmatch(body)
			if pre == nil || pre[1] != "nb" {
				t.Fatalf("no preview of an email in Norwegian on the page")
			}
			preview := html.UnescapeString(pre[2])

			fuApprove(t, cl, ev.ID)
			mails := fuOutbox(t, a, "introduction")
			var group []fuMail
			for _, m := range mails {
				for _, p := range c.people {
					if m.To == p.email() {
						group = append(group, m)
					}
				}
			}
			if len(group) != len(ids) {
				t.Fatalf("%d emails to the group, want %d", len(group), len(ids))
			}
			matched := 0
			for _, m := range group {
				if !strings.Contains(m.Text, "Hvorfor dere: "+reason+"\n") {
					t.Errorf("email to %s does not give the reason on the page %q:\n%s", m.To, reason, m.Text)
				}
				if c.organiserOnly != "" && strings.Contains(m.Text, "nivå") {
					t.Errorf("email to %s speaks of levels:\n%s", m.To, m.Text)
				}
				stop := a.Config.BaseURL + fuLink(t, m.Text, "/introductions/stop/")
				if !strings.Contains(m.Text, stop) {
					t.Fatalf("stop link %q not whole in the email", stop)
				}
				if strings.Replace(m.Text, stop, "[personlig lenke, lages når e-posten sendes]", 1) == preview {
					matched++
				}
			}
			if matched != 1 {
				t.Errorf("the preview matches %d of the emails sent, want exactly 1; preview:\n%s\nfirst email:\n%s", matched, preview, group[0].Text)
			}

			// Once sent, the page shows the reason that was sent.
			after := cl.Get(fuPath(ev.ID, ""))
			if got := fuReasonRe.FindStringSubmatch(after.Body.String()); got == nil || html.UnescapeString(got[1]) != reason {
				t.Errorf("reason after sending %v, want %q", got, reason)
			}
			apptest.DoesNotSay(t, after, "Forhåndsvisning av én e-post")
		})
	}
}
