package match

import (
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// popConfig shapes a random population.
type popConfig struct {
	orgShare float64 // organisations per person; lower means more clustering
	metShare float64 // already-met pairs per person
}

var (
	testRegions = []string{"Bergen", "Trondheim", "Stavanger", "Oslo", "Tromsø"}
	testTopics  = []string{"omstilling", "KI i forvaltningen", "rekruttering", "tillitsreformen", "sikkerhet", "samordning"}
	testRoles   = []string{"communication", "administration", "finance", "hr", "it", "specialist",
		"Kommunikasjon", "økonomi", " HR ", "prosjektleder", "Jurist", ""}
)

// genPopulation makes n people with clustered organisations, so that the
// hard rules bite often, and a list of pairs who met before.
func genPopulation(rng *rand.Rand, n int, cfg popConfig) ([]Person, [][2]string) {
	numOrgs := max(1, int(float64(n)*cfg.orgShare))
	orgSector := make([]string, numOrgs)
	for i := range orgSector {
		orgSector[i] = pick(rng, []string{"state", "state", "state", "municipal", "municipal", "private", "private", "other"})
	}
	people := make([]Person, n)
	for i := range people {
		r := rng.Float64()
		o := int(float64(numOrgs) * r * r) // skewed: low numbers are big organisations
		org := fmt.Sprintf("Org %d", o)
		switch rng.IntN(4) {
		case 0:
			org = strings.ToUpper(org)
		case 1:
			org = "  " + strings.ReplaceAll(strings.ToLower(org), " ", "  ") + " "
		}
		sector := orgSector[o]
		if rng.IntN(10) == 0 {
			sector = pick(rng, []string{"state", "municipal", "private", "other"})
		}
		var topics []string
		for range rng.IntN(4) {
			t := pick(rng, testTopics)
			if rng.IntN(3) == 0 {
				t = " " + strings.ToUpper(t)
			}
			topics = append(topics, t)
		}
		region := ""
		if rng.IntN(6) > 0 {
			region = pick(rng, testRegions)
		}
		people[i] = Person{
			ID:           fmt.Sprintf("p%d", i),
			Name:         fmt.Sprintf("Person %d", i),
			Organisation: org,
			Level:        pick(rng, []string{"top", "top", "middle", "middle", "middle", "middle", "first_line", "first_line", "first_line", "other"}),
			Role:         pick(rng, testRoles),
			Sector:       sector,
			Region:       region,
			Topics:       topics,
			Mix:          pick(rng, []string{"", "", "", "", "public_only", "mixed"}),
		}
	}
	var met [][2]string
	if n >= 2 {
		for range int(float64(n) * cfg.metShare) {
			a, b := rng.IntN(n), rng.IntN(n)
			met = append(met, [2]string{people[a].ID, people[b].ID})
		}
	}
	rng.Shuffle(n, func(i, j int) { people[i], people[j] = people[j], people[i] })
	return people, met
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// The reference rules, written independently of the package's code.

func refOrg(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

func refSector(s string) string {
	switch s := refOrg(s); s {
	case "state", "municipal", "private":
		return s
	}
	return ""
}

// refNetworkOK reports whether a and b may share a network seed.
func refNetworkOK(a, b Person) bool {
	if oa := refOrg(a.Organisation); oa != "" && oa == refOrg(b.Organisation) {
		return false
	}
	if refOrg(a.Level) == "top" && refOrg(b.Level) == "top" && refSector(a.Sector) != "" && refSector(a.Sector) == refSector(b.Sector) {
		return false
	}
	publicOnlyVsPrivate := func(x, y Person) bool { return refOrg(x.Mix) == "public_only" && refSector(y.Sector) == "private" }
	return !publicOnlyVsPrivate(a, b) && !publicOnlyVsPrivate(b, a)
}

type metSet map[[2]string]bool

func newMetSet(pairs [][2]string) metSet {
	s := metSet{}
	for _, p := range pairs {
		s[p] = true
		s[[2]string{p[1], p[0]}] = true
	}
	return s
}

// refIntroOK reports whether a and b may share an introduction group.
func refIntroOK(a, b Person, met metSet) bool {
	return refNetworkOK(a, b) && !met[[2]string{a.ID, b.ID}]
}

// checkResult asserts every property Match promises for this input.
func checkResult(t *testing.T, people []Person, opt Options, res Result) {
	t.Helper()
	opt = opt.withDefaults()
	byID := map[string]Person{}
	for _, p := range people {
		byID[p.ID] = p
	}
	met := newMetSet(opt.AlreadyMet)
	ix := index(people, opt.AlreadyMet)
	internal := map[string]int32{}
	for i, p := range ix.ps {
		internal[people[p.src].ID] = int32(i)
	}
	groupScore := func(ids []string) float64 {
		members := make([]int32, len(ids))
		for i, id := range ids {
			members[i] = internal[id]
		}
		return float64(ix.groupScore(members))
	}

	groupOf := map[string]int{}
	for gi, g := range res.Introductions {
		if len(g.Members) < 2 || len(g.Members) > opt.GroupSize+1 {
			t.Errorf("introduction %d has %d members, want 2..%d", gi, len(g.Members), opt.GroupSize+1)
		}
		for i, a := range g.Members {
			if _, ok := byID[a]; !ok {
				t.Fatalf("introduction %d has unknown member %q", gi, a)
			}
			if prev, dup := groupOf[a]; dup {
				t.Errorf("%s is in introductions %d and %d", a, prev, gi)
			}
			groupOf[a] = gi
			for _, b := range g.Members[i+1:] {
				if !refIntroOK(byID[a], byID[b], met) {
					t.Errorf("introduction %d breaks a hard rule: %+v with %+v", gi, byID[a], byID[b])
				}
			}
		}
		if want := groupScore(g.Members); g.Score != want {
			t.Errorf("introduction %d score %v, want sum of pair scores %v", gi, g.Score, want)
		}
		if g.ReasonNB == "" || g.ReasonEN == "" {
			t.Errorf("introduction %d has no reason", gi)
		}
	}

	unplaced := map[string]Unplaced{}
	for _, u := range res.Unplaced {
		if _, dup := unplaced[u.ID]; dup {
			t.Errorf("%s is unplaced twice", u.ID)
		}
		unplaced[u.ID] = u
		if _, placed := groupOf[u.ID]; placed {
			t.Errorf("%s is both placed and unplaced", u.ID)
		}
		if u.ReasonNB == "" || u.ReasonEN == "" {
			t.Errorf("%s is unplaced without a reason", u.ID)
		}
	}
	if len(groupOf)+len(unplaced) != len(people) {
		t.Errorf("%d placed + %d unplaced != %d people", len(groupOf), len(unplaced), len(people))
	}

	// Nobody is left out who could be placed by a simple change: joining a
	// group with room, pairing with another unplaced person, or pairing with a
	// member of a group that stays at two or more. And the reason is true.
	for id, u := range unplaced {
		p := byID[id]
		for gi, g := range res.Introductions {
			fits := true
			for _, q := range g.Members {
				if !refIntroOK(p, byID[q], met) {
					fits = false
					if len(g.Members) >= 3 {
						continue
					}
				} else if len(g.Members) >= 3 {
					t.Errorf("unplaced %s could pair with %s from introduction %d of %d", id, q, gi, len(g.Members))
				}
			}
			if fits && len(g.Members) < opt.GroupSize+1 {
				t.Errorf("unplaced %s could join introduction %d %v", id, gi, g.Members)
			}
		}
		others, sameOrg, compatibleOthers := 0, 0, 0
		for _, q := range people {
			if q.ID == id {
				continue
			}
			others++
			if refOrg(q.Organisation) == refOrg(p.Organisation) && refOrg(p.Organisation) != "" {
				sameOrg++
			}
			if refIntroOK(p, q, met) {
				compatibleOthers++
				if _, alsoUnplaced := unplaced[q.ID]; alsoUnplaced {
					t.Errorf("unplaced %s and %s could form a pair", id, q.ID)
				}
			}
		}
		switch {
		case u.ReasonNB == "Alle andre deltakere er fra samme virksomhet.":
			if sameOrg != others || u.ReasonEN != "All other participants are from the same organisation." {
				t.Errorf("%s: reason %q but %d of %d others are from the same organisation", id, u.ReasonNB, sameOrg, others)
			}
		case strings.HasPrefix(u.ReasonNB, "Alle andre deltakere"):
			if compatibleOthers != 0 {
				t.Errorf("%s: reason %q but %d others are compatible", id, u.ReasonNB, compatibleOthers)
			}
		case strings.HasPrefix(u.ReasonNB, "Du var den eneste"):
			if others != 0 {
				t.Errorf("%s: reason %q but there are %d others", id, u.ReasonNB, others)
			}
		}
	}

	inSeed := map[string]int{}
	for si, s := range res.NetworkSeeds {
		if len(s.Members) < opt.SeedMin || len(s.Members) > opt.SeedMax {
			t.Errorf("seed %d has %d members, want %d..%d", si, len(s.Members), opt.SeedMin, opt.SeedMax)
		}
		level, role := refOrg(byID[s.Members[0]].Level), roleKey(byID[s.Members[0]].Role)
		sameLevel, sameRole := level != "other" && level != "", role != ""
		for i, a := range s.Members {
			if prev, dup := inSeed[a]; dup {
				t.Errorf("%s is in seeds %d and %d", a, prev, si)
			}
			inSeed[a] = si
			sameLevel = sameLevel && refOrg(byID[a].Level) == level
			sameRole = sameRole && roleKey(byID[a].Role) == role
			for _, b := range s.Members[i+1:] {
				if !refNetworkOK(byID[a], byID[b]) {
					t.Errorf("seed %d breaks a hard rule: %+v with %+v", si, byID[a], byID[b])
				}
			}
		}
		if !sameLevel && !sameRole {
			t.Errorf("seed %d shares neither level nor role", si)
		}
		if want := groupScore(s.Members); s.Score != want {
			t.Errorf("seed %d score %v, want %v", si, s.Score, want)
		}
	}
}

func TestMatchProperties(t *testing.T) {
	for seed := range 300 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		n := 1 + rng.IntN(200)
		cfg := popConfig{orgShare: 0.05 + rng.Float64()*0.6, metShare: rng.Float64() * 0.5}
		people, met := genPopulation(rng, n, cfg)
		opt := Options{Seed: int64(seed), AlreadyMet: met}
		if seed%5 == 0 {
			opt.GroupSize = 2 + rng.IntN(4)
			opt.SeedMin, opt.SeedMax = 4+rng.IntN(4), 8+rng.IntN(8)
		}
		t.Run(fmt.Sprintf("seed=%d/n=%d/size=%d", seed, n, opt.GroupSize), func(t *testing.T) {
			res := Match(people, opt)
			checkResult(t, people, opt, res)

			if again := Match(people, opt); !reflect.DeepEqual(res, again) {
				t.Errorf("same input and seed gave a different result")
			}
			shuffled := slices.Clone(people)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			checkResult(t, shuffled, opt, Match(shuffled, opt))
		})
	}
}

func TestMatchSmallAndEdgeCases(t *testing.T) {
	p := func(id, org, level, sector string) Person {
		return Person{ID: id, Organisation: org, Level: level, Sector: sector, Role: "hr"}
	}
	tests := []struct {
		name      string
		people    []Person
		opt       Options
		groups    [][]string
		unplaced  []string
		reasonNB  string // of the first unplaced person, when set
		reasonEN  string
		numGroups int // when groups is nil and >0
	}{
		{name: "nobody", people: nil},
		{name: "one person", people: []Person{p("a", "NAV", "middle", "state")},
			unplaced: []string{"a"}, reasonNB: "Du var den eneste som ønsket å bli introdusert.",
			reasonEN: "You were the only participant who asked to be introduced."},
		{name: "two from different organisations make a pair",
			people: []Person{p("a", "NAV", "middle", "state"), p("b", "Skatteetaten", "middle", "state")},
			groups: [][]string{{"a", "b"}}},
		{name: "same organisation despite case and spaces",
			people:   []Person{p("a", "NAV", "middle", "state"), p("b", "  nav ", "middle", "state"), p("c", "Nav", "first_line", "state")},
			unplaced: []string{"a", "b", "c"}, reasonNB: "Alle andre deltakere er fra samme virksomhet.",
			reasonEN: "All other participants are from the same organisation."},
		{name: "top leaders of one sector are kept apart",
			people:   []Person{p("a", "NAV", "top", "state"), p("b", "Skatteetaten", "top", "state")},
			unplaced: []string{"a", "b"}, reasonNB: "Alle andre deltakere er toppledere i samme sektor.",
			reasonEN: "All other participants are top leaders in the same sector."},
		{name: "top leaders of different sectors meet",
			people: []Person{p("a", "NAV", "top", "state"), p("b", "Bergen kommune", "top", "municipal"), p("c", "Equinor", "top", "private")},
			groups: [][]string{{"a", "b", "c"}}},
		{name: "top leaders of sector other are not kept apart",
			people: []Person{p("a", "NAV", "top", "other"), p("b", "Skatteetaten", "top", "other")},
			groups: [][]string{{"a", "b"}}},
		{name: "already met",
			people:   []Person{p("a", "NAV", "middle", "state"), p("b", "Skatteetaten", "middle", "state")},
			opt:      Options{AlreadyMet: [][2]string{{"b", "a"}}},
			unplaced: []string{"a", "b"}, reasonNB: "Alle andre deltakere er allerede introdusert for deg.",
			reasonEN: "All other participants have already been introduced to you."},
		{name: "public only is never with private",
			people: []Person{
				{ID: "a", Organisation: "NAV", Level: "middle", Sector: "state", Mix: "public_only"},
				{ID: "b", Organisation: "Equinor", Level: "middle", Sector: "private"}},
			unplaced: []string{"a", "b"},
			reasonNB: "Alle andre deltakere er fra privat sektor, og du ønsket bare offentlig sektor.",
			reasonEN: "All other participants are from the private sector, and you asked for the public sector only."},
		{name: "several reasons",
			people: []Person{p("a", "NAV", "top", "state"), p("b", "nav", "middle", "state"), p("c", "Skatteetaten", "top", "state")},
			opt:    Options{AlreadyMet: [][2]string{{"b", "c"}}},
			groups: [][]string{{"a", "b"}, {"b", "c"}}, // only checked for count below
		},
		{name: "duplicate and empty ids are left out",
			people:   []Person{p("a", "NAV", "middle", "state"), p("b", "Skatteetaten", "middle", "state"), p("a", "UiB", "middle", "state"), p(" ", "UiO", "middle", "state")},
			groups:   [][]string{{"a", "b"}},
			unplaced: []string{"a", " "}, reasonNB: "Deltakeren står mer enn én gang i lista.",
			reasonEN: "The participant is listed more than once."},
		{name: "five people make a three and a pair",
			people:    []Person{p("a", "A", "middle", "state"), p("b", "B", "middle", "state"), p("c", "C", "middle", "state"), p("d", "D", "middle", "state"), p("e", "E", "middle", "state")},
			numGroups: 2},
		{name: "four people make one group of four",
			people:    []Person{p("a", "A", "middle", "state"), p("b", "B", "middle", "state"), p("c", "C", "middle", "state"), p("d", "D", "middle", "state")},
			numGroups: 1},
		{name: "eight people make two groups of four, not a pair",
			people: []Person{p("a", "A", "middle", "state"), p("b", "B", "middle", "state"), p("c", "C", "middle", "state"), p("d", "D", "middle", "state"),
				p("e", "E", "middle", "state"), p("f", "F", "middle", "state"), p("g", "G", "middle", "state"), p("h", "H", "middle", "state")},
			numGroups: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Match(tt.people, tt.opt)
			if tt.name != "duplicate and empty ids are left out" {
				checkResult(t, tt.people, tt.opt, res)
			}
			var groups [][]string
			for _, g := range res.Introductions {
				groups = append(groups, g.Members)
			}
			switch {
			case tt.name == "several reasons":
				// a and b share an organisation, a and c are state top
				// leaders, b and c met before: nobody can be grouped.
				if len(groups) != 0 {
					t.Errorf("groups = %v, want none", groups)
				}
				if len(res.Unplaced) != 3 || res.Unplaced[0].ReasonNB != "Alle andre deltakere er fra samme virksomhet eller er toppledere i samme sektor." {
					t.Errorf("unplaced = %+v", res.Unplaced)
				}
				return
			case tt.numGroups > 0:
				if len(groups) != tt.numGroups {
					t.Errorf("groups = %v, want %d groups", groups, tt.numGroups)
				}
			case !reflect.DeepEqual(groups, tt.groups):
				t.Errorf("groups = %v, want %v", groups, tt.groups)
			}
			var unplaced []string
			for _, u := range res.Unplaced {
				unplaced = append(unplaced, u.ID)
			}
			if !reflect.DeepEqual(unplaced, tt.unplaced) {
				t.Errorf("unplaced = %v, want %v", unplaced, tt.unplaced)
			}
			if tt.reasonNB != "" {
				if got := res.Unplaced[0]; got.ReasonNB != tt.reasonNB || got.ReasonEN != tt.reasonEN {
					t.Errorf("reason = %q / %q, want %q / %q", got.ReasonNB, got.ReasonEN, tt.reasonNB, tt.reasonEN)
				}
			}
			if res.Introductions == nil || res.NetworkSeeds == nil || res.Unplaced == nil {
				t.Errorf("nil slices in %+v; want empty ones so JSON has []", res)
			}
		})
	}
}

func TestPairScore(t *testing.T) {
	base := Person{ID: "a", Organisation: "A", Level: "middle", Role: "hr", Sector: "state", Region: "Bergen", Topics: []string{"omstilling", "KI", "rekruttering"}}
	tests := []struct {
		name  string
		other Person
		want  int
	}{
		{"everything shared", Person{Level: "middle", Role: "HR", Sector: "state", Region: " bergen", Topics: []string{"Omstilling", "ki", "rekruttering"}},
			weightSameLevel + weightSameRole + 2*weightTopic + weightRegion},
		{"nothing shared", Person{Level: "top", Role: "communication", Sector: "private", Region: "Oslo"}, weightAdjacentLevel},
		{"adjacent level", Person{Level: "first_line"}, weightAdjacentLevel},
		{"level other never matches", Person{Level: "other"}, 0},
		{"related role", Person{Role: "administrasjon"}, weightRelatedRole},
		{"unrelated role", Person{Role: "it"}, 0},
		{"same free-text role", Person{Role: "hr "}, weightSameRole},
		{"one topic", Person{Topics: []string{" OMSTILLING "}}, weightTopic},
		{"region", Person{Region: "BERGEN"}, weightRegion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.other.ID, tt.other.Organisation = "b", "B"
			ix := index([]Person{base, tt.other}, nil)
			if got := ix.score(0, 1); got != tt.want {
				t.Errorf("score = %d, want %d", got, tt.want)
			}
			if ix.score(0, 1) != ix.score(1, 0) {
				t.Errorf("score is not symmetric")
			}
		})
	}

	t.Run("levels two apart", func(t *testing.T) {
		ix := index([]Person{{ID: "a", Organisation: "A", Level: "top"}, {ID: "b", Organisation: "B", Level: "first_line"}}, nil)
		if got := ix.score(0, 1); got != 0 {
			t.Errorf("top with first-line: %d, want 0", got)
		}
	})
	t.Run("mixed wish", func(t *testing.T) {
		ix := index([]Person{
			{ID: "a", Organisation: "A", Sector: "state", Mix: "mixed"},
			{ID: "b", Organisation: "B", Sector: "private", Mix: "mixed"},
			{ID: "c", Organisation: "C", Sector: "municipal"},
		}, nil)
		if got := ix.score(0, 1); got != 2*weightMixWish {
			t.Errorf("both wishes met: %d, want %d", got, 2*weightMixWish)
		}
		if got := ix.score(0, 2); got != 0 {
			t.Errorf("public with public: %d, want 0", got)
		}
	})
}

func TestReasons(t *testing.T) {
	tests := []struct {
		name   string
		people []Person
		nb, en string
	}{
		{"the example",
			[]Person{{Level: "middle", Role: "hr", Topics: []string{"omstilling", "KI"}}, {Level: "middle", Role: "HR", Topics: []string{"Omstilling"}}, {Level: "middle", Role: "personal", Topics: []string{"omstilling "}}},
			"Dere er alle mellomledere, jobber med HR og foreslo «omstilling».",
			"You are all middle managers, work in HR and suggested “omstilling”."},
		{"a pair says both",
			[]Person{{Level: "top", Role: "finance"}, {Level: "top", Role: "Økonomi og virksomhetsstyring"}},
			"Dere er begge toppledere og jobber med økonomi og virksomhetsstyring.",
			"You are both top leaders and work in finance and performance management."},
		{"role first",
			[]Person{{Level: "top", Role: "it"}, {Level: "middle", Role: "IT"}, {Level: "first_line", Role: "ikt"}},
			"Dere jobber alle med IT og sikkerhet.",
			"You all work in IT and security."},
		{"specialist, topics and region",
			[]Person{{Level: "first_line", Role: "specialist", Region: "Trondheim", Topics: []string{"a", "b"}}, {Level: "first_line", Role: "fagavdeling", Region: "trondheim", Topics: []string{"B", "A"}}},
			"Dere er begge førstelinjeledere, jobber i en fagavdeling, foreslo «a» og «b» og holder til i Trondheim.",
			"You are both first-line managers, work in a specialist department, suggested “a” and “b” and are based in Trondheim."},
		{"region only",
			[]Person{{Level: "top", Region: "Bodø"}, {Level: "other", Region: "Bodø"}, {Region: "bodø"}},
			"Dere holder alle til i Bodø.",
			"You are all based in Bodø."},
		{"topic only",
			[]Person{{Topics: []string{"tillitsreformen"}}, {Topics: []string{"Tillitsreformen"}}},
			"Dere foreslo begge «tillitsreformen».",
			"You both suggested “tillitsreformen”."},
		{"free-text role",
			[]Person{{Level: "middle", Role: "Jurist"}, {Level: "middle", Role: "jurist"}},
			"Dere er begge mellomledere og har rollen «Jurist».",
			"You are both middle managers and have the role “Jurist”."},
		{"related roles",
			[]Person{{Role: "administration"}, {Role: "finance"}, {Role: "administrasjon"}},
			"Dere jobber alle med beslektede fagfelt.",
			"You all work in related fields."},
		{"communication and communication words",
			[]Person{{Level: "middle", Role: "Kommunikasjon"}, {Level: "middle", Role: "communication"}},
			"Dere er begge mellomledere og jobber med kommunikasjon.",
			"You are both middle managers and work in communication."},
		{"nothing shared",
			[]Person{{Level: "top", Role: "hr"}, {Level: "middle", Role: "it"}},
			"Dere kommer fra ulike virksomheter og kan dele erfaringer på tvers.",
			"You come from different organisations and can share experience across them."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			members := make([]int32, len(tt.people))
			for i := range tt.people {
				tt.people[i].ID = fmt.Sprint(i)
				tt.people[i].Organisation = fmt.Sprint("org", i)
				members[i] = int32(i)
			}
			nb, en := index(tt.people, nil).reason(members)
			if nb != tt.nb {
				t.Errorf("nb:\n got %q\nwant %q", nb, tt.nb)
			}
			if en != tt.en {
				t.Errorf("en:\n got %q\nwant %q", en, tt.en)
			}
		})
	}
}

func TestNetworkSeeds(t *testing.T) {
	person := func(i int, level, role, sector string) Person {
		return Person{ID: fmt.Sprint("p", i), Organisation: fmt.Sprint("Org ", i), Level: level, Role: role, Sector: sector}
	}
	t.Run("25 middle HR managers make two seeds", func(t *testing.T) {
		var people []Person
		for i := range 25 {
			people = append(people, person(i, "middle", "hr", "state"))
		}
		res := Match(people, Options{Seed: 3})
		checkResult(t, people, Options{Seed: 3}, res)
		if len(res.NetworkSeeds) != 2 || len(res.NetworkSeeds[0].Members)+len(res.NetworkSeeds[1].Members) != 25 {
			t.Fatalf("seeds = %+v", res.NetworkSeeds)
		}
		if got, want := res.NetworkSeeds[0].ReasonNB, "Dere er alle mellomledere og jobber med HR."; got != want {
			t.Errorf("reason = %q, want %q", got, want)
		}
	})
	t.Run("nine are too few", func(t *testing.T) {
		var people []Person
		for i := range 9 {
			people = append(people, person(i, "middle", "hr", "state"))
		}
		if res := Match(people, Options{}); len(res.NetworkSeeds) != 0 {
			t.Errorf("seeds = %+v, want none", res.NetworkSeeds)
		}
	})
	t.Run("ten from five organisations are too few", func(t *testing.T) {
		var people []Person
		for i := range 10 {
			p := person(i, "middle", "hr", "state")
			p.Organisation = fmt.Sprint("Org ", i%5)
			people = append(people, p)
		}
		if res := Match(people, Options{}); len(res.NetworkSeeds) != 0 {
			t.Errorf("seeds = %+v, want none", res.NetworkSeeds)
		}
	})
	t.Run("state top leaders cannot form a seed", func(t *testing.T) {
		var people []Person
		for i := range 30 {
			people = append(people, person(i, "top", "hr", "state"))
		}
		if res := Match(people, Options{}); len(res.NetworkSeeds) != 0 {
			t.Errorf("seeds = %+v, want none", res.NetworkSeeds)
		}
	})
	t.Run("mixed roles at one level make a level seed", func(t *testing.T) {
		var people []Person
		for i := range 12 {
			people = append(people, person(i, "first_line", knownRoles[i%len(knownRoles)], "municipal"))
		}
		res := Match(people, Options{})
		if len(res.NetworkSeeds) != 1 || len(res.NetworkSeeds[0].Members) != 12 {
			t.Fatalf("seeds = %+v", res.NetworkSeeds)
		}
		if got, want := res.NetworkSeeds[0].ReasonEN, "You are all first-line managers."; got != want {
			t.Errorf("reason = %q, want %q", got, want)
		}
	})
}

func TestMatchLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large population")
	}
	rng := rand.New(rand.NewPCG(5000, 1))
	people, met := genPopulation(rng, 5000, popConfig{orgShare: 0.2, metShare: 0.3})
	opt := Options{Seed: 1, AlreadyMet: met}
	res := Match(people, opt)
	checkResult(t, people, opt, res)
	t.Logf("5000 people: %d introductions, %d seeds, %d unplaced", len(res.Introductions), len(res.NetworkSeeds), len(res.Unplaced))
}

// A dominant organisation leaves many people unplaceable, which once made
// the repair step cubic in the number of people.
func TestMatchDominantOrganisation(t *testing.T) {
	var people []Person
	for i := range 1000 {
		org := "Big"
		if i%5 >= 3 {
			org = fmt.Sprint("Org ", i)
		}
		people = append(people, Person{ID: fmt.Sprint(i), Organisation: org, Level: "middle", Sector: "state"})
	}
	res := Match(people, Options{})
	checkResult(t, people, Options{}, res)
	// 400 people from other organisations can each take one from Big.
	if placed := len(people) - len(res.Unplaced); placed != 800 {
		t.Errorf("placed %d, want 800", placed)
	}
	if got := res.Unplaced[0].ReasonEN; !strings.HasPrefix(got, "No group had room for you") {
		t.Errorf("reason = %q", got)
	}
}

// optimum finds the best partition of a small population by dynamic
// programming over subsets: the lowest-numbered person of a set is either
// left out or in one valid group with others of the set.
func optimum(people []Person, opt Options) objective {
	opt = opt.withDefaults()
	n := len(people)
	met := newMetSet(opt.AlreadyMet)
	ix := index(people, opt.AlreadyMet)
	cost := sizeCosts(opt.GroupSize)
	type group struct {
		mask int
		val  objective
	}
	byLowest := make([][]group, n)
	for mask := 1; mask < 1<<n; mask++ {
		size := popcount(mask)
		if size < 2 || size > opt.GroupSize+1 {
			continue
		}
		var members []int32
		for i := range n {
			if mask&(1<<i) != 0 {
				members = append(members, int32(i))
			}
		}
		ok := true
		for i, a := range members {
			for _, b := range members[i+1:] {
				ok = ok && refIntroOK(people[a], people[b], met)
			}
		}
		if ok {
			low := int(members[0])
			byLowest[low] = append(byLowest[low], group{mask, sizedObjective(size, crossPairs(ix, members), ix.groupScore(members), opt.GroupSize, cost)})
		}
	}
	best := make([]objective, 1<<n)
	for mask := 1; mask < 1<<n; mask++ {
		low := 0
		for mask&(1<<low) == 0 {
			low++
		}
		b := best[mask&^(1<<low)]
		for _, g := range byLowest[low] {
			if g.mask&mask != g.mask {
				continue
			}
			rest := best[mask&^g.mask]
			cand := objective{rest.placed + g.val.placed, rest.under + g.val.under, rest.cross + g.val.cross,
				rest.over + g.val.over, rest.score + g.val.score}
			if cand.better(b) {
				b = cand
			}
		}
		best[mask] = b
	}
	return best[1<<n-1]
}

func sizedObjective(size, cross, score, groupSize int, cost []int) objective {
	o := objective{placed: size, cross: cross, score: score}
	o.sized(size, groupSize, cost)
	return o
}

func popcount(x int) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// crossPairs counts the pairs of members at different known levels.
func crossPairs(ix *indexed, members []int32) int {
	x := 0
	for i, a := range members {
		for _, b := range members[i+1:] {
			la, lb := ix.ps[a].level, ix.ps[b].level
			if la != lb && la != lvOther && lb != lvOther {
				x++
			}
		}
	}
	return x
}

func achieved(people []Person, res Result, groupSize int) objective {
	cost := sizeCosts(groupSize)
	ix := index(people, nil)
	internal := map[string]int32{}
	for i, p := range ix.ps {
		internal[people[p.src].ID] = int32(i)
	}
	var o objective
	for _, g := range res.Introductions {
		members := make([]int32, len(g.Members))
		for i, id := range g.Members {
			members[i] = internal[id]
		}
		o.placed += len(g.Members)
		o.cross += crossPairs(ix, members)
		o.sized(len(g.Members), groupSize, cost)
		o.score += int(g.Score)
	}
	return o
}

func TestMatchQuality(t *testing.T) {
	runs := 200
	if n := qualityRuns(); n > 0 {
		runs = n
	}
	sum, worst, trivial := 0.0, 1.0, 0
	for run := range runs {
		rng := rand.New(rand.NewPCG(uint64(run), 12))
		n := 2 + rng.IntN(11)
		people, met := genPopulation(rng, n, popConfig{orgShare: 0.5 + rng.Float64()*1.5, metShare: rng.Float64() * 0.3})
		opt := Options{Seed: int64(run), AlreadyMet: met}
		if run%4 == 0 {
			opt.GroupSize = 2 + rng.IntN(3)
		}
		res := Match(people, opt)
		got := achieved(people, res, opt.withDefaults().GroupSize)
		want := optimum(people, opt)
		if got.placed != want.placed || got.under != want.under || got.cross != want.cross || got.over != want.over {
			t.Errorf("run %d (n=%d, size %d): placed %d, undersized cost %d, %d cross-level pairs, %d oversized; optimum %d, %d, %d, %d",
				run, n, opt.withDefaults().GroupSize, got.placed, got.under, got.cross, got.over, want.placed, want.under, want.cross, want.over)
		}
		if want.score == 0 {
			trivial++ // nobody can be grouped, or every group scores 0
			continue
		}
		ratio := float64(got.score) / float64(want.score)
		if ratio > 1 {
			t.Errorf("run %d: score %d beats the optimum %d: the optimum search is wrong", run, got.score, want.score)
		}
		if ratio < 0.85 {
			t.Errorf("run %d (n=%d): score %d is %.2f of the optimum %d", run, n, got.score, ratio, want.score)
		}
		sum += ratio
		worst = min(worst, ratio)
	}
	scored := runs - trivial
	avg := sum / float64(scored)
	t.Logf("score / optimum over %d populations of 2..12 people with a positive optimum (%d more had none): average %.4f, minimum %.4f",
		scored, trivial, avg, worst)
	if scored < runs/2 {
		t.Errorf("only %d of %d populations could be scored: the generator is too clustered", scored, runs)
	}
	if avg < 0.95 {
		t.Errorf("average ratio %.4f < 0.95", avg)
	}
}

// qualityRuns reads MOTEPLASS_QUALITY_RUNS, to run the quality check on more
// populations than the default by hand.
func qualityRuns() int {
	n := 0
	fmt.Sscan(os.Getenv("MOTEPLASS_QUALITY_RUNS"), &n)
	return n
}
