package registration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/moteplass/moteplass/internal/secret"
)

// DefaultTokenLifetime is how long after the event ends a manage link works.
const DefaultTokenLifetime = 60 * 24 * time.Hour

// PageTokenLifetime is how long the link a browser gets after signing up
// works: long enough to come back to the page the same day, short enough
// that a browser history found later opens nothing (see Scope).
const PageTokenLifetime = 24 * time.Hour

// Scope is what a manage link proves about its holder (migration 010).
type Scope string

const (
	// ScopeMail is a link that was sent to the address: its holder reads
	// mail there, so it opens everything about the address as well as the
	// registration (download, erasure, the personal calendar feed).
	ScopeMail Scope = "mail"
	// ScopePage is the link the browser that submitted the sign-up form
	// gets. An address typed into a form proves nothing, so it opens that
	// one registration only.
	ScopePage Scope = "page"
)

// Proven reports whether the holder has shown they read mail at the address.
func (s Scope) Proven() bool { return s == ScopeMail }

// HashToken is what is stored for a raw manage token.
func HashToken(raw string) string { return secret.Hash(raw) }

// createToken stores a new manage token for a registration and returns it raw.
const qToken = `INSERT INTO manage_tokens (token_hash, registration_id, created_at, expires_at, scope) VALUES (?, ?, ?, ?, ?)`

func createToken(ctx context.Context, tx Tx, now, expires time.Time, regID int64, scope Scope) (string, error) {
	if scope == ScopePage && now.Add(PageTokenLifetime).Before(expires) {
		expires = now.Add(PageTokenLifetime)
	}
	raw, hash := secret.New()
	if _, err := tx.ExecContext(ctx, qToken, hash, regID, now, expires.UTC(), string(scope)); err != nil {
		return "", fmt.Errorf("registration: create token: %w", err)
	}
	return raw, nil
}

// revokePageTokens ends the browser links of a registration: once the
// person has changed it through a link from their email, what they stored
// must not be readable by whoever submitted the sign-up form.
func revokePageTokens(ctx context.Context, tx Tx, regID int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM manage_tokens WHERE registration_id = ? AND scope = 'page'`, regID); err != nil {
		return fmt.Errorf("registration: revoke page links: %w", err)
	}
	return nil
}

// lastMailTokenAt is when the newest link emailed for a registration was
// made (zero if none): the resend throttle counts what went to the inbox.
func lastMailTokenAt(ctx context.Context, tx Tx, regID int64) (time.Time, error) {
	var at sql.NullTime
	err := tx.QueryRowContext(ctx, `SELECT created_at FROM manage_tokens WHERE registration_id = ? AND scope = 'mail'
		ORDER BY created_at DESC LIMIT 1`, regID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("registration: last token: %w", err)
	}
	return at.Time, nil
}

// registrationForToken finds the registration a raw token opens, and what
// the token proves.
func registrationForToken(ctx context.Context, q RowQuerier, now time.Time, raw string) (int64, Scope, error) {
	if !secret.WellFormed(raw) {
		return 0, "", ErrTokenUnknown
	}
	var id int64
	var expires time.Time
	var scope Scope
	err := q.QueryRowContext(ctx, `SELECT registration_id, expires_at, scope FROM manage_tokens WHERE token_hash = ?`,
		HashToken(raw)).Scan(&id, &expires, &scope)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", ErrTokenUnknown
	}
	if err != nil {
		return 0, "", fmt.Errorf("registration: token: %w", err)
	}
	if !now.Before(expires) {
		return id, scope, ErrTokenExpired
	}
	return id, scope, nil
}

// DeleteExpiredTokens removes tokens that expired before before (a
// retention job keeps recently expired ones so their page says "expired").
func DeleteExpiredTokens(ctx context.Context, tx *sql.Tx, before time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM manage_tokens WHERE expires_at < ?`, before.UTC())
	if err != nil {
		return 0, fmt.Errorf("registration: delete expired tokens: %w", err)
	}
	return res.RowsAffected()
}
