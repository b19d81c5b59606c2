package pgtest_test

import (
	"bufio"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestAThrowawayServerGivesEachTestItsOwnDatabase: two databases, each
// empty and writable, and what one holds the other does not see.
func TestAThrowawayServerGivesEachTestItsOwnDatabase(t *testing.T) {
	open := func(url string) *sql.DB {
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(pgtest.URL(t)), open(pgtest.URL(t))
	if _, err := a.Exec(`CREATE TABLE only_here (id BIGINT)`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRow(`SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'only_here'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the second database sees the first's table (%d, %v)", n, err)
	}
	var version string
	if err := a.QueryRow(`SHOW server_version`).Scan(&version); err != nil || version == "" {
		t.Errorf("server version %q (%v)", version, err)
	}
	t.Logf("PostgreSQL %s", version)
}

// TestAServerDoesNotOutliveATestBinaryKilledHard: a test binary killed
// with SIGKILL never reaches Main's Stop; its server must still go, or
// every crashed run leaves a PostgreSQL running.
func TestAServerDoesNotOutliveATestBinaryKilledHard(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") != "" {
		pgtest.URL(t) // starts the server
		fmt.Println("data:", pgtest.DataDir())
		time.Sleep(time.Minute) // killed long before
		return
	}
	if os.Getenv(pgtest.EnvURL) != "" {
		t.Skip("an outside server is not started or stopped by the tests")
	}
	child := exec.Command(os.Args[0], "-test.run=^TestAServerDoesNotOutliveATestBinaryKilledHard$", "-test.v")
	child.Env = append(os.Environ(), "PGTEST_CHILD=1")
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	var data string
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if d, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
			data = d
			break
		}
	}
	if data == "" {
		child.Process.Kill()
		child.Wait()
		t.Fatal("the child started no server")
	}
	pidFile, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(pidFile), "\n", 2)[0])
	child.Process.Kill() // SIGKILL: no deferred function, no Main
	child.Wait()

	// The server stops itself within seconds; poll with a generous bound.
	var gone bool
	for i := 0; i < 300 && !gone; i++ {
		_, err := os.Stat(filepath.Dir(data))
		gone = errors.Is(err, os.ErrNotExist) && syscall.Kill(pid, 0) != nil
		time.Sleep(100 * time.Millisecond)
	}
	if !gone {
		t.Errorf("the server (pid %d) or its folder is still there 30 s after its test binary was killed", pid)
	}
}
