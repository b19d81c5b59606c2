package introductions

// The follow-up after an event (DOMAIN.md points 3-5 and 7): the organiser
// generates a proposal with match.Match, edits it, approves it (one email per
// member of each group, through the outbox, in the transaction that marks
// the round sent), turns network seeds into network series, and 14 days
// later everyone is asked "did you meet?". Each change is one transaction
// that first locks the event and checks that the user may manage it.

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/secret"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/introductions/match"
	"github.com/moteplass/moteplass/organisers"
	"github.com/moteplass/moteplass/registration"
)

// GroupSize is the preferred size of an introduction group.
const GroupSize = 3

// Defaults of a Followup.
const (
	// DefaultMeetAfter is how long after the introductions the "did you
	// meet?" reminder goes out.
	DefaultMeetAfter = 14 * 24 * time.Hour
	// DefaultStopLinkLifetime is how long a "stop future introductions"
	// link works (the registration's retention usually ends it sooner).
	DefaultStopLinkLifetime = 365 * 24 * time.Hour
	// DefaultAnswerLinkLifetime is how long the "did you meet?" links work.
	DefaultAnswerLinkLifetime = 60 * 24 * time.Hour
)

// StopWordingVersion names the text of the "stop future introductions"
// page (catalogue key "intro.stop.wording"), recorded with the withdrawal.
const StopWordingVersion = "intro-stop-v1"

// Followup runs the introductions after events.
type Followup struct {
	DB      *db.DB
	Emails  *web.Emails
	Cat     *web.Catalogue
	BaseURL string
	// MatchingRuns counts runs of match.Match (nil: not counted).
	MatchingRuns interface{ Inc() }

	MeetAfter          time.Duration
	StopLinkLifetime   time.Duration
	AnswerLinkLifetime time.Duration
}

// NewFollowup is a Followup with the default delays and link lifetimes.
func NewFollowup(d *db.DB, emails *web.Emails, cat *web.Catalogue, baseURL string) *Followup {
	return &Followup{DB: d, Emails: emails, Cat: cat, BaseURL: strings.TrimRight(baseURL, "/"),
		MeetAfter: DefaultMeetAfter, StopLinkLifetime: DefaultStopLinkLifetime, AnswerLinkLifetime: DefaultAnswerLinkLifetime}
}

// Refusal is a change the state of the follow-up does not allow. Key is a
// catalogue message for the organiser, Args its name/value pairs.
type Refusal struct {
	Key  string
	Args []any
}

func (r *Refusal) Error() string { return "introductions: refused: " + r.Key }

func refuse(key string, args ...any) error { return &Refusal{Key: key, Args: args} }

// hidden is the answer for an event the user may not see: an admin learns
// that it does not exist, anyone else gets the 403 of another
// organisation's event, so ids cannot be probed.
func hidden(u *organisers.User) error {
	if u.IsAdmin() {
		return web.ErrNotFound
	}
	return organisers.ErrForbidden
}

// lockEvent reads the event in the transaction and checks that u may
// manage it.
func lockEvent(ctx context.Context, tx *sql.Tx, u *organisers.User, eventID int64) (events.Event, error) {
	ev, err := events.LockEvent(ctx, tx, eventID)
	if errors.Is(err, events.ErrNotFound) {
		return ev, hidden(u)
	}
	if err != nil {
		return ev, err
	}
	if !u.CanManage(ev.Organiser.ID) {
		return events.Event{}, organisers.ErrForbidden
	}
	return ev, nil
}

// ready refuses a follow-up before the event has ended or of a cancelled one.
func ready(ev events.Event, now time.Time) error {
	switch {
	case ev.Cancelled():
		return refuse("followup.refused.cancelled")
	case !ev.Past(now):
		return refuse("followup.refused.not_ended")
	}
	return nil
}

// proposal reads the event's proposal for a change: it must exist.
func proposal(ctx context.Context, tx *sql.Tx, eventID int64) (Proposal, error) {
	p, err := FindProposal(ctx, tx, eventID)
	if errors.Is(err, ErrNotFound) {
		return p, refuse("followup.refused.no_proposal")
	}
	return p, err
}

// draft reads the event's proposal for a change: it must exist and not be sent.
func draft(ctx context.Context, tx *sql.Tx, eventID int64) (Proposal, error) {
	p, err := proposal(ctx, tx, eventID)
	if err != nil {
		return p, err
	}
	if p.Sent() {
		return p, refuse("followup.refused.sent")
	}
	return p, nil
}

// needs are what a change requires before it runs, each refused with its
// own message when missing.
type needs int

const (
	needEnded    needs = 1 << iota // the event has ended and is not cancelled (ready)
	needProposal                   // the event has a proposal, sent or not (proposal)
	needDraft                      // the event has a proposal not sent yet (draft)
)

// followupChange is what a change sees inside its transaction.
type followupChange struct {
	tx  *sql.Tx
	now time.Time
	ev  events.Event // locked; the user may manage it
	p   Proposal     // with needProposal or needDraft
	// changed are the groups the organiser changed, described again (and
	// the round touched) after the change.
	changed []int64
}

// groupChanged marks group id of the proposal (needDraft) as changed by the
// organiser: once the change is done, its score and reason are worked out
// again from its members (or it is deleted when empty).
func (c *followupChange) groupChanged(id int64) { c.changed = append(c.changed, id) }

// auditEntry is what a change records in the audit log, for the event's
// organiser. The zero entry records nothing: the change found nothing to do.
type auditEntry struct {
	action, targetType string
	targetID           int64
	detail             string
}

// changeFollowup runs one change an organiser makes to an event's
// follow-up, as one transaction, always in this order: lock the event and
// check that u may manage it; refuse the change when what it needs is
// missing (see needs); run do; describe again the groups do changed and
// touch the round; record do's audit entry.
func (f *Followup) changeFollowup(ctx context.Context, u *organisers.User, eventID int64, need needs,
	do func(c *followupChange) (auditEntry, error)) error {
	return f.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		ev, err := lockEvent(ctx, tx, u, eventID)
		if err != nil {
			return err
		}
		if need&needEnded != 0 {
			if err := ready(ev, now); err != nil {
				return err
			}
		}
		c := &followupChange{tx: tx, now: now, ev: ev}
		switch {
		case need&needDraft != 0:
			c.p, err = draft(ctx, tx, eventID)
		case need&needProposal != 0:
			c.p, err = proposal(ctx, tx, eventID)
		}
		if err != nil {
			return err
		}
		entry, err := do(c)
		if err != nil {
			return err
		}
		for _, id := range c.changed {
			if err := refreshGroup(ctx, tx, id, true); err != nil {
				return err
			}
		}
		if len(c.changed) > 0 {
			if err := touchRound(ctx, tx, now, c.p.ID); err != nil {
				return err
			}
		}
		if entry == (auditEntry{}) {
			return nil
		}
		return organisers.Audit(ctx, tx, now, u, ev.Organiser.ID, entry.action, entry.targetType, entry.targetID, entry.detail)
	})
}

func randomSeed() int64 {
	return int64(binary.BigEndian.Uint64(secret.Random(8)) >> 1)
}

// Generate makes the event's proposal: the people who may take part,
// matched with a new random seed, GroupSize 3, and the pairs introduced at
// the organiser's earlier events kept apart. With again, a draft proposal
// is replaced (regenerate); without it, an existing proposal is left as it
// is, so a second click changes nothing.
func (f *Followup) Generate(ctx context.Context, u *organisers.User, eventID int64, again bool) error {
	seed := randomSeed()
	return f.changeFollowup(ctx, u, eventID, needEnded, func(c *followupChange) (auditEntry, error) {
		tx, now, ev := c.tx, c.now, c.ev
		round, err := FindRound(ctx, tx, eventID)
		exists := err == nil
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return auditEntry{}, err
		case round.Sent():
			return auditEntry{}, refuse("followup.refused.sent")
		case !again:
			return auditEntry{}, nil
		}
		if exists {
			var started int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM intro_groups WHERE round_id = ? AND started_at IS NOT NULL`,
				round.ID).Scan(&started); err != nil {
				return auditEntry{}, fmt.Errorf("introductions: started seeds: %w", err)
			}
			if started > 0 {
				return auditEntry{}, refuse("followup.refused.network_started")
			}
		}
		people, _, err := Eligible(ctx, tx, eventID)
		if err != nil {
			return auditEntry{}, err
		}
		if len(people) < 2 {
			return auditEntry{}, refuse("followup.refused.too_few")
		}
		met, err := alreadyMet(ctx, tx, ev.Organiser.ID, eventID, people)
		if err != nil {
			return auditEntry{}, err
		}
		persons := make([]match.Person, len(people))
		for i, p := range people {
			persons[i] = p.Person()
		}
		res := match.Match(persons, match.Options{Seed: seed, GroupSize: GroupSize, AlreadyMet: met})
		if f.MatchingRuns != nil {
			f.MatchingRuns.Inc()
		}
		if exists {
			err = clearRound(ctx, tx, now, round.ID, seed)
		} else {
			round.ID, err = createRound(ctx, tx, now, eventID, seed)
		}
		if err != nil {
			return auditEntry{}, err
		}
		for i, g := range res.Introductions {
			if _, err := createGroup(ctx, tx, round.ID, KindIntro, i+1, g); err != nil {
				return auditEntry{}, err
			}
		}
		for i, g := range res.NetworkSeeds {
			if _, err := createGroup(ctx, tx, round.ID, KindSeed, i+1, g); err != nil {
				return auditEntry{}, err
			}
		}
		for _, un := range res.Unplaced {
			var regID int64
			if _, err := fmt.Sscan(un.ID, &regID); err != nil {
				return auditEntry{}, fmt.Errorf("introductions: unplaced id %q: %w", un.ID, err)
			}
			if err := setLeftOut(ctx, tx, round.ID, regID, CauseMatch, un.ReasonNB, un.ReasonEN); err != nil {
				return auditEntry{}, err
			}
		}
		action := "introductions_generate"
		if exists {
			action = "introductions_regenerate"
		}
		return auditEntry{action, "event", eventID,
			fmt.Sprintf("seed %d: %d people, %d groups, %d network seeds, %d left out",
				seed, len(people), len(res.Introductions), len(res.NetworkSeeds), len(res.Unplaced))}, nil
	})
}

// refreshGroup describes a group anew from its members after a change, or
// deletes it when nobody is left. edited marks the change as the
// organiser's.
func refreshGroup(ctx context.Context, tx *sql.Tx, groupID int64, edited bool) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+participantColumns+` FROM intro_members m
		JOIN registrations r ON r.id = m.registration_id WHERE m.group_id = ? ORDER BY r.id`, groupID)
	if err != nil {
		return fmt.Errorf("introductions: members of group %d: %w", groupID, err)
	}
	var people []match.Person
	for rows.Next() {
		p, dest := scanParticipant(nil)
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return fmt.Errorf("introductions: members of group %d: %w", groupID, err)
		}
		people = append(people, p.Person())
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("introductions: members of group %d: %w", groupID, err)
	}
	if len(people) == 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM intro_groups WHERE id = ?`, groupID); err != nil {
			return fmt.Errorf("introductions: delete group %d: %w", groupID, err)
		}
		return nil
	}
	return updateGroup(ctx, tx, groupID, match.Describe(people), edited)
}

// NewGroup as a move's target puts the person in a group of their own.
const NewGroup = 0

// Move puts a person (a registration in the proposal: in an introduction
// group or left out) into introduction group target, or a new group
// (NewGroup). It refuses a move that would put two people of the same
// organisation, or two top leaders of the same sector, together.
func (f *Followup) Move(ctx context.Context, u *organisers.User, eventID, regID, target int64) error {
	return f.changeFollowup(ctx, u, eventID, needDraft, func(c *followupChange) (auditEntry, error) {
		tx, p := c.tx, c.p
		from := p.introGroupOf(regID)
		var who Participant
		if from != nil {
			for _, m := range from.Members {
				if m.RegistrationID == regID {
					who = m.Participant
				}
			}
		} else if l, ok := p.leftOut(regID); ok {
			who = l.Participant
		} else {
			return auditEntry{}, refuse("followup.refused.not_in_proposal")
		}
		var to *StoredGroup
		if target != NewGroup {
			to = p.group(target)
			if to == nil || to.Kind != KindIntro {
				return auditEntry{}, refuse("followup.refused.no_group")
			}
			if from != nil && from.ID == to.ID {
				return auditEntry{}, nil
			}
			for _, m := range to.Members {
				if rule := match.Conflict(who.Person(), m.Person()); rule != "" {
					return auditEntry{}, refuse("followup.refused.rule_"+rule, "Name", who.Name, "Other", m.Name, "Group", to.Position)
				}
			}
		} else {
			pos := 0
			for _, g := range p.Groups {
				pos = max(pos, g.Position)
			}
			id, err := createGroup(ctx, tx, p.ID, KindIntro, pos+1, match.Group{})
			if err != nil {
				return auditEntry{}, err
			}
			to = &StoredGroup{ID: id, Kind: KindIntro, Position: pos + 1}
		}
		if from != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE intro_members SET group_id = ? WHERE round_id = ? AND kind = 'intro' AND registration_id = ?`,
				to.ID, p.ID, regID); err != nil {
				return auditEntry{}, fmt.Errorf("introductions: move %d: %w", regID, err)
			}
			c.groupChanged(from.ID)
		} else {
			if _, err := tx.ExecContext(ctx, `DELETE FROM intro_left_out WHERE round_id = ? AND registration_id = ?`, p.ID, regID); err != nil {
				return auditEntry{}, fmt.Errorf("introductions: move %d: %w", regID, err)
			}
			if err := addMember(ctx, tx, p.ID, to.ID, KindIntro, regID); err != nil {
				return auditEntry{}, err
			}
		}
		c.groupChanged(to.ID)
		return auditEntry{"introductions_move", "registration", regID, fmt.Sprintf("event %d, to group %d", eventID, to.Position)}, nil
	})
}

// Remove takes a person out of their introduction group; they are listed
// as left out by the organiser.
func (f *Followup) Remove(ctx context.Context, u *organisers.User, eventID, regID int64) error {
	return f.changeFollowup(ctx, u, eventID, needDraft, func(c *followupChange) (auditEntry, error) {
		tx, p := c.tx, c.p
		from := p.introGroupOf(regID)
		if from == nil {
			return auditEntry{}, refuse("followup.refused.not_in_group")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM intro_members WHERE round_id = ? AND kind = 'intro' AND registration_id = ?`,
			p.ID, regID); err != nil {
			return auditEntry{}, fmt.Errorf("introductions: remove %d: %w", regID, err)
		}
		if err := setLeftOut(ctx, tx, p.ID, regID, CauseRemoved, "", ""); err != nil {
			return auditEntry{}, err
		}
		c.groupChanged(from.ID)
		return auditEntry{"introductions_remove", "registration", regID, fmt.Sprintf("event %d, from group %d", eventID, from.Position)}, nil
	})
}

// Plan is what approving a proposal would send, consent read now.
type Plan struct {
	// Send are the introduction groups that get emails, each with its
	// members who still agree (two or more).
	Send []StoredGroup
	// Emails is the number of emails: one per member of each group sent.
	Emails int
	// Withdrawn are the people in the proposal who no longer agree (they
	// withdrew, or their data was erased); nothing about them is sent.
	Withdrawn []Participant
	// Alone are people whose group has nobody else left who agrees.
	Alone []Member
}

// plan works out what approval sends.
func plan(p Proposal) Plan {
	var pl Plan
	for _, g := range p.Groups {
		var kept []Member
		for _, m := range g.Members {
			if m.Consents {
				kept = append(kept, m)
			} else {
				pl.Withdrawn = append(pl.Withdrawn, m.Participant)
			}
		}
		if len(kept) < 2 {
			pl.Alone = append(pl.Alone, kept...)
			continue
		}
		g.Members = kept
		pl.Send = append(pl.Send, g)
		pl.Emails += len(kept)
	}
	for _, l := range p.LeftOut {
		if !l.Consents {
			pl.Withdrawn = append(pl.Withdrawn, l.Participant)
		}
	}
	return pl
}

// Preview is what approving the event's proposal would send now.
func (f *Followup) Preview(ctx context.Context, eventID int64) (Plan, error) {
	p, err := FindProposal(ctx, f.DB.Read(), eventID)
	if err != nil {
		return Plan{}, err
	}
	return plan(p), nil
}

// Approve sends the event's introductions: consent is read again, anyone
// who withdrew is dropped, and each member of each group of two or more
// gets one email, in their language, naming the others and what they agreed
// to share. The emails are queued in the transaction that marks the round
// sent, so either both happen or neither.
func (f *Followup) Approve(ctx context.Context, u *organisers.User, eventID int64) (Plan, error) {
	var pl Plan
	err := f.changeFollowup(ctx, u, eventID, needEnded|needDraft, func(c *followupChange) (auditEntry, error) {
		tx, now, ev, p := c.tx, c.now, c.ev, c.p
		pl = plan(p)
		if len(pl.Send) == 0 {
			return auditEntry{}, refuse("followup.refused.nothing_to_send")
		}
		// Drop those who withdrew, and the lone: the proposal keeps what was sent.
		for _, w := range pl.Withdrawn {
			for _, q := range []string{
				`DELETE FROM intro_members WHERE round_id = ? AND kind = 'intro' AND registration_id = ?`,
				`DELETE FROM intro_left_out WHERE round_id = ? AND registration_id = ?`,
			} {
				if _, err := tx.ExecContext(ctx, q, p.ID, w.RegistrationID); err != nil {
					return auditEntry{}, fmt.Errorf("introductions: drop %d: %w", w.RegistrationID, err)
				}
			}
		}
		for _, m := range pl.Alone {
			if _, err := tx.ExecContext(ctx, `DELETE FROM intro_members WHERE id = ?`, m.ID); err != nil {
				return auditEntry{}, fmt.Errorf("introductions: drop %d: %w", m.RegistrationID, err)
			}
			if err := setLeftOut(ctx, tx, p.ID, m.RegistrationID, CauseAlone, "", ""); err != nil {
				return auditEntry{}, err
			}
		}
		for _, g := range p.Groups {
			kept := slices.IndexFunc(pl.Send, func(s StoredGroup) bool { return s.ID == g.ID })
			if kept < 0 || len(pl.Send[kept].Members) != len(g.Members) {
				if err := refreshGroup(ctx, tx, g.ID, g.Edited); err != nil {
					return auditEntry{}, err
				}
			}
		}
		for _, g := range pl.Send {
			if err := f.sendIntroduction(ctx, tx, now, ev, g); err != nil {
				return auditEntry{}, err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE intro_rounds SET status = 'sent', sent_at = ?, updated_at = ? WHERE id = ? AND status = 'draft'`,
			now, now, p.ID)
		if err != nil {
			return auditEntry{}, fmt.Errorf("introductions: mark sent: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return auditEntry{}, refuse("followup.refused.sent")
		}
		return auditEntry{"introductions_send", "event", eventID,
			fmt.Sprintf("%d groups, %d emails, %d withdrawn, %d alone", len(pl.Send), pl.Emails, len(pl.Withdrawn), len(pl.Alone))}, nil
	})
	if err != nil {
		return Plan{}, err
	}
	return pl, nil
}

// sendIntroduction queues one email to each member of g about the others.
func (f *Followup) sendIntroduction(ctx context.Context, tx *sql.Tx, now time.Time, ev events.Event, g StoredGroup) error {
	shared := make([]match.Person, len(g.Members))
	for i, m := range g.Members {
		shared[i] = m.SharedPerson()
	}
	reason := match.Describe(shared)
	for _, m := range g.Members {
		stop, err := createToken(ctx, tx, now, m.RegistrationID, 0, purposeStop, f.StopLinkLifetime)
		if err != nil {
			return err
		}
		data := IntroductionEmail{Name: m.Name, Event: ev, Reason: inLang(m.Lang, reason.ReasonNB, reason.ReasonEN),
			StopURL: f.link("/introductions/stop/", stop, m.Lang)}
		for _, o := range g.Members {
			if o.ID != m.ID {
				data.Others = append(data.Others, contactOf(o.Participant))
			}
		}
		if err := f.queue(ctx, tx, now, mailIntroduction, m.Participant, ev, data, fmt.Sprintf("introduction:%d", m.ID)); err != nil {
			return err
		}
	}
	return nil
}

// StartNetwork turns a network seed into a network: a series and its first
// meeting, a draft four weeks after the event at the same time and place,
// invitation-only with a new code and room for the seed and five more. The
// members are invited (InviteNetwork) once the organiser has published the
// meeting: a draft has no page to sign up on. It returns the meeting's id.
func (f *Followup) StartNetwork(ctx context.Context, u *organisers.User, eventID, groupID int64) (int64, error) {
	var meetingID int64
	err := f.changeFollowup(ctx, u, eventID, needEnded|needProposal, func(c *followupChange) (auditEntry, error) {
		tx, now, ev, p := c.tx, c.now, c.ev, c.p
		var err error
		g := p.group(groupID)
		if g == nil || g.Kind != KindSeed {
			return auditEntry{}, refuse("followup.refused.no_seed")
		}
		if !g.StartedAt.IsZero() {
			return auditEntry{}, refuse("followup.refused.started")
		}
		members := consenting(g.Members)
		if len(members) < 2 {
			return auditEntry{}, refuse("followup.refused.seed_too_small")
		}
		lang := web.SupportedLang(ev.Language)
		shared := make([]match.Person, len(members))
		for i, m := range members {
			shared[i] = m.SharedPerson()
		}
		reason := match.Describe(shared)
		title := f.Cat.T(lang, "followup.network.series_title", "Title", shorten(ev.Title, 120))
		se := events.Series{Title: title, OrganiserID: ev.Organiser.ID,
			Description: inLang(lang, reason.ReasonNB, reason.ReasonEN) + "\n\n" + f.Cat.T(lang, "followup.network.description")}
		if se.Slug, err = freeSlug(ctx, tx, "series", events.Slugify(title)); err != nil {
			return auditEntry{}, err
		}
		if err := events.CreateSeries(ctx, tx, &se); err != nil {
			return auditEntry{}, err
		}
		meeting := events.Event{
			Title:          f.Cat.T(lang, "followup.network.meeting_title", "Title", title),
			Summary:        f.Cat.T(lang, "followup.network.meeting_summary"),
			Description:    se.Description,
			Format:         "network_meeting",
			Mode:           ev.Mode,
			StartsAt:       firstMeetingTime(ev.StartsAt),
			EndsAt:         firstMeetingTime(ev.EndsAt),
			Region:         ev.Region,
			Venue:          ev.Venue,
			OnlineURL:      ev.OnlineURL,
			Capacity:       len(members) + 5,
			Sector:         ev.Sector,
			InvitationOnly: true,
			InviteCode:     newInviteCode(),
			Facilitation:   ev.Facilitation,
			Theme:          ev.Theme,
			Language:       ev.Language,
			Status:         "draft",
			Organiser:      ev.Organiser,
			Series:         &se,
		}
		if meeting.Slug, err = freeSlug(ctx, tx, "events", events.Slugify(meeting.Title)); err != nil {
			return auditEntry{}, err
		}
		if err := events.CreateEvent(ctx, tx, now, &meeting); err != nil {
			return auditEntry{}, err
		}
		meetingID = meeting.ID
		if _, err := tx.ExecContext(ctx, `UPDATE intro_groups SET series_id = ?, network_event_id = ?, started_at = ? WHERE id = ?`,
			se.ID, meeting.ID, now, g.ID); err != nil {
			return auditEntry{}, fmt.Errorf("introductions: start network: %w", err)
		}
		return auditEntry{"network_start", "series", se.ID,
			fmt.Sprintf("from network seed %d of event %d; first meeting %d", g.Position, eventID, meeting.ID)}, nil
	})
	return meetingID, err
}

// InviteNetwork invites the members of a started network seed who still
// agree to sign up for its first meeting, once it is published: the date,
// the place, the invitation code, and a word that the agenda is theirs to
// set. It returns the number of emails queued.
func (f *Followup) InviteNetwork(ctx context.Context, u *organisers.User, eventID, groupID int64) (int, error) {
	sent := 0
	err := f.changeFollowup(ctx, u, eventID, needProposal, func(c *followupChange) (auditEntry, error) {
		tx, now, ev, p := c.tx, c.now, c.ev, c.p
		sent = 0
		g := p.group(groupID)
		if g == nil || g.Kind != KindSeed || g.StartedAt.IsZero() {
			return auditEntry{}, refuse("followup.refused.no_seed")
		}
		if !g.InvitedAt.IsZero() {
			return auditEntry{}, refuse("followup.refused.invited")
		}
		if g.NetworkEventID == 0 {
			return auditEntry{}, refuse("followup.refused.meeting_gone")
		}
		meeting, err := events.LockEvent(ctx, tx, g.NetworkEventID)
		if errors.Is(err, events.ErrNotFound) {
			return auditEntry{}, refuse("followup.refused.meeting_gone")
		}
		if err != nil {
			return auditEntry{}, err
		}
		if meeting.Status != "published" {
			return auditEntry{}, refuse("followup.refused.publish_first")
		}
		members := consenting(g.Members)
		shared := make([]match.Person, len(members))
		for i, m := range members {
			shared[i] = m.SharedPerson()
		}
		reason := match.Describe(shared)
		for _, m := range members {
			stop, err := createToken(ctx, tx, now, m.RegistrationID, 0, purposeStop, f.StopLinkLifetime)
			if err != nil {
				return auditEntry{}, err
			}
			data := NetworkEmail{Name: m.Name, Event: ev, Meeting: meeting, InviteCode: meeting.InviteCode,
				MeetingURL: f.link("/events/", meeting.Slug, m.Lang), Members: len(members),
				Reason: inLang(m.Lang, reason.ReasonNB, reason.ReasonEN), StopURL: f.link("/introductions/stop/", stop, m.Lang)}
			if err := f.queue(ctx, tx, now, mailNetwork, m.Participant, ev, data, fmt.Sprintf("introduction-network:%d", m.ID)); err != nil {
				return auditEntry{}, err
			}
			sent++
		}
		if _, err := tx.ExecContext(ctx, `UPDATE intro_groups SET invited_at = ? WHERE id = ?`, now, g.ID); err != nil {
			return auditEntry{}, fmt.Errorf("introductions: invited: %w", err)
		}
		return auditEntry{"network_invite", "event", meeting.ID,
			fmt.Sprintf("%d invitations from network seed %d of event %d", sent, g.Position, eventID)}, nil
	})
	if err != nil {
		return 0, err
	}
	return sent, nil
}

func consenting(ms []Member) []Member {
	var out []Member
	for _, m := range ms {
		if m.Consents {
			out = append(out, m)
		}
	}
	return out
}

// QueueMeetReminders asks everyone introduced at least MeetAfter ago
// "did you meet?", once per membership (a dedupe key in the outbox, and the
// round's reminded_at), with one-click links for "yes" and "not yet".
// People who have since withdrawn their consent are not asked.
func (f *Followup) QueueMeetReminders(ctx context.Context) (int, error) {
	// Most hours nothing is due: look first, so the job does not write.
	var due int
	now := f.DB.Now().UTC()
	if err := f.DB.Read().QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM intro_rounds WHERE status = 'sent' AND reminded_at IS NULL AND sent_at <= ?) +
		(SELECT COUNT(*) FROM intro_tokens WHERE expires_at < ?)`, now.Add(-f.MeetAfter), now).Scan(&due); err != nil {
		return 0, fmt.Errorf("introductions: reminders due: %w", err)
	}
	if due == 0 {
		return 0, nil
	}
	queued := 0
	err := f.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		queued = 0
		rows, err := tx.QueryContext(ctx, `SELECT id, event_id FROM intro_rounds
			WHERE status = 'sent' AND reminded_at IS NULL AND sent_at <= ? ORDER BY sent_at, id`, now.Add(-f.MeetAfter))
		if err != nil {
			return fmt.Errorf("introductions: rounds due: %w", err)
		}
		var due [][2]int64
		for rows.Next() {
			var r [2]int64
			if err := rows.Scan(&r[0], &r[1]); err != nil {
				rows.Close()
				return fmt.Errorf("introductions: rounds due: %w", err)
			}
			due = append(due, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("introductions: rounds due: %w", err)
		}
		for _, r := range due {
			n, err := f.remindRound(ctx, tx, now, r[1])
			if err != nil {
				return err
			}
			queued += n
			if _, err := tx.ExecContext(ctx, `UPDATE intro_rounds SET reminded_at = ? WHERE id = ?`, now, r[0]); err != nil {
				return fmt.Errorf("introductions: reminded: %w", err)
			}
		}
		_, err = DeleteExpiredTokens(ctx, tx, now)
		return err
	})
	if err != nil {
		return 0, err
	}
	return queued, nil
}

func (f *Followup) remindRound(ctx context.Context, tx *sql.Tx, now time.Time, eventID int64) (int, error) {
	ev, err := events.LockEvent(ctx, tx, eventID)
	if err != nil {
		return 0, err
	}
	p, err := FindProposal(ctx, tx, eventID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, g := range p.Groups {
		for _, m := range g.Members {
			if !m.Consents || m.Answer != "" {
				continue
			}
			key := fmt.Sprintf("intro-met:%d", m.ID)
			if done, err := queuedAlready(ctx, tx, key); err != nil || done {
				if err != nil {
					return n, err
				}
				continue
			}
			answer, err := createToken(ctx, tx, now, m.RegistrationID, m.ID, purposeMet, f.AnswerLinkLifetime)
			if err != nil {
				return n, err
			}
			stop, err := createToken(ctx, tx, now, m.RegistrationID, 0, purposeStop, f.StopLinkLifetime)
			if err != nil {
				return n, err
			}
			page := f.link("/introductions/met/", answer, m.Lang)
			data := MeetEmail{Name: m.Name, Event: ev, YesURL: page + "&answer=yes", NoURL: page + "&answer=no",
				StopURL: f.link("/introductions/stop/", stop, m.Lang)}
			for _, o := range g.Members {
				if o.ID != m.ID {
					data.Others = append(data.Others, o.Name)
				}
			}
			if err := f.queue(ctx, tx, now, mailMeet, m.Participant, ev, data, key); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// Answer records a member's answer to "did you meet?" from the link in the
// reminder. Answering again changes the answer.
func (f *Followup) Answer(ctx context.Context, raw string, yes bool) error {
	return f.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		t, err := findToken(ctx, tx, now, raw, purposeMet)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE intro_members SET met = ?, answered_at = ? WHERE id = ?`, db.Bool(yes), now, t.MemberID); err != nil {
			return fmt.Errorf("introductions: answer: %w", err)
		}
		return nil
	})
}

// MeetQuestion is what the answer page shows.
type MeetQuestion struct {
	Event  events.Event
	Others []string
	Answer string // "", yes, no
}

// Question reads what a "did you meet?" link is about.
func (f *Followup) Question(ctx context.Context, raw string) (MeetQuestion, error) {
	var q MeetQuestion
	t, err := findToken(ctx, f.DB.Read(), f.DB.Now().UTC(), raw, purposeMet)
	if err != nil {
		return q, err
	}
	var groupID, eventID int64
	err = f.DB.Read().QueryRowContext(ctx, `SELECT m.group_id, ro.event_id,
		CASE WHEN m.met IS NULL THEN '' WHEN m.met = 1 THEN 'yes' ELSE 'no' END
		FROM intro_members m JOIN intro_rounds ro ON ro.id = m.round_id WHERE m.id = ?`, t.MemberID).Scan(&groupID, &eventID, &q.Answer)
	if errors.Is(err, sql.ErrNoRows) {
		return q, ErrNotFound
	}
	if err != nil {
		return q, fmt.Errorf("introductions: question: %w", err)
	}
	store := &events.Store{DB: f.DB}
	if q.Event, err = store.FindEvent(ctx, events.EventFilter{ID: eventID, Statuses: events.Statuses}); err != nil {
		return q, err
	}
	rows, err := f.DB.Read().QueryContext(ctx, `SELECT r.name FROM intro_members m JOIN registrations r ON r.id = m.registration_id
		WHERE m.group_id = ? AND m.id <> ? ORDER BY r.id`, groupID, t.MemberID)
	if err != nil {
		return q, fmt.Errorf("introductions: question: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return q, fmt.Errorf("introductions: question: %w", err)
		}
		q.Others = append(q.Others, name)
	}
	return q, rows.Err()
}

// CheckStop reports whether a "stop future introductions" link is valid.
func (f *Followup) CheckStop(ctx context.Context, raw string) error {
	_, err := findToken(ctx, f.DB.Read(), f.DB.Now().UTC(), raw, purposeStop)
	return err
}

// Stop withdraws the consent to introductions of every registration of the
// link's address, recording the wording the person saw (in lang). They are
// in no later proposal, and approval drops them from a draft one.
func (f *Followup) Stop(ctx context.Context, raw, lang, wording string) error {
	return f.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		t, err := findToken(ctx, tx, now, raw, purposeStop)
		if err != nil {
			return err
		}
		var emailNorm string
		if err := tx.QueryRowContext(ctx, `SELECT email_norm FROM registrations WHERE id = ?`, t.RegistrationID).Scan(&emailNorm); err != nil {
			return fmt.Errorf("introductions: stop: %w", err)
		}
		_, err = registration.WithdrawIntroductions(ctx, tx, now, emailNorm, web.SupportedLang(lang), StopWordingVersion, wording)
		return err
	})
}

// ---- small helpers ----

func inLang(lang, nb, en string) string {
	if web.SupportedLang(lang) == "en" {
		return en
	}
	return nb
}

// link is an absolute URL of path+token with the reader's language.
func (f *Followup) link(path, token, lang string) string {
	return f.BaseURL + path + token + "?lang=" + web.SupportedLang(lang)
}

// shorten cuts s to at most n characters, at a word where it can.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n])
	if i := strings.LastIndex(cut, " "); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimSpace(cut) + "…"
}
