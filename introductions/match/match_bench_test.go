package match

import (
	"math/rand/v2"
	"testing"
)

func benchmarkMatch(b *testing.B, n int) {
	rng := rand.New(rand.NewPCG(uint64(n), 2))
	people, met := genPopulation(rng, n, popConfig{orgShare: 0.2, metShare: 0.3})
	opt := Options{Seed: 1, AlreadyMet: met}
	b.ReportAllocs()
	var res Result
	for b.Loop() {
		res = Match(people, opt)
	}
	b.ReportMetric(float64(len(res.Introductions)), "introductions")
	b.ReportMetric(float64(len(res.NetworkSeeds)), "seeds")
	b.ReportMetric(float64(len(res.Unplaced)), "unplaced")
}

// BenchmarkMatch2000 matches 2,000 participants: introductions and seeds.
func BenchmarkMatch2000(b *testing.B) { benchmarkMatch(b, 2000) }

// BenchmarkMatch5000 is the largest population Match is meant for.
func BenchmarkMatch5000(b *testing.B) { benchmarkMatch(b, 5000) }
