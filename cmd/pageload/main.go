// Command pageload measures how fast the real application serves its public
// pages, against a bare Gin handler on the same machine as the yardstick.
//
// In one run it starts the app in-process on 127.0.0.1:0 with the demo data
// in a temporary database (request log discarded), starts a bare Gin handler
// on another 127.0.0.1:0 port that returns a static 2 KB HTML page (and, as
// a second yardstick, a static page as large as the event page), and runs
// the same bounded load with internal/loadgen against the bare pages, the
// front page and an event page:
//
//	go run ./cmd/pageload                  # 20000 requests at 32 keep-alive connections each
//	go run ./cmd/pageload -n 10000 -rounds 3
//	go run ./cmd/pageload -hold 1m         # then point wrk at the URLs it prints
//	go run ./cmd/pageload -cpuprofile cpu.out -hold 30s
//
// It prints requests/second and p50/p99 latency for each target and each
// target's rate as a share of the bare handlers'. The goal for the event
// page is 60% or more of the 2 KB bare page. Only loopback addresses are
// ever contacted. The client runs in the same process as both servers, so
// on a small machine the figures are lower than wrk's; the ratios are what
// to compare.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/loadgen"
)

// goal is the event page's rate as a share of the bare handler's.
const goal = 0.60

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	n, c, warmup int
	rounds       int
	slug         string
	firstVisit   bool
	hold         time.Duration
	cpuprofile   string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("pageload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.n, "n", 20000, "measured requests per target")
	fs.IntVar(&o.c, "c", 32, "concurrent keep-alive connections")
	fs.IntVar(&o.warmup, "warmup", 2000, "requests per target before measuring (fills caches, opens connections)")
	fs.IntVar(&o.rounds, "rounds", 1, "measure each target this many times, taking turns, and report the median")
	fs.StringVar(&o.slug, "slug", "regional-topplederkonferanse-trondheim", "the demo event whose page is loaded")
	fs.BoolVar(&o.firstVisit, "first-visit", false, "send no cookies, like a first visit (the app mints a CSRF token per request)")
	fs.DurationVar(&o.hold, "hold", 0, "keep both servers up this long after the run, for wrk or a browser")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run (load and hold) to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.n < 1 || o.c < 1 || o.rounds < 1 || o.warmup < 0 {
		fmt.Fprintln(stderr, "pageload: -n, -c and -rounds must be at least 1, -warmup at least 0")
		return 2
	}
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			fmt.Fprintf(stderr, "pageload: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "pageload: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if err := load(ctx, o, stdout); err != nil {
		fmt.Fprintf(stderr, "pageload: %v\n", err)
		return 1
	}
	return 0
}

func load(ctx context.Context, o options, stdout io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	appURL, stopApp, err := startApp(ctx)
	if err != nil {
		return err
	}
	defer stopApp()
	eventURL := appURL + "/events/" + o.slug
	eventSize, err := check(ctx, eventURL, o)
	if err != nil {
		return err
	}
	bareURL, stopBare, err := startBare(int(eventSize))
	if err != nil {
		return err
	}
	defer stopBare()

	// the bare page of the event page's size separates what the bytes on
	// the wire cost from what the application adds
	targets := []target{
		{name: "bare Gin, static 2 KB", url: bareURL + "/"},
		{name: fmt.Sprintf("bare Gin, static %d B", eventSize), url: bareURL + "/same-size"},
		{name: "/", url: appURL + "/"},
		{name: "/events/" + o.slug, url: eventURL},
	}
	for i := range targets {
		if targets[i].size, err = check(ctx, targets[i].url, o); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "pageload: %d requests per target and round (after %d warm-up), %d round(s), %d keep-alive connections, GOMAXPROCS %d\n",
		o.n, o.warmup, o.rounds, o.c, runtime.GOMAXPROCS(0))
	for round := 0; round < o.rounds; round++ {
		// the targets take turns, so a burst of other work on the machine
		// does not land on one of them only
		for i := range targets {
			r, err := measure(ctx, targets[i].url, o)
			if err != nil {
				return err
			}
			targets[i].runs = append(targets[i].runs, r)
		}
	}

	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "target\tbytes\treq/s\tp50\tp99\tvs bare 2 KB\tvs bare same size\tCPU/req\tCPU vs bare 2 KB\t")
	bare, same := targets[0].median().PerSecond(), targets[1].median().PerSecond()
	bareCPU := targets[0].medianCPU()
	for _, tg := range targets {
		r := tg.median()
		cpu := tg.medianCPU()
		fmt.Fprintf(w, "%s\t%d\t%.0f\t%s\t%s\t%.0f%%\t%.0f%%\t%s\t%.0f%%\t\n", tg.name, tg.size, r.PerSecond(),
			r.Percentile(50).Round(time.Microsecond), r.Percentile(99).Round(time.Microsecond),
			100*r.PerSecond()/bare, 100*r.PerSecond()/same, cpu.Round(time.Microsecond), 100*float64(bareCPU)/float64(max(cpu, 1)))
	}
	w.Flush()
	ev := targets[3].median().PerSecond()
	verdict := "meets"
	if ev/bare < goal {
		verdict = "is BELOW"
	}
	fmt.Fprintf(stdout, "the event page runs at %.0f%% of the bare 2 KB handler (%.0f%% of a bare page of its size): it %s the goal of %.0f%%\n",
		100*ev/bare, 100*ev/same, verdict, 100*goal)
	fmt.Fprintln(stdout, "(CPU/req is the whole process, load generator included, per request; \"CPU vs bare\" is the rate the CPU alone would allow, as a share of the bare page's)")

	if o.hold > 0 {
		fmt.Fprintf(stdout, "serving for %s:\n  bare  %s\n  same  %s\n  front %s\n  event %s\n", o.hold, targets[0].url, targets[1].url, targets[2].url, targets[3].url)
		select {
		case <-ctx.Done():
		case <-time.After(o.hold):
		}
	}
	return nil
}

// target is one URL under load and its measured rounds.
type target struct {
	name, url string
	size      int64
	runs      []round
}

// round is one measured run of a target: the load generator's result and
// the CPU time the whole process (client and server) used for it.
type round struct {
	loadgen.Result
	cpu time.Duration
}

// cpuPerRequest is CPU time per request: unlike the rate, it hardly moves
// when other programs compete for the machine.
func (r round) cpuPerRequest() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.Requests)
}

// median is the round with the median rate.
func (t target) median() round {
	runs := slices.Clone(t.runs)
	slices.SortFunc(runs, func(a, b round) int { return cmp.Compare(a.PerSecond(), b.PerSecond()) })
	return runs[len(runs)/2]
}

// medianCPU is the median CPU time per request over the rounds.
func (t target) medianCPU() time.Duration {
	cpus := make([]time.Duration, len(t.runs))
	for i, r := range t.runs {
		cpus[i] = r.cpuPerRequest()
	}
	slices.Sort(cpus)
	return cpus[len(cpus)/2]
}

// measure warms url up, then runs the measured load on fresh connections
// of its own.
func measure(ctx context.Context, url string, o options) (round, error) {
	client := newClient(o.c)
	defer client.CloseIdleConnections()
	if o.warmup > 0 {
		loadgen.Run(ctx, o.warmup, o.c, fetcher(client, url, o))
	}
	before := processCPU()
	r := round{Result: loadgen.Run(ctx, o.n, o.c, fetcher(client, url, o))}
	r.cpu = processCPU() - before
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	if r.Errors > 0 {
		return r, fmt.Errorf("%s: %d of %d requests failed", url, r.Errors, r.Requests)
	}
	return r, nil
}

// startApp runs the real application with the demo in a temporary database.
func startApp(ctx context.Context) (baseURL string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "pageload-")
	if err != nil {
		return "", nil, err
	}
	cfg := app.DefaultConfig()
	cfg.DB = filepath.Join(dir, "moteplass.db")
	cfg.Addr = "127.0.0.1:0"
	cfg.Demo = "auto"
	if err := cfg.Validate(); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	a, err := app.NewApp(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	if err := a.Listen(); err != nil {
		a.Close()
		os.RemoveAll(dir)
		return "", nil, err
	}
	srvCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Serve(srvCtx) }()
	return "http://" + a.Addr(), func() {
		cancel()
		<-done
		a.Close()
		os.RemoveAll(dir)
	}, nil
}

// barePage is 2048 bytes of static HTML.
var barePage = htmlPage(2048)

// htmlPage is a static HTML page of size bytes (at least 128).
func htmlPage(size int) []byte {
	head := "<!DOCTYPE html>\n<html lang=\"nb\"><head><meta charset=\"utf-8\"><title>Bare</title></head><body><main><p>"
	tail := "</p></main></body></html>\n"
	return []byte(head + strings.Repeat("x", max(size-len(head)-len(tail), 0)) + tail)
}

// startBare runs the yardstick: Gin with no middleware, a static 2 KB page
// at / and a static page of size bytes at /same-size.
func startBare(size int) (baseURL string, stop func(), err error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/", func(c *gin.Context) { c.Data(http.StatusOK, "text/html; charset=utf-8", barePage) })
	sameSize := htmlPage(size)
	r.GET("/same-size", func(c *gin.Context) { c.Data(http.StatusOK, "text/html; charset=utf-8", sameSize) })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return "http://" + l.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// newClient keeps exactly c connections open to one server.
func newClient(c int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns:        c,
		MaxIdleConnsPerHost: c,
		MaxConnsPerHost:     c,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}}
}

// returningCookie is a browser's CSRF cookie from an earlier visit.
const returningCookie = "csrf=pageload-returning-visitor-0123456789abcdef"

// fetcher GETs url, reads the whole body and wants a 200.
func fetcher(client *http.Client, url string, o options) func(ctx context.Context, i int) error {
	return func(ctx context.Context, i int) error {
		_, err := fetch(ctx, client, url, o)
		return err
	}
}

func fetch(ctx context.Context, client *http.Client, url string, o options) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Accept-Language", "nb-NO,nb;q=0.9,en;q=0.8")
	if !o.firstVisit {
		req.Header.Set("Cookie", returningCookie)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return n, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	return n, nil
}

// check fetches url once, so a wrong slug fails before the load starts.
func check(ctx context.Context, url string, o options) (int64, error) {
	client := newClient(1)
	defer client.CloseIdleConnections()
	n, err := fetch(ctx, client, url, o)
	if err != nil {
		return 0, errors.New("before the load: " + err.Error())
	}
	return n, nil
}
