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
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

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
// Free text is written as stored, except that a cell a spreadsheet could
// run as a formula gets a leading apostrophe (see defuseFormula).
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
			if i != phoneColumn || !phoneShaped(row[i]) {
				row[i] = defuseFormula(row[i])
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// phoneColumn is where the phone number is, in CSVColumns.
var phoneColumn = slices.Index(CSVColumns, "phone")

// defuseFormula keeps a spreadsheet from running a cell as a formula (CSV
// injection): a cell that starts with = + - @, a tab or a line break, also
// after spaces of any kind, gets a leading apostrophe, which spreadsheets take as
// "this is text" (OWASP's advice); so does one starting with the
// full-width ＝ ＋ － ＠, in case a spreadsheet folds them into the plain
// ones. That holds for every cell, negative numbers and "- ingen"
// included: the one exemption is a phone number, see phoneShaped.
func defuseFormula(s string) string {
	for _, r := range s {
		switch r {
		case '=', '+', '-', '@', '\t', '\r', '\n', '＝', '＋', '－', '＠':
			return "'" + s
		}
		if !unicode.IsSpace(r) {
			return s
		}
	}
	return s
}

// phoneShaped reports whether a cell of the phone column is a phone number
// as people type it: a leading + at most, then digits and spaces, 8 to 15
// digits (a Norwegian number to the longest international one). Such a
// cell is left as typed, "+47 912 34 567" without an apostrophe: read as a
// formula it is at most a number (or a harmless error), so it calls no
// function, refers to no cell or file and reaches no other program (DDE
// needs a name and a |).
// Anything else in the column (dashes, brackets, a second +, letters)
// is defused like every other cell.
func phoneShaped(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ':
		case r == '+' && i == 0:
		default:
			return false
		}
	}
	return digits >= 8 && digits <= 15
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

// ExportCSV is GET /admin/events/:id/attendees.csv, with the list's search
// and filter (?q=, ?status=). The export is written to the audit log.
func (h *AttendeesHandler) ExportCSV(c *gin.Context) {
	ev, err := h.event(c, organisers.Manage)
	if err != nil {
		h.R.Fail(c, err)
		return
	}
	all, err := h.attendeesFor(c, ev)
	if err != nil {
		h.R.Fail(c, err)
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
		h.R.Fail(c, err)
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
		h.R.Fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+csvFileName(ev, h.now())+`"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", []byte(b.String()))
}
