// Package smtptest is a real SMTP server on 127.0.0.1 for the tests of code
// that sends mail: it keeps every message it accepts, raw, with its
// envelope, and refuses chosen recipients the way mail servers do (a 550
// that repeats the address), or goes silent after DATA like a relay that
// hangs (HangAfterData). StartUTF8 starts one that offers SMTPUTF8
// (RFC 6531); the others refuse non-ASCII addresses as servers without it
// do. Only tests import it.
package smtptest

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-smtp"
)

// Server is a running server; Port is where it listens on 127.0.0.1.
type Server struct {
	Port int

	utf8   bool // offers SMTPUTF8
	reject map[string]bool
	mu     sync.Mutex
	msgs   []Message
	taken  int // how many Take has returned
	// hang, when set, holds every message after its DATA until it is
	// closed; hung is closed when the first message is held.
	hang     chan struct{}
	hung     chan struct{}
	hungOnce sync.Once
}

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	Data []byte
	// UTF8: MAIL FROM carried the SMTPUTF8 parameter.
	UTF8 bool
}

// Start starts a server that refuses the recipients in reject (any case)
// and stops it when the test ends.
func Start(t testing.TB, reject ...string) *Server {
	t.Helper()
	return start(t, false, reject)
}

// StartUTF8 is Start for a server that offers SMTPUTF8, so it takes
// addresses with non-ASCII before the @ (bjørn@example.no).
func StartUTF8(t testing.TB, reject ...string) *Server {
	t.Helper()
	return start(t, true, reject)
}

func start(t testing.TB, offerUTF8 bool, reject []string) *Server {
	t.Helper()
	s := &Server{utf8: offerUTF8, reject: map[string]bool{}}
	for _, r := range reject {
		s.reject[strings.ToLower(r)] = true
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 10 << 20
	srv.EnableSMTPUTF8 = offerUTF8
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.Port = l.Addr().(*net.TCPAddr).Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// HangAfterData makes the server read every later message to its end and
// then never answer it, like a relay that takes the whole message and goes
// silent. The channel is closed when the first message hangs. The held
// sessions are let go, without keeping their messages, when the test ends.
func (s *Server) HangAfterData(t testing.TB) <-chan struct{} {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang, s.hung = make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(s.hang) }) // before Start's cleanup closes the server
	return s.hung
}

// Messages is every message accepted so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Take is the messages accepted since the last Take.
func (s *Server) Take() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	fresh := append([]Message(nil), s.msgs[s.taken:]...)
	s.taken = len(s.msgs)
	return fresh
}

type session struct {
	s    *Server
	from string
	to   []string
	utf8 bool
}

// errNeedsUTF8 is how a server answers a non-ASCII address outside an
// SMTPUTF8 transaction (RFC 6531 section 3.5).
var errNeedsUTF8 = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7}, Message: "non-ASCII addresses need SMTPUTF8"}

func (x *session) Mail(from string, opts *smtp.MailOptions) error {
	x.utf8 = opts != nil && opts.UTF8
	if !x.utf8 && !ascii(from) {
		return errNeedsUTF8
	}
	x.from = from
	return nil
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !x.utf8 && !ascii(to) {
		return errNeedsUTF8
	}
	if x.s.reject[strings.ToLower(to)] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + to + ">: no such user"}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	hang := x.s.hang
	if hang != nil {
		x.s.hungOnce.Do(func() { close(x.s.hung) })
		x.s.mu.Unlock()
		<-hang
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "gave up"}
	}
	defer x.s.mu.Unlock()
	x.s.msgs = append(x.s.msgs, Message{From: x.from, To: append([]string(nil), x.to...), Data: data, UTF8: x.utf8})
	return nil
}

func (x *session) Reset()        { x.from, x.to, x.utf8 = "", nil, false }
func (x *session) Logout() error { return nil }
