package registration_test

// The emails of a registration's life, end to end: the real app signs
// people up, organisers change and cancel through the real admin pages, the
// outbox worker sends over SMTP to a real (in-process) SMTP server, and the
// tests read what arrived as a mail client would: net/mail, mime/multipart
// and go-ical. Helpers here are prefixed nt.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/demo"
	"github.com/moteplass/moteplass/internal/smtptest"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/registration"
	"github.com/moteplass/moteplass/templates"
)

// ntFrom is the sender the test apps are configured with.
const ntFrom = "moteplass@moteplass.example.no"

// ntMailApp is the real app with the demo data, sending through srv.
func ntMailApp(t testing.TB, srv *smtptest.Server, demoData bool) *app.App {
	t.Helper()
	return apptest.New(t, apptest.Options{Demo: demoData, Config: func(c *app.Config) {
		c.SMTPHost, c.SMTPPort, c.SMTPTLS, c.MailFrom = "127.0.0.1", srv.Port, "none", ntFrom
	}})
}

// ntDeliver runs the outbox worker until nothing is due, checks that every
// message went out, and returns the messages that arrived since the last
// call, parsed.
func ntDeliver(t testing.TB, a *app.App, srv *smtptest.Server) []*ntMail {
	t.Helper()
	for range 100 {
		n, err := a.Mailer.SendDue(context.Background())
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		if n == 0 {
			break
		}
	}
	var unsent int
	if err := a.DB.Read().QueryRow(`SELECT COUNT(*) FROM outbox WHERE status <> 'sent'`).Scan(&unsent); err != nil {
		t.Fatal(err)
	}
	if unsent > 0 {
		var last string
		a.DB.Read().QueryRow(`SELECT status || ': ' || last_error FROM outbox WHERE status <> 'sent' LIMIT 1`).Scan(&last)
		t.Fatalf("%d messages not sent (%s)", unsent, last)
	}
	fresh := srv.Take()
	out := make([]*ntMail, len(fresh))
	for i, env := range fresh {
		out[i] = ntParse(t, env)
	}
	return out
}

// ntMail is one message as it arrived.
type ntMail struct {
	Envelope smtptest.Message
	Header   mail.Header
	Subject  string // decoded
	// Structure is the MIME tree, e.g.
	// multipart/mixed(multipart/alternative(text/plain text/html text/calendar) application/ics)
	Structure string
	Parts     []ntPart // the leaves, in order
	Text      string
	HTML      string
}

type ntPart struct {
	Type        string
	Params      map[string]string
	Disposition string
	DispParams  map[string]string
	ContentID   string
	Body        []byte // transfer encoding undone
}

// Part is the first leaf of media type mediaType, or nil.
func (m *ntMail) Part(mediaType string) *ntPart {
	for i := range m.Parts {
		if m.Parts[i].Type == mediaType {
			return &m.Parts[i]
		}
	}
	return nil
}

func ntParse(t testing.TB, env smtptest.Message) *ntMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(env.Data))
	if err != nil {
		t.Fatalf("not a message: %v\n%s", err, env.Data)
	}
	m := &ntMail{Envelope: env, Header: msg.Header}
	if m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatalf("subject %q: %v", msg.Header.Get("Subject"), err)
	}
	m.Structure = ntWalk(t, m, textproto.MIMEHeader(msg.Header), msg.Body)
	if p := m.Part("text/plain"); p != nil {
		m.Text = string(p.Body)
	}
	if p := m.Part("text/html"); p != nil {
		m.HTML = string(p.Body)
	}
	return m
}

// ntWalk reads one MIME entity, recording its leaves in m, and returns its
// structure.
func ntWalk(t testing.TB, m *ntMail, h textproto.MIMEHeader, body io.Reader) string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		var kids []string
		for {
			p, err := mr.NextPart() // undoes quoted-printable itself
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", mt, err)
			}
			kids = append(kids, ntWalk(t, m, p.Header, p))
		}
		return mt + "(" + strings.Join(kids, " ") + ")"
	}
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "base64") {
		clean := strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' {
				return -1
			}
			return r
		}, string(data))
		if data, err = base64.StdEncoding.DecodeString(clean); err != nil {
			t.Fatalf("%s: base64: %v", mt, err)
		}
	}
	p := ntPart{Type: mt, Params: params, Body: data, ContentID: h.Get("Content-Id")}
	if d := h.Get("Content-Disposition"); d != "" {
		p.Disposition, p.DispParams, _ = mime.ParseMediaType(d)
	}
	m.Parts = append(m.Parts, p)
	return mt
}

// ntAddress is one address header, parsed (display names decoded).
func ntAddress(t testing.TB, m *ntMail, name string) *mail.Address {
	t.Helper()
	list, err := m.Header.AddressList(name)
	if err != nil || len(list) != 1 {
		t.Fatalf("%s %q: %v (%d addresses)", name, m.Header.Get(name), err, len(list))
	}
	return list[0]
}

var ntMessageID = regexp.MustCompile(`^<outbox-[a-z0-9]+@moteplass\.example\.no>$`)

// ntCheckEnvelope checks what every registrant email has: sender, one
// recipient, Reply-To to the organiser, a Message-ID, the subject, no auto
// replies, a text part and an HTML part saying the same.
func ntCheckEnvelope(t testing.TB, m *ntMail, to, toName, replyTo, subject string) {
	t.Helper()
	if from := ntAddress(t, m, "From"); from.Address != ntFrom || from.Name != "Møteplass" {
		t.Errorf("From = %v", from)
	}
	if got := ntAddress(t, m, "To"); !strings.EqualFold(got.Address, to) || got.Name != toName {
		t.Errorf("To = %v, want %s <%s>", got, toName, to)
	}
	if len(m.Envelope.To) != 1 || !strings.EqualFold(m.Envelope.To[0], to) {
		t.Errorf("RCPT TO %v, want only %s", m.Envelope.To, to)
	}
	if got := ntAddress(t, m, "Reply-To"); got.Address != replyTo {
		t.Errorf("Reply-To = %v, want the organiser's %s", got, replyTo)
	}
	if m.Subject != subject {
		t.Errorf("Subject = %q, want %q", m.Subject, subject)
	}
	if id := m.Header.Get("Message-Id"); !ntMessageID.MatchString(id) {
		t.Errorf("Message-ID = %q", id)
	}
	if m.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", m.Header.Get("Auto-Submitted"))
	}
	if m.Text == "" || m.HTML == "" {
		t.Fatalf("text %d bytes, HTML %d bytes: want both", len(m.Text), len(m.HTML))
	}
	emailTextSaysAll(t, m.Text, m.HTML)
}

// ntCalendar checks the invitation of a message: the text/calendar part
// inside multipart/alternative with a method parameter equal to the
// METHOD inside, the same bytes attached as invite.ics, and returns the
// one VEVENT.
func ntCalendar(t testing.TB, m *ntMail, method string) *ical.Component {
	t.Helper()
	// a confirmed place also has its check-in QR code inside the HTML
	const want = "multipart/mixed(multipart/alternative(text/plain text/html text/calendar) application/ics)"
	const withQR = "multipart/mixed(multipart/related(multipart/alternative(text/plain text/html text/calendar) image/png) application/ics)"
	if m.Structure != want && m.Structure != withQR {
		t.Errorf("MIME structure\n %s, want\n %s\n or\n %s", m.Structure, want, withQR)
	}
	part := m.Part("text/calendar")
	if part == nil {
		t.Fatalf("no text/calendar part in %s", m.Structure)
	}
	if part.Params["method"] != method || !strings.EqualFold(part.Params["charset"], "utf-8") {
		t.Errorf("text/calendar parameters %v, want method=%s charset=utf-8", part.Params, method)
	}
	att := m.Part("application/ics")
	if att == nil || att.Disposition != "attachment" || att.DispParams["filename"] != "invite.ics" {
		t.Fatalf("invite.ics attachment: %+v", att)
	}
	if !bytes.Equal(att.Body, part.Body) {
		t.Error("invite.ics differs from the text/calendar part")
	}
	cal, err := ical.NewDecoder(bytes.NewReader(part.Body)).Decode()
	if err != nil {
		t.Fatalf("go-ical cannot read the invitation: %v\n%s", err, part.Body)
	}
	if got := cal.Props.Get(ical.PropMethod); got == nil || got.Value != method {
		t.Errorf("METHOD inside = %v, the part says %s", got, method)
	}
	var ves []*ical.Component
	for _, c := range cal.Children {
		if c.Name == ical.CompEvent {
			ves = append(ves, c)
		}
	}
	if len(ves) != 1 {
		t.Fatalf("%d VEVENTs, want 1", len(ves))
	}
	return ves[0]
}

// ntNoCalendar checks a message without an invitation.
func ntNoCalendar(t testing.TB, m *ntMail) {
	t.Helper()
	if m.Structure != "multipart/alternative(text/plain text/html)" {
		t.Errorf("MIME structure %s, want text and HTML only", m.Structure)
	}
}

func ntSequence(t testing.TB, ve *ical.Component) int {
	t.Helper()
	n, err := strconv.Atoi(ve.Props.Get(ical.PropSequence).Value)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// ntAttendee checks the ORGANIZER and the one ATTENDEE of an invitation.
func ntAttendee(t testing.TB, ve *ical.Component, organiser, email, name, partstat string) {
	t.Helper()
	if org := ve.Props.Get(ical.PropOrganizer); org == nil || !strings.EqualFold(org.Value, "mailto:"+organiser) {
		t.Errorf("ORGANIZER = %v, want mailto:%s", org, organiser)
	}
	atts := ve.Props.Values(ical.PropAttendee)
	if len(atts) != 1 {
		t.Fatalf("%d ATTENDEEs, want 1", len(atts))
	}
	a := atts[0]
	if !strings.EqualFold(a.Value, "mailto:"+email) || a.Params.Get(ical.ParamCommonName) != name ||
		a.Params.Get(ical.ParamParticipationStatus) != partstat {
		t.Errorf("ATTENDEE = %s %v, want mailto:%s CN=%s PARTSTAT=%s", a.Value, a.Params, email, name, partstat)
	}
}

var ntManageLink = regexp.MustCompile(`http://localhost:8080(/r/[A-Za-z0-9_-]{43})`)

// ntManage checks that the text and the HTML part carry the same manage
// link and that it opens the registration's page; it returns its path.
func ntManage(t testing.TB, a *app.App, m *ntMail, name string) string {
	t.Helper()
	text := ntManageLink.FindStringSubmatch(m.Text)
	if text == nil {
		t.Fatalf("no manage link in the text part:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, `href="`+text[0]+`"`) {
		t.Errorf("the HTML part does not link to %s", text[0])
	}
	rec := apptest.NewClient(t, a.Router).Get(text[1])
	apptest.Want(t, rec, http.StatusOK)
	apptest.Says(t, rec, name)
	return text[1]
}

// ntByRecipient indexes messages by recipient; it fails on two for one.
func ntByRecipient(t testing.TB, msgs []*ntMail) map[string]*ntMail {
	t.Helper()
	out := map[string]*ntMail{}
	for _, m := range msgs {
		to := strings.ToLower(m.Envelope.To[0])
		if out[to] != nil {
			t.Errorf("two messages to %s: %q and %q", to, out[to].Subject, m.Subject)
		}
		out[to] = m
	}
	return out
}

func ntWantCount(t testing.TB, msgs []*ntMail, n int, what string) {
	t.Helper()
	if len(msgs) != n {
		var subjects []string
		for _, m := range msgs {
			subjects = append(subjects, m.Envelope.To[0]+": "+m.Subject)
		}
		t.Fatalf("%s: %d messages arrived, want %d: %q", what, len(msgs), n, subjects)
	}
}

// ntEvent is a published event of DFØ (the demo organiser's) at a venue in
// Bergen, ten days ahead, 09:00–12:00 Oslo time.
func ntEvent(t testing.TB, a *app.App, title string, seats int) events.Event {
	t.Helper()
	ctx := context.Background()
	v := events.Venue{Name: "Bryggen konferansesenter", Street: "Bryggen 1", Postcode: "5003", City: "Bergen"}
	if err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error { return events.CreateVenue(ctx, tx, &v) }); err != nil {
		t.Fatal(err)
	}
	day := a.DB.Now().In(events.Oslo).AddDate(0, 0, 10)
	return createEvent(t, a, func(e *events.Event) {
		e.Title, e.Capacity, e.Venue = title, seats, &v
		e.StartsAt = time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, events.Oslo).UTC()
		e.EndsAt = e.StartsAt.Add(3 * time.Hour)
	})
}

// ntPublicUID is the UID of the event in its public .ics download.
func ntPublicUID(t testing.TB, a *app.App, slug string) string {
	t.Helper()
	rec := apptest.NewClient(t, a.Router).Get("/events/" + slug + ".ics")
	apptest.Want(t, rec, http.StatusOK)
	cal := feedDecode(t, rec.Body.Bytes())
	for uid := range feedEvents(t, cal) {
		return uid
	}
	t.Fatal("no event in the public .ics")
	return ""
}

// ntOrganiser is a browser logged in as the demo organiser at DFØ.
func ntOrganiser(t testing.TB, a *app.App) *apptest.Client {
	t.Helper()
	cl := apptest.NewClient(t, a.Router)
	rec := cl.PostForm("/admin/login", url.Values{"email": {"arrangor@dfo.example.no"}, "password": {demo.Password}})
	apptest.Want(t, rec, http.StatusSeeOther)
	return cl
}

// ntEditForm is the organiser's edit form of a saved event, as a browser
// posts it.
func ntEditForm(t testing.TB, a *app.App, id int64) url.Values {
	t.Helper()
	ev, err := (&events.Store{DB: a.DB}).FindEvent(context.Background(), events.EventFilter{ID: id, Statuses: events.Statuses})
	if err != nil {
		t.Fatal(err)
	}
	return apptest.EditForm(ev)
}

// ntMailer is a Mail like the app's, for QueueReminders.
func ntMailer(t testing.TB, a *app.App) *registration.Mail {
	t.Helper()
	cat := catalogue(t)
	rnd, err := web.NewRenderer(templates.FS, cat, a.Config.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	emails, err := web.NewEmails(templates.FS, rnd)
	if err != nil {
		t.Fatal(err)
	}
	return &registration.Mail{Emails: emails, BaseURL: a.Config.BaseURL}
}

func ntStart(t testing.TB, ve *ical.Component) time.Time {
	t.Helper()
	start, err := ve.Props.DateTime(ical.PropDateTimeStart, time.UTC)
	if err != nil {
		t.Fatalf("DTSTART: %v", err)
	}
	return start
}

// TestRegistrantEmails follows one event from the first sign-up to its
// cancellation and checks every message that arrives.
func TestRegistrantEmails(t *testing.T) {
	srv := smtptest.Start(t)
	a := ntMailApp(t, srv, true)
	clock := fixedClock(a, time.Now().UTC().Truncate(time.Second))
	ntDeliver(t, a, srv) // whatever the demo queued

	const (
		kari    = "kari.nordmann@example.no"
		bjorn   = "bjorn.aasen@example.no"
		cecilie = "cecilie.dahl@example.no"
		dag     = "dag.orheim@example.no"
	)
	title := "Ledermøte på Bryggen: åpen dialog – æøå ÆØÅ"
	ev := ntEvent(t, a, title, 2)
	contact := ev.Organiser.ContactEmail
	if contact == "" {
		t.Fatal("the organiser has no contact address")
	}
	uid := ntPublicUID(t, a, ev.Slug)
	sequences := map[string][]int{} // per registrant, in the order received
	links := map[string]string{}    // the last manage link each got

	t.Run("confirmation", func(t *testing.T) {
		mustSignUp(t, a, ev.Slug, "Kari Nordmann", kari)
		msgs := ntDeliver(t, a, srv)
		ntWantCount(t, msgs, 1, "sign-up")
		m := msgs[0]
		ntCheckEnvelope(t, m, kari, "Kari Nordmann", contact, "Påmeldt: "+title)
		ve := ntCalendar(t, m, "REQUEST")
		if got := ve.Props.Get(ical.PropUID).Value; got != uid {
			t.Errorf("UID %s, the public .ics has %s", got, uid)
		}
		ntAttendee(t, ve, contact, kari, "Kari Nordmann", "ACCEPTED")
		if s, _ := ve.Props.Text(ical.PropSummary); s != title {
			t.Errorf("SUMMARY = %q", s)
		}
		if got := ntStart(t, ve); !got.Equal(ev.StartsAt) {
			t.Errorf("DTSTART %s, want %s", got, ev.StartsAt)
		}
		if loc, _ := ve.Props.Text(ical.PropLocation); loc != "Bryggen konferansesenter, Bryggen 1, 5003 Bergen" {
			t.Errorf("LOCATION = %q", loc)
		}
		sequences[kari] = append(sequences[kari], ntSequence(t, ve))
		ntManage(t, a, m, "Kari Nordmann")
	})

	t.Run("second place, then the waiting list", func(t *testing.T) {
		mustSignUp(t, a, ev.Slug, "Bjørn Aasen", bjorn)
		mustSignUp(t, a, ev.Slug, "Cecilie Dahl", cecilie)
		by := ntByRecipient(t, ntDeliver(t, a, srv))
		if m := by[bjorn]; m == nil {
			t.Error("no confirmation to Bjørn")
		} else {
			ntCheckEnvelope(t, m, bjorn, "Bjørn Aasen", contact, "Påmeldt: "+title)
			sequences[bjorn] = append(sequences[bjorn], ntSequence(t, ntCalendar(t, m, "REQUEST")))
			links[bjorn] = ntManage(t, a, m, "Bjørn Aasen")
		}
		m := by[cecilie]
		if m == nil {
			t.Fatal("no message to Cecilie")
		}
		ntCheckEnvelope(t, m, cecilie, "Cecilie Dahl", contact, "Venteliste: "+title)
		ntNoCalendar(t, m)
		if !strings.Contains(m.Text, "Du er nummer 1 på ventelisten.") {
			t.Errorf("the waiting-list email does not give the position:\n%s", m.Text)
		}
		ntManage(t, a, m, "Cecilie Dahl")
	})

	t.Run("a second sign-up sends the manage link", func(t *testing.T) {
		clock = fixedClock(a, clock.Add(6*time.Minute)) // past the resend interval
		rec, _ := signUp(t, a, ev.Slug, validForm("Kari Nordmann", "Kari.Nordmann@example.no"))
		apptest.Want(t, rec, http.StatusSeeOther)
		msgs := ntDeliver(t, a, srv)
		ntWantCount(t, msgs, 1, "second sign-up")
		m := msgs[0]
		ntCheckEnvelope(t, m, kari, "Kari Nordmann", contact, "Lenke til påmeldingen din: "+title)
		ntNoCalendar(t, m)
		ntManage(t, a, m, "Kari Nordmann")
	})

	org := ntOrganiser(t, a)
	t.Run("the organiser moves the event", func(t *testing.T) {
		form := ntEditForm(t, a, ev.ID)
		form.Set("start_time", "10:00")
		form.Set("end_time", "13:00")
		path := fmt.Sprintf("/admin/events/%d", ev.ID)
		rec := org.PostForm(path, form)
		apptest.Want(t, rec, http.StatusOK) // "are you sure?"
		if n := len(ntDeliver(t, a, srv)); n != 0 {
			t.Fatalf("%d messages before the organiser confirmed", n)
		}
		form.Set("confirmed", "1")
		apptest.Want(t, org.PostForm(path, form), http.StatusSeeOther)

		by := ntByRecipient(t, ntDeliver(t, a, srv))
		if len(by) != 2 || by[cecilie] != nil {
			t.Fatalf("messages to %v, want Kari and Bjørn only (Cecilie is waiting)", by)
		}
		for _, p := range []struct{ email, name string }{{kari, "Kari Nordmann"}, {bjorn, "Bjørn Aasen"}} {
			m := by[p.email]
			ntCheckEnvelope(t, m, p.email, p.name, contact, "Endret: "+title)
			ve := ntCalendar(t, m, "REQUEST")
			if got := ve.Props.Get(ical.PropUID).Value; got != uid {
				t.Errorf("UID %s, want %s", got, uid)
			}
			ntAttendee(t, ve, contact, p.email, p.name, "ACCEPTED")
			if got, want := ntStart(t, ve), ev.StartsAt.Add(time.Hour); !got.Equal(want) {
				t.Errorf("DTSTART %s, want %s", got, want)
			}
			if !strings.Contains(m.Text, "Tidspunktet") {
				t.Errorf("the change email does not say what changed:\n%s", m.Text)
			}
			sequences[p.email] = append(sequences[p.email], ntSequence(t, ve))
			ntManage(t, a, m, p.name)
		}
	})

	t.Run("a registrant cancels and the first in line gets the place", func(t *testing.T) {
		if links[bjorn] == "" {
			t.Fatal("Bjørn got no manage link")
		}
		c := apptest.NewClient(t, a.Router)
		apptest.Want(t, c.PostForm(links[bjorn]+"/cancel", url.Values{}), http.StatusSeeOther)
		by := ntByRecipient(t, ntDeliver(t, a, srv))
		if len(by) != 2 {
			t.Fatalf("messages to %v, want Bjørn and Cecilie", by)
		}
		m := by[bjorn]
		ntCheckEnvelope(t, m, bjorn, "Bjørn Aasen", contact, "Avmeldt: "+title)
		ve := ntCalendar(t, m, "CANCEL")
		ntAttendee(t, ve, contact, bjorn, "Bjørn Aasen", "DECLINED")
		if got := ve.Props.Get(ical.PropUID).Value; got != uid {
			t.Errorf("UID %s, want %s", got, uid)
		}
		if s := ve.Props.Get(ical.PropStatus).Value; s != "CANCELLED" {
			t.Errorf("STATUS %s", s)
		}
		sequences[bjorn] = append(sequences[bjorn], ntSequence(t, ve))
		ntManage(t, a, m, "Bjørn Aasen")

		m = by[cecilie]
		ntCheckEnvelope(t, m, cecilie, "Cecilie Dahl", contact, "Du har fått plass: "+title)
		ve = ntCalendar(t, m, "REQUEST")
		ntAttendee(t, ve, contact, cecilie, "Cecilie Dahl", "ACCEPTED")
		if got, want := ntStart(t, ve), ev.StartsAt.Add(time.Hour); !got.Equal(want) {
			t.Errorf("DTSTART %s, want the moved time %s", got, want)
		}
		sequences[cecilie] = append(sequences[cecilie], ntSequence(t, ve))
		ntManage(t, a, m, "Cecilie Dahl")
	})

	t.Run("a new waiting list", func(t *testing.T) {
		mustSignUp(t, a, ev.Slug, "Dag Orheim", dag)
		msgs := ntDeliver(t, a, srv)
		ntWantCount(t, msgs, 1, "sign-up to a full event")
		ntCheckEnvelope(t, msgs[0], dag, "Dag Orheim", contact, "Venteliste: "+title)
		ntNoCalendar(t, msgs[0])
		ntManage(t, a, msgs[0], "Dag Orheim")
		if !strings.Contains(msgs[0].Text, "Du er nummer 1 på ventelisten.") {
			t.Errorf("no position in:\n%s", msgs[0].Text)
		}
	})

	t.Run("reminders, once", func(t *testing.T) {
		m := ntMailer(t, a)
		clock = fixedClock(a, ev.StartsAt.Add(-24*time.Hour))
		n, err := a.Registrations.QueueReminders(context.Background(), m, 48*time.Hour)
		if err != nil || n != 2 {
			t.Fatalf("QueueReminders = %d, %v; want 2 (Kari and Cecilie)", n, err)
		}
		by := ntByRecipient(t, ntDeliver(t, a, srv))
		if len(by) != 2 || by[kari] == nil || by[cecilie] == nil {
			t.Fatalf("reminders to %v, want Kari and Cecilie", by)
		}
		for email, m := range by {
			ntCheckEnvelope(t, m, email, ntAddress(t, m, "To").Name, contact, "Påminnelse: "+title)
			ntNoCalendar(t, m)
			ntManage(t, a, m, ntAddress(t, m, "To").Name)
		}
		clock = fixedClock(a, clock.Add(time.Hour))
		if n, err := a.Registrations.QueueReminders(context.Background(), m, 48*time.Hour); err != nil || n != 0 {
			t.Errorf("the second run queued %d (%v), want 0", n, err)
		}
		ntWantCount(t, ntDeliver(t, a, srv), 0, "second reminder run")
	})

	t.Run("the organiser cancels the event", func(t *testing.T) {
		org := ntOrganiser(t, a) // the clock moved: a fresh session
		apptest.Want(t, org.PostForm(fmt.Sprintf("/admin/events/%d/cancel", ev.ID), url.Values{}), http.StatusSeeOther)
		by := ntByRecipient(t, ntDeliver(t, a, srv))
		if len(by) != 3 || by[kari] == nil || by[cecilie] == nil || by[dag] == nil {
			t.Fatalf("messages to %v, want Kari and Cecilie (confirmed) and Dag (waiting)", by)
		}
		for _, p := range []struct{ email, name string }{{kari, "Kari Nordmann"}, {cecilie, "Cecilie Dahl"}, {dag, "Dag Orheim"}} {
			m := by[p.email]
			ntCheckEnvelope(t, m, p.email, p.name, contact, "Avlyst: "+title)
			ve := ntCalendar(t, m, "CANCEL")
			if got := ve.Props.Get(ical.PropUID).Value; got != uid {
				t.Errorf("UID %s, want %s", got, uid)
			}
			if s := ve.Props.Get(ical.PropStatus).Value; s != "CANCELLED" {
				t.Errorf("STATUS %s", s)
			}
			sequences[p.email] = append(sequences[p.email], ntSequence(t, ve))
			ntManage(t, a, m, p.name)
		}
	})

	t.Run("each calendar message outranks the one before", func(t *testing.T) {
		want := map[string][]int{
			kari:    {0, 1, 3}, // REQUEST, moved (REQUEST), event cancelled (CANCEL)
			bjorn:   {0, 1, 2}, // REQUEST, moved (REQUEST), own cancellation (CANCEL)
			cecilie: {1, 3},    // promoted after the move (REQUEST), event cancelled (CANCEL)
			dag:     {3},       // waiting, event cancelled (CANCEL)
		}
		for email, w := range want {
			if got := sequences[email]; fmt.Sprint(got) != fmt.Sprint(w) {
				t.Errorf("%s: SEQUENCEs %v, want %v", email, got, w)
			}
		}
	})
}

// Someone who cancels and signs up again gets invitations their calendar
// accepts: each calendar message for the event outranks the last one they
// got (RFC 5546 §2.1.5), so a new REQUEST is not taken for an outdated
// copy of the cancelled one.
func TestSignUpAgainAfterCancelling(t *testing.T) {
	srv := smtptest.Start(t)
	a := ntMailApp(t, srv, false)
	ev := createEvent(t, a, nil)
	const kari = "kari@example.no"
	last := -1
	step := func(what, method string) string {
		t.Helper()
		msgs := ntDeliver(t, a, srv)
		ntWantCount(t, msgs, 1, what)
		seq := ntSequence(t, ntCalendar(t, msgs[0], method))
		if seq <= last {
			t.Errorf("%s: SEQUENCE %d, the message before had %d", what, seq, last)
		}
		last = seq
		return ntManageLink.FindStringSubmatch(msgs[0].Text)[1]
	}
	c := apptest.NewClient(t, a.Router)
	for round := range 3 {
		mustSignUp(t, a, ev.Slug, "Kari Nordmann", kari)
		link := step(fmt.Sprintf("sign-up %d", round+1), "REQUEST")
		apptest.Want(t, c.PostForm(link+"/cancel", url.Values{}), http.StatusSeeOther)
		step(fmt.Sprintf("cancellation %d", round+1), "CANCEL")
	}
}
