package events

// Tests of the invitations in registrants' emails (METHOD:REQUEST and
// CANCEL): round trip through go-ical, SEQUENCE, errors, a UID that stays
// when the slug changes, and the golden file.

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	ical "github.com/emersion/go-ical"
)

var updateICal = flag.Bool("update-ical", false, "rewrite testdata/ical_request.golden.ics")

// icalInvitationAttendee has a name that must be quoted (comma) and a double
// quote, which a parameter cannot hold and becomes '.
var icalInvitationAttendee = Attendee{Name: `Ola "Nordmann", Bodø`, Email: "ola.nordmann@kommune.example.no", Status: "confirmed"}

const icalInvitationAttendeeCN = `Ola 'Nordmann', Bodø`

func TestInvitationRoundTrip(t *testing.T) {
	c := icalCases()[0]
	cancelled := c.ev
	cancelled.Status = StatusCancelled
	cancelled.Sequence = c.ev.Sequence + 1 // as the store does on cancelling

	gone := icalInvitationAttendee
	gone.Status = "cancelled"

	tests := []struct {
		name         string
		ev           Event
		att          Attendee
		method       string
		wantMethod   string
		wantStatus   string
		wantSequence int
		wantPartstat string
	}{
		{"confirmed registration gets REQUEST", c.ev, icalInvitationAttendee, "REQUEST", "REQUEST", "CONFIRMED", 2, "ACCEPTED"},
		{"method is case-insensitive", c.ev, icalInvitationAttendee, "request", "REQUEST", "CONFIRMED", 2, "ACCEPTED"},
		{"cancelled registration gets CANCEL above the REQUEST", c.ev, gone, "CANCEL", "CANCEL", "CANCELLED", 3, "DECLINED"},
		{"cancelled event gets CANCEL above its new sequence", cancelled, icalInvitationAttendee, "CANCEL", "CANCEL", "CANCELLED", 4, "ACCEPTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Invitation(tt.ev, tt.att, tt.method, icalTestBase, icalTestNow)
			if err != nil {
				t.Fatal(err)
			}
			icalCheckLines(t, b)
			cal := icalDecode(t, b)
			icalWant(t, "METHOD", icalProp(t, cal.Component, ical.PropMethod).Value, tt.wantMethod)
			icalWant(t, "PRODID", icalProp(t, cal.Component, ical.PropProductID).Value, ProductID)
			if n := len(cal.Events()); n != 1 {
				t.Fatalf("%d VEVENTs, want 1", n)
			}
			ve := icalFindEvent(t, cal, "event-101@moteplass.example.no")

			want := c
			want.wantStatus = tt.wantStatus
			want.wantSequence = tt.wantSequence
			icalCheckEvent(t, ve, want)

			org := icalProp(t, ve, ical.PropOrganizer)
			icalWant(t, "ORGANIZER", org.Value, "mailto:post@sftrondelag.example.no")
			icalWant(t, "ORGANIZER;CN", org.Params.Get(ical.ParamCommonName), "Statsforvalteren i Trøndelag, stab; HR")
			att := icalProp(t, ve, ical.PropAttendee)
			icalWant(t, "ATTENDEE", att.Value, "mailto:ola.nordmann@kommune.example.no")
			icalWant(t, "ATTENDEE;CN", att.Params.Get(ical.ParamCommonName), icalInvitationAttendeeCN)
			icalWant(t, "ATTENDEE;PARTSTAT", att.Params.Get(ical.ParamParticipationStatus), tt.wantPartstat)
			icalWant(t, "ATTENDEE;ROLE", att.Params.Get(ical.ParamRole), "REQ-PARTICIPANT")
			icalWant(t, "ATTENDEE;RSVP", att.Params.Get(ical.ParamRSVP), "FALSE")
		})
	}
}

// TestSequence pins the SEQUENCE rules: the event's own number in feeds and
// REQUESTs, one more in a CANCEL, so a CANCEL always outranks the REQUEST
// sent for the same state of the event.
func TestSequence(t *testing.T) {
	seqOf := func(t *testing.T, b []byte) int {
		t.Helper()
		ev := icalDecode(t, b).Events()
		if len(ev) != 1 {
			t.Fatalf("%d VEVENTs, want 1", len(ev))
		}
		n, err := icalProp(t, ev[0].Component, ical.PropSequence).Int()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, n := range []int{0, 1, 7, 1000} {
		t.Run("sequence "+strconv.Itoa(n), func(t *testing.T) {
			ev := icalCases()[0].ev
			ev.Sequence = n
			feed, err := FeedCalendar("x", []Event{ev}, icalTestBase, icalTestNow)
			if err != nil {
				t.Fatal(err)
			}
			req, err := Invitation(ev, icalInvitationAttendee, MethodRequest, icalTestBase, icalTestNow)
			if err != nil {
				t.Fatal(err)
			}
			cancel, err := Invitation(ev, icalInvitationAttendee, MethodCancel, icalTestBase, icalTestNow)
			if err != nil {
				t.Fatal(err)
			}
			icalWant(t, "feed SEQUENCE", seqOf(t, feed), n)
			icalWant(t, "REQUEST SEQUENCE", seqOf(t, req), n)
			if got := seqOf(t, cancel); got <= seqOf(t, req) || got != n+1 {
				t.Errorf("CANCEL SEQUENCE = %d, want %d (more than the REQUEST's %d)", got, n+1, n)
			}
		})
	}
}

func TestInvitationErrors(t *testing.T) {
	ev := icalCases()[0].ev
	noOrganiserEmail := ev
	noOrganiserEmail.Organiser.ContactEmail = " "
	cancelledEvent := ev
	cancelledEvent.Status = StatusCancelled
	cancelledReg := icalInvitationAttendee
	cancelledReg.Status = "cancelled"

	tests := []struct {
		name   string
		ev     Event
		att    Attendee
		method string
	}{
		{"unknown method", ev, icalInvitationAttendee, "PUBLISH"},
		{"empty method", ev, icalInvitationAttendee, ""},
		{"no organiser email", noOrganiserEmail, icalInvitationAttendee, MethodRequest},
		{"no attendee email", ev, Attendee{Name: "Kari"}, MethodRequest},
		{"REQUEST for a cancelled event", cancelledEvent, icalInvitationAttendee, MethodRequest},
		{"REQUEST for a cancelled registration", ev, cancelledReg, MethodRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Invitation(tt.ev, tt.att, tt.method, icalTestBase, icalTestNow)
			if err == nil {
				t.Fatalf("no error; got\n%s", b)
			}
			if !strings.HasPrefix(err.Error(), "events: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestUIDDoesNotFollowSlug(t *testing.T) {
	ev := icalCases()[0].ev
	renamed := ev
	renamed.Slug = "nytt-navn"
	renamed.Title = "Nytt navn"
	for _, e := range []Event{ev, renamed} {
		b, err := FeedCalendar("x", []Event{e}, "https://moteplass.example.no:8443/sub", icalTestNow)
		if err != nil {
			t.Fatal(err)
		}
		ve := icalDecode(t, b).Events()[0]
		icalWant(t, "UID", icalProp(t, ve.Component, ical.PropUID).Value, "event-101@moteplass.example.no")
		icalWant(t, "URL", icalProp(t, ve.Component, ical.PropURL).Value, "https://moteplass.example.no:8443/sub/events/"+e.Slug)
	}
}

// TestInvitationGolden keeps one whole REQUEST in testdata, so a reviewer
// sees the exact bytes a registrant's calendar gets. Rewrite it with
// go test ./events/ -run TestInvitationGolden -update-ical.
func TestInvitationGolden(t *testing.T) {
	b, err := Invitation(icalCases()[0].ev, icalInvitationAttendee, MethodRequest, icalTestBase, icalTestNow)
	if err != nil {
		t.Fatal(err)
	}
	icalCheckLines(t, b)
	golden := filepath.Join("testdata", "ical_request.golden.ics")
	if *updateICal {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	// Compared without CRs, in case a git setting turned the file's CRLFs
	// into LFs; icalCheckLines above holds the output to CRLF.
	lf := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")) }
	if !bytes.Equal(lf(b), lf(want)) {
		t.Fatalf("invitation differs from %s (rerun with -update-ical if the change is intended):\n%s", golden, b)
	}
}
