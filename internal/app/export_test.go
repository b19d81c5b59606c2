package app

import (
	"context"
	"time"
)

// What the tests of package app_test (instances_test.go) reach inside for:
// the background jobs' claim, run by two instances at once.

// Every is every, for a test's own job.
func (a *App) Every(name string, interval time.Duration, fn func(ctx context.Context) error) func(ctx context.Context) {
	return a.every(name, interval, fn)
}

// Instance is the name this App claims jobs under.
func (a *App) Instance() string { return a.instance }

// JobSlack is how much before its interval is over a job may run again.
func JobSlack(interval time.Duration) time.Duration { return slack(interval) }

// SetJobLease shortens the lease of job claims until the test ends, so
// that a takeover can be seen in seconds. Set it before any job runs.
func SetJobLease(t interface{ Cleanup(func()) }, d time.Duration) {
	old := jobLease
	jobLease = d
	t.Cleanup(func() { jobLease = old })
}
