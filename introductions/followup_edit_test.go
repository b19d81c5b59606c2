package introductions_test

// The organiser's edits under the hard rules, regenerating, approval and
// the emails it queues (only what people agreed to share), and the pairs
// introduced before kept apart at the next event.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/introductions"
)

// fuSix are six people who make two groups of three: Anne and Bjørn work
// at the same agency, Cato and Dina are top leaders in the state.
var fuSix = []fuPerson{
	{Name: "Anne Aas", Org: "Skatteetaten", Role: "HR-sjef", Level: "middle", Topics: "Rekruttering", Consent: true,
		Phone: "+47 911 22 333", Dietary: "Kosher-ABC", Accessibility: "Teleslynge-XYZ"},
	{Name: "Bjørn Berg", Org: "Skatteetaten", Role: "HR-sjef", Level: "middle", Topics: "Rekruttering", Consent: true,
		Phone: "+47 922 33 444", Dietary: "Glutenfri-DEF"},
	{Name: "Cato Dahl", Org: "Kystverket", Role: "Direktør", Level: "top", Topics: "Omstilling", Consent: true},
	{Name: "Dina Eide", Org: "Husbanken", Role: "Direktør", Level: "top", Topics: "Omstilling", Consent: true, Lang: "en"},
	{Name: "Eva Fjeld", Org: "Bergen kommune", Role: "Kommunalsjef", Level: "middle", Sector: "municipal", Topics: "Samarbeid stat og kommune", Consent: true},
	{Name: "Finn Gran", Org: "Sparebanken Vest", Role: "IT-sjef", Level: "first_line", Sector: "private", Topics: "KI i praksis", Consent: true},
}

func TestFollowupOrganiserEditsAndApproval(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.DemoLogin(t, a.Router, fuOrganiser)
	ev := fuEvent(t, a, "dfo", 24*time.Hour)
	ids := fuRegister(t, a, ev.ID, fuSix...)
	anne, bjorn, cato, dina, eva, finn := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]
	fuGenerate(t, cl, ev.ID)

	groups := fuGroups(t, a, ev.ID, introductions.KindIntro)
	if len(groups) != 2 {
		t.Fatalf("groups %v, want two of three", groups)
	}
	for g, ms := range groups {
		if len(ms) != 3 {
			t.Fatalf("group %d has %d members, want 3: %v", g, len(ms), groups)
		}
	}
	page := cl.Get(fuPath(ev.ID, ""))
	apptest.Want(t, page, http.StatusOK)
	apptest.Says(t, page, "Gruppe 1", "Gruppe 2", "Anne Aas", "Skatteetaten", "HR-sjef", "Mellomleder", "Toppleder", "Dere ")

	t.Run("a move that would put one organisation together is refused", func(t *testing.T) {
		rec := cl.PostForm(fuPath(ev.ID, "/move"), url.Values{"registration": {fmt.Sprint(anne)}, "group": {fmt.Sprint(fuGroupOf(groups, bjorn))}})
		apptest.Want(t, rec, http.StatusConflict)
		apptest.Says(t, rec, "Anne Aas ble ikke flyttet: Bjørn Berg", "samme virksomhet")
		if got := fuGroups(t, a, ev.ID, introductions.KindIntro); fuGroupOf(got, anne) != fuGroupOf(groups, anne) {
			t.Errorf("Anne moved anyway")
		}
	})

	t.Run("a move that would put two top leaders of one sector together is refused", func(t *testing.T) {
		rec := cl.PostForm(fuPath(ev.ID, "/move"), url.Values{"registration": {fmt.Sprint(cato)}, "group": {fmt.Sprint(fuGroupOf(groups, dina))}})
		apptest.Want(t, rec, http.StatusConflict)
		apptest.Says(t, rec, "Cato Dahl ble ikke flyttet: Dina Eide", "toppleder i samme sektor")
	})

	t.Run("a move within the rules is made", func(t *testing.T) {
		from := fuGroupOf(groups, finn)
		var to int64
		for g := range groups {
			if g != from {
				to = g
			}
		}
		rec := cl.PostForm(fuPath(ev.ID, "/move"), url.Values{"registration": {fmt.Sprint(finn)}, "group": {fmt.Sprint(to)}})
		apptest.Want(t, rec, http.StatusSeeOther)
		apptest.Says(t, cl.Follow(rec), "Personen er flyttet")
		got := fuGroups(t, a, ev.ID, introductions.KindIntro)
		if fuGroupOf(got, finn) != to || len(got[to]) != 4 || len(got[from]) != 2 {
			t.Errorf("after the move: %v", got)
		}
		if n := fuCount(t, a, `SELECT edited FROM intro_groups WHERE id = ?`, to); n != 1 {
			t.Errorf("the group is not marked edited")
		}
	})

	t.Run("a person can be taken out of a group", func(t *testing.T) {
		got := fuGroups(t, a, ev.ID, introductions.KindIntro)
		rec := cl.PostForm(fuPath(ev.ID, "/remove"), url.Values{"registration": {fmt.Sprint(eva)}})
		apptest.Want(t, rec, http.StatusSeeOther)
		after := fuGroups(t, a, ev.ID, introductions.KindIntro)
		if fuGroupOf(after, eva) != 0 || len(after[fuGroupOf(got, eva)]) != len(got[fuGroupOf(got, eva)])-1 {
			t.Errorf("after removing Eva: %v", after)
		}
		page := cl.Follow(rec)
		apptest.Says(t, page, "Personen er tatt ut av gruppen", "Ikke med i noen gruppe (1)", "Eva Fjeld", "Tatt ut av arrangøren")
	})

	t.Run("regenerating makes a new proposal with a new seed", func(t *testing.T) {
		var seed int64
		a.DB.Read().QueryRow(`SELECT seed FROM intro_rounds WHERE event_id = ?`, ev.ID).Scan(&seed)
		rec := cl.PostForm(fuPath(ev.ID, "/regenerate"), url.Values{})
		apptest.Want(t, rec, http.StatusSeeOther)
		var seed2 int64
		a.DB.Read().QueryRow(`SELECT seed FROM intro_rounds WHERE event_id = ?`, ev.ID).Scan(&seed2)
		if seed2 == seed {
			t.Errorf("the seed did not change")
		}
		groups = fuGroups(t, a, ev.ID, introductions.KindIntro)
		if len(groups) != 2 || fuGroupOf(groups, eva) == 0 {
			t.Errorf("after regenerating: %v", groups)
		}
		if n := fuCount(t, a, `SELECT COUNT(*) FROM intro_left_out l JOIN intro_rounds r ON r.id = l.round_id WHERE r.event_id = ?`, ev.ID); n != 0 {
			t.Errorf("%d left out after regenerating", n)
		}
		metrics := httptest.NewRecorder()
		a.Router.ServeHTTP(metrics, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if !strings.Contains(metrics.Body.String(), "moteplass_matching_runs_total 2") {
			t.Errorf("matching runs not counted: %s", regexp.MustCompile(`(?m)^moteplass_matching.*$`).FindString(metrics.Body.String()))
		}
	})

	t.Run("approval sends one email per member with only what they agreed to share", func(t *testing.T) {
		confirm := cl.Get(fuPath(ev.ID, "/approve"))
		apptest.Want(t, confirm, http.StatusOK)
		apptest.Says(t, confirm, "6 e-poster går ut, én til hver person i 2 grupper", "Ja, send 6 e-poster")
		if n := len(fuOutbox(t, a, "introduction")); n != 0 {
			t.Fatalf("%d emails before approval", n)
		}
		rec := cl.PostForm(fuPath(ev.ID, "/approve"), url.Values{})
		apptest.Want(t, rec, http.StatusSeeOther)
		apptest.Says(t, cl.Follow(rec), "Introduksjonene er sendt")

		mails := fuOutbox(t, a, "introduction")
		if len(mails) != 6 {
			t.Fatalf("%d emails, want 6", len(mails))
		}
		byEmail := map[string]fuPerson{}
		idOf := map[string]int64{}
		for i, p := range fuSix {
			byEmail[p.email()] = p
			idOf[p.email()] = ids[i]
		}
		for _, m := range mails {
			me, ok := byEmail[m.To]
			if !ok {
				t.Fatalf("email to a stranger %s", m.To)
			}
			if m.ReplyTo != ev.Organiser.ContactEmail {
				t.Errorf("reply-to %q", m.ReplyTo)
			}
			if me.Lang == "en" && !strings.HasPrefix(m.Subject, "Meet other leaders from") {
				t.Errorf("English reader got subject %q", m.Subject)
			}
			if me.Lang != "en" && !strings.HasPrefix(m.Subject, "Møt andre ledere fra") {
				t.Errorf("subject %q", m.Subject)
			}
			group := groups[fuGroupOf(groups, idOf[m.To])]
			for email, other := range byEmail {
				inGroup := slices.Contains(group, idOf[email]) && email != m.To
				for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
					for _, shared := range []string{other.Name, other.Role, other.Topics, email} {
						if inGroup && !strings.Contains(body, shared) {
							t.Errorf("%s part to %s lacks %q of %s", part, m.To, shared, other.Name)
						}
					}
					if inGroup && !strings.Contains(body, strings.ReplaceAll(other.Org, "&", "&amp;")) {
						t.Errorf("%s part to %s lacks the organisation of %s", part, m.To, other.Name)
					}
					if !inGroup && email != m.To && strings.Contains(body, other.Name) {
						t.Errorf("%s part to %s names %s of another group", part, m.To, other.Name)
					}
					for _, private := range []string{other.Phone, other.Dietary, other.Accessibility} {
						if private != "" && strings.Contains(body, private) {
							t.Errorf("%s part to %s shows %q", part, m.To, private)
						}
					}
					for _, never := range []string{"Mellomleder", "Toppleder", "Førstelinjeleder", "mellomledere", "toppledere",
						"middle", "first_line", "municipal", "Middle manager", "Top leader", "Ledernivå", "Sektor", "sector"} {
						if strings.Contains(body, never) {
							t.Errorf("%s part to %s shows level or sector (%q)", part, m.To, never)
						}
					}
				}
			}
			for _, want := range []string{"Hvorfor dere:", "/introductions/stop/"} {
				if me.Lang != "en" && !strings.Contains(m.Text, want) {
					t.Errorf("text to %s lacks %q", m.To, want)
				}
			}
			if me.Lang == "en" && !strings.Contains(m.Text, "Why you:") {
				t.Errorf("English text lacks the reason")
			}
			if !strings.HasPrefix(m.Dedupe, "introduction:") {
				t.Errorf("dedupe key %q", m.Dedupe)
			}
		}
	})

	t.Run("after approval nothing can be changed or sent again", func(t *testing.T) {
		rec := cl.PostForm(fuPath(ev.ID, "/move"), url.Values{"registration": {fmt.Sprint(finn)}, "group": {"new"}})
		apptest.Want(t, rec, http.StatusConflict)
		apptest.Says(t, rec, "allerede sendt")
		apptest.Want(t, cl.PostForm(fuPath(ev.ID, "/approve"), url.Values{}), http.StatusConflict)
		apptest.Want(t, cl.PostForm(fuPath(ev.ID, "/regenerate"), url.Values{}), http.StatusConflict)
		// a second click on "generate" changes nothing
		apptest.Want(t, cl.PostForm(fuPath(ev.ID, ""), url.Values{}), http.StatusConflict)
		if n := len(fuOutbox(t, a, "introduction")); n != 6 {
			t.Errorf("%d emails after the second tries", n)
		}
		page := cl.Get(fuPath(ev.ID, ""))
		apptest.Says(t, page, "Introduksjonene er sendt", "0 av 2")
		apptest.DoesNotSay(t, page, "Flytt til")
	})

	t.Run("people introduced before are kept apart at the next event", func(t *testing.T) {
		next := fuEvent(t, a, "dfo", time.Hour)
		// Anne and Cato were in a group or not; take two who were.
		var pair []fuPerson
		for _, ms := range groups {
			for _, id := range ms[:2] {
				pair = append(pair, fuSix[slices.Index(ids, id)])
			}
			break
		}
		nids := fuRegister(t, a, next.ID, pair[0], pair[1],
			fuPerson{Name: "Ny Person En", Org: "Lånekassen", Consent: true},
			fuPerson{Name: "Ny Person To", Org: "Statens vegvesen", Consent: true})
		for range 3 {
			fuGenerate(t, cl, next.ID)
			got := fuGroups(t, a, next.ID, introductions.KindIntro)
			if g := fuGroupOf(got, nids[0]); g != 0 && g == fuGroupOf(got, nids[1]) {
				t.Fatalf("%s and %s were introduced again: %v", pair[0].Name, pair[1].Name, got)
			}
			apptest.Want(t, cl.PostForm(fuPath(next.ID, "/regenerate"), url.Values{}), http.StatusSeeOther)
		}
	})
}
