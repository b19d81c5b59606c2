package organisers

import (
	"net/netip"
	"sync"
	"time"
)

// FailureLimit counts wrong passwords per key in a sliding window: Max
// failures within Window and the key is refused until the oldest of them
// is Window old. The login keys it by client address and account, so a
// stranger guessing at someone's account stops only their own address,
// never the owner's login from theirs.
//
// The counts are in memory, per process: a restart forgets them, and two
// processes behind one name would each allow Max.
type FailureLimit struct {
	Max    int
	Window time.Duration

	mu    sync.Mutex
	seen  map[string][]time.Time // failures within the window, oldest first
	swept time.Time
}

// NewFailureLimit allows max failures per key within window; max 0 turns
// the limit off.
func NewFailureLimit(max int, window time.Duration) *FailureLimit {
	return &FailureLimit{Max: max, Window: window, seen: map[string][]time.Time{}}
}

// maxFailureKeys bounds the memory a crowd of addresses can make us hold:
// about 200 bytes a key, so 20 MB. Past it the oldest-looking key is
// forgotten, which gives that guesser a fresh count: the limit fails open
// for one key rather than refusing everyone.
const maxFailureKeys = 100_000

// Blocked reports whether key has had Max failures within the window
// before now.
func (f *FailureLimit) Blocked(key string, now time.Time) bool {
	if f == nil || f.Max <= 0 {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.recent(key, now)) >= f.Max
}

// Fail counts a failure for key at now.
func (f *FailureLimit) Fail(key string, now time.Time) {
	if f == nil || f.Max <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sweep(now)
	times := f.recent(key, now)
	if len(times) >= f.Max {
		times = times[1:] // only the newest Max matter
	}
	if _, ok := f.seen[key]; !ok && len(f.seen) >= maxFailureKeys {
		for k := range f.seen {
			delete(f.seen, k)
			break
		}
	}
	f.seen[key] = append(times, now)
}

// Forget clears key: after the right password the count starts again.
func (f *FailureLimit) Forget(key string) {
	if f == nil || f.Max <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.seen, key)
}

// recent drops key's failures older than the window and returns the rest.
func (f *FailureLimit) recent(key string, now time.Time) []time.Time {
	times := f.seen[key]
	i := 0
	for i < len(times) && now.Sub(times[i]) >= f.Window {
		i++
	}
	if i == len(times) {
		delete(f.seen, key)
		return nil
	}
	times = times[i:]
	f.seen[key] = times
	return times
}

// sweep forgets keys whose failures are all older than the window, once a
// window, so memory follows the guessing of the last minutes only.
func (f *FailureLimit) sweep(now time.Time) {
	if now.Sub(f.swept) < f.Window {
		return
	}
	for k, times := range f.seen {
		if now.Sub(times[len(times)-1]) >= f.Window {
			delete(f.seen, k)
		}
	}
	f.swept = now
}

// clientKey is the client address the limits count by. An IPv6 client
// usually holds a whole /64 and can pick a new address in it for every
// attempt, so IPv6 addresses count by their /64.
func clientKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is6() || a.Is4In6() {
		return addr
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// guessKey is what wrong passwords count against: one client and one
// account, as typed (normalised), whether the account exists or not.
func guessKey(client, email string) string {
	return client + " " + NormaliseEmail(email)
}
