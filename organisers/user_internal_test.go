package organisers

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// A login with an unknown address costs what one with a known address
// does: a bcrypt comparison at the cost the store hashes passwords with.
// (Durations are measured by BenchmarkLoginFailure, not asserted.)
func TestDummyHashHasTheStoreCost(t *testing.T) {
	for _, cost := range []int{bcrypt.MinCost, 6, bcrypt.DefaultCost} {
		s := &Store{BcryptCost: cost}
		got, err := bcrypt.Cost(s.dummyHash())
		if err != nil || got != cost {
			t.Errorf("store cost %d: the dummy hash has cost %d (%v)", cost, got, err)
		}
	}
}
