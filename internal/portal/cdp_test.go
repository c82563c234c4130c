package portal_test

// A small Chrome DevTools Protocol client for the portal's browser test: it starts Debian's
// headless chromium, speaks the protocol over a hand-written WebSocket (RFC 6455, client side:
// masked text frames out, unmasked frames in), and records console errors, exceptions and every
// network request of the page.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type browser struct {
	cmd  *exec.Cmd
	conn net.Conn
	rd   *bufio.Reader
	wmu  sync.Mutex

	mu       sync.Mutex
	nextID   int
	waiting  map[int]chan cdpMessage
	events   chan cdpMessage
	requests []string
	problems []string
}

type cdpMessage struct {
	ID     int             `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

var devtoolsLine = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

func startBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	// The profile is removed by hand once the whole process group is gone: Chromium's helper
	// processes outlive a kill of the main one and keep writing into it for a moment.
	profile, err := os.MkdirTemp("", "portal-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--metrics-recording-only", "--hide-scrollbars",
		"--remote-debugging-port=0", "--user-data-dir="+profile, "--window-size=1400,1000", "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		var err error
		for range 50 {
			if err = os.RemoveAll(profile); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond) // helpers of the killed group still exiting
		}
		t.Logf("chromium profile %s not removed: %v", profile, err)
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := devtoolsLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	var wsURL string
	select {
	case wsURL = <-found:
	case <-time.After(30 * time.Second):
		t.Fatal("chromium did not print its DevTools address")
	}
	u, _ := url.Parse(wsURL)
	// The page target of about:blank.
	var targets []struct {
		Type, WebSocketDebuggerURL string
	}
	resp, err := http.Get("http://" + u.Host + "/json/list")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&targets)
	resp.Body.Close()
	page := ""
	for _, tg := range targets {
		if tg.Type == "page" {
			page = tg.WebSocketDebuggerURL
		}
	}
	if page == "" {
		t.Fatal("no page target")
	}
	b := &browser{cmd: cmd, waiting: map[int]chan cdpMessage{}, events: make(chan cdpMessage, 4096)}
	if err := b.dial(page); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.conn.Close() })
	go b.readLoop()
	for _, m := range []string{"Page.enable", "Runtime.enable", "Network.enable", "Log.enable"} {
		b.call(t, m, nil)
	}
	return b
}

func (b *browser) dial(wsURL string) error {
	u, err := url.Parse(wsURL)
	if err != nil {
		return err
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		return err
	}
	var k [16]byte
	_, _ = rand.Read(k[:])
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		u.RequestURI(), u.Host, base64.StdEncoding.EncodeToString(k[:]))
	rd := bufio.NewReaderSize(conn, 1<<20)
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("websocket handshake: %s", resp.Status)
	}
	b.conn, b.rd = conn, rd
	return nil
}

func (b *browser) send(payload []byte) error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	hdr := []byte{0x81} // FIN, text
	n := len(payload)
	switch {
	case n < 126:
		hdr = append(hdr, byte(0x80|n))
	case n < 1<<16:
		hdr = append(hdr, 0x80|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	out := make([]byte, n)
	for i := range payload {
		out[i] = payload[i] ^ mask[i%4]
	}
	_, err := b.conn.Write(append(hdr, out...))
	return err
}

// readMessage returns the next complete text message (continuation frames joined).
func (b *browser) readMessage() ([]byte, error) {
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(b.rd, h[:]); err != nil {
			return nil, err
		}
		fin, op := h[0]&0x80 != 0, h[0]&0x0f
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var l [2]byte
			if _, err := io.ReadFull(b.rd, l[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(l[:]))
		case 127:
			var l [8]byte
			if _, err := io.ReadFull(b.rd, l[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(l[:])
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(b.rd, buf); err != nil {
			return nil, err
		}
		switch op {
		case 0x8:
			return nil, errors.New("websocket closed")
		case 0x9, 0xA: // ping, pong: chromium does not ping its clients
			continue
		}
		msg = append(msg, buf...)
		if fin {
			return msg, nil
		}
	}
}

func (b *browser) readLoop() {
	for {
		raw, err := b.readMessage()
		if err != nil {
			close(b.events)
			return
		}
		var m cdpMessage
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		if m.ID != 0 {
			b.mu.Lock()
			ch := b.waiting[m.ID]
			delete(b.waiting, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		b.record(m)
		select {
		case b.events <- m:
		default:
		}
	}
}

// record keeps what the test asserts on: every request URL and every console error.
func (b *browser) record(m cdpMessage) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch m.Method {
	case "Network.requestWillBeSent":
		var p struct {
			Request struct{ URL string } `json:"request"`
		}
		_ = json.Unmarshal(m.Params, &p)
		b.requests = append(b.requests, p.Request.URL)
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string          `json:"type"`
			Args json.RawMessage `json:"args"`
		}
		_ = json.Unmarshal(m.Params, &p)
		if p.Type == "error" || p.Type == "assert" {
			b.problems = append(b.problems, "console."+p.Type+": "+string(p.Args))
		}
	case "Runtime.exceptionThrown":
		b.problems = append(b.problems, "exception: "+string(m.Params))
	case "Log.entryAdded":
		var p struct {
			Entry struct{ Level, Text, URL string } `json:"entry"`
		}
		_ = json.Unmarshal(m.Params, &p)
		if p.Entry.Level == "error" {
			b.problems = append(b.problems, "log: "+p.Entry.Text+" "+p.Entry.URL)
		}
	}
}

func (b *browser) call(t *testing.T, method string, params any) json.RawMessage {
	t.Helper()
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	raw, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err := b.send(raw); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			t.Fatalf("%s: %s", method, m.Error.Message)
		}
		return m.Result
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: no answer within 60s", method)
	}
	return nil
}

// navigate loads u and waits for its load event.
func (b *browser) navigate(t *testing.T, u string) {
	t.Helper()
	for len(b.events) > 0 { // drop old events
		<-b.events
	}
	b.call(t, "Page.navigate", map[string]any{"url": u})
	deadline := time.After(60 * time.Second)
	for {
		select {
		case m, ok := <-b.events:
			if !ok {
				t.Fatal("browser connection closed")
			}
			if m.Method == "Page.loadEventFired" {
				return
			}
		case <-deadline:
			t.Fatalf("%s did not load within 60s", u)
		}
	}
}

// eval runs a JavaScript expression and decodes its value into out.
func (b *browser) eval(t *testing.T, expr string, out any) {
	t.Helper()
	res := b.call(t, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true})
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(r.Result.Value, out); err != nil {
		t.Fatalf("eval %q: %v (%s)", expr, err, r.Result.Value)
	}
}

// waitFor evaluates a boolean expression until it is true (the reference renders after load).
func (b *browser) waitFor(t *testing.T, expr string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		var ok bool
		b.eval(t, expr, &ok)
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("still false after %s: %s", within, expr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (b *browser) screenshot(t *testing.T, path string, fullPage bool) {
	t.Helper()
	params := map[string]any{"format": "png", "captureBeyondViewport": fullPage}
	res := b.call(t, "Page.captureScreenshot", params)
	var r struct{ Data string }
	_ = json.Unmarshal(res, &r)
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (b *browser) snapshot() (requests, problems []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests...), append([]string(nil), b.problems...)
}

func hasPrefixAny(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
