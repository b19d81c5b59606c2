package events

import (
	"fmt"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"
)

// sequenceEvent is a published physical event at sequence 3.
func sequenceEvent() Event {
	start := time.Date(2026, 3, 12, 8, 0, 0, 0, time.UTC)
	return Event{
		ID: 7, Title: "Ledermøte i Bodø", Description: "Om tillit.", Status: StatusPublished, Sequence: 3,
		StartsAt: start, EndsAt: start.Add(2 * time.Hour), Mode: "physical", Capacity: 40,
		Venue: &Venue{ID: 4, Name: "Stormen", Street: "Storgata 1", Postcode: "8006", City: "Bodø"},
	}
}

// TestNextSequence: the event's sequence goes up by one when attendees'
// calendars must follow the change (time, place, cancellation), and only
// then.
func TestNextSequence(t *testing.T) {
	for _, tt := range []struct {
		name   string
		before func(*Event) // from sequenceEvent; nil: as it is
		change func(*Event)
		want   int
	}{
		{"nothing changed", nil, func(*Event) {}, 3},
		{"title and text", nil, func(e *Event) { e.Title, e.Description = "Ledermøte i Bodø: tillit", "Nytt." }, 3},
		{"more places", nil, func(e *Event) { e.Capacity = 60 }, 3},
		{"published from a draft", func(e *Event) { e.Status = StatusDraft }, func(e *Event) { e.Status = StatusPublished }, 3},
		{"the same start, written in Oslo time", nil, func(e *Event) { e.StartsAt = e.StartsAt.In(Oslo) }, 3},
		{"the same venue, saved as a new row", nil, func(e *Event) { v := *e.Venue; v.ID = 9; e.Venue = &v }, 3},
		{"an hour later", nil, func(e *Event) { e.StartsAt, e.EndsAt = e.StartsAt.Add(time.Hour), e.EndsAt.Add(time.Hour) }, 4},
		{"ends later", nil, func(e *Event) { e.EndsAt = e.EndsAt.Add(30 * time.Minute) }, 4},
		{"another room", nil, func(e *Event) { v := *e.Venue; v.Name = "Bodø rådhus"; e.Venue = &v }, 4},
		{"hybrid now", nil, func(e *Event) { e.Mode, e.OnlineURL = "hybrid", "https://meet.example.no/a" }, 4},
		{"another meeting link", func(e *Event) { e.Mode, e.OnlineURL = "digital", "https://meet.example.no/a" },
			func(e *Event) { e.OnlineURL = "https://meet.example.no/b" }, 4},
		{"cancelled", nil, func(e *Event) { e.Status = StatusCancelled }, 4},
		{"moved and cancelled at once: one raise", nil, func(e *Event) { e.Status, e.StartsAt = StatusCancelled, e.StartsAt.Add(time.Hour) }, 4},
		{"already cancelled, text changed", func(e *Event) { e.Status = StatusCancelled }, func(e *Event) { e.Title = "Avlyst" }, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := sequenceEvent()
			if tt.before != nil {
				tt.before(&before)
			}
			after := cloneEvent(before)
			tt.change(&after)
			if got := NextSequence(Change{Before: before, After: after}); got != tt.want {
				t.Errorf("NextSequence = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestInvitationSequence: a message to one attendee starts from the
// event's sequence, a CANCEL one above, and two more for every earlier
// cancelled registration of the address.
func TestInvitationSequence(t *testing.T) {
	for _, tt := range []struct {
		event          int
		method         string
		earlierCancels int
		want           int
	}{
		{0, MethodRequest, 0, 0},
		{0, MethodCancel, 0, 1},
		{5, MethodRequest, 0, 5},
		{5, MethodCancel, 0, 6},
		{0, MethodRequest, 1, 2},
		{0, MethodCancel, 1, 3},
		{4, MethodRequest, 3, 10},
		{4, MethodCancel, 3, 11},
	} {
		name := fmt.Sprintf("%s at %d after %d cancelled", tt.method, tt.event, tt.earlierCancels)
		t.Run(name, func(t *testing.T) {
			if got := InvitationSequence(tt.event, tt.method, tt.earlierCancels); got != tt.want {
				t.Errorf("InvitationSequence = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestSequenceOutranks walks what one address can receive for one event
// (sign up, cancel, sign up again, the event moved, the event cancelled)
// and checks that every message outranks the one before, as a calendar
// needs to take it (RFC 5546 §2.1.5).
func TestSequenceOutranks(t *testing.T) {
	for event := range 4 {
		for rounds := range 5 {
			var sent []int
			for k := range rounds {
				sent = append(sent, InvitationSequence(event, MethodRequest, k), InvitationSequence(event, MethodCancel, k))
			}
			// signed up once more; the event moves, then is cancelled
			sent = append(sent,
				InvitationSequence(event, MethodRequest, rounds),
				InvitationSequence(event+1, MethodRequest, rounds),
				InvitationSequence(event+2, MethodCancel, rounds))
			for i := 1; i < len(sent); i++ {
				if sent[i] <= sent[i-1] {
					t.Errorf("event at %d, %d rounds: message %d has SEQUENCE %d, the one before %d (all: %v)",
						event, rounds, i+1, sent[i], sent[i-1], sent)
				}
			}
		}
	}
}

// TestInvitationCarriesSequence: the invitation writes InvitationSequence,
// the attendee's earlier cancellations included.
func TestInvitationCarriesSequence(t *testing.T) {
	ev := icalCases()[0].ev
	ev.Sequence = 2
	for _, method := range []string{MethodRequest, MethodCancel} {
		for _, earlier := range []int{0, 1, 3} {
			att := icalInvitationAttendee
			att.EarlierCancels = earlier
			b, err := Invitation(ev, att, method, icalTestBase, icalTestNow)
			if err != nil {
				t.Fatal(err)
			}
			evs := icalDecode(t, b).Events()
			if len(evs) != 1 {
				t.Fatalf("%d VEVENTs, want 1", len(evs))
			}
			got, err := icalProp(t, evs[0].Component, ical.PropSequence).Int()
			if err != nil {
				t.Fatal(err)
			}
			icalWant(t, fmt.Sprintf("%s after %d cancelled: SEQUENCE", method, earlier), got, InvitationSequence(2, method, earlier))
		}
	}
}
