package mailer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// connection is one SMTP session with the relay.
type connection struct {
	client *mail.Client
	smtp   *smtp.Client
}

// quitWait is how long a hang-up waits for the relay's answer to QUIT.
const quitWait = 2 * time.Second

func (c *connection) hangUp() {
	if c == nil {
		return
	}
	_ = c.smtp.UpdateDeadline(quitWait)
	if err := c.client.CloseWithSMTPClient(c.smtp); err != nil {
		_ = c.smtp.Close()
	}
}

// dial connects, says EHLO, starts TLS and authenticates with go-mail.
// The messages are then sent with the returned smtp.Client command by
// command, so that each failure comes with the server's own code and text
// (go-mail's Send would add the recipient's address to its error, which
// must not end up in logs or in last_error).
//
// go-mail reads the greeting and does STARTTLS and AUTH under its own
// deadline, not ctx; on cancel the dial is left to end by itself (its
// connection is then closed), so a shutdown does not wait for a relay that
// went silent there.
func (w *Worker) dial(ctx context.Context) (*connection, error) {
	type dialed struct {
		conn *connection
		err  error
	}
	done := make(chan dialed, 1)
	go func() {
		conn, err := w.connect(ctx)
		done <- dialed{conn, err}
	}()
	select {
	case d := <-done:
		return d.conn, d.err
	case <-ctx.Done():
		go func() { (<-done).conn.hangUp() }()
		return nil, ctx.Err()
	}
}

func (w *Worker) connect(ctx context.Context) (*connection, error) {
	opts := []mail.Option{mail.WithPort(w.cfg.port()), mail.WithTimeout(w.Timeout)}
	switch w.cfg.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if w.cfg.User != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(w.cfg.User), mail.WithPassword(w.cfg.Password))
	}
	client, err := mail.NewClient(w.cfg.Host, opts...)
	if err != nil {
		return nil, err
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return nil, err
	}
	w.noteRelay(conn)
	return &connection{client: client, smtp: conn}, nil
}

// outcome is what one attempt at one message came to.
type outcome struct {
	sent      bool
	permanent bool
	// interrupted: cut off by a shutdown; queued again at once.
	interrupted bool
	// broken: the connection cannot be used for the next message.
	broken bool
	code   int // SMTP reply code, 0 for network errors
	reason string
	// wait is the backoff of a temporary failure (see settle).
	wait time.Duration
}

func (w *Worker) sendOne(ctx context.Context, conn *connection, s Stored) outcome {
	m, err := compose(s, w.cfg, relayOffersUTF8(conn.smtp))
	if err != nil {
		return outcome{permanent: true, reason: "cannot build the message: " + err.Error()}
	}
	from, _ := sendableAddress(w.cfg.From) // compose checked both
	to, _ := sendableAddress(s.To)
	// One deadline for the whole exchange of this message.
	if err := conn.smtp.UpdateDeadline(w.Timeout); err != nil {
		return outcome{broken: true, reason: oneLine(err.Error())}
	}
	defer cutOff(ctx, conn.smtp.Text)()
	// A 5xx to MAIL FROM is about us (sender refused, authentication
	// needed), not about this message: it is retried like a 4xx, so a
	// configuration mistake does not throw mail away.
	if err := conn.smtp.Mail("<" + from + ">"); err != nil {
		return smtpFailure(conn.smtp, "MAIL FROM", err, false)
	}
	if err := conn.smtp.Rcpt("<" + to + ">"); err != nil {
		return smtpFailure(conn.smtp, "RCPT TO", err, true)
	}
	wc, err := conn.smtp.Data()
	if err != nil {
		return smtpFailure(conn.smtp, "DATA", err, true)
	}
	if _, err := m.WriteTo(wc); err != nil {
		return outcome{broken: true, reason: "writing the message: " + oneLine(err.Error())}
	}
	// A timeout here leaves us not knowing whether the relay took the
	// message: it is tried again later, with the same Message-ID.
	if err := wc.Close(); err != nil {
		return smtpFailure(conn.smtp, "end of DATA", err, true)
	}
	return outcome{sent: true}
}

// cutOffGrace is how long an exchange in flight may go on after a
// shutdown began. A relay that answers does so well within it, and a
// message cut off may arrive twice.
const cutOffGrace = time.Second

// cutOff closes the connection under an exchange once ctx is done and
// cutOffGrace has passed, unless the returned stop comes first: that ends
// a read waiting for a relay that does not answer. (The smtp.Client keeps
// its lock while it reads, so its own Close would wait too.)
func cutOff(ctx context.Context, conn io.Closer) (stop func()) {
	finished := make(chan struct{})
	go func() {
		select {
		case <-finished:
			return
		case <-ctx.Done():
		}
		select {
		case <-finished:
		case <-time.After(cutOffGrace):
			_ = conn.Close()
		}
	}()
	return func() { close(finished) }
}

// smtpFailure turns a failed SMTP command into an outcome. Only the
// server's reply goes into the reason. After a reply the transaction is
// reset so the next message can start; a network error ends the connection.
func smtpFailure(conn *smtp.Client, stage string, err error, permanentOn5xx bool) outcome {
	var reply *textproto.Error
	if !errors.As(err, &reply) {
		return outcome{broken: true, reason: stage + ": " + oneLine(err.Error())}
	}
	o := outcome{
		code:      reply.Code,
		permanent: permanentOn5xx && reply.Code >= 500,
		reason:    truncate(fmt.Sprintf("%s: %d %s", stage, reply.Code, oneLine(reply.Msg)), 500),
	}
	// 421: the server is closing the connection.
	if reply.Code == 421 || conn.Reset() != nil {
		o.broken = true
	}
	return o
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
