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
