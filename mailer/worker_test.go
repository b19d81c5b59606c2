package mailer

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/pgtest"
)

// A relay that takes a whole message and never answers holds up only the
// sender of that message: the other mail goes out meanwhile. After the
// Timeout the silent message goes back to the queue with a backoff; the
// relay may have taken it, so it is sent again with the same Message-ID.
func TestSilentRelayHoldsUpOnlyItsOwnMessage(t *testing.T) {
	d, _ := openTestDB(t)
	ts := startTestServer(t)
	const silentTo = "treig.mottaker@example.no"
	hung, answer := ts.HangFor(t, silentTo)
	slow := plainMessage(0)
	slow.To = silentTo
	slowID := mustEnqueue(t, d, slow) // the oldest: claimed first
	const others = 20
	mustEnqueueMany(t, d, others)

	w := newTestWorker(t, d, testConfig(ts), nil)
	w.Timeout = 5 * time.Second
	w.Backoff = func(int) time.Duration { return time.Hour }
	stop := runWorker(w)
	waitFor(t, "the silent message to reach the end of DATA", func() bool {
		select {
		case <-hung:
			return true
		default:
			return false
		}
	})
	waitFor(t, "the other messages", func() bool { return countStatus(t, d, StatusSent) == others })
	if s := mustGet(t, d, slowID); s.Status != StatusSending {
		t.Fatalf("when the other %d were sent the silent relay's message was %s: they waited for it", others, s.Status)
	}
	waitFor(t, "the silent message's timeout", func() bool { return mustGet(t, d, slowID).Status == StatusQueued })
	stop()

	s := mustGet(t, d, slowID)
	if s.Attempts != 1 || !strings.Contains(s.LastError, "timeout") || s.NextAttemptAt.Before(time.Now().Add(30*time.Minute)) {
		t.Fatalf("after the timeout: attempts %d, next attempt %v, error %q; want a retry after the backoff",
			s.Attempts, s.NextAttemptAt, s.LastError)
	}
	// The relay did take it, only never said so.
	answer()
	waitFor(t, "the relay to keep the first copy", func() bool { return len(ts.Messages()) == others+1 })

	d.Now = func() time.Time { return time.Now().Add(61 * time.Minute) }
	if sent := drain(t, newTestWorker(t, d, testConfig(ts), nil)); sent != 1 {
		t.Fatalf("sent %d after the backoff, want the silent message", sent)
	}
	arrived := ts.messageIDs(t)
	if got := mustGet(t, d, slowID); got.Status != StatusSent || arrived[got.MessageID] != 2 {
		t.Fatalf("silent message: %s, arrived %d times; want sent, twice with one Message-ID", got.Status, arrived[got.MessageID])
	}
	if len(arrived) != others+1 {
		t.Fatalf("%d distinct messages arrived, want %d", len(arrived), others+1)
	}
}

// A worker killed (kill -9) right after it claimed a message leaves the row
// "sending". Another process sends it once the claim's lease has run out,
// with the worker's real settings: about a minute, not before the lease
// (a live worker's claim must not be taken) and well within the minute and
// a half this test allows. The rule is a time bound, so the test measures
// real time; it runs beside the package's other tests.
func TestKilledWorkersMailIsSentWithinAboutAMinute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := newDatabase(t)
	dead, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ts := startTestServer(t)
	cfg := testConfig(ts)
	id := mustEnqueue(t, dead, plainMessage(1))
	killed := NewWorker(dead, cfg, nil)
	if _, ok, err := killed.take(ctx); !ok || err != nil {
		t.Fatalf("claim = %v, %v", ok, err)
	}
	at := time.Now()
	dead.Close() // no renewals, no records from here on

	d := openDBAt(t, path)
	w := NewWorker(d, cfg, slog.New(slog.NewTextHandler(t.Output(), nil)))
	w.PollInterval = 5 * time.Second // as the app runs it
	stop := runWorker(w)
	defer stop()
	deadline := at.Add(2 * time.Minute)
	for len(ts.Messages()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("not sent within %v of the kill", time.Since(at).Round(time.Second))
		}
		time.Sleep(50 * time.Millisecond)
	}
	after := time.Since(at)
	t.Logf("sent again %v after the kill (lease %v, poll %v)", after.Round(10*time.Millisecond), w.Lease, w.PollInterval)
	if after < w.Lease-time.Second {
		t.Errorf("sent %v after the kill, before the lease of %v ran out", after, w.Lease)
	}
	if after > 90*time.Second {
		t.Errorf("sent %v after the kill; want about a minute", after)
	}
	waitFor(t, "the record", func() bool { return mustGet(t, d, id).Status == StatusSent })
	if s := mustGet(t, d, id); s.Attempts != 2 || ts.messageIDs(t)[s.MessageID] != 1 {
		t.Errorf("attempts %d, arrived %d times", s.Attempts, ts.messageIDs(t)[s.MessageID])
	}
}

// sharedClock is one clock for two processes' databases, moved by hand.
type sharedClock struct{ offset atomic.Int64 }

func (c *sharedClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *sharedClock) advance(d time.Duration) { c.offset.Add(int64(d)) }
func (c *sharedClock) on(dbs ...*db.DB) *sharedClock {
	for _, d := range dbs {
		d.Now = c.now
	}
	return c
}

// A live worker renews its claim, so the other worker does not take it even
// when the claim is older than a lease; a claim that is not renewed (its
// worker was killed) is taken after the same time.
func TestRenewedClaimIsNotTakenAfterItsFirstLease(t *testing.T) {
	ctx := context.Background()
	dA, path := openTestDB(t)
	dB := openDBAt(t, path)
	clock := (&sharedClock{}).on(dA, dB)
	ts := startTestServer(t)
	cfg := testConfig(ts)
	liveID := mustEnqueue(t, dA, plainMessage(1))
	deadID := mustEnqueue(t, dA, plainMessage(2))

	live, other := newTestWorker(t, dA, cfg, nil), newTestWorker(t, dB, cfg, nil)
	killed := newTestWorker(t, dA, cfg, nil)
	held, ok, err := live.take(ctx)
	if !ok || err != nil || held.ID != liveID {
		t.Fatalf("live worker's claim: %v, %v", ok, err)
	}
	if _, ok, err := killed.take(ctx); !ok || err != nil {
		t.Fatalf("killed worker's claim: %v, %v", ok, err)
	}
	for range 2 {
		clock.advance(2 * live.Lease / 3)
		if err := live.renew(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Now 4/3 of a lease after both claims.
	if sent := drain(t, other); sent != 1 || mustGet(t, dB, deadID).Status != StatusSent {
		t.Fatalf("the other worker sent %d; want only the killed worker's message", sent)
	}
	var by string
	if err := dB.Read().QueryRow(`SELECT claimed_by FROM outbox WHERE id = ? AND status = 'sending'`, liveID).Scan(&by); err != nil || by != held.token {
		t.Fatalf("the renewed claim: claimed by %q (%v), want still %q", by, err, held.token)
	}
	if res, err := live.round(ctx, held); res.sent != 1 || err != nil {
		t.Fatalf("the live worker sent %d of its claim, %v", res.sent, err)
	}
	for id, n := range ts.messageIDs(t) {
		if n != 1 {
			t.Errorf("%s arrived %d times", id, n)
		}
	}
	if s := mustGet(t, dA, liveID); s.Status != StatusSent || s.Attempts != 1 {
		t.Errorf("renewed message: %s after %d attempts", s.Status, s.Attempts)
	}
}

// A worker whose renewal finds its row gone does not send it: another
// worker took it after this one stalled past its lease, or an erasure
// deleted it.
func TestLostClaimIsNotSent(t *testing.T) {
	for _, tt := range []struct {
		name string
		lose func(t *testing.T, clock *sharedClock, other *Worker, id int64)
		want int // arrivals
	}{
		{"taken by another worker", func(t *testing.T, clock *sharedClock, other *Worker, id int64) {
			clock.advance(other.Lease + time.Second)
			if sent := drain(t, other); sent != 1 {
				t.Fatalf("the other worker sent %d of the expired claim, want 1", sent)
			}
		}, 1},
		{"deleted by an erasure", func(t *testing.T, _ *sharedClock, other *Worker, id int64) {
			err := other.db.Tx(context.Background(), func(tx *sql.Tx, _ time.Time) error {
				_, err := ForgetTo(context.Background(), tx, "deltaker1@example.no", nil)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dA, path := openTestDB(t)
			dB := openDBAt(t, path)
			clock := (&sharedClock{}).on(dA, dB)
			ts := startTestServer(t)
			cfg := testConfig(ts)
			id := mustEnqueue(t, dA, plainMessage(1))
			stalled, other := newTestWorker(t, dA, cfg, nil), newTestWorker(t, dB, cfg, nil)
			c, ok, err := stalled.take(ctx)
			if !ok || err != nil {
				t.Fatalf("claim: %v, %v", ok, err)
			}
			tt.lose(t, clock, other, id)
			if err := stalled.renew(ctx); err != nil {
				t.Fatal(err)
			}
			if res, err := stalled.round(ctx, c); res.sent != 0 || err != nil {
				t.Fatalf("the worker that lost its claim sent %d (%v)", res.sent, err)
			}
			if got := len(ts.Messages()); got != tt.want {
				t.Fatalf("%d arrived, want %d", got, tt.want)
			}
		})
	}
}

// Two live workers, each with its senders and its heartbeat renewing the
// claims while the relay takes its time, over many messages: every message
// arrives exactly once (run with -race).
func TestTwoRenewingWorkersSendEachMessageOnce(t *testing.T) {
	d1, path := openTestDB(t)
	d2 := openDBAt(t, path)
	ts := startTestServer(t)
	ts.SlowData(40 * time.Millisecond) // 300 messages take 1.5 s or more
	cfg := testConfig(ts)
	const n = 300
	mustEnqueueMany(t, d1, n)
	var logs1, logs2 syncBuffer
	w1, w2 := newTestWorker(t, d1, cfg, &logs1), newTestWorker(t, d2, cfg, &logs2)
	for _, w := range []*Worker{w1, w2} {
		// Short, so that the heartbeat (every second) runs during the test.
		w.Lease, w.Timeout = 3*time.Second, 1500*time.Millisecond
	}
	stop1, stop2 := runWorker(w1), runWorker(w2)
	waitFor(t, "all sent", func() bool { return countStatus(t, d1, StatusSent) == n })
	stop1()
	stop2()

	arrived := ts.messageIDs(t)
	if len(ts.Messages()) != n || len(arrived) != n {
		t.Fatalf("%d arrived with %d distinct Message-IDs, want %d and %d", len(ts.Messages()), len(arrived), n, n)
	}
	sent1, sent2 := strings.Count(logs1.String(), `msg="mailer: sent"`), strings.Count(logs2.String(), `msg="mailer: sent"`)
	t.Logf("worker 1 sent %d and renewed %d claims, worker 2 sent %d and renewed %d", sent1, w1.renewed.Load(), sent2, w2.renewed.Load())
	if sent1 == 0 || sent2 == 0 || sent1+sent2 != n {
		t.Fatalf("worker 1 sent %d, worker 2 sent %d; want both to take part, %d in all", sent1, sent2, n)
	}
	if w1.renewed.Load()+w2.renewed.Load() == 0 {
		t.Fatal("no claim was renewed: the test proves nothing about renewals")
	}
	if n := countStatus(t, d1, StatusSending); n != 0 {
		t.Fatalf("%d left sending", n)
	}
}

// A message marked DeleteWhenSent is gone once it is out, sent or refused
// for good: from the table and from the bytes of the database and its
// write-ahead log, right after the commit that records it.
func TestDeleteWhenSentLeavesNoCopy(t *testing.T) {
	d, path := openTestDB(t)
	ts := startTestServer(t)
	ts.RejectRcpt("borte@example.no")
	receipt := plainMessage(1)
	receipt.To, receipt.TextBody, receipt.DeleteWhenSent = "kvittering.mottaker@example.no", "Kvittering QX7-PLOMME.", true
	refused := receipt
	refused.To, refused.TextBody = "borte@example.no", "Kvittering ZY9-SVISKE."
	kept := plainMessage(2)
	kept.TextBody = "Beholdes KV3-EPLE."
	receiptID, refusedID, keptID := mustEnqueue(t, d, receipt), mustEnqueue(t, d, refused), mustEnqueue(t, d, kept)
	marks := []string{"kvittering.mottaker", "QX7-PLOMME", "ZY9-SVISKE"}
	files := func() map[string]bool {
		found := map[string]bool{}
		for _, p := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			for _, m := range marks {
				if bytes.Contains(b, []byte(m)) {
					found[m] = true
				}
			}
		}
		return found
	}
	// The files are SQLite's; on PostgreSQL, what a deleted row leaves in
	// its pages is internal/db's test of EraseTraces, and its WAL is
	// docs/DEPLOY.md's.
	onFile := !pgtest.Enabled()
	if got := files(); onFile && len(got) != len(marks) {
		t.Fatalf("before sending the files hold %v: the scan is broken", got)
	}

	if sent := drain(t, newTestWorker(t, d, testConfig(ts), nil)); sent != 2 {
		t.Fatalf("sent %d, want 2", sent)
	}
	for _, id := range []int64{receiptID, refusedID} {
		if _, err := Get(context.Background(), d.Read(), id); !errors.Is(err, ErrNotFound) {
			t.Errorf("message %d is still stored (%v)", id, err)
		}
	}
	if s := mustGet(t, d, keptID); s.Status != StatusSent {
		t.Errorf("an unmarked message: %s, want kept as sent", s.Status)
	}
	if got := files(); onFile && len(got) > 0 {
		t.Errorf("right after sending the files still hold %v", got)
	}
	if len(ts.Messages()) != 2 || !bytes.Contains(ts.Messages()[0].Data, []byte("QX7-PLOMME")) {
		t.Fatalf("the marked message did not arrive as sent")
	}
}

// A relay that accepts the connection and never greets: a shutdown does
// not wait for go-mail's Timeout on the greeting, and the message goes back
// untried.
func TestShutdownWhileTheRelayNeverGreets(t *testing.T) {
	d, _ := openTestDB(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- c // and say nothing
		}
	}()
	t.Cleanup(func() {
		l.Close()
		select {
		case c := <-accepted:
			c.Close()
		default:
		}
	})
	id := mustEnqueue(t, d, plainMessage(1))
	cfg := testConfig(&testServer{Port: l.Addr().(*net.TCPAddr).Port})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		newTestWorker(t, d, cfg, nil).Run(ctx)
		close(done)
	}()
	var conn net.Conn
	select {
	case conn = <-accepted:
		accepted <- conn // for the cleanup
	case <-time.After(60 * time.Second):
		t.Fatal("the worker never connected")
	}
	cancel()
	// Generous: the bound only catches a worker that waits out its 30 s
	// Timeout.
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return while the relay said nothing")
	}
	if s := mustGet(t, d, id); s.Status != StatusQueued || s.Attempts != 0 {
		t.Fatalf("after the shutdown: %s, attempts %d; want queued, untried", s.Status, s.Attempts)
	}
}
