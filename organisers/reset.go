package organisers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/moteplass/moteplass/internal/secret"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/mailer"
)

// ResetLifetime is how long a password reset link works.
const ResetLifetime = time.Hour

// MaxLiveResets is how many working reset links an account may have at a
// time. More requests send nothing until one is used or expires: a
// stranger cannot fill someone's inbox, and cannot stop them resetting
// either, since the links the stranger asked for went to the owner.
const MaxLiveResets = 3

// ResetQueueSize is how many reset requests may wait for the sender. It
// handles one in about a millisecond, and the limit of 20 a minute per
// client address comes first, so a full queue means a crowd of addresses
// at once; their requests are dropped and answered as usual.
const ResetQueueSize = 256

// ErrResetExpired is the answer to a reset link that is used, replaced or
// past its hour.
var ErrResetExpired = &web.Refusal{Kind: web.Expired, Key: "error.reset_expired", Why: "organisers: reset link used or expired"}

// ResetSender sends password reset links off the request path. The form's
// handler only hands it the address: looking the address up while the
// visitor waits made a known address answer in twice the time of an
// unknown one, which told a stranger who has an account. Here, one
// goroutine (an app job, Run) looks the address up, makes the link and
// queues the email in one transaction, after the answer has gone.
type ResetSender struct {
	Store   *Store
	Emails  *web.Emails
	BaseURL string
	Logger  *slog.Logger

	queue   chan resetRequest
	dropped atomic.Int64
}

type resetRequest struct {
	email string
	lang  string // of the email, as of the page it was asked from
}

// NewResetSender makes a sender with an empty queue; run it with Run.
func NewResetSender(store *Store, emails *web.Emails, baseURL string, logger *slog.Logger) *ResetSender {
	return &ResetSender{Store: store, Emails: emails, BaseURL: baseURL, Logger: logger, queue: make(chan resetRequest, ResetQueueSize)}
}

// Queue hands a request over without waiting. When the queue is full the
// request is dropped and false returned; the visitor is answered the same.
// The log counts the drops and never holds the address.
func (s *ResetSender) Queue(email, lang string) bool {
	if s == nil {
		return false
	}
	select {
	case s.queue <- resetRequest{email: email, lang: lang}:
		return true
	default:
		s.Logger.Warn("organisers: password reset queue full, request dropped", "dropped_total", s.dropped.Add(1))
		return false
	}
}

// Run sends queued requests until ctx is done, then handles those still
// waiting (their emails go out at the mail worker's next start).
func (s *ResetSender) Run(ctx context.Context) {
	for {
		select {
		case r := <-s.queue:
			if err := s.send(ctx, r); err != nil && ctx.Err() == nil {
				s.Logger.Error("organisers: password reset not queued", "error", err)
			}
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if _, err := s.SendQueued(last); err != nil {
				s.Logger.Error("organisers: password reset not queued", "error", err)
			}
			return
		}
	}
}

// SendQueued handles every request waiting now and returns how many it
// handled; tests use it in place of Run.
func (s *ResetSender) SendQueued(ctx context.Context) (int, error) {
	var errs []error
	for n := 0; ; n++ {
		select {
		case r := <-s.queue:
			if err := s.send(ctx, r); err != nil {
				errs = append(errs, err)
			}
		default:
			return n, errors.Join(errs...)
		}
	}
}

// ResetEmail is the data of the password reset email.
type ResetEmail struct {
	Name string
	Link string
}

// send looks the address up and, for an active account with fewer than
// MaxLiveResets working links, makes a link and queues its email. An
// unknown address sends nothing and logs nothing.
func (s *ResetSender) send(ctx context.Context, r resetRequest) error {
	capped := false
	err := s.Store.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ? AND disabled_at IS NULL`, NormaliseEmail(r.email)))
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var live int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM password_resets WHERE user_id = ? AND used_at IS NULL AND expires_at > ?`, u.ID, now).Scan(&live); err != nil {
			return err
		}
		if live >= MaxLiveResets {
			capped = true
			return nil
		}
		token, hash := secret.New()
		if _, err := tx.ExecContext(ctx, `INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			hash, u.ID, now, now.Add(ResetLifetime)); err != nil {
			return err
		}
		msg, err := s.Emails.Render("password_reset", r.lang, s.BaseURL, ResetEmail{Name: u.Name, Link: s.BaseURL + "/admin/reset/" + token})
		if err != nil {
			return err
		}
		_, err = mailer.Enqueue(ctx, tx, now, mailer.Message{Kind: "password_reset", To: u.Email, ToName: u.Name,
			Subject: msg.Subject, TextBody: msg.Text, HTMLBody: msg.HTML})
		return err
	})
	if err != nil {
		return fmt.Errorf("organisers: password reset: %w", err)
	}
	if capped {
		s.Logger.Info("organisers: password reset not sent: the account has its links already", "max_live", MaxLiveResets)
	}
	return nil
}

// ResetPassword sets a new password with a reset link. The link is checked
// again in the transaction that uses it, so two tabs posting one link
// cannot both set a password; SetPassword then ends every link and session
// of the user.
func (s *Store) ResetPassword(ctx context.Context, token, password string) error {
	return s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		var userID int64
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM password_resets WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`,
			secret.Hash(token), now).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrResetExpired
		}
		if err != nil {
			return fmt.Errorf("organisers: reset password: %w", err)
		}
		if err := s.SetPassword(ctx, tx, userID, password); err != nil {
			return err
		}
		return Audit(ctx, tx, now, &User{ID: userID}, 0, "password_reset", "user", userID, "")
	})
}
