package app_test

// Two instances of the program on one PostgreSQL database, in one test
// process, as two machines behind a load balancer would run it (issue 17):
// a rush split over both, one dying in the middle of it, both mail
// workers sending, a change on one shown by the other, the background
// jobs, and the demo at a first start of both. Each test asserts what a
// person would notice: a place given twice, a sign-up lost, an email
// twice, a stale page.
//
// They run only on PostgreSQL (MOTEPLASS_TEST_DB=postgres): SQLite's file
// is one machine's.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/mail"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/pgtest"
	"github.com/moteplass/moteplass/internal/smtptest"
	"github.com/moteplass/moteplass/organisers"
	"github.com/moteplass/moteplass/registration"
)

// TestMain stops the throwaway PostgreSQL server the tests started, if any.
func TestMain(m *testing.M) { pgtest.Main(m) }

func twoInstancesOnly(t *testing.T) {
	t.Helper()
	if !pgtest.Enabled() {
		t.Skip("two instances share one database only on PostgreSQL: MOTEPLASS_TEST_DB=postgres")
	}
}

// twoApps starts two instances, A and B, on one new database.
func twoApps(t *testing.T, opt apptest.Options) [2]*app.App {
	t.Helper()
	url := pgtest.URL(t)
	return [2]*app.App{apptest.NewOn(t, url, opt), apptest.NewOn(t, url, opt)}
}

// serve runs a's background jobs and HTTP server until the test ends.
func serve(t *testing.T, a *app.App) {
	t.Helper()
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx) }()
	// registered after apptest's Close, so it runs before it
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Serve did not return")
		}
	})
}

var instanceNames = [2]string{"A", "B"}

// signUp is one person's sign-up in a rush: on which instance, and what
// the browser was answered.
type signUp struct {
	email string
	on    int // 0 is A, 1 is B
	code  int
	token string // of the manage page the browser was sent to; "" if not acknowledged
}

func (s signUp) acknowledged() bool { return s.token != "" }

// rush signs up people, person i on instance i%2, each from a browser of
// their own that opened the event page first: together at a time (all at
// once when together is people), each sign-up's goroutine going on to the
// next person as soon as it has its answer. answered, when set, is called
// with each answer as it comes, on the sign-up's goroutine.
func rush(t *testing.T, apps [2]*app.App, slug string, people, together int, answered func(signUp)) []signUp {
	t.Helper()
	browsers := make([]*apptest.Client, people)
	for i := range browsers {
		browsers[i] = apptest.NewClient(t, apps[i%2].Router)
		apptest.Want(t, browsers[i].Get("/events/"+slug), http.StatusOK)
	}
	out := make([]signUp, people)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range together {
		wg.Go(func() {
			<-start
			for i := g; i < people; i += together {
				email := fmt.Sprintf("rush.%d@example.no", i)
				rec := browsers[i].PostForm("/events/"+slug+"/registrations", apptest.SignUpForm(fmt.Sprintf("Deltaker %d", i), email))
				s := signUp{email: email, on: i % 2, code: rec.Code}
				if loc := rec.Header().Get("Location"); rec.Code == http.StatusSeeOther && strings.HasPrefix(loc, "/r/") {
					s.token = strings.TrimPrefix(loc, "/r/")
				}
				out[i] = s
				if answered != nil {
					answered(s)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	return out
}

// checkLine fails unless the event has at most seats confirmed, its
// waiting list is one line numbered 1..n without a gap (each position
// asked the way the manage page asks it), no address is registered
// twice, and the counts kept on the event (which the capacity rule reads)
// agree with its rows. It returns the live registrations by address.
func checkLine(t *testing.T, a *app.App, eventID int64, seats int) (live map[string]registration.Registration, confirmed, waiting int) {
	t.Helper()
	live = map[string]registration.Registration{}
	for _, r := range apptest.Registrations(t, a, eventID) {
		if r.Cancelled() {
			continue
		}
		if _, twice := live[r.EmailNorm]; twice {
			t.Errorf("%s is registered twice", r.EmailNorm)
		}
		live[r.EmailNorm] = r
		switch {
		case r.Confirmed():
			confirmed++
		case r.Waiting():
			waiting++
			pos, err := registration.Position(context.Background(), a.DB.Read(), r)
			if err != nil || pos != waiting || r.Position != waiting {
				t.Errorf("number %d in the waiting list has position %d, asked %d (%v)", waiting, r.Position, pos, err)
			}
		}
	}
	if confirmed > seats {
		t.Errorf("%d confirmed for %d seats", confirmed, seats)
	}
	var keptConfirmed, keptWaiting int
	if err := a.DB.Read().QueryRow(`SELECT confirmed_count, waitlist_count FROM events WHERE id = ?`, eventID).
		Scan(&keptConfirmed, &keptWaiting); err != nil {
		t.Fatal(err)
	}
	if keptConfirmed != confirmed || keptWaiting != waiting {
		t.Errorf("the event keeps %d confirmed and %d waiting; its registrations say %d and %d",
			keptConfirmed, keptWaiting, confirmed, waiting)
	}
	return live, confirmed, waiting
}

// checkAcknowledged fails unless every acknowledged sign-up is live and
// its manage link opens on the instance via(sign-up) chooses.
func checkAcknowledged(t *testing.T, signUps []signUp, live map[string]registration.Registration, via func(signUp) *app.App) {
	t.Helper()
	for _, s := range signUps {
		if !s.acknowledged() {
			continue
		}
		if _, ok := live[registration.NormalizeEmail(s.email)]; !ok {
			t.Errorf("%s was told the sign-up on %s went through; it is not in the database", s.email, instanceNames[s.on])
			continue
		}
		if rec := apptest.NewClient(t, via(s).Router).Get("/r/" + s.token); rec.Code != http.StatusOK {
			t.Errorf("%s's manage page: status %d", s.email, rec.Code)
		}
	}
}

// A rush split over two instances gives exactly the seats, puts everyone
// else in one line, and keeps every sign-up it acknowledged: each
// instance's writes are in arrival order within itself only, and the
// row locks of the SQL are what keep the two apart.
func TestTwoInstancesSplitARushWithoutOverbooking(t *testing.T) {
	twoInstancesOnly(t)
	const seats, people = 20, 120
	apps := twoApps(t, apptest.Options{})
	ev := apptest.CreateEvent(t, apps[0], func(e *events.Event) { e.Capacity = seats })

	signUps := rush(t, apps, ev.Slug, people, people, nil)
	for _, s := range signUps {
		if !s.acknowledged() {
			t.Errorf("%s on %s: status %d, want a redirect to the manage page", s.email, instanceNames[s.on], s.code)
		}
	}
	live, confirmed, waiting := checkLine(t, apps[1], ev.ID, seats)
	if confirmed != seats || waiting != people-seats || len(live) != people {
		t.Errorf("%d confirmed and %d waiting of %d live, want %d and %d of %d", confirmed, waiting, len(live), seats, people-seats, people)
	}
	// each manage link opens on the instance that did not make it
	checkAcknowledged(t, signUps, live, func(s signUp) *app.App { return apps[1-s.on] })
}

// One instance dies in the middle of a rush (its database connections go,
// as in a crash; what it was answering may fail): every sign-up either
// instance acknowledged is kept, the other serves on without a failure,
// and the seats still hold.
func TestTwoInstancesKeepEverySignUpWhenOneDiesMidRush(t *testing.T) {
	twoInstancesOnly(t)
	// a steady stream, a dozen sign-ups in flight at a time, so that A
	// dies with sign-ups before and after it (all at once, the batched
	// commits acknowledge them in a few bursts)
	const seats, people, together, killAfter = 20, 120, 12, 30
	apps := twoApps(t, apptest.Options{})
	a, b := apps[0], apps[1]
	ev := apptest.CreateEvent(t, b, func(e *events.Event) { e.Capacity = seats })

	var acks atomic.Int64
	var acksAtKill atomic.Int64
	dead := make(chan struct{})
	kill := func() {
		acksAtKill.Store(acks.Load())
		// Close waits for the transactions in flight and refuses the rest:
		// A's answers from now on are failures
		a.DB.Close()
		close(dead)
	}
	var killOnce sync.Once
	signUps := rush(t, apps, ev.Slug, people, together, func(s signUp) {
		if s.acknowledged() && acks.Add(1) == killAfter {
			killOnce.Do(func() { go kill() })
		}
	})
	<-dead

	var okA, failedA, okB int
	failures := map[int]int{} // A's answers after it died, by status
	for _, s := range signUps {
		switch {
		case s.on == 1 && !s.acknowledged():
			t.Errorf("%s on B, which stayed up: status %d, want a redirect to the manage page", s.email, s.code)
		case s.on == 1:
			okB++
		case s.acknowledged():
			okA++
		default:
			failedA++
			failures[s.code]++
		}
	}
	t.Logf("A was killed after %d acknowledgements; A acknowledged %d and failed %d (by status: %v), B acknowledged %d",
		acksAtKill.Load(), okA, failedA, failures, okB)
	if failedA == 0 {
		t.Errorf("A failed no sign-up: it died after the rush, not in the middle of it")
	}

	// B takes new sign-ups after the kill
	apptest.Want(t, apptest.NewClient(t, b.Router).Get("/events/"+ev.Slug), http.StatusOK)
	for i := range 5 {
		email := fmt.Sprintf("etter.%d@example.no", i)
		rec, _ := apptest.SignUp(t, b, ev.Slug, apptest.SignUpForm(fmt.Sprintf("Etterpå %d", i), email))
		signUps = append(signUps, signUp{email: email, on: 1, code: rec.Code, token: apptest.TokenOf(t, rec)})
	}

	live, confirmed, _ := checkLine(t, b, ev.ID, seats)
	if confirmed != seats {
		t.Errorf("%d confirmed, want all %d seats taken", confirmed, seats)
	}
	if len(live) < okA+okB+5 || len(live) > people+5 {
		t.Errorf("%d live registrations; %d were acknowledged of %d tried", len(live), okA+okB+5, people+5)
	}
	checkAcknowledged(t, signUps, live, func(signUp) *app.App { return b })
}

// With both instances' mail workers running, each email of a sign-up
// reaches the relay once: the workers claim messages in the outbox, and
// a claimed message is passed over by the other.
func TestTwoInstancesSendEveryEmailOnce(t *testing.T) {
	twoInstancesOnly(t)
	const people = 60
	relay := smtptest.Start(t)
	apps := twoApps(t, apptest.Options{Config: func(c *app.Config) {
		c.SMTPHost, c.SMTPPort, c.SMTPTLS = "127.0.0.1", relay.Port, "none"
		c.MailFrom = "moteplass@moteplass.example.no"
	}})
	serve(t, apps[0])
	serve(t, apps[1])
	ev := apptest.CreateEvent(t, apps[0], func(e *events.Event) { e.Capacity = people })

	signUps := rush(t, apps, ev.Slug, people, people, nil)
	want := map[string]bool{}
	for _, s := range signUps {
		if !s.acknowledged() {
			t.Fatalf("%s on %s: status %d", s.email, instanceNames[s.on], s.code)
		}
		want[s.email] = true
	}
	var queued int
	if err := apps[0].DB.Read().QueryRow(`SELECT COUNT(*) FROM outbox`).Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if queued != people {
		t.Fatalf("%d emails queued for %d sign-ups, want one each", queued, people)
	}

	waitFor(t, 30*time.Second, fmt.Sprintf("the relay to receive %d emails", people), func() bool {
		return len(relay.Messages()) >= people
	})
	waitFor(t, 10*time.Second, "every email to be recorded sent", func() bool {
		var unsent int
		err := apps[1].DB.Read().QueryRow(`SELECT COUNT(*) FROM outbox WHERE status <> 'sent'`).Scan(&unsent)
		return err == nil && unsent == 0
	})
	// a second copy would come from the other worker at about the same
	// time, or a lease later (50 s: longer than a test waits); a short
	// while shows the first kind
	time.Sleep(time.Second)

	byID, byRecipient := map[string]int{}, map[string]int{}
	msgs := relay.Messages()
	for _, m := range msgs {
		h, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		byID[h.Header.Get("Message-Id")]++
		for _, to := range m.To {
			byRecipient[to]++
		}
		if subject, err := new(mime.WordDecoder).DecodeHeader(h.Header.Get("Subject")); err != nil || !strings.Contains(subject, ev.Title) {
			t.Errorf("an email to %v is about %q (%v)", m.To, subject, err)
		}
	}
	if len(msgs) != people {
		t.Errorf("the relay received %d emails for %d sign-ups", len(msgs), people)
	}
	for id, n := range byID {
		if n != 1 || id == "" {
			t.Errorf("Message-ID %q arrived %d times", id, n)
		}
	}
	for to, n := range byRecipient {
		if n != 1 || !want[to] {
			t.Errorf("%s got %d emails (signed up: %v)", to, n, want[to])
		}
	}
	if len(byRecipient) != people {
		t.Errorf("%d of %d people got their email", len(byRecipient), people)
	}
}

// waitFor polls cond until it holds, or fails the test after within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An organiser's change on one instance is on the other's pages within a
// second: its page cache is keyed on the database generation, which the
// other's commits move through LISTEN/NOTIFY (without that, a cached page
// would stay for its 30 s).
func TestTwoInstancesShowACapacityChangeOnTheOtherWithinASecond(t *testing.T) {
	twoInstancesOnly(t)
	apps := twoApps(t, apptest.Options{})
	a, b := apps[0], apps[1]
	serve(t, a)
	serve(t, b)
	ev := apptest.CreateEvent(t, a, func(e *events.Event) { e.Capacity = 10 })

	page := func() string {
		rec := apptest.NewClient(t, b.Router).Get("/events/" + ev.Slug)
		apptest.Want(t, rec, http.StatusOK)
		return apptest.Text(rec.Body.Bytes())
	}
	apiCapacity := func() int {
		rec := apptest.NewClient(t, b.Router).Get("/api/v1/events/" + ev.Slug)
		apptest.Want(t, rec, http.StatusOK)
		var out events.APIEvent
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return out.Capacity
	}
	const before, after = "10 av 10 plasser er ledige.", "25 av 25 plasser er ledige."
	// B renders the page once and serves it from its cache after
	for range 2 {
		if text := page(); !strings.Contains(text, before) {
			t.Fatalf("B's page before the change does not say %q: %.600s", before, text)
		}
	}
	if got := apiCapacity(); got != 10 {
		t.Fatalf("B's API says capacity %d before the change", got)
	}

	admin := adminOn(t, a)
	form := apptest.EditForm(ev)
	form.Set("capacity", "25")
	// the form asks for a place (CreateEvent makes the event without one)
	form.Set("venue_name", "Media City Bergen")
	form.Set("venue_city", "Bergen")
	// measured from when the organiser is told it is saved (the commit is
	// before that); the save itself is logged beside it
	saving := time.Now()
	apptest.Want(t, admin.PostForm(fmt.Sprintf("/admin/events/%d", ev.ID), form), http.StatusSeeOther)
	saved := time.Now()

	// each time is taken when the poll that first saw the change has its
	// answer: an upper bound
	var pageAt, apiAt time.Duration
	pageSeen, apiSeen := false, false
	for !pageSeen || !apiSeen {
		if time.Since(saved) > 5*time.Second {
			t.Fatalf("after 5 s B still shows the old capacity (page changed: %v, API: %v)", pageSeen, apiSeen)
		}
		if !pageSeen && strings.Contains(page(), after) {
			pageAt, pageSeen = time.Since(saved), true
		}
		if !apiSeen && apiCapacity() == 25 {
			apiAt, apiSeen = time.Since(saved), true
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("B shows the change %v (page) and %v (API) after A's save answered; the save took %v",
		pageAt.Round(time.Microsecond), apiAt.Round(time.Microsecond), saved.Sub(saving).Round(time.Microsecond))
	if pageAt > time.Second || apiAt > time.Second {
		t.Errorf("B showed the change after %v (page) and %v (API), want within a second", pageAt, apiAt)
	}
}

// adminOn is a browser logged in as an administrator on a.
func adminOn(t *testing.T, a *app.App) *apptest.Client {
	t.Helper()
	// a copy with cheap hashing: the serving app reads its own store's cost
	cheap := *a.Accounts
	cheap.BcryptCost = 4
	ctx := context.Background()
	u := organisers.User{Email: "admin@instanser.example.no", Name: "Ada Admin", Role: organisers.RoleAdmin}
	if err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		return cheap.CreateUser(ctx, tx, now, &u, "et-langt-passord-1234")
	}); err != nil {
		t.Fatal(err)
	}
	return apptest.Login(t, a.Router, u.Email, "et-langt-passord-1234")
}

// jobRun is one run of a test's job.
type jobRun struct {
	on         string
	start, end time.Time
}

// Two instances running the same job run it once per interval between
// them, never both at once: each run is claimed in the jobs table first.
func TestTwoInstancesRunAJobOncePerInterval(t *testing.T) {
	twoInstancesOnly(t)
	apps := twoApps(t, apptest.Options{})
	const interval, window = 300 * time.Millisecond, 2 * time.Second
	var (
		mu      sync.Mutex
		runs    []jobRun
		running atomic.Int32
	)
	job := func(on string) func(context.Context) error {
		return func(context.Context) error {
			if running.Add(1) > 1 {
				t.Errorf("%s runs the job while the other instance does", on)
			}
			r := jobRun{on: on, start: time.Now()}
			time.Sleep(20 * time.Millisecond) // a run takes a while
			r.end = time.Now()
			running.Add(-1)
			mu.Lock()
			runs = append(runs, r)
			mu.Unlock()
			return nil
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i, a := range apps {
		wg.Go(func() { a.Every("test-job", interval, job(instanceNames[i]))(ctx) })
	}
	time.Sleep(window)
	cancel()
	wg.Wait()

	sort.Slice(runs, func(i, j int) bool { return runs[i].start.Before(runs[j].start) })
	per := map[string]int{}
	for _, r := range runs {
		per[r.on]++
	}
	t.Logf("%d runs in %v at an interval of %v: %d on A, %d on B", len(runs), window, interval, per["A"], per["B"])
	if len(runs) < 3 {
		t.Errorf("%d runs in %v, want about one every %v", len(runs), window, interval)
	}
	// a run is due an interval (less the slack) after the last one ended,
	// by the same clock; a millisecond for the database's rounding
	least := interval - app.JobSlack(interval) - time.Millisecond
	for k := 1; k < len(runs); k++ {
		if gap := runs[k].start.Sub(runs[k-1].end); gap < least {
			t.Errorf("run %d (on %s) started %v after run %d (on %s) ended, want at least %v",
				k, runs[k].on, gap, k-1, runs[k-1].on, least)
		}
	}
}

// An instance that stops in the middle of a job's run: a shutdown lets go
// of its claim, so the other runs the job at its next look; a crash
// leaves the claim, and the other takes the job over once the lease has
// run out, not before.
func TestTwoInstancesTakeOverAJobFromAnInstanceThatStops(t *testing.T) {
	twoInstancesOnly(t)
	for _, tc := range []struct {
		name      string
		lease     time.Duration
		stop      func(a *app.App, cancel context.CancelFunc)
		claimLeft bool
	}{
		{"shutdown lets go at once", time.Minute, func(a *app.App, cancel context.CancelFunc) { cancel() }, false},
		{"crash is taken over after the lease", time.Second, func(a *app.App, cancel context.CancelFunc) {
			a.DB.Close() // first: the run cannot record anything
			cancel()
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app.SetJobLease(t, tc.lease)
			apps := twoApps(t, apptest.Options{})
			a, b := apps[0], apps[1]
			const interval = 200 * time.Millisecond

			// A claims the job and is in its run when it stops
			ctxA, cancelA := context.WithCancel(context.Background())
			inRun := make(chan struct{})
			stoppedA := make(chan struct{})
			go func() {
				defer close(stoppedA)
				a.Every("test-job", interval, func(ctx context.Context) error {
					close(inRun)
					<-ctx.Done()
					return ctx.Err()
				})(ctxA)
			}()
			<-inRun
			tc.stop(a, cancelA)
			<-stoppedA

			var holder string
			var leaseUntil sql.NullTime
			if err := b.DB.Read().QueryRow(`SELECT holder, lease_until FROM jobs WHERE name = 'test-job'`).
				Scan(&holder, &leaseUntil); err != nil {
				t.Fatal(err)
			}
			if left := holder == a.Instance() && leaseUntil.Valid; left != tc.claimLeft {
				t.Fatalf("after A stopped the job's holder is %q (A is %q), lease until %v; want the claim left: %v",
					holder, a.Instance(), leaseUntil, tc.claimLeft)
			}

			ctxB, cancelB := context.WithCancel(context.Background())
			ranB := make(chan time.Time, 1)
			stoppedB := make(chan struct{})
			go func() {
				defer close(stoppedB)
				b.Every("test-job", interval, func(context.Context) error {
					select {
					case ranB <- time.Now():
					default:
					}
					return nil
				})(ctxB)
			}()
			defer func() { cancelB(); <-stoppedB }()
			var at time.Time
			select {
			case at = <-ranB:
			case <-time.After(tc.lease + 5*time.Second):
				t.Fatalf("B did not run the job within %v of A's stop", tc.lease+5*time.Second)
			}
			if tc.claimLeft && at.Before(leaseUntil.Time) {
				t.Errorf("B ran the job at %v, before A's lease ran out at %v", at, leaseUntil.Time)
			}
		})
	}
}

// Two instances started at the same moment on an empty database load the
// demo once between them, and both start: the second waits for the
// first's load and finds it done.
func TestTwoInstancesStartingTogetherLoadTheDemoOnce(t *testing.T) {
	twoInstancesOnly(t)
	counts := func(d *sql.DB) string {
		var evs, users, regs int
		if err := d.QueryRow(`SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM users),
			(SELECT COUNT(*) FROM registrations)`).Scan(&evs, &users, &regs); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d events, %d logins, %d registrations", evs, users, regs)
	}
	single := apptest.NewOn(t, pgtest.URL(t), apptest.Options{Demo: true})
	want := counts(single.DB.Read())

	url := pgtest.URL(t)
	cfg := app.DefaultConfig()
	cfg.DB, cfg.Addr, cfg.Demo, cfg.SignupRate = url, "127.0.0.1:0", "auto", 0
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var (
		apps  [2]*app.App
		errs  [2]error
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range apps {
		wg.Go(func() {
			<-start
			apps[i], errs[i] = app.NewApp(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
		})
	}
	close(start)
	wg.Wait()
	for i, a := range apps {
		if a != nil {
			t.Cleanup(func() { a.Close() })
		}
		if errs[i] != nil {
			t.Errorf("%s did not start: %v", instanceNames[i], errs[i])
		}
	}
	if t.Failed() {
		return
	}
	if got := counts(apps[0].DB.Read()); got != want {
		t.Errorf("two instances starting together hold %s; one alone loads %s", got, want)
	}
	// and both serve it
	for i, a := range apps {
		rec := apptest.NewClient(t, a.Router).Get("/events/regional-topplederkonferanse-trondheim")
		if rec.Code != http.StatusOK {
			t.Errorf("%s: the demo event's page: status %d", instanceNames[i], rec.Code)
		}
	}
}
