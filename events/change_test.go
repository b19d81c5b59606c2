package events_test

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/organisers"
)

// chUser reads a demo user by email.
func chUser(t testing.TB, a *app.App, email string) *organisers.User {
	t.Helper()
	var u organisers.User
	var org sql.NullInt64
	if err := a.DB.Read().QueryRow(`SELECT id, email, role, organiser_id FROM users WHERE email = ?`, email).
		Scan(&u.ID, &u.Email, &u.Role, &org); err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	u.OrganiserID = org.Int64
	return &u
}

// chEventOf is a published demo event of the organiser with slug.
func chEventOf(t testing.TB, a *app.App, slug string) events.Event {
	t.Helper()
	var id int64
	if err := a.DB.Read().QueryRow(`SELECT e.id FROM events e JOIN organisers o ON o.id = e.organiser_id
		WHERE o.slug = ? AND e.status = 'published' ORDER BY e.id LIMIT 1`, slug).Scan(&id); err != nil {
		t.Fatalf("an event of %s: %v", slug, err)
	}
	return admEvent(t, a, id)
}

// TestStoreChange calls the one function of an organiser's change without
// the pages: who may change what, before and after the edit; an edit's
// error comes back as it is; nothing is written unless all of it is.
func TestStoreChange(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	store := &events.Store{DB: a.DB}
	organiser, admin := chUser(t, a, admOrganiser), chUser(t, a, admAdmin)
	own, other := chEventOf(t, a, "dfo"), chEventOf(t, a, "nhh")
	change := func(who *organisers.User, id int64, edit func(*events.Event) error) (events.Change, error) {
		var ch events.Change
		err := a.DB.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error {
			var err error
			ch, err = store.Change(context.Background(), tx, now, who, id, "event_update", edit)
			return err
		})
		return ch, err
	}
	unchanged := func(t *testing.T, ev events.Event) {
		t.Helper()
		if got := admEvent(t, a, ev.ID); !got.UpdatedAt.Equal(ev.UpdatedAt) || got.Organiser.ID != ev.Organiser.ID || got.Title != ev.Title {
			t.Errorf("event %d was changed: %q of organiser %d", ev.ID, got.Title, got.Organiser.ID)
		}
		if n, _ := admAudit(t, a, "event_update", "event", ev.ID); n != 0 {
			t.Errorf("%d audit rows for a change that did not happen", n)
		}
	}

	t.Run("another organisation's event: refused before the edit", func(t *testing.T) {
		_, err := change(organiser, other.ID, func(*events.Event) error {
			t.Error("the edit ran on another organisation's event")
			return nil
		})
		if !errors.Is(err, organisers.ErrForbidden) {
			t.Errorf("err = %v, want ErrForbidden", err)
		}
		unchanged(t, other)
	})
	t.Run("giving the event to another organisation: refused after the edit", func(t *testing.T) {
		_, err := change(organiser, own.ID, func(ev *events.Event) error {
			ev.Organiser, ev.Title = other.Organiser, "Overtatt"
			return nil
		})
		if !errors.Is(err, organisers.ErrForbidden) {
			t.Errorf("err = %v, want ErrForbidden", err)
		}
		unchanged(t, own)
	})
	t.Run("the edit's own error", func(t *testing.T) {
		stop := errors.New("the form no longer fits")
		_, err := change(organiser, own.ID, func(ev *events.Event) error {
			ev.Title = "Halvveis"
			return stop
		})
		if !errors.Is(err, stop) {
			t.Errorf("err = %v, want the edit's", err)
		}
		unchanged(t, own)
	})
	t.Run("an event that does not exist", func(t *testing.T) {
		edit := func(*events.Event) error { return nil }
		if _, err := change(organiser, 1<<40, edit); !errors.Is(err, organisers.ErrForbidden) {
			t.Errorf("organiser: err = %v, want ErrForbidden (ids cannot be probed)", err)
		}
		if _, err := change(admin, 1<<40, edit); !errors.Is(err, events.ErrNotFound) {
			t.Errorf("admin: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("a move: saved, the sequence raised, the audit says what", func(t *testing.T) {
		ch, err := change(organiser, own.ID, func(ev *events.Event) error {
			ev.StartsAt, ev.EndsAt = ev.StartsAt.Add(time.Hour), ev.EndsAt.Add(time.Hour)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got := admEvent(t, a, own.ID)
		if !got.StartsAt.Equal(own.StartsAt.Add(time.Hour)) || got.Sequence != own.Sequence+1 || ch.After.Sequence != got.Sequence {
			t.Errorf("starts %s, sequence %d (the change says %d), was %s and %d", got.StartsAt, got.Sequence, ch.After.Sequence, own.StartsAt, own.Sequence)
		}
		if n, detail := admAudit(t, a, "event_update", "event", own.ID); n != 1 || detail != "time, sequence "+strconv.Itoa(own.Sequence+1) {
			t.Errorf("audit: %d rows, %q", n, detail)
		}
	})
}
