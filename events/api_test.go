package events_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app/apptest"
)

// decodeJSON checks the content type and decodes the body into v.
func decodeJSON(t testing.TB, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, rec.Body.String())
	}
}

// apiFields are the fields every event in the API carries.
var apiFields = []string{"slug", "title", "summary", "region", "organiser", "format", "mode", "starts_at", "ends_at",
	"capacity", "seats_left", "confirmed_count", "waitlist_count", "status", "price_nok", "invitation_only",
	"levels", "roles", "theme", "sector", "url", "ics_url"}

// checkAPITime asserts an RFC 3339 time with the Oslo offset (never Z) and
// returns it.
func checkAPITime(t testing.TB, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("%q is not RFC 3339: %v", s, err)
	}
	_, off := tm.Zone()
	_, osloOff := tm.In(events.Oslo).Zone()
	if !strings.HasSuffix(s, "+01:00") && !strings.HasSuffix(s, "+02:00") || off != osloOff {
		t.Errorf("%q is not written with the Oslo offset", s)
	}
	return tm
}

func TestAPIList(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	rec := get(t, a.Router, "/api/v1/events")
	apptest.Want(t, rec, http.StatusOK)
	checkSecurityHeaders(t, rec)
	var out struct {
		Events  []map[string]any `json:"events"`
		Page    int              `json:"page"`
		PerPage int              `json:"per_page"`
		Total   int              `json:"total"`
		Next    *string          `json:"next"`
	}
	decodeJSON(t, rec, &out)
	want := upcoming(allEvents(t, a), time.Now())
	if out.Page != 1 || out.PerPage != events.PageSize || out.Total != len(want) || out.Next != nil {
		t.Fatalf("page %d, per_page %d, total %d (want %d), next %v", out.Page, out.PerPage, out.Total, len(want), out.Next)
	}
	var slugs []string
	for _, e := range out.Events {
		for _, f := range apiFields {
			if _, ok := e[f]; !ok {
				t.Errorf("%v has no %q", e["slug"], f)
			}
		}
		start, end := checkAPITime(t, e["starts_at"]), checkAPITime(t, e["ends_at"])
		if !end.After(start) {
			t.Errorf("%v ends before it starts", e["slug"])
		}
		slug := e["slug"].(string)
		if e["url"] != "http://localhost:8080/events/"+slug || e["ics_url"] != "http://localhost:8080/events/"+slug+".ics" {
			t.Errorf("urls %v %v", e["url"], e["ics_url"])
		}
		if r, _ := e["region"].(map[string]any); r["slug"] == "" || r["name"] == "" {
			t.Errorf("region %v", e["region"])
		}
		slugs = append(slugs, slug)
	}
	if !slices.Equal(slugs, slugsOf(want)) {
		t.Fatalf("events\n got %v\nwant %v", slugs, slugsOf(want))
	}
}

func TestAPIFiltersMatchThePages(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	for _, c := range filterCases() {
		q := c.param + "=" + c.value
		t.Run(q, func(t *testing.T) {
			var out struct {
				Events []struct{ Slug string } `json:"events"`
			}
			rec := get(t, a.Router, "/api/v1/events?"+q)
			apptest.Want(t, rec, http.StatusOK)
			decodeJSON(t, rec, &out)
			var got []string
			for _, e := range out.Events {
				got = append(got, e.Slug)
			}
			if page := cardSlugs(get(t, a.Router, "/?"+q).Body.Bytes()); !slices.Equal(got, page) {
				t.Fatalf("API %v, page %v", got, page)
			}
		})
	}
	t.Run("a from date reaches past events", func(t *testing.T) {
		var out struct {
			Events []struct{ Slug, Status string } `json:"events"`
		}
		decodeJSON(t, get(t, a.Router, "/api/v1/events?from="+osloDay(-30)+"&to="+osloDay(-1)), &out)
		if len(out.Events) != 1 || out.Events[0].Slug != "ledermoteplass-bergen-tillitsreform" {
			t.Fatalf("%+v", out.Events)
		}
	})
}

func TestAPIDetail(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	fx := fixtures(t, a)

	rec := get(t, a.Router, "/api/v1/events/vinterkonferansen")
	apptest.Want(t, rec, http.StatusOK)
	var e map[string]any
	decodeJSON(t, rec, &e)
	for k, want := range map[string]any{
		"slug":            "vinterkonferansen",
		"title":           "Vinterkonferansen for ledere",
		"format":          "conference",
		"mode":            "physical",
		"starts_at":       "2049-01-07T09:00:00+01:00",
		"ends_at":         "2049-01-07T16:00:00+01:00",
		"capacity":        40.0,
		"seats_left":      37.0,
		"confirmed_count": 3.0,
		"waitlist_count":  0.0,
		"status":          "published",
		"price_nok":       1500.0,
		"invitation_only": false,
		"theme":           "leadership",
		"sector":          "public",
		"url":             "http://localhost:8080/events/vinterkonferansen",
		"ics_url":         "http://localhost:8080/events/vinterkonferansen.ics",
	} {
		if e[k] != want {
			t.Errorf("%s = %v (%T), want %v", k, e[k], e[k], want)
		}
	}
	if r := e["region"].(map[string]any); r["slug"] != "trondheim" || r["name"] != "Trondheim" {
		t.Errorf("region %v", r)
	}
	if o := e["organiser"].(map[string]any); o["slug"] != "digdir" || o["name"] != "Digitaliseringsdirektoratet" {
		t.Errorf("organiser %v", o)
	}
	if v, _ := e["venue"].(map[string]any); v["name"] != "Clarion Hotel & Congress" || v["postcode"] != "7010" || v["latitude"] != 63.44 {
		t.Errorf("venue %v", e["venue"])
	}
	if lv := fmt.Sprint(e["levels"]); lv != "[middle top]" && lv != "[top middle]" {
		t.Errorf("levels %s", lv)
	}

	t.Run("summer time has +02:00", func(t *testing.T) {
		var s map[string]any
		decodeJSON(t, get(t, a.Router, "/api/v1/events/sommermote"), &s)
		if s["starts_at"] != "2049-06-17T10:00:00+02:00" || s["ends_at"] != "2049-06-17T15:30:00+02:00" {
			t.Errorf("%v %v", s["starts_at"], s["ends_at"])
		}
		if s["levels"] == nil || s["roles"] == nil {
			t.Error("empty lists must be [], not null")
		}
	})

	t.Run("counts of a full event", func(t *testing.T) {
		var f map[string]any
		decodeJSON(t, get(t, a.Router, "/api/v1/events/fullt-mote"), &f)
		if f["capacity"] != 2.0 || f["seats_left"] != 0.0 || f["confirmed_count"] != 2.0 || f["waitlist_count"] != 3.0 {
			t.Errorf("capacity %v seats_left %v confirmed %v waiting %v", f["capacity"], f["seats_left"], f["confirmed_count"], f["waitlist_count"])
		}
	})

	t.Run("a digital event has no venue", func(t *testing.T) {
		var d map[string]any
		decodeJSON(t, get(t, a.Router, "/api/v1/events/digitalt-mote"), &d)
		if _, ok := d["venue"]; ok || d["mode"] != "digital" {
			t.Errorf("venue %v mode %v", d["venue"], d["mode"])
		}
		if strings.Contains(fmt.Sprint(d), fx["digital"].OnlineURL) {
			t.Error("the API publishes the meeting link")
		}
	})

	t.Run("cancelled and past events", func(t *testing.T) {
		var c map[string]any
		decodeJSON(t, get(t, a.Router, "/api/v1/events/mellomlederforum-stavanger-hr"), &c)
		if c["status"] != "cancelled" {
			t.Errorf("status %v", c["status"])
		}
		rec := get(t, a.Router, "/api/v1/events/ledermoteplass-bergen-tillitsreform")
		apptest.Want(t, rec, http.StatusOK)
	})

	t.Run("a series is named", func(t *testing.T) {
		var s map[string]any
		decodeJSON(t, get(t, a.Router, "/api/v1/events/administrasjonssjefer-stavanger-mote-2"), &s)
		if ser, _ := s["series"].(map[string]any); ser["slug"] != "administrasjonssjefer-direktoratene" {
			t.Errorf("series %v", s["series"])
		}
		if s["invitation_only"] != true {
			t.Error("not invitation only")
		}
		if strings.Contains(fmt.Sprint(s), "ADM-ROGALAND") {
			t.Error("the API publishes the invite code")
		}
	})
}

func TestAPIPagination(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	var extra []*events.Event
	for i := 0; i < 30; i++ {
		d := time.Now().In(events.Oslo).AddDate(0, 0, 300+i)
		start := oslo(d.Year(), d.Month(), d.Day(), 9, 0)
		extra = append(extra, newEvent(t, a, fmt.Sprintf("api-ekstra-%02d", i), "bergen", "nhh", start, start.Add(time.Hour)))
	}
	addEvents(t, a, extra...)
	want := slugsOf(upcoming(allEvents(t, a), time.Now()))

	var got []string
	next := "/api/v1/events"
	for n := 1; next != ""; n++ {
		if n > 10 {
			t.Fatal("pagination does not end")
		}
		var out struct {
			Events []struct{ Slug string } `json:"events"`
			Page   int                     `json:"page"`
			Total  int                     `json:"total"`
			Next   string                  `json:"next"`
		}
		rec := get(t, a.Router, next)
		apptest.Want(t, rec, http.StatusOK)
		decodeJSON(t, rec, &out)
		if out.Page != n || out.Total != len(want) {
			t.Fatalf("page %d of %d, total %d", out.Page, n, out.Total)
		}
		for _, e := range out.Events {
			got = append(got, e.Slug)
		}
		next = ""
		if out.Next != "" {
			u, err := url.Parse(out.Next)
			if err != nil || u.Host != "localhost:8080" || u.Path != "/api/v1/events" || u.Query().Get("page") != fmt.Sprint(n+1) {
				t.Fatalf("next %q", out.Next)
			}
			next = u.RequestURI()
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages listed\n %v\nwant\n %v", got, want)
	}

	t.Run("next keeps the filters", func(t *testing.T) {
		var out struct {
			Next string `json:"next"`
		}
		decodeJSON(t, get(t, a.Router, "/api/v1/events?region=bergen"), &out)
		if out.Next != "http://localhost:8080/api/v1/events?page=2&region=bergen" {
			t.Errorf("next %q", out.Next)
		}
	})
}

func TestAPIRefusesBadInput(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t)
	long := strings.Repeat("a", 10<<10)
	for _, c := range []struct {
		name  string
		query string
		param string
	}{
		{"unknown format", "format=webinar", "format"},
		{"unknown level", "level=ceo", "level"},
		{"unknown role", "role=chef", "role"},
		{"unknown theme", "theme=sport", "theme"},
		{"price as a number", "price=0", "price"},
		{"access as a boolean", "access=1", "access"},
		{"unknown mode", "mode=hybrid", "mode"},
		{"page=0", "page=0", "page"},
		{"page=-1", "page=-1", "page"},
		{"page=10^9", "page=1000000000", "page"},
		{"page=abc", "page=abc", "page"},
		{"10 kB value", "format=" + long, "format"},
		{"invalid UTF-8", "region=%ff%fe", "region"},
		{"null byte", "format=%00", "format"},
		{"SQL", "region=oslo'%20OR%20'1'='1", "region"},
		{"script", "theme=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "theme"},
		{"bad date", "from=2026-13-45", "from"},
		{"bad to date", "to=2026-02-30", "to"},
		{"bad organiser", "organiser=A%20B", "organiser"},
		{"unknown region slug", "region=atlantis", "region"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := get(t, a.Router, "/api/v1/events?"+c.query)
			if rec.Code >= 500 {
				t.Fatalf("status %d", rec.Code)
			}
			apptest.Want(t, rec, http.StatusBadRequest)
			var out struct {
				Error   string   `json:"error"`
				Message string   `json:"message"`
				Params  []string `json:"params"`
			}
			decodeJSON(t, rec, &out)
			if out.Error != "bad_parameter" || !strings.Contains(out.Message, c.param) || !slices.Contains(out.Params, c.param) {
				t.Errorf("%+v", out)
			}
			if strings.Contains(rec.Body.String(), "<script") {
				t.Error("the value is echoed")
			}
		})
	}

	for _, c := range []struct {
		name, path string
	}{
		{"unknown slug", "/api/v1/events/finnes-ikke"},
		{"invalid UTF-8 slug", "/api/v1/events/%ff%fe"},
		{"very long slug", "/api/v1/events/" + long},
		{"SQL slug", "/api/v1/events/x'%20OR%20'1'%3D'1"},
		{"null byte slug", "/api/v1/events/%00"},
	} {
		t.Run(c.name+" is a JSON 404", func(t *testing.T) {
			rec := get(t, a.Router, c.path)
			apptest.Want(t, rec, http.StatusNotFound)
			var out struct{ Error, Message string }
			decodeJSON(t, rec, &out)
			if out.Error == "" || out.Message == "" {
				t.Errorf("%+v", out)
			}
		})
	}

	t.Run("the error message follows the language", func(t *testing.T) {
		var out struct{ Message string }
		decodeJSON(t, get(t, a.Router, "/api/v1/events/finnes-ikke", "Accept-Language", "en"), &out)
		if !strings.Contains(out.Message, "does not exist") {
			t.Errorf("%q", out.Message)
		}
	})
}
