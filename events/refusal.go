package events

// refusal is a change the event's state does not allow; the user sees the
// event's page again with Key (a catalogue message) as a notice.
type refusal struct {
	Key  string
	Args []any
}

func (r *refusal) Error() string { return "events: refused: " + r.Key }

func refuse(key string, args ...any) error { return &refusal{Key: key, Args: args} }
