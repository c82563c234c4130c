package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// DefaultFrom is the sender address of a Config without From.
const DefaultFrom = "CaseXchange <no-reply@casexchange.local>"

// Config says how e-mail leaves the server.
type Config struct {
	// SMTPAddr is the submission server as host:port. Empty writes every message as an .eml
	// file into MailDir instead, so a development setup needs no mail server.
	SMTPAddr string
	Username string // SMTP AUTH PLAIN; empty sends no AUTH
	Password string
	// StartTLS upgrades the connection with STARTTLS before AUTH and the message, and
	// fails when the server does not offer it.
	StartTLS bool
	From     string // RFC 5322 address, e.g. `CaseXchange <no-reply@example.com>`
	MailDir  string // where .eml files go when SMTPAddr is empty
}

func (c Config) validate() error {
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("mail: sender %q is not an e-mail address: %w", c.From, err)
	}
	if c.SMTPAddr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(c.SMTPAddr)
	if err != nil {
		return fmt.Errorf("mail: SMTP address: want host:port, got %q", c.SMTPAddr)
	}
	// Credentials never cross the network in clear text; a relay on this machine is fine.
	if c.Username != "" && !c.StartTLS && !IsLoopback(host) {
		return errors.New("mail: an SMTP user name without STARTTLS would send the password unencrypted")
	}
	return nil
}

// IsLoopback reports whether host names this machine (localhost or a loopback address).
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Message is one e-mail to one recipient. Text is plain text; lines end in \n.
type Message struct {
	To        string
	Subject   string
	Text      string
	MessageID string // without angle brackets; the same id on every retry lets receivers drop duplicates
}

// Sender hands a rendered RFC 5322 message to its transport. Errors of type *smtp.SMTPError
// with a 5xx code are permanent (retrying cannot help); anything else may be retried.
type Sender interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
}

// Mailer renders messages and sends them with the configured Sender.
type Mailer struct {
	from   *mail.Address
	sender atomic.Pointer[senderBox]
}

type senderBox struct{ s Sender }

// NewMailer builds a Mailer: SMTP when cfg.SMTPAddr is set, else .eml files in cfg.MailDir.
func NewMailer(cfg Config) (*Mailer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	from, _ := mail.ParseAddress(cfg.From)
	m := &Mailer{from: from}
	if cfg.SMTPAddr != "" {
		m.Use(&SMTPSender{Addr: cfg.SMTPAddr, Username: cfg.Username, Password: cfg.Password, StartTLS: cfg.StartTLS})
	} else {
		m.Use(&DirSender{Dir: cfg.MailDir})
	}
	return m, nil
}

// Use replaces the transport, e.g. to point a running test server at an in-process SMTP
// server. Messages already being sent finish on the old one.
func (m *Mailer) Use(s Sender) { m.sender.Store(&senderBox{s: s}) }

// Send renders msg and sends it.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	raw, err := m.render(msg, time.Now())
	if err != nil {
		return err
	}
	return m.sender.Load().s.Send(ctx, m.from.Address, []string{msg.To}, raw)
}

// render builds the RFC 5322 message: UTF-8 text in quoted-printable, encoded-word headers,
// CRLF line ends.
func (m *Mailer) render(msg Message, now time.Time) ([]byte, error) {
	to, err := mail.ParseAddress(msg.To)
	if err != nil {
		return nil, fmt.Errorf("recipient %q: %w", msg.To, err)
	}
	id := msg.MessageID
	if id == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	if !strings.Contains(id, "@") {
		id += "@" + domainOf(m.from.Address)
	}
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", m.from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(msg.Subject)))
	header("Date", now.UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+id+">")
	header("MIME-Version", "1.0")
	header("Content-Type", `text/plain; charset="utf-8"`)
	header("Content-Transfer-Encoding", "quoted-printable")
	// Marks the message as machine-sent so that receivers do not auto-reply to it.
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	text := strings.ReplaceAll(strings.ReplaceAll(msg.Text, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "casexchange.local"
}

// oneLine drops control characters (CR and LF included) so that values cannot start new
// header lines.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// SMTPSender submits messages to an SMTP server, one connection per message.
type SMTPSender struct {
	Addr      string
	Username  string
	Password  string
	StartTLS  bool
	TLSConfig *tls.Config   // nil: verify the server's certificate for the host of Addr
	Timeout   time.Duration // whole exchange; 0 means 30 s
}

// Send delivers msg to the recipients. Errors: *smtp.SMTPError when the server refused.
func (s *SMTPSender) Send(ctx context.Context, from string, to []string, msg []byte) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp dial %s: %w", s.Addr, err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// Closing the connection when ctx ends unblocks any read or write in progress.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	var c *smtp.Client
	if s.StartTLS {
		tc := s.TLSConfig
		if tc == nil {
			host, _, _ := net.SplitHostPort(s.Addr)
			tc = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if c, err = smtp.NewClientStartTLS(conn, tc); err != nil {
			_ = conn.Close()
			return fmt.Errorf("smtp starttls %s: %w", s.Addr, err)
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close() //nolint:errcheck // a message not acknowledged by Quit has failed already
	if s.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", s.Username, s.Password)); err != nil {
			// Not wrapped: a refused login is a configuration problem, which an operator can
			// fix while River keeps retrying, not a reason to drop the message.
			return fmt.Errorf("smtp auth: %v", err)
		}
	}
	if err := c.SendMail(from, to, bytes.NewReader(msg)); err != nil {
		return fmt.Errorf("smtp send: %w", err)
	}
	// The server accepted the message: a failing QUIT must not cause a second delivery.
	_ = c.Quit()
	return nil
}

// DirSender writes each message to Dir as an .eml file, for development without a mail
// server. Files are written under a temporary name and renamed, so a reader never sees half
// a message.
type DirSender struct {
	Dir string
}

// Send writes msg to a new file named after the time and the first recipient.
func (s *DirSender) Send(_ context.Context, _ string, to []string, msg []byte) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("mail dir: %w", err)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	rcpt := "unknown"
	if len(to) > 0 {
		rcpt = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '@' || r == '_' {
				return r
			}
			return '_'
		}, strings.ToLower(to[0]))
	}
	name := fmt.Sprintf("%s-%s-%s.eml", time.Now().UTC().Format("20060102T150405.000000000"), rcpt, hex.EncodeToString(rnd[:]))
	tmp, err := os.CreateTemp(s.Dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("mail dir: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(msg); err != nil {
		_ = tmp.Close() // the write error is the one to report
		return fmt.Errorf("write message: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.Dir, name)); err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	return nil
}

// permanent reports whether err is an SMTP refusal that a retry cannot fix (a 5xx reply).
func permanent(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se) && se.Code >= 500 && se.Code < 600
}
