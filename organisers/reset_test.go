package organisers_test

// Password reset as an outside attacker tries it: the answer must not tell
// which addresses have an account (not by its words, its bytes or its
// time), an unsendable address is the user's mistake and not a 500, and a
// new password ends every older link and every session.

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/smtptest"
	"github.com/moteplass/moteplass/organisers"
)

// requestReset asks for a reset link for email and lets the background
// sender handle what was asked.
func requestReset(t *testing.T, a *app.App, cl *apptest.Client, email string) *httptest.ResponseRecorder {
	t.Helper()
	rec := cl.PostForm("/admin/reset", url.Values{"email": {email}})
	sendQueuedResets(t, a)
	return rec
}

// sendQueuedResets does now what the app's background job does while it
// serves: the reset requests waiting are looked up and their emails queued.
func sendQueuedResets(t testing.TB, a *app.App) {
	t.Helper()
	if _, err := a.Resets.SendQueued(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// resetLinks are the links of the reset emails in the outbox, oldest first.
func resetLinks(t *testing.T, a *app.App, to string) []string {
	t.Helper()
	rows, err := a.DB.Read().Query(`SELECT text_body FROM outbox WHERE kind = 'password_reset' AND to_address = ? ORDER BY id`, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var links []string
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			t.Fatal(err)
		}
		links = append(links, resetLink.FindString(body))
	}
	return links
}

func TestNewPasswordEndsOtherLinksAndSessions(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	before := apptest.DemoLogin(t, a.Router, organiser)
	apptest.Want(t, before.Get("/admin"), http.StatusOK)

	cl := apptest.NewClient(t, a.Router)
	requestReset(t, a, cl, organiser)
	requestReset(t, a, cl, organiser)
	links := resetLinks(t, a, organiser)
	if len(links) != 2 || links[0] == "" || links[1] == "" || links[0] == links[1] {
		t.Fatalf("want two different reset links, got %q", links)
	}
	newPassword := "sommer i Bergen er vakker"
	apptest.Want(t, cl.PostForm(links[1], url.Values{"password": {newPassword}, "password_again": {newPassword}}), http.StatusSeeOther)

	t.Run("the other link no longer works", func(t *testing.T) {
		apptest.Want(t, cl.Get(links[0]), http.StatusGone)
		other := "et annet passord fra lenken"
		apptest.Want(t, cl.PostForm(links[0], url.Values{"password": {other}, "password_again": {other}}), http.StatusGone)
		if _, code := login(t, a, organiser, other); code != http.StatusUnauthorized {
			t.Errorf("the older link set a password: login %d", code)
		}
	})
	t.Run("the link used no longer works", func(t *testing.T) {
		apptest.Want(t, cl.Get(links[1]), http.StatusGone)
	})
	t.Run("a session from before the change is logged out", func(t *testing.T) {
		rec := before.Get("/admin")
		apptest.Want(t, rec, http.StatusSeeOther)
		if !strings.HasPrefix(rec.Header().Get("Location"), "/admin/login") {
			t.Errorf("redirected to %q, want the login page", rec.Header().Get("Location"))
		}
	})
	t.Run("the new password logs in", func(t *testing.T) {
		if _, code := login(t, a, organiser, newPassword); code != http.StatusSeeOther {
			t.Errorf("login with the new password: %d", code)
		}
	})
}

// sameAnswer reports how two answers differ, if they do, once each
// client's CSRF token is taken out: the only part that may differ.
func sameAnswer(a, b *httptest.ResponseRecorder, tokenA, tokenB string) string {
	if a.Code != b.Code {
		return "status"
	}
	bodyA := bytes.ReplaceAll(a.Body.Bytes(), []byte(tokenA), []byte("CSRF"))
	bodyB := bytes.ReplaceAll(b.Body.Bytes(), []byte(tokenB), []byte("CSRF"))
	if !bytes.Equal(bodyA, bodyB) {
		return "body:\n" + string(bodyA) + "\n---\n" + string(bodyB)
	}
	for k := range a.Header() {
		if k != "Set-Cookie" && a.Header().Get(k) != b.Header().Get(k) {
			return "header " + k
		}
	}
	if len(a.Header()) != len(b.Header()) {
		return "headers"
	}
	return ""
}

func TestResetAnswerIsTheSameForEveryAddress(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	if _, err := a.DB.Write().Exec(`UPDATE users SET disabled_at = CURRENT_TIMESTAMP WHERE email = 'innsjekk@dfo.example.no'`); err != nil {
		t.Fatal(err)
	}
	post := func(email string) (*httptest.ResponseRecorder, string) {
		cl := apptest.NewClient(t, a.Router)
		token := cl.CSRFToken()
		return cl.PostForm("/admin/reset", url.Values{"email": {email}}), token
	}
	known, knownToken := post(organiser)
	apptest.Want(t, known, http.StatusOK)
	apptest.Says(t, known, "Hvis det finnes en konto med denne adressen")
	for name, email := range map[string]string{
		"an unknown address":              "ingen@example.no",
		"an unknown address, in capitals": "INGEN@EXAMPLE.NO",
		"a known address in capitals":     "ARRANGOR@DFO.EXAMPLE.NO",
		"a disabled account":              "innsjekk@dfo.example.no",
	} {
		rec, token := post(email)
		if diff := sameAnswer(known, rec, knownToken, token); diff != "" {
			t.Errorf("%s is answered unlike a known one: %s", name, diff)
		}
	}
}

// The request path asks the database nothing: the answer comes while
// another transaction holds the writer and every reading connection is
// taken. Had the handler looked the address up, it would wait for them,
// and the time it waited would tell whether the account exists.
func TestResetRequestAsksTheDatabaseNothing(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.NewClient(t, a.Router)
	cl.CSRFToken() // fetched before the database is held

	ctx := context.Background()
	held, release := make(chan struct{}), make(chan struct{})
	writerDone := make(chan error, 1)
	go func() {
		writerDone <- a.DB.Tx(ctx, func(*sql.Tx, time.Time) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	var readers []*sql.Conn
	for range a.DB.Read().Stats().MaxOpenConnections {
		c, err := a.DB.Read().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		readers = append(readers, c)
	}
	releaseAll := sync.OnceFunc(func() {
		close(release)
		for _, c := range readers {
			c.Close()
		}
	})
	t.Cleanup(releaseAll)

	answers := make(chan *httptest.ResponseRecorder, 2)
	go func() {
		answers <- cl.PostForm("/admin/reset", url.Values{"email": {organiser}})
		answers <- cl.PostForm("/admin/reset", url.Values{"email": {"ingen@example.no"}})
	}()
	for range 2 {
		select {
		case rec := <-answers:
			apptest.Want(t, rec, http.StatusOK)
		// Not a limit on speed: without a database the answer takes well
		// under a millisecond. A handler that queries waits here until the
		// database is released, that is forever.
		case <-time.After(30 * time.Second):
			t.Fatal("the reset answer waits for the database")
		}
	}
	releaseAll()
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	sendQueuedResets(t, a)
	if links := resetLinks(t, a, organiser); len(links) != 1 {
		t.Errorf("%d reset emails for the known address after the database was free, want 1", len(links))
	}
	var n int
	a.DB.Read().QueryRow(`SELECT COUNT(*) FROM outbox WHERE kind = 'password_reset'`).Scan(&n)
	if n != 1 {
		t.Errorf("%d reset emails in all, want 1 (none for the unknown address)", n)
	}
}

// With the app serving (its background jobs running) and a real SMTP
// server, a reset asked for a known address arrives there; one asked
// for an unknown address sends nothing.
func TestResetEmailArrivesOnlyForKnownAddress(t *testing.T) {
	srv := smtptest.Start(t)
	a := apptest.New(t, apptest.Options{Demo: true, Config: func(c *app.Config) {
		c.SMTPHost, c.SMTPPort, c.SMTPTLS, c.MailFrom = "127.0.0.1", srv.Port, "none", "moteplass@moteplass.example.no"
	}})
	apptest.Serve(t, a)
	cl := apptest.NewClient(t, a.Router)
	// the unknown address first: the sender takes requests in order, so once
	// the known one's email is here, the unknown one has been handled
	apptest.Want(t, cl.PostForm("/admin/reset", url.Values{"email": {"ingen@example.no"}}), http.StatusOK)
	apptest.Want(t, cl.PostForm("/admin/reset", url.Values{"email": {organiser}}), http.StatusOK)

	// generous: the jobs send at once; this is only how long we wait for
	// them on a slow, shared machine
	deadline := time.Now().Add(30 * time.Second)
	for len(srv.Messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d emails arrived, want 1", len(msgs))
	}
	if len(msgs[0].To) != 1 || msgs[0].To[0] != organiser {
		t.Errorf("the email went to %v, want %s", msgs[0].To, organiser)
	}
	if text := textPart(t, msgs[0].Data); !resetLink.MatchString(text) {
		t.Errorf("no reset link in the email:\n%s", text)
	}
}

// textPart is the plain-text part of a raw message, decoded.
func textPart(t *testing.T, raw []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	parts := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := parts.NextPart()
		if err != nil {
			t.Fatalf("no text part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, err := io.ReadAll(p) // the reader undoes quoted-printable
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}

func TestResetRefusesAnUnsendableAddress(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	for name, email := range map[string]string{
		"an underscore in the domain": "ola@x_y.no",
		"a line break and header":     "ola@example.no\r\nBcc: x@evil.example",
		"no @":                        "ikke en adresse",
		"empty":                       "",
		"a display name":              "Ola <ola@example.no>",
	} {
		t.Run(name, func(t *testing.T) {
			cl := apptest.NewClient(t, a.Router)
			rec := cl.PostForm("/admin/reset", url.Values{"email": {email}})
			apptest.Want(t, rec, http.StatusUnprocessableEntity)
			apptest.Says(t, rec, "Skriv en gyldig e-postadresse")
			apptest.DoesNotSay(t, rec, "Hvis det finnes en konto")

			cl.Header.Set("Accept-Language", "en")
			rec = cl.PostForm("/admin/reset", url.Values{"email": {email}})
			apptest.Want(t, rec, http.StatusUnprocessableEntity)
			apptest.Says(t, rec, "Enter a valid email address")
		})
	}
	// an account saved before addresses were checked at creation
	if _, err := a.DB.Write().Exec(`INSERT INTO users (email, name, password_hash, role, created_at) VALUES ('øyvind@moteplass-.example.no', 'Øyvind', 'x', 'admin', CURRENT_TIMESTAMP)`); err != nil {
		t.Fatal(err)
	}
	t.Run("an old account with an unsendable address", func(t *testing.T) {
		rec := apptest.NewClient(t, a.Router).PostForm("/admin/reset", url.Values{"email": {"øyvind@moteplass-.example.no"}})
		apptest.Want(t, rec, http.StatusUnprocessableEntity)
		apptest.Says(t, rec, "Skriv en gyldig e-postadresse")
	})
	sendQueuedResets(t, a)
	var n int
	a.DB.Read().QueryRow(`SELECT COUNT(*) FROM outbox`).Scan(&n)
	if n != 0 {
		t.Errorf("%d emails queued for unsendable addresses", n)
	}
}

// A benchmark, not a test: the time of a reset request for a known and an
// unknown address, through the router of a served app (its background jobs
// running, as in production). The two alternate, so a busy machine slows
// both alike; the medians are reported. Run with
// go test -run '^$' -bench BenchmarkResetRequest ./organisers/
func BenchmarkResetRequest(b *testing.B) {
	a := apptest.New(b, apptest.Options{Demo: true})
	apptest.Serve(b, a)
	cl := apptest.NewClient(b, a.Router)
	token := cl.CSRFToken()
	emails := [2]string{organiser, "ingen@example.no"}
	var took [2][]time.Duration
	for i := 0; b.Loop(); i++ {
		body := url.Values{"email": {emails[i%2]}, "csrf_token": {token}}.Encode()
		req := httptest.NewRequest(http.MethodPost, "/admin/reset", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		// a new client address each time, or the limit of 20 a minute
		// answers instead of the handler
		req.RemoteAddr = testAddress(i)
		start := time.Now()
		rec := cl.Do(req)
		took[i%2] = append(took[i%2], time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.ReportMetric(float64(median(took[0]).Microseconds()), "µs/known")
	b.ReportMetric(float64(median(took[1]).Microseconds()), "µs/unknown")
}

// safeBuffer is a log the app's goroutines may write at once.
type safeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// When more requests wait than the sender keeps, the next is dropped: the
// visitor is answered as always, and the log counts the drops without the
// address.
func TestResetQueueFullAnswersTheSame(t *testing.T) {
	logs := &safeBuffer{}
	a := apptest.New(t, apptest.Options{Demo: true, Log: logs})
	for range organisers.ResetQueueSize {
		if !a.Resets.Queue("ingen@example.no", "nb") {
			t.Fatal("the queue is full before its size")
		}
	}
	cl := apptest.NewClient(t, a.Router)
	token := cl.CSRFToken()
	dropped := cl.PostForm("/admin/reset", url.Values{"email": {organiser}})
	apptest.Want(t, dropped, http.StatusOK)
	if n, err := a.Resets.SendQueued(context.Background()); err != nil || n != organisers.ResetQueueSize {
		t.Fatalf("sent %d (%v), want the %d queued", n, err, organisers.ResetQueueSize)
	}
	queued := cl.PostForm("/admin/reset", url.Values{"email": {organiser}})
	if diff := sameAnswer(queued, dropped, token, token); diff != "" {
		t.Errorf("a dropped request is answered unlike a queued one: %s", diff)
	}
	out := logs.String()
	if !strings.Contains(out, `"dropped_total":1`) {
		t.Errorf("the log does not count the dropped request:\n%s", out)
	}
	if strings.Contains(strings.ToLower(out), organiser) || strings.Contains(out, "ingen@example.no") {
		t.Errorf("the log holds an address:\n%s", out)
	}
	sendQueuedResets(t, a)
	if links := resetLinks(t, a, organiser); len(links) != 1 {
		t.Errorf("%d reset emails, want 1 (the request after the queue had room)", len(links))
	}
}

// A stranger asking again and again fills nobody's inbox: an account has
// at most three working links, and using one makes room again.
func TestResetLinksPerAccountAreCapped(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.NewClient(t, a.Router)
	for range 6 {
		apptest.Want(t, requestReset(t, a, cl, organiser), http.StatusOK)
	}
	links := resetLinks(t, a, organiser)
	if len(links) != organisers.MaxLiveResets {
		t.Fatalf("%d reset emails for 6 requests, want %d", len(links), organisers.MaxLiveResets)
	}
	pw := "sommer i Bergen er vakker"
	apptest.Want(t, cl.PostForm(links[2], url.Values{"password": {pw}, "password_again": {pw}}), http.StatusSeeOther)
	requestReset(t, a, cl, organiser)
	if n := len(resetLinks(t, a, organiser)); n != organisers.MaxLiveResets+1 {
		t.Errorf("after a new password, a new request sends %d emails in all, want %d", n, organisers.MaxLiveResets+1)
	}
}
