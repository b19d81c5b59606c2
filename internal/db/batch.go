package db

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// maxBatch bounds how many callers share one transaction, so one commit
// never holds up the writers behind it for long.
const maxBatch = 64

// A batchJob is one caller's part of a shared transaction.
type batchJob struct {
	ctx  context.Context
	fn   func(tx *sql.Tx, now time.Time) error
	done chan error // buffered: the leader never waits for the caller
}

// batchQueue holds the jobs waiting for the next shared transaction.
type batchQueue struct {
	mu   sync.Mutex
	jobs []*batchJob
}

// Batch is Tx with group commit: fn may share its transaction, and so its
// commit (and fsync), with other callers' fns queued behind the same
// writer. Under a rush the cost of committing, most of a small
// transaction's, is paid once per group instead of once per caller; with
// one caller at a time it is a plain transaction.
//
// Each fn runs inside a savepoint of its own and sees every change made by
// the fns before it, in arrival order, as if the transactions ran one
// after the other. An fn that fails is rolled back alone and its caller
// gets its error; the others carry on. Batch returns only after the shared
// transaction has committed (nil) or failed (the error, for every fn of
// the group), so nothing a caller was told is saved can be lost, and
// nothing half-done remains.
//
// fn must not keep state outside the transaction that another fn of the
// group could depend on, and must not hold on to tx.
func (d *DB) Batch(ctx context.Context, fn func(tx *sql.Tx, now time.Time) error) error {
	job := &batchJob{ctx: ctx, fn: fn, done: make(chan error, 1)}
	d.batch.mu.Lock()
	d.batch.jobs = append(d.batch.jobs, job)
	d.batch.mu.Unlock()
	// Whoever holds the writer gate runs the queued jobs, oldest first, in
	// groups, until its own is done: either this caller gets the gate and
	// leads, or another leader runs its job first.
	select {
	case d.gate <- struct{}{}:
		defer func() { <-d.gate }()
		for {
			select {
			case err := <-job.done:
				return err
			default:
				d.runBatch(d.takeBatch())
			}
		}
	case err := <-job.done:
		return err
	case <-ctx.Done():
		if d.dequeue(job) {
			return fmt.Errorf("db: waiting to write: %w", ctx.Err())
		}
		// a leader has it: its fn sees the cancelled context
		return <-job.done
	}
}

// takeBatch removes up to maxBatch jobs from the queue, oldest first.
func (d *DB) takeBatch() []*batchJob {
	d.batch.mu.Lock()
	defer d.batch.mu.Unlock()
	n := min(len(d.batch.jobs), maxBatch)
	jobs := d.batch.jobs[:n:n]
	d.batch.jobs = d.batch.jobs[n:]
	return jobs
}

// dequeue removes a job nobody has taken yet; false if a leader has it.
func (d *DB) dequeue(job *batchJob) bool {
	d.batch.mu.Lock()
	defer d.batch.mu.Unlock()
	for i, j := range d.batch.jobs {
		if j == job {
			d.batch.jobs = append(d.batch.jobs[:i:i], d.batch.jobs[i+1:]...)
			return true
		}
	}
	return false
}

// runBatch runs jobs in one transaction and tells each caller the outcome.
// The caller holds the writer gate.
func (d *DB) runBatch(jobs []*batchJob) {
	errs := make([]error, len(jobs))
	fail := func(err error) {
		d.failed(err)
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	defer func() {
		for i, j := range jobs {
			j.done <- errs[i]
		}
	}()
	if err := d.refusal(); err != nil {
		fail(err)
		return
	}
	// Not any one caller's context: one caller giving up must not roll
	// back the others.
	tx, err := d.write.BeginTx(context.Background(), nil)
	if err != nil {
		fail(fmt.Errorf("db: begin: %w", Classify(err)))
		return
	}
	defer tx.Rollback()
	ok := 0
	for i, j := range jobs {
		if err := j.ctx.Err(); err != nil {
			errs[i] = fmt.Errorf("db: waiting to write: %w", err)
			continue
		}
		if _, err := tx.Exec(`SAVEPOINT batch_job`); err != nil {
			fail(fmt.Errorf("db: savepoint: %w", Classify(err)))
			return
		}
		if errs[i] = runJob(j, tx, d.Now().UTC().Truncate(time.Microsecond)); errs[i] != nil {
			d.failed(errs[i])
			if _, err := tx.Exec(`ROLLBACK TO batch_job`); err != nil {
				fail(fmt.Errorf("db: rollback to savepoint: %w", Classify(err)))
				return
			}
		} else {
			ok++
		}
		if _, err := tx.Exec(`RELEASE batch_job`); err != nil {
			fail(fmt.Errorf("db: release savepoint: %w", Classify(err)))
			return
		}
	}
	if ok == 0 {
		return // the deferred rollback ends the empty transaction
	}
	if err := d.announce(context.Background(), tx); err != nil {
		fail(d.failed(fmt.Errorf("db: announce: %w", Classify(err))))
		return
	}
	if err := tx.Commit(); err != nil {
		fail(fmt.Errorf("db: commit: %w", Classify(err)))
		return
	}
	d.committed()
}

// runJob runs one caller's fn; a panic becomes that caller's error rather
// than ending the process from another caller's goroutine.
func runJob(j *batchJob, tx *sql.Tx, now time.Time) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("db: panic in a batched transaction: %v", p)
		}
	}()
	return Classify(j.fn(tx, now))
}
