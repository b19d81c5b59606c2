package organisers

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/secret"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/mailer"
)

// Handler serves login, logout, password reset and user management.
type Handler struct {
	Store    *Store
	R        *web.Renderer
	Cookies  web.Cookies
	ClientIP web.ClientIP
	// Resets sends the reset links asked for, after the answer.
	Resets *ResetSender
	// PerAddress counts every login and reset request of a client address;
	// Failures counts wrong passwords per client address and account.
	PerAddress *web.Limiter
	Failures   *FailureLimit
	// Organisations lists the organisations an admin can give users to.
	Organisations func(ctx context.Context) ([]Organisation, error)
	// RelayUTF8 says whether the mail server takes addresses with æ, ø, å
	// before the @ (mailer.Worker.AcceptsUTF8); nil: it does.
	RelayUTF8 func() bool
}

// Organisation is the little this package needs to know of an organiser.
type Organisation struct {
	ID   int64
	Name string
}

// LoginPage is the data of the login form.
type LoginPage struct {
	Email string
	Next  string
	Error string
}

// LoginForm is GET /admin/login.
func (h *Handler) LoginForm(c *gin.Context) {
	if CurrentUser(c) != nil {
		c.Redirect(http.StatusSeeOther, "/admin")
		return
	}
	p := h.R.NewPage(c, h.R.T(c, "login.title"), LoginPage{Next: safeNext(c.Query("next"))})
	p.Meta.NoIndex = true
	h.R.Render(c, http.StatusOK, "admin_login", p)
}

// Login is POST /admin/login: a session cookie for the right password.
func (h *Handler) Login(c *gin.Context) {
	email := strings.TrimSpace(c.PostForm("email"))
	lp := LoginPage{Email: email, Next: safeNext(c.PostForm("next"))}
	// Every attempt counts against the client address. Wrong passwords
	// count against the address and the account together: counted against
	// the account alone, a stranger's five guesses locked its owner out.
	client := clientKey(h.ClientIP.Of(c))
	guess, now := guessKey(client, email), h.Store.DB.Now()
	if !h.PerAddress.Allow(client) || h.Failures.Blocked(guess, now) {
		h.R.Fail(c, web.Errorf(http.StatusTooManyRequests, "error.rate_limited"))
		return
	}
	u, err := h.Store.Authenticate(c.Request.Context(), email, c.PostForm("password"))
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			h.R.Fail(c, err)
			return
		}
		h.Failures.Fail(guess, now)
		lp.Error = h.R.T(c, "login.failed")
		p := h.R.NewPage(c, h.R.T(c, "login.title"), lp)
		p.Meta.NoIndex = true
		h.R.Render(c, http.StatusUnauthorized, "admin_login", p)
		return
	}
	h.Failures.Forget(guess)
	token, err := h.Store.CreateSession(c.Request.Context(), u.ID)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", MaxAge: int(SessionLifetime.Seconds()),
		HttpOnly: true, Secure: h.Cookies.Secure, SameSite: http.SameSiteLaxMode})
	next := lp.Next
	if next == "" {
		next = "/admin"
	}
	c.Redirect(http.StatusSeeOther, next)
}

// maxNext is longer than any address of ours with its query.
const maxNext = 2048

// safeNext is the page to go to after the login, when it is a page of this
// site; otherwise "". next comes from a link anyone can make, so it is read
// the way a browser would read it in a Location header: browsers drop tabs
// and line breaks anywhere in a URL, and some drop other invisible
// characters, so "/\t/evil.example/" reaches them as "//evil.example/",
// another host. Those characters are stripped first, and what remains must
// be a path of this site: one leading slash (not "//", not "/\", which
// browsers read as "//"), no backslash or raw space at all (browsers strip
// a leading space, and " //x" is "//x" to them), no scheme, no host. The
// decoded path must pass the same test: a browser does not decode
// "/%09/evil.example/" or "/%2F/x", but something between us and it might,
// and no page of ours has an escaped control character, backslash or
// empty first segment.
func safeNext(next string) string {
	if len(next) > maxNext || !utf8.ValidString(next) {
		return ""
	}
	next = strings.Map(func(r rune) rune {
		if invisible(r) {
			return -1
		}
		return r
	}, next)
	if strings.ContainsFunc(next, unicode.IsSpace) || !sameSitePath(next) {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!sameSitePath(u.Path) || strings.ContainsFunc(u.Path, invisible) {
		return ""
	}
	return next
}

// invisible reports whether browsers may drop r from a URL: C0 and C1
// controls, DEL, and the format characters (zero-width space, byte order
// mark, direction marks, soft hyphen).
func invisible(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }

// sameSitePath reports whether p starts with one slash, not two, and
// holds no backslash (browsers read "/\" as "//").
func sameSitePath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.ContainsRune(p, '\\')
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// Logout is POST /admin/logout.
func (h *Handler) Logout(c *gin.Context) {
	if token, err := c.Cookie(sessionCookie); err == nil {
		if err := h.Store.DeleteSession(c.Request.Context(), token); err != nil {
			c.Error(err)
		}
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: h.Cookies.Secure, SameSite: http.SameSiteLaxMode})
	web.SetFlash(c, h.Cookies, "flash.logged_out")
	c.Redirect(http.StatusSeeOther, "/admin/login")
}

// ResetPage is the data of the password reset pages.
type ResetPage struct {
	Email string
	Sent  bool
	Token string
	Error string
}

// ResetRequestForm is GET /admin/reset: the form that asks for a reset link.
func (h *Handler) ResetRequestForm(c *gin.Context) {
	h.renderResetRequest(c, http.StatusOK, ResetPage{})
}

// ResetRequest answers the same, in the same time, whether the account
// exists or not: it asks the database nothing and leaves the rest to the
// background sender. Only the address's form is checked here; that it is
// unsendable says nothing about whether someone has it.
func (h *Handler) ResetRequest(c *gin.Context) {
	email := strings.TrimSpace(c.PostForm("email"))
	if !h.PerAddress.Allow(clientKey(h.ClientIP.Of(c))) {
		h.R.Fail(c, web.Errorf(http.StatusTooManyRequests, "error.rate_limited"))
		return
	}
	if checkAddress(email) != nil {
		h.renderResetRequest(c, http.StatusUnprocessableEntity, ResetPage{Email: email, Error: h.R.T(c, "reset.invalid_email")})
		return
	}
	h.Resets.Queue(email, web.Lang(c))
	h.renderResetRequest(c, http.StatusOK, ResetPage{Sent: true})
}

func (h *Handler) renderResetRequest(c *gin.Context, status int, rp ResetPage) {
	p := h.R.NewPage(c, h.R.T(c, "reset.title"), rp)
	p.Meta.NoIndex = true
	h.R.Render(c, status, "admin_reset_request", p)
}

// resetUser finds the user of a live reset token.
func (h *Handler) resetUser(ctx context.Context, token string) (int64, error) {
	var id int64
	err := h.Store.DB.Read().QueryRowContext(ctx, `SELECT user_id FROM password_resets WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`,
		secret.Hash(token), h.Store.DB.Now().UTC()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrResetExpired
	}
	return id, err
}

// ResetForm is GET /admin/reset/{token}: the form for a new password.
func (h *Handler) ResetForm(c *gin.Context) {
	if _, err := h.resetUser(c.Request.Context(), c.Param("token")); err != nil {
		h.R.Fail(c, err)
		return
	}
	p := h.R.NewPage(c, h.R.T(c, "reset.title"), ResetPage{Token: c.Param("token")})
	p.Meta.NoIndex = true
	c.Header("Referrer-Policy", "no-referrer")
	h.R.Render(c, http.StatusOK, "admin_reset", p)
}

// Reset is POST /admin/reset/{token}: the new password.
func (h *Handler) Reset(c *gin.Context) {
	token := c.Param("token")
	if _, err := h.resetUser(c.Request.Context(), token); err != nil {
		h.R.Fail(c, err)
		return
	}
	password := c.PostForm("password")
	if len([]rune(password)) < MinPasswordLength || password != c.PostForm("password_again") {
		p := h.R.NewPage(c, h.R.T(c, "reset.title"), ResetPage{Token: token, Error: h.R.T(c, "reset.invalid_password", "Min", MinPasswordLength)})
		p.Meta.NoIndex = true
		h.R.Render(c, http.StatusUnprocessableEntity, "admin_reset", p)
		return
	}
	if err := h.Store.ResetPassword(c.Request.Context(), token, password); err != nil {
		h.R.Fail(c, err)
		return
	}
	web.SetFlash(c, h.Cookies, "flash.password_changed")
	c.Redirect(http.StatusSeeOther, "/admin/login")
}

// UsersPage is the data of the user management page.
type UsersPage struct {
	Users         []User
	Organisations []Organisation
	Form          UserForm
	Error         string
}

// UserForm is a new account as typed.
type UserForm struct {
	Email, Name, Role string
	OrganiserID       int64
}

// Users is GET /admin/users: the accounts, and the form for a new one.
func (h *Handler) Users(c *gin.Context) {
	h.renderUsers(c, http.StatusOK, UserForm{Role: RoleOrganiser}, "")
}

func (h *Handler) renderUsers(c *gin.Context, status int, form UserForm, msg string) {
	us, err := h.Store.FindUsers(c.Request.Context(), 0)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	orgs, err := h.Organisations(c.Request.Context())
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	h.R.Render(c, status, "admin_users", h.R.NewPage(c, h.R.T(c, "users.title"), UsersPage{Users: us, Organisations: orgs, Form: form, Error: msg}))
}

// CreateUser is POST /admin/users.
func (h *Handler) CreateUser(c *gin.Context) {
	form := UserForm{Email: strings.TrimSpace(c.PostForm("email")), Name: strings.TrimSpace(c.PostForm("name")), Role: c.PostForm("role")}
	form.OrganiserID = web.ParseID(c.PostForm("organiser_id"))
	password := c.PostForm("password")
	if form.Email == "" || form.Name == "" || !validRole(form.Role) || (form.Role != RoleAdmin && form.OrganiserID == 0) || len([]rune(password)) < MinPasswordLength {
		h.renderUsers(c, http.StatusUnprocessableEntity, form, h.R.T(c, "users.invalid", "Min", MinPasswordLength))
		return
	}
	if checkAddress(form.Email) != nil {
		h.renderUsers(c, http.StatusUnprocessableEntity, form, h.R.T(c, "reset.invalid_email"))
		return
	}
	if _, err := mailer.ParseAddressFor(form.Email, h.RelayUTF8 == nil || h.RelayUTF8()); errors.Is(err, mailer.ErrAddressNeedsUTF8) {
		h.renderUsers(c, http.StatusUnprocessableEntity, form, h.R.T(c, "users.email_needs_utf8"))
		return
	}
	if form.Role == RoleAdmin {
		form.OrganiserID = 0
	}
	u := User{Email: form.Email, Name: form.Name, Role: form.Role, OrganiserID: form.OrganiserID}
	err := h.Store.DB.Tx(c.Request.Context(), func(tx *sql.Tx, now time.Time) error {
		if err := h.Store.CreateUser(c.Request.Context(), tx, now, &u, password); err != nil {
			return err
		}
		return Audit(c.Request.Context(), tx, now, CurrentUser(c), u.OrganiserID, "user_create", "user", u.ID, u.Role)
	})
	if err != nil {
		h.renderUsers(c, http.StatusUnprocessableEntity, form, h.R.T(c, "users.exists"))
		return
	}
	web.SetFlash(c, h.Cookies, "flash.user_created")
	c.Redirect(http.StatusSeeOther, "/admin/users")
}

// AuditPage is the data of the audit log page.
type AuditPage struct{ Entries []AuditEntry }

// Audit is GET /admin/audit: the audit log.
func (h *Handler) Audit(c *gin.Context) {
	u := CurrentUser(c)
	org := u.OrganiserID
	if u.IsAdmin() {
		org = 0
	}
	entries, err := h.Store.FindAudit(c.Request.Context(), org, 200)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	h.R.Render(c, http.StatusOK, "admin_audit", h.R.NewPage(c, h.R.T(c, "audit.title"), AuditPage{Entries: entries}))
}
