package registration_test

import (
	"context"
	"testing"

	"github.com/moteplass/moteplass/privacy"
)

// TestSeatCountsFollowEveryChange changes registrations every way the
// product does, and a few ways only a maintainer would (straight SQL), and
// checks after each step that the counts the triggers keep on the event
// match its rows. The capacity rule reads those counts, so a drift would
// overbook or turn people away.
func TestSeatCountsFollowEveryChange(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	ev := createEvent(t, a, capacity(2))
	other := createEvent(t, a, capacity(5))
	for _, email := range []string{"a@example.no", "b@example.no", "c@example.no", "d@example.no"} {
		mustSignUp(t, a, ev.Slug, "Åse Øvrebø", email)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := a.DB.Write().ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name                 string
		do                   func()
		confirmed, waiting   int
		otherConf, otherWait int
	}{
		{"signed up: two places, two waiting", func() {}, 2, 2, 0, 0},
		{"a confirmed person cancels, the first waiting is promoted", func() {
			if _, _, err := a.Registrations.Cancel(ctx, byEmail(t, a, ev.ID, "a@example.no").ID); err != nil {
				t.Fatal(err)
			}
		}, 2, 1, 0, 0},
		{"the organiser raises the capacity", func() {
			if _, err := a.Registrations.ChangeCapacity(ctx, ev.ID, 4); err != nil {
				t.Fatal(err)
			}
		}, 3, 0, 0, 0},
		{"a person erases their data", func() {
			if _, err := a.Privacy.Erase(ctx, "b@example.no", privacy.EraseOptions{}); err != nil {
				t.Fatal(err)
			}
		}, 2, 0, 0, 0},
		{"a status changed by hand", func() {
			exec(`UPDATE registrations SET status = 'waiting' WHERE email_norm = 'c@example.no'`)
		}, 1, 1, 0, 0},
		{"a registration moved to another event by hand", func() {
			exec(`UPDATE registrations SET event_id = ? WHERE email_norm = 'c@example.no'`, other.ID)
		}, 1, 0, 0, 1},
		{"a registration deleted by hand", func() {
			exec(`DELETE FROM registrations WHERE email_norm = 'd@example.no'`)
		}, 0, 0, 0, 1},
		{"signing up again after all that", func() {
			mustSignUp(t, a, ev.Slug, "Ola Nordmann", "e@example.no")
		}, 1, 0, 0, 1},
	}
	for _, s := range steps {
		s.do()
		c, w := counts(t, a, ev.ID)
		oc, ow := counts(t, a, other.ID)
		if c != s.confirmed || w != s.waiting || oc != s.otherConf || ow != s.otherWait {
			t.Errorf("%s: %d confirmed, %d waiting (other event %d, %d); want %d, %d (%d, %d)",
				s.name, c, w, oc, ow, s.confirmed, s.waiting, s.otherConf, s.otherWait)
		}
	}
	exec(`DELETE FROM events WHERE id = ?`, other.ID) // cascades to its registrations
	counts(t, a, ev.ID)
}
