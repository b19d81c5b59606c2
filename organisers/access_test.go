package organisers_test

import (
	"errors"
	"testing"

	"github.com/moteplass/moteplass/organisers"
)

// TestMay is the one rule of who may do what with an organisation's
// events: admins everything, organisers everything with their own
// organisation's, check-in volunteers only check in at their own
// organisation's; nobody anything without a login.
func TestMay(t *testing.T) {
	const own, other = 7, 8
	users := map[string]*organisers.User{
		"admin":     {Role: organisers.RoleAdmin},
		"organiser": {Role: organisers.RoleOrganiser, OrganiserID: own},
		"checkin":   {Role: organisers.RoleCheckIn, OrganiserID: own},
		"nobody":    nil,
	}
	for _, c := range []struct {
		user string
		need organisers.Need
		org  int64
		may  bool
	}{
		{"admin", organisers.Manage, own, true},
		{"admin", organisers.Manage, other, true},
		{"admin", organisers.CheckIn, other, true},
		{"organiser", organisers.Manage, own, true},
		{"organiser", organisers.CheckIn, own, true},
		{"organiser", organisers.Manage, other, false},
		{"organiser", organisers.CheckIn, other, false},
		{"checkin", organisers.CheckIn, own, true},
		{"checkin", organisers.Manage, own, false},
		{"checkin", organisers.CheckIn, other, false},
		{"nobody", organisers.CheckIn, own, false},
	} {
		u := users[c.user]
		err := u.May(c.need, c.org)
		if c.may != (err == nil) || (err != nil && !errors.Is(err, organisers.ErrForbidden)) {
			t.Errorf("%s, need %d at organisation %d: %v, want allowed %v", c.user, c.need, c.org, err, c.may)
		}
		if c.need == organisers.Manage && u.CanManage(c.org) != c.may || c.need == organisers.CheckIn && u.CanCheckIn(c.org) != c.may {
			t.Errorf("%s, need %d at organisation %d: Can* disagrees with May", c.user, c.need, c.org)
		}
	}
}
