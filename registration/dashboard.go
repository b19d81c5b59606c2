package registration

// The numbers of the dashboards, without I/O: registrations over time,
// by status, attendance and the no-show rate, the mix of leader levels and
// sectors; per event, per region and overall. The queries that feed them
// are at the end.

import (
	"context"
	"fmt"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/leader"
)

// StatRow is one registration, or N alike, as the dashboards count them.
type StatRow struct {
	Status    string
	CheckedIn bool
	Level     string
	Sector    string
	CreatedAt time.Time // when signed up (per-event rows only)
	N         int       // how many registrations the row stands for (0 means 1)
}

func (r StatRow) n() int {
	if r.N <= 0 {
		return 1
	}
	return r.N
}

// Count is one value of a mix and how many have it.
type Count struct {
	Key string
	N   int
}

// Tally is the counts of a set of registrations (one event or many).
type Tally struct {
	Events    int
	Capacity  int
	Confirmed int
	Waiting   int
	Cancelled int
	Attended  int // checked in (and not cancelled)
	// NoShows are people with a confirmed place who were not checked in,
	// counted only for events that are over and where attendance was taken
	// (someone was checked in); NoShowBase is the confirmed of those events.
	NoShows    int
	NoShowBase int
	Levels     []Count // live registrations (confirmed and waiting), in leader.Levels order
	Sectors    []Count // in leader.Sectors order
}

// Live is everyone who has a place or waits for one.
func (t Tally) Live() int { return t.Confirmed + t.Waiting }

// NoShowRate is the share of no-shows in percent, and whether it is known.
func (t Tally) NoShowRate() (float64, bool) {
	if t.NoShowBase == 0 {
		return 0, false
	}
	return 100 * float64(t.NoShows) / float64(t.NoShowBase), true
}

// NoShowPercent is NoShowRate rounded to a whole percent (-1 when unknown),
// for templates.
func (t Tally) NoShowPercent() int {
	r, ok := t.NoShowRate()
	if !ok {
		return -1
	}
	return int(r + 0.5)
}

// Fill is the confirmed places as a percentage of the seats (0 without seats).
func (t Tally) Fill() int {
	if t.Capacity <= 0 {
		return 0
	}
	return int(100*float64(t.Confirmed)/float64(t.Capacity) + 0.5)
}

// TallyEvent counts one event's registrations. ended says the event is
// over: only then are no-shows counted, and only if attendance was taken.
func TallyEvent(rows []StatRow, capacity int, ended bool) Tally {
	t := Tally{Events: 1, Capacity: capacity}
	levels, sectors := map[string]int{}, map[string]int{}
	for _, r := range rows {
		n := r.n()
		switch r.Status {
		case StatusConfirmed:
			t.Confirmed += n
		case StatusWaiting:
			t.Waiting += n
		case StatusCancelled:
			t.Cancelled += n
		}
		if r.Status == StatusCancelled {
			continue
		}
		if r.CheckedIn {
			t.Attended += n
		}
		levels[r.Level] += n
		sectors[r.Sector] += n
	}
	if ended && t.Attended > 0 {
		for _, r := range rows {
			if r.Status == StatusConfirmed && !r.CheckedIn {
				t.NoShows += r.n()
			}
		}
		t.NoShowBase = t.Confirmed
	}
	t.Levels = mix(leader.Levels, levels)
	t.Sectors = mix(leader.Sectors, sectors)
	return t
}

// mix lists the counts in the order of keys, then any other value seen.
func mix(keys []string, m map[string]int) []Count {
	out := make([]Count, 0, len(keys))
	for _, k := range keys {
		out = append(out, Count{Key: k, N: m[k]})
	}
	for k, n := range m {
		known := false
		for _, x := range keys {
			known = known || x == k
		}
		if !known && n > 0 {
			out = append(out, Count{Key: k, N: n})
		}
	}
	return out
}

// Add sums two tallies (for a region or all events).
func (t Tally) Add(o Tally) Tally {
	s := Tally{
		Events: t.Events + o.Events, Capacity: t.Capacity + o.Capacity,
		Confirmed: t.Confirmed + o.Confirmed, Waiting: t.Waiting + o.Waiting, Cancelled: t.Cancelled + o.Cancelled,
		Attended: t.Attended + o.Attended, NoShows: t.NoShows + o.NoShows, NoShowBase: t.NoShowBase + o.NoShowBase,
	}
	s.Levels = addCounts(t.Levels, o.Levels)
	s.Sectors = addCounts(t.Sectors, o.Sectors)
	return s
}

func addCounts(a, b []Count) []Count {
	out := append([]Count(nil), a...)
	for _, c := range b {
		found := false
		for i := range out {
			if out[i].Key == c.Key {
				out[i].N += c.N
				found = true
			}
		}
		if !found {
			out = append(out, c)
		}
	}
	return out
}

// DayCount is the registrations made up to and including one day.
type DayCount struct {
	Day   time.Time // midnight, in loc
	New   int       // made that day
	Total int       // made up to the end of that day
}

// maxDays bounds the line of registrations over time.
const maxDays = 730

// Cumulative counts registrations per calendar day in loc, from the day of
// the first until the later of the last one and until (the day the line
// ends: today, or the start of the event if that came first). Every day is
// there, also days without sign-ups, so the line's steps are true to time.
func Cumulative(times []time.Time, until time.Time, loc *time.Location) []DayCount {
	if len(times) == 0 {
		return nil
	}
	day := func(t time.Time) time.Time {
		t = t.In(loc)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	}
	perDay := map[time.Time]int{}
	first, last := day(times[0]), day(times[0])
	for _, t := range times {
		d := day(t)
		perDay[d]++
		if d.Before(first) {
			first = d
		}
		if d.After(last) {
			last = d
		}
	}
	if u := day(until); u.After(last) {
		last = u
	}
	var out []DayCount
	total := 0
	for d := first; !d.After(last) && len(out) < maxDays; d = d.AddDate(0, 0, 1) {
		total += perDay[d]
		out = append(out, DayCount{Day: d, New: perDay[d], Total: total})
	}
	if len(out) == maxDays {
		// a very long history: the last day carries everything still to come
		rest := 0
		for d, n := range perDay {
			if d.After(out[len(out)-1].Day) {
				rest += n
			}
		}
		out[len(out)-1].Total += rest
	}
	return out
}

// ---- queries ----

// eventStatRows reads an event's registrations for its dashboard.
func eventStatRows(ctx context.Context, q Querier, eventID int64) ([]StatRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT status, CASE WHEN checked_in_at IS NULL THEN 0 ELSE 1 END, level, sector, created_at
		FROM registrations WHERE event_id = ? ORDER BY created_at, id`, eventID)
	if err != nil {
		return nil, fmt.Errorf("registration: numbers of %d: %w", eventID, err)
	}
	defer rows.Close()
	var out []StatRow
	for rows.Next() {
		var r StatRow
		var checked int
		if err := rows.Scan(&r.Status, &checked, &r.Level, &r.Sector, &r.CreatedAt); err != nil {
			return nil, fmt.Errorf("registration: numbers of %d: %w", eventID, err)
		}
		r.CheckedIn, r.N = checked != 0, 1
		out = append(out, r)
	}
	return out, rows.Err()
}

// statRowsByEvent reads the registrations of many events, grouped, keyed by
// event id. organiserID 0 means every organisation.
func statRowsByEvent(ctx context.Context, q Querier, organiserID int64) (map[int64][]StatRow, error) {
	query := `SELECT r.event_id, r.status, CASE WHEN r.checked_in_at IS NULL THEN 0 ELSE 1 END, r.level, r.sector, COUNT(*)
		FROM registrations r JOIN events e ON e.id = r.event_id
		WHERE e.status = 'published'`
	var args []any
	if organiserID != 0 {
		query += ` AND e.organiser_id = ?`
		args = append(args, organiserID)
	}
	query += ` GROUP BY r.event_id, r.status, CASE WHEN r.checked_in_at IS NULL THEN 0 ELSE 1 END, r.level, r.sector`
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("registration: numbers: %w", err)
	}
	defer rows.Close()
	out := map[int64][]StatRow{}
	for rows.Next() {
		var id int64
		var r StatRow
		var checked int
		if err := rows.Scan(&id, &r.Status, &checked, &r.Level, &r.Sector, &r.N); err != nil {
			return nil, fmt.Errorf("registration: numbers: %w", err)
		}
		r.CheckedIn = checked != 0
		out[id] = append(out[id], r)
	}
	return out, rows.Err()
}

// EventRow is one event in the overview with its numbers.
type EventRow struct {
	Event events.Event
	Tally Tally
	Ended bool
}

// RegionRow is one region's numbers.
type RegionRow struct {
	Region string
	Tally  Tally
}

// Overview is the numbers of many events: each, per region and in all.
type Overview struct {
	Events  []EventRow
	Regions []RegionRow // in the regions' own order (see Summarise)
	All     Tally
}

// Summarise puts events (in date order) and their registrations together.
// Regions are listed in regionOrder, then any other in the order of its
// first event; regions without events are left out.
func Summarise(evs []events.Event, rows map[int64][]StatRow, now time.Time, regionOrder []string) Overview {
	var o Overview
	idx := map[string]int{}
	for _, name := range regionOrder {
		idx[name] = len(o.Regions)
		o.Regions = append(o.Regions, RegionRow{Region: name})
	}
	for _, ev := range evs {
		ended := ev.Past(now)
		t := TallyEvent(rows[ev.ID], ev.Capacity, ended)
		o.Events = append(o.Events, EventRow{Event: ev, Tally: t, Ended: ended})
		i, ok := idx[ev.Region.Name]
		if !ok {
			i = len(o.Regions)
			idx[ev.Region.Name] = i
			o.Regions = append(o.Regions, RegionRow{Region: ev.Region.Name})
		}
		o.Regions[i].Tally = o.Regions[i].Tally.Add(t)
		o.All = o.All.Add(t)
	}
	// regions without events say nothing
	kept := o.Regions[:0]
	for _, r := range o.Regions {
		if r.Tally.Events > 0 {
			kept = append(kept, r)
		}
	}
	o.Regions = kept
	if o.All.Levels == nil {
		o.All.Levels, o.All.Sectors = mix(leader.Levels, nil), mix(leader.Sectors, nil)
	}
	return o
}

// regionNames is the order regions are listed in.
func regionNames(rs []events.Region) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}
