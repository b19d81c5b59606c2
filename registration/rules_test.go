package registration

import (
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
)

func TestAdmitAndPromotions(t *testing.T) {
	for _, tc := range []struct {
		capacity, confirmed, waiting int
		admit                        string
		promote                      int
	}{
		{10, 0, 0, StatusConfirmed, 0},
		{10, 9, 0, StatusConfirmed, 0},
		{10, 10, 0, StatusWaiting, 0},
		{10, 10, 5, StatusWaiting, 0},
		{12, 10, 5, StatusConfirmed, 2},
		{20, 10, 5, StatusConfirmed, 5},
		{8, 10, 5, StatusWaiting, 0}, // lowered below the confirmed count
		{0, 0, 3, StatusWaiting, 0},
	} {
		if got := Admit(tc.capacity, tc.confirmed); got != tc.admit {
			t.Errorf("Admit(%d, %d) = %s, want %s", tc.capacity, tc.confirmed, got, tc.admit)
		}
		if got := Promotions(tc.capacity, tc.confirmed, tc.waiting); got != tc.promote {
			t.Errorf("Promotions(%d, %d, %d) = %d, want %d", tc.capacity, tc.confirmed, tc.waiting, got, tc.promote)
		}
	}
}

func TestCheckOpen(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ev := events.Event{Status: events.StatusPublished, StartsAt: now.Add(48 * time.Hour), EndsAt: now.Add(50 * time.Hour)}
	for _, tc := range []struct {
		name   string
		change func(e *events.Event)
		want   events.RegistrationState
	}{
		{"open", func(e *events.Event) {}, events.RegistrationOpen},
		{"not yet", func(e *events.Event) { e.RegistrationOpensAt = now.Add(time.Hour) }, events.RegistrationNotYet},
		{"closed", func(e *events.Event) { e.RegistrationClosesAt = now }, events.RegistrationClosed},
		{"started", func(e *events.Event) { e.StartsAt = now }, events.RegistrationStarted},
		{"cancelled", func(e *events.Event) { e.Status = events.StatusCancelled }, events.RegistrationCancelled},
		{"draft", func(e *events.Event) { e.Status = events.StatusDraft }, events.RegistrationDraft},
	} {
		e := ev
		tc.change(&e)
		err := CheckOpen(e, now)
		if tc.want == events.RegistrationOpen {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if r, ok := web.AsConflict(err); !ok || r.Key != "error.registration."+string(tc.want) {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
}

func TestInviteCodeMatches(t *testing.T) {
	for _, tc := range []struct {
		want, got string
		ok        bool
	}{
		{"ADM-ROGALAND", "ADM-ROGALAND", true},
		{"ADM-ROGALAND", " adm-rogaland ", true},
		{"Æblegrød", "æBLEGRØD", true},
		{"ADM-ROGALAND", "ADM-ROGALAN", false},
		{"ADM-ROGALAND", "", false},
		{"", "", false},
		{"", "x", false},
	} {
		if got := InviteCodeMatches(tc.want, tc.got); got != tc.ok {
			t.Errorf("InviteCodeMatches(%q, %q) = %v", tc.want, tc.got, got)
		}
	}
}

func TestParseEmail(t *testing.T) {
	for _, tc := range []struct {
		in, norm string
	}{
		{"kari@example.no", "kari@example.no"},
		{"  Kari.Nordmann@Vegvesen.NO ", "kari.nordmann@vegvesen.no"},
		{"ola+moteplass@example.no", "ola+moteplass@example.no"},
		{"post@bø.kommune.no", "post@xn--b-5ga.kommune.no"},
		{"kari@", ""},
		{"@example.no", ""},
		{"kari@localhost", ""},
		{"kari@.example.no", ""},
		{"kari@example.no.", ""},
		{"kari@example..no", ""},
		{"Kari <kari@example.no>", ""},
		{"kari nordmann@example.no", ""},
		{"kari@@example.no", ""},
		{"", ""},
	} {
		_, norm, err := ParseEmail(tc.in)
		if (err == nil) != (tc.norm != "") || norm != tc.norm {
			t.Errorf("ParseEmail(%q) = %q, %v; want %q", tc.in, norm, err, tc.norm)
		}
	}
}

func TestPhone(t *testing.T) {
	for in, ok := range map[string]bool{
		"91234567": true, "912 34 567": true, "+47 912 34 567": true, "(+47) 55-12-34-56": false,
		"0047 55 12 34 56": true, "1234567": false, "+47 9123 4567 8901 2345": false, "912 34 567 ext": false,
	} {
		if validPhone(in) != ok {
			t.Errorf("validPhone(%q) = %v", in, !ok)
		}
	}
}

func TestFormKeepsWhatWasTyped(t *testing.T) {
	f := ParseForm(map[string][]string{"name": {"  Åse\r\n"}, "topics": {"a\r\nb"}, "intro_consent": {"on"}, "website": {"x"}})
	if f.Values["name"] != "Åse" || f.Values["topics"] != "a\nb" || f.Values["intro_consent"] != "1" {
		t.Errorf("%q", f.Values)
	}
	if _, ok := f.Values["website"]; ok {
		t.Error("the honeypot is echoed back")
	}
	d, ok := f.Validate(EmailASCII)
	if ok || d.Name != "Åse" || !d.IntroConsent {
		t.Errorf("%v %+v", ok, d)
	}
	if f.Summary[0].Field != "email" {
		t.Errorf("summary starts with %s", f.Summary[0].Field)
	}
}
