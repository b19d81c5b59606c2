package introductions

// The organiser's edits of a draft proposal: moving a person to another
// group (or a new one) under the hard rules, and taking someone out.

import (
	"context"
	"fmt"

	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/introductions/match"
	"github.com/moteplass/moteplass/organisers"
)

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
			return auditEntry{}, web.Refuse("followup.refused.not_in_proposal")
		}
		var to *StoredGroup
		if target != NewGroup {
			to = p.group(target)
			if to == nil || to.Kind != KindIntro {
				return auditEntry{}, web.Refuse("followup.refused.no_group")
			}
			if from != nil && from.ID == to.ID {
				return auditEntry{}, nil
			}
			for _, m := range to.Members {
				if rule := match.Conflict(who.Person(), m.Person()); rule != "" {
					return auditEntry{}, web.Refuse("followup.refused.rule_"+rule, "Name", who.Name, "Other", m.Name, "Group", to.Position)
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
			return auditEntry{}, web.Refuse("followup.refused.not_in_group")
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
