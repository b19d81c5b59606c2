package mailer

// Tests of the read side: the outbox's messages listed and looked up.

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

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
