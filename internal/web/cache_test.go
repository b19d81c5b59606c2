package web_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/web"
)

func page(s string) web.CachedPage { return web.CachedPage{Body: []byte(s)} }

func TestPageCache(t *testing.T) {
	t.Run("a page is served while its generation is current", func(t *testing.T) {
		pc := web.NewPageCache(time.Hour, 10)
		pc.Put("nb|/", 7, page("side"))
		if b, ok := pc.Get("nb|/", 7); !ok || string(b.Body) != "side" {
			t.Fatalf("Get = %q, %v", b, ok)
		}
		if _, ok := pc.Get("nb|/", 8); ok {
			t.Fatal("a page from an older generation was served")
		}
		if _, ok := pc.Get("en|/", 7); ok {
			t.Fatal("another key was served")
		}
	})
	t.Run("a page older than the TTL is not served", func(t *testing.T) {
		pc := web.NewPageCache(-time.Nanosecond, 10)
		pc.Put("k", 1, page("x"))
		if _, ok := pc.Get("k", 1); ok {
			t.Fatal("an expired page was served")
		}
	})
	t.Run("a newer Put replaces the page", func(t *testing.T) {
		pc := web.NewPageCache(time.Hour, 10)
		pc.Put("k", 1, page("old"))
		pc.Put("k", 2, page("new"))
		if b, ok := pc.Get("k", 2); !ok || string(b.Body) != "new" {
			t.Fatalf("Get = %q, %v", b, ok)
		}
	})
	t.Run("it never holds more than max pages", func(t *testing.T) {
		pc := web.NewPageCache(time.Hour, 3)
		for i := 0; i < 4; i++ {
			pc.Put(fmt.Sprint(i), 1, page(fmt.Sprint(i)))
		}
		held := 0
		for i := 0; i < 4; i++ {
			if _, ok := pc.Get(fmt.Sprint(i), 1); ok {
				held++
			}
		}
		if held > 3 || held == 0 {
			t.Fatalf("holds %d pages, max 3", held)
		}
		if _, ok := pc.Get("3", 1); !ok {
			t.Fatal("the newest page is gone")
		}
	})
	t.Run("safe for concurrent use", func(t *testing.T) {
		pc := web.NewPageCache(time.Hour, 50)
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 200; i++ {
					k := fmt.Sprint(i % 70)
					pc.Put(k, uint64(g), page(k))
					if b, ok := pc.Get(k, uint64(g)); ok && string(b.Body) != k {
						t.Errorf("key %s gave %q", k, b)
					}
				}
			}()
		}
		wg.Wait()
	})
}
