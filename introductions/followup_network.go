package introductions

// Network seeds turned into networks: a series and its first meeting
// (StartNetwork), and the invitations once the meeting is published
// (InviteNetwork).

import (
	"context"
	"errors"
	"fmt"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/organisers"
)

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
			return auditEntry{}, web.Refuse("followup.refused.no_seed")
		}
		if !g.StartedAt.IsZero() {
			return auditEntry{}, web.Refuse("followup.refused.started")
		}
		members := consenting(g.Members)
		if len(members) < 2 {
			return auditEntry{}, web.Refuse("followup.refused.seed_too_small")
		}
		lang := web.SupportedLang(ev.Language)
		reason := sharedReason(members)
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
			Status:         events.StatusDraft,
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
			return auditEntry{}, web.Refuse("followup.refused.no_seed")
		}
		if !g.InvitedAt.IsZero() {
			return auditEntry{}, web.Refuse("followup.refused.invited")
		}
		if g.NetworkEventID == 0 {
			return auditEntry{}, web.Refuse("followup.refused.meeting_gone")
		}
		meeting, err := events.LockEvent(ctx, tx, g.NetworkEventID)
		if errors.Is(err, events.ErrNotFound) {
			return auditEntry{}, web.Refuse("followup.refused.meeting_gone")
		}
		if err != nil {
			return auditEntry{}, err
		}
		if meeting.Status != events.StatusPublished {
			return auditEntry{}, web.Refuse("followup.refused.publish_first")
		}
		members := consenting(g.Members)
		reason := sharedReason(members)
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
