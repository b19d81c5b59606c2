package registration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	"sync"
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

	skeletons skeletons
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
	out, ok, err := n.Draft.use(ctx, tx, n)
	if err != nil {
		return err
	}
	if !ok {
		if out, _, err = m.compose(ctx, tx, now, n, changes, dedupe); err != nil {
			return err
		}
	}
	if _, err := mailer.Enqueue(ctx, tx, now, out); err != nil && !errors.Is(err, mailer.ErrDuplicate) {
		return err
	}
	return nil
}

// compose renders n's email, with its calendar invitation made for the
// SEQUENCE it returns (0 when the message carries none).
func (m *Mail) compose(ctx context.Context, q RowQuerier, now time.Time, n Notice, changes []string, dedupe string) (mailer.Message, int, error) {
	kind, ok := messageFor[n.Kind]
	if !ok {
		return mailer.Message{}, 0, fmt.Errorf("registration: no email for notice %q", n.Kind)
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
		pos, err := Position(ctx, q, r)
		if err != nil {
			return mailer.Message{}, 0, err
		}
		data.Position = pos
	}
	msg, err := m.render(kind.template, web.SupportedLang(r.Lang), n, data)
	if err != nil {
		return mailer.Message{}, 0, err
	}
	out := mailer.Message{
		Kind: kind.template, To: r.Email, ToName: r.Name, ReplyTo: ev.Organiser.ContactEmail,
		Subject: msg.Subject, TextBody: msg.Text, HTMLBody: msg.HTML, DedupeKey: dedupe,
	}
	if kind.method == "" {
		return out, 0, nil
	}
	att := events.Attendee{Name: r.Name, Email: r.Email, Status: r.Status}
	inv := ev
	if inv.Sequence, err = attendeeSequence(ctx, q, r, ev.Sequence); err != nil {
		return out, 0, err
	}
	if out.Calendar, err = events.Invitation(inv, att, kind.method, m.BaseURL, now); err != nil {
		return out, 0, err
	}
	out.CalendarMethod = kind.method
	return out, inv.Sequence, nil
}

// A Draft is a sign-up's email composed before its transaction, on the
// read pool, while other sign-ups hold the single writer: rendering it
// inside was a third of a sign-up's time there. It is made for the notice
// the sign-up will most likely get; Notify uses it only if that is the
// notice it got (same kind, event version, details, token and invitation
// SEQUENCE), else it renders the email as usual. The waiting-list
// position is not known before, so a draft for the waiting list carries a
// mark that is replaced by it.
type Draft struct {
	notice   Notice
	sequence int
	message  mailer.Message
}

// positionMark stands for the waiting-list position in a draft: a number
// no real position reaches, printed the way a position is.
const positionMark = 987654321

// Draft composes n's email ahead of the transaction that will queue it
// (see Draft). q is the read pool.
func (m *Mail) Draft(ctx context.Context, q RowQuerier, now time.Time, n Notice) (*Draft, error) {
	if n.Kind != NoticeConfirmed && n.Kind != NoticeWaiting {
		return nil, fmt.Errorf("registration: no draft for notice %q", n.Kind)
	}
	if n.Kind == NoticeWaiting {
		n.Registration.Position = positionMark
	}
	msg, seq, err := m.compose(ctx, q, now, n, nil, "")
	if err != nil {
		return nil, err
	}
	if n.Kind == NoticeWaiting && !strings.Contains(msg.TextBody, strconv.Itoa(positionMark)) {
		return nil, fmt.Errorf("registration: the waiting-list email does not show the position")
	}
	return &Draft{notice: n, sequence: seq, message: msg}, nil
}

// use returns the draft's message for n, if it fits n (a nil draft fits
// nothing). The invitation's SEQUENCE is checked in tx.
func (d *Draft) use(ctx context.Context, tx RowQuerier, n Notice) (mailer.Message, bool, error) {
	if d == nil {
		return mailer.Message{}, false, nil
	}
	was, r := d.notice, n.Registration
	if was.Kind != n.Kind || was.Token != n.Token || was.Event.ID != n.Event.ID ||
		!was.Event.UpdatedAt.Equal(n.Event.UpdatedAt) || was.Registration.Details != r.Details ||
		was.Registration.Lang != r.Lang || was.Registration.Status != r.Status {
		return mailer.Message{}, false, nil
	}
	msg := d.message
	if msg.CalendarMethod != "" {
		seq, err := attendeeSequence(ctx, tx, r, n.Event.Sequence)
		if err != nil || seq != d.sequence {
			return mailer.Message{}, false, err
		}
	}
	if n.Kind == NoticeWaiting {
		mark, pos := strconv.Itoa(positionMark), strconv.Itoa(r.Position)
		msg.Subject = strings.ReplaceAll(msg.Subject, mark, pos)
		msg.TextBody = strings.ReplaceAll(msg.TextBody, mark, pos)
		msg.HTMLBody = strings.ReplaceAll(msg.HTMLBody, mark, pos)
	}
	return msg, true, nil
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

// Sign-up emails differ from person to person only in the name, the
// manage link and the place in line. They are rendered once per event
// version and language with marks in those places (a skeleton), and each
// person's copy is the skeleton with the marks replaced: rendering the
// templates was the largest cost of a sign-up left. In the HTML the name
// is escaped by html/template's own escaper, so a copy is byte for byte
// what rendering gives (TestSkeletonEmailsMatchRendering).
const (
	nameMark  = "Xmoteplassnavn7c1fX"
	tokenMark = "Xmoteplasslenke7c1fX"
)

type skeletonKey struct {
	template, lang string
	event          int64
	version        time.Time
}

type skeleton struct {
	email web.Email
	made  time.Time
}

type skeletons struct {
	mu sync.Mutex
	m  map[skeletonKey]skeleton
}

// render renders an email template for n, from a skeleton when n is a
// sign-up's notice.
func (m *Mail) render(template, lang string, n Notice, data MessageData) (web.Email, error) {
	if (n.Kind != NoticeConfirmed && n.Kind != NoticeWaiting) || !urlSafe(n.Token) {
		return m.Emails.Render(template, lang, m.BaseURL, data)
	}
	key := skeletonKey{template: template, lang: lang, event: data.Event.ID, version: data.Event.UpdatedAt}
	sk, ok := m.skeletons.get(key)
	if !ok {
		marked := data
		marked.Name, marked.ManageURL, marked.Position = nameMark, m.BaseURL+"/r/"+tokenMark, positionMark
		e, err := m.Emails.Render(template, lang, m.BaseURL, marked)
		if err != nil {
			return e, err
		}
		if strings.Contains(e.Subject, "Xmoteplass") || !strings.Contains(e.Text, nameMark) || !strings.Contains(e.HTML, tokenMark) {
			// the personal parts are not where a skeleton expects them
			return m.Emails.Render(template, lang, m.BaseURL, data)
		}
		sk = m.skeletons.put(key, e)
	}
	pos := strconv.Itoa(data.Position)
	return web.Email{
		Subject: sk.Subject,
		Text:    strings.NewReplacer(nameMark, data.Name, tokenMark, n.Token, strconv.Itoa(positionMark), pos).Replace(sk.Text),
		HTML:    strings.NewReplacer(nameMark, htmlText(data.Name), tokenMark, n.Token, strconv.Itoa(positionMark), pos).Replace(sk.HTML),
	}, nil
}

func (s *skeletons) get(k skeletonKey) (web.Email, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sk, ok := s.m[k]
	// within the event cache's lifetime: the names of a series or an
	// organiser can change without touching the event
	if !ok || time.Since(sk.made) > eventCacheTTL {
		return web.Email{}, false
	}
	return sk.email, true
}

func (s *skeletons) put(k skeletonKey, e web.Email) web.Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) > 1000 {
		s.m = map[skeletonKey]skeleton{}
	}
	s.m[k] = skeleton{email: e, made: time.Now()}
	return e
}

// urlSafe says whether a token reads the same in every context of an HTML
// email (text, attribute, URL): base64url, as secret.New makes them.
func urlSafe(token string) bool {
	if token == "" {
		return false
	}
	for _, c := range token {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// htmlTextTemplate escapes a value as html/template does in text.
var htmlTextTemplate = htmltemplate.Must(htmltemplate.New("text").Parse(`{{.}}`))

func htmlText(s string) string {
	var b strings.Builder
	if err := htmlTextTemplate.Execute(&b, s); err != nil {
		return htmltemplate.HTMLEscapeString(s)
	}
	return b.String()
}
