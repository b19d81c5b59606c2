package match

// The pair score and the hard rules between two people (see the package
// comment), the matrix that precomputes them, and the size cost of a group.

import "slices"

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

// The search weighs a step (a move, swap, merge...) by one number, dc in
// better: the change in the size cost of groups smaller than GroupSize
// times underStep, plus the change in cross-level pairs times levelStep,
// plus the change in groups of GroupSize+1. One step changes each by so
// little that the first always outweighs the second, and the second the
// third: the objective's order.
const (
	levelStep = 1 << 10
	underStep = 1 << 20
)

// stepCosts are sizeCosts for the search's steps: the cost of a group
// smaller than groupSize times underStep, so that it outweighs cross-level
// pairs, and 1 for a group of groupSize+1, which they outweigh.
func stepCosts(groupSize int) []int {
	c := sizeCosts(groupSize)
	for s := range c {
		if s < groupSize {
			c[s] *= underStep
		}
	}
	return c
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
