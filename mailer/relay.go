package mailer

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

// RelayUTF8 is what the worker knows of the relay's support for SMTPUTF8
// (RFC 6531), the extension that carries addresses with non-ASCII before
// the @ (bjørn@example.no). The relay says so in its answer to EHLO.
type RelayUTF8 int32

const (
	// UTF8Unknown: the worker has not been answered by the relay yet.
	UTF8Unknown RelayUTF8 = iota
	// UTF8Yes: the relay's last EHLO offered SMTPUTF8.
	UTF8Yes
	// UTF8No: the relay's last EHLO did not.
	UTF8No
)

func (r RelayUTF8) String() string {
	switch r {
	case UTF8Yes:
		return "yes"
	case UTF8No:
		return "no"
	}
	return "unknown"
}

// errNeedsSMTPUTF8 fails a message to a UTF-8 local part for good when the
// relay does not offer SMTPUTF8: it would refuse the address or, worse, pass
// it on mangled. Like every last_error it holds no address.
var errNeedsSMTPUTF8 = errors.New("the mail server does not offer SMTPUTF8 (RFC 6531), which the recipient's address needs")

// relayState is the worker's record of the relay's last EHLO.
type relayState struct {
	utf8 atomic.Int32
}

// UTF8 is what the relay said at the worker's last connection: whether
// mail to a UTF-8 local part can be sent now.
func (w *Worker) UTF8() RelayUTF8 { return RelayUTF8(w.relay.utf8.Load()) }

// AcceptsUTF8 reports whether forms should take addresses with non-ASCII
// before the @: the relay offered SMTPUTF8 when last asked, or there is no
// relay (the development outbox only shows mail). While the answer is
// unknown (the relay has not been reached since start) it is no: a person
// is told at once to use another address rather than waiting for mail that
// may never come. Forms get it as a func() bool (internal/app).
func (w *Worker) AcceptsUTF8() bool {
	return w.cfg.Host == "" || w.UTF8() == UTF8Yes
}

// noteRelay records whether the relay of a fresh connection offers SMTPUTF8.
func (w *Worker) noteRelay(conn *smtp.Client) {
	state := UTF8No
	if relayOffersUTF8(conn) {
		state = UTF8Yes
	}
	if old := RelayUTF8(w.relay.utf8.Swap(int32(state))); old != state {
		w.logger.Info("mailer: mail server answered", "smtputf8", state.String())
	}
}

func relayOffersUTF8(conn *smtp.Client) bool {
	ok, _ := conn.Extension("SMTPUTF8")
	return ok
}

// Probe connects to the relay, records what its EHLO offers and hangs up.
// Without a Host there is nothing to ask.
func (w *Worker) Probe(ctx context.Context) (RelayUTF8, error) {
	if w.cfg.Host == "" {
		return UTF8Unknown, nil
	}
	conn, err := w.dial(ctx) // dial records the answer
	if err != nil {
		return w.UTF8(), err
	}
	conn.hangUp()
	return w.UTF8(), nil
}

// probeUntilKnown asks the relay at start, in the background, so the forms
// know before the first mail is sent; while it cannot be reached it asks
// again, less and less often, until a connection (a probe or a batch)
// has an answer.
func (w *Worker) probeUntilKnown(ctx context.Context) {
	if w.cfg.Host == "" {
		return
	}
	wait := 5 * time.Second
	for w.UTF8() == UTF8Unknown {
		if _, err := w.Probe(ctx); err == nil {
			return
		} else if ctx.Err() == nil {
			w.logger.Warn("mailer: could not ask the mail server what it offers", "error", oneLine(err.Error()), "retry_in", wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Minute)
	}
}
