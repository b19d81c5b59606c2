package mailer

// Tests of Enqueue: what it refuses, international domains, the dedupe
// key, and a rolled-back transaction that sends nothing.

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/db"
)

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
