package main

// The write-ahead log deleted under a running server (an operator's
// mistake), then kill -9: with a real process, real HTTP sign-ups and a
// real SIGKILL, no sign-up the server acknowledged may be lost, and the
// server must have said what happened (/healthz 503, an error in its log).

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/pgtest"
)

// TestMain lets the test binary be the server: with MOTEPLASS_TEST_SERVE
// set it runs `moteplass serve` (the same run as main) instead of the
// tests, so the process test needs no second build. A PostgreSQL server
// the tests started (pgtest) is stopped at the end.
func TestMain(m *testing.M) {
	if os.Getenv("MOTEPLASS_TEST_SERVE") == "1" {
		os.Exit(run([]string{"serve"}, os.Getenv, os.Stdin, os.Stdout, os.Stderr))
	}
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// server is a running moteplass process.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *lockedBuffer
	done chan struct{}
}

func startServer(t *testing.T, dbPath string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MOTEPLASS_TEST_SERVE=1", "MOTEPLASS_DB="+dbPath, "MOTEPLASS_ADDR=127.0.0.1:0",
		"MOTEPLASS_DEMO=off", "MOTEPLASS_SIGNUP_RATE=0", "MOTEPLASS_LOG_LEVEL=info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, logs: &lockedBuffer{}, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.logs.WriteString(line + "\n")
			if m := servingRE.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
		cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill(); <-s.done })
	select {
	case a := <-addr:
		s.url = "http://" + a
	case <-s.done:
		t.Fatalf("the server ended before serving:\n%s", s.logs)
	case <-time.After(time.Minute):
		t.Fatalf("the server did not start in a minute:\n%s", s.logs)
	}
	return s
}

var servingRE = regexp.MustCompile(`"msg":"serving","addr":"([^"]+)"`)

func (s *server) healthz() (int, string) {
	resp, err := http.Get(s.url + "/healthz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signUpLoop posts sign-ups from one browser until stop is set, and
// returns the addresses the server acknowledged (303 to the manage page)
// and the statuses of the others.
func signUpLoop(t *testing.T, base, slug string, worker int, stop *atomic.Bool, acked *atomic.Int64) (ok []string, others map[string]int) {
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Get(base + "/events/" + slug)
	if err != nil {
		t.Error(err)
		return nil, nil
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(body)
	if m == nil {
		t.Errorf("no form on the event page (status %d)", resp.StatusCode)
		return nil, nil
	}
	others = map[string]int{}
	for i := 0; !stop.Load(); i++ {
		email := fmt.Sprintf("wal.%d.%d@example.no", worker, i)
		form := url.Values{"csrf_token": {string(m[1])}, "name": {fmt.Sprintf("Deltaker %d-%d", worker, i)}, "email": {email},
			"organisation": {"Statens vegvesen"}, "role": {"Seksjonssjef"}, "level": {"middle"}, "sector": {"state"}, "region": {"Bergen"}}
		resp, err := cl.PostForm(base+"/events/"+slug+"/registrations", form)
		if err != nil {
			others["network error"]++
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/r/") {
			ok = append(ok, email)
			acked.Add(1)
			continue
		}
		others[fmt.Sprintf("status %d", resp.StatusCode)]++
		if resp.StatusCode == http.StatusServiceUnavailable {
			time.Sleep(10 * time.Millisecond) // as a browser's user would, later
		}
	}
	return ok, others
}

func TestDeletedWALThenKill9LosesNoAcknowledgedSignUp(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "moteplass.db")
	slug := createEvent(t, dbPath)
	s := startServer(t, dbPath)
	if code, body := s.healthz(); code != http.StatusOK {
		t.Fatalf("healthz at start: %d %s", code, body)
	}

	const workers = 8
	var stop atomic.Bool
	var acked atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ackedEmails []string
	statuses := map[string]int{}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, others := signUpLoop(t, s.url, slug, w, &stop, &acked)
			mu.Lock()
			defer mu.Unlock()
			ackedEmails = append(ackedEmails, ok...)
			for k, v := range others {
				statuses[k] += v
			}
		}()
	}
	for acked.Load() < 300 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := os.Remove(dbPath + "-wal"); err != nil {
		t.Fatal(err)
	}
	beforeDelete := acked.Load()
	start := time.Now()
	var code int
	var body string
	for code != http.StatusServiceUnavailable {
		if time.Since(start) > 30*time.Second {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("healthz still %d %q 30 s after the log was deleted; %d sign-ups acknowledged", code, body, acked.Load())
		}
		time.Sleep(20 * time.Millisecond)
		code, body = s.healthz()
	}
	detected := time.Since(start)
	afterDetect := acked.Load()
	time.Sleep(200 * time.Millisecond) // sign-ups keep coming, and are refused
	stop.Store(true)
	wg.Wait()
	if err := s.cmd.Process.Signal(os.Kill); err != nil { // kill -9
		t.Fatal(err)
	}
	<-s.done
	t.Logf("healthz %d %q %s after the log was deleted; %d sign-ups acknowledged before the delete, %d by then, %d in all; others: %v",
		code, body, detected.Round(time.Millisecond), beforeDelete, afterDetect, len(ackedEmails), statuses)
	if !strings.Contains(body, "write-ahead log") {
		t.Errorf("healthz does not name the write-ahead log: %q", body)
	}
	if statuses["status 503"] == 0 {
		t.Errorf("no sign-up was refused after the log was lost: %v", statuses)
	}
	for k := range statuses {
		if strings.HasPrefix(k, "status 5") && k != "status 503" {
			t.Errorf("sign-ups got %s: %v", k, statuses)
		}
	}
	logs := s.logs.String()
	for _, want := range []string{`"level":"ERROR"`, "write-ahead log", "restart"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the server's log lacks %q:\n%.3000s", want, logs)
		}
	}

	// restart on the same files: healthy, and every acknowledged sign-up is there
	s2 := startServer(t, dbPath)
	if code, body := s2.healthz(); code != http.StatusOK {
		t.Errorf("healthz after the restart: %d %q", code, body)
	}
	s2.cmd.Process.Signal(os.Interrupt)
	<-s2.done
	d, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	stored := map[string]bool{}
	rows, err := d.Read().Query(`SELECT email FROM registrations`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var e string
		rows.Scan(&e)
		stored[e] = true
	}
	rows.Close()
	lost := 0
	for _, e := range ackedEmails {
		if !stored[e] {
			lost++
		}
	}
	var check string
	d.Read().QueryRow(`PRAGMA integrity_check`).Scan(&check)
	t.Logf("after kill -9 and a restart: %d of %d acknowledged sign-ups stored, %d lost; integrity %s", len(ackedEmails)-lost, len(ackedEmails), lost, check)
	if lost > 0 {
		t.Errorf("%d of %d acknowledged sign-ups lost", lost, len(ackedEmails))
	}
	if check != "ok" {
		t.Errorf("integrity_check: %s", check)
	}
}

// createEvent puts a published event with room for everyone in a new
// database and returns its slug.
func createEvent(t *testing.T, dbPath string) string {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	start := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Hour)
	ev := events.Event{
		Slug: "wal-test", Title: "Loggtest", Summary: "Et arrangement for testen av en slettet logg.",
		Format: "conference", Mode: "physical", StartsAt: start, EndsAt: start.Add(6 * time.Hour),
		Capacity: 1_000_000, Sector: "public", Facilitation: "facilitated", Theme: "leadership", Language: "nb", Status: events.StatusPublished,
		Region:    events.Region{Slug: "bergen", Name: "Bergen"},
		Organiser: events.Organiser{Slug: "dfo", Name: "DFØ", Kind: "public", ContactEmail: "post@dfo.example.no"},
	}
	if err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := events.CreateRegion(ctx, tx, &ev.Region, 1); err != nil {
			return err
		}
		if err := events.CreateOrganiser(ctx, tx, &ev.Organiser); err != nil {
			return err
		}
		return events.CreateEvent(ctx, tx, now, &ev)
	}); err != nil {
		t.Fatal(err)
	}
	return ev.Slug
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
