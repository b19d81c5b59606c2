package events

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// formTestContext checks forms against one region and two organisers; T
// writes the key and its arguments, so a test reads which message it is.
func formTestContext(choose bool) formContext {
	T := func(key string, args ...any) string {
		if len(args) == 0 {
			return key
		}
		return key + fmt.Sprintf("%v", args)
	}
	return formContext{
		Regions:         []Region{{ID: 1, Slug: "bodo", Name: "Bodø"}},
		Organisers:      []Organiser{{ID: 2, Slug: "nfk", Name: "Nordland fylkeskommune"}, {ID: 3, Slug: "dfo", Name: "DFØ"}},
		ChooseOrganiser: choose, OwnOrganiser: 2, T: T,
		TIn: func(_, key string, args ...any) string { return T(key, args...) },
	}
}

// formTestForm is a valid form of a physical event in Bodø.
func formTestForm() EventForm {
	return EventForm{
		Title: "Ledermøte i Bodø", Summary: "Om tillit.", Description: "Første avsnitt.",
		Format: "meeting_place", Mode: "physical", Region: "bodo", OrganiserID: "3",
		VenueName: "Stormen", VenueStreet: "Storgata 1", VenuePostcode: "8006", VenueCity: "Bodø",
		VenueLat: "67,2827", VenueLon: "14.3751", VenueAccess: "Trinnfri adkomst.",
		StartDate: "2026-03-12", StartTime: "09:00", EndTime: "11:30",
		Capacity: "1 500", Price: "250,-",
		OpensDate: "2026-02-01", ClosesDate: "2026-03-10", ClosesTime: "12:00",
		Levels: []string{"top", "middle"}, Roles: []string{"hr"}, Sector: "public",
		Facilitation: "facilitated", Theme: "leadership", Language: "nb",
		InvitationOnly: true, InviteCode: "BODO26", Host: "Kari Nordmann",
		Agenda: []AgendaRow{{Time: "09.00", Title: "Velkommen", Introducer: "Kari"}, {}, {Title: "Samtale"}},
	}
}

// TestEventFormApply pins what the event form makes of what was typed: the
// event it writes and its messages, in the order the summary lists them.
func TestEventFormApply(t *testing.T) {
	oslo := func(d, hm string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", d+" "+hm, Oslo)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	lat, lon := 67.2827, 14.3751
	saved := Venue{ID: 5, Name: "Stormen", Street: "Storgata 1", Postcode: "8006", City: "Bodø", Latitude: &lat, Longitude: &lon, Accessibility: "Trinnfri adkomst."}

	t.Run("a valid form", func(t *testing.T) {
		e := Event{ID: 9, Status: StatusPublished, Sequence: 2, Venue: &saved}
		errs := formTestForm().apply(&e, formTestContext(true))
		if errs.Any() {
			t.Fatalf("messages: %+v", errs.List)
		}
		want := Event{
			ID: 9, Status: StatusPublished, Sequence: 2,
			Title: "Ledermøte i Bodø", Summary: "Om tillit.", Description: "Første avsnitt.",
			Format: "meeting_place", Mode: "physical", Region: Region{ID: 1, Slug: "bodo", Name: "Bodø"},
			Organiser: Organiser{ID: 3, Slug: "dfo", Name: "DFØ"},
			Venue:     &saved, // unchanged fields: the saved venue, same ID
			StartsAt:  oslo("2026-03-12", "09:00"), EndsAt: oslo("2026-03-12", "11:30"),
			Capacity: 1500, PriceNOK: 250,
			RegistrationOpensAt: oslo("2026-02-01", "00:00"), RegistrationClosesAt: oslo("2026-03-10", "12:00"),
			Levels: []string{"top", "middle"}, Roles: []string{"hr"}, Sector: "public",
			Facilitation: "facilitated", Theme: "leadership", Language: "nb",
			InvitationOnly: true, InviteCode: "BODO26", Host: "Kari Nordmann",
			Agenda: []AgendaItem{{StartsAt: oslo("2026-03-12", "09:00"), Title: "Velkommen", Introducer: "Kari"}, {Title: "Samtale"}},
		}
		if !reflect.DeepEqual(e, want) {
			t.Errorf("event\n got %+v\nwant %+v", e, want)
		}
	})

	t.Run("a changed venue is a new one; an organiser keeps their own", func(t *testing.T) {
		f := formTestForm()
		f.VenueName, f.OrganiserID = "Bodø rådhus", "3"
		e := Event{Venue: &saved}
		if errs := f.apply(&e, formTestContext(false)); errs.Any() {
			t.Fatalf("messages: %+v", errs.List)
		}
		if e.Venue.ID != 0 || e.Venue.Name != "Bodø rådhus" || e.Organiser.ID != 2 {
			t.Errorf("venue %+v, organiser %d", e.Venue, e.Organiser.ID)
		}
	})

	t.Run("digital: no venue, a link", func(t *testing.T) {
		f := formTestForm()
		f.Mode, f.OnlineURL, f.Slug = "digital", "https://meet.example.no/bodo", "Ledermøte Bodø!"
		e := Event{Venue: &saved}
		if errs := f.apply(&e, formTestContext(true)); errs.Any() {
			t.Fatalf("messages: %+v", errs.List)
		}
		if e.Venue != nil || e.OnlineURL != "https://meet.example.no/bodo" || e.Slug != "ledermote-bodo" {
			t.Errorf("venue %+v, link %q, slug %q", e.Venue, e.OnlineURL, e.Slug)
		}
	})

	for _, tt := range []struct {
		name   string
		choose bool
		change func(f *EventForm)
		want   []string // field: message, in order
	}{
		{"everything wrong", true, func(f *EventForm) {
			*f = EventForm{
				Title: strings.Repeat("x", maxTitle+1), Slug: "---", Summary: strings.Repeat("x", maxSummary+1),
				Description: strings.Repeat("x", maxDescription+1), Format: "party", Mode: "teams", Region: "atlantis",
				OrganiserID: "99", VenueStreet: strings.Repeat("x", maxShort+1), VenuePostcode: "80", VenueLat: "91", VenueLon: "øst",
				VenueAccess: strings.Repeat("x", maxAccess+1), OnlineURL: "javascript:alert(1)",
				StartDate: "2026-02-30", StartTime: "25:00", EndDate: "12.3", EndTime: "",
				Capacity: "0", Price: "gratis", OpensDate: "i morgen", OpensTime: "9", ClosesDate: "x", ClosesTime: "y",
				Levels: []string{"top", "boss"}, Roles: []string{"king"}, Sector: "moon",
				InvitationOnly: true, Facilitation: "none", Theme: "fun", Language: "de", Host: strings.Repeat("x", maxShort+1),
				Agenda: []AgendaRow{{Time: "åtte", Introducer: "Kari"}, {Title: strings.Repeat("x", maxShort+1), Time: "10:00"}},
			}
		}, []string{
			"title: admin.error.too_long[Max 200]", "slug: admin.error.slug", "summary: admin.error.too_long[Max 500]",
			"description: admin.error.too_long[Max 20000]", "format: admin.error.choose", "mode: admin.error.choose",
			"region: admin.error.region", "organiser_id: admin.error.organiser",
			"venue_name: admin.error.venue_name", "venue_street: admin.error.too_long[Max 200]", "venue_postcode: admin.error.postcode",
			"venue_city: admin.error.venue_city", "venue_lat: admin.error.latitude", "venue_lon: admin.error.longitude",
			"venue_access: admin.error.too_long[Max 1000]", "online_url: admin.error.url",
			"start_date: admin.error.date", "start_time: admin.error.time", "end_date: admin.error.date", "end_time: admin.error.time_required",
			"capacity: admin.error.capacity[Max 100000]", "price: admin.error.price",
			"opens_date: admin.error.date", "opens_time: admin.error.time", "closes_date: admin.error.date", "closes_time: admin.error.time",
			"levels: admin.error.choose", "roles: admin.error.choose", "sector: admin.error.choose", "invite_code: admin.error.invite_code",
			"facilitation: admin.error.choose", "theme: admin.error.choose", "language: admin.error.choose", "host: admin.error.too_long[Max 200]",
			"agenda.0.title: admin.error.agenda_title[Row 1]", "agenda.0.time: admin.error.agenda_time[Row 1]",
			"agenda.1.title: admin.error.too_long[Max 200]",
		}},
		{"required fields left empty", false, func(f *EventForm) {
			f.Title, f.VenueName, f.VenueCity, f.StartDate, f.EndTime, f.Capacity = "", "", "", "", "", ""
			f.InvitationOnly, f.InviteCode = false, strings.Repeat("x", maxInviteCode+1)
		}, []string{
			"title: admin.error.required", "venue_name: admin.error.venue_name", "venue_city: admin.error.venue_city",
			"start_date: admin.error.date_required", "end_time: admin.error.time_required",
			"capacity: admin.error.capacity[Max 100000]", "invite_code: admin.error.too_long[Max 40]",
		}},
		{"times in the wrong order", true, func(f *EventForm) {
			f.EndTime = "08:00"
			f.OpensDate, f.ClosesDate = "2026-03-13", "2026-03-12"
		}, []string{
			"end_time: admin.error.end_before_start", "closes_date: admin.error.closes_before_opens",
			"opens_date: admin.error.opens_after_start",
		}},
		{"deadline after the start", true, func(f *EventForm) { f.ClosesDate, f.ClosesTime = "2026-03-12", "10:00" },
			[]string{"closes_date: admin.error.closes_after_start"}},
		{"digital without a link", true, func(f *EventForm) { f.Mode = "digital" },
			[]string{"online_url: admin.error.online_url_required"}},
		{"an end time, no start date", true, func(f *EventForm) { f.StartDate, f.EndTime = "", "9.75" },
			[]string{"start_date: admin.error.date_required", "end_time: admin.error.time"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := formTestForm()
			tt.change(&f)
			var e Event
			errs := f.apply(&e, formTestContext(tt.choose))
			var got []string
			for _, fe := range errs.List {
				got = append(got, fe.Field+": "+fe.Message)
				if errs.ByField[fe.Field] != fe.Message {
					t.Errorf("ByField[%s] = %q, the list says %q", fe.Field, errs.ByField[fe.Field], fe.Message)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("messages\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
