package pgtest_test

import (
	"database/sql"
	"testing"

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
