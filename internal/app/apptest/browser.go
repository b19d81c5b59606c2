package apptest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/moteplass/moteplass/internal/app"
)

// Serve runs a on its own port (127.0.0.1:0) until the test ends, with its
// background jobs, and returns its base URL. The test fails if the app does
// not shut down cleanly.
func Serve(t testing.TB, a *app.App) string {
	t.Helper()
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return "http://" + a.Addr()
}

// Browser is headless Chromium showing pages as a phone does.
type Browser struct {
	t   testing.TB
	Ctx context.Context
}

// chromium finds Debian's Chromium. Without it a browser test is skipped
// on a developer's machine and fails in CI, which installs it (.ci/run).
func chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (CI installs it: see .ci/run)")
	}
	t.Skip("chromium is not installed")
	return ""
}

// Phone starts Chromium with a phone-sized touch screen (390×844) and a
// Norwegian locale. It runs as root with no network here, hence no sandbox
// and no background networking. Each step has two minutes in all.
func Phone(t testing.TB) *Browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,InterestFeedContentSuggestions"),
		chromedp.Flag("lang", "nb-NO"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	// the first call starts the browser and must not carry a timeout
	if err := chromedp.Do(browser, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		cancelBrowser()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(browser, 2*time.Minute)
	t.Cleanup(func() { cancel(); cancelBrowser(); cancelAlloc() })
	return &Browser{t: t, Ctx: ctx}
}

// Do runs actions, failing the test with step's name if one fails.
func (b *Browser) Do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// Text is the visible text of the first element matching the CSS selector.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// Eval runs JavaScript that returns a list of strings (checks on the page).
func (b *Browser) Eval(js string) []string {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](js))
	if err != nil {
		b.t.Fatalf("evaluate: %v", err)
	}
	return v
}

// Screenshot saves the whole page in the temporary folder, for a person to
// look at, and logs where.
func (b *Browser) Screenshot(name string) {
	b.t.Helper()
	shot, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		b.t.Error(err)
	}
	b.t.Logf("screenshot: %s", path)
}

// LogIn logs in through the login form of the app at base, in Norwegian,
// and waits until the form is gone.
func (b *Browser) LogIn(base, email, password string) {
	b.t.Helper()
	b.Do("log in as "+email, chromedp.Navigate(base+"/admin/login?lang=nb"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		chromedp.WaitNotPresent(chromedp.CSS("#password")))
}
