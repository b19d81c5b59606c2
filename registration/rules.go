package registration

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
)

// The capacity rule, without I/O. The store applies it inside the write
// transaction, to counts read in that transaction.

// Admit is the status of a new registration when confirmed places are taken
// out of capacity: a place while one is free, else the waiting list.
func Admit(capacity, confirmed int) string {
	if confirmed < capacity {
		return StatusConfirmed
	}
	return StatusWaiting
}

// Promotions is how many people move from the waiting list to a place:
// as many as there are free seats, at most everyone waiting. Lowering the
// capacity below the confirmed count moves nobody down.
func Promotions(capacity, confirmed, waiting int) int {
	free := capacity - confirmed
	if free <= 0 || waiting <= 0 {
		return 0
	}
	return min(free, waiting)
}

// CheckOpen refuses unless ev takes registrations at now, with the page
// for why not (error.registration.<state>). Invitation codes are checked
// separately (InviteCodeMatches).
func CheckOpen(ev events.Event, now time.Time) error {
	if st := ev.RegistrationStateAt(now); st != events.RegistrationOpen {
		return &web.Refusal{Key: "error.registration." + string(st), Why: "registration: refused: " + string(st)}
	}
	return nil
}

// InviteCodeMatches compares an invitation code as typed with the event's,
// ignoring case and surrounding space, in constant time (hashing first so
// not even the length leaks). An empty code never matches.
func InviteCodeMatches(want, got string) bool {
	want = strings.ToLower(strings.TrimSpace(want))
	got = strings.ToLower(strings.TrimSpace(got))
	if want == "" || got == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
