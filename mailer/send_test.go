package mailer

// Tests of sending, against the test SMTP server (smtpserver_test.go):
// the MIME of what arrives, and refusals, failures and retries.

import (
	"context"
	"database/sql"
	"fmt"
	"mime"
	"net"
	"strings"
	"testing"
	"time"
)

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
