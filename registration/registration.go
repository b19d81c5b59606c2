// Package registration is signing up for an event: the form and its rules,
// the capacity check and the waiting list with automatic promotion, the
// manage link (/r/{token}) where a person changes or cancels without an
// account, and the seam (Notify) through which the emails go out.
//
// Every change is one database transaction (internal/db: a single writer,
// BEGIN IMMEDIATE), so the capacity check and the insert cannot interleave
// with another sign-up: there are never more confirmed places than seats.
package registration

import (
	"context"
	"errors"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
)

// The statuses of a registration.
const (
	StatusConfirmed = "confirmed"
	StatusWaiting   = "waiting"
	StatusCancelled = "cancelled"
)

// ConsentQuestion is one question a person answers with a checkbox. The
// wording is the catalogue entry "consent.<Version>" in the person's
// language; a new wording gets a new version (and a new catalogue key), and
// every answer is stored with the version and the text shown.
type ConsentQuestion struct {
	Kind    string // consents.kind
	Version string
}

// Key is the catalogue key of the question's wording.
func (q ConsentQuestion) Key() string { return "consent." + q.Version }

var (
	// IntroConsent: may we introduce you to other participants afterwards?
	IntroConsent = ConsentQuestion{Kind: "introductions", Version: IntroConsentVersion}
	// HealthConsent: may the organiser keep your dietary and accessibility
	// needs (health data, GDPR art. 9) for this event? Without it they are
	// not stored.
	HealthConsent = ConsentQuestion{Kind: "health", Version: "health-v1"}
)

// IntroConsentVersion names the wording next to the introductions checkbox.
const IntroConsentVersion = "intro-v1"

// IntroConsentKey is the catalogue key of the introductions wording shown now.
const IntroConsentKey = "consent." + IntroConsentVersion

// Wordings are the consent texts a person saw, in their language.
type Wordings struct {
	Intro  string // IntroConsent
	Health string // HealthConsent
}

// WordingsIn are the wordings shown now in lang.
func WordingsIn(cat *web.Catalogue, lang string) Wordings {
	return Wordings{Intro: cat.T(lang, IntroConsent.Key()), Health: cat.T(lang, HealthConsent.Key())}
}

// Details are what a person tells about themselves.
type Details struct {
	Name          string
	Email         string // as typed (trimmed)
	Organisation  string
	Role          string // job title or function, free text
	Level         string // top, middle, first_line, other
	Sector        string // state, municipal, private, other
	Region        string // where the person works
	Phone         string
	Dietary       string
	Accessibility string
	Topics        string // what they would like on the agenda
	IntroConsent  bool
	// HealthConsent is the answer to HealthConsent; Dietary and
	// Accessibility are empty without it.
	HealthConsent bool
}

// HasNeeds reports whether dietary or accessibility needs are given.
func (d Details) HasNeeds() bool { return d.Dietary != "" || d.Accessibility != "" }

// Registration is one person's sign-up for one event.
type Registration struct {
	ID        int64
	EventID   int64
	Status    string
	EmailNorm string
	Lang      string
	Details
	CreatedAt   time.Time
	UpdatedAt   time.Time
	QueuedAt    time.Time
	CancelledAt time.Time // zero unless cancelled
	// Position on the waiting list (1 is next in line); 0 unless waiting.
	Position int
	// CheckinCode is set when the registration was just made (the finders
	// leave it empty: see checkinCodeOf).
	CheckinCode string
}

// Confirmed, Waiting and Cancelled report the status.
func (r Registration) Confirmed() bool { return r.Status == StatusConfirmed }
func (r Registration) Waiting() bool   { return r.Status == StatusWaiting }
func (r Registration) Cancelled() bool { return r.Status == StatusCancelled }

// The kinds of Notice.
const (
	NoticeConfirmed  = "confirmed"   // signed up and got a place
	NoticeWaiting    = "waiting"     // signed up and is on the waiting list
	NoticePromoted   = "promoted"    // moved from the waiting list to a place
	NoticeCancelled  = "cancelled"   // the person cancelled
	NoticeManageLink = "manage_link" // asked for the link again (or signed up twice)
)

// Notice is something the person should be told, by email. It is handed to
// Notify inside the transaction that made the change, so the message (an
// outbox row) is stored if and only if the change is.
type Notice struct {
	Kind         string // confirmed, waiting, promoted, cancelled, manage_link
	Event        events.Event
	Registration Registration
	// Token is a fresh raw manage token for the link in this message
	// (/r/{Token}); only its hash is stored.
	Token string
}

// NotifyFunc is the shape of Service.Notify.
type NotifyFunc func(ctx context.Context, tx Tx, now time.Time, n Notice) error

// Errors the service returns for what the person cannot do; none carries
// personal data. The refusals are answered with their own page (by
// Renderer.Fail in internal/web); handlers answer the others themselves (a
// form shown again, the expired link's page).
var (
	ErrNotFound     = &web.Refusal{Kind: web.NotFound, Key: "error.not_found", Why: "registration: not found"}
	ErrTokenUnknown = &web.Refusal{Kind: web.NotFound, Key: "error.not_found", Why: "registration: unknown manage token"}
	ErrCancelled    = &web.Refusal{Key: "error.registration.already_cancelled", Why: "registration: the registration is cancelled"}
	ErrTooLate      = &web.Refusal{Key: "error.registration.too_late", Why: "registration: the event has started"}
	ErrTokenExpired = errors.New("registration: manage token expired")
	ErrInviteCode   = errors.New("registration: missing or wrong invitation code")
	ErrCapacity     = errors.New("registration: capacity must be 0 or more")
)
