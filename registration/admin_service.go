package registration

// The organiser's changes to an event's registrations: moving a person
// between the waiting list and a confirmed place, adding a registration by
// hand (a phone sign-up) and removing one with a reason. Each is one write
// transaction that checks, inside the transaction, that the user may manage
// the event, changes the registration, queues the person's email and writes
// the audit log (registrations named by id, never by name or address).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/organisers"
)

// Errors of the organiser's changes. The refusals are answered with their
// own page; the others the pages handle themselves (a form shown again).
var (
	// ErrEventOver: the event has ended; its list is the record of who came.
	ErrEventOver = &web.Refusal{Key: "error.attendees.event_over", Why: "registration: the event is over"}
	// ErrEventNotOpen: a draft or a cancelled event takes no one new.
	ErrEventNotOpen = &web.Refusal{Key: "error.attendees.event_not_open", Why: "registration: the event is a draft or cancelled"}
	// ErrOverCapacity: confirming needs the organiser's explicit "over capacity".
	ErrOverCapacity = errors.New("registration: confirming would exceed the capacity")
	// ErrWrongStatus: the registration is not where the change starts from
	// (someone else moved it meanwhile, or the form was old).
	ErrWrongStatus = &web.Refusal{Key: "error.attendees.wrong_status", Why: "registration: the registration is not in the expected status"}
	// ErrAlreadyRegistered: the address already has a live registration.
	ErrAlreadyRegistered = errors.New("registration: the address is already registered")
)

// Audit actions written by this package (audit.action.<name> in the catalogue).
const (
	ActionMove         = "attendee_move"
	ActionAdd          = "attendee_add"
	ActionRemove       = "attendee_remove"
	ActionCheckIn      = "attendee_checkin"
	ActionCheckInUndo  = "attendee_checkin_undo"
	ActionMessageSend  = "message_send"
	ActionCSVExport    = "csv_export"
	auditRegistration  = "registration"
	auditEvent         = "event"
	moveArrow          = "→"
	overCapacityDetail = "over capacity"
)

// lockAttendee reads, in tx, an event whose registrations who may still
// change (managed by them, not cancelled, not over) and one of them.
func lockAttendee(ctx context.Context, tx *sql.Tx, now time.Time, who *organisers.User, eventID, regID int64) (events.Event, Attendee, error) {
	ev, err := events.ForUser(ctx, tx, who, eventID, organisers.Manage)
	if err != nil {
		return ev, Attendee{}, err
	}
	if ev.Cancelled() {
		return ev, Attendee{}, ErrEventNotOpen
	}
	if ev.Past(now) {
		return ev, Attendee{}, ErrEventOver
	}
	a, err := findAttendee(ctx, tx, eventID, regID)
	return ev, a, err
}

// MoveRegistration moves a registration of an event to the waiting list
// or to a confirmed place (to is StatusWaiting or StatusConfirmed).
//
// Confirming someone while every seat is taken needs overCapacity: the
// event then has more confirmed than seats, on purpose. The person is told
// they got a place (with the calendar invitation).
//
// Moving someone confirmed to the waiting list puts them last in line and
// promotes nobody else: the freed seat stays free until the organiser
// confirms someone or a new sign-up takes it. The person is told they are
// on the waiting list.
func (s *Service) MoveRegistration(ctx context.Context, who *organisers.User, eventID, regID int64, to string, overCapacity bool) (Registration, error) {
	var r Registration
	err := s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		ev, a, err := lockAttendee(ctx, tx, now, who, eventID, regID)
		if err != nil {
			return err
		}
		r = a.Registration
		from := r.Status
		detail := from + moveArrow + to
		var kind string
		switch {
		case to == StatusConfirmed && from == StatusWaiting:
			if ev.ConfirmedCount >= ev.Capacity {
				if !overCapacity {
					return ErrOverCapacity
				}
				detail += ", " + overCapacityDetail
			}
			ev.ConfirmedCount++
			ev.WaitlistCount--
			kind = NoticePromoted
		case to == StatusWaiting && from == StatusConfirmed:
			ev.ConfirmedCount--
			ev.WaitlistCount++
			kind = NoticeWaiting
		default:
			return ErrWrongStatus
		}
		if err := setStatus(ctx, tx, now, r.ID, from, to); err != nil {
			return err
		}
		r.Status, r.QueuedAt, r.UpdatedAt = to, now, now
		if r.Position, err = Position(ctx, tx, r); err != nil {
			return err
		}
		if err := s.notifyWithToken(ctx, tx, now, kind, ev, r); err != nil {
			return err
		}
		return organisers.Audit(ctx, tx, now, who, ev.Organiser.ID, ActionMove, auditRegistration, r.ID, detail)
	})
	return r, err
}

// AddByHand registers a person an organiser signs up, say after a phone
// call. The rules of Register apply (a place while seats are free, else the
// waiting list; one live registration per address; the person gets the
// usual email with their manage link), except the registration window and
// the invitation code: an organiser may add someone after the deadline,
// before the opening or to an invitation-only event, until the event ends.
// A draft or a cancelled event takes no one (ErrEventNotOpen). An address
// that is already registered gives ErrAlreadyRegistered and the existing
// registration.
func (s *Service) AddByHand(ctx context.Context, who *organisers.User, eventID int64, in Input) (Result, error) {
	var res Result
	err := s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		res = Result{}
		ev, err := events.ForUser(ctx, tx, who, eventID, organisers.Manage)
		if err != nil {
			return err
		}
		if ev.Status != events.StatusPublished {
			return ErrEventNotOpen
		}
		if ev.Past(now) {
			return ErrEventOver
		}
		norm := NormalizeEmail(in.Email)
		if existing, ok, err := findLive(ctx, tx, eventID, norm); err != nil {
			return err
		} else if ok {
			res = Result{Registration: existing, Duplicate: true}
			return ErrAlreadyRegistered
		}
		r := Registration{
			EventID: eventID, Status: Admit(ev.Capacity, ev.ConfirmedCount), EmailNorm: norm, Lang: web.SupportedLang(in.Lang),
			Details: in.Details, CreatedAt: now, UpdatedAt: now, QueuedAt: now,
		}
		r.Email = in.Email
		if err := insertRegistration(ctx, tx, &r); err != nil {
			return err
		}
		if err := recordConsents(ctx, tx, now, Registration{}, r, in.Wordings); err != nil {
			return err
		}
		kind := NoticeConfirmed
		if r.Confirmed() {
			ev.ConfirmedCount++
		} else {
			kind = NoticeWaiting
			ev.WaitlistCount++
			if r.Position, err = Position(ctx, tx, r); err != nil {
				return err
			}
		}
		token, err := createToken(ctx, tx, now, s.expiry(ev), r.ID, ScopeMail)
		if err != nil {
			return err
		}
		if s.Notify != nil {
			if err := s.Notify(ctx, tx, now, Notice{Kind: kind, Event: ev, Registration: r, Token: token}); err != nil {
				return fmt.Errorf("registration: notify %s: %w", kind, err)
			}
		}
		res = Result{Registration: r, Token: token}
		return organisers.Audit(ctx, tx, now, who, ev.Organiser.ID, ActionAdd, auditRegistration, r.ID, r.Status)
	})
	if errors.Is(err, ErrAlreadyRegistered) {
		return res, err
	}
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// MaxReason is the longest reason for a removal, in characters.
const MaxReason = 1000

// RemoveRegistration cancels a registration on the organiser's side, with
// a reason that goes to the person in an email (m; nil sends none) and
// nowhere else: the audit log names the registration and the change only.
// A confirmed place that is freed goes to the first on the waiting list in
// the same transaction (PromoteWaiting), who is told as usual.
func (s *Service) RemoveRegistration(ctx context.Context, who *organisers.User, eventID, regID int64, reason string, m *Mail) (removed Registration, promoted []Registration, err error) {
	err = s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		promoted = nil
		ev, a, err := lockAttendee(ctx, tx, now, who, eventID, regID)
		if err != nil {
			return err
		}
		removed = a.Registration
		was := removed.Status
		if was == StatusCancelled {
			return ErrWrongStatus
		}
		if err := setStatus(ctx, tx, now, removed.ID, was, StatusCancelled); err != nil {
			return err
		}
		removed.Status, removed.CancelledAt, removed.UpdatedAt, removed.Position = StatusCancelled, now, now, 0
		if was == StatusConfirmed {
			ev.ConfirmedCount--
		} else {
			ev.WaitlistCount--
		}
		if m != nil {
			token, err := createToken(ctx, tx, now, s.expiry(ev), removed.ID, ScopeMail)
			if err != nil {
				return err
			}
			if err := m.queueRemoved(ctx, tx, now, ev, removed, token, reason, was == StatusConfirmed); err != nil {
				return err
			}
		}
		if was == StatusConfirmed {
			if promoted, err = s.PromoteWaiting(ctx, tx, now, eventID); err != nil {
				return err
			}
		}
		detail := was + moveArrow + StatusCancelled
		if len(promoted) > 0 {
			ids := make([]string, len(promoted))
			for i, p := range promoted {
				ids[i] = strconv.FormatInt(p.ID, 10)
			}
			detail += "; promoted " + strings.Join(ids, ", ")
		}
		return organisers.Audit(ctx, tx, now, who, ev.Organiser.ID, ActionRemove, auditRegistration, removed.ID, detail)
	})
	if err != nil {
		return Registration{}, nil, err
	}
	return removed, promoted, nil
}
