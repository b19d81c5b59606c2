// Package pgtest gives tests a PostgreSQL database of their own.
//
// With MOTEPLASS_TEST_PG_URL set (postgres://user:pass@host/db), databases
// are made on that server. Otherwise the first test to ask starts a
// throwaway server from the machine's own binaries (Debian's postgresql
// package: initdb and postgres, found on PATH or under
// /usr/lib/postgresql/*/bin) in a temporary folder, on a free port, as the
// postgres user when the tests run as root (PostgreSQL refuses to run as
// root). Nothing is downloaded and no Docker is needed. The server is
// tuned for tests (no fsync): it holds nothing worth keeping, and it is
// stopped when the test binary ends (see Main).
//
// Only tests import this package.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// EnvURL names a server to use instead of starting one.
const EnvURL = "MOTEPLASS_TEST_PG_URL"

var (
	once    sync.Once
	srv     *server
	srvErr  error
	dbCount atomic.Int64
)

// server is a running throwaway PostgreSQL, or an outside one.
type server struct {
	admin *url.URL // a URL of the maintenance database
	dir   string   // the data folder ("" for an outside server)
	cmd   *exec.Cmd
	// reaper's end of a pipe: when this process ends in any way (a
	// panic, a test timeout, kill -9), the pipe closes and the reaper
	// stops the server and removes its folder (see watch).
	reaper *os.File
}

// Main runs the package's tests and then stops the server, if one was
// started. Use it as the package's TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops a started server and removes its folder.
func Stop() {
	if srv == nil || srv.cmd == nil {
		return
	}
	srv.cmd.Process.Signal(syscall.SIGINT) // "fast" shutdown
	done := make(chan struct{})
	go func() { srv.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		srv.cmd.Process.Kill()
	}
	os.RemoveAll(srv.dir)
	srv.reaper.Close()
	srv = nil
}

// watch starts a small shell that waits for end-of-file on a pipe whose
// writing end only this process holds, then stops the server (fast
// shutdown, then SIGKILL after ten seconds) and removes its folder. Main
// stops the server itself; the reaper is for test binaries that never get
// there, which would otherwise leave a server running per package.
func watch(pid int, dir string) (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	const script = `read _; kill -INT "$1" 2>/dev/null; i=0
while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
kill -KILL "$1" 2>/dev/null; rm -rf "$2"`
	cmd := exec.Command("/bin/sh", "-c", script, "pgtest-reaper", strconv.Itoa(pid), dir)
	cmd.Stdin = r
	// its own process group: a ^C to the tests does not end it before it
	// has done its job
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("pgtest: start the reaper: %w", err)
	}
	go cmd.Wait()
	return w, nil
}

// URL returns the address of a new, empty database for this test; it is
// dropped when the test ends. The test fails if no server can be had.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(func() { srv, srvErr = start() })
	if srvErr != nil {
		t.Fatalf("pgtest: %v", srvErr)
	}
	name := fmt.Sprintf("moteplass_test_%d_%d", os.Getpid(), dbCount.Add(1))
	admin, err := sql.Open("pgx", srv.admin.String())
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	u := *srv.admin
	u.Path = "/" + name
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", srv.admin.String())
		if err != nil {
			return
		}
		defer admin.Close()
		// connections still open (a pool not closed) are ended first
		admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	return u.String()
}

func start() (*server, error) {
	if raw := os.Getenv(EnvURL); raw != "" {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvURL, err)
		}
		return &server{admin: u}, nil
	}
	bin, err := binaries()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "moteplass-pgtest-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir}
	fail := func(err error) (*server, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return fail(err)
	}
	if cred != nil {
		// the folder belongs to the user the server runs as
		if err := os.Chmod(dir, 0o700); err != nil {
			return fail(err)
		}
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fail(err)
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v: %s", err, out))
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	// Tuned for tests: what is lost in a crash is only test data.
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=300", "-c", "shared_buffers=64MB",
		"-c", "log_min_messages=warning", "-c", "log_min_error_statement=panic")
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return fail(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		return fail(fmt.Errorf("postgres: %w", err))
	}
	if s.reaper, err = watch(s.cmd.Process.Pid, dir); err != nil {
		s.cmd.Process.Kill()
		return fail(err)
	}
	s.admin = &url.URL{Scheme: "postgres", User: url.User("postgres"), Host: "127.0.0.1:" + strconv.Itoa(port), Path: "/postgres",
		RawQuery: "sslmode=disable"}
	if err := waitReady(s.admin.String(), 30*time.Second); err != nil {
		s.cmd.Process.Kill()
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		return fail(fmt.Errorf("postgres did not start: %v: %s", err, log))
	}
	return s, nil
}

// binaries finds the folder with initdb and postgres.
func binaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // the newest version first
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, postgres): install Debian's postgresql package, or set " + EnvURL)
}

// runAs is the postgres user's credential when running as root (nil
// otherwise: the server runs as the current user).
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and there is no postgres user to run the server as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(dsn string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		db, err := sql.Open("pgx", dsn)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err = db.PingContext(ctx)
			cancel()
			db.Close()
			if err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// DataDir is the started server's data folder, where its files can be
// read (the tests run as root or as the user it runs as); "" for a server
// named by MOTEPLASS_TEST_PG_URL, whose files the tests cannot see.
func DataDir() string {
	if srv == nil || srv.dir == "" {
		return ""
	}
	return filepath.Join(srv.dir, "data")
}

// Enabled reports whether the tests are asked to run on PostgreSQL
// (MOTEPLASS_TEST_DB=postgres).
func Enabled() bool { return strings.EqualFold(os.Getenv("MOTEPLASS_TEST_DB"), "postgres") }
