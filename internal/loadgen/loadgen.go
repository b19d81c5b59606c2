// Package loadgen runs a bounded number of requests at a fixed concurrency
// and reports throughput and latency percentiles. It is shared by the load
// tools in cmd/ (pageload, rush); it only ever talks to what fn talks to,
// which for those tools is a server on the loopback interface.
package loadgen

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Result is the outcome of one run.
type Result struct {
	Requests    int
	Errors      int
	Concurrency int
	Elapsed     time.Duration
	Latencies   []time.Duration // sorted
}

// Run calls fn n times from concurrency goroutines. fn gets the request's
// index (0..n-1). It stops early if ctx is done.
func Run(ctx context.Context, n, concurrency int, fn func(ctx context.Context, i int) error) Result {
	if concurrency < 1 {
		concurrency = 1
	}
	var next atomic.Int64
	var errs atomic.Int64
	lat := make([]time.Duration, n)
	var done atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := fn(ctx, i); err != nil {
					errs.Add(1)
				}
				lat[i] = time.Since(t0)
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	r := Result{Requests: int(done.Load()), Errors: int(errs.Load()), Concurrency: concurrency, Elapsed: time.Since(start)}
	r.Latencies = lat[:0]
	for _, l := range lat {
		if l > 0 {
			r.Latencies = append(r.Latencies, l)
		}
	}
	slices.Sort(r.Latencies)
	return r
}

// PerSecond is completed requests per second.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Percentile is the latency below which p (0..100) percent of requests finished.
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies)-1) * p / 100)
	return r.Latencies[i]
}

func (r Result) String() string {
	return fmt.Sprintf("%d requests, %d errors, concurrency %d, %.2fs: %.0f/s, p50 %s, p99 %s",
		r.Requests, r.Errors, r.Concurrency, r.Elapsed.Seconds(), r.PerSecond(),
		r.Percentile(50).Round(10*time.Microsecond), r.Percentile(99).Round(10*time.Microsecond))
}
