package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/db"
)

// TestServeEndToEnd starts the real program on a free port with its
// database in t.TempDir(), fetches pages over real HTTP, then shuts it down
// the way a signal does and checks it stops cleanly.
func TestServeEndToEnd(t *testing.T) {
	cfg := app.DefaultConfig()
	dbPath := filepath.Join(t.TempDir(), "moteplass.db")
	cfg.DB = dbPath
	cfg.Addr = "127.0.0.1:0"
	cfg.Demo = "auto"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &lockedWriter{}
	a, err := app.NewApp(context.Background(), cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			a.Close()
		}
	})
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	if host, port, _ := net.SplitHostPort(a.Addr()); host != "127.0.0.1" || port == "0" {
		t.Fatalf("listening on %s", a.Addr())
	}

	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx) }()

	base := "http://" + a.Addr()
	client := &http.Client{}
	fetch := func(path string) (int, string) {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return resp.StatusCode, string(b)
	}

	status, body := fetch("/")
	if status != http.StatusOK || !strings.Contains(body, "Møteplasser for ledere") {
		t.Fatalf("GET /: %d", status)
	}
	status, body = fetch("/events/regional-topplederkonferanse-trondheim")
	if status != http.StatusOK || !strings.Contains(body, "Regional topplederkonferanse i Trondheim") {
		t.Fatalf("event page: %d", status)
	}
	if status, _ := fetch("/healthz"); status != http.StatusOK {
		t.Fatalf("healthz: %d", status)
	}
	if status, _ := fetch("/finnes-ikke"); status != http.StatusNotFound {
		t.Fatalf("unknown page: %d", status)
	}

	// the connection stays idle in the client's pool while the server stops
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve returned %v after the context ended, want nil", err)
	}
	if _, err := client.Get(base + "/"); err == nil {
		t.Error("the server still answers after Serve returned")
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closed = true

	// closed cleanly: the WAL is folded into the database and the file
	// opens again with the demo intact
	if fi, err := os.Stat(dbPath + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("the WAL holds %d bytes after Close", fi.Size())
	}
	d, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer d.Close()
	var n int
	if err := d.Read().QueryRow(`SELECT COUNT(*) FROM events`).Scan(&n); err != nil || n < 18 {
		t.Fatalf("after reopening: %d events (%v)", n, err)
	}
	var check string
	if err := d.Read().QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q (%v)", check, err)
	}

	if !strings.Contains(logs.String(), `"route":"/events/:slug"`) {
		t.Error("the request log has no line for the event page")
	}
}

func TestListenReportsABusyAddress(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg := app.DefaultConfig()
	cfg.DB = filepath.Join(t.TempDir(), "m.db")
	cfg.Demo = "off"
	cfg.Addr = l.Addr().String()
	a, err := app.NewApp(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	err = a.Listen()
	if err == nil || !strings.Contains(err.Error(), cfg.Addr) {
		t.Fatalf("Listen on a busy address: %v", err)
	}
}

// lockedWriter lets the request log be written from the server's goroutines
// and read by the test.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
