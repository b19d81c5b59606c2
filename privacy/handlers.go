package privacy

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/organisers"
	"github.com/moteplass/moteplass/registration"
)

// Handler serves the data rights: from the manage link, the download
// (/r/{token}/export.json) and the erasure (/r/{token}/delete); for
// organisers, erasure on a person's request (/admin/erase).
type Handler struct {
	Rights *Rights
	// Manage is the manage pages these sit beside: the link, the answers.
	Manage *registration.Handler
	R      *web.Renderer
}

// NewHandler serves the data rights next to the manage pages.
func NewHandler(rights *Rights, manage *registration.Handler, r *web.Renderer) *Handler {
	return &Handler{Rights: rights, Manage: manage, R: r}
}

// Export is GET /r/{token}/export.json: a JSON file to save.
func (p *Handler) Export(c *gin.Context) {
	l, ok := p.Manage.LookupProven(c)
	if !ok {
		return
	}
	ex, err := p.Rights.Export(c.Request.Context(), l.Registration.EmailNorm)
	if err != nil {
		p.R.Fail(c, err)
		return
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ex); err != nil {
		p.R.Fail(c, err)
		return
	}
	name := "moteplass-" + ex.GeneratedAt.In(web.Oslo).Format("2006-01-02") + ".json"
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Data(http.StatusOK, "application/json; charset=utf-8", []byte(buf.String()))
}

// DeletePage asks "are you sure?" before an erasure and says what goes.
type DeletePage struct {
	Email     string
	Items     []registration.ErasureItem
	Action    string
	Back      string
	ExportURL string
}

// DeleteForm is GET /r/{token}/delete: "are you sure?", and what goes.
func (p *Handler) DeleteForm(c *gin.Context) {
	l, ok := p.Manage.LookupProven(c)
	if !ok {
		return
	}
	r := l.Registration
	items, err := p.Rights.Registrations.ErasurePreview(c.Request.Context(), r.EmailNorm)
	if err != nil {
		p.R.Fail(c, err)
		return
	}
	base := "/r/" + c.Param("token")
	pg := p.R.NewPage(c, p.R.T(c, "rights.delete.title"), DeletePage{
		Email: r.Email, Items: items, Action: base + "/delete", Back: base, ExportURL: base + "/export.json",
	})
	pg.Meta.NoIndex = true
	p.R.Render(c, http.StatusOK, "manage_delete", pg)
}

// Delete is POST /r/{token}/delete. The manage link stops working with it,
// so the answer is the privacy page with a message.
func (p *Handler) Delete(c *gin.Context) {
	l, ok := p.Manage.LookupProven(c)
	if !ok {
		return
	}
	_, err := p.Rights.Erase(c.Request.Context(), l.Registration.Email, EraseOptions{
		Audit: auditErasure(nil, "erasure of %d registrations, asked for by the person"),
	})
	if err != nil {
		p.R.Fail(c, err)
		return
	}
	p.Manage.Redirect(c, "/privacy", "flash.rights.deleted")
}

// ErasePage is the organisers' form for erasing a person on request.
type ErasePage struct {
	Email   string
	Error   string
	IsAdmin bool
}

// EraseForm is GET /admin/erase: the form for erasure on a person's request.
func (p *Handler) EraseForm(c *gin.Context) {
	p.renderErase(c, http.StatusOK, ErasePage{})
}

func (p *Handler) renderErase(c *gin.Context, status int, data ErasePage) {
	data.IsAdmin = organisers.CurrentUser(c).IsAdmin()
	pg := p.R.NewPage(c, p.R.T(c, "erase.title"), data)
	pg.Meta.NoIndex = true
	p.R.Render(c, status, "admin_erase", pg)
}

// Erase is POST /admin/erase: an admin erases everything about an address;
// an organiser only its registrations for their organisation's events.
// Every organisation affected records it in its audit log (how many
// registrations went, never the address).
func (p *Handler) Erase(c *gin.Context) {
	u := organisers.CurrentUser(c)
	form := ErasePage{Email: strings.TrimSpace(c.PostForm("email"))}
	addr, _, err := registration.ParseEmail(form.Email)
	if err != nil {
		form.Error = p.R.T(c, "erase.invalid")
		p.renderErase(c, http.StatusUnprocessableEntity, form)
		return
	}
	if c.PostForm("confirm") == "" {
		form.Error = p.R.T(c, "erase.confirm_missing")
		p.renderErase(c, http.StatusUnprocessableEntity, form)
		return
	}
	// each organisation whose attendee this was sees it in its own log
	opt := EraseOptions{Audit: auditErasure(u, "erasure of %d registrations on the person's request")}
	if !u.IsAdmin() {
		opt.OrganiserID = u.OrganiserID
	}
	_, err = p.Rights.Erase(c.Request.Context(), addr, opt)
	if errors.Is(err, registration.ErrNotFound) {
		form.Error = p.R.T(c, "erase.not_found")
		p.renderErase(c, http.StatusNotFound, form)
		return
	}
	if err != nil {
		p.R.Fail(c, err)
		return
	}
	p.Manage.Redirect(c, "/admin/erase", "flash.erase.done")
}
