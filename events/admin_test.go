package events_test

// Tests of the organiser pages (events/admin*.go) through the real router
// and a real SQLite file: logging in with the demo logins, creating,
// publishing, editing (with the confirmation before a change of time or
// place reaches registrants), cancelling, duplicating and unpublishing an
// event, the form's messages, and the OnChange hook every change runs. A
// network series is in admin_series_test.go, who may do what in
// admin_access_test.go, both languages in admin_language_test.go.
//
// Helpers here are prefixed adm so they never clash with the other test
// files of the package.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
)

const (
	admAdmin     = "admin@moteplass.example.no"
	admOrganiser = "arrangor@dfo.example.no" // organiser at DFØ
	admCheckIn   = "innsjekk@dfo.example.no" // check-in volunteer at DFØ
)

// admDay is a day some days from today in Oslo, as a date input sends it.
func admDay(days int) string {
	return time.Now().In(events.Oslo).AddDate(0, 0, days).Format("2006-01-02")
}

// admForm is a complete, valid event form; change what a case needs.
func admForm() url.Values {
	return url.Values{
		"title":          {"Ledermøte på Bryggen – våren"},
		"slug":           {""},
		"summary":        {"Frokostmøte for ledere i staten i Bergen."},
		"description":    {"Første avsnitt.\n\nAndre avsnitt med https://dfo.no"},
		"format":         {"breakfast_seminar"},
		"mode":           {"physical"},
		"region":         {"bergen"},
		"organiser_id":   {""},
		"venue_name":     {"Bryggen konferansesenter"},
		"venue_street":   {"Bryggen 1"},
		"venue_postcode": {"5003"},
		"venue_city":     {"Bergen"},
		"venue_lat":      {"60,3975"},
		"venue_lon":      {"5.3245"},
		"venue_access":   {"Trinnfri adkomst."},
		"online_url":     {""},
		"start_date":     {admDay(3)},
		"start_time":     {"08:00"},
		"end_date":       {""},
		"end_time":       {"09:30"},
		"capacity":       {"40"},
		"price":          {"0"},
		"opens_date":     {""}, "opens_time": {""},
		"closes_date": {""}, "closes_time": {""},
		"levels":        {"middle", "first_line"},
		"roles":         {"hr"},
		"sector":        {"public"},
		"facilitation":  {"facilitated"},
		"theme":         {"leadership"},
		"language":      {"nb"},
		"host":          {""},
		"agenda.0.time": {"08:00"}, "agenda.0.title": {"Frokost"}, "agenda.0.introducer": {"DFØ"},
		"agenda.1.time": {""}, "agenda.1.title": {""}, "agenda.1.introducer": {""},
		"agenda.2.time": {"08.30"}, "agenda.2.title": {"Samtale rundt bordene"}, "agenda.2.introducer": {"Deltakerne"},
	}
}

// admWith is form with the given name/value pairs replaced.
func admWith(form url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

var admEditPath = regexp.MustCompile(`^/admin/(events|series)/([0-9]+)$`)

// admCreated posts a form that must redirect to the new object's page and
// returns its id.
func admCreated(t testing.TB, cl *apptest.Client, path string, form url.Values) int64 {
	t.Helper()
	rec := cl.PostForm(path, form)
	apptest.Want(t, rec, http.StatusSeeOther)
	m := admEditPath.FindStringSubmatch(rec.Header().Get("Location"))
	if m == nil {
		t.Fatalf("redirect to %q, want an edit page", rec.Header().Get("Location"))
	}
	id, _ := strconv.ParseInt(m[2], 10, 64)
	return id
}

// admEvent reads an event in any status with its agenda and counts.
func admEvent(t testing.TB, a *app.App, id int64) events.Event {
	t.Helper()
	ev, err := (&events.Store{DB: a.DB}).FindEvent(context.Background(), events.EventFilter{ID: id, Statuses: events.Statuses})
	if err != nil {
		t.Fatalf("event %d: %v", id, err)
	}
	return ev
}

// admEventBySlug reads a demo event by its slug.
func admEventBySlug(t testing.TB, a *app.App, slug string) events.Event {
	t.Helper()
	ev, err := (&events.Store{DB: a.DB}).FindEvent(context.Background(), events.EventFilter{Slug: slug, Statuses: events.Statuses})
	if err != nil {
		t.Fatalf("event %s: %v", slug, err)
	}
	return ev
}

// admAddRegistrations writes n registrations with status straight into
// the table, the way registration/ would. It is the only place these
// tests know the registrations table's columns.
func admAddRegistrations(t testing.TB, a *app.App, eventID int64, status string, n int) {
	t.Helper()
	ctx := context.Background()
	err := a.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		for i := range n {
			email := fmt.Sprintf("adm-%s-%d-%d@test.example.no", status, eventID, i)
			if _, err := tx.ExecContext(ctx, `INSERT INTO registrations (event_id, status, name, email, email_norm,
				organisation, level, sector, created_at, updated_at, queued_at)
				VALUES (?, ?, 'Test Testesen', ?, ?, 'Testetaten', 'middle', 'state', ?, ?, ?)`,
				eventID, status, email, email, now, now, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("add registrations: %v", err)
	}
}

// admAudit counts the audit rows of an action on an object, and returns
// the detail of the last one.
func admAudit(t testing.TB, a *app.App, action, objectType string, objectID int64) (int, string) {
	t.Helper()
	ctx := context.Background()
	var n int
	var detail string
	err := a.DB.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND object_type = ? AND object_id = ?`,
		action, objectType, objectID).Scan(&n)
	if err == nil && n > 0 {
		err = a.DB.Read().QueryRowContext(ctx, `SELECT detail FROM audit_log WHERE action = ? AND object_type = ? AND object_id = ?
			ORDER BY id DESC LIMIT 1`, action, objectType, objectID).Scan(&detail)
	}
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	return n, detail
}

func admCount(t testing.TB, a *app.App, query string, args ...any) int {
	t.Helper()
	var n int
	if err := a.DB.Read().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

var admHiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// admHidden is the hidden fields of a page, as a browser would post them.
func admHidden(body string) url.Values {
	v := url.Values{}
	for _, m := range admHiddenRE.FindAllStringSubmatch(body, -1) {
		if m[1] == "csrf_token" {
			continue
		}
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

func TestAdminEventLifecycle(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.DemoLogin(t, a.Router, admOrganiser)
	public := apptest.NewClient(t, a.Router)
	nhh := admEventBySlug(t, a, "varkonferansen-nhh").Organiser.ID

	apptest.Want(t, cl.Get("/admin/events/new"), http.StatusOK)
	// an organiser never chooses the organiser, even by posting another's id
	form := admWith(admForm(), "organiser_id", strconv.FormatInt(nhh, 10))
	id := admCreated(t, cl, "/admin/events", form)
	rec := cl.Get("/admin/events/" + strconv.FormatInt(id, 10))
	apptest.Want(t, rec, http.StatusOK)
	apptest.Says(t, rec, "Utkastet er lagret")

	ev := admEvent(t, a, id)
	t.Run("created as a draft of the organiser's organisation", func(t *testing.T) {
		if ev.Status != events.StatusDraft || ev.Organiser.Slug != "dfo" || ev.Sequence != 0 {
			t.Errorf("status %s, organiser %s, sequence %d; want draft, dfo, 0", ev.Status, ev.Organiser.Slug, ev.Sequence)
		}
		if ev.Slug != "ledermote-pa-bryggen-varen" {
			t.Errorf("slug %q", ev.Slug)
		}
		start := ev.StartsAt.In(events.Oslo)
		if got := start.Format("2006-01-02 15:04"); got != admDay(3)+" 08:00" {
			t.Errorf("starts %s (Oslo), want %s 08:00", got, admDay(3))
		}
		if got := ev.EndsAt.In(events.Oslo).Format("2006-01-02 15:04"); got != admDay(3)+" 09:30" {
			t.Errorf("ends %s (Oslo): the end date defaults to the start date", got)
		}
		if ev.Venue == nil || ev.Venue.Name != "Bryggen konferansesenter" || !ev.Venue.HasGeo() || *ev.Venue.Latitude != 60.3975 {
			t.Errorf("venue %+v", ev.Venue)
		}
		if len(ev.Agenda) != 2 || ev.Agenda[1].Title != "Samtale rundt bordene" || ev.Agenda[1].StartsAt.In(events.Oslo).Format("15:04") != "08:30" {
			t.Errorf("agenda (blank row dropped, 08.30 read as 08:30): %+v", ev.Agenda)
		}
		if strings.Join(ev.Levels, ",") != "middle,first_line" || strings.Join(ev.Roles, ",") != "hr" {
			t.Errorf("levels %v roles %v", ev.Levels, ev.Roles)
		}
		if n, _ := admAudit(t, a, "event_create", "event", id); n != 1 {
			t.Errorf("%d event_create audit rows", n)
		}
		apptest.Want(t, public.Get("/events/"+ev.Slug), http.StatusNotFound)
	})

	t.Run("a second event with the same title gets a numbered slug", func(t *testing.T) {
		id2 := admCreated(t, cl, "/admin/events", admForm())
		if got := admEvent(t, a, id2).Slug; got != "ledermote-pa-bryggen-varen-2" {
			t.Errorf("slug %q", got)
		}
		rec := cl.PostForm("/admin/events", admWith(admForm(), "slug", ev.Slug))
		apptest.Want(t, rec, http.StatusUnprocessableEntity)
		apptest.Says(t, rec, "Et annet arrangement bruker allerede denne adressen")
	})

	t.Run("publish makes it public", func(t *testing.T) {
		apptest.Want(t, public.Get("/"), http.StatusOK) // warm the page cache
		rec := cl.PostForm(fmt.Sprintf("/admin/events/%d/publish", id), url.Values{})
		apptest.Want(t, rec, http.StatusSeeOther)
		apptest.Says(t, cl.Follow(rec), "Arrangementet er publisert")
		if got := admEvent(t, a, id).Status; got != events.StatusPublished {
			t.Fatalf("status %s", got)
		}
		page := public.Get("/events/" + ev.Slug)
		apptest.Want(t, page, http.StatusOK)
		apptest.Says(t, page, "Ledermøte på Bryggen – våren", "Bryggen konferansesenter")
		apptest.Says(t, public.Get("/"), "Ledermøte på Bryggen – våren")
		if n, _ := admAudit(t, a, "event_publish", "event", id); n != 1 {
			t.Errorf("%d event_publish audit rows", n)
		}
		apptest.Want(t, cl.PostForm(fmt.Sprintf("/admin/events/%d/publish", id), url.Values{}), http.StatusConflict)
	})

	t.Run("editing the title keeps the slug and the sequence", func(t *testing.T) {
		f := admForm()
		f.Set("slug", ev.Slug)
		f.Set("title", "Ledermøte på Bryggen: tillit i praksis")
		apptest.Want(t, cl.PostForm(fmt.Sprintf("/admin/events/%d", id), f), http.StatusSeeOther)
		got := admEvent(t, a, id)
		if got.Title != "Ledermøte på Bryggen: tillit i praksis" || got.Slug != ev.Slug || got.Sequence != 0 {
			t.Errorf("title %q slug %q sequence %d", got.Title, got.Slug, got.Sequence)
		}
		if got.Venue.ID != ev.Venue.ID {
			t.Errorf("an unchanged venue got a new row (%d, was %d)", got.Venue.ID, ev.Venue.ID)
		}
		apptest.Says(t, public.Get("/events/"+ev.Slug), "tillit i praksis")
		if n, detail := admAudit(t, a, "event_update", "event", id); n != 1 || detail != "title" {
			t.Errorf("%d event_update rows, detail %q", n, detail)
		}
	})

	admAddRegistrations(t, a, id, "confirmed", 2)
	admAddRegistrations(t, a, id, "waiting", 1)

	t.Run("a change of time with registrants asks first", func(t *testing.T) {
		f := admForm()
		f.Set("slug", ev.Slug)
		f.Set("title", "Ledermøte på Bryggen: tillit i praksis")
		f.Set("start_time", "09:00")
		f.Set("end_time", "10:30")
		rec := cl.PostForm(fmt.Sprintf("/admin/events/%d", id), f)
		apptest.Want(t, rec, http.StatusOK)
		apptest.Says(t, rec, "2 påmeldte deltakere får en oppdatert kalenderinvitasjon")
		if got := admEvent(t, a, id); got.Sequence != 0 || got.StartsAt.In(events.Oslo).Hour() != 8 {
			t.Fatalf("saved before confirming: sequence %d, starts %s", got.Sequence, got.StartsAt)
		}
		carried := admHidden(rec.Body.String())
		if carried.Get("start_time") != "09:00" || carried.Get("agenda.2.title") != "Samtale rundt bordene" || len(carried["levels"]) != 2 {
			t.Fatalf("the confirmation does not carry the form: %v", carried)
		}

		// "go back and change" shows the form with what was typed
		back := admWith(carried, "back", "1")
		rec = cl.PostForm(fmt.Sprintf("/admin/events/%d", id), back)
		apptest.Want(t, rec, http.StatusOK)
		if !strings.Contains(rec.Body.String(), `name="start_time" type="time" value="09:00"`) {
			t.Error("back from the confirmation lost the typed start time")
		}

		carried.Set("confirmed", "1")
		apptest.Want(t, cl.PostForm(fmt.Sprintf("/admin/events/%d", id), carried), http.StatusSeeOther)
		got := admEvent(t, a, id)
		if got.Sequence != 1 || got.StartsAt.In(events.Oslo).Format("15:04") != "09:00" || got.EndsAt.In(events.Oslo).Format("15:04") != "10:30" {
			t.Errorf("sequence %d, %s–%s", got.Sequence, got.StartsAt.In(events.Oslo), got.EndsAt.In(events.Oslo))
		}
		if n, detail := admAudit(t, a, "event_update", "event", id); n != 2 || !strings.Contains(detail, "time") || !strings.Contains(detail, "sequence 1") {
			t.Errorf("%d event_update rows, last detail %q", n, detail)
		}
	})

	t.Run("a change of place with registrants asks first and makes a new venue", func(t *testing.T) {
		before := admEvent(t, a, id)
		f := apptest.EditForm(before)
		f.Set("venue_name", "Media City Bergen")
		rec := cl.PostForm(fmt.Sprintf("/admin/events/%d", id), f)
		apptest.Want(t, rec, http.StatusOK)
		f.Set("confirmed", "1")
		apptest.Want(t, cl.PostForm(fmt.Sprintf("/admin/events/%d", id), f), http.StatusSeeOther)
		got := admEvent(t, a, id)
		if got.Sequence != 2 || got.Venue.Name != "Media City Bergen" || got.Venue.ID == before.Venue.ID {
			t.Errorf("sequence %d, venue %+v (was %d)", got.Sequence, got.Venue, before.Venue.ID)
		}
	})

	t.Run("raising the capacity needs no confirmation and keeps the sequence", func(t *testing.T) {
		f := apptest.EditForm(admEvent(t, a, id))
		f.Set("capacity", "60")
		apptest.Want(t, cl.PostForm(fmt.Sprintf("/admin/events/%d", id), f), http.StatusSeeOther)
		if got := admEvent(t, a, id); got.Capacity != 60 || got.Sequence != 2 {
			t.Errorf("capacity %d sequence %d", got.Capacity, got.Sequence)
		}
	})

	t.Run("unpublish is refused while people are registered", func(t *testing.T) {
		rec := cl.PostForm(fmt.Sprintf("/admin/events/%d/unpublish", id), url.Values{})
		apptest.Want(t, rec, http.StatusConflict)
		apptest.Says(t, rec, "kan ikke gjøres om til utkast fordi 3 personer er påmeldt")
		if got := admEvent(t, a, id).Status; got != events.StatusPublished {
			t.Errorf("status %s", got)
		}
	})

	t.Run("duplicate makes a draft copy without registrations", func(t *testing.T) {
		src := admEvent(t, a, id)
		rec := cl.PostForm(fmt.Sprintf("/admin/events/%d/duplicate", id), url.Values{})
		apptest.Want(t, rec, http.StatusSeeOther)
		m := admEditPath.FindStringSubmatch(rec.Header().Get("Location"))
		if m == nil || m[2] == strconv.FormatInt(id, 10) {
			t.Fatalf("redirect to %q", rec.Header().Get("Location"))
		}
		cid, _ := strconv.ParseInt(m[2], 10, 64)
		cp := admEvent(t, a, cid)
		if cp.Status != events.StatusDraft || cp.Title != src.Title+" (kopi)" || cp.Slug != src.Slug+"-kopi" || cp.Sequence != 0 {
			t.Errorf("copy: %s %q %q seq %d", cp.Status, cp.Title, cp.Slug, cp.Sequence)
		}
		if !cp.StartsAt.Equal(src.StartsAt) || cp.ConfirmedCount != 0 || cp.WaitlistCount != 0 || len(cp.Agenda) != len(src.Agenda) || cp.Capacity != src.Capacity {
			t.Errorf("copy differs: starts %s/%s, counts %d/%d, agenda %d/%d", cp.StartsAt, src.StartsAt, cp.ConfirmedCount, cp.WaitlistCount, len(cp.Agenda), len(src.Agenda))
		}
		if n, detail := admAudit(t, a, "event_duplicate", "event", cid); n != 1 || detail != "from "+strconv.FormatInt(id, 10) {
			t.Errorf("%d event_duplicate rows, detail %q", n, detail)
		}
		// a draft can be unpublished no further and cancelled not at all
		apptest.Want(t, cl.PostForm(fmt.Sprintf("/admin/events/%d/cancel", cid), url.Values{}), http.StatusConflict)
	})

	t.Run("cancel asks, then cancels and raises the sequence", func(t *testing.T) {
		rec := cl.Get(fmt.Sprintf("/admin/events/%d/cancel", id))
		apptest.Want(t, rec, http.StatusOK)
		apptest.Says(t, rec, "(3 personer)")
		rec = cl.PostForm(fmt.Sprintf("/admin/events/%d/cancel", id), url.Values{})
		apptest.Want(t, rec, http.StatusSeeOther)
		apptest.Says(t, cl.Follow(rec), "Arrangementet er avlyst")
		got := admEvent(t, a, id)
		if got.Status != events.StatusCancelled || got.Sequence != 3 {
			t.Errorf("status %s sequence %d", got.Status, got.Sequence)
		}
		apptest.Says(t, public.Get("/events/"+got.Slug), "Dette arrangementet er avlyst.")
		if n, _ := admAudit(t, a, "event_cancel", "event", id); n != 1 {
			t.Errorf("%d event_cancel rows", n)
		}
		apptest.Want(t, cl.PostForm(fmt.Sprintf("/admin/events/%d/cancel", id), url.Values{}), http.StatusConflict)
		apptest.Want(t, cl.PostForm(fmt.Sprintf("/admin/events/%d/publish", id), url.Values{}), http.StatusConflict)
	})

	t.Run("the home page lists the events", func(t *testing.T) {
		rec := cl.Get("/admin")
		apptest.Want(t, rec, http.StatusOK)
		apptest.Says(t, rec, "Ledermøte på Bryggen: tillit i praksis", "Avlyst", "Utkast", "Tid for ledelse")
		if strings.Contains(apptest.Text(rec.Body.Bytes()), "Vårkonferansen") {
			t.Error("the home page of DFØ shows NHH's event")
		}
	})
}

func TestAdminEditFormShowsTheSavedEvent(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.DemoLogin(t, a.Router, admOrganiser)
	ev := admEventBySlug(t, a, "tid-for-ledelse-bergen-kunstig-intelligens")
	rec := cl.Get(fmt.Sprintf("/admin/events/%d", ev.ID))
	apptest.Want(t, rec, http.StatusOK)
	body := rec.Body.String()
	for _, want := range []string{
		`name="title" type="text" value="Tid for ledelse: Å lede når KI kommer inn i arbeidet"`,
		`name="start_time" type="time" value="08:00"`,
		`name="venue_name" type="text" value="Media City Bergen"`,
		`value="middle" checked`,
		`name="agenda.2.title" value="Samtale rundt bordene"`,
		// three empty rows after the saved ones
		`name="agenda.5.title" value=""`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the form lacks %s", want)
		}
	}
	if strings.Contains(body, `name="agenda.6.title"`) {
		t.Error("more than three empty agenda rows")
	}
	// saving the form unchanged changes nothing that matters to attendees
	apptest.Want(t, cl.PostForm(fmt.Sprintf("/admin/events/%d", ev.ID), apptest.EditForm(ev)), http.StatusSeeOther)
	got := admEvent(t, a, ev.ID)
	if got.Sequence != ev.Sequence || !got.StartsAt.Equal(ev.StartsAt) || got.Venue.ID != ev.Venue.ID || len(got.Agenda) != len(ev.Agenda) {
		t.Errorf("an unchanged save changed the event: %+v", got)
	}
	for i := range ev.Agenda {
		if !got.Agenda[i].StartsAt.Equal(ev.Agenda[i].StartsAt) || got.Agenda[i].Title != ev.Agenda[i].Title {
			t.Errorf("agenda item %d: %+v, was %+v", i, got.Agenda[i], ev.Agenda[i])
		}
	}
}

func TestAdminValidation(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	cl := apptest.DemoLogin(t, a.Router, admOrganiser)
	events0 := admCount(t, a, `SELECT COUNT(*) FROM events`)
	for _, tc := range []struct {
		name    string
		kv      []string
		field   string // whose message and aria-invalid appear
		message string
		kept    string // a typed value the form shows again
	}{
		{"missing title", []string{"title", ""}, "title", "Fyll inn dette feltet.", `>Frokostmøte for ledere i staten i Bergen.</textarea>`},
		{"end before start", []string{"end_time", "07:30"}, "end_time", "Slutten må være etter starten.", `value="07:30"`},
		{"end date before start date", []string{"end_date", admDay(2)}, "end_time", "Slutten må være etter starten.", `value="` + admDay(2) + `"`},
		{"bad date", []string{"start_date", "2027-02-30"}, "start_date", "Skriv en dato som finnes", `value="2027-02-30"`},
		{"missing date", []string{"start_date", ""}, "start_date", "Skriv en dato.", `value="Bryggen konferansesenter"`},
		{"bad time", []string{"start_time", "25:00"}, "start_time", "Skriv klokkeslettet som tt:mm", `value="25:00"`},
		{"negative capacity", []string{"capacity", "-1"}, "capacity", "Skriv antall plasser som et helt tall fra 1 til", `value="-1"`},
		{"capacity not a number", []string{"capacity", "abc"}, "capacity", "Skriv antall plasser som et helt tall", `value="abc"`},
		{"bad price", []string{"price", "gratis"}, "price", "Skriv prisen i hele kroner", `value="gratis"`},
		{"negative price", []string{"price", "-100"}, "price", "Skriv prisen i hele kroner", `value="-100"`},
		{"unknown region", []string{"region", "atlantis"}, "region", "Velg en region fra lista.", `value="Ledermøte på Bryggen – våren"`},
		{"latitude out of range", []string{"venue_lat", "91"}, "venue_lat", "Skriv breddegraden som et tall mellom -90 og 90", `value="91"`},
		{"longitude not a number", []string{"venue_lon", "øst"}, "venue_lon", "Skriv lengdegraden som et tall", `value="øst"`},
		{"latitude without longitude", []string{"venue_lon", ""}, "venue_lon", "Skriv lengdegraden", `value="60,3975"`},
		{"bad postcode", []string{"venue_postcode", "50"}, "venue_postcode", "fire sifre", `value="50"`},
		{"no venue for a physical event", []string{"venue_name", ""}, "venue_name", "Skriv navnet på møtestedet.", `value="Bryggen 1"`},
		{"digital without a link", []string{"mode", "digital"}, "online_url", "Skriv lenken til det digitale møtet.", `value="digital" selected`},
		{"link that is not a web address", []string{"online_url", "javascript:alert(1)"}, "online_url", "Skriv en hel nettadresse", `value="javascript:alert(1)"`},
		{"unknown format", []string{"format", "party"}, "format", "Velg et av alternativene.", `value="Bryggen konferansesenter"`},
		{"invitation without a code", []string{"invitation_only", "1"}, "invite_code", "Skriv en invitasjonskode", `id="f-invitation_only" name="invitation_only" value="1" checked`},
		{"deadline after the start", []string{"closes_date", admDay(4)}, "closes_date", "Påmeldingsfristen kan ikke være etter", `value="` + admDay(4) + `"`},
		{"agenda row without a title", []string{"agenda.1.introducer", "Kari"}, "agenda.1.title", "Skriv hva programpunkt 2 handler om", `value="Kari"`},
		{"agenda time", []string{"agenda.0.time", "åtte"}, "agenda.0.time", "Skriv klokkeslettet for programpunkt 1", `value="åtte"`},
		{"bad slug", []string{"slug", "---"}, "slug", "Adressen må ha minst én bokstav", `value="---"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := cl.PostForm("/admin/events", admWith(admForm(), tc.kv...))
			apptest.Want(t, rec, http.StatusUnprocessableEntity)
			body := rec.Body.String()
			apptest.Says(t, rec, tc.message)
			if !strings.Contains(body, `href="#f-`+tc.field+`"`) {
				t.Errorf("the error summary does not link to #f-%s", tc.field)
			}
			if !regexp.MustCompile(`id="f-`+regexp.QuoteMeta(tc.field)+`"[^>]*aria-invalid="true"[^>]*aria-describedby="[^"]*f-`+regexp.QuoteMeta(tc.field)+`-error"`).MatchString(body) &&
				!regexp.MustCompile(`id="f-`+regexp.QuoteMeta(tc.field)+`-error"`).MatchString(body) {
				t.Errorf("field %s is not marked invalid with its message", tc.field)
			}
			if !strings.Contains(html.UnescapeString(body), html.UnescapeString(tc.kept)) {
				t.Errorf("the form lost the typed %s", tc.kept)
			}
		})
	}
	if n := admCount(t, a, `SELECT COUNT(*) FROM events`); n != events0 {
		t.Errorf("%d events were created by invalid forms", n-events0)
	}

	t.Run("messages in English", func(t *testing.T) {
		cl.Header.Set("Accept-Language", "en")
		defer cl.Header.Del("Accept-Language")
		rec := cl.PostForm("/admin/events", admWith(admForm(), "capacity", "abc", "title", ""))
		apptest.Want(t, rec, http.StatusUnprocessableEntity)
		apptest.Says(t, rec, "The form was not saved", "Fill in this field.", "Type the number of places as a whole number")
	})
}

func TestAdminOnChange(t *testing.T) {
	a := apptest.New(t, apptest.Options{Demo: true})
	var (
		seen []events.Change
		fail bool
	)
	// the test's hook runs before the app's own (registration tells the
	// registrants), in the same transaction
	tell := a.Events.OnChange
	a.Events.OnChange = func(ctx context.Context, tx *sql.Tx, now time.Time, ch events.Change) error {
		if fail {
			return errors.New("the hook failed")
		}
		// the hook sees the change inside its transaction
		var seq int
		if err := tx.QueryRowContext(ctx, `SELECT sequence FROM events WHERE id = ?`, ch.After.ID).Scan(&seq); err != nil || seq != ch.After.Sequence {
			t.Errorf("in the hook the event has sequence %d (%v), After says %d", seq, err, ch.After.Sequence)
		}
		seen = append(seen, ch)
		return tell(ctx, tx, now, ch)
	}
	cl := apptest.DemoLogin(t, a.Router, admOrganiser)
	id := admCreated(t, cl, "/admin/events", admForm())
	path := fmt.Sprintf("/admin/events/%d", id)
	if len(seen) != 0 {
		t.Fatalf("creating a draft ran the hook %d times", len(seen))
	}
	last := func(t *testing.T) events.Change {
		t.Helper()
		if len(seen) == 0 {
			t.Fatal("the hook did not run")
		}
		ch := seen[len(seen)-1]
		seen = nil
		return ch
	}

	t.Run("publish", func(t *testing.T) {
		apptest.Want(t, cl.PostForm(path+"/publish", url.Values{}), http.StatusSeeOther)
		ch := last(t)
		if ch.Before.Status != events.StatusDraft || ch.After.Status != events.StatusPublished || ch.TimeOrPlaceChanged() || ch.After.Sequence != 0 {
			t.Errorf("%s → %s, sequence %d", ch.Before.Status, ch.After.Status, ch.After.Sequence)
		}
	})
	admAddRegistrations(t, a, id, "confirmed", 2)
	admAddRegistrations(t, a, id, "waiting", 2)

	t.Run("time", func(t *testing.T) {
		f := apptest.EditForm(admEvent(t, a, id))
		f.Set("start_time", "07:45")
		f.Set("agenda.0.time", "07:45")
		f.Set("confirmed", "1")
		apptest.Want(t, cl.PostForm(path, f), http.StatusSeeOther)
		ch := last(t)
		if !ch.TimeOrPlaceChanged() || ch.After.Sequence != ch.Before.Sequence+1 {
			t.Errorf("time changed %v, sequence %d → %d", ch.TimeOrPlaceChanged(), ch.Before.Sequence, ch.After.Sequence)
		}
		if ch.After.StartsAt.In(events.Oslo).Format("15:04") != "07:45" || ch.Before.StartsAt.In(events.Oslo).Format("15:04") != "08:00" {
			t.Errorf("before %s after %s", ch.Before.StartsAt, ch.After.StartsAt)
		}
		if len(ch.After.Agenda) != 2 || ch.After.Agenda[0].StartsAt.In(events.Oslo).Format("15:04") != "07:45" || ch.After.ConfirmedCount != 2 || ch.After.WaitlistCount != 2 {
			t.Errorf("After is not the event as saved: agenda %+v, counts %d/%d", ch.After.Agenda, ch.After.ConfirmedCount, ch.After.WaitlistCount)
		}
		if ch.After.Venue == nil || ch.After.Organiser.Slug != "dfo" || len(ch.After.Levels) != 2 {
			t.Errorf("After lacks venue, organiser or target groups: %+v", ch.After)
		}
	})

	t.Run("capacity", func(t *testing.T) {
		f := apptest.EditForm(admEvent(t, a, id))
		f.Set("capacity", "41")
		apptest.Want(t, cl.PostForm(path, f), http.StatusSeeOther)
		ch := last(t)
		if !ch.CapacityRaised() || ch.TimeOrPlaceChanged() || ch.After.Capacity != 41 {
			t.Errorf("capacity raised %v, %d → %d", ch.CapacityRaised(), ch.Before.Capacity, ch.After.Capacity)
		}
	})

	t.Run("a failing hook saves nothing", func(t *testing.T) {
		before := admEvent(t, a, id)
		audits := admCount(t, a, `SELECT COUNT(*) FROM audit_log`)
		fail = true
		defer func() { fail = false }()
		f := apptest.EditForm(before)
		f.Set("title", "Ny tittel som ikke blir lagret")
		f.Set("capacity", "80")
		rec := cl.PostForm(path, f)
		apptest.Want(t, rec, http.StatusInternalServerError)
		if got := admEvent(t, a, id); got.Title != before.Title || got.Capacity != before.Capacity || !got.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("saved despite the hook's error: %q capacity %d", got.Title, got.Capacity)
		}
		if n := admCount(t, a, `SELECT COUNT(*) FROM audit_log`); n != audits {
			t.Errorf("%d audit rows written", n-audits)
		}
		if strings.Contains(rec.Body.String(), "the hook failed") {
			t.Error("the error page shows the internal error")
		}
	})

	t.Run("cancel", func(t *testing.T) {
		apptest.Want(t, cl.PostForm(path+"/cancel", url.Values{}), http.StatusSeeOther)
		ch := last(t)
		if !ch.Cancelled() || ch.After.Sequence != ch.Before.Sequence+1 {
			t.Errorf("cancelled %v, sequence %d → %d", ch.Cancelled(), ch.Before.Sequence, ch.After.Sequence)
		}
	})
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Ledermøte på Bryggen":             "ledermote-pa-bryggen",
		"Ærlig talt: Å lede i Tromsø!":     "aerlig-talt-a-lede-i-tromso",
		"  KI & ledelse -- 2027  ":         "ki-ledelse-2027",
		"Café Ørsta / Volda":               "cafe-orsta-volda",
		"Guovdageaidnu – Sámi allaskuvla":  "guovdageaidnu-sami-allaskuvla",
		"---":                              "",
		"日本語":                              "",
		strings.Repeat("lang tittel ", 20): strings.TrimRight(strings.Repeat("lang-tittel-", 20)[:80], "-"),
	} {
		if got := events.Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}
