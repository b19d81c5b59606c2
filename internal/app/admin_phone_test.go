package app_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/demo"
)

// TestAdminPagesFitAPhone: an organiser's pages with wide tables must not
// make the whole page scroll sideways on a phone; the tables scroll inside
// their frame. (Visually hidden text in table cells once escaped that
// frame and widened the page to 900 px.)
func TestAdminPagesFitAPhone(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	base := apptest.Serve(t, a)
	b := apptest.Phone(t)
	b.LogIn(base, "admin@moteplass.example.no", demo.Password)
	var attendees string
	if err := a.DB.Read().QueryRow(`SELECT '/admin/events/' || id || '/attendees' FROM events WHERE confirmed_count > 0 LIMIT 1`).Scan(&attendees); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/admin", "/admin/dashboard", attendees, "/admin/audit"} {
		b.Do("open "+path, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("main table")))
		if wide := b.Eval(`document.documentElement.scrollWidth > document.documentElement.clientWidth ? [String(document.documentElement.scrollWidth)] : []`); len(wide) > 0 {
			t.Errorf("%s is %s px wide on a 390 px phone", path, wide[0])
		}
	}
}
