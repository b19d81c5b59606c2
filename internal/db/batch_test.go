package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func openBatchDB(t *testing.T) *DB {
	t.Helper()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "batch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// holdWriter keeps the writer busy until the returned func is called and
// the queue holds want jobs, so that they all run as one group.
func holdWriter(t *testing.T, d *DB, want int) (release func()) {
	t.Helper()
	held, free := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- d.Tx(context.Background(), func(*sql.Tx, time.Time) error {
			close(held)
			<-free
			return nil
		})
	}()
	<-held
	return func() {
		waitQueued(d, want)
		close(free)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func regionSlugs(t *testing.T, d *DB) string {
	t.Helper()
	rows, err := d.Read().Query(`SELECT slug FROM regions ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var slugs []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		slugs = append(slugs, s)
	}
	return strings.Join(slugs, " ")
}

func insert(tx *sql.Tx, slug string) error {
	_, err := tx.Exec(`INSERT INTO regions (slug, name) VALUES (?, ?)`, slug, slug)
	return err
}

// TestBatchGroupsCallers runs queued callers as one group and checks that
// each caller got its own outcome: the failing ones lost only their own
// changes, the others were committed, once, in arrival order.
func TestBatchGroupsCallers(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name string
		fn   func(tx *sql.Tx, now time.Time) error
		want error // nil: its region is saved
	}{
		{"a", func(tx *sql.Tx, _ time.Time) error { return insert(tx, "a") }, nil},
		{"fails after writing", func(tx *sql.Tx, _ time.Time) error {
			if err := insert(tx, "half-done"); err != nil {
				return err
			}
			return boom
		}, boom},
		{"b", func(tx *sql.Tx, _ time.Time) error { return insert(tx, "b") }, nil},
		{"duplicate of a", func(tx *sql.Tx, _ time.Time) error { return insert(tx, "a") }, ErrUnique},
		{"panics", func(tx *sql.Tx, _ time.Time) error {
			insert(tx, "panicked")
			panic("bug")
		}, errPanic},
		{"sees the ones before", func(tx *sql.Tx, _ time.Time) error {
			var n int
			if err := tx.QueryRow(`SELECT COUNT(*) FROM regions`).Scan(&n); err != nil {
				return err
			}
			return insert(tx, fmt.Sprintf("after-%d", n))
		}, nil},
	}
	d := openBatchDB(t)
	commits := 0
	d.OnCommit(func() { commits++ })
	release := holdWriter(t, d, len(cases))
	gen := d.Generation()

	errs := make([]error, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		// queue in the table's order
		waitQueued(d, i)
		wg.Go(func() { errs[i] = d.Batch(context.Background(), c.fn) })
	}
	release()
	wg.Wait()

	for i, c := range cases {
		switch {
		case c.want == errPanic:
			if errs[i] == nil || !strings.Contains(errs[i].Error(), "panic") {
				t.Errorf("%s: err %v, want the panic as an error", c.name, errs[i])
			}
		case !errors.Is(errs[i], c.want):
			t.Errorf("%s: err %v, want %v", c.name, errs[i], c.want)
		}
	}
	if got, want := regionSlugs(t, d), "a b after-2"; got != want {
		t.Errorf("regions %q, want %q (failed callers' changes undone, the rest in order)", got, want)
	}
	if d.Generation() != gen+2 || commits != 2 {
		t.Errorf("generation moved by %d, commit hooks ran %d times; want 2: the holder's commit and one for the whole group", d.Generation()-gen, commits)
	}
}

// errPanic marks a case whose fn panics.
var errPanic = errors.New("panic")

func waitQueued(d *DB, n int) {
	for {
		d.batch.mu.Lock()
		q := len(d.batch.jobs)
		d.batch.mu.Unlock()
		if q >= n {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func TestBatchCallerThatGivesUpRunsNothing(t *testing.T) {
	d := openBatchDB(t)
	release := holdWriter(t, d, 0)
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	errc := make(chan error, 1)
	go func() {
		errc <- d.Batch(ctx, func(tx *sql.Tx, _ time.Time) error { ran = true; return insert(tx, "late") })
	}()
	waitQueued(d, 1)
	cancel()
	err := <-errc
	release()
	if !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("err %v, ran %v; want context.Canceled and the fn never run", err, ran)
	}
	if got := regionSlugs(t, d); got != "" {
		t.Fatalf("regions %q after a caller gave up", got)
	}
}

// TestBatchRace is for -race: many callers, some failing, with plain
// transactions in between; every success is saved, every failure not.
func TestBatchRace(t *testing.T) {
	d := openBatchDB(t)
	const n = 300
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			slug := fmt.Sprintf("r%03d", i)
			fn := func(tx *sql.Tx, _ time.Time) error { return insert(tx, slug) }
			switch {
			case i%7 == 0:
				errs[i] = d.Tx(context.Background(), fn)
			case i%5 == 0:
				errs[i] = d.Batch(context.Background(), func(tx *sql.Tx, now time.Time) error {
					fn(tx, now)
					return fmt.Errorf("refused %d", i)
				})
			default:
				errs[i] = d.Batch(context.Background(), fn)
			}
		})
	}
	wg.Wait()
	var want []string
	for i, err := range errs {
		if i%5 == 0 && i%7 != 0 {
			if err == nil {
				t.Errorf("caller %d: no error", i)
			}
			continue
		}
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
		want = append(want, fmt.Sprintf("r%03d", i))
	}
	var got []string
	rows, err := d.Read().Query(`SELECT slug FROM regions ORDER BY slug`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("saved %d regions, want %d:\n%v\n%v", len(got), len(want), got, want)
	}
}

// TestBatchMoreCallersThanAGroup: with more jobs queued than one group
// takes (maxBatch), the caller that gets the writer runs groups until its
// own job is done, even when it was queued behind a whole group (as it can
// be when the callers before it have not reached the writer gate yet).
func TestBatchMoreCallersThanAGroup(t *testing.T) {
	d := openBatchDB(t)
	var ahead []*batchJob
	for i := range maxBatch + 5 {
		ahead = append(ahead, &batchJob{ctx: context.Background(), done: make(chan error, 1),
			fn: func(tx *sql.Tx, _ time.Time) error { return insert(tx, fmt.Sprintf("ahead%03d", i)) }})
	}
	d.batch.jobs = ahead // queued by callers still on their way to the gate
	if err := d.Batch(context.Background(), func(tx *sql.Tx, _ time.Time) error { return insert(tx, "last") }); err != nil {
		t.Fatal(err)
	}
	for i, j := range ahead {
		if err := <-j.done; err != nil {
			t.Errorf("job %d ahead: %v", i, err)
		}
	}
	if got := regionSlugs(t, d); !strings.HasSuffix(got, "ahead068 last") || strings.Count(got, " ")+1 != maxBatch+6 {
		t.Fatalf("regions %q: want every job, in order", got)
	}
}
