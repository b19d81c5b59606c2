package events_test

// Benchmarks of a 1,000-event calendar feed through the real router:
//
//	go test ./events/ -run '^$' -bench CalendarFeed -benchmem
//
// "build" calls DB.Touch before each request, which moves the generation
// the feed cache keys on, so every request reads the 1,000 events (with
// their agendas) and writes the calendar anew. "cached" is the normal
// case between two changes: the built feed comes from memory. "304" is a
// subscriber revalidating an unchanged feed with its ETag.

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/moteplass/moteplass/internal/app/apptest"
)

func BenchmarkCalendarFeed1000(b *testing.B) {
	a := apptest.New(b, apptest.Options{})
	calManyEvents(b, a, 1000)
	first := get(b, a.Router, "/calendar.ics")
	if first.Code != http.StatusOK {
		b.Fatalf("status %d", first.Code)
	}
	etag := first.Header().Get("ETag")
	run := func(b *testing.B, cold bool, want int, header ...string) {
		req := httptest.NewRequest(http.MethodGet, "/calendar.ics", nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		if want == http.StatusOK {
			b.SetBytes(int64(first.Body.Len()))
		}
		b.ReportAllocs()
		for b.Loop() {
			if cold {
				a.DB.Touch()
			}
			rec := httptest.NewRecorder()
			a.Router.ServeHTTP(rec, req)
			if rec.Code != want {
				b.Fatalf("status %d, want %d", rec.Code, want)
			}
		}
	}
	b.Run("build", func(b *testing.B) { run(b, true, http.StatusOK) })
	b.Run("cached", func(b *testing.B) { run(b, false, http.StatusOK) })
	b.Run("304", func(b *testing.B) { run(b, false, http.StatusNotModified, "If-None-Match", etag) })
}
