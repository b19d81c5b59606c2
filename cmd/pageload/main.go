// Command pageload measures how fast the real application serves its public
// pages, against a bare Gin handler on the same machine as the yardstick.
//
// In one run it starts the app in-process on 127.0.0.1:0 with the demo data
// in a temporary database (request log discarded), starts a bare Gin handler
// that returns a static 2 KB HTML page on another 127.0.0.1:0 port, and
// runs the same bounded load with internal/loadgen against the bare page,
// the front page and an event page:
//
//	go run ./cmd/pageload                  # 20000 requests at 32 keep-alive connections each
//	go run ./cmd/pageload -n 50000 -c 64
//	go run ./cmd/pageload -hold 1m         # then point wrk at the URLs it prints
//
// It prints requests/second and p50/p99 latency for each target and each
// target's rate as a share of the bare handler's. The goal for the event
// page is 60% or more. Only loopback addresses are ever contacted.
package main

import (
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
	fs.StringVar(&o.slug, "slug", "regional-topplederkonferanse-trondheim", "the demo event whose page is loaded")
	fs.BoolVar(&o.firstVisit, "first-visit", false, "send no cookies, like a first visit (the app mints a CSRF token per request)")
	fs.DurationVar(&o.hold, "hold", 0, "keep both servers up this long after the run, for wrk or a browser")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run (load and hold) to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.n < 1 || o.c < 1 || o.warmup < 0 {
		fmt.Fprintln(stderr, "pageload: -n and -c must be at least 1, -warmup at least 0")
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
	bareURL, stopBare, err := startBare()
	if err != nil {
		return err
	}
	defer stopBare()

	targets := []struct{ name, url string }{
		{"bare Gin, static 2 KB", bareURL + "/"},
		{"/", appURL + "/"},
		{"/events/" + o.slug, appURL + "/events/" + o.slug},
	}
	fmt.Fprintf(stdout, "pageload: %d requests per target (after %d warm-up) at %d keep-alive connections, GOMAXPROCS %d\n",
		o.n, o.warmup, o.c, runtime.GOMAXPROCS(0))
	results := make([]loadgen.Result, len(targets))
	sizes := make([]int64, len(targets))
	for i, tg := range targets {
		size, err := check(ctx, tg.url, o)
		if err != nil {
			return err
		}
		sizes[i] = size
		client := newClient(o.c)
		if o.warmup > 0 {
			loadgen.Run(ctx, o.warmup, o.c, fetcher(client, tg.url, o))
		}
		results[i] = loadgen.Run(ctx, o.n, o.c, fetcher(client, tg.url, o))
		client.CloseIdleConnections()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if results[i].Errors > 0 {
			return fmt.Errorf("%s: %d of %d requests failed", tg.url, results[i].Errors, results[i].Requests)
		}
	}

	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "target\tbytes\treq/s\tp50\tp99\tvs bare\t")
	bare := results[0].PerSecond()
	for i, tg := range targets {
		r := results[i]
		fmt.Fprintf(w, "%s\t%d\t%.0f\t%s\t%s\t%.0f%%\t\n", tg.name, sizes[i], r.PerSecond(),
			r.Percentile(50).Round(time.Microsecond), r.Percentile(99).Round(time.Microsecond), 100*r.PerSecond()/bare)
	}
	w.Flush()
	share := results[2].PerSecond() / bare
	verdict := "meets"
	if share < goal {
		verdict = "is BELOW"
	}
	fmt.Fprintf(stdout, "the event page runs at %.0f%% of the bare handler: it %s the goal of %.0f%%\n", 100*share, verdict, 100*goal)

	if o.hold > 0 {
		fmt.Fprintf(stdout, "serving for %s:\n  bare  %s\n  front %s\n  event %s\n", o.hold, targets[0].url, targets[1].url, targets[2].url)
		select {
		case <-ctx.Done():
		case <-time.After(o.hold):
		}
	}
	return nil
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
var barePage = func() []byte {
	head := "<!DOCTYPE html>\n<html lang=\"nb\"><head><meta charset=\"utf-8\"><title>Bare</title></head><body><main><p>"
	tail := "</p></main></body></html>\n"
	return []byte(head + strings.Repeat("x", 2048-len(head)-len(tail)) + tail)
}()

// startBare runs the yardstick: Gin with no middleware and one handler.
func startBare() (baseURL string, stop func(), err error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/", func(c *gin.Context) { c.Data(http.StatusOK, "text/html; charset=utf-8", barePage) })
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
