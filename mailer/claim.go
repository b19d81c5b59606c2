package mailer

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

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
