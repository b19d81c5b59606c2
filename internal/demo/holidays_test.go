package demo

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/db"
)

func TestWorkingDay(t *testing.T) {
	for _, tc := range []struct {
		date string
		want bool
	}{
		{"2026-12-04", true},  // a Friday
		{"2026-12-05", false}, // Saturday
		{"2026-12-24", false}, // Christmas Eve
		{"2026-12-25", false},
		{"2026-12-28", true},
		{"2026-12-31", false},
		{"2027-01-01", false},
		{"2027-03-25", false}, // Maundy Thursday 2027 (Easter is 28 March)
		{"2027-03-26", false}, // Good Friday
		{"2027-03-29", false}, // Easter Monday
		{"2027-03-30", true},
		{"2026-04-02", false}, // Maundy Thursday 2026 (Easter is 5 April)
		{"2026-05-14", false}, // Ascension 2026
		{"2026-05-25", false}, // Whit Monday 2026
		{"2026-05-18", true},
		{"2027-05-17", false}, // Constitution Day
	} {
		d, err := time.Parse(time.DateOnly, tc.date)
		if err != nil {
			t.Fatal(err)
		}
		if got := WorkingDay(d); got != tc.want {
			t.Errorf("WorkingDay(%s) = %v, want %v", tc.date, got, tc.want)
		}
	}
}

// TestTheDemoHoldsNoEventOnAHoliday: loaded on any day of a year (one
// load a week), the demo holds every event on a working day.
func TestTheDemoHoldsNoEventOnAHoliday(t *testing.T) {
	start := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	for day := 0; day < 366; day += 7 {
		today := start.AddDate(0, 0, day)
		d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "demo.db"))
		if err != nil {
			t.Fatal(err)
		}
		d.Now = func() time.Time { return today }
		if _, err := LoadIfEmpty(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		rows, err := d.Read().Query(`SELECT slug, starts_at FROM events`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var slug string
			var at time.Time
			if err := rows.Scan(&slug, &at); err != nil {
				t.Fatal(err)
			}
			if !WorkingDay(at.In(events.Oslo)) {
				t.Errorf("loaded on %s, %s starts on %s, not a working day", today.Format(time.DateOnly), slug, at.In(events.Oslo).Format("Mon 2 Jan 2006"))
			}
		}
		rows.Close()
		d.Close()
	}
}
