package registration

// A person's data rights, from the manage link (/r/{token}) and, on
// request, from an organiser: a download of everything stored about their
// email address (Export), and erasure of it (Erase). Retention (the
// automatic anonymisation some time after an event) is in retention.go and
// shares forgetRegistrations with erasure.
//
// Erasure reaches into the outbox and the introductions tables with SQL of
// its own: those packages cannot import this one's callers, and the whole
// erasure must be one transaction.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/mailer"
	"github.com/moteplass/moteplass/organisers"
)

// ErasedName is the name an anonymised registration keeps, so organisers'
// lists and counts still have a row to show.
const ErasedName = "Slettet"

// ErasedEmail is the placeholder address of anonymised registration id:
// unique (the one-per-address index holds), and no one's address (.invalid
// is reserved, RFC 2606).
func ErasedEmail(id int64) string { return fmt.Sprintf("erased-%d@invalid", id) }

// KindDataErased is the outbox kind (and template) of the email confirming
// an erasure. It holds the address and nothing else about the person, and
// is queued DeleteWhenSent: the mail worker deletes it in the commit that
// records it sent.
const KindDataErased = "data_erased"

// ---- export ----

// Export is everything stored about one email address, as the person
// downloads it: their registrations with consents, the introductions they
// were part of (with only what the others agreed to share), and the emails
// sent to them. Nothing else about anyone else.
type Export struct {
	Format        string               `json:"format"`
	GeneratedAt   time.Time            `json:"generated_at"`
	Email         string               `json:"email"`
	Registrations []ExportRegistration `json:"registrations"`
	Introductions []ExportIntroduction `json:"introductions"`
	Emails        []ExportEmail        `json:"emails"`
	// CalendarFeedSince is when the person's own calendar feed was made
	// (its address is on the manage page); absent when there is none.
	CalendarFeedSince *time.Time `json:"calendar_feed_since,omitempty"`
}

// ExportFormat names the layout of Export.
const ExportFormat = "moteplass-export-v1"

// ExportEvent is the event a registration or an introduction belongs to.
type ExportEvent struct {
	ID        int64     `json:"id"`
	Slug      string    `json:"slug"`
	Title     string    `json:"title"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	Organiser string    `json:"organiser"`
}

// ExportRegistration is one registration with every field stored.
type ExportRegistration struct {
	ID            int64           `json:"id"`
	Event         ExportEvent     `json:"event"`
	Status        string          `json:"status"`
	Position      int             `json:"waiting_list_position,omitempty"`
	Name          string          `json:"name"`
	Email         string          `json:"email"`
	Organisation  string          `json:"organisation"`
	Role          string          `json:"role"`
	Level         string          `json:"level"`
	Sector        string          `json:"sector"`
	Region        string          `json:"region"`
	Phone         string          `json:"phone"`
	Dietary       string          `json:"dietary"`
	Accessibility string          `json:"accessibility"`
	Topics        string          `json:"topics"`
	Language      string          `json:"language"`
	IntroConsent  bool            `json:"introductions_consent"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	QueuedAt      time.Time       `json:"queued_at"`
	CancelledAt   *time.Time      `json:"cancelled_at,omitempty"`
	CheckedInAt   *time.Time      `json:"checked_in_at,omitempty"`
	Consents      []ExportConsent `json:"consents"`
}

// ExportConsent is one recorded answer to a consent question.
type ExportConsent struct {
	Kind           string    `json:"kind"`
	Granted        bool      `json:"granted"`
	WordingVersion string    `json:"wording_version"`
	Wording        string    `json:"wording"`
	Language       string    `json:"language"`
	RecordedAt     time.Time `json:"recorded_at"`
}

// ExportIntroduction is an introduction group the person was sent, with
// the others as they were shared (name, organisation, role, topics,
// address) and the person's answer to "did you meet?".
type ExportIntroduction struct {
	Event  ExportEvent     `json:"event"`
	SentAt time.Time       `json:"sent_at"`
	Others []ExportContact `json:"others"`
	Met    string          `json:"did_you_meet,omitempty"` // yes, no
}

// ExportContact is what another person agreed to share in an introduction.
type ExportContact struct {
	Name         string `json:"name"`
	Organisation string `json:"organisation"`
	Role         string `json:"role"`
	Topics       string `json:"topics"`
	Email        string `json:"email"`
}

// ExportEmail is one email to the address.
type ExportEmail struct {
	Kind      string     `json:"kind"`
	Subject   string     `json:"subject"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
}

func exportTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// Export collects everything stored about the address emailNorm.
func (s *Service) Export(ctx context.Context, emailNorm string) (Export, error) {
	ex := Export{Format: ExportFormat, GeneratedAt: s.DB.Now().UTC().Truncate(time.Second), Email: emailNorm,
		Registrations: []ExportRegistration{}, Introductions: []ExportIntroduction{}, Emails: []ExportEmail{}}
	if emailNorm == "" {
		return ex, nil
	}
	q := s.DB.Read()
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.status, r.name, r.email, r.organisation, r.role, r.level, r.sector,
		r.region, r.phone, r.dietary, r.accessibility, r.topics, r.lang, r.intro_consent, r.created_at, r.updated_at,
		r.queued_at, r.cancelled_at, r.checked_in_at,
		e.id, e.slug, e.title, e.starts_at, e.ends_at, o.name
		FROM registrations r JOIN events e ON e.id = r.event_id JOIN organisers o ON o.id = e.organiser_id
		WHERE r.email_norm = ? ORDER BY e.starts_at, r.id`, emailNorm)
	if err != nil {
		return ex, fmt.Errorf("registration: export: %w", err)
	}
	for rows.Next() {
		var r ExportRegistration
		var consent int
		var cancelled, checkedIn sql.NullTime
		if err := rows.Scan(&r.ID, &r.Status, &r.Name, &r.Email, &r.Organisation, &r.Role, &r.Level, &r.Sector,
			&r.Region, &r.Phone, &r.Dietary, &r.Accessibility, &r.Topics, &r.Language, &consent, &r.CreatedAt,
			&r.UpdatedAt, &r.QueuedAt, &cancelled, &checkedIn,
			&r.Event.ID, &r.Event.Slug, &r.Event.Title, &r.Event.StartsAt, &r.Event.EndsAt, &r.Event.Organiser); err != nil {
			rows.Close()
			return ex, fmt.Errorf("registration: export: %w", err)
		}
		r.IntroConsent = consent != 0
		r.CreatedAt, r.UpdatedAt, r.QueuedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC(), r.QueuedAt.UTC()
		r.Event.StartsAt, r.Event.EndsAt = r.Event.StartsAt.UTC(), r.Event.EndsAt.UTC()
		r.CancelledAt, r.CheckedInAt = exportTime(cancelled), exportTime(checkedIn)
		ex.Registrations = append(ex.Registrations, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ex, fmt.Errorf("registration: export: %w", err)
	}
	for i := range ex.Registrations {
		r := &ex.Registrations[i]
		if r.Status == StatusWaiting {
			reg := Registration{ID: r.ID, EventID: r.Event.ID, Status: r.Status, QueuedAt: r.QueuedAt}
			if r.Position, err = Position(ctx, q, reg); err != nil {
				return ex, err
			}
		}
		consents, err := FindConsents(ctx, q, r.ID)
		if err != nil {
			return ex, err
		}
		r.Consents = make([]ExportConsent, len(consents))
		for j, c := range consents {
			r.Consents[j] = ExportConsent{Kind: c.Kind, Granted: c.Granted, WordingVersion: c.WordingVersion,
				Wording: c.Wording, Language: c.Lang, RecordedAt: c.RecordedAt.UTC()}
		}
	}
	if ex.Introductions, err = exportIntroductions(ctx, q, emailNorm); err != nil {
		return ex, err
	}
	var feed sql.NullTime
	err = q.QueryRowContext(ctx, `SELECT created_at FROM personal_feeds WHERE email_norm = ?`, emailNorm).Scan(&feed)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return ex, fmt.Errorf("registration: export feed: %w", err)
	}
	ex.CalendarFeedSince = exportTime(feed)
	mail, err := mailer.ForAddress(ctx, q, emailNorm)
	if err != nil {
		return ex, err
	}
	for _, m := range mail {
		e := ExportEmail{Kind: m.Kind, Subject: m.Subject, Status: m.Status, CreatedAt: m.CreatedAt.UTC()}
		if !m.SentAt.IsZero() {
			sent := m.SentAt.UTC()
			e.SentAt = &sent
		}
		ex.Emails = append(ex.Emails, e)
	}
	return ex, nil
}

// exportIntroductions lists the sent introduction groups the address was
// in. The others appear with the fields the introduction email shared
// (introductions.Contact); someone erased since is left out. The group's
// stored reason is not included: the organiser's version is made from
// more than was shared.
func exportIntroductions(ctx context.Context, q Querier, emailNorm string) ([]ExportIntroduction, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.id, m.group_id, ro.sent_at,
		CASE WHEN m.met IS NULL THEN '' WHEN m.met = 1 THEN 'yes' ELSE 'no' END,
		e.id, e.slug, e.title, e.starts_at, e.ends_at, o.name
		FROM intro_members m
		JOIN registrations r ON r.id = m.registration_id
		JOIN intro_rounds ro ON ro.id = m.round_id
		JOIN events e ON e.id = ro.event_id
		JOIN organisers o ON o.id = e.organiser_id
		WHERE r.email_norm = ? AND m.kind = 'intro' AND ro.status = 'sent'
		ORDER BY ro.sent_at, m.id`, emailNorm)
	if err != nil {
		return nil, fmt.Errorf("registration: export introductions: %w", err)
	}
	type membership struct {
		id, group int64
		intro     ExportIntroduction
	}
	var ms []membership
	for rows.Next() {
		var m membership
		var sent sql.NullTime
		ev := &m.intro.Event
		if err := rows.Scan(&m.id, &m.group, &sent, &m.intro.Met, &ev.ID, &ev.Slug, &ev.Title, &ev.StartsAt, &ev.EndsAt, &ev.Organiser); err != nil {
			rows.Close()
			return nil, fmt.Errorf("registration: export introductions: %w", err)
		}
		if sent.Valid {
			m.intro.SentAt = sent.Time.UTC()
		}
		ev.StartsAt, ev.EndsAt = ev.StartsAt.UTC(), ev.EndsAt.UTC()
		ms = append(ms, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("registration: export introductions: %w", err)
	}
	out := make([]ExportIntroduction, 0, len(ms))
	for _, m := range ms {
		others, err := q.QueryContext(ctx, `SELECT r.name, r.organisation, r.role, r.topics, r.email
			FROM intro_members m JOIN registrations r ON r.id = m.registration_id
			WHERE m.group_id = ? AND m.id <> ? AND r.anonymised_at IS NULL ORDER BY m.id`, m.group, m.id)
		if err != nil {
			return nil, fmt.Errorf("registration: export introductions: %w", err)
		}
		m.intro.Others = []ExportContact{}
		for others.Next() {
			var c ExportContact
			if err := others.Scan(&c.Name, &c.Organisation, &c.Role, &c.Topics, &c.Email); err != nil {
				others.Close()
				return nil, fmt.Errorf("registration: export introductions: %w", err)
			}
			m.intro.Others = append(m.intro.Others, c)
		}
		others.Close()
		if err := others.Err(); err != nil {
			return nil, fmt.Errorf("registration: export introductions: %w", err)
		}
		out = append(out, m.intro)
	}
	return out, nil
}

// ---- erasure ----

// EraseOptions say on whose behalf an erasure is made.
type EraseOptions struct {
	// OrganiserID, when not 0, is the organisation of an organiser erasing
	// on a person's request: only the address's registrations for that
	// organisation's events are erased, and mail about those events. The
	// person's registrations with other organisations are theirs to
	// handle. An address with no registration there is ErrNotFound (the
	// same answer as an unknown address).
	OrganiserID int64
	// Audit records the erasure in the transaction, once for every
	// organisation whose events had registrations erased (n of them), so
	// each organisation's log shows what happened to its attendees. The
	// record must not hold the address.
	Audit func(ctx context.Context, tx *sql.Tx, now time.Time, organiserID int64, n int) error
	// ReplyTo is the Reply-To of the confirmation (the controller's
	// address); empty for none.
	ReplyTo string
}

// Erasure is what an erasure did.
type Erasure struct {
	// Registrations anonymised.
	Registrations int
	// GivenUp counts places and waiting-list entries for events still to
	// come that were cancelled, so the next in line got the place.
	GivenUp int
	// Promoted counts people who got a place that was freed.
	Promoted int
	// Emails counts outbox messages deleted: every one to the address,
	// and those to others that name the person (introductions).
	Emails int64
}

// Erase removes the personal data of the address email from everything the
// application stores (or, with opt.OrganiserID, from that organisation's
// events and their mail), in one transaction, and then empties the
// write-ahead log (db.EraseTraces) so no old copy stays readable in the
// files:
//
//   - a live place or waiting-list entry for an event that has not started
//     is cancelled first, and the place goes to the next in line (a person
//     who erases their data is not coming); for events that have started
//     or ended the status stays as it was, so organisers' counts hold;
//   - every registration of the address is anonymised: name ErasedName,
//     address ErasedEmail(id), organisation, role, region, phone, dietary,
//     accessibility and topics emptied, anonymised_at set; status, level,
//     sector, language, times and attendance are kept for statistics;
//   - consent records stay (wording, version, time, answer: none of it
//     personal once the registration is anonymised);
//   - manage links, introduction links and the check-in code are deleted,
//     and the personal calendar feed once no registration holds the
//     address any more; the person leaves
//     introduction rounds not yet sent (members and left-out rows); in sent
//     rounds the group stays and its member row points to the anonymised
//     registration;
//   - every email to the address is deleted, sent or not (they hold the
//     name and manage links), and so is every email to people they were
//     introduced to that names them or holds their address;
//   - last, a confirmation to the address is queued (when m is set). It has
//     no name, only the address it goes to, and the mail worker deletes it
//     in the commit that records it sent (mailer.Message.DeleteWhenSent),
//     then empties the write-ahead log again.
//
// An unknown address is ErrNotFound and changes nothing.
func (s *Service) Erase(ctx context.Context, m *Mail, email string, opt EraseOptions) (Erasure, error) {
	var out Erasure
	norm := NormalizeEmail(email)
	if norm == "" {
		return out, ErrNotFound
	}
	// Searching every email body for the address is the slow part: it is
	// done first, on the read pool, so the single writer is not held for
	// it; the transaction then looks only at mail queued since.
	known, err := s.erasable(ctx, s.DB.Read(), norm, opt.OrganiserID)
	if err != nil {
		return out, err
	}
	seen := []string{norm}
	for _, r := range known.regs {
		seen = appendDistinct(seen, sqlLower(r.Email))
	}
	pre, err := scanMail(ctx, s.DB.Read(), seen, 0)
	if err != nil {
		return out, err
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		out = Erasure{}
		found, err := s.erasable(ctx, tx, norm, opt.OrganiserID)
		if err != nil {
			return err
		}
		regs := found.regs
		// The newest registration gives the address as typed and the
		// language of the confirmation.
		newest := regs[0]
		ids := make([]int64, len(regs))
		var names, addresses []string
		perOrganiser := map[int64]int{}
		for i, r := range regs {
			ids[i] = r.ID
			if r.CreatedAt.After(newest.CreatedAt) || (r.CreatedAt.Equal(newest.CreatedAt) && r.ID > newest.ID) {
				newest = r
			}
			names = appendDistinct(names, r.Name)
			addresses = appendDistinct(addresses, sqlLower(r.Email))
			perOrganiser[found.organiser[r.EventID]]++
		}
		addresses = appendDistinct(addresses, norm)

		if out.GivenUp, out.Promoted, err = s.giveUpPlaces(ctx, tx, now, regs); err != nil {
			return err
		}
		scope := mailScope{eventPaths: found.eventPaths()}
		if opt.OrganiserID == 0 {
			scope = mailScope{all: true}
		}
		if out.Emails, err = deleteMailAbout(ctx, tx, ids, norm, names, addresses, pre, scope); err != nil {
			return err
		}
		if err := forgetRegistrations(ctx, tx, now, ids); err != nil {
			return err
		}
		// the feed lists the places the address still has; it goes with
		// the last registration that holds the address
		if err := deleteOrphanFeeds(ctx, tx, []string{norm}); err != nil {
			return err
		}
		out.Registrations = len(ids)
		if opt.Audit != nil {
			for _, org := range sortedKeys(perOrganiser) {
				if err := opt.Audit(ctx, tx, now, org, perOrganiser[org]); err != nil {
					return err
				}
			}
		}
		if m != nil {
			return m.queueErased(ctx, tx, now, newest.Email, newest.Lang, opt.ReplyTo, len(ids))
		}
		return nil
	})
	if err != nil {
		return Erasure{}, err
	}
	// The rows are zeroed in the database file (secure_delete); their old
	// versions are still in the write-ahead log until it is checkpointed.
	// Done even if the request has gone: the erasure is committed.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	// The erasure has committed; if readers keep the WAL busy, the mail
	// worker empties it once the confirmation is out, so the person is not
	// told the erasure failed.
	if err := s.DB.EraseTraces(cctx); err != nil && !errors.Is(err, db.ErrBusy) {
		return out, err
	}
	return out, nil
}

// erasableRegistrations are the registrations an erasure takes, with the
// organiser and the slug of each of their events.
type erasableRegistrations struct {
	regs      []Registration
	organiser map[int64]int64  // event id -> organiser id
	slug      map[int64]string // event id -> slug
}

// eventPaths are the event pages the registrations' emails link to.
func (e erasableRegistrations) eventPaths() []string {
	var out []string
	for _, slug := range e.slug {
		out = append(out, "/events/"+slug)
	}
	slices.Sort(out)
	return out
}

// erasable finds the registrations of the address norm that an erasure
// takes: all of them, or those for events of organiserID when it is not 0.
// None is ErrNotFound.
func (s *Service) erasable(ctx context.Context, q Querier, norm string, organiserID int64) (erasableRegistrations, error) {
	out := erasableRegistrations{organiser: map[int64]int64{}, slug: map[int64]string{}}
	all, err := FindRegistrations(ctx, q, Filter{EmailNorm: norm})
	if err != nil {
		return out, err
	}
	for _, r := range all {
		if _, ok := out.organiser[r.EventID]; !ok {
			var org int64
			var slug string
			if err := q.QueryRowContext(ctx, `SELECT organiser_id, slug FROM events WHERE id = ?`, r.EventID).Scan(&org, &slug); err != nil {
				return out, fmt.Errorf("registration: erase: event of %d: %w", r.ID, err)
			}
			out.organiser[r.EventID], out.slug[r.EventID] = org, slug
		}
		if organiserID == 0 || out.organiser[r.EventID] == organiserID {
			out.regs = append(out.regs, r)
		}
	}
	for id := range out.slug {
		if !slices.ContainsFunc(out.regs, func(r Registration) bool { return r.EventID == id }) {
			delete(out.slug, id)
		}
	}
	if len(out.regs) == 0 {
		return out, ErrNotFound
	}
	return out, nil
}

func sortedKeys(m map[int64]int) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func appendDistinct(list []string, v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return list
	}
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// giveUpPlaces cancels the live registrations among regs whose event has
// not started, and gives freed places to the waiting list.
func (s *Service) giveUpPlaces(ctx context.Context, tx *sql.Tx, now time.Time, regs []Registration) (givenUp, promoted int, err error) {
	freed := map[int64]bool{}
	var order []int64
	for _, r := range regs {
		if r.Cancelled() {
			continue
		}
		ev, err := lockEvent(ctx, tx, r.EventID)
		if err != nil {
			return 0, 0, err
		}
		if ev.Started(now) {
			continue
		}
		if err := setStatus(ctx, tx, now, r.ID, r.Status, StatusCancelled); err != nil {
			return 0, 0, err
		}
		givenUp++
		if r.Confirmed() && !freed[r.EventID] {
			freed[r.EventID] = true
			order = append(order, r.EventID)
		}
	}
	for _, id := range order {
		p, err := s.PromoteWaiting(ctx, tx, now, id)
		if err != nil {
			return 0, 0, err
		}
		promoted += len(p)
	}
	return givenUp, promoted, nil
}

// mailScan is what a search of the outbox for addresses found: the rows,
// up to and including row upTo, that hold one of the addresses searched.
type mailScan struct {
	searched []string
	ids      []int64
	upTo     int64
}

// sqlLower lower-cases s as SQLite's lower() does, only the ASCII letters,
// so an address beyond ASCII (ØYVIND@example.no) is searched for in the form
// lower() gives the text it is in (Øyvind@example.no).
func sqlLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// scanMail finds the outbox rows after row after that hold one of the
// addresses (sqlLower) anywhere: recipient, subject, bodies, calendar.
func scanMail(ctx context.Context, q Querier, addresses []string, after int64) (mailScan, error) {
	sc := mailScan{searched: addresses, upTo: after}
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM outbox`).Scan(&sc.upTo); err != nil {
		return sc, fmt.Errorf("registration: erase mail: %w", err)
	}
	for _, a := range addresses {
		rows, err := q.QueryContext(ctx, `SELECT id FROM outbox WHERE id > ? AND id <= ? AND (instr(lower(to_address), ?) > 0
			OR instr(lower(to_name), ?) > 0 OR instr(lower(subject), ?) > 0 OR instr(lower(text_body), ?) > 0
			OR instr(lower(html_body), ?) > 0 OR instr(lower(calendar), ?) > 0)`, after, sc.upTo, a, a, a, a, a, a)
		if err != nil {
			return sc, fmt.Errorf("registration: erase mail: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return sc, fmt.Errorf("registration: erase mail: %w", err)
			}
			sc.ids = append(sc.ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return sc, fmt.Errorf("registration: erase mail: %w", err)
		}
	}
	return sc, nil
}

// mailScope says which of a person's mail an erasure deletes: all of it,
// or (an organisation erasing its own attendee) the mail about its events,
// which links to their pages.
type mailScope struct {
	all        bool
	eventPaths []string // "/events/{slug}" of the erased registrations
}

// about reports whether the outbox row id is mail the scope covers.
func (sc mailScope) about(ctx context.Context, tx *sql.Tx, id int64) (bool, error) {
	if sc.all {
		return true, nil
	}
	for _, path := range sc.eventPaths {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE id = ? AND (instr(text_body, ?) > 0 OR instr(html_body, ?) > 0)`,
			id, path, path).Scan(&n); err != nil {
			return false, fmt.Errorf("registration: erase mail: %w", err)
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

// deleteMailAbout deletes the outbox rows within scope that hold the
// person's data: mail to the address (queued or sent: they hold the name
// and manage links), mail to anyone that contains the address
// (introductions share it: pre found those up to its row, and the rest is
// searched here), and mail to the people they shared an introduction group
// with that names them.
func deleteMailAbout(ctx context.Context, tx *sql.Tx, regIDs []int64, norm string, names, addresses []string, pre mailScan, scope mailScope) (int64, error) {
	var total int64
	exec := func(query string, args ...any) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("registration: erase mail: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		return nil
	}
	if scope.all {
		n, err := mailer.DeleteQueuedForAddress(ctx, tx, norm)
		if err != nil {
			return 0, err
		}
		total += n
		if err := exec(`DELETE FROM outbox WHERE to_address_norm = ?`, norm); err != nil {
			return 0, err
		}
	} else {
		for _, path := range scope.eventPaths {
			if err := exec(`DELETE FROM outbox WHERE to_address_norm = ? AND (instr(text_body, ?) > 0 OR instr(html_body, ?) > 0)`,
				norm, path, path); err != nil {
				return 0, err
			}
		}
	}
	// what the search before the transaction found, what was queued since,
	// and an address it did not know (typed differently in a sign-up made
	// meanwhile) everywhere
	found := pre.ids
	since, err := scanMail(ctx, tx, addresses, pre.upTo)
	if err != nil {
		return 0, err
	}
	found = append(found, since.ids...)
	var unsearched []string
	for _, a := range addresses {
		if !slices.Contains(pre.searched, a) {
			unsearched = append(unsearched, a)
		}
	}
	if len(unsearched) > 0 {
		all, err := scanMail(ctx, tx, unsearched, 0)
		if err != nil {
			return 0, err
		}
		found = append(found, all.ids...)
	}
	for _, id := range found {
		if ok, err := scope.about(ctx, tx, id); err != nil || !ok {
			if err != nil {
				return 0, err
			}
			continue
		}
		if err := exec(`DELETE FROM outbox WHERE id = ?`, id); err != nil {
			return 0, err
		}
	}
	// The people they were grouped with, in any round.
	ph, args := inList(regIDs)
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT r.email_norm FROM intro_members me
		JOIN intro_members other ON other.group_id = me.group_id AND other.id <> me.id
		JOIN registrations r ON r.id = other.registration_id
		WHERE me.registration_id IN (`+ph+`)`, args...)
	if err != nil {
		return 0, fmt.Errorf("registration: erase mail: %w", err)
	}
	var peers []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return 0, fmt.Errorf("registration: erase mail: %w", err)
		}
		peers = append(peers, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("registration: erase mail: %w", err)
	}
	for _, peer := range peers {
		for _, name := range names {
			variants := appendDistinct([]string{name}, template.HTMLEscapeString(name))
			for _, v := range variants {
				if err := exec(`DELETE FROM outbox WHERE to_address_norm = ? AND (instr(subject, ?) > 0
					OR instr(text_body, ?) > 0 OR instr(html_body, ?) > 0)`, peer, v, v, v); err != nil {
					return 0, err
				}
			}
		}
	}
	return total, nil
}

func inList(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "?" + strings.Repeat(", ?", len(ids)-1), args
}

// forgetRegistrations removes the personal data of the registrations ids and the links
// and draft introductions that point to them, keeping what organisers'
// figures need (status, level, sector, attendance, times). Erasure and
// retention both use it.
func forgetRegistrations(ctx context.Context, tx *sql.Tx, now time.Time, ids []int64) error {
	for _, id := range ids {
		for _, q := range []string{
			`DELETE FROM manage_tokens WHERE registration_id = ?`,
			`DELETE FROM intro_tokens WHERE registration_id = ?`,
			`DELETE FROM intro_members WHERE registration_id = ? AND round_id IN (SELECT id FROM intro_rounds WHERE status = 'draft')`,
			`DELETE FROM intro_left_out WHERE registration_id = ? AND round_id IN (SELECT id FROM intro_rounds WHERE status = 'draft')`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("registration: forget %d: %w", id, err)
			}
		}
		placeholder := ErasedEmail(id)
		if _, err := tx.ExecContext(ctx, `UPDATE registrations SET name = ?, email = ?, email_norm = ?,
			organisation = '', role = '', region = '', phone = '', dietary = '', accessibility = '', topics = '',
			checkin_code = NULL, anonymised_at = ?, updated_at = ? WHERE id = ?`,
			ErasedName, placeholder, placeholder, now, now, id); err != nil {
			return fmt.Errorf("registration: forget %d: %w", id, err)
		}
	}
	return nil
}

// ErasedMessage is the data of the email confirming an erasure.
type ErasedMessage struct {
	Registrations int
	PrivacyURL    string
}

// queueErased queues the confirmation of an erasure to the address.
func (m *Mail) queueErased(ctx context.Context, tx *sql.Tx, now time.Time, to, lang, replyTo string, n int) error {
	msg, err := m.Emails.Render(KindDataErased, web.SupportedLang(lang), m.BaseURL, ErasedMessage{Registrations: n, PrivacyURL: m.BaseURL + "/privacy"})
	if err != nil {
		return err
	}
	if replyTo != "" && mailer.ValidateAddress(replyTo) != nil {
		replyTo = ""
	}
	// The last place the erased address is stored: gone once it is out.
	_, err = mailer.Enqueue(ctx, tx, now, mailer.Message{
		Kind: KindDataErased, To: to, ReplyTo: replyTo,
		Subject: msg.Subject, TextBody: msg.Text, HTMLBody: msg.HTML,
		DeleteWhenSent: true,
	})
	return err
}

// ErasureItem is one registration an erasure will remove, as the
// confirmation page lists it.
type ErasureItem struct {
	Title    string
	StartsAt time.Time
	Status   string
	// GivesUp is true for a place or a waiting-list entry for an event
	// that has not started: it goes to the next in line.
	GivesUp bool
}

// ErasurePreview lists what Erase would remove for the address.
func (s *Service) ErasurePreview(ctx context.Context, emailNorm string) ([]ErasureItem, error) {
	now := s.DB.Now().UTC()
	rows, err := s.DB.Read().QueryContext(ctx, `SELECT e.title, e.starts_at, r.status FROM registrations r
		JOIN events e ON e.id = r.event_id WHERE r.email_norm = ? ORDER BY e.starts_at, r.id`, emailNorm)
	if err != nil {
		return nil, fmt.Errorf("registration: erasure preview: %w", err)
	}
	defer rows.Close()
	var out []ErasureItem
	for rows.Next() {
		var it ErasureItem
		if err := rows.Scan(&it.Title, &it.StartsAt, &it.Status); err != nil {
			return nil, fmt.Errorf("registration: erasure preview: %w", err)
		}
		it.StartsAt = it.StartsAt.UTC()
		it.GivesUp = it.Status != StatusCancelled && it.StartsAt.After(now)
		out = append(out, it)
	}
	return out, rows.Err()
}

// ---- pages ----

// Privacy serves the data rights: from the manage link, the download
// (/r/{token}/export.json) and the erasure (/r/{token}/delete); for
// organisers, erasure on a person's request (/admin/erase).
type Privacy struct {
	h    *Handler
	Mail *Mail
	// ReplyTo is where a reply to the erasure confirmation goes (the
	// controller's address).
	ReplyTo string
}

// NewPrivacy serves the data rights next to h's manage pages.
func NewPrivacy(h *Handler, m *Mail) *Privacy { return &Privacy{h: h, Mail: m} }

// Routes registers the person's pages under the manage link.
func (p *Privacy) Routes(r gin.IRouter) {
	m := r.Group("/r", web.Private)
	m.GET("/:token/export.json", p.export)
	m.GET("/:token/delete", p.deleteForm)
	m.POST("/:token/delete", p.delete)
}

// AdminRoutes registers the organisers' erasure page on the /admin group.
func (p *Privacy) AdminRoutes(admin gin.IRouter, accounts *organisers.Handler) {
	allowed := accounts.Require(organisers.RoleAdmin, organisers.RoleOrganiser)
	admin.GET("/erase", allowed, p.eraseForm)
	admin.POST("/erase", allowed, p.erase)
}

// export is GET /r/{token}/export.json: a JSON file to save.
func (p *Privacy) export(c *gin.Context) {
	l, ok := p.h.lookupProven(c)
	if !ok {
		return
	}
	ex, err := p.h.Service.Export(c.Request.Context(), l.Registration.EmailNorm)
	if err != nil {
		p.h.R.Fail(c, err)
		return
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ex); err != nil {
		p.h.R.Fail(c, err)
		return
	}
	name := "moteplass-" + ex.GeneratedAt.In(web.Oslo).Format("2006-01-02") + ".json"
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Data(http.StatusOK, "application/json; charset=utf-8", []byte(buf.String()))
}

// DeletePage asks "are you sure?" before an erasure and says what goes.
type DeletePage struct {
	Email     string
	Items     []ErasureItem
	Action    string
	Back      string
	ExportURL string
}

func (p *Privacy) deleteForm(c *gin.Context) {
	l, ok := p.h.lookupProven(c)
	if !ok {
		return
	}
	r := l.Registration
	items, err := p.h.Service.ErasurePreview(c.Request.Context(), r.EmailNorm)
	if err != nil {
		p.h.R.Fail(c, err)
		return
	}
	base := "/r/" + c.Param("token")
	pg := p.h.R.NewPage(c, p.h.R.T(c, "rights.delete.title"), DeletePage{
		Email: r.Email, Items: items, Action: base + "/delete", Back: base, ExportURL: base + "/export.json",
	})
	pg.Meta.NoIndex = true
	p.h.R.Render(c, http.StatusOK, "manage_delete", pg)
}

// delete is POST /r/{token}/delete. The manage link stops working with it,
// so the answer is the privacy page with a message.
func (p *Privacy) delete(c *gin.Context) {
	l, ok := p.h.lookupProven(c)
	if !ok {
		return
	}
	_, err := p.h.Service.Erase(c.Request.Context(), p.Mail, l.Registration.Email, EraseOptions{
		ReplyTo: p.ReplyTo,
		Audit: func(ctx context.Context, tx *sql.Tx, now time.Time, org int64, n int) error {
			return organisers.Audit(ctx, tx, now, nil, org, "erasure", "registration", 0,
				fmt.Sprintf("erasure of %d registrations, asked for by the person", n))
		},
	})
	if err != nil {
		p.h.R.Fail(c, err)
		return
	}
	p.h.redirect(c, "/privacy", "flash.rights.deleted")
}

// ErasePage is the organisers' form for erasing a person on request.
type ErasePage struct {
	Email   string
	Error   string
	IsAdmin bool
}

func (p *Privacy) eraseForm(c *gin.Context) {
	p.renderErase(c, http.StatusOK, ErasePage{})
}

func (p *Privacy) renderErase(c *gin.Context, status int, data ErasePage) {
	data.IsAdmin = organisers.CurrentUser(c).IsAdmin()
	pg := p.h.R.NewPage(c, p.h.R.T(c, "erase.title"), data)
	pg.Meta.NoIndex = true
	p.h.R.Render(c, status, "admin_erase", pg)
}

// erase is POST /admin/erase: an admin erases everything about an address;
// an organiser only its registrations for their organisation's events.
// Every organisation affected records it in its audit log (how many
// registrations went, never the address).
func (p *Privacy) erase(c *gin.Context) {
	u := organisers.CurrentUser(c)
	form := ErasePage{Email: strings.TrimSpace(c.PostForm("email"))}
	addr, _, err := ParseEmail(form.Email)
	if err != nil {
		form.Error = p.h.R.T(c, "erase.invalid")
		p.renderErase(c, http.StatusUnprocessableEntity, form)
		return
	}
	if c.PostForm("confirm") == "" {
		form.Error = p.h.R.T(c, "erase.confirm_missing")
		p.renderErase(c, http.StatusUnprocessableEntity, form)
		return
	}
	opt := EraseOptions{
		ReplyTo: p.ReplyTo,
		// each organisation whose attendee this was sees it in its own log
		Audit: func(ctx context.Context, tx *sql.Tx, now time.Time, org int64, n int) error {
			return organisers.Audit(ctx, tx, now, u, org, "erasure", "registration", 0,
				fmt.Sprintf("erasure of %d registrations on the person's request", n))
		},
	}
	if !u.IsAdmin() {
		opt.OrganiserID = u.OrganiserID
	}
	_, err = p.h.Service.Erase(c.Request.Context(), p.Mail, addr, opt)
	if errors.Is(err, ErrNotFound) {
		form.Error = p.h.R.T(c, "erase.not_found")
		p.renderErase(c, http.StatusNotFound, form)
		return
	}
	if err != nil {
		p.h.R.Fail(c, err)
		return
	}
	p.h.redirect(c, "/admin/erase", "flash.erase.done")
}
