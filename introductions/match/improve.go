package match

// Local improvement: moves and swaps between groups, merges of small groups,
// and swapping a left-out person for a group member, until no step improves
// the objective.

import "slices"

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

	ownP, ownXP := m.own[p], m.ownX[p]
	canLeave := len(A) >= 3
	// dc folds the change in cross-level pairs in (see better); (0, 0)
	// keeps only steps that improve.
	bestDC, bestDS, bestB, bestQ := 0, 0, -1, int32(-1)
	var pair, cross [12]int
	consider := func(b int) {
		B := m.groups[b]
		if len(B) < 2 {
			return
		}
		conflicts, at, sum, xsum := 0, -1, 0, 0
		for k, q := range B {
			cross[k] = m.crossLevel(p, q)
			xsum += cross[k]
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
			dc := levelStep*(xsum-ownXP) + m.cost[len(A)-1] + m.cost[len(B)+1] - m.cost[len(A)] - m.cost[len(B)]
			if better(dc, sum-ownP, bestDC, bestDS) {
				bestDC, bestDS, bestB, bestQ = dc, sum-ownP, b, -1
			}
		}
		lo, hi := 0, len(B)
		if conflicts == 1 {
			lo, hi = at, at+1
		}
		for k := lo; k < hi; k++ {
			gainX, gainP := xsum-cross[k]-ownXP, sum-pair[k]-ownP
			if !better(levelStep*gainX, gainP, 0, 0) {
				continue // if the swap helps, q finds it
			}
			q := B[k]
			sq, ok := m.fit(q, A, p)
			if !ok {
				continue
			}
			dc := levelStep * (gainX + m.fitX(q, A, p) - m.ownX[q])
			if ds := gainP + sq - m.own[q]; better(dc, ds, bestDC, bestDS) {
				bestDC, bestDS, bestB, bestQ = dc, ds, b, q
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
// lowers the cross-level pairs or, as many, raises the score; the member
// becomes unplaced.
func (m *matcher) swapPending(u int32) bool {
	if m.groupOf[u] >= 0 {
		return false
	}
	bestY, bestDX, bestGain := int32(-1), 0, 0
	for _, g := range m.groups {
		for _, y := range g {
			s, ok := m.fit(u, g, y)
			if !ok {
				continue
			}
			if dx := levelStep * (m.fitX(u, g, y) - m.ownX[y]); better(dx, s-m.own[y], bestDX, bestGain) {
				bestY, bestDX, bestGain = y, dx, s-m.own[y]
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
// the size cost and cross-level pairs (see stepCosts).
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
			ok, x := true, 0
			for _, p := range B {
				if _, ok = m.fit(p, A, -1); !ok {
					break
				}
				x += m.fitX(p, A, -1)
			}
			if !ok || m.cost[len(A)+len(B)]+levelStep*x >= m.cost[len(A)]+m.cost[len(B)] {
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
