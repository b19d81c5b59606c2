package match

// Reading people for Match from the JSON or CSV that "moteplass match" is
// given. Every problem names its row (and CSV line) and field, so a person
// preparing the file can find it; all problems are returned at once.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/moteplass/moteplass/internal/leader"
)

// inputError is a problem with one field of one row.
type inputError struct {
	Row   int    // 1-based; 0 when the problem is not in a row
	Line  int    // CSV line, 0 for JSON
	Field string // "" when the problem is the whole row
	Msg   string
}

func (e *inputError) Error() string {
	var b strings.Builder
	if e.Row > 0 {
		fmt.Fprintf(&b, "row %d", e.Row)
		if e.Line > 0 {
			fmt.Fprintf(&b, " (line %d)", e.Line)
		}
	}
	if e.Field != "" {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "field %q", e.Field)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ReadJSON reads a JSON array of people, with one error per bad field
// (joined with errors.Join). Closed fields (level, sector, mix) are checked
// and normalised; ids must be present and unique.
func ReadJSON(data []byte) ([]Person, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var rows []json.RawMessage
	if err := dec.Decode(&rows); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return nil, &inputError{Msg: "no input: expected a JSON array of people"}
		case errors.As(err, &syntax):
			line, col := position(data, syntax.Offset)
			return nil, &inputError{Msg: fmt.Sprintf("input is not valid JSON at line %d, column %d: %v", line, col, syntax)}
		case errors.As(err, &typ):
			return nil, &inputError{Msg: fmt.Sprintf("expected a JSON array of people, found %s", typ.Value)}
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, &inputError{Msg: "input is not valid JSON: it ends too early"}
		}
		return nil, &inputError{Msg: fmt.Sprintf("input is not valid JSON: %v", err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &inputError{Msg: "input has more after the JSON array of people"}
	}
	people := make([]Person, 0, len(rows))
	var errs []error
	for i, raw := range rows {
		var p Person
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&p); err != nil {
			errs = append(errs, rowDecodeError(i+1, err))
			continue
		}
		people = append(people, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if errs := validate(people, nil); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return people, nil
}

// rowDecodeError explains why one array element is not a person.
func rowDecodeError(row int, err error) error {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		if typ.Field == "" {
			return &inputError{Row: row, Msg: fmt.Sprintf("expected an object, found %s", typ.Value)}
		}
		want := "a string"
		if typ.Field == "topics" || strings.HasPrefix(typ.Field, "topics.") {
			want, typ.Field = "an array of strings", "topics"
		}
		return &inputError{Row: row, Field: typ.Field, Msg: fmt.Sprintf("expected %s, found %s", want, typ.Value)}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &inputError{Row: row, Field: strings.Trim(name, `"`),
			Msg: "unknown field (known: id, name, organisation, level, role, sector, region, topics, mix)"}
	}
	return &inputError{Row: row, Msg: err.Error()}
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}

var mixValues = []string{MixPublicOnly, MixMixed}

// validate checks and normalises the closed fields in place. lines, when
// not nil, holds the CSV line of each row.
func validate(people []Person, lines []int) []error {
	var errs []error
	firstRow := map[string]int{}
	for i := range people {
		p := &people[i]
		row, line := i+1, 0
		if lines != nil {
			line = lines[i]
		}
		fail := func(field, msg string) {
			errs = append(errs, &inputError{Row: row, Line: line, Field: field, Msg: msg})
		}
		p.ID = strings.TrimSpace(p.ID)
		switch first, dup := firstRow[p.ID]; {
		case p.ID == "":
			fail("id", "missing")
		case dup:
			fail("id", fmt.Sprintf("duplicate id %q (first in row %d)", p.ID, first))
		default:
			firstRow[p.ID] = row
		}
		if strings.TrimSpace(p.Organisation) == "" {
			fail("organisation", "missing")
		}
		p.Level = strings.ToLower(strings.TrimSpace(p.Level))
		if p.Level == "" {
			fail("level", "missing (use "+join(leader.Levels, "or")+")")
		} else if !slices.Contains(leader.Levels, p.Level) {
			fail("level", fmt.Sprintf("unknown value %q (use %s)", p.Level, join(leader.Levels, "or")))
		}
		p.Sector = strings.ToLower(strings.TrimSpace(p.Sector))
		if p.Sector != "" && !slices.Contains(leader.Sectors, p.Sector) {
			fail("sector", fmt.Sprintf("unknown value %q (use %s)", p.Sector, join(leader.Sectors, "or")))
		}
		p.Mix = strings.ToLower(strings.TrimSpace(p.Mix))
		if p.Mix != "" && !slices.Contains(mixValues, p.Mix) {
			fail("mix", fmt.Sprintf("unknown value %q (use %s, or leave it empty)", p.Mix, join(mixValues, "or")))
		}
	}
	return errs
}

// csvColumns are the columns the CSV may have; the first three are required.
var csvColumns = []string{"id", "organisation", "level", "name", "role", "sector", "region", "topics", "mix"}

// ReadCSV reads people from CSV with a header row. The delimiter is a comma,
// or a semicolon when the header has semicolons and no commas (as Excel
// writes CSV in Norwegian). Unknown columns are ignored with a warning.
// Topics are separated by ";" or "|". The rows are checked as in ReadJSON.
func ReadCSV(data []byte) ([]Person, []string, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	r := csv.NewReader(bytes.NewReader(data))
	header := data
	if i := bytes.IndexByte(header, '\n'); i >= 0 {
		header = header[:i]
	}
	if bytes.IndexByte(header, ';') >= 0 && bytes.IndexByte(header, ',') < 0 {
		r.Comma = ';'
	}
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true

	names, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, &inputError{Msg: "no input: expected a CSV header row (id, name, organisation, level, role, sector, region, topics, mix)"}
	}
	if err != nil {
		return nil, nil, &inputError{Msg: "the CSV header cannot be read: " + err.Error()}
	}
	col := map[string]int{}
	var warnings []string
	for i, name := range names {
		name = strings.ToLower(strings.TrimSpace(name))
		switch {
		case name == "":
		case !slices.Contains(csvColumns, name):
			warnings = append(warnings, fmt.Sprintf("ignoring unknown CSV column %q", name))
		default:
			if _, dup := col[name]; dup {
				return nil, warnings, &inputError{Field: name, Msg: "the CSV header has this column twice"}
			}
			col[name] = i
		}
	}
	var errs []error
	for _, required := range csvColumns[:3] {
		if _, ok := col[required]; !ok {
			errs = append(errs, &inputError{Field: required, Msg: fmt.Sprintf("the CSV header has no %q column (found: %s)", required, strings.Join(names, ", "))})
		}
	}
	if len(errs) > 0 {
		return nil, warnings, errors.Join(errs...)
	}

	var people []Person
	var lines []int
	for row := 1; ; row++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			return nil, warnings, &inputError{Row: row, Line: line, Msg: "the CSV row cannot be read: " + err.Error()}
		}
		field := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		p := Person{ID: field("id"), Name: field("name"), Organisation: field("organisation"), Level: field("level"),
			Role: field("role"), Sector: field("sector"), Region: field("region"), Mix: field("mix")}
		for _, t := range strings.FieldsFunc(field("topics"), func(r rune) bool { return r == ';' || r == '|' }) {
			if t = strings.TrimSpace(t); t != "" {
				p.Topics = append(p.Topics, t)
			}
		}
		people = append(people, p)
		lines = append(lines, line)
	}
	if errs := validate(people, lines); len(errs) > 0 {
		return nil, warnings, errors.Join(errs...)
	}
	return people, warnings, nil
}
