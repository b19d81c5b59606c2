package leader_test

import (
	"context"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/leader"
)

// TestListsAreTheSchemas: every value the form offers can be stored, and
// the schema takes nothing the form does not offer.
func TestListsAreTheSchemas(t *testing.T) {
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, c := range []struct {
		table, column string
		want          []string
	}{
		{"registrations", "level", leader.Levels},
		{"registrations", "sector", leader.Sectors},
		{"event_levels", "level", leader.EventLevels},
	} {
		var schema string
		if err := d.Read().QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, c.table).Scan(&schema); err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`CHECK \(` + c.column + ` IN \(([^)]*)\)\)`).FindStringSubmatch(schema)
		if m == nil {
			t.Fatalf("%s.%s has no CHECK", c.table, c.column)
		}
		var allowed []string
		for _, v := range strings.Split(m[1], ",") {
			allowed = append(allowed, strings.Trim(strings.TrimSpace(v), "'"))
		}
		if !slices.Equal(allowed, c.want) {
			t.Errorf("%s.%s takes %q, the list is %q", c.table, c.column, allowed, c.want)
		}
	}
}
