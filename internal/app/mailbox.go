package app

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/mailer"
)

// Mailbox is the development mailbox: with no mail server configured, it
// shows every message in the outbox as it would arrive, so a new user sees
// the emails without setting anything up. It is only mounted then; with a
// real relay the outbox holds real people's mail and stays private (see
// wire and the route table).
//
// Even then it is for logged-in admins only: the outbox holds every manage
// link and password reset link, so a mailbox open to visitors would hand
// out everyone's registrations and the admin account itself.
type Mailbox struct {
	DB  *db.DB
	Cfg mailer.Config
	R   *web.Renderer
}

// MailboxPage is the data of the mailbox pages.
type MailboxPage struct {
	Messages []mailer.Stored
	Message  mailer.Stored
}

func (m *Mailbox) list(c *gin.Context) {
	msgs, err := mailer.List(c.Request.Context(), m.DB.Read(), 200, 0)
	if err != nil {
		m.R.Fail(c, err)
		return
	}
	p := m.R.NewPage(c, m.R.T(c, "mailbox.title"), MailboxPage{Messages: msgs})
	p.Meta.NoIndex = true
	m.R.Render(c, http.StatusOK, "dev_mailbox", p)
}

func (m *Mailbox) find(c *gin.Context) (mailer.Stored, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		m.R.Fail(c, web.ErrNotFound)
		return mailer.Stored{}, false
	}
	s, err := mailer.Get(c.Request.Context(), m.DB.Read(), id)
	if errors.Is(err, mailer.ErrNotFound) {
		err = web.ErrNotFound
	}
	if err != nil {
		m.R.Fail(c, err)
		return mailer.Stored{}, false
	}
	return s, true
}

func (m *Mailbox) show(c *gin.Context) {
	s, ok := m.find(c)
	if !ok {
		return
	}
	p := m.R.NewPage(c, s.Subject, MailboxPage{Message: s})
	p.Meta.NoIndex = true
	m.R.Render(c, http.StatusOK, "dev_message", p)
}

// html serves the HTML part on its own, sandboxed: it is shown in an
// iframe and may run nothing.
func (m *Mailbox) html(c *gin.Context) {
	s, ok := m.find(c)
	if !ok {
		return
	}
	c.Header("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'")
	c.Header("X-Frame-Options", "SAMEORIGIN")
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(s.HTMLBody))
}

// raw serves the whole message, headers and parts, as an .eml file.
func (m *Mailbox) raw(c *gin.Context) {
	s, ok := m.find(c)
	if !ok {
		return
	}
	b, err := mailer.Raw(c.Request.Context(), m.DB.Read(), m.Cfg, s.ID)
	if err != nil {
		m.R.Fail(c, err)
		return
	}
	c.Header("Content-Disposition", "inline; filename=\"message-"+strconv.FormatInt(s.ID, 10)+".eml\"")
	c.Data(http.StatusOK, "message/rfc822", b)
}
