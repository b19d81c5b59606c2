package mailer

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSend10k sends 10,000 queued messages to the local SMTP server
// with the default worker settings (batches of 8, one connection per batch,
// every outcome committed on its own with synchronous=FULL) and reports
// messages per second. Queueing is not timed.
func BenchmarkSend10k(b *testing.B) {
	const n = 10_000
	ts := startTestServer(b)
	cfg := testConfig(ts)
	ctx := context.Background()
	var elapsed time.Duration
	for range b.N {
		b.StopTimer()
		d, _ := openTestDB(b)
		mustEnqueueMany(b, d, n)
		w := NewWorker(d, cfg, nil)
		before := len(ts.Messages())
		b.StartTimer()

		start := time.Now()
		for {
			sent, err := w.SendDue(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if sent == 0 {
				break
			}
		}
		elapsed += time.Since(start)

		b.StopTimer()
		if got := len(ts.Messages()) - before; got != n {
			b.Fatalf("%d arrived, want %d", got, n)
		}
		if depth, _ := QueueDepth(ctx, d.Read()); depth != 0 {
			b.Fatalf("%d left in the queue", depth)
		}
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "msgs/s")
}
