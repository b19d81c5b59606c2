package app_test

// Request bodies through the real router and the real server: a body over
// web.MaxFormBytes is refused with a readable 413 page (or JSON under
// /api/), multipart with 415 before anything is read, the largest forms a
// person can fill in still go through, and a flood of 100 MB bodies leaves
// the server's memory where it was.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/registration"
)

// limitOpenEvent is a published demo event of DFØ that takes sign-ups.
func limitOpenEvent(t testing.TB, a *app.App) events.Event {
	t.Helper()
	evs, _, err := (&events.Store{DB: a.DB}).FindEvents(context.Background(), events.EventFilter{
		Organiser: "dfo", From: time.Now().Add(24 * time.Hour), Statuses: []events.Status{events.StatusPublished}, Access: "open", Mode: "physical"})
	if err != nil || len(evs) == 0 {
		t.Fatalf("no open demo event of DFØ (%v)", err)
	}
	return evs[0]
}

// limitSignUp is a complete sign-up form for email.
func limitSignUp(email string) url.Values {
	return url.Values{
		"name": {"Kari Nordmann"}, "email": {email}, "organisation": {"Statens vegvesen"}, "role": {"Seksjonssjef"},
		"level": {"middle"}, "sector": {"state"}, "region": {"Bergen"}, "phone": {"912 34 567"},
		"dietary": {"Vegetar"}, "health_consent": {"1"}, "topics": {"Tillit i ledergruppen"},
	}
}

// limitPadded is form, urlencoded, with a field the handlers ignore
// making it exactly size bytes.
func limitPadded(t testing.TB, form url.Values, size int) string {
	t.Helper()
	s := form.Encode() + "&padding="
	if len(s) > size {
		t.Fatalf("the form is %d bytes before padding, want at most %d", len(s), size)
	}
	return s + strings.Repeat("p", size-len(s))
}

func limitRegistered(t testing.TB, a *app.App, email string) bool {
	t.Helper()
	var n int
	if err := a.DB.Read().QueryRow(`SELECT COUNT(*) FROM registrations WHERE email_norm = ?`, registration.NormalizeEmail(email)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func limitBrowser(t testing.TB, a *app.App, lang string) *apptest.Client {
	cl := apptest.NewClient(t, a.Router)
	cl.Header.Set("Accept-Language", lang)
	return cl
}

// limitPost posts body as a urlencoded form (streamed: without a
// Content-Length, as a client sending chunks).
func limitPost(cl *apptest.Client, path, body string, streamed bool) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if streamed {
		req.ContentLength = -1
	}
	return cl.Do(req)
}

var limitPages = map[string]map[int][]string{
	"nb": {
		413: {"Skjemaet er for stort", "Ingenting av det er lagret", "gjør de lengste feltene kortere"},
		415: {"Vi tar ikke imot filer", "Ingenting er lest eller lagret", "uten vedlegg"},
	},
	"en": {
		413: {"The form is too large", "Nothing of it has been saved", "shorten the longest fields"},
		415: {"This site does not take files", "Nothing has been read or saved", "without attachments"},
	},
}

func TestAFormOverTheLimitIsRefusedWithAReadablePage(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	ev := limitOpenEvent(t, a)
	path := "/events/" + ev.Slug + "/registrations"

	for _, lang := range []string{"nb", "en"} {
		t.Run(lang, func(t *testing.T) {
			cl := limitBrowser(t, a, lang)
			cl.Get("/events/" + ev.Slug)
			for _, streamed := range []bool{false, true} {
				email := fmt.Sprintf("over-%s-%t@example.no", lang, streamed)
				form := limitSignUp(email)
				form.Set("csrf_token", cl.CSRFToken())
				rec := limitPost(cl, path, limitPadded(t, form, web.MaxFormBytes+1), streamed)
				apptest.Want(t, rec, http.StatusRequestEntityTooLarge)
				apptest.Says(t, rec, limitPages[lang][413]...)
				apptest.DoesNotSay(t, rec, "Skjemaet er utløpt", "The form has expired")
				if limitRegistered(t, a, email) {
					t.Errorf("streamed %t: the form over the limit was stored", streamed)
				}
			}

			// the same sign-up at exactly the limit goes through
			email := "at-the-limit-" + lang + "@example.no"
			form := limitSignUp(email)
			form.Set("csrf_token", cl.CSRFToken())
			rec := limitPost(cl, path, limitPadded(t, form, web.MaxFormBytes), false)
			apptest.Want(t, rec, http.StatusSeeOther)
			if !strings.HasPrefix(rec.Header().Get("Location"), "/r/") || !limitRegistered(t, a, email) {
				t.Errorf("the sign-up at the limit was not stored (Location %q)", rec.Header().Get("Location"))
			}
		})
	}

	t.Run("a plain sign-up works", func(t *testing.T) {
		cl := limitBrowser(t, a, "nb")
		cl.Get("/events/" + ev.Slug)
		apptest.Want(t, cl.PostForm(path, limitSignUp("vanlig@example.no")), http.StatusSeeOther)
		if !limitRegistered(t, a, "vanlig@example.no") {
			t.Error("not stored")
		}
	})

	t.Run("a body announced larger than the limit is refused unread", func(t *testing.T) {
		cl := limitBrowser(t, a, "nb")
		req := httptest.NewRequest(http.MethodPost, "/admin/login", strings.NewReader("email=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.ContentLength = 100 << 20
		rec := cl.Do(req)
		apptest.Want(t, rec, http.StatusRequestEntityTooLarge)
		apptest.Says(t, rec, limitPages["nb"][413]...)
	})
}

// limitMultipart is a multipart body with the CSRF token and a small file.
func limitMultipart(token string) (contentType, body string) {
	b := "--grense\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + token + "\r\n" +
		"--grense\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nadmin@moteplass.example.no\r\n" +
		"--grense\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cv.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\r\n" +
		"--grense--\r\n"
	return "multipart/form-data; boundary=grense", b
}

func TestMultipartIsRefusedEverywhere(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	ev := limitOpenEvent(t, a)
	for _, lang := range []string{"nb", "en"} {
		for _, path := range []string{"/admin/login", "/events/" + ev.Slug + "/registrations"} {
			t.Run(lang+" "+path, func(t *testing.T) {
				cl := limitBrowser(t, a, lang)
				ct, body := limitMultipart(cl.CSRFToken())
				req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
				req.Header.Set("Content-Type", ct)
				rec := cl.Do(req)
				apptest.Want(t, rec, http.StatusUnsupportedMediaType)
				apptest.Says(t, rec, limitPages[lang][415]...)
			})
		}
	}
}

func TestTheAPIAnswersBodyLimitsInJSON(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.NewClient(t, a.Router)
	ct, body := limitMultipart("x")
	for _, c := range []struct {
		contentType, body string
		status            int
		code              string
	}{
		{ct, body, http.StatusUnsupportedMediaType, "error.no_uploads"},
		{"application/x-www-form-urlencoded", strings.Repeat("a", web.MaxFormBytes+1), http.StatusRequestEntityTooLarge, "error.too_large"},
	} {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/events?lang=en", strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.contentType)
		rec := cl.Do(req)
		var got struct{ Error, Message string }
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != c.status || got.Error != c.code || got.Message == "" {
			t.Errorf("%d %s, want %d with %q (%v)", rec.Code, rec.Body.String(), c.status, c.code, err)
		}
	}
}

// limitNorwegian is n characters of Norwegian prose: what an organiser
// pastes into the description, æ, ø, å and punctuation included.
func limitNorwegian(n int) string {
	const text = "Hvordan leder vi på tvers av etater når målene er felles, men budsjettene ikke er det? " +
		"Vi møtes for å dele erfaringer, «beste praksis» og spørsmål – åpent og ærlig, med god tid til samtale. "
	r := []rune(strings.Repeat(text, n/len([]rune(text))+1))
	return strings.TrimSpace(string(r[:n]))
}

func TestTheLargestFormsStillFit(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	ev := limitOpenEvent(t, a)
	cl := apptest.DemoLogin(t, a.Router, "arrangor@dfo.example.no")

	t.Run("the event form with every field at its limit", func(t *testing.T) {
		f := apptest.EditForm(ev)
		f.Set("title", limitNorwegian(200))
		f.Set("summary", limitNorwegian(500))
		f.Set("description", limitNorwegian(20000))
		f.Set("venue_access", limitNorwegian(1000))
		f.Set("host", limitNorwegian(200))
		for k := range f {
			if strings.HasPrefix(k, "agenda.") {
				f.Del(k)
			}
		}
		for i := range 200 { // maxAgendaRows
			p := "agenda." + strconv.Itoa(i) + "."
			f.Set(p+"time", "09:00")
			f.Set(p+"title", limitNorwegian(200))
			f.Set(p+"introducer", limitNorwegian(200))
		}
		f.Set("csrf_token", cl.CSRFToken())
		size := len(f.Encode())
		t.Logf("the event form at every field's limit: %d bytes urlencoded (limit %d)", size, web.MaxFormBytes)
		if size > web.MaxFormBytes*3/4 {
			t.Errorf("the largest event form is %d bytes: less than a quarter of the limit left", size)
		}
		rec := cl.PostForm(fmt.Sprintf("/admin/events/%d", ev.ID), f)
		apptest.Want(t, rec, http.StatusSeeOther)
		got, err := (&events.Store{DB: a.DB}).FindEvent(context.Background(), events.EventFilter{ID: ev.ID, Statuses: events.Statuses})
		if err != nil || got.Description != limitNorwegian(20000) || len(got.Agenda) != 200 {
			t.Errorf("saved: description of %d runes, %d agenda rows (%v)", len([]rune(got.Description)), len(got.Agenda), err)
		}
	})

	t.Run("the message to attendees at its limit", func(t *testing.T) {
		signUp := apptest.NewClient(t, a.Router)
		apptest.Want(t, signUp.PostForm("/events/"+ev.Slug+"/registrations", limitSignUp("mottaker@example.no")), http.StatusSeeOther)
		f := url.Values{"group": {registration.GroupConfirmed}, "subject": {limitNorwegian(registration.MaxMessageSubject)},
			"body": {limitNorwegian(registration.MaxMessageBody)}}
		t.Logf("the message form at its limit: %d bytes urlencoded", len(f.Encode()))
		rec := cl.PostForm(fmt.Sprintf("/admin/events/%d/message/preview", ev.ID), f)
		apptest.Want(t, rec, http.StatusOK)
		apptest.Says(t, rec, limitNorwegian(registration.MaxMessageSubject))
	})
}

// limitFlood is a request body of n bytes made as it is read: a multipart
// form with one file (or a urlencoded form), the way an attacker streams
// 100 MB without holding it. sent counts what the client wrote.
type limitFlood struct {
	head, tail string
	n          int64
	pos        int64
	sent       *atomic.Int64
}

func (f *limitFlood) size() int64 { return int64(len(f.head)) + f.n + int64(len(f.tail)) }

func (f *limitFlood) Read(p []byte) (int, error) {
	head, fill := int64(len(f.head)), int64(len(f.head))+f.n
	k := 0
	for k < len(p) && f.pos < f.size() {
		var m int
		switch {
		case f.pos < head:
			m = copy(p[k:], f.head[f.pos:])
		case f.pos < fill:
			m = int(min(int64(len(p)-k), fill-f.pos))
			for i := range m {
				p[k+i] = 'x'
			}
		default:
			m = copy(p[k:], f.tail[f.pos-fill:])
		}
		k += m
		f.pos += int64(m)
	}
	f.sent.Add(int64(k))
	if k == 0 {
		return 0, io.EOF
	}
	return k, nil
}

// TestAFloodOfLargeBodiesLeavesMemoryAlone is the attack as reported:
// twelve concurrent 100 MB multipart posts to the login page, here with
// twelve 100 MB urlencoded forms streamed beside them, against the real
// server on a port. Every one is refused, and the heap after a GC is
// where it was before: the server read at most the limit of each.
func TestAFloodOfLargeBodiesLeavesMemoryAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server and streams 24 bodies of 100 MB at it")
	}
	a := apptest.New(t, apptest.Options{Demo: true})
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	base := "http://" + a.Addr()
	// keep-alive, as a browser: net/http then answers a body it will not
	// read and waits a moment before closing, so the answer arrives. (A
	// client that itself asks to close gets the connection closed at once,
	// and may see a reset before the answer.)
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 2 * time.Minute}

	// a real browser's CSRF cookie, so the bodies would pass the check
	resp, err := client.Get(base + "/admin/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var csrf *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "csrf" {
			csrf = ck
		}
	}
	if csrf == nil {
		t.Fatal("no csrf cookie")
	}

	const n, size = 12, 100 << 20
	type result struct {
		what      string
		announced bool
		status    int
		closed    bool // the server closed the connection after answering
		err       error
	}
	var (
		sent    atomic.Int64
		results = make(chan result, 2*n)
		wg      sync.WaitGroup
	)
	send := func(what, contentType string, body *limitFlood, announced bool) {
		defer wg.Done()
		req, err := http.NewRequest(http.MethodPost, base+"/admin/login", body)
		if err != nil {
			results <- result{what, announced, 0, false, err}
			return
		}
		req.Header.Set("Content-Type", contentType)
		req.AddCookie(csrf)
		req.ContentLength = -1 // streamed in chunks
		if announced {
			req.ContentLength = body.size()
		}
		resp, err := client.Do(req)
		if err != nil {
			results <- result{what, announced, 0, false, err}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		results <- result{what, announced, resp.StatusCode, resp.Close, nil}
	}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := atomic.Uint64{}
	peak.Store(before.HeapAlloc)
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
		}
	}()

	start := time.Now()
	for i := range n {
		wg.Add(2)
		multipart := &limitFlood{
			head: "--grense\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + csrf.Value + "\r\n" +
				"--grense\r\nContent-Disposition: form-data; name=\"file\"; filename=\"stor.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n",
			n: size, tail: "\r\n--grense--\r\n", sent: &sent}
		go send("multipart", "multipart/form-data; boundary=grense", multipart, i%2 == 0)
		form := &limitFlood{head: "csrf_token=" + csrf.Value + "&email=", n: size, sent: &sent}
		go send("urlencoded", "application/x-www-form-urlencoded", form, false)
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	<-sampled
	close(results)

	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	const mb = 1 << 20
	growth := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / mb
	peakGrowth := (int64(peak.Load()) - int64(before.HeapAlloc)) / mb
	allocated := (after.TotalAlloc - before.TotalAlloc) / mb
	t.Logf("%d bodies of %d MB in %s: the clients wrote %d MB in all; heap %d MB before, %d MB after GC (%+d MB), peak %+d MB; "+
		"%d MB allocated in all; memory from the OS %d → %d MB",
		2*n, size/mb, elapsed.Round(time.Millisecond), sent.Load()/mb, before.HeapAlloc/mb, after.HeapAlloc/mb, growth, peakGrowth,
		allocated, before.Sys/mb, after.Sys/mb)

	want := map[string]int{"multipart": http.StatusUnsupportedMediaType, "urlencoded": http.StatusRequestEntityTooLarge}
	for r := range results {
		if r.err != nil || r.status != want[r.what] || !r.closed {
			t.Errorf("%s (Content-Length given: %t): %d, connection closed %t (%v), want %d and closed",
				r.what, r.announced, r.status, r.closed, r.err, want[r.what])
		}
	}
	// A few MB of slack for what the GC has not returned and the app's
	// own caches; reading even one body whole would be 100 MB.
	if growth > 8 {
		t.Errorf("the heap grew by %d MB after the flood", growth)
	}
	if peakGrowth > 48 || allocated > 64 {
		t.Errorf("the heap peaked %d MB above where it was and %d MB were allocated: bodies were read", peakGrowth, allocated)
	}
}
