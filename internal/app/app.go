// Package app wires Møteplass together: configuration, the database, the
// route table (routes.go) and the background workers. cmd/moteplass only
// parses the command line and calls it, so tests can start the real
// program.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/demo"
	"github.com/moteplass/moteplass/internal/metrics"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/introductions"
	"github.com/moteplass/moteplass/mailer"
	"github.com/moteplass/moteplass/organisers"
	"github.com/moteplass/moteplass/privacy"
	"github.com/moteplass/moteplass/registration"
	"github.com/moteplass/moteplass/templates"
)

// App is the running program: the database, the router and the background
// workers. Tests start it with a database in t.TempDir() and port 0.
type App struct {
	Config Config
	Logger *slog.Logger
	DB     *db.DB
	Router *gin.Engine
	// Accounts holds organiser logins (the CLI creates the first admin).
	Accounts *organisers.Store
	// Resets sends the password reset links asked for (a background job).
	Resets *organisers.ResetSender
	// Mailer sends the outbox.
	Mailer *mailer.Worker
	// Metrics are served at /metrics.
	Metrics *metrics.Metrics
	// Registrations signs people up; its Notify sends their emails.
	Registrations *registration.Service
	// Privacy carries out people's data rights (download, erasure).
	Privacy *privacy.Rights
	// Events holds the events; its OnChange, run in the transaction of
	// every organiser's change, is registration's (tests wrap it).
	Events *events.Store

	// jobs run in the background while the app serves (see Serve).
	jobs []func(ctx context.Context)
	// instance names this App in the claims of jobs (jobs.go), so that of
	// the instances serving one database one runs each job at a time.
	instance string

	listener net.Listener
	server   *http.Server
}

// NewApp opens the database, loads the demo when asked and wires the routes.
func NewApp(ctx context.Context, cfg Config, logger *slog.Logger) (*App, error) {
	d, err := db.OpenWith(ctx, cfg.DB, cfg.DBOptions())
	if err != nil {
		return nil, err
	}
	d.SetLogger(logger)
	a := &App{Config: cfg, Logger: logger, DB: d, Accounts: organisers.NewStore(d), Registrations: registration.NewService(d),
		instance: newInstanceName()}
	// Address keys stored before the one address parser: an international
	// domain becomes an A-label, so look-ups by either spelling find them.
	if n, err := RekeyAddresses(ctx, d); err != nil {
		d.Close()
		return nil, err
	} else if n > 0 {
		logger.Info("address keys brought up to date", "rows", n)
	}
	a.Metrics = metrics.New(d.Read())
	a.Mailer = mailer.NewWorker(d, cfg.Mail(), logger)
	a.Mailer.PollInterval = 5 * time.Second
	a.jobs = append(a.jobs, a.Mailer.Run)
	// Wake the mail worker after every commit: a change that queued mail is
	// then sent at once. An idle worker's look for due mail is one read.
	d.OnCommit(a.Mailer.Wake)
	if cfg.Demo == "auto" {
		if err := a.loadDemo(ctx); err != nil {
			d.Close()
			return nil, err
		}
	}
	if a.Router, err = a.wire(); err != nil {
		d.Close()
		return nil, err
	}
	return a, nil
}

// loadDemo loads the demo into an empty database; of instances starting
// together on one, the first loads it and the others find it there.
func (a *App) loadDemo(ctx context.Context) error {
	// a read first: a database with events (every start but the first)
	// takes no write transaction, which would tell the other instances of
	// a change
	if empty, err := demo.Empty(ctx, a.DB); err != nil || !empty {
		return err
	}
	loaded, err := demo.LoadIfEmpty(ctx, a.DB, demo.Logins(a.Accounts), demo.Registrations)
	if err != nil {
		return err
	}
	if loaded {
		a.Logger.Info("demo data loaded")
	}
	return nil
}

// wire makes the pages and the background jobs, and the router that sends
// requests to the pages (the route table, routes.go).
func (a *App) wire() (*gin.Engine, error) {
	cat, err := web.LoadCatalogue(templates.FS, "locales")
	if err != nil {
		return nil, err
	}
	rnd, err := web.NewRenderer(templates.FS, cat, a.Config.BaseURL)
	if err != nil {
		return nil, err
	}
	cookies := web.Cookies{Secure: a.Config.HTTPS()}

	emails, err := web.NewEmails(templates.FS, rnd)
	if err != nil {
		return nil, err
	}
	clientIP, _ := web.ParseTrustedProxies(a.Config.TrustedProxies)

	// Registrants hear of every change by email, queued in the transaction
	// of the change; organisers' changes to events reach them the same way.
	// Each notice is counted (sign-ups, promotions) as its email is queued.
	mail := &registration.Mail{Emails: emails, BaseURL: a.Config.BaseURL, OnNotice: a.Metrics.CountNotice}
	a.Registrations.Notify = mail.Notify
	reminderLead := time.Duration(a.Config.ReminderHours) * time.Hour
	a.jobs = append(a.jobs, a.every("reminders", 10*time.Minute, func(ctx context.Context) error {
		_, err := a.Registrations.QueueReminders(ctx, mail, reminderLead)
		return err
	}))

	ev := events.NewHandler(a.DB, rnd, a.Config.BaseURL)
	ev.Store.OnChange = a.Registrations.EventChanged(mail)
	a.Events = ev.Store
	ev.RelayUTF8 = a.Mailer.AcceptsUTF8
	reg := registration.NewHandler(a.Registrations, ev, rnd, cookies, web.NewLimiter(a.Config.SignupRate), clientIP)
	// The forms take addresses with non-ASCII before the @ (bjørn@) only
	// while the relay offers SMTPUTF8, as the mail worker last heard.
	reg.RelayUTF8 = a.Mailer.AcceptsUTF8
	// Data rights from the manage link (download, erasure) and erasure on
	// request for organisers; the mail worker deletes an erasure's
	// confirmation in the commit that records it sent.
	a.Privacy = &privacy.Rights{DB: a.DB, Registrations: a.Registrations, Emails: emails, BaseURL: a.Config.BaseURL,
		ReplyTo: a.Config.ControllerEmail}
	rights := privacy.NewHandler(a.Privacy, reg, rnd)

	// Organiser accounts. Reset links are looked up and sent by a job after
	// the answer, which is the same for every address. Logins: 20 attempts
	// a minute per client address, and 5 wrong passwords per client address
	// and account in 15 minutes, so a stranger cannot lock an owner out.
	// Both limits are in memory, per process.
	a.Resets = organisers.NewResetSender(a.Accounts, emails, a.Config.BaseURL, a.Logger)
	a.jobs = append(a.jobs, a.Resets.Run, func(context.Context) { a.Accounts.PrepareDummyHash() })
	accounts := &organisers.Handler{
		Store: a.Accounts, R: rnd, Cookies: cookies, ClientIP: clientIP, Resets: a.Resets,
		PerAddress: web.NewLimiter(20), Failures: organisers.NewFailureLimit(5, 15*time.Minute),
		Organisations: func(ctx context.Context) ([]organisers.Organisation, error) {
			os, err := ev.Store.FindOrganisers(ctx)
			out := make([]organisers.Organisation, len(os))
			for i, o := range os {
				out[i] = organisers.Organisation{ID: o.ID, Name: o.Name}
			}
			return out, err
		},
	}
	// The organisers' pages about registrations: the attendee list and its
	// CSV, check-in at the door (and the QR code a person shows there),
	// messages to a group, and the dashboards.
	attendees := registration.NewAttendeesHandler(a.Registrations, mail, rnd, accounts)
	attendees.RelayUTF8 = a.Mailer.AcceptsUTF8
	accounts.RelayUTF8 = a.Mailer.AcceptsUTF8

	// Introductions after an event: the organiser's follow-up pages, the
	// links in its emails, and the hourly "did you meet?" reminders.
	followup := introductions.NewFollowup(a.DB, emails, cat, a.Config.BaseURL)
	followup.MatchingRuns = a.Metrics.MatchingRuns
	// the organiser's home and event pages say what is next after an event
	ev.NextSteps = followup.NextSteps
	intro := introductions.NewHandler(followup, rnd, cookies)
	a.jobs = append(a.jobs, a.every("introductions", time.Hour, intro.Hourly))

	// Retention: at start-up and daily, registrations are anonymised
	// RetentionDays after their event; sent mail and expired links go.
	retention := privacy.NewRetention(a.DB, a.Config.RetentionDays)
	a.jobs = append(a.jobs, a.every("retention", 24*time.Hour, retention.Run))

	p := pages{
		rnd: rnd, cookies: cookies,
		events: ev, eventAdmin: events.NewAdmin(ev, accounts),
		signUps: reg, feeds: registration.NewFeeds(reg), attendees: attendees,
		rights: rights, accounts: accounts, intro: intro,
	}
	// with a mail server, the outbox holds real people's mail: no mailbox
	if a.Config.SMTPHost == "" {
		p.mailbox = &Mailbox{DB: a.DB, Cfg: a.Config.Mail(), R: rnd}
	}
	return a.routeTable(p), nil
}

// healthz is 200 "ok" when the database can be written and read, else 503
// and one line that says why ("database cannot be written since ...: the
// disk is full (SQLITE_FULL)"). Whether it can be written is what the last
// writes and the database's own probes found (db.Health): the check writes
// nothing itself, so it never waits behind a sign-up rush, and a busy
// server is not reported down.
func (a *App) healthz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := a.DB.Health(ctx); err != nil {
		c.Error(err)
		c.String(http.StatusServiceUnavailable, err.Error()+"\n")
		return
	}
	c.String(http.StatusOK, "ok\n")
}

// Listen binds the address (":0" picks a free port; see Addr).
func (a *App) Listen() error {
	l, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Config.Addr, err)
	}
	a.listener = l
	return nil
}

// Addr is the address the app listens on.
func (a *App) Addr() string { return a.listener.Addr().String() }

// The process is down within 10 s of SIGTERM, as supervisors expect
// (systemd's TimeoutStopSec, a container's grace period), whatever a
// client or the mail relay does: requests in flight get shutdownRequests
// to finish, then the background jobs shutdownJobs to stop. The mail
// worker cuts off an exchange with a relay that does not answer and
// queues its message again.
const (
	shutdownRequests = 5 * time.Second
	shutdownJobs     = 3 * time.Second
)

// Serve serves until ctx is done, then stops accepting, lets requests in
// flight finish (up to shutdownRequests; the rest are cut off), stops the
// background jobs (up to shutdownJobs) and returns.
func (a *App) Serve(ctx context.Context) error {
	// What one connection can make the server hold: headers up to 64 KB
	// (cookies and a language are far less), then a body of at most
	// web.MaxFormBytes, which must arrive within ReadTimeout (256 KB in
	// 30 s is 70 kbit/s: a weak mobile connection does better).
	a.server = &http.Server{
		Handler:           a.Router,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	jobsCtx, cancelJobs := context.WithCancel(context.Background())
	var jobs sync.WaitGroup
	for _, job := range a.jobs {
		jobs.Go(func() { job(jobsCtx) })
	}
	// the background jobs stop after the last request has finished, so
	// nothing a request queued is left behind unsent for long
	stopJobs := func() error {
		cancelJobs()
		stopped := make(chan struct{})
		go func() { jobs.Wait(); close(stopped) }()
		select {
		case <-stopped:
			return nil
		case <-time.After(shutdownJobs):
			return fmt.Errorf("shutdown: background jobs still running after %v", shutdownJobs)
		}
	}

	errc := make(chan error, 1)
	go func() { errc <- a.server.Serve(a.listener) }()
	select {
	case err := <-errc:
		return errors.Join(err, stopJobs())
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownRequests)
	defer cancel()
	var errs []error
	if err := a.server.Shutdown(shutdownCtx); err != nil {
		errs = append(errs, fmt.Errorf("shutdown: %w", err), a.server.Close())
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, err)
	}
	return errors.Join(append(errs, stopJobs())...)
}

// NewLogger writes JSON lines at the given level.
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// Close closes the database.
func (a *App) Close() error { return a.DB.Close() }
