package events

import (
	"strings"
	"testing"

	ical "github.com/emersion/go-ical"
)

// icalFuzzNormal is what a text must come back as, stated here on its own
// rather than by calling icalCleanText:
//   - each byte that is not valid UTF-8 becomes U+FFFD ([]rune does exactly that);
//   - CRLF, then any CR left, become LF;
//   - control characters other than TAB and LF (U+0000–U+001F, U+007F) go.
func icalFuzzNormal(s string) string {
	s = string([]rune(s))
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var sb strings.Builder
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n') || r == 0x7f {
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// icalFuzzParam is the normal form in a parameter (CN): as above, then line
// breaks and tabs become spaces and a double quote becomes '.
func icalFuzzParam(s string) string {
	return strings.NewReplacer("\n", " ", "\t", " ", `"`, "'").Replace(icalFuzzNormal(s))
}

// FuzzTextRoundTrip puts any string into SUMMARY, DESCRIPTION (as summary,
// agenda title and introducer, online address), LOCATION, X-WR-CALNAME and
// the organiser's and attendee's CN, and checks that go-ical reads each back
// as its normal form, and that the output keeps the line rules (CRLF, at most
// 75 octets, no fold inside a UTF-8 sequence). The seed corpus is in
// testdata/fuzz/FuzzTextRoundTrip; run the fuzzer with
//
//	go test -run x -fuzz FuzzTextRoundTrip -fuzztime 60s ./events/
func FuzzTextRoundTrip(f *testing.F) {
	f.Add("")
	f.Add("Møteplass: økonomi, styring; læring \\ ledelse\r\nandre linje\rtredje\n")
	f.Add(`\n is not a newline, \\n neither; "sitat", 🎉`)
	f.Add(strings.Repeat("æ", 100) + strings.Repeat("🎉", 30))

	f.Fuzz(func(t *testing.T, s string) {
		// go-ical's decoder builds a parameter value byte by byte
		// (decodeParamValue: v += ...), quadratic in its length: a CN of
		// a megabyte takes minutes to read back and stalls the fuzzer. Our
		// encoder is linear; 16 KiB is far beyond any title or name.
		if len(s) > 16<<10 {
			t.Skip("longer than 16 KiB")
		}
		ev := icalCases()[0].ev
		ev.Title = s
		ev.Summary = s
		ev.Agenda = []AgendaItem{{StartsAt: ev.StartsAt, Title: s, Introducer: s}}
		ev.Venue = &Venue{Name: s}
		ev.OnlineURL = s // a hybrid event: the online address goes into DESCRIPTION
		ev.Organiser.Name = s

		feed, err := FeedCalendar(s, []Event{ev}, icalTestBase, icalTestNow)
		if err != nil {
			t.Fatalf("FeedCalendar: %v", err)
		}
		inv, err := Invitation(ev, Attendee{Name: s, Email: "ola@example.no", Status: "confirmed"}, MethodRequest, icalTestBase, icalTestNow)
		if err != nil {
			t.Fatalf("Invitation: %v", err)
		}

		want := icalFuzzNormal(s)
		// Summary, agenda line, online address, page. An empty field leaves
		// out its block; one that cleaning empties keeps it.
		wantDescription := "09:00 " + want + "\n\nhttps://moteplass.example.no/events/moteplass-trondheim-januar"
		if s != "" {
			wantDescription = want + "\n\n09:00 " + want + " (" + want + ")\n\n" + want +
				"\n\nhttps://moteplass.example.no/events/moteplass-trondheim-januar"
		}
		wantCN := icalFuzzParam(s)

		for _, out := range [][]byte{feed, inv} {
			icalCheckLines(t, out)
			cal := icalDecode(t, out)
			evs := cal.Events()
			if len(evs) != 1 {
				t.Fatalf("%d VEVENTs, want 1", len(evs))
			}
			ve := evs[0].Component
			icalWant(t, "SUMMARY", icalTextOf(t, ve, ical.PropSummary), want)
			icalWant(t, "DESCRIPTION", icalTextOf(t, ve, ical.PropDescription), wantDescription)
			if s != "" {
				icalWant(t, "LOCATION", icalTextOf(t, ve, ical.PropLocation), want)
				icalWant(t, "ORGANIZER;CN", icalProp(t, ve, ical.PropOrganizer).Params.Get(ical.ParamCommonName), wantCN)
			}
			if p := cal.Props.Get(ical.PropMethod); p.Value == MethodRequest && s != "" {
				icalWant(t, "ATTENDEE;CN", icalProp(t, ve, ical.PropAttendee).Params.Get(ical.ParamCommonName), wantCN)
			}
		}
		name, err := icalDecode(t, feed).Props.Text("X-WR-CALNAME")
		if err != nil {
			t.Fatal(err)
		}
		icalWant(t, "X-WR-CALNAME", name, want)
	})
}
