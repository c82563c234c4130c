// Package notifytest runs a real SMTP server (github.com/emersion/go-smtp) inside the test
// process and records what it receives, so tests assert on delivered mail rather than on a
// mock of our sender.
package notifytest

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/casexchange/server/internal/notify"
)

// Mail is one received message.
type Mail struct {
	From    string   // envelope sender
	To      []string // envelope recipients
	Raw     []byte
	Header  mail.Header
	Subject string // decoded
	Text    string // decoded body, \n line ends
}

// Server is a running SMTP server.
type Server struct {
	Addr string

	mu       sync.Mutex
	mails    []Mail
	attempts int // DATA commands seen
	rejects  []*smtp.SMTPError
	user     string
	pass     string
	changed  chan struct{}
	srv      *smtp.Server // nil while stopped
}

// Options configure a Server.
type Options struct {
	// Username and Password, when set, make the server require AUTH PLAIN with them.
	Username, Password string
}

// Start runs a server on a free loopback port until the test ends.
func Start(t testing.TB, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("notifytest: listen: %v", err)
	}
	s := &Server{Addr: ln.Addr().String(), user: o.Username, pass: o.Password, changed: make(chan struct{})}
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) serve(ln net.Listener) {
	srv := smtp.NewServer(s)
	srv.Domain = "mail.test"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 1 << 20
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// Stop closes the listener and every open connection, as a mail server going down would:
// senders get "connection refused" until Restart. Messages received so far are kept.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Restart serves again on the same address after Stop (a no-op while running).
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	running := s.srv != nil
	s.mu.Unlock()
	if running {
		return
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		t.Fatalf("notifytest: listen again on %s: %v", s.Addr, err)
	}
	s.serve(ln)
}

// Sender returns an SMTP sender that submits to this server.
func (s *Server) Sender() *notify.SMTPSender {
	return &notify.SMTPSender{Addr: s.Addr, Username: s.user, Password: s.pass, Timeout: 10 * time.Second}
}

// RejectNext makes the next len(codes) messages fail at DATA with these reply codes (e.g. 451
// for a temporary failure, 550 for a permanent one).
func (s *Server) RejectNext(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range codes {
		s.rejects = append(s.rejects, &smtp.SMTPError{Code: c, EnhancedCode: smtp.EnhancedCode{c / 100, 0, 0}, Message: "rejected by the test"})
	}
}

// Attempts returns how many messages were submitted, rejected ones included.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Mails returns the messages accepted so far.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Wait returns once n messages were accepted (failing the test after timeout).
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Mail {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		got, ch := len(s.mails), s.changed
		s.mu.Unlock()
		if got >= n {
			return s.Mails()
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("notifytest: want %d messages, got %d after %v", n, got, timeout)
		}
	}
}

// To returns the accepted messages whose envelope names addr.
func (s *Server) To(addr string) []Mail {
	var out []Mail
	for _, m := range s.Mails() {
		for _, r := range m.To {
			if strings.EqualFold(r, addr) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{srv: s}, nil }

type session struct {
	srv    *Server
	authed bool
	from   string
	to     []string
}

var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

func (ss *session) AuthMechanisms() []string {
	if ss.srv.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.srv.user || pass != ss.srv.pass {
			return errors.New("invalid credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.srv.user != "" && !ss.authed {
		return errAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := ss.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if len(s.rejects) > 0 {
		e := s.rejects[0]
		s.rejects = s.rejects[1:]
		s.notify()
		return e
	}
	m := Mail{From: ss.from, To: append([]string(nil), ss.to...), Raw: raw}
	if msg, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		m.Header = msg.Header
		var dec mime.WordDecoder
		if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
			m.Subject = subj
		}
		body := io.Reader(msg.Body)
		if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(msg.Body)
		}
		if b, err := io.ReadAll(body); err == nil {
			m.Text = strings.ReplaceAll(string(b), "\r\n", "\n")
		}
	}
	s.mails = append(s.mails, m)
	s.notify()
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }
