package registration

// The emails of the organiser's pages: "you have been removed" with the
// organiser's reason, and a message an organiser writes to a group of an
// event's registrants. Both are rendered from templates/email and written
// to the outbox in the caller's transaction, with Reply-To the organiser's
// contact address and a fresh manage link.

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/mailer"
)

// Kinds of outbox rows (and names of the email templates) of this file.
const (
	EmailRemoved          = "registration_removed"
	EmailOrganiserMessage = "organiser_message"
)

// RemovedData is the "registration_removed" email's data.
type RemovedData struct {
	MessageData
	// Reason is the organiser's explanation, as typed.
	Reason string
	// HadPlace says the person had a confirmed place (the calendar entry
	// is withdrawn with the email).
	HadPlace bool
}

// OrganiserMessageData is the "organiser_message" email's data.
type OrganiserMessageData struct {
	MessageData
	Subject string
	Body    string // plain text, as the organiser typed it
	// Group is who it went to: confirmed, waiting or attended.
	Group string
}

func (m *Mail) messageData(ev events.Event, r Registration, token string) MessageData {
	return MessageData{
		Name: r.Name, Event: ev, Position: r.Position,
		ManageURL: m.BaseURL + "/r/" + token,
		EventURL:  m.BaseURL + "/events/" + ev.Slug,
	}
}

// queueRemoved writes the "you have been removed" email; a person who had a
// confirmed place also gets the calendar invitation withdrawn (METHOD:CANCEL).
func (m *Mail) queueRemoved(ctx context.Context, tx *sql.Tx, now time.Time, ev events.Event, r Registration, token, reason string, hadPlace bool) error {
	data := RemovedData{MessageData: m.messageData(ev, r, token), Reason: reason, HadPlace: hadPlace}
	msg, err := m.Emails.Render(EmailRemoved, web.SupportedLang(r.Lang), m.BaseURL, data)
	if err != nil {
		return err
	}
	out := mailer.Message{
		Kind: EmailRemoved, To: r.Email, ToName: r.Name, ReplyTo: ev.Organiser.ContactEmail,
		Subject: msg.Subject, TextBody: msg.Text, HTMLBody: msg.HTML,
	}
	if hadPlace {
		att := events.Attendee{Name: r.Name, Email: r.Email, Status: StatusCancelled}
		if att.EarlierCancels, err = earlierCancels(ctx, tx, r); err != nil {
			return err
		}
		if out.Calendar, err = events.Invitation(ev, att, events.MethodCancel, m.BaseURL, now); err != nil {
			return err
		}
		out.CalendarMethod = events.MethodCancel
	}
	_, err = mailer.Enqueue(ctx, tx, now, out)
	return err
}

// RenderOrganiserMessage renders an organiser's message as r will get it.
// The preview uses it too, so what the organiser sees is what is sent.
func (m *Mail) RenderOrganiserMessage(ev events.Event, r Registration, token, group, subject, body string) (mailer.Message, error) {
	data := OrganiserMessageData{MessageData: m.messageData(ev, r, token), Subject: subject, Body: body, Group: group}
	msg, err := m.Emails.Render(EmailOrganiserMessage, web.SupportedLang(r.Lang), m.BaseURL, data)
	if err != nil {
		return mailer.Message{}, err
	}
	return mailer.Message{
		Kind: EmailOrganiserMessage, To: r.Email, ToName: r.Name, ReplyTo: ev.Organiser.ContactEmail,
		Subject: msg.Subject, TextBody: msg.Text, HTMLBody: msg.HTML,
	}, nil
}

// enqueueOnce queues msg; a copy already queued under the same dedupe key
// (the same message to the same person, sent twice) is not an error.
func enqueueOnce(ctx context.Context, tx *sql.Tx, now time.Time, msg mailer.Message) (bool, error) {
	_, err := mailer.Enqueue(ctx, tx, now, msg)
	if errors.Is(err, mailer.ErrDuplicate) {
		return false, nil
	}
	return err == nil, err
}
