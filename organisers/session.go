package organisers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/secret"
	"github.com/moteplass/moteplass/internal/web"
)

// SessionLifetime is how long a login lasts: a working day and then some.
const SessionLifetime = 12 * time.Hour

const sessionCookie = "session"

// CreateSession starts a session for a user and returns its token.
func (s *Store) CreateSession(ctx context.Context, userID int64) (string, error) {
	token, hash := secret.New()
	err := s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		// forget this user's expired sessions while we are here
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND expires_at < ?`, userID, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			hash, userID, now, now.Add(SessionLifetime))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("organisers: create session: %w", err)
	}
	return token, nil
}

// UserBySession returns the user of a live session.
func (s *Store) UserBySession(ctx context.Context, token string) (User, error) {
	return scanUser(s.DB.Read().QueryRowContext(ctx, `SELECT u.id, u.email, u.name, u.role, COALESCE(u.organiser_id, 0)
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL`, secret.Hash(token), s.DB.Now().UTC()))
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	return s.DB.Tx(ctx, func(tx *sql.Tx, _ time.Time) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, secret.Hash(token))
		return err
	})
}

const userKey = "organisers.user"

// Authenticate is middleware for /admin: it reads the session cookie and,
// when it names a live session, puts the User on the request.
func (h *Handler) Authenticate(c *gin.Context) {
	if token, err := c.Cookie(sessionCookie); err == nil && token != "" {
		u, err := h.Store.UserBySession(c.Request.Context(), token)
		switch {
		case err == nil:
			c.Set(userKey, &u)
			web.SetUser(c, &u)
		case !errors.Is(err, ErrNotFound):
			c.Error(err)
		}
	}
	// admin pages are personal: never cached, never sent as a referrer
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "same-origin")
	c.Next()
}

// CurrentUser is who is asking, or nil.
func CurrentUser(c *gin.Context) *User {
	if v, ok := c.Get(userKey); ok {
		return v.(*User)
	}
	return nil
}

// Require lets a request through only for a logged-in user with one of
// roles. Others go to the login page (GET) or get a 403.
func (h *Handler) Require(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := CurrentUser(c)
		if u == nil {
			if c.Request.Method == http.MethodGet {
				c.Redirect(http.StatusSeeOther, "/admin/login?next="+urlQueryEscape(c.Request.URL.RequestURI()))
			} else {
				h.R.Fail(c, web.Errorf(http.StatusUnauthorized, "error.login_required"))
			}
			c.Abort()
			return
		}
		for _, r := range roles {
			if u.Role == r {
				c.Next()
				return
			}
		}
		h.R.Fail(c, ErrForbidden)
		c.Abort()
	}
}

// ErrForbidden is the answer when a user may not see or change something.
// It is given also for an object that does not exist, to anyone who may
// not see everything, so the answer does not tell whether it exists.
var ErrForbidden = &web.Refusal{Kind: web.Forbidden, Key: "error.forbidden", Why: "organisers: forbidden"}

// Audit records an organiser's action in the same transaction as the action.
func Audit(ctx context.Context, tx *sql.Tx, now time.Time, u *User, organiserID int64, action, objectType string, objectID int64, detail string) error {
	var uid, org, obj any
	if u != nil {
		uid = u.ID
	}
	if organiserID != 0 {
		org = organiserID
	}
	if objectID != 0 {
		obj = objectID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, user_id, organiser_id, action, object_type, object_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		now, uid, org, action, objectType, obj, detail)
	if err != nil {
		return fmt.Errorf("organisers: audit: %w", err)
	}
	return nil
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	At         time.Time
	UserEmail  string
	Action     string
	ObjectType string
	ObjectID   int64
	Detail     string
}

// FindAudit lists the newest entries, of one organisation or all (0).
func (s *Store) FindAudit(ctx context.Context, organiserID int64, limit int) ([]AuditEntry, error) {
	q := `SELECT a.at, COALESCE(u.email, ''), a.action, a.object_type, COALESCE(a.object_id, 0), a.detail
		FROM audit_log a LEFT JOIN users u ON u.id = a.user_id`
	var args []any
	if organiserID != 0 {
		q += ` WHERE a.organiser_id = ?`
		args = append(args, organiserID)
	}
	q += ` ORDER BY a.at DESC, a.id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.DB.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("organisers: audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.At, &e.UserEmail, &e.Action, &e.ObjectType, &e.ObjectID, &e.Detail); err != nil {
			return nil, fmt.Errorf("organisers: audit: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
