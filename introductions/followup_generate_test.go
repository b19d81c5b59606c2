package introductions_test

// Generating a proposal: who takes part (consent and attendance), who
// withdrew before approval, and not before the event has ended.

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/introductions"
)

func TestFollowupTakesConsentedAttendees(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.DemoLogin(t, a.Router, fuOrganiser)

	t.Run("attendance taken: consented and checked in only", func(t *testing.T) {
		ev := fuEvent(t, a, "dfo", 3*time.Hour)
		ids := fuRegister(t, a, ev.ID,
			fuPerson{Name: "Ada Inne", Org: "Skatteetaten", Consent: true, CheckedIn: true},
			fuPerson{Name: "Berit Utensamtykke", Org: "NAV", Consent: false, CheckedIn: true},
			fuPerson{Name: "Cecilie Ikkemøtt", Org: "Kystverket", Consent: true, CheckedIn: false},
			fuPerson{Name: "Dag Inne", Org: "Husbanken", Consent: true, CheckedIn: true},
		)
		page := cl.Get(fuPath(ev.ID, ""))
		apptest.Want(t, page, http.StatusOK)
		apptest.Says(t, page, "2 deltakere var til stede og har sagt ja", "Lag forslag til introduksjoner")
		if n := fuCount(t, a, `SELECT COUNT(*) FROM intro_rounds WHERE event_id = ?`, ev.ID); n != 0 {
			t.Fatalf("a GET made a round")
		}
		fuGenerate(t, cl, ev.ID)
		groups := fuGroups(t, a, ev.ID, introductions.KindIntro)
		if g := fuGroupOf(groups, ids[0]); g == 0 || fuGroupOf(groups, ids[3]) != g {
			t.Errorf("the two who agreed and came are not grouped: %v", groups)
		}
		for _, i := range []int{1, 2} {
			if fuGroupOf(groups, ids[i]) != 0 {
				t.Errorf("registration %d is in a group: %v", i, groups)
			}
		}
		page = cl.Get(fuPath(ev.ID, ""))
		apptest.Says(t, page, "Ada Inne", "Dag Inne", "Gruppe 1")
		apptest.DoesNotSay(t, page, "Berit Utensamtykke", "Cecilie Ikkemøtt")
	})

	t.Run("no attendance taken: consented with a confirmed place", func(t *testing.T) {
		ev := fuEvent(t, a, "dfo", 3*time.Hour)
		ids := fuRegister(t, a, ev.ID,
			fuPerson{Name: "Eli Bekreftet", Org: "Skatteetaten", Consent: true},
			fuPerson{Name: "Frode Bekreftet", Org: "NAV", Consent: true},
			fuPerson{Name: "Gro Venteliste", Org: "Kystverket", Consent: true, Status: "waiting"},
			fuPerson{Name: "Hans Avmeldt", Org: "Husbanken", Consent: true, Status: "cancelled"},
			fuPerson{Name: "Ivar Utensamtykke", Org: "Lånekassen", Consent: false},
			fuPerson{Name: "Jorunn Bekreftet", Org: "Statens vegvesen", Consent: true},
		)
		page := cl.Get(fuPath(ev.ID, ""))
		apptest.Says(t, page, "Det ble ikke registrert oppmøte", "3 av dem har sagt ja")
		fuGenerate(t, cl, ev.ID)
		groups := fuGroups(t, a, ev.ID, introductions.KindIntro)
		for i, want := range []bool{true, true, false, false, false, true} {
			if got := fuGroupOf(groups, ids[i]) != 0; got != want {
				t.Errorf("registration %d grouped = %v, want %v", i, got, want)
			}
		}
	})

	t.Run("withdrawn before approval: dropped, nothing about them sent", func(t *testing.T) {
		ev := fuEvent(t, a, "dfo", 3*time.Hour)
		ids := fuRegister(t, a, ev.ID,
			fuPerson{Name: "Kari Blir", Org: "Skatteetaten", Consent: true, Topics: "Tillit"},
			fuPerson{Name: "Lars Trekker", Org: "NAV", Consent: true, Topics: "Hemmelig tema"},
			fuPerson{Name: "Mona Blir", Org: "Kystverket", Consent: true},
			fuPerson{Name: "Nils Blir", Org: "Husbanken", Consent: true},
		)
		fuGenerate(t, cl, ev.ID)
		if g := fuGroupOf(fuGroups(t, a, ev.ID, introductions.KindIntro), ids[1]); g == 0 {
			t.Fatal("Lars is in no group before he withdraws")
		}
		// Lars unticks the box on his manage page (registration/ does this
		// with a consent row; the follow-up only reads intro_consent).
		if err := a.DB.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error {
			_, err := tx.Exec(`UPDATE registrations SET intro_consent = 0 WHERE id = ?`, ids[1])
			return err
		}); err != nil {
			t.Fatal(err)
		}
		page := cl.Get(fuPath(ev.ID, ""))
		apptest.Says(t, page, "1 person i forslaget har trukket samtykket")
		confirm := cl.Get(fuPath(ev.ID, "/approve"))
		apptest.Want(t, confirm, http.StatusOK)
		apptest.Says(t, confirm, "3 e-poster går ut", "1 person har trukket samtykket")
		before := len(fuOutbox(t, a, "introduction"))
		fuApprove(t, cl, ev.ID)
		mails := fuOutbox(t, a, "introduction")[before:]
		if len(mails) != 3 {
			t.Fatalf("%d emails, want 3 (not to Lars)", len(mails))
		}
		for _, m := range mails {
			if m.To == "lars.trekker@fu.example.no" {
				t.Errorf("Lars got an introduction")
			}
			for _, body := range []string{m.Text, m.HTML} {
				if strings.Contains(body, "Lars") || strings.Contains(body, "Hemmelig tema") || strings.Contains(body, "lars.trekker") {
					t.Errorf("an email to %s tells about Lars", m.To)
				}
			}
		}
		if g := fuGroupOf(fuGroups(t, a, ev.ID, introductions.KindIntro), ids[1]); g != 0 {
			t.Errorf("Lars is still in group %d after the round was sent", g)
		}
	})

	t.Run("before the event has ended: refused", func(t *testing.T) {
		ev := fuEvent(t, a, "dfo", -2*time.Hour)
		fuRegister(t, a, ev.ID, fuPerson{Name: "Ole Snart", Org: "A", Consent: true}, fuPerson{Name: "Per Snart", Org: "B", Consent: true})
		page := cl.Get(fuPath(ev.ID, ""))
		apptest.Says(t, page, "når arrangementet er over")
		apptest.DoesNotSay(t, page, "Lag forslag til introduksjoner")
		rec := cl.PostForm(fuPath(ev.ID, ""), url.Values{})
		apptest.Want(t, rec, http.StatusConflict)
		apptest.Says(t, rec, "når arrangementet er over")
	})
}
