package events

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// eventICS serves /events/{slug}.ics.
func (h *Handler) eventICS(c *gin.Context) {
	c.Status(http.StatusNotImplemented)
}
