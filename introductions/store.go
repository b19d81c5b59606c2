package introductions

// The SQL of the follow-up: who may take part, the stored proposal (a round
// with its groups, members and the people left out), who was introduced
// before, and the links in the emails. Personal data is read from
// registrations each time; these tables hold registration ids only.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/secret"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/introductions/match"
)

// The states of a round.
const (
	StatusDraft = "draft"
	StatusSent  = "sent"
)

// The kinds of group.
const (
	KindIntro = "intro"
	KindSeed  = "seed"
)

// Why someone is in no introduction group.
const (
	CauseMatch   = "match"   // the matching left them out (its reason is stored)
	CauseRemoved = "removed" // the organiser took them out
	CauseAlone   = "alone"   // their group had nobody else left when it was sent
)

// ErrNotFound is returned when no round, group or token matches.
var ErrNotFound = &web.Refusal{Kind: web.NotFound, Key: "error.not_found", Why: "introductions: not found"}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Participant is what the follow-up reads of a registration.
type Participant struct {
	RegistrationID int64
	Name           string
	Email          string
	EmailNorm      string
	Organisation   string
	Role           string
	Level          string
	Sector         string
	Region         string
	Topics         string
	Lang           string
	// Consents is the current answer to the introductions question, false
	// also when the registration's personal data has been erased.
	Consents bool
}

// ID is the person's ID in the matching: the registration id.
func (p Participant) ID() string { return fmt.Sprint(p.RegistrationID) }

// Person is the participant as the matching sees it, every field.
func (p Participant) Person() match.Person {
	return match.Person{ID: p.ID(), Name: p.Name, Organisation: p.Organisation, Level: p.Level, Role: p.Role,
		Sector: p.Sector, Region: p.Region, Topics: SplitTopics(p.Topics)}
}

// SharedPerson has only what the person agreed to share with the others
// (name, organisation, role, topics), so a reason built from it tells the
// others nothing more.
func (p Participant) SharedPerson() match.Person {
	return match.Person{ID: p.ID(), Name: p.Name, Organisation: p.Organisation, Role: p.Role, Topics: SplitTopics(p.Topics)}
}

// SplitTopics turns the free text of the topics field into topics: one per
// line or between semicolons.
func SplitTopics(s string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ';' || r == '\r' }) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

const participantColumns = `r.id, r.name, r.email, r.email_norm, r.organisation, r.role, r.level, r.sector,
	r.region, r.topics, r.lang, CASE WHEN r.intro_consent = 1 AND r.anonymised_at IS NULL THEN 1 ELSE 0 END`

func scanParticipant(dest []any) (*Participant, []any) {
	p := &Participant{}
	return p, append(dest, &p.RegistrationID, &p.Name, &p.Email, &p.EmailNorm, &p.Organisation, &p.Role, &p.Level,
		&p.Sector, &p.Region, &p.Topics, &p.Lang, &p.Consents)
}

// Eligible returns the people of an event who may be introduced: they
// agreed, and they were checked in, or, when nobody of the event was
// checked in (no attendance taken), they had a confirmed place. The second
// result says whether attendance was taken.
func Eligible(ctx context.Context, q querier, eventID int64) ([]Participant, bool, error) {
	var taken int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM registrations WHERE event_id = ? AND checked_in_at IS NOT NULL`,
		eventID).Scan(&taken); err != nil {
		return nil, false, fmt.Errorf("introductions: attendance of %d: %w", eventID, err)
	}
	cond := `r.status = 'confirmed'`
	if taken > 0 {
		cond = `r.checked_in_at IS NOT NULL`
	}
	rows, err := q.QueryContext(ctx, `SELECT `+participantColumns+` FROM registrations r
		WHERE r.event_id = ? AND r.intro_consent = 1 AND r.anonymised_at IS NULL AND `+cond+` ORDER BY r.id`, eventID)
	if err != nil {
		return nil, false, fmt.Errorf("introductions: eligible of %d: %w", eventID, err)
	}
	defer rows.Close()
	var out []Participant
	for rows.Next() {
		p, dest := scanParticipant(nil)
		if err := rows.Scan(dest...); err != nil {
			return nil, false, fmt.Errorf("introductions: eligible of %d: %w", eventID, err)
		}
		out = append(out, *p)
	}
	return out, taken > 0, rows.Err()
}

// alreadyMet returns the pairs among people (by registration id) whose
// addresses were in the same sent introduction group at another event of
// the same organiser.
func alreadyMet(ctx context.Context, q querier, organiserID, eventID int64, people []Participant) ([][2]string, error) {
	byEmail := map[string]string{}
	for _, p := range people {
		if p.EmailNorm != "" {
			byEmail[p.EmailNorm] = p.ID()
		}
	}
	rows, err := q.QueryContext(ctx, `SELECT ra.email_norm, rb.email_norm
		FROM intro_members ma
		JOIN intro_members mb ON mb.group_id = ma.group_id AND mb.id > ma.id
		JOIN intro_rounds ro ON ro.id = ma.round_id
		JOIN events e ON e.id = ro.event_id
		JOIN registrations ra ON ra.id = ma.registration_id
		JOIN registrations rb ON rb.id = mb.registration_id
		WHERE ma.kind = 'intro' AND ro.status = 'sent' AND e.organiser_id = ? AND ro.event_id <> ?`, organiserID, eventID)
	if err != nil {
		return nil, fmt.Errorf("introductions: met before: %w", err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			return nil, fmt.Errorf("introductions: met before: %w", err)
		}
		ia, okA := byEmail[a]
		ib, okB := byEmail[b]
		if okA && okB && ia != ib {
			out = append(out, [2]string{ia, ib})
		}
	}
	return out, rows.Err()
}

// Round is an event's proposal of introductions.
type Round struct {
	ID         int64
	EventID    int64
	Seed       int64
	Status     string // draft, sent
	CreatedAt  time.Time
	UpdatedAt  time.Time
	SentAt     time.Time // zero until sent
	RemindedAt time.Time // zero until the "did you meet?" reminders were queued
}

// Sent reports whether the introductions went out.
func (r Round) Sent() bool { return r.Status == StatusSent }

// StoredGroup is an introduction group or network seed as stored, with its members.
type StoredGroup struct {
	ID             int64
	Kind           string
	Position       int
	Score          float64
	ReasonNB       string
	ReasonEN       string
	Edited         bool
	SeriesID       int64
	NetworkEventID int64
	StartedAt      time.Time
	InvitedAt      time.Time
	Members        []Member
}

// Reason is the group's reason in lang.
func (g StoredGroup) Reason(lang string) string {
	if lang == "en" {
		return g.ReasonEN
	}
	return g.ReasonNB
}

// Member is one person in a group.
type Member struct {
	ID int64 // of the membership
	Participant
	// Answer to "did you meet?": "" unanswered, "yes" or "no".
	Answer string
}

// LeftOut is a person in no introduction group.
type LeftOut struct {
	Participant
	Cause    string
	ReasonNB string
	ReasonEN string
}

// Proposal is a round with everything in it.
type Proposal struct {
	Round
	Groups  []StoredGroup // introduction groups, by position
	Seeds   []StoredGroup // network seeds, by position
	LeftOut []LeftOut
}

// group returns the introduction group or seed with id, or nil.
func (p *Proposal) group(id int64) *StoredGroup {
	for i := range p.Groups {
		if p.Groups[i].ID == id {
			return &p.Groups[i]
		}
	}
	for i := range p.Seeds {
		if p.Seeds[i].ID == id {
			return &p.Seeds[i]
		}
	}
	return nil
}

// introGroupOf returns the introduction group registration regID is in, or nil.
func (p *Proposal) introGroupOf(regID int64) *StoredGroup {
	for i := range p.Groups {
		for _, m := range p.Groups[i].Members {
			if m.RegistrationID == regID {
				return &p.Groups[i]
			}
		}
	}
	return nil
}

func (p *Proposal) leftOut(regID int64) (LeftOut, bool) {
	for _, l := range p.LeftOut {
		if l.RegistrationID == regID {
			return l, true
		}
	}
	return LeftOut{}, false
}

// FindRound returns the round of an event, or ErrNotFound.
func FindRound(ctx context.Context, q querier, eventID int64) (Round, error) {
	var r Round
	var sent, reminded sql.NullTime
	err := q.QueryRowContext(ctx, `SELECT id, event_id, seed, status, created_at, updated_at, sent_at, reminded_at
		FROM intro_rounds WHERE event_id = ?`, eventID).
		Scan(&r.ID, &r.EventID, &r.Seed, &r.Status, &r.CreatedAt, &r.UpdatedAt, &sent, &reminded)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("introductions: round of %d: %w", eventID, err)
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	if sent.Valid {
		r.SentAt = sent.Time.UTC()
	}
	if reminded.Valid {
		r.RemindedAt = reminded.Time.UTC()
	}
	return r, nil
}

// FindProposal returns the round of an event with its groups, members and
// the people left out, or ErrNotFound.
func FindProposal(ctx context.Context, q querier, eventID int64) (Proposal, error) {
	r, err := FindRound(ctx, q, eventID)
	if err != nil {
		return Proposal{}, err
	}
	p := Proposal{Round: r}
	rows, err := q.QueryContext(ctx, `SELECT id, kind, position, score, reason_nb, reason_en, edited,
		COALESCE(series_id, 0), COALESCE(network_event_id, 0), started_at, invited_at
		FROM intro_groups WHERE round_id = ? ORDER BY kind, position`, r.ID)
	if err != nil {
		return p, fmt.Errorf("introductions: groups of %d: %w", r.ID, err)
	}
	index := map[int64]*StoredGroup{}
	var groups []StoredGroup
	for rows.Next() {
		var g StoredGroup
		var started, invited sql.NullTime
		if err := rows.Scan(&g.ID, &g.Kind, &g.Position, &g.Score, &g.ReasonNB, &g.ReasonEN, &g.Edited,
			&g.SeriesID, &g.NetworkEventID, &started, &invited); err != nil {
			rows.Close()
			return p, fmt.Errorf("introductions: groups of %d: %w", r.ID, err)
		}
		if started.Valid {
			g.StartedAt = started.Time.UTC()
		}
		if invited.Valid {
			g.InvitedAt = invited.Time.UTC()
		}
		groups = append(groups, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("introductions: groups of %d: %w", r.ID, err)
	}
	for i := range groups {
		index[groups[i].ID] = &groups[i]
	}

	rows, err = q.QueryContext(ctx, `SELECT m.group_id, m.id, CASE WHEN m.met IS NULL THEN '' WHEN m.met = 1 THEN 'yes' ELSE 'no' END, `+
		participantColumns+` FROM intro_members m JOIN registrations r ON r.id = m.registration_id
		WHERE m.round_id = ? ORDER BY m.group_id, r.id`, r.ID)
	if err != nil {
		return p, fmt.Errorf("introductions: members of %d: %w", r.ID, err)
	}
	for rows.Next() {
		var groupID int64
		var m Member
		part, dest := scanParticipant([]any{&groupID, &m.ID, &m.Answer})
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return p, fmt.Errorf("introductions: members of %d: %w", r.ID, err)
		}
		m.Participant = *part
		if g, ok := index[groupID]; ok {
			g.Members = append(g.Members, m)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("introductions: members of %d: %w", r.ID, err)
	}
	for _, g := range groups {
		if g.Kind == KindSeed {
			p.Seeds = append(p.Seeds, g)
		} else {
			p.Groups = append(p.Groups, g)
		}
	}

	rows, err = q.QueryContext(ctx, `SELECT l.cause, l.reason_nb, l.reason_en, `+participantColumns+`
		FROM intro_left_out l JOIN registrations r ON r.id = l.registration_id
		WHERE l.round_id = ? ORDER BY r.id`, r.ID)
	if err != nil {
		return p, fmt.Errorf("introductions: left out of %d: %w", r.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var l LeftOut
		part, dest := scanParticipant([]any{&l.Cause, &l.ReasonNB, &l.ReasonEN})
		if err := rows.Scan(dest...); err != nil {
			return p, fmt.Errorf("introductions: left out of %d: %w", r.ID, err)
		}
		l.Participant = *part
		p.LeftOut = append(p.LeftOut, l)
	}
	return p, rows.Err()
}

// createRound stores a new round of an event and returns its id.
func createRound(ctx context.Context, tx *sql.Tx, now time.Time, eventID, seed int64) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO intro_rounds (event_id, seed, status, created_at, updated_at) VALUES (?, ?, 'draft', ?, ?) RETURNING id`,
		eventID, seed, now, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("introductions: create round: %w", err)
	}
	return id, nil
}

// clearRound empties a draft round for a new proposal with a new seed.
func clearRound(ctx context.Context, tx *sql.Tx, now time.Time, roundID, seed int64) error {
	for _, q := range []string{
		`DELETE FROM intro_groups WHERE round_id = ?`,
		`DELETE FROM intro_left_out WHERE round_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, roundID); err != nil {
			return fmt.Errorf("introductions: clear round %d: %w", roundID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE intro_rounds SET seed = ?, updated_at = ? WHERE id = ?`, seed, now, roundID); err != nil {
		return fmt.Errorf("introductions: clear round %d: %w", roundID, err)
	}
	return nil
}

// touchRound records that a round changed.
func touchRound(ctx context.Context, tx *sql.Tx, now time.Time, roundID int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE intro_rounds SET updated_at = ? WHERE id = ?`, now, roundID); err != nil {
		return fmt.Errorf("introductions: touch round %d: %w", roundID, err)
	}
	return nil
}

// createGroup stores a group and its members and returns its id.
func createGroup(ctx context.Context, tx *sql.Tx, roundID int64, kind string, position int, g match.Group) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO intro_groups (round_id, kind, position, score, reason_nb, reason_en)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, roundID, kind, position, g.Score, g.ReasonNB, g.ReasonEN).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("introductions: create group: %w", err)
	}
	for _, m := range g.Members {
		regID, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("introductions: member id %q: %w", m, err)
		}
		if err := addMember(ctx, tx, roundID, id, kind, regID); err != nil {
			return 0, err
		}
	}
	return id, nil
}

func addMember(ctx context.Context, tx *sql.Tx, roundID, groupID int64, kind string, regID int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO intro_members (group_id, round_id, kind, registration_id) VALUES (?, ?, ?, ?)`,
		groupID, roundID, kind, regID)
	if err != nil {
		return fmt.Errorf("introductions: add member: %w", err)
	}
	return nil
}

// setLeftOut records why someone is in no introduction group.
func setLeftOut(ctx context.Context, tx *sql.Tx, roundID, regID int64, cause, nb, en string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO intro_left_out (round_id, registration_id, cause, reason_nb, reason_en)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (round_id, registration_id) DO UPDATE SET cause = excluded.cause,
		reason_nb = excluded.reason_nb, reason_en = excluded.reason_en`, roundID, regID, cause, nb, en)
	if err != nil {
		return fmt.Errorf("introductions: left out: %w", err)
	}
	return nil
}

// updateGroup rewrites a group's score and reason after its members changed.
func updateGroup(ctx context.Context, tx *sql.Tx, id int64, g match.Group, edited bool) error {
	_, err := tx.ExecContext(ctx, `UPDATE intro_groups SET score = ?, reason_nb = ?, reason_en = ?, edited = ? WHERE id = ?`,
		g.Score, g.ReasonNB, g.ReasonEN, edited, id)
	if err != nil {
		return fmt.Errorf("introductions: update group %d: %w", id, err)
	}
	return nil
}

// ---- links ----

// Token purposes.
const (
	purposeStop = "stop"
	purposeMet  = "met"
)

// createToken stores a new link token and returns it raw; only its hash is kept.
func createToken(ctx context.Context, tx *sql.Tx, now time.Time, regID, memberID int64, purpose string, lifetime time.Duration) (string, error) {
	raw, hash := secret.New()
	var member any
	if memberID != 0 {
		member = memberID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO intro_tokens (token_hash, registration_id, member_id, purpose, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, hash, regID, member, purpose, now, now.Add(lifetime)); err != nil {
		return "", fmt.Errorf("introductions: create token: %w", err)
	}
	return raw, nil
}

// linkToken is what a link opens.
type linkToken struct {
	RegistrationID int64
	MemberID       int64
}

// ErrTokenExpired is returned for a link past its time.
var ErrTokenExpired = &web.Refusal{Kind: web.Expired, Key: "intro.expired", Why: "introductions: link expired"}

// findToken looks a raw link token up; ErrNotFound when unknown.
func findToken(ctx context.Context, q querier, now time.Time, raw, purpose string) (linkToken, error) {
	var t linkToken
	if !secret.WellFormed(raw) {
		return t, ErrNotFound
	}
	var expires time.Time
	err := q.QueryRowContext(ctx, `SELECT registration_id, COALESCE(member_id, 0), expires_at FROM intro_tokens
		WHERE token_hash = ? AND purpose = ?`, secret.Hash(raw), purpose).Scan(&t.RegistrationID, &t.MemberID, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return t, ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("introductions: token: %w", err)
	}
	if !now.Before(expires) {
		return t, ErrTokenExpired
	}
	return t, nil
}

// DeleteExpiredTokens removes link tokens that expired before before.
func DeleteExpiredTokens(ctx context.Context, tx *sql.Tx, before time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM intro_tokens WHERE expires_at < ?`, before.UTC())
	if err != nil {
		return 0, fmt.Errorf("introductions: delete expired tokens: %w", err)
	}
	return res.RowsAffected()
}

// ---- network seeds ----

// freeSlug is base, or base-2, base-3, ..., whichever no row of table
// (series or events) has yet.
func freeSlug(ctx context.Context, tx *sql.Tx, table, base string) (string, error) {
	if table != "series" && table != "events" {
		return "", fmt.Errorf("introductions: slug of unknown table %q", table)
	}
	if base == "" {
		base = "nettverk"
	}
	const maxSlug = 80
	for n := 1; n < 10000; n++ {
		slug := base
		if n > 1 {
			suffix := fmt.Sprintf("-%d", n)
			slug = strings.TrimRight(base[:min(len(base), maxSlug-len(suffix))], "-") + suffix
		}
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE slug = ?`, slug).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return slug, nil
		}
		if err != nil {
			return "", fmt.Errorf("introductions: slug %s: %w", slug, err)
		}
	}
	return "", fmt.Errorf("introductions: no free slug for %q", base)
}

// inviteAlphabet has no letters or digits that are easy to mix up.
const inviteAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// newInviteCode is a random invitation code such as "K7PM-Q2XD".
func newInviteCode() string {
	b := secret.Random(8)
	out := make([]byte, 0, 9)
	for i, c := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, inviteAlphabet[int(c)%len(inviteAlphabet)])
	}
	return string(out)
}

// firstMeetingTime is four weeks after t at the same wall-clock time in Oslo.
func firstMeetingTime(t time.Time) time.Time {
	return t.In(events.Oslo).AddDate(0, 0, 28).UTC()
}
