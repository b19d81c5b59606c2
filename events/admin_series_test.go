package events_test

// Tests of a network series through the organiser pages: creating it, and
// changing its meetings across a change of daylight saving time. The adm
// helpers are in admin_test.go.

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app/apptest"
)

func TestAdminSeries(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.DemoLogin(t, a.Router, admOrganiser)
	// next year: 10 and 24 March are winter time, 7 April on summer time
	// (summer time starts on the last Sunday of March)
	year := time.Now().In(events.Oslo).Year() + 1
	hosts := []string{"Skatteetaten", "Statens vegvesen", "NAV", "Lånekassen", "Statsforvalteren i Vestland"}
	form := url.Values{
		"title": {"Nettverk for HR-ledere i Bergen"}, "description": {"Et lukket nettverk. Vertskapet går på omgang."},
		"region": {"bergen"}, "venue_name": {"DFØ Bergen"}, "venue_street": {"Bryggen 1"}, "venue_postcode": {"5003"}, "venue_city": {"Bergen"},
		"capacity": {"20"}, "invitation_only": {"1"}, "invite_code": {"HR-BERGEN"}, "levels": {"middle"}, "roles": {"hr"},
		"language": {"nb"}, "count": {"5"}, "first_date": {fmt.Sprintf("%d-03-10", year)}, "start_time": {"09:00"}, "duration": {"4,5"}, "interval": {"2"},
		"hosts": {strings.Join(hosts, "\r\n") + "\r\n"},
	}
	sid := admCreated(t, cl, "/admin/series", form)
	meetings, _, err := (&events.Store{DB: a.DB}).FindEvents(context.Background(), events.EventFilter{SeriesID: sid, Statuses: events.Statuses})
	if err != nil || len(meetings) != 5 {
		t.Fatalf("%d meetings, %v", len(meetings), err)
	}
	t.Run("five drafts with their hosts, numbered, at 09:00 Oslo time", func(t *testing.T) {
		wantUTC := []int{8, 8, 7, 7, 7} // CET is UTC+1, CEST UTC+2
		for k, m := range meetings {
			local := m.StartsAt.In(events.Oslo)
			if local.Format("15:04") != "09:00" || m.StartsAt.UTC().Hour() != wantUTC[k] {
				t.Errorf("meeting %d starts %s (Oslo) / %s (UTC)", k+1, local, m.StartsAt.UTC())
			}
			if want := time.Date(year, 3, 10+14*k, 9, 0, 0, 0, events.Oslo); !m.StartsAt.Equal(want) {
				t.Errorf("meeting %d on %s, want %s", k+1, local, want)
			}
			if got := m.EndsAt.Sub(m.StartsAt); got != 4*time.Hour+30*time.Minute {
				t.Errorf("meeting %d lasts %s", k+1, got)
			}
			if want := fmt.Sprintf("Nettverk for HR-ledere i Bergen, møte %d av 5", k+1); m.Title != want {
				t.Errorf("title %q, want %q", m.Title, want)
			}
			if m.Host != hosts[k] || m.Status != events.StatusDraft || m.Format != "network_meeting" || m.Organiser.Slug != "dfo" ||
				!m.InvitationOnly || m.InviteCode != "HR-BERGEN" || m.Capacity != 20 || m.Series == nil || m.Series.ID != sid {
				t.Errorf("meeting %d: host %q status %s format %s organiser %s capacity %d", k+1, m.Host, m.Status, m.Format, m.Organiser.Slug, m.Capacity)
			}
			if m.Venue == nil || m.Venue.ID != meetings[0].Venue.ID {
				t.Errorf("meeting %d has venue %+v; the meetings share one", k+1, m.Venue)
			}
		}
		if n, _ := admAudit(t, a, "series_create", "series", sid); n != 1 {
			t.Errorf("%d series_create rows", n)
		}
	})

	t.Run("the series page lists its meetings", func(t *testing.T) {
		rec := cl.Get(fmt.Sprintf("/admin/series/%d", sid))
		apptest.Want(t, rec, http.StatusOK)
		apptest.Says(t, rec, "møte 1 av 5", "møte 5 av 5", "Lånekassen", "Endringene gjelder de 5 kommende møtene")
	})

	first := meetings[0]
	apptest.Want(t, cl.PostForm(fmt.Sprintf("/admin/events/%d/publish", first.ID), url.Values{}), http.StatusSeeOther)
	admAddRegistrations(t, a, first.ID, "confirmed", 1)

	t.Run("changing the whole series asks first and reaches every future meeting", func(t *testing.T) {
		edit := url.Values{
			"title": {"HR-nettverket i Bergen"}, "description": {"Et lukket nettverk. Vertskapet går på omgang."},
			"venue_name": {"Media City Bergen"}, "venue_street": {"Lars Hilles gate 30"}, "venue_postcode": {"5008"}, "venue_city": {"Bergen"},
			"venue_lat": {""}, "venue_lon": {""}, "venue_access": {""}, "capacity": {"25"},
		}
		rec := cl.PostForm(fmt.Sprintf("/admin/series/%d", sid), edit)
		apptest.Want(t, rec, http.StatusOK)
		apptest.Says(t, rec, "1 påmeldt deltaker får en oppdatert kalenderinvitasjon")
		if got := admEvent(t, a, first.ID); got.Capacity != 20 {
			t.Fatalf("saved before confirming")
		}
		carried := admHidden(rec.Body.String())
		carried.Set("confirmed", "1")
		apptest.Want(t, cl.PostForm(fmt.Sprintf("/admin/series/%d", sid), carried), http.StatusSeeOther)
		for k, m := range meetings {
			got := admEvent(t, a, m.ID)
			if want := fmt.Sprintf("HR-nettverket i Bergen, møte %d av 5", k+1); got.Title != want || got.Capacity != 25 || got.Venue.Name != "Media City Bergen" {
				t.Errorf("meeting %d: %q capacity %d venue %s", k+1, got.Title, got.Capacity, got.Venue.Name)
			}
			if got.Host != hosts[k] || !got.StartsAt.Equal(m.StartsAt) {
				t.Errorf("meeting %d: host or time changed", k+1)
			}
			wantSeq := 1 // the place changed
			if got.Sequence != wantSeq {
				t.Errorf("meeting %d: sequence %d", k+1, got.Sequence)
			}
			if n, _ := admAudit(t, a, "event_update", "event", m.ID); n != 1 {
				t.Errorf("meeting %d: %d event_update rows", k+1, n)
			}
		}
		if n, _ := admAudit(t, a, "series_update", "series", sid); n != 1 {
			t.Errorf("%d series_update rows", n)
		}
	})

	t.Run("titles are in the meetings' language", func(t *testing.T) {
		id := admCreated(t, cl, "/admin/series", admWith(form, "language", "en", "count", "2", "hosts", "", "title", "Digital leadership circle"))
		ms, _, err := (&events.Store{DB: a.DB}).FindEvents(context.Background(), events.EventFilter{SeriesID: id, Statuses: events.Statuses})
		if err != nil || len(ms) != 2 || ms[1].Title != "Digital leadership circle, meeting 2 of 2" || ms[1].Language != "en" || ms[1].Host != "" {
			t.Errorf("%v %+v", err, ms)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			kv      []string
			message string
		}{
			{[]string{"count", "13"}, "Skriv antall møter som et helt tall fra 1 til 12."},
			{[]string{"count", "0"}, "Skriv antall møter"},
			{[]string{"count", "3"}, "Du har skrevet 5 vertskap, men nettverket har bare 3 møter."},
			{[]string{"duration", "lang"}, "Skriv varigheten i timer"},
			{[]string{"interval", "0"}, "Skriv antall uker mellom møtene"},
			{[]string{"first_date", "31.02.2027"}, "Skriv en dato som finnes"},
			{[]string{"title", ""}, "Fyll inn dette feltet."},
		} {
			rec := cl.PostForm("/admin/series", admWith(form, tc.kv...))
			apptest.Want(t, rec, http.StatusUnprocessableEntity)
			apptest.Says(t, rec, tc.message)
			if !strings.Contains(html.UnescapeString(rec.Body.String()), "Statsforvalteren i Vestland") {
				t.Errorf("%v: the typed hosts are lost", tc.kv)
			}
		}
		if n := admCount(t, a, `SELECT COUNT(*) FROM series`); n != 3 {
			t.Errorf("%d series after invalid forms, want 3 (demo + ours)", n)
		}
	})
}
