package mailer

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/db"
)

// BenchmarkSend10k sends 10,000 queued messages to the local SMTP server
// as Run does, with the default worker settings (senders side by side,
// each message's outcome committed, with the claim of the sender's next
// message, before that one is sent; synchronous=FULL) and reports messages
// per second. senders=1 is one sender alone. Queueing is not timed.
func BenchmarkSend10k(b *testing.B) {
	for _, senders := range []int{NewWorker(nil, Config{}, nil).Concurrency, 1} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) { benchmarkSend(b, 10_000, senders) })
	}
}

func benchmarkSend(b *testing.B, n, senders int) {
	ts := startTestServer(b)
	cfg := testConfig(ts)
	var elapsed time.Duration
	for range b.N {
		b.StopTimer()
		d, _ := openTestDB(b)
		mustEnqueueMany(b, d, n)
		w := NewWorker(d, cfg, nil)
		w.Concurrency = senders
		before := len(ts.Messages())
		b.StartTimer()

		start := time.Now()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			w.Run(ctx)
			close(done)
		}()
		// Done when every message has arrived and nothing is left queued
		// or sending; looking costs the worker next to nothing.
		for ts.count() < before+n || depth(b, d) > 0 {
			time.Sleep(2 * time.Millisecond)
		}
		elapsed += time.Since(start)
		cancel()
		<-done

		b.StopTimer()
		if got := len(ts.Messages()) - before; got != n {
			b.Fatalf("%d arrived, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "msgs/s")
}

func depth(b *testing.B, d *db.DB) int {
	n, err := QueueDepth(context.Background(), d.Read())
	if err != nil {
		b.Fatal(err)
	}
	return n
}
