// Command attack runs the attacks of the trust issue against a running
// Møteplass, from outside, as a stranger would: over HTTP only, knowing
// the public pages, the demo's public logins and someone's email address.
// It prints one line per attack (PASS, FAIL or a measurement) and exits 1
// if any attack succeeded.
//
//	go run ./cmd/moteplass &          # the demo, no configuration
//	go run ./cmd/attack               # against http://localhost:8080
//
// Some attacks need the demo's organiser login (the CSV and next= checks);
// with MOTEPLASS_DEMO=off they are reported as skipped. The login lockout
// check sends from a second loopback address (127.0.0.2), so it only runs
// against a server on this machine.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	base := flag.String("base", "http://localhost:8080", "the server's address")
	victim := flag.String("victim", "kari.nordmann@example.no", "the address whose data a stranger tries to reach")
	organiser := flag.String("organiser", "arrangor@dfo.example.no", "a login whose password is public (the demo's)")
	admin := flag.String("admin", "admin@moteplass.example.no", "the admin login to aim at")
	password := flag.String("password", "moteplass-demo-2026", "the demo password")
	flood := flag.Int("flood", 12, "concurrent 100 MB uploads in the memory attack (0 skips it)")
	flag.Parse()
	a := &attacker{base: strings.TrimRight(*base, "/"), victim: *victim, organiser: *organiser, admin: *admin, password: *password, flood: *flood, out: os.Stdout}
	if a.run(context.Background()) > 0 {
		os.Exit(1)
	}
}

// attacker holds what an outsider knows and the running tally.
type attacker struct {
	base, victim, organiser, admin, password string
	flood                                    int
	out                                      io.Writer
	failed                                   int
}

// run performs every attack and returns how many succeeded.
func (a *attacker) run(ctx context.Context) int {
	for _, at := range []struct {
		name string
		fn   func(ctx context.Context) (string, error)
	}{
		{"capability: the page after a sign-up with someone's address opens only that registration", a.capability},
		{"dev mailbox: a visitor reads no mail (reset links, manage links)", a.mailbox},
		{"body size: an oversized form is refused with 413 before it is read", a.oversizedForm},
		{"body size: multipart where nothing is uploaded is refused", a.multipart},
		{"body size: concurrent 100 MB uploads are refused at once", a.uploadFlood},
		{"addresses: no 5xx for addresses the form may see", a.addresses},
		{"CSRF: a form post without the token is refused", a.csrf},
		{"redirect: next= cannot leave the site", a.nextRedirect},
		{"lockout: a stranger's wrong passwords do not lock out the real user", a.lockout},
		{"reset: the same answer for a known and an unknown address", a.resetAnswer},
		{"CSV: an export defuses formula cells", a.csvInjection},
		{"headers: every page carries the security headers", a.headers},
		{"health: /healthz answers", a.health},
	} {
		detail, err := at.fn(ctx)
		switch {
		case errors.Is(err, errSkip):
			fmt.Fprintf(a.out, "SKIP  %s: %s\n", at.name, detail)
		case err != nil:
			a.failed++
			fmt.Fprintf(a.out, "FAIL  %s: %v\n", at.name, err)
		default:
			fmt.Fprintf(a.out, "PASS  %s: %s\n", at.name, detail)
		}
	}
	fmt.Fprintf(a.out, "%d attacks succeeded\n", a.failed)
	return a.failed
}

var errSkip = errors.New("skipped")

// browser is a fresh cookie jar that does not follow redirects, so every
// answer is seen as sent.
func (a *attacker) browser(local string) *http.Client {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	if local != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
		tr.DialContext = d.DialContext
	}
	return &http.Client{
		Jar: jar, Transport: tr, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// fresh is a browser from a loopback address of its own (127.0.0.n) when
// the server is on this machine, so one attack's requests do not spend
// another's per-address limits; elsewhere an ordinary browser.
func (a *attacker) fresh(n int) *http.Client {
	if a.local() {
		return a.browser(fmt.Sprintf("127.0.0.%d", n))
	}
	return a.browser("")
}

func (a *attacker) local() bool {
	u, err := url.Parse(a.base)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || h == "127.0.0.1"
}

func (a *attacker) get(c *http.Client, path string) (*http.Response, string, error) {
	resp, err := c.Get(a.base + path)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp, string(b), err
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// post fills in the CSRF token of the page at from and posts form to path.
func (a *attacker) post(c *http.Client, from, path string, form url.Values) (*http.Response, string, error) {
	_, page, err := a.get(c, from)
	if err != nil {
		return nil, "", err
	}
	if m := csrfRE.FindStringSubmatch(page); m != nil {
		form.Set("csrf_token", m[1])
	}
	resp, err := c.PostForm(a.base+path, form)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp, string(b), err
}

var eventLinkRE = regexp.MustCompile(`href="/events/([a-z0-9-]+)"`)

// openEvent is the first event on the listing with a sign-up form.
func (a *attacker) openEvent(c *http.Client) (string, error) {
	_, page, err := a.get(c, "/")
	if err != nil {
		return "", err
	}
	seen := map[string]bool{}
	for _, m := range eventLinkRE.FindAllStringSubmatch(page, -1) {
		slug := m[1]
		if seen[slug] {
			continue
		}
		seen[slug] = true
		_, ev, err := a.get(c, "/events/"+slug)
		if err != nil {
			return "", err
		}
		if strings.Contains(ev, `action="/events/`+slug+`/registrations`) && !strings.Contains(ev, `name="invite_code"`) {
			return slug, nil
		}
	}
	return "", errors.New("no open event on the listing")
}

// signUp posts a complete sign-up for slug.
func (a *attacker) signUp(c *http.Client, slug, name, email string, extra ...string) (*http.Response, string, error) {
	form := url.Values{
		"name": {name}, "email": {email}, "organisation": {"Statens vegvesen"}, "role": {"Seksjonssjef"},
		"level": {"middle"}, "sector": {"state"}, "region": {"Bergen"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return a.post(c, "/events/"+slug, "/events/"+slug+"/registrations", form)
}

func (a *attacker) capability(ctx context.Context) (string, error) {
	stranger := a.browser("")
	slug, err := a.openEvent(stranger)
	if err != nil {
		return "", err
	}
	resp, _, err := a.signUp(stranger, slug, "Kari Nordmann", a.victim)
	if err != nil {
		return "", err
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/r/") {
		// already registered there: the answer is "check your email"
		return "a sign-up with the address led to " + loc + " (no manage page)", nil
	}
	_, page, err := a.get(stranger, loc)
	if err != nil {
		return "", err
	}
	if strings.Contains(page, "/feeds/") {
		return "", errors.New("the page after sign-up shows the person's calendar feed")
	}
	var opened []string
	for _, p := range []string{"/export.json", "/delete"} {
		r, _, err := a.get(stranger, loc+p)
		if err != nil {
			return "", err
		}
		if r.StatusCode == http.StatusOK {
			opened = append(opened, p)
		}
	}
	if r, _, err := a.post(stranger, loc, loc+"/delete", url.Values{}); err == nil && r.StatusCode < 400 {
		opened = append(opened, "POST /delete")
	}
	if len(opened) > 0 {
		return "", fmt.Errorf("the browser's link opens %v", opened)
	}
	return "download, erasure and feed refused (403) from the page after sign-up", nil
}

func (a *attacker) mailbox(ctx context.Context) (string, error) {
	visitor := a.browser("")
	// a reset link for the admin would land in the outbox first
	a.post(visitor, "/admin/reset", "/admin/reset", url.Values{"email": {a.admin}})
	for _, p := range []string{"/dev/mailbox", "/dev/mailbox/1", "/dev/mailbox/1/raw", "/dev/mailbox/1/html"} {
		r, body, err := a.get(visitor, p)
		if err != nil {
			return "", err
		}
		if r.StatusCode == http.StatusOK || strings.Contains(body, "/admin/reset/") || strings.Contains(body, "/r/") {
			return "", fmt.Errorf("%s answers %d to a visitor", p, r.StatusCode)
		}
	}
	return "every mailbox page sends a visitor to the login", nil
}

func (a *attacker) oversizedForm(ctx context.Context) (string, error) {
	c := a.browser("")
	form := url.Values{"email": {a.admin}, "password": {strings.Repeat("x", 2<<20)}}
	r, _, err := a.post(c, "/admin/login", "/admin/login", form)
	if err != nil {
		return "", err
	}
	if r.StatusCode != http.StatusRequestEntityTooLarge {
		return "", fmt.Errorf("a 2 MB login form answered %d", r.StatusCode)
	}
	return "a 2 MB login form answered 413", nil
}

// bigBody is a multipart body of n bytes made as it is read.
type bigBody struct{ left int64 }

func (b *bigBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), b.left)
	for i := range p[:n] {
		p[i] = 'x'
	}
	b.left -= n
	return int(n), nil
}

func (a *attacker) upload(c *http.Client, path string, size int64) (int, error) {
	body := io.MultiReader(strings.NewReader("--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n"), &bigBody{left: size})
	req, _ := http.NewRequest(http.MethodPost, a.base+path, body)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	req.ContentLength = -1 // streamed: the server cannot refuse by the header alone
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func (a *attacker) multipart(ctx context.Context) (string, error) {
	for _, p := range []string{"/admin/login", "/r"} {
		code, err := a.upload(a.browser(""), p, 1<<10)
		if err != nil {
			return "", err
		}
		if code != http.StatusUnsupportedMediaType && code != http.StatusRequestEntityTooLarge {
			return "", fmt.Errorf("multipart to %s answered %d", p, code)
		}
	}
	return "multipart answered 415", nil
}

func (a *attacker) uploadFlood(ctx context.Context) (string, error) {
	if a.flood == 0 {
		return "not asked for", errSkip
	}
	var wg sync.WaitGroup
	codes := make([]int, a.flood)
	errs := make([]error, a.flood)
	start := time.Now()
	for i := range a.flood {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], errs[i] = a.upload(a.browser(""), "/admin/login", 100<<20)
		}()
	}
	wg.Wait()
	for i, code := range codes {
		// a server that answers early and closes may break the upload
		// under way: that is a refusal too
		if errs[i] == nil && code < 400 {
			return "", fmt.Errorf("a 100 MB upload answered %d", code)
		}
	}
	return fmt.Sprintf("%d uploads refused in %s", a.flood, time.Since(start).Round(time.Millisecond)), nil
}

// Addresses a sign-up form sees (the trust issue's list).
var hardAddresses = []string{"bjørn@example.no", "ØYVIND@example.no", "a@x_y.no", "a@x-.no", "a@[127.0.0.1]", "a@x\u202e.no", "ola@bærum.no"}

func (a *attacker) addresses(ctx context.Context) (string, error) {
	c := a.browser("")
	slug, err := a.openEvent(c)
	if err != nil {
		return "", err
	}
	var got []string
	for _, addr := range hardAddresses {
		for _, try := range []func() (*http.Response, string, error){
			func() (*http.Response, string, error) { return a.signUp(c, slug, "Adresse Test", addr) },
			func() (*http.Response, string, error) { return a.post(c, "/r", "/r", url.Values{"email": {addr}}) },
			func() (*http.Response, string, error) {
				return a.post(c, "/admin/reset", "/admin/reset", url.Values{"email": {addr}})
			},
		} {
			r, _, err := try()
			if err != nil {
				return "", err
			}
			if r.StatusCode >= 500 {
				return "", fmt.Errorf("%q answered %d", addr, r.StatusCode)
			}
			got = append(got, fmt.Sprint(r.StatusCode))
		}
	}
	slices.Sort(got)
	return "answers " + strings.Join(slices.Compact(got), ", "), nil
}

func (a *attacker) csrf(ctx context.Context) (string, error) {
	c := a.browser("")
	a.get(c, "/")
	resp, err := c.PostForm(a.base+"/admin/login", url.Values{"email": {a.admin}, "password": {"x"}})
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		return "", fmt.Errorf("a post without the token answered %d", resp.StatusCode)
	}
	return "403", nil
}

// login logs c in; false when the password is not the demo's.
func (a *attacker) login(c *http.Client, email, next string) (*http.Response, error) {
	resp, _, err := a.post(c, "/admin/login", "/admin/login", url.Values{"email": {email}, "password": {a.password}, "next": {next}})
	return resp, err
}

func (a *attacker) nextRedirect(ctx context.Context) (string, error) {
	for _, next := range []string{"/\t/evil.example/", "//evil.example/", "/\\evil.example/", "https://evil.example/", "/%09/evil.example/"} {
		resp, err := a.login(a.browser(""), a.organiser, next)
		if err != nil {
			return "", err
		}
		if resp.StatusCode != http.StatusSeeOther {
			return "the demo login is not there", errSkip
		}
		loc := resp.Header.Get("Location")
		u, err := url.Parse(loc)
		clean := strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return -1
			}
			return r
		}, loc)
		if err != nil || u.Host != "" || !strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "//") || strings.Contains(clean, "\\") {
			return "", fmt.Errorf("next=%q sent the browser to %q", next, loc)
		}
	}
	return "every login stayed on the site", nil
}

func (a *attacker) lockout(ctx context.Context) (string, error) {
	if !a.local() {
		return "needs a server on this machine", errSkip
	}
	stranger := a.browser("127.0.0.2")
	for range 8 {
		if _, _, err := a.post(stranger, "/admin/login", "/admin/login", url.Values{"email": {a.organiser}, "password": {"wrong-password"}}); err != nil {
			return "second loopback address not usable: " + err.Error(), errSkip
		}
	}
	resp, err := a.login(a.browser("127.0.0.1"), a.organiser, "")
	if err != nil {
		return "", err
	}
	switch resp.StatusCode {
	case http.StatusSeeOther:
		return "after 8 wrong passwords from 127.0.0.2 the owner logs in from 127.0.0.1", nil
	case http.StatusTooManyRequests:
		return "", errors.New("the owner is locked out by a stranger's wrong passwords")
	default:
		return "the demo login is not there", errSkip
	}
}

func (a *attacker) resetAnswer(ctx context.Context) (string, error) {
	c := a.fresh(4)
	body := func(email string) (int, string, time.Duration, error) {
		start := time.Now()
		r, b, err := a.post(c, "/admin/reset", "/admin/reset", url.Values{"email": {email}})
		d := time.Since(start)
		if err != nil {
			return 0, "", d, err
		}
		// the token differs between answers by design
		return r.StatusCode, csrfRE.ReplaceAllString(strings.ReplaceAll(b, email, "ADDRESS"), ""), d, nil
	}
	var known, unknown []time.Duration
	var kb, ub string
	for range 10 {
		code, b, d, err := body(a.admin)
		if err != nil {
			return "", err
		}
		if code == http.StatusTooManyRequests {
			break
		}
		kb, known = b, append(known, d)
		code, b, d, err = body("ingen-slik-bruker@example.no")
		if err != nil {
			return "", err
		}
		if code == http.StatusTooManyRequests {
			break
		}
		ub, unknown = b, append(unknown, d)
	}
	if len(known) == 0 || len(unknown) == 0 {
		return "rate-limited before a comparison", errSkip
	}
	if kb != ub {
		return "", errors.New("the pages for a known and an unknown address differ")
	}
	// Loopback timing is noisy; a known address costing twice the time
	// of an unknown one (and a millisecond more) is a tell nonetheless.
	if mk, mu := median(known), median(unknown); mk > 2*mu && mk-mu > time.Millisecond {
		return "", fmt.Errorf("a known address takes %s, an unknown one %s", mk, mu)
	}
	return fmt.Sprintf("identical pages; median %s (known) vs %s (unknown) over %d tries each (the page load and the post)",
		median(known), median(unknown), len(known)), nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(10 * time.Microsecond)
}

var attendeesRE = regexp.MustCompile(`href="(/admin/events/\d+/attendees)"`)

func (a *attacker) csvInjection(ctx context.Context) (string, error) {
	org := a.fresh(5)
	if resp, err := a.login(org, a.organiser, ""); err != nil || resp.StatusCode != http.StatusSeeOther {
		return "the demo login is not there", errSkip
	}
	_, home, err := a.get(org, "/admin")
	if err != nil {
		return "", err
	}
	// one of this organiser's events that takes sign-ups: its admin page
	// links to the public one
	var list, slug string
	for _, m := range attendeesRE.FindAllStringSubmatch(home, -1) {
		_, page, err := a.get(org, strings.TrimSuffix(m[1], "/attendees"))
		if err != nil {
			return "", err
		}
		for _, sm := range eventLinkRE.FindAllStringSubmatch(page, -1) {
			if _, pub, err := a.get(a.fresh(6), "/events/"+sm[1]); err == nil && strings.Contains(pub, `action="/events/`+sm[1]+`/registrations`) &&
				!strings.Contains(pub, `name="invite_code"`) {
				list, slug = m[1], sm[1]
				break
			}
		}
		if slug != "" {
			break
		}
	}
	if slug == "" {
		return "none of the organiser's events takes sign-ups", errSkip
	}
	const payload = "-2+3+cmd|' /C calc'!A0"
	resp, _, err := a.signUp(a.fresh(6), slug, "Formel Forsøk", fmt.Sprintf("formel.%d@example.no", time.Now().UnixNano()), "role", payload)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Sprintf("the event did not take the sign-up (%d)", resp.StatusCode), errSkip
	}
	_, csvText, err := a.get(org, list+".csv")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(csvText, "\n") {
		for _, cell := range strings.Split(line, ";") {
			cell = strings.Trim(cell, "\"\r")
			if cell == payload {
				return "", fmt.Errorf("the cell %q is exported as is", payload)
			}
		}
	}
	if !strings.Contains(csvText, "'"+payload) {
		return "", errors.New("the payload is not in the export at all")
	}
	return "the payload is exported as '" + payload, nil
}

func (a *attacker) headers(ctx context.Context) (string, error) {
	resp, _, err := a.get(a.browser(""), "/")
	if err != nil {
		return "", err
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} {
		if resp.Header.Get(h) == "" {
			return "", fmt.Errorf("no %s", h)
		}
	}
	return "CSP, nosniff, Referrer-Policy, X-Frame-Options", nil
}

func (a *attacker) health(ctx context.Context) (string, error) {
	resp, body, err := a.get(a.browser(""), "/healthz")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(body)), nil
}
