// Package demo fills an empty database with realistic Norwegian demo data
// drawn from the research note (Difi-notat 2015:2), so that a new user sees
// a living product at the first start. Dates are relative to "now", so the
// demo never goes stale.
package demo

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/db"
)

// Empty reports whether the database has no events yet: a read, the cheap
// look before LoadIfEmpty, which writes.
func Empty(ctx context.Context, d *db.DB) (bool, error) {
	return empty(ctx, d.Read())
}

// queryer is a pool or a transaction.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func empty(ctx context.Context, q queryer) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
		return false, fmt.Errorf("demo: count events: %w", err)
	}
	return n == 0, nil
}

// LoadIfEmpty writes the demo data in one transaction when the database
// has no events, and reports whether it did. Extra steps (registrations,
// organiser logins) run after the events exist, in the same transaction.
//
// Instances that start together on one empty database load it once: the
// look for events is made inside the loading transaction, after it has
// taken db.LockDemo, so the second instance waits for the first to commit
// and then finds its events. (Looking first and loading in a transaction
// of its own let both find the database empty; the second then failed on
// the unique slugs, and did not start.)
func LoadIfEmpty(ctx context.Context, d *db.DB, extra ...func(ctx context.Context, tx *sql.Tx, now time.Time, w *World) error) (bool, error) {
	loaded := false
	err := d.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		loaded = false
		if err := d.LockTx(ctx, tx, db.LockDemo); err != nil {
			return err
		}
		if ok, err := empty(ctx, tx); err != nil || !ok {
			return err
		}
		w, err := build(ctx, tx, now)
		if err != nil {
			return err
		}
		for _, step := range extra {
			if err := step(ctx, tx, now, w); err != nil {
				return err
			}
		}
		loaded = true
		return nil
	})
	return loaded && err == nil, err
}

// World is what the demo created, for the extra steps.
type World struct {
	Regions    map[string]*events.Region
	Organisers map[string]*events.Organiser
	Events     map[string]*events.Event
}

func f64(f float64) *float64 { return &f }

func build(ctx context.Context, tx *sql.Tx, now time.Time) (*World, error) {
	w := &World{Regions: map[string]*events.Region{}, Organisers: map[string]*events.Organiser{}, Events: map[string]*events.Event{}}
	for i, r := range []events.Region{
		{Slug: "oslo", Name: "Oslo"}, {Slug: "bergen", Name: "Bergen"}, {Slug: "trondheim", Name: "Trondheim"},
		{Slug: "stavanger", Name: "Stavanger"}, {Slug: "tromso", Name: "Tromsø"}, {Slug: "kristiansand", Name: "Kristiansand"},
		{Slug: "bodo", Name: "Bodø"},
	} {
		r := r
		if err := events.CreateRegion(ctx, tx, &r, i); err != nil {
			return nil, err
		}
		w.Regions[r.Slug] = &r
	}
	for _, o := range []events.Organiser{
		{Slug: "digdir", Name: "Digitaliseringsdirektoratet", Kind: "public", ContactEmail: "ledernettverk@digdir.example.no", Website: "https://www.digdir.no"},
		{Slug: "dfo", Name: "Direktoratet for forvaltning og økonomistyring (DFØ)", Kind: "public", ContactEmail: "tidforledelse@dfo.example.no", Website: "https://dfo.no"},
		{Slug: "nhh", Name: "NHH Executive", Kind: "organisation", ContactEmail: "executive@nhh.example.no", Website: "https://www.nhh.no"},
		{Slug: "partnerforum", Name: "Partnerforum", Kind: "organisation", ContactEmail: "post@partnerforum.example.no", Website: "https://www.partnerforum.no"},
		{Slug: "uis", Name: "Universitetet i Stavanger", Kind: "organisation", ContactEmail: "ledernettverk@uis.example.no", Website: "https://www.uis.no"},
		{Slug: "uit", Name: "UiT Norges arktiske universitet", Kind: "organisation", ContactEmail: "ledermoteplass@uit.example.no", Website: "https://uit.no"},
	} {
		o := o
		if err := events.CreateOrganiser(ctx, tx, &o); err != nil {
			return nil, err
		}
		w.Organisers[o.Slug] = &o
	}
	venues := map[string]*events.Venue{}
	for key, v := range map[string]events.Venue{
		"nhh":     {Name: "NHH, Norges Handelshøyskole", Street: "Helleveien 30", Postcode: "5045", City: "Bergen", Latitude: f64(60.4226), Longitude: f64(5.3019), Accessibility: "Trinnfri adkomst fra hovedinngangen. Teleslynge i auditoriet."},
		"mcb":     {Name: "Media City Bergen", Street: "Lars Hilles gate 30", Postcode: "5008", City: "Bergen", Latitude: f64(60.3880), Longitude: f64(5.3309), Accessibility: "Heis til alle etasjer og HC-toalett i 1. etasje."},
		"clarion": {Name: "Clarion Hotel & Congress Trondheim", Street: "Brattørkaia 1", Postcode: "7010", City: "Trondheim", Latitude: f64(63.4400), Longitude: f64(10.4000), Accessibility: "Trinnfritt, teleslynge i alle saler."},
		"ntnu":    {Name: "NTNU Gløshaugen, Realfagbygget", Street: "Høgskoleringen 5", Postcode: "7034", City: "Trondheim", Latitude: f64(63.4155), Longitude: f64(10.4057)},
		"uis":     {Name: "Universitetet i Stavanger, Kjølv Egelands hus", Street: "Kjell Arholms gate 41", Postcode: "4021", City: "Stavanger", Latitude: f64(58.9376), Longitude: f64(5.6976), Accessibility: "Trinnfri adkomst. Parkering for forflytningshemmede ved inngangen."},
		"felix":   {Name: "Felix konferansesenter", Street: "Bryggetorget 3", Postcode: "0250", City: "Oslo", Latitude: f64(59.9105), Longitude: f64(10.7265), Accessibility: "Heis og teleslynge."},
		"uit":     {Name: "UiT, Teorifagbygget", Street: "Hansine Hansens veg 18", Postcode: "9019", City: "Tromsø", Latitude: f64(69.6816), Longitude: f64(18.9770)},
		"kilden":  {Name: "Kilden teater- og konserthus", Street: "Sjølystveien 2", Postcode: "4610", City: "Kristiansand", Latitude: f64(58.1433), Longitude: f64(7.9969)},
		"stormen": {Name: "Stormen kulturhus", Street: "Storgata 1B", Postcode: "8006", City: "Bodø", Latitude: f64(67.2837), Longitude: f64(14.3753)},
	} {
		v := v
		if err := events.CreateVenue(ctx, tx, &v); err != nil {
			return nil, err
		}
		venues[key] = &v
	}

	// at is a time of day on the day that is days away from today, in Oslo,
	// or the next working day after it: nobody holds a meeting for leaders
	// on a Sunday, on Christmas Day or at Easter.
	today := now.In(events.Oslo)
	at := func(days, hour, min int) time.Time {
		d := today.AddDate(0, 0, days)
		for !WorkingDay(d) {
			d = d.AddDate(0, 0, 1)
		}
		return time.Date(d.Year(), d.Month(), d.Day(), hour, min, 0, 0, events.Oslo).UTC()
	}
	item := func(t time.Time, title, who string) events.AgendaItem {
		return events.AgendaItem{StartsAt: t, Title: title, Introducer: who}
	}

	network := &events.Series{
		Slug:        "administrasjonssjefer-direktoratene",
		Title:       "Nettverk for administrasjonssjefer i direktoratene",
		Description: "Et lukket nettverk for administrasjonssjefer i direktorater på Vestlandet og i Rogaland. 4–5 møter i året på om lag fem timer, med lunsj først. Medlemmene foreslår temaene, og vertskapet går på omgang.",
		OrganiserID: w.Organisers["uis"].ID,
	}
	if err := events.CreateSeries(ctx, tx, network); err != nil {
		return nil, err
	}

	base := func(slug, title, summary, format string, region, org string, v *events.Venue, start, end time.Time, capacity int) *events.Event {
		return &events.Event{
			Slug: slug, Title: title, Summary: summary, Format: format, Mode: "physical",
			StartsAt: start, EndsAt: end, Region: *w.Regions[region], Organiser: *w.Organisers[org], Venue: v,
			Capacity: capacity, Sector: "public", Facilitation: "facilitated", Theme: "leadership", Language: "nb",
			Status: events.StatusPublished,
		}
	}

	var evs []*events.Event

	e := base("regional-topplederkonferanse-trondheim", "Regional topplederkonferanse i Trondheim",
		"Årets regionale topplederkonferanse for toppledere i staten i Midt-Norge: tillitsbasert styring, omstilling og samarbeid på tvers.",
		"conference", "trondheim", "digdir", venues["clarion"], at(40, 9, 0), at(40, 16, 0), 250)
	e.Description = "Topplederkonferansen samler hvert år om lag 500 toppledere i Oslo. For at flere skal kunne delta uten å reise, arrangerer vi nå en regional utgave i Trondheim.\n\nDagen veksler mellom innledninger og samtaler i små grupper. Vi setter sammen bordene slik at du møter ledere på ditt nivå fra andre virksomheter.\n\nProgram og praktisk informasjon: https://www.digdir.no"
	e.Levels = []string{"top"}
	e.RegistrationClosesAt = at(33, 23, 59)
	e.Agenda = []events.AgendaItem{
		item(at(40, 9, 0), "Velkommen og mål for dagen", "Direktør, Digitaliseringsdirektoratet"),
		item(at(40, 9, 30), "Tillitsreformen: hva betyr den for toppledergruppen?", "Kommunaldirektør, Trondheim kommune"),
		item(at(40, 11, 0), "Samtaler i grupper: omstilling med knappe ressurser", "Deltakerne"),
		item(at(40, 12, 0), "Lunsj og uformell nettverksbygging", ""),
		item(at(40, 13, 0), "Samarbeid på tvers av sektorer i Midt-Norge", "Statsforvalteren i Trøndelag"),
		item(at(40, 15, 0), "Oppsummering: hvilke temaer tar vi videre?", "Deltakerne"),
	}
	evs = append(evs, e)

	for _, d := range []struct {
		days  int
		slug  string
		title string
		intro string
		topic string
		capac int
	}{
		{7, "tid-for-ledelse-bergen-psykologisk-trygghet", "Tid for ledelse: Psykologisk trygghet i ledergruppen", "Forsker, Universitetet i Bergen", "psykologisk trygghet", 40},
		{35, "tid-for-ledelse-bergen-kunstig-intelligens", "Tid for ledelse: Å lede når KI kommer inn i arbeidet", "Seniorrådgiver, Digitaliseringsdirektoratet", "kunstig intelligens i arbeidshverdagen", 60},
		{63, "tid-for-ledelse-bergen-heltid-og-hjemmekontor", "Tid for ledelse: Ledelse på avstand", "HR-direktør, Statens vegvesen", "hjemmekontor og hybride team", 60},
	} {
		e := base(d.slug, d.title,
			"Frokostmøte i serien Tid for ledelse: en kort innledning, så samtale rundt bordene. Ferdig til arbeidsdagen starter.",
			"breakfast_seminar", "bergen", "dfo", venues["mcb"], at(d.days, 8, 0), at(d.days, 9, 45), d.capac)
		e.Description = fmt.Sprintf("Tid for ledelse er DFØs møteplass for ledere i staten, 5–6 ganger i året. Denne gangen handler det om %s.\n\nFrokost serveres fra kl. 07.45. Møtet er gratis, men påmelding er nødvendig.", d.topic)
		e.Levels = []string{"middle", "first_line"}
		e.Agenda = []events.AgendaItem{
			item(at(d.days, 8, 0), "Frokost og velkommen", "DFØ"),
			item(at(d.days, 8, 15), "Innledning: "+d.topic, d.intro),
			item(at(d.days, 8, 45), "Samtale rundt bordene", "Deltakerne"),
		}
		evs = append(evs, e)
	}

	hosts := []string{"Sokkeldirektoratet", "Havindustritilsynet", "Sjøfartsdirektoratet", "Statsforvalteren i Rogaland"}
	for i, days := range []int{14, 70, 130, 190} {
		slug := fmt.Sprintf("administrasjonssjefer-stavanger-mote-%d", i+1)
		e := base(slug, fmt.Sprintf("Administrasjonssjefnettverket, møte %d av 4", i+1),
			"Lukket nettverksmøte for administrasjonssjefer i direktoratene. Vi starter med lunsj; medlemmene setter dagsorden.",
			"network_meeting", "stavanger", "uis", venues["uis"], at(days, 11, 30), at(days, 16, 30), 30)
		e.Description = "Nettverket har 30 medlemmer og møtes fire ganger i året. Temaene foreslås av medlemmene, og det avtales på forhånd hvem som innleder hvert tema. Det som sies i nettverket, blir i nettverket.\n\nVertskapet går på omgang mellom medlemsvirksomhetene."
		e.Series = network
		e.Host = hosts[i]
		e.InvitationOnly = true
		e.InviteCode = "ADM-ROGALAND"
		e.Levels = []string{"top", "middle"}
		e.Roles = []string{"administration"}
		e.Facilitation = "self_run"
		e.Theme = "both"
		e.Agenda = []events.AgendaItem{
			item(at(days, 11, 30), "Lunsj", hosts[i]),
			item(at(days, 12, 30), "Runde rundt bordet: hva står på agendaen hos oss?", "Alle"),
			item(at(days, 13, 30), "Tema 1: Anskaffelser og gevinstrealisering", "Administrasjonssjef, "+hosts[(i+1)%len(hosts)]),
			item(at(days, 14, 45), "Tema 2: Arbeidsgiverrollen i omstilling", "Administrasjonssjef, "+hosts[(i+2)%len(hosts)]),
			item(at(days, 16, 0), "Neste møte: vertskap og temaer", "Nettverkets leder"),
		}
		evs = append(evs, e)
	}

	e = base("varkonferansen-nhh", "Vårkonferansen på NHH",
		"Konferanse om ledelse og styring i offentlig og privat sektor, med ledere fra begge sektorer.",
		"conference", "bergen", "nhh", venues["nhh"], at(120, 9, 0), at(120, 17, 0), 300)
	e.Description = "Vårkonferansen samler ledere fra offentlig og privat sektor på Vestlandet. Deltakeravgiften dekker lunsj og konferansemiddag.\n\nPåmeldingen åpner om en måned."
	e.PriceNOK = 1500
	e.Sector = "mixed"
	e.Theme = "both"
	e.RegistrationOpensAt = at(30, 9, 0)
	e.Agenda = []events.AgendaItem{
		item(at(120, 9, 0), "Åpning", "Dekan, NHH"),
		item(at(120, 9, 30), "Styring i endring: fra kontroll til tillit", "Professor, NHH"),
		item(at(120, 13, 0), "Parallelle samtaler: offentlig og privat ledelse", "Deltakerne"),
	}
	evs = append(evs, e)

	e = base("digitalt-ledermote-ki-i-forvaltningen", "Digitalt ledermøte: KI i offentlig forvaltning",
		"Halvannen time på nett om hvordan ledere i staten kan ta i bruk kunstig intelligens på en trygg måte.",
		"digital_meeting", "oslo", "digdir", nil, at(10, 13, 0), at(10, 14, 30), 500)
	e.Mode = "digital"
	e.OnlineURL = "https://meet.example.no/ki-i-forvaltningen"
	e.Description = "Møtet er digitalt, så du kan delta fra hele landet. Lenken kommer i bekreftelsen.\n\nMøtet tas ikke opp."
	e.Roles = []string{"it", "specialist"}
	e.Theme = "subject"
	e.Agenda = []events.AgendaItem{
		item(at(10, 13, 0), "Hva kan KI gjøre for oss, og hva ikke?", "Fagdirektør, Digitaliseringsdirektoratet"),
		item(at(10, 13, 40), "Erfaringer fra NAV", "Seksjonssjef, NAV"),
		item(at(10, 14, 10), "Spørsmål fra deltakerne", "Alle"),
	}
	evs = append(evs, e)

	e = base("partnerforum-styring-og-ledelse", "Partnerforum: Styring og ledelse i staten",
		"Halvdagsseminar om mål- og resultatstyring for ledere i staten.",
		"meeting_place", "oslo", "partnerforum", venues["felix"], at(21, 9, 0), at(21, 12, 0), 120)
	e.Description = "Partnerforum arrangerer om lag 20 møteplasser i året for ledere i staten. Dette seminaret handler om mål- og resultatstyring i praksis."
	e.Roles = []string{"finance", "administration"}
	e.Agenda = []events.AgendaItem{
		item(at(21, 9, 0), "Mål- og resultatstyring i praksis", "Avdelingsdirektør, DFØ"),
		item(at(21, 10, 15), "Samtale: styringsdialogen mellom departement og etat", "Ekspedisjonssjef, Finansdepartementet"),
	}
	evs = append(evs, e)

	e = base("ledermoteplass-nord-rekruttering", "Ledermøteplass Nord: Rekruttering og kompetanse i nord",
		"Møteplass for ledere i staten i Nord-Norge om å rekruttere og beholde kompetanse.",
		"meeting_place", "tromso", "uit", venues["uit"], at(28, 10, 0), at(28, 15, 0), 80)
	e.Description = "Ledere i nord møter de samme utfordringene med rekruttering. Her deler vi erfaringer, uten å måtte reise til Oslo.\n\nLunsj er inkludert."
	e.Roles = []string{"hr"}
	e.Agenda = []events.AgendaItem{
		item(at(28, 10, 0), "Hvorfor flytter folk nordover – og hvorfor ikke?", "Forsker, UiT"),
		item(at(28, 11, 0), "Erfaringer fra Skatteetaten i Tromsø", "Regiondirektør, Skatteetaten"),
		item(at(28, 12, 0), "Lunsj", ""),
		item(at(28, 13, 0), "Gruppesamtaler", "Deltakerne"),
	}
	evs = append(evs, e)

	e = base("frokostmote-beredskap-i-nord", "Frokostmøte: Beredskap og samfunnssikkerhet i nord",
		"Frokostmøte for ledere i Tromsø om beredskap i en ny sikkerhetspolitisk situasjon.",
		"breakfast_seminar", "tromso", "uit", venues["uit"], at(56, 8, 0), at(56, 9, 30), 50)
	e.Description = "Kort innledning og samtale. Frokost fra kl. 07.45."
	e.Theme = "subject"
	e.Roles = []string{"it", "specialist"}
	e.Agenda = []events.AgendaItem{item(at(56, 8, 0), "Beredskap i nord", "Statsforvalteren i Troms og Finnmark")}
	evs = append(evs, e)

	e = base("mellomlederforum-stavanger-hr", "Mellomlederforum Stavanger: HR i endring",
		"Møteplass for mellomledere i HR.", "meeting_place", "stavanger", "uis", venues["uis"], at(18, 12, 0), at(18, 15, 0), 40)
	e.Description = "Dette møtet er dessverre avlyst på grunn av for få påmeldte. Vi kommer tilbake med ny dato."
	e.Status = events.StatusCancelled
	e.Sequence = 1
	e.Levels = []string{"middle"}
	e.Roles = []string{"hr"}
	evs = append(evs, e)

	e = base("ledermoteplass-bergen-tillitsreform", "Ledermøteplass Bergen: Tillitsreformen i praksis",
		"Erfaringer med tillitsreformen fra statlige virksomheter i Bergen.", "meeting_place", "bergen", "dfo", venues["mcb"], at(-14, 9, 0), at(-14, 12, 0), 80)
	e.Description = "Møteplassen er gjennomført. Takk til alle som deltok!"
	e.Agenda = []events.AgendaItem{item(at(-14, 9, 0), "Tillitsreformen i praksis", "Direktør, Statens vegvesen")}
	evs = append(evs, e)

	e = base("forstelinjeledere-trondheim-ny-som-leder", "Ny som leder: Møteplass for førstelinjeledere",
		"For deg som har fått personalansvar de siste to årene. Erfaringsdeling i små grupper.",
		"meeting_place", "trondheim", "dfo", venues["ntnu"], at(49, 12, 0), at(49, 16, 0), 60)
	e.Description = "Det er krevende å være ny som leder. Her møter du andre førstelinjeledere i staten i Trøndelag."
	e.Levels = []string{"first_line"}
	e.Agenda = []events.AgendaItem{
		item(at(49, 12, 0), "Lunsj", ""),
		item(at(49, 12, 45), "Fra kollega til leder", "Førstelektor, NTNU"),
		item(at(49, 14, 0), "Grupper: det vanskeligste jeg har stått i", "Deltakerne"),
	}
	evs = append(evs, e)

	e = base("okonomiforum-virksomhetsstyring-oslo", "Økonomiforum: Virksomhetsstyring og gevinstrealisering",
		"Faglig møteplass for økonomi- og virksomhetsstyringsledere.", "meeting_place", "oslo", "dfo", venues["felix"], at(84, 9, 0), at(84, 13, 0), 150)
	e.Roles = []string{"finance"}
	e.Theme = "subject"
	e.Agenda = []events.AgendaItem{item(at(84, 9, 0), "Gevinstrealisering: hva virker?", "Seniorrådgiver, DFØ")}
	evs = append(evs, e)

	e = base("ledermoteplass-sor-kristiansand", "Ledermøteplass Sør",
		"Første regionale møteplass for ledere i staten på Agder.", "meeting_place", "kristiansand", "digdir", venues["kilden"], at(45, 10, 0), at(45, 14, 0), 100)
	e.Sector = "mixed"
	e.Agenda = []events.AgendaItem{item(at(45, 10, 0), "Hva trenger ledere på Agder?", "Statsforvalteren i Agder")}
	evs = append(evs, e)

	e = base("it-sikkerhet-for-ledere-bodo", "Informasjonssikkerhet for ledere",
		"Hva må en leder kunne om informasjonssikkerhet? Praktisk halvdag i Bodø.", "meeting_place", "bodo", "digdir", venues["stormen"], at(33, 9, 0), at(33, 12, 30), 70)
	e.Roles = []string{"it"}
	e.Theme = "subject"
	e.Mode = "hybrid"
	e.OnlineURL = "https://meet.example.no/infosikkerhet-bodo"
	e.Agenda = []events.AgendaItem{item(at(33, 9, 0), "Trusselbildet i 2026", "Nasjonal sikkerhetsmyndighet")}
	evs = append(evs, e)

	for _, e := range evs {
		if err := events.CreateEvent(ctx, tx, now, e); err != nil {
			return nil, err
		}
		w.Events[e.Slug] = e
	}
	return w, nil
}
