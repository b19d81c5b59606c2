package registration

import "github.com/gin-gonic/gin"

// What the data rights' pages (privacy/) use of the manage pages: they are
// under the same links (/r/{token}/export.json, /r/{token}/delete) and
// answer the same way.

// LookupProven opens the request's manage link for what spans the person's
// registrations: only a link from an email will do (see Scope).
func (h *Handler) LookupProven(c *gin.Context) (Link, bool) { return h.lookupProven(c) }

// Redirect sends the browser to to, with a flash message (a catalogue key).
func (h *Handler) Redirect(c *gin.Context, to, flash string) { h.redirect(c, to, flash) }
