// Package match groups attendees who agreed to be introduced, and proposes
// network seeds an organiser can turn into a network series. Package
// introductions stores its proposals and sends them; "moteplass match" runs
// it on people given as JSON or CSV (ReadJSON, ReadCSV).
//
// Match is a pure function: no I/O, no clock, no global state. The same
// people in the same order with the same Options.Seed give the same Result.
//
// Hard rules, never broken in an introduction group:
//   - no two people from the same organisation (compared trimmed, with inner
//     white space collapsed and case-folded; an empty organisation is unknown
//     and conflicts with nobody);
//   - no two top leaders from the same sector (state, municipal or private;
//     "other" and an empty sector are unknown and conflict with nobody);
//   - nobody who asked for a public-sector-only group (Mix "public_only") is
//     grouped with someone from the private sector. This is hard, not a soft
//     penalty: the person was asked and answered, and the research note's
//     advice is to ask, not assume;
//   - nobody is grouped with someone they were introduced to before
//     (Options.AlreadyMet).
//
// Network seeds follow the first three rules; having met before is no reason
// to keep people out of the same network.
//
// Soft preferences are a pair score (integers, so comparisons are exact):
//
//	same leader level (top, middle, first_line)       10
//	adjacent levels (top-middle, middle-first_line)    2
//	same role                                          6
//	related role (administration with finance, HR, IT) 3
//	each shared topic, at most two counted             2
//	same region                                        2
//	a "mixed" wish met (public with private), each     1
//
// A group's score is the sum of its pair scores.
//
// Group sizes run from 2 to GroupSize+1. Among partitions, Match prefers, in
// this order: more people placed; then no group smaller than GroupSize,
// measured by a size cost per group (GroupSize-1: 3, each step smaller: 4
// more), so pairs appear only where the numbers or the hard rules demand
// them; then fewer pairs of leaders at different levels (top, middle,
// first_line; "other" and unknown mix with anyone), so levels share a group
// only where a level cannot fill groups of GroupSize or GroupSize+1 of its
// own (the research note's peers at the same level first; such a group's
// reason says so); then fewer groups of GroupSize+1; then a higher total
// score.
//
// The algorithm is a greedy construction (hardest-to-place people first, ties
// broken by a PCG generator seeded from Options.Seed; each joins the open
// group with the fewest leaders of another level, then where they score
// best; every other attempt first gives each level that fills groups of
// its own those groups) followed by repair (place the left-over people
// by insertion, by new groups among themselves, by ejecting a member to
// another group, or by splitting a pair off a group) and local improvement
// (moves and swaps between groups, merges of small groups, and swapping a
// left-out person for a group member) until no step improves the objective
// above. Populations of up to 800 people get several such attempts (32 up
// to 25 people, 8 at 100), later ones from perturbed orders, and the best is
// kept: single swaps are often blocked by the hard rules in small populations.
// Pair scores are precomputed in a byte matrix up to 6,000 people.
package match

import "math/rand/v2"

// Options tune Match. The zero value is usable.
type Options struct {
	// Seed makes the result reproducible: same people, same order, same seed,
	// same result.
	Seed int64
	// GroupSize is the preferred size of an introduction group; 0 means 3.
	// It is clamped to 2..10.
	GroupSize int
	// SeedMin and SeedMax bound a network seed; 0 means 10 and 20.
	SeedMin, SeedMax int
	// AlreadyMet lists pairs of person IDs introduced before (in either
	// order); they are never put in the same introduction group.
	AlreadyMet [][2]string
}

// Result is the outcome of Match.
type Result struct {
	Introductions []Group    `json:"introductions"`
	NetworkSeeds  []Group    `json:"network_seeds"`
	Unplaced      []Unplaced `json:"unplaced"`
}

// Group is an introduction group or a proposed network seed.
type Group struct {
	Members  []string `json:"members"` // person IDs, in input order
	Score    float64  `json:"score"`
	ReasonNB string   `json:"reason_nb"`
	ReasonEN string   `json:"reason_en"`
	// MixedLevels is set when the group has leaders of different known
	// levels, which Match does only where a level cannot fill groups of
	// its own; the reason then says so.
	MixedLevels bool `json:"mixed_levels"`
}

// Unplaced is a person who could not be put in any introduction group.
type Unplaced struct {
	ID       string `json:"id"`
	ReasonNB string `json:"reason_nb"`
	ReasonEN string `json:"reason_en"`
}

// Match groups people for introductions and proposes network seeds.
func Match(people []Person, opt Options) Result {
	opt = opt.withDefaults()
	res := Result{Introductions: []Group{}, NetworkSeeds: []Group{}, Unplaced: []Unplaced{}}
	ix := index(people, opt.AlreadyMet)
	rng := rand.New(rand.NewPCG(uint64(opt.Seed), 0x6d6f7465706c6173)) // "moteplas"

	// Small populations get several attempts, the best kept: local search
	// reaches a local optimum, and a few restarts are cheap there.
	ix.buildMatrix()
	var m *matcher
	for attempt := range attempts(len(ix.ps)) {
		try := newMatcher(ix, opt.GroupSize, rng)
		try.run(attempt)
		if m == nil || try.objective().better(m.objective()) {
			m = try
		}
	}

	unplacedAt := map[int]Unplaced{}
	for _, u := range ix.skipped {
		unplacedAt[u.src] = u.Unplaced
	}
	for _, p := range m.pending {
		unplacedAt[ix.ps[p].src] = m.whyUnplaced(p)
	}
	for _, g := range m.sortedGroups() {
		res.Introductions = append(res.Introductions, ix.group(g))
	}
	for _, g := range buildSeeds(ix, opt.SeedMin, opt.SeedMax, rng) {
		res.NetworkSeeds = append(res.NetworkSeeds, ix.group(g))
	}
	for i := range people {
		if u, ok := unplacedAt[i]; ok {
			res.Unplaced = append(res.Unplaced, u)
		}
	}
	return res
}

// attempts is how many times Match builds the introductions for n people.
func attempts(n int) int {
	return min(max(800/max(n, 1), 1), 32)
}

// objective is what the introductions optimise, in order: people placed
// (more is better); the size cost of groups smaller than GroupSize (less);
// pairs at different leader levels (fewer); groups of GroupSize+1 (fewer);
// score (more). So leaders of different levels share a group only where
// the people of a level cannot fill groups of GroupSize or GroupSize+1 of
// their own, and a group is made smaller to keep levels apart only where
// they cannot.
type objective struct{ placed, under, cross, over, score int }

func (a objective) better(b objective) bool {
	switch {
	case a.placed != b.placed:
		return a.placed > b.placed
	case a.under != b.under:
		return a.under < b.under
	case a.cross != b.cross:
		return a.cross < b.cross
	case a.over != b.over:
		return a.over < b.over
	}
	return a.score > b.score
}

// sized adds a group of size s to o's size costs.
func (o *objective) sized(s, groupSize int, cost []int) {
	if s < groupSize {
		o.under += cost[s]
	} else {
		o.over += cost[s]
	}
}

func (m *matcher) objective() objective {
	var o objective
	for _, g := range m.groups {
		if len(g) > 0 {
			o.placed += len(g)
			o.sized(len(g), m.size, m.sizeCost)
		}
	}
	for p := range m.ps {
		if m.groupOf[p] >= 0 {
			o.score += m.own[p]
			o.cross += m.ownX[p]
		}
	}
	o.score /= 2
	o.cross /= 2
	return o
}

func (o Options) withDefaults() Options {
	if o.GroupSize == 0 {
		o.GroupSize = 3
	}
	o.GroupSize = min(max(o.GroupSize, 2), 10)
	if o.SeedMin <= 0 {
		o.SeedMin = 10
	}
	if o.SeedMax <= 0 {
		o.SeedMax = 20
	}
	o.SeedMin = max(o.SeedMin, 2)
	o.SeedMax = max(o.SeedMax, o.SeedMin)
	return o
}
