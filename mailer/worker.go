package mailer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/textproto"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/moteplass/moteplass/internal/db"
)

// Worker sends the outbox. Run it once per process; several workers on one
// database (two processes during a deploy) never send a message twice,
// because a message is claimed in a write transaction before it is sent.
//
// The exported fields are set by NewWorker; change them before Run.
type Worker struct {
	db     *db.DB
	cfg    Config
	logger *slog.Logger
	wake   chan struct{}
	relay  relayState // what the relay's EHLO offers (relay.go)

	// BatchSize is how many messages are claimed, and sent over one
	// connection, at a time.
	BatchSize int
	// PollInterval is how often the worker looks for due messages (retries,
	// mail queued without a Wake).
	PollInterval time.Duration
	// Timeout bounds connecting and each message's SMTP exchange.
	Timeout time.Duration
	// Lease is how long a claim lasts. A message still "sending" after its
	// lease belongs to a worker that died and is sent again. It must be well
	// above Timeout: the worker stops starting messages of a batch when
	// less than two Timeouts of the lease are left.
	Lease time.Duration
	// MaxAttempts is how many attempts a temporary failure gets before the
	// message is marked failed; with the default backoff about a day.
	MaxAttempts int
	// Backoff is the wait after the attempt-th failed attempt (1-based).
	Backoff func(attempt int) time.Duration
}

// NewWorker returns a worker with the defaults. A nil logger discards.
func NewWorker(d *db.DB, cfg Config, logger *slog.Logger) *Worker {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{
		db:           d,
		cfg:          cfg,
		logger:       logger,
		wake:         make(chan struct{}, 1),
		BatchSize:    8,
		PollInterval: 15 * time.Second,
		Timeout:      time.Minute,
		Lease:        10 * time.Minute,
		MaxAttempts:  25,
		Backoff:      ExponentialBackoff(30*time.Second, 2*time.Hour),
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
		return d/2 + rand.N(d/2+1)
	}
}

// Wake asks the worker to look for due messages now. It never blocks; call
// it after the transaction that enqueued has committed.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends until ctx is cancelled. On cancel it finishes the message it is
// sending, records it, gives back the rest of the batch and returns.
func (w *Worker) Run(ctx context.Context) {
	if w.cfg.Host == "" {
		w.logger.Warn("mailer: no mail server configured; mail is held, not sent")
	}
	go w.probeUntilKnown(ctx)
	timer := time.NewTimer(w.PollInterval)
	defer timer.Stop()
	for {
		res, err := w.sendBatch(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.logger.Error("mailer: batch failed", "error", err)
		}
		// A full batch means more may be due: go on without waiting.
		if err == nil && res.claimed >= w.BatchSize {
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

// SendDue sends one batch of due messages and returns how many were sent.
// Without a Host it marks them held instead. Failures of single messages are
// recorded in their rows, not returned; the error is for the database.
func (w *Worker) SendDue(ctx context.Context) (sent int, err error) {
	res, err := w.sendBatch(ctx)
	return res.sent, err
}

type batchResult struct {
	claimed, sent, held int
}

func (w *Worker) sendBatch(ctx context.Context) (batchResult, error) {
	if w.cfg.Host == "" {
		n, err := w.hold(ctx)
		return batchResult{held: n}, err
	}
	started := time.Now()
	claimed, err := w.claim(ctx)
	if err != nil || len(claimed) == 0 {
		return batchResult{}, err
	}
	res := batchResult{claimed: len(claimed)}
	// The records after a send must be written even when ctx is cancelled:
	// a message that went out but is not marked sent is sent again.
	book := context.WithoutCancel(ctx)
	var errs []error

	client, conn, err := w.dial(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return res, w.release(book, claimed)
		}
		reason := "connecting to the mail server: " + oneLine(err.Error())
		w.logger.Warn("mailer: mail server unreachable", "error", reason, "messages", len(claimed))
		for _, s := range claimed {
			errs = append(errs, w.retryLater(book, s, outcome{reason: reason}))
		}
		return res, errors.Join(errs...)
	}
	defer w.hangUp(client, conn)

messages:
	for i, s := range claimed {
		// Stop early rather than outlive the lease, after which another
		// worker may take the same messages.
		if ctx.Err() != nil || (i > 0 && time.Since(started) > w.Lease-2*w.Timeout) {
			errs = append(errs, w.release(book, claimed[i:]))
			break messages
		}
		o := w.sendOne(conn, s)
		switch {
		case o.sent:
			res.sent++
			errs = append(errs, w.markSent(book, s))
		case o.permanent:
			errs = append(errs, w.markFailed(book, s, o))
		default:
			errs = append(errs, w.retryLater(book, s, o))
		}
		if o.broken {
			errs = append(errs, w.release(book, claimed[i+1:]))
			break messages
		}
	}
	return res, errors.Join(errs...)
}

// dial connects, says EHLO, starts TLS and authenticates with go-mail.
// The messages are then sent with the returned smtp.Client command by
// command, so that each failure comes with the server's own code and text
// (go-mail's Send would add the recipient's address to its error, which
// must not end up in logs or in last_error).
func (w *Worker) dial(ctx context.Context) (*mail.Client, *smtp.Client, error) {
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
		return nil, nil, err
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return nil, nil, err
	}
	w.noteRelay(conn)
	return client, conn, nil
}

func (w *Worker) hangUp(client *mail.Client, conn *smtp.Client) {
	if err := client.CloseWithSMTPClient(conn); err != nil {
		_ = conn.Close()
	}
}

// outcome is what one attempt at one message came to.
type outcome struct {
	sent      bool
	permanent bool
	// broken: the connection cannot be used for the rest of the batch.
	broken bool
	code   int // SMTP reply code, 0 for network errors
	reason string
}

func (w *Worker) sendOne(conn *smtp.Client, s Stored) outcome {
	m, err := compose(s, w.cfg, relayOffersUTF8(conn))
	if err != nil {
		return outcome{permanent: true, reason: "cannot build the message: " + err.Error()}
	}
	from, _ := sendableAddress(w.cfg.From) // compose checked both
	to, _ := sendableAddress(s.To)
	// One deadline for the whole exchange of this message.
	if err := conn.UpdateDeadline(w.Timeout); err != nil {
		return outcome{broken: true, reason: oneLine(err.Error())}
	}
	// A 5xx to MAIL FROM is about us (sender refused, authentication
	// needed), not about this message: it is retried like a 4xx, so a
	// configuration mistake does not throw mail away.
	if err := conn.Mail("<" + from + ">"); err != nil {
		return smtpFailure(conn, "MAIL FROM", err, false)
	}
	if err := conn.Rcpt("<" + to + ">"); err != nil {
		return smtpFailure(conn, "RCPT TO", err, true)
	}
	wc, err := conn.Data()
	if err != nil {
		return smtpFailure(conn, "DATA", err, true)
	}
	if _, err := m.WriteTo(wc); err != nil {
		return outcome{broken: true, reason: "writing the message: " + oneLine(err.Error())}
	}
	if err := wc.Close(); err != nil {
		return smtpFailure(conn, "end of DATA", err, true)
	}
	return outcome{sent: true}
}

// smtpFailure turns a failed SMTP command into an outcome. Only the
// server's reply goes into the reason. After a reply the transaction is
// reset so the next message can start; a network error ends the batch.
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

// claim takes up to BatchSize due messages for this worker: status becomes
// "sending" with a lease, attempts goes up and the Message-ID gets its
// domain, all in one write transaction. The UPDATE repeats the status
// condition, so the claim stays atomic on PostgreSQL too.
func (w *Worker) claim(ctx context.Context) ([]Stored, error) {
	if due, err := w.anythingDue(ctx, true); err != nil || !due {
		return nil, err
	}
	var claimed []Stored
	err := w.db.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		claimed = nil
		if err := w.requeueExpired(ctx, tx, now); err != nil {
			return err
		}
		// A mail server is configured now: held mail goes out.
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'queued', last_error = '' WHERE status = 'held'`); err != nil {
			return fmt.Errorf("mailer: release held mail: %w", err)
		}
		due, err := findMessages(ctx, tx, `status = 'queued' AND next_attempt_at <= ?`,
			`ORDER BY next_attempt_at, id LIMIT ?`, now, w.BatchSize)
		if err != nil {
			return err
		}
		until := now.Add(w.Lease)
		domain := w.cfg.fromDomain()
		for _, s := range due {
			s.MessageID = completeMessageID(s.MessageID, domain)
			res, err := tx.ExecContext(ctx, `UPDATE outbox
				SET status = 'sending', claimed_until = ?, attempts = attempts + 1, message_id = ?
				WHERE id = ? AND status = 'queued'`,
				until, s.MessageID, s.ID)
			if err != nil {
				return fmt.Errorf("mailer: claim message %d: %w", s.ID, err)
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				continue
			}
			s.Status = StatusSending
			s.Attempts++
			claimed = append(claimed, s)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mailer: claim: %w", err)
	}
	return claimed, nil
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
// worker that claimed them stopped without recording an outcome. They may
// have been delivered; they go out again with the same Message-ID.
func (w *Worker) requeueExpired(ctx context.Context, tx *sql.Tx, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'queued', claimed_until = NULL
		WHERE status = 'sending' AND claimed_until <= ?`, now)
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

func (w *Worker) markSent(ctx context.Context, s Stored) error {
	err := w.db.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox
			SET status = 'sent', sent_at = ?, claimed_until = NULL, last_error = ''
			WHERE id = ? AND status = 'sending'`, now, s.ID)
		return err
	})
	if err != nil {
		// It stays "sending" and goes out again when the lease ends.
		w.logger.Error("mailer: sent, but not recorded", "outbox_id", s.ID, "error", err)
		return fmt.Errorf("mailer: record message %d sent: %w", s.ID, err)
	}
	w.logger.Info("mailer: sent", "outbox_id", s.ID, "attempt", s.Attempts)
	return nil
}

func (w *Worker) markFailed(ctx context.Context, s Stored, o outcome) error {
	err := w.db.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'failed', claimed_until = NULL, last_error = ?
			WHERE id = ? AND status = 'sending'`, o.reason, s.ID)
		return err
	})
	if err != nil {
		w.logger.Error("mailer: failed, but not recorded", "outbox_id", s.ID, "error", err)
		return fmt.Errorf("mailer: record message %d failed: %w", s.ID, err)
	}
	w.logger.Error("mailer: failed", "outbox_id", s.ID, "attempt", s.Attempts, "smtp_code", o.code)
	return nil
}

// retryLater queues the message again after the backoff, or marks it
// failed when it has had all its attempts.
func (w *Worker) retryLater(ctx context.Context, s Stored, o outcome) error {
	if s.Attempts >= w.MaxAttempts {
		o.reason = truncate(fmt.Sprintf("gave up after %d attempts: %s", s.Attempts, o.reason), 500)
		return w.markFailed(ctx, s, o)
	}
	wait := w.Backoff(s.Attempts)
	err := w.db.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox
			SET status = 'queued', next_attempt_at = ?, claimed_until = NULL, last_error = ?
			WHERE id = ? AND status = 'sending'`,
			now.Add(wait), o.reason, s.ID)
		return err
	})
	if err != nil {
		w.logger.Error("mailer: deferred, but not recorded", "outbox_id", s.ID, "error", err)
		return fmt.Errorf("mailer: record message %d deferred: %w", s.ID, err)
	}
	w.logger.Warn("mailer: deferred", "outbox_id", s.ID, "attempt", s.Attempts, "smtp_code", o.code, "retry_in", wait)
	return nil
}

// release gives claimed messages back untried: the attempt is not counted
// and they are due at once.
func (w *Worker) release(ctx context.Context, claimed []Stored) error {
	if len(claimed) == 0 {
		return nil
	}
	err := w.db.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		for _, s := range claimed {
			if _, err := tx.ExecContext(ctx, `UPDATE outbox
				SET status = 'queued', claimed_until = NULL, attempts = attempts - 1
				WHERE id = ? AND status = 'sending'`, s.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// They stay "sending" and are taken again when the lease ends.
		w.logger.Error("mailer: could not give back claimed mail", "messages", len(claimed), "error", err)
		return fmt.Errorf("mailer: release %d messages: %w", len(claimed), err)
	}
	w.logger.Info("mailer: gave back unsent mail", "messages", len(claimed))
	return nil
}
