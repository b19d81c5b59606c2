package registration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/mailer"
)

// Mail turns what happens to registrations and events into emails in the
// outbox, written in the transaction of the change (see mailer.Enqueue).
// Confirmations, promotions and event changes carry a calendar invitation
// (METHOD:REQUEST); cancellations a METHOD:CANCEL with the same UID.
//
// The mail worker is woken after every commit (see internal/app), so a
// message goes out as soon as the change that queued it is committed.
type Mail struct {
	Emails  *web.Emails
	BaseURL string
}

// MessageData is what every registrant email shows.
type MessageData struct {
	Name      string
	Event     events.Event
	Position  int      // on the waiting list
	Changes   []string // "time", "place": what an event change changed
	ManageURL string
	EventURL  string
}

// messageFor says which template and calendar method each notice gets.
var messageFor = map[string]struct {
	template string
	method   string // "" for no invitation
}{
	NoticeConfirmed:  {"registration_confirmed", events.MethodRequest},
	NoticeWaiting:    {"registration_waiting", ""},
	NoticePromoted:   {"registration_promoted", events.MethodRequest},
	NoticeCancelled:  {"registration_cancelled", events.MethodCancel},
	NoticeManageLink: {"manage_link", ""},
	noticeChanged:    {"event_changed", events.MethodRequest},
	noticeEventGone:  {"event_cancelled", events.MethodCancel},
	noticeReminder:   {"reminder", ""},
}

// Notices the registration service does not raise itself.
const (
	noticeChanged   = "event_changed"
	noticeEventGone = "event_cancelled"
	noticeReminder  = "reminder"
)

// Notify queues the email for n. It is the Service's Notify.
func (m *Mail) Notify(ctx context.Context, tx Tx, now time.Time, n Notice) error {
	return m.queue(ctx, tx, now, n, nil, "")
}

func (m *Mail) queue(ctx context.Context, tx Tx, now time.Time, n Notice, changes []string, dedupe string) error {
	kind, ok := messageFor[n.Kind]
	if !ok {
		return fmt.Errorf("registration: no email for notice %q", n.Kind)
	}
	r, ev := n.Registration, n.Event
	data := MessageData{
		Name:      r.Name,
		Event:     ev,
		Position:  r.Position,
		Changes:   changes,
		ManageURL: m.BaseURL + "/r/" + n.Token,
		EventURL:  m.BaseURL + "/events/" + ev.Slug,
	}
	if n.Kind == NoticeWaiting && data.Position == 0 {
		pos, err := Position(ctx, tx, r)
		if err != nil {
			return err
		}
		data.Position = pos
	}
	msg, err := m.Emails.Render(kind.template, web.SupportedLang(r.Lang), m.BaseURL, data)
	if err != nil {
		return err
	}
	out := mailer.Message{
		Kind: kind.template, To: r.Email, ToName: r.Name, ReplyTo: ev.Organiser.ContactEmail,
		Subject: msg.Subject, TextBody: msg.Text, HTMLBody: msg.HTML, DedupeKey: dedupe,
	}
	if kind.method != "" {
		att := events.Attendee{Name: r.Name, Email: r.Email, Status: r.Status}
		inv := ev
		if inv.Sequence, err = attendeeSequence(ctx, tx, r, ev.Sequence); err != nil {
			return err
		}
		out.Calendar, err = events.Invitation(inv, att, kind.method, m.BaseURL, now)
		if err != nil {
			return err
		}
		out.CalendarMethod = kind.method
	}
	if _, err := mailer.Enqueue(ctx, tx, now, out); err != nil && !errors.Is(err, mailer.ErrDuplicate) {
		return err
	}
	return nil
}

const qEarlierCancels = `SELECT COUNT(*) FROM registrations
	WHERE email_norm = ? AND event_id = ? AND status = 'cancelled' AND id <> ?`

// attendeeSequence is the SEQUENCE base of r's invitations: the event's,
// raised by 2 for every earlier registration of the same address for the
// event that was cancelled. Such a person got a CANCEL (SEQUENCE one above
// the event's) for the event's one UID, and calendars ignore a REQUEST
// older than the copy they hold (RFC 5546 §2.1.5): without the raise,
// signing up again would bring an invitation marked out of date. A raise
// of one would only equal that CANCEL; with two the new REQUEST is newer,
// and so every calendar message to the address outranks the one before
// (a CANCEL is one above its REQUEST, the next REQUEST one above that).
func attendeeSequence(ctx context.Context, tx RowQuerier, r Registration, seq int) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, qEarlierCancels, NormalizeEmail(r.Email), r.EventID, r.ID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("registration: earlier cancellations: %w", err)
	}
	return seq + 2*n, nil
}

// EventChanged is the events.ChangeHook for an organiser's change: freed
// places go to the waiting list, a change of time or place sends everyone
// confirmed an updated invitation, and a cancellation tells everyone
// confirmed or waiting. It runs in the organiser's transaction.
func (s *Service) EventChanged(m *Mail) events.ChangeHook {
	return func(ctx context.Context, tx *sql.Tx, now time.Time, ch events.Change) error {
		ev := ch.After
		if ch.Cancelled() {
			return s.tellAll(ctx, tx, now, m, ev, []string{StatusConfirmed, StatusWaiting}, noticeEventGone, nil)
		}
		if ch.TimeOrPlaceChanged() && ev.Status == "published" {
			var changes []string
			if !ch.Before.StartsAt.Equal(ev.StartsAt) || !ch.Before.EndsAt.Equal(ev.EndsAt) {
				changes = append(changes, "time")
			}
			if ch.Before.Mode != ev.Mode || ch.Before.OnlineURL != ev.OnlineURL || venueChanged(ch.Before.Venue, ev.Venue) {
				changes = append(changes, "place")
			}
			if err := s.tellAll(ctx, tx, now, m, ev, []string{StatusConfirmed}, noticeChanged, changes); err != nil {
				return err
			}
		}
		if ch.CapacityRaised() {
			if _, err := s.PromoteWaiting(ctx, tx, now, ev.ID); err != nil {
				return err
			}
		}
		return nil
	}
}

func venueChanged(a, b *events.Venue) bool {
	if a == nil || b == nil {
		return (a == nil) != (b == nil)
	}
	return a.Name != b.Name || a.Street != b.Street || a.Postcode != b.Postcode || a.City != b.City
}

// tellAll queues one message for each registration of ev in statuses, each
// with a fresh manage link.
func (s *Service) tellAll(ctx context.Context, tx *sql.Tx, now time.Time, m *Mail, ev events.Event, statuses []string, kind string, changes []string) error {
	regs, err := FindRegistrations(ctx, tx, Filter{EventID: ev.ID, Statuses: statuses})
	if err != nil {
		return err
	}
	for _, r := range regs {
		token, err := createToken(ctx, tx, now, s.expiry(ev), r.ID)
		if err != nil {
			return err
		}
		if err := m.queue(ctx, tx, now, Notice{Kind: kind, Event: ev, Registration: r, Token: token}, changes, ""); err != nil {
			return err
		}
	}
	return nil
}

// QueueReminders queues a reminder to everyone confirmed for a published
// event that starts within before from now. Each reminder is sent once per
// registration and start time (an outbox dedupe key), so running this
// often is harmless, and moving the event earns a new reminder.
func (s *Service) QueueReminders(ctx context.Context, m *Mail, before time.Duration) (int, error) {
	queued := 0
	err := s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		queued = 0
		store := &events.Store{DB: s.DB}
		evs, _, err := store.FindEvents(ctx, events.EventFilter{From: now, Statuses: []string{"published"}})
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if !ev.StartsAt.After(now) || ev.StartsAt.After(now.Add(before)) {
				continue
			}
			regs, err := FindRegistrations(ctx, tx, Filter{EventID: ev.ID, Statuses: []string{StatusConfirmed}})
			if err != nil {
				return err
			}
			for _, r := range regs {
				key := fmt.Sprintf("reminder:%d:%d", r.ID, ev.StartsAt.Unix())
				if sent, err := mailer.Queued(ctx, tx, key); err != nil || sent {
					if err != nil {
						return err
					}
					continue
				}
				token, err := createToken(ctx, tx, now, s.expiry(ev), r.ID)
				if err != nil {
					return err
				}
				if err := m.queue(ctx, tx, now, Notice{Kind: noticeReminder, Event: ev, Registration: r, Token: token}, nil, key); err != nil {
					return err
				}
				queued++
			}
		}
		return nil
	})
	return queued, err
}
