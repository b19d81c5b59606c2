package mailer

import (
	"bytes"
	"errors"
	"io"
	"net"
	netmail "net/mail"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// testServer is a real SMTP server on 127.0.0.1 that keeps every message it
// accepts. It can refuse MAIL FROM for a number of attempts, reject chosen
// recipients, and hold a message in DATA until the test lets it go.
type testServer struct {
	Port int

	mu       sync.Mutex
	received []received
	// refuseMail answers the next refuseMail MAIL commands with refuseCode.
	refuseMail int
	refuseCode int
	// rejectRcpt answers RCPT TO with 550 for these addresses.
	rejectRcpt map[string]bool
	// blockNth, when > 0, makes the blockNth message wait in DATA (after
	// its content has been read) until unblock is closed; inData is closed
	// when it gets there.
	blockNth int
	inData   chan struct{}
	unblock  chan struct{}
	dataSeen int
	// afterData runs after a message has been accepted (outside the lock).
	afterData func()
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

// BlockNth holds the nth message in DATA; it returns a channel closed when
// the message has arrived there and a function that lets it finish.
func (ts *testServer) BlockNth(n int) (arrived <-chan struct{}, release func()) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.blockNth = n
	ts.inData = make(chan struct{})
	ts.unblock = make(chan struct{})
	var once sync.Once
	return ts.inData, func() { once.Do(func() { close(ts.unblock) }) }
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
	s.ts.dataSeen++
	var wait chan struct{}
	if s.ts.blockNth > 0 && s.ts.dataSeen == s.ts.blockNth {
		close(s.ts.inData)
		wait = s.ts.unblock
	}
	s.ts.mu.Unlock()
	if wait != nil {
		<-wait
	}
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
