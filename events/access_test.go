package events_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/organisers"
)

// TestForUser is the one answer to "may this user manage (or check in at)
// this event", read from the pool for a page and inside a transaction for
// a change: the event whole when allowed; another organisation's event and
// one that does not exist answer alike (403) to all but an admin, who
// learns that it does not exist.
func TestForUser(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	ctx := context.Background()
	admin, organiser, checkin := chUser(t, a, admAdmin), chUser(t, a, admOrganiser), chUser(t, a, admCheckIn)
	own, other := chEventOf(t, a, "dfo"), chEventOf(t, a, "nhh")
	const missing = 1 << 40
	for _, c := range []struct {
		name string
		u    *organisers.User
		id   int64
		need organisers.Need
		want error // nil: the event
	}{
		{"an organiser manages their own organisation's event", organiser, own.ID, organisers.Manage, nil},
		{"an organiser checks in at it", organiser, own.ID, organisers.CheckIn, nil},
		{"a volunteer checks in at it", checkin, own.ID, organisers.CheckIn, nil},
		{"a volunteer does not manage it", checkin, own.ID, organisers.Manage, organisers.ErrForbidden},
		{"an organiser does not manage another organisation's", organiser, other.ID, organisers.Manage, organisers.ErrForbidden},
		{"a volunteer does not check in at another organisation's", checkin, other.ID, organisers.CheckIn, organisers.ErrForbidden},
		{"an event that does not exist is another organisation's", organiser, missing, organisers.Manage, organisers.ErrForbidden},
		{"an id of 0 likewise", checkin, 0, organisers.CheckIn, organisers.ErrForbidden},
		{"an admin manages every event", admin, other.ID, organisers.Manage, nil},
		{"an admin learns that one does not exist", admin, missing, organisers.Manage, events.ErrNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			check := func(where string, ev events.Event, err error) {
				t.Helper()
				switch {
				case c.want != nil && !errors.Is(err, c.want):
					t.Errorf("%s: %v, want %v", where, err, c.want)
				case c.want != nil && ev.ID != 0:
					t.Errorf("%s: refused, but the event came back", where)
				case c.want == nil && (err != nil || ev.ID != c.id || len(ev.Agenda) == 0 || ev.Organiser.ID == 0):
					t.Errorf("%s: %v, event %d with %d agenda items", where, err, ev.ID, len(ev.Agenda))
				}
			}
			ev, err := events.ForUser(ctx, a.DB.Read(), c.u, c.id, c.need)
			check("read", ev, err)
			err = a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
				ev, err := events.ForUser(ctx, tx, c.u, c.id, c.need)
				check("in a transaction", ev, err)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
