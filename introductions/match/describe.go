package match

// Helpers for groups an organiser changed by hand: the same scoring, reasons
// and hard rules as Match, for a group given whole.

// Describe scores and explains people as one group, the way Match explains
// the groups it makes. Members lists their IDs in input order; people
// without an ID or listed twice are left out, as in Match.
func Describe(people []Person) Group {
	ix := index(people, nil)
	members := make([]int32, len(ix.ps))
	for i := range members {
		members[i] = int32(i)
	}
	return ix.group(members)
}

// The hard rules a manual change can break (see Conflict).
const (
	RuleOrganisation = "organisation" // the same organisation
	RuleTopSector    = "top_sector"   // top leaders of the same sector
	RulePublicOnly   = "public_only"  // a public-only wish and a private-sector leader
)

// Conflict names the hard rule that keeps a and b out of the same group, or
// returns "" when they may share one. Having met before is not checked: an
// organiser may choose to introduce people again.
func Conflict(a, b Person) string {
	if a.ID == "" || b.ID == "" || a.ID == b.ID {
		a.ID, b.ID = "a", "b"
	}
	ix := index([]Person{a, b}, nil)
	p, q := &ix.ps[0], &ix.ps[1]
	switch {
	case p.org == q.org:
		return RuleOrganisation
	case p.level == lvTop && q.level == lvTop && p.sector == q.sector && p.sector != secOther:
		return RuleTopSector
	case p.publicOnly && q.private || q.publicOnly && p.private:
		return RulePublicOnly
	}
	return ""
}
