package mailer

// What the mailer's tests share: TestMain (the tests run on SQLite, and on
// PostgreSQL with MOTEPLASS_TEST_DB=postgres), a database and a worker
// against the test SMTP server (smtpserver_test.go), messages to queue,
// and readers of what arrived. The tests are by seam: enqueue_test.go,
// send_test.go, crash_test.go, worker_test.go, read_test.go, parts_test.go.

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
	netmail "net/mail"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/pgtest"
)

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
