package introductions_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/app/apptest"
)

// TestNextStepFollowsTheFollowUp: the event's page and the organiser's
// home say where the follow-up stands, and the line moves with it: how
// many agreed and "propose", then "review and send", then "sent"; before
// the event ends, or with too few who agreed, nothing to do.
func TestNextStepFollowsTheFollowUp(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.DemoLogin(t, a.Router, fuOrganiser)
	upcoming := fuEvent(t, a, "dfo", -24*time.Hour) // ends tomorrow
	fuRegister(t, a, upcoming.ID, fuPerson{Name: "Ola Snart", Org: "NAV", Consent: true}, fuPerson{Name: "Kari Snart", Org: "Skatteetaten", Consent: true})
	lonely := fuEvent(t, a, "dfo", 3*time.Hour)
	fuRegister(t, a, lonely.ID, fuPerson{Name: "Eva Alene", Org: "NAV", Consent: true}, fuPerson{Name: "Per Nei", Org: "Kystverket"})
	ev := fuEvent(t, a, "dfo", 3*time.Hour)
	fuRegister(t, a, ev.ID,
		fuPerson{Name: "Ada Ja", Org: "Skatteetaten", Consent: true},
		fuPerson{Name: "Berit Ja", Org: "NAV", Consent: true},
		fuPerson{Name: "Cato Nei", Org: "Husbanken"},
	)
	admin := func(id int64) string { return "/admin/events/" + strconv.FormatInt(id, 10) }

	apptest.DoesNotSay(t, cl.Get(admin(upcoming.ID)), "Etter arrangementet")
	apptest.Says(t, cl.Get(admin(lonely.ID)), "1 av 2 sa ja til å bli introdusert, for få til introduksjoner")

	steps := []struct {
		do   func()
		says string
	}{
		{func() {}, "2 av 3 sa ja til å bli introdusert: foreslå introduksjoner"},
		{func() { fuGenerate(t, cl, ev.ID) }, "Forslaget til introduksjoner er klart: se over og send"},
		{func() { fuApprove(t, cl, ev.ID) }, "Introduksjonene ble sendt"},
	}
	for _, s := range steps {
		s.do()
		page := cl.Get(admin(ev.ID))
		apptest.Says(t, page, "Etter arrangementet", s.says)
		apptest.Says(t, cl.Get("/admin"), s.says)
	}
	apptest.Says(t, cl.Get("/admin?lang=en"), "The introductions were sent")
}
