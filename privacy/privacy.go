// Package privacy is a person's data rights across the domains: a download
// of everything stored about their address (Export), its erasure (Erase),
// and the retention that removes data by itself when it is no longer
// needed (Retention). Each domain finds and forgets what is in its own
// tables (registration.Forget, introductions.Forget, mailer.ForgetTo...);
// this package decides what an erasure or a retention run takes, holds it
// together in one transaction, and writes no table itself.
package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/moteplass/moteplass/internal/db"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/introductions"
	"github.com/moteplass/moteplass/mailer"
	"github.com/moteplass/moteplass/organisers"
	"github.com/moteplass/moteplass/registration"
)

// Rights carries out the data rights.
type Rights struct {
	DB            *db.DB
	Registrations *registration.Service
	// Emails renders the erasure confirmation; BaseURL is where its links
	// point.
	Emails  *web.Emails
	BaseURL string
	// ReplyTo is where a reply to the erasure confirmation goes (the
	// controller's address); empty for none.
	ReplyTo string
}

// ---- export ----

// Export is everything stored about one email address, as the person
// downloads it: their registrations with consents, the introductions they
// were part of (with only what the others agreed to share), and the emails
// sent to them. Nothing else about anyone else.
type Export struct {
	Format        string                             `json:"format"`
	GeneratedAt   time.Time                          `json:"generated_at"`
	Email         string                             `json:"email"`
	Registrations []registration.ExportRegistration  `json:"registrations"`
	Introductions []introductions.ExportIntroduction `json:"introductions"`
	Emails        []ExportEmail                      `json:"emails"`
	// CalendarFeedSince is when the person's own calendar feed was made
	// (its address is on the manage page); absent when there is none.
	CalendarFeedSince *time.Time `json:"calendar_feed_since,omitempty"`
}

// ExportFormat names the layout of Export.
const ExportFormat = "moteplass-export-v1"

// ExportEmail is one email to the address.
type ExportEmail struct {
	Kind      string     `json:"kind"`
	Subject   string     `json:"subject"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
}

// Export collects everything stored about the address emailNorm.
func (p *Rights) Export(ctx context.Context, emailNorm string) (Export, error) {
	ex := Export{Format: ExportFormat, GeneratedAt: p.DB.Now().UTC().Truncate(time.Second), Email: emailNorm,
		Registrations: []registration.ExportRegistration{}, Introductions: []introductions.ExportIntroduction{}, Emails: []ExportEmail{}}
	if emailNorm == "" {
		return ex, nil
	}
	q := p.DB.Read()
	var err error
	if ex.Registrations, err = registration.ExportRegistrations(ctx, q, emailNorm); err != nil {
		return ex, err
	}
	if ex.Introductions, err = introductions.Export(ctx, q, emailNorm); err != nil {
		return ex, err
	}
	if ex.CalendarFeedSince, err = registration.FeedSince(ctx, q, emailNorm); err != nil {
		return ex, err
	}
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

// ---- erasure ----

// TablesWithPersonalData are the tables an erasure or a retention run
// deletes or overwrites personal data in: the rewrite after it
// (db.EraseTraces) takes these.
var TablesWithPersonalData = []string{"registrations", "consents", "manage_tokens", "personal_feeds",
	"intro_members", "intro_left_out", "intro_tokens", "outbox"}

// KindDataErased is the outbox kind (and template) of the email confirming
// an erasure. It holds the address and nothing else about the person, and
// the mailer deletes it in the commit that records it sent.
const KindDataErased = "data_erased"

// EraseOptions say on whose behalf an erasure is made.
type EraseOptions struct {
	// OrganiserID, when not 0, is the organisation of an organiser erasing
	// on a person's request: only the address's registrations for that
	// organisation's events are erased, and mail about those events. The
	// person's registrations with other organisations are theirs to
	// handle. An address with no registration there is
	// registration.ErrNotFound (the same answer as an unknown address).
	OrganiserID int64
	// Audit records the erasure in the transaction, once for every
	// organisation whose events had registrations erased (n of them), so
	// each organisation's log shows what happened to its attendees. The
	// record must not hold the address.
	Audit func(ctx context.Context, tx *sql.Tx, now time.Time, organiserID int64, n int) error
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
//   - every registration taken is anonymised (registration.Forget) and
//     leaves introduction rounds not yet sent (introductions.Forget); in
//     sent rounds the group stays, pointing to the anonymised registration;
//   - the personal calendar feed goes once no registration holds the
//     address any more;
//   - every email to the address is deleted, sent or not (they hold the
//     name and manage links), and so is every email to anyone that holds
//     the address and every email to people they were introduced to that
//     names them;
//   - last, a confirmation to the address is queued. It has no name, only
//     the address it goes to, and it is deleted once sent.
//
// An unknown address is registration.ErrNotFound and changes nothing.
func (p *Rights) Erase(ctx context.Context, email string, opt EraseOptions) (Erasure, error) {
	var out Erasure
	norm := mailer.NormalizeAddress(email)
	if norm == "" {
		return out, registration.ErrNotFound
	}
	// Searching every email body for the address is the slow part: it is
	// done first, on the read pool, so the single writer is not held for
	// it; the transaction then looks only at mail queued since.
	known, err := registration.FindErasable(ctx, p.DB.Read(), norm, opt.OrganiserID)
	if err != nil {
		return out, err
	}
	pre, err := mailer.Search(ctx, p.DB.Read(), addressesOf(norm, known.Registrations), 0)
	if err != nil {
		return out, err
	}
	err = p.DB.Tx(ctx, func(tx *sql.Tx, now time.Time) error {
		out = Erasure{}
		found, err := registration.FindErasable(ctx, tx, norm, opt.OrganiserID)
		if err != nil {
			return err
		}
		regs := found.Registrations
		ids := make([]int64, len(regs))
		perOrganiser := map[int64]int{}
		for i, r := range regs {
			ids[i] = r.ID
			perOrganiser[found.Organiser[r.EventID]]++
		}
		if out.GivenUp, out.Promoted, err = p.Registrations.GiveUpPlaces(ctx, tx, now, regs); err != nil {
			return err
		}
		// an organisation's erasure takes the mail that links to its
		// events; anyone else's, all of it
		var about []string
		if opt.OrganiserID != 0 {
			about = found.EventPaths()
		}
		if out.Emails, err = forgetMail(ctx, tx, norm, regs, about, pre); err != nil {
			return err
		}
		if err := introductions.Forget(ctx, tx, ids); err != nil {
			return err
		}
		if err := registration.Forget(ctx, tx, now, ids); err != nil {
			return err
		}
		if err := registration.DeleteOrphanFeeds(ctx, tx, []string{norm}); err != nil {
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
		return p.queueReceipt(ctx, tx, now, newest(regs), len(ids))
	})
	if err != nil {
		return Erasure{}, err
	}
	// The rows are zeroed in the database file (secure_delete); their old
	// versions are still in the write-ahead log until it is checkpointed.
	// Done even if the request has gone: the erasure is committed. If
	// readers keep the log busy now, the mailer empties it again when the
	// confirmation has gone (DeleteWhenSent), so the person is not told the
	// erasure failed.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := p.DB.EraseTraces(cctx, TablesWithPersonalData...); err != nil && !errors.Is(err, db.ErrBusy) {
		return out, err
	}
	return out, nil
}

// addressesOf are the ways the address is written: its key and as typed at
// each registration, folded for the outbox search.
func addressesOf(norm string, regs []registration.Registration) []string {
	out := []string{mailer.Fold(norm)}
	for _, r := range regs {
		out = appendDistinct(out, mailer.Fold(r.Email))
	}
	return out
}

// forgetMail deletes the mail that holds the person's data (see Erase):
// about limits it to mail that names one of the strings (an
// organisation's event pages), nil takes all. pre is what the search
// before the transaction found; what was queued since, and addresses it
// did not search for (typed differently in a sign-up made meanwhile), are
// searched here.
func forgetMail(ctx context.Context, tx *sql.Tx, norm string, regs []registration.Registration, about []string, pre mailer.Found) (int64, error) {
	total, err := mailer.ForgetTo(ctx, tx, norm, about)
	if err != nil {
		return 0, err
	}
	addresses := addressesOf(norm, regs)
	since, err := mailer.Search(ctx, tx, addresses, pre.UpTo)
	if err != nil {
		return 0, err
	}
	found := append(slices.Clone(pre.IDs), since.IDs...)
	var unsearched []string
	for _, a := range addresses {
		if !slices.Contains(pre.Searched, a) {
			unsearched = append(unsearched, a)
		}
	}
	if len(unsearched) > 0 {
		all, err := mailer.Search(ctx, tx, unsearched, 0)
		if err != nil {
			return 0, err
		}
		found = append(found, all.IDs...)
	}
	n, err := mailer.Forget(ctx, tx, found, about)
	if err != nil {
		return 0, err
	}
	total += n
	// The people they were grouped with: their mail names the person.
	ids := make([]int64, len(regs))
	var names []string
	for i, r := range regs {
		ids[i] = r.ID
		names = appendDistinct(names, r.Name)
		names = appendDistinct(names, template.HTMLEscapeString(r.Name))
	}
	peers, err := introductions.Peers(ctx, tx, ids)
	if err != nil {
		return 0, err
	}
	for _, peer := range peers {
		n, err := mailer.ForgetTo(ctx, tx, peer, names)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// newest is the registration made last: it gives the address as typed and
// the language of the confirmation.
func newest(regs []registration.Registration) registration.Registration {
	n := regs[0]
	for _, r := range regs[1:] {
		if r.CreatedAt.After(n.CreatedAt) || (r.CreatedAt.Equal(n.CreatedAt) && r.ID > n.ID) {
			n = r
		}
	}
	return n
}

// ErasedMessage is the data of the email confirming an erasure.
type ErasedMessage struct {
	Registrations int
	PrivacyURL    string
}

// queueReceipt queues the confirmation of an erasure of n registrations to
// the address r was made with. It is the last place the erased address is
// stored, and the mailer deletes it once it is out.
func (p *Rights) queueReceipt(ctx context.Context, tx *sql.Tx, now time.Time, r registration.Registration, n int) error {
	if p.Emails == nil {
		return nil
	}
	msg, err := p.Emails.Render(KindDataErased, web.SupportedLang(r.Lang), p.BaseURL,
		ErasedMessage{Registrations: n, PrivacyURL: p.BaseURL + "/privacy"})
	if err != nil {
		return err
	}
	replyTo := p.ReplyTo
	if replyTo != "" && mailer.ValidateAddress(replyTo) != nil {
		replyTo = ""
	}
	_, err = mailer.Enqueue(ctx, tx, now, mailer.Message{
		Kind: KindDataErased, To: r.Email, ReplyTo: replyTo,
		Subject: msg.Subject, TextBody: msg.Text, HTMLBody: msg.HTML,
		DeleteWhenSent: true,
	})
	return err
}

// auditErasure is the Audit of an erasure made by u (nil: the person).
func auditErasure(u *organisers.User, detail string) func(ctx context.Context, tx *sql.Tx, now time.Time, org int64, n int) error {
	return func(ctx context.Context, tx *sql.Tx, now time.Time, org int64, n int) error {
		return organisers.Audit(ctx, tx, now, u, org, "erasure", "registration", 0, fmt.Sprintf(detail, n))
	}
}

func appendDistinct(list []string, v string) []string {
	v = strings.TrimSpace(v)
	if v == "" || slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

func sortedKeys(m map[int64]int) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
