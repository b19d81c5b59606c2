package events

// The events the calendar tests are run on (icalCases), with what every
// parser must read back: physical, hybrid and digital events, winter and
// summer time and the days they change, a long description, a
// cancellation, no end time.

import (
	"strings"
	"time"
)

const icalTestBase = "https://moteplass.example.no"

// icalTestNow is the DTSTAMP of every calendar written by these tests.
var icalTestNow = time.Date(2026, 11, 2, 10, 30, 0, 0, time.UTC)

func icalFloat(f float64) *float64 { return &f }

// icalLongSummary is a long Norwegian text with every character that needs
// escaping and a CRLF, for the folding of long values.
var icalLongSummary = strings.Repeat("Nettverket samler ledere fra kommuner, fylkeskommunen og statlige etater i Nordland; "+
	"vi deler erfaringer med omstilling, rekruttering og samarbeid på tvers av forvaltningsnivåene. ", 6) +
	"Sti på fellesområdet: \\\\server\\delt\\møteplass.\r\nSiste linje – æøå ÆØÅ 🎉"

// icalCase is one event of the test feed with what every parser must read
// back. The expected values are written out, not computed by the code under
// test; StartsAt/EndsAt are given in UTC and want* in Oslo wall time.
type icalCase struct {
	name            string
	ev              Event
	wantUID         string
	wantStart       time.Time // the instant
	wantLocalStart  string    // DTSTART value, Oslo wall time
	wantLocalEnd    string    // "" when there is no DTEND
	wantOffset      int       // seconds east of UTC at the start (CET 3600, CEST 7200)
	wantSummary     string
	wantDescription string
	wantLocation    string
	wantGeo         []float64
	wantURL         string
	wantStatus      string
	wantSequence    int
	wantOrganizer   string // "" when there is no ORGANIZER
	wantOrganizerCN string
}

func icalCases() []icalCase {
	trondelag := Organiser{ID: 1, Name: "Statsforvalteren i Trøndelag, stab; HR", ContactEmail: "post@sftrondelag.example.no"}
	nordland := Organiser{ID: 2, Name: "Nordland fylkeskommune", ContactEmail: "moteplass@nfk.example.no"}
	return []icalCase{
		{
			name: "winter physical event with GEO and agenda",
			ev: Event{
				ID: 101, Slug: "moteplass-trondheim-januar",
				Title:   `Møteplass Trøndelag: økonomi, styring; læring \ ledelse`,
				Summary: "Vi møtes for å dele erfaringer, og for å lære av hverandre; ta med kollegaer.\r\nKaffe fra 08:30 – «velkommen»! \\n er ikke et linjeskift.",
				Mode:    "physical", Status: StatusPublished, Sequence: 2,
				StartsAt: time.Date(2027, 1, 14, 8, 0, 0, 0, time.UTC),
				EndsAt:   time.Date(2027, 1, 14, 10, 30, 0, 0, time.UTC),
				Venue: &Venue{Name: "Scandic Nidelven", Street: "Havnegata 1-3", Postcode: "7010", City: "Trondheim",
					Latitude: icalFloat(63.4336), Longitude: icalFloat(10.4024)},
				Organiser: trondelag,
				UpdatedAt: time.Date(2026, 10, 20, 13, 14, 15, 0, time.UTC),
				Agenda: []AgendaItem{
					{Position: 1, StartsAt: time.Date(2027, 1, 14, 8, 0, 0, 0, time.UTC), Title: "Velkommen og presentasjonsrunde", Introducer: "Kari Nordmann"},
					{Position: 2, StartsAt: time.Date(2027, 1, 14, 8, 15, 0, 0, time.UTC), Title: "Økonomistyring i praksis, del 1; budsjett", Introducer: "Per Ås (Statsforvalteren)"},
					{Position: 3, Title: "Lunsj"},
				},
			},
			wantUID:        "event-101@moteplass.example.no",
			wantStart:      time.Date(2027, 1, 14, 8, 0, 0, 0, time.UTC),
			wantLocalStart: "20270114T090000",
			wantLocalEnd:   "20270114T113000",
			wantOffset:     3600,
			wantSummary:    `Møteplass Trøndelag: økonomi, styring; læring \ ledelse`,
			wantDescription: "Vi møtes for å dele erfaringer, og for å lære av hverandre; ta med kollegaer.\nKaffe fra 08:30 – «velkommen»! \\n er ikke et linjeskift." +
				"\n\n09:00 Velkommen og presentasjonsrunde (Kari Nordmann)\n09:15 Økonomistyring i praksis, del 1; budsjett (Per Ås (Statsforvalteren))\nLunsj" +
				"\n\nhttps://moteplass.example.no/events/moteplass-trondheim-januar",
			wantLocation:    "Scandic Nidelven, Havnegata 1-3, 7010 Trondheim",
			wantGeo:         []float64{63.4336, 10.4024},
			wantURL:         "https://moteplass.example.no/events/moteplass-trondheim-januar",
			wantStatus:      "CONFIRMED",
			wantSequence:    2,
			wantOrganizer:   "mailto:post@sftrondelag.example.no",
			wantOrganizerCN: "Statsforvalteren i Trøndelag, stab; HR",
		},
		{
			name: "summer hybrid event with a long description",
			ev: Event{
				ID: 102, Slug: "ledernettverk-bodo-juli",
				Title:   "Ledernettverk Nordland – sommermøte i Bodø",
				Summary: icalLongSummary,
				Mode:    "hybrid", Status: StatusPublished,
				StartsAt:  time.Date(2027, 7, 8, 7, 0, 0, 0, time.UTC),
				EndsAt:    time.Date(2027, 7, 8, 13, 0, 0, 0, time.UTC),
				Venue:     &Venue{Name: "Bodø rådhus", Street: "Kongens gate 18", Postcode: "8006", City: "Bodø"},
				OnlineURL: "https://teams.example.no/l/meetup-join/abc?context=x,y;z",
				Organiser: nordland,
			},
			wantUID:        "event-102@moteplass.example.no",
			wantStart:      time.Date(2027, 7, 8, 7, 0, 0, 0, time.UTC),
			wantLocalStart: "20270708T090000",
			wantLocalEnd:   "20270708T150000",
			wantOffset:     7200,
			wantSummary:    "Ledernettverk Nordland – sommermøte i Bodø",
			wantDescription: strings.ReplaceAll(icalLongSummary, "\r\n", "\n") +
				"\n\nhttps://teams.example.no/l/meetup-join/abc?context=x,y;z" +
				"\n\nhttps://moteplass.example.no/events/ledernettverk-bodo-juli",
			wantLocation:    "Bodø rådhus, Kongens gate 18, 8006 Bodø",
			wantURL:         "https://moteplass.example.no/events/ledernettverk-bodo-juli",
			wantStatus:      "CONFIRMED",
			wantOrganizer:   "mailto:moteplass@nfk.example.no",
			wantOrganizerCN: "Nordland fylkeskommune",
		},
		{
			name: "digital event without venue or organiser email, first day of winter time",
			ev: Event{
				ID: 103, Slug: "digitalt-frokostseminar",
				Title: "Digitalt frokostseminar", Mode: "digital", Status: StatusPublished, Sequence: 1,
				StartsAt:  time.Date(2027, 10, 31, 8, 0, 0, 0, time.UTC),
				EndsAt:    time.Date(2027, 10, 31, 9, 30, 0, 0, time.UTC),
				OnlineURL: "https://meet.example.no/rom/ledernettverk?pwd=a;b,c",
				Organiser: Organiser{ID: 3, Name: "KS Agenda"},
			},
			wantUID:         "event-103@moteplass.example.no",
			wantStart:       time.Date(2027, 10, 31, 8, 0, 0, 0, time.UTC),
			wantLocalStart:  "20271031T090000",
			wantLocalEnd:    "20271031T103000",
			wantOffset:      3600,
			wantSummary:     "Digitalt frokostseminar",
			wantDescription: "https://moteplass.example.no/events/digitalt-frokostseminar",
			wantLocation:    "https://meet.example.no/rom/ledernettverk?pwd=a;b,c",
			wantURL:         "https://moteplass.example.no/events/digitalt-frokostseminar",
			wantStatus:      "CONFIRMED",
			wantSequence:    1,
		},
		{
			name: "cancelled event on the first day of summer time",
			ev: Event{
				ID: 104, Slug: "avlyst-moteplass-oslo",
				Title: "Møteplass Oslo (avlyst)", Summary: "Avlyst på grunn av sykdom.", Mode: "physical",
				Status: StatusCancelled, Sequence: 3,
				StartsAt:  time.Date(2027, 3, 28, 7, 0, 0, 0, time.UTC),
				EndsAt:    time.Date(2027, 3, 28, 9, 0, 0, 0, time.UTC),
				Venue:     &Venue{Name: "Oslo rådhus", Postcode: "0037", City: "Oslo", Latitude: icalFloat(59.9119), Longitude: icalFloat(10.7336)},
				Organiser: trondelag,
			},
			wantUID:         "event-104@moteplass.example.no",
			wantStart:       time.Date(2027, 3, 28, 7, 0, 0, 0, time.UTC),
			wantLocalStart:  "20270328T090000",
			wantLocalEnd:    "20270328T110000",
			wantOffset:      7200,
			wantSummary:     "Møteplass Oslo (avlyst)",
			wantDescription: "Avlyst på grunn av sykdom.\n\nhttps://moteplass.example.no/events/avlyst-moteplass-oslo",
			wantLocation:    "Oslo rådhus, 0037 Oslo",
			wantGeo:         []float64{59.9119, 10.7336},
			wantURL:         "https://moteplass.example.no/events/avlyst-moteplass-oslo",
			wantStatus:      "CANCELLED",
			wantSequence:    3,
			wantOrganizer:   "mailto:post@sftrondelag.example.no",
			wantOrganizerCN: "Statsforvalteren i Trøndelag, stab; HR",
		},
		{
			name: "last day of winter time, no end time",
			ev: Event{
				ID: 105, Slug: "lordagsmote",
				Title: "Lørdagsmøte", Mode: "physical", Status: StatusPublished,
				StartsAt:  time.Date(2027, 3, 27, 8, 0, 0, 0, time.UTC),
				Venue:     &Venue{Name: "Tromsø bibliotek", City: "Tromsø"},
				Organiser: nordland,
			},
			wantUID:         "event-105@moteplass.example.no",
			wantStart:       time.Date(2027, 3, 27, 8, 0, 0, 0, time.UTC),
			wantLocalStart:  "20270327T090000",
			wantOffset:      3600,
			wantSummary:     "Lørdagsmøte",
			wantDescription: "https://moteplass.example.no/events/lordagsmote",
			wantLocation:    "Tromsø bibliotek, Tromsø",
			wantURL:         "https://moteplass.example.no/events/lordagsmote",
			wantStatus:      "CONFIRMED",
			wantOrganizer:   "mailto:moteplass@nfk.example.no",
			wantOrganizerCN: "Nordland fylkeskommune",
		},
		{
			name: "last day of summer time",
			ev: Event{
				ID: 106, Slug: "hostmote",
				Title: "Høstmøte", Mode: "physical", Status: StatusPublished,
				StartsAt:  time.Date(2027, 10, 30, 7, 0, 0, 0, time.UTC),
				EndsAt:    time.Date(2027, 10, 30, 8, 0, 0, 0, time.UTC),
				Organiser: nordland,
			},
			wantUID:         "event-106@moteplass.example.no",
			wantStart:       time.Date(2027, 10, 30, 7, 0, 0, 0, time.UTC),
			wantLocalStart:  "20271030T090000",
			wantLocalEnd:    "20271030T100000",
			wantOffset:      7200,
			wantSummary:     "Høstmøte",
			wantDescription: "https://moteplass.example.no/events/hostmote",
			wantURL:         "https://moteplass.example.no/events/hostmote",
			wantStatus:      "CONFIRMED",
			wantOrganizer:   "mailto:moteplass@nfk.example.no",
			wantOrganizerCN: "Nordland fylkeskommune",
		},
	}
}

func icalCaseEvents(cases []icalCase) []Event {
	evs := make([]Event, len(cases))
	for i, c := range cases {
		evs[i] = c.ev
	}
	return evs
}
