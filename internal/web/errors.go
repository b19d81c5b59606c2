package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/db"
)

// Error is a failure that is safe to show: an HTTP status and a catalogue
// key (KEY.title, KEY.message, KEY.hint) in both languages. Handlers and
// middleware answer with these for what is wrong with the request itself
// (a form that cannot be read, too many attempts, no login); domain code
// says no with a Refusal instead, which has no status. Anything else is
// internal.
type Error struct {
	Status int
	Key    string
	Err    error // the cause, for the log; never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s (%d): %v", e.Key, e.Status, e.Err)
	}
	return fmt.Sprintf("%s (%d)", e.Key, e.Status)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf is a shorthand for a safe error.
func Errorf(status int, key string) *Error { return &Error{Status: status, Key: key} }

// Refusal is domain code's "no": what the user asked for, the rules or the
// state of things do not allow. Domain packages make refusals and never
// choose an HTTP status; Kind says what sort of no it is, and Fail turns it
// into a status (Kind.status), here and nowhere else. Key is a catalogue
// key: the error page shows KEY.title, KEY.message (with Args) and
// KEY.hint. A page that answers a refused button by showing itself again
// shows T(Key, Args...) as a notice instead (AsConflict).
type Refusal struct {
	Kind Kind
	Key  string
	Args []any  // the message's name/value pairs
	Why  string // for the log and tests, never shown; "refused: KEY" when empty
}

func (r *Refusal) Error() string {
	if r.Why != "" {
		return r.Why
	}
	return "refused: " + r.Key
}

// Kind is the sort of a refusal.
type Kind int

const (
	Conflict  Kind = iota // the state of things does not allow it (now)
	NotFound              // there is no such thing, or the user may not know of it
	Forbidden             // not for this user
	Expired               // a link that no longer works
)

// status is the one mapping of refusals to HTTP.
func (k Kind) status() int {
	switch k {
	case NotFound:
		return http.StatusNotFound
	case Forbidden:
		return http.StatusForbidden
	case Expired:
		return http.StatusGone
	}
	return http.StatusConflict
}

// Refuse is a Conflict: the state of things does not allow it, for the
// reason in catalogue message key (with args).
func Refuse(key string, args ...any) error { return &Refusal{Key: key, Args: args} }

// AsConflict returns the Conflict in err, if there is one, for a page that
// shows the reason on itself. Other refusals (not found, forbidden) are
// not the page's to show: they go to Fail.
func AsConflict(err error) (*Refusal, bool) {
	var r *Refusal
	if errors.As(err, &r) && r.Kind == Conflict {
		return r, true
	}
	return nil, false
}

// Common failures.
var (
	ErrNotFound   = Errorf(http.StatusNotFound, "error.not_found")
	ErrBadRequest = Errorf(http.StatusBadRequest, "error.bad_request")
	// ErrUnavailable is "try again shortly", for a fault that passes (see Fail).
	ErrUnavailable = Errorf(http.StatusServiceUnavailable, "error.unavailable")
)

// Fail answers a request with the error page for err in the user's language.
// A refusal is shown with its status and message; errors that are neither
// *Error nor *Refusal are logged (through gin's error list, which the
// request log prints) and shown without details: a database that is busy
// or cannot be used, or a deadline, as 503 "try again shortly" with
// Retry-After (see safe), anything else as a generic 500.
func (r *Renderer) Fail(c *gin.Context, err error) {
	we, args := r.safe(c, err)
	r.renderError(c, we.Status, we.Key, args...)
}

// FailAPI answers an API request with JSON {"error": code, "message": text}.
func (r *Renderer) FailAPI(c *gin.Context, err error) {
	we, args := r.safe(c, err)
	c.JSON(we.Status, gin.H{"error": we.Key, "message": r.cat.T(Lang(c), we.Key+".message", args...)})
}

// WithBusyPage is r with its own page for a busy database or a slow
// answer (catalogue key busy) instead of "try again shortly": a domain
// that can say more ("many are signing up right now") wires its handlers
// with it. Everything else about r is shared.
func (r *Renderer) WithBusyPage(busy string) *Renderer {
	cp := *r
	cp.busy = busy
	return &cp
}

// safe is the *Error to show for err (and its message's arguments); the
// cause goes to the log. A safe *Error or a *Refusal is shown as it is.
// Faults that pass get 503 and a Retry-After: a few seconds for a busy
// database or a slow answer, longer for storage that someone has to fix;
// the page says only "try again shortly" (or the renderer's busy page),
// since the cause would mean nothing to a visitor.
func (r *Renderer) safe(c *gin.Context, err error) (*Error, []any) {
	var we *Error
	if errors.As(err, &we) {
		if we.Err != nil {
			c.Error(we)
		}
		return we, nil
	}
	var rf *Refusal
	if errors.As(err, &rf) {
		return &Error{Status: rf.Kind.status(), Key: rf.Key}, rf.Args
	}
	c.Error(err)
	err = db.Classify(err) // a read's raw SQLite error
	switch {
	case errors.Is(err, db.ErrUnavailable):
		c.Header("Retry-After", "30")
	case errors.Is(err, db.ErrBusy), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		c.Header("Retry-After", "5")
		if r.busy != "" {
			return Errorf(http.StatusServiceUnavailable, r.busy), nil
		}
	default:
		return Errorf(http.StatusInternalServerError, "error.internal"), nil
	}
	return ErrUnavailable, nil
}

// NotFound is the handler for unknown routes.
func (r *Renderer) NotFound(c *gin.Context) { r.Fail(c, ErrNotFound) }

// Recovery turns a panic into the 500 page; the stack goes to the log.
func (r *Renderer) Recovery() gin.HandlerFunc {
	return gin.CustomRecovery(func(c *gin.Context, rec any) {
		r.Fail(c, fmt.Errorf("panic: %v", rec))
		c.Abort()
	})
}

// ParseID reads a positive database id from a path parameter; 0 when it is
// none, which handlers answer as "not found".
func ParseID(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// SupportedLang is l if the product speaks it, else bokmål.
func SupportedLang(l string) string {
	if l == "en" {
		return "en"
	}
	return "nb"
}
