package events

// An organiser's change to a saved event, as one transaction: Store.Change
// and the rules it and the organiser pages share. No Gin here: the pages
// parse the form and pass in an edit; what may be done, the SEQUENCE, the
// change hook and the audit log are decided here.

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/organisers"
)

// Change is the one way an organiser's change to a saved event is written,
// all in tx: lock the event (the state before), check that who may manage
// it, let edit change a copy, check that who may manage the result (only
// an admin may give an event to another organiser), raise the sequence
// when attendees' calendars must change (NextSequence), save, read the
// event back as saved, run OnChange and write the audit log under action.
// An error from edit (a refusal, say) comes back as it is, and nothing is
// written.
func (s *Store) Change(ctx context.Context, tx *sql.Tx, now time.Time, who *organisers.User, id int64, action string, edit func(ev *Event) error) (Change, error) {
	before, err := ForUser(ctx, tx, who, id, organisers.Manage)
	if err != nil {
		return Change{}, err
	}
	after := cloneEvent(before)
	if err := edit(&after); err != nil {
		return Change{}, err
	}
	if err := who.May(organisers.Manage, after.Organiser.ID); err != nil {
		return Change{}, err
	}
	ch := Change{Before: before, After: after}
	after.Sequence = NextSequence(ch)
	if err := prepareEvent(ctx, tx, &after); err != nil {
		return ch, err
	}
	if err := UpdateEvent(ctx, tx, now, &after); err != nil {
		return ch, err
	}
	if ch.After, err = LockEvent(ctx, tx, id); err != nil {
		return ch, err
	}
	if s.OnChange != nil {
		if err := s.OnChange(ctx, tx, now, ch); err != nil {
			return ch, fmt.Errorf("events: on change of %d: %w", id, err)
		}
	}
	return ch, organisers.Audit(ctx, tx, now, who, ch.After.Organiser.ID, action, "event", id, describeChange(ch))
}

// needsConfirmation is a change of time or place of a published event with
// confirmed participants: they all get an updated calendar invitation.
func needsConfirmation(ch Change) bool {
	return ch.Before.Status == StatusPublished && ch.Before.ConfirmedCount > 0 && ch.TimeOrPlaceChanged()
}

// describeChange names what changed, for the audit log: field names and
// numbers, never personal data.
func describeChange(ch Change) string {
	b, a := ch.Before, ch.After
	var parts []string
	add := func(changed bool, what string) {
		if changed {
			parts = append(parts, what)
		}
	}
	add(b.Status != a.Status, string(b.Status)+"→"+string(a.Status))
	add(b.Title != a.Title, "title")
	add(b.Slug != a.Slug, "slug")
	add(b.Summary != a.Summary || b.Description != a.Description, "text")
	add(!b.StartsAt.Equal(a.StartsAt) || !b.EndsAt.Equal(a.EndsAt), "time")
	add(venueKey(b.Venue) != venueKey(a.Venue) || b.Mode != a.Mode || b.OnlineURL != a.OnlineURL, "place")
	add(b.Region.ID != a.Region.ID, "region")
	add(b.Organiser.ID != a.Organiser.ID, fmt.Sprintf("organiser %d→%d", b.Organiser.ID, a.Organiser.ID))
	add(b.Capacity != a.Capacity, fmt.Sprintf("capacity %d→%d", b.Capacity, a.Capacity))
	add(b.PriceNOK != a.PriceNOK, fmt.Sprintf("price %d→%d", b.PriceNOK, a.PriceNOK))
	add(!b.RegistrationOpensAt.Equal(a.RegistrationOpensAt) || !b.RegistrationClosesAt.Equal(a.RegistrationClosesAt), "registration window")
	add(!slices.Equal(b.Levels, a.Levels) || !slices.Equal(b.Roles, a.Roles) || b.Sector != a.Sector, "target group")
	add(b.InvitationOnly != a.InvitationOnly || b.InviteCode != a.InviteCode, "invitation")
	add(!sameAgenda(b.Agenda, a.Agenda), "agenda")
	add(b.Host != a.Host, "host")
	add(a.Sequence != b.Sequence, fmt.Sprintf("sequence %d", a.Sequence))
	return strings.Join(parts, ", ")
}

func sameAgenda(x, y []AgendaItem) bool {
	return slices.EqualFunc(x, y, func(p, q AgendaItem) bool {
		return p.StartsAt.Equal(q.StartsAt) && p.Title == q.Title && p.Introducer == q.Introducer
	})
}

// ---- the buttons on the event's page, as edits for Change ----

// toPublished publishes a draft.
func toPublished(ev *Event) error {
	switch ev.Status {
	case StatusPublished:
		return web.Refuse("admin.refused.already_published")
	case StatusCancelled:
		return web.Refuse("admin.refused.publish_cancelled")
	}
	ev.Status = StatusPublished
	return nil
}

// toDraft takes a published event back to a draft, which only an event
// nobody has signed up for can be.
func toDraft(ev *Event) error {
	if ev.Status != StatusPublished {
		return web.Refuse("admin.refused.unpublish_not_published")
	}
	if n := ev.ConfirmedCount + ev.WaitlistCount; n > 0 {
		return web.Refuse("admin.refused.unpublish_registrations", "Count", n)
	}
	ev.Status = StatusDraft
	return nil
}

// toCancelled cancels a published event.
func toCancelled(ev *Event) error {
	if err := cancelCheck(*ev); err != nil {
		return err
	}
	ev.Status = StatusCancelled
	return nil
}

// cancelCheck says why an event cannot be cancelled, or nil.
func cancelCheck(ev Event) error {
	switch ev.Status {
	case StatusCancelled:
		return web.Refuse("admin.refused.already_cancelled")
	case StatusDraft:
		return web.Refuse("admin.refused.cancel_draft")
	}
	return nil
}
