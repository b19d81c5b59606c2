// Package mailer is the outbox: an email is a row written by Enqueue in the
// caller's transaction, and a Worker sends the rows over SMTP later. A crash
// after the commit cannot lose a message, a rollback cannot send one, and a
// message interrupted mid-send is sent again with the same Message-ID
// (at-least-once), so receivers can tell the copies apart.
//
// The package knows nothing about events: callers give it finished subjects,
// bodies and, for invitations, a finished iCalendar object.
package mailer

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/moteplass/moteplass/internal/db"
)

// ErrInvalid is wrapped by every error Enqueue returns for a message it
// refuses, so callers can tell a programming error from a database one.
var ErrInvalid = errors.New("mailer: invalid message")

// ErrDuplicate is returned by Enqueue when a message with the same DedupeKey
// is already in the outbox: for "send once" mail it means "already queued".
// It wraps db.ErrUnique, so code that checks for that sees it too.
var ErrDuplicate = fmt.Errorf("mailer: a message with this dedupe key is already queued: %w", db.ErrUnique)

// ErrNotFound is returned by Get and Raw for an id that is not in the outbox.
var ErrNotFound = errors.New("mailer: message not found")

// The statuses of an outbox row.
const (
	StatusQueued  = "queued"
	StatusSending = "sending"
	StatusSent    = "sent"
	StatusFailed  = "failed"
	StatusHeld    = "held"
)

// HeldReason is the last_error of a message kept back because no mail server
// is configured. It is sent once one is.
const HeldReason = "not sent: no mail server configured"

// Calendar methods accepted for Message.CalendarMethod (RFC 5546).
const (
	MethodPublish = "PUBLISH"
	MethodRequest = "REQUEST"
	MethodCancel  = "CANCEL"
)

// Message is one email to one person.
type Message struct {
	// Kind names the email for the caller and for a data export
	// ("registration_confirmed", "reminder"); free text.
	Kind string
	// To is a bare address (ola@example.no); the display name goes in ToName.
	To      string
	ToName  string
	ReplyTo string // optional bare address
	Subject string
	// TextBody is required: every email has a plain-text version.
	TextBody string
	HTMLBody string // optional
	// Calendar is an iCalendar object (RFC 5545) whose METHOD property
	// equals CalendarMethod. Both are empty for mail without an invitation.
	Calendar       []byte
	CalendarMethod string
	// QRCode, when set, is text drawn as a QR code image and sent inside
	// the message as an inline part, which the HTML shows with
	// <img src="cid:qr@moteplass"> (QRContentID): Outlook blocks remote
	// images by default.
	QRCode string
	// DedupeKey, when set, makes the message "send once": Enqueue refuses a
	// second message with the same key with ErrDuplicate.
	DedupeKey string
	// DeleteWhenSent deletes the message in the transaction that records it
	// sent (or failed for good), and the worker then empties the
	// write-ahead log (db.EraseTraces): for mail that must not be kept once
	// it is out. Until then it is stored like any other.
	DeleteWhenSent bool
}

// RowQuerier runs a statement that returns a row: *sql.Tx, or a caller's
// transaction that runs some statements prepared.
type RowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// EnqueueQuery is the statement Enqueue runs, for callers that prepare it.
const EnqueueQuery = `INSERT INTO outbox (
		kind, to_address, to_address_norm, to_name, reply_to, subject,
		text_body, html_body, calendar, calendar_method, qr_code, message_id,
		dedupe_key, delete_when_sent, status, attempts, next_attempt_at, created_at
	) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?)
	ON CONFLICT (dedupe_key) DO NOTHING
	RETURNING id`

// Enqueue validates m and writes it to the outbox in tx, the caller's
// transaction. It returns the new row's id. Wake the worker after the commit
// for a prompt send; otherwise it is sent at the next poll.
func Enqueue(ctx context.Context, tx RowQuerier, now time.Time, m Message) (int64, error) {
	if err := m.validate(); err != nil {
		return 0, err
	}
	now = now.UTC().Truncate(time.Microsecond)
	var dedupe any
	if m.DedupeKey != "" {
		dedupe = m.DedupeKey
	}
	// ON CONFLICT DO NOTHING rather than catching the unique violation: in
	// PostgreSQL a failed statement aborts the whole transaction, and the
	// caller should be able to carry on after "already queued".
	var id int64
	err := tx.QueryRowContext(ctx, EnqueueQuery,
		m.Kind, strings.TrimSpace(m.To), NormalizeAddress(m.To), m.ToName, strings.TrimSpace(m.ReplyTo), m.Subject,
		m.TextBody, m.HTMLBody, string(m.Calendar), m.CalendarMethod, m.QRCode, newMessageIDLocal(),
		dedupe, db.Bool(m.DeleteWhenSent), now, now,
	).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrDuplicate
	}
	if err != nil {
		return 0, fmt.Errorf("mailer: enqueue: %w", db.Classify(err))
	}
	return id, nil
}

// newMessageIDLocal is the random left half of a Message-ID. The right half,
// the domain of the sender, is added when the message is first claimed for
// sending (see claim), because Enqueue runs in callers that do not know the
// mail configuration.
func newMessageIDLocal() string {
	return "outbox-" + strings.ToLower(rand.Text())
}

// completeMessageID turns a stored local part into <local@domain>; a stored
// value that is already complete comes back unchanged.
func completeMessageID(stored, domain string) string {
	if strings.HasPrefix(stored, "<") {
		return stored
	}
	return "<" + stored + "@" + domain + ">"
}

func (m Message) validate() error {
	if strings.TrimSpace(m.Kind) == "" {
		return fmt.Errorf("%w: kind is empty", ErrInvalid)
	}
	if err := headerSafe("kind", m.Kind); err != nil {
		return err
	}
	if err := checkAddress("to address", m.To); err != nil {
		return err
	}
	if err := headerSafe("to name", m.ToName); err != nil {
		return err
	}
	if m.ReplyTo != "" {
		if err := checkAddress("reply-to address", m.ReplyTo); err != nil {
			return err
		}
	}
	if strings.TrimSpace(m.Subject) == "" {
		return fmt.Errorf("%w: subject is empty", ErrInvalid)
	}
	if err := headerSafe("subject", m.Subject); err != nil {
		return err
	}
	if strings.TrimSpace(m.TextBody) == "" {
		return fmt.Errorf("%w: text body is empty", ErrInvalid)
	}
	if !utf8.ValidString(m.TextBody) || !utf8.ValidString(m.HTMLBody) {
		return fmt.Errorf("%w: body is not valid UTF-8", ErrInvalid)
	}
	if m.QRCode != "" && (m.HTMLBody == "" || len(m.QRCode) > maxQRCode || !utf8.ValidString(m.QRCode)) {
		return fmt.Errorf("%w: a QR code needs an HTML body and at most %d bytes of text", ErrInvalid, maxQRCode)
	}
	if err := headerSafe("dedupe key", m.DedupeKey); err != nil {
		return err
	}
	return checkCalendar(m.Calendar, m.CalendarMethod)
}

// headerSafe refuses line breaks and other control characters in a value
// that ends up in a header, so no input can add a header of its own.
func headerSafe(field, v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, field)
	}
	for _, r := range v {
		switch {
		case r == '\r' || r == '\n' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			return fmt.Errorf("%w: %s contains a line break", ErrInvalid, field)
		case unicode.IsControl(r):
			return fmt.Errorf("%w: %s contains a control character", ErrInvalid, field)
		}
	}
	return nil
}

// checkAddress accepts what ParseAddress accepts. Whether the relay can
// take a UTF-8 local part is decided when the message is sent: the relay
// may change between now and then.
func checkAddress(field, v string) error {
	if _, err := ParseAddress(v); err != nil {
		return &invalidAddress{field: field, err: err}
	}
	return nil
}

// invalidAddress is Enqueue's error for a refused address: it wraps both
// ErrInvalid and ParseAddress's error, and reads as one sentence.
type invalidAddress struct {
	field string
	err   error
}

func (e *invalidAddress) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrInvalid, e.field, strings.TrimPrefix(e.err.Error(), "mailer: "))
}

func (e *invalidAddress) Unwrap() []error { return []error{ErrInvalid, e.err} }

// checkCalendar enforces RFC 6047 section 2.4: the method parameter of the
// text/calendar part must equal the METHOD property inside the object.
func checkCalendar(cal []byte, method string) error {
	if len(cal) == 0 && method == "" {
		return nil
	}
	switch method {
	case MethodPublish, MethodRequest, MethodCancel:
	case "":
		return fmt.Errorf("%w: calendar without a calendar method", ErrInvalid)
	default:
		return fmt.Errorf("%w: calendar method %q is not one of PUBLISH, REQUEST, CANCEL", ErrInvalid, method)
	}
	if len(cal) == 0 {
		return fmt.Errorf("%w: calendar method without a calendar", ErrInvalid)
	}
	if !utf8.Valid(cal) {
		return fmt.Errorf("%w: calendar is not valid UTF-8", ErrInvalid)
	}
	inner, ok := calendarMethod(cal)
	if !ok {
		return fmt.Errorf("%w: calendar is not a VCALENDAR with a METHOD property", ErrInvalid)
	}
	if !strings.EqualFold(inner, method) {
		return fmt.Errorf("%w: calendar METHOD %q does not match calendar method %q", ErrInvalid, inner, method)
	}
	return nil
}

// calendarMethod returns the METHOD property of the VCALENDAR itself (not of
// a component inside it). Folded lines are joined first (RFC 5545 3.1).
func calendarMethod(cal []byte) (string, bool) {
	unfolded := strings.NewReplacer("\r\n ", "", "\r\n\t", "", "\n ", "", "\n\t", "").Replace(string(cal))
	lines := strings.Split(strings.ReplaceAll(unfolded, "\r\n", "\n"), "\n")
	if len(lines) == 0 || !strings.EqualFold(strings.TrimSpace(lines[0]), "BEGIN:VCALENDAR") {
		return "", false
	}
	depth := 0
	for _, line := range lines[1:] {
		name, value, _ := strings.Cut(line, ":")
		name = strings.ToUpper(name)
		switch {
		case strings.HasPrefix(name, "BEGIN"):
			depth++
		case strings.HasPrefix(name, "END"):
			depth--
		case depth == 0 && (name == "METHOD" || strings.HasPrefix(name, "METHOD;")):
			return strings.TrimSpace(value), true
		}
	}
	return "", false
}

// TLS modes for Config.TLS.
const (
	TLSNone     = "none"     // plain SMTP; only sensible for a relay on the same host
	TLSStartTLS = "starttls" // STARTTLS required (submission, port 587)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
)

// Config is the SMTP relay the worker sends through. With Host empty nothing
// is sent: messages are held (status "held") and stay readable in the outbox,
// and they go out once the application restarts with a Host.
type Config struct {
	Host string
	// Port 0 means the usual port for the TLS mode: 25, 587 or 465.
	Port     int
	User     string
	Password string
	// TLS is "none", "starttls" or "tls".
	TLS string
	// From is a bare address; the Message-ID of every message ends in its
	// domain. FromName is the display name shown with it.
	From     string
	FromName string
}

// Validate reports the first problem in c. From is required even without a
// Host: held messages are shown as they would be sent.
func (c Config) Validate() error {
	if err := headerSafe("from name", c.FromName); err != nil {
		return fmt.Errorf("mailer: config: %w", err)
	}
	from, err := parseAddress(c.From, false)
	if err != nil {
		return fmt.Errorf("mailer: config: from address: %w", err)
	}
	// Every message carries From: one beyond ASCII would need SMTPUTF8 for
	// all mail, not only for the people whose address needs it.
	if from.UTF8 {
		return errors.New("mailer: config: from address: the part before the at sign must be ASCII")
	}
	if c.Host == "" {
		return nil
	}
	if strings.ContainsFunc(c.Host, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return errors.New("mailer: config: host contains spaces or control characters")
	}
	switch c.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return fmt.Errorf("mailer: config: TLS must be %q, %q or %q, not %q", TLSNone, TLSStartTLS, TLSImplicit, c.TLS)
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("mailer: config: port %d is out of range", c.Port)
	}
	if c.Password != "" && c.User == "" {
		return errors.New("mailer: config: password given without a user")
	}
	// A password should not cross the network in the clear, and without TLS
	// go-mail only tries challenge-response mechanisms most relays lack.
	if c.User != "" && c.TLS == TLSNone {
		return errors.New("mailer: config: SMTP credentials need TLS (starttls or tls)")
	}
	return nil
}

// port is the configured port or the usual one for the TLS mode.
func (c Config) port() int {
	if c.Port != 0 {
		return c.Port
	}
	switch c.TLS {
	case TLSImplicit:
		return 465
	case TLSNone:
		return 25
	default:
		return 587
	}
}

// fromDomain is the right half of every Message-ID.
func (c Config) fromDomain() string {
	addr, err := sendableAddress(c.From)
	if err != nil {
		return "localhost"
	}
	return addr[strings.LastIndexByte(addr, '@')+1:]
}
