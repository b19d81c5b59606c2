package match

// The people as Match sees them: the Person given, and person, the same
// prepared for fast comparisons (organisation, role, region and topics
// interned; level and sector as small numbers; the people met before).

import (
	"slices"
	"strings"

	"github.com/moteplass/moteplass/internal/leader"
)

// Mix wishes as stored in registrations. Levels and sectors are
// leader.Levels and leader.Sectors.
const (
	MixPublicOnly = "public_only"
	MixMixed      = "mixed"
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
	case leader.LevelTop:
		return lvTop
	case leader.LevelMiddle:
		return lvMiddle
	case leader.LevelFirstLine:
		return lvFirstLine
	}
	return lvOther
}

func parseSector(s string) int8 {
	switch normalise(s) {
	case leader.SectorState:
		return secState
	case leader.SectorMunicipal:
		return secMunicipal
	case leader.SectorPrivate:
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
