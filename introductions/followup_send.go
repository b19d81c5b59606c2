package introductions

// Approval: what it would send (Preview), and sending the introductions,
// one email per member of each group, queued in the transaction that marks
// the round sent.

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/introductions/match"
	"github.com/moteplass/moteplass/organisers"
)

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
			return auditEntry{}, web.Refuse("followup.refused.nothing_to_send")
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
			return auditEntry{}, web.Refuse("followup.refused.sent")
		}
		return auditEntry{"introductions_send", "event", eventID,
			fmt.Sprintf("%d groups, %d emails, %d withdrawn, %d alone", len(pl.Send), pl.Emails, len(pl.Withdrawn), len(pl.Alone))}, nil
	})
	if err != nil {
		return Plan{}, err
	}
	return pl, nil
}

// sharedReason is the reason sent to members, in both languages: built
// only from what they agreed to share with each other (SharedPerson: name,
// organisation, role, topics; never level, sector or region). The
// organiser's page shows the same text, from the same function.
func sharedReason(members []Member) match.Group {
	shared := make([]match.Person, len(members))
	for i, m := range members {
		shared[i] = m.SharedPerson()
	}
	return match.Describe(shared)
}

// introductionEmail is the email to member m of group g (the members who
// get emails), with stopURL as its "stop future introductions" link.
func introductionEmail(ev events.Event, g StoredGroup, reason match.Group, m Member, stopURL string) IntroductionEmail {
	data := IntroductionEmail{Name: m.Name, Event: ev, Reason: inLang(m.Lang, reason.ReasonNB, reason.ReasonEN), StopURL: stopURL}
	for _, o := range g.Members {
		if o.ID != m.ID {
			data.Others = append(data.Others, contactOf(o.Participant))
		}
	}
	return data
}

// EmailPreview is one introduction email as approval would send it now:
// the same data and templates, in the reader's language, with a
// placeholder for the personal "stop" link, which is made when it is sent.
type EmailPreview struct {
	Group   int    // the group's position
	To      string // the reader's name
	Lang    string // the reader's language
	Subject string
	Text    string
}

// previewEmail renders the email the first member of the first group that
// approval sends would get; nil when nothing would be sent.
func (f *Followup) previewEmail(ev events.Event, pl Plan) (*EmailPreview, error) {
	if len(pl.Send) == 0 {
		return nil, nil
	}
	g := pl.Send[0]
	m := g.Members[0]
	lang := web.SupportedLang(m.Lang)
	data := introductionEmail(ev, g, sharedReason(g.Members), m, f.Cat.T(lang, "followup.preview.stop_link"))
	msg, err := f.Emails.Render(mailIntroduction, lang, f.BaseURL, data)
	if err != nil {
		return nil, err
	}
	return &EmailPreview{Group: g.Position, To: m.Name, Lang: lang, Subject: msg.Subject, Text: msg.Text}, nil
}

// sendIntroduction queues one email to each member of g about the others,
// and stores the reason sent as the group's.
func (f *Followup) sendIntroduction(ctx context.Context, tx *sql.Tx, now time.Time, ev events.Event, g StoredGroup) error {
	reason := sharedReason(g.Members)
	if _, err := tx.ExecContext(ctx, `UPDATE intro_groups SET reason_nb = ?, reason_en = ? WHERE id = ?`,
		reason.ReasonNB, reason.ReasonEN, g.ID); err != nil {
		return fmt.Errorf("introductions: reason of group %d: %w", g.ID, err)
	}
	for _, m := range g.Members {
		stop, err := createToken(ctx, tx, now, m.RegistrationID, 0, purposeStop, f.StopLinkLifetime)
		if err != nil {
			return err
		}
		data := introductionEmail(ev, g, reason, m, f.link("/introductions/stop/", stop, m.Lang))
		if err := f.queue(ctx, tx, now, mailIntroduction, m.Participant, ev, data, fmt.Sprintf("introduction:%d", m.ID)); err != nil {
			return err
		}
	}
	return nil
}
