package app

import (
	"net/http"

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
