package mailer

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

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
