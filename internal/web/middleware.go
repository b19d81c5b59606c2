package web

import (
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/secret"
)

const (
	langKey  = "moteplass.lang"
	csrfKey  = "moteplass.csrf"
	userKey  = "moteplass.user"
	flashKey = "moteplass.flash"

	langCookie  = "lang"
	csrfCookie  = "csrf"
	flashCookie = "flash"

	// CSRFField is the hidden form field every form carries.
	CSRFField = "csrf_token"
)

// Cookies says how cookies are set: Secure when the site is served over https.
type Cookies struct {
	Secure bool
}

func (ck Cookies) set(c *gin.Context, name, value string, maxAge int, httpOnly bool) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: httpOnly, Secure: ck.Secure, SameSite: http.SameSiteLaxMode,
	})
}

// Language picks the page language (?lang=, cookie, Accept-Language) and
// remembers an explicit choice in a cookie for a year.
func Language(ck Cookies) gin.HandlerFunc {
	accept := &acceptLanguages{max: 512, m: map[string]string{}}
	return func(c *gin.Context) {
		explicit := c.Query("lang")
		cookie, _ := c.Cookie(langCookie)
		lang := normaliseLang(explicit)
		if lang == "" {
			lang = normaliseLang(cookie)
		}
		if lang == "" {
			lang = accept.pick(c.GetHeader("Accept-Language"))
		}
		if normaliseLang(explicit) != "" && explicit != cookie {
			ck.set(c, langCookie, lang, 365*24*3600, false)
		}
		c.Set(langKey, lang)
		c.Header("Content-Language", lang)
		c.Header("Vary", "Accept-Language, Cookie")
		c.Next()
	}
}

// Lang is the request's language ("nb" or "en").
func Lang(c *gin.Context) string {
	if v, ok := c.Get(langKey); ok {
		return v.(string)
	}
	return "nb"
}

// CSRF protects every state-changing request with the double-submit
// pattern: a random token in an HttpOnly, SameSite=Lax cookie that each form
// repeats in a hidden field. A cross-site page can neither read the cookie
// nor make the browser send it on a cross-site POST. Requests without a
// session cookie at all (API clients, feeds) are only GETs here.
func CSRF(ck Cookies, onFail gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		token, err := c.Cookie(csrfCookie)
		if err != nil || len(token) < 32 {
			token = randomToken()
			ck.set(c, csrfCookie, token, 0, true)
		}
		c.Set(csrfKey, token)
		switch c.Request.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			c.Next()
			return
		}
		sent := c.PostForm(CSRFField)
		if sent == "" {
			sent = c.GetHeader("X-CSRF-Token")
		}
		if err != nil || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
			onFail(c)
			c.Abort()
			return
		}
		c.Next()
	}
}

// CSRFToken is the token the request's forms must carry.
func CSRFToken(c *gin.Context) string {
	if v, ok := c.Get(csrfKey); ok {
		return v.(string)
	}
	return ""
}

func randomToken() string {
	return base64.RawURLEncoding.EncodeToString(secret.Random(secret.Bytes))
}

// SetFlash leaves a message (a catalogue key) for the next page the browser
// opens, after a redirect.
func SetFlash(c *gin.Context, ck Cookies, key string) {
	ck.set(c, flashCookie, url.QueryEscape(key), 60, true)
}

// TakeFlash reads and clears the flash message, translated.
func TakeFlash(c *gin.Context, cat *Catalogue) string {
	if v, ok := c.Get(flashKey); ok {
		return v.(string)
	}
	raw, err := c.Cookie(flashCookie)
	if err != nil || raw == "" {
		return ""
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	key, _ := url.QueryUnescape(raw)
	if !strings.HasPrefix(key, "flash.") || !cat.Has(Lang(c), key) {
		return ""
	}
	msg := cat.T(Lang(c), key)
	c.Set(flashKey, msg)
	return msg
}

// HasFlash reports whether a flash message waits, so a cached page is not
// served in its place.
func HasFlash(c *gin.Context) bool {
	v, err := c.Cookie(flashCookie)
	return err == nil && v != ""
}

// SetUser records who is logged in for this request (organisers' middleware).
func SetUser(c *gin.Context, u any) { c.Set(userKey, u) }

// RequestLog writes one structured line per request. It logs the route
// pattern, never the path (manage links carry secret tokens), and never the
// client address, query or form values: no personal data in logs.
func RequestLog(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		attrs := []slog.Attr{
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", c.Writer.Status()),
			slog.Int("bytes", c.Writer.Size()),
			slog.Duration("duration", time.Since(start)),
		}
		level := slog.LevelInfo
		if len(c.Errors) > 0 {
			level = slog.LevelError
			attrs = append(attrs, slog.String("error", c.Errors.Last().Error()))
		}
		logger.LogAttrs(c.Request.Context(), level, "request", attrs...)
	}
}

// Private marks pages that carry a secret token in their URL or personal
// data in their body: never sent on as a Referer, never stored by a cache,
// never indexed.
func Private(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex")
	c.Next()
}

// SecurityHeaders sets the headers every response carries.
func SecurityHeaders(https bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), interest-cohort=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if https {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		c.Next()
	}
}
