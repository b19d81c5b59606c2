package mailer

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mathrand "math/rand/v2"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/moteplass/moteplass/internal/db"
)

// Worker sends the outbox. Run it once per process.
//
// Several senders work side by side (Concurrency), each over a connection
// of its own and each holding one message at a time: a message the relay is
// slow with, or never answers, holds up its own sender for at most a
// Timeout and no other message. A sender claims a message in a write
// transaction before sending it, and commits its outcome, together with the
// claim of its next message, before it sends that one.
//
// A claim is a lease that names its holder (claimed_by: the worker's random
// identity and the claim's number). Run renews its claims every third of
// the Lease, only where the row still carries the claim; a message still
// "sending" when its lease has run out belongs to a worker that died and is
// sent again by whoever looks next. So two live workers on one database
// (two processes during a deploy) never send one message twice, and what a
// killed process left "sending" goes out about a Lease later.
//
// The exported fields are set by NewWorker; change them before Run.
type Worker struct {
	db     *db.DB
	cfg    Config
	domain string // of cfg.From: the right half of every Message-ID
	logger *slog.Logger
	wake   chan struct{}
	relay  relayState // what the relay's EHLO offers (relay.go)

	// id names this worker in its claims: random, so that no two processes
	// share one. claims numbers the claims.
	id     string
	claims atomic.Uint64
	// held is every claim this worker has made and not yet recorded, by
	// token, with its lease as this process counts it.
	mu   sync.Mutex
	held map[string]*claim
	// renewed counts renewed claims (for tests).
	renewed atomic.Int64
	// tracesLeft: a deleted DeleteWhenSent message may still be in the
	// write-ahead log (EraseTraces failed); the heartbeat tries again.
	tracesLeft atomic.Bool
	// prepared holds hotQueries, prepared on the writer connection.
	prepareOnce sync.Once
	prepared    map[string]*sql.Stmt

	// Concurrency is how many messages are sent at the same time, each by
	// a sender with a connection of its own.
	Concurrency int
	// PerConnection is how many messages a sender sends over one
	// connection before it hangs up and, if more are due, connects again.
	PerConnection int
	// PollInterval is how often an idle sender looks for due messages
	// (retries, mail queued without a Wake).
	PollInterval time.Duration
	// Timeout bounds connecting, and each message's SMTP exchange from MAIL
	// FROM to the relay's answer to the end of DATA. A relay that has not
	// answered by then may still have taken the message; it goes back to
	// the queue with a backoff and is sent again with the same Message-ID,
	// so a receiver can drop the copy.
	Timeout time.Duration
	// Lease is how long a claim lasts unless renewed; Run renews its
	// claims every third of it. A sender starts a message only while more
	// than a Timeout of its lease is left, so the exchange ends before the
	// lease does: Lease must be more than 1.5 Timeouts.
	Lease time.Duration
	// MaxAttempts is how many attempts a temporary failure gets before the
	// message is marked failed; with the default backoff about a day.
	MaxAttempts int
	// Backoff is the wait after the attempt-th failed attempt (1-based).
	Backoff func(attempt int) time.Duration
}

// NewWorker returns a worker with the defaults. A nil logger discards.
//
// Timeout is 30 s (it was a minute): enough for a relay that is merely
// slow, and a silent relay's message is soon back in the queue.
// Lease is 50 s: a third of it (the heartbeat) plus a Timeout fits in it,
// so a live worker's lease never runs too short to start a message, and a
// killed worker's mail is due again within a minute.
func NewWorker(d *db.DB, cfg Config, logger *slog.Logger) *Worker {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{
		db:            d,
		cfg:           cfg,
		domain:        cfg.fromDomain(),
		logger:        logger,
		wake:          make(chan struct{}, 1),
		id:            "w-" + strings.ToLower(rand.Text()[:12]),
		held:          map[string]*claim{},
		Concurrency:   4,
		PerConnection: 8,
		PollInterval:  15 * time.Second,
		Timeout:       30 * time.Second,
		Lease:         50 * time.Second,
		MaxAttempts:   25,
		Backoff:       ExponentialBackoff(30*time.Second, 2*time.Hour),
	}
}

// ExponentialBackoff doubles the wait from base up to ceiling, then takes a
// random point in its upper half, so messages that failed together (a relay
// that was down) do not all come back in the same second.
func ExponentialBackoff(base, ceiling time.Duration) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < ceiling; i++ {
			d *= 2
		}
		d = min(d, ceiling)
		return d/2 + mathrand.N(d/2+1)
	}
}

// Wake asks an idle sender to look for due messages now. It never blocks;
// call it after the transaction that enqueued has committed.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends until ctx is cancelled. On cancel an SMTP exchange in flight
// that does not end within cutOffGrace is cut off (its connection closed)
// and its message queued again, and Run returns once every sender has
// recorded what it held: a shutdown does not wait for a relay that does not
// answer.
func (w *Worker) Run(ctx context.Context) {
	if w.cfg.Host == "" {
		w.logger.Warn("mailer: no mail server configured; mail is held, not sent")
		w.loop(ctx)
		return
	}
	go w.probeUntilKnown(ctx)
	if 2*w.Lease <= 3*w.Timeout {
		w.logger.Error("mailer: the lease is too short for the timeout; messages may be given back unsent",
			"lease", w.Lease, "timeout", w.Timeout)
	}
	var wg sync.WaitGroup
	for range max(w.Concurrency, 1) {
		wg.Go(func() { w.loop(ctx) })
	}
	wg.Go(func() { w.heartbeat(ctx) })
	wg.Wait()
}

// loop is one sender: rounds while there is work, else wait for a Wake or
// the poll.
func (w *Worker) loop(ctx context.Context) {
	timer := time.NewTimer(w.PollInterval)
	defer timer.Stop()
	for {
		res, err := w.round(ctx, nil)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.logger.Error("mailer: sending failed", "error", err)
		}
		// A full round means more may be due: go on without waiting.
		if err == nil && res.full {
			continue
		}
		timer.Reset(w.PollInterval)
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-timer.C:
		}
	}
}

// heartbeat renews this worker's claims every third of the lease, and
// empties the write-ahead log when an earlier try failed.
func (w *Worker) heartbeat(ctx context.Context) {
	tick := time.NewTicker(w.Lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := w.renew(ctx); err != nil && ctx.Err() == nil {
			w.logger.Error("mailer: renewing claims failed", "error", err)
		}
		if w.tracesLeft.Load() {
			w.eraseTraces(ctx)
		}
	}
}

// SendDue runs one round, as one sender of Run does: due messages, one at
// a time over one connection, up to PerConnection, and returns how many
// were sent. Without a Host it marks them held instead. Failures of single
// messages are recorded in their rows, not returned; the error is for the
// database. Nothing renews the claims of a SendDue: each is fresh when its
// message starts.
func (w *Worker) SendDue(ctx context.Context) (sent int, err error) {
	res, err := w.round(ctx, nil)
	return res.sent, err
}

type roundResult struct {
	tried, sent int
	// full: the round ended at PerConnection, not because nothing was due.
	full bool
}

// errLeaseShort ends a round whose claim was not renewed in time.
var errLeaseShort = errors.New("mailer: claim not renewed in time; message given back unsent")

// round sends due messages over one connection until none is due,
// PerConnection have been tried, or ctx is done. first, when not nil, is a
// claim already made. Each message after the first is claimed in the
// transaction that records the outcome of the one before.
func (w *Worker) round(ctx context.Context, first *claim) (roundResult, error) {
	var res roundResult
	if w.cfg.Host == "" {
		_, err := w.hold(ctx)
		return res, err
	}
	w.prepare(ctx)
	// The records after a send must be written even when ctx is cancelled:
	// a message that went out but is not marked sent is sent again.
	book := context.WithoutCancel(ctx)
	c := first
	if c == nil {
		if due, err := w.anythingDue(ctx, true); err != nil || !due {
			return res, err
		}
		var ok bool
		var err error
		if c, ok, err = w.take(ctx); err != nil || !ok {
			return res, err
		}
	}
	// There was work: more may be due, so an idle sender looks too.
	w.Wake()

	var conn *connection
	defer func() { conn.hangUp() }()
	for c != nil {
		if ctx.Err() != nil {
			return res, w.release(book, c)
		}
		res.tried++
		if conn == nil {
			var err error
			if conn, err = w.dial(ctx); err != nil {
				return res, w.connectFailed(ctx, c, err)
			}
		}
		switch w.lease(c) {
		case leaseLost:
			// Erased, or taken by another worker after this one stalled
			// past its lease: not ours to send or to record.
			w.logger.Warn("mailer: claim lost before sending; not sent", "outbox_id", c.ID)
			w.forget(c)
			var ok bool
			var err error
			if c, ok, err = w.take(ctx); err != nil || !ok {
				return res, err
			}
			continue
		case leaseShort:
			return res, errors.Join(errLeaseShort, w.release(book, c))
		}

		o := w.sendOne(ctx, conn, c.Stored)
		if !o.sent && !o.permanent && o.code == 0 && ctx.Err() != nil {
			// Cut off by the shutdown. The relay may have taken it: it
			// goes out again from the next start, with the same Message-ID.
			o = outcome{interrupted: true, broken: true,
				reason: "interrupted by a shutdown during the SMTP exchange; it may have arrived"}
		}
		if o.broken {
			conn.hangUp()
			conn = nil
		}
		more := ctx.Err() == nil && res.tried < w.PerConnection
		next, err := w.record(book, c, o, more)
		if err != nil {
			return res, err
		}
		if o.sent {
			res.sent++
		}
		c = next
	}
	res.full = res.tried >= w.PerConnection
	return res, nil
}

// connection is one SMTP session with the relay.
type connection struct {
	client *mail.Client
	smtp   *smtp.Client
}

// quitWait is how long a hang-up waits for the relay's answer to QUIT.
const quitWait = 2 * time.Second

func (c *connection) hangUp() {
	if c == nil {
		return
	}
	_ = c.smtp.UpdateDeadline(quitWait)
	if err := c.client.CloseWithSMTPClient(c.smtp); err != nil {
		_ = c.smtp.Close()
	}
}

// dial connects, says EHLO, starts TLS and authenticates with go-mail.
// The messages are then sent with the returned smtp.Client command by
// command, so that each failure comes with the server's own code and text
// (go-mail's Send would add the recipient's address to its error, which
// must not end up in logs or in last_error).
//
// go-mail reads the greeting and does STARTTLS and AUTH under its own
// deadline, not ctx; on cancel the dial is left to end by itself (its
// connection is then closed), so a shutdown does not wait for a relay that
// went silent there.
func (w *Worker) dial(ctx context.Context) (*connection, error) {
	type dialed struct {
		conn *connection
		err  error
	}
	done := make(chan dialed, 1)
	go func() {
		conn, err := w.connect(ctx)
		done <- dialed{conn, err}
	}()
	select {
	case d := <-done:
		return d.conn, d.err
	case <-ctx.Done():
		go func() { (<-done).conn.hangUp() }()
		return nil, ctx.Err()
	}
}

func (w *Worker) connect(ctx context.Context) (*connection, error) {
	opts := []mail.Option{mail.WithPort(w.cfg.port()), mail.WithTimeout(w.Timeout)}
	switch w.cfg.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if w.cfg.User != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(w.cfg.User), mail.WithPassword(w.cfg.Password))
	}
	client, err := mail.NewClient(w.cfg.Host, opts...)
	if err != nil {
		return nil, err
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return nil, err
	}
	w.noteRelay(conn)
	return &connection{client: client, smtp: conn}, nil
}

// outcome is what one attempt at one message came to.
type outcome struct {
	sent      bool
	permanent bool
	// interrupted: cut off by a shutdown; queued again at once.
	interrupted bool
	// broken: the connection cannot be used for the next message.
	broken bool
	code   int // SMTP reply code, 0 for network errors
	reason string
	// wait is the backoff of a temporary failure (see settle).
	wait time.Duration
}

func (w *Worker) sendOne(ctx context.Context, conn *connection, s Stored) outcome {
	m, err := compose(s, w.cfg, relayOffersUTF8(conn.smtp))
	if err != nil {
		return outcome{permanent: true, reason: "cannot build the message: " + err.Error()}
	}
	from, _ := sendableAddress(w.cfg.From) // compose checked both
	to, _ := sendableAddress(s.To)
	// One deadline for the whole exchange of this message.
	if err := conn.smtp.UpdateDeadline(w.Timeout); err != nil {
		return outcome{broken: true, reason: oneLine(err.Error())}
	}
	defer cutOff(ctx, conn.smtp.Text)()
	// A 5xx to MAIL FROM is about us (sender refused, authentication
	// needed), not about this message: it is retried like a 4xx, so a
	// configuration mistake does not throw mail away.
	if err := conn.smtp.Mail("<" + from + ">"); err != nil {
		return smtpFailure(conn.smtp, "MAIL FROM", err, false)
	}
	if err := conn.smtp.Rcpt("<" + to + ">"); err != nil {
		return smtpFailure(conn.smtp, "RCPT TO", err, true)
	}
	wc, err := conn.smtp.Data()
	if err != nil {
		return smtpFailure(conn.smtp, "DATA", err, true)
	}
	if _, err := m.WriteTo(wc); err != nil {
		return outcome{broken: true, reason: "writing the message: " + oneLine(err.Error())}
	}
	// A timeout here leaves us not knowing whether the relay took the
	// message: it is tried again later, with the same Message-ID.
	if err := wc.Close(); err != nil {
		return smtpFailure(conn.smtp, "end of DATA", err, true)
	}
	return outcome{sent: true}
}

// cutOffGrace is how long an exchange in flight may go on after a
// shutdown began. A relay that answers does so well within it, and a
// message cut off may arrive twice.
const cutOffGrace = time.Second

// cutOff closes the connection under an exchange once ctx is done and
// cutOffGrace has passed, unless the returned stop comes first: that ends
// a read waiting for a relay that does not answer. (The smtp.Client keeps
// its lock while it reads, so its own Close would wait too.)
func cutOff(ctx context.Context, conn io.Closer) (stop func()) {
	finished := make(chan struct{})
	go func() {
		select {
		case <-finished:
			return
		case <-ctx.Done():
		}
		select {
		case <-finished:
		case <-time.After(cutOffGrace):
			_ = conn.Close()
		}
	}()
	return func() { close(finished) }
}

// smtpFailure turns a failed SMTP command into an outcome. Only the
// server's reply goes into the reason. After a reply the transaction is
// reset so the next message can start; a network error ends the connection.
func smtpFailure(conn *smtp.Client, stage string, err error, permanentOn5xx bool) outcome {
	var reply *textproto.Error
	if !errors.As(err, &reply) {
		return outcome{broken: true, reason: stage + ": " + oneLine(err.Error())}
	}
	o := outcome{
		code:      reply.Code,
		permanent: permanentOn5xx && reply.Code >= 500,
		reason:    truncate(fmt.Sprintf("%s: %d %s", stage, reply.Code, oneLine(reply.Msg)), 500),
	}
	// 421: the server is closing the connection.
	if reply.Code == 421 || conn.Reset() != nil {
		o.broken = true
	}
	return o
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// ---- claims and their leases ----

// claim is a message this worker has claimed and not yet recorded.
type claim struct {
	Stored
	// token is what claimed_by holds: the worker's id and the claim's
	// number, so a renewal or a record can only touch the claim it made,
	// never a later claim of the same row (by this worker or another).
	token string
	// until is when the lease runs out unless renewed, by this process's
	// clock (set from a time taken before the claim's transaction, so it
	// is never later than the claimed_until stored); lost is set when a
	// renewal found the row no longer carries the token. Both under w.mu.
	until time.Time
	lost  bool
}

func (w *Worker) newToken() string {
	return w.id + "-" + strconv.FormatUint(w.claims.Add(1), 10)
}

// claimNext claims the oldest due message for token, in tx: status becomes
// "sending", claimed_by the token, claimed_until the end of the lease;
// attempts goes up and the Message-ID gets its domain. The UPDATE repeats
// the status condition, so a row two workers found at once is claimed by
// one of them; on PostgreSQL the SELECT takes FOR UPDATE SKIP LOCKED, so
// that workers pass over each other's rows instead of waiting for them.
func (w *Worker) claimNext(ctx context.Context, tx writeTx, now time.Time, token string) (Stored, bool, error) {
	due, err := findMessages(ctx, tx, dueWhere, dueTail, now)
	if err != nil || len(due) == 0 {
		return Stored{}, false, err
	}
	s := due[0]
	s.MessageID = completeMessageID(s.MessageID, w.domain)
	res, err := tx.ExecContext(ctx, qClaim, token, now.Add(w.Lease), s.MessageID, s.ID)
	if err != nil {
		return Stored{}, false, fmt.Errorf("mailer: claim message %d: %w", s.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return Stored{}, false, err
	}
	s.Status = StatusSending
	s.Attempts++
	return s, true, nil
}

// take makes a round's first claim. Expired claims are queued again first,
// and held mail released (a mail server is configured now); a sender's
// later claims (see record) leave that to its next round, at most
// PerConnection messages later. Like record it shares its commit with
// other writers' (db.Batch).
func (w *Worker) take(ctx context.Context) (*claim, bool, error) {
	token, start := w.newToken(), time.Now()
	var (
		s  Stored
		ok bool
	)
	err := w.db.Batch(ctx, func(tx *sql.Tx, now time.Time) error {
		hot := w.hot(tx)
		if err := w.requeueExpired(ctx, hot, now); err != nil {
			return err
		}
		if _, err := hot.ExecContext(ctx, qReleaseHeld); err != nil {
			return fmt.Errorf("mailer: release held mail: %w", err)
		}
		var err error
		s, ok, err = w.claimNext(ctx, hot, now, token)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("mailer: claim: %w", err)
	}
	if !ok {
		return nil, false, nil
	}
	return w.keep(s, token, start), true, nil
}

// keep registers a committed claim so the heartbeat renews it.
func (w *Worker) keep(s Stored, token string, start time.Time) *claim {
	c := &claim{Stored: s, token: token, until: start.Add(w.Lease)}
	w.mu.Lock()
	w.held[token] = c
	w.mu.Unlock()
	return c
}

// forget stops renewing a claim: its outcome is recorded, or it is lost.
func (w *Worker) forget(c *claim) {
	w.mu.Lock()
	delete(w.held, c.token)
	w.mu.Unlock()
}

type leaseState int

const (
	leaseHeld  leaseState = iota
	leaseShort            // less than a Timeout left: renewals are failing
	leaseLost             // the row no longer carries the claim
)

// lease says whether a sender may start c's exchange now: only with more
// than a Timeout of its lease left, so the exchange is over before anyone
// else may take the row.
func (w *Worker) lease(c *claim) leaseState {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case c.lost:
		return leaseLost
	case time.Until(c.until) <= w.Timeout:
		return leaseShort
	}
	return leaseHeld
}

// renew extends the lease of every claim this worker holds, where the row
// still carries the claim's token; a claim whose row does not is lost, and
// its sender will not send it.
func (w *Worker) renew(ctx context.Context) error {
	w.mu.Lock()
	tokens := make([]string, 0, len(w.held))
	for token := range w.held {
		tokens = append(tokens, token)
	}
	w.mu.Unlock()
	if len(tokens) == 0 {
		return nil
	}
	start := time.Now()
	lost := map[string]bool{}
	err := w.db.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		clear(lost)
		for _, token := range tokens {
			res, err := tx.ExecContext(ctx, `UPDATE outbox SET claimed_until = ?
				WHERE claimed_by = ? AND status = 'sending'`, now.Add(w.Lease), token)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n == 0 {
				lost[token] = true
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mailer: renew claims: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, token := range tokens {
		c, ok := w.held[token]
		switch {
		case !ok: // recorded meanwhile
		case lost[token]:
			c.lost = true
		default:
			c.until = start.Add(w.Lease)
			w.renewed.Add(1)
		}
	}
	return nil
}

// anythingDue asks the read pool first, so an idle poll does not take the
// write lock (and does not bump the database generation page caches key on).
func (w *Worker) anythingDue(ctx context.Context, includeHeld bool) (bool, error) {
	now := w.db.Now().UTC()
	held := ``
	if includeHeld {
		held = `OR status = 'held'`
	}
	var due bool
	err := w.db.Read().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM outbox
		WHERE (status = 'queued' AND next_attempt_at <= ?)
		   OR (status = 'sending' AND claimed_until <= ?) `+held+`)`, now, now).Scan(&due)
	if err != nil {
		return false, fmt.Errorf("mailer: look for due mail: %w", err)
	}
	return due, nil
}

// requeueExpired gives messages whose lease ran out back to the queue: the
// worker that claimed them stopped renewing without recording an outcome
// (it was killed, or lost its database). They may have been delivered;
// they go out again with the same Message-ID.
func (w *Worker) requeueExpired(ctx context.Context, tx writeTx, now time.Time) error {
	res, err := tx.ExecContext(ctx, qRequeueExpired, now)
	if err != nil {
		return fmt.Errorf("mailer: requeue expired claims: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		w.logger.Warn("mailer: claims expired; sending again", "messages", n)
	}
	return nil
}

// hold marks due mail held: there is no mail server to send it to.
func (w *Worker) hold(ctx context.Context) (int, error) {
	if due, err := w.anythingDue(ctx, false); err != nil || !due {
		return 0, err
	}
	var held int64
	err := w.db.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := w.requeueExpired(ctx, tx, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'held', last_error = ?
			WHERE status = 'queued' AND next_attempt_at <= ?`, HeldReason, now)
		if err != nil {
			return err
		}
		held, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("mailer: hold mail: %w", err)
	}
	if held > 0 {
		w.logger.Info("mailer: mail held", "messages", held)
	}
	return int(held), nil
}

// ---- records ----

// settle decides what a temporary failure comes to: a retry after the
// backoff, or failed when the message has had all its attempts.
func (w *Worker) settle(c *claim, o outcome) outcome {
	if o.sent || o.permanent || o.interrupted {
		return o
	}
	if c.Attempts >= w.MaxAttempts {
		o.permanent = true
		o.reason = truncate(fmt.Sprintf("gave up after %d attempts: %s", c.Attempts, o.reason), 500)
		return o
	}
	o.wait = w.Backoff(c.Attempts)
	return o
}

// record commits the outcome of c's attempt and, with claimNext, claims the
// sender's next message in the same transaction (next is nil when none was
// due): one commit per message,
// shared with other senders' (and sign-ups') by db.Batch when they come
// together. A message marked DeleteWhenSent is deleted instead of marked
// sent or failed, and the write-ahead log emptied after the commit.
func (w *Worker) record(ctx context.Context, c *claim, o outcome, claimNext bool) (*claim, error) {
	o = w.settle(c, o)
	token, start := w.newToken(), time.Now()
	var (
		next            Stored
		claimed, erased bool
	)
	err := w.db.Batch(ctx, func(tx *sql.Tx, now time.Time) error {
		claimed = false
		hot := w.hot(tx)
		var err error
		if erased, err = w.recordOutcome(ctx, hot, now, c, o); err != nil {
			return err
		}
		if claimNext {
			next, claimed, err = w.claimNext(ctx, hot, now, token)
		}
		return err
	})
	w.forget(c)
	if err != nil {
		// It stays "sending" and goes out again when the lease ends.
		w.logger.Error("mailer: outcome not recorded", "outbox_id", c.ID, "sent", o.sent, "error", err)
		return nil, fmt.Errorf("mailer: record message %d: %w", c.ID, err)
	}
	w.logOutcome(c, o)
	if erased {
		w.eraseTraces(ctx)
	}
	if !claimed {
		return nil, nil
	}
	return w.keep(next, token, start), nil
}

// recordOutcome writes o to c's row, if the row still carries c's claim.
// erased reports that it deleted a DeleteWhenSent message.
func (w *Worker) recordOutcome(ctx context.Context, tx writeTx, now time.Time, c *claim, o outcome) (erased bool, err error) {
	switch {
	case (o.sent || o.permanent) && c.DeleteWhenSent:
		res, err := tx.ExecContext(ctx, qDelete, c.ID, c.token)
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		return n == 1, err
	case o.sent:
		_, err = tx.ExecContext(ctx, qSent, now, c.ID, c.token)
	case o.permanent:
		_, err = tx.ExecContext(ctx, qFailed, o.reason, c.ID, c.token)
	default: // a retry: after the backoff, or at once after a shutdown
		_, err = tx.ExecContext(ctx, qRetry, now.Add(o.wait), o.reason, c.ID, c.token)
	}
	return false, err
}

// The statements of a claim and of a message's outcome: an outcome changes
// the row only while it still carries the claim.
const (
	dueWhere = `status = 'queued' AND next_attempt_at <= ?`
	dueTail  = `ORDER BY next_attempt_at, id LIMIT 1`
	qClaim   = `UPDATE outbox
		SET status = 'sending', claimed_by = ?, claimed_until = ?, attempts = attempts + 1, message_id = ?
		WHERE id = ? AND status = 'queued'`
	qSent = `UPDATE outbox
		SET status = 'sent', sent_at = ?, claimed_by = NULL, claimed_until = NULL, last_error = ''
		WHERE id = ? AND claimed_by = ? AND status = 'sending'`
	qFailed = `UPDATE outbox
		SET status = 'failed', claimed_by = NULL, claimed_until = NULL, last_error = ?
		WHERE id = ? AND claimed_by = ? AND status = 'sending'`
	qRetry = `UPDATE outbox
		SET status = 'queued', next_attempt_at = ?, claimed_by = NULL, claimed_until = NULL, last_error = ?
		WHERE id = ? AND claimed_by = ? AND status = 'sending'`
	qDelete = `DELETE FROM outbox WHERE id = ? AND claimed_by = ? AND status = 'sending'`

	qRequeueExpired = `UPDATE outbox SET status = 'queued', claimed_by = NULL, claimed_until = NULL
		WHERE status = 'sending' AND claimed_until <= ?`
	qReleaseHeld = `UPDATE outbox SET status = 'queued', last_error = '' WHERE status = 'held'`
)

// hotQueries run for every message. They are prepared once on the writer
// connection instead of parsed on every call, as on the sign-up path
// (registration): parsing was a sixth of the CPU time of a message, spent
// while every other writer waits.
var hotQueries = []string{messagesQuery(dueWhere, dueTail), qClaim, qSent, qRetry, qRequeueExpired, qReleaseHeld}

// writeTx is a write transaction as the claim and the records use it: a
// *sql.Tx, or one that runs hotQueries prepared (see hot).
type writeTx interface {
	queryer
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// preparedTx runs the statements it has prepared and the others as usual.
type preparedTx struct {
	*sql.Tx
	prepared map[string]*sql.Stmt
}

func (t preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st, ok := t.prepared[query]; ok {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := t.prepared[query]; ok {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (w *Worker) hot(tx *sql.Tx) writeTx { return preparedTx{Tx: tx, prepared: w.prepared} }

// prepare prepares hotQueries, once. It must run outside a transaction
// (the writer pool has one connection). A statement that fails to prepare
// is simply run unprepared.
func (w *Worker) prepare(ctx context.Context) {
	w.prepareOnce.Do(func() {
		ctx := context.WithoutCancel(ctx) // done once for all
		prepared := map[string]*sql.Stmt{}
		for _, q := range hotQueries {
			if st, err := w.db.Write().PrepareContext(ctx, q); err == nil {
				prepared[q] = st
			}
		}
		w.prepared = prepared
	})
}

func (w *Worker) logOutcome(c *claim, o outcome) {
	switch {
	case o.sent:
		w.logger.Info("mailer: sent", "outbox_id", c.ID, "attempt", c.Attempts)
	case o.permanent:
		w.logger.Error("mailer: failed", "outbox_id", c.ID, "attempt", c.Attempts, "smtp_code", o.code)
	case o.interrupted:
		w.logger.Warn("mailer: interrupted by the shutdown; queued again", "outbox_id", c.ID, "attempt", c.Attempts)
	default:
		w.logger.Warn("mailer: deferred", "outbox_id", c.ID, "attempt", c.Attempts, "smtp_code", o.code, "retry_in", o.wait)
	}
}

// connectFailed records a failure to connect on the message that was to go
// first; the others stay queued, untried, for the sender's next round. On
// a shutdown the message is given back untried.
func (w *Worker) connectFailed(ctx context.Context, c *claim, err error) error {
	book := context.WithoutCancel(ctx)
	if ctx.Err() != nil {
		return w.release(book, c)
	}
	reason := "connecting to the mail server: " + oneLine(err.Error())
	w.logger.Warn("mailer: mail server unreachable", "error", reason)
	_, err = w.record(book, c, outcome{reason: reason}, false)
	return err
}

// release gives a claimed message back untried: the attempt is not counted
// and it is due at once.
func (w *Worker) release(ctx context.Context, c *claim) error {
	err := w.db.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox
			SET status = 'queued', claimed_by = NULL, claimed_until = NULL, attempts = attempts - 1
			WHERE id = ? AND claimed_by = ? AND status = 'sending'`, c.ID, c.token)
		return err
	})
	w.forget(c)
	if err != nil {
		// It stays "sending" and is taken again when the lease ends.
		w.logger.Error("mailer: could not give back claimed mail", "outbox_id", c.ID, "error", err)
		return fmt.Errorf("mailer: release message %d: %w", c.ID, err)
	}
	w.logger.Info("mailer: gave back unsent mail", "outbox_id", c.ID)
	return nil
}

// eraseTraces empties the write-ahead log after a DeleteWhenSent message
// was deleted, so no old copy of it stays readable in the files. Readers
// can keep the log busy; the heartbeat then tries again.
func (w *Worker) eraseTraces(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := w.db.EraseTraces(ctx, "outbox"); err != nil {
		w.tracesLeft.Store(true)
		w.logger.Warn("mailer: write-ahead log not emptied yet", "error", err)
		return
	}
	w.tracesLeft.Store(false)
}
