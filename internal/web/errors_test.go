package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/web"
)

// TestStorageFaultsAreTryAgainLater: whatever handler meets a busy
// database, storage that cannot be used (full disk, read-only or failing
// file system) or a deadline, the visitor gets 503 with Retry-After and a
// "try again shortly" page in their language, never the cause, never a
// 500; the cause goes to the request log. A safe error a domain chose
// itself (registration's "many are signing up") keeps its own page.
func TestStorageFaultsAreTryAgainLater(t *testing.T) {
	rnd := newRenderer(t)
	cause := "db: commit: database or disk is full (13) at /var/lib/secret.db"
	for _, c := range []struct {
		name string
		err  error
	}{
		{"storage unavailable", fmt.Errorf("%w: %s", db.ErrUnavailable, cause)},
		{"database busy", fmt.Errorf("%w: %s", db.ErrBusy, cause)},
		{"deadline", fmt.Errorf("db: waiting to write (%s): %w", cause, context.DeadlineExceeded)},
		{"client gone or server stopping", fmt.Errorf("%s: %w", cause, context.Canceled)},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, lang := range []struct{ query, title, says string }{
				{"", "Prøv igjen om litt", "er ingenting av det lagret"},
				{"?lang=en", "Please try again shortly", "nothing from it has been saved"},
			} {
				var logged []string
				r := errorRouter(t, rnd, func(g *gin.Context) {
					rnd.Fail(g, c.err)
					logged = g.Errors.Errors()
				})
				rec := httptest.NewRecorder()
				r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x"+lang.query, nil))
				if rec.Code != http.StatusServiceUnavailable {
					t.Fatalf("status %d, want 503", rec.Code)
				}
				if rec.Header().Get("Retry-After") == "" {
					t.Error("no Retry-After")
				}
				body := rec.Body.String()
				for _, s := range []string{lang.title, lang.says} {
					if !strings.Contains(body, s) {
						t.Errorf("the page (%q) does not say %q", lang.query, s)
					}
				}
				for _, s := range []string{"secret", "disk is full", "(13)", "db:"} {
					if strings.Contains(body, s) {
						t.Errorf("the page shows the cause (%q)", s)
					}
				}
				if len(logged) == 0 || !strings.Contains(strings.Join(logged, " "), "disk is full") {
					t.Errorf("the cause is not in the request's errors for the log: %q", logged)
				}
			}

			rec := httptest.NewRecorder()
			errorRouter(t, rnd, func(g *gin.Context) { rnd.FailAPI(g, c.err) }).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x?lang=en", nil))
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
				!strings.Contains(rec.Body.String(), `"error":"error.unavailable"`) || strings.Contains(rec.Body.String(), "secret") {
				t.Errorf("API: %d, Retry-After %q, %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body.String())
			}
		})
	}

	t.Run("a domain's own page for a busy database stays", func(t *testing.T) {
		rec := httptest.NewRecorder()
		errorRouter(t, rnd, func(g *gin.Context) {
			rnd.Fail(g, &web.Error{Status: http.StatusServiceUnavailable, Key: "error.busy", Err: db.ErrBusy})
		}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "Mange melder seg på") {
			t.Errorf("%d: %s", rec.Code, rec.Body.String())
		}
	})

	t.Run("other errors are still a 500", func(t *testing.T) {
		rec := httptest.NewRecorder()
		errorRouter(t, rnd, func(g *gin.Context) { rnd.Fail(g, errors.New("nil map")) }).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
		if rec.Code != http.StatusInternalServerError || rec.Header().Get("Retry-After") != "" {
			t.Errorf("%d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
		}
	})
}

// TestRefusalsAreMappedHere: domain code says what sort of no it is; the
// page gets the status for that sort and the refusal's own message, in
// the user's language, however deep the refusal is wrapped, and nothing of
// it goes to the log (a refusal is an answer, not a fault).
func TestRefusalsAreMappedHere(t *testing.T) {
	rnd := newRenderer(t)
	for _, c := range []struct {
		name   string
		err    error
		status int
		says   string
	}{
		{"the state does not allow it", web.Refuse("error.registration.too_late"), http.StatusConflict, "For sent å melde seg av her"},
		{"no such thing", &web.Refusal{Kind: web.NotFound, Key: "error.not_found", Why: "events: not found"}, http.StatusNotFound, "Fant ikke siden"},
		{"not for this user", &web.Refusal{Kind: web.Forbidden, Key: "error.forbidden"}, http.StatusForbidden, "Ingen tilgang"},
		{"a link that no longer works", &web.Refusal{Kind: web.Expired, Key: "intro.expired"}, http.StatusGone, "Lenken er utløpt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logged []string
			rec := httptest.NewRecorder()
			errorRouter(t, rnd, func(g *gin.Context) {
				rnd.Fail(g, fmt.Errorf("somewhere: %w", c.err))
				logged = g.Errors.Errors()
			}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
			if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.says) {
				t.Errorf("%d, want %d saying %q: %.300s", rec.Code, c.status, c.says, rec.Body.String())
			}
			if len(logged) != 0 {
				t.Errorf("a refusal was logged as an error: %q", logged)
			}
			rec = httptest.NewRecorder()
			errorRouter(t, rnd, func(g *gin.Context) { rnd.FailAPI(g, c.err) }).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
			if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.err.(*web.Refusal).Key) {
				t.Errorf("API: %d, want %d: %s", rec.Code, c.status, rec.Body.String())
			}
		})
	}

	t.Run("only a conflict is a page's own to show", func(t *testing.T) {
		r, ok := web.AsConflict(fmt.Errorf("x: %w", web.Refuse("admin.refused.unpublish_registrations", "Count", 3)))
		if !ok || r.Key != "admin.refused.unpublish_registrations" || len(r.Args) != 2 {
			t.Errorf("AsConflict = %+v, %v", r, ok)
		}
		for _, err := range []error{&web.Refusal{Kind: web.Forbidden, Key: "error.forbidden"}, &web.Refusal{Kind: web.NotFound, Key: "error.not_found"}, errors.New("x"), nil} {
			if r, ok := web.AsConflict(err); ok {
				t.Errorf("AsConflict(%v) = %+v", err, r)
			}
		}
	})
}

// TestBusyPage: a domain wires its handlers with its own page for a busy
// database or a slow answer; storage that cannot be used keeps the
// general page, and the renderer the domain was given keeps its own.
func TestBusyPage(t *testing.T) {
	rnd := newRenderer(t)
	signUps := rnd.WithBusyPage("error.busy")
	for _, c := range []struct {
		name string
		rnd  *web.Renderer
		err  error
		says string
	}{
		{"busy, with a busy page", signUps, fmt.Errorf("registration: register: %w", db.ErrBusy), "Mange melder seg på akkurat nå"},
		{"deadline, with a busy page", signUps, context.DeadlineExceeded, "Mange melder seg på akkurat nå"},
		{"storage gone, with a busy page", signUps, db.ErrUnavailable, "Prøv igjen om litt"},
		{"busy, without", rnd, db.ErrBusy, "Prøv igjen om litt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			errorRouter(t, c.rnd, func(g *gin.Context) { c.rnd.Fail(g, c.err) }).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), c.says) {
				t.Errorf("%d, Retry-After %q, want 503 saying %q: %.300s", rec.Code, rec.Header().Get("Retry-After"), c.says, rec.Body.String())
			}
		})
	}
}
