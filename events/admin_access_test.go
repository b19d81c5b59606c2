package events_test

// Who may do what on the organiser pages of events: an organiser only with
// their organisation's events and series, a check-in volunteer only the
// home list. The adm helpers are in admin_test.go.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/moteplass/moteplass/internal/app/apptest"
)

func TestAdminAccess(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	own := admEventBySlug(t, a, "tid-for-ledelse-bergen-heltid-og-hjemmekontor") // DFØ, published, no registrations
	other := admEventBySlug(t, a, "varkonferansen-nhh")                          // NHH
	otherSeries := admEventBySlug(t, a, "administrasjonssjefer-stavanger-mote-1").Series.ID
	valid := apptest.EditForm(other)
	p := func(format string, args ...any) string { return fmt.Sprintf(format, args...) }

	clients := map[string]*apptest.Client{
		"anonymous": apptest.NewClient(t, a.Router),
		"organiser": apptest.DemoLogin(t, a.Router, admOrganiser),
		"checkin":   apptest.DemoLogin(t, a.Router, admCheckIn),
		"admin":     apptest.DemoLogin(t, a.Router, admAdmin),
	}
	type req struct {
		who, method, path string
		want              int
	}
	var cases []req
	// what anyone but an admin gets for another organisation's objects
	for _, path := range []string{p("/admin/events/%d", other.ID), p("/admin/events/%d/cancel", other.ID), p("/admin/series/%d", otherSeries),
		"/admin/events/999999", "/admin/events/abc", "/admin/series/999999", "/admin/events/0"} {
		cases = append(cases, req{"organiser", "GET", path, 403}, req{"checkin", "GET", path, 403}, req{"anonymous", "GET", path, 303})
	}
	for _, path := range []string{p("/admin/events/%d", other.ID), p("/admin/events/%d/publish", other.ID), p("/admin/events/%d/unpublish", other.ID),
		p("/admin/events/%d/duplicate", other.ID), p("/admin/events/%d/cancel", other.ID), p("/admin/series/%d", otherSeries), "/admin/events/999999/publish"} {
		cases = append(cases, req{"organiser", "POST", path, 403}, req{"checkin", "POST", path, 403}, req{"anonymous", "POST", path, 401})
	}
	cases = append(cases,
		req{"anonymous", "GET", "/admin", 303},
		req{"anonymous", "GET", "/admin/events/new", 303},
		req{"anonymous", "POST", "/admin/events", 401},
		req{"anonymous", "POST", "/admin/series", 401},
		req{"organiser", "GET", "/admin", 200},
		req{"organiser", "GET", "/admin/events/new", 200},
		req{"organiser", "GET", "/admin/series/new", 200},
		req{"organiser", "GET", p("/admin/events/%d", own.ID), 200},
		req{"organiser", "GET", p("/admin/events/%d/cancel", own.ID), 200},
		req{"checkin", "GET", "/admin", 200},
		req{"checkin", "GET", "/admin/events/new", 403},
		req{"checkin", "GET", "/admin/series/new", 403},
		req{"checkin", "GET", p("/admin/events/%d", own.ID), 403},
		req{"checkin", "GET", p("/admin/events/%d/cancel", own.ID), 403},
		req{"checkin", "POST", "/admin/events", 403},
		req{"checkin", "POST", "/admin/series", 403},
		req{"checkin", "POST", p("/admin/events/%d", own.ID), 403},
		req{"checkin", "POST", p("/admin/events/%d/unpublish", own.ID), 403},
		req{"checkin", "POST", p("/admin/events/%d/duplicate", own.ID), 403},
		req{"checkin", "POST", p("/admin/events/%d/cancel", own.ID), 403},
		req{"admin", "GET", "/admin", 200},
		req{"admin", "GET", p("/admin/events/%d", other.ID), 200},
		req{"admin", "GET", p("/admin/events/%d", own.ID), 200},
		req{"admin", "GET", p("/admin/events/%d/cancel", other.ID), 200},
		req{"admin", "GET", p("/admin/series/%d", otherSeries), 200},
		req{"admin", "GET", "/admin/events/999999", 404},
		req{"admin", "GET", "/admin/events/abc", 404},
		req{"admin", "GET", "/admin/series/999999", 404},
		req{"admin", "POST", "/admin/events/999999/publish", 404},
		req{"admin", "GET", "/admin/events/new", 200},
		req{"admin", "GET", "/admin/series/new", 200},
	)
	eventsBefore := admCount(t, a, `SELECT COUNT(*) FROM events`)
	for _, tc := range cases {
		t.Run(tc.who+" "+tc.method+" "+tc.path, func(t *testing.T) {
			cl := clients[tc.who]
			var rec *httptest.ResponseRecorder
			if tc.method == "GET" {
				rec = cl.Get(tc.path)
			} else {
				rec = cl.PostForm(tc.path, admWith(valid))
			}
			apptest.Want(t, rec, tc.want)
			if tc.want == http.StatusSeeOther && !strings.HasPrefix(rec.Header().Get("Location"), "/admin/login?next=") {
				t.Errorf("redirect to %q, want the login page", rec.Header().Get("Location"))
			}
			if tc.want == http.StatusForbidden && strings.Contains(rec.Body.String(), other.Title) {
				t.Error("a 403 page shows the event's title")
			}
		})
	}
	// nothing of the other organisation's changed, whatever was tried
	got := admEvent(t, a, other.ID)
	if got.Status != other.Status || got.Title != other.Title || got.Sequence != other.Sequence || !got.UpdatedAt.Equal(other.UpdatedAt) {
		t.Errorf("NHH's event changed: %s %q seq %d", got.Status, got.Title, got.Sequence)
	}
	if n := admCount(t, a, `SELECT COUNT(*) FROM events`); n != eventsBefore {
		t.Errorf("%d events were created", n-eventsBefore)
	}
	if n := admCount(t, a, `SELECT COUNT(*) FROM audit_log WHERE action LIKE 'event_%' OR action LIKE 'series_%'`); n != 0 {
		t.Errorf("%d audit rows from refused requests", n)
	}

	t.Run("an admin chooses the organiser", func(t *testing.T) {
		cl := clients["admin"]
		id := admCreated(t, cl, "/admin/events", admWith(admForm(), "organiser_id", strconv.FormatInt(other.Organiser.ID, 10)))
		if got := admEvent(t, a, id).Organiser.ID; got != other.Organiser.ID {
			t.Errorf("organiser %d, want %d", got, other.Organiser.ID)
		}
		rec := cl.PostForm("/admin/events", admWith(admForm(), "organiser_id", "999"))
		apptest.Want(t, rec, http.StatusUnprocessableEntity)
		apptest.Says(t, rec, "Velg en arrangør fra lista.")
	})

	t.Run("a check-in volunteer sees the list and the check-in links only", func(t *testing.T) {
		admCreated(t, clients["organiser"], "/admin/events", admForm()) // a draft of DFØ's
		rec := clients["checkin"].Get("/admin")
		body := rec.Body.String()
		if !strings.Contains(body, p(`href="/admin/events/%d/checkin"`, own.ID)) {
			t.Error("no check-in link")
		}
		if strings.Contains(body, p(`href="/admin/events/%d"`, own.ID)) || strings.Contains(body, `href="/admin/events/new"`) {
			t.Error("a check-in volunteer is offered editing")
		}
		if strings.Contains(apptest.Text(rec.Body.Bytes()), "Utkast") || strings.Contains(apptest.Text(rec.Body.Bytes()), other.Title) {
			t.Error("a check-in volunteer sees drafts or another organisation's events")
		}
	})
}
