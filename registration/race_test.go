package registration_test

// Many people at once, through the real router: never more confirmed
// places than seats, the waiting list in one gap-free line, no 5xx. Run
// with -race.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/registration"
)

// checkLine fails unless the event's waiting list has positions 1..n,
// asked one by one the way the manage page asks, and no address is live twice.
func checkLine(t *testing.T, a *app.App, eventID int64) (confirmed, waiting int) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range regs(t, a, eventID) {
		if r.Cancelled() {
			continue
		}
		if seen[r.EmailNorm] {
			t.Errorf("%s is registered twice", r.EmailNorm)
		}
		seen[r.EmailNorm] = true
		switch r.Status {
		case registration.StatusConfirmed:
			confirmed++
		case registration.StatusWaiting:
			waiting++
			pos, err := registration.Position(context.Background(), a.DB.Read(), r)
			if err != nil || pos != waiting || r.Position != waiting {
				t.Errorf("waiting #%d has position %d/%d (%v)", waiting, pos, r.Position, err)
			}
		}
	}
	counts(t, a, eventID) // the counts kept on the event agree
	return confirmed, waiting
}

func TestConcurrentSignUps(t *testing.T) {
	a := newApp(t)
	const seats, people = 25, 100
	ev := createEvent(t, a, capacity(seats))

	var wg sync.WaitGroup
	codes := make([]int, people)
	start := make(chan struct{})
	for i := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := apptest.NewClient(t, a.Router)
			c.Get("/events/" + ev.Slug)
			<-start
			rec := c.PostForm("/events/"+ev.Slug+"/registrations", validForm(fmt.Sprintf("Deltaker Ås %d", i), fmt.Sprintf("deltaker%d@example.no", i)))
			codes[i] = rec.Code
		}()
	}
	close(start)
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusSeeOther {
			t.Errorf("sign-up %d: status %d", i, code)
		}
	}
	confirmed, waiting := checkLine(t, a, ev.ID)
	if confirmed != seats || waiting != people-seats {
		t.Errorf("%d confirmed and %d waiting, want %d and %d", confirmed, waiting, seats, people-seats)
	}
	if api := apiEvent(t, a, ev.Slug); api.ConfirmedCount != seats || api.SeatsLeft != 0 || api.WaitlistCount != people-seats {
		t.Errorf("API %d/%d/%d", api.ConfirmedCount, api.SeatsLeft, api.WaitlistCount)
	}
	checkSignUpEmails(t, a, ev.ID)
}

// checkSignUpEmails fails unless every registration of the event got one
// email, the one for its outcome, a waiting person's with their place in
// line (emails composed ahead of the transaction guess the outcome, and a
// rush is where guesses go wrong).
func checkSignUpEmails(t *testing.T, a *app.App, eventID int64) {
	t.Helper()
	for _, r := range regs(t, a, eventID) {
		rows, err := a.DB.Read().Query(`SELECT kind, text_body, html_body, calendar FROM outbox WHERE to_address_norm = ?`, r.EmailNorm)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		var text, html, cal string
		for rows.Next() {
			var kind string
			if err := rows.Scan(&kind, &text, &html, &cal); err != nil {
				t.Fatal(err)
			}
			kinds = append(kinds, kind)
		}
		rows.Close()
		want := map[string]string{registration.StatusConfirmed: "registration_confirmed", registration.StatusWaiting: "registration_waiting"}[r.Status]
		if len(kinds) != 1 || kinds[0] != want {
			t.Errorf("%s (%s) got emails %v, want one %s", r.EmailNorm, r.Status, kinds, want)
			continue
		}
		position := fmt.Sprintf("Du er nummer %d på ventelisten.", r.Position)
		if r.Waiting() && (!strings.Contains(text, position) || !strings.Contains(html, position)) {
			t.Errorf("%s is number %d in line; the email says:\n%s", r.EmailNorm, r.Position, text)
		}
		if r.Confirmed() != strings.Contains(cal, "METHOD:REQUEST") {
			t.Errorf("%s (%s): invitation %q", r.EmailNorm, r.Status, cal)
		}
	}
}

func TestConcurrentCancelsAndPromotions(t *testing.T) {
	a := newApp(t)
	n := recordNotices(a)
	const seats = 10
	ev := createEvent(t, a, capacity(seats))
	tokens := make([]string, 30)
	for i := range tokens {
		tokens[i] = mustSignUp(t, a, ev.Slug, fmt.Sprintf("Person %d", i), fmt.Sprintf("p%d@example.no", i))
	}

	// a watcher checks every state it can see: never more confirmed than
	// seats, and never a free seat while someone waits
	var stop atomic.Bool
	var snapshots atomic.Int64
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for !stop.Load() {
			var capacity, confirmed, waiting int
			err := a.DB.Read().QueryRow(`SELECT capacity,
				(SELECT COUNT(*) FROM registrations WHERE event_id = e.id AND status = 'confirmed'),
				(SELECT COUNT(*) FROM registrations WHERE event_id = e.id AND status = 'waiting')
				FROM events e WHERE id = ?`, ev.ID).Scan(&capacity, &confirmed, &waiting)
			if err != nil {
				t.Error(err)
				return
			}
			if confirmed > capacity || (waiting > 0 && confirmed < capacity) {
				t.Errorf("seen %d confirmed, %d waiting with %d seats", confirmed, waiting, capacity)
				return
			}
			snapshots.Add(1)
		}
	}()

	var wg sync.WaitGroup
	var failures atomic.Int64
	do := func(f func() int, want int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := f(); got != want {
				failures.Add(1)
				t.Errorf("status %d, want %d", got, want)
			}
		}()
	}
	// four confirmed and four at the back of the line leave, ten newcomers
	// arrive, and the
	// organiser raises the capacity twice, all at once
	for _, i := range []int{0, 3, 5, 9, 25, 27, 28, 29} {
		do(func() int {
			return apptest.NewClient(t, a.Router).PostForm("/r/"+tokens[i]+"/cancel", url.Values{}).Code
		}, http.StatusSeeOther)
	}
	for i := range 10 {
		do(func() int {
			rec, _ := signUp(t, a, ev.Slug, validForm("Ny", fmt.Sprintf("ny%d@example.no", i)))
			return rec.Code
		}, http.StatusSeeOther)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, c := range []int{12, 15} {
			if _, err := a.Registrations.ChangeCapacity(context.Background(), ev.ID, c); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	stop.Store(true)
	<-watched

	confirmed, waiting := checkLine(t, a, ev.ID)
	// 30 + 10 - 8 live, 15 seats
	if confirmed != 15 || waiting != 17 {
		t.Errorf("%d confirmed, %d waiting; want 15 and 17", confirmed, waiting)
	}
	promoted := 0
	for _, k := range n.kinds() {
		if len(k) > 9 && k[:9] == "promoted:" {
			promoted++
		}
	}
	// 4 freed seats + 5 new seats, all taken from the waiting list (which
	// never ran dry) or by newcomers while it was empty (it never was)
	if promoted != 9 {
		t.Errorf("%d promoted, want 9", promoted)
	}
	t.Logf("%d snapshots checked", snapshots.Load())
}
