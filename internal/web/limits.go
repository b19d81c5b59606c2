package web

// Request bodies. Every body Møteplass reads is a form a person filled in
// (application/x-www-form-urlencoded): no page takes a file, and the JSON
// API only answers GETs. So one limit caps every body, multipart is
// refused before a byte of it is read, and the form is parsed here, before
// the CSRF check, so that a body over the limit is answered as what it is
// (413) and not as an empty CSRF token (403).

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// MaxFormBytes caps every request body. The largest form a person can
// send is the organiser's event form with every field at its limit (20 000
// characters of description, 200 agenda rows of 200-character title and
// introducer): about 150 KB urlencoded, when the text is Norwegian prose.
// The message to attendees at its limit is 14 KB, a sign-up 2 KB. 256 KiB
// leaves that form room and holds a flood of bodies to a few MB.
//
// A route that one day takes an upload must be let through here with a
// limit of its own: this runs for every route, before the CSRF check
// reads the body.
const MaxFormBytes = 256 << 10

// The answers to a body refused.
var (
	ErrTooLarge  = Errorf(http.StatusRequestEntityTooLarge, "error.too_large")
	ErrNoUploads = Errorf(http.StatusUnsupportedMediaType, "error.no_uploads")
)

// LimitBody caps the request body at max bytes and parses a posted form.
// A multipart body is refused (ErrNoUploads) and so is one whose
// Content-Length is over max (ErrTooLarge), both before anything is read;
// a streamed body is read to max+1 bytes at most. fail answers (the error
// page, or JSON for the API).
//
// The connection is then net/http's to close: it does so without reading
// a body announced over 256 KB, discards at most 256 KB of a streamed one
// (into nothing), and waits a moment before closing, so that the client
// reads the answer instead of a reset connection. Setting "Connection:
// close" here would close at once and lose the answer.
func LimitBody(max int64, fail func(c *gin.Context, err error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		req := c.Request
		refuse := func(err error) {
			fail(c, err)
			c.Abort()
		}
		if isMultipart(req.Header.Get("Content-Type")) {
			refuse(ErrNoUploads)
			return
		}
		if req.ContentLength > max {
			refuse(ErrTooLarge)
			return
		}
		if req.Body != nil {
			// net/http's own writer: MaxBytesReader tells it the limit was
			// hit, and it then closes the connection instead of reading on
			req.Body = http.MaxBytesReader(serverWriter(c.Writer), req.Body, max)
		}
		switch req.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			// what net/http reads as a form (urlencoded); other bodies are
			// left to the handler, capped all the same
			if err := req.ParseForm(); err != nil {
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					refuse(ErrTooLarge)
				} else {
					refuse(ErrBadRequest)
				}
				return
			}
		}
		c.Next()
	}
}

// isMultipart reports whether a Content-Type is multipart/anything, even
// one too malformed to parse (net/http would not read it, but no page
// here wants it either).
func isMultipart(contentType string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "multipart/")
}

// serverWriter is the http.ResponseWriter under gin's wrappers.
func serverWriter(w http.ResponseWriter) http.ResponseWriter {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}
