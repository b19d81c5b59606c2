package events

// The SEQUENCE rule, in one place.
//
// SEQUENCE (RFC 5545 §3.8.7.4) is the revision of a calendar entry. Every
// calendar this application writes about an event (the feeds, the .ics
// download, each registrant's invitations) has the event's one UID, and a
// calendar keeps the copy with the highest SEQUENCE: a message with a lower
// one than the copy it holds is out of date and ignored (RFC 5546 §2.1.5).
// So each message must carry a higher SEQUENCE than the one it replaces:
//
//   - The event's own sequence (stored, and what the feeds carry) starts at
//     0 and goes up by one with every change that attendees' calendars must
//     follow: its time, its place (venue, mode or online address), its
//     cancellation (NextSequence). Other changes (title, text, capacity)
//     leave it: they do not change when or where anyone must be, and only
//     those three are mailed to registrants (registration's EventChanged).
//   - A message to one attendee (InvitationSequence) starts from the
//     event's. A CANCEL is one above, so that it outranks the REQUEST sent
//     for the same state of the event. Every earlier registration of the
//     same address for the event that was cancelled adds two: that person
//     got a CANCEL one above the event's, and without the raise signing up
//     again would bring a REQUEST marked out of date. One would only equal
//     that CANCEL; with two the new REQUEST is newer, and every message to
//     the address outranks the one before (REQUEST n, CANCEL n+1, REQUEST
//     n+2, CANCEL n+3, ...).

// NextSequence is the event's sequence after ch: one above the one before
// when ch moves the event in time or place or cancels it, the same
// otherwise.
func NextSequence(ch Change) int {
	if ch.TimeOrPlaceChanged() || ch.Cancelled() {
		return ch.Before.Sequence + 1
	}
	return ch.Before.Sequence
}

// InvitationSequence is the SEQUENCE of an invitation (method MethodRequest
// or MethodCancel) to one attendee of an event whose sequence is event;
// earlierCancels counts the attendee's address's earlier registrations
// for the event that were cancelled.
func InvitationSequence(event int, method string, earlierCancels int) int {
	seq := event + 2*earlierCancels
	if method == MethodCancel {
		seq++
	}
	return seq
}
