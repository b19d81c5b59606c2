package events

import "time"

// ExportEvent is an event as a person's data download names it, beside
// their registration or introduction there.
type ExportEvent struct {
	ID        int64     `json:"id"`
	Slug      string    `json:"slug"`
	Title     string    `json:"title"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	Organiser string    `json:"organiser"`
}
