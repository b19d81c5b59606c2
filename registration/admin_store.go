package registration

// What the organiser's pages read about an event's registrations: every
// registration with its attendance (checked_in_at), and the pure filters
// the list, the CSV export and the check-in page apply to them.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/organisers"
)

// Attendee is a registration as organisers see it: with whether and when
// the person was checked in at the door.
type Attendee struct {
	Registration
	CheckedInAt time.Time // zero unless checked in
	// Anonymised is set when retention or erasure removed the personal data.
	Anonymised bool
	// DietaryHidden and AccessibilityHidden mark needs whose text was
	// blanked for the viewer (HideNeeds): they may know there are needs,
	// not what they are.
	DietaryHidden, AccessibilityHidden bool
}

// MayReadNeeds reports whether u may read the dietary and accessibility
// needs (health data) of an event's registrants: only the organisers of
// the event's own organisation, who arrange the food and the venue.
// Admins run the platform, not the event, and check-in staff at the door
// need to know only that someone has needs (HideNeeds).
func MayReadNeeds(u *organisers.User, ev events.Event) bool {
	return u != nil && u.Role == organisers.RoleOrganiser && u.OrganiserID == ev.Organiser.ID
}

// HideNeeds blanks the text of every attendee's needs, keeping the fact
// that there are some.
func HideNeeds(all []Attendee) {
	for i := range all {
		a := &all[i]
		a.DietaryHidden, a.AccessibilityHidden = a.Dietary != "", a.Accessibility != ""
		a.Dietary, a.Accessibility = "", ""
	}
}

// HasDietary and HasAccessibility report needs, shown or hidden.
func (a Attendee) HasDietary() bool       { return a.Dietary != "" || a.DietaryHidden }
func (a Attendee) HasAccessibility() bool { return a.Accessibility != "" || a.AccessibilityHidden }

// Attended reports whether the person was checked in (and is not cancelled).
func (a Attendee) Attended() bool { return !a.CheckedInAt.IsZero() && !a.Cancelled() }

// The status filters of the attendee list (besides "" for everyone).
const (
	FilterConfirmed = StatusConfirmed
	FilterWaiting   = StatusWaiting
	FilterCancelled = StatusCancelled
	FilterAttended  = "attended"
	FilterNotYet    = "not_checked_in" // confirmed, not (yet) checked in
)

// AttendeeFilters lists the filters in the order the page offers them.
var AttendeeFilters = []string{FilterConfirmed, FilterWaiting, FilterCancelled, FilterAttended, FilterNotYet}

// extraScanner scans the registration columns and then extra columns.
type extraScanner struct {
	s     scanner
	extra []any
}

func (e extraScanner) Scan(dest ...any) error { return e.s.Scan(append(dest, e.extra...)...) }

// FindAttendees returns every registration of an event in list order
// (confirmed, then the waiting list with positions, then cancelled).
func FindAttendees(ctx context.Context, q Querier, eventID int64) ([]Attendee, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+regColumns+`, checked_in_at, anonymised_at FROM registrations
		WHERE event_id = ?
		ORDER BY CASE status WHEN 'confirmed' THEN 0 WHEN 'waiting' THEN 1 ELSE 2 END, queued_at, id`, eventID)
	if err != nil {
		return nil, fmt.Errorf("registration: attendees of %d: %w", eventID, err)
	}
	defer rows.Close()
	var out []Attendee
	n := 0
	for rows.Next() {
		var checked, anonymised sql.NullTime
		r, err := scanRegistration(extraScanner{s: rows, extra: []any{&checked, &anonymised}})
		if err != nil {
			return nil, fmt.Errorf("registration: attendees of %d: %w", eventID, err)
		}
		a := Attendee{Registration: r, Anonymised: anonymised.Valid}
		if checked.Valid {
			a.CheckedInAt = checked.Time.UTC()
		}
		if a.Waiting() {
			n++
			a.Position = n
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("registration: attendees of %d: %w", eventID, err)
	}
	return out, nil
}

// findAttendee returns one registration of an event with its attendance,
// or ErrNotFound when the id is not a registration of that event.
func findAttendee(ctx context.Context, q Querier, eventID, regID int64) (Attendee, error) {
	var checked, anonymised sql.NullTime
	r, err := scanRegistration(extraScanner{s: q.QueryRowContext(ctx, `SELECT `+regColumns+`, checked_in_at, anonymised_at
		FROM registrations WHERE id = ? AND event_id = ?`, regID, eventID), extra: []any{&checked, &anonymised}})
	if errors.Is(err, sql.ErrNoRows) {
		return Attendee{}, ErrNotFound
	}
	if err != nil {
		return Attendee{}, fmt.Errorf("registration: attendee %d: %w", regID, err)
	}
	a := Attendee{Registration: r, Anonymised: anonymised.Valid}
	if checked.Valid {
		a.CheckedInAt = checked.Time.UTC()
	}
	if a.Position, err = Position(ctx, q, r); err != nil {
		return Attendee{}, err
	}
	return a, nil
}

// foldText is s as search compares it: composed (NFC, so an å typed as a
// + ring matches a stored å) and lower-cased with Unicode rules (Æ, Ø, Å).
func foldText(s string) string {
	return strings.ToLower(norm.NFC.String(strings.TrimSpace(s)))
}

// MatchesSearch reports whether query occurs in the person's name,
// organisation or email address, ignoring case. Every word of the query
// must occur somewhere ("kari vik" finds Kari Vik and Kari Marie Vik).
func (a Attendee) MatchesSearch(query string) bool {
	words := strings.Fields(foldText(query))
	if len(words) == 0 {
		return true
	}
	hay := foldText(a.Name) + "\x00" + foldText(a.Organisation) + "\x00" + foldText(a.Email)
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// MatchesStatus reports whether the person belongs under a status filter.
func (a Attendee) MatchesStatus(filter string) bool {
	switch filter {
	case "":
		return true
	case FilterAttended:
		return a.Attended()
	case FilterNotYet:
		return a.Confirmed() && a.CheckedInAt.IsZero()
	default:
		return a.Status == filter
	}
}

// CleanFilter returns filter if it is one of AttendeeFilters, else "".
func CleanFilter(filter string) string {
	if slices.Contains(AttendeeFilters, filter) {
		return filter
	}
	return ""
}

// FilterAttendees keeps the attendees that match both the search and the
// status filter, in their order. An unknown filter keeps nobody out.
func FilterAttendees(all []Attendee, query, status string) []Attendee {
	status = CleanFilter(status)
	var out []Attendee
	for _, a := range all {
		if a.MatchesStatus(status) && a.MatchesSearch(query) {
			out = append(out, a)
		}
	}
	return out
}

// AttendeeCounts are the numbers at the top of the list.
type AttendeeCounts struct {
	Confirmed, Waiting, Cancelled, Attended int
}

// CountAttendees counts by status; Attended counts the checked in.
func CountAttendees(all []Attendee) AttendeeCounts {
	var c AttendeeCounts
	for _, a := range all {
		switch a.Status {
		case StatusConfirmed:
			c.Confirmed++
		case StatusWaiting:
			c.Waiting++
		case StatusCancelled:
			c.Cancelled++
		}
		if a.Attended() {
			c.Attended++
		}
	}
	return c
}

// Needs is the at-a-glance summary of what the live registrations (confirmed
// and waiting) asked for: food, accessibility and topics for the agenda.
type Needs struct {
	Dietary       []Attendee
	Accessibility []Attendee
	Topics        []Attendee
}

// SummariseNeeds picks out the live registrations that wrote something in
// the dietary, accessibility and topics fields.
func SummariseNeeds(all []Attendee) Needs {
	var n Needs
	for _, a := range all {
		if a.Cancelled() || a.Anonymised {
			continue
		}
		if a.HasDietary() {
			n.Dietary = append(n.Dietary, a)
		}
		if a.HasAccessibility() {
			n.Accessibility = append(n.Accessibility, a)
		}
		if strings.TrimSpace(a.Topics) != "" {
			n.Topics = append(n.Topics, a)
		}
	}
	return n
}
