package mailer

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
