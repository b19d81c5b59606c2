package mailer

// Tests of crashes, restarts and concurrency: a shutdown mid-message, a
// crash after sending, an expired claim, two workers, mail held while no
// mail server is configured.

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/db"
)

// A shutdown while the relay sits on a message cuts the exchange off after
// a second's grace: Run returns, the message goes back to the queue (the relay may have
// taken it) and nothing is left "sending". After a restart every message
// arrives; only a message cut off arrives twice, with one Message-ID.
func TestShutdownCutsOffTheMessageInFlight(t *testing.T) {
	d, path := openTestDB(t)
	ts := startTestServer(t)
	cfg := testConfig(ts)
	var ids []int64
	for i := range 12 {
		ids = append(ids, mustEnqueue(t, d, plainMessage(i)))
	}
	cutID := ids[2]
	hung, answer := ts.HangFor(t, mustGet(t, d, cutID).To)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w := newTestWorker(t, d, cfg, nil)
	go func() {
		w.Run(ctx)
		close(done)
	}()
	select {
	case <-hung:
	case <-time.After(60 * time.Second):
		t.Fatal("the third message never reached the end of DATA")
	}
	cancel() // shutdown while the relay has not answered the third message
	// The relay stays silent: Run must not wait for it (nor for the 30 s
	// Timeout). Generous: the rule is "promptly", the bound only catches
	// a worker that waits out its Timeout.
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return while the relay was silent")
	}
	answer() // the relay took it after all

	if n := countStatus(t, d, StatusSending); n != 0 {
		t.Fatalf("%d messages left in sending after a clean stop", n)
	}
	cut := mustGet(t, d, cutID)
	if cut.Status != StatusQueued || cut.Attempts != 1 || !strings.Contains(cut.LastError, "shut") ||
		cut.NextAttemptAt.After(time.Now()) {
		t.Fatalf("the cut-off message: %s, attempts %d, next %v, error %q; want queued at once, the attempt counted",
			cut.Status, cut.Attempts, cut.NextAttemptAt, cut.LastError)
	}
	waitFor(t, "the relay to keep its late copy", func() bool { return ts.messageIDs(t)[cut.MessageID] == 1 })
	// The other senders' exchanges had a moment to finish; one that did
	// not (a very busy machine) was cut off too.
	interrupted := map[int64]bool{}
	for _, id := range ids {
		if strings.Contains(mustGet(t, d, id).LastError, "shut") {
			interrupted[id] = true
		}
	}
	if len(interrupted) > 1 {
		t.Logf("%d messages cut off by the shutdown", len(interrupted))
	}

	// Restart: a new process, a new connection to the same file.
	d2 := openDBAt(t, path)
	drain(t, newTestWorker(t, d2, cfg, nil))

	arrived := ts.messageIDs(t)
	for _, id := range ids {
		s := mustGet(t, d2, id)
		ok := arrived[s.MessageID] == 1 || (interrupted[id] && arrived[s.MessageID] == 2)
		if id == cutID {
			ok = arrived[s.MessageID] == 2
		}
		if s.Status != StatusSent || !ok {
			t.Errorf("message %d: %s, arrived %d times (cut off: %v)", id, s.Status, arrived[s.MessageID], interrupted[id])
		}
	}
}

// A worker that dies after the server accepted a message but before it
// recorded that (here: its database goes away) leaves the row "sending".
// After the lease another worker sends it again with the same Message-ID:
// at-least-once, and the receiver can tell it is a copy.
func TestCrashAfterSendResendsWithSameMessageID(t *testing.T) {
	ctx := context.Background()
	path := newDatabase(t)
	dA, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ts := startTestServer(t)
	cfg := testConfig(ts)
	first := mustEnqueue(t, dA, plainMessage(1))
	second := mustEnqueue(t, dA, plainMessage(2))

	var crash sync.Once
	ts.afterData = func() { crash.Do(func() { dA.Close() }) }
	wA := newTestWorker(t, dA, cfg, nil)
	wA.PerConnection = 1
	if _, err := wA.SendDue(ctx); err == nil {
		t.Fatal("SendDue recorded the send although the database was gone")
	}
	ts.mu.Lock()
	ts.afterData = nil
	ts.mu.Unlock()

	dB := openDBAt(t, path)
	if s := mustGet(t, dB, first); s.Status != StatusSending {
		t.Fatalf("after the crash the first message is %s, want sending", s.Status)
	}
	wB := newTestWorker(t, dB, cfg, nil)
	if sent := drain(t, wB); sent != 1 {
		t.Fatalf("before the lease ends the new worker sent %d, want only the second message", sent)
	}
	dB.Now = func() time.Time { return time.Now().Add(wB.Lease + time.Minute) }
	if sent := drain(t, wB); sent != 1 {
		t.Fatalf("after the lease the new worker sent %d, want 1", sent)
	}

	s1, s2 := mustGet(t, dB, first), mustGet(t, dB, second)
	arrived := ts.messageIDs(t)
	if s1.Status != StatusSent || s1.Attempts != 2 || arrived[s1.MessageID] != 2 {
		t.Fatalf("first message: %s after %d attempts, arrived %d times with its Message-ID, want sent, 2, 2",
			s1.Status, s1.Attempts, arrived[s1.MessageID])
	}
	if s2.Status != StatusSent || arrived[s2.MessageID] != 1 {
		t.Fatalf("second message: %s, arrived %d times", s2.Status, arrived[s2.MessageID])
	}
}

// A worker that dies after claiming, before sending: the messages wait for
// the lease and are then sent once.
func TestExpiredClaimIsSentOnce(t *testing.T) {
	d, _ := openTestDB(t)
	ts := startTestServer(t)
	cfg := testConfig(ts)
	for i := range 3 {
		mustEnqueue(t, d, plainMessage(i))
	}
	dead := newTestWorker(t, d, cfg, nil)
	for range 3 {
		if _, ok, err := dead.take(context.Background()); !ok || err != nil {
			t.Fatalf("claim = %v, %v", ok, err)
		}
	}
	w := newTestWorker(t, d, cfg, nil)
	if sent := drain(t, w); sent != 0 {
		t.Fatalf("sent %d claimed messages before their lease ended", sent)
	}
	d.Now = func() time.Time { return time.Now().Add(w.Lease + time.Second) }
	if sent := drain(t, w); sent != 3 {
		t.Fatalf("sent %d after the lease, want 3", sent)
	}
	for mid, n := range ts.messageIDs(t) {
		if n != 1 {
			t.Errorf("%s arrived %d times", mid, n)
		}
	}
}

func TestTwoWorkersNeverSendTwice(t *testing.T) {
	d1, path := openTestDB(t)
	ts := startTestServer(t)
	// As a relay does, it takes a moment: with an instant one, the first
	// worker's senders can keep SQLite's write lock busy back to back and
	// the other process (waiting in SQLite's busy handler, not in our
	// queue) gets no turn while the 300 go out.
	ts.SlowData(5 * time.Millisecond)
	cfg := testConfig(ts)
	const n = 300
	mustEnqueueMany(t, d1, n)
	// Two processes: each its own pools on the same file.
	d2 := openDBAt(t, path)
	var logs1, logs2 syncBuffer
	w1, w2 := newTestWorker(t, d1, cfg, &logs1), newTestWorker(t, d2, cfg, &logs2)
	w1.PerConnection, w2.PerConnection = 4, 4
	stop1, stop2 := runWorker(w1), runWorker(w2)
	waitFor(t, "all sent", func() bool { return countStatus(t, d1, StatusSent) == n })
	stop1()
	stop2()

	arrived := ts.messageIDs(t)
	if len(ts.Messages()) != n || len(arrived) != n {
		t.Fatalf("%d arrived with %d distinct Message-IDs, want %d and %d", len(ts.Messages()), len(arrived), n, n)
	}
	sent1, sent2 := strings.Count(logs1.String(), `msg="mailer: sent"`), strings.Count(logs2.String(), `msg="mailer: sent"`)
	t.Logf("worker 1 sent %d, worker 2 sent %d", sent1, sent2)
	if sent1 == 0 || sent2 == 0 || sent1+sent2 != n {
		t.Fatalf("worker 1 sent %d, worker 2 sent %d; want both to take part, %d in all", sent1, sent2, n)
	}
}

func TestHeldWithoutMailServerThenSentWithOne(t *testing.T) {
	d, path := openTestDB(t)
	ts := startTestServer(t)
	noServer := testConfig(ts)
	noServer.Host, noServer.Port = "", 0
	if err := noServer.Validate(); err != nil {
		t.Fatalf("a config without host is valid: %v", err)
	}
	ids := []int64{mustEnqueue(t, d, invitation()), mustEnqueue(t, d, plainMessage(1))}

	w := newTestWorker(t, d, noServer, nil)
	stop := runWorker(w)
	waitFor(t, "held", func() bool { return countStatus(t, d, StatusHeld) == 2 })
	stop()
	for _, id := range ids {
		s := mustGet(t, d, id)
		if s.LastError != HeldReason || s.Attempts != 0 {
			t.Errorf("held message %d: error %q, attempts %d", id, s.LastError, s.Attempts)
		}
	}
	if depth, _ := QueueDepth(context.Background(), d.Read()); depth != 0 {
		t.Errorf("queue depth %d with only held mail, want 0", depth)
	}
	raw, err := Raw(context.Background(), d.Read(), noServer, ids[0])
	if err != nil || !bytes.Contains(raw, []byte("text/calendar; method=REQUEST")) {
		t.Fatalf("Raw of a held message: %v\n%s", err, raw)
	}
	if len(ts.Messages()) != 0 {
		t.Fatal("mail was sent without a mail server configured")
	}

	// Restart with a mail server.
	d2 := openDBAt(t, path)
	if sent := drain(t, newTestWorker(t, d2, testConfig(ts), nil)); sent != 2 {
		t.Fatalf("sent %d held messages after the restart, want 2", sent)
	}
	for _, id := range ids {
		if s := mustGet(t, d2, id); s.Status != StatusSent || s.LastError != "" {
			t.Errorf("message %d: %s %q", id, s.Status, s.LastError)
		}
	}
}
