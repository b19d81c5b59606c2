package registration_test

// The attendee list as CSV: read back with encoding/csv, quotes, commas,
// semicolons, line breaks and æøå come back exactly as stored; the file
// starts with the byte order mark; the export is in the audit log; no cell
// of a published list of CSV injection payloads can run as a formula.

import (
	"bytes"
	"database/sql"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/moteplass/moteplass/internal/app/apptest"
	"github.com/moteplass/moteplass/internal/pgtest"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/registration"
)

func TestCSVExportReadsBackExactly(t *testing.T) {
	w := attSetup(t, capacity(2))
	a := w.a
	tricky := []struct {
		name, email string
		kv          []string
	}{
		{`Anne "Nora" Æsøy-Ågård`, "anne@example.no", []string{
			"organisation", "Statens vegvesen, region vest", "role", `Seksjonssjef; "fag"`,
			"topics", "Linje én\nLinje to, med komma og \"sitat\"\n\nOg en tom linje over", "dietary", "Glutenfri; laktosefri",
			"accessibility", "Trinnfri adkomst, takk", "phone", "+47 912 34 567", "intro_consent", "1"}},
		{"Øystein O'Brien", "oystein@example.no", []string{"organisation", "Bergen kommune", "sector", "municipal", "level", "top",
			"topics", "", "dietary", "", "phone", ""}},
		{"Kåre Venteliste", "kare@example.no", []string{"dietary", "Vegansk, ingen nøtter", "topics", "Æ, ø og å – og «sitat»"}},
	}
	for _, p := range tricky {
		signUpAs(t, a, w.ev, p.name, p.email, p.kv...)
	}
	// Kåre waits (capacity 2); check Anne in
	anne := byEmail(t, a, w.ev.ID, "anne@example.no")
	if _, err := a.Registrations.SetCheckedIn(t.Context(), w.user("admin"), w.ev.ID, anne.ID, true); err != nil {
		t.Fatal(err)
	}
	stored, err := registration.FindAttendees(t.Context(), a.DB.Read(), w.ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	cl := w.login(t, "organiser")

	for _, c := range []struct {
		query string
		comma rune
	}{{"", ';'}, {"?sep=comma", ','}} {
		t.Run("separator "+string(c.comma), func(t *testing.T) {
			rec := cl.Get(attPath(w.ev, "/attendees.csv"+c.query))
			apptest.Want(t, rec, http.StatusOK)
			if ct := rec.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if cd := rec.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="deltakere-testmote-`) {
				t.Errorf("Content-Disposition %q", cd)
			}
			body := rec.Body.Bytes()
			if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
				t.Fatalf("no byte order mark: % x", body[:8])
			}
			r := csv.NewReader(bytes.NewReader(body[3:]))
			r.Comma = c.comma
			records, err := r.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"Navn", "E-post", "Virksomhet", "Stilling", "Ledernivå", "Sektor", "Arbeidssted", "Telefon",
				"Allergier og matbehov", "Tilrettelegging", "Forslag til tema", "Status", "Plass på venteliste", "Påmeldt",
				"Sjekket inn", "Ønsker introduksjoner"}
			if !slices.Equal(records[0], want) {
				t.Fatalf("heading %q", records[0])
			}
			if len(records) != 1+len(stored) {
				t.Fatalf("%d rows, want %d", len(records)-1, len(stored))
			}
			for i, s := range stored {
				row := records[i+1]
				got := map[string]string{}
				for j, col := range registration.CSVColumns {
					got[col] = row[j]
				}
				for col, want := range map[string]string{
					"name": s.Name, "email": s.Email, "organisation": s.Organisation, "role": s.Role, "region": s.Region,
					"phone": s.Phone, "dietary": s.Dietary, "accessibility": s.Accessibility, "topics": s.Topics,
					"registered_at": s.CreatedAt.In(web.Oslo).Format("2006-01-02 15:04"),
				} {
					if got[col] != want {
						t.Errorf("row %d, %s: %q, want %q", i+1, col, got[col], want)
					}
				}
				wantStatus, wantPos := "Bekreftet", ""
				if s.Waiting() {
					wantStatus, wantPos = "På venteliste", strconv.Itoa(s.Position)
				}
				if got["status"] != wantStatus || got["position"] != wantPos {
					t.Errorf("row %d: status %q position %q", i+1, got["status"], got["position"])
				}
				wantChecked, wantConsent := "", "nei"
				if !s.CheckedInAt.IsZero() {
					wantChecked = s.CheckedInAt.In(web.Oslo).Format("2006-01-02 15:04")
				}
				if s.IntroConsent {
					wantConsent = "ja"
				}
				if got["checked_in_at"] != wantChecked || got["intro_consent"] != wantConsent {
					t.Errorf("row %d: checked in %q consent %q", i+1, got["checked_in_at"], got["intro_consent"])
				}
			}
			// the tricky one, spelled out
			if records[1][0] != `Anne "Nora" Æsøy-Ågård` || records[1][10] != "Linje én\nLinje to, med komma og \"sitat\"\n\nOg en tom linje over" ||
				records[1][7] != "+47 912 34 567" || records[1][14] == "" || records[1][15] != "ja" {
				t.Errorf("first row %q", records[1])
			}
		})
	}

	t.Run("the list's search and filter apply", func(t *testing.T) {
		rec := cl.Get(attPath(w.ev, "/attendees.csv?status=waiting"))
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(rec.Body.Bytes(), []byte(registration.BOM))))
		r.Comma = ';'
		if records, err := r.ReadAll(); err != nil || len(records) != 2 || records[1][0] != "Kåre Venteliste" {
			t.Fatalf("waiting only: %q (%v)", records, err)
		}
	})

	log := auditLog(t, a, registration.ActionCSVExport)
	if len(log) != 3 || log[0].Detail != "3 rows" || log[2].Detail != "1 rows, filtered" || log[0].ObjectID != w.ev.ID {
		t.Fatalf("audit: %+v", log)
	}
}

// csvPayloads reads testdata/csv-injection-payloads.txt: one Go string
// literal a line, # for comments.
func csvPayloads(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile("testdata/csv-injection-payloads.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p, err := strconv.Unquote(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		// PostgreSQL stores no NUL (and the forms take none); a payload
		// with one is SQLite's to test
		if strings.IndexByte(p, 0) >= 0 && pgtest.Enabled() {
			continue
		}
		out = append(out, p)
	}
	if len(out) < 40 {
		t.Fatalf("only %d payloads: is the file read right?", len(out))
	}
	return out
}

// csvDangerous reports whether a spreadsheet could take the cell for a
// formula: it starts with = + - @ (or their full-width forms), a tab or a
// line break, also after spaces.
func csvDangerous(cell string) bool {
	for _, r := range cell {
		switch {
		case strings.ContainsRune("=+-@\t\r\n＝＋－＠", r):
			return true
		case unicode.IsSpace(r):
			continue
		}
		return false
	}
	return false
}

// csvTextColumns are the columns a person types into.
var csvTextColumns = []string{"name", "email", "organisation", "role", "region", "phone", "dietary", "accessibility", "topics"}

// TestCSVDefusesPublishedInjectionPayloads puts each payload of a
// published list into every text field of a registration and downloads
// the organiser's CSV through the router. The payloads are written into
// the rows directly: the form refuses some of them (control characters, a
// phone number of letters), but the export must be safe whatever is
// stored (older rows, a future import), not because of the form.
func TestCSVDefusesPublishedInjectionPayloads(t *testing.T) {
	payloads := csvPayloads(t)
	w := attSetup(t, capacity(len(payloads)))
	a := w.a
	for i, p := range payloads {
		r, _ := signUpAs(t, a, w.ev, "Deltaker "+strconv.Itoa(i), fmt.Sprintf("deltaker-%d@example.no", i))
		err := a.DB.Tx(t.Context(), func(tx *sql.Tx, now time.Time) error {
			_, err := tx.ExecContext(t.Context(), `UPDATE registrations SET name = ?, email = ?, organisation = ?, role = ?,
				region = ?, phone = ?, dietary = ?, accessibility = ?, topics = ? WHERE id = ?`, p, p, p, p, p, p, p, p, p, r.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	stored, err := registration.FindAttendees(t.Context(), a.DB.Read(), w.ev.ID)
	if err != nil || len(stored) != len(payloads) {
		t.Fatalf("%d attendees (%v)", len(stored), err)
	}
	cl := w.login(t, "organiser")
	for _, c := range []struct {
		query string
		comma rune
	}{{"", ';'}, {"?sep=comma", ','}} {
		t.Run("separator "+string(c.comma), func(t *testing.T) {
			rec := cl.Get(attPath(w.ev, "/attendees.csv"+c.query))
			apptest.Want(t, rec, http.StatusOK)
			r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(rec.Body.Bytes(), []byte(registration.BOM))))
			r.Comma = c.comma
			records, err := r.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(records) != 1+len(stored) {
				t.Fatalf("%d rows, want %d", len(records)-1, len(stored))
			}
			for i, s := range stored {
				p := s.Name // the payload of this row, as stored
				if !slices.Contains(payloads, p) {
					t.Fatalf("row %d: the name %q is not a payload: it did not survive the database", i+1, p)
				}
				want := p
				if csvDangerous(p) {
					want = "'" + p
				}
				// encoding/csv writes a line break in a cell as CRLF
				// (UseCRLF) and a lone CR not at all; it reads back LF
				want = strings.ReplaceAll(want, "\r", "")
				row := records[i+1]
				for j, col := range registration.CSVColumns {
					cell := row[j]
					if csvDangerous(cell) {
						t.Errorf("payload %q, %s: the cell %q can run as a formula", p, col, cell)
					}
					if slices.Contains(csvTextColumns, col) && cell != want {
						t.Errorf("payload %q, %s: %q, want %q", p, col, cell, want)
					}
				}
			}
		})
	}
}

// TestCSVKeepsPhoneNumbersReadable: a phone number as people write it
// stays as typed; anything else in the phone column that starts like a
// formula is defused like every other cell, and so is a phone-shaped
// value in any other column.
func TestCSVKeepsPhoneNumbersReadable(t *testing.T) {
	for _, c := range []struct {
		phone, want string
	}{
		{"+47 912 34 567", "+47 912 34 567"},
		{"91234567", "91234567"},
		{"912 34 567", "912 34 567"},
		{"+4791234567", "+4791234567"},
		{"+358 40 123 4567", "+358 40 123 4567"},
		{"(+47) 912 34 567", "(+47) 912 34 567"},
		{"912-34-567", "912-34-567"},
		{"", ""},
		// a spreadsheet would compute these, or worse
		{"+47-912-34-567", "'+47-912-34-567"},
		{"-91234567", "'-91234567"},
		{"+1", "'+1"},
		{"+47 912 34 567+cmd|' /C calc'!A0", "'+47 912 34 567+cmd|' /C calc'!A0"},
		{"+47 912 34 567\n=1+1", "'+47 912 34 567\n=1+1"},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"+4791234567+1", "'+4791234567+1"},
		{"+1234567890123456", "'+1234567890123456"}, // 16 digits: longer than any phone number
		{" +47 912 34 567", "' +47 912 34 567"},
		{"＋47 912 34 567", "'＋47 912 34 567"},
		{"=91234567", "'=91234567"},
	} {
		all := []registration.Attendee{{Registration: registration.Registration{Status: "confirmed", Details: registration.Details{
			Name: "Kari", Organisation: c.phone, Phone: c.phone, Level: "top", Sector: "state",
		}, CreatedAt: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)}}}
		var b bytes.Buffer
		if err := registration.WriteAttendeesCSV(&b, all, ';', func(k string) string { return k }); err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b.Bytes(), []byte(registration.BOM))))
		r.Comma = ';'
		records, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if got := records[1][7]; got != c.want {
			t.Errorf("phone %q: %q, want %q", c.phone, got, c.want)
		}
		// the exemption is the phone column's alone
		wantOrg := c.phone
		if csvDangerous(c.phone) {
			wantOrg = "'" + c.phone
		}
		if got := records[1][2]; got != wantOrg {
			t.Errorf("organisation %q: %q, want %q", c.phone, got, wantOrg)
		}
	}
}

func TestCSVDefusesFormulas(t *testing.T) {
	all := []registration.Attendee{{Registration: registration.Registration{Status: "confirmed", Details: registration.Details{
		Name: "=HYPERLINK(\"http://x\")", Organisation: "@SUM(A1)", Role: "-leder", Phone: "+47 912 34 567",
		Dietary: "-5", Topics: "+tema", Region: "Bergen - sentrum", Accessibility: "Rullestol = ja", Level: "top", Sector: "state",
	}, CreatedAt: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)}}}
	var b bytes.Buffer
	if err := registration.WriteAttendeesCSV(&b, all, ',', func(k string) string { return k }); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b.Bytes(), []byte(registration.BOM)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	row := records[1]
	for i, want := range map[int]string{0: "'=HYPERLINK(\"http://x\")", 2: "'@SUM(A1)", 3: "'-leder", 6: "Bergen - sentrum", 7: "+47 912 34 567",
		8: "'-5", 9: "Rullestol = ja", 10: "'+tema", 13: "2026-06-01 12:00"} {
		if row[i] != want {
			t.Errorf("column %d: %q, want %q", i, row[i], want)
		}
	}
}
