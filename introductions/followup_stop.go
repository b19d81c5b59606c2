package introductions

// The "stop future introductions" link in every introduction email.

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/registration"
)

// CheckStop reports whether a "stop future introductions" link is valid.
func (f *Followup) CheckStop(ctx context.Context, raw string) error {
	_, err := findToken(ctx, f.DB.Read(), f.DB.Now().UTC(), raw, purposeStop)
	return err
}

// Stop withdraws the consent to introductions of every registration of the
// link's address, recording the wording the person saw (in lang). They are
// in no later proposal, and approval drops them from a draft one.
func (f *Followup) Stop(ctx context.Context, raw, lang, wording string) error {
	return f.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		t, err := findToken(ctx, tx, now, raw, purposeStop)
		if err != nil {
			return err
		}
		var emailNorm string
		if err := tx.QueryRowContext(ctx, `SELECT email_norm FROM registrations WHERE id = ?`, t.RegistrationID).Scan(&emailNorm); err != nil {
			return fmt.Errorf("introductions: stop: %w", err)
		}
		_, err = registration.WithdrawIntroductions(ctx, tx, now, emailNorm, web.SupportedLang(lang), StopWordingVersion, wording)
		return err
	})
}
