// Package leader holds the closed lists a leader describes themselves
// with, as stored: their level of leadership and the sector they work in.
// The sign-up form checks against them, events choose their target levels
// from them, the dashboards count in their order and the matching
// (introductions/match) reads them; one list each, so none of those can
// drift from the others. It imports nothing of the program's, so the
// matching, which is pure, can use it too.
package leader

import "slices"

// Leader levels, as stored in registrations.level (and, but for
// LevelOther, in event_levels.level).
const (
	LevelTop       = "top"
	LevelMiddle    = "middle"
	LevelFirstLine = "first_line"
	LevelOther     = "other" // not a leader, or none of the levels above
)

// Levels are the levels a person chooses from, top first.
var Levels = []string{LevelTop, LevelMiddle, LevelFirstLine, LevelOther}

// EventLevels are the levels an event can be meant for: every level of
// leadership, so every level but LevelOther.
var EventLevels = slices.DeleteFunc(slices.Clone(Levels), func(l string) bool { return l == LevelOther })

// Sectors, as stored in registrations.sector.
const (
	SectorState     = "state"
	SectorMunicipal = "municipal"
	SectorPrivate   = "private"
	SectorOther     = "other"
)

// Sectors are the sectors a person chooses from.
var Sectors = []string{SectorState, SectorMunicipal, SectorPrivate, SectorOther}
