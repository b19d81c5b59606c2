package app

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"
)

// jobLease is how long a claim on a job lasts: longer than any run takes.
// A job whose instance died is taken over by another once it runs out.
// A variable so that a test can see the takeover without waiting half an
// hour; nothing else changes it.
var jobLease = 30 * time.Minute

// jobTick is how often an instance looks whether a job is due: a job
// whose last run was on an instance that died is run by another within
// this, not a whole interval later.
const jobTick = time.Minute

// newInstanceName is a random name for an App in job claims (App.instance).
// It is the App's, not the process's: two Apps in one process (tests) are
// two instances, as two processes would be.
func newInstanceName() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// every runs fn now and then every interval until ctx is done, on one
// instance at a time of those serving the database (see claimJob);
// errors are logged and the job goes on.
func (a *App) every(name string, interval time.Duration, fn func(ctx context.Context) error) func(ctx context.Context) {
	return func(ctx context.Context) {
		t := time.NewTicker(min(interval, jobTick))
		defer t.Stop()
		for {
			if err := a.runJob(ctx, name, interval, fn); err != nil && ctx.Err() == nil {
				a.Logger.Error("job failed", "job", name, "error", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}
}

// runJob runs fn if this instance can claim the job and it is due.
func (a *App) runJob(ctx context.Context, name string, interval time.Duration, fn func(ctx context.Context) error) error {
	claimed, err := a.claimJob(ctx, name, interval)
	if err != nil || !claimed {
		return err
	}
	runErr := fn(ctx)
	// The claim ends either way; a run that failed is not recorded as done,
	// so the next look (any instance's) runs it again. A run cut short by
	// a shutdown (ctx done) ends its claim too, so none of its statements
	// take ctx: left, the claim would keep every instance from the job for
	// the whole lease.
	ctx = context.WithoutCancel(ctx)
	err = a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		done := `, done_at = ?`
		args := []any{now}
		if runErr != nil {
			done, args = ``, nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE jobs SET holder = '', lease_until = NULL`+done+` WHERE name = ? AND holder = ?`,
			append(args, name, a.instance)...)
		return err
	})
	if runErr != nil {
		return runErr
	}
	if err != nil {
		return fmt.Errorf("app: end the claim on job %s: %w", name, err)
	}
	return nil
}

// claimJob takes the job for this instance when nobody holds it and its
// last good run is at least interval ago. The UPDATE's conditions are the
// claim: of instances trying at once, the database lets one through.
func (a *App) claimJob(ctx context.Context, name string, interval time.Duration) (bool, error) {
	claimed := false
	err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (name) VALUES (?) ON CONFLICT (name) DO NOTHING`, name); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET holder = ?, lease_until = ?
			WHERE name = ? AND (lease_until IS NULL OR lease_until < ?) AND (done_at IS NULL OR done_at <= ?)`,
			a.instance, now.Add(jobLease), name, now, now.Add(-interval).Add(slack(interval)))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("app: claim job %s: %w", name, err)
	}
	return claimed, nil
}

// jobSlack lets a job run up to this much before its interval is over, so
// that ticks a little early (the ticker's and the database's clocks) do
// not make a run wait a whole tick more.
const jobSlack = 5 * time.Second

// slack is jobSlack for a job of interval, and at most a tenth of it: a
// slack as long as a short interval (a test's) would let every tick run
// the job, on every instance in turn.
func slack(interval time.Duration) time.Duration { return min(jobSlack, interval/10) }
