package organisers_test

// Tests of organiser accounts through the real router and a SQLite file:
// login and logout, the throttle on guessing, password reset by email
// (the link works once and expires), and who may manage users.

import (
	"context"
	"database/sql"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/demo"
	"github.com/moteplass/moteplass/internal/smtptest"
	"github.com/moteplass/moteplass/organisers"
)

const organiser = "arrangor@dfo.example.no"

func login(t *testing.T, a *app.App, email, password string) (*apptest.Client, int) {
	t.Helper()
	cl := apptest.NewClient(t, a.Router)
	rec := cl.PostForm("/admin/login", url.Values{"email": {email}, "password": {password}})
	return cl, rec.Code
}

func TestLoginAndLogout(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	tests := []struct {
		name, email, password string
		want                  int
	}{
		{"right password", organiser, demo.Password, http.StatusSeeOther},
		{"email in other case and with spaces", "  ARRANGOR@dfo.example.no ", demo.Password, http.StatusSeeOther},
		{"wrong password", organiser, "moteplass-demo-2025", http.StatusUnauthorized},
		{"unknown account", "ingen@example.no", demo.Password, http.StatusUnauthorized},
		{"empty password", organiser, "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, code := login(t, a, tt.email, tt.password)
			if code != tt.want {
				t.Fatalf("login: status %d, want %d", code, tt.want)
			}
			home := cl.Get("/admin")
			if tt.want == http.StatusSeeOther && home.Code != http.StatusOK {
				t.Errorf("after login /admin gives %d", home.Code)
			}
			if tt.want != http.StatusSeeOther && home.Code != http.StatusSeeOther {
				t.Errorf("without login /admin gives %d, want a redirect to the login page", home.Code)
			}
		})
	}

	t.Run("the wrong password says so without telling which part was wrong", func(t *testing.T) {
		cl := apptest.NewClient(t, a.Router)
		rec := cl.PostForm("/admin/login", url.Values{"email": {organiser}, "password": {"feil-passord-123"}})
		if !strings.Contains(apptest.Text(rec.Body.Bytes()), "E-postadressen eller passordet er feil") {
			t.Errorf("page: %s", apptest.Text(rec.Body.Bytes()))
		}
		if !strings.Contains(rec.Body.String(), `value="`+organiser+`"`) {
			t.Error("the typed email is not kept in the form")
		}
	})

	t.Run("session cookie is HttpOnly and SameSite=Lax, and logout ends it", func(t *testing.T) {
		cl := apptest.NewClient(t, a.Router)
		rec := cl.PostForm("/admin/login", url.Values{"email": {organiser}, "password": {demo.Password}})
		var session *http.Cookie
		for _, c := range rec.Result().Cookies() {
			if c.Name == "session" {
				session = c
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure {
			t.Fatalf("session cookie %+v", session)
		}
		out := cl.PostForm("/admin/logout", url.Values{})
		if out.Code != http.StatusSeeOther {
			t.Fatalf("logout: %d", out.Code)
		}
		// the old cookie no longer opens anything, even if a browser kept it
		again := apptest.NewClient(t, a.Router)
		req := httptestGet("/admin")
		req.AddCookie(session)
		if rec := again.Do(req); rec.Code != http.StatusSeeOther {
			t.Errorf("the ended session still opens /admin: %d", rec.Code)
		}
	})

	t.Run("login goes back to the page asked for, never off the site", func(t *testing.T) {
		// The form carries next from the link to the POST; both steps check
		// it, since a stranger can post the form as well as link to it.
		for next, want := range map[string]string{
			"/admin/audit":                        "/admin/audit",
			"/admin/events/3/attendees?sort=name": "/admin/events/3/attendees?sort=name",
			"//evil.example/x":                    "",
			"https://evil.example":                "",
			"/\\evil.example":                     "",
			"/\t/evil.example/":                   "",
			"/\n/evil":                            "",
			"/%09/evil.example/":                  "",
			"javascript:alert(1)":                 "",
		} {
			cl := apptest.NewClient(t, a.Router)
			form := cl.Get("/admin/login?next=" + url.QueryEscape(next))
			if got := hiddenNext.FindStringSubmatch(form.Body.String()); got == nil || html.UnescapeString(got[1]) != want {
				t.Errorf("next %q: the login form carries %q, want %q", next, got, want)
			}
			rec := cl.PostForm("/admin/login", url.Values{"email": {organiser}, "password": {demo.Password}, "next": {next}})
			if want == "" {
				want = "/admin"
			}
			if got := rec.Header().Get("Location"); got != want {
				t.Errorf("next %q: redirected to %q, want %q", next, got, want)
			}
		}
	})
}

func TestSecureCookiesOverHTTPS(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true, Config: func(c *app.Config) { c.BaseURL = "https://moteplass.example.no" }})
	cl := apptest.NewClient(t, a.Router)
	rec := cl.PostForm("/admin/login", url.Values{"email": {organiser}, "password": {demo.Password}})
	for _, c := range rec.Result().Cookies() {
		if c.Name == "session" && !c.Secure {
			t.Error("the session cookie is not Secure on an https site")
		}
	}
}

// loginFrom logs in from a client address of its own, as browsers on
// different networks do.
func loginFrom(t *testing.T, a *app.App, addr, email, password string) (*apptest.Client, int) {
	t.Helper()
	cl := apptest.NewClient(t, a.Router)
	form := url.Values{"email": {email}, "password": {password}, "csrf_token": {cl.CSRFToken()}}
	req := httptest.NewRequest(http.MethodPost, "/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = net.JoinHostPort(addr, "40000")
	return cl, cl.Do(req).Code
}

// median is the middle duration (ds is sorted in place).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// testAddress is the i-th of 65536 client addresses in 10.0.0.0/16.
func testAddress(i int) string {
	return "10.0." + itoa(int64(i>>8&255)) + "." + itoa(int64(i&255)) + ":40000"
}

// Guessing is slowed per client address and account: five wrong passwords
// for one account from one address in 15 minutes, twenty attempts of any
// kind from one address a minute. A stranger's guesses never lock the real
// person out, who logs in from an address of their own.
func TestLoginThrottle(t *testing.T) {
	const stranger, owner, colleague = "203.0.113.7", "198.51.100.20", "198.51.100.21"

	t.Run("five wrong passwords from one address stop that address guessing that account", func(t *testing.T) {
		a := apptest.New(t, apptest.Options{Demo: true})
		var codes []int
		for i := range 7 {
			_, code := loginFrom(t, a, stranger, organiser, "gjetter-passord-"+strconv.Itoa(i))
			codes = append(codes, code)
		}
		if codes[4] != http.StatusUnauthorized || codes[5] != http.StatusTooManyRequests || codes[6] != http.StatusTooManyRequests {
			t.Fatalf("statuses %v: want 401 five times, then 429", codes)
		}
		// even the right password waits, from that address
		if _, code := loginFrom(t, a, stranger, organiser, demo.Password); code != http.StatusTooManyRequests {
			t.Errorf("right password from the guessing address: %d, want 429", code)
		}
		// the same address may still log in to another account
		if _, code := loginFrom(t, a, stranger, "admin@moteplass.example.no", demo.Password); code != http.StatusSeeOther {
			t.Errorf("another account from the guessing address: %d, want 303", code)
		}
		// the owner, from their own address, is not locked out
		if _, code := loginFrom(t, a, owner, organiser, demo.Password); code != http.StatusSeeOther {
			t.Errorf("the owner from another address: %d, want 303", code)
		}
		// and after 15 minutes the guessing address may try again
		a.DB.Now = func() time.Time { return time.Now().Add(16 * time.Minute) }
		defer func() { a.DB.Now = time.Now }()
		if _, code := loginFrom(t, a, stranger, organiser, demo.Password); code != http.StatusSeeOther {
			t.Errorf("right password 16 minutes later: %d, want 303", code)
		}
	})

	t.Run("a stranger's fifty wrong passwords do not lock the owner out", func(t *testing.T) {
		a := apptest.New(t, apptest.Options{Demo: true})
		statuses := map[int]int{}
		for i := range 50 {
			_, code := loginFrom(t, a, stranger, organiser, "gjetter-passord-"+strconv.Itoa(i))
			statuses[code]++
		}
		if statuses[http.StatusUnauthorized] != 5 || statuses[http.StatusTooManyRequests] != 45 {
			t.Errorf("the stranger's 50 guesses: %v, want 5×401 and 45×429", statuses)
		}
		if _, code := loginFrom(t, a, owner, organiser, demo.Password); code != http.StatusSeeOther {
			t.Errorf("the owner's right password from their address: %d, want 303", code)
		}
		// the owner's own typo on their own address does not lock them out either
		if _, code := loginFrom(t, a, colleague, organiser, "skrivefeil-i-passordet"); code != http.StatusUnauthorized {
			t.Errorf("a typo: %d, want 401", code)
		}
		if _, code := loginFrom(t, a, colleague, organiser, demo.Password); code != http.StatusSeeOther {
			t.Errorf("the right password after a typo: %d, want 303", code)
		}
	})

	t.Run("an IPv6 client counts by its /64, since it can pick any address in it", func(t *testing.T) {
		a := apptest.New(t, apptest.Options{Demo: true})
		for i := range 5 {
			loginFrom(t, a, "2001:db8:1:2::"+strconv.Itoa(i+1), organiser, "gjetter-passord")
		}
		if _, code := loginFrom(t, a, "2001:db8:1:2::99", organiser, demo.Password); code != http.StatusTooManyRequests {
			t.Errorf("a new address in the guessing /64: %d, want 429", code)
		}
		if _, code := loginFrom(t, a, "2001:db8:1:3::1", organiser, demo.Password); code != http.StatusSeeOther {
			t.Errorf("the next /64: %d, want 303", code)
		}
	})

	t.Run("twenty attempts a minute from one address, whatever the accounts", func(t *testing.T) {
		a := apptest.New(t, apptest.Options{Demo: true})
		// Cheap hashes: the limit refills one attempt every 3 s, and 21
		// comparisons at the real cost take longer than that under -race.
		a.Accounts.BcryptCost = bcrypt.MinCost
		var last int
		for i := range 21 {
			_, last = loginFrom(t, a, stranger, "konto"+strconv.Itoa(i)+"@example.no", "gjetter-passord")
		}
		if last != http.StatusTooManyRequests {
			t.Errorf("the 21st attempt from one address in a minute: %d, want 429", last)
		}
		if _, code := loginFrom(t, a, owner, organiser, demo.Password); code != http.StatusSeeOther {
			t.Errorf("another address: %d, want 303", code)
		}
	})
}

var hiddenNext = regexp.MustCompile(`<input type="hidden" name="next" value="([^"]*)">`)

var resetLink = regexp.MustCompile(`/admin/reset/[A-Za-z0-9_-]{43}`)

func TestPasswordReset(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.NewClient(t, a.Router)

	// the answer is the same whether the account exists or not
	known := requestReset(t, a, cl, organiser)
	unknown := requestReset(t, a, cl, "ingen@example.no")
	if known.Code != http.StatusOK || apptest.Text(known.Body.Bytes()) != apptest.Text(unknown.Body.Bytes()) {
		t.Fatalf("the reset answer tells whether an account exists (%d vs %d)", known.Code, unknown.Code)
	}
	var to, body string
	var n int
	if err := a.DB.Read().QueryRow(`SELECT COUNT(*), MAX(to_address), MAX(text_body) FROM outbox WHERE kind = 'password_reset'`).Scan(&n, &to, &body); err != nil {
		t.Fatal(err)
	}
	if n != 1 || to != organiser {
		t.Fatalf("%d reset emails, to %q", n, to)
	}
	link := resetLink.FindString(body)
	if link == "" {
		t.Fatalf("no reset link in the email:\n%s", body)
	}

	t.Run("passwords that do not match or are short are refused", func(t *testing.T) {
		for _, pw := range [][2]string{{"kort", "kort"}, {"et langt passord her", "et annet langt passord"}} {
			rec := cl.PostForm(link, url.Values{"password": {pw[0]}, "password_again": {pw[1]}})
			if rec.Code != http.StatusUnprocessableEntity {
				t.Errorf("%q: %d", pw, rec.Code)
			}
		}
	})

	newPassword := "sommer i Bergen er vakker"
	if rec := cl.PostForm(link, url.Values{"password": {newPassword}, "password_again": {newPassword}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("set password: %d", rec.Code)
	}
	if _, code := login(t, a, organiser, newPassword); code != http.StatusSeeOther {
		t.Errorf("new password does not work: %d", code)
	}
	if _, code := login(t, a, organiser, demo.Password); code != http.StatusUnauthorized {
		t.Errorf("old password still works: %d", code)
	}
	if rec := cl.Get(link); rec.Code != http.StatusGone {
		t.Errorf("a used link gives %d, want 410", rec.Code)
	}

	t.Run("a link expires after an hour", func(t *testing.T) {
		requestReset(t, a, cl, organiser)
		var body string
		a.DB.Read().QueryRow(`SELECT text_body FROM outbox WHERE kind = 'password_reset' ORDER BY id DESC LIMIT 1`).Scan(&body)
		link := resetLink.FindString(body)
		a.DB.Now = func() time.Time { return time.Now().Add(61 * time.Minute) }
		defer func() { a.DB.Now = time.Now }()
		if rec := cl.Get(link); rec.Code != http.StatusGone {
			t.Errorf("an expired link gives %d, want 410", rec.Code)
		}
	})
}

func TestUsersPageIsForAdmins(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	org, _ := login(t, a, organiser, demo.Password)
	if rec := org.Get("/admin/users"); rec.Code != http.StatusForbidden {
		t.Errorf("organiser on /admin/users: %d, want 403", rec.Code)
	}
	if rec := org.PostForm("/admin/users", url.Values{"email": {"ny@dfo.example.no"}, "name": {"Ny"}, "role": {"admin"}, "password": {"et langt passord her"}}); rec.Code != http.StatusForbidden {
		t.Errorf("organiser creating an admin: %d, want 403", rec.Code)
	}
	adm, _ := login(t, a, "admin@moteplass.example.no", demo.Password)
	var dfo int64
	a.DB.Read().QueryRow(`SELECT id FROM organisers WHERE slug = 'dfo'`).Scan(&dfo)
	rec := adm.PostForm("/admin/users", url.Values{"email": {"ny@dfo.example.no"}, "name": {"Nora Ny"}, "role": {"checkin"},
		"organiser_id": {itoa(dfo)}, "password": {"et langt passord her"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("admin creating a user: %d %s", rec.Code, apptest.Text(rec.Body.Bytes()))
	}
	if _, code := login(t, a, "ny@dfo.example.no", "et langt passord her"); code != http.StatusSeeOther {
		t.Errorf("the new user cannot log in: %d", code)
	}
	var audit int
	a.DB.Read().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'user_create'`).Scan(&audit)
	if audit != 1 {
		t.Errorf("%d audit rows for the new user", audit)
	}
	// an address we cannot send to is refused, in the admin's language
	rec = adm.PostForm("/admin/users", url.Values{"email": {"øyvind@dfo_example.no"}, "name": {"Øyvind"}, "role": {"checkin"},
		"organiser_id": {itoa(dfo)}, "password": {"et langt passord her"}})
	apptest.Want(t, rec, http.StatusUnprocessableEntity)
	apptest.Says(t, rec, "Skriv en gyldig e-postadresse")
	if _, code := login(t, a, "øyvind@dfo_example.no", "et langt passord her"); code != http.StatusUnauthorized {
		t.Errorf("the refused user can log in: %d", code)
	}
	// a checkin user needs an organisation; a short password is refused
	for _, form := range []url.Values{
		{"email": {"x@example.no"}, "name": {"X"}, "role": {"checkin"}, "password": {"et langt passord her"}},
		{"email": {"y@example.no"}, "name": {"Y"}, "role": {"admin"}, "password": {"kort"}},
	} {
		if rec := adm.PostForm("/admin/users", form); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%v: %d, want 422", form, rec.Code)
		}
	}
}

// TestUsersWithNorwegianLettersNeedARelayThatTakesThem: an address with
// æ, ø or å before the @ is a real address; while the mail server has not
// said it takes such addresses (SMTPUTF8), the admin is told so, in their
// language, and nothing is created.
func TestUsersWithNorwegianLettersNeedARelayThatTakesThem(t *testing.T) {
	relay := smtptest.Start(t) // no SMTPUTF8, and not asked yet: "no"
	a := apptest.New(t, apptest.Options{Demo: true, Config: func(c *app.Config) {
		c.SMTPHost, c.SMTPPort, c.SMTPTLS = "127.0.0.1", relay.Port, "none"
	}})
	var dfo int64
	a.DB.Read().QueryRow(`SELECT id FROM organisers WHERE slug = 'dfo'`).Scan(&dfo)
	adm := apptest.DemoLogin(t, a.Router, "admin@moteplass.example.no")
	rec := adm.PostForm("/admin/users", url.Values{"email": {"øyvind@dfo.example.no"}, "name": {"Øyvind"}, "role": {"checkin"},
		"organiser_id": {itoa(dfo)}, "password": {"et langt passord her"}})
	apptest.Want(t, rec, http.StatusUnprocessableEntity)
	apptest.Says(t, rec, "æ, ø, å")
	if !strings.Contains(rec.Body.String(), `value="øyvind@dfo.example.no"`) {
		t.Error("the form lost the address")
	}
	var n int
	a.DB.Read().QueryRow(`SELECT COUNT(*) FROM users WHERE email LIKE 'øyvind%'`).Scan(&n)
	if n != 0 {
		t.Error("the user was created")
	}
}

func TestCreateUserRules(t *testing.T) {
	a := apptest.New(t, apptest.Options{})
	for _, tt := range []struct {
		name string
		u    organisers.User
		pw   string
	}{
		{"short password", organisers.User{Email: "a@example.no", Name: "A", Role: organisers.RoleAdmin}, "kort"},
		{"unknown role", organisers.User{Email: "b@example.no", Name: "B", Role: "superuser"}, "et langt passord her"},
		{"organiser without organisation", organisers.User{Email: "c@example.no", Name: "C", Role: organisers.RoleOrganiser}, "et langt passord her"},
		{"unsendable address (the command line creates users this way)", organisers.User{Email: "øyvind@x-.no", Name: "Ø", Role: organisers.RoleAdmin}, "et langt passord her"},
		{"address with a line break", organisers.User{Email: "d@example.no\nBcc: e@example.no", Name: "D", Role: organisers.RoleAdmin}, "et langt passord her"},
	} {
		err := a.DB.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error {
			return a.Accounts.CreateUser(context.Background(), tx, now, &tt.u, tt.pw)
		})
		if err == nil {
			t.Errorf("%s: created", tt.name)
		}
	}
}

func httptestGet(path string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, path, nil)
	return req
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A benchmark, not a test: a login with a wrong password for an account
// that exists and for one that does not, alternating, through the router;
// the medians are reported. Both cost one bcrypt comparison at the store's
// cost. Run with go test -run '^$' -bench BenchmarkLoginFailure ./organisers/
func BenchmarkLoginFailure(b *testing.B) {
	a := apptest.New(b, apptest.Options{})
	apptest.Serve(b, a) // its jobs make the dummy hash, as at start-up
	// made at the store's cost, as real accounts are (the demo's are cheap)
	if err := a.DB.Tx(context.Background(), func(tx *sql.Tx, now time.Time) error {
		return a.Accounts.CreateUser(context.Background(), tx, now, &organisers.User{Email: "ekte@example.no", Name: "Ekte", Role: organisers.RoleAdmin}, "et langt passord her")
	}); err != nil {
		b.Fatal(err)
	}
	cl := apptest.NewClient(b, a.Router)
	token := cl.CSRFToken()
	emails := [2]string{"ekte@example.no", "ingen@example.no"}
	var took [2][]time.Duration
	for i := 0; b.Loop(); i++ {
		body := url.Values{"email": {emails[i%2]}, "password": {"feil passord her"}, "csrf_token": {token}}.Encode()
		req := httptest.NewRequest(http.MethodPost, "/admin/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = testAddress(i) // past the limits, which answer at once
		start := time.Now()
		rec := cl.Do(req)
		took[i%2] = append(took[i%2], time.Since(start))
		if rec.Code != http.StatusUnauthorized {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.ReportMetric(float64(median(took[0]).Microseconds()), "µs/known")
	b.ReportMetric(float64(median(took[1]).Microseconds()), "µs/unknown")
}
