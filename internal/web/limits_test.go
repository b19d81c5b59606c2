package web_test

// LimitBody: a body over the limit is refused with 413 (without reading a
// byte when Content-Length says so, after at most limit+1 bytes when it is
// streamed), a multipart body with 415 before anything is read, and a form
// up to the limit reaches the handler parsed.

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/web"
)

// countingBody is a request body that counts what the server read of it.
type countingBody struct {
	r    io.Reader
	read int
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += n
	return n, err
}

func (b *countingBody) Close() error { return nil }

const testLimit = 1024

func limitRouter() *gin.Engine {
	r := gin.New()
	r.Use(web.LimitBody(testLimit, func(c *gin.Context, err error) {
		var we *web.Error
		errors.As(err, &we)
		c.String(we.Status, we.Key)
	}))
	r.POST("/form", func(c *gin.Context) { c.String(http.StatusOK, "a=%d", len(c.PostForm("a"))) })
	r.GET("/page", func(c *gin.Context) { c.String(http.StatusOK, "page") })
	return r
}

// formOf is a urlencoded form of exactly size bytes.
func formOf(size int) string {
	return "a=" + strings.Repeat("x", size-2)
}

func TestLimitBody(t *testing.T) {
	r := limitRouter()
	for _, c := range []struct {
		name        string
		method      string
		contentType string
		body        string
		streamed    bool // no Content-Length (chunked)
		status      int
		answer      string
		maxRead     int
	}{
		{"a form at the limit is read", "POST", "application/x-www-form-urlencoded", formOf(testLimit), false, 200, "a=1022", testLimit},
		{"streamed, at the limit", "POST", "application/x-www-form-urlencoded", formOf(testLimit), true, 200, "a=1022", testLimit},
		{"one byte over, by Content-Length: refused unread", "POST", "application/x-www-form-urlencoded", formOf(testLimit + 1), false, 413, "error.too_large", 0},
		{"one byte over, streamed: refused after limit+1 bytes", "POST", "application/x-www-form-urlencoded", formOf(testLimit + 1), true, 413, "error.too_large", testLimit + 1},
		{"far over, streamed", "POST", "application/x-www-form-urlencoded", formOf(100 * testLimit), true, 413, "error.too_large", testLimit + 1},
		{"multipart: refused unread", "POST", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--x--\r\n", false, 415, "error.no_uploads", 0},
		{"multipart streamed, any case", "POST", "Multipart/Form-Data; boundary=x", "--x\r\n", true, 415, "error.no_uploads", 0},
		{"multipart/mixed", "POST", "multipart/mixed; boundary=x", "--x\r\n", false, 415, "error.no_uploads", 0},
		{"a malformed multipart type", "POST", "multipart/form-data; boundary", "--x\r\n", false, 415, "error.no_uploads", 0},
		{"a malformed form", "POST", "application/x-www-form-urlencoded", "a=%zz", false, 400, "error.bad_request", 5},
		{"a GET with a huge body", "GET", "", formOf(testLimit + 1), false, 413, "error.too_large", 0},
		{"a GET without a body", "GET", "", "", false, 200, "page", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := "/form"
			if c.method == "GET" {
				path = "/page"
			}
			body := &countingBody{r: strings.NewReader(c.body)}
			req := httptest.NewRequest(c.method, path, body)
			req.ContentLength = int64(len(c.body))
			if c.streamed {
				req.ContentLength = -1
			}
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			rec := serve(r, req)
			if rec.Code != c.status || rec.Body.String() != c.answer {
				t.Errorf("%d %q, want %d %q", rec.Code, rec.Body.String(), c.status, c.answer)
			}
			if body.read > c.maxRead {
				t.Errorf("read %d bytes of the body, at most %d allowed", body.read, c.maxRead)
			}
		})
	}

	t.Run("the CSRF check after it sees the token of a form at the limit", func(t *testing.T) {
		r := gin.New()
		r.Use(web.LimitBody(testLimit, func(c *gin.Context, err error) { c.String(http.StatusRequestEntityTooLarge, "too large") }),
			web.CSRF(web.Cookies{}, func(c *gin.Context) { c.String(http.StatusForbidden, "csrf") }))
		r.POST("/form", func(c *gin.Context) { c.String(http.StatusOK, "saved") })
		token := strings.Repeat("t", 43)
		for _, c := range []struct {
			size   int
			status int
		}{{testLimit, 200}, {testLimit + 1, 413}} {
			form := url.Values{"csrf_token": {token}}.Encode() + "&pad="
			form += strings.Repeat("p", c.size-len(form))
			req := httptest.NewRequest("POST", "/form", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: "csrf", Value: token})
			if rec := serve(r, req); rec.Code != c.status {
				t.Errorf("%d bytes: %d %q, want %d", c.size, rec.Code, rec.Body.String(), c.status)
			}
		}
	})
}
