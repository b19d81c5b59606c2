// Package events owns regions, organisers, venues, network series, events and
// their agendas: the public listing and detail pages, the JSON API, the
// calendar feeds and the demo data.
package events

import (
	"context"
	"database/sql"
	"time"

	"github.com/moteplass/moteplass/internal/leader"
	"github.com/moteplass/moteplass/internal/web"
)

// Oslo is the time zone every time is shown in (web.Oslo). Times are
// stored in UTC.
var Oslo = web.Oslo

// The closed vocabularies below mirror the CHECK constraints of the schema and
// the attributes of a meeting place in the research note.
var (
	Formats       = []string{"meeting_place", "network_meeting", "conference", "breakfast_seminar", "digital_meeting"}
	Modes         = []string{"physical", "digital", "hybrid"}
	Levels        = leader.EventLevels // the leader levels an event can be meant for
	Roles         = []string{"communication", "administration", "finance", "hr", "it", "specialist"}
	Themes        = []string{"leadership", "subject", "both"}
	Sectors       = []string{"public", "mixed"}
	Facilitations = []string{"facilitated", "self_run"}
)

// Status is where an event is in its life: a draft only organisers see,
// published for everyone, or cancelled (still shown, marked so). The
// values are the ones stored in events.status.
type Status string

const (
	StatusDraft     Status = "draft"
	StatusPublished Status = "published"
	StatusCancelled Status = "cancelled"
)

// Statuses are all of them, for a filter that must see every event
// (EventFilter's default leaves drafts out).
var Statuses = []Status{StatusDraft, StatusPublished, StatusCancelled}

// Region is a place where meeting places happen.
type Region struct {
	ID   int64
	Slug string
	Name string
}

// Organiser is an organisation that runs events.
type Organiser struct {
	ID           int64
	Slug         string
	Name         string
	Kind         string // public, organisation, commercial
	ContactEmail string
	Website      string
}

// Venue is where a physical event takes place.
type Venue struct {
	ID            int64
	Name          string
	Street        string
	Postcode      string
	City          string
	Latitude      *float64
	Longitude     *float64
	Accessibility string
}

// HasGeo reports whether the venue has coordinates.
func (v *Venue) HasGeo() bool { return v != nil && v.Latitude != nil && v.Longitude != nil }

// Series is a network: a bounded group whose meetings are events.
type Series struct {
	ID          int64
	Slug        string
	Title       string
	Description string
	OrganiserID int64
}

// AgendaItem is one point of an event's programme and who introduces it.
type AgendaItem struct {
	ID         int64
	Position   int
	StartsAt   time.Time // zero when the item has no set time
	Title      string
	Introducer string
}

// Event is a meeting place, a network meeting, a conference...
type Event struct {
	ID                   int64
	Slug                 string
	Title                string
	Summary              string
	Description          string
	Format               string
	Mode                 string
	StartsAt             time.Time // UTC
	EndsAt               time.Time // UTC
	Region               Region
	Venue                *Venue // nil for a digital event
	OnlineURL            string
	Capacity             int
	RegistrationOpensAt  time.Time // zero: open as soon as published
	RegistrationClosesAt time.Time // zero: open until the start
	PriceNOK             int
	Levels               []string // empty: all levels
	Roles                []string // empty: all roles
	Sector               string
	InvitationOnly       bool
	InviteCode           string
	Facilitation         string
	Theme                string
	Language             string
	Status               Status
	Organiser            Organiser
	Series               *Series
	Host                 string
	Sequence             int
	CreatedAt            time.Time
	UpdatedAt            time.Time
	Agenda               []AgendaItem

	// Counts of live registrations, read with the event.
	ConfirmedCount int
	WaitlistCount  int
}

// SeatsLeft is how many confirmed places remain (never negative).
func (e Event) SeatsLeft() int {
	if n := e.Capacity - e.ConfirmedCount; n > 0 {
		return n
	}
	return 0
}

// Full reports whether every seat is taken.
func (e Event) Full() bool { return e.SeatsLeft() == 0 }

// NearlyFull reports whether at most a tenth of the seats (and at most 10) remain.
func (e Event) NearlyFull() bool {
	left := e.SeatsLeft()
	return left > 0 && (left*10 <= e.Capacity || left <= 3)
}

// Cancelled reports whether the organiser cancelled the event.
func (e Event) Cancelled() bool { return e.Status == StatusCancelled }

// Past reports whether the event has ended at time now.
func (e Event) Past(now time.Time) bool { return !e.EndsAt.After(now) }

// Started reports whether the event has begun at time now.
func (e Event) Started(now time.Time) bool { return !e.StartsAt.After(now) }

// RegistrationDeadline is when registration closes: the set deadline, or the start.
func (e Event) RegistrationDeadline() time.Time {
	if !e.RegistrationClosesAt.IsZero() && e.RegistrationClosesAt.Before(e.StartsAt) {
		return e.RegistrationClosesAt
	}
	return e.StartsAt
}

// RegistrationState says whether someone can sign up at time now, and if not, why.
type RegistrationState string

const (
	RegistrationOpen      RegistrationState = "open"
	RegistrationNotYet    RegistrationState = "not_open_yet"
	RegistrationClosed    RegistrationState = "closed"
	RegistrationStarted   RegistrationState = "started"
	RegistrationCancelled RegistrationState = "cancelled"
	RegistrationDraft     RegistrationState = "draft"
)

// RegistrationStateAt is the capacity-independent rule for signing up.
// A full event is still "open": new sign-ups join the waiting list.
func (e Event) RegistrationStateAt(now time.Time) RegistrationState {
	switch {
	case e.Status == StatusCancelled:
		return RegistrationCancelled
	case e.Status != StatusPublished:
		return RegistrationDraft
	case e.Started(now):
		return RegistrationStarted
	case !e.RegistrationOpensAt.IsZero() && now.Before(e.RegistrationOpensAt):
		return RegistrationNotYet
	case !now.Before(e.RegistrationDeadline()):
		return RegistrationClosed
	}
	return RegistrationOpen
}

// Free reports whether the event costs nothing.
func (e Event) Free() bool { return e.PriceNOK == 0 }

// Physical reports whether people meet in a room (physical or hybrid).
func (e Event) Physical() bool { return e.Mode != "digital" }

// Digital reports whether people can take part online (digital or hybrid).
func (e Event) Digital() bool { return e.Mode != "physical" }

// Change is an organiser's change to an event, handed to the code that must
// tell registrants (registration's notifications) inside the transaction
// that makes the change.
type Change struct {
	Before, After Event
}

// TimeOrPlaceChanged reports whether attendees' calendars must be updated.
func (ch Change) TimeOrPlaceChanged() bool {
	b, a := ch.Before, ch.After
	if !b.StartsAt.Equal(a.StartsAt) || !b.EndsAt.Equal(a.EndsAt) || b.Mode != a.Mode || b.OnlineURL != a.OnlineURL {
		return true
	}
	return venueKey(b.Venue) != venueKey(a.Venue)
}

// Cancelled reports whether the change cancels the event.
func (ch Change) Cancelled() bool { return !ch.Before.Cancelled() && ch.After.Cancelled() }

// CapacityRaised reports whether places were added (the waiting list moves).
func (ch Change) CapacityRaised() bool { return ch.After.Capacity > ch.Before.Capacity }

func venueKey(v *Venue) string {
	if v == nil {
		return ""
	}
	return v.Name + "\x00" + v.Street + "\x00" + v.Postcode + "\x00" + v.City
}

// ChangeHook runs inside the transaction of an organiser's change.
type ChangeHook func(ctx context.Context, tx *sql.Tx, now time.Time, ch Change) error
