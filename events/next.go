package events

import (
	"context"
	"time"

	"github.com/moteplass/moteplass/internal/web"
)

// NextStep is what an organiser should do next with an event that has
// ended, said by the domain that does it (the introductions: "14 of 31
// agreed to be introduced: propose introductions"). The organiser's home
// and the event's own page show it with a link, so the follow-up is found
// without knowing its address.
type NextStep struct {
	Text web.Message
	Date time.Time // when the step was taken, shown after Text; zero: none
	Href string
	// Open is true while something is waiting for the organiser (a
	// proposal to make or to send), false when the step is done or cannot
	// be taken.
	Open bool
}

// NextSteps finds the next step of each of evs that has one (set by
// internal/app to the introductions' own: events cannot import the
// domains built on it).
type NextSteps func(ctx context.Context, evs []Event) (map[int64]NextStep, error)

// nextSteps is h.NextSteps for evs, or none when unset.
func (h *Handler) nextSteps(ctx context.Context, evs []Event) (map[int64]NextStep, error) {
	if h.NextSteps == nil || len(evs) == 0 {
		return nil, nil
	}
	return h.NextSteps(ctx, evs)
}
