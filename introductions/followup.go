package introductions

// The follow-up after an event (DOMAIN.md points 3-5 and 7): the organiser
// generates a proposal with match.Match, edits it, approves it (one email per
// member of each group, through the outbox, in the transaction that marks
// the round sent), turns network seeds into network series, and 14 days
// later everyone is asked "did you meet?". Each change is one transaction
// that first locks the event and checks that the user may manage it
// (changeFollowup, in this file). An action is a file: followup_generate.go,
// followup_edit.go, followup_send.go, followup_network.go, followup_meet.go
// and followup_stop.go.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/introductions/match"
	"github.com/moteplass/moteplass/organisers"
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

// ready refuses a follow-up before the event has ended or of a cancelled one.
func ready(ev events.Event, now time.Time) error {
	switch {
	case ev.Cancelled():
		return web.Refuse("followup.refused.cancelled")
	case !ev.Past(now):
		return web.Refuse("followup.refused.not_ended")
	}
	return nil
}

// proposal reads the event's proposal for a change: it must exist.
func proposal(ctx context.Context, tx *sql.Tx, eventID int64) (Proposal, error) {
	p, err := FindProposal(ctx, tx, eventID)
	if errors.Is(err, ErrNotFound) {
		return p, web.Refuse("followup.refused.no_proposal")
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
		return p, web.Refuse("followup.refused.sent")
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
		ev, err := events.ForUser(ctx, tx, u, eventID, organisers.Manage)
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

// refreshGroup describes a group anew from its members after a change, or
// deletes it when nobody is left: the score from everything the matching
// sees, the reason from what the members agreed to share (sharedReason).
// edited marks the change as the organiser's.
func refreshGroup(ctx context.Context, tx *sql.Tx, groupID int64, edited bool) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+participantColumns+` FROM intro_members m
		JOIN registrations r ON r.id = m.registration_id WHERE m.group_id = ? ORDER BY r.id`, groupID)
	if err != nil {
		return fmt.Errorf("introductions: members of group %d: %w", groupID, err)
	}
	var people []match.Person
	var members []Member
	for rows.Next() {
		p, dest := scanParticipant(nil)
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return fmt.Errorf("introductions: members of group %d: %w", groupID, err)
		}
		people = append(people, p.Person())
		members = append(members, Member{Participant: *p})
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
	g := match.Describe(people)
	shared := sharedReason(members)
	g.ReasonNB, g.ReasonEN = shared.ReasonNB, shared.ReasonEN
	return updateGroup(ctx, tx, groupID, g, edited)
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
