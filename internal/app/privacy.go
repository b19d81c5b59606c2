package app

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/web"
)

// PrivacyPage is the data of /privacy: who is responsible and how long
// data is kept come from the configuration.
type PrivacyPage struct {
	ControllerName  string
	ControllerEmail string
	RetentionDays   int
}

func (a *App) privacy(rnd *web.Renderer) gin.HandlerFunc {
	data := PrivacyPage{ControllerName: a.Config.ControllerName, ControllerEmail: a.Config.ControllerEmail, RetentionDays: a.Config.RetentionDays}
	return func(c *gin.Context) {
		rnd.Render(c, http.StatusOK, "privacy", rnd.NewPage(c, rnd.T(c, "privacy.title"), data))
	}
}

// securityTxt is /.well-known/security.txt (RFC 9116): where to report a
// vulnerability. It expires a year after it is read, so it is never stale
// while the site runs; see docs/SECURITY.md.
func (a *App) securityTxt(c *gin.Context) {
	contact := a.Config.SecurityContact
	if contact == "" {
		contact = a.Config.ControllerEmail
	}
	if !strings.Contains(contact, ":") {
		contact = "mailto:" + contact
	}
	base := strings.TrimRight(a.Config.BaseURL, "/")
	expires := a.DB.Now().UTC().AddDate(1, 0, 0).Truncate(24 * time.Hour).Format(time.RFC3339)
	c.Header("Cache-Control", "max-age=86400")
	c.String(http.StatusOK, fmt.Sprintf("Contact: %s\nExpires: %s\nPreferred-Languages: nb, en\nCanonical: %s/.well-known/security.txt\n",
		contact, expires, base))
}
