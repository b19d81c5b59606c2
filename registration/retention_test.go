package registration_test

// Retention with an injected clock (a.DB.Now): registrations are
// anonymised exactly when their event ended more than Days ago, the
// organisers' figures stay, sent mail and expired links go. Helpers are
// prefixed pv (privacy_test.go).

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/registration"
)

// pvPeople signs up a mix of levels and sectors for an event, cancels one
// and checks one in, and returns the manage tokens.
func pvPeople(t *testing.T, a *app.App, ev events.Event, prefix string) []string {
	t.Helper()
	var tokens []string
	for i, p := range []struct{ name, level, sector string }{
		{"Anne", "top", "state"}, {"Bjørn", "middle", "municipal"}, {"Cecilie", "first_line", "private"},
		{"Dag", "middle", "state"}, {"Eva", "other", "other"},
	} {
		email := strings.ToLower(prefix+"."+p.name) + "@example.no"
		email = strings.NewReplacer("ø", "o").Replace(email)
		rec, _ := signUp(t, a, ev.Slug, with(validForm(prefix+" "+p.name, email), "level", p.level, "sector", p.sector))
		tokenOf(t, rec)
		tokens = append(tokens, mailedToken(t, a, email, ev.Slug))
		if i == 3 {
			cl := apptest.NewClient(t, a.Router)
			cl.Get("/r/" + tokens[i])
			apptest.Want(t, cl.PostForm("/r/"+tokens[i]+"/cancel", url.Values{}), http.StatusSeeOther)
		}
	}
	// attendance, as the check-in page records it
	if err := a.DB.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error {
		_, err := tx.Exec(`UPDATE registrations SET checked_in_at = ? WHERE event_id = ? AND name = ?`, now, ev.ID, prefix+" Anne")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return tokens
}

func pvCount(t testing.TB, a *app.App, query string, args ...any) int {
	t.Helper()
	var n int
	if err := a.DB.Read().QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestRetentionAnonymisesEventsPastTheLimit(t *testing.T) {
	a, _ := pvMailApp(t)
	ctx := context.Background()
	t0 := fixedClock(a, time.Now().UTC().Truncate(time.Second))
	// two events two days apart: at the end of the test one ended 181 days
	// ago, the other 179
	old := createEvent(t, a, func(e *events.Event) { e.StartsAt, e.EndsAt = t0.Add(24*time.Hour), t0.Add(26*time.Hour) })
	recent := createEvent(t, a, func(e *events.Event) { e.StartsAt, e.EndsAt = t0.Add(72*time.Hour), t0.Add(74*time.Hour) })
	oldTokens := pvPeople(t, a, old, "Gammel")
	recentTokens := pvPeople(t, a, recent, "Fersk")
	pvSendAll(t, a)
	statsOld, statsRecent := pvStats(t, a, old.ID), pvStats(t, a, recent.ID)
	if !strings.Contains(statsOld, "checked-in=1") || !strings.Contains(statsOld, "cancelled") {
		t.Fatalf("the figures need attendance and a cancellation:\n%s", statsOld)
	}
	sent := pvCount(t, a, `SELECT COUNT(*) FROM outbox WHERE status = 'sent'`)
	if sent == 0 {
		t.Fatal("no sent mail to prune")
	}
	retention := registration.NewRetention(a.Registrations, 180)

	t.Run("70 days after: nothing anonymised, expired links kept for a while", func(t *testing.T) {
		fixedClock(a, recent.EndsAt.Add(70*24*time.Hour)) // links expired 10 days ago
		got, err := retention.Apply(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Registrations != 0 || got.Events != 0 {
			t.Errorf("anonymised %+v", got)
		}
		if got.Mail != int64(sent) {
			t.Errorf("pruned %d messages, want every sent one (%d): sent more than 30 days ago", got.Mail, sent)
		}
		if n := pvCount(t, a, `SELECT COUNT(*) FROM manage_tokens`); n < len(oldTokens)+len(recentTokens) {
			t.Errorf("%d manage tokens left: expired less than 30 days ago, they should stay", n)
		}
		// an expired link says so
		apptest.Want(t, apptest.NewClient(t, a.Router).Get("/r/"+recentTokens[0]), http.StatusGone)
	})

	t.Run("181 and 179 days after", func(t *testing.T) {
		fixedClock(a, old.EndsAt.Add(181*24*time.Hour))
		if d := a.DB.Now().Sub(recent.EndsAt); d != 179*24*time.Hour {
			t.Fatalf("the recent event ended %v ago", d)
		}
		got, err := retention.Apply(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Events != 1 || got.Registrations != 5 {
			t.Errorf("anonymised %+v, want the 5 registrations of one event", got)
		}
		for _, r := range regs(t, a, old.ID) {
			if r.Name != registration.ErasedName || r.Email != registration.ErasedEmail(r.ID) || r.EmailNorm != registration.ErasedEmail(r.ID) ||
				r.Organisation != "" || r.Role != "" || r.Phone != "" || r.Dietary != "" || r.Region != "" || r.Topics != "" {
				t.Errorf("not anonymised: %+v", r)
			}
		}
		if n := pvCount(t, a, `SELECT COUNT(*) FROM registrations WHERE event_id = ? AND anonymised_at IS NULL`, old.ID); n != 0 {
			t.Errorf("%d registrations of the old event without anonymised_at", n)
		}
		for _, r := range regs(t, a, recent.ID) {
			if !strings.HasPrefix(r.Name, "Fersk ") || !strings.HasSuffix(r.Email, "@example.no") || r.Phone == "" {
				t.Errorf("the recent event's registration changed: %+v", r)
			}
		}
		if s := pvStats(t, a, old.ID); s != statsOld {
			t.Errorf("figures of the old event:\n%s\nwant\n%s", s, statsOld)
		}
		if s := pvStats(t, a, recent.ID); s != statsRecent {
			t.Errorf("figures of the recent event:\n%s\nwant\n%s", s, statsRecent)
		}
		found := pvScan(t, a, "Gammel", "gammel.")
		if len(found) > 0 {
			t.Errorf("the old event's people are still in %v", found)
		}
		if found := pvScan(t, a, "Fersk"); len(found["Fersk"]) == 0 {
			t.Error("the scan does not see the recent event's people")
		}
		// every link of the old event went with anonymisation; the recent
		// ones expired 119 days ago, more than 30
		if n := pvCount(t, a, `SELECT COUNT(*) FROM manage_tokens`); n != 0 {
			t.Errorf("%d manage tokens left", n)
		}
		var detail string
		a.DB.Read().QueryRow(`SELECT detail FROM audit_log WHERE action = 'retention' AND object_id = ? AND detail LIKE 'anonymised%'`, old.ID).Scan(&detail)
		if !strings.Contains(detail, "anonymised 5 registrations") {
			t.Errorf("audit: %q", detail)
		}
	})

	t.Run("a second run changes nothing", func(t *testing.T) {
		gen := a.DB.Generation()
		got, err := retention.Apply(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != (registration.Retained{}) {
			t.Errorf("second run: %+v", got)
		}
		if a.DB.Generation() != gen+1 {
			t.Errorf("%d writes, want only the prune's transaction", a.DB.Generation()-gen)
		}
	})

	t.Run("the recent event goes a day later", func(t *testing.T) {
		fixedClock(a, recent.EndsAt.Add(180*24*time.Hour+time.Minute))
		got, err := retention.Apply(ctx)
		if err != nil || got.Registrations != 5 {
			t.Fatalf("%+v, %v", got, err)
		}
		if found := pvScan(t, a, "Fersk", "fersk."); len(found) > 0 {
			t.Errorf("still there: %v", found)
		}
	})
}

func TestRetentionRefusesNoLimit(t *testing.T) {
	a := newApp(t)
	if _, err := registration.NewRetention(a.Registrations, 0).Apply(context.Background()); err == nil {
		t.Error("a retention of 0 days ran")
	}
}
