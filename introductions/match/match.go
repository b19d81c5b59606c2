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
// this order: more people placed; then sizes close to GroupSize, measured by
// a size cost per group (GroupSize: 0, GroupSize+1: 1, GroupSize-1: 3, each
// step smaller: 4 more), so pairs appear only where the numbers or the hard
// rules demand them; then a higher total score.
//
// The algorithm is a greedy construction (hardest-to-place people first, ties
// broken by a PCG generator seeded from Options.Seed; each joins the open
// group where they score best) followed by repair (place the left-over people
// by insertion, by new groups among themselves, by ejecting a member to
// another group, or by splitting a pair off a group) and local improvement
// (moves and swaps between groups, merges of small groups, and swapping a
// left-out person for a group member) until no step improves the objective
// above. Populations of up to 200 people get several such attempts (16 up
// to 25 people, 4 at 100), later ones from perturbed orders, and the best is
// kept: single swaps are often blocked by the hard rules in small populations.
// Pair scores are precomputed in a byte matrix up to 6,000 people.
package match

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strings"
)

// Leader levels, sectors and mix wishes as stored in registrations.
const (
	LevelTop       = "top"
	LevelMiddle    = "middle"
	LevelFirstLine = "first_line"
	LevelOther     = "other"

	SectorState     = "state"
	SectorMunicipal = "municipal"
	SectorPrivate   = "private"
	SectorOther     = "other"

	MixPublicOnly = "public_only"
	MixMixed      = "mixed"
)

// Pair score weights; see the package comment.
const (
	weightSameLevel     = 10
	weightAdjacentLevel = 2
	weightSameRole      = 6
	weightRelatedRole   = 3
	weightTopic         = 2
	maxTopicsCounted    = 2
	weightRegion        = 2
	weightMixWish       = 1
)

// Person is an attendee who agreed to be introduced.
type Person struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Organisation string   `json:"organisation"`
	Level        string   `json:"level"`  // top, middle, first_line, other
	Role         string   `json:"role"`   // communication, administration, finance, hr, it, specialist or free text
	Sector       string   `json:"sector"` // state, municipal, private, other
	Region       string   `json:"region"`
	Topics       []string `json:"topics"`
	Mix          string   `json:"mix,omitempty"` // "", public_only, mixed
}

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
	return min(max(400/max(n, 1), 1), 16)
}

// objective is what the introductions optimise, in order: people placed
// (more is better), size cost (less), score (more).
type objective struct{ placed, cost, score int }

func (a objective) better(b objective) bool {
	if a.placed != b.placed {
		return a.placed > b.placed
	}
	if a.cost != b.cost {
		return a.cost < b.cost
	}
	return a.score > b.score
}

func (m *matcher) objective() objective {
	var o objective
	for _, g := range m.groups {
		if len(g) > 0 {
			o.placed += len(g)
			o.cost += m.cost[len(g)]
		}
	}
	for p := range m.ps {
		if m.groupOf[p] >= 0 {
			o.score += m.own[p]
		}
	}
	o.score /= 2
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

// normalise trims, collapses inner white space and case-folds s.
func normalise(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

const (
	lvOther int8 = iota
	lvTop
	lvMiddle
	lvFirstLine
)

const (
	secOther int8 = iota
	secState
	secMunicipal
	secPrivate
)

func parseLevel(s string) int8 {
	switch normalise(s) {
	case LevelTop:
		return lvTop
	case LevelMiddle:
		return lvMiddle
	case LevelFirstLine:
		return lvFirstLine
	}
	return lvOther
}

func parseSector(s string) int8 {
	switch normalise(s) {
	case SectorState:
		return secState
	case SectorMunicipal:
		return secMunicipal
	case SectorPrivate:
		return secPrivate
	}
	return secOther
}

// The known roles, in the order of the registration form.
var knownRoles = []string{"communication", "administration", "finance", "hr", "it", "specialist"}

// roleSynonyms maps normalised role words people type to a known role.
var roleSynonyms = map[string]string{
	"communication": "communication", "kommunikasjon": "communication", "comms": "communication",
	"administration": "administration", "administrasjon": "administration", "admin": "administration",
	"finance": "finance", "økonomi": "finance", "økonomi og virksomhetsstyring": "finance",
	"virksomhetsstyring": "finance", "finance and performance management": "finance",
	"hr": "hr", "personal": "hr", "hr og personal": "hr", "human resources": "hr",
	"it": "it", "ikt": "it", "it og sikkerhet": "it", "it and security": "it", "it-sikkerhet": "it",
	"specialist": "specialist", "fag": "specialist", "fagavdeling": "specialist",
	"specialist department": "specialist",
}

// relatedRoles are pairs of known roles that work closely together:
// administration leaders usually oversee finance, HR and IT.
var relatedRoles = [][2]string{{"administration", "finance"}, {"administration", "hr"}, {"administration", "it"}}

const numKnownRoles = 6

// related[a][b] reports whether known roles a and b (indexes in knownRoles)
// are related.
var related = func() (t [numKnownRoles][numKnownRoles]bool) {
	for _, r := range relatedRoles {
		a, b := slices.Index(knownRoles, r[0]), slices.Index(knownRoles, r[1])
		t[a][b], t[b][a] = true, true
	}
	return t
}()

// roleKey is the normalised role: a known role when the text names one,
// otherwise the normalised free text ("" when empty).
func roleKey(s string) string {
	n := normalise(s)
	if k, ok := roleSynonyms[n]; ok {
		return k
	}
	return n
}

// person is a Person prepared for fast comparisons.
type person struct {
	src        int   // index in the input
	org        int32 // interned organisation; unique when unknown
	level      int8
	sector     int8
	role       int32 // interned role key; -1 when empty
	known      int8  // index in knownRoles; -1 when free text or empty
	region     int32 // interned region; -1 when empty
	topicMask  uint64
	topics     []int32 // interned topics, sorted, unique
	met        []int32 // people met before, sorted
	publicOnly bool
	private    bool
	public     bool
	wantsMix   bool
}

type skippedPerson struct {
	src int
	Unplaced
}

// indexed holds the prepared people and the texts to show in reasons.
type indexed struct {
	in      []Person
	ps      []person
	skipped []skippedPerson
	roles   []string // display text by role id
	regions []string // display text by region id
	topics  []string // display text by topic id

	// mat holds the pair score of i and j at i*len(ps)+j, or forbidden when
	// they may not share an introduction group. Built for populations up to
	// matrixLimit people (36 MB); above it, pairs are computed when needed.
	mat []uint8
}

const (
	forbidden   = 255
	matrixLimit = 6000
)

// buildMatrix precomputes every pair, which makes the local search about
// twenty times faster than computing pairs from the people.
func (ix *indexed) buildMatrix() {
	n := len(ix.ps)
	if n > matrixLimit {
		return
	}
	ix.mat = make([]uint8, n*n)
	for i := range n {
		a := &ix.ps[i]
		row := ix.mat[i*n : (i+1)*n]
		row[i] = forbidden
		for j := i + 1; j < n; j++ {
			b := &ix.ps[j]
			if !allowed(a, b) || metBefore(a, b, int32(j)) {
				row[j] = forbidden
			} else {
				row[j] = uint8(pairScore(a, b))
			}
		}
	}
	// Mirror the upper triangle in blocks, which keeps the writes in cache.
	const block = 64
	for bi := 0; bi < n; bi += block {
		for bj := bi; bj < n; bj += block {
			for i := bi; i < min(bi+block, n); i++ {
				for j := max(bj, i+1); j < min(bj+block, n); j++ {
					ix.mat[j*n+i] = ix.mat[i*n+j]
				}
			}
		}
	}
}

// pair returns the pair score of i and j and whether they may share an
// introduction group.
func (ix *indexed) pair(i, j int32) (int, bool) {
	if ix.mat != nil {
		v := ix.mat[int(i)*len(ix.ps)+int(j)]
		return int(v), v != forbidden
	}
	if !ix.compatible(i, j) {
		return 0, false
	}
	return ix.score(i, j), true
}

func index(people []Person, met [][2]string) *indexed {
	ix := &indexed{in: people}
	orgs, roles, regions, topics := map[string]int32{}, map[string]int32{}, map[string]int32{}, map[string]int32{}
	ids := map[string]int32{}
	nextOrg := int32(0)
	intern := func(m map[string]int32, key, display string, names *[]string) int32 {
		if id, ok := m[key]; ok {
			return id
		}
		id := int32(len(*names))
		m[key] = id
		*names = append(*names, display)
		return id
	}
	for i, p := range people {
		id := strings.TrimSpace(p.ID)
		if id == "" {
			ix.skipped = append(ix.skipped, skippedPerson{i, Unplaced{ID: p.ID,
				ReasonNB: "Deltakeren mangler id.", ReasonEN: "The participant has no id."}})
			continue
		}
		if _, dup := ids[id]; dup {
			ix.skipped = append(ix.skipped, skippedPerson{i, Unplaced{ID: p.ID,
				ReasonNB: "Deltakeren står mer enn én gang i lista.", ReasonEN: "The participant is listed more than once."}})
			continue
		}
		ids[id] = int32(len(ix.ps))
		q := person{src: i, level: parseLevel(p.Level), sector: parseSector(p.Sector), role: -1, known: -1, region: -1}
		if org := normalise(p.Organisation); org != "" {
			if _, ok := orgs[org]; !ok {
				orgs[org] = nextOrg
				nextOrg++
			}
			q.org = orgs[org]
		} else {
			q.org = -1 - int32(i) // unknown: equal to nobody else's
		}
		if rk := roleKey(p.Role); rk != "" {
			display := strings.Join(strings.Fields(p.Role), " ")
			q.role = intern(roles, rk, display, &ix.roles)
			q.known = int8(slices.Index(knownRoles, rk))
		}
		if r := normalise(p.Region); r != "" {
			q.region = intern(regions, r, strings.Join(strings.Fields(p.Region), " "), &ix.regions)
		}
		for _, t := range p.Topics {
			if n := normalise(t); n != "" {
				tid := intern(topics, n, strings.Join(strings.Fields(t), " "), &ix.topics)
				if !slices.Contains(q.topics, tid) {
					q.topics = append(q.topics, tid)
				}
				q.topicMask |= 1 << (uint(tid) % 64)
			}
		}
		slices.Sort(q.topics)
		q.private = q.sector == secPrivate
		q.public = q.sector == secState || q.sector == secMunicipal
		switch normalise(p.Mix) {
		case MixPublicOnly:
			q.publicOnly = true
		case MixMixed:
			q.wantsMix = true
		}
		ix.ps = append(ix.ps, q)
	}
	for _, pair := range met {
		a, okA := ids[strings.TrimSpace(pair[0])]
		b, okB := ids[strings.TrimSpace(pair[1])]
		if okA && okB && a != b {
			ix.ps[a].met = append(ix.ps[a].met, b)
			ix.ps[b].met = append(ix.ps[b].met, a)
		}
	}
	for i := range ix.ps {
		slices.Sort(ix.ps[i].met)
		ix.ps[i].met = slices.Compact(ix.ps[i].met)
	}
	return ix
}

// allowed reports whether a and b may be in the same network seed.
func allowed(a, b *person) bool {
	if a.org == b.org {
		return false
	}
	if a.level == lvTop && b.level == lvTop && a.sector == b.sector && a.sector != secOther {
		return false
	}
	return !(a.publicOnly && b.private) && !(b.publicOnly && a.private)
}

// metBefore reports whether a and b (b at internal index j) were
// introduced before.
func metBefore(a, b *person, j int32) bool {
	if len(a.met) == 0 || len(b.met) == 0 {
		return false
	}
	_, found := slices.BinarySearch(a.met, j)
	return found
}

// compatible reports whether i and j may be in the same introduction group.
func (ix *indexed) compatible(i, j int32) bool {
	a, b := &ix.ps[i], &ix.ps[j]
	return allowed(a, b) && !metBefore(a, b, j)
}

// score is the pair score of i and j; see the package comment.
func (ix *indexed) score(i, j int32) int { return pairScore(&ix.ps[i], &ix.ps[j]) }

func pairScore(a, b *person) int {
	s := 0
	if a.level == b.level {
		if a.level != lvOther {
			s += weightSameLevel
		}
	} else if a.level != lvOther && b.level != lvOther && (a.level-b.level == 1 || b.level-a.level == 1) {
		s += weightAdjacentLevel
	}
	if a.role >= 0 && a.role == b.role {
		s += weightSameRole
	} else if a.known >= 0 && b.known >= 0 && related[a.known][b.known] {
		s += weightRelatedRole
	}
	if a.topicMask&b.topicMask != 0 {
		s += weightTopic * min(sharedCount(a.topics, b.topics), maxTopicsCounted)
	}
	if a.region >= 0 && a.region == b.region {
		s += weightRegion
	}
	if a.wantsMix && (a.public && b.private || a.private && b.public) {
		s += weightMixWish
	}
	if b.wantsMix && (b.public && a.private || b.private && a.public) {
		s += weightMixWish
	}
	return s
}

func sharedCount(a, b []int32) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			n++
			i++
			j++
		}
	}
	return n
}

// groupScore is the sum of the pair scores of members.
func (ix *indexed) groupScore(members []int32) int {
	s := 0
	for i, a := range members {
		for _, b := range members[i+1:] {
			s += ix.score(a, b)
		}
	}
	return s
}

// group turns internal members into a Group with its reason.
func (ix *indexed) group(members []int32) Group {
	g := Group{Members: make([]string, len(members)), Score: float64(ix.groupScore(members))}
	for i, p := range members {
		g.Members[i] = ix.in[ix.ps[p].src].ID
	}
	g.ReasonNB, g.ReasonEN = ix.reason(members)
	return g
}

// sizeCosts returns the size cost of a group by its size, 0..groupSize+1.
// Sizes 0 and 1 never occur in a result; they cost nothing so that emptying
// a group is judged by what happens to the people, not the empty group.
func sizeCosts(groupSize int) []int {
	c := make([]int, groupSize+2)
	for s := 2; s < groupSize; s++ {
		c[s] = 3 + 4*(groupSize-1-s)
	}
	c[groupSize+1] = 1
	return c
}

// matcher builds the introduction groups.
type matcher struct {
	*indexed
	rng     *rand.Rand
	size    int   // preferred group size
	hi      int   // largest group
	cost    []int // size cost by group size
	groups  [][]int32
	groupOf []int32 // -1: not placed
	own     []int   // a person's summed pair score with the rest of their group
	pending []int32 // not placed, in the order they are handled
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
	m := &matcher{indexed: ix, rng: rng, size: size, hi: size + 1, cost: sizeCosts(size),
		groupOf: make([]int32, n), own: make([]int, n), seenLog: make([]int, n)}
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
	targets := m.plan(n)
	if lb := min(m.maxConflictClass(), n/2); lb > len(targets) {
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
	open := make([]int, len(targets))
	for i := range open {
		open[i] = i
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

	for _, p := range order {
		best, bestScore := -1, -1
		for k, gi := range open {
			s, ok := m.fit(p, m.groups[gi], -1)
			if !ok {
				continue
			}
			if s > bestScore || s == bestScore && len(m.groups[gi]) < len(m.groups[open[best]]) {
				best, bestScore = k, s
			}
		}
		if best < 0 {
			m.pending = append(m.pending, p)
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

// better reports whether a change of size cost dc and score ds beats the best so far.
func better(dc, ds, bestDC, bestDS int) bool {
	return dc < bestDC || dc == bestDC && ds > bestDS
}

// repair places pending people where it can; it reports whether it placed anyone.
func (m *matcher) repair() bool {
	placedAny := false
	for {
		progress := false
		for _, u := range m.pending {
			progress = m.insert(u) || progress
		}
		m.prunePending()
		progress = m.groupPending() || progress
		// Members found to have no other group to go to, until groups change.
		stuck := make([]bool, len(m.ps))
		for _, u := range m.pending {
			if m.groupOf[u] < 0 && m.eject(u, stuck) {
				progress = true
				clear(stuck)
			}
		}
		m.prunePending()
		for _, u := range m.pending {
			if m.groupOf[u] < 0 {
				progress = m.split(u) || progress
			}
		}
		m.prunePending()
		if !progress {
			return placedAny
		}
		placedAny = true
	}
}

func (m *matcher) prunePending() {
	m.pending = slices.DeleteFunc(m.pending, func(p int32) bool { return m.groupOf[p] >= 0 })
}

// insert puts u into the best group with room that it fits.
func (m *matcher) insert(u int32) bool {
	best, bestDC, bestDS := -1, 0, 0
	for gi, g := range m.groups {
		if len(g) < 2 || len(g) >= m.hi {
			continue
		}
		s, ok := m.fit(u, g, -1)
		if !ok {
			continue
		}
		dc := m.cost[len(g)+1] - m.cost[len(g)]
		if best < 0 || better(dc, s, bestDC, bestDS) {
			best, bestDC, bestDS = gi, dc, s
		}
	}
	if best < 0 {
		return false
	}
	m.add(u, best)
	m.touch(best)
	return true
}

// groupPending forms new groups among pending people.
func (m *matcher) groupPending() bool {
	if m.pendingGrouped {
		return false // nobody joined the pending people since the last try
	}
	formed := false
	for i, u := range m.pending {
		if m.groupOf[u] >= 0 {
			continue
		}
		members := []int32{u}
		for len(members) < m.size {
			best, bestScore := int32(-1), -1
			// Earlier pending people who are still pending found no partner
			// here, so they do not fit u either.
			for _, v := range m.pending[i+1:] {
				if m.groupOf[v] >= 0 || slices.Contains(members, v) {
					continue
				}
				if s, ok := m.fit(v, members, -1); ok && s > bestScore {
					best, bestScore = v, s
				}
			}
			if best < 0 {
				break
			}
			members = append(members, best)
		}
		if len(members) >= 2 {
			m.newGroup(members...)
			formed = true
		}
	}
	m.prunePending()
	m.pendingGrouped = true
	return formed
}

// eject puts u in a group in place of a member who moves to another group.
// stuck marks members already found to have no other group to go to.
func (m *matcher) eject(u int32, stuck []bool) bool {
	for gi, g := range m.groups {
		if len(g) < 2 {
			continue
		}
		for _, y := range g {
			if stuck[y] {
				continue
			}
			if _, ok := m.fit(u, g, y); !ok {
				continue
			}
			stuck[y] = true // unless a group takes y below
			for hi, h := range m.groups {
				if hi == gi || len(h) < 2 || len(h) >= m.hi {
					continue
				}
				if _, ok := m.fit(y, h, -1); !ok {
					continue
				}
				m.remove(y, gi)
				m.add(u, gi)
				m.add(y, hi)
				m.touch(gi)
				m.touch(hi)
				return true
			}
		}
	}
	return false
}

// split takes a member of a group of three or more to form a pair with u.
func (m *matcher) split(u int32) bool {
	best, bestDC, bestDS := int32(-1), 0, 0
	for _, g := range m.groups {
		if len(g) < 3 {
			continue
		}
		dc := m.cost[2] + m.cost[len(g)-1] - m.cost[len(g)]
		for _, y := range g {
			v, ok := m.pair(u, y)
			if !ok {
				continue
			}
			ds := v - m.own[y]
			if best < 0 || better(dc, ds, bestDC, bestDS) {
				best, bestDC, bestDS = y, dc, ds
			}
		}
	}
	if best < 0 {
		return false
	}
	gi := int(m.groupOf[best])
	m.remove(best, gi)
	m.touch(gi)
	m.newGroup(u, best)
	return true
}

// improve runs local search until no move, swap or merge improves the result.
func (m *matcher) improve() {
	order := make([]int32, 0, len(m.ps))
	for i := range m.seenLog {
		m.seenLog[i] = -1
	}
	if len(m.mark) < len(m.groups) {
		m.mark = make([]int, len(m.groups)+len(m.ps)/2+1)
	}
	for {
		improved := m.merge()
		for _, u := range m.pending {
			improved = m.swapPending(u) || improved
		}
		m.prunePending()
		order = order[:0]
		for p := range m.ps {
			if m.groupOf[p] >= 0 {
				order = append(order, int32(p))
			}
		}
		m.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, p := range order {
			if m.improvePerson(p) {
				improved = true
			}
		}
		if !improved {
			return
		}
	}
}

// improvePerson applies the best improving move or swap for p, if any.
func (m *matcher) improvePerson(p int32) bool {
	a := int(m.groupOf[p])
	A := m.groups[a]
	since := m.seenLog[p]
	m.seenLog[p] = len(m.log)

	var cands []int
	if since < 0 || m.groupLog[a] > since || len(m.log)-since > len(m.groups)/2 {
		cands = nil // every group
	} else {
		m.epoch++
		cands = make([]int, 0, len(m.log)-since)
		for _, gi := range m.log[since:] {
			if int(gi) != a && m.mark[gi] != m.epoch {
				m.mark[gi] = m.epoch
				cands = append(cands, int(gi))
			}
		}
		if len(cands) == 0 {
			return false
		}
	}

	ownP := m.own[p]
	canLeave := len(A) >= 3
	bestDC, bestDS, bestB, bestQ := 0, 0, -1, int32(-1)
	var pair [12]int
	consider := func(b int) {
		B := m.groups[b]
		if len(B) < 2 {
			return
		}
		conflicts, at, sum := 0, -1, 0
		for k, q := range B {
			v, ok := m.pair(p, q)
			if !ok {
				conflicts++
				at = k
				if conflicts > 1 {
					return
				}
				pair[k] = 0
				continue
			}
			pair[k] = v
			sum += v
		}
		if conflicts == 0 && canLeave && len(B) < m.hi {
			dc := m.cost[len(A)-1] + m.cost[len(B)+1] - m.cost[len(A)] - m.cost[len(B)]
			if better(dc, sum-ownP, bestDC, bestDS) {
				bestDC, bestDS, bestB, bestQ = dc, sum-ownP, b, -1
			}
		}
		lo, hi := 0, len(B)
		if conflicts == 1 {
			lo, hi = at, at+1
		}
		for k := lo; k < hi; k++ {
			gainP := sum - pair[k] - ownP
			if gainP <= 0 {
				continue // if the swap helps, q finds it
			}
			q := B[k]
			sq, ok := m.fit(q, A, p)
			if !ok {
				continue
			}
			if ds := gainP + sq - m.own[q]; better(0, ds, bestDC, bestDS) {
				bestDC, bestDS, bestB, bestQ = 0, ds, b, q
			}
		}
	}
	if cands == nil {
		for b := range m.groups {
			if b != a {
				consider(b)
			}
		}
	} else {
		for _, b := range cands {
			consider(b)
		}
	}
	if bestB < 0 {
		return false
	}
	m.remove(p, a)
	if bestQ >= 0 {
		m.remove(bestQ, bestB)
		m.add(bestQ, a)
	}
	m.add(p, bestB)
	m.touch(a)
	m.touch(bestB)
	return true
}

// swapPending puts the unplaced u in place of a group member when that
// raises the score; the member becomes unplaced.
func (m *matcher) swapPending(u int32) bool {
	if m.groupOf[u] >= 0 {
		return false
	}
	bestY, bestGain := int32(-1), 0
	for _, g := range m.groups {
		for _, y := range g {
			s, ok := m.fit(u, g, y)
			if ok && s-m.own[y] > bestGain {
				bestY, bestGain = y, s-m.own[y]
			}
		}
	}
	if bestY < 0 {
		return false
	}
	gi := int(m.groupOf[bestY])
	m.remove(bestY, gi)
	m.add(u, gi)
	m.touch(gi)
	m.pending = append(m.pending, bestY)
	m.pendingGrouped = false
	return true
}

// merge joins two groups smaller than the preferred size when that lowers
// the size cost.
func (m *matcher) merge() bool {
	var small []int
	for gi, g := range m.groups {
		if len(g) >= 2 && len(g) < m.size {
			small = append(small, gi)
		}
	}
	merged := false
	for i, a := range small {
		for _, b := range small[i+1:] {
			A, B := m.groups[a], m.groups[b]
			if len(A) < 2 || len(B) < 2 || len(A)+len(B) > m.hi {
				continue
			}
			if m.cost[len(A)+len(B)] >= m.cost[len(A)]+m.cost[len(B)] {
				continue
			}
			ok := true
			for _, p := range B {
				if _, ok = m.fit(p, A, -1); !ok {
					break
				}
			}
			if !ok {
				continue
			}
			for _, p := range slices.Clone(B) {
				m.remove(p, b)
				m.add(p, a)
			}
			m.touch(a)
			m.touch(b)
			merged = true
		}
	}
	return merged
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

// whyUnplaced explains, in both languages, why p is in no group.
func (m *matcher) whyUnplaced(p int32) Unplaced {
	u := Unplaced{ID: m.in[m.ps[p].src].ID}
	if len(m.ps) == 1 {
		u.ReasonNB = "Du var den eneste som ønsket å bli introdusert."
		u.ReasonEN = "You were the only participant who asked to be introduced."
		return u
	}
	var sameOrg, topSector, mix, met, fits int
	a := &m.ps[p]
	for q := range m.ps {
		if int32(q) == p {
			continue
		}
		b := &m.ps[q]
		switch {
		case a.org == b.org:
			sameOrg++
		case a.level == lvTop && b.level == lvTop && a.sector == b.sector && a.sector != secOther:
			topSector++
		case a.publicOnly && b.private || b.publicOnly && a.private:
			mix++
		case !m.compatible(p, int32(q)):
			met++
		default:
			fits++
		}
	}
	switch {
	case sameOrg == len(m.ps)-1:
		u.ReasonNB = "Alle andre deltakere er fra samme virksomhet."
		u.ReasonEN = "All other participants are from the same organisation."
	case fits == 0:
		var nb, en []string
		if sameOrg > 0 {
			nb = append(nb, "er fra samme virksomhet")
			en = append(en, "are from the same organisation")
		}
		if topSector > 0 {
			nb = append(nb, "er toppledere i samme sektor")
			en = append(en, "are top leaders in the same sector")
		}
		if mix > 0 && a.publicOnly {
			nb = append(nb, "er fra privat sektor, og du ønsket bare offentlig sektor")
			en = append(en, "are from the private sector, and you asked for the public sector only")
		} else if mix > 0 {
			nb = append(nb, "ønsket bare offentlig sektor")
			en = append(en, "asked for the public sector only")
		}
		if met > 0 {
			nb = append(nb, "er allerede introdusert for deg")
			en = append(en, "have already been introduced to you")
		}
		u.ReasonNB = "Alle andre deltakere " + join(nb, "eller") + "."
		u.ReasonEN = "All other participants " + join(en, "or") + "."
	default:
		u.ReasonNB = "Ingen gruppe hadde plass til deg uten at noen i den var fra samme virksomhet, allerede introdusert for deg eller utelukket av et annet ønske."
		u.ReasonEN = "No group had room for you without someone in it from your organisation, already introduced to you or ruled out by another wish."
	}
	return u
}

// join lists words as "a, b and c" with the given final conjunction.
func join(words []string, and string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + and + " " + words[len(words)-1]
}

// buildSeeds proposes network seeds: groups of seedMin..seedMax people who
// share level and role, then level only, then role only, under the hard rules
// of a network (organisation, top leaders' sector, public-only wish). Each
// person is in at most one seed.
func buildSeeds(ix *indexed, seedMin, seedMax int, rng *rand.Rand) [][]int32 {
	n := len(ix.ps)
	if n < seedMin {
		return nil
	}
	inSeed := make([]bool, n)
	var seeds [][]int32
	stages := []func(p *person) (int64, bool){
		func(p *person) (int64, bool) {
			return int64(p.level)<<32 | int64(p.role), p.level != lvOther && p.role >= 0
		},
		func(p *person) (int64, bool) { return int64(p.level), p.level != lvOther },
		func(p *person) (int64, bool) { return int64(p.role), p.role >= 0 },
	}
	for _, key := range stages {
		buckets := map[int64][]int32{}
		var keys []int64
		for i := range ix.ps {
			if inSeed[i] {
				continue
			}
			k, ok := key(&ix.ps[i])
			if !ok {
				continue
			}
			if _, seen := buckets[k]; !seen {
				keys = append(keys, k)
			}
			buckets[k] = append(buckets[k], int32(i))
		}
		slices.Sort(keys)
		for _, k := range keys {
			for _, s := range seedBucket(ix, buckets[k], seedMin, seedMax, rng) {
				for _, p := range s {
					inSeed[p] = true
				}
				slices.Sort(s)
				seeds = append(seeds, s)
			}
		}
	}
	slices.SortFunc(seeds, func(a, b []int32) int { return cmp.Compare(a[0], b[0]) })
	return seeds
}

// seedBound is an upper bound on the size of a seed drawn from members: at
// most one person per organisation, and one top leader per known sector.
func seedBound(ix *indexed, members []int32) int {
	orgs := map[int32]bool{}
	var sectors [4]bool
	for _, p := range members {
		q := &ix.ps[p]
		if q.level == lvTop && q.sector != secOther {
			sectors[q.sector] = true
		} else {
			orgs[q.org] = true
		}
	}
	n := len(orgs)
	for _, s := range sectors {
		if s {
			n++
		}
	}
	return n
}

// seedBucket splits one bucket into as many valid seeds as it can.
func seedBucket(ix *indexed, members []int32, seedMin, seedMax int, rng *rand.Rand) [][]int32 {
	var out [][]int32
	k := (len(members) + seedMax - 1) / seedMax
	placedIn := make(map[int32]bool, len(members))
	for len(members) >= seedMin && k >= 1 && seedBound(ix, members) >= seedMin {
		k = min(k, len(members)/seedMin)
		capacity := min((len(members)+k-1)/k, seedMax)
		orgs := map[int32]int{}
		for _, p := range members {
			orgs[ix.ps[p].org]++
		}
		order := slices.Clone(members)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		slices.SortStableFunc(order, func(a, b int32) int {
			return cmp.Compare(orgs[ix.ps[b].org], orgs[ix.ps[a].org])
		})
		seeds := make([][]int32, k)
		var left []int32
		place := func(p int32, limit int) bool {
			best, bestScore := -1, -1
			for si, s := range seeds {
				if len(s) >= limit {
					continue
				}
				sum, ok := 0, true
				for _, q := range s {
					if !allowed(&ix.ps[p], &ix.ps[q]) {
						ok = false
						break
					}
					sum += ix.score(p, q)
				}
				if ok && (sum > bestScore || sum == bestScore && len(s) < len(seeds[best])) {
					best, bestScore = si, sum
				}
			}
			if best < 0 {
				return false
			}
			seeds[best] = append(seeds[best], p)
			placedIn[p] = true
			return true
		}
		for _, p := range order {
			if !place(p, capacity) {
				left = append(left, p)
			}
		}
		for _, p := range left {
			place(p, seedMax)
		}
		var rest []int32
		accepted := 0
		for _, s := range seeds {
			if len(s) >= seedMin {
				out = append(out, s)
				accepted++
			} else {
				rest = append(rest, s...)
			}
		}
		for _, p := range left {
			if !placedIn[p] {
				rest = append(rest, p)
			}
		}
		clear(placedIn)
		if accepted == 0 {
			k /= 2 // try fewer, larger seeds
			continue
		}
		slices.Sort(rest)
		members = rest
		k = (len(members) + seedMax - 1) / seedMax
	}
	return out
}

// Display names of levels (plural) and known roles, in knownRoles order.
var (
	levelPluralNB = map[int8]string{lvTop: "toppledere", lvMiddle: "mellomledere", lvFirstLine: "førstelinjeledere"}
	levelPluralEN = map[int8]string{lvTop: "top leaders", lvMiddle: "middle managers", lvFirstLine: "first-line managers"}
	roleClauseNB  = []string{"med kommunikasjon", "med administrasjon", "med økonomi og virksomhetsstyring", "med HR", "med IT og sikkerhet", "i en fagavdeling"}
	roleClauseEN  = []string{"in communication", "in administration", "in finance and performance management", "in HR", "in IT and security", "in a specialist department"}
)

// clause is one thing a group shares, as a verb and the rest, so that
// "alle"/"all" can go after the verb of the first clause.
type clause struct {
	nbVerb, nbRest string
	enVerb, enRest string
	enBe           bool // "are all ..." rather than "all work ..."
}

// reason says in Norwegian and English what the members share.
func (ix *indexed) reason(members []int32) (nb, en string) {
	if len(members) == 0 {
		return "", ""
	}
	first := &ix.ps[members[0]]
	sameLevel, sameRole, akin, sameRegion := first.level != lvOther, first.role >= 0, first.known >= 0, first.region >= 0
	shared := slices.Clone(first.topics)
	for _, p := range members[1:] {
		q := &ix.ps[p]
		sameLevel = sameLevel && q.level == first.level
		sameRole = sameRole && q.role == first.role
		sameRegion = sameRegion && q.region == first.region
		shared = slices.DeleteFunc(shared, func(t int32) bool {
			_, found := slices.BinarySearch(q.topics, t)
			return !found
		})
	}
	if !sameRole {
		for i, a := range members {
			for _, b := range members[i+1:] {
				pa, pb := &ix.ps[a], &ix.ps[b]
				if pa.known < 0 || pb.known < 0 || pa.known != pb.known && !related[pa.known][pb.known] {
					akin = false
				}
			}
		}
	} else {
		akin = false
	}

	var cs []clause
	if sameLevel {
		cs = append(cs, clause{"er", levelPluralNB[first.level], "are", levelPluralEN[first.level], true})
	}
	switch {
	case sameRole && first.known >= 0:
		cs = append(cs, clause{"jobber", roleClauseNB[first.known], "work", roleClauseEN[first.known], false})
	case sameRole:
		r := ix.roles[first.role]
		cs = append(cs, clause{"har", "rollen «" + r + "»", "have", "the role “" + r + "”", false})
	case akin:
		cs = append(cs, clause{"jobber", "med beslektede fagfelt", "work", "in related fields", false})
	}
	if len(shared) > 0 {
		var nbT, enT []string
		for _, t := range shared[:min(len(shared), 3)] {
			nbT = append(nbT, "«"+ix.topics[t]+"»")
			enT = append(enT, "“"+ix.topics[t]+"”")
		}
		cs = append(cs, clause{"foreslo", join(nbT, "og"), "suggested", join(enT, "and"), false})
	}
	if sameRegion {
		r := ix.regions[first.region]
		cs = append(cs, clause{"holder", "til i " + r, "are", "based in " + r, true})
	}
	if len(cs) == 0 {
		return "Dere kommer fra ulike virksomheter og kan dele erfaringer på tvers.",
			"You come from different organisations and can share experience across them."
	}
	allNB, allEN := "alle", "all"
	if len(members) == 2 {
		allNB, allEN = "begge", "both"
	}
	nbParts := make([]string, len(cs))
	enParts := make([]string, len(cs))
	for i, c := range cs {
		nbParts[i] = c.nbVerb + " " + c.nbRest
		enParts[i] = c.enVerb + " " + c.enRest
		if i == 0 {
			nbParts[i] = c.nbVerb + " " + allNB + " " + c.nbRest
			if c.enBe {
				enParts[i] = c.enVerb + " " + allEN + " " + c.enRest
			} else {
				enParts[i] = allEN + " " + c.enVerb + " " + c.enRest
			}
		}
	}
	return "Dere " + join(nbParts, "og") + ".", "You " + join(enParts, "and") + "."
}
