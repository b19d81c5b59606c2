package introductions_test

// Network seeds: starting a network and inviting its members.

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/introductions"
)

// fuSeedPeople are twelve HR leaders at the same level from twelve agencies:
// a network seed.
func fuSeedPeople() []fuPerson {
	orgs := []string{"Skatteetaten", "NAV", "Kystverket", "Husbanken", "Lånekassen", "Statens vegvesen",
		"Fiskeridirektoratet", "Havforskningsinstituttet", "Universitetet i Bergen", "Sjøfartsdirektoratet",
		"Helsedirektoratet", "Digitaliseringsdirektoratet"}
	out := make([]fuPerson, len(orgs))
	for i, o := range orgs {
		out[i] = fuPerson{Name: fmt.Sprintf("Nettverksperson %02d", i+1), Org: o, Role: "HR-sjef", Level: "middle", Consent: true,
			Topics: "Rekruttering", Phone: "+47 900 00 0" + fmt.Sprintf("%02d", i)}
	}
	out[3].Lang = "en"
	return out
}

func TestFollowupNetworkSeed(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.DemoLogin(t, a.Router, fuOrganiser)
	ev := fuEvent(t, a, "dfo", 2*time.Hour)
	people := fuSeedPeople()
	fuRegister(t, a, ev.ID, people...)
	fuGenerate(t, cl, ev.ID)
	seeds := fuGroups(t, a, ev.ID, introductions.KindSeed)
	if len(seeds) != 1 {
		t.Fatalf("seeds %v, want one of twelve", seeds)
	}
	var seedID int64
	for g, ms := range seeds {
		seedID = g
		if len(ms) != 12 {
			t.Fatalf("the seed has %d members", len(ms))
		}
	}
	page := cl.Get(fuPath(ev.ID, ""))
	apptest.Says(t, page, "Forslag til nettverk (1)", "Nettverk 1", "Start et nettverk", "rollen «HR-sjef»")

	seriesBefore := fuCount(t, a, `SELECT COUNT(*) FROM series`)
	rec := cl.PostForm(fuPath(ev.ID, fmt.Sprintf("/seeds/%d/start", seedID)), url.Values{})
	apptest.Want(t, rec, http.StatusSeeOther)
	apptest.Says(t, cl.Follow(rec), "Nettverket er startet")
	if n := fuCount(t, a, `SELECT COUNT(*) FROM series`); n != seriesBefore+1 {
		t.Fatalf("%d series, want %d", n, seriesBefore+1)
	}
	var meetingID int64
	a.DB.Read().QueryRow(`SELECT network_event_id FROM intro_groups WHERE id = ?`, seedID).Scan(&meetingID)
	store := &events.Store{DB: a.DB}
	meeting, err := store.FindEvent(context.Background(), events.EventFilter{ID: meetingID, Statuses: events.Statuses})
	if err != nil {
		t.Fatalf("first meeting: %v", err)
	}
	wantStart := ev.StartsAt.In(events.Oslo).AddDate(0, 0, 28)
	switch {
	case meeting.Status != events.StatusDraft:
		t.Errorf("status %s, want draft", meeting.Status)
	case meeting.Series == nil || !strings.Contains(meeting.Series.Title, ev.Title):
		t.Errorf("series %+v", meeting.Series)
	case meeting.Format != "network_meeting":
		t.Errorf("format %s", meeting.Format)
	case !meeting.StartsAt.Equal(wantStart) || meeting.StartsAt.In(events.Oslo).Format("15:04") != ev.StartsAt.In(events.Oslo).Format("15:04"):
		t.Errorf("starts %v, want %v", meeting.StartsAt, wantStart)
	case meeting.EndsAt.Sub(meeting.StartsAt) != ev.EndsAt.Sub(ev.StartsAt):
		t.Errorf("lasts %v", meeting.EndsAt.Sub(meeting.StartsAt))
	case meeting.Capacity != 12+5:
		t.Errorf("capacity %d, want 17", meeting.Capacity)
	case !meeting.InvitationOnly || len(meeting.InviteCode) < 8:
		t.Errorf("invitation only %v, code %q", meeting.InvitationOnly, meeting.InviteCode)
	case meeting.Region.ID != ev.Region.ID || meeting.Venue == nil || meeting.Venue.ID != ev.Venue.ID:
		t.Errorf("region %v venue %v", meeting.Region, meeting.Venue)
	case meeting.Organiser.ID != ev.Organiser.ID:
		t.Errorf("organiser %v", meeting.Organiser)
	}
	if n := len(fuOutbox(t, a, "introduction_network")); n != 0 {
		t.Errorf("%d invitations to a draft", n)
	}

	t.Run("a started seed is not started twice", func(t *testing.T) {
		apptest.Want(t, cl.PostForm(fuPath(ev.ID, fmt.Sprintf("/seeds/%d/start", seedID)), url.Values{}), http.StatusConflict)
		apptest.Want(t, cl.PostForm(fuPath(ev.ID, "/regenerate"), url.Values{}), http.StatusConflict)
	})

	t.Run("invitations wait until the meeting is published", func(t *testing.T) {
		rec := cl.PostForm(fuPath(ev.ID, fmt.Sprintf("/seeds/%d/invite", seedID)), url.Values{})
		apptest.Want(t, rec, http.StatusConflict)
		apptest.Says(t, rec, "Publiser det første møtet")
	})

	t.Run("the members are invited with the code", func(t *testing.T) {
		a.DB.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error {
			_, err := tx.Exec(`UPDATE events SET status = 'published' WHERE id = ?`, meetingID)
			return err
		})
		rec := cl.PostForm(fuPath(ev.ID, fmt.Sprintf("/seeds/%d/invite", seedID)), url.Values{})
		apptest.Want(t, rec, http.StatusSeeOther)
		mails := fuOutbox(t, a, "introduction_network")
		if len(mails) != 12 {
			t.Fatalf("%d invitations, want 12", len(mails))
		}
		for _, m := range mails {
			for _, want := range []string{meeting.InviteCode, "/events/" + meeting.Slug, "/introductions/stop/"} {
				if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
					t.Errorf("invitation to %s lacks %q", m.To, want)
				}
			}
			if m.To == people[3].email() {
				if !strings.Contains(m.Text, "set the agenda yourselves") {
					t.Errorf("English invitation: %s", m.Text)
				}
			} else if !strings.Contains(m.Text, "Dagsordenen setter dere selv") {
				t.Errorf("invitation lacks the agenda note: %s", m.Text)
			}
			if strings.Contains(m.Text, "+47 900") {
				t.Errorf("invitation shows a phone number")
			}
		}
		apptest.Want(t, cl.PostForm(fuPath(ev.ID, fmt.Sprintf("/seeds/%d/invite", seedID)), url.Values{}), http.StatusConflict)
		apptest.Says(t, cl.Get(fuPath(ev.ID, "")), "Invitasjonene er sendt")
	})
}
