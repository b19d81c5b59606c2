package match

// Repair places the people the greedy construction left over: by insertion,
// by new groups among themselves, by ejecting a member to another group, or
// by splitting a pair off a group.

import "slices"

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
		dc := levelStep*m.fitX(u, g, -1) + m.cost[len(g)+1] - m.cost[len(g)]
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
			best, bestScore := int32(-1), -1<<62
			// Earlier pending people who are still pending found no partner
			// here, so they do not fit u either.
			for _, v := range m.pending[i+1:] {
				if m.groupOf[v] >= 0 || slices.Contains(members, v) {
					continue
				}
				if s, ok := m.fit(v, members, -1); ok && s-levelStep*m.fitX(v, members, -1) > bestScore {
					best, bestScore = v, s-levelStep*m.fitX(v, members, -1)
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
			dcy := dc + levelStep*(m.crossLevel(u, y)-m.ownX[y])
			if best < 0 || better(dcy, ds, bestDC, bestDS) {
				best, bestDC, bestDS = y, dcy, ds
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
