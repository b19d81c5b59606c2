package app_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/mail"
	"path/filepath"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/smtptest"
)

// shutdownApp is the real program sending to relay, with its database at path.
func shutdownApp(t *testing.T, path string, relay *smtptest.Server) *app.App {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.DB, cfg.Addr, cfg.Demo, cfg.SignupRate = path, "127.0.0.1:0", "off", 0
	cfg.SMTPHost, cfg.SMTPPort, cfg.SMTPTLS = "127.0.0.1", relay.Port, "none"
	cfg.MailFrom = "moteplass@moteplass.example.no"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.NewApp(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// SIGTERM while the relay sits on a message (it read the whole message and
// never answers): the process is down within 10 s, as a supervisor expects,
// and the message is back in the queue, not stuck "sending". The next start
// sends it with the same Message-ID (the silent relay may have kept it).
//
// The rule is a time bound, so the test measures real time; 10 s is the
// rule itself and generous for what takes about a second (the exchange's
// grace before it is cut off; the worker used to wait out its 1-minute
// SMTP timeout).
func TestShutdownWithASilentRelayTakesSeconds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "moteplass.db")
	silent := smtptest.Start(t)
	hung := silent.HangAfterData(t)
	a := shutdownApp(t, path, silent)
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background()) // the signal
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx) }()

	ev := privEvent(t, a, "dfo", 10*24*time.Hour, 10)
	privSignUp(t, a, ev.Slug, privForm("Stina Stengetid", "stina.stengetid@example.no"))
	select {
	case <-hung:
	case <-time.After(30 * time.Second):
		t.Fatal("the confirmation never reached the relay")
	}

	start := time.Now()
	cancel()
	var err error
	select {
	case err = <-served:
	case <-time.After(90 * time.Second):
		t.Fatal("Serve did not return")
	}
	closeErr := a.Close()
	took := time.Since(start)
	t.Logf("down %v after the signal", took.Round(time.Millisecond))
	if err != nil || closeErr != nil {
		t.Fatalf("Serve: %v, Close: %v", err, closeErr)
	}
	if took > 10*time.Second {
		t.Fatalf("down %v after the signal, want within 10 s", took)
	}

	// The next start, with a relay that answers.
	relay := smtptest.Start(t)
	b := shutdownApp(t, path, relay)
	defer b.Close()
	var status, messageID string
	if err := b.DB.Read().QueryRow(`SELECT status, message_id FROM outbox WHERE kind = 'registration_confirmed'`).
		Scan(&status, &messageID); err != nil {
		t.Fatal(err)
	}
	if status != "queued" {
		t.Fatalf("after the shutdown the confirmation is %s, want queued (sent at the next start)", status)
	}
	privSendAll(t, b)
	got := relay.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages after the restart, want the confirmation", len(got))
	}
	m, err := mail.ReadMessage(bytes.NewReader(got[0].Data))
	if err != nil || m.Header.Get("Message-Id") != messageID {
		t.Fatalf("Message-ID %q (%v), want the stored %q", m.Header.Get("Message-Id"), err, messageID)
	}
}
