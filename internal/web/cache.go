package web

import (
	"sync"
	"time"
)

// PageCache keeps rendered pages that are the same for every visitor (the
// CSRF token is put in at write time). An entry is valid while the database
// generation it was rendered at is current and it is younger than the TTL;
// the TTL covers what changes with the clock alone (registration opening or
// closing, an event passing).
type PageCache struct {
	mu      sync.RWMutex
	ttl     time.Duration
	max     int
	entries map[string]cacheEntry
}

type cacheEntry struct {
	page CachedPage
	gen  uint64
	at   time.Time
}

// CachedPage is a rendered response with its validators.
type CachedPage struct {
	Body     []byte
	ETag     string    // optional
	Modified time.Time // optional
}

// NewPageCache holds at most max pages for ttl each.
func NewPageCache(ttl time.Duration, max int) *PageCache {
	return &PageCache{ttl: ttl, max: max, entries: map[string]cacheEntry{}}
}

// Get returns the page for key if it was rendered at generation gen and is fresh.
func (pc *PageCache) Get(key string, gen uint64) (CachedPage, bool) {
	pc.mu.RLock()
	e, ok := pc.entries[key]
	pc.mu.RUnlock()
	if !ok || e.gen != gen || time.Since(e.at) > pc.ttl {
		return CachedPage{}, false
	}
	return e.page, true
}

// Last returns the page stored for key, however old, so a rebuild can
// compare itself with what clients were last given.
func (pc *PageCache) Last(key string) (CachedPage, bool) {
	pc.mu.RLock()
	defer pc.mu.RUnlock()
	e, ok := pc.entries[key]
	return e.page, ok
}

// Put stores a page. When full, the cache starts over: simple, and pages
// are cheap to render again.
func (pc *PageCache) Put(key string, gen uint64, page CachedPage) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if len(pc.entries) >= pc.max {
		pc.entries = make(map[string]cacheEntry, pc.max)
	}
	pc.entries[key] = cacheEntry{page: page, gen: gen, at: time.Now()}
}
