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
	// OnNotice, when set, is told the kind of every notice Notify has
	// queued (internal/app counts sign-ups and promotions with it). It runs
	// in the change's transaction, before the commit, so a rolled-back
	// change (rare) counts too. The other emails (event changes,
	// reminders, removals, organisers' messages) do not pass through it.
	OnNotice func(kind string)

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
	// CheckinCode is shown as text under the QR code (confirmed places).
	CheckinCode string
}

// SignedBy is the organiser who signs the email (web.Signer).
func (d MessageData) SignedBy() string { return d.Event.Organiser.Name }

// messageFor says which template and calendar method each notice gets,
// and whether it shows the check-in QR code.
var messageFor = map[string]struct {
	template string
	method   string // "" for no invitation
	qr       bool
}{
	NoticeConfirmed:  {"registration_confirmed", events.MethodRequest, true},
	NoticeWaiting:    {"registration_waiting", "", false},
	NoticePromoted:   {"registration_promoted", events.MethodRequest, true},
	NoticeCancelled:  {"registration_cancelled", events.MethodCancel, false},
	NoticeManageLink: {"manage_link", "", false},
	noticeChanged:    {"event_changed", events.MethodRequest, false},
	noticeEventGone:  {"event_cancelled", events.MethodCancel, false},
	noticeReminder:   {"reminder", "", false},
}

// Notices the registration service does not raise itself.
const (
	noticeChanged   = "event_changed"
	noticeEventGone = "event_cancelled"
	noticeReminder  = "reminder"
)

// Notify queues the email for n, then tells OnNotice. It is the Service's
// Notify.
func (m *Mail) Notify(ctx context.Context, tx Tx, now time.Time, n Notice) error {
	if err := m.queue(ctx, tx, now, n, nil, ""); err != nil {
		return err
	}
	if m.OnNotice != nil {
		m.OnNotice(n.Kind)
	}
	return nil
}

func (m *Mail) queue(ctx context.Context, tx Tx, now time.Time, n Notice, changes []string, dedupe string) error {
	out, err := m.compose(ctx, tx, now, n, changes, dedupe)
	if err != nil {
		return err
	}
	if _, err := mailer.Enqueue(ctx, tx, now, out); err != nil && !errors.Is(err, mailer.ErrDuplicate) {
		return err
	}
	return nil
}

// compose renders n's email, with its calendar invitation.
func (m *Mail) compose(ctx context.Context, q Tx, now time.Time, n Notice, changes []string, dedupe string) (mailer.Message, error) {
	kind, ok := messageFor[n.Kind]
	if !ok {
		return mailer.Message{}, fmt.Errorf("registration: no email for notice %q", n.Kind)
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
			return mailer.Message{}, err
		}
		data.Position = pos
	}
	if kind.qr {
		code, err := checkinCodeOf(ctx, q, r)
		if err != nil {
			return mailer.Message{}, err
		}
		data.CheckinCode = code
	}
	msg, err := m.render(kind.template, web.SupportedLang(r.Lang), n, data)
	if err != nil {
		return mailer.Message{}, err
	}
	out := mailer.Message{
		Kind: kind.template, To: r.Email, ToName: r.Name, ReplyTo: ev.Organiser.ContactEmail,
		Subject: msg.Subject, TextBody: msg.Text, HTMLBody: msg.HTML, DedupeKey: dedupe,
	}
	if data.CheckinCode != "" {
		out.QRCode = CheckinURL(m.BaseURL, data.CheckinCode)
	}
	if kind.method == "" {
		return out, nil
	}
	att := events.Attendee{Name: r.Name, Email: r.Email, Status: r.Status}
	if att.EarlierCancels, err = earlierCancels(ctx, q, r); err != nil {
		return out, err
	}
	if out.Calendar, err = events.Invitation(ev, att, kind.method, m.BaseURL, now); err != nil {
		return out, err
	}
	out.CalendarMethod = kind.method
	return out, nil
}

// checkinCodeOf is r's check-in code, made in tx if r has none yet (a
// registration made before codes were made at sign-up).
func checkinCodeOf(ctx context.Context, tx Tx, r Registration) (string, error) {
	if r.CheckinCode != "" {
		return r.CheckinCode, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE registrations SET checkin_code = ? WHERE id = ? AND checkin_code IS NULL`,
		newCheckinCode(), r.ID); err != nil {
		return "", fmt.Errorf("registration: make check-in code of %d: %w", r.ID, err)
	}
	var code string
	if err := tx.QueryRowContext(ctx, `SELECT checkin_code FROM registrations WHERE id = ?`, r.ID).Scan(&code); err != nil {
		return "", fmt.Errorf("registration: check-in code of %d: %w", r.ID, err)
	}
	return code, nil
}

const qEarlierCancels = `SELECT COUNT(*) FROM registrations
	WHERE email_norm = ? AND event_id = ? AND status = 'cancelled' AND id <> ?`

// earlierCancels counts the earlier registrations of r's address for r's
// event that were cancelled: each of them got a CANCEL for the event's one
// UID, and r's invitations must outrank it (events.InvitationSequence).
func earlierCancels(ctx context.Context, tx RowQuerier, r Registration) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, qEarlierCancels, NormalizeEmail(r.Email), r.EventID, r.ID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("registration: earlier cancellations: %w", err)
	}
	return n, nil
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
		if ch.TimeOrPlaceChanged() && ev.Status == events.StatusPublished {
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
		token, err := createToken(ctx, tx, now, s.expiry(ev), r.ID, ScopeMail)
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
		evs, _, err := store.FindEvents(ctx, events.EventFilter{From: now, Statuses: []events.Status{events.StatusPublished}})
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
				token, err := createToken(ctx, tx, now, s.expiry(ev), r.ID, ScopeMail)
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
// manage link, the check-in code and the place in line. They are rendered once per event
// version and language with marks in those places (a skeleton), and each
// person's copy is the skeleton with the marks filled in: rendering the
// templates was the largest cost of a sign-up left. In the HTML the name
// is escaped by html/template's own escaper, so a copy is byte for byte
// what rendering gives (TestSkeletonEmailsMatchRendering).
const (
	nameMark  = "Xmoteplassnavn7c1fX"
	tokenMark = "Xmoteplasslenke7c1fX"
	codeMark  = "Xmoteplasskode7c1fX"
	// a number no real position reaches, printed the way a position is
	positionMark = 987654321
)

// The holes of a skeleton.
const (
	holeName = iota + 1
	holeToken
	holeCode
	holePosition
)

var holeMarks = map[int]string{holeName: nameMark, holeToken: tokenMark, holeCode: codeMark, holePosition: strconv.Itoa(positionMark)}

type skeletonKey struct {
	template, lang string
	event          int64
	version        time.Time
	code           bool // with a check-in code
}

// A skeleton is an email cut at its marks: literal text and holes.
type skeleton struct {
	subject    string
	text, html []piece
	made       time.Time
}

type piece struct {
	text string
	hole int // 0: text is literal
}

type skeletons struct {
	mu sync.Mutex
	m  map[skeletonKey]*skeleton
}

// render renders an email template for n, from a skeleton when n is a
// sign-up's notice.
func (m *Mail) render(template, lang string, n Notice, data MessageData) (web.Email, error) {
	if (n.Kind != NoticeConfirmed && n.Kind != NoticeWaiting) || !urlSafe(n.Token) {
		return m.Emails.Render(template, lang, m.BaseURL, data)
	}
	key := skeletonKey{template: template, lang: lang, event: data.Event.ID, version: data.Event.UpdatedAt, code: data.CheckinCode != ""}
	sk := m.skeletons.get(key)
	if sk == nil {
		marked := data
		marked.Name, marked.ManageURL, marked.Position = nameMark, m.BaseURL+"/r/"+tokenMark, positionMark
		if data.CheckinCode != "" {
			marked.CheckinCode = codeMark
		}
		e, err := m.Emails.Render(template, lang, m.BaseURL, marked)
		if err != nil {
			return e, err
		}
		if strings.Contains(e.Subject, "Xmoteplass") || !strings.Contains(e.Text, nameMark) || !strings.Contains(e.HTML, tokenMark) {
			// the personal parts are not where a skeleton expects them
			return m.Emails.Render(template, lang, m.BaseURL, data)
		}
		sk = &skeleton{subject: e.Subject, text: cut(e.Text), html: cut(e.HTML), made: time.Now()}
		m.skeletons.put(key, sk)
	}
	return web.Email{
		Subject: sk.subject,
		// the name is only in the greeting, which has the first name
		Text: fill(sk.text, web.FirstName(data.Name), n.Token, data.CheckinCode, data.Position),
		HTML: fill(sk.html, htmlText(web.FirstName(data.Name)), n.Token, data.CheckinCode, data.Position),
	}, nil
}

// cut splits s at the marks.
func cut(s string) []piece {
	var ps []piece
	for s != "" {
		at, hole := len(s), 0
		for h, mark := range holeMarks {
			if i := strings.Index(s, mark); i >= 0 && i < at {
				at, hole = i, h
			}
		}
		if at > 0 {
			ps = append(ps, piece{text: s[:at]})
		}
		if hole == 0 {
			break
		}
		ps = append(ps, piece{hole: hole})
		s = s[at+len(holeMarks[hole]):]
	}
	return ps
}

// fill puts name, token, check-in code and position into the holes.
func fill(ps []piece, name, token, code string, position int) string {
	pos := strconv.Itoa(position)
	var b strings.Builder
	b.Grow(sumLen(ps) + 4*(len(name)+len(token)+len(code)+len(pos)))
	for _, p := range ps {
		switch p.hole {
		case holeName:
			b.WriteString(name)
		case holeToken:
			b.WriteString(token)
		case holeCode:
			b.WriteString(code)
		case holePosition:
			b.WriteString(pos)
		default:
			b.WriteString(p.text)
		}
	}
	return b.String()
}

func sumLen(ps []piece) int {
	n := 0
	for _, p := range ps {
		n += len(p.text)
	}
	return n
}

func (s *skeletons) get(k skeletonKey) *skeleton {
	s.mu.Lock()
	defer s.mu.Unlock()
	sk := s.m[k]
	// within the event cache's lifetime: the names of a series or an
	// organiser can change without touching the event
	if sk == nil || time.Since(sk.made) > eventCacheTTL {
		return nil
	}
	return sk
}

func (s *skeletons) put(k skeletonKey, sk *skeleton) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) > 1000 {
		s.m = map[skeletonKey]*skeleton{}
	}
	s.m[k] = sk
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
