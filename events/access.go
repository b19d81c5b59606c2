package events

// Who may do what with an event: the one answer, for every page and every
// change that needs it (the event pages here, the attendee list, check-in
// and the messages in registration, the follow-up in introductions).

import (
	"context"
	"errors"

	"github.com/moteplass/moteplass/organisers"
)

// ForUser reads event id whole, if u may do need with it (organisers'
// User.May), from q: the read pool for a page, or the write transaction of
// a change that decides on the event, which then sees it as committed (as
// LockEvent). Another organisation's event is organisers.ErrForbidden, and
// so is an id that does not exist, to anyone but an admin, who may see
// every event and learns ErrNotFound: ids cannot be probed.
func ForUser(ctx context.Context, q Querier, u *organisers.User, id int64, need organisers.Need) (Event, error) {
	ev, err := eventByID(ctx, q, id)
	if errors.Is(err, ErrNotFound) {
		return Event{}, hidden(u)
	}
	if err != nil {
		return Event{}, err
	}
	if err := u.May(need, ev.Organiser.ID); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// hidden is the answer for an object the user may not see: an admin learns
// that it does not exist, anyone else gets the same 403 as for another
// organisation's object, so ids cannot be probed.
func hidden(u *organisers.User) error {
	if u.IsAdmin() {
		return ErrNotFound
	}
	return organisers.ErrForbidden
}
