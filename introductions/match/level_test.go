package match

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// levelMix is a population's share of each leader level.
type levelMix struct {
	name                string
	top, middle, firstL float64
	roles               []string // nil: testRoles
}

var levelMixes = []levelMix{
	{"20/50/30", 0.2, 0.5, 0.3, nil},
	{"thirds", 0.34, 0.33, 0.33, nil},
	{"mostly middle", 0.1, 0.8, 0.1, nil},
	{"few top", 0.02, 0.58, 0.4, nil},
	{"top heavy", 0.6, 0.2, 0.2, nil},
	// Few roles, topics and regions shared across levels: where "same
	// role" once outscored "same level".
	{"20/50/30, two roles", 0.2, 0.5, 0.3, []string{"hr", "it"}},
}

var levelNames = []string{"top", "middle", "first_line"}

// genLevelPopulation makes n people of the given level mix, each from an
// organisation of their own within their level; the same organisation
// recurs across levels (a top leader and a middle manager of one agency),
// so the organisation rule still bites between levels. Top leaders' sectors
// are random, so the same-sector rule can leave top leaders who cannot be
// grouped with each other.
func genLevelPopulation(rng *rand.Rand, n int, mix levelMix) []Person {
	people := make([]Person, n)
	perLevel := map[string]int{}
	roles := mix.roles
	if roles == nil {
		roles = testRoles
	}
	for i := range people {
		level := "first_line"
		switch r := rng.Float64(); {
		case r < mix.top:
			level = "top"
		case r < mix.top+mix.middle:
			level = "middle"
		}
		k := perLevel[level]
		perLevel[level]++
		var topics []string
		for range rng.IntN(3) {
			topics = append(topics, pick(rng, testTopics))
		}
		people[i] = Person{
			ID:           fmt.Sprintf("p%d", i),
			Organisation: fmt.Sprintf("Org %d", k),
			Level:        level,
			Role:         pick(rng, roles),
			Sector:       pick(rng, []string{"state", "municipal", "private", "other"}),
			Region:       pick(rng, testRegions),
			Topics:       topics,
		}
	}
	return people
}

// levelFillsGroups reports whether the people of one level can all be put
// in introduction groups of 3 or 4 (GroupSize 3, no group smaller) among
// themselves, given the hard rules of genLevelPopulation: organisations
// are distinct within a level, so only the top leaders' sector rule limits
// it. g groups of 3 or 4 hold n people when 3g <= n <= 4g; a sector can
// have one top leader in each, and "other" any number, so it also takes no
// sector with more than g (deal each sector round-robin over the groups,
// which leaves at most three in each, and fill up with "other").
func levelFillsGroups(people []Person, level string) bool {
	n, most := 0, 0
	sectors := map[string]int{}
	for _, p := range people {
		if p.Level != level {
			continue
		}
		n++
		if level == "top" && p.Sector != "other" {
			sectors[p.Sector]++
			most = max(most, sectors[p.Sector])
		}
	}
	lo := max((n+3)/4, most, 1)
	return lo <= n/3
}

// levelPairs counts an introduction result's pairs of known levels: all,
// and those at the same level.
func levelPairs(people []Person, res Result) (all, same int) {
	level := map[string]string{}
	for _, p := range people {
		if l := refOrg(p.Level); l == "top" || l == "middle" || l == "first_line" {
			level[p.ID] = l
		}
	}
	for _, g := range res.Introductions {
		for i, a := range g.Members {
			for _, b := range g.Members[i+1:] {
				la, lb := level[a], level[b]
				if la == "" || lb == "" {
					continue
				}
				all++
				if la == lb {
					same++
				}
			}
		}
	}
	return all, same
}

// Same-level groups dominate: leaders are grouped across levels only when
// the people of a level cannot fill groups of 3 or 4 of their own, and then
// every mixed group holds someone of such a level. When every level can
// fill groups, every pair shares a level, and no group is smaller than 3.
func TestMatchLevelFirst(t *testing.T) {
	const runsPerMix = 40
	totalAll, totalSame := 0, 0
	for _, mix := range levelMixes {
		mixAll, mixSame, filled := 0, 0, 0
		for run := range runsPerMix {
			rng := rand.New(rand.NewPCG(uint64(run), 31))
			n := 6 + rng.IntN(250)
			people := genLevelPopulation(rng, n, mix)
			opt := Options{Seed: int64(run), GroupSize: 3}
			res := Match(people, opt)
			checkResult(t, people, opt, res)

			fills := map[string]bool{}
			allFill := true
			for _, l := range levelNames {
				fills[l] = levelFillsGroups(people, l)
				allFill = allFill && fills[l]
			}
			byID := map[string]Person{}
			for _, p := range people {
				byID[p.ID] = p
			}
			for gi, g := range res.Introductions {
				levels := map[string]bool{}
				for _, id := range g.Members {
					levels[byID[id].Level] = true
				}
				if len(levels) < 2 {
					continue
				}
				short := false
				for l := range levels {
					short = short || !fills[l]
				}
				if !short {
					t.Errorf("%s run %d (n=%d): introduction %d mixes levels %v, and each of them can fill groups of its own",
						mix.name, run, n, gi, levels)
				}
			}
			all, same := levelPairs(people, res)
			if allFill {
				filled++
				for gi, g := range res.Introductions {
					if len(g.Members) < 3 {
						t.Errorf("%s run %d (n=%d): introduction %d has %d members; every level fills groups of 3 or 4",
							mix.name, run, n, gi, len(g.Members))
					}
				}
				if same != all {
					t.Errorf("%s run %d (n=%d): %d of %d pairs share a level; every level can fill groups, so all should",
						mix.name, run, n, same, all)
				}
			}
			mixAll += all
			mixSame += same
		}
		t.Logf("%-14s %d populations (%d where every level fills groups): %.1f%% of pairs share a level",
			mix.name, runsPerMix, filled, 100*float64(mixSame)/float64(mixAll))
		totalAll += mixAll
		totalSame += mixSame
	}
	t.Logf("all mixes: %.1f%% of %d pairs share a level", 100*float64(totalSame)/float64(totalAll), totalAll)
}

// The random populations of the other tests (clustered organisations,
// already-met pairs, public-only wishes, level "other"): the share of pairs
// at the same level, for the README.
func TestMatchLevelShareRandom(t *testing.T) {
	all, same := 0, 0
	for seed := range 100 {
		rng := rand.New(rand.NewPCG(uint64(seed), 32))
		n := 20 + rng.IntN(400)
		people, met := genPopulation(rng, n, popConfig{orgShare: 0.2 + rng.Float64()*0.6, metShare: rng.Float64() * 0.3})
		res := Match(people, Options{Seed: int64(seed), AlreadyMet: met})
		a, s := levelPairs(people, res)
		all += a
		same += s
	}
	share := float64(same) / float64(all)
	t.Logf("random populations: %.1f%% of %d pairs of known levels share a level", 100*share, all)
	if share < 0.95 {
		t.Errorf("only %.1f%% of pairs share a level", 100*share)
	}
}
