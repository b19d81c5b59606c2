package mailer

import (
	"bytes"
	"errors"
	"io"
	"net"
	netmail "net/mail"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// testServer is a real SMTP server on 127.0.0.1 that keeps every message it
// accepts. It can refuse MAIL FROM for a number of attempts, reject chosen
// recipients, and go silent after the DATA of a chosen recipient's message
// until the test lets it answer.
type testServer struct {
	Port int

	mu       sync.Mutex
	received []received
	// refuseMail answers the next refuseMail MAIL commands with refuseCode.
	refuseMail int
	refuseCode int
	// rejectRcpt answers RCPT TO with 550 for these addresses.
	rejectRcpt map[string]bool
	// hangFor: a message to this recipient is read to its end and then
	// not answered until answer is closed (it is then kept, as a relay
	// that took it would); hung is closed when the first one gets there.
	hangFor  string
	hung     chan struct{}
	hungOnce sync.Once
	answer   chan struct{}
	// afterData runs after a message has been accepted (outside the lock).
	afterData func()
	// slowData is how long the server takes to answer the end of DATA.
	slowData time.Duration
}

type received struct {
	From string
	To   []string
	Data []byte
}

func startTestServer(t testing.TB) *testServer {
	t.Helper()
	ts := &testServer{rejectRcpt: map[string]bool{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &testSession{ts: ts}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 10 << 20
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ts.Port = l.Addr().(*net.TCPAddr).Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return ts
}

func (ts *testServer) Messages() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.received...)
}

// count is how many messages the server has kept.
func (ts *testServer) count() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.received)
}

func (ts *testServer) RefuseMail(n, code int) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.refuseMail, ts.refuseCode = n, code
}

func (ts *testServer) RejectRcpt(addr string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.rejectRcpt[addr] = true
}

// HangFor makes the server go silent after the DATA of every message to
// addr, like a relay that takes the whole message and never answers. It
// returns a channel closed when the first such message has been read, and
// a function that lets the server answer (250) at last; the test's end
// calls it too.
func (ts *testServer) HangFor(t testing.TB, addr string) (hung <-chan struct{}, answer func()) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.hangFor = addr
	ts.hung = make(chan struct{})
	ts.answer = make(chan struct{})
	var once sync.Once
	answer = func() { once.Do(func() { close(ts.answer) }) }
	t.Cleanup(answer)
	return ts.hung, answer
}

// SlowData makes the server take d to answer the end of every DATA.
func (ts *testServer) SlowData(d time.Duration) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.slowData = d
}

type testSession struct {
	ts   *testServer
	from string
	to   []string
}

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	s.ts.mu.Lock()
	defer s.ts.mu.Unlock()
	if s.ts.refuseMail > 0 {
		s.ts.refuseMail--
		return &smtp.SMTPError{Code: s.ts.refuseCode, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	}
	s.from = from
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.ts.mu.Lock()
	defer s.ts.mu.Unlock()
	if s.ts.rejectRcpt[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(s.to) == 0 {
		return errors.New("no recipients")
	}
	s.ts.mu.Lock()
	var wait chan struct{}
	if s.ts.hangFor != "" && slices.Contains(s.to, s.ts.hangFor) {
		s.ts.hungOnce.Do(func() { close(s.ts.hung) })
		wait = s.ts.answer
	}
	slow := s.ts.slowData
	s.ts.mu.Unlock()
	if wait != nil {
		<-wait
	}
	time.Sleep(slow)
	s.ts.mu.Lock()
	s.ts.received = append(s.ts.received, received{From: s.from, To: append([]string(nil), s.to...), Data: data})
	after := s.ts.afterData
	s.ts.mu.Unlock()
	if after != nil {
		after()
	}
	return nil
}

func (s *testSession) Reset() {
	s.from, s.to = "", nil
}

func (s *testSession) Logout() error { return nil }

// messageIDs counts the arrived messages by their Message-ID header.
func (ts *testServer) messageIDs(t testing.TB) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for _, m := range ts.Messages() {
		ids[parseMessage(t, m.Data).Header.Get("Message-Id")]++
	}
	return ids
}

func parseMessage(t testing.TB, raw []byte) *netmail.Message {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, raw)
	}
	return msg
}
