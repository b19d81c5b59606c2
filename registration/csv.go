package registration

// The attendee list as CSV for spreadsheets: UTF-8 with a byte order mark
// (so Excel reads æ, ø and å right), quoted by encoding/csv (quotes, the
// separator and line breaks inside a field survive), one row per
// registration. The separator is a semicolon by default, because Excel set
// up for Norwegian splits columns on semicolons when a file is opened with
// a double click; ?sep=comma gives commas.

import (
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/organisers"
)

// BOM is the UTF-8 byte order mark that starts the file.
const BOM = "\uFEFF"

// CSVColumns are the columns, in order; their headings are the catalogue
// entries attendees.csv.<column> in the page's language.
var CSVColumns = []string{"name", "email", "organisation", "role", "level", "sector", "region", "phone",
	"dietary", "accessibility", "topics", "status", "position", "registered_at", "checked_in_at", "intro_consent"}

// csvTime is how times are written: Oslo time, which spreadsheets read as
// a date and time.
const csvTime = "2006-01-02 15:04"

// WriteAttendeesCSV writes the BOM, a heading row and one row per attendee.
// T translates catalogue keys (headings, level, sector, status, yes/no).
// Free text is written as stored, except that a cell a spreadsheet would
// run as a formula (starting with =, @, a tab or a carriage return, or with
// + or - followed by something other than a digit or a space) gets a
// leading apostrophe.
func WriteAttendeesCSV(w io.Writer, all []Attendee, comma rune, T func(key string) string) error {
	if _, err := io.WriteString(w, BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma = comma
	cw.UseCRLF = true // what spreadsheets expect between rows
	head := make([]string, len(CSVColumns))
	for i, col := range CSVColumns {
		head[i] = T("attendees.csv." + col)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	yes, no := T("attendees.csv.yes"), T("attendees.csv.no")
	for _, a := range all {
		position, checked, consent := "", "", no
		if a.Waiting() && a.Position > 0 {
			position = strconv.Itoa(a.Position)
		}
		if !a.CheckedInAt.IsZero() {
			checked = a.CheckedInAt.In(web.Oslo).Format(csvTime)
		}
		if a.IntroConsent {
			consent = yes
		}
		dietary, access := a.Dietary, a.Accessibility
		if a.DietaryHidden {
			dietary = T("attendees.needs.hidden")
		}
		if a.AccessibilityHidden {
			access = T("attendees.needs.hidden")
		}
		row := []string{
			a.Name, a.Email, a.Organisation, a.Role,
			T("registration.level." + a.Level), T("registration.sector." + a.Sector),
			a.Region, a.Phone, dietary, access, a.Topics,
			T("attendees.status." + a.Status), position,
			a.CreatedAt.In(web.Oslo).Format(csvTime), checked, consent,
		}
		for i := range row {
			row[i] = defuseFormula(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// defuseFormula keeps a spreadsheet from running a cell as a formula
// (CSV injection); phone numbers (+47 ...) and negative numbers stay.
func defuseFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
		return "'" + s
	case '+', '-':
		if len(s) == 1 || (s[1] >= '0' && s[1] <= '9') || s[1] == ' ' {
			return s
		}
		return "'" + s
	}
	return s
}

// csvFileName is a safe download name: the event's slug and the day.
func csvFileName(ev events.Event, now time.Time) string {
	slug := strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			return r
		}
		return -1
	}, ev.Slug)
	if slug == "" {
		slug = "event-" + strconv.FormatInt(ev.ID, 10)
	}
	return fmt.Sprintf("deltakere-%s-%s.csv", slug, now.In(web.Oslo).Format("2006-01-02"))
}

// exportCSV is GET /admin/events/:id/attendees.csv, with the list's search
// and filter (?q=, ?status=). The export is written to the audit log.
func (h *AttendeesHandler) exportCSV(c *gin.Context) {
	ev, err := h.event(c, accessManage)
	if err != nil {
		h.fail(c, err)
		return
	}
	all, err := h.attendeesFor(c, ev)
	if err != nil {
		h.fail(c, err)
		return
	}
	q, status := searchParam(c.Query("q")), CleanFilter(c.Query("status"))
	rows := FilterAttendees(all, q, status)
	u := organisers.CurrentUser(c)
	detail := fmt.Sprintf("%d rows", len(rows))
	if status != "" || q != "" {
		// the search itself may be a name: only that there was one
		detail += ", filtered"
	}
	err = h.Service.DB.Tx(c.Request.Context(), func(tx *sql.Tx, now time.Time) error {
		return organisers.Audit(c.Request.Context(), tx, now, u, ev.Organiser.ID, ActionCSVExport, auditEvent, ev.ID, detail)
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	comma := ';'
	if c.Query("sep") == "comma" {
		comma = ','
	}
	lang := web.Lang(c)
	cat := h.R.Catalogue()
	var b strings.Builder
	if err := WriteAttendeesCSV(&b, rows, comma, func(key string) string { return cat.T(lang, key) }); err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+csvFileName(ev, h.now())+`"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", []byte(b.String()))
}
