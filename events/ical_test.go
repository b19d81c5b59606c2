package events

// Tests of the subscription feeds (FeedCalendar) read back by go-ical, and
// of the RFC 5545 text rules (folding, escaping); the checks here are the
// other calendar tests' too. The events they run on are in
// ical_cases_test.go, the invitations in ical_invitation_test.go, the
// reading by ical.js in ical_icaljs_test.go.

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	ical "github.com/emersion/go-ical"
)

// icalCheckLines checks the RFC 5545 line rules on raw output: every line
// ends in CRLF, holds no other CR or LF, is at most 75 octets and is valid
// UTF-8 on its own (so no fold split a character); continuation lines start
// with a space, and no fold falls inside a backslash escape.
func icalCheckLines(t testing.TB, b []byte) {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Fatalf("output does not end in CRLF: %q", b[max(0, len(b)-20):])
	}
	lines := bytes.Split(b[:len(b)-2], []byte("\r\n"))
	escapeOpen := false // the logical line so far ends in an unfinished escape
	for i, line := range lines {
		switch {
		case len(line) == 0:
			t.Fatalf("line %d is empty", i+1)
		case bytes.ContainsAny(line, "\r\n"):
			t.Fatalf("line %d holds a bare CR or LF: %q", i+1, line)
		case len(line) > 75:
			t.Fatalf("line %d has %d octets, more than 75: %q", i+1, len(line), line)
		case !utf8.Valid(line):
			t.Fatalf("line %d is not valid UTF-8 on its own (a fold split a character): %q", i+1, line)
		case i == 0 && line[0] == ' ':
			t.Fatalf("first line is a continuation: %q", line)
		}
		body := line
		if line[0] == ' ' {
			if escapeOpen {
				t.Fatalf("line %d: a fold inside a backslash escape: %q / %q", i+1, lines[i-1], line)
			}
			body = line[1:]
		} else {
			escapeOpen = false // a new content line
		}
		for _, c := range body {
			if escapeOpen {
				escapeOpen = false
			} else if c == '\\' {
				escapeOpen = true
			}
		}
	}
}

func icalDecode(t testing.TB, b []byte) *ical.Calendar {
	t.Helper()
	cal, err := ical.NewDecoder(bytes.NewReader(b)).Decode()
	if err != nil {
		t.Fatalf("go-ical cannot decode the output: %v\n%s", err, b)
	}
	return cal
}

func icalFindEvent(t testing.TB, cal *ical.Calendar, uid string) *ical.Component {
	t.Helper()
	var found *ical.Component
	for _, c := range cal.Children {
		if c.Name == ical.CompEvent && c.Props.Get(ical.PropUID) != nil && c.Props.Get(ical.PropUID).Value == uid {
			if found != nil {
				t.Fatalf("two VEVENTs with UID %s", uid)
			}
			found = c
		}
	}
	if found == nil {
		t.Fatalf("no VEVENT with UID %s", uid)
	}
	return found
}

// icalProp is the one property name of comp; it fails when there is not
// exactly one.
func icalProp(t testing.TB, comp *ical.Component, name string) *ical.Prop {
	t.Helper()
	if n := len(comp.Props[name]); n != 1 {
		t.Fatalf("%s has %d %s properties, want 1", comp.Name, n, name)
	}
	return &comp.Props[name][0]
}

func icalTextOf(t testing.TB, comp *ical.Component, name string) string {
	t.Helper()
	s, err := icalProp(t, comp, name).Text()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

func icalWant[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

// icalCheckEvent checks one decoded VEVENT against its case.
func icalCheckEvent(t *testing.T, ve *ical.Component, c icalCase) {
	t.Helper()
	icalWant(t, "DTSTAMP", icalProp(t, ve, ical.PropDateTimeStamp).Value, "20261102T103000Z")

	start := icalProp(t, ve, ical.PropDateTimeStart)
	icalWant(t, "DTSTART;TZID", start.Params.Get(ical.ParamTimezoneID), "Europe/Oslo")
	icalWant(t, "DTSTART value", start.Value, c.wantLocalStart)
	gotStart, err := start.DateTime(nil)
	if err != nil {
		t.Fatalf("DTSTART: %v", err)
	}
	if !gotStart.Equal(c.wantStart) {
		t.Errorf("DTSTART instant = %v, want %v", gotStart.UTC(), c.wantStart)
	}
	if h := gotStart.In(Oslo).Hour(); h != 9 {
		t.Errorf("DTSTART in Oslo is %02d:00, want 09:00", h)
	}
	if _, off := gotStart.In(Oslo).Zone(); off != c.wantOffset {
		t.Errorf("DTSTART offset %d, want %d", off, c.wantOffset)
	}

	if c.wantLocalEnd == "" {
		if ve.Props.Get(ical.PropDateTimeEnd) != nil {
			t.Errorf("DTEND present for an event without an end")
		}
	} else {
		end := icalProp(t, ve, ical.PropDateTimeEnd)
		icalWant(t, "DTEND;TZID", end.Params.Get(ical.ParamTimezoneID), "Europe/Oslo")
		icalWant(t, "DTEND value", end.Value, c.wantLocalEnd)
		gotEnd, err := end.DateTime(nil)
		if err != nil {
			t.Fatalf("DTEND: %v", err)
		}
		if !gotEnd.Equal(c.ev.EndsAt) {
			t.Errorf("DTEND instant = %v, want %v", gotEnd.UTC(), c.ev.EndsAt)
		}
	}

	icalWant(t, "SUMMARY", icalTextOf(t, ve, ical.PropSummary), c.wantSummary)
	icalWant(t, "DESCRIPTION", icalTextOf(t, ve, ical.PropDescription), c.wantDescription)
	if c.wantLocation == "" {
		if ve.Props.Get(ical.PropLocation) != nil {
			t.Errorf("LOCATION present, want none")
		}
	} else {
		icalWant(t, "LOCATION", icalTextOf(t, ve, ical.PropLocation), c.wantLocation)
	}
	if c.wantGeo == nil {
		if ve.Props.Get(ical.PropGeo) != nil {
			t.Errorf("GEO present, want none")
		}
	} else {
		icalWant(t, "GEO", icalProp(t, ve, ical.PropGeo).Value,
			strconv.FormatFloat(c.wantGeo[0], 'f', -1, 64)+";"+strconv.FormatFloat(c.wantGeo[1], 'f', -1, 64))
	}
	icalWant(t, "URL", icalProp(t, ve, ical.PropURL).Value, c.wantURL)
	icalWant(t, "STATUS", icalProp(t, ve, ical.PropStatus).Value, c.wantStatus)
	seq, err := icalProp(t, ve, ical.PropSequence).Int()
	if err != nil {
		t.Fatalf("SEQUENCE: %v", err)
	}
	icalWant(t, "SEQUENCE", seq, c.wantSequence)
	if c.wantOrganizer == "" {
		if ve.Props.Get(ical.PropOrganizer) != nil {
			t.Errorf("ORGANIZER present, want none")
		}
	} else {
		org := icalProp(t, ve, ical.PropOrganizer)
		icalWant(t, "ORGANIZER", org.Value, c.wantOrganizer)
		icalWant(t, "ORGANIZER;CN", org.Params.Get(ical.ParamCommonName), c.wantOrganizerCN)
	}
	if !c.ev.UpdatedAt.IsZero() {
		lm, err := icalProp(t, ve, ical.PropLastModified).DateTime(nil)
		if err != nil || !lm.Equal(c.ev.UpdatedAt) {
			t.Errorf("LAST-MODIFIED = %v (%v), want %v", lm, err, c.ev.UpdatedAt)
		}
	}
}

func TestFeedCalendarRoundTrip(t *testing.T) {
	cases := icalCases()
	b, err := FeedCalendar("Møteplass – Trøndelag; Nordland, Oslo", icalCaseEvents(cases), icalTestBase+"/", icalTestNow)
	if err != nil {
		t.Fatal(err)
	}
	icalCheckLines(t, b)
	cal := icalDecode(t, b)

	for name, want := range map[string]string{
		ical.PropMethod:        "PUBLISH",
		ical.PropProductID:     ProductID,
		ical.PropVersion:       "2.0",
		ical.PropCalendarScale: "GREGORIAN",
		"X-WR-TIMEZONE":        "Europe/Oslo",
		"X-PUBLISHED-TTL":      "PT1H",
	} {
		icalWant(t, name, icalProp(t, cal.Component, name).Value, want)
	}
	icalWant(t, "X-WR-CALNAME", icalTextOf(t, cal.Component, "X-WR-CALNAME"), "Møteplass – Trøndelag; Nordland, Oslo")
	icalWant(t, "NAME", icalTextOf(t, cal.Component, ical.PropName), "Møteplass – Trøndelag; Nordland, Oslo")
	refresh := icalProp(t, cal.Component, ical.PropRefreshInterval)
	icalWant(t, "REFRESH-INTERVAL", refresh.Value, "PT1H")
	icalWant(t, "REFRESH-INTERVAL;VALUE", refresh.Params.Get(ical.ParamValue), "DURATION")

	t.Run("one VTIMEZONE for Europe/Oslo with EU summer time, first", func(t *testing.T) {
		var tzs []*ical.Component
		for _, c := range cal.Children {
			if c.Name == ical.CompTimezone {
				tzs = append(tzs, c)
			}
		}
		if len(tzs) != 1 || cal.Children[0] != tzs[0] {
			t.Fatalf("want exactly one VTIMEZONE as the first component, got %d", len(tzs))
		}
		tz := tzs[0]
		icalWant(t, "TZID", icalProp(t, tz, ical.PropTimezoneID).Value, "Europe/Oslo")
		type rule struct{ name, from, to, start, rrule string }
		want := map[string]rule{
			"CET":  {ical.CompTimezoneStandard, "+0200", "+0100", "19701025T030000", "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"},
			"CEST": {ical.CompTimezoneDaylight, "+0100", "+0200", "19700329T020000", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"},
		}
		if len(tz.Children) != 2 {
			t.Fatalf("VTIMEZONE has %d rules, want 2", len(tz.Children))
		}
		for _, c := range tz.Children {
			name := icalProp(t, c, ical.PropTimezoneName).Value
			w, ok := want[name]
			if !ok {
				t.Fatalf("unexpected TZNAME %q", name)
			}
			got := rule{c.Name, icalProp(t, c, ical.PropTimezoneOffsetFrom).Value, icalProp(t, c, ical.PropTimezoneOffsetTo).Value,
				icalProp(t, c, ical.PropDateTimeStart).Value, icalProp(t, c, ical.PropRecurrenceRule).Value}
			icalWant(t, name, got, w)
		}
	})

	if n := len(cal.Events()); n != len(cases) {
		t.Fatalf("%d VEVENTs, want %d", n, len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			icalCheckEvent(t, icalFindEvent(t, cal, c.wantUID), c)
		})
	}
}

func TestFeedCalendarEmpty(t *testing.T) {
	b, err := FeedCalendar("Tom", nil, icalTestBase, icalTestNow)
	if err != nil {
		t.Fatal(err)
	}
	icalCheckLines(t, b)
	if n := len(icalDecode(t, b).Events()); n != 0 {
		t.Fatalf("%d VEVENTs, want 0", n)
	}
}

func TestICalFold(t *testing.T) {
	tests := []struct {
		name string
		line string
		want []string // physical lines without CRLF
	}{
		{"short line untouched", "SUMMARY:kort", []string{"SUMMARY:kort"}},
		{"75 octets untouched", strings.Repeat("a", 75), []string{strings.Repeat("a", 75)}},
		{"76 octets folded", strings.Repeat("a", 76), []string{strings.Repeat("a", 75), " a"}},
		{"two-octet ø straddling 75 moves down", strings.Repeat("a", 74) + "ø", []string{strings.Repeat("a", 74), " ø"}},
		{"ø ending exactly at 75 stays", strings.Repeat("a", 73) + "øb", []string{strings.Repeat("a", 73) + "ø", " b"}},
		{"four-octet emoji moves down whole", strings.Repeat("a", 73) + "🎉", []string{strings.Repeat("a", 73), " 🎉"}},
		{"continuations hold 74 octets after the space", strings.Repeat("b", 75+74+1),
			[]string{strings.Repeat("b", 75), " " + strings.Repeat("b", 74), " b"}},
		{"only æ", strings.Repeat("æ", 80), []string{strings.Repeat("æ", 37), " " + strings.Repeat("æ", 37), " " + strings.Repeat("æ", 6)}},
		{"escape \\n kept on one line", strings.Repeat("a", 74) + `\nb`, []string{strings.Repeat("a", 74), ` \nb`}},
		{"escaped backslash at the cut is whole", strings.Repeat("a", 73) + `\\b`, []string{strings.Repeat("a", 73) + `\\`, " b"}},
		{"three backslashes: the third moves down", strings.Repeat("a", 72) + `\\\,`, []string{strings.Repeat("a", 72) + `\\`, ` \,`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(icalFold([]byte(tt.line + "\r\n")))
			want := strings.Join(tt.want, "\r\n") + "\r\n"
			if got != want {
				t.Fatalf("fold:\n got %q\nwant %q", got, want)
			}
			icalCheckLines(t, []byte(got))
			if unfolded := strings.ReplaceAll(got, "\r\n ", ""); unfolded != tt.line+"\r\n" {
				t.Fatalf("unfolds to %q", unfolded)
			}
		})
	}
}

func TestICalCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"æøå ÆØÅ, ; \\ 🎉", "æøå ÆØÅ, ; \\ 🎉"},
		{"a\r\nb\rc\nd", "a\nb\nc\nd"},
		{"\r\r\n\n", "\n\n\n"},
		{"tab\there", "tab\there"},
		{"nul\x00bel\x07esc\x1bdel\x7f", "nulbelescdel"},
		{"bad \xff\xfe utf-8", "bad \ufffd\ufffd utf-8"},
		{"cut ø \xc3", "cut ø \ufffd"},
	}
	for _, tt := range tests {
		icalWant(t, strconv.Quote(tt.in), icalCleanText(tt.in), tt.want)
	}
}

func BenchmarkFeed1000(b *testing.B) {
	cases := icalCases()
	evs := make([]Event, 1000)
	for i := range evs {
		evs[i] = cases[i%len(cases)].ev
		evs[i].ID = int64(i + 1)
	}
	b.ReportAllocs()
	var size int
	for b.Loop() {
		out, err := FeedCalendar("Alle møteplasser", evs, icalTestBase, icalTestNow)
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	b.ReportMetric(float64(size), "bytes/feed")
}
