package registration_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
)

// BenchmarkSignUp is one sign-up through the router: the form post,
// validation, the transaction (place or waiting list, manage link,
// consent, confirmation email with its invitation in the outbox) and the
// redirect, on a real SQLite file with synchronous=FULL. One seat in five
// is free, so most sign-ups join the waiting list, as in a rush.
func BenchmarkSignUp(b *testing.B) {
	a := newApp(b, func(c *app.Config) { c.SignupRate = 0 })
	ev := createEvent(b, a, capacity(b.N/5))
	c := apptest.NewClient(b, a.Router)
	c.Get("/events/" + ev.Slug)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		rec := c.PostForm("/events/"+ev.Slug+"/registrations", validForm("Åse Øvrebø", fmt.Sprintf("bench%d@example.no", i)))
		if rec.Code != http.StatusSeeOther {
			b.Fatalf("sign-up %d: status %d", i, rec.Code)
		}
	}
}

// BenchmarkSignUpParallel is BenchmarkSignUp from many browsers at once,
// so sign-ups share commits (db.Batch) as in a rush.
func BenchmarkSignUpParallel(b *testing.B) {
	a := newApp(b, func(c *app.Config) { c.SignupRate = 0 })
	ev := createEvent(b, a, capacity(b.N/5))
	var n atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := apptest.NewClient(b, a.Router)
		c.Get("/events/" + ev.Slug)
		for pb.Next() {
			i := n.Add(1)
			rec := c.PostForm("/events/"+ev.Slug+"/registrations", validForm("Åse Øvrebø", fmt.Sprintf("bench%d@example.no", i)))
			if rec.Code != http.StatusSeeOther {
				b.Errorf("sign-up %d: status %d", i, rec.Code)
				return
			}
		}
	})
}
