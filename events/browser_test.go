package events_test

// The listing on a phone: headless Chromium (chromedp) opens the front page
// at 390×844 and finds the first event within the first screen (the filters
// folded above it), and the page no wider than a 320 px phone. Skipped
// without Chromium, unless CI is set (see internal/app/apptest/browser.go).

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/moteplass/moteplass/internal/app/apptest"
)

// shotDir is where the screenshots of this package's browser tests go:
// MOTEPLASS_SHOTS names a folder to keep them in, otherwise the test's
// temporary folder. The path is logged.
func shotDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("MOTEPLASS_SHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// screenshot saves the first screen (what a person sees before
// scrolling) as a PNG.
func screenshot(t *testing.T, b *apptest.Browser, dir, name string) {
	t.Helper()
	shot, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func TestBrowserListingOnAPhone(t *testing.T) {
	a := newDemoApp(t)
	base := apptest.Serve(t, a)
	dir := shotDir(t)
	b := apptest.Phone(t)
	num := func(js string) float64 {
		t.Helper()
		v := b.Eval(`[String(` + js + `)]`)
		f, err := strconv.ParseFloat(v[0], 64)
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return f
	}

	b.Do("open the listing on a 390×844 phone", chromedp.Navigate(base+"/?lang=nb"), chromedp.WaitVisible(chromedp.CSS(".card")))
	top := num(`document.querySelector('.card').getBoundingClientRect().top`)
	t.Logf("390×844: the first event card's top is %.0f px down", top)
	if top >= 844 {
		t.Errorf("the first event starts %.0f px down, below the first screen (844 px)", top)
	}
	if open := b.Eval(`[String(document.querySelector('details.filters') && document.querySelector('details.filters').open)]`); open[0] != "false" {
		t.Errorf("the filters are not folded: %v", open)
	}
	screenshot(t, b, dir, "listing-390.png")

	// the folded filters open and submit without script
	b.Do("open the filters", chromedp.Click(chromedp.CSS("details.filters > summary")), chromedp.WaitVisible(chromedp.CSS("#f-q")))
	screenshot(t, b, dir, "listing-390-filters-open.png")

	b.Do("a 320 px phone", chromedp.EmulateViewport(320, 640, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(base+"/?lang=nb&format=meeting_place&mode=physical"), chromedp.WaitVisible(chromedp.CSS(".chips")))
	screenshot(t, b, dir, "listing-320-chips.png")
	sw := num(`document.documentElement.scrollWidth`)
	t.Logf("320 px: scrollWidth %.0f", sw)
	if sw > 320 {
		t.Errorf("the listing is %.0f px wide on a 320 px phone", sw)
	}
	b.Do("plain listing at 320 px", chromedp.Navigate(base+"/?lang=nb"), chromedp.WaitVisible(chromedp.CSS(".card")))
	if sw := num(`document.documentElement.scrollWidth`); sw > 320 {
		wide := b.Eval(`[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 320).map(e => e.tagName + '.' + e.className + ' ' + (e.getAttribute('href')||'').slice(0,40) + ' ' + Math.round(e.getBoundingClientRect().left) + '-' + Math.round(e.getBoundingClientRect().right)).slice(0, 8)`)
		t.Errorf("the plain listing is %.0f px wide on a 320 px phone: %v", sw, wide)
	}
	screenshot(t, b, dir, "listing-320.png")
}
