package registration

// Check-in at the door: marking a confirmed person as attended (and undoing
// it), and the check-in codes behind the QR code a person shows at the
// door. A code is random, made the first time it is needed and kept in
// registrations.checkin_code; the QR code holds the URL of the person's
// check-in entry, /admin/checkin/{code}, which only logged-in staff of the
// event's organisation can open.

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"strconv"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/organisers"
)

// ErrNotConfirmed: only a person with a confirmed place is checked in.
var ErrNotConfirmed = &web.Refusal{Key: "error.attendees.not_confirmed", Why: "registration: only confirmed registrations are checked in"}

// SetCheckedIn marks a registration of an event as attended (in) or takes
// the mark away (!in). who must be allowed to check in at the event
// (events.ForUser). changed is false when the registration was
// already so, and then nothing is written.
func (s *Service) SetCheckedIn(ctx context.Context, who *organisers.User, eventID, regID int64, in bool) (changed bool, err error) {
	err = s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		changed = false
		ev, err := events.ForUser(ctx, tx, who, eventID, organisers.CheckIn)
		if err != nil {
			return err
		}
		if ev.Status != events.StatusPublished {
			return ErrEventNotOpen
		}
		a, err := findAttendee(ctx, tx, eventID, regID)
		if err != nil {
			return err
		}
		if in == !a.CheckedInAt.IsZero() {
			return nil
		}
		if in && !a.Confirmed() {
			return ErrNotConfirmed
		}
		action := ActionCheckIn
		var at any = now
		if !in {
			action, at = ActionCheckInUndo, nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE registrations SET checked_in_at = ?, updated_at = ? WHERE id = ? AND event_id = ?`,
			at, now, a.ID, eventID); err != nil {
			return fmt.Errorf("registration: check in %d: %w", a.ID, err)
		}
		changed = true
		return organisers.Audit(ctx, tx, now, who, ev.Organiser.ID, action, auditRegistration, a.ID, "")
	})
	return changed, err
}

// checkinCodeBytes is the size of a check-in code: 128 bits, 22 characters.
const checkinCodeBytes = 16

func newCheckinCode() string {
	b := make([]byte, checkinCodeBytes)
	if _, err := rand.Read(b); err != nil {
		panic("registration: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// wellFormedCheckinCode rejects what cannot be a code before the database.
func wellFormedCheckinCode(code string) bool {
	if len(code) != base64.RawURLEncoding.EncodedLen(checkinCodeBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(code)
	return err == nil
}

// CheckinCode returns the check-in code of a registration, making one the
// first time. A cancelled or anonymised registration has none (ErrNotFound).
func (s *Service) CheckinCode(ctx context.Context, regID int64) (string, error) {
	var code sql.NullString
	var status string
	var anonymised sql.NullTime
	err := s.DB.Read().QueryRowContext(ctx, `SELECT checkin_code, status, anonymised_at FROM registrations WHERE id = ?`, regID).
		Scan(&code, &status, &anonymised)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("registration: check-in code of %d: %w", regID, err)
	}
	if status == StatusCancelled || anonymised.Valid {
		return "", ErrNotFound
	}
	if code.Valid && code.String != "" {
		return code.String, nil
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `UPDATE registrations SET checkin_code = ? WHERE id = ? AND checkin_code IS NULL`,
			newCheckinCode(), regID); err != nil {
			return fmt.Errorf("registration: make check-in code of %d: %w", regID, err)
		}
		// another request may have made one first: the stored code wins
		return tx.QueryRowContext(ctx, `SELECT checkin_code FROM registrations WHERE id = ?`, regID).Scan(&code)
	})
	if err != nil {
		return "", err
	}
	return code.String, nil
}

// FindCheckinCode returns the registration and the event a check-in code
// belongs to (ErrNotFound for an unknown or malformed code).
func (s *Service) FindCheckinCode(ctx context.Context, code string) (regID, eventID int64, err error) {
	if !wellFormedCheckinCode(code) {
		return 0, 0, ErrNotFound
	}
	err = s.DB.Read().QueryRowContext(ctx, `SELECT id, event_id FROM registrations WHERE checkin_code = ?`, code).Scan(&regID, &eventID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, ErrNotFound
	}
	if err != nil {
		return 0, 0, fmt.Errorf("registration: check-in code: %w", err)
	}
	return regID, eventID, nil
}

// CheckinURL is the address a check-in code's QR code holds.
func CheckinURL(baseURL, code string) string { return baseURL + "/admin/checkin/" + code }

// CheckinQRSize is the side of the QR PNG in pixels: large enough to scan
// from a phone screen held up at the door, small enough for an email.
const CheckinQRSize = 256 // the same as the emails' (mailer)

// QRPNG draws content as a QR code PNG of size×size pixels (medium error
// correction, with the quiet zone around it).
func QRPNG(content string, size int) ([]byte, error) {
	png, err := qrcode.Encode(content, qrcode.Medium, size)
	if err != nil {
		return nil, fmt.Errorf("registration: QR code: %w", err)
	}
	return png, nil
}

// QRSVG draws content as an inline SVG QR code, one path of dark modules
// on a white square, scaled by its container. title is its accessible name.
func QRSVG(content, title string) (template.HTML, error) {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return "", fmt.Errorf("registration: QR code: %w", err)
	}
	bits := q.Bitmap() // with the quiet zone
	n := len(bits)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="240" height="240" role="img" shape-rendering="crispEdges"><title>%s</title>`,
		n, n, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/><path fill="#000000" d="`, n, n)
	for y, row := range bits {
		for x := 0; x < len(row); x++ {
			if !row[x] {
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			b.WriteString("M" + strconv.Itoa(start) + " " + strconv.Itoa(y) + "h" + strconv.Itoa(x-start) + "v1h-" + strconv.Itoa(x-start) + "z")
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil
}

// CheckinQR is the QR code (PNG) a person shows at the door: it opens the
// registration's check-in entry for logged-in staff. It makes the
// registration's check-in code the first time.
func (s *Service) CheckinQR(ctx context.Context, regID int64, baseURL string) ([]byte, error) {
	code, err := s.CheckinCode(ctx, regID)
	if err != nil {
		return nil, err
	}
	return QRPNG(CheckinURL(baseURL, code), CheckinQRSize)
}

// CheckinQRSVG is CheckinQR as inline SVG, for a page (manage.html).
func (s *Service) CheckinQRSVG(ctx context.Context, regID int64, baseURL, title string) (template.HTML, error) {
	code, err := s.CheckinCode(ctx, regID)
	if err != nil {
		return "", err
	}
	return QRSVG(CheckinURL(baseURL, code), title)
}
