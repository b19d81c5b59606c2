// Command rush is a sign-up rush: N people sign up at once for an event with
// C seats, and afterwards the database must show exactly C confirmed, N−C
// waiting in one gap-free line, no address twice, and no request may have
// got a 5xx.
//
// Against a running server (start it with MOTEPLASS_SIGNUP_RATE=0, or the
// rate limit answers most requests with 429), from the same folder:
//
//	MOTEPLASS_SIGNUP_RATE=0 go run ./cmd/moteplass
//	go run ./cmd/rush -n 2000 -seats 500 -c 64
//
// It creates the event in the database file itself (or takes -event SLUG),
// opens c browser-like clients that each GET the event page for a CSRF
// cookie and token, then POSTs the n sign-ups from them, c at a time.
//
// Then, in the same run (unless -compare=false), it measures the limit HTTP
// is compared with: the same database work without HTTP, one transaction
// per sign-up (capacity check + insert + manage token, through db.Open and
// registration.Service.Register, with the same durability settings), at
// the same concurrency, on a new database file, and prints the two side by
// side. That part alone:
//
//	rush -raw -n 2000 -seats 500 -c 64
//
// -raw -group lets the sign-ups share commits as the server does, -raw
// -mail queues each confirmation email as a server that sends mail does.
//
// On PostgreSQL, -db is the servers' URL and the raw part runs on the same
// server (an event of its own); -url may list several instances of one
// database, comma-separated, and the clients are spread over them:
//
//	rush -db postgres://… -url http://127.0.0.1:8081,http://127.0.0.1:8082
//
// It only ever talks to the -url given, which should be on the loopback
// interface; the run is bounded by -n and -timeout.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/loadgen"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/registration"
	"github.com/moteplass/moteplass/templates"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	url, dbPath, slug, cpuprofile string
	n, seats, c                   int
	raw, mail, group, compare     bool
	timeout                       time.Duration
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("rush", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "the running server (loopback); several instances of one database comma-separated, the clients spread over them")
	fs.StringVar(&o.dbPath, "db", "", "its database: a file (default moteplass.db, the server's default; -raw: a new file in a temporary folder) or a postgres:// URL")
	fs.StringVar(&o.slug, "event", "", "sign up for this event instead of creating one (its seats must all be free)")
	fs.IntVar(&o.n, "n", 2000, "sign-ups")
	fs.IntVar(&o.seats, "seats", 500, "seats of the event created")
	fs.IntVar(&o.c, "c", 64, "concurrent clients")
	fs.BoolVar(&o.raw, "raw", false, "no HTTP: the same transactions straight on the database")
	fs.BoolVar(&o.mail, "mail", false, "-raw: also queue each confirmation email in the outbox (registration.Mail), as a server that sends mail does")
	fs.BoolVar(&o.group, "group", false, "-raw: let concurrent sign-ups share a commit, as the server does (db.Batch); off, one transaction each")
	fs.BoolVar(&o.compare, "compare", true, "after the HTTP rush, run the raw one (-raw, one transaction each) on a new database and print the two side by side")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "stop after this long")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the run to this file (-raw: includes the database work)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.n < 1 || o.c < 1 || o.seats < 0 {
		fmt.Fprintln(stderr, "rush: -n and -c must be at least 1, -seats at least 0")
		return 2
	}
	if o.dbPath == "" && !o.raw {
		o.dbPath = "moteplass.db"
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "rush:", err)
			return 1
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}

	res, code := rush(ctx, o, stdout, stderr)
	if code != 0 || o.raw || !o.compare {
		return code
	}
	fmt.Fprintln(stdout)
	limit := o
	limit.raw, limit.mail, limit.group, limit.slug = true, false, false, ""
	// On SQLite the raw rush gets a file of its own; a PostgreSQL server is
	// shared, so the raw rush runs on the same one (an event of its own).
	if db.DialectOf(o.dbPath) == db.SQLite {
		limit.dbPath = ""
	}
	rawRes, code := rush(ctx, limit, stdout, stderr)
	if code != 0 {
		return code
	}
	fmt.Fprintf(stdout, "\nside by side: HTTP %.0f sign-ups/s is %.0f%% of the raw limit's %.0f/s (target: 50%% or more); "+
		"HTTP p99 %s at %d clients (target: under 100 ms)\n",
		res.PerSecond(), 100*res.PerSecond()/rawRes.PerSecond(), rawRes.PerSecond(), res.Percentile(99).Round(100*time.Microsecond), o.c)
	return 0
}

// rush runs one rush (HTTP or raw) and checks its outcome in the database;
// it returns the result and the exit status.
func rush(ctx context.Context, o options, stdout, stderr io.Writer) (loadgen.Result, int) {
	if o.dbPath == "" {
		dir, err := os.MkdirTemp("", "rush-")
		if err != nil {
			fmt.Fprintln(stderr, "rush:", err)
			return loadgen.Result{}, 1
		}
		defer os.RemoveAll(dir)
		o.dbPath = filepath.Join(dir, "raw.db")
	}
	d, err := db.Open(ctx, o.dbPath)
	if err != nil {
		fmt.Fprintln(stderr, "rush:", err)
		return loadgen.Result{}, 1
	}
	defer d.Close()
	ev, err := prepareEvent(ctx, d, o)
	if err != nil {
		fmt.Fprintln(stderr, "rush:", err)
		return loadgen.Result{}, 1
	}
	o.seats = ev.Capacity
	if ev.ConfirmedCount+ev.WaitlistCount > 0 {
		fmt.Fprintf(stderr, "rush: %s already has registrations; the checks need an event nobody has signed up for\n", ev.Slug)
		return loadgen.Result{}, 2
	}
	fmt.Fprintf(stdout, "event %s: %d seats, %d sign-ups from %d clients (%s)\n", ev.Slug, ev.Capacity, o.n, o.c,
		map[bool]string{true: "raw: database only", false: "HTTP: " + o.url}[o.raw])

	var res loadgen.Result
	var tally *tally
	if o.raw {
		res, tally = rushRaw(ctx, d, ev, o)
	} else {
		res, tally, err = rushHTTP(ctx, ev, o)
		if err != nil {
			fmt.Fprintln(stderr, "rush:", err)
			return res, 1
		}
	}
	fmt.Fprintf(stdout, "%s\n", res)
	fmt.Fprintf(stdout, "throughput %.0f sign-ups/s, p50 %s, p90 %s, p99 %s, max %s\n", res.PerSecond(),
		res.Percentile(50).Round(10*time.Microsecond), res.Percentile(90).Round(10*time.Microsecond),
		res.Percentile(99).Round(10*time.Microsecond), res.Percentile(100).Round(10*time.Microsecond))
	fmt.Fprintf(stdout, "outcomes: %s\n", tally)

	problems := verify(ctx, d, ev, o, tally)
	for _, p := range problems {
		fmt.Fprintln(stdout, "FAIL:", p)
	}
	if len(problems) > 0 {
		return res, 1
	}
	fmt.Fprintf(stdout, "ok: %d confirmed of %d seats, %d waiting in a gap-free line, no address twice, no 5xx%s\n",
		min(o.seats, o.n), o.seats, max(o.n-o.seats, 0), map[bool]string{true: ", one email each", false: ""}[!o.raw || o.mail])
	return res, 0
}

// prepareEvent creates a published event with free registration that
// starts in a month, or finds the one named by -event.
func prepareEvent(ctx context.Context, d *db.DB, o options) (events.Event, error) {
	store := events.Store{DB: d}
	if o.slug != "" {
		return store.FindEventBySlug(ctx, o.slug)
	}
	start := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Hour)
	ev := events.Event{
		Slug:  fmt.Sprintf("rush-%d", time.Now().UnixNano()),
		Title: "Rushtest: stor påmelding", Summary: "Et arrangement laget av cmd/rush for å måle påmelding under last.",
		Format: "conference", Mode: "physical", StartsAt: start, EndsAt: start.Add(6 * time.Hour),
		Capacity: o.seats, Sector: "public", Facilitation: "facilitated", Theme: "leadership", Language: "nb", Status: events.StatusPublished,
	}
	err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := tx.QueryRowContext(ctx, `SELECT id FROM regions ORDER BY sort_order LIMIT 1`).Scan(&ev.Region.ID); errors.Is(err, sql.ErrNoRows) {
			ev.Region = events.Region{Slug: "rush", Name: "Rush"}
			if err := events.CreateRegion(ctx, tx, &ev.Region, 99); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT id FROM organisers ORDER BY id LIMIT 1`).Scan(&ev.Organiser.ID); errors.Is(err, sql.ErrNoRows) {
			ev.Organiser = events.Organiser{Slug: "rush", Name: "Rush", Kind: "public", ContactEmail: "rush@example.no"}
			if err := events.CreateOrganiser(ctx, tx, &ev.Organiser); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		return events.CreateEvent(ctx, tx, now, &ev)
	})
	return ev, err
}

// tally counts what the sign-ups got back.
type tally struct {
	mu       sync.Mutex
	outcomes map[string]int
	server   int // 5xx
}

func newTally() *tally { return &tally{outcomes: map[string]int{}} }

func (t *tally) add(outcome string, serverError bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.outcomes[outcome]++
	if serverError {
		t.server++
	}
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.outcomes))
	for k := range t.outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, t.outcomes[k])
	}
	return strings.Join(parts, ", ")
}

func person(ev events.Event, i int) (name, email string) {
	return fmt.Sprintf("Deltaker Ærlig-Ås %d", i), fmt.Sprintf("%s-%d@example.no", ev.Slug, i)
}

// rushRaw runs the sign-ups as transactions on the database, no HTTP.
func rushRaw(ctx context.Context, d *db.DB, ev events.Event, o options) (loadgen.Result, *tally) {
	svc := registration.NewService(d)
	svc.GroupCommit = o.group
	if o.mail {
		m, err := newMail()
		if err != nil {
			t := newTally()
			t.add("error: "+err.Error(), false)
			return loadgen.Result{}, t
		}
		svc.Notify = m.Notify
	}
	t := newTally()
	res := loadgen.Run(ctx, o.n, o.c, func(ctx context.Context, i int) error {
		name, email := person(ev, i)
		r, err := svc.Register(ctx, ev.ID, registration.Input{Lang: "nb", Details: registration.Details{
			Name: name, Email: email, Organisation: "Statens vegvesen", Role: "Seksjonssjef", Level: "middle",
			Sector: "state", Region: "Bergen", IntroConsent: i%2 == 0,
		}, Wordings: registration.Wordings{Intro: "rush"}})
		switch {
		case err != nil:
			t.add("error: "+err.Error(), errors.Is(err, db.ErrBusy))
			return err
		case r.Duplicate:
			t.add("duplicate", false)
		default:
			t.add(r.Registration.Status, false)
		}
		return nil
	})
	return res, t
}

// newMail renders and queues emails the way the server does.
func newMail() (*registration.Mail, error) {
	cat, err := web.LoadCatalogue(templates.FS, "locales")
	if err != nil {
		return nil, err
	}
	rnd, err := web.NewRenderer(templates.FS, cat, "http://localhost:8080")
	if err != nil {
		return nil, err
	}
	emails, err := web.NewEmails(templates.FS, rnd)
	if err != nil {
		return nil, err
	}
	return &registration.Mail{Emails: emails, BaseURL: "http://localhost:8080"}, nil
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// client is one browser: its own cookies, its CSRF token.
type client struct {
	http  *http.Client
	token string
	page  string // the event's page on the instance this client uses
}

// rushHTTP opens o.c clients, then posts the sign-ups through them.
func rushHTTP(ctx context.Context, ev events.Event, o options) (loadgen.Result, *tally, error) {
	var pages []string
	for _, raw := range strings.Split(o.url, ",") {
		base, err := url.Parse(strings.TrimRight(strings.TrimSpace(raw), "/"))
		if err != nil || (base.Scheme != "http" && base.Scheme != "https") {
			return loadgen.Result{}, nil, fmt.Errorf("-url %q is not an http URL", raw)
		}
		pages = append(pages, base.String()+"/events/"+ev.Slug)
	}
	transport := &http.Transport{MaxIdleConns: o.c * 2, MaxIdleConnsPerHost: o.c * 2, IdleConnTimeout: time.Minute}
	defer transport.CloseIdleConnections()
	pool := make(chan *client, o.c)
	for i := range o.c {
		page := pages[i%len(pages)] // each client keeps to one instance, as behind a sticky proxy
		jar, _ := cookiejar.New(nil)
		cl := &client{http: &http.Client{
			Transport: transport, Jar: jar, Timeout: 60 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, page, nil)
		resp, err := cl.http.Do(req)
		if err != nil {
			return loadgen.Result{}, nil, fmt.Errorf("GET the event page: %w", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := csrfRE.FindSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			return loadgen.Result{}, nil, fmt.Errorf("GET the event page: status %d, no form", resp.StatusCode)
		}
		cl.token, cl.page = string(m[1]), page
		pool <- cl
	}

	t := newTally()
	res := loadgen.Run(ctx, o.n, o.c, func(ctx context.Context, i int) error {
		cl := <-pool
		defer func() { pool <- cl }()
		name, email := person(ev, i)
		form := url.Values{
			"csrf_token": {cl.token}, "name": {name}, "email": {email}, "organisation": {"Statens vegvesen"},
			"role": {"Seksjonssjef"}, "level": {"middle"}, "sector": {"state"}, "region": {"Bergen"},
		}
		if i%2 == 0 {
			form.Set("intro_consent", "1")
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, cl.page+"/registrations", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := cl.http.Do(req)
		if err != nil {
			t.add("network error", false)
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		switch {
		case resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(loc, "/r/"):
			t.add("303 to the manage page", false)
			return nil
		case resp.StatusCode == http.StatusSeeOther:
			t.add("303 to "+loc, false)
		default:
			t.add(fmt.Sprintf("status %d", resp.StatusCode), resp.StatusCode >= 500)
		}
		return fmt.Errorf("sign-up %d: status %d", i, resp.StatusCode)
	})
	return res, t, nil
}

// verify reads the outcome from the database.
func verify(ctx context.Context, d *db.DB, ev events.Event, o options, t *tally) []string {
	var problems []string
	if t.server > 0 {
		problems = append(problems, fmt.Sprintf("%d requests got a 5xx", t.server))
	}
	regs, err := registration.FindRegistrations(ctx, d.Read(), registration.Filter{EventID: ev.ID})
	if err != nil {
		return append(problems, err.Error())
	}
	confirmed, waiting := 0, 0
	for _, r := range regs {
		switch r.Status {
		case registration.StatusConfirmed:
			confirmed++
		case registration.StatusWaiting:
			waiting++
			// asked one by one, as the manage page asks
			pos, err := registration.Position(ctx, d.Read(), r)
			if err != nil {
				return append(problems, err.Error())
			}
			if pos != waiting {
				problems = append(problems, fmt.Sprintf("waiting #%d has position %d", waiting, pos))
			}
		}
	}
	wantC, wantW := min(o.seats, o.n), max(o.n-o.seats, 0)
	if confirmed != wantC || waiting != wantW {
		problems = append(problems, fmt.Sprintf("%d confirmed and %d waiting, want %d and %d", confirmed, waiting, wantC, wantW))
	}
	var twice int
	if err := d.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT email_norm FROM registrations
		WHERE event_id = ? AND status <> 'cancelled' GROUP BY email_norm HAVING COUNT(*) > 1) AS x`, ev.ID).Scan(&twice); err != nil {
		return append(problems, err.Error())
	}
	if twice > 0 {
		problems = append(problems, fmt.Sprintf("%d addresses are registered twice", twice))
	}
	var keptC, keptW int
	if err := d.Read().QueryRowContext(ctx, `SELECT confirmed_count, waitlist_count FROM events WHERE id = ?`, ev.ID).Scan(&keptC, &keptW); err != nil {
		return append(problems, err.Error())
	}
	if keptC != confirmed || keptW != waiting {
		problems = append(problems, fmt.Sprintf("the event keeps %d confirmed and %d waiting, its rows say %d and %d", keptC, keptW, confirmed, waiting))
	}
	return append(problems, verifyMail(ctx, d, ev, o)...)
}

// verifyMail checks the outbox: every person got exactly one email about
// their sign-up (when the sign-ups queue mail: HTTP, or -raw -mail).
func verifyMail(ctx context.Context, d *db.DB, ev events.Event, o options) []string {
	if o.raw && !o.mail {
		return nil
	}
	_, first := person(ev, 0)
	pattern := strings.TrimSuffix(first, "0@example.no") + "%"
	var people, messages, most int
	err := d.Read().QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(n), 0), COALESCE(MAX(n), 0) FROM
		(SELECT to_address_norm, COUNT(*) AS n FROM outbox WHERE to_address_norm LIKE ? GROUP BY to_address_norm) AS x`,
		pattern).Scan(&people, &messages, &most)
	if err != nil {
		return []string{err.Error()}
	}
	if people != o.n || most != 1 {
		return []string{fmt.Sprintf("%d emails to %d people (most to one address: %d), want one to each of %d", messages, people, most, o.n)}
	}
	return nil
}
