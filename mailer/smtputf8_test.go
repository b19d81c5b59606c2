package mailer

import (
	"bytes"
	"context"
	"net/mail"
	"strings"
	"testing"

	"github.com/moteplass/moteplass/internal/smtptest"
)

// relayConfig sends through srv.
func relayConfig(srv *smtptest.Server) Config {
	return Config{Host: "127.0.0.1", Port: srv.Port, TLS: TLSNone, From: "moteplass@example.no", FromName: "Møteplass"}
}

// headerOf is a header of a received message as it is on the wire.
func headerOf(t *testing.T, raw []byte, name string) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, raw)
	}
	return m.Header.Get(name)
}

// A Norwegian local part over a relay that offers SMTPUTF8: the envelope
// says SMTPUTF8 and holds the address as typed, and so does To (RFC 6531,
// 6532); an international domain goes as an A-label in both.
func TestSendsUTF8AddressWithSMTPUTF8(t *testing.T) {
	d, _ := openTestDB(t)
	srv := smtptest.StartUTF8(t)
	w := newTestWorker(t, d, relayConfig(srv), nil)

	m := plainMessage(1)
	m.To, m.ToName, m.ReplyTo = "bjørn@example.no", "Bjørn Ås", "påmelding@bærum.no"
	id := mustEnqueue(t, d, m)
	idn := plainMessage(2)
	idn.To = "Ola@Bærum.no"
	mustEnqueue(t, d, idn)

	if got := drain(t, w); got != 2 {
		t.Fatalf("sent %d, want 2 (last error: %q)", got, mustGet(t, d, id).LastError)
	}
	if w.UTF8() != UTF8Yes || !w.AcceptsUTF8() {
		t.Errorf("after a connection to a relay with SMTPUTF8: UTF8() = %v, AcceptsUTF8 = %v", w.UTF8(), w.AcceptsUTF8())
	}
	got := srv.Messages()
	if len(got) != 2 {
		t.Fatalf("%d arrived, want 2", len(got))
	}
	utf8Msg, idnMsg := got[0], got[1]
	if !utf8Msg.UTF8 || len(utf8Msg.To) != 1 || utf8Msg.To[0] != "bjørn@example.no" {
		t.Errorf("envelope: SMTPUTF8 %v, RCPT TO %q; want SMTPUTF8 and bjørn@example.no", utf8Msg.UTF8, utf8Msg.To)
	}
	// RFC 6532: the address itself in UTF-8, the display name encoded
	if to := headerOf(t, utf8Msg.Data, "To"); !strings.Contains(to, "<bjørn@example.no>") {
		t.Errorf("To: %q, want the address in UTF-8", to)
	}
	if !bytes.Contains(utf8Msg.Data, []byte("\r\nTo: =?utf-8?q?Bj=C3=B8rn_=C3=85s?= <bjørn@example.no>\r\n")) {
		t.Errorf("To header is not an encoded name with a UTF-8 address:\n%s", utf8Msg.Data[:min(len(utf8Msg.Data), 600)])
	}
	if rt := headerOf(t, utf8Msg.Data, "Reply-To"); rt != "<påmelding@xn--brum-voa.no>" {
		t.Errorf("Reply-To: %q, want the UTF-8 local part and the A-label domain", rt)
	}
	if len(idnMsg.To) != 1 || idnMsg.To[0] != "Ola@xn--brum-voa.no" {
		t.Errorf("RCPT TO %q, want Ola@xn--brum-voa.no", idnMsg.To)
	}
	if to := headerOf(t, idnMsg.Data, "To"); !strings.Contains(to, "<Ola@xn--brum-voa.no>") {
		t.Errorf("To: %q, want the A-label domain", to)
	}
}

// Without SMTPUTF8 a message to a UTF-8 local part fails for good at once,
// with a reason that names the missing extension and not the address; the
// rest of the batch goes out, and a UTF-8 Reply-To is left out rather than
// failing a message to an ASCII address.
func TestUTF8AddressFailsForGoodWithoutSMTPUTF8(t *testing.T) {
	d, _ := openTestDB(t)
	srv := smtptest.Start(t)
	var logs syncBuffer
	w := newTestWorker(t, d, relayConfig(srv), &logs)

	m := plainMessage(1)
	m.To = "bjørn@example.no"
	failing := mustEnqueue(t, d, m)
	other := plainMessage(2)
	other.ReplyTo = "påmelding@example.no"
	mustEnqueue(t, d, other)

	if got := drain(t, w); got != 1 {
		t.Fatalf("sent %d, want 1", got)
	}
	s := mustGet(t, d, failing)
	if s.Status != StatusFailed || s.Attempts != 1 {
		t.Errorf("status %s after %d attempts, want failed after 1", s.Status, s.Attempts)
	}
	if !strings.Contains(s.LastError, "SMTPUTF8") || strings.Contains(s.LastError, "@") || strings.Contains(s.LastError, "bjørn") {
		t.Errorf("last_error %q: want the reason (SMTPUTF8) and no address", s.LastError)
	}
	if strings.Contains(logs.String(), "bjørn") {
		t.Errorf("the address is in the log:\n%s", logs.String())
	}
	got := srv.Messages()
	if len(got) != 1 || got[0].To[0] != "deltaker2@example.no" || got[0].UTF8 {
		t.Fatalf("arrived: %+v, want the ASCII message only, without SMTPUTF8", got)
	}
	if rt := headerOf(t, got[0].Data, "Reply-To"); rt != "" {
		t.Errorf("Reply-To %q sent to a relay without SMTPUTF8", rt)
	}
	if w.UTF8() != UTF8No || w.AcceptsUTF8() {
		t.Errorf("UTF8() = %v, AcceptsUTF8 = %v; want no, false", w.UTF8(), w.AcceptsUTF8())
	}
}

// The forms ask before anything is sent: Probe (run in the background by
// Run) learns the relay's answer; without a relay (the development outbox)
// UTF-8 addresses are taken, as they are only shown.
func TestProbeLearnsWhatTheRelayOffers(t *testing.T) {
	d, _ := openTestDB(t)
	for _, tc := range []struct {
		name string
		srv  *smtptest.Server
		want RelayUTF8
	}{
		{"with SMTPUTF8", smtptest.StartUTF8(t), UTF8Yes},
		{"without", smtptest.Start(t), UTF8No},
	} {
		w := newTestWorker(t, d, relayConfig(tc.srv), nil)
		if w.UTF8() != UTF8Unknown || w.AcceptsUTF8() {
			t.Errorf("%s: before any connection UTF8() = %v, AcceptsUTF8 = %v; want unknown, false", tc.name, w.UTF8(), w.AcceptsUTF8())
		}
		got, err := w.Probe(context.Background())
		if err != nil || got != tc.want || w.UTF8() != tc.want || w.AcceptsUTF8() != (tc.want == UTF8Yes) {
			t.Errorf("%s: Probe = %v, %v; UTF8() = %v; want %v", tc.name, got, err, w.UTF8(), tc.want)
		}
		if n := len(tc.srv.Messages()); n != 0 {
			t.Errorf("%s: the probe sent %d messages", tc.name, n)
		}
	}

	// Run probes at start, without any mail to send.
	srv := smtptest.StartUTF8(t)
	w := newTestWorker(t, d, relayConfig(srv), nil)
	stop := runWorker(w)
	waitFor(t, "the start-up probe", func() bool { return w.UTF8() == UTF8Yes })
	stop()

	dev := newTestWorker(t, d, Config{From: "moteplass@localhost"}, nil)
	if !dev.AcceptsUTF8() {
		t.Error("without a relay UTF-8 addresses are refused")
	}
	if _, err := dev.Probe(context.Background()); err != nil {
		t.Errorf("Probe without a relay: %v", err)
	}
}

// The development mailbox shows a UTF-8 address as a relay with SMTPUTF8
// would get it.
func TestRawShowsUTF8Address(t *testing.T) {
	d, _ := openTestDB(t)
	m := plainMessage(1)
	m.To = "ØYVIND@example.no"
	id := mustEnqueue(t, d, m)
	raw, err := Raw(context.Background(), d.Read(), Config{From: "moteplass@localhost"}, id)
	if err != nil {
		t.Fatal(err)
	}
	if to := headerOf(t, raw, "To"); !strings.Contains(to, "<ØYVIND@example.no>") {
		t.Errorf("To: %q", to)
	}
	if s := mustGet(t, d, id); NormalizeAddress(s.To) != "øyvind@example.no" {
		t.Errorf("key %q", NormalizeAddress(s.To))
	}
}

// A From beyond ASCII would make every message need SMTPUTF8.
func TestConfigRefusesUTF8From(t *testing.T) {
	if err := (Config{From: "påmelding@example.no"}).Validate(); err == nil {
		t.Error("a From with a UTF-8 local part is accepted")
	}
	if err := (Config{From: "moteplass@møteplass.no"}).Validate(); err != nil {
		t.Errorf("a From with an international domain: %v", err)
	}
}
