package events_test

// The organiser pages in both languages: no page shows a catalogue key in
// place of its text, and the catalogue has every key in both. The adm
// helpers are in admin_test.go.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/templates"
)

// admUntranslated finds catalogue keys shown as text (the catalogue shows
// a missing key as itself).
var admUntranslated = regexp.MustCompile(`\b(admin|flash|audit\.action|format|level|role|sector|theme|facilitation)\.[a-z_]+(\.[a-z_0-9]+)*\b`)

func TestAdminPagesSpeakBothLanguages(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	own := admEventBySlug(t, a, "tid-for-ledelse-bergen-psykologisk-trygghet")
	series := admEventBySlug(t, a, "administrasjonssjefer-stavanger-mote-1").Series.ID
	// one of each audit action, for the audit page
	cl := apptest.DemoLogin(t, a.Router, admAdmin)
	id := admCreated(t, cl, "/admin/events", admWith(admForm(), "organiser_id", strconv.FormatInt(own.Organiser.ID, 10)))
	for _, action := range []string{"publish", "cancel", "duplicate"} {
		apptest.Want(t, cl.PostForm(fmt.Sprintf("/admin/events/%d/%s", id, action), url.Values{}), http.StatusSeeOther)
	}
	admCreated(t, cl, "/admin/series", url.Values{"title": {"N"}, "region": {"oslo"}, "organiser_id": {strconv.FormatInt(own.Organiser.ID, 10)},
		"venue_name": {"V"}, "venue_city": {"Oslo"}, "capacity": {"10"}, "language": {"en"}, "count": {"1"}, "first_date": {admDay(30)}, "start_time": {"10:00"}, "duration": {"2"}, "interval": {"1"}})
	for _, lang := range []string{"nb", "en"} {
		t.Run(lang, func(t *testing.T) {
			cl := apptest.DemoLogin(t, a.Router, admAdmin)
			cl.Header.Set("Accept-Language", lang)
			moved := admWith(apptest.EditForm(admEvent(t, a, own.ID)), "start_time", "07:30")
			if admEvent(t, a, own.ID).ConfirmedCount == 0 {
				t.Fatal("the demo event has no registrations to confirm a change for")
			}
			pages := map[string]*httptest.ResponseRecorder{
				"home":        cl.Get("/admin"),
				"new event":   cl.Get("/admin/events/new"),
				"edit":        cl.Get(fmt.Sprintf("/admin/events/%d", own.ID)),
				"cancel":      cl.Get(fmt.Sprintf("/admin/events/%d/cancel", own.ID)),
				"new series":  cl.Get("/admin/series/new"),
				"series":      cl.Get(fmt.Sprintf("/admin/series/%d", series)),
				"confirm":     cl.PostForm(fmt.Sprintf("/admin/events/%d", own.ID), moved),
				"all errors":  cl.PostForm("/admin/events", url.Values{"agenda.0.title": {""}, "agenda.0.time": {"x"}, "levels": {"x"}, "mode": {"digital"}, "invitation_only": {"1"}, "capacity": {"x"}, "price": {"x"}, "venue_lat": {"x"}}),
				"series errs": cl.PostForm("/admin/series", url.Values{"count": {"99"}, "hosts": {"a"}, "venue_lat": {"1"}}),
				"refused":     cl.PostForm(fmt.Sprintf("/admin/events/%d/unpublish", own.ID), url.Values{}),
				"audit":       cl.Get("/admin/audit"),
			}
			for name, rec := range pages {
				if rec.Code >= 500 {
					t.Errorf("%s: status %d", name, rec.Code)
				}
				text := apptest.Text(rec.Body.Bytes())
				if m := admUntranslated.FindString(text); m != "" {
					t.Errorf("%s shows the key %q", name, m)
				}
				if !strings.Contains(rec.Body.String(), `<html lang="`+lang+`"`) {
					t.Errorf("%s is not in %s", name, lang)
				}
			}
		})
	}
}

func TestAdminCatalogueHasBothLanguages(t *testing.T) {
	keys := map[string]map[string]bool{}
	for _, lang := range []string{"nb", "en"} {
		var m map[string]any
		if _, err := toml.DecodeFS(templates.FS, "locales/admin."+lang+".toml", &m); err != nil {
			t.Fatal(err)
		}
		keys[lang] = map[string]bool{}
		for k := range m {
			keys[lang][k] = true
		}
	}
	for k := range keys["nb"] {
		if !keys["en"][k] {
			t.Errorf("%s is in bokmål only", k)
		}
	}
	for k := range keys["en"] {
		if !keys["nb"][k] {
			t.Errorf("%s is in English only", k)
		}
	}
}
