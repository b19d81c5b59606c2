// Package introductions introduces attendees who opted in to one another after
// an event, and proposes network seeds an organiser can turn into a network
// series. The matching is package match (pure: no I/O, no database); this
// package is the follow-up around it: the stored proposal, the organiser's
// pages and changes, and the emails.
package introductions
