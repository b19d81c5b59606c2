package registration

// An organiser's message to a group of an event's registrants: the
// confirmed, the waiting list or those who were checked in. It goes through
// the outbox in one transaction, one email per person, each with the
// person's own manage link and Reply-To the organiser's contact address.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/mailer"
	"github.com/moteplass/moteplass/organisers"
)

// The groups a message can go to.
const (
	GroupConfirmed = "confirmed"
	GroupWaiting   = "waiting"
	GroupAttended  = "attended"
)

// MessageGroups lists the groups in the order the form offers them.
var MessageGroups = []string{GroupConfirmed, GroupWaiting, GroupAttended}

// Limits of a message, in characters.
const (
	MaxMessageSubject = 150
	MaxMessageBody    = 10000
)

// ErrNoRecipients: nobody is in the chosen group.
var ErrNoRecipients = errors.New("registration: nobody in the group")

// MessageDraft is a message as the organiser typed it.
type MessageDraft struct {
	Group   string
	Subject string
	Body    string
}

// Clean trims the draft and normalises line breaks.
func (d MessageDraft) Clean() MessageDraft {
	d.Group = strings.TrimSpace(d.Group)
	d.Subject = strings.TrimSpace(d.Subject)
	d.Body = strings.TrimSpace(strings.ReplaceAll(d.Body, "\r\n", "\n"))
	return d
}

// Problems returns a catalogue key per field that is wrong ("" when none):
// the page shows the message next to the field.
func (d MessageDraft) Problems() map[string]string {
	p := map[string]string{}
	if !slices.Contains(MessageGroups, d.Group) {
		p["group"] = "message.error.group"
	}
	switch {
	case d.Subject == "":
		p["subject"] = "message.error.subject_required"
	case utf8.RuneCountInString(d.Subject) > MaxMessageSubject:
		p["subject"] = "message.error.subject_too_long"
	case !utf8.ValidString(d.Subject) || hasControl(d.Subject, false):
		p["subject"] = "message.error.invalid_characters"
	}
	switch {
	case d.Body == "":
		p["body"] = "message.error.body_required"
	case utf8.RuneCountInString(d.Body) > MaxMessageBody:
		p["body"] = "message.error.body_too_long"
	case !utf8.ValidString(d.Body) || hasControl(d.Body, true):
		p["body"] = "message.error.invalid_characters"
	}
	return p
}

// Recipients are the attendees a message to group goes to; people whose
// data was anonymised get nothing.
func Recipients(all []Attendee, group string) []Attendee {
	var out []Attendee
	for _, a := range all {
		if a.Anonymised {
			continue
		}
		switch {
		case group == GroupConfirmed && a.Confirmed(),
			group == GroupWaiting && a.Waiting(),
			group == GroupAttended && a.Attended():
			out = append(out, a)
		}
	}
	return out
}

// messageKey makes the same message to the same person "send once": a
// second click on "send" queues nothing new. A changed text is a new message.
func messageKey(regID int64, d MessageDraft) string {
	sum := sha256.Sum256([]byte(d.Group + "\x00" + d.Subject + "\x00" + d.Body))
	return fmt.Sprintf("%s:%d:%s", EmailOrganiserMessage, regID, hex.EncodeToString(sum[:12]))
}

// SendOrganiserMessage queues d for everyone in its group, in one
// transaction. It returns how many emails were queued and how many people
// already had this very message (sent twice by mistake).
func (s *Service) SendOrganiserMessage(ctx context.Context, who *organisers.User, eventID int64, d MessageDraft, m *Mail) (queued, skipped int, err error) {
	d = d.Clean()
	if len(d.Problems()) > 0 {
		return 0, 0, fmt.Errorf("registration: invalid message draft")
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		queued, skipped = 0, 0
		ev, err := events.ForUser(ctx, tx, who, eventID, organisers.Manage)
		if err != nil {
			return err
		}
		all, err := FindAttendees(ctx, tx, eventID)
		if err != nil {
			return err
		}
		to := Recipients(all, d.Group)
		if len(to) == 0 {
			return ErrNoRecipients
		}
		for _, a := range to {
			key := messageKey(a.ID, d)
			if done, err := mailer.Queued(ctx, tx, key); err != nil {
				return err
			} else if done {
				skipped++
				continue
			}
			token, err := createToken(ctx, tx, now, s.expiry(ev), a.ID, ScopeMail)
			if err != nil {
				return err
			}
			msg, err := m.RenderOrganiserMessage(ev, a.Registration, token, d.Group, d.Subject, d.Body)
			if err != nil {
				return err
			}
			msg.DedupeKey = key
			ok, err := enqueueOnce(ctx, tx, now, msg)
			if err != nil {
				return err
			}
			if ok {
				queued++
			} else {
				skipped++
			}
		}
		detail := fmt.Sprintf("group %s, %d queued", d.Group, queued)
		if skipped > 0 {
			detail += fmt.Sprintf(", %d already sent", skipped)
		}
		return organisers.Audit(ctx, tx, now, who, ev.Organiser.ID, ActionMessageSend, auditEvent, ev.ID, detail)
	})
	return queued, skipped, err
}
