package mailer

import (
	"context"
	"database/sql"
)

// The statements of a claim and of a message's outcome: an outcome changes
// the row only while it still carries the claim.
const (
	dueWhere = `status = 'queued' AND next_attempt_at <= ?`
	dueTail  = `ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`
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
