package match

// What Match says about its groups, in Norwegian and English: a Group's
// members, score and reason (what they share), and why someone is in no
// group.

import (
	"slices"
	"strings"
)

// group turns internal members into a Group with its reason.
func (ix *indexed) group(members []int32) Group {
	g := Group{Members: make([]string, len(members)), Score: float64(ix.groupScore(members))}
	for i, p := range members {
		g.Members[i] = ix.in[ix.ps[p].src].ID
	}
	g.ReasonNB, g.ReasonEN = ix.reason(members)
	for i, a := range members {
		for _, b := range members[i+1:] {
			la, lb := ix.ps[a].level, ix.ps[b].level
			g.MixedLevels = g.MixedLevels || la != lb && la != lvOther && lb != lvOther
		}
	}
	if g.MixedLevels {
		g.ReasonNB += " " + MixedLevelsNB
		g.ReasonEN += " " + MixedLevelsEN
	}
	return g
}

// What a reason adds when a group has leaders of different levels.
const (
	MixedLevelsNB = "Vi har satt sammen ledere på ulike nivåer fordi det ikke var nok ledere på samme nivå fra ulike virksomheter til egne grupper."
	MixedLevelsEN = "We have put leaders at different levels together because there were not enough leaders at the same level, from different organisations, to make groups of their own."
)

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
