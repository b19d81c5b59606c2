package app_test

// Faults of the storage, seen from outside: a database that cannot be
// written answers every visitor with a 503 "try again shortly" page (in
// their language, with Retry-After) and nothing half-stored, /healthz says
// 503 with the reason, and once the fault is gone writes resume by
// themselves, without a restart. The portable test makes the writer's
// connection read-only; where the machine allows (root, as CI runs), a
// real full disk (a small tmpfs) and a real failing file system (ext4 on a
// loop device, shut down as a dying disk would be) are tested too.

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/db"
)

// healthz is the status and the body of GET /healthz.
func healthz(t *testing.T, a *app.App) (int, string) {
	t.Helper()
	rec := apptest.NewClient(t, a.Router).Get("/healthz")
	return rec.Code, strings.TrimSpace(rec.Body.String())
}

// waitHealthy polls /healthz until it is 200 and returns how long it took;
// a minute is far more than the few seconds of a probe round.
func waitHealthy(t *testing.T, a *app.App) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		code, body := healthz(t, a)
		if code == http.StatusOK {
			return time.Since(start)
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("healthz still %d after a minute: %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// signUpUnavailable posts a sign-up that must fail with the "try again"
// page in lang.
func signUpUnavailable(t *testing.T, a *app.App, slug, lang string, form url.Values) {
	t.Helper()
	cl := apptest.NewClient(t, a.Router)
	cl.Header.Set("Accept-Language", lang)
	rec := cl.PostForm("/events/"+slug+"/registrations", form)
	apptest.Want(t, rec, http.StatusServiceUnavailable)
	if rec.Header().Get("Retry-After") == "" {
		t.Error("a 503 without Retry-After")
	}
	if lang == "en" {
		apptest.Says(t, rec, "Please try again shortly", "nothing from it has been saved")
	} else {
		apptest.Says(t, rec, "Prøv igjen om litt", "er ingenting av det lagret")
	}
	apptest.DoesNotSay(t, rec, "SQLITE", "disk", "(13)", "db:")
	form.Del("csrf_token") // PostForm put this browser's in
}

func nothingStored(t *testing.T, a *app.App, email string) {
	t.Helper()
	if n := privCount(t, a, `SELECT COUNT(*) FROM registrations WHERE email = ?`, email); n != 0 {
		t.Errorf("a sign-up that failed left %d registrations", n)
	}
	if n := privCount(t, a, `SELECT COUNT(*) FROM outbox WHERE to_address = ?`, email); n != 0 {
		t.Errorf("a sign-up that failed left %d emails in the outbox", n)
	}
}

func TestAReadOnlyDatabaseIsReportedAndRecovers(t *testing.T) {
	logs := &lockedWriter{}
	a := apptest.New(t, apptest.Options{Log: logs})
	ev := privEvent(t, a, "dfo", 10*24*time.Hour, 50)
	privSignUp(t, a, ev.Slug, privForm("Før Feilen", "for.feilen@example.no"))
	if code, body := healthz(t, a); code != http.StatusOK || body != "ok" {
		t.Fatalf("healthz before: %d %q", code, body)
	}

	// the writer's connection can no longer write, as when the file system
	// (or the PostgreSQL server) goes read-only under the app
	readOnly := map[db.Dialect][2]string{
		db.SQLite:   {`PRAGMA query_only = 1`, `PRAGMA query_only = 0`},
		db.Postgres: {`SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY`, `SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE`},
	}[a.DB.Dialect()]
	if _, err := a.DB.Write().Exec(readOnly[0]); err != nil {
		t.Fatal(err)
	}
	nb, en := privForm("Under Feilen", "under.feilen@example.no"), privForm("During Fault", "during.fault@example.no")
	signUpUnavailable(t, a, ev.Slug, "nb", nb)
	signUpUnavailable(t, a, ev.Slug, "en", en)
	nothingStored(t, a, nb.Get("email"))
	nothingStored(t, a, en.Get("email"))
	code, body := healthz(t, a)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "cannot be written") || !strings.Contains(body, "read-only") {
		t.Fatalf("healthz while writes fail: %d %q", code, body)
	}
	// pages that only read carry on
	apptest.Want(t, apptest.NewClient(t, a.Router).Get("/events/"+ev.Slug), http.StatusOK)
	for _, want := range []string{"database cannot be written", `"status":503`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q", want)
		}
	}

	if _, err := a.DB.Write().Exec(readOnly[1]); err != nil {
		t.Fatal(err)
	}
	t.Logf("healthy %s after the fault went away, with no traffic", waitHealthy(t, a).Round(time.Millisecond))
	privSignUp(t, a, ev.Slug, nb)
	if n := privCount(t, a, `SELECT COUNT(*) FROM registrations WHERE email = ?`, nb.Get("email")); n != 1 {
		t.Errorf("%d registrations after the retry, want 1", n)
	}
}

// TestHealthzDoesNotQueueBehindWriters: /healthz reads the write health the
// database keeps; it writes nothing, so a server whose writer is busy (a
// sign-up rush) is not reported down.
func TestHealthzDoesNotQueueBehindWriters(t *testing.T) {
	a := apptest.New(t, apptest.Options{})
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- a.DB.Tx(context.Background(), func(tx *sql.Tx, _ time.Time) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	code, body := healthz(t, a)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK {
		t.Fatalf("healthz while a writer holds the database: %d %q", code, body)
	}
}

// asRoot skips the test unless it runs as root (mounting needs it); on CI,
// which runs as root, a refusal fails the test instead of hiding it.
func asRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a file system")
	}
}

func refused(t *testing.T, what string, err error, out []byte) {
	t.Helper()
	msg := fmt.Sprintf("%s: %v %s", what, err, strings.TrimSpace(string(out)))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// mountTmpfs mounts a tmpfs of size on a new folder, unmounted at the end.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	asRoot(t)
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		refused(t, "mount tmpfs", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, chunk := range []int{64 << 10, 4 << 10, 512} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				break
			}
		}
	}
	f.Sync()
}

func TestDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "4m")
	logs := &lockedWriter{}
	a := apptest.New(t, apptest.Options{Log: logs, Config: func(c *app.Config) { c.DB = filepath.Join(dir, "moteplass.db") }})
	ev := privEvent(t, a, "dfo", 10*24*time.Hour, 10000)
	privSignUp(t, a, ev.Slug, privForm("Før Fylling", "for.fylling@example.no"))

	filler := filepath.Join(dir, "filler")
	fill(t, filler)
	// Sign-ups may still fit for a while (SQLite reuses the space its log
	// already has); sooner or later one needs more.
	acked, failed := 0, url.Values(nil)
	for i := 0; i < 500 && failed == nil; i++ {
		form := privForm(fmt.Sprintf("Full Disk %d", i), fmt.Sprintf("full.disk.%d@example.no", i))
		cl := apptest.NewClient(t, a.Router)
		rec := cl.PostForm("/events/"+ev.Slug+"/registrations", form)
		switch rec.Code {
		case http.StatusSeeOther:
			acked++
		case http.StatusServiceUnavailable:
			failed = form
			if rec.Header().Get("Retry-After") == "" {
				t.Error("a 503 without Retry-After")
			}
			apptest.Says(t, rec, "Prøv igjen om litt")
			nothingStored(t, a, form.Get("email"))
			form.Del("csrf_token")
		default:
			apptest.Want(t, rec, http.StatusServiceUnavailable)
		}
	}
	if failed == nil {
		t.Fatal("500 sign-ups on a full disk, and none failed")
	}
	t.Logf("%d sign-ups fitted in the space SQLite had before one failed", acked)
	en := privForm("Full Disk En", "full.disk.en@example.no")
	signUpUnavailable(t, a, ev.Slug, "en", en)
	nothingStored(t, a, en.Get("email"))
	code, body := healthz(t, a)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "disk is full") {
		t.Fatalf("healthz on a full disk: %d %q", code, body)
	}
	// the probes that run meanwhile do not make it look healthy
	time.Sleep(5 * time.Second)
	if code, body := healthz(t, a); code != http.StatusServiceUnavailable {
		t.Fatalf("healthz a few probes later, the disk still full: %d %q", code, body)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	t.Logf("healthy %s after the space came back, with no traffic and no restart", waitHealthy(t, a).Round(time.Millisecond))
	privSignUp(t, a, ev.Slug, failed)
	if n := privCount(t, a, `SELECT COUNT(*) FROM registrations WHERE email = ?`, failed.Get("email")); n != 1 {
		t.Errorf("%d registrations after the retry, want 1", n)
	}
	// every sign-up that was acknowledged on the full disk is there
	if n := privCount(t, a, `SELECT COUNT(*) FROM registrations WHERE event_id = ?`, ev.ID); n != acked+2 {
		t.Errorf("%d registrations, want the %d acknowledged", n, acked+2)
	}
	for _, want := range []string{"database cannot be written", "database can be written again"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q", want)
		}
	}
}
