package match

// The search for introduction groups. A matcher is one attempt: it builds
// groups greedily (this file), places who is left over (repair.go) and
// improves the groups by local search (improve.go).

import (
	"cmp"
	"math/rand/v2"
	"slices"
)

// matcher builds the introduction groups.
type matcher struct {
	*indexed
	rng      *rand.Rand
	size     int   // preferred group size
	hi       int   // largest group
	cost     []int // size cost by group size, for the search's steps (stepCosts)
	sizeCost []int // size cost by group size (sizeCosts)
	groups   [][]int32
	groupOf  []int32 // -1: not placed
	own      []int   // a person's summed pair score with the rest of their group
	ownX     []int   // how many in the rest of their group are at another level (see crossLevel)
	pending  []int32 // not placed, in the order they are handled
	// pendingGrouped is set when groupPending found no more groups among the
	// pending people, and cleared when someone joins them.
	pendingGrouped bool

	// Change log for the local search: a person whose own group is unchanged
	// since they were last examined only needs to look at groups changed since.
	log      []int32
	groupLog []int
	seenLog  []int
	mark     []int
	epoch    int
}

func newMatcher(ix *indexed, size int, rng *rand.Rand) *matcher {
	n := len(ix.ps)
	m := &matcher{indexed: ix, rng: rng, size: size, hi: size + 1, cost: stepCosts(size), sizeCost: sizeCosts(size),
		groupOf: make([]int32, n), own: make([]int, n), ownX: make([]int, n), seenLog: make([]int, n)}
	for i := range m.groupOf {
		m.groupOf[i] = -1
	}
	return m
}

// fit returns p's summed pair score with the members of g other than skip,
// and whether p may join them.
func (m *matcher) fit(p int32, g []int32, skip int32) (int, bool) {
	s := 0
	for _, q := range g {
		if q == skip || q == p {
			continue
		}
		v, ok := m.pair(p, q)
		if !ok {
			return 0, false
		}
		s += v
	}
	return s, true
}

// crossLevel is 1 when i and j are at different known leader levels:
// such a pair counts against a grouping before its size cost does.
func (m *matcher) crossLevel(i, j int32) int {
	a, b := m.ps[i].level, m.ps[j].level
	if a != b && a != lvOther && b != lvOther {
		return 1
	}
	return 0
}

// fitX is how many members of g other than skip are at another level than p.
func (m *matcher) fitX(p int32, g []int32, skip int32) int {
	x := 0
	for _, q := range g {
		if q != skip && q != p {
			x += m.crossLevel(p, q)
		}
	}
	return x
}

// plan returns the group sizes for n people with the lowest size cost,
// preferring fewer groups on ties.
func (m *matcher) plan(n int) []int {
	if n < 2 {
		return nil
	}
	const inf = 1 << 30
	best := make([]int, n+1)
	count := make([]int, n+1)
	last := make([]int, n+1)
	for i := 1; i <= n; i++ {
		best[i] = inf
		for s := m.hi; s >= 2; s-- {
			if s > i || best[i-s] == inf {
				continue
			}
			c, k := best[i-s]+m.cost[s], count[i-s]+1
			if c < best[i] || c == best[i] && k < count[i] {
				best[i], count[i], last[i] = c, k, s
			}
		}
	}
	var sizes []int
	for i := n; i > 0; i -= last[i] {
		sizes = append(sizes, last[i])
	}
	slices.Sort(sizes)
	slices.Reverse(sizes)
	return sizes
}

// levelPlan returns the target sizes of the greedy's groups and the level
// of each: a level whose people fill groups of GroupSize or GroupSize+1
// gets groups of its own (tagged with the level); the rest, level "other"
// and the levels too few for that, share the groups that plan(n) has
// beyond those (tagged lvOther), sized by plan. Who finds no
// room is placed by repair, where they add the fewest cross-level pairs.
func (m *matcher) levelPlan() (targets []int, tags []int8) {
	var count [lvFirstLine + 1]int
	for i := range m.ps {
		count[m.ps[i].level]++
	}
	rest := count[lvOther]
	for lv := lvTop; lv <= lvFirstLine; lv++ {
		sizes := m.plan(count[lv])
		if len(sizes) == 0 || sizes[len(sizes)-1] < m.size {
			rest += count[lv]
			continue
		}
		for _, s := range sizes {
			targets = append(targets, s)
			tags = append(tags, lv)
		}
	}
	sizes := m.plan(rest)
	for _, s := range sizes[:max(0, min(len(sizes), len(m.plan(len(m.ps)))-len(targets)))] {
		targets = append(targets, s)
		tags = append(tags, lvOther)
	}
	return targets, tags
}

// difficulty estimates how many others a person cannot be grouped with.
func (m *matcher) difficulty() []int {
	orgs := map[int32]int{}
	topSector := [4]int{}
	privates, publicOnly := 0, 0
	for i := range m.ps {
		p := &m.ps[i]
		orgs[p.org]++
		if p.level == lvTop {
			topSector[p.sector]++
		}
		if p.private {
			privates++
		}
		if p.publicOnly {
			publicOnly++
		}
	}
	d := make([]int, len(m.ps))
	for i := range m.ps {
		p := &m.ps[i]
		d[i] = orgs[p.org] - 1 + len(p.met)
		if p.level == lvTop && p.sector != secOther {
			d[i] += topSector[p.sector] - 1
		}
		if p.publicOnly {
			d[i] += privates
		}
		if p.private {
			d[i] += publicOnly
		}
	}
	return d
}

// maxConflictClass is a lower bound on the number of groups needed to place
// everyone: one organisation, or the top leaders of one sector, can have at
// most one member per group.
func (m *matcher) maxConflictClass() int {
	orgs := map[int32]int{}
	topSector := [4]int{}
	most := 0
	for i := range m.ps {
		p := &m.ps[i]
		orgs[p.org]++
		most = max(most, orgs[p.org])
		if p.level == lvTop && p.sector != secOther {
			topSector[p.sector]++
			most = max(most, topSector[p.sector])
		}
	}
	return most
}

func (m *matcher) run(attempt int) {
	n := len(m.ps)
	if n == 0 {
		return
	}
	m.greedy(attempt)
	m.repair()
	m.improve()
	for m.repair() {
		m.improve()
	}
}

// greedy puts people, hardest first, into the open group where they score
// best. Later attempts blur "hardest first" with noise, or drop it, so that
// restarts explore different starting points.
func (m *matcher) greedy(attempt int) {
	n := len(m.ps)
	// Every other attempt starts from groups by level; the rest from
	// groups by size alone, which the local search then sorts by level.
	var targets []int
	var tags []int8
	if attempt%2 == 0 {
		targets, tags = m.levelPlan()
	} else {
		targets = m.plan(n)
		tags = make([]int8, len(targets))
	}
	if lb := min(m.maxConflictClass(), n/2); lb > len(targets) {
		tags = make([]int8, lb)
		targets = make([]int, lb)
		for i := range targets {
			targets[i] = n / lb
			if i < n%lb {
				targets[i]++
			}
		}
	}
	m.groups = make([][]int32, len(targets))
	m.groupLog = make([]int, len(targets))
	for i := range m.groups {
		m.groups[i] = make([]int32, 0, m.hi)
	}
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	m.rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	d := m.difficulty()
	switch {
	case attempt == 0:
	case attempt%2 == 1:
		for i := range d {
			d[i] += m.rng.IntN(d[i] + 2)
		}
	default:
		clear(d)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(d[b], d[a]) })

	// First everyone into the groups of their level (levels that fill
	// groups of their own have them), then who is left into any open group.
	open := make([]int, len(targets))
	for i := range open {
		open[i] = i
	}
	var later []int32
	for pass := range 2 {
		for _, p := range order {
			// The open group with the fewest members at another level, then
			// the best score, then the smallest.
			best, bestScore := -1, -1<<62
			for k, gi := range open {
				if pass == 0 && tags[gi] != m.ps[p].level {
					continue
				}
				s, ok := m.fit(p, m.groups[gi], -1)
				if !ok {
					continue
				}
				s -= levelStep * m.fitX(p, m.groups[gi], -1)
				if s > bestScore || s == bestScore && len(m.groups[gi]) < len(m.groups[open[best]]) {
					best, bestScore = k, s
				}
			}
			if best < 0 {
				if pass == 0 {
					later = append(later, p)
				} else {
					m.pending = append(m.pending, p)
				}
				continue
			}
			gi := open[best]
			m.groups[gi] = append(m.groups[gi], p)
			m.groupOf[p] = int32(gi)
			if len(m.groups[gi]) >= targets[gi] {
				open[best] = open[len(open)-1]
				open = open[:len(open)-1]
			}
		}
		order = later
	}
	// A group the greedy could fill with one person only is no group.
	for gi, g := range m.groups {
		if len(g) == 1 {
			m.groupOf[g[0]] = -1
			m.pending = append(m.pending, g[0])
			m.groups[gi] = m.groups[gi][:0]
		}
	}
	for gi := range m.groups {
		m.touch(gi)
	}
}

// touch records that group gi changed and refreshes its members' scores.
func (m *matcher) touch(gi int) {
	m.log = append(m.log, int32(gi))
	m.groupLog[gi] = len(m.log)
	g := m.groups[gi]
	for _, p := range g {
		m.own[p], _ = m.fit(p, g, p)
		m.ownX[p] = m.fitX(p, g, p)
	}
}

func (m *matcher) newGroup(members ...int32) {
	gi := len(m.groups)
	g := make([]int32, 0, m.hi)
	g = append(g, members...)
	m.groups = append(m.groups, g)
	m.groupLog = append(m.groupLog, 0)
	for _, p := range members {
		m.groupOf[p] = int32(gi)
	}
	m.touch(gi)
}

func (m *matcher) add(p int32, gi int) {
	m.groups[gi] = append(m.groups[gi], p)
	m.groupOf[p] = int32(gi)
}

func (m *matcher) remove(p int32, gi int) {
	g := m.groups[gi]
	i := slices.Index(g, p)
	g[i] = g[len(g)-1]
	m.groups[gi] = g[:len(g)-1]
	m.groupOf[p] = -1
}

// better reports whether a step that changes the size cost and cross-level
// pairs by dc (m.cost plus levelStep per cross-level pair; see stepCosts)
// and the score by ds beats the best so far.
func better(dc, ds, bestDC, bestDS int) bool {
	return dc < bestDC || dc == bestDC && ds > bestDS
}

// sortedGroups returns the groups, members in input order, groups by their
// first member.
func (m *matcher) sortedGroups() [][]int32 {
	var out [][]int32
	for _, g := range m.groups {
		if len(g) == 0 {
			continue
		}
		g = slices.Clone(g)
		slices.Sort(g)
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b []int32) int { return cmp.Compare(a[0], b[0]) })
	return out
}
