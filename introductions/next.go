package introductions

import (
	"context"
	"errors"

	"github.com/moteplass/moteplass/events"
	"github.com/moteplass/moteplass/internal/web"
)

// minEligible is the fewest people who agreed to be introduced that make
// a proposal (two people are one introduction).
const minEligible = 2

// NextSteps says, for each event of evs that has ended and was not
// cancelled, where its follow-up stands, as the organiser's home and the
// event's page show it: nobody has looked yet ("14 of 31 agreed to be
// introduced: propose introductions"), a proposal waits to be sent, or the
// introductions went out. It reads two rows per event; the home lists at
// most fifty past events.
func (f *Followup) NextSteps(ctx context.Context, evs []events.Event) (map[int64]events.NextStep, error) {
	now := f.DB.Now()
	out := make(map[int64]events.NextStep)
	for _, ev := range evs {
		if ev.Cancelled() || !ev.Past(now) || ev.Status == events.StatusDraft {
			continue
		}
		step, err := f.nextStep(ctx, ev)
		if err != nil {
			return nil, err
		}
		out[ev.ID] = step
	}
	return out, nil
}

func (f *Followup) nextStep(ctx context.Context, ev events.Event) (events.NextStep, error) {
	step := events.NextStep{Href: followupPath(ev.ID)}
	round, err := FindRound(ctx, f.DB.Read(), ev.ID)
	switch {
	case err == nil && round.Sent():
		step.Text, step.Date = web.Msg("followup.next.sent"), round.SentAt
		return step, nil
	case err == nil:
		step.Text, step.Open = web.Msg("followup.next.draft"), true
		return step, nil
	case !errors.Is(err, ErrNotFound):
		return step, err
	}
	people, _, err := Eligible(ctx, f.DB.Read(), ev.ID)
	if err != nil {
		return step, err
	}
	if len(people) < minEligible {
		step.Text = web.Msg("followup.next.too_few", "Count", len(people), "Total", ev.ConfirmedCount)
		return step, nil
	}
	step.Text, step.Open = web.Msg("followup.next.propose", "Count", len(people), "Total", ev.ConfirmedCount), true
	return step, nil
}
