package introductions

// The follow-up's emails. Each has its own data type; the templates are
// templates/email/introduction*.{html,txt} and did_you_meet.{html,txt}.
// An email names other people only with what they agreed to share: name,
// organisation, role, topics and email address (Contact), never their
// phone, dietary or accessibility needs, level or sector.

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/mailer"
)

// The email templates, which are also the outbox kinds.
const (
	mailIntroduction = "introduction"
	mailNetwork      = "introduction_network"
	mailMeet         = "did_you_meet"
)

// Contact is what a person agreed to share with the people they are
// introduced to (the consent wording intro-v1), and nothing more.
type Contact struct {
	Name         string
	Organisation string
	Role         string
	Topics       string
	Email        string
}

func contactOf(p Participant) Contact {
	return Contact{Name: p.Name, Organisation: p.Organisation, Role: p.Role, Topics: p.Topics, Email: p.Email}
}

// IntroductionEmail introduces one member of a group to the others.
type IntroductionEmail struct {
	Name   string // the reader
	Event  events.Event
	Reason string // why these people, from what they share, in the reader's language
	Others []Contact
	// StopURL stops future introductions to the reader's address.
	StopURL string
}

// NetworkEmail invites a member of a network seed to its first meeting.
type NetworkEmail struct {
	Name       string
	Event      events.Event // where they met
	Meeting    events.Event // the network's first meeting
	InviteCode string
	MeetingURL string
	Members    int // people invited
	Reason     string
	StopURL    string
}

// MeetEmail asks a member "did you meet?" some time after the introduction.
type MeetEmail struct {
	Name    string
	Event   events.Event
	Others  []string // the names of the others in the group
	YesURL  string
	NoURL   string
	StopURL string
}

// queue renders template in the reader's language and writes it to the
// outbox in tx. A message with the same dedupe key already in the outbox
// is not queued twice.
func (f *Followup) queue(ctx context.Context, tx *sql.Tx, now time.Time, template string, to Participant, ev events.Event, data any, dedupe string) error {
	msg, err := f.Emails.Render(template, web.SupportedLang(to.Lang), f.BaseURL, data)
	if err != nil {
		return err
	}
	_, err = mailer.Enqueue(ctx, tx, now, mailer.Message{
		Kind: template, To: to.Email, ToName: to.Name, ReplyTo: ev.Organiser.ContactEmail,
		Subject: msg.Subject, TextBody: msg.Text, HTMLBody: msg.HTML, DedupeKey: dedupe,
	})
	if err != nil && !errors.Is(err, mailer.ErrDuplicate) {
		return err
	}
	return nil
}

func queuedAlready(ctx context.Context, tx *sql.Tx, key string) (bool, error) {
	return mailer.Queued(ctx, tx, key)
}
