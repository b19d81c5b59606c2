package mailer

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/pgtest"
)

// Helpers

func TestMain(m *testing.M) { pgtest.Main(m) }

// newDatabase is where a test's database lives: a SQLite file in
// t.TempDir(), or with MOTEPLASS_TEST_DB=postgres a PostgreSQL database of
// its own, so the claims run on both engines' locking.
func newDatabase(t testing.TB) string {
	t.Helper()
	if pgtest.Enabled() {
		return pgtest.URL(t)
	}
	return filepath.Join(t.TempDir(), "moteplass.db")
}

func openTestDB(t testing.TB) (*db.DB, string) {
	t.Helper()
	path := newDatabase(t)
	return openDBAt(t, path), path
}

func openDBAt(t testing.TB, path string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open db: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func testConfig(ts *testServer) Config {
	return Config{
		Host:     "127.0.0.1",
		Port:     ts.Port,
		TLS:      TLSNone,
		From:     "moteplass@example.no",
		FromName: "Møteplass Nord-Norge",
	}
}

// newTestWorker is a worker that retries at once and polls often, logging
// to the test's output and to logs (for checks that no address is logged).
func newTestWorker(t testing.TB, d *db.DB, cfg Config, logs io.Writer) *Worker {
	t.Helper()
	out := io.Writer(io.Discard)
	if tt, ok := t.(*testing.T); ok {
		out = tt.Output()
	}
	if logs != nil {
		out = io.MultiWriter(out, logs)
	}
	w := NewWorker(d, cfg, slog.New(slog.NewTextHandler(out, nil)))
	w.PollInterval = 5 * time.Millisecond
	w.Timeout = 30 * time.Second
	w.Backoff = func(int) time.Duration { return 0 }
	return w
}

func mustEnqueue(t testing.TB, d *db.DB, m Message) int64 {
	t.Helper()
	var id int64
	err := d.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error {
		var err error
		id, err = Enqueue(context.Background(), tx, now, m)
		return err
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return id
}

// mustEnqueueMany queues n plain messages in one transaction.
func mustEnqueueMany(t testing.TB, d *db.DB, n int) {
	t.Helper()
	err := d.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error {
		for i := range n {
			if _, err := Enqueue(context.Background(), tx, now, plainMessage(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("enqueue %d: %v", n, err)
	}
}

func plainMessage(i int) Message {
	return Message{
		Kind:     "registration_confirmed",
		To:       fmt.Sprintf("deltaker%d@example.no", i),
		ToName:   fmt.Sprintf("Deltaker %d", i),
		Subject:  fmt.Sprintf("Påmelding %d er bekreftet", i),
		TextBody: "Hei!\n\nDu er påmeldt.\n",
		HTMLBody: "<p>Hei!</p><p>Du er påmeldt.</p>",
	}
}

const testCalendar = "BEGIN:VCALENDAR\r\n" +
	"VERSION:2.0\r\n" +
	"PRODID:-//Møteplass//Møteplass//NO\r\n" +
	"METHOD:REQUEST\r\n" +
	"BEGIN:VEVENT\r\n" +
	"UID:event-17@moteplass.example.no\r\n" +
	"SEQUENCE:0\r\n" +
	"DTSTAMP:20260101T120000Z\r\n" +
	"DTSTART:20260315T080000Z\r\n" +
	"DTEND:20260315T100000Z\r\n" +
	"SUMMARY:Lederforum i Tromsø – ærlig talt\r\n" +
	"ORGANIZER;CN=Møteplass:mailto:moteplass@example.no\r\n" +
	"ATTENDEE;CN=Åse Øvrebø;RSVP=FALSE:mailto:aase@example.no\r\n" +
	"END:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

func invitation() Message {
	return Message{
		Kind:           "registration_confirmed",
		To:             "aase@example.no",
		ToName:         "Åse Øvrebø",
		ReplyTo:        "arrangor@example.no",
		Subject:        "Påmelding bekreftet: Lederforum i Tromsø – æøå ÆØÅ",
		TextBody:       "Hei Åse!\n\nVelkommen til Lederforum i Tromsø.\n",
		HTMLBody:       "<p>Hei Åse!</p><p>Velkommen til <b>Lederforum i Tromsø</b>.</p>",
		Calendar:       []byte(testCalendar),
		CalendarMethod: MethodRequest,
	}
}

func mustGet(t testing.TB, d *db.DB, id int64) Stored {
	t.Helper()
	s, err := Get(context.Background(), d.Read(), id)
	if err != nil {
		t.Fatalf("get %d: %v", id, err)
	}
	return s
}

// waitFor polls until cond holds. The deadline is generous: it exists only
// so that a broken worker fails the test instead of hanging it.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func countStatus(t testing.TB, d *db.DB, status string) int {
	t.Helper()
	var n int
	if err := d.Read().QueryRow(`SELECT COUNT(*) FROM outbox WHERE status = ?`, status).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", status, err)
	}
	return n
}

// drain calls SendDue until nothing more is sent.
func drain(t testing.TB, w *Worker) int {
	t.Helper()
	total := 0
	for {
		n, err := w.SendDue(context.Background())
		if err != nil {
			t.Fatalf("send due: %v", err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

// runWorker starts w.Run and returns a function that stops it and waits.
func runWorker(w *Worker) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		w.Run(ctx)
		close(done)
	}()
	return func() {
		cancel()
		<-done
	}
}

// part is one decoded leaf or multipart of a received message.
type part struct {
	mediaType string
	params    map[string]string
	header    map[string][]string
	body      []byte
}

// readParts reads the parts of a multipart body, decoding base64 (the
// multipart reader itself decodes quoted-printable).
func readParts(t *testing.T, body io.Reader, boundary string) []part {
	t.Helper()
	r := multipart.NewReader(body, boundary)
	var parts []part
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return parts
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		mt, params, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part content type %q: %v", p.Header.Get("Content-Type"), err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			data, err = base64.StdEncoding.DecodeString(string(data))
			if err != nil {
				t.Fatalf("decode base64 part %s: %v", mt, err)
			}
		}
		parts = append(parts, part{mediaType: mt, params: params, header: p.Header, body: data})
	}
}

func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// assertInvitation checks a whole message as it arrives: headers, and the
// RFC 6047 shape multipart/mixed{multipart/alternative{text, html,
// calendar}, invite.ics}.
func assertInvitation(t *testing.T, raw []byte, s Stored, cfg Config) {
	t.Helper()
	msg := parseMessage(t, raw)
	h := msg.Header

	from, err := netmail.ParseAddress(h.Get("From"))
	if err != nil || from.Address != cfg.From || from.Name != cfg.FromName {
		t.Errorf("From = %q (%v), want %q <%s>", h.Get("From"), err, cfg.FromName, cfg.From)
	}
	to, err := netmail.ParseAddress(h.Get("To"))
	if err != nil || to.Address != s.To || to.Name != s.ToName {
		t.Errorf("To = %q (%v), want %q <%s>", h.Get("To"), err, s.ToName, s.To)
	}
	replyTo, err := netmail.ParseAddress(h.Get("Reply-To"))
	if err != nil || replyTo.Address != s.ReplyTo {
		t.Errorf("Reply-To = %q (%v), want %s", h.Get("Reply-To"), err, s.ReplyTo)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != s.Subject {
		t.Errorf("Subject = %q decoded %q (%v), want %q", h.Get("Subject"), subject, err, s.Subject)
	}
	if got := h.Get("Message-Id"); got != s.MessageID || !strings.HasSuffix(got, "@example.no>") {
		t.Errorf("Message-ID = %q, want the stored %q ending in the From domain", got, s.MessageID)
	}
	if date, err := h.Date(); err != nil || !date.Equal(s.CreatedAt.Truncate(time.Second)) {
		t.Errorf("Date = %q (%v), want %v", h.Get("Date"), err, s.CreatedAt)
	}
	if h.Get("Mime-Version") != "1.0" {
		t.Errorf("MIME-Version = %q", h.Get("Mime-Version"))
	}

	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type = %q (%v), want multipart/mixed", h.Get("Content-Type"), err)
	}
	outer := readParts(t, msg.Body, params["boundary"])
	if len(outer) != 2 {
		t.Fatalf("multipart/mixed has %d parts, want 2 (alternative, invite.ics)", len(outer))
	}
	if outer[0].mediaType != "multipart/alternative" {
		t.Fatalf("first part is %s, want multipart/alternative", outer[0].mediaType)
	}
	alts := readParts(t, bytes.NewReader(outer[0].body), outer[0].params["boundary"])
	var types []string
	for _, a := range alts {
		types = append(types, a.mediaType)
	}
	if strings.Join(types, ",") != "text/plain,text/html,text/calendar" {
		t.Fatalf("alternatives = %v, want text/plain, text/html, text/calendar in that order", types)
	}
	for _, a := range alts {
		if !strings.EqualFold(a.params["charset"], "utf-8") {
			t.Errorf("%s charset = %q, want utf-8", a.mediaType, a.params["charset"])
		}
	}
	if got := string(alts[0].body); got != crlf(s.TextBody) {
		t.Errorf("text part = %q, want %q", got, crlf(s.TextBody))
	}
	if got := string(alts[1].body); got != crlf(s.HTMLBody) {
		t.Errorf("html part = %q, want %q", got, crlf(s.HTMLBody))
	}
	cal := alts[2]
	if string(cal.body) != string(s.Calendar) {
		t.Errorf("calendar part = %q, want the stored calendar", cal.body)
	}
	method := cal.params["method"]
	if method != s.CalendarMethod || !strings.Contains(string(cal.body), "\r\nMETHOD:"+method+"\r\n") {
		t.Errorf("text/calendar method=%q, want %q and equal to the METHOD line inside", method, s.CalendarMethod)
	}

	ics := outer[1]
	disposition, dparams, err := mime.ParseMediaType(ics.header["Content-Disposition"][0])
	if err != nil || disposition != "attachment" || dparams["filename"] != "invite.ics" {
		t.Errorf("attachment disposition = %q (%v), want attachment; filename=invite.ics", ics.header["Content-Disposition"], err)
	}
	if ics.mediaType != "application/ics" && ics.mediaType != "text/calendar" {
		t.Errorf("attachment type = %s, want application/ics", ics.mediaType)
	}
	if string(ics.body) != string(s.Calendar) {
		t.Errorf("invite.ics = %q, want the stored calendar", ics.body)
	}
}

// Enqueue

func TestEnqueueRefusesInvalidMessages(t *testing.T) {
	d, _ := openTestDB(t)
	tests := []struct {
		name   string
		change func(*Message)
		want   string
	}{
		{"CRLF in subject", func(m *Message) { m.Subject = "Hei\r\nBcc: evil@example.com" }, "subject contains a line break"},
		{"LF in subject", func(m *Message) { m.Subject = "Hei\nX-Injected: 1" }, "subject contains a line break"},
		{"CR in subject", func(m *Message) { m.Subject = "Hei\rX-Injected: 1" }, "subject contains a line break"},
		{"line separator in subject", func(m *Message) { m.Subject = "Hei\u2028X-Injected: 1" }, "subject contains a line break"},
		{"control character in subject", func(m *Message) { m.Subject = "Hei\x00" }, "subject contains a control character"},
		{"LF in to name", func(m *Message) { m.ToName = "Ola\nBcc: evil@example.com" }, "to name contains a line break"},
		{"CRLF in reply-to", func(m *Message) { m.ReplyTo = "a@example.no\r\nBcc: evil@example.com" }, "reply-to address: not a valid email address"},
		{"CRLF in to address", func(m *Message) { m.To = "ola@example.no\r\nBcc: evil@example.com" }, "to address: not a valid email address"},
		{"display name in to address", func(m *Message) { m.To = "Ola <ola@example.no>" }, "to address: not a valid email address"},
		{"two addresses", func(m *Message) { m.To = "ola@example.no, kari@example.no" }, "to address: not a valid email address"},
		{"no address", func(m *Message) { m.To = "" }, "to address: not a valid email address: empty"},
		{"not an address", func(m *Message) { m.To = "ola" }, "to address: not a valid email address"},
		{"bidi override in to address", func(m *Message) { m.To = "ola@x\u202e.no" }, "to address: not a valid email address"},
		{"address literal", func(m *Message) { m.To = "ola@[127.0.0.1]" }, "to address: not a valid email address"},
		{"bad reply-to", func(m *Message) { m.ReplyTo = "arrangør" }, "reply-to address: not a valid email address"},
		{"empty subject", func(m *Message) { m.Subject = " " }, "subject is empty"},
		{"empty text body", func(m *Message) { m.TextBody = "" }, "text body is empty"},
		{"empty kind", func(m *Message) { m.Kind = "" }, "kind is empty"},
		{"calendar without method", func(m *Message) { m.CalendarMethod = "" }, "calendar without a calendar method"},
		{"method without calendar", func(m *Message) { m.Calendar = nil }, "calendar method without a calendar"},
		{"unknown method", func(m *Message) { m.CalendarMethod = "REFRESH" }, "is not one of"},
		{"method differs from METHOD inside", func(m *Message) { m.CalendarMethod = MethodCancel }, `calendar METHOD "REQUEST" does not match`},
		{"calendar without METHOD", func(m *Message) {
			m.Calendar = []byte(strings.Replace(testCalendar, "METHOD:REQUEST\r\n", "", 1))
		}, "not a VCALENDAR with a METHOD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := invitation()
			tt.change(&m)
			err := d.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error {
				_, err := Enqueue(context.Background(), tx, now, m)
				return err
			})
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "mailer: ") {
				t.Fatalf("Enqueue error = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
	if n, _ := List(context.Background(), d.Read(), 10, 0); len(n) != 0 {
		t.Fatalf("refused messages were stored: %d rows", len(n))
	}
}

func TestEnqueueAcceptsInternationalDomain(t *testing.T) {
	d, _ := openTestDB(t)
	ts := startTestServer(t)
	m := plainMessage(1)
	m.To = "Ola@Blåbær.example.no"
	id := mustEnqueue(t, d, m)
	drain(t, newTestWorker(t, d, testConfig(ts), nil))
	got := ts.Messages()
	if len(got) != 1 || got[0].To[0] != "Ola@xn--blbr-roah.example.no" {
		t.Fatalf("%d arrived, want one to Ola@xn--blbr-roah.example.no", len(got))
	}
	if s, _ := ForAddress(context.Background(), d.Read(), "ola@blåbær.example.no"); len(s) != 1 || s[0].ID != id {
		t.Fatalf("ForAddress by the normalised address = %v", s)
	}
}

func TestEnqueueDedupeKey(t *testing.T) {
	d, _ := openTestDB(t)
	ctx := context.Background()
	reminder := plainMessage(1)
	reminder.Kind = "reminder"
	reminder.DedupeKey = "reminder:event-17:registration-4"

	t.Run("second message with the key is ErrDuplicate and the transaction goes on", func(t *testing.T) {
		err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
			if _, err := Enqueue(ctx, tx, now, reminder); err != nil {
				return err
			}
			_, err := Enqueue(ctx, tx, now, reminder)
			if !errors.Is(err, ErrDuplicate) || !errors.Is(err, db.ErrUnique) {
				t.Errorf("second Enqueue = %v, want ErrDuplicate (also db.ErrUnique)", err)
			}
			_, err = Enqueue(ctx, tx, now, plainMessage(2))
			return err
		})
		if err != nil {
			t.Fatalf("transaction: %v", err)
		}
	})
	t.Run("a later transaction is refused too", func(t *testing.T) {
		err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
			_, err := Enqueue(ctx, tx, now, reminder)
			return err
		})
		if !errors.Is(err, ErrDuplicate) {
			t.Fatalf("Enqueue = %v, want ErrDuplicate", err)
		}
	})
	t.Run("messages without a key never collide", func(t *testing.T) {
		mustEnqueue(t, d, plainMessage(3))
		mustEnqueue(t, d, plainMessage(3))
	})
	if n := countStatus(t, d, StatusQueued); n != 4 {
		t.Fatalf("%d queued, want 4", n)
	}
}

func TestEnqueueRollbackSendsNothing(t *testing.T) {
	d, _ := openTestDB(t)
	ts := startTestServer(t)
	ctx := context.Background()
	err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		if _, err := Enqueue(ctx, tx, now, plainMessage(1)); err != nil {
			return err
		}
		return errors.New("the registration failed")
	})
	if err == nil {
		t.Fatal("transaction committed")
	}
	drain(t, newTestWorker(t, d, testConfig(ts), nil))
	if got := len(ts.Messages()); got != 0 {
		t.Fatalf("%d messages sent after a rollback", got)
	}
}

// Sending

func TestSendInvitationMIME(t *testing.T) {
	d, _ := openTestDB(t)
	ts := startTestServer(t)
	cfg := testConfig(ts)
	inviteID := mustEnqueue(t, d, invitation())
	plainID := mustEnqueue(t, d, plainMessage(1))

	if sent := drain(t, newTestWorker(t, d, cfg, nil)); sent != 2 {
		t.Fatalf("sent %d, want 2", sent)
	}
	invite, plain := mustGet(t, d, inviteID), mustGet(t, d, plainID)
	if invite.Status != StatusSent || invite.SentAt.IsZero() || invite.Attempts != 1 {
		t.Fatalf("invitation row = %s, sent at %v, attempts %d", invite.Status, invite.SentAt, invite.Attempts)
	}
	byID := map[string]received{}
	for _, m := range ts.Messages() {
		byID[parseMessage(t, m.Data).Header.Get("Message-Id")] = m
	}

	t.Run("invitation as it arrives", func(t *testing.T) {
		got, ok := byID[invite.MessageID]
		if !ok {
			t.Fatalf("no message with Message-ID %s arrived", invite.MessageID)
		}
		if got.From != cfg.From || len(got.To) != 1 || got.To[0] != invite.To {
			t.Errorf("envelope = %s -> %v", got.From, got.To)
		}
		assertInvitation(t, got.Data, invite, cfg)
	})
	t.Run("invitation as the development mailbox shows it", func(t *testing.T) {
		raw, err := Raw(context.Background(), d.Read(), cfg, inviteID)
		if err != nil {
			t.Fatal(err)
		}
		assertInvitation(t, raw, invite, cfg)
	})
	t.Run("without a calendar: multipart/alternative of text and html", func(t *testing.T) {
		got, ok := byID[plain.MessageID]
		if !ok {
			t.Fatalf("no message with Message-ID %s arrived", plain.MessageID)
		}
		msg := parseMessage(t, got.Data)
		mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/alternative" {
			t.Fatalf("Content-Type = %q, want multipart/alternative", msg.Header.Get("Content-Type"))
		}
		parts := readParts(t, msg.Body, params["boundary"])
		if len(parts) != 2 || parts[0].mediaType != "text/plain" || parts[1].mediaType != "text/html" {
			t.Fatalf("parts = %+v, want text/plain then text/html", parts)
		}
		if string(parts[0].body) != crlf(plain.TextBody) {
			t.Errorf("text = %q", parts[0].body)
		}
		if msg.Header.Get("Reply-To") != "" {
			t.Errorf("Reply-To = %q, want none", msg.Header.Get("Reply-To"))
		}
	})
}

func TestTextOnlyMessageIsSinglePart(t *testing.T) {
	d, _ := openTestDB(t)
	ts := startTestServer(t)
	m := plainMessage(1)
	m.HTMLBody = ""
	mustEnqueue(t, d, m)
	drain(t, newTestWorker(t, d, testConfig(ts), nil))
	msg := parseMessage(t, ts.Messages()[0].Data)
	mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if mt != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Fatalf("Content-Type = %q, want text/plain; charset=utf-8", msg.Header.Get("Content-Type"))
	}
}

// A row that reached the table without Enqueue (an old version, a hand
// edit) still cannot add a header: the values are cleaned again at send.
func TestInjectedRowGetsNoExtraHeader(t *testing.T) {
	d, _ := openTestDB(t)
	ts := startTestServer(t)
	cfg := testConfig(ts)
	var id int64
	err := d.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error {
		return tx.QueryRow(`INSERT INTO outbox (kind, to_address, to_address_norm, to_name, reply_to,
			subject, text_body, message_id, status, next_attempt_at, created_at)
			VALUES ('test', 'ola@example.no', 'ola@example.no', ?, '', ?, 'Hei', 'outbox-injected', 'queued', ?, ?)
			RETURNING id`,
			"Ola\r\nBcc: evil@example.com", "Hei\r\nX-Injected: yes\r\n\r\nbody", now, now).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	drain(t, newTestWorker(t, d, cfg, nil))
	raw, err := Raw(context.Background(), d.Read(), cfg, id)
	if err != nil {
		t.Fatal(err)
	}
	got := ts.Messages()
	if len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != "ola@example.no" {
		t.Fatalf("arrived: %+v, want one message to ola@example.no only", got)
	}
	for name, data := range map[string][]byte{"arrived": got[0].Data, "raw": raw} {
		msg := parseMessage(t, data)
		var keys []string
		for k := range msg.Header {
			keys = append(keys, k)
		}
		want := map[string]bool{"Auto-Submitted": true, "Content-Transfer-Encoding": true, "Content-Type": true,
			"Date": true, "From": true, "Message-Id": true, "Mime-Version": true, "Subject": true, "To": true}
		for _, k := range keys {
			if !want[k] {
				t.Errorf("%s: unexpected header %q in\n%s", name, k, data)
			}
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if strings.ContainsAny(subject, "\r\n") || !strings.HasPrefix(subject, "Hei") {
			t.Errorf("%s: subject = %q", name, subject)
		}
	}
}

func TestTemporaryRefusalIsRetriedAndEveryMessageArrivesOnce(t *testing.T) {
	for _, code := range []int{421, 451} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			d, _ := openTestDB(t)
			ts := startTestServer(t)
			ts.RefuseMail(4, code)
			var ids []int64
			for i := range 6 {
				ids = append(ids, mustEnqueue(t, d, plainMessage(i)))
			}
			w := newTestWorker(t, d, testConfig(ts), nil)
			stop := runWorker(w)
			w.Wake()
			waitFor(t, "all sent", func() bool { return countStatus(t, d, StatusSent) == len(ids) })
			stop()

			arrived := ts.messageIDs(t)
			if len(arrived) != len(ids) {
				t.Fatalf("%d distinct messages arrived, want %d", len(arrived), len(ids))
			}
			retried := 0
			for _, id := range ids {
				s := mustGet(t, d, id)
				if arrived[s.MessageID] != 1 {
					t.Errorf("message %d arrived %d times", id, arrived[s.MessageID])
				}
				if s.Attempts > 1 {
					retried++
				}
			}
			if retried == 0 {
				t.Fatal("no message needed a second attempt; the refusal did not happen")
			}
		})
	}
}

func TestConnectionRefusedIsRetriedLater(t *testing.T) {
	d, _ := openTestDB(t)
	ts := startTestServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	id := mustEnqueue(t, d, plainMessage(1))

	down := testConfig(ts)
	down.Port = closedPort
	w := newTestWorker(t, d, down, nil)
	w.Backoff = func(int) time.Duration { return time.Hour }
	if sent, err := w.SendDue(context.Background()); sent != 0 || err != nil {
		t.Fatalf("SendDue = %d, %v", sent, err)
	}
	s := mustGet(t, d, id)
	if s.Status != StatusQueued || s.Attempts != 1 || !strings.Contains(s.LastError, "refused") ||
		!s.NextAttemptAt.After(time.Now().Add(50*time.Minute)) {
		t.Fatalf("after a refused connection: status %s, attempts %d, next %v, error %q",
			s.Status, s.Attempts, s.NextAttemptAt, s.LastError)
	}
	if sent, _ := w.SendDue(context.Background()); sent != 0 || mustGet(t, d, id).Attempts != 1 {
		t.Fatal("the message was tried again before its backoff")
	}

	// An hour later the server is back.
	d.Now = func() time.Time { return time.Now().Add(61 * time.Minute) }
	if sent := drain(t, newTestWorker(t, d, testConfig(ts), nil)); sent != 1 {
		t.Fatalf("sent %d after the backoff, want 1", sent)
	}
	if s := mustGet(t, d, id); s.Status != StatusSent || s.Attempts != 2 || s.LastError != "" {
		t.Fatalf("status %s, attempts %d, error %q", s.Status, s.Attempts, s.LastError)
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	d, _ := openTestDB(t)
	ts := startTestServer(t)
	ts.RefuseMail(1000, 451)
	id := mustEnqueue(t, d, plainMessage(1))
	w := newTestWorker(t, d, testConfig(ts), nil)
	w.MaxAttempts = 3
	for range 5 {
		if _, err := w.SendDue(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	s := mustGet(t, d, id)
	if s.Status != StatusFailed || s.Attempts != 3 ||
		s.LastError != "gave up after 3 attempts: MAIL FROM: 451 4.3.0 Try again later" {
		t.Fatalf("status %s, attempts %d, error %q", s.Status, s.Attempts, s.LastError)
	}
}

func TestPermanentFailureDoesNotBlockOthers(t *testing.T) {
	d, _ := openTestDB(t)
	ts := startTestServer(t)
	ts.RejectRcpt("nobody@example.no")
	var logs syncBuffer
	first := mustEnqueue(t, d, plainMessage(1))
	bad := plainMessage(2)
	bad.To, bad.ToName = "nobody@example.no", "Nils Nobody"
	badID := mustEnqueue(t, d, bad)
	last := mustEnqueue(t, d, plainMessage(3))

	if sent := drain(t, newTestWorker(t, d, testConfig(ts), &logs)); sent != 2 {
		t.Fatalf("sent %d, want 2", sent)
	}
	for _, id := range []int64{first, last} {
		if s := mustGet(t, d, id); s.Status != StatusSent {
			t.Errorf("message %d: %s, want sent", id, s.Status)
		}
	}
	s := mustGet(t, d, badID)
	if s.Status != StatusFailed || s.LastError != "RCPT TO: 550 5.1.1 No such user here" {
		t.Fatalf("rejected message: %s %q", s.Status, s.LastError)
	}
	if got := len(ts.Messages()); got != 2 {
		t.Fatalf("%d arrived, want 2", got)
	}
	// Logs carry ids and outcomes, never addresses or names.
	for _, personal := range []string{"@", "nobody", "Nils", "Deltaker", "deltaker"} {
		if strings.Contains(logs.String(), personal) {
			t.Errorf("log contains %q:\n%s", personal, logs.String())
		}
	}
	if !strings.Contains(logs.String(), fmt.Sprintf("outbox_id=%d", badID)) {
		t.Errorf("log does not name the failed row:\n%s", logs.String())
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Crashes, restarts and concurrency

// A shutdown while the relay sits on a message cuts the exchange off after
// a second's grace: Run returns, the message goes back to the queue (the relay may have
// taken it) and nothing is left "sending". After a restart every message
// arrives; only a message cut off arrives twice, with one Message-ID.
func TestShutdownCutsOffTheMessageInFlight(t *testing.T) {
	d, path := openTestDB(t)
	ts := startTestServer(t)
	cfg := testConfig(ts)
	var ids []int64
	for i := range 12 {
		ids = append(ids, mustEnqueue(t, d, plainMessage(i)))
	}
	cutID := ids[2]
	hung, answer := ts.HangFor(t, mustGet(t, d, cutID).To)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w := newTestWorker(t, d, cfg, nil)
	go func() {
		w.Run(ctx)
		close(done)
	}()
	select {
	case <-hung:
	case <-time.After(60 * time.Second):
		t.Fatal("the third message never reached the end of DATA")
	}
	cancel() // shutdown while the relay has not answered the third message
	// The relay stays silent: Run must not wait for it (nor for the 30 s
	// Timeout). Generous: the rule is "promptly", the bound only catches
	// a worker that waits out its Timeout.
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return while the relay was silent")
	}
	answer() // the relay took it after all

	if n := countStatus(t, d, StatusSending); n != 0 {
		t.Fatalf("%d messages left in sending after a clean stop", n)
	}
	cut := mustGet(t, d, cutID)
	if cut.Status != StatusQueued || cut.Attempts != 1 || !strings.Contains(cut.LastError, "shut") ||
		cut.NextAttemptAt.After(time.Now()) {
		t.Fatalf("the cut-off message: %s, attempts %d, next %v, error %q; want queued at once, the attempt counted",
			cut.Status, cut.Attempts, cut.NextAttemptAt, cut.LastError)
	}
	waitFor(t, "the relay to keep its late copy", func() bool { return ts.messageIDs(t)[cut.MessageID] == 1 })
	// The other senders' exchanges had a moment to finish; one that did
	// not (a very busy machine) was cut off too.
	interrupted := map[int64]bool{}
	for _, id := range ids {
		if strings.Contains(mustGet(t, d, id).LastError, "shut") {
			interrupted[id] = true
		}
	}
	if len(interrupted) > 1 {
		t.Logf("%d messages cut off by the shutdown", len(interrupted))
	}

	// Restart: a new process, a new connection to the same file.
	d2 := openDBAt(t, path)
	drain(t, newTestWorker(t, d2, cfg, nil))

	arrived := ts.messageIDs(t)
	for _, id := range ids {
		s := mustGet(t, d2, id)
		ok := arrived[s.MessageID] == 1 || (interrupted[id] && arrived[s.MessageID] == 2)
		if id == cutID {
			ok = arrived[s.MessageID] == 2
		}
		if s.Status != StatusSent || !ok {
			t.Errorf("message %d: %s, arrived %d times (cut off: %v)", id, s.Status, arrived[s.MessageID], interrupted[id])
		}
	}
}

// A worker that dies after the server accepted a message but before it
// recorded that (here: its database goes away) leaves the row "sending".
// After the lease another worker sends it again with the same Message-ID:
// at-least-once, and the receiver can tell it is a copy.
func TestCrashAfterSendResendsWithSameMessageID(t *testing.T) {
	ctx := context.Background()
	path := newDatabase(t)
	dA, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ts := startTestServer(t)
	cfg := testConfig(ts)
	first := mustEnqueue(t, dA, plainMessage(1))
	second := mustEnqueue(t, dA, plainMessage(2))

	var crash sync.Once
	ts.afterData = func() { crash.Do(func() { dA.Close() }) }
	wA := newTestWorker(t, dA, cfg, nil)
	wA.PerConnection = 1
	if _, err := wA.SendDue(ctx); err == nil {
		t.Fatal("SendDue recorded the send although the database was gone")
	}
	ts.mu.Lock()
	ts.afterData = nil
	ts.mu.Unlock()

	dB := openDBAt(t, path)
	if s := mustGet(t, dB, first); s.Status != StatusSending {
		t.Fatalf("after the crash the first message is %s, want sending", s.Status)
	}
	wB := newTestWorker(t, dB, cfg, nil)
	if sent := drain(t, wB); sent != 1 {
		t.Fatalf("before the lease ends the new worker sent %d, want only the second message", sent)
	}
	dB.Now = func() time.Time { return time.Now().Add(wB.Lease + time.Minute) }
	if sent := drain(t, wB); sent != 1 {
		t.Fatalf("after the lease the new worker sent %d, want 1", sent)
	}

	s1, s2 := mustGet(t, dB, first), mustGet(t, dB, second)
	arrived := ts.messageIDs(t)
	if s1.Status != StatusSent || s1.Attempts != 2 || arrived[s1.MessageID] != 2 {
		t.Fatalf("first message: %s after %d attempts, arrived %d times with its Message-ID, want sent, 2, 2",
			s1.Status, s1.Attempts, arrived[s1.MessageID])
	}
	if s2.Status != StatusSent || arrived[s2.MessageID] != 1 {
		t.Fatalf("second message: %s, arrived %d times", s2.Status, arrived[s2.MessageID])
	}
}

// A worker that dies after claiming, before sending: the messages wait for
// the lease and are then sent once.
func TestExpiredClaimIsSentOnce(t *testing.T) {
	d, _ := openTestDB(t)
	ts := startTestServer(t)
	cfg := testConfig(ts)
	for i := range 3 {
		mustEnqueue(t, d, plainMessage(i))
	}
	dead := newTestWorker(t, d, cfg, nil)
	for range 3 {
		if _, ok, err := dead.take(context.Background()); !ok || err != nil {
			t.Fatalf("claim = %v, %v", ok, err)
		}
	}
	w := newTestWorker(t, d, cfg, nil)
	if sent := drain(t, w); sent != 0 {
		t.Fatalf("sent %d claimed messages before their lease ended", sent)
	}
	d.Now = func() time.Time { return time.Now().Add(w.Lease + time.Second) }
	if sent := drain(t, w); sent != 3 {
		t.Fatalf("sent %d after the lease, want 3", sent)
	}
	for mid, n := range ts.messageIDs(t) {
		if n != 1 {
			t.Errorf("%s arrived %d times", mid, n)
		}
	}
}

func TestTwoWorkersNeverSendTwice(t *testing.T) {
	d1, path := openTestDB(t)
	ts := startTestServer(t)
	// As a relay does, it takes a moment: with an instant one, the first
	// worker's senders can keep SQLite's write lock busy back to back and
	// the other process (waiting in SQLite's busy handler, not in our
	// queue) gets no turn while the 300 go out.
	ts.SlowData(5 * time.Millisecond)
	cfg := testConfig(ts)
	const n = 300
	mustEnqueueMany(t, d1, n)
	// Two processes: each its own pools on the same file.
	d2 := openDBAt(t, path)
	var logs1, logs2 syncBuffer
	w1, w2 := newTestWorker(t, d1, cfg, &logs1), newTestWorker(t, d2, cfg, &logs2)
	w1.PerConnection, w2.PerConnection = 4, 4
	stop1, stop2 := runWorker(w1), runWorker(w2)
	waitFor(t, "all sent", func() bool { return countStatus(t, d1, StatusSent) == n })
	stop1()
	stop2()

	arrived := ts.messageIDs(t)
	if len(ts.Messages()) != n || len(arrived) != n {
		t.Fatalf("%d arrived with %d distinct Message-IDs, want %d and %d", len(ts.Messages()), len(arrived), n, n)
	}
	sent1, sent2 := strings.Count(logs1.String(), `msg="mailer: sent"`), strings.Count(logs2.String(), `msg="mailer: sent"`)
	t.Logf("worker 1 sent %d, worker 2 sent %d", sent1, sent2)
	if sent1 == 0 || sent2 == 0 || sent1+sent2 != n {
		t.Fatalf("worker 1 sent %d, worker 2 sent %d; want both to take part, %d in all", sent1, sent2, n)
	}
}

func TestHeldWithoutMailServerThenSentWithOne(t *testing.T) {
	d, path := openTestDB(t)
	ts := startTestServer(t)
	noServer := testConfig(ts)
	noServer.Host, noServer.Port = "", 0
	if err := noServer.Validate(); err != nil {
		t.Fatalf("a config without host is valid: %v", err)
	}
	ids := []int64{mustEnqueue(t, d, invitation()), mustEnqueue(t, d, plainMessage(1))}

	w := newTestWorker(t, d, noServer, nil)
	stop := runWorker(w)
	waitFor(t, "held", func() bool { return countStatus(t, d, StatusHeld) == 2 })
	stop()
	for _, id := range ids {
		s := mustGet(t, d, id)
		if s.LastError != HeldReason || s.Attempts != 0 {
			t.Errorf("held message %d: error %q, attempts %d", id, s.LastError, s.Attempts)
		}
	}
	if depth, _ := QueueDepth(context.Background(), d.Read()); depth != 0 {
		t.Errorf("queue depth %d with only held mail, want 0", depth)
	}
	raw, err := Raw(context.Background(), d.Read(), noServer, ids[0])
	if err != nil || !bytes.Contains(raw, []byte("text/calendar; method=REQUEST")) {
		t.Fatalf("Raw of a held message: %v\n%s", err, raw)
	}
	if len(ts.Messages()) != 0 {
		t.Fatal("mail was sent without a mail server configured")
	}

	// Restart with a mail server.
	d2 := openDBAt(t, path)
	if sent := drain(t, newTestWorker(t, d2, testConfig(ts), nil)); sent != 2 {
		t.Fatalf("sent %d held messages after the restart, want 2", sent)
	}
	for _, id := range ids {
		if s := mustGet(t, d2, id); s.Status != StatusSent || s.LastError != "" {
			t.Errorf("message %d: %s %q", id, s.Status, s.LastError)
		}
	}
}

// Read side

func TestReadHelpers(t *testing.T) {
	d, _ := openTestDB(t)
	ts := startTestServer(t)
	ctx := context.Background()
	ola := plainMessage(1)
	ola.To = " Ola@Example.no "
	olaKinds := []string{"registration_confirmed", "reminder", "cancelled"}
	var olaIDs []int64
	w := newTestWorker(t, d, testConfig(ts), nil)
	w.PerConnection = 1
	// Ola's first message is queued and sent 40 days ago, the second now,
	// the third waits.
	for i, kind := range olaKinds {
		d.Now = time.Now
		if i == 0 {
			d.Now = func() time.Time { return time.Now().AddDate(0, 0, -40) }
		}
		ola.Kind = kind
		olaIDs = append(olaIDs, mustEnqueue(t, d, ola))
		if i < 2 {
			if sent, err := w.SendDue(ctx); sent != 1 || err != nil {
				t.Fatalf("SendDue = %d, %v", sent, err)
			}
		}
	}
	kariID := mustEnqueue(t, d, plainMessage(2))

	t.Run("Get of a missing id is ErrNotFound", func(t *testing.T) {
		if _, err := Get(ctx, d.Read(), 999); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get = %v, want ErrNotFound", err)
		}
		if _, err := Raw(ctx, d.Read(), testConfig(ts), 999); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Raw = %v, want ErrNotFound", err)
		}
	})
	t.Run("List pages newest first", func(t *testing.T) {
		page, err := List(ctx, d.Read(), 2, 1)
		if err != nil || len(page) != 2 || page[0].ID != olaIDs[2] || page[1].ID != olaIDs[1] {
			t.Fatalf("List(2, 1) = %+v, %v", page, err)
		}
	})
	t.Run("QueueDepth counts unsent mail", func(t *testing.T) {
		if n, err := QueueDepth(ctx, d.Read()); n != 2 || err != nil {
			t.Fatalf("QueueDepth = %d, %v; want 2", n, err)
		}
	})

	t.Run("ForAddress lists one person's mail", func(t *testing.T) {
		got, err := ForAddress(ctx, d.Read(), "OLA@example.no")
		if err != nil || len(got) != 3 {
			t.Fatalf("ForAddress = %+v, %v", got, err)
		}
		for i, s := range got {
			if s.ID != olaIDs[i] || s.Kind != olaKinds[i] || s.Subject != ola.Subject || s.CreatedAt.IsZero() {
				t.Errorf("entry %d = %+v", i, s)
			}
		}
		if got[0].Status != StatusSent || got[0].SentAt.IsZero() || got[2].Status != StatusQueued || !got[2].SentAt.IsZero() {
			t.Errorf("statuses = %+v", got)
		}
	})
	t.Run("PruneSent deletes mail sent before the cut-off", func(t *testing.T) {
		var n int64
		err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
			var err error
			n, err = PruneSent(ctx, tx, now.AddDate(0, 0, -30))
			return err
		})
		if err != nil || n != 1 {
			t.Fatalf("pruned %d, %v; want 1", n, err)
		}
		if _, err := Get(ctx, d.Read(), olaIDs[0]); !errors.Is(err, ErrNotFound) {
			t.Errorf("old sent message kept: %v", err)
		}
		if s := mustGet(t, d, olaIDs[1]); s.Status != StatusSent {
			t.Errorf("recent sent message: %s", s.Status)
		}
	})
	t.Run("ForgetTo drops the mail of that person only", func(t *testing.T) {
		var n int64
		err := d.Tx(ctx, func(tx *sql.Tx, _ time.Time) error {
			var err error
			n, err = ForgetTo(ctx, tx, " Ola@Example.no ", nil)
			return err
		})
		if err != nil || n != 2 {
			t.Fatalf("deleted %d, %v; want Ola's two messages left after the prune", n, err)
		}
		for _, id := range olaIDs {
			if _, err := Get(ctx, d.Read(), id); !errors.Is(err, ErrNotFound) {
				t.Errorf("Ola's message %d is still there: %v", id, err)
			}
		}
		if _, err := Get(ctx, d.Read(), kariID); err != nil {
			t.Errorf("another person's message went too: %v", err)
		}
	})
}

// Pure parts

func TestConfigValidate(t *testing.T) {
	ok := Config{Host: "smtp.example.no", TLS: TLSStartTLS, User: "u", Password: "p", From: "moteplass@example.no", FromName: "Møteplass"}
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" for valid
	}{
		{"complete", func(*Config) {}, ""},
		{"no host: mail is held", func(c *Config) { *c = Config{From: "moteplass@example.no"} }, ""},
		{"no from", func(c *Config) { c.From = "" }, "from address"},
		{"from with a name", func(c *Config) { c.From = "Møteplass <moteplass@example.no>" }, "from address"},
		{"line break in from name", func(c *Config) { c.FromName = "Møteplass\r\nBcc: x@example.com" }, "line break"},
		{"unknown TLS mode", func(c *Config) { c.TLS = "ssl" }, "TLS must be"},
		{"empty TLS mode", func(c *Config) { c.TLS = "" }, "TLS must be"},
		{"port out of range", func(c *Config) { c.Port = 70000 }, "out of range"},
		{"password without user", func(c *Config) { c.User = "" }, "without a user"},
		{"credentials without TLS", func(c *Config) { c.TLS = TLSNone }, "need TLS"},
		{"plain relay without credentials", func(c *Config) { c.TLS, c.User, c.Password = TLSNone, "", "" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" && err != nil {
				t.Fatalf("Validate = %v, want nil", err)
			}
			if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Validate = %v, want an error with %q", err, tt.want)
			}
		})
	}
	ports := map[string]int{TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465}
	for mode, want := range ports {
		if got := (Config{TLS: mode}).port(); got != want {
			t.Errorf("default port for %s = %d, want %d", mode, got, want)
		}
	}
}

func TestValidateAddress(t *testing.T) {
	for addr, ok := range map[string]bool{
		"ola@example.no":         true,
		"ola.nordmann+mote@x.no": true,
		"ola@blåbær.no":          true,
		"øyvind@example.no":      true, // sent if the relay offers SMTPUTF8
		"Ola <ola@example.no>":   false,
		"ola@example.no\r\nBcc:": false,
		"ola@[127.0.0.1]":        false,
		"ola":                    false,
		"":                       false,
	} {
		if err := ValidateAddress(addr); (err == nil) != ok {
			t.Errorf("ValidateAddress(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

func TestExponentialBackoff(t *testing.T) {
	backoff := ExponentialBackoff(30*time.Second, 2*time.Hour)
	for attempt := 1; attempt <= 40; attempt++ {
		ceiling := min(30*time.Second<<min(attempt-1, 20), 2*time.Hour)
		for range 50 {
			got := backoff(attempt)
			if got < ceiling/2 || got > ceiling {
				t.Fatalf("attempt %d: %v, want within [%v, %v]", attempt, got, ceiling/2, ceiling)
			}
		}
	}
}
