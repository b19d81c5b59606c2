package match

// Network seeds: larger groups of people who share level and role, under
// the hard rules of a network.

import (
	"cmp"
	"math/rand/v2"
	"slices"
)

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
