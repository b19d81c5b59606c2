package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/web"
)

// ErrNotFound is returned when no event, region or organiser matches.
var ErrNotFound = &web.Refusal{Kind: web.NotFound, Key: "error.not_found", Why: "events: not found"}

// Store reads and writes events. It holds no state besides the database.
type Store struct {
	DB *db.DB
	// OnChange runs inside the transaction of every organiser's change to
	// an event (Change); registration sets it to tell registrants.
	OnChange ChangeHook
}

// EventFilter selects events. Zero fields do not filter.
type EventFilter struct {
	ID        int64
	Slug      string
	Region    string // region slug
	Organiser string // organiser slug
	SeriesID  int64
	Format    string
	Level     string
	Role      string
	Theme     string
	Price     string    // "free" or "paid"
	Access    string    // "open" or "invitation"
	Mode      string    // "physical" (in a room) or "digital" (online)
	From      time.Time // events that end at or after From
	To        time.Time // events that start before To
	// EndedBefore: events that ended before it (the past view)
	EndedBefore time.Time
	// NewestFirst orders by start, latest first (the past view).
	NewestFirst bool
	// Search is text to find: each word in the title, the summary, the
	// organiser's or the region's name, in any case (see searchConds).
	Search   string
	Statuses []Status // default: published and cancelled
	Limit    int
	Offset   int
}

// eventColumns is the one SELECT list every event query uses, with the
// live registration counts beside the event.
const eventColumns = `e.id, e.slug, e.title, e.summary, e.description, e.format, e.mode,
	e.starts_at, e.ends_at, e.online_url, e.capacity, e.registration_opens_at, e.registration_closes_at,
	e.price_nok, e.sector, e.invitation_only, e.invite_code, e.facilitation, e.theme, e.language,
	e.status, e.host, e.sequence, e.created_at, e.updated_at,
	r.id, r.slug, r.name,
	o.id, o.slug, o.name, o.kind, o.contact_email, o.website,
	v.id, v.name, v.street, v.postcode, v.city, v.latitude, v.longitude, v.accessibility,
	s.id, s.slug, s.title, s.description,
	(SELECT COUNT(*) FROM registrations x WHERE x.event_id = e.id AND x.status = 'confirmed'),
	(SELECT COUNT(*) FROM registrations x WHERE x.event_id = e.id AND x.status = 'waiting')`

const eventJoins = ` FROM events e
	JOIN regions r ON r.id = e.region_id
	JOIN organisers o ON o.id = e.organiser_id
	LEFT JOIN venues v ON v.id = e.venue_id
	LEFT JOIN series s ON s.id = e.series_id`

// where builds the WHERE clause of a filter with its arguments.
func (f EventFilter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.ID != 0 {
		add("e.id = ?", f.ID)
	}
	if f.Slug != "" {
		add("e.slug = ?", f.Slug)
	}
	if f.Region != "" {
		add("r.slug = ?", f.Region)
	}
	if f.Organiser != "" {
		add("o.slug = ?", f.Organiser)
	}
	if f.SeriesID != 0 {
		add("e.series_id = ?", f.SeriesID)
	}
	if f.Format != "" {
		add("e.format = ?", f.Format)
	}
	if f.Theme != "" {
		// "both" events serve people looking for either theme
		add("(e.theme = ? OR e.theme = 'both')", f.Theme)
	}
	if f.Level != "" {
		// an event with no target levels is for every level
		add("(EXISTS (SELECT 1 FROM event_levels l WHERE l.event_id = e.id AND l.level = ?) OR NOT EXISTS (SELECT 1 FROM event_levels l WHERE l.event_id = e.id))", f.Level)
	}
	if f.Role != "" {
		add("(EXISTS (SELECT 1 FROM event_roles l WHERE l.event_id = e.id AND l.role = ?) OR NOT EXISTS (SELECT 1 FROM event_roles l WHERE l.event_id = e.id))", f.Role)
	}
	switch f.Price {
	case "free":
		add("e.price_nok = 0")
	case "paid":
		add("e.price_nok > 0")
	}
	switch f.Access {
	case "open":
		add("e.invitation_only = 0")
	case "invitation":
		add("e.invitation_only = 1")
	}
	switch f.Mode {
	case "physical":
		add("e.mode IN ('physical', 'hybrid')")
	case "digital":
		add("e.mode IN ('digital', 'hybrid')")
	}
	if !f.From.IsZero() {
		add("e.ends_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		add("e.starts_at < ?", f.To.UTC())
	}
	if !f.EndedBefore.IsZero() {
		add("e.ends_at < ?", f.EndedBefore.UTC())
	}
	for _, word := range searchWords(f.Search) {
		p := likeContains(word)
		add(searchCond, p, p, p, p)
	}
	statuses := f.Statuses
	if len(statuses) == 0 {
		statuses = []Status{StatusPublished, StatusCancelled}
	}
	ph := make([]string, len(statuses))
	for i, s := range statuses {
		ph[i] = "?"
		args = append(args, s)
	}
	conds = append(conds, "e.status IN ("+strings.Join(ph, ", ")+")")
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Text search. Plain LIKE, the same on SQLite and PostgreSQL: the pattern
// is folded in Go (strings.ToLower) and compared with the column folded in
// SQL. lower() folds only A–Z on SQLite (and on PostgreSQL under the C
// locale), so the letters of Norwegian and its neighbours are folded by
// replace() first; what else strings.ToLower folds matches text typed in
// lower case. %, _ and the escape character ! typed by a person match
// only themselves.

// maxSearchWords bounds the words of one search (each is one condition).
const maxSearchWords = 5

// foldedUpper are the upper-case letters lower() may leave as they are.
var foldedUpper = []string{"Æ", "Ø", "Å", "Ä", "Ö", "Ü", "É", "È", "Á", "Ó"}

// foldSQL is column folded to lower case in SQL, æøå included.
func foldSQL(column string) string {
	s := column
	for _, up := range foldedUpper {
		s = "replace(" + s + ", '" + up + "', '" + strings.ToLower(up) + "')"
	}
	return "lower(" + s + ")"
}

// searchCond is one word's condition: in any of the four texts.
var searchCond = func() string {
	var ors []string
	for _, col := range []string{"e.title", "e.summary", "o.name", "r.name"} {
		ors = append(ors, foldSQL(col)+` LIKE ? ESCAPE '!'`)
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}()

// searchWords are the words of a search, folded, at most maxSearchWords.
func searchWords(s string) []string {
	words := strings.Fields(strings.ToLower(s))
	if len(words) > maxSearchWords {
		words = words[:maxSearchWords]
	}
	return words
}

// likeContains is the LIKE pattern (ESCAPE '!') of text containing word.
func likeContains(word string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return "%" + r.Replace(word) + "%"
}

// FindEvents returns the events that match f, soonest first, and how many
// match in all (for pagination).
func (s *Store) FindEvents(ctx context.Context, f EventFilter) ([]Event, int, error) {
	where, args := f.where()
	var total int
	if err := s.DB.Read().QueryRowContext(ctx, "SELECT COUNT(*)"+eventJoins+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("events: count: %w", err)
	}
	order := " ORDER BY e.starts_at, e.id"
	if f.NewestFirst {
		order = " ORDER BY e.starts_at DESC, e.id DESC"
	}
	q := "SELECT " + eventColumns + eventJoins + where + order
	if f.Limit > 0 {
		q += " LIMIT ? OFFSET ?"
		args = append(args, f.Limit, f.Offset)
	}
	evs, err := queryEvents(ctx, s.DB.Read(), q, args...)
	if err != nil {
		return nil, 0, err
	}
	if err := attachTargets(ctx, s.DB.Read(), evs); err != nil {
		return nil, 0, err
	}
	return evs, total, nil
}

// FindEvent returns the one event matching f, with its agenda.
func (s *Store) FindEvent(ctx context.Context, f EventFilter) (Event, error) {
	f.Limit = 1
	evs, _, err := s.FindEvents(ctx, f)
	if err != nil {
		return Event{}, err
	}
	if len(evs) == 0 {
		return Event{}, ErrNotFound
	}
	ev := evs[0]
	ev.Agenda, err = findAgenda(ctx, s.DB.Read(), ev.ID)
	return ev, err
}

// FindEventBySlug returns a published or cancelled event by its slug.
func (s *Store) FindEventBySlug(ctx context.Context, slug string) (Event, error) {
	return s.FindEvent(ctx, EventFilter{Slug: slug})
}

// Querier is what reads rows: the read pool (*sql.DB) or a transaction
// (*sql.Tx).
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryEvents(ctx context.Context, q Querier, query string, args ...any) ([]Event, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("events: query: %w", err)
	}
	defer rows.Close()
	var evs []Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		evs = append(evs, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: query: %w", err)
	}
	return evs, nil
}

func scanEvent(rows *sql.Rows) (Event, error) {
	var (
		e                     Event
		opens, closes         sql.NullTime
		invitationOnly        int
		venueID               sql.NullInt64
		vName, vStreet, vPost sql.NullString
		vCity, vAccess        sql.NullString
		vLat, vLon            sql.NullFloat64
		seriesID              sql.NullInt64
		sSlug, sTitle, sDesc  sql.NullString
	)
	err := rows.Scan(&e.ID, &e.Slug, &e.Title, &e.Summary, &e.Description, &e.Format, &e.Mode,
		&e.StartsAt, &e.EndsAt, &e.OnlineURL, &e.Capacity, &opens, &closes,
		&e.PriceNOK, &e.Sector, &invitationOnly, &e.InviteCode, &e.Facilitation, &e.Theme, &e.Language,
		&e.Status, &e.Host, &e.Sequence, &e.CreatedAt, &e.UpdatedAt,
		&e.Region.ID, &e.Region.Slug, &e.Region.Name,
		&e.Organiser.ID, &e.Organiser.Slug, &e.Organiser.Name, &e.Organiser.Kind, &e.Organiser.ContactEmail, &e.Organiser.Website,
		&venueID, &vName, &vStreet, &vPost, &vCity, &vLat, &vLon, &vAccess,
		&seriesID, &sSlug, &sTitle, &sDesc,
		&e.ConfirmedCount, &e.WaitlistCount)
	if err != nil {
		return e, fmt.Errorf("events: scan: %w", err)
	}
	e.StartsAt, e.EndsAt = e.StartsAt.UTC(), e.EndsAt.UTC()
	if opens.Valid {
		e.RegistrationOpensAt = opens.Time.UTC()
	}
	if closes.Valid {
		e.RegistrationClosesAt = closes.Time.UTC()
	}
	e.InvitationOnly = invitationOnly != 0
	if venueID.Valid {
		e.Venue = &Venue{ID: venueID.Int64, Name: vName.String, Street: vStreet.String, Postcode: vPost.String,
			City: vCity.String, Accessibility: vAccess.String}
		if vLat.Valid && vLon.Valid {
			lat, lon := vLat.Float64, vLon.Float64
			e.Venue.Latitude, e.Venue.Longitude = &lat, &lon
		}
	}
	if seriesID.Valid {
		e.Series = &Series{ID: seriesID.Int64, Slug: sSlug.String, Title: sTitle.String, Description: sDesc.String, OrganiserID: e.Organiser.ID}
	}
	return e, nil
}

// attachTargets reads the target levels and roles of evs in two queries.
func attachTargets(ctx context.Context, q Querier, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	idx := make(map[int64]*Event, len(evs))
	ph := make([]string, len(evs))
	args := make([]any, len(evs))
	for i := range evs {
		idx[evs[i].ID] = &evs[i]
		ph[i] = "?"
		args[i] = evs[i].ID
	}
	in := "(" + strings.Join(ph, ", ") + ")"
	for _, t := range []struct {
		query string
		add   func(e *Event, v string)
	}{
		// levels in the hierarchy's order, top first
		{"SELECT event_id, level FROM event_levels WHERE event_id IN " + in +
			" ORDER BY event_id, CASE level WHEN 'top' THEN 1 WHEN 'middle' THEN 2 ELSE 3 END",
			func(e *Event, v string) { e.Levels = append(e.Levels, v) }},
		{"SELECT event_id, role FROM event_roles WHERE event_id IN " + in + " ORDER BY event_id, role",
			func(e *Event, v string) { e.Roles = append(e.Roles, v) }},
	} {
		rows, err := q.QueryContext(ctx, t.query, args...)
		if err != nil {
			return fmt.Errorf("events: targets: %w", err)
		}
		for rows.Next() {
			var id int64
			var v string
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return fmt.Errorf("events: targets: %w", err)
			}
			t.add(idx[id], v)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("events: targets: %w", err)
		}
	}
	return nil
}

// AttachAgendas reads the agendas of evs in one query (feeds list the
// programme in each event's description).
func (s *Store) AttachAgendas(ctx context.Context, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	idx := make(map[int64]*Event, len(evs))
	ph := make([]string, len(evs))
	args := make([]any, len(evs))
	for i := range evs {
		idx[evs[i].ID] = &evs[i]
		ph[i], args[i] = "?", evs[i].ID
	}
	items, err := queryAgenda(ctx, s.DB.Read(), "event_id IN ("+strings.Join(ph, ", ")+")", args...)
	if err != nil {
		return err
	}
	for _, it := range items {
		e := idx[it.eventID]
		e.Agenda = append(e.Agenda, it.AgendaItem)
	}
	return nil
}

func findAgenda(ctx context.Context, q Querier, eventID int64) ([]AgendaItem, error) {
	rows, err := queryAgenda(ctx, q, "event_id = ?", eventID)
	items := make([]AgendaItem, len(rows))
	for i, r := range rows {
		items[i] = r.AgendaItem
	}
	return items, err
}

type agendaRow struct {
	AgendaItem
	eventID int64
}

func queryAgenda(ctx context.Context, q Querier, where string, args ...any) ([]agendaRow, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT event_id, id, position, starts_at, title, introducer FROM agenda_items WHERE `+where+` ORDER BY event_id, position, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("events: agenda: %w", err)
	}
	defer rows.Close()
	var items []agendaRow
	for rows.Next() {
		var it agendaRow
		var at sql.NullTime
		if err := rows.Scan(&it.eventID, &it.ID, &it.Position, &at, &it.Title, &it.Introducer); err != nil {
			return nil, fmt.Errorf("events: agenda: %w", err)
		}
		if at.Valid {
			it.StartsAt = at.Time.UTC()
		}
		items = append(items, it)
	}
	return items, rows.Err()
}

// FindRegions returns every region in display order.
func (s *Store) FindRegions(ctx context.Context) ([]Region, error) {
	rows, err := s.DB.Read().QueryContext(ctx, `SELECT id, slug, name FROM regions ORDER BY sort_order, name`)
	if err != nil {
		return nil, fmt.Errorf("events: regions: %w", err)
	}
	defer rows.Close()
	var rs []Region
	for rows.Next() {
		var r Region
		if err := rows.Scan(&r.ID, &r.Slug, &r.Name); err != nil {
			return nil, fmt.Errorf("events: regions: %w", err)
		}
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

// FindRegionBySlug returns one region.
func (s *Store) FindRegionBySlug(ctx context.Context, slug string) (Region, error) {
	var r Region
	err := s.DB.Read().QueryRowContext(ctx, `SELECT id, slug, name FROM regions WHERE slug = ?`, slug).Scan(&r.ID, &r.Slug, &r.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("events: region: %w", err)
	}
	return r, nil
}

// FindOrganisers returns every organiser by name.
func (s *Store) FindOrganisers(ctx context.Context) ([]Organiser, error) {
	rows, err := s.DB.Read().QueryContext(ctx, `SELECT id, slug, name, kind, contact_email, website FROM organisers ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("events: organisers: %w", err)
	}
	defer rows.Close()
	var os []Organiser
	for rows.Next() {
		var o Organiser
		if err := rows.Scan(&o.ID, &o.Slug, &o.Name, &o.Kind, &o.ContactEmail, &o.Website); err != nil {
			return nil, fmt.Errorf("events: organisers: %w", err)
		}
		os = append(os, o)
	}
	return os, rows.Err()
}

// FindOrganiserBySlug returns one organiser.
func (s *Store) FindOrganiserBySlug(ctx context.Context, slug string) (Organiser, error) {
	var o Organiser
	err := s.DB.Read().QueryRowContext(ctx, `SELECT id, slug, name, kind, contact_email, website FROM organisers WHERE slug = ?`, slug).
		Scan(&o.ID, &o.Slug, &o.Name, &o.Kind, &o.ContactEmail, &o.Website)
	if errors.Is(err, sql.ErrNoRows) {
		return o, ErrNotFound
	}
	if err != nil {
		return o, fmt.Errorf("events: organiser: %w", err)
	}
	return o, nil
}

// LockEvent reads an event whole (target groups and agenda) inside a write
// transaction, for code that decides on it (capacity, invitations, an
// organiser's change) and must see the committed state. The event's row
// stays locked until the transaction ends, so a second instance's sign-up
// or change waits for this one (FOR UPDATE; see internal/db/dialect.go).
func LockEvent(ctx context.Context, tx *sql.Tx, id int64) (Event, error) {
	return eventByID(ctx, tx, id)
}

// eventByID reads an event whole, whatever its status. In a write
// transaction the event's row is locked until it ends (FOR UPDATE), so a
// change decided on it and another instance's change cannot interleave; a
// page's read from the pool waits for no one.
func eventByID(ctx context.Context, q Querier, id int64) (Event, error) {
	lock := ""
	if _, ok := q.(*sql.Tx); ok {
		lock = " FOR UPDATE OF e"
	}
	evs, err := queryEvents(ctx, q, "SELECT "+eventColumns+eventJoins+" WHERE e.id = ?"+lock, id)
	if err != nil {
		return Event{}, err
	}
	if len(evs) == 0 {
		return Event{}, ErrNotFound
	}
	if err := attachTargets(ctx, q, evs); err != nil {
		return Event{}, err
	}
	ev := evs[0]
	ev.Agenda, err = findAgenda(ctx, q, id)
	return ev, err
}
