// Package organisers holds organiser accounts: login with a password,
// sessions, password resets, roles and the audit log. Domain handlers that
// need to know who is asking read the User this package's middleware puts
// on the request; this package knows nothing of events or registrations.
package organisers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/mailer"
)

// Roles.
const (
	RoleAdmin     = "admin"     // everything, manages organisations and users
	RoleOrganiser = "organiser" // the events of their own organisation
	RoleCheckIn   = "checkin"   // only the check-in page of their organisation's events
)

// Roles lists the roles in order of power.
var Roles = []string{RoleAdmin, RoleOrganiser, RoleCheckIn}

// ErrNotFound is returned when no user matches.
var ErrNotFound = errors.New("organisers: not found")

// User is an organiser account.
type User struct {
	ID          int64
	Email       string
	Name        string
	Role        string
	OrganiserID int64 // 0 for admins
}

// IsAdmin reports whether u can do everything.
func (u *User) IsAdmin() bool { return u != nil && u.Role == RoleAdmin }

// Need is what a user asks to do with an organisation's events.
type Need int

const (
	Manage  Need = iota // see and change the events and their registrations
	CheckIn             // check people in at the door
)

// May is nil if u may do need with the events of organisation organiserID,
// else ErrForbidden. This is the rule, the one place it is written: an
// admin may do everything, an organiser everything with their own
// organisation's events, a check-in volunteer only check in at them.
// events.ForUser asks it for an event.
func (u *User) May(need Need, organiserID int64) error {
	switch {
	case u == nil:
	case u.Role == RoleAdmin:
		return nil
	case u.OrganiserID != organiserID:
	case u.Role == RoleOrganiser, need == CheckIn && u.Role == RoleCheckIn:
		return nil
	}
	return ErrForbidden
}

// CanManage reports whether u may see and change the events and
// registrations of organiser organiserID (May, for a page's links).
func (u *User) CanManage(organiserID int64) bool { return u.May(Manage, organiserID) == nil }

// CanCheckIn reports whether u may use the check-in page of organiser
// organiserID's events (May, for a page's links).
func (u *User) CanCheckIn(organiserID int64) bool { return u.May(CheckIn, organiserID) == nil }

// Store reads and writes accounts.
type Store struct {
	DB *db.DB
	// BcryptCost is the password hashing cost; tests lower it.
	BcryptCost int
}

// NewStore uses bcrypt's default cost (10): about 50-100 ms a hash here.
func NewStore(d *db.DB) *Store { return &Store{DB: d, BcryptCost: bcrypt.DefaultCost} }

// NormaliseEmail is an address's key for comparison, as everywhere else
// (mailer.NormalizeAddress: trimmed, lower-cased, the domain as an A-label).
func NormaliseEmail(s string) string { return mailer.NormalizeAddress(s) }

// MinPasswordLength follows NSM's and NIST's advice: long passphrases
// rather than composition rules.
const MinPasswordLength = 12

// ErrUnsendable is returned for an account address we cannot send mail
// to: its password reset would fail.
var ErrUnsendable = errors.New("organisers: we cannot send email to this address")

// checkAddress is the one check of an address an account's mail goes to,
// at user creation and at the reset form.
func checkAddress(email string) error {
	if err := mailer.ValidateAddress(email); err != nil {
		return fmt.Errorf("%w: %w", ErrUnsendable, err)
	}
	return nil
}

// CreateUser adds an account with a hashed password. Every way an account
// is made (the users page, the command line, the demo) comes here, so the
// address is checked here.
func (s *Store) CreateUser(ctx context.Context, tx *sql.Tx, now time.Time, u *User, password string) error {
	if len([]rune(password)) < MinPasswordLength {
		return fmt.Errorf("organisers: the password must have at least %d characters", MinPasswordLength)
	}
	if err := checkAddress(strings.TrimSpace(u.Email)); err != nil {
		return err
	}
	if !validRole(u.Role) {
		return fmt.Errorf("organisers: unknown role %q", u.Role)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.BcryptCost)
	if err != nil {
		return fmt.Errorf("organisers: hash password: %w", err)
	}
	u.Email = NormaliseEmail(u.Email)
	var org any
	if u.OrganiserID != 0 {
		org = u.OrganiserID
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO users (email, name, password_hash, role, organiser_id, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Email, u.Name, string(hash), u.Role, org, now).Scan(&u.ID)
	if err != nil {
		return fmt.Errorf("organisers: create user: %w", db.Classify(err))
	}
	return nil
}

func validRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// SetPassword replaces a user's password and, in the same transaction,
// ends all their sessions and every reset link they have: whoever knew the
// old password or holds an older link (someone with the mailbox for a
// while) is out. Every change of a password goes through here.
func (s *Store) SetPassword(ctx context.Context, tx *sql.Tx, userID int64, password string) error {
	if len([]rune(password)) < MinPasswordLength {
		return fmt.Errorf("organisers: the password must have at least %d characters", MinPasswordLength)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.BcryptCost)
	if err != nil {
		return fmt.Errorf("organisers: hash password: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, string(hash), userID); err != nil {
		return fmt.Errorf("organisers: set password: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("organisers: set password: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM password_resets WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("organisers: set password: %w", err)
	}
	return nil
}

const userColumns = `id, email, name, role, COALESCE(organiser_id, 0)`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.OrganiserID)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

// FindUsers lists accounts, all or of one organisation.
func (s *Store) FindUsers(ctx context.Context, organiserID int64) ([]User, error) {
	q := `SELECT ` + userColumns + ` FROM users WHERE disabled_at IS NULL`
	var args []any
	if organiserID != 0 {
		q += ` AND organiser_id = ?`
		args = append(args, organiserID)
	}
	rows, err := s.DB.Read().QueryContext(ctx, q+` ORDER BY email`, args...)
	if err != nil {
		return nil, fmt.Errorf("organisers: users: %w", err)
	}
	defer rows.Close()
	var us []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("organisers: users: %w", err)
		}
		us = append(us, u)
	}
	return us, rows.Err()
}

// Authenticate checks an email and password. A wrong email costs as much
// time as a wrong password: an unknown or disabled account is checked
// against a dummy hash of the same cost, so timing does not tell which
// accounts exist.
func (s *Store) Authenticate(ctx context.Context, email, password string) (User, error) {
	var hash string
	row := s.DB.Read().QueryRowContext(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = ? AND disabled_at IS NULL`, NormaliseEmail(email))
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.OrganiserID, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("organisers: authenticate: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return User{}, ErrNotFound
	}
	return u, nil
}

// PrepareDummyHash makes the dummy hash now (an app job at start-up), so
// the first login with an unknown address does not pay for making it: that
// one would take twice as long as a login with a known one.
func (s *Store) PrepareDummyHash() { s.dummyHash() }

// dummyHash is a hash at the store's cost, made once per cost when first
// needed, not at package start-up: every program and test binary that
// imports this package would otherwise pay for a bcrypt hash it may never
// use.
func (s *Store) dummyHash() []byte {
	dummyMu.Lock()
	defer dummyMu.Unlock()
	h, ok := dummyHashes[s.BcryptCost]
	if !ok {
		h, _ = bcrypt.GenerateFromPassword([]byte("not a real password, only for timing"), s.BcryptCost)
		dummyHashes[s.BcryptCost] = h
	}
	return h
}

var (
	dummyMu     sync.Mutex
	dummyHashes = map[int][]byte{}
)

// Rekey brings the login keys (users.email) stored before the one address
// parser to today's NormaliseEmail (see db.Rekey).
func Rekey(ctx context.Context, tx *sql.Tx) (int, error) {
	return db.Rekey(ctx, tx, "users", "id", "email", NormaliseEmail)
}
