package events_test

// Benchmarks of the public pages through the real router and SQLite:
//
//	go test ./events/ -run '^$' -bench 'Page|API' -benchmem
//
// "warm" is the normal case: the page comes from the page cache. "cold"
// calls DB.Touch before each request, which moves the database generation
// the cache keys on, so every request misses and renders from the database
// (the same URL, so the cache does not grow).

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/moteplass/moteplass/internal/app"
)

// benchCookie is a returning visitor's CSRF cookie, so the benchmark does
// not measure minting a token for a first visit.
const benchCookie = "csrf=" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"

func benchPage(b *testing.B, a *app.App, target string, cold bool) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Cookie", benchCookie)
	req.Header.Set("Accept-Language", "nb-NO,nb;q=0.9,en;q=0.8")
	// one request outside the loop: the page is checked and the cache filled
	rec := httptest.NewRecorder()
	a.Router.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d", target, rec.Code)
	}
	b.SetBytes(int64(rec.Body.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if cold {
			a.DB.Touch()
		}
		rec := httptest.NewRecorder()
		a.Router.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d", target, rec.Code)
		}
	}
}

func BenchmarkListPage(b *testing.B) {
	a := newDemoApp(b)
	b.Run("warm", func(b *testing.B) { benchPage(b, a, "/", false) })
	b.Run("cold", func(b *testing.B) { benchPage(b, a, "/", true) })
	b.Run("filtered-warm", func(b *testing.B) { benchPage(b, a, "/?region=bergen&level=middle", false) })
	b.Run("filtered-cold", func(b *testing.B) { benchPage(b, a, "/?region=bergen&level=middle", true) })
}

func BenchmarkDetailPage(b *testing.B) {
	a := newDemoApp(b)
	const target = "/events/regional-topplederkonferanse-trondheim"
	b.Run("warm", func(b *testing.B) { benchPage(b, a, target, false) })
	b.Run("cold", func(b *testing.B) { benchPage(b, a, target, true) })
}

func BenchmarkAPIList(b *testing.B) {
	a := newDemoApp(b)
	// the API has no cache: every request reads the database
	benchPage(b, a, "/api/v1/events", false)
}

// TestBenchmarkCookieIsAccepted guards the benchmarks' premise: the
// returning visitor's cookie is taken as is, not replaced.
func TestBenchmarkCookieIsAccepted(t *testing.T) {
	a := newDemoApp(t)
	rec := get(t, a.Router, "/", "Cookie", benchCookie)
	for _, c := range rec.Result().Cookies() {
		if c.Name == "csrf" {
			t.Fatalf("the CSRF cookie %q was replaced", strings.TrimPrefix(benchCookie, "csrf="))
		}
	}
}

// TestPageCacheHits checks that a repeated GET is served from the page
// cache: counted in allocations, not time, so it does not depend on the
// machine. A render from the database allocates thousands of times; a
// cache hit a few dozen.
func TestPageCacheHits(t *testing.T) {
	a := newDemoApp(t)
	for _, target := range []string{"/", "/events/regional-topplederkonferanse-trondheim", "/regions/bergen?format=breakfast_seminar"} {
		t.Run(target, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, target, nil)
			req.Header.Set("Cookie", benchCookie)
			serve := func() {
				rec := httptest.NewRecorder()
				a.Router.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					t.Fatalf("%d", rec.Code)
				}
			}
			serve()
			warm := testing.AllocsPerRun(20, serve)
			cold := testing.AllocsPerRun(5, func() { a.DB.Touch(); serve() })
			if warm > 100 || cold < 10*warm {
				t.Fatalf("%.0f allocations per cached request, %.0f per rendered one: the cache does not hit", warm, cold)
			}
		})
	}
}
