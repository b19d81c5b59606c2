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

// HashToken is what is stored for a raw manage token.
func HashToken(raw string) string { return secret.Hash(raw) }

// createToken stores a new manage token for a registration and returns it raw.
const qToken = `INSERT INTO manage_tokens (token_hash, registration_id, created_at, expires_at) VALUES (?, ?, ?, ?)`

func createToken(ctx context.Context, tx Tx, now, expires time.Time, regID int64) (string, error) {
	raw, hash := secret.New()
	if _, err := tx.ExecContext(ctx, qToken, hash, regID, now, expires.UTC()); err != nil {
		return "", fmt.Errorf("registration: create token: %w", err)
	}
	return raw, nil
}

// lastTokenAt is when the newest token of a registration was made (zero if none).
func lastTokenAt(ctx context.Context, tx Tx, regID int64) (time.Time, error) {
	var at sql.NullTime
	err := tx.QueryRowContext(ctx, `SELECT created_at FROM manage_tokens WHERE registration_id = ? ORDER BY created_at DESC LIMIT 1`, regID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("registration: last token: %w", err)
	}
	return at.Time, nil
}

// registrationForToken finds the registration a raw token opens.
func registrationForToken(ctx context.Context, q RowQuerier, now time.Time, raw string) (int64, error) {
	if !secret.WellFormed(raw) {
		return 0, ErrTokenUnknown
	}
	var id int64
	var expires time.Time
	err := q.QueryRowContext(ctx, `SELECT registration_id, expires_at FROM manage_tokens WHERE token_hash = ?`, HashToken(raw)).Scan(&id, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrTokenUnknown
	}
	if err != nil {
		return 0, fmt.Errorf("registration: token: %w", err)
	}
	if !now.Before(expires) {
		return id, ErrTokenExpired
	}
	return id, nil
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
