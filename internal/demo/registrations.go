package demo

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/registration"
	"github.com/moteplass/moteplass/templates"
)

// demoPlan says who has signed up for which demo event: the Bergen
// breakfast on psychological safety is nearly full, the Tromsø breakfast is
// full with a waiting list, a few others have some registrations.
var demoPlan = []struct {
	slug      string
	confirmed int
	waiting   int
	roles     []int // indexes into demoRoles; empty: any
}{
	{"tid-for-ledelse-bergen-psykologisk-trygghet", 37, 0, nil},
	{"frokostmote-beredskap-i-nord", 50, 5, nil},
	{"tid-for-ledelse-bergen-kunstig-intelligens", 14, 0, nil},
	{"ledermoteplass-nord-rekruttering", 21, 0, []int{5, 6, 1}},
	{"administrasjonssjefer-stavanger-mote-1", 11, 0, []int{3}},
	{"ledermoteplass-bergen-tillitsreform", 26, 0, nil},
}

type demoOrg struct {
	name, domain, sector, region string
}

var demoOrgs = []demoOrg{
	{"Skatteetaten", "skatteetaten", "state", "Bergen"},
	{"NAV Vestland", "nav", "state", "Bergen"},
	{"Statens vegvesen", "vegvesen", "state", "Bergen"},
	{"Fiskeridirektoratet", "fiskeridir", "state", "Bergen"},
	{"Havforskningsinstituttet", "hi", "state", "Bergen"},
	{"Statsforvalteren i Vestland", "statsforvalteren", "state", "Bergen"},
	{"Bergen kommune", "bergen.kommune", "municipal", "Bergen"},
	{"Vestland fylkeskommune", "vlfk", "municipal", "Bergen"},
	{"Universitetet i Bergen", "uib", "state", "Bergen"},
	{"Sparebanken Vest", "spv", "private", "Bergen"},
	{"UiT Norges arktiske universitet", "uit", "state", "Tromsø"},
	{"Tromsø kommune", "tromso.kommune", "municipal", "Tromsø"},
	{"Troms fylkeskommune", "tromsfylke", "municipal", "Tromsø"},
	{"Kystverket", "kystverket", "state", "Tromsø"},
	{"Politiet, Troms politidistrikt", "politiet", "state", "Tromsø"},
	{"Statsforvalteren i Troms og Finnmark", "sftf", "state", "Tromsø"},
	{"Sokkeldirektoratet", "sodir", "state", "Stavanger"},
	{"Sjøfartsdirektoratet", "sdir", "state", "Stavanger"},
	{"Havindustritilsynet", "havtil", "state", "Stavanger"},
	{"Statsforvalteren i Rogaland", "sfro", "state", "Stavanger"},
	{"Stavanger kommune", "stavanger.kommune", "municipal", "Stavanger"},
	{"Helsedirektoratet", "helsedir", "state", "Oslo"},
	{"Digitaliseringsdirektoratet", "digdir", "state", "Oslo"},
	{"Husbanken", "husbanken", "state", "Bodø"},
}

var demoRoles = []struct{ title, level string }{
	{"Direktør", "top"},
	{"Avdelingsdirektør", "middle"},
	{"Seksjonssjef", "middle"},
	{"Administrasjonssjef", "top"},
	{"Kommunikasjonssjef", "middle"},
	{"HR-direktør", "top"},
	{"HR-sjef", "middle"},
	{"Økonomisjef", "middle"},
	{"IT-sjef", "middle"},
	{"Kontorsjef", "first_line"},
	{"Teamleder", "first_line"},
	{"Fagleder", "first_line"},
	{"Kommunaldirektør", "top"},
	{"Enhetsleder", "first_line"},
	{"Spesialrådgiver", "other"},
}

var demoFirst = []string{"Kari", "Ola", "Ingrid", "Lars", "Solveig", "Bjørn", "Åse", "Håkon", "Marit", "Øystein",
	"Sigrid", "Jørgen", "Ragnhild", "Tor Erik", "Astrid", "Geir", "Hanne", "Pål", "Liv", "Morten", "Kjersti", "Espen",
	"Tone", "Anders", "Guro", "Per-Olav", "Mari", "Knut", "Eirin", "Trond", "Silje", "Arne", "Nina", "Vegard",
	"Randi", "Stian", "Hilde", "Ståle", "Line", "Dag"}

var demoLast = []string{"Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
	"Jensen", "Karlsen", "Berg", "Haugen", "Hagen", "Johnsen", "Eide", "Solberg", "Bakken", "Dahl", "Sæther",
	"Strøm", "Lunde", "Lie", "Myklebust", "Aasen", "Bø", "Kvamme", "Rønning", "Vik", "Østby", "Brekke", "Fjeld",
	"Hovland", "Midtbø", "Skjæveland", "Tønnessen", "O'Brien", "Ødegård", "Nygård"}

var demoTopics = []string{"", "", "Hvordan bygger vi tillit i en ledergruppe som er i omstilling?", "",
	"Samarbeid mellom stat og kommune i regionen", "", "Ledelse av hybride team", "",
	"Rekruttering av kompetanse utenfor de store byene", "", "Hvordan tar vi i bruk KI på en trygg måte?", ""}

var demoDietary = []string{"", "", "", "Vegetar", "", "", "Glutenfri", "", "", "", "Laktoseintolerant", ""}

// Registrations is a Load step: realistic registrations (names with æ, ø, å,
// hyphens and apostrophes; directorates and municipalities; every level and
// sector; some who agreed to introductions) with example.no addresses.
func Registrations(ctx context.Context, tx *sql.Tx, now time.Time, w *World) error {
	cat, err := web.LoadCatalogue(templates.FS, "locales")
	if err != nil {
		return err
	}
	person := 0
	for _, plan := range demoPlan {
		ev, ok := w.Events[plan.slug]
		if !ok {
			return fmt.Errorf("demo: event %s is missing", plan.slug)
		}
		n := plan.confirmed + plan.waiting
		// sign-ups came in over the last weeks, the waiting list last
		start := now.Add(-time.Duration(n) * 7 * time.Hour)
		if ev.EndsAt.Before(now) {
			start = ev.StartsAt.Add(-time.Duration(n+24) * 7 * time.Hour)
		}
		seen := map[string]bool{}
		for i := 0; i < n; i++ {
			r := demoPerson(person, ev.Region.Name, plan.roles)
			person += 7 // people differ between events, some come back
			for seen[r.EmailNorm] {
				r = demoPerson(person, ev.Region.Name, plan.roles)
				person++
			}
			seen[r.EmailNorm] = true
			at := start.Add(time.Duration(i) * 7 * time.Hour).UTC().Truncate(time.Second)
			r.EventID, r.CreatedAt, r.UpdatedAt, r.QueuedAt = ev.ID, at, at, at
			r.Status = registration.StatusConfirmed
			if i >= plan.confirmed {
				r.Status = registration.StatusWaiting
			}
			if err := registration.Seed(ctx, tx, &r, registration.WordingsIn(cat, r.Lang)); err != nil {
				return err
			}
		}
	}
	return nil
}

// demoPerson is the i-th demo person, working in or near region.
func demoPerson(i int, region string, roles []int) registration.Registration {
	first := demoFirst[i%len(demoFirst)]
	last := demoLast[(i/len(demoFirst)+i*3)%len(demoLast)]
	var orgs []demoOrg
	for _, o := range demoOrgs {
		if o.region == region {
			orgs = append(orgs, o)
		}
	}
	if len(orgs) == 0 {
		orgs = demoOrgs
	}
	org := orgs[(i/3)%len(orgs)]
	ri := i % len(demoRoles)
	if len(roles) > 0 {
		ri = roles[i%len(roles)]
	}
	role := demoRoles[ri]
	switch {
	case org.sector == "municipal" && role.level == "top":
		role = demoRoles[12] // kommunaldirektør
	case org.sector != "municipal" && role.title == "Kommunaldirektør":
		role = demoRoles[0] // a municipal title only in a municipality
	}
	r := registration.Registration{Lang: "nb", Details: registration.Details{
		Name: first + " " + last, Organisation: org.name, Role: role.title, Level: role.level, Sector: org.sector,
		Region: region, Topics: demoTopics[i%len(demoTopics)], Dietary: demoDietary[i%len(demoDietary)],
		IntroConsent: i%3 != 0,
	}}
	r.HealthConsent = r.HasNeeds()
	if i%4 == 0 {
		r.Phone = fmt.Sprintf("9%02d %02d %03d", (i*37)%100, (i*13)%100, (i*71)%1000)
	}
	if i%17 == 5 {
		r.Lang = "en"
	}
	r.Email = fmt.Sprintf("%s.%s@%s.example.no", demoASCII(first), demoASCII(last), org.domain)
	r.EmailNorm = registration.NormalizeEmail(r.Email)
	return r
}

// demoASCII writes a name the way it appears in an address.
func demoASCII(s string) string {
	s = strings.ToLower(s)
	s = strings.NewReplacer("æ", "ae", "ø", "o", "å", "aa", " ", "-", "'", "").Replace(s)
	return s
}
