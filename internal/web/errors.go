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
// key (KEY.title, KEY.message, KEY.hint) in both languages. Domain packages
// return these for what the user did wrong; anything else is internal.
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

// Common failures.
var (
	ErrNotFound   = Errorf(http.StatusNotFound, "error.not_found")
	ErrBadRequest = Errorf(http.StatusBadRequest, "error.bad_request")
	// ErrUnavailable is "try again shortly", for a fault that passes (see Fail).
	ErrUnavailable = Errorf(http.StatusServiceUnavailable, "error.unavailable")
)

// Fail answers a request with the error page for err in the user's language.
// Errors that are not *Error are logged (through gin's error list, which the
// request log prints) and shown without details: a database that is busy
// or cannot be used, or a deadline, as 503 "try again shortly" with
// Retry-After (see safe), anything else as a generic 500.
func (r *Renderer) Fail(c *gin.Context, err error) {
	we := safe(c, err)
	r.renderError(c, we.Status, we.Key)
}

// FailAPI answers an API request with JSON {"error": code, "message": text}.
func (r *Renderer) FailAPI(c *gin.Context, err error) {
	we := safe(c, err)
	c.JSON(we.Status, gin.H{"error": we.Key, "message": r.cat.T(Lang(c), we.Key+".message")})
}

// safe is the *Error to show for err; the cause goes to the log. A domain's
// own *Error wins (registration says "many are signing up" for a busy
// database). Faults that pass get 503 and a Retry-After: a few seconds for
// a busy database or a slow answer, longer for storage that someone has to
// fix; the page says only "try again shortly", since the cause would mean
// nothing to a visitor.
func safe(c *gin.Context, err error) *Error {
	var we *Error
	if errors.As(err, &we) {
		if we.Err != nil {
			c.Error(we)
		}
		return we
	}
	c.Error(err)
	err = db.Classify(err) // a read's raw SQLite error
	switch {
	case errors.Is(err, db.ErrUnavailable):
		c.Header("Retry-After", "30")
	case errors.Is(err, db.ErrBusy), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		c.Header("Retry-After", "5")
	default:
		return Errorf(http.StatusInternalServerError, "error.internal")
	}
	return ErrUnavailable
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
