package events_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/moteplass/moteplass/internal/app/apptest"
)

func TestAdminOrganisations(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	admin := apptest.DemoLogin(t, a.Router, admAdmin)
	organiser := apptest.DemoLogin(t, a.Router, admOrganiser)

	if rec := organiser.Get("/admin/organisations"); rec.Code != http.StatusForbidden {
		t.Errorf("an organiser sees the organisers page: %d", rec.Code)
	}
	// a fresh form each time: PostForm adds the client's CSRF token to it
	valid := func() url.Values {
		return url.Values{"name": {"Statsforvalteren i Vestland"}, "kind": {"public"}, "contact_email": {"post@sfvl.example.no"}, "website": {"https://www.statsforvalteren.no"}}
	}
	if rec := organiser.PostForm("/admin/organisations", valid()); rec.Code != http.StatusForbidden {
		t.Errorf("an organiser creates an organiser: %d", rec.Code)
	}

	bad := []struct {
		name  string
		field string
		value string
		msg   string
	}{
		{"no name", "name", "", "Skriv navnet"},
		{"bad contact address", "contact_email", "post(at)sfvl", "gyldig e-postadresse"},
		{"underscore in the domain", "contact_email", "post@sfvl_vestland.no", "gyldig e-postadresse"},
		{"bad website", "website", "javascript:alert(1)", "https://"},
		{"bad slug", "slug", "Stats Forvalter", "små bokstaver"},
		{"taken slug", "slug", "dfo", "i bruk"},
		{"unknown kind", "kind", "hemmelig", "Velg en type"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			form := valid()
			form.Set(tt.field, tt.value)
			rec := admin.PostForm("/admin/organisations", form)
			if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(apptest.Text(rec.Body.Bytes()), tt.msg) {
				t.Fatalf("status %d; page: %s", rec.Code, apptest.Text(rec.Body.Bytes()))
			}
			if tt.value != "" && tt.field != "kind" && !strings.Contains(rec.Body.String(), `value="`+tt.value) {
				t.Errorf("the typed %s is not kept", tt.field)
			}
		})
	}

	rec := admin.PostForm("/admin/organisations", valid())
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create: %d %s", rec.Code, apptest.Text(rec.Body.Bytes()))
	}
	var slug, email string
	a.DB.Read().QueryRow(`SELECT slug, contact_email FROM organisers WHERE name = ?`, "Statsforvalteren i Vestland").Scan(&slug, &email)
	if slug != "statsforvalteren-i-vestland" || email != "post@sfvl.example.no" {
		t.Errorf("stored slug %q email %q", slug, email)
	}
	if rec := admin.Get("/organisers/" + slug); rec.Code != http.StatusOK {
		t.Errorf("the new organiser's public page: %d", rec.Code)
	}
	var audit int
	a.DB.Read().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'organisation_create'`).Scan(&audit)
	if audit != 1 {
		t.Errorf("%d audit rows", audit)
	}
}
