package introductions

// Generating an event's proposal: the people who may take part, matched
// with a new random seed, and the pairs introduced before kept apart.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/moteplass/moteplass/internal/secret"
	"github.com/moteplass/moteplass/internal/web"
	"github.com/moteplass/moteplass/introductions/match"
	"github.com/moteplass/moteplass/organisers"
)

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
			return auditEntry{}, web.Refuse("followup.refused.sent")
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
				return auditEntry{}, web.Refuse("followup.refused.network_started")
			}
		}
		people, _, err := Eligible(ctx, tx, eventID)
		if err != nil {
			return auditEntry{}, err
		}
		if len(people) < 2 {
			return auditEntry{}, web.Refuse("followup.refused.too_few")
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
		// The reasons stored are those the members will be sent: from what
		// they agreed to share, not everything the matching saw.
		byID := map[string]Participant{}
		for _, p := range people {
			byID[p.ID()] = p
		}
		shared := func(g match.Group) match.Group {
			ms := make([]Member, len(g.Members))
			for i, id := range g.Members {
				ms[i] = Member{Participant: byID[id]}
			}
			r := sharedReason(ms)
			g.ReasonNB, g.ReasonEN = r.ReasonNB, r.ReasonEN
			return g
		}
		for i, g := range res.Introductions {
			if _, err := createGroup(ctx, tx, round.ID, KindIntro, i+1, shared(g)); err != nil {
				return auditEntry{}, err
			}
		}
		for i, g := range res.NetworkSeeds {
			if _, err := createGroup(ctx, tx, round.ID, KindSeed, i+1, shared(g)); err != nil {
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
