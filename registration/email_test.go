package registration_test

// What registrant emails say, and that nothing typed into a form or an
// event can add a header to them. The helpers of notify_test.go start the
// SMTP server and read what arrived.

import (
	"context"
	"database/sql"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/smtptest"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/registration"
	"github.com/moteplass/moteplass/templates"
)

var (
	emailHead   = regexp.MustCompile(`(?is)<head>.*?</head>`)
	emailLink   = regexp.MustCompile(`(?is)<a\s[^>]*href="([^"]*)"[^>]*>.*?</a>`)
	emailBlock  = regexp.MustCompile(`(?i)<br\s*/?>|</?(p|li|ul|ol|td|tr|table|h[1-6]|div)(\s[^>]*)?>`)
	emailTag    = regexp.MustCompile(`(?s)<[^>]*>`)
	emailSpaces = regexp.MustCompile(`\s+`)
)

// emailTextSaysAll checks that the text part says everything the HTML part
// says: every line of text the HTML shows is in the text part too, and
// every link's address (a link's label may differ: the text part shows the
// address itself).
func emailTextSaysAll(t testing.TB, text, htmlBody string) {
	t.Helper()
	norm := func(s string) string { return strings.TrimSpace(emailSpaces.ReplaceAllString(s, " ")) }
	plain := norm(text)
	body := emailHead.ReplaceAllString(htmlBody, "")
	body = emailLink.ReplaceAllString(body, "\n$1\n")
	body = emailBlock.ReplaceAllString(body, "\n")
	body = emailTag.ReplaceAllString(body, "")
	for line := range strings.SplitSeq(html.UnescapeString(body), "\n") {
		line = norm(line)
		if line == "" {
			continue
		}
		if !strings.Contains(plain, line) {
			t.Errorf("the HTML part says %q, the text part does not:\n%s", line, text)
		}
	}
}

// Every registrant email, in both languages, for an event in a room, a
// digital one and a hybrid one, says the same in its text part as in its
// HTML part, and both state the event's facts.
func TestEmailTextSaysWhatHTMLSays(t *testing.T) {
	cat := catalogue(t)
	const base = "https://moteplass.example.no"
	rnd, err := web.NewRenderer(templates.FS, cat, base)
	if err != nil {
		t.Fatal(err)
	}
	emails, err := web.NewEmails(templates.FS, rnd)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC) // 09:00 in Oslo
	venue := &events.Venue{Name: "Bryggen konferansesenter", Street: "Bryggen 1", Postcode: "5003", City: "Bergen"}
	variants := map[string]events.Event{
		"physical": {Mode: "physical", Venue: venue},
		"digital":  {Mode: "digital", OnlineURL: "https://meet.example.no/abc"},
		"hybrid":   {Mode: "hybrid", Venue: venue, OnlineURL: "https://meet.example.no/abc"},
	}
	templatesOf := []string{"registration_confirmed", "registration_waiting", "registration_promoted", "registration_cancelled",
		"manage_link", "event_changed", "event_cancelled", "reminder"}
	for variant, ev := range variants {
		ev.ID, ev.Slug, ev.Title = 7, "ledermote-bryggen", "Ledermøte på Bryggen: <tillit> & «åpenhet»"
		ev.StartsAt, ev.EndsAt = start, start.Add(3*time.Hour)
		ev.Organiser = events.Organiser{Name: "DFØ", ContactEmail: "post@dfo.example.no"}
		for _, lang := range []string{"nb", "en"} {
			for _, name := range templatesOf {
				t.Run(variant+"/"+lang+"/"+name, func(t *testing.T) {
					data := registration.MessageData{
						Name: "Kari Nordmann", Event: ev, Position: 3, Changes: []string{"time", "place"},
						ManageURL: base + "/r/TOKEN", EventURL: base + "/events/" + ev.Slug,
					}
					msg, err := emails.Render(name, lang, base, data)
					if err != nil {
						t.Fatal(err)
					}
					emailTextSaysAll(t, msg.Text, msg.HTML)
					facts := []string{ev.Title, cat.Date(lang, ev.StartsAt, events.Oslo),
						cat.Clock(lang, ev.StartsAt, events.Oslo) + "–" + cat.Clock(lang, ev.EndsAt, events.Oslo),
						data.ManageURL, data.EventURL}
					if ev.Venue != nil {
						facts = append(facts, "Bryggen konferansesenter, Bryggen 1, 5003 Bergen")
					}
					htmlText := apptest.Text([]byte(msg.HTML))
					for _, f := range facts {
						if !strings.Contains(msg.Text, f) {
							t.Errorf("the text part does not say %q:\n%s", f, msg.Text)
						}
						if !strings.Contains(htmlText, f) && !strings.Contains(msg.HTML, `href="`+f+`"`) {
							t.Errorf("the HTML part does not say %q", f)
						}
					}
					if name == "registration_waiting" && !strings.Contains(msg.Text, "3") {
						t.Errorf("no position in the text part:\n%s", msg.Text)
					}
					if strings.Contains(msg.Subject, "\n") || !strings.Contains(msg.Subject, ev.Title) {
						t.Errorf("subject %q", msg.Subject)
					}
				})
			}
		}
	}
}

// emailHeaders are the only headers a registrant email may have.
var emailHeaders = []string{"Auto-Submitted", "Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Reply-To", "Subject", "To"}

// emailOnlyOurHeaders fails when a message has a header of its own making.
func emailOnlyOurHeaders(t testing.TB, m *ntMail) {
	t.Helper()
	for name, vs := range m.Header {
		if !slices.Contains(emailHeaders, name) {
			t.Errorf("header %s: %q", name, vs)
		}
		if len(vs) != 1 {
			t.Errorf("%d %s headers", len(vs), name)
		}
	}
	if len(m.Envelope.To) != 1 {
		t.Errorf("RCPT TO %v, want one recipient", m.Envelope.To)
	}
}

// CR, LF and other line breaks in what a person types, or in an event's
// title and organiser's name, never make a header: the form refuses them
// in one-line fields, and where they are allowed (free text, or written
// straight into the database) the email arrives with our headers only.
func TestHeaderInjection(t *testing.T) {
	srv := smtptest.Start(t)
	a := ntMailApp(t, srv, false)
	ev := createEvent(t, a, capacity(100))
	payloads := []string{"\r\nBcc: evil@example.com", "\nBcc: evil@example.com", "\rBcc: evil@example.com",
		"\u2028Bcc: evil@example.com", "\u0085Bcc: evil@example.com", "%0d%0aBcc: evil@example.com"}

	t.Run("one-line fields refuse line breaks", func(t *testing.T) {
		for _, field := range []string{"name", "email", "organisation", "role", "region", "phone"} {
			for _, p := range payloads[:5] {
				form := validForm("Kari Nordmann", "kari@example.no")
				form.Set(field, form.Get(field)+p)
				rec, _ := signUp(t, a, ev.Slug, form)
				if rec.Code != http.StatusUnprocessableEntity {
					t.Errorf("%s with %q: status %d, want 422", field, p, rec.Code)
				}
			}
		}
		if got := regs(t, a, ev.ID); len(got) != 0 {
			t.Errorf("%d registrations stored", len(got))
		}
		ntWantCount(t, ntDeliver(t, a, srv), 0, "refused sign-ups")
	})

	t.Run("free text and look-alikes arrive harmless", func(t *testing.T) {
		type typed struct{ field, value string }
		var cases []typed
		for _, field := range []string{"dietary", "accessibility", "topics"} {
			for _, p := range payloads {
				cases = append(cases, typed{field, "Ingen" + p + "\r\nSubject: hacked"})
			}
		}
		// an escaped line break typed as text is just text
		cases = append(cases, typed{"name", "Kari %0d%0aBcc: evil@example.com"}, typed{"organisation", "Etaten =?utf-8?q?=0D=0A?= Bcc: evil@example.com"})
		accepted := 0
		for i, c := range cases {
			form := validForm("Kari Nordmann", "kari"+strconv.Itoa(i)+"@example.no")
			form.Set(c.field, c.value)
			rec, _ := signUp(t, a, ev.Slug, form)
			switch {
			case rec.Code == http.StatusSeeOther:
				accepted++
			case rec.Code == http.StatusUnprocessableEntity && strings.ContainsAny(c.value, "\r\u2028\u0085"):
				// a lone CR, LINE SEPARATOR or NEL is refused even in free
				// text; only LF (and CRLF, made LF) may break its lines
				if strings.HasPrefix(c.value, "Ingen\r\n") || strings.HasPrefix(c.value, "Ingen\n") {
					t.Errorf("%s with %q refused: free text may have line breaks", c.field, c.value)
				}
			default:
				t.Errorf("%s with %q: status %d", c.field, c.value, rec.Code)
			}
		}
		msgs := ntDeliver(t, a, srv)
		ntWantCount(t, msgs, accepted, "sign-ups with line breaks in free text")
		if accepted < 3*2+2 {
			t.Errorf("only %d sign-ups accepted: CRLF and LF in the three free-text fields and the look-alikes should be", accepted)
		}
		for _, m := range msgs {
			emailOnlyOurHeaders(t, m)
			if m.Subject != "Påmeldt: "+ev.Title {
				t.Errorf("subject %q", m.Subject)
			}
			if name := ntAddress(t, m, "To").Name; name != "Kari Nordmann" && name != "Kari %0d%0aBcc: evil@example.com" {
				t.Errorf("To name %q", name)
			}
		}
	})

	t.Run("an event title and an organiser name with line breaks", func(t *testing.T) {
		ctx := context.Background()
		evil := createEvent(t, a, func(e *events.Event) {
			e.Title = "Ledermøte\r\nBcc: evil@example.com\r\nX-Injected: yes"
		})
		err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
			_, err := tx.ExecContext(ctx, `UPDATE organisers SET name = ? WHERE id = ?`,
				"DFØ\r\nBcc: evil@example.com", evil.Organiser.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		mustSignUp(t, a, evil.Slug, "Kari Nordmann", "kari.evil@example.no")
		msgs := ntDeliver(t, a, srv)
		ntWantCount(t, msgs, 1, "sign-up")
		m := msgs[0]
		emailOnlyOurHeaders(t, m)
		if want := "Påmeldt: Ledermøte Bcc: evil@example.com X-Injected: yes"; m.Subject != want {
			t.Errorf("subject %q, want %q", m.Subject, want)
		}
		ve := ntCalendar(t, m, "REQUEST")
		if s, _ := ve.Props.Text("SUMMARY"); s != "Ledermøte\nBcc: evil@example.com\nX-Injected: yes" {
			t.Errorf("SUMMARY = %q", s)
		}
		if cn := ve.Props.Get("ORGANIZER").Params.Get("CN"); strings.ContainsAny(cn, "\r\n") {
			t.Errorf("ORGANIZER CN %q", cn)
		}
		emailTextSaysAll(t, m.Text, m.HTML)
	})
}
